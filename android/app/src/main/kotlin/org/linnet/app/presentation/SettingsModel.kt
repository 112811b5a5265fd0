// Preferences and notifications. Notifications follow one rule: the platform's permission comes
// first; nothing is registered for push before the user allowed it.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.NotificationPreview
import org.linnet.sdk.Preferences
import org.linnet.sdk.PushStatus

/** Which files download by themselves (from contacts only: never from strangers). */
enum class DownloadPolicy(val maxBytes: Long, val text: String) {
    Never(0, "Never"),
    SmallFiles(5L * 1024 * 1024, "Small files (up to 5 MB)"),
    Large(100L * 1024 * 1024, "Files up to 100 MB");

    companion object {
        fun of(maxBytes: Long): DownloadPolicy = when {
            maxBytes <= 0 -> Never
            maxBytes <= SmallFiles.maxBytes -> SmallFiles
            else -> Large
        }
    }
}

/** The preview choices, worded. */
fun NotificationPreview.text(): String = when (this) {
    NotificationPreview.FULL -> "Sender and message"
    NotificationPreview.SENDER_ONLY -> "Sender only"
    NotificationPreview.HIDDEN -> "Nothing (\"New message\")"
}

data class PreferencesUi(
    val sendTyping: Boolean,
    val sendReadMarkers: Boolean,
    val relayOnlyCalls: Boolean,
    val downloadPolicy: DownloadPolicy,
    val notificationPreview: NotificationPreview,
)

enum class NotificationState {
    Off,
    /** The system permission dialog is up, or registration under way. */
    Asking,
    On,
    /** The user refused the system permission: only the system settings can change it. */
    Denied,
}

data class NotificationsUi(
    val state: NotificationState,
    /** A sentence about where push stands: "Notifications are on.", "…not registered: reason". */
    val statusText: String,
    /** The SDK's push status (nothing secret in it), for diagnostics. */
    val push: PushStatus?,
)

class SettingsModel internal constructor(
    private val client: LinnetClient,
    scope: CoroutineScope,
    private val permission: NotificationPermission,
    private val tokens: PushTokenSource,
    private val appServer: String,
) {
    private val scope = scope.childScope()

    private val _preferences = MutableStateFlow<PreferencesUi?>(null)
    /** Null until read (or when they cannot be read: then [error] says why). */
    val preferences: StateFlow<PreferencesUi?> = _preferences.asStateFlow()
    private val _notifications = MutableStateFlow(NotificationsUi(NotificationState.Off, OFF_TEXT, null))
    val notifications: StateFlow<NotificationsUi> = _notifications.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    /** One notification change at a time: a second tap must not interleave with the first. */
    private val notificationLock = Mutex()

    init {
        this.scope.launch {
            val read = withContext(Dispatchers.IO) {
                attempt({ _error.value = it }) { ui(client.settings().get()) }
            }
            // The notification state first: once the preferences show, the screen is complete.
            refreshNotifications().join()
            _preferences.value = read
        }
    }

    fun setSendTyping(on: Boolean): Job = change { it.copy(sendTyping = on) }
    fun setSendReadMarkers(on: Boolean): Job = change { it.copy(sendReadMarkers = on) }
    fun setRelayOnlyCalls(on: Boolean): Job = change { it.copy(relayOnlyCalls = on) }
    fun setDownloadPolicy(policy: DownloadPolicy): Job = change { it.copy(autoDownloadMaxBytes = policy.maxBytes.toULong()) }
    fun setNotificationPreview(preview: NotificationPreview): Job = change { it.copy(notificationPreview = preview) }

    /**
     * Turns notifications on: asks the platform first; only when granted is push permitted and
     * the token and app server given to the SDK. Refused: push stays off, nothing registered.
     */
    fun enableNotifications(): Job = scope.launch {
        notificationLock.withLock {
            _error.value = null
            show(NotificationState.Asking, "Asking for permission…", _notifications.value.push)
            val granted = try {
                permission.isGranted() || permission.request()
            } catch (e: kotlinx.coroutines.CancellationException) {
                throw e
            } catch (e: Exception) {
                _error.value = "The notification permission could not be asked: ${e.message}"
                false
            }
            if (!granted) {
                val status = withContext(Dispatchers.IO) {
                    attempt({ _error.value = it }) { client.push().setPermitted(false) }
                }
                show(NotificationState.Denied, DENIED_TEXT, status)
                return@withLock
            }
            show(NotificationState.Asking, "Registering this device…", _notifications.value.push)
            val status = withContext(Dispatchers.IO) {
                attempt({ _error.value = it }) {
                    client.push().setPermitted(true)
                    val token = tokens.currentToken()
                    client.push().setToken(tokens.platform, token)
                    // A build without a push server (blank) registers nowhere, and says so.
                    client.push().setAppServer(appServer.trim().ifEmpty { null })
                }
            }
            if (status == null) {
                // The SDK refused outright: keep what it has now on screen.
                showStatus(withContext(Dispatchers.IO) { runCatching { client.push().status() }.getOrNull() })
            } else {
                showStatus(status)
            }
        }
    }

    /** Turns notifications off: the device is unregistered, the permission stays the system's. */
    fun disableNotifications(): Job = scope.launch {
        notificationLock.withLock {
            val status = withContext(Dispatchers.IO) {
                attempt({ _error.value = it }) { client.push().setPermitted(false) }
            }
            show(NotificationState.Off, OFF_TEXT, status)
        }
    }

    /** The platform issued a new token (or withdrew it: null). */
    fun onTokenChanged(token: String?): Job = scope.launch {
        notificationLock.withLock {
            val status = withContext(Dispatchers.IO) {
                attempt({ _error.value = it }) { client.push().setToken(tokens.platform, token) }
            } ?: return@withLock
            // While off or denied the SDK only stores the token: the screen stays as it is.
            if (status.permitted) showStatus(status) else show(_notifications.value.state, _notifications.value.statusText, status)
        }
    }

    /** Re-reads push and the platform permission (e.g. back from the system settings). */
    fun refreshNotifications(): Job = scope.launch {
        notificationLock.withLock {
            val status = withContext(Dispatchers.IO) {
                attempt({ _error.value = it }) { client.push().status() }
            } ?: return@withLock
            val granted = runCatching { permission.isGranted() }.getOrDefault(false)
            when {
                status.permitted && !granted -> {
                    // Revoked in the system settings: withdraw, as the user would expect.
                    val withdrawn = withContext(Dispatchers.IO) {
                        attempt({ _error.value = it }) { client.push().setPermitted(false) }
                    }
                    show(NotificationState.Denied, DENIED_TEXT, withdrawn ?: status)
                }
                status.permitted -> showStatus(status)
                // Still refused by the system: keep saying so rather than a plain "off".
                _notifications.value.state == NotificationState.Denied && !granted -> show(NotificationState.Denied, DENIED_TEXT, status)
                else -> show(NotificationState.Off, OFF_TEXT, status)
            }
        }
    }

    fun dismissError() { _error.value = null }

    fun close() = scope.cancel()

    private fun change(edit: (Preferences) -> Preferences): Job = scope.launch {
        withContext(Dispatchers.IO) {
            attempt({ _error.value = it }) {
                val settings = client.settings()
                val updated = edit(settings.get())
                settings.set(updated)
                _preferences.value = ui(updated)
            }
        }
    }

    private fun show(state: NotificationState, text: String, push: PushStatus?) {
        _notifications.value = NotificationsUi(state, text, push)
    }

    /** A permitted push status in words. */
    private fun showStatus(status: PushStatus?) {
        if (status == null || !status.permitted) {
            show(NotificationState.Off, OFF_TEXT, status)
            return
        }
        val text = when {
            status.registered -> "Notifications are on."
            status.appServer == null -> "Notifications are allowed, but this build has no notification server: messages show only while Linnet runs."
            status.lastError != null -> "Notifications are allowed, but this device is not registered: ${status.lastError}"
            !status.hasToken -> "Notifications are allowed; waiting for this device's push token."
            else -> "Notifications are allowed; registering this device…"
        }
        show(NotificationState.On, text, status)
    }

    private companion object {
        const val OFF_TEXT = "Notifications are off."
        const val DENIED_TEXT = "Notifications are blocked. Allow them for Linnet in the system settings."

        fun ui(p: Preferences) = PreferencesUi(
            sendTyping = p.sendTyping,
            sendReadMarkers = p.sendReadMarkers,
            relayOnlyCalls = p.relayOnlyCalls,
            downloadPolicy = DownloadPolicy.of(p.autoDownloadMaxBytes.toLong()),
            notificationPreview = p.notificationPreview,
        )
    }
}
