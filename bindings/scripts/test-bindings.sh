#!/usr/bin/env bash
# Tests the generated Kotlin and Swift bindings end to end (`make test-bindings`, part of `make test`):
#   1. installs the toolchains if missing (setup-toolchains.sh; one line per toolchain)
#   2. cargo build --workspace --all-targets --locked (dev profile; a no-op after make test's build)
#   3. generates Kotlin and Swift from the built library into target/bindings/{kotlin,swift}
#   4. starts the local test servers (tests/servers/servers.sh start) and exports their env
#   5. runs every Kotlin program under bindings/tests/kotlin with kotlin.sh (the Flow adapters of
#      android/linnet/src/main/kotlin compiled in), and every Swift program under
#      bindings/tests/swift with swift.sh (the AsyncStream adapters of apple/Sources/Linnet
#      compiled into the module Linnet)
#   6. the native apps (`apps`): checks their view layers with tests/apps/check_view_layers.py
#      (and that the check catches a broken view: tests/apps/selftest.sh) and type-checks both view
#      layers against declaration-only stubs of the platform APIs they use
#      (android/app/tools/viewcheck/check.sh, apple/App/tools/viewcheck/check.sh), then runs the apps'
#      presentation-layer tests against the servers: every program under
#      android/app/src/test/kotlin (compiled with android/app/src/main/kotlin/org/linnet/app/presentation)
#      and every directory under apple/Tests (compiled with apple/App/Presentation).
#
# Usage: bindings/scripts/test-bindings.sh [kotlin|swift|apps|all] [NAME_FILTER]
#   NAME_FILTER: only programs whose main class / test name contains this string.
#
# Test programs:
#   Kotlin: every .kt file under bindings/tests/kotlin with a top-level `fun main` is a program
#           (main class: its package + file facade, e.g. org.linnet.tests.SmokeTestKt, or its
#           @file:JvmName); all .kt files there compile together into one jar (shared helpers
#           welcome). android/linnet/src/main/kotlin must stay pure Kotlin/JVM (no android.*).
#   Swift:  every bindings/tests/swift/*.swift file is a program (compiled as its main.swift);
#           every subdirectory is a program made of its .swift files (main.swift or @main),
#           except bindings/tests/swift/Support/, compiled into every program.
#   A program passes when it exits 0. Each one runs with a fresh pair of Prosody accounts:
#     LINNET_BT_A_JID, LINNET_BT_A_PASSWORD, LINNET_BT_B_JID, LINNET_BT_B_PASSWORD, and
#     LINNET_BT_HOST, LINNET_BT_PORT (STARTTLS), LINNET_BT_DOMAIN, LINNET_BT_CA_FILE, plus every
#     variable of `tests/servers/servers.sh env`. Swift programs run in the chroot: the servers'
#     state dir (CA file) is bind-mounted at the same path, the network is the host's; they
#     cannot run host commands (no servers.sh inside).
#   The README's ```kotlin and ```swift examples (after <!-- example:LANG -->) are extracted and
#   compiled into every program; the test programs call them.
#
# Env: LINNET_BINDINGS_SERVERS=0  do not start servers / create accounts (offline programs only)
#      LINNET_TOOLCHAINS          toolchain cache (see setup-toolchains.sh)
#      CARGO_TARGET_DIR           honoured (default target)
# Exit: 0 when everything passed (or there is nothing to run), 1 otherwise.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=bindings/scripts/lib.sh
source "$HERE/lib.sh"
cd "$ROOT"

langs=${1:-all}
filter=${2:-}
case $langs in kotlin | swift | apps | all) ;; *) echo "usage: $0 [kotlin|swift|apps|all] [NAME_FILTER]" >&2; exit 2 ;; esac
want() { [[ $langs == all || $langs == "$1" ]]; }
# The apps need both languages' toolchains and bindings.
want_lang() { want "$1" || want apps; }

die() { echo "test-bindings: error: $*" >&2; exit 1; }

# 1. toolchains
if want_lang kotlin; then bash "$HERE/setup-toolchains.sh" kotlin; fi
if want_lang swift; then bash "$HERE/setup-toolchains.sh" swift; fi

# 2. the library and the pinned bindgen
# The same command as `make test`'s build (a no-op there): building the two packages alone would
# unify features differently and rebuild their dependencies.
cargo build --workspace --all-targets --locked
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
LIBDIR=$TARGET/debug
case $(uname -s) in Darwin) SO=dylib ;; *) SO=so ;; esac
LIB=$LIBDIR/liblinnet_ffi.$SO
[[ -f $LIB ]] || die "no $LIB after the build"

# 3. generate (library mode: from the built library's metadata, with bindings/linnet-ffi/uniffi.toml)
OUT=$ROOT/target/bindings
gen() {
	local lang=$1 log
	log=$(mktemp)
	rm -rf "${OUT:?}/$lang"
	if ! "$TARGET/debug/uniffi-bindgen" generate --no-format --language "$lang" --out-dir "$OUT/$lang" "$LIB" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "uniffi-bindgen generate --language $lang failed"
	fi
	rm -f "$log"
}
if want_lang kotlin; then gen kotlin; fi
if want_lang swift; then gen swift; fi

# 4. servers
SERVERS=$ROOT/tests/servers/servers.sh
if [[ ${LINNET_BINDINGS_SERVERS:-1} != 0 ]]; then
	bash "$SERVERS" start
	while IFS='=' read -r k v; do
		[[ $k =~ ^[A-Z_][A-Z0-9_]*$ ]] && export "$k=$v"
	done < <(bash "$SERVERS" env)
fi

# Fresh accounts on Prosody for one program, exported as LINNET_BT_*: HOST, PORT (STARTTLS),
# DOMAIN, CA_FILE, A_JID, A_PASSWORD, B_JID, B_PASSWORD.
fresh_accounts() {
	[[ ${LINNET_BINDINGS_SERVERS:-1} != 0 ]] || return 0
	local base
	base=bt$(date +%s)$$${RANDOM}
	export LINNET_BT_HOST=$LINNET_PROSODY_HOST LINNET_BT_PORT=$LINNET_PROSODY_STARTTLS_PORT
	export LINNET_BT_DOMAIN=$LINNET_PROSODY_DOMAIN LINNET_BT_CA_FILE=$LINNET_TEST_CA
	export LINNET_BT_A_JID=${base}a@$LINNET_PROSODY_DOMAIN LINNET_BT_B_JID=${base}b@$LINNET_PROSODY_DOMAIN
	export LINNET_BT_A_PASSWORD=pw-a-$RANDOM$RANDOM$RANDOM LINNET_BT_B_PASSWORD=pw-b-$RANDOM$RANDOM$RANDOM
	bash "$SERVERS" adduser prosody "${base}a" "$LINNET_BT_A_PASSWORD"
	bash "$SERVERS" adduser prosody "${base}b" "$LINNET_BT_B_PASSWORD"
}

# The README's Kotlin and Swift examples, extracted as they are written, compiled with the tests
# (which call them): the README cannot drift from the API.
readme_example() {
	local lang=$1 file=$2
	mkdir -p "$(dirname "$file")"
	awk -v marker="<!-- example:$lang -->" -v fence="\`\`\`$lang" '
		$0 == marker { armed = 1; next }
		armed && $0 == fence { inside = 1; next }
		inside && /^```/ { exit }
		inside { print }
	' "$ROOT/README.md" >"$file"
	[[ -s $file ]] || die "no $lang example in README.md (<!-- example:$lang --> then a $lang fence)"
}

failed=0

# The main classes of the Kotlin programs under DIR: every .kt file with a top-level `fun main`
# (its package + file facade, e.g. org.linnet.tests.SmokeTestKt, or its @file:JvmName).
kotlin_mains() {
	local f pkg cls main
	[[ -d $1 ]] || return 0
	while IFS= read -r f; do
		grep -qE '^(suspend )?fun main\(' "$f" || continue
		pkg=$(sed -nE 's/^package[[:space:]]+([A-Za-z0-9_.]+).*/\1/p' "$f" | head -n 1)
		cls=$(sed -nE 's/^@file:JvmName\("([A-Za-z0-9_]+)"\).*/\1/p' "$f" | head -n 1)
		if [[ -z $cls ]]; then
			cls=$(basename "$f" .kt)
			cls=${cls^}Kt
		fi
		main=${pkg:+$pkg.}$cls
		[[ -z $filter || $main == *"$filter"* ]] && echo "$main"
	done < <(find "$1" -type f -name '*.kt' | LC_ALL=C sort)
}

kt_src=()
[[ -d android/linnet/src/main/kotlin ]] && kt_src=(--src android/linnet/src/main/kotlin)

# 5a. Kotlin
if want kotlin; then
	KT_TESTS=$ROOT/bindings/tests/kotlin
	mains=()
	while IFS= read -r main; do mains+=("$main"); done < <(kotlin_mains "$KT_TESTS")
	if [[ ${#mains[@]} -eq 0 ]]; then
		echo "kotlin: no test programs under bindings/tests/kotlin${filter:+ matching $filter}"
	else
		readme_example kotlin "$OUT/readme/kotlin/ReadmeExample.kt"
		for main in "${mains[@]}"; do
			fresh_accounts
			bash "$HERE/kotlin.sh" --gen "$OUT/kotlin" ${kt_src[@]+"${kt_src[@]}"} --test "$KT_TESTS" \
				--test "$OUT/readme/kotlin" \
				--lib "$LIBDIR" --main "$main" || failed=1
		done
	fi
fi

# The module Linnet as the apps get it (generated Swift + apple/Sources/Linnet), and the servers'
# state dir (the CA file) made visible in the chroot.
sw_module=()
[[ -d apple/Sources/Linnet ]] && sw_module+=(--src apple/Sources/Linnet)
[[ -n ${LINNET_TEST_STATE:-} && -d ${LINNET_TEST_STATE:-} ]] && sw_module+=(--bind "$LINNET_TEST_STATE")

# 5b. Swift
if want swift; then
	SW_TESTS=$ROOT/bindings/tests/swift
	progs=()
	if [[ -d $SW_TESTS ]]; then
		while IFS= read -r p; do
			name=$(basename "$p" .swift)
			[[ $name != Support ]] || continue
			[[ -d $p || $p == *.swift ]] || continue
			[[ -z $filter || $name == *"$filter"* ]] && progs+=("$p")
		done < <(find "$SW_TESTS" -mindepth 1 -maxdepth 1 | LC_ALL=C sort)
	fi
	if [[ ${#progs[@]} -eq 0 ]]; then
		echo "swift: no test programs under bindings/tests/swift${filter:+ matching $filter}"
	else
		sw_extra=("${sw_module[@]}")
		[[ -d $SW_TESTS/Support ]] && sw_extra+=(--test-support "$SW_TESTS/Support")
		readme_example swift "$OUT/readme/swift/ReadmeExample.swift"
		sw_extra+=(--test-support "$OUT/readme/swift/ReadmeExample.swift")
		for p in "${progs[@]}"; do
			fresh_accounts
			bash "$HERE/swift.sh" --gen "$OUT/swift" ${sw_extra[@]+"${sw_extra[@]}"} --test "$p" \
				--lib "$LIBDIR" || failed=1
		done
	fi
fi

# 6. The native apps: their view layers against what exists, then their presentation layers'
# tests (the same toolchains, bindings and build dirs as above, so nothing is compiled twice).
if want apps; then
	python3 "$ROOT/tests/apps/check_view_layers.py" --kotlin-gen "$OUT/kotlin" --swift-gen "$OUT/swift" || failed=1
	bash "$ROOT/tests/apps/selftest.sh" "$OUT/kotlin" "$OUT/swift" || failed=1
	KOTLINC=${KOTLINC:-$KOTLIN_HOME/bin/kotlinc} LINNET_KOTLIN_BINDINGS=$OUT/kotlin \
		bash "$ROOT/android/app/tools/viewcheck/check.sh" || failed=1
	LINNET_SWIFT_BINDINGS=$OUT/swift bash "$ROOT/apple/App/tools/viewcheck/check.sh" --selftest || failed=1

	APP_KT_TESTS=$ROOT/android/app/src/test/kotlin
	APP_KT_PRESENTATION=$ROOT/android/app/src/main/kotlin/org/linnet/app/presentation
	mains=()
	while IFS= read -r main; do mains+=("$main"); done < <(kotlin_mains "$APP_KT_TESTS")
	if [[ ${#mains[@]} -eq 0 ]]; then
		echo "apps: no Kotlin presentation tests under android/app/src/test/kotlin${filter:+ matching $filter}"
		[[ -n $filter ]] || failed=1
	fi
	for main in ${mains[@]+"${mains[@]}"}; do
		fresh_accounts
		bash "$HERE/kotlin.sh" --gen "$OUT/kotlin" ${kt_src[@]+"${kt_src[@]}"} --jar app-tests \
			--test "$APP_KT_PRESENTATION" --test "$APP_KT_TESTS" --lib "$LIBDIR" --main "$main" || failed=1
	done

	progs=()
	while IFS= read -r p; do
		[[ -z $filter || $(basename "$p") == *"$filter"* ]] && progs+=("$p")
	done < <(find "$ROOT/apple/Tests" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | LC_ALL=C sort)
	if [[ ${#progs[@]} -eq 0 ]]; then
		echo "apps: no Swift presentation tests under apple/Tests${filter:+ matching $filter}"
		[[ -n $filter ]] || failed=1
	fi
	for p in ${progs[@]+"${progs[@]}"}; do
		fresh_accounts
		bash "$HERE/swift.sh" --gen "$OUT/swift" "${sw_module[@]}" \
			--test-support "$ROOT/apple/App/Presentation" --test "$p" --lib "$LIBDIR" || failed=1
	done
fi

exit "$failed"
