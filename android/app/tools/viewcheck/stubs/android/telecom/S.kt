@file:Suppress("unused", "UNUSED_PARAMETER")
package android.telecom

class CallAudioState { companion object { const val ROUTE_SPEAKER = 8; const val ROUTE_WIRED_OR_EARPIECE = 5 } }
open class Connection {
  val state: Int = 0
  fun setConnectionProperties(p: Int) {}; fun setConnectionCapabilities(c: Int) {}; fun setAudioModeIsVoip(v: Boolean) {}
  fun setAddress(u: android.net.Uri, p: Int) {}; fun setCallerDisplayName(n: String, p: Int) {}
  fun setRinging() {}; fun setDialing() {}; fun setActive() {}; fun setDisconnected(c: DisconnectCause) {}; fun destroy() {}
  @Deprecated("x") fun setAudioRoute(r: Int) {}
  open fun onShowIncomingCallUi() {}; open fun onAnswer() {}; open fun onAnswer(videoState: Int) {}; open fun onReject() {}
  open fun onDisconnect() {}; open fun onAbort() {}; open fun onPlayDtmfTone(c: Char) {}; open fun onStopDtmfTone() {}
  companion object { const val PROPERTY_SELF_MANAGED = 128; const val CAPABILITY_MUTE = 64; const val STATE_RINGING = 2
    fun createCanceledConnection(): Connection = Connection() } }
class ConnectionRequest { val extras: android.os.Bundle? = null; val address: android.net.Uri? = null }
abstract class ConnectionService : android.content.Context() {
  open val application: android.app.Application get() = TODO()
  open fun onCreateIncomingConnection(connectionManagerPhoneAccount: PhoneAccountHandle?, request: ConnectionRequest): Connection = TODO()
  open fun onCreateOutgoingConnection(connectionManagerPhoneAccount: PhoneAccountHandle?, request: ConnectionRequest): Connection = TODO()
  open fun onCreateIncomingConnectionFailed(connectionManagerPhoneAccount: PhoneAccountHandle?, request: ConnectionRequest?) {}
  open fun onCreateOutgoingConnectionFailed(connectionManagerPhoneAccount: PhoneAccountHandle?, request: ConnectionRequest?) {} }
class DisconnectCause(code: Int) { companion object { const val LOCAL = 2; const val REMOTE = 3; const val CANCELED = 4; const val MISSED = 5; const val REJECTED = 6; const val BUSY = 7; const val ERROR = 1; const val ANSWERED_ELSEWHERE = 11 } }
class PhoneAccount { class Builder { fun setCapabilities(c: Int): Builder = this; fun addSupportedUriScheme(s: String): Builder = this; fun build(): PhoneAccount = PhoneAccount() }
  companion object { const val CAPABILITY_SELF_MANAGED = 2048; const val SCHEME_SIP = "sip"; const val SCHEME_TEL = "tel"; fun builder(h: PhoneAccountHandle, l: CharSequence): Builder = Builder() } }
class PhoneAccountHandle(c: android.content.ComponentName, id: String) : android.os.Parcelable
class TelecomManager { fun registerPhoneAccount(a: PhoneAccount) {}; fun addNewIncomingCall(h: PhoneAccountHandle, b: android.os.Bundle) {}; fun placeCall(u: android.net.Uri, b: android.os.Bundle) {}
  companion object { const val EXTRA_INCOMING_CALL_ADDRESS = "a"; const val EXTRA_INCOMING_CALL_EXTRAS = "b"; const val EXTRA_OUTGOING_CALL_EXTRAS = "c"; const val EXTRA_PHONE_ACCOUNT_HANDLE = "d"; const val PRESENTATION_ALLOWED = 1 } }
