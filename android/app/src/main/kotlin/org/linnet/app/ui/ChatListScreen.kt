// The conversations: connection banner (with retry), history sync progress, one row per chat
// (avatar with presence, title, preview or "typing…", delivery tick, time, unread badge).
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
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.Chat
import androidx.compose.material.icons.filled.Call
import androidx.compose.material.icons.filled.Info
import androidx.compose.material.icons.filled.People
import androidx.compose.material.icons.filled.Settings
import androidx.compose.material3.Badge
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FloatingActionButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
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
import androidx.compose.ui.text.font.FontStyle
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.style.TextOverflow
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import org.linnet.app.presentation.ChatListModel
import org.linnet.app.presentation.ChatRow

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ChatListScreen(
    model: ChatListModel,
    openConversation: (String) -> Unit,
    openContacts: () -> Unit,
    openCalls: () -> Unit,
    openSettings: () -> Unit,
    openAbout: () -> Unit,
) {
    val rows by model.rows.collectAsStateWithLifecycle()
    val banner by model.banner.collectAsStateWithLifecycle()
    val sync by model.sync.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    ErrorSnackbar(error, snackbar, model::dismissError)

    Scaffold(
        topBar = {
            TopAppBar(
                title = { Text(Labels.chats) },
                actions = {
                    IconButton(onClick = openContacts) { Icon(Icons.Filled.People, contentDescription = Labels.contacts) }
                    IconButton(onClick = openCalls) { Icon(Icons.Filled.Call, contentDescription = Labels.calls) }
                    IconButton(onClick = openSettings) { Icon(Icons.Filled.Settings, contentDescription = Labels.settings) }
                    IconButton(onClick = openAbout) { Icon(Icons.Filled.Info, contentDescription = Labels.about) }
                },
            )
        },
        floatingActionButton = {
            FloatingActionButton(onClick = openContacts) {
                Icon(Icons.AutoMirrored.Filled.Chat, contentDescription = Labels.newChat)
            }
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.fillMaxSize().padding(padding)) {
            banner?.let { b ->
                Banner(
                    text = b.text,
                    actionLabel = if (b.canRetry) Labels.retry else null,
                    onAction = if (b.canRetry) model::retryConnection else null,
                    error = true,
                )
            }
            sync?.let { s ->
                Column(Modifier.fillMaxWidth().padding(horizontal = 16.dp, vertical = 6.dp)) {
                    Text(s.text, style = MaterialTheme.typography.labelMedium)
                    val progress = s.progress
                    if (progress != null) {
                        LinearProgressIndicator(progress = { progress }, modifier = Modifier.fillMaxWidth())
                    } else {
                        LinearProgressIndicator(modifier = Modifier.fillMaxWidth())
                    }
                }
            }
            if (rows.isEmpty()) {
                Box(Modifier.fillMaxSize().padding(32.dp), contentAlignment = Alignment.Center) {
                    Text(Labels.noChats, style = MaterialTheme.typography.bodyLarge)
                }
            } else {
                LazyColumn(Modifier.fillMaxSize()) {
                    items(rows, key = { it.peer }) { row ->
                        ChatRowItem(row, onClick = { openConversation(row.peer) })
                        HorizontalDivider()
                    }
                }
            }
        }
    }
}

@Composable
private fun ChatRowItem(row: ChatRow, onClick: () -> Unit) {
    ListItem(
        modifier = Modifier.clickable(onClick = onClick),
        leadingContent = { Avatar(row.title, row.presence) },
        headlineContent = {
            Text(
                row.title,
                maxLines = 1,
                overflow = TextOverflow.Ellipsis,
                fontWeight = if (row.unread > 0) FontWeight.SemiBold else FontWeight.Normal,
            )
        },
        supportingContent = {
            val typing = row.typingText
            if (typing != null) {
                Text(typing, fontStyle = FontStyle.Italic, color = MaterialTheme.colorScheme.primary, maxLines = 1)
            } else if (row.previewText != null) {
                Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(4.dp)) {
                    row.previewStatus?.let { StatusIcon(it) }
                    Text(row.previewText, maxLines = 1, overflow = TextOverflow.Ellipsis)
                }
            }
        },
        trailingContent = {
            Column(horizontalAlignment = Alignment.End, verticalArrangement = Arrangement.spacedBy(4.dp)) {
                Text(row.lastActivityText, style = MaterialTheme.typography.labelSmall)
                row.unreadText?.let { Badge { Text(it) } }
            }
        },
    )
}
