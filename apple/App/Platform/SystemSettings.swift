// Links into the system's settings, for a permission the user turned off there.
import Foundation
#if os(iOS)
import UIKit
#endif

enum SystemSettings {
    /// Linnet's notification settings (iOS), or the Notifications pane (macOS).
    @MainActor static var notificationsURL: URL? {
        #if os(iOS)
        URL(string: UIApplication.openNotificationSettingsURLString)
        #else
        URL(string: "x-apple.systempreferences:com.apple.preference.notifications")
        #endif
    }

    /// "0.1.0 (12)": this build's version and build number.
    static var appVersion: String {
        let info = Bundle.main.infoDictionary
        let version = info?["CFBundleShortVersionString"] as? String ?? "?"
        let build = info?["CFBundleVersion"] as? String ?? "?"
        return "\(version) (\(build))"
    }
}
