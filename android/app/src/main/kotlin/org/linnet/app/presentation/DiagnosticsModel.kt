// What testers send with a bug report: the connection, what the server offers (the doctor),
// and the SDK's redacted log.
package org.linnet.app.presentation

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancel
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.catch
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.linnet.sdk.ConnectionState
import org.linnet.sdk.DoctorReport
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.linnetVersion
import org.linnet.sdk.states
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter

data class FeatureRow(val label: String, val value: String)

/** A log ready to share: a file name and its text (passwords and message text already removed). */
data class LogExport(val fileName: String, val text: String)

class DiagnosticsModel internal constructor(
    private val client: LinnetClient,
    scope: CoroutineScope,
    /** The app's own version (the platform knows it), shown beside the library's. */
    appVersion: String? = null,
) {
    private val scope = scope.childScope()

    /** "Linnet 0.1.0" or "App 1.2 · Linnet 0.1.0". */
    val version: String = listOfNotNull(appVersion?.let { "App $it" }, "Linnet ${linnetVersion()}").joinToString(" · ")

    private val _connectionText = MutableStateFlow("Offline")
    val connectionText: StateFlow<String> = _connectionText.asStateFlow()
    private val _serverFeatures = MutableStateFlow<List<FeatureRow>>(emptyList())
    val serverFeatures: StateFlow<List<FeatureRow>> = _serverFeatures.asStateFlow()
    /** The whole doctor report as JSON, to copy into a bug report; null before runDoctor(). */
    private val _doctorJson = MutableStateFlow<String?>(null)
    val doctorJson: StateFlow<String?> = _doctorJson.asStateFlow()
    private val _running = MutableStateFlow(false)
    val running: StateFlow<Boolean> = _running.asStateFlow()
    private val _error = MutableStateFlow<String?>(null)
    val error: StateFlow<String?> = _error.asStateFlow()

    init {
        _connectionText.value = attempt({ _error.value = it }) { connectionText(client.connection().state()) } ?: "Offline"
        this.scope.launch {
            client.connection().states()
                .catch { _error.value = ErrorText.of(it) }
                .collect { _connectionText.value = connectionText(it) }
        }
    }

    /** Asks the server what it offers (needs a connection). */
    fun runDoctor(): Job = scope.launch {
        if (_running.value) return@launch
        _running.value = true
        _error.value = null
        try {
            val report = withContext(Dispatchers.IO) { attempt({ _error.value = it }) { client.diagnostics().doctor() } }
            if (report != null) {
                _serverFeatures.value = features(report)
                _doctorJson.value = report.json
            }
        } finally {
            _running.value = false
        }
    }

    /** The SDK's recent log, redacted by the SDK (no passwords, no message text). */
    fun exportLog(): LogExport {
        val text = try {
            client.diagnostics().exportLogs()
        } catch (e: Exception) {
            "The log could not be read: ${ErrorText.of(e)}"
        }
        val stamp = FILE_STAMP.format(Instant.now())
        return LogExport("linnet-log-$stamp.txt", "$version\n$text")
    }

    fun dismissError() { _error.value = null }

    fun close() = scope.cancel()

    companion object {
        private val FILE_STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC)

        fun connectionText(state: ConnectionState): String = when (state) {
            is ConnectionState.Online -> "Online"
            is ConnectionState.Connecting -> "Connecting…"
            is ConnectionState.Offline -> "Offline"
            is ConnectionState.Disconnected -> "Disconnected: ${state.reason}"
        }

        private fun yesNo(on: Boolean) = if (on) "Yes" else "No"

        fun features(r: DoctorReport): List<FeatureRow> = listOf(
            FeatureRow("Signed in as", r.boundJid),
            FeatureRow("Server", r.server),
            FeatureRow("Connection", r.connection),
            FeatureRow("Encryption", "${r.tlsVersion}, ${r.tlsCipher}"),
            FeatureRow("Sign-in method", r.saslChosen + (r.channelBinding?.let { " with $it" } ?: "")),
            FeatureRow("Sign-in methods offered", r.saslOffered.joinToString(", ").ifEmpty { "None" }),
            FeatureRow("Stream management", r.streamManagement),
            FeatureRow("Sessions", r.sessions),
            FeatureRow("History on the server (MAM)", yesNo(r.mam)),
            FeatureRow("History sync", r.archiveSync),
            FeatureRow("Messages on all devices (carbons)", yesNo(r.carbons)),
            FeatureRow("Battery saving (CSI)", yesNo(r.csi)),
            FeatureRow(
                "File upload",
                r.uploadService?.let { service ->
                    service + (r.uploadMaxFileSize?.let { " (max ${Text.size(it.toLong())})" } ?: "")
                } ?: "Not offered",
            ),
            FeatureRow("Push notifications", yesNo(r.push)),
            FeatureRow("Call relays (external services)", yesNo(r.externalServices)),
            FeatureRow("Missing history since", r.historyGapSince?.let { Text.whenShort(it) } ?: "None"),
            FeatureRow("Server features", r.serverFeatures.size.toString()),
        )
    }
}
