// Debian's Swift 6.0.3 (the Linux chroot these tests run in) ships a libswiftObservation.so that
// needs swift::threading::fatal, which its libswiftCore.so does not export: every program using
// @Observable fails to link there. The runtime calls it only when a lock operation fails, to abort
// with a message, so this test program defines it: print the message and abort. Apple platforms
// and upstream Linux toolchains export the symbol; the app itself needs no such thing.
import Foundation

@_cdecl("_ZN5swift9threading5fatalEPKcz")
public func swiftThreadingFatal(_ message: UnsafePointer<CChar>?) {
    if let message { FileHandle.standardError.write(Data(String(cString: message).utf8)) }
    abort()
}
