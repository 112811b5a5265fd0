// The Swift bindings against a real local Prosody: run by bindings/scripts/test-bindings.sh
// (make test, make test-bindings), compiled in Swift 6 language mode. Exits non-zero on failure.
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

/// Secrets in memory: what a Keychain-backed implementation does, minus the Keychain.
final class MemorySecrets: SecretStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    func get(account: String) throws -> String? { lock.withLock { map[account] } }
    func set(account: String, secret: String) throws { lock.withLock { map[account] = secret } }
    func delete(account: String) throws { _ = lock.withLock { map.removeValue(forKey: account) } }
}

/// Records every batch a chat list listener receives.
final class RecordingChatListListener: ChatListListener, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [[ChatListDiff]] = []
    var batches: [[ChatListDiff]] { lock.withLock { recorded } }
    func onUpdate(diffs: [ChatListDiff]) { lock.withLock { recorded.append(diffs) } }
}

final class RecordingSyncListener: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [SyncStatus] = []
    var statuses: [SyncStatus] { lock.withLock { recorded } }
    func onSync(status: SyncStatus) { lock.withLock { recorded.append(status) } }
}

/// A platform network monitor that only remembers the observer Linnet gave it.
final class RecordingMonitor: NetworkMonitor, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: NetworkObserver?
    var observer: NetworkObserver? { lock.withLock { recorded } }
    func start(observer: NetworkObserver) { lock.withLock { recorded = observer } }
    func stop() {}
}

struct TestAccount: Sendable {
    let jid: String
    let password: String
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

func message(_ item: TimelineItem) -> TimelineMessage? {
    if case .message(let m) = item { return m }
    return nil
}

struct Suite {
    let server: AccountOptions
    let alice: TestAccount
    let bob: TestAccount

    init() throws {
        server = AccountOptions(
            serverHost: try env("LINNET_BT_HOST"),
            serverPort: UInt16(try env("LINNET_BT_PORT")),
            directTls: false,
            extraCaPem: try String(contentsOfFile: try env("LINNET_BT_CA_FILE"), encoding: .utf8))
        alice = TestAccount(jid: try env("LINNET_BT_A_JID"), password: try env("LINNET_BT_A_PASSWORD"))
        bob = TestAccount(jid: try env("LINNET_BT_B_JID"), password: try env("LINNET_BT_B_PASSWORD"))
    }

    /// A device: its own data directory and secret storage, signed in to one account.
    func device(_ account: TestAccount, password: String? = nil) throws -> LinnetClient {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("linnet-swift-\(UUID().uuidString)").path
        let sdk = try LinnetSdk(dataDir: dir, secrets: MemorySecrets())
        _ = try sdk.addAccount(jid: account.jid, password: password ?? account.password, options: server)
        return try sdk.client(jid: account.jid)
    }
}

func run() async -> Int32 {
    _ = try? initPlatform(config: PlatformConfig(logFilter: "trace", logToStderr: false, lightweight: false))
    let suite: Suite
    do { suite = try Suite() } catch {
        print("FAIL  setup: \(error)")
        return 1
    }
    let alice = suite.alice, bob = suite.bob
    var a: LinnetClient? = nil
    var b: LinnetClient? = nil
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

    await test("a wrong password arrives as a typed error") {
        let wrong = try suite.device(alice, password: "not-" + alice.password)
        do {
            try await wrong.connection().start()
            throw Failure(description: "start succeeded with a wrong password")
        } catch ConnectError.WrongCredentials {
        }
        let state = try await first("disconnected", in: try wrong.connection().states()) {
            if case .disconnected = $0 { return true } else { return false }
        }
        guard case .disconnected(_, let failure) = state, failure == .auth else {
            throw Failure(description: "state: \(state)")
        }
        await wrong.connection().stop()
    }

    await test("log in: both accounts go online") {
        a = try suite.device(alice)
        b = try suite.device(bob)
        try await a!.connection().start()
        try await b!.connection().start()
        try check(a!.connection().state() == .online, "a is \(a!.connection().state())")
    }
    guard let a, let b else {
        print("swift: cannot go on without a connection")
        return 1
    }

    await test("contacts: request, approve, both subscribed") {
        try await a.contacts().add(jid: bob.jid, name: "Bob")
        _ = try await first("alice's request at bob", in: try b.contacts().snapshots()) { list in
            list.contains { $0.jid == alice.jid && $0.pendingRequest }
        }
        try b.contacts().approve(jid: alice.jid)
        try await b.contacts().add(jid: alice.jid, name: "Alice")
        _ = try await first("bob's request at alice", in: try a.contacts().snapshots()) { list in
            list.contains { $0.jid == bob.jid && $0.pendingRequest }
        }
        try a.contacts().approve(jid: bob.jid)
        _ = try await first("both ways at alice", in: try a.contacts().snapshots()) { list in
            list.contains { $0.jid == bob.jid && $0.subscription == .both && !$0.pendingRequest }
        }
        _ = try await first("both ways at bob", in: try b.contacts().snapshots()) { list in
            list.contains { $0.jid == alice.jid && $0.subscription == .both }
        }
    }

    await test("chat list: initial state, then an update when a message arrives") {
        let listener = RecordingChatListListener()
        let handle = try a.chatList().subscribe(listener: listener)
        try await eventually("the initial reset") { !listener.batches.isEmpty }
        let firstBatch = listener.batches[0]
        guard firstBatch.count == 1, case .reset = firstBatch[0] else {
            throw Failure(description: "first batch: \(firstBatch)")
        }
        _ = try b.timeline(peer: alice.jid).send(body: "hello from swift bob")
        try await eventually("bob's message in the chat list") {
            let list = listener.batches.reduce([ChatListItem]()) { $0.applying($1.map(\.change)) }
            return list.contains { $0.peer == bob.jid && $0.preview?.body == "hello from swift bob" && $0.unread >= 1 }
        }
        handle.cancel()
    }

    await test("send: the timeline shows the message advancing to delivered") {
        let timeline = try a.timeline(peer: bob.jid)
        let id = try timeline.send(body: "hi bob, from swift")
        let items = try await first("delivered", in: try timeline.snapshots()) { items in
            items.compactMap(message).contains { $0.id == id && ($0.state == .delivered || $0.state == .displayed) }
        }
        try check(items.contains { if case .dateSeparator = $0 { return true } else { return false } }, "no date separator")
    }

    await test("files: alice sends a file, bob's timeline shows it downloaded with the same bytes") {
        let name = "linnet-swift-\(UUID().uuidString).txt"
        let source = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        let bytes = Data((0..<50_000).map { UInt8(($0 * 31) % 251) })
        try bytes.write(to: source)
        let id = try a.timeline(peer: bob.jid).sendFile(path: source.path)
        _ = try await first("the upload done and acknowledged", in: try a.timeline(peer: bob.jid).snapshots()) { items in
            items.compactMap(message).contains {
                $0.id == id && $0.attachment?.direction == .upload && $0.attachment?.state == .done
                    && $0.state != .queued
            }
        }
        let items = try await first("the file downloaded at bob", in: try b.timeline(peer: alice.jid).snapshots()) { items in
            items.compactMap(message).contains { $0.attachment?.fileName == name && $0.attachment?.state == .done }
        }
        guard let file = items.compactMap(message).compactMap(\.attachment).first(where: { $0.fileName == name }) else {
            throw Failure(description: "no file in \(items)")
        }
        try check(file.direction == .download, "direction: \(file)")
        try check(file.transferred == UInt64(bytes.count) && file.size == UInt64(bytes.count), "sizes: \(file)")
        guard let local = file.localPath else { throw Failure(description: "no local path: \(file)") }
        try check(FileManager.default.contents(atPath: local) == bytes, "the downloaded bytes differ")
    }

    await test("files: a missing file and unknown messages are typed errors") {
        let timeline = try a.timeline(peer: bob.jid)
        do {
            _ = try timeline.sendFile(path: "/nonexistent/linnet/missing.txt")
            throw Failure(description: "sendFile of a missing file succeeded")
        } catch ChatError.FileUnreadable(let path, _) {
            try check(path.hasSuffix("missing.txt"), "path: \(path)")
        }
        do {
            try timeline.download(messageId: 987_654_321)
            throw Failure(description: "download of an unknown message succeeded")
        } catch ChatError.NoSuchMessage(let messageId) {
            try check(messageId == 987_654_321, "id: \(messageId)")
        }
        let text = try timeline.send(body: "no file here")
        do {
            try timeline.cancelTransfer(messageId: text)
            throw Failure(description: "cancelTransfer of a text message succeeded")
        } catch ChatError.NoAttachment {
        }
    }

    await test("a cancelled subscription gets no more callbacks") {
        let cancelled = RecordingChatListListener()
        let live = RecordingChatListListener()
        let h1 = try a.chatList().subscribe(listener: cancelled)
        let h2 = try a.chatList().subscribe(listener: live)
        try await eventually("both initial states") { !cancelled.batches.isEmpty && !live.batches.isEmpty }
        h1.cancel()
        try check(h1.isCancelled(), "handle not cancelled")
        let before = cancelled.batches.count
        for i in 1...3 { _ = try b.timeline(peer: alice.jid).send(body: "swift after cancel \(i)") }
        try await eventually("the live subscription sees the messages") {
            let list = live.batches.reduce([ChatListItem]()) { $0.applying($1.map(\.change)) }
            return list.contains { $0.preview?.body == "swift after cancel 3" }
        }
        try check(cancelled.batches.count == before, "cancelled listener got \(cancelled.batches.count - before) more batches")
        h2.cancel()
    }

    await test("archive: a new device of alice syncs the history, shows progress, and pages to the start") {
        let fresh = try suite.device(alice)
        let listener = RecordingSyncListener()
        let handle = try fresh.chatList().subscribeSync(listener: listener)
        try await fresh.connection().start()
        try await eventually("a sync that fetched messages, then idle") {
            listener.statuses.contains { $0.syncing && $0.fetched > 0 } && listener.statuses.last?.syncing == false
        }
        let timeline = try fresh.timeline(peer: bob.jid)
        var reached = false
        for _ in 1...10 where !reached { reached = try await timeline.loadOlder(count: 50) }
        try check(reached, "the start of the conversation was not reached")
        let bodies = try timeline.items().compactMap(message).map(\.body)
        try check(bodies.contains("hello from swift bob") && bodies.contains("hi bob, from swift"), "history on the new device: \(bodies)")
        try check(bodies.count == Set(bodies).count, "duplicates: \(bodies)")
        handle.cancel()
        await fresh.connection().stop()
    }

    await test("many concurrent async calls") {
        let diagnostics = a.diagnostics()
        let reports = try await withThrowingTaskGroup(of: DoctorReport.self) { group in
            for _ in 1...40 { group.addTask { try await diagnostics.doctor() } }
            var all: [DoctorReport] = []
            for try await r in group { all.append(r) }
            return all
        }
        try check(reports.count == 40 && reports.allSatisfy { $0.boundJid.hasPrefix(alice.jid + "/") }, "bad reports")
    }

    await test("diagnostics: the exported log is redacted") {
        let logs = a.diagnostics().exportLogs()
        try check(logs.contains("<message"), "the trace-level wire log is not in the export")
        try check(!logs.contains(alice.password) && !logs.contains(bob.password), "a password is in the log")
        try check(!logs.contains("hello from swift bob"), "a message body is in the log")
    }

    await test("the README example runs") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linnet-readme-\(UUID().uuidString)").path
        try await readmeExample(dataDir: dir, jid: alice.jid, password: alice.password, secrets: MemorySecrets(), options: suite.server)
    }

    await test("network monitor: started with an observer; a stopped client stays stopped") {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linnet-net-\(UUID().uuidString)").path
        let sdk = try LinnetSdk(dataDir: dir, secrets: MemorySecrets())
        _ = try sdk.addAccount(jid: alice.jid, password: alice.password, options: suite.server)
        let c = try sdk.client(jid: alice.jid)
        let monitor = RecordingMonitor()
        sdk.setNetworkMonitor(monitor: monitor)
        guard let observer = monitor.observer else { throw Failure(description: "the monitor was not started") }
        try await c.connection().start()
        try check(c.connection().state() == .online, "not online")
        await c.connection().stop()
        observer.networkChanged(available: true)
        try await Task.sleep(nanoseconds: 1_500_000_000)
        try check(c.connection().state() == .offline, "a stopped client came back: \(c.connection().state())")
    }

    await a.connection().stop()
    await b.connection().stop()
    print(failed == 0 ? "swift: all \(count) cases passed" : "swift: \(failed) of \(count) cases failed")
    return failed == 0 ? 0 : 1
}

exit(await run())
