// System notifications: the channels, new messages from a push wake (texts as the SDK returned
// them, already shaped by the preview preference), and the incoming call (full-screen, CallStyle
// with answer / decline). Nothing here decides what to show: the SDK's WakeReport does.
package org.linnet.app.platform

import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.media.AudioAttributes
import android.media.RingtoneManager
import androidx.core.app.NotificationCompat
import androidx.core.app.NotificationManagerCompat
import androidx.core.app.Person
import kotlinx.coroutines.launch
import org.linnet.sdk.WakeCall
import org.linnet.sdk.WakeNotification

const val ACTION_OPEN_CONVERSATION = "org.linnet.app.OPEN_CONVERSATION"
const val ACTION_ANSWER_CALL = "org.linnet.app.ANSWER_CALL"
const val ACTION_SHOW_CALL = "org.linnet.app.SHOW_CALL"
const val ACTION_DECLINE_CALL = "org.linnet.app.DECLINE_CALL"
const val ACTION_HANG_UP_CALL = "org.linnet.app.HANG_UP_CALL"
const val EXTRA_PEER = "org.linnet.app.PEER"
const val EXTRA_CALL = "org.linnet.app.CALL"

class Notifications(context: Context) {
    private val context = context.applicationContext
    private val manager = NotificationManagerCompat.from(this.context)

    fun createChannels() {
        val system = context.getSystemService(NotificationManager::class.java)
        system.createNotificationChannel(
            NotificationChannel(CHANNEL_MESSAGES, context.getString(org.linnet.app.R.string.channel_messages), NotificationManager.IMPORTANCE_HIGH)
                .apply { description = context.getString(org.linnet.app.R.string.channel_messages_description) },
        )
        // A self-managed Telecom call rings through its notification: Telecom plays no ringtone
        // for it. The channel's sound is the ringtone (as a ringtone, not a notification blip),
        // repeated by FLAG_INSISTENT until the call is answered, declined or gone. A channel's
        // sound cannot change once created: the first channel (id "calls", default notification
        // sound) is replaced by this one.
        system.deleteNotificationChannel(LEGACY_CHANNEL_CALLS)
        system.createNotificationChannel(
            NotificationChannel(CHANNEL_CALLS, context.getString(org.linnet.app.R.string.channel_calls), NotificationManager.IMPORTANCE_HIGH)
                .apply {
                    description = context.getString(org.linnet.app.R.string.channel_calls_description)
                    setSound(
                        RingtoneManager.getDefaultUri(RingtoneManager.TYPE_RINGTONE),
                        AudioAttributes.Builder()
                            .setUsage(AudioAttributes.USAGE_NOTIFICATION_RINGTONE)
                            .setContentType(AudioAttributes.CONTENT_TYPE_SONIFICATION)
                            .build(),
                    )
                    enableVibration(true)
                },
        )
        // The ongoing call: silent, low importance (it is there while the call lasts).
        system.createNotificationChannel(
            NotificationChannel(CHANNEL_ONGOING, context.getString(org.linnet.app.R.string.channel_ongoing), NotificationManager.IMPORTANCE_LOW),
        )
    }

    private fun allowed(): Boolean = manager.areNotificationsEnabled()

    /** One notification per conversation; the newest message of it on top. */
    fun showMessages(notifications: List<WakeNotification>) {
        if (!allowed()) return
        for ((conversation, messages) in notifications.groupBy { it.conversation }) {
            val last = messages.last()
            val title = last.senderName ?: context.getString(org.linnet.app.R.string.app_name)
            val style = NotificationCompat.InboxStyle()
            messages.takeLast(5).forEach { style.addLine(it.preview) }
            val notification = NotificationCompat.Builder(context, CHANNEL_MESSAGES)
                .setSmallIcon(org.linnet.app.R.drawable.ic_launcher_foreground)
                .setContentTitle(title)
                .setContentText(last.preview)
                .setStyle(if (messages.size > 1) style else null)
                .setNumber(messages.size)
                .setWhen(last.timestampMs)
                .setShowWhen(true)
                .setCategory(NotificationCompat.CATEGORY_MESSAGE)
                .setVisibility(NotificationCompat.VISIBILITY_PRIVATE)
                .setAutoCancel(true)
                .setContentIntent(openConversation(conversation))
                .build()
            notifySafely(conversation.hashCode(), notification)
        }
    }

    fun cancelConversation(conversation: String) = manager.cancel(conversation.hashCode())

    /** An incoming call woke us (push): ring through the call notification. */
    fun showCalls(calls: List<WakeCall>) {
        calls.forEach { showIncomingCall(it.callId, it.callerName ?: it.peer) }
    }

    /** The ringing call: full screen when the device is locked, a heads-up with buttons otherwise. */
    fun showIncomingCall(callId: String, displayName: String) {
        if (!allowed()) return
        val caller = Person.Builder()
            .setName(displayName.ifEmpty { context.getString(org.linnet.app.R.string.notification_incoming_call) })
            .setImportant(true)
            .build()
        val show = activityIntent(ACTION_SHOW_CALL, callId)
        val answer = activityIntent(ACTION_ANSWER_CALL, callId)
        val decline = PendingIntent.getBroadcast(
            context,
            callId.hashCode(),
            Intent(context, CallActionReceiver::class.java).setAction(ACTION_DECLINE_CALL).putExtra(EXTRA_CALL, callId),
            PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
        )
        val notification = NotificationCompat.Builder(context, CHANNEL_CALLS)
            .setSmallIcon(org.linnet.app.R.drawable.ic_launcher_foreground)
            .setContentTitle(caller.name)
            .setContentText(context.getString(org.linnet.app.R.string.notification_incoming_call))
            .setStyle(NotificationCompat.CallStyle.forIncomingCall(caller, decline, answer))
            .setCategory(NotificationCompat.CATEGORY_CALL)
            .setPriority(NotificationCompat.PRIORITY_MAX)
            .setOngoing(true)
            .setContentIntent(show)
            .setFullScreenIntent(show, true)
            // The ringing is insistent and the notification ongoing: one whose call is never
            // reported over (e.g. shown from a push for a call that ended meanwhile) must not
            // ring forever. The SDK gives up ringing after 45 s.
            .setTimeoutAfter(INCOMING_CALL_TIMEOUT_MS)
            .build()
        notification.flags = notification.flags or android.app.Notification.FLAG_INSISTENT
        notifySafely(callNotificationId(callId), notification)
    }

    fun cancelIncomingCall(callId: String) = manager.cancel(callNotificationId(callId))

    /** The ongoing call's notification (the foreground service's): back to the call, hang up. */
    fun ongoingCall(callId: String, title: String): android.app.Notification {
        val caller = Person.Builder()
            .setName(title.ifEmpty { context.getString(org.linnet.app.R.string.app_name) })
            .build()
        val hangUp = PendingIntent.getBroadcast(
            context,
            ("hangup:$callId").hashCode(),
            Intent(context, CallActionReceiver::class.java).setAction(ACTION_HANG_UP_CALL).putExtra(EXTRA_CALL, callId),
            PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
        )
        return NotificationCompat.Builder(context, CHANNEL_ONGOING)
            .setSmallIcon(org.linnet.app.R.drawable.ic_launcher_foreground)
            .setContentTitle(caller.name)
            .setStyle(NotificationCompat.CallStyle.forOngoingCall(caller, hangUp))
            .setCategory(NotificationCompat.CATEGORY_CALL)
            .setOngoing(true)
            .setContentIntent(activityIntent(ACTION_SHOW_CALL, callId))
            .build()
    }

    private fun notifySafely(id: Int, notification: android.app.Notification) {
        try {
            manager.notify(id, notification)
        } catch (_: SecurityException) {
            // POST_NOTIFICATIONS withdrawn meanwhile: nothing to show.
        }
    }

    private fun openConversation(peer: String): PendingIntent = PendingIntent.getActivity(
        context,
        peer.hashCode(),
        Intent(context, MainActivity::class.java)
            .setAction(ACTION_OPEN_CONVERSATION)
            .putExtra(EXTRA_PEER, peer)
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP),
        PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
    )

    private fun activityIntent(action: String, callId: String): PendingIntent = PendingIntent.getActivity(
        context,
        (action + callId).hashCode(),
        Intent(context, MainActivity::class.java)
            .setAction(action)
            .putExtra(EXTRA_CALL, callId)
            .addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_SINGLE_TOP),
        PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
    )

    private fun callNotificationId(callId: String) = ("call:$callId").hashCode()

    companion object {
        const val CHANNEL_MESSAGES = "messages"
        const val CHANNEL_CALLS = "incoming_calls"
        private const val LEGACY_CHANNEL_CALLS = "calls"
        private const val INCOMING_CALL_TIMEOUT_MS = 60_000L
        const val CHANNEL_ONGOING = "ongoing_call"
    }
}

/** The buttons of the call notifications: decline a ringing call, hang up the ongoing one. */
class CallActionReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val app = context.applicationContext as LinnetApplication
        val callId = intent.getStringExtra(EXTRA_CALL)
        val action = intent.action
        if (action != ACTION_DECLINE_CALL && action != ACTION_HANG_UP_CALL) return
        if (action == ACTION_DECLINE_CALL) callId?.let(app.notifications::cancelIncomingCall)
        // After a cold start the account opens first: wait for it, off the main thread.
        val pending = goAsync()
        app.appScope.launch {
            try {
                val model = app.awaitCallModel()
                if (action == ACTION_DECLINE_CALL) model?.decline(callId) else model?.hangUp(callId)
            } finally {
                pending.finish()
            }
        }
    }
}
