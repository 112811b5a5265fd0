// The one Activity: Compose content, the runtime permission launchers (notifications,
// microphone) handed to the platform ports, and the intents of notifications (open a
// conversation, show / answer a call).
package org.linnet.app.platform

import android.content.Intent
import android.os.Build
import android.os.Bundle
import android.view.WindowManager
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.ActivityResultLauncher
import androidx.activity.result.contract.ActivityResultContracts
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.flatMapLatest
import kotlinx.coroutines.flow.flowOf
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import org.linnet.app.ui.LinnetRoot
import org.linnet.app.ui.LinnetTheme

@OptIn(ExperimentalCoroutinesApi::class)
class MainActivity : ComponentActivity() {
    private val app get() = application as LinnetApplication

    /** A conversation a notification asked to open; the UI consumes it. */
    private val openPeer = MutableStateFlow<String?>(null)

    private var notificationLauncher: ActivityResultLauncher<String>? = null
    private lateinit var microphoneLauncher: ActivityResultLauncher<String>

    override fun onCreate(savedInstanceState: Bundle?) {
        enableEdgeToEdge()
        super.onCreate(savedInstanceState)

        // Launchers are registered before the Activity starts (a requirement of the API).
        app.notificationPermission.asker?.let { asker ->
            notificationLauncher = registerForActivityResult(ActivityResultContracts.RequestPermission(), asker::onResult)
                .also(asker::attach)
        }
        microphoneLauncher = registerForActivityResult(ActivityResultContracts.RequestPermission(), app.microphonePermission::onResult)
            .also(app.microphonePermission::attach)

        setContent {
            LinnetTheme {
                LinnetRoot(
                    app = app,
                    openPeer = openPeer,
                    ensureMicrophone = { app.microphonePermission.request() },
                    shareLog = { fileName, text -> lifecycleScope.launch { Files.shareLog(this@MainActivity, fileName, text) } },
                )
            }
        }
        handle(intent)

        // Over the lock screen only while a call is on (ringing or connected): the rest of the
        // app stays behind the keyguard.
        lifecycleScope.launch {
            app.callModel
                .flatMapLatest { model -> model?.call ?: flowOf(null) }
                .map { call -> call != null && !call.isEnded }
                .distinctUntilChanged()
                .collect { live -> showOverLockScreen(live) }
        }
    }

    private fun showOverLockScreen(on: Boolean) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O_MR1) {
            setShowWhenLocked(on)
            setTurnScreenOn(on)
        } else {
            @Suppress("DEPRECATION")
            val flags = WindowManager.LayoutParams.FLAG_SHOW_WHEN_LOCKED or WindowManager.LayoutParams.FLAG_TURN_SCREEN_ON
            if (on) window.addFlags(flags) else window.clearFlags(flags)
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        handle(intent)
    }

    override fun onDestroy() {
        notificationLauncher?.let { launcher -> app.notificationPermission.asker?.detach(launcher, isFinishing) }
        app.microphonePermission.detach(microphoneLauncher, isFinishing)
        super.onDestroy()
    }

    private fun handle(intent: Intent?) {
        when (intent?.action) {
            ACTION_OPEN_CONVERSATION -> intent.getStringExtra(EXTRA_PEER)?.let {
                app.notifications.cancelConversation(it)
                openPeer.value = it
            }
            ACTION_ANSWER_CALL -> {
                val callId = intent.getStringExtra(EXTRA_CALL)
                callId?.let(app.notifications::cancelIncomingCall)
                // The microphone first (the call would be silent without it), then answer.
                lifecycleScope.launch {
                    app.microphonePermission.request()
                    app.awaitCallModel()?.answer(callId)
                }
            }
            ACTION_SHOW_CALL -> Unit // the call screen shows over everything while a call is on
        }
        // Handled once: a configuration change must not answer again.
        if (intent?.action in setOf(ACTION_OPEN_CONVERSATION, ACTION_ANSWER_CALL, ACTION_SHOW_CALL)) {
            setIntent(Intent(this, MainActivity::class.java))
        }
    }
}
