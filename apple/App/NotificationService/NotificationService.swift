// The Notification Service Extension (iOS). APNs pushes from linnet-push carry no content (the
// payload is "New activity" plus an opaque node), with mutable-content set so that iOS starts this
// extension: it wakes the account in Linnet's lightweight mode (the extension has 24 MB and about
// 30 s), fetches what arrived, and turns the WakeReport into the notification. The core already
// applied the user's preview preference (sender and text, sender only, or just "New message").
// On any error, or when iOS says time is up, a generic "New message" is shown instead.
import Foundation
import Linnet
import UserNotifications

final class NotificationService: UNNotificationServiceExtension, @unchecked Sendable {
    /// The key the app reads to open the conversation on tap (NotificationCenterDelegate).
    static let conversationKey = "linnet.conversation"
    /// Below the ~30 s iOS grants, leaving time to build and hand over the notification.
    static let wakeDeadlineMs: UInt64 = 20_000

    private let lock = NSLock()
    private var contentHandler: ((UNNotificationContent) -> Void)?
    private var fallback: UNNotificationContent?
    private var work: Task<Void, Never>?

    override func didReceive(
        _ request: UNNotificationRequest,
        withContentHandler contentHandler: @escaping (UNNotificationContent) -> Void
    ) {
        let fallback = Self.generic(from: request.content)
        lock.withLock {
            self.contentHandler = contentHandler
            self.fallback = fallback
        }
        work = Task {
            let content = await Self.wake() ?? fallback
            self.deliver(content)
        }
    }

    override func serviceExtensionTimeWillExpire() {
        work?.cancel()
        let fallback = lock.withLock { self.fallback }
        deliver(fallback ?? UNMutableNotificationContent())
    }

    /// Hands the notification to iOS once (the wake and the timeout race).
    private func deliver(_ content: UNNotificationContent) {
        let handler = lock.withLock {
            let handler = contentHandler
            contentHandler = nil
            return handler
        }
        handler?(content)
    }

    /// Fetches what arrived; nil when that failed.
    private static func wake() async -> UNNotificationContent? {
        do {
            // Once per process (iOS may reuse the extension's process): later calls return false.
            _ = try initPlatform(config: PlatformConfig(logFilter: "info", logToStderr: false, lightweight: true))
            let directory = try LinnetShared.dataDirectory()
            let report = try await wakeAccount(
                dataDir: directory.path,
                secrets: KeychainSecretStorage(),
                jid: nil,
                options: WakeOptions(deadlineMs: wakeDeadlineMs, notifyRequests: false))
            return content(for: report)
        } catch {
            return nil
        }
    }

    private static func content(for report: WakeReport) -> UNNotificationContent? {
        let content = UNMutableNotificationContent()
        content.sound = .default
        content.badge = NSNumber(value: report.unreadTotal)
        if let call = report.calls.last {
            // A call rang while the app slept: it has ended or will ring when the app opens.
            content.title = call.callerName ?? "Linnet"
            content.body = "Incoming call"
            content.threadIdentifier = call.peer
            content.userInfo = [conversationKey: call.peer]
            return content
        }
        guard let newest = report.notifications.last else {
            if report.requests > 0 {
                content.title = "Linnet"
                content.body = "New message from someone not in your contacts"
                return content
            }
            // Nothing new (the app fetched it already, or the deadline came first): generic.
            return nil
        }
        content.title = newest.senderName ?? "Linnet"
        let others = report.notifications.count - 1
        content.body = others > 0 ? "\(newest.preview) (+\(others) more)" : newest.preview
        // One thread per conversation in Notification Center.
        content.threadIdentifier = newest.conversation
        content.userInfo = [conversationKey: newest.conversation]
        return content
    }

    /// "New message", keeping what the push itself set (sound, badge) but none of its text.
    private static func generic(from original: UNNotificationContent) -> UNNotificationContent {
        let content = (original.mutableCopy() as? UNMutableNotificationContent) ?? UNMutableNotificationContent()
        content.title = "Linnet"
        content.subtitle = ""
        content.body = "New message"
        return content
    }
}
