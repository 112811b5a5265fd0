// UIKit (iOS), declarations only, for apple/App/tools/viewcheck/check.sh: what the app uses.
// Objective-C optional protocol requirements cannot be declared without the Objective-C runtime:
// UIApplicationDelegate's methods are not requirements here (a misspelt delegate method is only a
// warning on Apple platforms too).
#if os(iOS)
import Foundation

@MainActor @preconcurrency public protocol UIApplicationDelegate: NSObjectProtocol {}

@MainActor @preconcurrency open class UIResponder: NSObject {}

@MainActor @preconcurrency open class UIApplication: UIResponder {
    public class var shared: UIApplication { fatalError() }
    open func registerForRemoteNotifications() {}
    open func unregisterForRemoteNotifications() {}
    public static let openSettingsURLString: String = "app-settings:"
    public static let openNotificationSettingsURLString: String = "app-settings:notifications"

    public struct LaunchOptionsKey: Hashable, RawRepresentable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let remoteNotification = LaunchOptionsKey(rawValue: "UIApplicationLaunchOptionsRemoteNotificationKey")
    }
}

public struct UITextContentType: Hashable, RawRepresentable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let username = UITextContentType(rawValue: "username")
    public static let password = UITextContentType(rawValue: "password")
    public static let newPassword = UITextContentType(rawValue: "new-password")
    public static let emailAddress = UITextContentType(rawValue: "email")
    public static let URL = UITextContentType(rawValue: "url")
}

public enum UIKeyboardType: Int, Sendable {
    case `default`, asciiCapable, numbersAndPunctuation, URL, numberPad, phonePad, namePhonePad
    case emailAddress, decimalPad, twitter, webSearch, asciiCapableNumberPad
}
#endif
