// The Kotlin bindings against a real local Prosody: run by bindings/scripts/test-bindings.sh
// (make test, make test-bindings). Exits non-zero when any case fails.
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.linnet.sdk.*
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.system.exitProcess

fun env(name: String): String = System.getenv(name) ?: error("missing environment variable $name")

/** Secrets in memory: what a Keystore-backed implementation does, minus the Keystore. */
class MemorySecrets : SecretStorage {
    private val map = ConcurrentHashMap<String, String>()
    override fun get(account: String): String? = map[account]
    override fun set(account: String, secret: String) { map[account] = secret }
    override fun delete(account: String) { map.remove(account) }
}

class TestAccount(val jid: String, val password: String)

val server = AccountOptions(
    serverHost = env("LINNET_BT_HOST"),
    serverPort = env("LINNET_BT_PORT").toUShort(),
    directTls = false,
    extraCaPem = File(env("LINNET_BT_CA_FILE")).readText(),
)
val alice = TestAccount(env("LINNET_BT_A_JID"), env("LINNET_BT_A_PASSWORD"))
val bob = TestAccount(env("LINNET_BT_B_JID"), env("LINNET_BT_B_PASSWORD"))

/** A device: its own data directory and secret storage, signed in to one account. */
fun device(account: TestAccount, password: String = account.password): LinnetClient {
    val dir = Files.createTempDirectory("linnet-kt").toString()
    val sdk = LinnetSdk(dir, MemorySecrets())
    sdk.addAccount(account.jid, password, server)
    return sdk.client(account.jid)
}

suspend fun <T> Flow<T>.within(what: String, predicate: (T) -> Boolean): T =
    try {
        withTimeout(20_000) { first(predicate) }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        error("timed out waiting for $what")
    }

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

/** Records every batch a chat list listener receives. */
class RecordingChatListListener : ChatListListener {
    val batches = CopyOnWriteArrayList<List<ChatListDiff>>()
    override fun onUpdate(diffs: List<ChatListDiff>) { batches.add(diffs) }
}

/** Waits until `listener` has had no batch for 500 ms (at most 10 s). */
suspend fun quiet(listener: RecordingChatListListener) {
    var seen = -1
    withTimeout(10_000) {
        while (listener.batches.size != seen) { seen = listener.batches.size; delay(500) }
    }
}

suspend fun eventually(what: String, condition: () -> Boolean) {
    withTimeout(20_000) {
        while (!condition()) delay(20)
    }.also { check(condition()) { what } }
}

lateinit var a: LinnetClient
lateinit var b: LinnetClient

val cases: List<Pair<String, suspend () -> Unit>> = listOf(
    "a wrong password arrives as a typed exception" to {
        val wrong = device(alice, password = "not-" + alice.password)
        val thrown = try {
            wrong.connection().start(); null
        } catch (e: ConnectException) { e }
        check(thrown is ConnectException.WrongCredentials) { "expected WrongCredentials, got $thrown" }
        val state = wrong.connection().states().within("a disconnected state") { it is ConnectionState.Disconnected }
        check((state as ConnectionState.Disconnected).failure == FailureKind.AUTH) { "failure kind: $state" }
        wrong.connection().stop()
    },
    "log in: both accounts go online" to {
        a = device(alice)
        b = device(bob)
        a.connection().start()
        b.connection().start()
        check(a.connection().state() == ConnectionState.Online) { "a is ${a.connection().state()}" }
        check(a.connection().historyGapSince() == null) { "a gap on a first connection" }
        b.connection().states().within("bob online") { it == ConnectionState.Online }
    },
    "contacts: request, approve, both subscribed" to {
        a.contacts().add(bob.jid, "Bob")
        b.contacts().observe().within("alice's request at bob") { list -> list.any { it.jid == alice.jid && it.pendingRequest } }
        b.contacts().approve(alice.jid)
        b.contacts().add(alice.jid, "Alice")
        a.contacts().observe().within("bob's request at alice") { list -> list.any { it.jid == bob.jid && it.pendingRequest } }
        a.contacts().approve(bob.jid)
        a.contacts().observe().within("bob subscribed both ways") { list ->
            list.any { it.jid == bob.jid && it.subscription == SubscriptionState.BOTH && !it.pendingRequest }
        }
        b.contacts().observe().within("alice subscribed both ways") { list ->
            list.any { it.jid == alice.jid && it.subscription == SubscriptionState.BOTH }
        }
    },
    "chat list: initial state, then an update when a message arrives" to {
        val listener = RecordingChatListListener()
        val handle = a.chatList().subscribe(listener)
        eventually("the initial Reset") { listener.batches.isNotEmpty() }
        val first = listener.batches[0]
        check(first.size == 1 && first[0] is ChatListDiff.Reset) { "first batch: $first" }
        b.timeline(alice.jid).send("hello from bob")
        eventually("an update with bob's message") {
            listener.batches.drop(1).flatten().any { d ->
                (d is ChatListDiff.Insert && d.value.peer == bob.jid && d.value.preview?.body == "hello from bob") ||
                    (d is ChatListDiff.Set && d.value.peer == bob.jid && d.value.preview?.body == "hello from bob")
            }
        }
        var list = emptyList<ChatListItem>()
        for (batch in listener.batches) list = list.applying(batch.map { it.toChange() })
        val row = list.first { it.peer == bob.jid }
        check(row.unread >= 1u && row.displayName == "Bob") { "row: $row" }
        handle.cancel()
    },
    "send: the timeline shows the message advancing to delivered, then displayed" to {
        val timeline = a.timeline(bob.jid)
        val seen = CopyOnWriteArrayList<DeliveryState>()
        val id = timeline.send("hi bob, from kotlin")
        val delivered = timeline.observe().within("delivered") { items ->
            val m = items.filterIsInstance<TimelineItem.Message>().map { it.message }.firstOrNull { it.id == id }
            if (m != null && seen.lastOrNull() != m.state) seen.add(m.state)
            m != null && (m.state == DeliveryState.DELIVERED || m.state == DeliveryState.DISPLAYED)
        }
        check(delivered.any { it is TimelineItem.DateSeparator }) { "no date separator in $delivered" }
        val order = DeliveryState.values().toList()
        check(seen.zipWithNext().all { (x, y) -> order.indexOf(x) <= order.indexOf(y) }) { "states went backwards: $seen" }
        b.timeline(alice.jid).markRead()
        timeline.observe().within("displayed") { items ->
            items.filterIsInstance<TimelineItem.Message>().any { it.message.id == id && it.message.state == DeliveryState.DISPLAYED }
        }
    },
    "files: alice sends a file, bob's timeline shows it downloaded with the same bytes" to {
        val source = Files.createTempFile("linnet-kt-", ".txt").toFile()
        val bytes = ByteArray(50_000) { (it * 31 % 251).toByte() }
        source.writeBytes(bytes)
        val id = a.timeline(bob.jid).sendFile(source.path)
        a.timeline(bob.jid).observe().within("the upload done and acknowledged") { items ->
            items.filterIsInstance<TimelineItem.Message>().map { it.message }.any {
                it.id == id && it.attachment?.direction == TransferDirection.UPLOAD &&
                    it.attachment?.state == TransferState.DONE && it.state != DeliveryState.QUEUED
            }
        }
        val items = b.timeline(alice.jid).observe().within("the file downloaded at bob") { items ->
            items.filterIsInstance<TimelineItem.Message>().any {
                it.message.attachment?.let { f -> f.fileName == source.name && f.state == TransferState.DONE } == true
            }
        }
        val file = items.filterIsInstance<TimelineItem.Message>().mapNotNull { it.message.attachment }
            .first { it.fileName == source.name }
        check(file.direction == TransferDirection.DOWNLOAD) { "direction: $file" }
        check(file.transferred == bytes.size.toULong() && file.size == bytes.size.toULong()) { "sizes: $file" }
        val local = file.localPath ?: error("no local path: $file")
        check(File(local).readBytes().contentEquals(bytes)) { "the downloaded bytes differ" }
    },
    "files: a missing file and unknown messages are typed errors" to {
        val timeline = a.timeline(bob.jid)
        val missing = try {
            timeline.sendFile("/nonexistent/linnet/missing.txt"); null
        } catch (e: ChatException) { e }
        check(missing is ChatException.FileUnreadable && missing.path.endsWith("missing.txt")) { "expected FileUnreadable, got $missing" }
        val unknown = try {
            timeline.download(987654321L); null
        } catch (e: ChatException) { e }
        check(unknown is ChatException.NoSuchMessage && unknown.messageId == 987654321L) { "expected NoSuchMessage, got $unknown" }
        val text = timeline.send("no file here")
        val noFile = try {
            timeline.cancelTransfer(text); null
        } catch (e: ChatException) { e }
        check(noFile is ChatException.NoAttachment) { "expected NoAttachment, got $noFile" }
    },
    "a cancelled subscription gets no more callbacks" to {
        val cancelled = RecordingChatListListener()
        val live = RecordingChatListListener()
        val h1 = a.chatList().subscribe(cancelled)
        val h2 = a.chatList().subscribe(live)
        eventually("both initial states") { cancelled.batches.isNotEmpty() && live.batches.isNotEmpty() }
        // A callback already under way when cancel() is called may still finish after it (the
        // promise is that none *starts* afterwards): let earlier activity settle first.
        quiet(cancelled)
        h1.cancel()
        check(h1.isCancelled()) { "handle not cancelled" }
        val before = cancelled.batches.size
        val liveBefore = live.batches.size
        for (i in 1..3) b.timeline(alice.jid).send("after cancel $i")
        eventually("the live subscription sees the messages") {
            live.batches.drop(liveBefore).flatten().any { d ->
                d is ChatListDiff.Set && d.value.preview?.body == "after cancel 3"
            }
        }
        check(cancelled.batches.size == before) { "cancelled listener got ${cancelled.batches.size - before} more batches" }
        h2.cancel()
    },
    "archive: a new device of alice syncs the history, shows progress, and pages to the start" to {
        val fresh = device(alice)
        val statuses = CopyOnWriteArrayList<SyncStatus>()
        val h = fresh.chatList().subscribeSync(object : SyncListener {
            override fun onSync(status: SyncStatus) { statuses.add(status) }
        })
        fresh.connection().start()
        eventually("a sync that fetched messages, then idle") {
            statuses.any { it.syncing && it.fetched > 0uL } && statuses.lastOrNull()?.syncing == false
        }
        val timeline = fresh.timeline(bob.jid)
        var reached = false
        for (i in 1..10) { if (!reached) reached = timeline.loadOlder(50u) }
        check(reached) { "the start of the conversation was not reached" }
        val bodies = timeline.items().filterIsInstance<TimelineItem.Message>().map { it.message.body }
        check(bodies.contains("hello from bob") && bodies.contains("hi bob, from kotlin")) { "history on the new device: $bodies" }
        check(bodies.size == bodies.toSet().size) { "duplicates: $bodies" }
        h.cancel()
        fresh.connection().stop()
    },
    "push: nothing registers until permitted; a missing app server is a visible error; wake returns a report" to {
        val push = a.push()
        push.setAppServer("push.${alice.jid.substringAfter('@')}")
        val unpermitted = push.setToken(PushPlatform.Fcm, "fcm:kotlin-test-token")
        check(!unpermitted.permitted && !unpermitted.registered && unpermitted.hasToken) { "$unpermitted" }
        // No app server runs on the push component during this test: Prosody answers for it.
        val permitted = push.setPermitted(true)
        check(permitted.permitted && !permitted.registered && permitted.lastError != null) { "$permitted" }
        val withdrawn = push.setPermitted(false)
        check(!withdrawn.permitted && !withdrawn.registered && withdrawn.lastError == null) { "$withdrawn" }
        b.timeline(alice.jid).send("for the wake")
        val report = a.wake(WakeOptions(deadlineMs = 10_000uL, notifyRequests = false))
        check(report.complete) { "$report" }
    },
    "many concurrent async calls" to {
        val reports = coroutineScope {
            (1..40).map { async { a.diagnostics().doctor() } }.awaitAll()
        }
        check(reports.size == 40 && reports.all { it.boundJid.startsWith(alice.jid + "/") }) { "bad reports" }
        val counter = AtomicInteger()
        coroutineScope {
            (1..40).map { async { a.contacts().add(bob.jid, "Bob"); counter.incrementAndGet() } }.awaitAll()
        }
        check(counter.get() == 40) { "only ${counter.get()} adds finished" }
    },
    "diagnostics: the exported log is redacted" to {
        val logs = a.diagnostics().exportLogs()
        check(logs.contains("<message")) { "the trace-level wire log is not in the export" }
        check(!logs.contains(alice.password) && !logs.contains(bob.password)) { "a password is in the exported log" }
        check(!logs.contains("hello from bob")) { "a message body is in the exported log" }
    },
    "settings round-trip" to {
        val settings = a.settings()
        val before = settings.get()
        val changed = before.copy(sendTyping = false, sendReadMarkers = true, autoDownloadMaxBytes = 12345uL)
        settings.set(changed)
        check(settings.get() == changed) { "settings not stored" }
        settings.set(before)
    },
    "the README example runs" to {
        readmeExample(Files.createTempDirectory("linnet-readme").toString(), alice.jid, alice.password, MemorySecrets(), server)
    },
    "removing an account signs its client out for good" to {
        val sdk = LinnetSdk(Files.createTempDirectory("linnet-kt").toString(), MemorySecrets())
        sdk.addAccount(alice.jid, alice.password, server)
        val c = sdk.client(alice.jid)
        c.connection().start()
        sdk.removeAccount(alice.jid)
        c.connection().states().within("signed out") { it == ConnectionState.Offline }
        check(sdk.accounts().isEmpty()) { "the account is still listed" }
        delay(1500)
        check(c.connection().state() == ConnectionState.Offline) { "it came back: ${c.connection().state()}" }
    },
    "network monitor: a change reconnects a dropped client at once, never a stopped one" to {
        val sdk = LinnetSdk(Files.createTempDirectory("linnet-kt").toString(), MemorySecrets())
        sdk.addAccount(alice.jid, alice.password, server)
        val c = sdk.client(alice.jid)
        val monitor = object : NetworkMonitor {
            @Volatile var observer: NetworkObserver? = null
            override fun start(observer: NetworkObserver) { this.observer = observer }
            override fun stop() {}
        }
        sdk.setNetworkMonitor(monitor)
        val observer = monitor.observer ?: error("the monitor was not started")
        c.connection().start()
        val kick = ProcessBuilder("bash", "tests/servers/servers.sh", "kick", "prosody", alice.jid.substringBefore("@"))
            .inheritIO().start()
        check(kick.waitFor() == 0) { "servers.sh kick failed" }
        c.connection().states().within("the drop") { it is ConnectionState.Disconnected }
        observer.networkChanged(true)
        c.connection().states().within("back online") { it == ConnectionState.Online }
        // The kick ended the session (no resumption): the gap it opened is shown until the
        // archive catch-up of the new session has filled it.
        eventually("the catch-up fills the gap after the kick") { c.connection().historyGapSince() == null }
        c.connection().stop()
        observer.networkChanged(true)
        delay(1500)
        check(c.connection().state() == ConnectionState.Offline) { "a stopped client came back: ${c.connection().state()}" }
    },
)

fun main() {
    initPlatform(PlatformConfig(logFilter = "trace", logToStderr = false, lightweight = false))
    var failed = 0
    runBlocking {
        for ((name, case) in cases) {
            val started = System.nanoTime()
            try {
                case()
                println("PASS  $name (${(System.nanoTime() - started) / 1_000_000} ms)")
            } catch (e: Throwable) {
                failed++
                println("FAIL  $name: $e")
                e.printStackTrace(System.out)
            }
        }
        if (::a.isInitialized) a.connection().stop()
        if (::b.isInitialized) b.connection().stop()
    }
    println(if (failed == 0) "kotlin: all ${cases.size} cases passed" else "kotlin: $failed of ${cases.size} cases failed")
    exitProcess(if (failed == 0) 0 else 1)
}
