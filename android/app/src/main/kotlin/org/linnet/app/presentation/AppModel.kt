// The app as a whole: the SDK opened once, which screen shows (sign-in or the account's main
// screens), foreground/network signals, sign-out, and the factories of the screens' models.
package org.linnet.app.presentation

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.LinnetSdk
import org.linnet.sdk.NetworkMonitor
import org.linnet.sdk.PlatformConfig
import org.linnet.sdk.SecretStorage
import org.linnet.sdk.initPlatform
import java.util.concurrent.atomic.AtomicBoolean

sealed interface Screen {
    /** Before start() decided. */
    data object Starting : Screen
    data object SignIn : Screen
    data class Main(val jid: String) : Screen
    /** The local data could not be opened: nothing works; [message] says why. */
    data class Broken(val message: String) : Screen
}

class AppModel(
    /** The app's private files directory. */
    dataDir: String,
    secrets: SecretStorage,
    private val ports: PlatformPorts,
    /** The push app server's JID (e.g. "push.linnet.org"). */
    private val pushAppServer: String,
    scope: CoroutineScope,
    logFilter: String = "info",
) {
    private val scope = scope.childScope()

    /** The SDK, or null when it could not be opened (then [screen] is [Screen.Broken]). */
    private val sdk: LinnetSdk?

    private val _screen = MutableStateFlow<Screen>(Screen.Starting)
    val screen: StateFlow<Screen> = _screen.asStateFlow()

    /** A failed app-level action (sign-out), for a snackbar; null when none. */
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    init {
        initPlatformOnce(logFilter)
        sdk = try {
            LinnetSdk(dataDir, secrets)
        } catch (e: Exception) {
            _screen.value = Screen.Broken("Linnet cannot open its data on this device. ${ErrorText.of(e)}")
            null
        }
    }

    /** The signed-in account's client, or null on the sign-in screen. */
    val client: LinnetClient?
        get() {
            val main = _screen.value as? Screen.Main ?: return null
            return attempt({ _error.value = it }) { sdk?.client(main.jid) }
        }

    /**
     * Shows the account's screens and connects it if one exists, else the sign-in screen. A
     * failed connection is shown by the chat list's banner, not here: the app keeps retrying.
     */
    fun start(): Job = scope.launch {
        val sdk = sdk ?: return@launch
        val accounts = withContext(Dispatchers.IO) { attempt({ _error.value = it }) { sdk.accounts() } } ?: return@launch
        val jid = accounts.firstOrNull()?.jid
        if (jid == null) {
            _screen.value = Screen.SignIn
            return@launch
        }
        _screen.value = Screen.Main(jid)
        withContext(Dispatchers.IO) {
            try {
                sdk.client(jid).connection().start()
            } catch (e: CancellationException) {
                throw e
            } catch (_: Exception) {
                // Reported by the connection state (ChatListModel.banner); reconnection goes on.
            }
        }
    }

    /** The app came to the foreground or left it: the server is told (CSI), reconnection paced. */
    fun setForeground(foreground: Boolean) {
        sdk?.setForeground(foreground)
    }

    /** The platform's network monitor (ConnectivityManager): reconnects at once on a network. */
    fun setNetworkMonitor(monitor: NetworkMonitor) {
        sdk?.setNetworkMonitor(monitor)
    }

    /**
     * Signs out: push is unregistered while the server can still be told, then the account and
     * its data are removed. A failed push logout does not keep the user signed in.
     */
    fun signOut(): Job = scope.launch {
        val sdk = sdk ?: return@launch
        val main = _screen.value as? Screen.Main ?: return@launch
        withContext(Dispatchers.IO) {
            try {
                sdk.client(main.jid).push().logout()
            } catch (e: CancellationException) {
                throw e
            } catch (_: Exception) {
                // Offline or refused: the app server forgets the device when its pushes bounce.
            }
            attempt({ _error.value = it }) { sdk.removeAccount(main.jid) }
        }
        _screen.value = Screen.SignIn
    }

    fun dismissError() { _error.value = null }

    // Factories of the screens' models, for the account signed in now. Each takes the scope of
    // the screen's ViewModel; the screen closes the model when it goes.

    fun signInModel(scope: CoroutineScope): SignInModel? {
        val sdk = sdk ?: return null
        return SignInModel(sdk, scope) { jid -> _screen.value = Screen.Main(jid) }
    }

    fun chatListModel(scope: CoroutineScope): ChatListModel? = client?.let { ChatListModel(it, scope) }

    fun conversationModel(peer: String, scope: CoroutineScope): ConversationModel? =
        client?.let { ConversationModel(it, peer, scope) }

    fun contactsModel(scope: CoroutineScope): ContactsModel? = client?.let { ContactsModel(it, scope) }

    fun callModel(scope: CoroutineScope): CallModel? =
        client?.let { CallModel(it, scope, ports.audioDevices, ports.audioRoute, ports.callIntegration) }

    fun settingsModel(scope: CoroutineScope): SettingsModel? =
        client?.let { SettingsModel(it, scope, ports.notificationPermission, ports.pushTokens, pushAppServer) }

    fun diagnosticsModel(scope: CoroutineScope, appVersion: String? = null): DiagnosticsModel? =
        client?.let { DiagnosticsModel(it, scope, appVersion) }

    fun close() {
        scope.cancel()
    }

    private companion object {
        private val platformStarted = AtomicBoolean(false)

        /** initPlatform is once per process; a second AppModel (tests, process restarts) skips it. */
        fun initPlatformOnce(logFilter: String) {
            if (platformStarted.compareAndSet(false, true)) {
                runCatching { initPlatform(PlatformConfig(logFilter = logFilter, logToStderr = false, lightweight = false)) }
            }
        }
    }
}
