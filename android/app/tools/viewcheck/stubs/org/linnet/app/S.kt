@file:Suppress("unused", "UNUSED_PARAMETER")
package org.linnet.app

object R { object string { const val app_name = 1; const val channel_messages = 2; const val channel_messages_description = 3; const val channel_calls = 4; const val channel_calls_description = 5
  const val phone_account_label = 6; const val notification_incoming_call = 7; const val share_log_title = 8; const val channel_ongoing = 10 }
  object drawable { const val ic_launcher_foreground = 9 } }
object BuildConfig { const val VERSION_NAME = "0"; const val DEBUG = true; const val PUSH_APP_SERVER = "" }
