@file:Suppress("unused", "UNUSED_PARAMETER")
package android.app

open class Application : android.content.Context() { open fun onCreate() {} }
abstract class Service : android.content.Context() { val application: Application get() = TODO(); abstract fun onBind(intent: android.content.Intent?): android.os.IBinder?
  open fun onStartCommand(intent: android.content.Intent?, flags: Int, startId: Int): Int = 0; fun stopSelf() {}
  companion object { const val START_NOT_STICKY = 2 } }
open class Activity : android.content.Context() { val window: Window = Window(); fun setShowWhenLocked(b: Boolean) {}; fun setTurnScreenOn(b: Boolean) {}; val isFinishing: Boolean = false }
class Notification { @JvmField var flags: Int = 0; companion object { const val FLAG_INSISTENT = 4 } }
class NotificationChannel(id: String, name: CharSequence, importance: Int) { var description: String? = null
  fun setSound(sound: android.net.Uri?, audioAttributes: android.media.AudioAttributes?) {}; fun enableVibration(vibration: Boolean) {} }
class NotificationManager { fun createNotificationChannel(c: NotificationChannel) {}; fun deleteNotificationChannel(channelId: String) {}; companion object { const val IMPORTANCE_HIGH = 4; const val IMPORTANCE_LOW = 2 } }
class PendingIntent { companion object { const val FLAG_UPDATE_CURRENT = 1; const val FLAG_IMMUTABLE = 2
  fun getActivity(c: android.content.Context, r: Int, i: android.content.Intent, f: Int): PendingIntent = PendingIntent()
  fun getBroadcast(c: android.content.Context, r: Int, i: android.content.Intent, f: Int): PendingIntent = PendingIntent() } }
class Window { fun addFlags(f: Int) {}; fun clearFlags(f: Int) {} }
