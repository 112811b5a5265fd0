// The CallModel against the real Prosody with its own fresh pair of accounts: alice calls bob,
// the system call integration is told each step, bob answers, digits and mute and the speaker,
// hang-up with the ended texts and the call log. Exits non-zero on a failure.
@file:JvmName("CallPresentationTest")

package org.linnet.app.presentation

import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import org.linnet.sdk.CallPhase
import kotlin.math.abs
import kotlin.system.exitProcess

private lateinit var caller: TestAccount
private lateinit var callee: TestAccount
private val aliceTones = ToneAudioDevices(440f)
private val bobTones = ToneAudioDevices(660f)
private lateinit var alicePhone: Device
private lateinit var bobPhone: Device

private fun near(found: Float?, expected: Float) = found != null && abs(found - expected) <= 10f

private val callCases: List<Pair<String, suspend () -> Unit>> = listOf(
    "two fresh accounts sign in and become contacts" to {
        caller = freshAccount("pca")
        callee = freshAccount("pcb")
        alicePhone = Device(audio = aliceTones)
        bobPhone = Device(audio = bobTones)
        alicePhone.signIn(caller)
        bobPhone.signIn(callee)
        becomeContacts(alicePhone, caller, bobPhone, callee)
    },
    "no call: the screen is empty, controls say so, a blank number is a user error" to {
        val calls = alicePhone.app.callModel(modelScope)!!
        try {
            check(calls.call.value == null) { "a call before any: ${calls.call.value}" }
            calls.hangUp().join()
            check(calls.error.value == "There is no call.") { "error: ${calls.error.value}" }
            calls.place("   ").join()
            check(calls.error.value == "Enter an address or a phone number.") { "error: ${calls.error.value}" }
            check(CallModel.normalizeTarget(" +1 (555) 123-4567 ") == "+15551234567") { "phone normalization" }
            check(CallModel.normalizeTarget(" bob@example.org ") == "bob@example.org") { "address normalization" }
        } finally {
            calls.close()
        }
    },
    "alice calls bob: ringing, answer, digits, mute, speaker, hang-up, call log" to {
        val aliceCalls = alicePhone.app.callModel(modelScope)!!
        val bobCalls = bobPhone.app.callModel(modelScope)!!
        try {
            aliceCalls.place(callee.jid).join()
            check(aliceCalls.error.value == null) { "place: ${aliceCalls.error.value}" }
            val ringing = bobCalls.call.await("bob's phone rings") { it?.phase == CallPhase.INCOMING }!!
            check(ringing.incoming && ringing.canAnswer && ringing.canDecline && ringing.title == "Alice" && ringing.phaseText == "Incoming call") { "at bob: $ringing" }
            val id = ringing.id
            val outgoing = aliceCalls.call.await("alice's call on screen") { it?.id == id }!!
            check(!outgoing.incoming && !outgoing.canAnswer && outgoing.canHangUp && outgoing.title == "Bob") { "at alice: $outgoing" }
            check(outgoing.phaseText in setOf("Calling…", "Ringing…")) { "phase text: ${outgoing.phaseText}" }
            waitFor("the integrations told of the call") {
                bobPhone.callIntegration.reports.contains("incoming $id ${caller.jid} Alice") &&
                    alicePhone.callIntegration.reports.contains("outgoing $id ${callee.jid}")
            }

            bobCalls.answer().join()
            check(bobCalls.error.value == null) { "answer: ${bobCalls.error.value}" }
            aliceCalls.call.await("alice connected, audio heard") { it?.phase == CallPhase.CONNECTED && it.audioHeard }
            bobCalls.call.await("bob connected, audio heard") { it?.phase == CallPhase.CONNECTED && it.audioHeard }
            waitFor("both integrations told of the connection") {
                alicePhone.callIntegration.reports.contains("connected $id") && bobPhone.callIntegration.reports.contains("connected $id")
            }
            waitFor("alice hearing bob's 660 Hz") { near(aliceTones.last?.dominantFrequency(500u), 660f) }

            for (key in "12#") aliceCalls.pressDigit(key).join()
            check(aliceCalls.error.value == null) { "digits: ${aliceCalls.error.value}" }
            bobCalls.call.await("the digits at bob") { it?.digitsReceived == "12#" }
            aliceCalls.call.await("the digits sent") { it?.digitsSent == "12#" }
            aliceCalls.pressDigit('x').join()
            check(aliceCalls.error.value == "“x” is not a key of the keypad.") { "bad key: ${aliceCalls.error.value}" }
            aliceCalls.dismissError()

            aliceCalls.toggleMute().join()
            aliceCalls.call.await("alice muted") { it?.muted == true }
            waitFor("bob hearing silence") { bobTones.last?.dominantFrequency(500u) == null }
            aliceCalls.toggleMute().join()
            aliceCalls.call.await("alice unmuted") { it?.muted == false }
            waitFor("bob hearing alice's 440 Hz again") { near(bobTones.last?.dominantFrequency(500u), 440f) }

            aliceCalls.toggleSpeaker()
            check(aliceCalls.call.value?.speaker == true && alicePhone.audioRoute.speaker.last()) { "speaker: ${aliceCalls.call.value}" }
            val ticking = aliceCalls.call.await("the duration ticking") { it != null && it.durationText != "0:00" }!!
            check(Regex("""\d+:\d\d""").matches(ticking.durationText) && ticking.phaseText == ticking.durationText) { "duration: $ticking" }

            aliceCalls.hangUp().join()
            val aliceEnd = aliceCalls.call.await("the end at alice") { it?.isEnded == true }!!
            val bobEnd = bobCalls.call.await("the end at bob") { it?.isEnded == true }!!
            check(aliceEnd.endedText == "Call ended" && aliceEnd.phaseText == "Call ended" && !aliceEnd.canHangUp) { "alice's end: $aliceEnd" }
            check(bobEnd.endedText == "Alice hung up") { "bob's end: $bobEnd" }
            waitFor("the integrations told of the end") {
                alicePhone.callIntegration.reports.contains("ended $id HUNG_UP") &&
                    bobPhone.callIntegration.reports.contains("ended $id REMOTE_HUNG_UP")
            }
            check(alicePhone.callIntegration.reports.size == 3) { "alice's reports: ${alicePhone.callIntegration.reports}" }

            val aliceLog = aliceCalls.callLog.await("the call in alice's log") { rows -> rows.any { it.callId == id } }.first { it.callId == id }
            check(aliceLog.directionText == "Outgoing" && aliceLog.title == "Bob" && aliceLog.durationText != null && aliceLog.callBackTo == callee.jid) { "alice's log: $aliceLog" }
            val bobLog = bobCalls.callLog.await("the call in bob's log") { rows -> rows.any { it.callId == id } }.first { it.callId == id }
            check(bobLog.directionText == "Incoming" && !bobLog.missed && bobLog.endText == "Alice hung up") { "bob's log: $bobLog" }

            aliceCalls.dismiss()
            check(aliceCalls.call.value == null) { "dismissed call still on screen" }
        } finally {
            aliceCalls.call.value?.takeIf { !it.isEnded }?.let { aliceCalls.hangUp(it.id).join() }
            aliceCalls.close()
            bobCalls.close()
        }
    },
    "bob declines: alice sees it declined" to {
        val aliceCalls = alicePhone.app.callModel(modelScope)!!
        val bobCalls = bobPhone.app.callModel(modelScope)!!
        try {
            aliceCalls.place(callee.jid).join()
            val ringing = bobCalls.call.await("bob's phone rings") { it?.phase == CallPhase.INCOMING }!!
            bobCalls.decline().join()
            val end = aliceCalls.call.await("declined at alice") { it?.id == ringing.id && it.isEnded }!!
            check(end.endedText == "Bob declined the call") { "alice's end: $end" }
            bobCalls.answer(ringing.id).join()
            check(bobCalls.error.value in setOf("This call has already ended.", "This call is no longer ringing.")) { "answer after decline: ${bobCalls.error.value}" }
        } finally {
            aliceCalls.close()
            bobCalls.close()
        }
    },
)

fun main() {
    val failed = runBlocking { runCases(callCases) }
    modelScope.cancel()
    println(if (failed == 0) "presentation calls: all ${callCases.size} cases passed" else "presentation calls: $failed of ${callCases.size} cases failed")
    exitProcess(if (failed == 0) 0 else 1)
}
