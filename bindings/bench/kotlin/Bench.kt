// Benchmarks of the Kotlin bindings (bindings/bench/run.sh, `make bench-bindings`):
//  1. the cost of a plain FFI call (TaskHandle.isCancelled) beside a direct JNA call to libc's
//     getpid, the floor of any JNA-based binding, measured in the same process;
//  2. the time from bob's send to alice's ChatList listener firing in Kotlin (p50, p99), the
//     same path as linnet-bench's Rust `arrival` figure plus the view model and the FFI.
// Prints one line `RESULT {json}`.
import com.sun.jna.Library
import com.sun.jna.Native
import kotlinx.coroutines.runBlocking
import org.linnet.sdk.*
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

interface LibC : Library {
    fun getpid(): Int
}

class BenchSecrets : SecretStorage {
    private val map = ConcurrentHashMap<String, String>()
    override fun get(account: String): String? = map[account]
    override fun set(account: String, secret: String) { map[account] = secret }
    override fun delete(account: String) { map.remove(account) }
}

fun env(name: String): String = System.getenv(name) ?: error("missing environment variable $name")

fun percentile(sorted: List<Double>, p: Double): Double {
    val rank = Math.ceil(p / 100.0 * sorted.size).toInt().coerceIn(1, sorted.size)
    return sorted[rank - 1]
}

/** ns per call of `f`, the best of `rounds` rounds of `n` calls (after one warm-up round). */
inline fun nsPerCall(n: Int, rounds: Int, f: () -> Unit): Double {
    var best = Double.MAX_VALUE
    repeat(rounds + 1) { round ->
        val t0 = System.nanoTime()
        repeat(n) { f() }
        val ns = (System.nanoTime() - t0).toDouble() / n
        if (round > 0 && ns < best) best = ns
    }
    return best
}

fun main() {
    initPlatform(PlatformConfig(logFilter = "warn"))
    val calls = (System.getenv("BENCH_FFI_CALLS") ?: "1000000").toInt()
    val runs = (System.getenv("BENCH_RUNS") ?: "300").toInt()
    val warmup = (System.getenv("BENCH_WARMUP") ?: "20").toInt()

    // 1. Plain call cost.
    val libc = Native.load("c", LibC::class.java)
    val dir = Files.createTempDirectory("linnet-bench").toString()
    val options = AccountOptions(
        serverHost = env("LINNET_BT_HOST"),
        serverPort = env("LINNET_BT_PORT").toUShort(),
        extraCaPem = File(env("LINNET_BT_CA_FILE")).readText(),
    )
    val sdkA = LinnetSdk(dir + "/a", BenchSecrets())
    sdkA.addAccount(env("LINNET_BT_A_JID"), env("LINNET_BT_A_PASSWORD"), options)
    val a = sdkA.client(env("LINNET_BT_A_JID"))
    val handle = a.chatList().subscribe(object : ChatListListener {
        override fun onUpdate(diffs: List<ChatListDiff>) {}
    })
    var sink = 0
    val ffiNs = nsPerCall(calls, 5) { if (handle.isCancelled()) sink++ }
    val jnaNs = nsPerCall(calls, 5) { sink += libc.getpid() and 1 }
    handle.cancel()

    // 2. Arrival to the ChatList listener.
    val sdkB = LinnetSdk(dir + "/b", BenchSecrets())
    sdkB.addAccount(env("LINNET_BT_B_JID"), env("LINNET_BT_B_PASSWORD"), options)
    val b = sdkB.client(env("LINNET_BT_B_JID"))
    val arrivals = LinkedBlockingQueue<Pair<String, Long>>()
    val samples = ArrayList<Double>()
    runBlocking {
        a.connection().start()
        b.connection().start()
        val listening = a.chatList().subscribe(object : ChatListListener {
            override fun onUpdate(diffs: List<ChatListDiff>) {
                val now = System.nanoTime()
                for (d in diffs) {
                    val body = when (d) {
                        is ChatListDiff.Insert -> d.value.preview?.body
                        is ChatListDiff.Set -> d.value.preview?.body
                        else -> null
                    }
                    if (body != null) arrivals.add(body to now)
                }
            }
        })
        val timeline = b.timeline(env("LINNET_BT_A_JID"))
        for (i in 0 until warmup + runs) {
            val body = "arrival $i"
            val t0 = System.nanoTime()
            timeline.send(body)
            while (true) {
                val (got, at) = arrivals.poll(20, TimeUnit.SECONDS) ?: error("no arrival for '$body'")
                if (got == body) {
                    if (i >= warmup) samples.add((at - t0) / 1e6)
                    break
                }
            }
        }
        listening.cancel()
        a.connection().stop()
        b.connection().stop()
    }
    val sorted = samples.sorted()
    val p50 = percentile(sorted, 50.0)
    val p99 = percentile(sorted, 99.0)
    System.err.println("kotlin: ffi call %.1f ns, jna getpid %.1f ns; arrival p50 %.3f ms p99 %.3f ms (n=%d)".format(ffiNs, jnaNs, p50, p99, samples.size))
    println("RESULT {\"ffi_call_ns\": %.1f, \"jna_getpid_ns\": %.1f, \"arrival_p50_ms\": %.3f, \"arrival_p99_ms\": %.3f, \"arrival_n\": %d, \"sink\": %d}".format(ffiNs, jnaNs, p50, p99, samples.size, sink and 1))
}
