import Foundation
import Linnet
import Observation

/// Which received files download by themselves.
public enum DownloadPolicy: CaseIterable, Equatable, Sendable {
    case never
    /// Up to 5 MB.
    case smallFiles
    /// Up to 100 MB.
    case large

    public static let smallFilesMaxBytes: UInt64 = 5 * 1024 * 1024
    public static let largeMaxBytes: UInt64 = 100 * 1024 * 1024

    public var maxBytes: UInt64 {
        switch self {
        case .never: return 0
        case .smallFiles: return Self.smallFilesMaxBytes
        case .large: return Self.largeMaxBytes
        }
    }

    public init(maxBytes: UInt64) {
        if maxBytes == 0 {
            self = .never
        } else if maxBytes <= Self.smallFilesMaxBytes {
            self = .smallFiles
        } else {
            self = .large
        }
    }

    public var title: String {
        switch self {
        case .never: return "Never"
        case .smallFiles: return "Files up to 5 MB"
        case .large: return "Files up to 100 MB"
        }
    }
}

extension NotificationPreview {
    public static let allCases: [NotificationPreview] = [.full, .senderOnly, .hidden]

    public var title: String {
        switch self {
        case .full: return "Sender and message"
        case .senderOnly: return "Sender only"
        case .hidden: return "Nothing (just “New message”)"
        }
    }
}

public enum NotificationsState: Equatable, Sendable {
    case off
    /// The system prompt is showing.
    case asking
    case on
    /// The user said no (in the prompt, or later in the system settings).
    case denied
}

@MainActor @Observable
public final class SettingsModel {
    public private(set) var sendTyping = true
    public private(set) var sendReadMarkers = true
    public private(set) var relayOnlyCalls = false
    public private(set) var downloadPolicy = DownloadPolicy.smallFiles
    public private(set) var notificationPreview = NotificationPreview.full
    public private(set) var notifications = NotificationsState.off
    /// "Notifications are on.", "Notifications could not be turned on: …", …
    public private(set) var pushStatusText = ""
    /// The last failed action, as a sentence.
    public private(set) var error: String?

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let ports: PlatformPorts
    @ObservationIgnored private let appServer: String
    @ObservationIgnored private var preferences: Preferences?

    public init(client: LinnetClient, ports: PlatformPorts, appServer: String) {
        self.client = client
        self.ports = ports
        self.appServer = appServer.trimmingCharacters(in: .whitespaces)
        do {
            show(try client.settings().get())
        } catch {
            self.error = "Your settings could not be loaded. " + Texts.error(error)
        }
        if let status = try? client.push().status() {
            notifications = status.permitted ? .on : .off
            pushStatusText = Self.statusText(status)
        } else {
            pushStatusText = Self.offText
        }
    }

    // MARK: Preferences

    public func setSendTyping(_ on: Bool) {
        update { Preferences(sendTyping: on, sendReadMarkers: $0.sendReadMarkers, autoDownloadMaxBytes: $0.autoDownloadMaxBytes, relayOnlyCalls: $0.relayOnlyCalls, notificationPreview: $0.notificationPreview) }
    }

    public func setSendReadMarkers(_ on: Bool) {
        update { Preferences(sendTyping: $0.sendTyping, sendReadMarkers: on, autoDownloadMaxBytes: $0.autoDownloadMaxBytes, relayOnlyCalls: $0.relayOnlyCalls, notificationPreview: $0.notificationPreview) }
    }

    public func setRelayOnlyCalls(_ on: Bool) {
        update { Preferences(sendTyping: $0.sendTyping, sendReadMarkers: $0.sendReadMarkers, autoDownloadMaxBytes: $0.autoDownloadMaxBytes, relayOnlyCalls: on, notificationPreview: $0.notificationPreview) }
    }

    public func setDownloadPolicy(_ policy: DownloadPolicy) {
        update { Preferences(sendTyping: $0.sendTyping, sendReadMarkers: $0.sendReadMarkers, autoDownloadMaxBytes: policy.maxBytes, relayOnlyCalls: $0.relayOnlyCalls, notificationPreview: $0.notificationPreview) }
    }

    public func setNotificationPreview(_ preview: NotificationPreview) {
        update { Preferences(sendTyping: $0.sendTyping, sendReadMarkers: $0.sendReadMarkers, autoDownloadMaxBytes: $0.autoDownloadMaxBytes, relayOnlyCalls: $0.relayOnlyCalls, notificationPreview: preview) }
    }

    private func update(_ change: (Preferences) -> Preferences) {
        guard let current = preferences else { return }
        let next = change(current)
        do {
            try client.settings().set(preferences: next)
            show(next)
            error = nil
        } catch {
            self.error = "The setting could not be saved. " + Texts.error(error)
        }
    }

    private func show(_ prefs: Preferences) {
        preferences = prefs
        sendTyping = prefs.sendTyping
        sendReadMarkers = prefs.sendReadMarkers
        relayOnlyCalls = prefs.relayOnlyCalls
        downloadPolicy = DownloadPolicy(maxBytes: prefs.autoDownloadMaxBytes)
        notificationPreview = prefs.notificationPreview
    }

    // MARK: Notifications

    /// Asks the system first; only when the user allows it is anything registered (permission,
    /// the device token, the app server). A "no" is remembered and nothing is registered.
    public func enableNotifications() async {
        guard notifications != .asking else { return }
        notifications = .asking
        error = nil
        let granted = await ports.notificationPermission.request()
        let push = client.push()
        guard granted else {
            notifications = .denied
            pushStatusText = Self.deniedText
            do { _ = try await push.setPermitted(permitted: false) } catch { self.error = Texts.error(error) }
            return
        }
        notifications = .on
        do {
            _ = try await push.setPermitted(permitted: true)
            let token = await ports.pushTokens.currentToken()
            _ = try await push.setToken(platform: ports.pushTokens.platform, token: token)
            pushStatusText = Self.statusText(try await push.setAppServer(appServer: appServer.isEmpty ? nil : appServer))
        } catch {
            self.error = "Notifications could not be turned on. " + Texts.error(error)
            pushStatusText = (try? push.status()).map(Self.statusText) ?? Self.failedText
        }
    }

    public func disableNotifications() async {
        error = nil
        notifications = .off
        do {
            pushStatusText = Self.statusText(try await client.push().setPermitted(permitted: false))
        } catch {
            self.error = "Notifications could not be turned off on the server. " + Texts.error(error)
            pushStatusText = Self.offText
        }
    }

    /// The system issued a new device token (or withdrew it: nil). Passed on only while on: the
    /// token is not sent anywhere before the user allowed notifications.
    public func onTokenChanged(_ token: String?) async {
        guard notifications == .on else { return }
        do {
            pushStatusText = Self.statusText(try await client.push().setToken(platform: ports.pushTokens.platform, token: token))
        } catch {
            self.error = Texts.error(error)
        }
    }

    /// Back from the system settings: notifications withdrawn there are turned off here too.
    public func refreshNotifications() async {
        guard notifications == .on, !(await ports.notificationPermission.isGranted()) else { return }
        notifications = .denied
        pushStatusText = Self.deniedText
        _ = try? await client.push().setPermitted(permitted: false)
    }

    public func dismissError() {
        error = nil
    }

    nonisolated static let offText = "Notifications are off."
    nonisolated static let deniedText = "Notifications are not allowed. Allow them for Linnet in the system settings."
    nonisolated static let failedText = "Notifications could not be turned on."

    nonisolated static func statusText(_ status: PushStatus) -> String {
        guard status.permitted else { return offText }
        if status.appServer == nil { return "Notifications are allowed, but this build has no notification server: messages show only while Linnet runs." }
        if status.registered && status.enabledOnCurrentSession { return "Notifications are on." }
        // lastError is the SDK's technical text (for the log); the user gets what it means.
        if status.lastError != nil { return "Notifications are not working yet: this device could not be registered with the notification server. Linnet will try again." }
        if !status.hasToken { return "Waiting for this device's notification token…" }
        return "Turning on notifications…"
    }
}
