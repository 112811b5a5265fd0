@file:Suppress("unused", "UNUSED_PARAMETER")
package com.google.firebase.messaging

class FirebaseMessaging { val token: com.google.android.gms.tasks.Task<String> get() = TODO(); companion object { fun getInstance(): FirebaseMessaging = TODO() } }
class RemoteMessage
abstract class FirebaseMessagingService : android.content.Context() { open val application: android.app.Application get() = TODO()
  open fun onNewToken(token: String) {}; open fun onMessageReceived(message: RemoteMessage) {} }
