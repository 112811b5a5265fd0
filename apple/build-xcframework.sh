#!/usr/bin/env bash
# Builds LinnetFFI.xcframework (the Rust core as static libraries + the C header/module map) and
# the generated Swift (Sources/Linnet/Generated/Linnet.swift) for the Swift package in this
# directory. macOS only: needs Xcode (xcodebuild, lipo) and rustup.
#
# Usage: apple/build-xcframework.sh [--profile PROFILE] [--zip]
#   --profile  cargo profile (default: mobile = release, opt-level "s", fat LTO, stripped;
#              reldbg keeps debug info for device debugging; release)
#   --zip      also write LinnetFFI.xcframework.zip and print its SwiftPM checksum (for a
#              url+checksum .binaryTarget in Package.swift)
# Env: IPHONEOS_DEPLOYMENT_TARGET (15.0), MACOSX_DEPLOYMENT_TARGET (12.0): keep them in step with
#      the platforms in Package.swift.
#
# Slices: ios-arm64 (aarch64-apple-ios), ios-arm64_x86_64-simulator (aarch64-apple-ios-sim +
# x86_64-apple-ios, lipo), macos-arm64_x86_64 (aarch64-apple-darwin + x86_64-apple-darwin, lipo).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

profile=mobile zip=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--profile) profile=$2; shift 2 ;;
	--zip) zip=1; shift ;;
	*) echo "usage: $0 [--profile PROFILE] [--zip]" >&2; exit 2 ;;
	esac
done
[[ $(uname -s) == Darwin ]] || { echo "build-xcframework.sh: macOS with Xcode only" >&2; exit 2; }
for tool in cargo xcodebuild lipo; do
	command -v "$tool" >/dev/null || { echo "build-xcframework.sh: $tool not found" >&2; exit 2; }
done

export IPHONEOS_DEPLOYMENT_TARGET=${IPHONEOS_DEPLOYMENT_TARGET:-15.0}
export MACOSX_DEPLOYMENT_TARGET=${MACOSX_DEPLOYMENT_TARGET:-12.0}
TARGETS=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
LIB=liblinnet_ffi.a
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BUILD=$HERE/build
XCF=$HERE/LinnetFFI.xcframework

cd "$ROOT"
if command -v rustup >/dev/null; then
	rustup target add "${TARGETS[@]}" >/dev/null
fi

# 1. The static library for every target.
for t in "${TARGETS[@]}"; do
	echo "== cargo rustc --crate-type staticlib --profile $profile --target $t"
	cargo rustc -p linnet-ffi --lib --locked --profile "$profile" --target "$t" --crate-type staticlib
done
out() { echo "$TARGET_DIR/$1/$profile/$LIB"; }

# 2. The generated Swift, from a host dev build of the same sources (library mode reads the
#    metadata out of a library this machine can load; it does not depend on the profile or on what
#    `strip` removes), with the workspace's pinned uniffi-bindgen.
echo "== uniffi-bindgen generate --language swift"
cargo build -p linnet-ffi -p uniffi-bindgen --locked
rm -rf "$BUILD"
mkdir -p "$BUILD/swift" "$BUILD/headers/LinnetFFI" "$BUILD/ios" "$BUILD/ios-sim" "$BUILD/macos"
"$TARGET_DIR/debug/uniffi-bindgen" generate --no-format --language swift --out-dir "$BUILD/swift" \
	"$TARGET_DIR/debug/liblinnet_ffi.dylib"
for f in Linnet.swift LinnetFFI.h LinnetFFI.modulemap; do
	[[ -f $BUILD/swift/$f ]] || { echo "build-xcframework.sh: bindgen wrote no $f (check bindings/linnet-ffi/uniffi.toml)" >&2; exit 1; }
done

# 3. Headers: the module map must be called module.modulemap; it sits in a LinnetFFI/ subdirectory
#    so that it cannot collide with another xcframework's module.modulemap in an app's include dir.
cp "$BUILD/swift/LinnetFFI.h" "$BUILD/headers/LinnetFFI/"
cp "$BUILD/swift/LinnetFFI.modulemap" "$BUILD/headers/LinnetFFI/module.modulemap"

# 4. Fat libraries for the simulator and macOS slices.
cp "$(out aarch64-apple-ios)" "$BUILD/ios/$LIB"
lipo -create "$(out aarch64-apple-ios-sim)" "$(out x86_64-apple-ios)" -output "$BUILD/ios-sim/$LIB"
lipo -create "$(out aarch64-apple-darwin)" "$(out x86_64-apple-darwin)" -output "$BUILD/macos/$LIB"

# 5. The xcframework and the Swift sources of the package.
echo "== xcodebuild -create-xcframework"
rm -rf "$XCF"
xcodebuild -create-xcframework \
	-library "$BUILD/ios/$LIB" -headers "$BUILD/headers" \
	-library "$BUILD/ios-sim/$LIB" -headers "$BUILD/headers" \
	-library "$BUILD/macos/$LIB" -headers "$BUILD/headers" \
	-output "$XCF" >/dev/null
mkdir -p "$HERE/Sources/Linnet/Generated"
cp "$BUILD/swift/Linnet.swift" "$HERE/Sources/Linnet/Generated/Linnet.swift"

if [[ $zip -eq 1 ]]; then
	rm -f "$XCF.zip"
	(cd "$HERE" && ditto -c -k --sequesterRsrc --keepParent "$(basename "$XCF")" "$(basename "$XCF").zip")
	echo "checksum: $(cd "$HERE" && swift package compute-checksum "$(basename "$XCF").zip")"
fi
echo "done: $XCF and Sources/Linnet/Generated/Linnet.swift (profile $profile)"
