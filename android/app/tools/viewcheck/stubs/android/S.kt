@file:Suppress("unused", "UNUSED_PARAMETER")
package android
object Manifest { object permission { const val RECORD_AUDIO = "r"; const val POST_NOTIFICATIONS = "p" } }