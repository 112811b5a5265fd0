// Linnet: AsyncStream adapters over the generated listener + handle APIs.
//
// Part of the module `Linnet` together with the generated bindings (Generated/Linnet.swift, made
// by apple/build-xcframework.sh; on Linux, target/bindings/swift made by `make test-bindings`).
// Pure Swift, no SwiftUI or UIKit: compiled and tested on Linux with -swift-version 6
// -warnings-as-errors by bindings/scripts/swift.sh.
//
// The adapters follow (they depend on the SDK's final API).
