// Platform ports: what the presentation layer needs from the operating system, as interfaces.
// The Android platform layer implements them (runtime permission, FCM, Telecom, AudioManager,
// AudioRecord/AudioTrack); the JVM tests pass fakes.
package org.linnet.app.presentation

import org.linnet.sdk.AudioDevice
import org.linnet.sdk.CallEndReason
import org.linnet.sdk.PushPlatform

/** The system's notification permission (Android 13+: POST_NOTIFICATIONS). */
interface NotificationPermission {
    suspend fun isGranted(): Boolean

    /** Asks the user (shows the system dialog when needed); true when granted. */
    suspend fun request(): Boolean
}

/** Where push tokens come from (FCM on Android). */
interface PushTokenSource {
    val platform: PushPlatform

    /** The current token, or null when the platform has none (yet). */
    suspend fun currentToken(): String?
}

/** Loudspeaker or earpiece for the call audio. */
interface AudioRoute {
    fun setSpeaker(on: Boolean)
}

/**
 * Opens the microphone and speaker for one call. Called when a call is placed or answered, also
 * when that then fails: open() should only prepare, the audio starts with the SDK's first
 * capture()/play() once the call connects.
 */
interface AudioDevices {
    fun open(): AudioDevice
}

/**
 * The system's call integration (Telecom's ConnectionService on Android). The model reports
 * every call's life to it; the platform calls the CallModel's actions back (answer, hang up…).
 */
interface CallIntegration {
    fun reportIncoming(callId: String, handle: String, displayName: String)
    fun reportOutgoing(callId: String, handle: String)
    fun reportConnected(callId: String)
    fun reportEnded(callId: String, reason: CallEndReason)
}

/** No system call integration: the app's own call screen is all there is. */
object NoCallIntegration : CallIntegration {
    override fun reportIncoming(callId: String, handle: String, displayName: String) {}
    override fun reportOutgoing(callId: String, handle: String) {}
    override fun reportConnected(callId: String) {}
    override fun reportEnded(callId: String, reason: CallEndReason) {}
}

/** No audio routing (desktop JVM, tests): the speaker toggle only changes the screen. */
object NoAudioRoute : AudioRoute {
    override fun setSpeaker(on: Boolean) {}
}

/** Every port the app's models need, handed to AppModel once. */
class PlatformPorts(
    val notificationPermission: NotificationPermission,
    val pushTokens: PushTokenSource,
    val audioDevices: AudioDevices,
    val audioRoute: AudioRoute = NoAudioRoute,
    val callIntegration: CallIntegration = NoCallIntegration,
)
