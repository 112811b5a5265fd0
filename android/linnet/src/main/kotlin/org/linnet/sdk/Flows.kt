// Kotlin coroutines adapters over Linnet's listeners: presentation-level code, no Android
// imports, compiled and tested on the JVM against the real bindings (bindings/tests/kotlin).
package org.linnet.sdk

import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.scan
import kotlinx.coroutines.flow.drop

/** One list change, whatever list it belongs to. */
sealed interface ListChange<out T> {
    data class Reset<T>(val values: List<T>) : ListChange<T>
    data class Insert<T>(val index: Int, val value: T) : ListChange<T>
    data class Set<T>(val index: Int, val value: T) : ListChange<T>
    data class Remove(val index: Int) : ListChange<Nothing>
    data class Move(val from: Int, val to: Int) : ListChange<Nothing>
}

/** Applies a batch of changes in order, as a RecyclerView/LazyColumn adapter would. */
fun <T> List<T>.applying(changes: List<ListChange<T>>): List<T> {
    val list = toMutableList()
    for (change in changes) {
        when (change) {
            is ListChange.Reset -> { list.clear(); list.addAll(change.values) }
            is ListChange.Insert -> list.add(change.index, change.value)
            is ListChange.Set -> list[change.index] = change.value
            is ListChange.Remove -> list.removeAt(change.index)
            is ListChange.Move -> list.add(change.to, list.removeAt(change.from))
        }
    }
    return list
}

fun ChatListDiff.toChange(): ListChange<ChatListItem> = when (this) {
    is ChatListDiff.Reset -> ListChange.Reset(values)
    is ChatListDiff.Insert -> ListChange.Insert(index.toInt(), value)
    is ChatListDiff.Set -> ListChange.Set(index.toInt(), value)
    is ChatListDiff.Remove -> ListChange.Remove(index.toInt())
    is ChatListDiff.Move -> ListChange.Move(from.toInt(), to.toInt())
}

fun TimelineDiff.toChange(): ListChange<TimelineItem> = when (this) {
    is TimelineDiff.Reset -> ListChange.Reset(values)
    is TimelineDiff.Insert -> ListChange.Insert(index.toInt(), value)
    is TimelineDiff.Set -> ListChange.Set(index.toInt(), value)
    is TimelineDiff.Remove -> ListChange.Remove(index.toInt())
    is TimelineDiff.Move -> ListChange.Move(from.toInt(), to.toInt())
}

fun ContactsDiff.toChange(): ListChange<ContactItem> = when (this) {
    is ContactsDiff.Reset -> ListChange.Reset(values)
    is ContactsDiff.Insert -> ListChange.Insert(index.toInt(), value)
    is ContactsDiff.Set -> ListChange.Set(index.toInt(), value)
    is ContactsDiff.Remove -> ListChange.Remove(index.toInt())
    is ContactsDiff.Move -> ListChange.Move(from.toInt(), to.toInt())
}

/**
 * A subscription as a cold Flow: collecting subscribes, cancelling the collector cancels the
 * subscription. Unbounded buffer: a dropped batch would corrupt the list being rebuilt.
 */
private fun <T> subscriptionFlow(subscribe: ((T) -> Unit) -> TaskHandle): Flow<T> = callbackFlow {
    val handle = subscribe { value -> trySend(value) }
    awaitClose {
        handle.cancel()
        handle.close()
    }
}.buffer(Channel.UNLIMITED)

/** Snapshots of a list rebuilt from its change batches: first the full list, then each update. */
private fun <T> Flow<List<ListChange<T>>>.snapshots(): Flow<List<T>> =
    scan(emptyList<T>()) { list, changes -> list.applying(changes) }.drop(1)

/** Change batches of the chat list; the first is a `Reset`. */
fun ChatListService.changes(): Flow<List<ListChange<ChatListItem>>> = subscriptionFlow { emit ->
    subscribe(object : ChatListListener {
        override fun onUpdate(diffs: List<ChatListDiff>) = emit(diffs.map { it.toChange() })
    })
}

/** The chat list, whole, each time it changes (for a ViewModel's StateFlow). */
fun ChatListService.observe(): Flow<List<ChatListItem>> = changes().snapshots()

fun TimelineService.changes(): Flow<List<ListChange<TimelineItem>>> = subscriptionFlow { emit ->
    subscribe(object : TimelineListener {
        override fun onUpdate(diffs: List<TimelineDiff>) = emit(diffs.map { it.toChange() })
    })
}

fun TimelineService.observe(): Flow<List<TimelineItem>> = changes().snapshots()

fun ContactsService.changes(): Flow<List<ListChange<ContactItem>>> = subscriptionFlow { emit ->
    subscribe(object : ContactsListener {
        override fun onUpdate(diffs: List<ContactsDiff>) = emit(diffs.map { it.toChange() })
    })
}

fun ContactsService.observe(): Flow<List<ContactItem>> = changes().snapshots()

/** The connection state: the current one first, then every change. */
fun ConnectionController.states(): Flow<ConnectionState> = subscriptionFlow { emit ->
    subscribe(object : ConnectionListener {
        override fun onState(state: ConnectionState) = emit(state)
    })
}

/**
 * Archive sync status of the chat list: the current one first, then its changes (coalesced).
 * (Not `syncStatus()`: the service's own member of that name, the current value, would hide it.)
 */
fun ChatListService.syncStatuses(): Flow<SyncStatus> = subscriptionFlow { emit ->
    subscribeSync(object : SyncListener {
        override fun onSync(status: SyncStatus) = emit(status)
    })
}

/** Whether the peer is typing: the current value first, then every change. */
fun TimelineService.typing(): Flow<Boolean> = subscriptionFlow { emit ->
    subscribeTyping(object : TypingListener {
        override fun onTyping(typing: Boolean) = emit(typing)
    })
}

/**
 * The call screen: the call on it first (null: no call), then every change; the duration ticks
 * every second while connected. An ended call stays (phase `ENDED`, with its `endReason`) until
 * the next call starts.
 */
fun CallService.states(): Flow<CallScreenState?> = subscriptionFlow { emit ->
    subscribe(object : CallScreenListener {
        override fun onCall(state: CallScreenState?) = emit(state)
    })
}
