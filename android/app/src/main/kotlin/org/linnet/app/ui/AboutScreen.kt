// About: what Linnet is, the privacy statement (no analytics, no tracking), the versions, and
// the way to diagnostics for bug reports.
package org.linnet.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import org.linnet.sdk.linnetVersion

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun AboutScreen(versionName: String, onBack: () -> Unit, openDiagnostics: () -> Unit) {
    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = { Text(Labels.about) },
            )
        },
    ) { padding ->
        Column(
            Modifier.fillMaxSize().padding(padding).padding(24.dp),
            verticalArrangement = Arrangement.spacedBy(16.dp),
        ) {
            Text(Labels.appName, style = MaterialTheme.typography.headlineMedium)
            Text("${Labels.version} $versionName · Linnet ${linnetVersion()}", style = MaterialTheme.typography.bodyMedium)
            Text(Labels.privacyStatement, style = MaterialTheme.typography.bodyLarge)
            FilledTonalButton(onClick = openDiagnostics) { Text(Labels.diagnostics) }
        }
    }
}
