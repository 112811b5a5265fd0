// Foundation and CoreFoundation names that exist only on Apple platforms (swift-corelibs-foundation
// on Linux lacks them), declarations only, for apple/App/tools/viewcheck/check.sh. The rest of
// Foundation is the real one. CF types are toll-free bridged on Apple platforms; here they are
// aliases of the Foundation classes they bridge to, which Linux Swift bridges with `as` the same way.
import Foundation

public typealias CFTypeRef = AnyObject
public typealias CFString = NSString
public typealias CFDictionary = NSDictionary
public typealias OSStatus = Int32
// AutoreleasingUnsafeMutablePointer<NSError?>? on Apple platforms (Linux Swift has no such type);
// `&error` passes to either.
public typealias NSErrorPointer = UnsafeMutablePointer<NSError?>?

extension URL {
    public func startAccessingSecurityScopedResource() -> Bool { false }
    public func stopAccessingSecurityScopedResource() {}
}

extension FileManager {
    public func containerURL(forSecurityApplicationGroupIdentifier groupIdentifier: String) -> URL? { nil }
}

public struct URLFileProtection: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let none = URLFileProtection(rawValue: "NSFileProtectionNone")
    public static let complete = URLFileProtection(rawValue: "NSFileProtectionComplete")
    public static let completeUnlessOpen = URLFileProtection(rawValue: "NSFileProtectionCompleteUnlessOpen")
    public static let completeUntilFirstUserAuthentication = URLFileProtection(rawValue: "NSFileProtectionCompleteUntilFirstUserAuthentication")
}

extension URLResourceKey {
    public static let fileProtectionKey = URLResourceKey(rawValue: "NSURLFileProtectionKey")
}
