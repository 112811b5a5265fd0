// Voice calls through the Kotlin bindings against a real local Prosody (issue 7): run by
// bindings/scripts/test-bindings.sh as its own program with a fresh pair of accounts. Alice calls
// Bob: ringing, answer, tones both ways (Alice through the library's ToneAudioDevice, Bob through
// an AudioDevice written in Kotlin, so the foreign trait is called every 20 ms), DTMF, hang-up,
// the call log, and typed errors. Reuses the helpers of BindingsTest.kt (same compilation).
@file:JvmName("CallsTest")

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.linnet.sdk.*
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.math.PI
import kotlin.math.abs
import kotlin.math.sin
import kotlin.system.exitProcess

/** A microphone and speaker written in Kotlin: a sine tone out, the last half second heard kept. */
class KotlinToneDevice(private val freqHz: Double) : AudioDevice {
    private val lock = Any()
    private var phase = 0.0
    private val heard = ArrayDeque<Short>()
    @Volatile var captures = 0
    @Volatile var plays = 0

    override fun capture(): List<Short> = synchronized(lock) {
        captures++
        List(960) {
            val sample = (sin(phase) * 8000).toInt().toShort()
            phase = (phase + 2 * PI * freqHz / 48_000) % (2 * PI)
            sample
        }
    }

    override fun play(frame: List<Short>) {
        synchronized(lock) {
            plays++
            heard.addAll(frame)
            while (heard.size > 24_000) heard.removeFirst()
        }
    }

    /** The dominant frequency of the last half second played, null for silence. */
    fun heardFrequency(): Float? = dominantFrequency(synchronized(lock) { heard.toList() }, 48_000u)
}

/** Every state a call screen Flow emitted, collected in the background from subscription on. */
class ScreenWatch(scope: CoroutineScope, service: CallService) {
    val seen = CopyOnWriteArrayList<CallScreenState?>()
    @Volatile var subscribed = false
    private val job = scope.launch {
        service.states().collect {
            subscribed = true
            seen.add(it)
        }
    }

    suspend fun await(what: String, predicate: (CallScreenState) -> Boolean): CallScreenState {
        waitFor(what) { seen.any { it != null && predicate(it) } }
        return seen.first { it != null && predicate(it) }!!
    }

    /** The first state after `previous` (the first state equal to it) that satisfies `predicate`. */
    suspend fun awaitAfter(what: String, previous: CallScreenState, predicate: (CallScreenState) -> Boolean): CallScreenState {
        fun found() = seen.drop(seen.indexOf(previous) + 1).firstOrNull { it != null && predicate(it) }
        waitFor(what) { found() != null }
        return found()!!
    }

    fun stop() = job.cancel()
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
suspend fun waitFor(what: String, timeoutMs: Long = 20_000, condition: () -> Boolean) {
    withTimeoutOrNull(timeoutMs) {
        while (!condition()) delay(20)
    } ?: throw AssertionError("timed out waiting for $what")
}

fun near(found: Float?, expected: Float): Boolean = found != null && abs(found - expected) <= 10f

lateinit var ca: LinnetClient
lateinit var cb: LinnetClient

val callCases: List<Pair<String, suspend () -> Unit>> = listOf(
    "log in and become contacts" to {
        ca = device(alice)
        cb = device(bob)
        ca.connection().start()
        cb.connection().start()
        ca.contacts().add(bob.jid, "Bob")
        cb.contacts().observe().within("alice's request at bob") { list -> list.any { it.jid == alice.jid && it.pendingRequest } }
        cb.contacts().approve(alice.jid)
        cb.contacts().add(alice.jid, "Alice")
        ca.contacts().observe().within("bob's request at alice") { list -> list.any { it.jid == bob.jid && it.pendingRequest } }
        ca.contacts().approve(bob.jid)
        ca.contacts().observe().within("bob subscribed both ways") { list ->
            list.any { it.jid == bob.jid && it.subscription == SubscriptionState.BOTH && !it.pendingRequest }
        }
        cb.contacts().observe().within("alice subscribed both ways") { list ->
            list.any { it.jid == alice.jid && it.subscription == SubscriptionState.BOTH }
        }
    },
    "no call yet: the call screen starts empty, unknown calls are typed errors" to {
        val first = ca.calls().states().within("the first state") { true }
        check(first == null) { "a call on screen before any call: $first" }
        val unknownAnswer = try {
            cb.calls().answer("no-such-call", ToneAudioDevice(440f).asAudioDevice()); null
        } catch (e: CallException) { e }
        check(unknownAnswer is CallException.NoSuchCall && unknownAnswer.id == "no-such-call") {
            "expected NoSuchCall, got $unknownAnswer"
        }
        val unknownHangUp = try {
            ca.calls().hangUp("no-such-call"); null
        } catch (e: CallException) { e }
        check(unknownHangUp is CallException.NoSuchCall) { "expected NoSuchCall, got $unknownHangUp" }
        check(ca.calls().callLog(10u).isEmpty()) { "a call log before any call" }
    },
    "alice calls bob: ringing, answer, tones both ways, DTMF, hang-up, call log" to {
        coroutineScope {
            val aScreen = ScreenWatch(this, ca.calls())
            val bScreen = ScreenWatch(this, cb.calls())
            var placed: String? = null
            try {
                waitFor("both call screens subscribed") { aScreen.subscribed && bScreen.subscribed }
                val aliceTone = ToneAudioDevice(440f)
                val bobDevice = KotlinToneDevice(660.0)
                val id = ca.calls().call(bob.jid, aliceTone.asAudioDevice())
                placed = id

                val incoming = cb.calls().states().within("bob's phone rings") { it?.phase == CallPhase.INCOMING }!!
                check(incoming.id == id && incoming.peer == alice.jid && incoming.incoming) { "incoming: $incoming" }
                check(incoming.displayName == "Alice") { "display name: ${incoming.displayName}" }
                aScreen.await("alice's outgoing call on screen") { it.id == id && !it.incoming }

                cb.calls().answer(id, bobDevice)
                ca.calls().states().within("alice connected") { it != null && it.id == id && it.phase == CallPhase.CONNECTED }
                cb.calls().states().within("bob connected") { it != null && it.id == id && it.phase == CallPhase.CONNECTED }

                ca.calls().sendDtmf(id, "123#")
                bScreen.await("the digits at bob") { it.id == id && it.digitsReceived == "123#" }
                aScreen.await("the digits sent by alice") { it.id == id && it.digitsSent == "123#" }

                waitFor("alice hearing bob's 660 Hz (last: ${aliceTone.dominantFrequency(500u)})") {
                    near(aliceTone.dominantFrequency(500u), 660f)
                }
                waitFor("bob hearing alice's 440 Hz (last: ${bobDevice.heardFrequency()})") {
                    near(bobDevice.heardFrequency(), 440f)
                }
                // The tone check above is the proof; this says the foreign trait was the path.
                check(bobDevice.captures > 0 && bobDevice.plays > 0) {
                    "the Kotlin device was called ${bobDevice.captures} / ${bobDevice.plays} times"
                }
                aScreen.await("audio heard at alice") { it.id == id && it.audioHeard }
                bScreen.await("audio heard at bob") { it.id == id && it.audioHeard }

                // Mute: the screen says so and Bob hears silence; unmuted, the tone is back.
                ca.calls().setMuted(id, true)
                val muted = aScreen.await("alice muted on screen") { it.id == id && it.muted }
                waitFor("bob hearing silence (last: ${bobDevice.heardFrequency()})") { bobDevice.heardFrequency() == null }
                ca.calls().setMuted(id, false)
                aScreen.awaitAfter("alice unmuted on screen", muted) { it.id == id && !it.muted }
                waitFor("bob hearing alice's 440 Hz again") { near(bobDevice.heardFrequency(), 440f) }

                ca.calls().hangUp(id)
                val aliceEnd = aScreen.await("the end at alice") { it.id == id && it.phase == CallPhase.ENDED }
                val bobEnd = bScreen.await("the end at bob") { it.id == id && it.phase == CallPhase.ENDED }
                check(aliceEnd.endReason == CallEndReason.HUNG_UP) { "alice's end: $aliceEnd" }
                check(bobEnd.endReason == CallEndReason.REMOTE_HUNG_UP) { "bob's end: $bobEnd" }

                for ((client, incomingHere) in listOf(ca to false, cb to true)) {
                    val entry = client.calls().callLog(10u).firstOrNull { it.callId == id }
                        ?: error("call $id not in ${client.jid()}'s log")
                    check(entry.incoming == incomingHere && entry.answeredAt != null && entry.endedAt != null && !entry.silent) {
                        "log entry at ${client.jid()}: $entry"
                    }
                    check(entry.endReason == if (incomingHere) CallEndReason.REMOTE_HUNG_UP else CallEndReason.HUNG_UP) {
                        "log entry at ${client.jid()}: $entry"
                    }
                }
                val ended = try {
                    ca.calls().sendDtmf(id, "1"); null
                } catch (e: CallException) { e }
                check(ended is CallException.NoSuchCall) { "DTMF after the end: expected NoSuchCall, got $ended" }
            } finally {
                aScreen.stop()
                bScreen.stop()
                // A failed case must not leave its call up for the next one (CallInProgress).
                placed?.let { runCatching { ca.calls().hangUp(it) } }
            }
        }
    },
    "relay-only through the preferences: only relay candidates, and the tones still cross" to {
        for (c in listOf(ca, cb)) c.settings().set(c.settings().get().copy(relayOnlyCalls = true))
        coroutineScope {
            val aScreen = ScreenWatch(this, ca.calls())
            val bScreen = ScreenWatch(this, cb.calls())
            var placed: String? = null
            try {
                waitFor("both call screens subscribed") { aScreen.subscribed && bScreen.subscribed }
                val aliceTone = ToneAudioDevice(440f)
                val bobTone = ToneAudioDevice(660f)
                val id = ca.calls().call(bob.jid, aliceTone.asAudioDevice())
                placed = id
                bScreen.await("bob's phone rings") { it.id == id && it.phase == CallPhase.INCOMING }
                cb.calls().answer(id, bobTone.asAudioDevice())
                waitFor("alice hearing 660 Hz through the relay", 30_000) { near(aliceTone.dominantFrequency(500u), 660f) }
                waitFor("bob hearing 440 Hz through the relay", 30_000) { near(bobTone.dominantFrequency(500u), 440f) }
                for (c in listOf(ca, cb)) {
                    val d = c.calls().diagnostics(id) ?: error("no diagnostics at ${c.jid()}")
                    check(d.localCandidates.isNotEmpty() && d.localCandidates.all { it == "relay" }) { "${c.jid()} sent $d" }
                    check(d.remoteCandidates.all { it == "relay" }) { "${c.jid()} received $d" }
                    check(d.codec != null) { "no codec at ${c.jid()}: $d" }
                }
                cb.calls().hangUp(id)
                val aliceEnd = aScreen.await("the end at alice") { it.id == id && it.phase == CallPhase.ENDED }
                check(aliceEnd.endReason == CallEndReason.REMOTE_HUNG_UP) { "alice's end: $aliceEnd" }
                placed = null
            } finally {
                aScreen.stop()
                bScreen.stop()
                placed?.let { runCatching { ca.calls().hangUp(it) } }
                for (c in listOf(ca, cb)) c.settings().set(c.settings().get().copy(relayOnlyCalls = false))
            }
        }
    },
    "bob declines: alice's call ends remote-declined" to {
        coroutineScope {
            // Subscribed before the end: a new subscription after it starts with no call.
            val aScreen = ScreenWatch(this, ca.calls())
            try {
                waitFor("alice's call screen subscribed") { aScreen.subscribed }
                val id = ca.calls().call(bob.jid, ToneAudioDevice(440f).asAudioDevice())
                cb.calls().states().within("bob's phone rings again") { it != null && it.id == id && it.phase == CallPhase.INCOMING }
                cb.calls().decline(id)
                val end = aScreen.await("alice's call declined") { it.id == id && it.phase == CallPhase.ENDED }
                check(end.endReason == CallEndReason.REMOTE_DECLINED) { "alice's end: $end" }
                checkDeclinedCannotBeAnswered(id)
            } finally {
                aScreen.stop()
            }
        }
    },
)

/** Bob's answer to a call he declined is a typed error, whichever the core reports. */
fun checkDeclinedCannotBeAnswered(id: String) {
    val notRinging = try {
        cb.calls().answer(id, ToneAudioDevice(660f).asAudioDevice()); null
    } catch (e: CallException) { e }
    check(notRinging is CallException.NoSuchCall || notRinging is CallException.CallNotRinging) {
        "answering a declined call: $notRinging"
    }
}

fun main() {
    initPlatform(PlatformConfig(logFilter = "info", logToStderr = false, lightweight = false))
    var failed = 0
    runBlocking {
        for ((name, case) in callCases) {
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
        if (::ca.isInitialized) ca.connection().stop()
        if (::cb.isInitialized) cb.connection().stop()
    }
    println(if (failed == 0) "kotlin calls: all ${callCases.size} cases passed" else "kotlin calls: $failed of ${callCases.size} cases failed")
    exitProcess(if (failed == 0) 0 else 1)
}
