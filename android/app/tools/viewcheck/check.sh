#!/usr/bin/env bash
# A compile check of the Android view layer (ui/, platform/) where no Android SDK exists: kotlinc
# compiles it with the presentation layer, the generated bindings and hand-written STUBS of the
# Android/AndroidX/Compose/Firebase APIs it uses (stubs/: declarations only, written from the
# APIs' documentation; they are not the real libraries, so a pass here does not replace a Gradle
# build: it catches Kotlin-level mistakes between the view and the presentation/SDK types: a
# renamed model property, a wrong argument, a missing SDK call). `make test-apps` (in `make test`)
# runs it after tests/apps/check_view_layers.py, which checks the org.linnet imports.
#
# Usage: android/app/tools/viewcheck/check.sh   (needs kotlinc 2.4.x: KOTLINC or the toolchain
#        bindings/scripts/setup-toolchains.sh installs; the bindings generated in target/bindings,
#        or LINNET_KOTLIN_BINDINGS=DIR)
# Exit: 0 when it compiles; 1 on compile errors (printed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
APP=$ROOT/android/app/src/main/kotlin/org/linnet/app
GEN=${LINNET_KOTLIN_BINDINGS:-$ROOT/target/bindings/kotlin}
KOTLINC=${KOTLINC:-$(ls /var/cache/linnet-toolchains/kotlin-*/bin/kotlinc 2>/dev/null | tail -1)}
[[ -x ${KOTLINC:-} ]] || KOTLINC=$(command -v kotlinc) || { echo "viewcheck: no kotlinc" >&2; exit 2; }
KLIB=$(cd "$(dirname "$(readlink -f "$KOTLINC")")/../lib" && pwd)
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mapfile -t stubs < <(find "$HERE/stubs" -name '*.kt')
mapfile -t view < <(find "$APP/ui" "$APP/platform" -name '*.kt')
"$KOTLINC" -cp "$KLIB/kotlinx-coroutines-core-jvm.jar:$JNA_JAR" -d "$out/classes" \
	"${stubs[@]}" "$GEN/org/linnet/sdk/linnet.kt" "$ROOT/android/linnet/src/main/kotlin/org/linnet/sdk/Flows.kt" \
	"$APP"/presentation/*.kt "${view[@]}" 2>&1 | tee "$out/log" | grep -E "error:|warning:.*(ui|platform)/" || true
if grep -q "error:" "$out/log"; then echo "android viewcheck: FAIL (compile errors above)"; exit 1; fi
echo "android viewcheck: PASS (ui/ and platform/ compile against the presentation layer, the bindings and the API stubs)"
