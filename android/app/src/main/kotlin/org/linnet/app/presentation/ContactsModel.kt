// The roster: contacts, the requests of people who want to see our presence, and changes to both.
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
import org.linnet.sdk.Availability
import org.linnet.sdk.ContactItem
import org.linnet.sdk.ContactsService
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.SubscriptionState
import org.linnet.sdk.observe

data class ContactRow(
    val jid: String,
    val name: String,
    val presence: Availability,
    /** "Online", "Away", … or the contact's own status text after it. */
    val presenceText: String,
    /** "Waiting for approval", "Not sharing presence", … or null when all is mutual. */
    val subscriptionText: String?,
    /** They asked to see our presence: approve or deny. */
    val pendingRequest: Boolean,
    /** We asked to see theirs and wait. */
    val awaitingApproval: Boolean,
)

class ContactsModel internal constructor(
    private val client: LinnetClient,
    scope: CoroutineScope,
) {
    private val scope = scope.childScope()

    /** Contacts proper: everyone in the roster except those who only asked. */
    private val _contacts = MutableStateFlow<List<ContactRow>>(emptyList())
    val contacts: StateFlow<List<ContactRow>> = _contacts.asStateFlow()
    /** People asking to see our presence. */
    private val _requests = MutableStateFlow<List<ContactRow>>(emptyList())
    val requests: StateFlow<List<ContactRow>> = _requests.asStateFlow()
    private val _busy = MutableStateFlow(false)
    val busy: StateFlow<Boolean> = _busy.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    init {
        this.scope.launch {
            client.contacts().observe()
                .catch { _error.value = ErrorText.of(it) }
                .collect { items ->
                    val sorted = items.sortedBy { it.displayName.ifBlank { it.jid }.lowercase() }
                    _requests.value = sorted.filter { it.pendingRequest }.map(::row)
                    _contacts.value = sorted.filterNot(::isOnlyARequest).map(::row)
                }
        }
    }

    /** Adds [jid] (named [name], optional) and asks to see their presence. */
    fun add(jid: String, name: String? = null): Job = scope.launch {
        val address = jid.trim()
        if (!looksLikeAddress(address)) {
            _error.value = "Enter an address like name@example.org."
            return@launch
        }
        perform { it.add(address, name?.trim()?.ifEmpty { null }) }
    }

    /** Lets [jid] see our presence (answers their request). */
    fun approve(jid: String): Job = scope.launch { perform { it.approve(jid) } }

    /** Refuses [jid]'s request. */
    fun deny(jid: String): Job = scope.launch { perform { it.deny(jid) } }

    /** Removes [jid] from the contacts (both directions of presence end). */
    fun remove(jid: String): Job = scope.launch { perform { it.remove(jid) } }

    fun dismissError() { _error.value = null }

    fun close() = scope.cancel()

    private suspend fun perform(call: suspend (ContactsService) -> Unit) {
        _busy.value = true
        _error.value = null
        try {
            withContext(Dispatchers.IO) { attempt({ _error.value = it }) { call(client.contacts()) } }
        } finally {
            _busy.value = false
        }
    }

    companion object {
        /** Someone who asked but shares nothing with us either way is a request, not a contact. */
        private fun isOnlyARequest(item: ContactItem): Boolean =
            item.pendingRequest && !item.awaitingApproval &&
                (item.subscription == null || item.subscription == SubscriptionState.NONE)

        internal fun looksLikeAddress(jid: String): Boolean {
            val at = jid.indexOf('@')
            return at > 0 && at < jid.length - 1 && jid.none { it.isWhitespace() }
        }

        fun row(item: ContactItem): ContactRow {
            val presence = Text.presence(item.presence)
            return ContactRow(
                jid = item.jid,
                name = item.displayName.ifBlank { Text.localPart(item.jid) },
                presence = item.presence,
                presenceText = item.status?.takeIf { it.isNotBlank() }?.let { "$presence: $it" } ?: presence,
                subscriptionText = when {
                    item.pendingRequest -> "Wants to see when you are online"
                    item.awaitingApproval -> "Waiting for approval"
                    item.subscription == SubscriptionState.BOTH -> null
                    item.subscription == SubscriptionState.TO -> "Does not see when you are online"
                    item.subscription == SubscriptionState.FROM -> "Does not share when they are online"
                    else -> "Not sharing presence"
                },
                pendingRequest = item.pendingRequest,
                awaitingApproval = item.awaitingApproval,
            )
        }
    }
}
