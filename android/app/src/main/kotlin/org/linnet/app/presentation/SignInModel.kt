// The sign-in form: address, password, optional server settings; one attempt at a time.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.linnet.sdk.AccountException
import org.linnet.sdk.AccountOptions
import org.linnet.sdk.ConnectException
import org.linnet.sdk.LinnetSdk

enum class SignInErrorKind {
    InvalidAddress,
    MissingPassword,
    InvalidServerPort,
    WrongPassword,
    ServerUnreachable,
    CertificateProblem,
    /** TLS failed for another reason than the certificate. */
    SecureConnectionFailed,
    ServerError,
    Timeout,
    AlreadySignedIn,
    Other,
}

/** Why signing in failed: [kind] for logic and tests, [message] for the user. */
data class SignInError(val kind: SignInErrorKind, val message: String)

class SignInModel internal constructor(
    private val sdk: LinnetSdk,
    scope: CoroutineScope,
    /** Called with the account's address once it is online. */
    private val onSignedIn: (String) -> Unit,
) {
    private val scope = scope.childScope()

    private val _address = MutableStateFlow("")
    val address: StateFlow<String> = _address.asStateFlow()
    private val _password = MutableStateFlow("")
    val password: StateFlow<String> = _password.asStateFlow()

    /** Advanced: a server to connect to instead of the one the address's domain names. */
    private val _serverHost = MutableStateFlow("")
    val serverHost: StateFlow<String> = _serverHost.asStateFlow()
    /** Advanced: its port, as typed (empty: the default). */
    private val _serverPort = MutableStateFlow("")
    val serverPort: StateFlow<String> = _serverPort.asStateFlow()
    /** Advanced: PEM text of an extra certificate authority to trust (self-hosted servers). */
    private val _extraCaPem = MutableStateFlow("")
    val extraCaPem: StateFlow<String> = _extraCaPem.asStateFlow()

    private val _busy = MutableStateFlow(false)
    val busy: StateFlow<Boolean> = _busy.asStateFlow()
    private val _error = MutableStateFlow<SignInError?>(null)
    val error: StateFlow<SignInError?> = _error.asStateFlow()

    // Editing a field clears the error about it: the user is fixing it.
    fun setAddress(value: String) { _address.value = value; _error.value = null }
    fun setPassword(value: String) { _password.value = value; _error.value = null }
    fun setServerHost(value: String) { _serverHost.value = value; _error.value = null }
    fun setServerPort(value: String) { _serverPort.value = value; _error.value = null }
    fun setExtraCaPem(value: String) { _extraCaPem.value = value; _error.value = null }

    /**
     * Adds the account and connects once. On failure the account is removed again (a wrong
     * password must not leave a half-added account behind) and [error] says why.
     */
    fun signIn(): Job = scope.launch {
        if (_busy.value) return@launch
        val address = _address.value.trim()
        val password = _password.value
        val options = validate(address, password) ?: return@launch
        _busy.value = true
        _error.value = null
        try {
            val jid = withContext(Dispatchers.IO) { connect(address, password, options) }
            if (jid != null) onSignedIn(jid)
        } finally {
            _busy.value = false
        }
    }

    fun close() = scope.cancel()

    /** The form's own checks, before anything goes to the SDK; null (with [error] set) if bad. */
    private fun validate(address: String, password: String): AccountOptions? {
        if (address.isEmpty() || !address.contains('@') || address.startsWith('@') || address.endsWith('@')) {
            fail(SignInErrorKind.InvalidAddress, "Enter your address, like name@example.org.")
            return null
        }
        if (password.isEmpty()) {
            fail(SignInErrorKind.MissingPassword, "Enter your password.")
            return null
        }
        val portText = _serverPort.value.trim()
        val port = if (portText.isEmpty()) null else portText.toIntOrNull()?.takeIf { it in 1..65535 }
        if (portText.isNotEmpty() && port == null) {
            fail(SignInErrorKind.InvalidServerPort, "The port must be a number from 1 to 65535.")
            return null
        }
        return AccountOptions(
            serverHost = _serverHost.value.trim().ifEmpty { null },
            serverPort = port?.toUShort(),
            directTls = false,
            extraCaPem = _extraCaPem.value.trim().ifEmpty { null },
        )
    }

    /** The account's JID once online; null after a failure (reported in [error]). */
    private suspend fun connect(address: String, password: String, options: AccountOptions): String? {
        val jid = try {
            sdk.addAccount(address, password, options).jid
        } catch (e: AccountException) {
            fail(accountErrorKind(e), ErrorText.account(e))
            return null
        } catch (e: Exception) {
            if (e is kotlinx.coroutines.CancellationException) throw e
            fail(SignInErrorKind.Other, ErrorText.of(e))
            return null
        }
        try {
            sdk.client(jid).connection().start()
            return jid
        } catch (e: Exception) {
            // Remove the account whatever went wrong, cancellation included: it is not usable.
            runCatching { sdk.removeAccount(jid) }
            if (e is kotlinx.coroutines.CancellationException) throw e
            when (e) {
                is ConnectException -> fail(connectErrorKind(e), connectMessage(e))
                else -> fail(SignInErrorKind.Other, ErrorText.of(e))
            }
            return null
        }
    }

    private fun fail(kind: SignInErrorKind, message: String) {
        _error.value = SignInError(kind, message)
    }

    private fun accountErrorKind(e: AccountException): SignInErrorKind = when (e) {
        is AccountException.InvalidAddress -> SignInErrorKind.InvalidAddress
        is AccountException.AccountExists -> SignInErrorKind.AlreadySignedIn
        else -> SignInErrorKind.Other
    }

    private fun connectErrorKind(e: ConnectException): SignInErrorKind = when (e) {
        is ConnectException.WrongCredentials, is ConnectException.AuthFailed -> SignInErrorKind.WrongPassword
        is ConnectException.Network -> SignInErrorKind.ServerUnreachable
        is ConnectException.Certificate -> SignInErrorKind.CertificateProblem
        is ConnectException.Tls -> SignInErrorKind.SecureConnectionFailed
        is ConnectException.Server -> SignInErrorKind.ServerError
        is ConnectException.Timeout -> SignInErrorKind.Timeout
        is ConnectException.NoPassword, is ConnectException.Storage, is ConnectException.Internal -> SignInErrorKind.Other
    }

    /** Sign-in wording: more helpful than the generic connection text for a first attempt. */
    private fun connectMessage(e: ConnectException): String = when (e) {
        is ConnectException.WrongCredentials -> "The address or password is wrong."
        is ConnectException.Network -> "The server cannot be reached. Check the address and your connection."
        is ConnectException.Certificate ->
            "The server's certificate is not trusted. If you run your own server, add its certificate authority under Advanced."
        else -> ErrorText.connect(e)
    }
}
