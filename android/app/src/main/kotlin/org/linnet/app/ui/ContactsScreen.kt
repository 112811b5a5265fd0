// Contacts: pending requests on top (approve / deny), then the contacts (tap to chat, call,
// remove), and the add-contact dialog. The model validates and words every error.
package org.linnet.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.filled.Call
import androidx.compose.material.icons.filled.MoreVert
import androidx.compose.material.icons.filled.PersonAdd
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilledTonalButton
import androidx.compose.material3.FloatingActionButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
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
import org.linnet.app.presentation.ContactRow
import org.linnet.app.presentation.ContactsModel

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ContactsScreen(
    model: ContactsModel,
    onBack: () -> Unit,
    openConversation: (String) -> Unit,
    onCall: ((String) -> Unit)?,
) {
    val contacts by model.contacts.collectAsStateWithLifecycle()
    val requests by model.requests.collectAsStateWithLifecycle()
    val busy by model.busy.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    ErrorSnackbar(error, snackbar, model::dismissError)
    var adding by rememberSaveable { mutableStateOf(false) }

    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = { Text(Labels.contacts) },
            )
        },
        floatingActionButton = {
            FloatingActionButton(onClick = { adding = true }) {
                Icon(Icons.Filled.PersonAdd, contentDescription = Labels.addContact)
            }
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.fillMaxSize().padding(padding)) {
            if (busy) LinearProgressIndicator(Modifier.fillMaxWidth())
            if (contacts.isEmpty() && requests.isEmpty()) {
                Box(Modifier.fillMaxSize().padding(32.dp), contentAlignment = Alignment.Center) {
                    Text(Labels.noContacts, style = MaterialTheme.typography.bodyLarge)
                }
            }
            LazyColumn(Modifier.fillMaxSize()) {
                if (requests.isNotEmpty()) {
                    item(key = "requests") { SectionTitle(Labels.requests) }
                    items(requests, key = { "r:" + it.jid }) { row ->
                        RequestItem(row, onApprove = { model.approve(row.jid) }, onDeny = { model.deny(row.jid) })
                        HorizontalDivider()
                    }
                    item(key = "contacts") { SectionTitle(Labels.contacts) }
                }
                items(contacts, key = { "c:" + it.jid }) { row ->
                    ContactListItem(
                        row,
                        onOpen = { openConversation(row.jid) },
                        onCall = onCall?.let { call -> { call(row.jid) } },
                        onRemove = { model.remove(row.jid) },
                    )
                    HorizontalDivider()
                }
            }
        }
    }

    if (adding) {
        AddContactDialog(
            onAdd = { jid, name ->
                model.add(jid, name)
                adding = false
            },
            onDismiss = { adding = false },
        )
    }
}

@Composable
fun SectionTitle(text: String) {
    Text(
        text,
        style = MaterialTheme.typography.titleSmall,
        color = MaterialTheme.colorScheme.primary,
        modifier = Modifier.padding(start = 16.dp, top = 16.dp, bottom = 4.dp),
    )
}

@Composable
private fun RequestItem(row: ContactRow, onApprove: () -> Unit, onDeny: () -> Unit) {
    ListItem(
        leadingContent = { Avatar(row.name) },
        headlineContent = { Text(row.name) },
        supportingContent = {
            Column {
                Text(row.jid, style = MaterialTheme.typography.bodySmall)
                row.subscriptionText?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp), modifier = Modifier.padding(top = 4.dp)) {
                    FilledTonalButton(onClick = onApprove) { Text(Labels.approve) }
                    OutlinedButton(onClick = onDeny) { Text(Labels.deny) }
                }
            }
        },
    )
}

@Composable
private fun ContactListItem(row: ContactRow, onOpen: () -> Unit, onCall: (() -> Unit)?, onRemove: () -> Unit) {
    var menu by remember { mutableStateOf(false) }
    ListItem(
        modifier = Modifier.clickable(onClick = onOpen),
        leadingContent = { Avatar(row.name, row.presence) },
        headlineContent = { Text(row.name) },
        supportingContent = {
            Column {
                Text(row.presenceText, style = MaterialTheme.typography.bodySmall)
                row.subscriptionText?.let { Text(it, style = MaterialTheme.typography.bodySmall) }
            }
        },
        trailingContent = {
            Row(verticalAlignment = Alignment.CenterVertically) {
                if (onCall != null) {
                    IconButton(onClick = onCall) { Icon(Icons.Filled.Call, contentDescription = Labels.call) }
                }
                Box {
                    IconButton(onClick = { menu = true }) { Icon(Icons.Filled.MoreVert, contentDescription = null) }
                    DropdownMenu(expanded = menu, onDismissRequest = { menu = false }) {
                        DropdownMenuItem(text = { Text(Labels.message) }, onClick = { menu = false; onOpen() })
                        DropdownMenuItem(text = { Text(Labels.remove) }, onClick = { menu = false; onRemove() })
                    }
                }
            }
        },
    )
}

@Composable
private fun AddContactDialog(onAdd: (String, String) -> Unit, onDismiss: () -> Unit) {
    var jid by rememberSaveable { mutableStateOf("") }
    var name by rememberSaveable { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(Labels.addContact) },
        text = {
            Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(
                    value = jid,
                    onValueChange = { jid = it },
                    label = { Text(Labels.address) },
                    placeholder = { Text(Labels.addressHint) },
                    singleLine = true,
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Email, imeAction = ImeAction.Next),
                )
                OutlinedTextField(
                    value = name,
                    onValueChange = { name = it },
                    label = { Text(Labels.name) },
                    singleLine = true,
                )
            }
        },
        confirmButton = { Button(onClick = { onAdd(jid, name) }, enabled = jid.isNotBlank()) { Text(Labels.add) } },
        dismissButton = { TextButton(onClick = onDismiss) { Text(Labels.cancel) } },
    )
}
