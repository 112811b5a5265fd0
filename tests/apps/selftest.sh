#!/usr/bin/env bash
# Proves that tests/apps/check_view_layers.py can fail: each case breaks one thing in a copy of the
# apps' sources (a missing presentation type, an unknown Swift name, a platform import in a
# presentation layer, a missing screen) and expects the check to report exactly that.
#
# Usage: tests/apps/selftest.sh KOTLIN_GEN_DIR SWIFT_GEN_DIR
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kotlin_gen=$1 swift_gen=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A fresh copy of what the check reads, under $work/root.
copy() {
	rm -rf "$work/root"
	mkdir -p "$work/root/android/app/src/main" "$work/root/android/linnet/src/main" "$work/root/apple/Sources"
	cp -r "$ROOT/android/app/src/main/kotlin" "$work/root/android/app/src/main/"
	cp -r "$ROOT/android/linnet/src/main/kotlin" "$work/root/android/linnet/src/main/"
	cp -r "$ROOT/apple/App" "$work/root/apple/"
	cp -r "$ROOT/apple/Sources/Linnet" "$work/root/apple/Sources/"
}
check() { python3 "$ROOT/tests/apps/check_view_layers.py" --root "$work/root" --kotlin-gen "$kotlin_gen" --swift-gen "$swift_gen"; }
# The first Compose / SwiftUI file, and the first presentation file, of the copy.
first() { find "$1" -type f -name "$2" | LC_ALL=C sort | head -n 1; }

failed=0
# expect NAME PATTERN: the check must fail and say PATTERN.
expect() {
	local name=$1 pattern=$2 out
	if out=$(check 2>&1); then
		echo "apps selftest: FAIL $name: the check passed"
		failed=1
	elif ! grep -q -- "$pattern" <<<"$out"; then
		echo "apps selftest: FAIL $name: the check failed without naming '$pattern':"
		echo "$out" | tail -n 5
		failed=1
	else
		echo "apps selftest: ok $name"
	fi
}

copy
if ! check >/dev/null; then
	echo "apps selftest: the unmodified copy does not pass the check (see the check's own output)"
	exit 1
fi

copy
f=$(first "$work/root/android/app/src/main/kotlin/org/linnet/app/ui" '*.kt')
sed -i '0,/^import /s//import org.linnet.app.presentation.NoSuchModel\nimport /' "$f"
expect "kotlin: an import of a presentation type that does not exist" "NoSuchModel is not declared"

copy
f=$(first "$work/root/android/app/src/main/kotlin/org/linnet/app/presentation" '*.kt')
sed -i '0,/^import /s//import android.content.Context\nimport /' "$f"
expect "kotlin: a platform import in the presentation layer" "imports android.content.Context"

copy
f=$(first "$work/root/apple/App/Views" '*.swift')
printf '\nprivate let brokenForTheSelfTest = NoSuchLinnetModel()\n' >>"$f"
expect "swift: a name declared nowhere" "NoSuchLinnetModel is declared nowhere"

copy
f=$(first "$work/root/apple/App/Presentation" '*.swift')
sed -i '0,/^import /s//import SwiftUI\nimport /' "$f"
expect "swift: a UI import in the presentation layer" "imports SwiftUI"

copy
grep -rl 'struct SettingsView' "$work/root/apple/App/Views" | xargs sed -i 's/struct SettingsView\b/struct SettingsPane/'
expect "swift: a missing screen" "no struct SettingsView"

exit "$failed"
