// The process: the presentation layer's AppModel with the Android ports, created once; the
// foreground signal (client state indication) from ProcessLifecycleOwner; the network monitor;
// the signed-in account's CallModel, which lives as long as the account (calls outlast screens)
// and takes Telecom's and the notification's actions.
package org.linnet.app.platform

import android.app.Application
import androidx.lifecycle.DefaultLifecycleObserver
import androidx.lifecycle.LifecycleOwner
import androidx.lifecycle.ProcessLifecycleOwner
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import org.linnet.app.BuildConfig
import org.linnet.app.presentation.AppModel
import org.linnet.app.presentation.CallModel
import org.linnet.app.presentation.PlatformPorts
import org.linnet.app.presentation.Screen

class LinnetApplication : Application() {
    /** Lives as long as the process; models that outlast screens run in children of it. */
    val appScope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate)

    lateinit var secrets: KeystoreSecretStorage
        private set
    lateinit var notifications: Notifications
        private set
    lateinit var notificationPermission: AndroidNotificationPermission
        private set
    lateinit var microphonePermission: PermissionAsker
        private set
    lateinit var audioDevices: AndroidAudioDevices
        private set
    lateinit var telecom: TelecomCallIntegration
        private set
    lateinit var appModel: AppModel
        private set

    /** The SDK's data (database, files): private app storage, not backed up. */
    val dataDir: File by lazy { File(filesDir, "linnet").apply { mkdirs() } }

    private val _callModel = MutableStateFlow<CallModel?>(null)
    /** The signed-in account's calls; null on the sign-in screen. */
    val callModel: StateFlow<CallModel?> = _callModel.asStateFlow()
    private var callScope: CoroutineScope? = null

    @Volatile var inForeground = false
        private set

    override fun onCreate() {
        super.onCreate()
        secrets = KeystoreSecretStorage(this)
        notifications = Notifications(this).apply { createChannels() }
        notificationPermission = AndroidNotificationPermission(this)
        microphonePermission = PermissionAsker(this, android.Manifest.permission.RECORD_AUDIO)
        audioDevices = AndroidAudioDevices(this)
        telecom = TelecomCallIntegration(this, audioDevices, notifications)

        appModel = AppModel(
            dataDir = dataDir.absolutePath,
            secrets = secrets,
            ports = PlatformPorts(
                notificationPermission = notificationPermission,
                pushTokens = FcmPushTokenSource(this),
                audioDevices = audioDevices,
                audioRoute = AndroidAudioRoute(this),
                callIntegration = telecom,
            ),
            pushAppServer = BuildConfig.PUSH_APP_SERVER,
            scope = appScope,
            logFilter = if (BuildConfig.DEBUG) "linnet=debug,info" else "info",
        )
        appModel.setNetworkMonitor(AndroidNetworkMonitor(this))

        ProcessLifecycleOwner.get().lifecycle.addObserver(object : DefaultLifecycleObserver {
            override fun onStart(owner: LifecycleOwner) {
                inForeground = true
                appModel.setForeground(true)
            }

            override fun onStop(owner: LifecycleOwner) {
                inForeground = false
                appModel.setForeground(false)
            }
        })

        // One CallModel per signed-in account, wired to Telecom's and the notifications' actions.
        appScope.launch {
            var account: String? = null
            appModel.screen.collect { screen ->
                val jid = (screen as? Screen.Main)?.jid
                if (jid == account) return@collect
                account = jid
                closeCallModel()
                if (jid != null) openCallModel()
            }
        }
        appModel.start()
    }

    private fun openCallModel() {
        val scope = CoroutineScope(appScope.coroutineContext + SupervisorJob(appScope.coroutineContext[kotlinx.coroutines.Job]))
        val model = appModel.callModel(scope) ?: run { scope.cancel(); return }
        callScope = scope
        telecom.register()
        telecom.actions = object : CallActions {
            override fun answer() { model.answer() }
            override fun decline() { model.decline() }
            override fun hangUp() { model.hangUp() }
            override fun pressDigit(digit: Char) { model.pressDigit(digit) }
        }
        _callModel.value = model
    }

    private fun closeCallModel() {
        telecom.actions = null
        _callModel.value?.close()
        _callModel.value = null
        callScope?.cancel()
        callScope = null
    }
}
