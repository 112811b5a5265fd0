// The test harness: configuration from the environment, waiting with a deadline, and fakes of the
// platform ports (never of the SDK: every model here talks to the real SDK and a real Prosody).
import Foundation
import Linnet
import Observation

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw Failure(description: "missing environment variable \(name)")
    }
    return value
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw Failure(description: message()) }
}

/// Polls `condition` (on the main actor, where the models live) until it holds, for at most
/// 20 s. The models update from their own main-actor tasks between polls.
@MainActor
func eventually(_ what: String, timeout: TimeInterval = 20, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while try !condition() {
        if Date() > deadline { throw Failure(description: "timed out waiting for \(what)") }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}

struct TestServer {
    let host: String
    let port: String
    let caPem: String
    let domain: String
    let pushJid: String

    init() throws {
        host = try env("LINNET_BT_HOST")
        port = try env("LINNET_BT_PORT")
        caPem = try String(contentsOfFile: try env("LINNET_BT_CA_FILE"), encoding: .utf8)
        domain = try env("LINNET_BT_DOMAIN")
        pushJid = ProcessInfo.processInfo.environment["LINNET_PROSODY_PUSH_JID"] ?? "push.\(domain)"
    }
}

struct TestAccount {
    let jid: String
    let password: String
}

func freshDataDir(_ label: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("linnet-presentation-\(label)-\(UUID().uuidString)").path
}

// MARK: Fakes of the platform ports

/// The Keychain, in memory.
final class MemorySecrets: SecretStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    func get(account: String) throws -> String? { lock.withLock { map[account] } }
    func set(account: String, secret: String) throws { lock.withLock { map[account] = secret } }
    func delete(account: String) throws { _ = lock.withLock { map.removeValue(forKey: account) } }
}

/// An ordered record of what the fakes were asked, shared by the fakes of one device.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    func add(_ event: String) { lock.withLock { recorded.append(event) } }
    var events: [String] { lock.withLock { recorded } }
}

/// The notification prompt, answered `grants`; `beforeAnswer` runs while the prompt "shows".
final class FakePermission: NotificationPermission, @unchecked Sendable {
    private let lock = NSLock()
    private var answer: Bool
    private var granted = false
    let log: EventLog
    init(grants: Bool, log: EventLog) {
        answer = grants
        self.log = log
    }
    func willAnswer(_ grants: Bool) { lock.withLock { answer = grants } }
    func isGranted() async -> Bool { lock.withLock { granted } }
    func request() async -> Bool {
        log.add("permission.request")
        return lock.withLock {
            granted = answer
            return answer
        }
    }
}

final class FakeTokens: PushTokenSource, @unchecked Sendable {
    let platform = PushPlatform.apns(sandbox: true)
    let token = "apns-token-\(UUID().uuidString)"
    let log: EventLog
    init(log: EventLog) { self.log = log }
    func currentToken() async -> String? {
        log.add("token.current")
        return token
    }
}

final class RecordingAudioRoute: AudioRoute, @unchecked Sendable {
    let log: EventLog
    init(log: EventLog) { self.log = log }
    func setSpeaker(on: Bool) { log.add("speaker.\(on)") }
}

/// Microphone and speaker: the SDK's tone generator (a sine out, the peer's audio analysed).
final class ToneDevices: AudioDevices, @unchecked Sendable {
    private let lock = NSLock()
    private let freqHz: Float
    private var opened: [ToneAudioDevice] = []
    init(freqHz: Float) { self.freqHz = freqHz }
    func open() -> any AudioDevice {
        let device = ToneAudioDevice(freqHz: freqHz)
        lock.withLock { opened.append(device) }
        return device.asAudioDevice()
    }
    var last: ToneAudioDevice? { lock.withLock { opened.last } }
}

final class RecordingCallIntegration: CallIntegration, @unchecked Sendable {
    let log: EventLog
    init(log: EventLog) { self.log = log }
    func reportIncoming(callId: String, handle: String, displayName: String) { log.add("incoming \(callId) \(handle) \(displayName)") }
    func reportOutgoing(callId: String, handle: String) { log.add("outgoing \(callId) \(handle)") }
    func reportConnected(callId: String) { log.add("connected \(callId)") }
    func reportEnded(callId: String, reason: CallEndReason) { log.add("ended \(callId) \(reason)") }
}

/// One simulated phone: its app model, data directory and fakes.
@MainActor
final class Device {
    let log = EventLog()
    let permission: FakePermission
    let tokens: FakeTokens
    let audio: ToneDevices
    let ports: PlatformPorts
    let app: AppModel

    init(label: String, toneHz: Float, grantsNotifications: Bool, appServer: String) {
        permission = FakePermission(grants: grantsNotifications, log: log)
        tokens = FakeTokens(log: log)
        audio = ToneDevices(freqHz: toneHz)
        ports = PlatformPorts(
            notificationPermission: permission, pushTokens: tokens,
            audioRoute: RecordingAudioRoute(log: log), audioDevices: audio,
            callIntegration: RecordingCallIntegration(log: log))
        app = AppModel(dataDir: freshDataDir(label), secrets: MemorySecrets(), ports: ports, appServer: appServer, logFilter: "debug")
    }

    /// Fills the sign-in form as a user with the advanced fields would, and signs in.
    func signIn(_ account: TestAccount, server: TestServer, password: String? = nil, port: String? = nil,
                trustTestCa: Bool = true) async throws -> SignInModel {
        guard let form = app.makeSignInModel() else { throw Failure(description: "no sign-in model: \(app.screen)") }
        form.address = account.jid
        form.password = password ?? account.password
        form.serverHost = server.host
        form.serverPort = port ?? server.port
        form.extraCaPem = trustTestCa ? server.caPem : nil
        await form.signIn()
        try check(!form.busy, "still busy after signIn returned")
        return form
    }
}

/// Counts how often what `read` reads of a model changed (Observation), from now on.
@MainActor
final class ChangeCounter {
    private(set) var count = 0
    private let read: @MainActor () -> Void

    init(_ read: @escaping @MainActor () -> Void) {
        self.read = read
        arm()
    }

    private func arm() {
        withObservationTracking { read() } onChange: { [weak self] in
            // Called before the change lands; count it and observe again once it has.
            Task { @MainActor in
                self?.count += 1
                self?.arm()
            }
        }
    }
}
