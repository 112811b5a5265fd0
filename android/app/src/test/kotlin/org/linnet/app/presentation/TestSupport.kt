// Shared by the presentation test programs: the test accounts and server from the environment,
// fakes of the platform ports, devices (an AppModel each, signed in through the SignInModel),
// and waiting on StateFlows with a timeout.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeoutOrNull
import org.linnet.sdk.AudioDevice
import org.linnet.sdk.CallEndReason
import org.linnet.sdk.PushPlatform
import org.linnet.sdk.SecretStorage
import org.linnet.sdk.ToneAudioDevice
import java.io.File
import java.nio.file.Files
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger

fun env(name: String): String = System.getenv(name) ?: error("missing environment variable $name")

class TestAccount(val jid: String, val password: String)

object TestServer {
    val host = env("LINNET_BT_HOST")
    val port = env("LINNET_BT_PORT")
    val domain = env("LINNET_BT_DOMAIN")
    val caPem: String = File(env("LINNET_BT_CA_FILE")).readText()
    val alice = TestAccount(env("LINNET_BT_A_JID"), env("LINNET_BT_A_PASSWORD"))
    val bob = TestAccount(env("LINNET_BT_B_JID"), env("LINNET_BT_B_PASSWORD"))
}

/** Secrets in memory: what the Keystore-backed storage does, minus the Keystore. */
class MemorySecrets : SecretStorage {
    private val map = ConcurrentHashMap<String, String>()
    override fun get(account: String): String? = map[account]
    override fun set(account: String, secret: String) { map[account] = secret }
    override fun delete(account: String) { map.remove(account) }
}

/** The system permission dialog, answered by the test; counts how often it was shown. */
class FakeNotificationPermission(@Volatile var userAllows: Boolean) : NotificationPermission {
    @Volatile var granted = false
    val requests = AtomicInteger()
    override suspend fun isGranted(): Boolean = granted
    override suspend fun request(): Boolean {
        requests.incrementAndGet()
        granted = userAllows
        return granted
    }
}

class FakePushTokens(private val token: String?) : PushTokenSource {
    override val platform: PushPlatform = PushPlatform.Fcm
    val asked = AtomicInteger()
    override suspend fun currentToken(): String? {
        asked.incrementAndGet()
        return token
    }
}

/** Microphones that play a tone: the library's ToneAudioDevice, the last one opened kept. */
class ToneAudioDevices(private val frequencyHz: Float) : AudioDevices {
    @Volatile var last: ToneAudioDevice? = null
    override fun open(): AudioDevice {
        val device = ToneAudioDevice(frequencyHz)
        last = device
        return device.asAudioDevice()
    }
}

class RecordingAudioRoute : AudioRoute {
    val speaker = CopyOnWriteArrayList<Boolean>()
    override fun setSpeaker(on: Boolean) { speaker.add(on) }
}

/** What the system call UI (Telecom) was told, in order, as readable lines. */
class RecordingCallIntegration : CallIntegration {
    val reports = CopyOnWriteArrayList<String>()
    override fun reportIncoming(callId: String, handle: String, displayName: String) { reports.add("incoming $callId $handle $displayName") }
    override fun reportOutgoing(callId: String, handle: String) { reports.add("outgoing $callId $handle") }
    override fun reportConnected(callId: String) { reports.add("connected $callId") }
    override fun reportEnded(callId: String, reason: CallEndReason) { reports.add("ended $callId $reason") }
}

/** The scope the models run in, as a ViewModel's would be. */
val modelScope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

/** One phone: its own data directory, secrets and fakes. */
class Device(
    val permission: FakeNotificationPermission = FakeNotificationPermission(userAllows = false),
    val pushTokens: FakePushTokens = FakePushTokens("fcm:presentation-test-token"),
    val audio: ToneAudioDevices = ToneAudioDevices(440f),
    val audioRoute: RecordingAudioRoute = RecordingAudioRoute(),
    val callIntegration: RecordingCallIntegration = RecordingCallIntegration(),
) {
    val app = AppModel(
        dataDir = Files.createTempDirectory("linnet-presentation").toString(),
        secrets = MemorySecrets(),
        ports = PlatformPorts(permission, pushTokens, audio, audioRoute, callIntegration),
        pushAppServer = "push.${TestServer.domain}",
        scope = modelScope,
    )

    /** A sign-in form filled in for the test server (its CA trusted unless [trustCa] is false). */
    fun signInForm(account: TestAccount, password: String = account.password, trustCa: Boolean = true, port: String = TestServer.port): SignInModel {
        val form = app.signInModel(modelScope) ?: error("no sign-in model: ${app.screen.value}")
        form.setAddress(account.jid)
        form.setPassword(password)
        form.setServerHost(TestServer.host)
        form.setServerPort(port)
        if (trustCa) form.setExtraCaPem(TestServer.caPem)
        return form
    }

    /** Starts the app and signs in through the form; returns once the main screen shows. */
    suspend fun signIn(account: TestAccount) {
        app.start().join()
        val form = signInForm(account)
        form.signIn().join()
        check(form.error.value == null) { "sign-in of ${account.jid} failed: ${form.error.value}" }
        app.screen.await("the main screen of ${account.jid}") { it == Screen.Main(account.jid) }
        form.close()
    }
}

/** Waits (20 s at most) for a state satisfying [predicate]; fails with the last state seen. */
suspend fun <T> StateFlow<T>.await(what: String, predicate: (T) -> Boolean): T {
    // Wrapped: a state that is itself null (no banner, no call) must not read as a timeout.
    val found = withTimeoutOrNull(20_000) { Result.success(first(predicate)) }
        ?: throw AssertionError("timed out waiting for $what; last state: $value")
    return found.getOrThrow()
}

/** Polls [condition] every 20 ms (20 s at most). */
suspend fun waitFor(what: String, condition: () -> Boolean) {
    withTimeoutOrNull(20_000) {
        while (!condition()) delay(20)
    } ?: throw AssertionError("timed out waiting for $what")
}

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

/** Both accounts become contacts through their ContactsModels (request, approve, both ways). */
suspend fun becomeContacts(a: Device, aAccount: TestAccount, b: Device, bAccount: TestAccount) {
    val aContacts = a.app.contactsModel(modelScope)!!
    val bContacts = b.app.contactsModel(modelScope)!!
    try {
        aContacts.add(bAccount.jid, "Bob").join()
        check(aContacts.error.value == null) { "add: ${aContacts.error.value}" }
        bContacts.requests.await("alice's request at bob") { rows -> rows.any { it.jid == aAccount.jid } }
        bContacts.approve(aAccount.jid).join()
        bContacts.add(aAccount.jid, "Alice").join()
        aContacts.requests.await("bob's request at alice") { rows -> rows.any { it.jid == bAccount.jid } }
        aContacts.approve(bAccount.jid).join()
        aContacts.contacts.await("bob a mutual contact at alice") { rows ->
            rows.any { it.jid == bAccount.jid && it.subscriptionText == null && !it.pendingRequest }
        }
        bContacts.contacts.await("alice a mutual contact at bob") { rows ->
            rows.any { it.jid == aAccount.jid && it.subscriptionText == null && !it.pendingRequest }
        }
        check(aContacts.requests.value.none { it.jid == bAccount.jid }) { "bob's request still listed: ${aContacts.requests.value}" }
    } finally {
        aContacts.close()
        bContacts.close()
    }
}

/** Runs the named cases in order, printing PASS/FAIL; returns the number failed. */
suspend fun runCases(cases: List<Pair<String, suspend () -> Unit>>): Int {
    var failed = 0
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
    return failed
}

/** A fresh account on the test server (servers.sh adduser), for programs that need their own. */
fun freshAccount(prefix: String): TestAccount {
    val user = "$prefix${System.currentTimeMillis()}${(1000..9999).random()}"
    val password = "pw${(100000..999999).random()}${(100000..999999).random()}"
    val add = ProcessBuilder("bash", "tests/servers/servers.sh", "adduser", "prosody", user, password)
        .redirectErrorStream(true).start()
    val output = add.inputStream.bufferedReader().readText()
    check(add.waitFor() == 0) { "servers.sh adduser failed: $output" }
    return TestAccount("$user@${TestServer.domain}", password)
}
