#!/usr/bin/env bash
# Compiles and runs Swift 6 programs against the generated Swift bindings and the Rust library.
# Uses a real swiftc when the host has one (macOS, Linux with Swift); otherwise the Debian 13
# chroot that setup-toolchains.sh builds (Swift 6.0.3), entered through chroot-exec.sh.
#
# Usage: bindings/scripts/swift.sh --gen DIR --lib DIR [--src PATH]... --test PATH [--test PATH]...
#            [--test-support PATH]... [--bind HOST_PATH]... [--env NAME]... [--build DIR] [-- ARG...]
#   --gen DIR    generated Swift: Linnet.swift, LinnetFFI.h, LinnetFFI.modulemap
#   --src PATH   extra library sources (.swift file or directory, e.g. apple/Sources/Linnet: the
#                AsyncStream adapters), compiled with the generated code as the module `Linnet`
#                (a --src file named like a file in --gen is skipped: a stale generated copy)
#   --test PATH  one test program: a .swift file (compiled as its main.swift) or a directory of
#                .swift files (with a main.swift or an @main type); repeatable, each runs with ARGs
#   --test-support PATH  .swift files compiled into every test program (no top-level code)
#   --lib DIR    directory holding liblinnet_ffi.so (.dylib on macOS)
#   --bind PATH  chroot only: make this host directory/file visible at the same path, read-only
#                (e.g. the test servers' state dir holding the CA file)
#   --env NAME   pass this variable into the chroot too (LINNET_*, RUST_LOG, RUST_BACKTRACE always are)
#   --build DIR  work dir (default target/bindings/swift-build); module and tests are recompiled
#                only when their inputs changed
# Everything compiles with -swift-version 6 -warnings-as-errors: any warning fails the build.
# Env: LINNET_SWIFT_MODULE (Linnet), LINNET_SWIFT_FFI_MODULE (LinnetFFI), LINNET_FFI_LIB
#      (linnet_ffi), LINNET_SWIFT_CHROOT=1 to use the chroot even when the host has swiftc,
#      LINNET_SWIFTC_FLAGS (extra flags for every swiftc call).
# Exit: 0 when every test exited 0; 1 when one failed or did not compile; 2 on usage/setup errors
# or when the module does not compile. Prints one line per program.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=bindings/scripts/lib.sh
source "$HERE/lib.sh"

die() { echo "swift.sh: error: $*" >&2; exit 2; }

MODULE=${LINNET_SWIFT_MODULE:-Linnet}
FFI_MODULE=${LINNET_SWIFT_FFI_MODULE:-LinnetFFI}
FFI_LIB=${LINNET_FFI_LIB:-linnet_ffi}

gen='' lib='' build=$ROOT/target/bindings/swift-build
srcs=() tests=() support=() binds=() envs=(RUST_LOG RUST_BACKTRACE) args=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--gen) gen=$2; shift 2 ;;
	--lib) lib=$2; shift 2 ;;
	--src) srcs+=("$2"); shift 2 ;;
	--test) tests+=("$2"); shift 2 ;;
	--test-support) support+=("$2"); shift 2 ;;
	--bind) binds+=("$2"); shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--build) build=$2; shift 2 ;;
	--) shift; args=("$@"); break ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done
[[ -d $gen ]] || die "--gen DIR (generated Swift) is required"
for f in "$MODULE.swift" "$FFI_MODULE.h" "$FFI_MODULE.modulemap"; do
	[[ -f $gen/$f ]] || die "$gen/$f is missing (generate with the uniffi.toml [bindings.swift] names)"
done
[[ -d $lib ]] || die "--lib DIR (holding lib$FFI_LIB) is required"
[[ ${#tests[@]} -gt 0 ]] || die "at least one --test PATH is required"
gen=$(cd "$gen" && pwd)
lib=$(cd "$lib" && pwd)

# Host swiftc or chroot?
mode=chroot
if [[ ${LINNET_SWIFT_CHROOT:-0} != 1 ]] && command -v swiftc >/dev/null; then mode=host; fi
if [[ $mode == chroot ]]; then
	[[ -f $SWIFT_MARKER ]] || die "no Swift: run bindings/scripts/setup-toolchains.sh swift"
	[[ $EUID -eq 0 ]] || die "the Swift chroot needs root"
fi
case $(uname -s) in Darwin) SO=dylib ;; *) SO=so ;; esac
[[ -f $lib/lib$FFI_LIB.$SO ]] || die "no lib$FFI_LIB.$SO in $lib"

# Staging dir S: src/ is rebuilt from the inputs on each run, out/ keeps what was compiled.
mkdir -p "$build"
S=$(cd "$build" && pwd)
rm -rf "$S/src"
mkdir -p "$S/src/module" "$S/src/gen" "$S/src/support" "$S/src/tests" "$S/out/tests"
cp "$gen/$FFI_MODULE.h" "$gen/$FFI_MODULE.modulemap" "$S/src/gen/"
cp "$gen/$MODULE.swift" "$S/src/module/"

# Copies the .swift files under PATHs into DEST (flat; a name clash is an error).
stage() {
	local dest=$1 p f base
	shift
	for p in "$@"; do
		[[ -e $p ]] || die "no such file or directory: $p"
		while IFS= read -r f; do
			base=$(basename "$f")
			if [[ $dest == "$S/src/module" && -f $gen/$base ]]; then
				continue
			fi
			[[ ! -e $dest/$base ]] || die "two source files named $base ($f)"
			cp "$f" "$dest/$base"
		done < <(if [[ -d $p ]]; then find "$p" -type f -name '*.swift' | LC_ALL=C sort; else echo "$p"; fi)
	done
}
stage "$S/src/module" ${srcs[@]+"${srcs[@]}"}
stage "$S/src/support" ${support[@]+"${support[@]}"}
names=()
for t in "${tests[@]}"; do
	if [[ -d $t ]]; then
		name=$(basename "$t")
		mkdir -p "$S/src/tests/$name"
		stage "$S/src/tests/$name" "$t"
	elif [[ -f $t ]]; then
		name=$(basename "$t" .swift)
		mkdir -p "$S/src/tests/$name"
		cp "$t" "$S/src/tests/$name/main.swift"
	else
		die "no such test: $t"
	fi
	[[ " ${names[*]-} " != *" $name "* ]] || die "two tests named $name"
	names+=("$name")
done

# Paths as the compiler sees them.
if [[ $mode == chroot ]]; then P=/linnet/s L=/linnet/lib; else P=$S L=$lib; fi

dir_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do echo "$f"; cksum <"$f"; done) | cksum | tr ' ' -; }
flags_hash=$(echo "${LINNET_SWIFTC_FLAGS:-} $mode $P $L" | cksum | tr ' ' -)
mod_hash=$(echo "$flags_hash $(dir_hash "$S/src/gen") $(dir_hash "$S/src/module")" | cksum | tr ' ' -)
sup_hash=$(dir_hash "$S/src/support")


qn() { printf '%q ' "$@"; }
# shellcheck disable=SC2206
extra=(${LINNET_SWIFTC_FLAGS:-})
common=(swiftc -swift-version 6 -warnings-as-errors ${extra[@]+"${extra[@]}"}
	-Xcc "-fmodule-map-file=$P/src/gen/$FFI_MODULE.modulemap" -I "$P/src/gen"
	-L "$L" "-l$FFI_LIB" -Xlinker -rpath -Xlinker "$L")
# The script that compiles and runs, in the chroot or on the host (POSIX sh + bash).
script=$S/run.sh
{
	echo "# generated by swift.sh"
	echo "set -u; failed=0"
	echo "cd $(printf %q "$P") || exit 2"
	if [[ $(cat "$S/out/$MODULE.hash" 2>/dev/null) != "$mod_hash" || ! -f $S/out/lib$MODULE.$SO ]]; then
		echo "rm -f out/$MODULE.hash out/tests/*.hash"
		qn "${common[@]}" -module-name "$MODULE" -parse-as-library -emit-library -emit-module \
			-emit-module-path "out/$MODULE.swiftmodule" -o "out/lib$MODULE.$SO"
		echo "src/module/*.swift 2>&1 || { echo 'swift: module $MODULE does not compile'; exit 2; }"
		echo "echo $mod_hash > out/$MODULE.hash"
	fi
	for name in "${names[@]}"; do
		t_hash=$(echo "$mod_hash $sup_hash $(dir_hash "$S/src/tests/$name")" | cksum | tr ' ' -)
		echo "ok=1"
		if [[ $(cat "$S/out/tests/$name.hash" 2>/dev/null) != "$t_hash" ]]; then
			echo "rm -f out/tests/$name.hash"
			qn "${common[@]}" -module-name "T_${name//[^A-Za-z0-9_]/_}" -I out -L out "-l$MODULE" -Xlinker -rpath -Xlinker "$P/out" \
				-o "out/tests/$name"
			echo "src/tests/$name/*.swift \$(ls src/support/*.swift 2>/dev/null) 2>&1 && echo $t_hash > out/tests/$name.hash ||"
			echo "  { echo 'swift: FAIL $name (does not compile)'; failed=1; ok=0; }"
		fi
		echo "if [ \$ok = 1 ]; then start=\$(date +%s); rc=0"
		lp=$(printf %q "$P/out:$L")
		run_args=''
		if [[ ${#args[@]} -gt 0 ]]; then run_args=$(qn "${args[@]}"); fi
		echo "  LD_LIBRARY_PATH=$lp\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} DYLD_LIBRARY_PATH=$lp ./out/tests/$name $run_args|| rc=\$?"
		echo "  if [ \$rc -eq 0 ]; then echo \"swift: PASS $name (\$((\$(date +%s) - start)) s)\"; else echo \"swift: FAIL $name (exit \$rc)\"; failed=1; fi"
		echo "fi"
	done
	echo "exit \$failed"
} >"$script"

if [[ $mode == host ]]; then
	exec bash "$script"
fi
envargs=()
while IFS='=' read -r name _; do
	[[ $name == LINNET_* ]] && envargs+=("$name=${!name}")
done < <(env)
for name in "${envs[@]}"; do
	[[ -z ${!name+x} ]] || envargs+=("$name=${!name}")
done
bindargs=(--bind "$S:$P" --ro-bind "$lib:$L")
for b in ${binds[@]+"${binds[@]}"}; do
	b=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")
	bindargs+=(--ro-bind "$b:$b")
done
run_chroot "${bindargs[@]}" -- ${envargs[@]+"${envargs[@]}"} /bin/bash "$P/run.sh"
