// Call audio: the SDK's AudioDevice (20 ms frames of 48 kHz mono 16-bit PCM, 960 samples) on
// AudioRecord (VOICE_COMMUNICATION: the platform's echo canceller and noise suppressor) and
// AudioTrack (voice-call usage), plus the loudspeaker route through AudioManager.
//
// The SDK calls capture() and play() every 20 ms from its media task: neither blocks here
// (non-blocking reads and writes); a missing microphone permission makes capture() silent.
package org.linnet.app.platform

import android.Manifest
import android.annotation.SuppressLint
import android.content.Context
import android.content.pm.PackageManager
import android.media.AudioAttributes
import android.media.AudioDeviceInfo
import android.media.AudioFormat
import android.media.AudioManager
import android.media.AudioRecord
import android.media.AudioTrack
import android.media.MediaRecorder
import android.os.Build
import android.telecom.CallAudioState
import android.telecom.Connection
import android.util.Log
import androidx.core.content.ContextCompat
import org.linnet.app.presentation.AudioDevices
import org.linnet.app.presentation.AudioRoute
import org.linnet.sdk.AudioDevice

private const val TAG = "LinnetAudio"
private const val SAMPLE_RATE = 48_000
private const val FRAME = 960 // 20 ms
/** At most this many frames wait in the microphone buffer; older audio is dropped (latency). */
private const val MAX_BACKLOG_FRAMES = 3

/** Opens one AndroidAudioDevice per call; closeAll() when the call ends. */
class AndroidAudioDevices(context: Context) : AudioDevices {
    private val appContext = context.applicationContext
    private val open = mutableListOf<AndroidAudioDevice>()

    override fun open(): AudioDevice = synchronized(open) {
        open.forEach { it.close() }
        open.clear()
        AndroidAudioDevice(appContext).also { open.add(it) }
    }

    fun closeAll() {
        synchronized(open) {
            open.forEach { it.close() }
            open.clear()
        }
    }
}

class AndroidAudioDevice(private val context: Context) : AudioDevice {
    private val lock = Any()
    private var record: AudioRecord? = null
    private var track: AudioTrack? = null
    private var recordFailed = false
    private var closed = false
    private val pending = ShortArray(FRAME * (MAX_BACKLOG_FRAMES + 1))
    private var pendingCount = 0
    private val readBuffer = ShortArray(FRAME * MAX_BACKLOG_FRAMES)

    override fun capture(): List<Short> {
        synchronized(lock) {
            val rec = recorder() ?: return emptyList()
            val n = rec.read(readBuffer, 0, readBuffer.size, AudioRecord.READ_NON_BLOCKING)
            if (n > 0) {
                // Keep only the newest audio when the backlog grows (the SDK was late).
                val room = pending.size - pendingCount
                if (n > room) {
                    val drop = minOf(pendingCount, n - room)
                    System.arraycopy(pending, drop, pending, 0, pendingCount - drop)
                    pendingCount -= drop
                }
                val take = minOf(n, pending.size - pendingCount)
                System.arraycopy(readBuffer, n - take, pending, pendingCount, take)
                pendingCount += take
            }
            if (pendingCount < FRAME) return emptyList() // silence this time
            val frame = pending.copyOfRange(0, FRAME)
            System.arraycopy(pending, FRAME, pending, 0, pendingCount - FRAME)
            pendingCount -= FRAME
            return frame.asList()
        }
    }

    override fun play(frame: List<Short>) {
        synchronized(lock) {
            val out = player() ?: return
            val samples = frame.toShortArray()
            // Non-blocking: when the track's buffer is full the rest of the frame is dropped.
            out.write(samples, 0, samples.size, AudioTrack.WRITE_NON_BLOCKING)
        }
    }

    fun close() {
        synchronized(lock) {
            closed = true
            record?.let { runCatching { it.stop() }; it.release() }
            track?.let { runCatching { it.stop() }; it.release() }
            record = null
            track = null
        }
    }

    @SuppressLint("MissingPermission") // checked just below
    private fun recorder(): AudioRecord? {
        record?.let { return it }
        if (closed || recordFailed) return null
        if (ContextCompat.checkSelfPermission(context, Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            Log.w(TAG, "no microphone permission: sending silence")
            recordFailed = true
            return null
        }
        val minBytes = AudioRecord.getMinBufferSize(SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT)
        val rec = try {
            AudioRecord(
                MediaRecorder.AudioSource.VOICE_COMMUNICATION,
                SAMPLE_RATE,
                AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT,
                maxOf(minBytes, FRAME * 2 * 4),
            )
        } catch (e: SecurityException) {
            Log.w(TAG, "microphone refused", e)
            null
        }
        if (rec == null || rec.state != AudioRecord.STATE_INITIALIZED) {
            rec?.release()
            recordFailed = true
            return null
        }
        rec.startRecording()
        record = rec
        return rec
    }

    private fun player(): AudioTrack? {
        track?.let { return it }
        if (closed) return null
        val minBytes = AudioTrack.getMinBufferSize(SAMPLE_RATE, AudioFormat.CHANNEL_OUT_MONO, AudioFormat.ENCODING_PCM_16BIT)
        val out = AudioTrack.Builder()
            .setAudioAttributes(
                AudioAttributes.Builder()
                    .setUsage(AudioAttributes.USAGE_VOICE_COMMUNICATION)
                    .setContentType(AudioAttributes.CONTENT_TYPE_SPEECH)
                    .build(),
            )
            .setAudioFormat(
                AudioFormat.Builder()
                    .setSampleRate(SAMPLE_RATE)
                    .setChannelMask(AudioFormat.CHANNEL_OUT_MONO)
                    .setEncoding(AudioFormat.ENCODING_PCM_16BIT)
                    .build(),
            )
            .setTransferMode(AudioTrack.MODE_STREAM)
            .setBufferSizeInBytes(maxOf(minBytes, FRAME * 2 * 4))
            .build()
        if (out.state != AudioTrack.STATE_INITIALIZED) {
            out.release()
            return null
        }
        out.play()
        track = out
        return out
    }
}

/**
 * Loudspeaker on/off for the call. While Telecom manages the call its audio route is Telecom's
 * (asked through the Connection); otherwise AudioManager: the communication device on Android
 * 12+, speakerphone before.
 */
class AndroidAudioRoute(context: Context, private val telecomCall: () -> Connection?) : AudioRoute {
    private val audio = context.applicationContext.getSystemService(AudioManager::class.java)

    override fun setSpeaker(on: Boolean) {
        val connection = telecomCall()
        if (connection != null) {
            // Deprecated in API 34 for requestCallEndpointChange, which needs the endpoint list
            // from onAvailableCallEndpointsChanged; the route constants work on every version.
            @Suppress("DEPRECATION")
            connection.setAudioRoute(if (on) CallAudioState.ROUTE_SPEAKER else CallAudioState.ROUTE_WIRED_OR_EARPIECE)
            return
        }
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.S) {
            if (on) {
                val speaker = audio.availableCommunicationDevices
                    .firstOrNull { it.type == AudioDeviceInfo.TYPE_BUILTIN_SPEAKER }
                if (speaker != null) audio.setCommunicationDevice(speaker)
            } else {
                audio.clearCommunicationDevice()
            }
        } else {
            @Suppress("DEPRECATION")
            audio.isSpeakerphoneOn = on
        }
    }
}
