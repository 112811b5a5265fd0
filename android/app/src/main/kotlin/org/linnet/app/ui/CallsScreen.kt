// Calls: a field to call an address or a phone number (through the server's phone gateway),
// and the call log (tap to call back).
package org.linnet.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.text.KeyboardActions
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.automirrored.filled.CallMade
import androidx.compose.material.icons.automirrored.filled.CallMissed
import androidx.compose.material.icons.automirrored.filled.CallReceived
import androidx.compose.material.icons.filled.Call
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilledIconButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import org.linnet.app.presentation.CallLogRow
import org.linnet.app.presentation.CallModel

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun CallsScreen(model: CallModel, onBack: () -> Unit, placeCall: (String) -> Unit) {
    val log by model.callLog.collectAsStateWithLifecycle()
    val call by model.call.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    // While a call is on, its screen shows the error; here only when there is none.
    ErrorSnackbar(if (call == null) error else null, snackbar, model::dismissError)
    var to by rememberSaveable { mutableStateOf("") }
    LaunchedEffect(Unit) { model.refreshCallLog() }

    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = { Text(Labels.calls) },
            )
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.fillMaxSize().padding(padding)) {
            Row(
                Modifier.fillMaxWidth().padding(16.dp),
                verticalAlignment = Alignment.CenterVertically,
                horizontalArrangement = Arrangement.spacedBy(8.dp),
            ) {
                OutlinedTextField(
                    value = to,
                    onValueChange = { to = it },
                    label = { Text(Labels.callTo) },
                    singleLine = true,
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Email, imeAction = ImeAction.Go),
                    keyboardActions = KeyboardActions(onGo = { placeCall(to) }),
                    modifier = Modifier.weight(1f),
                )
                FilledIconButton(onClick = { placeCall(to) }) {
                    Icon(Icons.Filled.Call, contentDescription = Labels.callSomeone)
                }
            }
            SectionTitle(Labels.callLog)
            LazyColumn(Modifier.fillMaxSize()) {
                items(log, key = { it.callId }) { row ->
                    CallLogItem(row, onClick = { placeCall(row.callBackTo) })
                    HorizontalDivider()
                }
            }
        }
    }
}

@Composable
private fun CallLogItem(row: CallLogRow, onClick: () -> Unit) {
    ListItem(
        modifier = Modifier.clickable(onClick = onClick),
        leadingContent = {
            Icon(
                when {
                    row.missed -> Icons.AutoMirrored.Filled.CallMissed
                    row.incoming -> Icons.AutoMirrored.Filled.CallReceived
                    else -> Icons.AutoMirrored.Filled.CallMade
                },
                contentDescription = row.directionText,
                tint = if (row.missed) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurfaceVariant,
            )
        },
        headlineContent = { Text(row.title) },
        supportingContent = {
            Text(listOfNotNull(row.directionText, row.durationText, row.endText).joinToString(" · "))
        },
        trailingContent = { Text(row.whenText, style = MaterialTheme.typography.labelSmall) },
    )
}
