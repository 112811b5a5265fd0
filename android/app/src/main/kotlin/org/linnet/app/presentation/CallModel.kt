// The call screen and its controls, the call log, and the reports to the system's call UI.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.linnet.sdk.CallEndReason
import org.linnet.sdk.CallLogEntry
import org.linnet.sdk.CallPhase
import org.linnet.sdk.CallScreenState
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.states

data class CallUi(
    val id: String,
    val peer: String,
    val title: String,
    val phoneNumber: String?,
    val incoming: Boolean,
    val phase: CallPhase,
    /** "Calling…", "Ringing…", "Incoming call", "Connecting…", the duration, or [endedText]. */
    val phaseText: String,
    val muted: Boolean,
    val speaker: Boolean,
    /** "0:42" (0:00 until connected). */
    val durationText: String,
    val digitsSent: String,
    val digitsReceived: String,
    /** Whether the peer's audio has been heard yet (else: "Connecting audio…"). */
    val audioHeard: Boolean,
    /** Why the call ended, once it has: "Bob hung up", "No answer", … */
    val endedText: String?,
    val endReason: CallEndReason?,
    val canAnswer: Boolean,
    val canDecline: Boolean,
    val canHangUp: Boolean,
    /** The keypad sends digits only while connected. */
    val canSendDigits: Boolean,
    val isEnded: Boolean,
)

data class CallLogRow(
    val callId: String,
    val peer: String,
    val title: String,
    val incoming: Boolean,
    val missed: Boolean,
    /** "Incoming", "Outgoing", "Missed". */
    val directionText: String,
    val whenText: String,
    /** "1:05" when the call was answered, else null. */
    val durationText: String?,
    val endText: String?,
    /** Who to call back: the phone number for a phone call, else the address. */
    val callBackTo: String,
)

class CallModel internal constructor(
    private val client: LinnetClient,
    scope: CoroutineScope,
    private val audioDevices: AudioDevices,
    private val audioRoute: AudioRoute,
    private val callIntegration: CallIntegration,
) {
    private val scope = scope.childScope()

    private val _call = MutableStateFlow<CallUi?>(null)
    /** The call on screen; null when there is none (or the ended one was dismissed). */
    val call: StateFlow<CallUi?> = _call.asStateFlow()
    private val _callLog = MutableStateFlow<List<CallLogRow>>(emptyList())
    val callLog: StateFlow<List<CallLogRow>> = _callLog.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    /** The SDK's latest state of the call on screen. */
    @Volatile private var current: CallScreenState? = null
    @Volatile private var speaker = false
    @Volatile private var dismissedId: String? = null

    // What the system call integration has been told, per call (only the latest call matters).
    private var reportedStartOf: String? = null
    private var reportedConnectedOf: String? = null
    private var reportedEndOf: String? = null

    init {
        this.scope.launch {
            client.calls().states()
                .catch { _error.value = ErrorText.of(it) }
                .collect(::onCallState)
        }
        refreshCallLog()
    }

    /** Calls an address (name@example.org) or a phone number (+1 555 123 4567). */
    fun place(to: String): Job = scope.launch {
        val target = normalizeTarget(to)
        if (target.isEmpty()) {
            _error.value = "Enter an address or a phone number."
            return@launch
        }
        if (current?.let { it.phase != CallPhase.ENDED } == true) {
            _error.value = "Another call is in progress."
            return@launch
        }
        _error.value = null
        withContext(Dispatchers.IO) {
            attempt({ _error.value = it }) {
                val audio = audioDevices.open()
                client.calls().call(target, audio)
            }
        }
    }

    /** Answers the ringing call ([callId], else the one on screen). */
    fun answer(callId: String? = null): Job = control(callId) { id ->
        client.calls().answer(id, audioDevices.open())
    }

    fun decline(callId: String? = null): Job = control(callId) { id -> client.calls().decline(id) }

    fun hangUp(callId: String? = null): Job = control(callId) { id -> client.calls().hangUp(id) }

    fun toggleMute(): Job = control(null) { id ->
        val muted = current?.muted ?: return@control
        client.calls().setMuted(id, !muted)
    }

    /** Loudspeaker on or off; the platform routes the audio. */
    fun toggleSpeaker() {
        val state = current ?: return
        speaker = !speaker
        audioRoute.setSpeaker(speaker)
        _call.value = ui(state)
    }

    /** A keypad key: sent as DTMF in the connected call. */
    fun pressDigit(digit: Char): Job = control(null) { id ->
        if (digit.uppercaseChar() !in DTMF_KEYS) {
            _error.value = "“$digit” is not a key of the keypad."
            return@control
        }
        client.calls().sendDtmf(id, digit.uppercaseChar().toString())
    }

    /** Closes the screen of an ended call. */
    fun dismiss() {
        val state = current ?: return
        if (state.phase == CallPhase.ENDED) {
            dismissedId = state.id
            _call.value = null
        }
    }

    fun refreshCallLog(): Job = scope.launch {
        val entries = withContext(Dispatchers.IO) {
            attempt({ _error.value = it }) { client.calls().callLog(LOG_SIZE) }
        } ?: return@launch
        val names = withContext(Dispatchers.IO) {
            runCatching { client.contacts().items().associate { it.jid to it.displayName } }.getOrDefault(emptyMap())
        }
        _callLog.value = entries.map { logRow(it, names[it.peer]) }
    }

    fun dismissError() { _error.value = null }

    fun close() = scope.cancel()

    private fun control(callId: String?, action: suspend (String) -> Unit): Job = scope.launch {
        val id = callId ?: current?.id
        if (id == null) {
            _error.value = "There is no call."
            return@launch
        }
        withContext(Dispatchers.IO) { attempt({ _error.value = it }) { action(id) } }
    }

    private fun onCallState(state: CallScreenState?) {
        val previous = current
        current = state
        if (state == null) {
            _call.value = null
            return
        }
        if (previous?.id != state.id) {
            // A new call: the speaker starts off, and the screen shows again.
            speaker = false
            audioRoute.setSpeaker(false)
            dismissedId = null
        }
        report(state)
        if (state.phase == CallPhase.ENDED && previous?.phase != CallPhase.ENDED) refreshCallLog()
        _call.value = if (state.id == dismissedId) null else ui(state)
    }

    private fun report(state: CallScreenState) {
        val handle = state.phoneNumber ?: state.peer
        if (reportedStartOf != state.id && state.phase != CallPhase.ENDED) {
            reportedStartOf = state.id
            if (state.incoming) callIntegration.reportIncoming(state.id, handle, state.displayName)
            else callIntegration.reportOutgoing(state.id, handle)
        }
        if (state.phase == CallPhase.CONNECTED && reportedConnectedOf != state.id) {
            reportedConnectedOf = state.id
            callIntegration.reportConnected(state.id)
        }
        // Only calls the integration knows of end there (not one that was over on subscription).
        if (state.phase == CallPhase.ENDED && reportedStartOf == state.id && reportedEndOf != state.id) {
            reportedEndOf = state.id
            callIntegration.reportEnded(state.id, state.endReason ?: CallEndReason.FAILED)
        }
    }

    private fun ui(state: CallScreenState): CallUi {
        val title = state.displayName.ifBlank { state.phoneNumber ?: Text.localPart(state.peer) }
        val ended = state.phase == CallPhase.ENDED
        val endedText = if (ended) endText(state.endReason ?: CallEndReason.FAILED, title) else null
        val duration = Text.duration(state.durationSecs.toLong())
        return CallUi(
            id = state.id,
            peer = state.peer,
            title = title,
            phoneNumber = state.phoneNumber,
            incoming = state.incoming,
            phase = state.phase,
            phaseText = when (state.phase) {
                CallPhase.CALLING -> "Calling…"
                CallPhase.RINGING -> "Ringing…"
                CallPhase.INCOMING -> "Incoming call"
                CallPhase.CONNECTING -> "Connecting…"
                CallPhase.CONNECTED -> if (state.audioHeard) duration else "Connecting audio…"
                CallPhase.ENDED -> endedText ?: "Call ended"
            },
            muted = state.muted,
            speaker = speaker,
            durationText = duration,
            digitsSent = state.digitsSent,
            digitsReceived = state.digitsReceived,
            audioHeard = state.audioHeard,
            endedText = endedText,
            endReason = state.endReason,
            canAnswer = state.incoming && state.phase == CallPhase.INCOMING,
            canDecline = state.incoming && state.phase == CallPhase.INCOMING,
            canHangUp = !ended,
            canSendDigits = state.phase == CallPhase.CONNECTED,
            isEnded = ended,
        )
    }

    companion object {
        private const val LOG_SIZE = 100u
        private const val DTMF_KEYS = "0123456789*#ABCD"

        /** Strips what people type around phone numbers ("+1 (555) 123-4567"); addresses stay. */
        internal fun normalizeTarget(to: String): String {
            val trimmed = to.trim()
            val phoneLike = trimmed.isNotEmpty() && trimmed.all { it.isDigit() || it in "+ ()-./" }
            return if (phoneLike) trimmed.filter { it.isDigit() || it == '+' } else trimmed
        }

        fun endText(reason: CallEndReason, title: String): String = when (reason) {
            CallEndReason.HUNG_UP -> "Call ended"
            CallEndReason.REMOTE_HUNG_UP -> "$title hung up"
            CallEndReason.CANCELLED -> "Call cancelled"
            CallEndReason.DECLINED -> "Call declined"
            CallEndReason.REMOTE_DECLINED -> "$title declined the call"
            CallEndReason.BUSY -> "$title is busy"
            CallEndReason.NO_ANSWER -> "No answer"
            CallEndReason.MISSED -> "Missed call"
            CallEndReason.ANSWERED_ELSEWHERE -> "Answered on another device"
            CallEndReason.DECLINED_ELSEWHERE -> "Declined on another device"
            CallEndReason.CONNECTIVITY_FAILED -> "The call could not connect"
            CallEndReason.NETWORK_LOST -> "The connection was lost"
            CallEndReason.FAILED -> "The call failed"
            CallEndReason.STRANGER -> "A call from someone outside your contacts was not put through"
            CallEndReason.INTERRUPTED -> "The call was interrupted"
        }

        fun logRow(entry: CallLogEntry, contactName: String?): CallLogRow {
            val title = contactName?.takeIf { it.isNotBlank() } ?: entry.phoneNumber ?: Text.localPart(entry.peer)
            val missed = entry.incoming && entry.answeredAt == null && entry.endedAt != null
            val answeredAt = entry.answeredAt
            val endedAt = entry.endedAt
            return CallLogRow(
                callId = entry.callId,
                peer = entry.peer,
                title = title,
                incoming = entry.incoming,
                missed = missed,
                directionText = when {
                    missed -> "Missed"
                    entry.incoming -> "Incoming"
                    else -> "Outgoing"
                },
                whenText = Text.whenShort(entry.startedAt),
                durationText = if (answeredAt != null && endedAt != null) Text.duration((endedAt - answeredAt) / 1000) else null,
                endText = entry.endReason?.let { endText(it, title) },
                callBackTo = entry.phoneNumber ?: entry.peer,
            )
        }
    }
}
