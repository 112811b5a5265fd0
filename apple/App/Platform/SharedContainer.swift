// Where the app and its Notification Service Extension keep their data, and the build-time values
// they read from Info.plist. Compiled into both targets.
import Foundation

enum LinnetShared {
    /// The app group both processes open the database in (entitlement com.apple.security.application-groups).
    static let appGroup = "group.org.linnet.app"

    /// The keychain group shared with the extension ("TEAMID.org.linnet.shared", the team prefix
    /// filled in by the build), or nil on macOS (the app's own default group; no extension there).
    static var keychainAccessGroup: String? {
        #if os(iOS)
        let value = Bundle.main.object(forInfoDictionaryKey: "LinnetKeychainAccessGroup") as? String
        // An unsubstituted "$(AppIdentifierPrefix)…" means an unsigned build: use the default group.
        guard let value, !value.isEmpty, !value.hasPrefix("$(") else { return nil }
        return value
        #else
        return nil
        #endif
    }

    /// The push app server's JID (LINNET_PUSH_APP_SERVER in project.yml).
    static var pushAppServer: String {
        (Bundle.main.object(forInfoDictionaryKey: "LinnetPushAppServer") as? String) ?? ""
    }

    /// The data directory: in the app group container on iOS (the extension reads it while the
    /// app sleeps), in Application Support of the sandbox container on macOS.
    static func dataDirectory() throws -> URL {
        let fileManager = FileManager.default
        let base: URL
        #if os(iOS)
        if let group = fileManager.containerURL(forSecurityApplicationGroupIdentifier: appGroup) {
            base = group
        } else {
            // No app group (an unsigned simulator build): the app works, the extension cannot.
            base = try fileManager.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        }
        #else
        base = try fileManager.url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
        #endif
        let directory = base.appendingPathComponent("Linnet", isDirectory: true)
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        #if os(iOS)
        // Readable after the first unlock: pushes arrive while the phone is locked.
        try? (directory as NSURL).setResourceValue(
            URLFileProtection.completeUntilFirstUserAuthentication, forKey: .fileProtectionKey)
        #endif
        return directory
    }
}
