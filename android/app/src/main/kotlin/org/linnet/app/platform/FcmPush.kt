// Firebase Cloud Messaging: the device token for the presentation layer (PushTokenSource), and
// the messaging service: a new token goes to the SDK; a push wakes the account through the SDK
// (LinnetClient.wake: fetch what arrived, store it) and shows what the wake returned.
package org.linnet.app.platform

import android.util.Log
import com.google.firebase.FirebaseApp
import com.google.firebase.messaging.FirebaseMessaging
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import kotlin.coroutines.resume
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull
import org.linnet.app.presentation.PushTokenSource
import org.linnet.app.presentation.Screen
import org.linnet.sdk.PushPlatform
import org.linnet.sdk.WakeOptions

private const val TAG = "LinnetPush"

/** The FCM registration token; null when Firebase is not configured (no google-services.json). */
class FcmPushTokenSource(private val context: android.content.Context) : PushTokenSource {
    override val platform: PushPlatform = PushPlatform.Fcm

    override suspend fun currentToken(): String? {
        if (FirebaseApp.getApps(context).isEmpty()) return null
        return suspendCancellableCoroutine { cont ->
            FirebaseMessaging.getInstance().token.addOnCompleteListener { task ->
                if (task.isSuccessful) {
                    cont.resume(task.result)
                } else {
                    Log.w(TAG, "no FCM token", task.exception)
                    cont.resume(null)
                }
            }
        }
    }
}

/**
 * FCM's entry points. Both run on a background thread of the app's process (Application.onCreate
 * has run: the SDK is open), so the live client is woken (LinnetClient.wake), not a second copy
 * of the database (wakeAccount is for processes without the app, like the iOS extension).
 */
class LinnetMessagingService : FirebaseMessagingService() {
    private val app get() = application as LinnetApplication

    override fun onNewToken(token: String) {
        // A signed-in account hands the new token to its push settings (the SDK re-registers when
        // notifications are on; while off it only keeps it). Signed out: the next
        // enableNotifications() reads the current token anyway.
        runBlocking {
            withTimeoutOrNull(TOKEN_TIMEOUT_MS) {
                val app = app
                withContext(Dispatchers.Main) { app.appModel.screen.first { it !is Screen.Starting } }
                val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate)
                val settings = withContext(Dispatchers.Main) { app.appModel.settingsModel(scope) }
                try {
                    settings?.onTokenChanged(token)?.join()
                } finally {
                    withContext(Dispatchers.Main) { settings?.close() }
                    scope.cancel()
                }
            }
        }
    }

    override fun onMessageReceived(message: RemoteMessage) {
        // The push carries no content (the app server sends none): it only says "something
        // arrived". The wake fetches it over XMPP, stores it, and says what to show.
        runBlocking {
            val report = withTimeoutOrNull(WAKE_TIMEOUT_MS) {
                val app = app
                withContext(Dispatchers.Main) { app.appModel.screen.first { it !is Screen.Starting } }
                val client = app.appModel.client ?: return@withTimeoutOrNull null
                try {
                    client.wake(WakeOptions(deadlineMs = WAKE_DEADLINE_MS.toULong(), notifyRequests = false))
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    Log.w(TAG, "wake failed", e)
                    null
                }
            } ?: return@runBlocking
            // On screen, the app shows new messages itself.
            if (!app.inForeground) app.notifications.showMessages(report.notifications)
            // A call rings through the live connection's CallModel when it has it; otherwise here.
            val onScreen = app.callModel.value?.call?.value
            report.calls.filter { it.callId != onScreen?.id }.let(app.notifications::showCalls)
        }
    }

    private companion object {
        const val TOKEN_TIMEOUT_MS = 15_000L
        /** FCM allows about 20 s for a high-priority message; the SDK's deadline stays inside it. */
        const val WAKE_TIMEOUT_MS = 18_000L
        const val WAKE_DEADLINE_MS = 15_000L
    }
}
