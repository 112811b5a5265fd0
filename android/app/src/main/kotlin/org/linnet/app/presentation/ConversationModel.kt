// One conversation: its messages and files, the draft with typing notifications, and actions.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.linnet.sdk.ChatException
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.TimelineAttachment
import org.linnet.sdk.TimelineItem
import org.linnet.sdk.TimelineMessage
import org.linnet.sdk.TimelineService
import org.linnet.sdk.TransferDirection
import org.linnet.sdk.TransferFailure
import org.linnet.sdk.TransferState
import org.linnet.sdk.observe
import org.linnet.sdk.typing
import kotlin.math.roundToInt

sealed interface ConversationRow {
    /** A stable identity for lazy lists. */
    val key: String

    data class DateSeparator(val text: String, override val key: String) : ConversationRow

    data class Message(
        /** The SDK's message id: for retry, download, cancelTransfer. */
        val id: Long,
        val outgoing: Boolean,
        val body: String,
        val timeText: String,
        val status: MessageStatus,
        /** "Sending…", "Delivered", …; empty for received messages. */
        val statusText: String,
        /** Why it was not sent (status Failed), else null. */
        val failureText: String?,
        val canRetry: Boolean,
        val attachment: AttachmentRow?,
        override val key: String = "m$id",
    ) : ConversationRow
}

enum class AttachmentState { Offered, Queued, Transferring, Done, Failed, Cancelled }

data class AttachmentRow(
    val fileName: String,
    val isUpload: Boolean,
    /** "1.2 MB", or null when the size is unknown. */
    val sizeText: String?,
    /** 0..1 while transferring with a known size, else null. */
    val progress: Float?,
    val state: AttachmentState,
    /** "Waiting…", "40% of 1.2 MB", "Cancelled", …; empty when done. */
    val stateText: String,
    /** Why the transfer failed, else null. */
    val errorText: String?,
    val canDownload: Boolean,
    val canCancel: Boolean,
    /** An upload that failed or was cancelled can be sent again (retry(id)). */
    val canRetry: Boolean,
    /** The file on this device (an upload's source, a finished download), to open or preview. */
    val localPath: String?,
    val mediaType: String?,
    val isImage: Boolean,
)

class ConversationModel internal constructor(
    private val client: LinnetClient,
    /** The peer's bare JID. */
    val peer: String,
    scope: CoroutineScope,
) {
    private val scope = scope.childScope()

    /** Null when [peer] is no valid address (then [error] says so). */
    private val timeline: TimelineService?

    private val _title = MutableStateFlow(Text.localPart(peer))
    val title: StateFlow<String> = _title.asStateFlow()
    private val _rows = MutableStateFlow<List<ConversationRow>>(emptyList())
    val rows: StateFlow<List<ConversationRow>> = _rows.asStateFlow()
    private val _peerTyping = MutableStateFlow(false)
    val peerTyping: StateFlow<Boolean> = _peerTyping.asStateFlow()
    private val _draft = MutableStateFlow("")
    val draft: StateFlow<String> = _draft.asStateFlow()
    private val _loadingOlder = MutableStateFlow(false)
    val loadingOlder: StateFlow<Boolean> = _loadingOlder.asStateFlow()
    private val _reachedStart = MutableStateFlow(false)
    val reachedStart: StateFlow<Boolean> = _reachedStart.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    /** Whether we want the peer to see us typing; sent to the SDK only when it changes. */
    private val composing = MutableStateFlow(false)
    private val visible = MutableStateFlow(false)
    private val unread = MutableStateFlow(0)

    init {
        timeline = attempt({ _error.value = it }) { client.timeline(peer) }
        val timeline = timeline
        if (timeline != null) {
            this.scope.launch {
                timeline.observe()
                    .map { items -> items.map(::row) }
                    .flowOn(Dispatchers.Default)
                    .catch { _error.value = ErrorText.of(it) }
                    .collect { _rows.value = it }
            }
            this.scope.launch {
                // Only changes go out: the peer assumes "not composing" until told otherwise.
                var sentTyping = false
                composing.collect { typing ->
                    if (typing != sentTyping) {
                        sentTyping = typing
                        withContext(Dispatchers.IO) {
                            // Typing notifications are best effort: a failure is not worth a message.
                            runCatching { timeline.setTyping(typing) }
                        }
                    }
                }
            }
            this.scope.launch {
                // From the timeline, not the chat list: a new conversation has no row there yet.
                timeline.typing()
                    .catch { _error.value = ErrorText.of(it) }
                    .collect { _peerTyping.value = it }
            }
            this.scope.launch {
                // While the conversation is on screen, what arrives is read.
                combine(visible, unread) { shown, count -> shown && count > 0 }
                    .distinctUntilChanged()
                    .collect { if (it) markRead() }
            }
        }
        this.scope.launch {
            client.chatList().observe()
                .map { items -> items.firstOrNull { it.peer == peer } }
                .catch { _error.value = ErrorText.of(it) }
                .collect { item ->
                    unread.value = item?.unread?.toInt() ?: 0
                    if (item != null && item.displayName.isNotBlank()) _title.value = item.displayName
                }
        }
    }

    /** The text field changed: keeps the draft and tells the peer we compose (or stopped). */
    fun onDraftChanged(text: String) {
        _draft.value = text
        composing.value = text.isNotBlank()
    }

    /** The screen is shown (true) or hidden: while shown, new messages are marked read. */
    fun setVisible(shown: Boolean) {
        visible.value = shown
    }

    /** Sends the draft; it is cleared at once and restored if sending fails. */
    fun send(): Job = scope.launch {
        val timeline = timeline ?: return@launch
        val body = _draft.value.trim()
        if (body.isEmpty()) return@launch
        _draft.value = ""
        // The draft is empty again: the peer is told we stopped composing.
        composing.value = false
        val sent = withContext(Dispatchers.IO) { attempt({ _error.value = it }) { timeline.send(body) } }
        if (sent == null && _draft.value.isEmpty()) _draft.value = body
    }

    /** Sends a failed message (or failed upload) again. */
    fun retry(id: Long): Job = scope.launch {
        val timeline = timeline ?: return@launch
        // The SDK ignores a retry of a message that has not failed: say why nothing happens.
        val row = _rows.value.filterIsInstance<ConversationRow.Message>().firstOrNull { it.id == id }
        when {
            row == null -> _error.value = "This message no longer exists."
            !row.canRetry && row.attachment?.canRetry != true -> _error.value = "This message has not failed: there is nothing to send again."
            else -> withContext(Dispatchers.IO) { attempt({ _error.value = it }) { timeline.retry(id) } }
        }
    }

    /** Sends the file at [path] (a copy the platform made of the picked file). */
    fun sendFile(path: String): Job = scope.launch {
        val timeline = timeline ?: return@launch
        withContext(Dispatchers.IO) {
            try {
                timeline.sendFile(path)
            } catch (e: ChatException.FileTooLarge) {
                _error.value = "“${path.substringAfterLast('/')}” is too large (max ${Text.size(e.max.toLong())})."
            } catch (e: ChatException.FileUnreadable) {
                _error.value = "“${path.substringAfterLast('/')}” cannot be read. It may have been moved or deleted."
            } catch (e: kotlinx.coroutines.CancellationException) {
                throw e
            } catch (e: Exception) {
                _error.value = ErrorText.of(e)
            }
        }
    }

    fun download(id: Long): Job = action { it.download(id) }

    fun cancelTransfer(id: Long): Job = action { it.cancelTransfer(id) }

    /** Marks the conversation read (the peer learns it if the settings allow). */
    fun markRead(): Job = action { it.markRead() }

    /** Loads older messages (from the device, then the server archive). */
    fun loadOlder(): Job = scope.launch {
        val timeline = timeline ?: return@launch
        if (_loadingOlder.value || _reachedStart.value) return@launch
        _loadingOlder.value = true
        try {
            val reached = withContext(Dispatchers.IO) { attempt({ _error.value = it }) { timeline.loadOlder(PAGE) } }
            if (reached == true) _reachedStart.value = true
        } finally {
            _loadingOlder.value = false
        }
    }

    fun dismissError() { _error.value = null }

    fun close() {
        // Leaving the conversation ends our composing state for the peer.
        if (composing.value) timeline?.let { t -> runCatching { t.setTyping(false) } }
        scope.cancel()
    }

    private fun action(call: (TimelineService) -> Unit): Job = scope.launch {
        val timeline = timeline ?: return@launch
        withContext(Dispatchers.IO) { attempt({ _error.value = it }) { call(timeline) } }
    }

    companion object {
        private const val PAGE = 50u

        fun row(item: TimelineItem): ConversationRow = when (item) {
            is TimelineItem.DateSeparator -> ConversationRow.DateSeparator(Text.day(item.day), "d${item.day}")
            is TimelineItem.Message -> message(item.message)
        }

        fun message(m: TimelineMessage): ConversationRow.Message {
            val status = MessageStatus.of(m.state)
            return ConversationRow.Message(
                id = m.id,
                outgoing = m.outgoing,
                body = m.body,
                timeText = Text.timeOfDay(m.timestamp),
                status = status,
                statusText = status.text,
                failureText = if (status == MessageStatus.Failed) {
                    m.failureReason?.let { "Not sent: $it" } ?: "Not sent."
                } else null,
                canRetry = m.outgoing && status == MessageStatus.Failed,
                attachment = m.attachment?.let(::attachment),
            )
        }

        fun attachment(a: TimelineAttachment): AttachmentRow {
            val state = when (a.state) {
                TransferState.OFFERED -> AttachmentState.Offered
                TransferState.QUEUED -> AttachmentState.Queued
                TransferState.TRANSFERRING -> AttachmentState.Transferring
                TransferState.DONE -> AttachmentState.Done
                TransferState.FAILED -> AttachmentState.Failed
                TransferState.CANCELLED -> AttachmentState.Cancelled
            }
            val size = (a.size ?: a.total)?.toLong()
            val total = (a.total ?: a.size)?.toLong()
            val progress = if (state == AttachmentState.Transferring && total != null && total > 0) {
                (a.transferred.toDouble() / total).toFloat().coerceIn(0f, 1f)
            } else null
            val upload = a.direction == TransferDirection.UPLOAD
            return AttachmentRow(
                fileName = a.fileName,
                isUpload = upload,
                sizeText = size?.let(Text::size),
                progress = progress,
                state = state,
                stateText = when (state) {
                    AttachmentState.Offered -> "Tap to download"
                    AttachmentState.Queued -> "Waiting…"
                    AttachmentState.Transferring -> when {
                        progress != null && total != null -> "${(progress * 100).roundToInt()}% of ${Text.size(total)}"
                        upload -> "Uploading…"
                        else -> "Downloading…"
                    }
                    AttachmentState.Done -> ""
                    AttachmentState.Failed -> if (upload) "Upload failed" else "Download failed"
                    AttachmentState.Cancelled -> "Cancelled"
                },
                errorText = if (state == AttachmentState.Failed) failureText(a) else null,
                canDownload = !upload && state in setOf(AttachmentState.Offered, AttachmentState.Failed, AttachmentState.Cancelled),
                canCancel = state == AttachmentState.Queued || state == AttachmentState.Transferring,
                canRetry = upload && (state == AttachmentState.Failed || state == AttachmentState.Cancelled),
                localPath = a.localPath,
                mediaType = a.mediaType,
                isImage = a.mediaType?.startsWith("image/") == true,
            )
        }

        private fun failureText(a: TimelineAttachment): String = when (a.failure) {
            TransferFailure.NETWORK -> "The connection broke off."
            TransferFailure.HTTP -> "The file server answered with an error."
            TransferFailure.TLS -> "A secure connection to the file server failed."
            TransferFailure.TOO_LARGE -> "The file is too large for the server."
            TransferFailure.DISK_FULL -> "This device is full."
            TransferFailure.CANCELLED -> "Cancelled."
            TransferFailure.NOT_HTTPS -> "The file's address is not secure (not HTTPS)."
            TransferFailure.FILE_MISSING -> "The file is no longer on this device."
            TransferFailure.SERVER_REFUSED -> "The server refused the file."
            TransferFailure.NO_UPLOAD_SERVICE -> "Your server does not accept files."
            TransferFailure.LOCAL -> "The file could not be saved on this device."
            null -> a.failureReason ?: "The transfer failed."
        }
    }
}
