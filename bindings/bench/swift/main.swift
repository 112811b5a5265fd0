// The cost of a plain FFI call from Swift (TaskHandle.isCancelled) beside a direct call to
// libc's getpid, measured in the same process (bindings/bench/run.sh). Prints `RESULT {json}`.
import Foundation
import Linnet
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

final class BenchSecrets: SecretStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var map: [String: String] = [:]
    func get(account: String) throws -> String? { lock.withLock { map[account] } }
    func set(account: String, secret: String) throws { lock.withLock { map[account] = secret } }
    func delete(account: String) throws { _ = lock.withLock { map.removeValue(forKey: account) } }
}

final class NoopListener: ChatListListener {
    func onUpdate(diffs: [ChatListDiff]) {}
}

/// ns per call of `f`, the best of `rounds` rounds of `n` calls (after one warm-up round).
func nsPerCall(_ n: Int, rounds: Int, _ f: () -> Int32) -> (Double, Int32) {
    var best = Double.greatestFiniteMagnitude
    var sink: Int32 = 0
    for round in 0...rounds {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { sink &+= f() }
        let ns = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(n)
        if round > 0 && ns < best { best = ns }
    }
    return (best, sink)
}

let calls = Int(ProcessInfo.processInfo.environment["BENCH_FFI_CALLS"] ?? "") ?? 1_000_000
_ = try initPlatform(config: PlatformConfig(logFilter: "warn"))
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("linnet-bench-\(UUID().uuidString)").path
let sdk = try LinnetSdk(dataDir: dir, secrets: BenchSecrets())
let jid = ProcessInfo.processInfo.environment["LINNET_BT_A_JID"] ?? "bench@prosody.test"
_ = try sdk.addAccount(jid: jid, password: "unused", options: AccountOptions())
let handle = try sdk.client(jid: jid).chatList().subscribe(listener: NoopListener())
let (ffi, s1) = nsPerCall(calls, rounds: 5) { handle.isCancelled() ? 1 : 0 }
let (libc, s2) = nsPerCall(calls, rounds: 5) { getpid() & 1 }
handle.cancel()
FileHandle.standardError.write(String(format: "swift: ffi call %.1f ns, libc getpid %.1f ns\n", ffi, libc).data(using: .utf8)!)
print(String(format: "RESULT {\"ffi_call_ns\": %.1f, \"libc_getpid_ns\": %.1f, \"sink\": %d}", ffi, libc, (s1 &+ s2) & 1))
