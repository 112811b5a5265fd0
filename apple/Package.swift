// swift-tools-version:5.9
// The Linnet SDK for iOS and macOS: the generated Swift bindings (module `Linnet`) over the Rust
// core, shipped as a static library in LinnetFFI.xcframework (C module `LinnetFFI`).
//
// Build the xcframework and the generated Swift first (macOS with Xcode and rustup):
//     apple/build-xcframework.sh
// See apple/README.md.
import PackageDescription

let package = Package(
    name: "Linnet",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Linnet", targets: ["Linnet"]),
    ],
    targets: [
        // Local development: the xcframework that build-xcframework.sh writes next to this file.
        // For releases, upload LinnetFFI.xcframework.zip (build-xcframework.sh --zip prints its
        // checksum, the same as `swift package compute-checksum LinnetFFI.xcframework.zip`) and use:
        //     .binaryTarget(
        //         name: "LinnetFFI",
        //         url: "https://example.org/linnet/releases/download/vX.Y.Z/LinnetFFI.xcframework.zip",
        //         checksum: "<sha256 printed by build-xcframework.sh --zip>"),
        .binaryTarget(name: "LinnetFFI", path: "LinnetFFI.xcframework"),
        .target(
            name: "Linnet",
            dependencies: ["LinnetFFI"],
            path: "Sources/Linnet",
            swiftSettings: [
                // Swift 6 language mode needs tools 6.0; with 5.9 we ask for complete checking.
                // The generated code and the adapters compile warning-free in Swift 6 mode
                // (checked on Linux by `make test-bindings`).
                .enableExperimentalFeature("StrictConcurrency"),
            ],
            linkerSettings: [
                // The Rust static library uses these system frameworks (TLS trust store, network).
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
    ]
)
