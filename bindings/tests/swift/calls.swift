// Voice calls through the Swift bindings against a real local Prosody (issue 7), through the
// AsyncStream adapter of apple/Sources/Linnet: Alice calls Bob, Bob's stream sees the call ring,
// Bob answers with an AudioDevice written in Swift (called every 20 ms from the media task),
// tones both ways, DTMF, hang-up with its reasons, the call log, typed errors. Its own program
// (fresh accounts), compiled in Swift 6 language mode. Exits non-zero on failure.
import Foundation
import Linnet

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func env(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name] else {
        throw Failure(description: "missing environment variable \(name)")
    }
    return value
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw Failure(description: message()) }
}

final class MemorySecrets: SecretStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    func get(account: String) throws -> String? { lock.withLock { map[account] } }
    func set(account: String, secret: String) throws { lock.withLock { map[account] = secret } }
    func delete(account: String) throws { _ = lock.withLock { map.removeValue(forKey: account) } }
}

/// A microphone and speaker written in Swift: a sine tone out, the last half second heard kept.
final class SwiftToneDevice: AudioDevice, @unchecked Sendable {
    private let lock = NSLock()
    private let step: Double
    private var phase = 0.0
    private var heard: [Int16] = []
    private var calls = (captures: 0, plays: 0)

    init(freqHz: Double) { step = 2 * Double.pi * freqHz / 48_000 }

    func capture() throws -> [Int16] {
        lock.withLock {
            calls.captures += 1
            var frame = [Int16](repeating: 0, count: 960)
            for i in 0..<960 {
                frame[i] = Int16(sin(phase) * 8000)
                phase = (phase + step).truncatingRemainder(dividingBy: 2 * Double.pi)
            }
            return frame
        }
    }

    func play(frame: [Int16]) throws {
        lock.withLock {
            calls.plays += 1
            heard.append(contentsOf: frame)
            if heard.count > 24_000 { heard.removeFirst(heard.count - 24_000) }
        }
    }

    var counts: (captures: Int, plays: Int) { lock.withLock { calls } }

    /// The dominant frequency of the last half second played, nil for silence.
    func heardFrequency() -> Float? { dominantFrequency(samples: lock.withLock { heard }, sampleRate: 48_000) }
}

/// Every state a call screen stream yielded, collected by a task from subscription on.
final class ScreenWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [CallScreenState?] = []
    private var task: Task<Void, Never>?

    init(_ service: CallService) throws {
        let stream = try service.states()
        task = Task { [weak self] in
            for await state in stream { self?.lock.withLock { self?.seen.append(state) } }
        }
    }

    var subscribed: Bool { lock.withLock { !seen.isEmpty } }

    func waitFor(_ what: String, _ predicate: @escaping (CallScreenState) -> Bool) async throws -> CallScreenState {
        var found: CallScreenState?
        try await eventually(what) {
            found = self.lock.withLock { self.seen.compactMap { $0 }.first(where: predicate) }
            return found != nil
        }
        return found!
    }

    func stop() { task?.cancel() }
}

func eventually(_ what: String, _ condition: () throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(20)
    while try !condition() {
        if Date() > deadline { throw Failure(description: "timed out waiting for \(what)") }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// The first element of `stream` that satisfies `predicate`, within 20 s.
func first<T: Sendable>(
    _ what: String, in stream: AsyncStream<T>, where predicate: @escaping @Sendable (T) -> Bool
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            for await value in stream where predicate(value) { return value }
            return nil
        }
        group.addTask {
            try await Task.sleep(nanoseconds: 20_000_000_000)
            return nil
        }
        let found = try await group.next() ?? nil
        group.cancelAll()
        guard let found else { throw Failure(description: "timed out waiting for \(what)") }
        return found
    }
}

func near(_ found: Float?, _ expected: Float) -> Bool {
    guard let found else { return false }
    return abs(found - expected) <= 10
}

func device(jid: String, password: String, options: AccountOptions) throws -> LinnetClient {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("linnet-swift-calls-\(UUID().uuidString)").path
    let sdk = try LinnetSdk(dataDir: dir, secrets: MemorySecrets())
    _ = try sdk.addAccount(jid: jid, password: password, options: options)
    return try sdk.client(jid: jid)
}

func run() async -> Int32 {
    _ = try? initPlatform(config: PlatformConfig(logFilter: "info", logToStderr: false, lightweight: false))
    var failed = 0
    var count = 0

    func test(_ name: String, _ body: () async throws -> Void) async {
        count += 1
        let started = Date()
        do {
            try await body()
            print("PASS  \(name) (\(Int(Date().timeIntervalSince(started) * 1000)) ms)")
        } catch {
            failed += 1
            print("FAIL  \(name): \(error)")
        }
    }

    var clients: (LinnetClient, LinnetClient, String, String)?
    await test("log in and become contacts") {
        let options = AccountOptions(
            serverHost: try env("LINNET_BT_HOST"),
            serverPort: UInt16(try env("LINNET_BT_PORT")),
            directTls: false,
            extraCaPem: try String(contentsOfFile: try env("LINNET_BT_CA_FILE"), encoding: .utf8))
        let aliceJid = try env("LINNET_BT_A_JID"), bobJid = try env("LINNET_BT_B_JID")
        let a = try device(jid: aliceJid, password: try env("LINNET_BT_A_PASSWORD"), options: options)
        let b = try device(jid: bobJid, password: try env("LINNET_BT_B_PASSWORD"), options: options)
        try await a.connection().start()
        try await b.connection().start()
        try await a.contacts().add(jid: bobJid, name: "Bob")
        _ = try await first("alice's request at bob", in: try b.contacts().snapshots()) { list in
            list.contains { $0.jid == aliceJid && $0.pendingRequest }
        }
        try b.contacts().approve(jid: aliceJid)
        try await b.contacts().add(jid: aliceJid, name: "Alice")
        _ = try await first("bob's request at alice", in: try a.contacts().snapshots()) { list in
            list.contains { $0.jid == bobJid && $0.pendingRequest }
        }
        try a.contacts().approve(jid: bobJid)
        _ = try await first("both ways at alice", in: try a.contacts().snapshots()) { list in
            list.contains { $0.jid == bobJid && $0.subscription == .both && !$0.pendingRequest }
        }
        _ = try await first("both ways at bob", in: try b.contacts().snapshots()) { list in
            list.contains { $0.jid == aliceJid && $0.subscription == .both }
        }
        clients = (a, b, aliceJid, bobJid)
    }
    guard let clients else {
        print("swift calls: cannot go on without two connected contacts")
        return 1
    }
    let (a, b, aliceJid, bobJid) = clients

    await test("unknown calls are typed errors") {
        do {
            try b.calls().answer(id: "no-such-call", audio: ToneAudioDevice(freqHz: 440).asAudioDevice())
            throw Failure(description: "answering an unknown call succeeded")
        } catch CallError.NoSuchCall(let id) {
            try check(id == "no-such-call", "id: \(id)")
        }
    }

    await test("alice calls bob: ringing, answer, tones both ways, DTMF, hang-up, call log") {
        let aScreen = try ScreenWatch(a.calls())
        let bScreen = try ScreenWatch(b.calls())
        defer { aScreen.stop(); bScreen.stop() }
        try await eventually("both call screens subscribed") { aScreen.subscribed && bScreen.subscribed }
        let aliceTone = ToneAudioDevice(freqHz: 440)
        let bobDevice = SwiftToneDevice(freqHz: 660)
        let id = try await a.calls().call(to: bobJid, audio: aliceTone.asAudioDevice())

        let incoming = try await first("bob's phone rings", in: try b.calls().states()) { $0?.phase == .incoming }
        try check(incoming?.id == id && incoming?.peer == aliceJid && incoming?.incoming == true, "incoming: \(String(describing: incoming))")
        try check(incoming?.displayName == "Alice", "display name: \(String(describing: incoming?.displayName))")

        try b.calls().answer(id: id, audio: bobDevice)
        _ = try await aScreen.waitFor("alice connected") { $0.id == id && $0.phase == .connected }
        _ = try await bScreen.waitFor("bob connected") { $0.id == id && $0.phase == .connected }

        try a.calls().sendDtmf(id: id, digits: "123#")
        _ = try await bScreen.waitFor("the digits at bob") { $0.id == id && $0.digitsReceived == "123#" }

        try await eventually("alice hearing bob's 660 Hz") { near(aliceTone.dominantFrequency(lastMs: 500), 660) }
        try await eventually("bob hearing alice's 440 Hz") { near(bobDevice.heardFrequency(), 440) }
        let counts = bobDevice.counts
        // The tone check above is the proof; this says the foreign trait was the path.
        try check(counts.captures > 0 && counts.plays > 0, "the Swift device was called \(counts)")

        try a.calls().hangUp(id: id)
        let aliceEnd = try await aScreen.waitFor("the end at alice") { $0.id == id && $0.phase == .ended }
        let bobEnd = try await bScreen.waitFor("the end at bob") { $0.id == id && $0.phase == .ended }
        try check(aliceEnd.endReason == .hungUp, "alice's end: \(aliceEnd)")
        try check(bobEnd.endReason == .remoteHungUp, "bob's end: \(bobEnd)")

        let entry = try b.calls().callLog(limit: 10).first { $0.callId == id }
        try check(entry?.incoming == true && entry?.answeredAt != nil && entry?.endReason == .remoteHungUp,
                  "bob's log entry: \(String(describing: entry))")
    }

    await a.connection().stop()
    await b.connection().stop()
    print(failed == 0 ? "swift calls: all \(count) cases passed" : "swift calls: \(failed) of \(count) cases failed")
    return failed == 0 ? 0 : 1
}

exit(await run())
