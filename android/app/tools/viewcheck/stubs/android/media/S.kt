@file:Suppress("unused", "UNUSED_PARAMETER")
package android.media

class AudioAttributes { class Builder { fun setUsage(u: Int): Builder = this; fun setContentType(c: Int): Builder = this; fun build(): AudioAttributes = AudioAttributes() }
  companion object { const val USAGE_VOICE_COMMUNICATION = 2; const val USAGE_NOTIFICATION_RINGTONE = 6; const val CONTENT_TYPE_SPEECH = 1; const val CONTENT_TYPE_SONIFICATION = 4 } }
class AudioDeviceInfo { val type: Int = 0; companion object { const val TYPE_BUILTIN_SPEAKER = 2 } }
class AudioFormat { class Builder { fun setSampleRate(r: Int): Builder = this; fun setChannelMask(m: Int): Builder = this; fun setEncoding(e: Int): Builder = this; fun build(): AudioFormat = AudioFormat() }
  companion object { const val CHANNEL_IN_MONO = 16; const val CHANNEL_OUT_MONO = 4; const val ENCODING_PCM_16BIT = 2 } }
class AudioManager { val availableCommunicationDevices: List<AudioDeviceInfo> = emptyList()
  fun setCommunicationDevice(d: AudioDeviceInfo): Boolean = true; fun clearCommunicationDevice() {}
  @Deprecated("x") var isSpeakerphoneOn: Boolean = false }
class AudioRecord(source: Int, rate: Int, channels: Int, encoding: Int, bytes: Int) {
  val state: Int = 1; fun read(a: ShortArray, o: Int, n: Int, mode: Int): Int = 0; fun startRecording() {}; fun stop() {}; fun release() {}
  companion object { const val READ_NON_BLOCKING = 1; const val STATE_INITIALIZED = 1; fun getMinBufferSize(r: Int, c: Int, e: Int): Int = 0 } }
class AudioTrack { val state: Int = 1; fun write(a: ShortArray, o: Int, n: Int, mode: Int): Int = 0; fun play() {}; fun stop() {}; fun release() {}
  class Builder { fun setAudioAttributes(a: AudioAttributes): Builder = this; fun setAudioFormat(f: AudioFormat): Builder = this
    fun setTransferMode(m: Int): Builder = this; fun setBufferSizeInBytes(b: Int): Builder = this; fun build(): AudioTrack = AudioTrack() }
  companion object { const val WRITE_NON_BLOCKING = 1; const val STATE_INITIALIZED = 1; const val MODE_STREAM = 1; fun getMinBufferSize(r: Int, c: Int, e: Int): Int = 0 } }
class MediaRecorder { object AudioSource { const val VOICE_COMMUNICATION = 7 } }
class RingtoneManager { companion object { const val TYPE_RINGTONE = 1; fun getDefaultUri(type: Int): android.net.Uri = android.net.Uri() } }
