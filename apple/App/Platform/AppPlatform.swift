// The Apple implementations of the presentation layer's ports, made once per process and shared
// by the SwiftUI app and its application delegate.
import Foundation
import Linnet
import UserNotifications

@MainActor
final class AppPlatform {
    static let shared = AppPlatform()

    let pushTokens = APNsTokenSource()
    let notificationPermission = UserNotificationPermission()
    let audioDevices = EngineAudioDevices()
    let audioRoute = SpeakerAudioRoute()
    let networkMonitor = PathNetworkMonitor()
    let router = NotificationRouter()
    #if os(iOS)
    /// The system call UI (lock screen, Bluetooth buttons, the green status pill).
    let callKit: CallKitIntegration
    #endif
    private let notificationDelegate: NotificationCenterDelegate

    private init() {
        notificationDelegate = NotificationCenterDelegate(router: router)
        #if os(iOS)
        callKit = CallKitIntegration(audio: audioDevices)
        #endif
    }

    var ports: PlatformPorts {
        #if os(iOS)
        let calls: any CallIntegration = callKit
        #else
        // macOS has no CallKit: the in-app call screen is the only one.
        let calls: any CallIntegration = NoCallIntegration()
        #endif
        return PlatformPorts(
            notificationPermission: notificationPermission,
            pushTokens: pushTokens,
            audioRoute: audioRoute,
            audioDevices: audioDevices,
            callIntegration: calls)
    }

    /// Connects the platform to the app's model once it exists.
    func attach(_ app: AppModel) {
        #if os(iOS)
        callKit.app = app
        #endif
        app.setNetworkMonitor(networkMonitor)
        // A new or changed APNs token goes to the push service (only if notifications are on:
        // SettingsModel checks that).
        pushTokens.onChange = { [weak app] token in
            guard let settings = app?.makeSettingsModel() else { return }
            Task { await settings.onTokenChanged(token) }
        }
    }

    func didFinishLaunching() {
        UNUserNotificationCenter.current().delegate = notificationDelegate
        // Tokens can change (restore from backup, reinstall): ask again at every launch, but only
        // once the user has allowed notifications.
        Task {
            if await notificationPermission.isGranted() { RemoteNotifications.register() }
        }
    }
}
