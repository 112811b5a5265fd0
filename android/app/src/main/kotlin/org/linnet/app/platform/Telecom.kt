// Self-managed Telecom calls. Linnet draws its own call screen; Telecom is told about each call
// so the system treats it as a call: audio focus and the voice-call audio mode, Bluetooth and
// wired headsets (their answer / hang-up buttons come back here), other apps' calls (a cellular
// call holds or ends ours), Do Not Disturb rules, and the call shows as ongoing.
//
// CallModel (presentation) reports each call's life through CallIntegration; Telecom's actions
// (answer, reject, disconnect, DTMF) go back to the CallModel through CallActions.
package org.linnet.app.platform

import android.content.ComponentName
import android.content.Context
import android.net.Uri
import android.os.Bundle
import android.telecom.Connection
import android.telecom.ConnectionRequest
import android.telecom.ConnectionService
import android.telecom.DisconnectCause
import android.telecom.PhoneAccount
import android.telecom.PhoneAccountHandle
import android.telecom.TelecomManager
import android.util.Log
import java.util.concurrent.ConcurrentHashMap
import org.linnet.app.presentation.CallIntegration
import org.linnet.sdk.CallEndReason

private const val TAG = "LinnetTelecom"
private const val EXTRA_CALL_ID = "org.linnet.app.CALL_ID"
private const val EXTRA_DISPLAY_NAME = "org.linnet.app.DISPLAY_NAME"
private const val PHONE_ACCOUNT_ID = "linnet"

/** What Telecom (and notification buttons) can ask of a call (null: the one on screen). */
interface CallActions {
    fun answer(callId: String?)
    fun decline(callId: String?)
    fun hangUp(callId: String?)
    fun pressDigit(digit: Char)
}

class TelecomCallIntegration(
    context: Context,
    private val audioDevices: AndroidAudioDevices,
    private val notifications: Notifications,
) : CallIntegration {
    private val appContext = context.applicationContext
    private val telecom = appContext.getSystemService(TelecomManager::class.java)
    val phoneAccountHandle = PhoneAccountHandle(
        ComponentName(appContext, LinnetConnectionService::class.java),
        PHONE_ACCOUNT_ID,
    )

    /** Set by LinnetApplication to the signed-in account's CallModel; null when signed out. */
    @Volatile var actions: CallActions? = null

    private val connections = ConcurrentHashMap<String, LinnetConnection>()
    /** Calls that ended, or connected, before Telecom created their connection. */
    private val endedEarly = ConcurrentHashMap.newKeySet<String>()
    private val connectedEarly = ConcurrentHashMap.newKeySet<String>()
    private val displayNames = ConcurrentHashMap<String, String>()
    private var registered = false

    /** Registers the self-managed phone account (once per process; Telecom keeps it). */
    fun register() {
        if (registered) return
        registered = try {
            telecom.registerPhoneAccount(
                PhoneAccount.builder(phoneAccountHandle, appContext.getString(org.linnet.app.R.string.phone_account_label))
                    .setCapabilities(PhoneAccount.CAPABILITY_SELF_MANAGED)
                    .addSupportedUriScheme(PhoneAccount.SCHEME_SIP)
                    .addSupportedUriScheme(PhoneAccount.SCHEME_TEL)
                    .build(),
            )
            true
        } catch (e: Exception) {
            // No Telecom on this device (some tablets), or refused: the app's own screen still works.
            Log.w(TAG, "phone account not registered", e)
            false
        }
    }

    override fun reportIncoming(callId: String, handle: String, displayName: String) {
        displayNames[callId] = displayName
        register()
        val extras = Bundle().apply {
            putParcelable(TelecomManager.EXTRA_INCOMING_CALL_ADDRESS, address(handle))
            putBundle(TelecomManager.EXTRA_INCOMING_CALL_EXTRAS, Bundle().apply {
                putString(EXTRA_CALL_ID, callId)
                putString(EXTRA_DISPLAY_NAME, displayName)
            })
        }
        val added = registered && try {
            telecom.addNewIncomingCall(phoneAccountHandle, extras)
            true
        } catch (e: Exception) {
            // SecurityException / IllegalArgumentException: the account is not usable right now.
            Log.w(TAG, "incoming call not added to Telecom", e)
            false
        }
        // Without Telecom, ring through the notification directly.
        if (!added) notifications.showIncomingCall(callId, displayName)
    }

    override fun reportOutgoing(callId: String, handle: String) {
        register()
        if (!registered) return
        val extras = Bundle().apply {
            putParcelable(TelecomManager.EXTRA_PHONE_ACCOUNT_HANDLE, phoneAccountHandle)
            putBundle(TelecomManager.EXTRA_OUTGOING_CALL_EXTRAS, Bundle().apply { putString(EXTRA_CALL_ID, callId) })
        }
        try {
            // Self-managed: MANAGE_OWN_CALLS is enough (no CALL_PHONE), the system dialer is not involved.
            telecom.placeCall(address(handle), extras)
        } catch (e: Exception) {
            Log.w(TAG, "outgoing call not placed with Telecom", e)
        }
    }

    override fun reportConnected(callId: String) {
        notifications.cancelIncomingCall(callId)
        val connection = connections[callId]
        if (connection == null) connectedEarly.add(callId) else connection.setActive()
    }

    /** The call Telecom knows of now (for audio routing), if any. */
    fun activeConnection(): LinnetConnection? = connections.values.firstOrNull()

    override fun reportEnded(callId: String, reason: CallEndReason) {
        notifications.cancelIncomingCall(callId)
        displayNames.remove(callId)
        connectedEarly.remove(callId)
        audioDevices.closeAll()
        val connection = connections.remove(callId)
        if (connection == null) {
            endedEarly.add(callId)
            return
        }
        connection.setDisconnected(disconnectCause(reason))
        connection.destroy()
    }

    // From the ConnectionService.

    internal fun createConnection(request: ConnectionRequest, incoming: Boolean): Connection {
        val extras = callExtras(request, incoming)
        val callId = extras?.getString(EXTRA_CALL_ID)
        if (callId == null || endedEarly.remove(callId)) {
            return Connection.createCanceledConnection()
        }
        val connection = LinnetConnection(this, callId, incoming)
        connection.setConnectionProperties(Connection.PROPERTY_SELF_MANAGED)
        connection.setConnectionCapabilities(Connection.CAPABILITY_MUTE)
        connection.setAudioModeIsVoip(true)
        request.address?.let { connection.setAddress(it, TelecomManager.PRESENTATION_ALLOWED) }
        (extras.getString(EXTRA_DISPLAY_NAME) ?: displayNames[callId])?.let {
            connection.setCallerDisplayName(it, TelecomManager.PRESENTATION_ALLOWED)
        }
        when {
            connectedEarly.remove(callId) -> connection.setActive()
            incoming -> connection.setRinging()
            else -> connection.setDialing()
        }
        connections[callId] = connection
        return connection
    }

    internal fun creationFailed(request: ConnectionRequest?, incoming: Boolean) {
        // Telecom refused (e.g. an emergency call is ongoing): the call goes on without it; an
        // incoming call rings through its notification instead.
        Log.w(TAG, "Telecom refused the ${if (incoming) "incoming" else "outgoing"} call")
        if (incoming) {
            val extras = request?.let { callExtras(it, incoming = true) }
            val callId = extras?.getString(EXTRA_CALL_ID) ?: return
            notifications.showIncomingCall(callId, displayNames[callId] ?: extras.getString(EXTRA_DISPLAY_NAME).orEmpty())
        }
    }

    internal fun showIncomingUi(callId: String) {
        notifications.showIncomingCall(callId, displayNames[callId].orEmpty())
    }

    internal fun forget(callId: String) {
        connections.remove(callId)
    }

    /**
     * Ends every call Telecom knows of. For when no CallModel is left to report their end (the
     * account signed out or changed): otherwise the system would keep showing a call, and hold
     * the voice-call audio mode, until the process dies.
     */
    fun endAll() {
        for (callId in connections.keys.toList()) {
            notifications.cancelIncomingCall(callId)
            connections.remove(callId)?.let { connection ->
                connection.setDisconnected(DisconnectCause(DisconnectCause.LOCAL))
                connection.destroy()
            }
        }
        endedEarly.clear()
        connectedEarly.clear()
        displayNames.clear()
        audioDevices.closeAll()
    }

    /** Telecom asked a call to end while no CallModel can act on it: it ends here. */
    internal fun endOrphan(connection: LinnetConnection) {
        connections.remove(connection.callId)
        notifications.cancelIncomingCall(connection.callId)
        connection.setDisconnected(DisconnectCause(DisconnectCause.LOCAL))
        connection.destroy()
    }

    /** Our extras: Telecom hands them over nested (as given) or flattened, depending on the version. */
    private fun callExtras(request: ConnectionRequest, incoming: Boolean): Bundle? {
        val key = if (incoming) TelecomManager.EXTRA_INCOMING_CALL_EXTRAS else TelecomManager.EXTRA_OUTGOING_CALL_EXTRAS
        return request.extras?.getBundle(key) ?: request.extras
    }

    private fun address(handle: String): Uri =
        if (handle.startsWith("+") || handle.all { it.isDigit() }) Uri.fromParts(PhoneAccount.SCHEME_TEL, handle, null)
        else Uri.fromParts(PhoneAccount.SCHEME_SIP, handle, null)

    private fun disconnectCause(reason: CallEndReason): DisconnectCause = when (reason) {
        CallEndReason.HUNG_UP -> DisconnectCause(DisconnectCause.LOCAL)
        CallEndReason.CANCELLED -> DisconnectCause(DisconnectCause.CANCELED)
        CallEndReason.REMOTE_HUNG_UP -> DisconnectCause(DisconnectCause.REMOTE)
        CallEndReason.DECLINED, CallEndReason.DECLINED_ELSEWHERE -> DisconnectCause(DisconnectCause.REJECTED)
        CallEndReason.REMOTE_DECLINED -> DisconnectCause(DisconnectCause.REMOTE)
        CallEndReason.BUSY -> DisconnectCause(DisconnectCause.BUSY)
        CallEndReason.NO_ANSWER, CallEndReason.MISSED -> DisconnectCause(DisconnectCause.MISSED)
        CallEndReason.ANSWERED_ELSEWHERE -> DisconnectCause(DisconnectCause.ANSWERED_ELSEWHERE)
        CallEndReason.STRANGER -> DisconnectCause(DisconnectCause.REJECTED)
        CallEndReason.CONNECTIVITY_FAILED, CallEndReason.NETWORK_LOST, CallEndReason.FAILED,
        CallEndReason.INTERRUPTED -> DisconnectCause(DisconnectCause.ERROR)
    }
}

/** One call as Telecom sees it; its callbacks go to the CallModel. */
class LinnetConnection(
    private val integration: TelecomCallIntegration,
    val callId: String,
    private val incoming: Boolean,
) : Connection() {
    private val actions get() = integration.actions

    override fun onShowIncomingCallUi() {
        // Self-managed calls show their own ringing UI: the full-screen call notification.
        integration.showIncomingUi(callId)
    }

    override fun onAnswer() { actions?.answer(callId) }

    override fun onAnswer(videoState: Int) { actions?.answer(callId) }

    override fun onReject() {
        val actions = actions ?: return integration.endOrphan(this)
        actions.decline(callId)
    }

    override fun onDisconnect() {
        val actions = actions ?: return integration.endOrphan(this)
        if (incoming && state == Connection.STATE_RINGING) actions.decline(callId) else actions.hangUp(callId)
    }

    override fun onAbort() {
        val actions = actions ?: return integration.endOrphan(this)
        actions.hangUp(callId)
    }

    override fun onPlayDtmfTone(c: Char) { actions?.pressDigit(c) }

    override fun onStopDtmfTone() {}
}

class LinnetConnectionService : ConnectionService() {
    private val integration: TelecomCallIntegration
        get() = (application as LinnetApplication).telecom

    override fun onCreateIncomingConnection(
        connectionManagerPhoneAccount: PhoneAccountHandle?,
        request: ConnectionRequest,
    ): Connection = integration.createConnection(request, incoming = true)

    override fun onCreateOutgoingConnection(
        connectionManagerPhoneAccount: PhoneAccountHandle?,
        request: ConnectionRequest,
    ): Connection = integration.createConnection(request, incoming = false)

    override fun onCreateIncomingConnectionFailed(
        connectionManagerPhoneAccount: PhoneAccountHandle?,
        request: ConnectionRequest?,
    ) = integration.creationFailed(request, incoming = true)

    override fun onCreateOutgoingConnectionFailed(
        connectionManagerPhoneAccount: PhoneAccountHandle?,
        request: ConnectionRequest?,
    ) = integration.creationFailed(request, incoming = false)
}
