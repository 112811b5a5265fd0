import Foundation
import Linnet
import Observation

/// The top-level screen.
public enum AppScreen: Equatable, Sendable {
    case signIn
    /// Signed in as `jid`: the chat list, contacts, settings.
    case main(jid: String)
    /// The app's data could not be opened; nothing else works. `message` says why.
    case unavailable(message: String)
}

/// The app: opens the SDK once, knows whether an account is signed in, and makes the models of the
/// screens for the current account. The app-wide `calls` model exists while signed in, so an
/// incoming call is seen (and reported to CallKit) whatever screen is open.
@MainActor @Observable
public final class AppModel {
    public private(set) var screen: AppScreen
    /// The call screen model, while signed in.
    public private(set) var calls: CallModel?
    /// Why the last sign-out was incomplete, if it was.
    public private(set) var signOutError: String?

    @ObservationIgnored public let ports: PlatformPorts
    /// The push app server's JID (e.g. "push.example.org"), given to `SettingsModel`.
    @ObservationIgnored public let appServer: String
    @ObservationIgnored private let sdk: LinnetSdk?

    /// `initPlatform` sets up logging and the runtime for the whole process; a second call fails,
    /// and a test program makes several AppModels.
    private static var platformReady = false

    public init(
        dataDir: String, secrets: any SecretStorage, ports: PlatformPorts, appServer: String,
        logFilter: String = "info"
    ) {
        self.ports = ports
        self.appServer = appServer
        if !Self.platformReady {
            Self.platformReady = true
            _ = try? initPlatform(config: PlatformConfig(logFilter: logFilter, logToStderr: false, lightweight: false))
        }
        do {
            sdk = try LinnetSdk(dataDir: dataDir, secrets: secrets)
            screen = .signIn
        } catch {
            sdk = nil
            screen = .unavailable(message: "Linnet could not open its data on this device. " + Texts.error(error))
        }
    }

    /// The signed-in account's client (nil on the sign-in screen).
    public var client: LinnetClient? {
        guard case .main(let jid) = screen else { return nil }
        return try? sdk?.client(jid: jid)
    }

    /// At launch: an account already signed in goes straight to the main screen and connects.
    /// A connection failure is not an error here: the chat list banner shows it and retries.
    public func start() async {
        guard let sdk, screen == .signIn else { return }
        guard let account = (try? sdk.accounts())?.first else { return }
        enterMain(jid: account.jid)
        guard let client else { return }
        try? await client.connection().start()
    }

    /// Foreground and background (client state indication: the server holds back unimportant
    /// traffic while in the background).
    public func setForeground(_ foreground: Bool) {
        sdk?.setForeground(foreground: foreground)
    }

    /// The platform's network monitor (NWPathMonitor): reconnects at once when the network returns.
    public func setNetworkMonitor(_ monitor: any NetworkMonitor) {
        sdk?.setNetworkMonitor(monitor: monitor)
    }

    /// Signs out: push off while still connected, then the account, its messages and password go.
    public func signOut() async {
        guard let sdk, case .main(let jid) = screen else { return }
        signOutError = nil
        calls?.close()
        calls = nil
        if let client = try? sdk.client(jid: jid) {
            // Best effort: offline, the server cannot be told; the app server then drops the
            // registration when its pushes bounce. Signing out must not be blocked by that.
            try? await client.push().logout()
        }
        do {
            try sdk.removeAccount(jid: jid)
        } catch {
            signOutError = "Signed out, but this device's data could not be fully removed. " + Texts.error(error)
        }
        screen = .signIn
    }

    // MARK: Models of the screens

    public func makeSignInModel() -> SignInModel? {
        guard let sdk else { return nil }
        return SignInModel(sdk: sdk) { [weak self] jid in self?.enterMain(jid: jid) }
    }

    public func makeChatListModel() -> ChatListModel? {
        client.map { ChatListModel(client: $0) }
    }

    public func makeConversationModel(peer: String) -> ConversationModel? {
        client.map { ConversationModel(client: $0, peer: peer) }
    }

    public func makeContactsModel() -> ContactsModel? {
        client.map { ContactsModel(client: $0) }
    }

    public func makeSettingsModel() -> SettingsModel? {
        client.map { SettingsModel(client: $0, ports: ports, appServer: appServer) }
    }

    public func makeDiagnosticsModel() -> DiagnosticsModel? {
        client.map { DiagnosticsModel(client: $0) }
    }

    private func enterMain(jid: String) {
        screen = .main(jid: jid)
        calls?.close()
        calls = client.map { CallModel(client: $0, ports: ports) }
    }
}
