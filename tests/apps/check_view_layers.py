#!/usr/bin/env python3
"""Checks the native apps' view layers against what exists, on a machine that cannot build them.

The Compose and SwiftUI layers need the Android SDK and Xcode, which this machine does not have.
Their presentation layers are compiled and tested here; this check makes sure the view layers
only name presentation-layer and SDK types that exist (after a rename, it fails here instead of
on a developer's machine), and that the presentation layers stay free of platform UI imports.

Kotlin (android/app/src/main/kotlin/org/linnet/app):
  - the presentation layer imports only kotlin.*, kotlinx.coroutines.*, java.*, org.linnet.sdk.*
    and its own package;
  - every other file imports org.linnet names one by one (no wildcard), each import names a
    declaration that exists (generated bindings, presentation layer, the app's own files), and
    a presentation or SDK type used without an import is reported.
Swift (apple/App):
  - the presentation layer imports only Foundation, Observation and Linnet;
  - every capitalised name in the other files is declared in the presentation layer, the
    generated Linnet.swift, the app's own files, or apple/App/platform-names.txt (Apple and
    Swift standard names, kept by hand).
Both: each screen the apps must have (SCREENS below) is declared in the view layer.

Usage: check_view_layers.py --kotlin-gen DIR --swift-gen DIR [--root DIR]
Exit 0 when clean; 1 with one line per problem.
"""

import argparse
import re
import sys
from pathlib import Path

# The screens of issue 9, as the view layers declare them (Compose function / SwiftUI view).
SCREENS = {
    "kotlin": [
        "SignInScreen",
        "ChatListScreen",
        "ConversationScreen",
        "ContactsScreen",
        "CallScreen",
        "SettingsScreen",
        "AboutScreen",
        "DiagnosticsScreen",
    ],
    "swift": [
        "SignInView",
        "ChatListView",
        "ConversationView",
        "ContactsView",
        "CallView",
        "SettingsView",
        "AboutView",
        "DiagnosticsView",
    ],
}

KOTLIN_PRESENTATION_IMPORTS = (
    "kotlin.",
    "kotlinx.coroutines.",
    "java.",
    "org.linnet.sdk.",
    "org.linnet.app.presentation.",
)
SWIFT_PRESENTATION_IMPORTS = {"Foundation", "Observation", "Linnet"}

# Names Kotlin imports by default (kotlin.*, kotlin.collections.*, ...): never "missing".
KOTLIN_DEFAULT_NAMES = {
    "Any", "Array", "Boolean", "Byte", "Char", "CharSequence", "Comparable", "Double",
    "Error", "Exception", "Float", "Int", "Iterable", "List", "Long", "Map", "MutableList",
    "MutableMap", "MutableSet", "Nothing", "Pair", "Result", "Sequence", "Set", "Short",
    "String", "Throwable", "Triple", "Unit", "UInt", "ULong", "UShort", "UByte",
}

# Names may be in backticks (the generated bindings quote every one).
KOTLIN_DECL = re.compile(
    r"\b(?:class|interface|object|typealias)\s+`?([A-Za-z_]\w*)"
    r"|\bfun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?`?([A-Za-z_]\w*)`?\s*\("
    r"|^\s*(?:(?:public|internal|private|const)\s+)*va[lr]\s+`?([A-Za-z_]\w*)",
    re.MULTILINE,
)
SWIFT_DECL = re.compile(
    r"\b(?:class|struct|enum|protocol|actor|typealias|associatedtype)\s+`?([A-Za-z_]\w*)"
)
# The generic parameters a declaration introduces (func f<T: P>, struct S<Element>), not the
# arguments of a use (Array<Bool>).
SWIFT_GENERIC_DECL = re.compile(r"\b(?:func|struct|class|enum|actor|init)\s*`?\w*`?\s*<([^>]*)>")


def strip_comments_and_strings(text: str) -> str:
    """Blanks comments and string literals (keeping interpolated code is not needed here)."""
    text = re.sub(r'"""[\s\S]*?"""', '""', text)
    text = re.sub(r"/\*[\s\S]*?\*/", " ", text)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\\n])'", "' '", text)
    return text


def kotlin_declarations(files) -> set:
    names = set()
    for f in files:
        for m in KOTLIN_DECL.finditer(strip_comments_and_strings(f.read_text(encoding="utf-8"))):
            names.update(g for g in m.groups() if g)
    return names


def swift_declarations(files) -> set:
    names = set()
    for f in files:
        text = strip_comments_and_strings(f.read_text(encoding="utf-8"))
        names.update(SWIFT_DECL.findall(text))
        for params in SWIFT_GENERIC_DECL.findall(text):
            names.update(re.findall(r"(?:^|,)\s*([A-Z]\w*)", params))
    return names


def capitalised_names(code: str) -> set:
    """Capitalised identifiers not preceded by '.', '@' or '#' (members, annotations, macros)."""
    return {
        m.group(1)
        for m in re.finditer(r"(?<![\w.@#$])([A-Z]\w*)", code)
    }


def check_kotlin(root: Path, gen: Path, problems: list) -> None:
    app = root / "android/app/src/main/kotlin/org/linnet/app"
    presentation_dir = app / "presentation"
    if not presentation_dir.is_dir():
        problems.append(f"{presentation_dir}: missing (the Android presentation layer)")
        return
    presentation = sorted(presentation_dir.rglob("*.kt"))
    views = sorted(f for f in app.rglob("*.kt") if presentation_dir not in f.parents)
    sdk = kotlin_declarations(sorted(gen.rglob("*.kt")) + sorted(
        (root / "android/linnet/src/main/kotlin").rglob("*.kt")))
    if "LinnetSdk" not in sdk:
        problems.append(f"{gen}: no generated Kotlin bindings (LinnetSdk not declared)")
        return
    pres = kotlin_declarations(presentation)
    own = kotlin_declarations(views)
    known = {"org.linnet.sdk": sdk, "org.linnet.app.presentation": pres}

    for f in presentation:
        for line_no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"\s*import\s+([\w.]+)", line)
            if m and not m.group(1).startswith(KOTLIN_PRESENTATION_IMPORTS):
                problems.append(
                    f"{f}:{line_no}: the presentation layer imports {m.group(1)} "
                    "(only kotlin, kotlinx.coroutines, java and org.linnet.sdk are allowed)")

    for f in views:
        text = f.read_text(encoding="utf-8")
        imported = set()
        for line_no, line in enumerate(text.splitlines(), 1):
            m = re.match(r"\s*import\s+([\w.]+)(\.\*)?(?:\s+as\s+(\w+))?", line)
            if not m:
                continue
            path, wildcard, alias = m.groups()
            if wildcard and path.startswith("org.linnet"):
                problems.append(f"{f}:{line_no}: import {path}.* (import org.linnet names one by one)")
                continue
            if wildcard:
                continue
            pkg, _, name = path.rpartition(".")
            imported.add(alias or name)
            if pkg.startswith("org.linnet.app") and pkg not in known:
                declared = own
            elif path.startswith("org.linnet"):
                declared = known.get(pkg)
                if declared is None:
                    problems.append(f"{f}:{line_no}: import {path}: no such package {pkg}")
                    continue
            else:
                continue
            if name not in declared:
                problems.append(f"{f}:{line_no}: import {path}: {name} is not declared in {pkg}")
        code = strip_comments_and_strings(text)
        for name in sorted(capitalised_names(code)):
            if name in imported or name in own or name in KOTLIN_DEFAULT_NAMES:
                continue
            if name in pres or name in sdk:
                problems.append(f"{f}: uses {name} without importing it")


def check_swift(root: Path, gen: Path, problems: list) -> None:
    app = root / "apple/App"
    presentation_dir = app / "Presentation"
    if not presentation_dir.is_dir():
        problems.append(f"{presentation_dir}: missing (the Apple presentation layer)")
        return
    generated = gen / "Linnet.swift"
    if not generated.is_file():
        problems.append(f"{generated}: no generated Swift bindings")
        return
    allow_file = app / "platform-names.txt"
    if not allow_file.is_file():
        problems.append(f"{allow_file}: missing (Apple and Swift names the views may use)")
        return
    allowed = {
        line.strip()
        for line in allow_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    presentation = sorted(presentation_dir.rglob("*.swift"))
    # tools/ holds the view check's API stubs: declarations of Apple's names, not the app's.
    views = sorted(
        f for f in app.rglob("*.swift")
        if presentation_dir not in f.parents and app / "tools" not in f.parents
    )
    sdk = swift_declarations([generated] + sorted((root / "apple/Sources/Linnet").rglob("*.swift")))
    pres = swift_declarations(presentation)
    own = swift_declarations(views)
    # Names used as both an SDK/app type and a platform name would hide a typo: keep them apart.
    for name in sorted(allowed & (sdk | pres | own)):
        problems.append(f"{allow_file}: {name} is declared by Linnet; remove it from the list")

    for f in presentation:
        for line_no, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"\s*(?:@\w+\s+)*import\s+(\w+)", line)
            if m and m.group(1) not in SWIFT_PRESENTATION_IMPORTS:
                problems.append(
                    f"{f}:{line_no}: the presentation layer imports {m.group(1)} "
                    "(only Foundation, Observation and Linnet are allowed)")

    for f in views:
        code = strip_comments_and_strings(f.read_text(encoding="utf-8"))
        code = re.sub(r"^\s*(?:@\w+\s+)*import\s+\w+.*$", "", code, flags=re.MULTILINE)
        for name in sorted(capitalised_names(code)):
            if name in {"Self", "Type", "Protocol"} or name in sdk or name in pres or name in own:
                continue
            if name not in allowed:
                problems.append(
                    f"{f}: {name} is declared nowhere (presentation layer, Linnet, the app) "
                    f"and is not in {allow_file.name}")


def check_screens(root: Path, problems: list) -> None:
    kotlin_ui = root / "android/app/src/main/kotlin/org/linnet/app"
    kt = "\n".join(f.read_text(encoding="utf-8") for f in kotlin_ui.rglob("*.kt"))
    for screen in SCREENS["kotlin"]:
        if not re.search(rf"@Composable\s+(?:(?:private|internal)\s+)?fun\s+{screen}\s*\(", kt):
            problems.append(f"android: no @Composable fun {screen}(...)")
    swift_ui = root / "apple/App/Views"
    sw = "\n".join(f.read_text(encoding="utf-8") for f in swift_ui.rglob("*.swift"))
    for screen in SCREENS["swift"]:
        if not re.search(rf"\bstruct\s+{screen}\s*:\s*View\b", sw):
            problems.append(f"apple: no struct {screen}: View")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kotlin-gen", type=Path, required=True)
    parser.add_argument("--swift-gen", type=Path, required=True)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args()
    problems = []
    check_kotlin(args.root, args.kotlin_gen, problems)
    check_swift(args.root, args.swift_gen, problems)
    check_screens(args.root, problems)
    for p in problems:
        print(f"view layers: {p}")
    if problems:
        print(f"view layers: FAIL ({len(problems)} problems)")
        return 1
    print("view layers: PASS (every name the Compose and SwiftUI layers use exists)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
