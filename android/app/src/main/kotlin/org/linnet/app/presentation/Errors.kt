// SDK exceptions to the sentences users read. Each model reports a failed action through its
// `error` state with one of these; nothing from the SDK reaches the screen unworded.
package org.linnet.app.presentation

import kotlinx.coroutines.CancellationException
import org.linnet.sdk.AccountException
import org.linnet.sdk.CallException
import org.linnet.sdk.ChatException
import org.linnet.sdk.ConnectException
import org.linnet.sdk.ContactException
import org.linnet.sdk.DiagnosticsException
import org.linnet.sdk.PushException

object ErrorText {
    fun of(error: Throwable): String = when (error) {
        is ChatException -> chat(error)
        is ContactException -> contact(error)
        is CallException -> call(error)
        is PushException -> push(error)
        is DiagnosticsException -> diagnostics(error)
        is ConnectException -> connect(error)
        is AccountException -> account(error)
        else -> "Something went wrong (${error.message ?: error::class.simpleName})."
    }

    fun chat(error: ChatException): String = when (error) {
        is ChatException.InvalidAddress -> "“${error.input}” is not a valid address."
        is ChatException.EmptyMessage -> "Write something first."
        is ChatException.TooLarge -> "This message is too long (max ${Text.size(error.limit.toLong())})."
        is ChatException.NotConnected -> "You are offline. Try again once connected."
        is ChatException.FileUnreadable -> "Cannot read “${fileName(error.path)}”."
        is ChatException.FileTooLarge -> "This file is too large (max ${Text.size(error.max.toLong())})."
        is ChatException.NoSuchMessage -> "This message no longer exists."
        is ChatException.NoAttachment -> "This message has no file."
        is ChatException.Storage -> "Could not save on this device: ${error.reason}"
        is ChatException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun contact(error: ContactException): String = when (error) {
        is ContactException.InvalidAddress -> "“${error.input}” is not a valid address."
        is ContactException.NotConnected -> "You are offline. Try again once connected."
        is ContactException.Refused -> "The server refused: ${error.reason}"
        is ContactException.Timeout -> "The server did not answer in time."
        is ContactException.Storage -> "Could not save on this device: ${error.reason}"
        is ContactException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun call(error: CallException): String = when (error) {
        is CallException.InvalidAddress -> "“${error.input}” is neither an address nor a phone number."
        is CallException.NotConnected -> "You are offline. Calls need a connection."
        is CallException.NoSuchCall -> "This call has already ended."
        is CallException.CallNotRinging -> "This call is no longer ringing."
        is CallException.CallNotConnected -> "This call is not connected yet."
        is CallException.CallInProgress -> "Another call is in progress."
        is CallException.NoPhoneGateway -> "Your server offers no phone gateway: phone numbers cannot be called."
        is CallException.NoTurnServer -> "Your server offers no call relay: relay-only calls are impossible."
        is CallException.Media -> "The call audio failed: ${error.reason}"
        is CallException.InvalidDigits -> "These keys cannot be sent: ${error.reason}"
        is CallException.Refused -> "The call was refused: ${error.reason}"
        is CallException.Timeout -> "No answer in time."
        is CallException.Storage -> "Could not save on this device: ${error.reason}"
        is CallException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun push(error: PushException): String = when (error) {
        is PushException.InvalidAddress -> "The notification server address “${error.input}” is not valid."
        is PushException.AppServerUnavailable -> "The notification server is unavailable: ${error.reason}"
        is PushException.Refused -> "The server refused notifications: ${error.reason}"
        is PushException.NotConnected -> "You are offline. Try again once connected."
        is PushException.Storage -> "Could not save on this device: ${error.reason}"
        is PushException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun diagnostics(error: DiagnosticsException): String = when (error) {
        is DiagnosticsException.NotConnected -> "You are offline. Connect first to check the server."
        is DiagnosticsException.Timeout -> "The server did not answer in time."
        is DiagnosticsException.Storage -> "Could not read the settings on this device: ${error.reason}"
        is DiagnosticsException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun connect(error: ConnectException): String = when (error) {
        is ConnectException.WrongCredentials -> "The address or password is wrong."
        is ConnectException.AuthFailed -> "The server refused the sign-in: ${error.reason}"
        is ConnectException.NoPassword -> "No password is stored for this account. Sign in again."
        is ConnectException.Certificate -> "The server's certificate is not trusted: ${error.reason}"
        is ConnectException.Tls -> "A secure connection could not be made: ${error.reason}"
        is ConnectException.Network -> "The server cannot be reached: ${error.reason}"
        is ConnectException.Server -> "The server reported a problem: ${error.reason}"
        is ConnectException.Timeout -> "The server did not answer in time."
        is ConnectException.Storage -> "Could not save on this device: ${error.reason}"
        is ConnectException.Internal -> "Something went wrong: ${error.reason}"
    }

    fun account(error: AccountException): String = when (error) {
        is AccountException.InvalidAddress -> "“${error.input}” is not a valid address. It looks like name@example.org."
        is AccountException.AccountExists -> "You are already signed in as ${error.jid}."
        is AccountException.NoSuchAccount -> "There is no account ${error.jid} on this device."
        is AccountException.NoAccount -> "No account is signed in on this device."
        is AccountException.AmbiguousAccount -> "Several accounts are signed in: ${error.accounts}"
        is AccountException.Storage -> "Could not save on this device: ${error.reason}"
        is AccountException.SecretStorage -> "The password could not be stored securely: ${error.reason}"
        is AccountException.Internal -> "Something went wrong: ${error.reason}"
    }

    private fun fileName(path: String): String = path.substringAfterLast('/').ifEmpty { path }
}

/**
 * Runs [block], turning any failure except cancellation into [onError]'s user text; returns
 * null then. Models wrap every SDK call in it so a bad input never crashes the app.
 */
internal inline fun <T> attempt(onError: (String) -> Unit, block: () -> T): T? =
    try {
        block()
    } catch (e: CancellationException) {
        throw e
    } catch (e: Exception) {
        onError(ErrorText.of(e))
        null
    }
