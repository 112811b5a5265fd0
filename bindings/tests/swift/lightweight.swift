// The lightweight runtime (one worker thread, small stacks) that a Notification Service
// Extension uses: it signs in, observes, sends and signs out like the full one. Own process,
// since `initPlatform` takes effect once per process.
import Foundation
import Linnet

final class Secrets: SecretStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    func get(account: String) throws -> String? { lock.withLock { map[account] } }
    func set(account: String, secret: String) throws { lock.withLock { map[account] = secret } }
    func delete(account: String) throws { _ = lock.withLock { map.removeValue(forKey: account) } }
}

func variable(_ name: String) -> String {
    guard let value = ProcessInfo.processInfo.environment[name] else {
        print("FAIL  missing environment variable \(name)")
        exit(1)
    }
    return value
}

func run() async throws {
    guard try initPlatform(config: PlatformConfig(logFilter: "info", logToStderr: false, lightweight: true)) else {
        throw NSError(domain: "lightweight", code: 1, userInfo: [NSLocalizedDescriptionKey: "initPlatform did not take effect"])
    }
    let options = AccountOptions(
        serverHost: variable("LINNET_BT_HOST"), serverPort: UInt16(variable("LINNET_BT_PORT")),
        directTls: false, extraCaPem: try String(contentsOfFile: variable("LINNET_BT_CA_FILE"), encoding: .utf8))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linnet-nse-\(UUID().uuidString)").path
    let sdk = try LinnetSdk(dataDir: dir, secrets: Secrets())
    let jid = variable("LINNET_BT_A_JID")
    _ = try sdk.addAccount(jid: jid, password: variable("LINNET_BT_A_PASSWORD"), options: options)
    let client = try sdk.client(jid: jid)
    try await client.connection().start()
    let timeline = try client.timeline(peer: variable("LINNET_BT_B_JID"))
    let id = try timeline.send(body: "from the lightweight runtime")
    var acknowledged = false
    for await items in try timeline.snapshots() {
        let states = items.compactMap { item -> DeliveryState? in
            if case .message(let m) = item, m.id == id { return m.state } else { return nil }
        }
        if let state = states.first, [.acknowledged, .delivered, .displayed].contains(state) {
            acknowledged = true
            break
        }
    }
    guard acknowledged else {
        throw NSError(domain: "lightweight", code: 2, userInfo: [NSLocalizedDescriptionKey: "the message was never acknowledged"])
    }
    await client.connection().stop()
}

// A watchdog: the stream above waits for as long as it takes.
Task {
    try await Task.sleep(nanoseconds: 30_000_000_000)
    print("FAIL  lightweight runtime: timed out after 30 s")
    exit(1)
}

do {
    try await run()
    print("PASS  the lightweight runtime signs in, sends (acknowledged by the server) and signs out")
} catch {
    print("FAIL  lightweight runtime: \(error)")
    exit(1)
}
