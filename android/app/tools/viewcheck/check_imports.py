# Every org.linnet.* import of the view layer (ui/, platform/) names a declaration that exists:
# in the generated bindings (org.linnet.sdk), the presentation sources, or the view layer itself.
# No wildcard imports. Usage: check_imports.py APP_DIR PRESENTATION_DIR LINNET_KT
import re, os, sys, glob
V, P, SDK_FILE = sys.argv[1:4]
SDK = open(SDK_FILE).read()
pres = "\n".join(open(f).read() for f in glob.glob(P + "/*.kt"))
own = {}
VIEW = [f for d in ("ui", "platform") for f in glob.glob(os.path.join(V, d, "**/*.kt"), recursive=True)]
for f in VIEW:
    src = open(f).read()
    pkg = re.search(r"^package (\S+)", src, re.M).group(1)
    own.setdefault(pkg, "")
    own[pkg] += src
def declared(name, text):
    pat = r"(class|interface|object|fun|val|var|typealias)\s+(<[^>]*>\s*)?([\w.<>, ]+\.)?`?%s`?\b" % re.escape(name)
    return re.search(pat, text) is not None
bad = 0
for f in sorted(VIEW):
    for m in re.finditer(r"^import (org\.linnet\.[\w.]+)", open(f).read(), re.M):
        full = m.group(1)
        pkg, name = full.rsplit(".", 1)
        if full.endswith(".*"):
            print("WILDCARD", f, full); bad += 1; continue
        if pkg == "org.linnet.sdk": ok = declared(name, SDK)
        elif pkg == "org.linnet.app.presentation": ok = declared(name, pres)
        elif pkg in own: ok = declared(name, own[pkg])
        else: ok = False
        if not ok:
            print("MISSING", os.path.relpath(f, V), full); bad += 1
print("imports: %d bad" % bad)
sys.exit(1 if bad else 0)
