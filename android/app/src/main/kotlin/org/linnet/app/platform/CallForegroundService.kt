// Keeps a live call going when the app leaves the screen: a foreground service of type phoneCall
// (allowed by MANAGE_OWN_CALLS for self-managed calls) plus microphone (when the permission is
// granted), with the ongoing-call notification (CallStyle, hang-up button). LinnetApplication
// starts it while a call rings out or is connected and stops it when the call ends.
package org.linnet.app.platform

import android.Manifest
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.os.Build
import android.os.IBinder
import android.util.Log
import androidx.core.app.NotificationCompat
import androidx.core.app.Person
import androidx.core.app.ServiceCompat
import androidx.core.content.ContextCompat

class CallForegroundService : Service() {
    override fun onBind(intent: Intent?): IBinder? = null

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        pendingStarts = maxOf(0, pendingStarts - 1)
        val title = intent?.getStringExtra(EXTRA_TITLE).orEmpty()
        val callId = intent?.getStringExtra(EXTRA_CALL).orEmpty()
        val notification = (application as LinnetApplication).notifications.ongoingCall(callId, title)
        var types = 0
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) {
            types = ServiceInfo.FOREGROUND_SERVICE_TYPE_PHONE_CALL
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R &&
                ContextCompat.checkSelfPermission(this, Manifest.permission.RECORD_AUDIO) == PackageManager.PERMISSION_GRANTED
            ) {
                types = types or ServiceInfo.FOREGROUND_SERVICE_TYPE_MICROPHONE
            }
        }
        val started = startForegroundAs(notification, types) ||
            // Android 14+: the microphone type is a while-in-use permission and throws a
            // SecurityException when the app is in the background (e.g. a call answered from a
            // headset); the phoneCall type alone still keeps the call going.
            ((types and ServiceInfo.FOREGROUND_SERVICE_TYPE_MICROPHONE) != 0 &&
                startForegroundAs(notification, types and ServiceInfo.FOREGROUND_SERVICE_TYPE_MICROPHONE.inv()))
        if (!started || (stopWhenStarted && pendingStarts == 0)) {
            // Not allowed now (Android 12+ background start rules): the call goes on while
            // visible. Or the call ended before the service got here: stop() waited for this.
            stopWhenStarted = false
            stopSelf()
        }
        return START_NOT_STICKY
    }

    private fun startForegroundAs(notification: android.app.Notification, types: Int): Boolean = try {
        ServiceCompat.startForeground(this, NOTIFICATION_ID, notification, types)
        true
    } catch (e: Exception) {
        Log.w("LinnetCall", "no foreground service for the call (types $types)", e)
        false
    }

    companion object {
        const val NOTIFICATION_ID = 0x4c4e // "LN"
        private const val EXTRA_TITLE = "org.linnet.app.CALL_TITLE"

        // Main thread only (LinnetApplication's call collector, onStartCommand). A service started
        // with startForegroundService() must call startForeground() before it is stopped, or the
        // system kills the app ("did not then call Service.startForeground()"): a stop() while a
        // start is on its way is left to onStartCommand.
        private var pendingStarts = 0
        private var stopWhenStarted = false

        fun start(context: Context, callId: String, title: String) {
            val intent = Intent(context, CallForegroundService::class.java)
                .putExtra(EXTRA_CALL, callId)
                .putExtra(EXTRA_TITLE, title)
            try {
                ContextCompat.startForegroundService(context, intent)
                pendingStarts++
                stopWhenStarted = false
            } catch (e: Exception) {
                // ForegroundServiceStartNotAllowedException (the app is in the background).
                Log.w("LinnetCall", "call service not started", e)
            }
        }

        fun stop(context: Context) {
            if (pendingStarts > 0) {
                stopWhenStarted = true
                return
            }
            context.stopService(Intent(context, CallForegroundService::class.java))
        }
    }
}
