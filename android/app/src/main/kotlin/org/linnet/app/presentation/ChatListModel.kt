// The list of conversations, the connection banner above it and the archive sync progress.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import org.linnet.sdk.Availability
import org.linnet.sdk.ChatListItem
import org.linnet.sdk.ConnectionState
import org.linnet.sdk.FailureKind
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.SyncStatus
import org.linnet.sdk.observe
import org.linnet.sdk.states
import org.linnet.sdk.syncStatuses
import kotlin.math.roundToInt

data class ChatRow(
    /** The peer's bare JID: the row's identity, and what opens the conversation. */
    val peer: String,
    val title: String,
    val unread: Int,
    /** "3", "99+", or null for none. */
    val unreadText: String?,
    /** ms since the epoch; rows are sorted by it, newest first. */
    val lastActivity: Long,
    val lastActivityText: String,
    /** The last message ("You: " before our own), or null for none. */
    val previewText: String?,
    /** The last message's delivery when it is ours, else null. */
    val previewStatus: MessageStatus?,
    val typing: Boolean,
    /** "typing…" while the peer types, else null: shown instead of the preview. */
    val typingText: String?,
    val presence: Availability,
    val presenceText: String,
)

/** The connection problem shown above the list; none while online. */
data class ConnectionBanner(val text: String, val canRetry: Boolean)

/** Archive sync under way: "Syncing history… 40%". */
data class SyncBanner(val text: String, val progress: Float?)

class ChatListModel internal constructor(
    private val client: LinnetClient,
    scope: CoroutineScope,
) {
    private val scope = scope.childScope()

    private val _rows = MutableStateFlow<List<ChatRow>>(emptyList())
    val rows: StateFlow<List<ChatRow>> = _rows.asStateFlow()
    private val _totalUnread = MutableStateFlow(0)
    val totalUnread: StateFlow<Int> = _totalUnread.asStateFlow()
    private val _banner = MutableStateFlow<ConnectionBanner?>(null)
    val banner: StateFlow<ConnectionBanner?> = _banner.asStateFlow()
    private val _sync = MutableStateFlow<SyncBanner?>(null)
    val sync: StateFlow<SyncBanner?> = _sync.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    init {
        // The state now, so a view never shows "online" before the first update arrives.
        _banner.value = attempt({ _error.value = it }) { banner(client.connection().state()) }
        this.scope.launch {
            client.chatList().observe()
                .map { items -> items.map(::row) }
                .flowOn(Dispatchers.Default)
                .catch { _error.value = ErrorText.of(it) }
                .collect { rows ->
                    _rows.value = rows
                    _totalUnread.value = rows.sumOf { it.unread }
                }
        }
        this.scope.launch {
            client.connection().states()
                .catch { _error.value = ErrorText.of(it) }
                .collect { _banner.value = banner(it) }
        }
        this.scope.launch {
            client.chatList().syncStatuses()
                .catch { _error.value = ErrorText.of(it) }
                .collect { _sync.value = syncBanner(it) }
        }
    }

    /** Reconnects now instead of after the backoff. */
    fun retryConnection() {
        attempt({ _error.value = it }) { client.connection().reconnectNow() }
    }

    fun dismissError() { _error.value = null }

    fun close() = scope.cancel()

    companion object {
        fun row(item: ChatListItem): ChatRow {
            val preview = item.preview
            val unread = item.unread.toInt()
            return ChatRow(
                peer = item.peer,
                title = item.displayName.ifBlank { Text.localPart(item.peer) },
                unread = unread,
                unreadText = when {
                    unread <= 0 -> null
                    unread > 99 -> "99+"
                    else -> unread.toString()
                },
                lastActivity = item.lastActivity,
                lastActivityText = Text.whenShort(item.lastActivity),
                previewText = preview?.let { if (it.outgoing) "You: ${it.body}" else it.body },
                previewStatus = preview?.takeIf { it.outgoing }?.let { MessageStatus.of(it.state) },
                typing = item.typing,
                typingText = if (item.typing) "typing…" else null,
                presence = item.presence,
                presenceText = Text.presence(item.presence),
            )
        }

        fun banner(state: ConnectionState): ConnectionBanner? = when (state) {
            is ConnectionState.Online -> null
            is ConnectionState.Connecting -> ConnectionBanner("Connecting…", canRetry = false)
            is ConnectionState.Offline -> ConnectionBanner("Offline", canRetry = true)
            is ConnectionState.Disconnected -> ConnectionBanner(
                when (state.failure) {
                    FailureKind.AUTH -> "Your password was not accepted. Sign out and in again."
                    FailureKind.SECURITY -> "A secure connection to the server failed: ${state.reason}"
                    FailureKind.NETWORK -> "No connection to the server. Retrying…"
                    FailureKind.SERVER -> "The server has a problem: ${state.reason}"
                    FailureKind.LOCAL -> "Disconnected: ${state.reason}"
                    null -> "Disconnected. Retrying…"
                },
                canRetry = true,
            )
        }

        fun syncBanner(status: SyncStatus): SyncBanner? {
            if (!status.syncing) return null
            val progress = status.progress?.coerceIn(0f, 1f)
            val text = when {
                progress != null -> "Syncing history… ${(progress * 100).roundToInt()}%"
                status.fetched > 0u -> "Syncing history… ${status.fetched} messages"
                else -> "Syncing history…"
            }
            return SyncBanner(text, progress)
        }
    }
}
