// UserNotifications and APNs behind the presentation layer's ports: the permission prompt
// (NotificationPermission) and the device token (PushTokenSource). SettingsModel asks the
// permission first and only then reads the token, so nothing is registered before the user agrees.
import Foundation
import Linnet
import Observation
import UserNotifications
#if os(iOS)
import UIKit
#else
import AppKit
#endif

struct UserNotificationPermission: NotificationPermission {
    func isGranted() async -> Bool {
        let settings = await UNUserNotificationCenter.current().notificationSettings()
        return settings.authorizationStatus == .authorized || settings.authorizationStatus == .provisional
    }

    func request() async -> Bool {
        let granted = (try? await UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge])) ?? false
        if granted {
            // The token follows in the app delegate (didRegisterForRemoteNotificationsWithDeviceToken).
            await MainActor.run { RemoteNotifications.register() }
        }
        return granted
    }
}

enum RemoteNotifications {
    /// Asks APNs for this device's token (again: Apple recommends it at every launch).
    @MainActor static func register() {
        #if os(iOS)
        UIApplication.shared.registerForRemoteNotifications()
        #else
        NSApplication.shared.registerForRemoteNotifications()
        #endif
    }
}

/// The APNs device token, as lowercase hex. The app delegate feeds it; SettingsModel reads it once
/// the user allowed notifications, and `onChange` passes later tokens on.
final class APNsTokenSource: PushTokenSource, @unchecked Sendable {
    /// Development builds talk to the APNs sandbox (aps-environment "development"); TestFlight and
    /// App Store builds (Release) to production.
    let platform: PushPlatform = {
        #if DEBUG
        return .apns(sandbox: true)
        #else
        return .apns(sandbox: false)
        #endif
    }()

    /// Called on the main actor with each new token (nil: registration failed).
    @MainActor var onChange: (@MainActor (String?) -> Void)?

    private let lock = NSLock()
    private var token: String?
    private var waiters: [UUID: CheckedContinuation<String?, Never>] = [:]

    /// How long `currentToken` waits for APNs to answer a registration.
    private static let wait: Duration = .seconds(15)

    func currentToken() async -> String? {
        if let token = lock.withLock({ token }) { return token }
        await MainActor.run { RemoteNotifications.register() }
        let id = UUID()
        let timeout = Task { [weak self] in
            try? await Task.sleep(for: Self.wait)
            self?.resume(id, with: nil)
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { continuation in
            let ready: String? = lock.withLock {
                if let token { return token }
                waiters[id] = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// From application(_:didRegisterForRemoteNotificationsWithDeviceToken:).
    @MainActor func received(deviceToken: Data) {
        let hex = deviceToken.map { String(format: "%02x", $0) }.joined()
        let (changed, waiting) = lock.withLock {
            let changed = token != hex
            token = hex
            let waiting = Array(waiters.values)
            waiters.removeAll()
            return (changed, waiting)
        }
        for waiter in waiting { waiter.resume(returning: hex) }
        if changed { onChange?(hex) }
    }

    /// From application(_:didFailToRegisterForRemoteNotificationsWithError:) (e.g. the simulator
    /// without push, or a missing aps-environment entitlement).
    @MainActor func failed() {
        let waiting = lock.withLock {
            let waiting = Array(waiters.values)
            waiters.removeAll()
            return waiting
        }
        for waiter in waiting { waiter.resume(returning: nil) }
    }

    private func resume(_ id: UUID, with value: String?) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.resume(returning: value)
    }
}

enum AppBadge {
    /// The app icon's badge follows the chat list's unread total (the extension sets it from
    /// WakeReport.unreadTotal while the app sleeps).
    static func show(_ count: Int) {
        UNUserNotificationCenter.current().setBadgeCount(count) { _ in }
    }
}

/// Which conversation a tapped notification opens (the extension puts it in userInfo).
@MainActor @Observable
final class NotificationRouter {
    var pendingConversation: String?
}

/// Foreground presentation and taps.
final class NotificationCenterDelegate: NSObject, UNUserNotificationCenterDelegate, @unchecked Sendable {
    /// The key the Notification Service Extension stores the conversation's JID under.
    static let conversationKey = "linnet.conversation"

    private let router: NotificationRouter

    init(router: NotificationRouter) {
        self.router = router
    }

    func userNotificationCenter(
        _ center: UNUserNotificationCenter, willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        // In the foreground the chat list shows new messages live: only update the list and badge.
        [.list, .badge]
    }

    func userNotificationCenter(_ center: UNUserNotificationCenter, didReceive response: UNNotificationResponse) async {
        guard let conversation = response.notification.request.content.userInfo[Self.conversationKey] as? String else { return }
        await MainActor.run { router.pendingConversation = conversation }
    }
}
