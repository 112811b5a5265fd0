// UserNotifications, declarations only, for apple/App/tools/viewcheck/check.sh: what the app and
// its Notification Service Extension use. Objective-C optional delegate methods are not
// requirements here (see UIKit.swift).
import Foundation

public enum UNAuthorizationStatus: Int, Sendable {
    case notDetermined, denied, authorized, provisional, ephemeral
}

public struct UNAuthorizationOptions: OptionSet, Sendable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let badge = UNAuthorizationOptions(rawValue: 1 << 0)
    public static let sound = UNAuthorizationOptions(rawValue: 1 << 1)
    public static let alert = UNAuthorizationOptions(rawValue: 1 << 2)
    public static let carPlay = UNAuthorizationOptions(rawValue: 1 << 3)
    public static let criticalAlert = UNAuthorizationOptions(rawValue: 1 << 4)
    public static let provisional = UNAuthorizationOptions(rawValue: 1 << 6)
}

public struct UNNotificationPresentationOptions: OptionSet, Sendable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let badge = UNNotificationPresentationOptions(rawValue: 1 << 0)
    public static let sound = UNNotificationPresentationOptions(rawValue: 1 << 1)
    public static let list = UNNotificationPresentationOptions(rawValue: 1 << 3)
    public static let banner = UNNotificationPresentationOptions(rawValue: 1 << 4)
}

open class UNNotificationSettings: NSObject, @unchecked Sendable {
    open var authorizationStatus: UNAuthorizationStatus { fatalError() }
}

open class UNNotificationSound: NSObject, @unchecked Sendable {
    open class var `default`: UNNotificationSound { fatalError() }
}

open class UNNotificationContent: NSObject, NSCopying, NSMutableCopying, @unchecked Sendable {
    open var title: String { "" }
    open var subtitle: String { "" }
    open var body: String { "" }
    open var badge: NSNumber? { nil }
    open var sound: UNNotificationSound? { nil }
    open var threadIdentifier: String { "" }
    open var userInfo: [AnyHashable: Any] { [:] }
    open func copy(with zone: NSZone? = nil) -> Any { self }
    open func mutableCopy(with zone: NSZone? = nil) -> Any { UNMutableNotificationContent() }
}

open class UNMutableNotificationContent: UNNotificationContent, @unchecked Sendable {
    public override init() {}
    open override var title: String { get { "" } set {} }
    open override var subtitle: String { get { "" } set {} }
    open override var body: String { get { "" } set {} }
    open override var badge: NSNumber? { get { nil } set {} }
    open override var sound: UNNotificationSound? { get { nil } set {} }
    open override var threadIdentifier: String { get { "" } set {} }
    open override var userInfo: [AnyHashable: Any] { get { [:] } set {} }
}

open class UNNotificationRequest: NSObject, @unchecked Sendable {
    open var identifier: String { "" }
    open var content: UNNotificationContent { fatalError() }
}

open class UNNotification: NSObject, @unchecked Sendable {
    open var date: Date { fatalError() }
    open var request: UNNotificationRequest { fatalError() }
}

open class UNNotificationResponse: NSObject, @unchecked Sendable {
    open var notification: UNNotification { fatalError() }
    open var actionIdentifier: String { "" }
}

public protocol UNUserNotificationCenterDelegate: NSObjectProtocol {}

open class UNUserNotificationCenter: NSObject, @unchecked Sendable {
    open class func current() -> UNUserNotificationCenter { fatalError() }
    weak open var delegate: (any UNUserNotificationCenterDelegate)?
    open func notificationSettings() async -> UNNotificationSettings { fatalError() }
    open func requestAuthorization(options: UNAuthorizationOptions = []) async throws -> Bool { false }
    open func setBadgeCount(_ newBadgeCount: Int, withCompletionHandler completionHandler: (@Sendable ((any Error)?) -> Void)? = nil) {}
    open func setBadgeCount(_ newBadgeCount: Int) async throws {}
    open func removeAllDeliveredNotifications() {}
}

open class UNNotificationServiceExtension: NSObject {
    public override init() {}
    open func didReceive(_ request: UNNotificationRequest, withContentHandler contentHandler: @escaping (UNNotificationContent) -> Void) {}
    open func serviceExtensionTimeWillExpire() {}
}
