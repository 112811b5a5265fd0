@file:Suppress("unused", "UNUSED_PARAMETER")
package androidx.core.app

object ServiceCompat { fun startForeground(s: android.app.Service, id: Int, n: android.app.Notification, types: Int) {} }
class NotificationManagerCompat { fun areNotificationsEnabled(): Boolean = true; fun cancel(id: Int) {}; fun notify(id: Int, n: android.app.Notification) {}
  companion object { fun from(c: android.content.Context): NotificationManagerCompat = NotificationManagerCompat() } }
class Person { val name: CharSequence? = null; class Builder { fun setName(n: CharSequence?): Builder = this; fun setImportant(i: Boolean): Builder = this; fun build(): Person = Person() } }
class NotificationCompat { open class Style
  class InboxStyle : Style() { fun addLine(l: CharSequence?): InboxStyle = this }
  class CallStyle : Style() { companion object { fun forIncomingCall(p: Person, d: android.app.PendingIntent, a: android.app.PendingIntent): CallStyle = CallStyle(); fun forOngoingCall(p: Person, h: android.app.PendingIntent): CallStyle = CallStyle() } }
  class Builder(c: android.content.Context, ch: String) {
    fun setSmallIcon(i: Int): Builder = this; fun setContentTitle(t: CharSequence?): Builder = this; fun setContentText(t: CharSequence?): Builder = this
    fun setStyle(s: Style?): Builder = this; fun setNumber(n: Int): Builder = this; fun setWhen(w: Long): Builder = this; fun setShowWhen(s: Boolean): Builder = this
    fun setCategory(c: String?): Builder = this; fun setVisibility(v: Int): Builder = this; fun setAutoCancel(a: Boolean): Builder = this
    fun setContentIntent(p: android.app.PendingIntent?): Builder = this; fun setPriority(p: Int): Builder = this; fun setOngoing(o: Boolean): Builder = this
    fun setFullScreenIntent(p: android.app.PendingIntent?, h: Boolean): Builder = this; fun setTimeoutAfter(durationMs: Long): Builder = this; fun build(): android.app.Notification = android.app.Notification() }
  companion object { const val CATEGORY_MESSAGE = "msg"; const val CATEGORY_CALL = "call"; const val VISIBILITY_PRIVATE = 0; const val PRIORITY_MAX = 2 } }
