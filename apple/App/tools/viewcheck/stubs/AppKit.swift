// AppKit (macOS), declarations only, for apple/App/tools/viewcheck/check.sh: what the app uses.
// NSApplicationDelegate's Objective-C optional methods are not requirements here (see UIKit.swift).
#if os(macOS)
import Foundation

@MainActor @preconcurrency public protocol NSApplicationDelegate: NSObjectProtocol {}

@MainActor @preconcurrency open class NSResponder: NSObject {}

@MainActor @preconcurrency open class NSApplication: NSResponder {
    public class var shared: NSApplication { fatalError() }
    open func registerForRemoteNotifications() {}
    open func unregisterForRemoteNotifications() {}
}

public struct NSTextContentType: Hashable, RawRepresentable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let username = NSTextContentType(rawValue: "username")
    public static let password = NSTextContentType(rawValue: "password")
    public static let oneTimeCode = NSTextContentType(rawValue: "one-time-code")
}
#endif
