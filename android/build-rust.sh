#!/usr/bin/env bash
# Builds the Rust core for Android and generates the Kotlin bindings for the :linnet module.
# Called by Gradle (task :linnet:buildRust) or by hand. Needs rustup, cargo-ndk and an Android NDK
# (r27+; ANDROID_NDK_HOME, or the newest NDK of the Android SDK that cargo-ndk finds).
#
# Usage: android/build-rust.sh [--profile PROFILE] [--abi ABI]... [--jni-libs DIR] [--kotlin-out DIR]
#   --profile     cargo profile: mobile (default: size-optimised, fat LTO, stripped), reldbg
#                 (debug info, for debugging on a device), release
#   --abi         arm64-v8a, armeabi-v7a, x86_64 (default: all three)
#   --jni-libs    default linnet/src/main/jniLibs (<ABI>/liblinnet_ffi.so)
#   --kotlin-out  default linnet/build/generated/source/uniffi/main/kotlin
# Env: ANDROID_NDK_HOME, LINNET_ANDROID_API (minSdk, default 24).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

profile=mobile jni=$HERE/linnet/src/main/jniLibs kout=$HERE/linnet/build/generated/source/uniffi/main/kotlin
abis=()
while [[ $# -gt 0 ]]; do
	case $1 in
	--profile) profile=$2; shift 2 ;;
	--abi) abis+=("$2"); shift 2 ;;
	--jni-libs) jni=$2; shift 2 ;;
	--kotlin-out) kout=$2; shift 2 ;;
	*) echo "usage: $0 [--profile PROFILE] [--abi ABI]... [--jni-libs DIR] [--kotlin-out DIR]" >&2; exit 2 ;;
	esac
done
[[ ${#abis[@]} -gt 0 ]] || abis=(arm64-v8a armeabi-v7a x86_64)
API=${LINNET_ANDROID_API:-24}

triple() {
	case $1 in
	arm64-v8a) echo aarch64-linux-android ;;
	armeabi-v7a) echo armv7-linux-androideabi ;;
	x86_64) echo x86_64-linux-android ;;
	x86) echo i686-linux-android ;;
	*) echo "build-rust.sh: unknown ABI $1" >&2; exit 2 ;;
	esac
}

cd "$ROOT"
command -v cargo-ndk >/dev/null || { echo "build-rust.sh: cargo-ndk missing: cargo install --locked cargo-ndk" >&2; exit 2; }
triples=()
for abi in "${abis[@]}"; do triples+=("$(triple "$abi")"); done
if command -v rustup >/dev/null; then rustup target add "${triples[@]}" >/dev/null; fi

# 16 KB page alignment (required on Android 15+ devices with 16 KB pages, and by Google Play);
# NDK r28+ does it by default, older NDKs need the flag.
for t in "${triples[@]}"; do
	var=CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
	export "$var=${!var:-} -C link-arg=-Wl,-z,max-page-size=16384"
done

# 1. liblinnet_ffi.so per ABI. cargo-ndk sets up the NDK linker and the C compilers (ring, SQLite);
#    we copy the outputs ourselves (cargo-ndk's -o does not know custom profiles in every version).
ndk_args=()
for abi in "${abis[@]}"; do ndk_args+=(-t "$abi"); done
cargo ndk "${ndk_args[@]}" --platform "$API" build -p linnet-ffi --locked --profile "$profile"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
for abi in "${abis[@]}"; do
	mkdir -p "$jni/$abi"
	cp "$TARGET_DIR/$(triple "$abi")/$profile/liblinnet_ffi.so" "$jni/$abi/liblinnet_ffi.so"
done

# 2. Kotlin, from a host dev build of the same sources (library mode reads the
#    metadata out of a library this machine can load; it does not depend on the profile or on what
#    `strip` removes), with the workspace's pinned uniffi-bindgen.
cargo build -p linnet-ffi -p uniffi-bindgen --locked
case $(uname -s) in Darwin) host_lib=liblinnet_ffi.dylib ;; *) host_lib=liblinnet_ffi.so ;; esac
rm -rf "$kout"
"$TARGET_DIR/debug/uniffi-bindgen" generate --no-format --language kotlin --out-dir "$kout" \
	"$TARGET_DIR/debug/$host_lib"
[[ -f $kout/org/linnet/sdk/linnet.kt ]] || { echo "build-rust.sh: no org/linnet/sdk/linnet.kt generated (check bindings/linnet-ffi/uniffi.toml)" >&2; exit 1; }
echo "build-rust.sh: ${abis[*]} ($profile) -> $jni; Kotlin -> $kout"
