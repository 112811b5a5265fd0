#!/usr/bin/env bash
# Compiles and runs Kotlin/JVM programs against the generated Kotlin bindings and the Rust library.
#
# Usage: bindings/scripts/kotlin.sh --gen DIR --lib DIR [--src PATH]... [--test PATH]...
#            --main CLASS [--main CLASS]... [--build DIR] [-- ARG...]
#   --gen DIR    generated Kotlin (uniffi-bindgen --language kotlin --out-dir DIR)
#   --src PATH   extra library sources (.kt file or directory), compiled with the generated code
#                into linnet.jar (e.g. android/linnet/src/main/kotlin: the Flow adapters)
#   --test PATH  program sources (.kt file or directory), compiled against linnet.jar into tests.jar
#   --lib DIR    directory holding liblinnet_ffi.so (passed as -Djna.library.path)
#   --main CLASS a main class to run (e.g. org.linnet.tests.SmokeTestKt); repeatable: all run in
#                order, each with the ARGs after `--`
#   --build DIR  where jars go (default target/bindings/kotlin-build); a jar is rebuilt only when
#                the hash of its inputs changed
#   --jar NAME   the programs' jar name (default tests): programs of another suite (the apps'
#                presentation tests) keep their own jar next to the shared linnet.jar
# Env: KOTLINC (default: the one setup-toolchains.sh installs, else kotlinc on PATH),
#      JNA_JAR (default /usr/share/java/jna.jar), JAVA (default java), LINNET_JAVA_OPTS (extra JVM
#      options). The programs inherit our environment (e.g. the servers' LINNET_* variables).
# Exit: 0 when every main exited 0; otherwise 1 (compile errors: 2). Prints one line per program.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=bindings/scripts/lib.sh
source "$HERE/lib.sh"

die() { echo "kotlin.sh: error: $*" >&2; exit 2; }

gen='' lib='' build=$ROOT/target/bindings/kotlin-build jar=tests
srcs=() tests=() mains=() args=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--gen) gen=$2; shift 2 ;;
	--lib) lib=$2; shift 2 ;;
	--src) srcs+=("$2"); shift 2 ;;
	--test) tests+=("$2"); shift 2 ;;
	--main) mains+=("$2"); shift 2 ;;
	--build) build=$2; shift 2 ;;
	--jar) jar=$2; shift 2 ;;
	--) shift; args=("$@"); break ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done
[[ -d $gen ]] || die "--gen DIR (generated Kotlin) is required"
[[ -d $lib ]] || die "--lib DIR (holding liblinnet_ffi.so) is required"
[[ ${#mains[@]} -gt 0 ]] || die "at least one --main CLASS is required"

if [[ -z ${KOTLINC:-} ]]; then
	if [[ -f $KOTLIN_HOME/.ok ]]; then
		KOTLINC=$KOTLIN_HOME/bin/kotlinc
	else
		KOTLINC=$(command -v kotlinc) || die "no kotlinc: run bindings/scripts/setup-toolchains.sh kotlin"
	fi
fi
KLIB=$(cd "$(dirname "$(readlink -f "$KOTLINC")")/../lib" && pwd)
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
JAVA=${JAVA:-java}
[[ -f $JNA_JAR ]] || die "no JNA jar at $JNA_JAR (apt-get install libjna-java, or set JNA_JAR)"
DEPS=$JNA_JAR:$KLIB/kotlinx-coroutines-core-jvm.jar:$KLIB/kotlin-stdlib.jar:$KLIB/kotlin-test.jar
mkdir -p "$build"

# Every .kt file under the given paths, sorted.
kt_files() {
	local p
	for p in "$@"; do
		if [[ -d $p ]]; then
			find "$p" -type f -name '*.kt' | LC_ALL=C sort
		elif [[ -f $p ]]; then
			echo "$p"
		else
			die "no such file or directory: $p"
		fi
	done
}

# Hash of the compiler, the classpath given and the files' names and contents.
inputs_hash() {
	local cp=$1 f
	shift
	{
		echo "$KOTLINC $cp"
		for f in "$@"; do
			echo "$f"
			cksum <"$f"
		done
	} | cksum | tr ' ' -
}

# compile NAME CLASSPATH EXTRA_KOTLINC_OPTS FILE...: builds $build/NAME.jar unless it is up to date.
compile() {
	local name=$1 cp=$2 opts=$3 hash log
	shift 3
	hash=$(inputs_hash "$cp" "$@")
	if [[ -f $build/$name.jar && $(cat "$build/$name.hash" 2>/dev/null) == "$hash" ]]; then
		return 0
	fi
	log=$build/$name.log
	rm -f "$build/$name.jar" "$build/$name.hash"
	# shellcheck disable=SC2086
	if ! "$KOTLINC" $opts -jvm-target 17 -cp "$cp" -d "$build/$name.tmp.jar" "$@" >"$log" 2>&1 ||
		! mv -f "$build/$name.tmp.jar" "$build/$name.jar"; then
		cat "$log" >&2
		die "compiling $name.jar failed"
	fi
	echo "$hash" >"$build/$name.hash"
}

lib_files=()
while IFS= read -r f; do lib_files+=("$f"); done < <(kt_files "$gen" ${srcs[@]+"${srcs[@]}"})
[[ ${#lib_files[@]} -gt 0 ]] || die "no .kt files under $gen"
# Generated code carries warnings we cannot fix: -nowarn for the library jar only.
compile linnet "$DEPS" -nowarn "${lib_files[@]}"
cp_run=$build/linnet.jar:$DEPS
if [[ ${#tests[@]} -gt 0 ]]; then
	test_files=()
	while IFS= read -r f; do test_files+=("$f"); done < <(kt_files "${tests[@]}")
	[[ ${#test_files[@]} -gt 0 ]] || die "no .kt files in ${tests[*]}"
	compile "$jar" "$build/linnet.jar:$DEPS" "" "${test_files[@]}"
	cp_run=$build/$jar.jar:$cp_run
fi

failed=0
for main in "${mains[@]}"; do
	start=$SECONDS rc=0
	# shellcheck disable=SC2086
	"$JAVA" -ea ${LINNET_JAVA_OPTS:-} "-Djna.library.path=$(cd "$lib" && pwd)" -cp "$cp_run" \
		"$main" ${args[@]+"${args[@]}"} || rc=$?
	if [[ $rc -eq 0 ]]; then
		echo "kotlin: PASS $main ($((SECONDS - start)) s)"
	else
		echo "kotlin: FAIL $main (exit $rc)"
		failed=1
	fi
done
exit "$failed"
