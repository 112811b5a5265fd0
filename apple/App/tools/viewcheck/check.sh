#!/usr/bin/env bash
# A type-check of the Apple view layer (Views/, Platform/, LinnetApp.swift, NotificationService/)
# where no Apple SDK exists: Swift 6.0.3 on Linux type-checks it with the real presentation layer
# (Presentation/), the real module Linnet (the generated Linnet.swift + apple/Sources/Linnet) and
# hand-written STUBS of the Apple APIs it uses (stubs/*.swift.stub: SwiftUI, UIKit, AppKit, CallKit,
# AVFoundation, UserNotifications, Network, Security, UniformTypeIdentifiers, CoreTransferable, and
# the few Apple-only Foundation/CoreFoundation names; declarations only, written from Apple's
# documentation). The stubs are not the real SDKs, so a pass does not replace an Xcode build: it
# catches Swift-level mistakes between the views and the presentation/SDK/Apple types (a renamed
# model member, a wrong argument label or type, a missing SDK call, a result builder that does not
# type-check, a main-actor call from a nonisolated context that is an error in Swift 5 mode).
#
# How: copies of the files, with their `import SwiftUI`/`import CallKit`/... lines replaced by
# `import Foundation; import Observation` (the stubs supply the rest; Foundation, Observation and
# Linnet are the real modules) and their
# platform conditions rewritten, are type-checked as one module per target, like Xcode builds them
# (the target membership is read from project.yml):
#   app-iOS    LinnetApp sources, `#if os(iOS)`/`canImport(UIKit)` true, `os(macOS)` false, -D DEBUG
#   app-macOS  LinnetApp sources, the other way round, without DEBUG (the Release branch)
#   ext-iOS    LinnetNotificationService sources (its own module: it cannot see the app's types)
# with -swift-version 5 -strict-concurrency=complete (project.yml: SWIFT_VERSION 5.0, complete
# checking), and -continue-building-after-errors (otherwise the driver drops the other files' jobs
# after the first failing one, and their errors go unreported). Errors fail the check; warnings are not shown (Xcode shows them; the stubs' Sendable
# and isolation annotations follow the Xcode 16 SDKs but are not exact enough to judge warnings).
# An import of a framework the stubs do not cover fails with "no such module": add its stub.
#
# Usage: apple/App/tools/viewcheck/check.sh [--selftest]
#   --selftest  also proves the check can fail: a copy of a view calling a model member that does
#               not exist must be rejected (and the unmodified sources accepted).
# Env: LINNET_SWIFT_BINDINGS (default target/bindings/swift: Linnet.swift, LinnetFFI.h,
#      LinnetFFI.modulemap), LINNET_VIEWCHECK_BUILD (work dir, default target/apple-viewcheck; the
#      module Linnet is recompiled only when its sources change), LINNET_SWIFT_CHROOT=1 (use the
#      Debian 13 chroot even when the host has swiftc).
# Exit: 0 when every pass type-checks (prints "apple viewcheck: PASS (...)"); 1 on errors (printed,
# with the original paths); 2 on setup errors.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../.." && pwd)
APP=$ROOT/apple/App
# shellcheck source=bindings/scripts/lib.sh
source "$ROOT/bindings/scripts/lib.sh"

die() { echo "apple viewcheck: error: $*" >&2; exit 2; }

selftest=0
case ${1:-} in
'') ;;
--selftest) selftest=1 ;;
*) die "unknown option $1 (usage: $0 [--selftest])" ;;
esac

GEN=${LINNET_SWIFT_BINDINGS:-$ROOT/target/bindings/swift}
for f in Linnet.swift LinnetFFI.h LinnetFFI.modulemap; do
	[[ -f $GEN/$f ]] || die "$GEN/$f is missing (generate the bindings, or set LINNET_SWIFT_BINDINGS)"
done
GEN=$(cd "$GEN" && pwd)

mode=chroot
if [[ ${LINNET_SWIFT_CHROOT:-0} != 1 ]] && command -v swiftc >/dev/null; then mode=host; fi
if [[ $mode == chroot ]]; then
	[[ -f $SWIFT_MARKER ]] || die "no Swift: run bindings/scripts/setup-toolchains.sh swift"
	[[ $EUID -eq 0 ]] || die "the Swift chroot needs root"
fi

BUILD=${LINNET_VIEWCHECK_BUILD:-$ROOT/target/apple-viewcheck}
mkdir -p "$BUILD"
B=$(cd "$BUILD" && pwd)
rm -rf "$B/src"
mkdir -p "$B/src/gen" "$B/src/linnet" "$B/out"
start=$(date +%s)

# The module Linnet: the generated code and the SDK's own Swift (a file named like a generated one
# is a stale copy and skipped, as bindings/scripts/swift.sh does).
cp "$GEN/LinnetFFI.h" "$GEN/LinnetFFI.modulemap" "$B/src/gen/"
cp "$GEN/Linnet.swift" "$B/src/linnet/"
for f in "$ROOT"/apple/Sources/Linnet/*.swift; do
	[[ -f $B/src/linnet/$(basename "$f") ]] || cp "$f" "$B/src/linnet/"
done

# The .swift files of a target in project.yml (its `sources:` paths: files or directories).
target_sources() {
	local target=$1 path
	while IFS= read -r path; do
		if [[ -d $APP/$path ]]; then
			(cd "$APP" && find "$path" -type f -name '*.swift' | LC_ALL=C sort)
		elif [[ $path == *.swift ]]; then
			[[ -f $APP/$path ]] || die "project.yml: $target lists $path, which does not exist"
			echo "$path"
		fi
	done < <(awk -v t="  $target:" '
		$0 == t { in_t = 1; next }
		in_t && /^  [^ ]/ { in_t = 0 }
		in_t && /^    sources:/ { in_s = 1; next }
		in_t && in_s && /^    [^ ]/ { in_s = 0 }
		in_t && in_s && /^      - path: / { sub(/^      - path: /, ""); print }
	' "$APP/project.yml")
}
mapfile -t app_files < <(target_sources LinnetApp)
mapfile -t ext_files < <(target_sources LinnetNotificationService)
[[ ${#app_files[@]} -gt 0 ]] || die "project.yml: no Swift sources for the target LinnetApp"
[[ ${#ext_files[@]} -gt 0 ]] || die "project.yml: no Swift sources for the target LinnetNotificationService"

# The stubs. They are named *.swift.stub, not *.swift: tests/apps/check_view_layers.py reads every
# .swift file under apple/App as a view-layer file, and would count the stubs' declarations (View,
# Text, ...) as the app's own and their names as unknown. (The project's Xcode targets list their
# source folders, so tools/ is not compiled into the app either way.)
shopt -s nullglob
STUBS=("$HERE"/stubs/*.swift.stub)
shopt -u nullglob
STUB_SUFFIX=.stub
[[ ${#STUBS[@]} -gt 0 ]] || die "no stubs in $HERE/stubs"

# The frameworks the stubs stand in for: in the copies their imports become `import Foundation;
# import Observation` (they re-export Foundation, SwiftUI also Observation; the stubs are in the
# module itself). Line numbers stay.
STUBBED='SwiftUI|UIKit|AppKit|CallKit|AVFoundation|AVFAudio|UserNotifications|Network|Security|UniformTypeIdentifiers|CoreTransferable|CoreGraphics'

# stage PASS PLATFORM FILE...: copies the stubs and FILEs (paths relative to apple/App) into
# src/PASS, rewriting the stubbed imports and the platform conditions for PLATFORM (ios|macos).
stage() {
	local pass=$1 platform=$2 f dest on off
	shift 2
	if [[ $platform == ios ]]; then on='iOS' off='macOS'; else on='macOS' off='iOS'; fi
	mkdir -p "$B/src/$pass"
	for f in "${@/#/$APP/}" "${STUBS[@]}"; do
		if [[ $f == "$HERE"/stubs/* ]]; then dest=$B/src/$pass/tools/viewcheck/stubs/$(basename "$f" .stub)
		else dest=$B/src/$pass/${f#"$APP"/}; fi
		mkdir -p "$(dirname "$dest")"
		sed -E \
			-e "s/^([[:space:]]*)((@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+($STUBBED))[[:space:]]*(\/\/.*)?$/\1import Foundation; import Observation \/\/ viewcheck: was \2/" \
			-e "/^[[:space:]]*#(if|elseif)[[:space:]]/{
				s/os\($on\)/true/g; s/os\($off\)/false/g
				s/os\((tvOS|watchOS|visionOS|Linux|Windows|Android)\)/false/g
				s/targetEnvironment\(macCatalyst\)/false/g
				s/canImport\(UIKit\)/$([[ $platform == ios ]] && echo true || echo false)/g
				s/canImport\(AppKit\)/$([[ $platform == macos ]] && echo true || echo false)/g
			}" "$f" >"$dest"
	done
}

# Renders compiler output with the original paths, e.g. "[app-iOS] apple/App/Views/X.swift:3:1".
unstage() {
	sed -E -e "s#(/linnet/vc|$B)/src/(app-iOS|app-macOS|ext-iOS)/tools/viewcheck/stubs/([A-Za-z]+)\.swift#[\2] apple/App/tools/viewcheck/stubs/\3.swift$STUB_SUFFIX#g" \
		-e "s#(/linnet/vc|$B)/src/(app-iOS|app-macOS|ext-iOS)/#[\2] apple/App/#g" \
		-e "s#(/linnet/vc|$B)/src/linnet/#[Linnet] #g"
}

if [[ $mode == chroot ]]; then P=/linnet/vc; else P=$B; fi
dir_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do echo "$f"; cksum <"$f"; done) | cksum | tr ' ' -; }
FLAGS=(-swift-version 5 -strict-concurrency=complete -Xcc "-fmodule-map-file=$P/src/gen/LinnetFFI.modulemap" -I "$P/src/gen")
mod_hash=$(echo "${FLAGS[*]} $mode $(dir_hash "$B/src/gen") $(dir_hash "$B/src/linnet")" | cksum | tr ' ' -)

# run_passes PASS... : writes and runs the script that compiles Linnet (when changed) and
# type-checks each staged pass in parallel; the output of pass X lands in out/X.log.
run_passes() {
	local pass script=$B/run.sh
	{
		echo "# generated by apple/App/tools/viewcheck/check.sh"
		echo "set -u; cd $(printf %q "$P") || exit 2"
		if [[ $(cat "$B/out/Linnet.hash" 2>/dev/null) != "$mod_hash" || ! -f $B/out/Linnet.swiftmodule ]]; then
			echo "rm -f out/Linnet.hash"
			printf '%q ' swiftc "${FLAGS[@]}" -module-name Linnet -parse-as-library -emit-module \
				-experimental-skip-non-inlinable-function-bodies -emit-module-path out/Linnet.swiftmodule
			echo "src/linnet/*.swift >out/Linnet.log 2>&1 || { cat out/Linnet.log; echo 'apple viewcheck: the module Linnet does not compile'; exit 2; }"
			echo "echo $mod_hash > out/Linnet.hash"
		fi
		for pass in "$@"; do
			local defs=()
			[[ $pass == app-iOS ]] && defs=(-D DEBUG)
			echo "( find \"\$PWD/src/$pass\" -name '*.swift' | LC_ALL=C sort >out/$pass.files"
			printf '%q ' swiftc "${FLAGS[@]}" ${defs[@]+"${defs[@]}"} -module-name "${pass//-/_}" -parse-as-library -typecheck -continue-building-after-errors -I out
			echo "@out/$pass.files >out/$pass.log 2>&1; echo \$? >out/$pass.rc ) &"
		done
		echo "wait"
	} >"$script"
	rm -f "$B"/out/*.rc
	if [[ $mode == host ]]; then
		bash "$script"
	else
		run_chroot --bind "$B:$P" -- /bin/bash "$P/run.sh"
	fi
}

# check PASS... : 0 when every pass type-checked; prints the errors (not the warnings) otherwise.
report() {
	local pass rc failed=0
	for pass in "$@"; do
		rc=$(cat "$B/out/$pass.rc" 2>/dev/null || echo 2)
		if [[ $rc != 0 ]] || grep -q "error:" "$B/out/$pass.log"; then
			failed=1
			# Each diagnostic with its source excerpt, warnings and notes about stubs left out.
			awk '/^[^ ].*: (error|warning|note): /{ show = ($0 ~ /: error: /) || (show && $0 ~ /: note: /) } show' \
				"$B/out/$pass.log" | unstage
			grep -q "error:" "$B/out/$pass.log" || { unstage <"$B/out/$pass.log"; echo "[$pass] swiftc exited $rc"; }
		fi
	done
	return "$failed"
}

passes=(app-iOS app-macOS ext-iOS)
stage app-iOS ios "${app_files[@]}"
stage app-macOS macos "${app_files[@]}"
stage ext-iOS ios "${ext_files[@]}"
run_passes "${passes[@]}"
if ! report "${passes[@]}"; then
	echo "apple viewcheck: FAIL (type errors above; paths are the original files, [pass] says which target/platform)"
	exit 1
fi

if [[ $selftest == 1 ]]; then
	# A view calling a model member that does not exist must fail the check.
	rm -rf "$B/src/app-iOS" "$B/src/app-macOS" "$B/src/ext-iOS"
	stage app-iOS ios "${app_files[@]}"
	victim=$(cd "$B/src/app-iOS" && find Views -name '*.swift' | LC_ALL=C sort | head -n 1)
	printf '\n@MainActor func viewcheckSelfTest(_ app: AppModel) { app.noSuchMemberForTheSelfTest() }\n' >>"$B/src/app-iOS/$victim"
	run_passes app-iOS
	if report app-iOS >"$B/out/selftest.txt"; then
		echo "apple viewcheck: FAIL (selftest: a call to a nonexistent AppModel member in $victim type-checked)"
		exit 1
	elif ! grep -q "noSuchMemberForTheSelfTest" "$B/out/selftest.txt"; then
		cat "$B/out/selftest.txt"
		echo "apple viewcheck: FAIL (selftest: the broken copy failed, but not on the nonexistent member)"
		exit 1
	fi
	echo "apple viewcheck: selftest ok (a call to a nonexistent model member in $victim is rejected)"
fi
echo "apple viewcheck: PASS (${#app_files[@]} app and ${#ext_files[@]} extension files type-check for iOS and macOS against the presentation layer, Linnet and the Apple API stubs; $(($(date +%s) - start)) s)"
