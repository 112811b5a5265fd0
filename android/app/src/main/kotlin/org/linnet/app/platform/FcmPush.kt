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
import kotlinx.coroutines.suspendCancellableCoroutine
import org.linnet.app.presentation.PushTokenSource
import org.linnet.sdk.PushPlatform

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
