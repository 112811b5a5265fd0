// Diagnostics for bug reports: the connection, what the server offers (the doctor), the doctor's
// JSON to copy, and the SDK's redacted log through the share sheet. Nothing is sent anywhere by
// the app itself: the user chooses where the log goes.
package org.linnet.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.selection.SelectionContainer
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import org.linnet.app.presentation.DiagnosticsModel

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun DiagnosticsScreen(model: DiagnosticsModel, onBack: () -> Unit, shareLog: (fileName: String, text: String) -> Unit) {
    val connection by model.connectionText.collectAsStateWithLifecycle()
    val features by model.serverFeatures.collectAsStateWithLifecycle()
    val doctorJson by model.doctorJson.collectAsStateWithLifecycle()
    val running by model.running.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    ErrorSnackbar(error, snackbar, model::dismissError)

    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = { Text(Labels.diagnostics) },
            )
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState()).padding(16.dp),
            verticalArrangement = Arrangement.spacedBy(12.dp),
        ) {
            Text(model.version, style = MaterialTheme.typography.bodyMedium)
            Text(Labels.privacyStatement, style = MaterialTheme.typography.bodyMedium)
            HorizontalDivider()

            Text(Labels.connection, style = MaterialTheme.typography.titleSmall)
            Text(connection, style = MaterialTheme.typography.bodyLarge)
            HorizontalDivider()

            Row(verticalAlignment = Alignment.CenterVertically) {
                Text(Labels.serverFeatures, style = MaterialTheme.typography.titleSmall, modifier = Modifier.weight(1f))
                if (running) {
                    CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp)
                } else {
                    FilledTonalButton(onClick = { model.runDoctor() }) { Text(Labels.runDoctor) }
                }
            }
            features.forEach { row ->
                Row(Modifier.fillMaxWidth()) {
                    Text(row.label, style = MaterialTheme.typography.bodyMedium, modifier = Modifier.weight(1f))
                    Text(row.value, style = MaterialTheme.typography.bodyMedium, modifier = Modifier.weight(1f))
                }
            }
            doctorJson?.let { json ->
                SelectionContainer {
                    Text(json, style = MaterialTheme.typography.bodySmall, fontFamily = FontFamily.Monospace)
                }
            }
            HorizontalDivider()

            Text(Labels.shareLogNote, style = MaterialTheme.typography.bodyMedium)
            Button(onClick = {
                val export = model.exportLog()
                shareLog(export.fileName, export.text)
            }) { Text(Labels.shareLog) }
        }
    }
}
