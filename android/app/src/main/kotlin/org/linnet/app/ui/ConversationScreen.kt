// One conversation: messages oldest first, date separators, bubbles with delivery ticks and
// failures (retry), file rows with progress and download / cancel / retry, "typing…" under the
// title, the composer (draft drives typing notifications in the model) and the file picker.
package org.linnet.app.ui

import android.net.Uri
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.consumeWindowInsets
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.imePadding
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.widthIn
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.lazy.rememberLazyListState
import androidx.compose.foundation.shape.RoundedCornerShape
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material.icons.automirrored.filled.InsertDriveFile
import androidx.compose.material.icons.automirrored.filled.Send
import androidx.compose.material.icons.filled.AttachFile
import androidx.compose.material.icons.filled.Call
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.text.font.FontStyle
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import kotlinx.coroutines.launch
import org.linnet.app.platform.Files
import org.linnet.app.presentation.AttachmentRow
import org.linnet.app.presentation.AttachmentState
import org.linnet.app.presentation.ConversationModel
import org.linnet.app.presentation.ConversationRow

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun ConversationScreen(
    model: ConversationModel,
    onBack: () -> Unit,
    onCall: (() -> Unit)?,
) {
    val title by model.title.collectAsStateWithLifecycle()
    val rows by model.rows.collectAsStateWithLifecycle()
    val peerTyping by model.peerTyping.collectAsStateWithLifecycle()
    val (draft, onDraftChange) = fieldText(model.draft, model::onDraftChanged)
    val loadingOlder by model.loadingOlder.collectAsStateWithLifecycle()
    val reachedStart by model.reachedStart.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    ErrorSnackbar(error, snackbar, model::dismissError)

    // While the screen is resumed, what arrives counts as read (the model marks it).
    LifecycleResumeEffect(model) {
        model.setVisible(true)
        onPauseOrDispose { model.setVisible(false) }
    }

    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val pickFile = rememberLauncherForActivityResult(ActivityResultContracts.GetContent()) { uri: Uri? ->
        if (uri != null) {
            scope.launch {
                val path = Files.copyToCache(context, uri)
                if (path != null) {
                    model.sendFile(path)
                } else {
                    snackbar.showSnackbar(Labels.fileUnreadable, withDismissAction = true)
                }
            }
        }
    }

    val listState = rememberLazyListState()
    // Follow the newest message (the list is oldest first).
    LaunchedEffect(rows.lastOrNull()?.key) {
        if (rows.isNotEmpty()) listState.animateScrollToItem(rows.size) // +1: the header item
    }

    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = {
                    Column {
                        Text(title, maxLines = 1)
                        if (peerTyping) {
                            Text(Labels.typing, style = MaterialTheme.typography.labelMedium, fontStyle = FontStyle.Italic)
                        }
                    }
                },
                actions = {
                    if (onCall != null) {
                        IconButton(onClick = onCall) { Icon(Icons.Filled.Call, contentDescription = Labels.call) }
                    }
                },
            )
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.fillMaxSize().padding(padding).consumeWindowInsets(padding).imePadding()) {
            LazyColumn(
                state = listState,
                modifier = Modifier.weight(1f).fillMaxWidth(),
                verticalArrangement = Arrangement.spacedBy(4.dp),
            ) {
                item(key = "header") {
                    Box(Modifier.fillMaxWidth().padding(8.dp), contentAlignment = Alignment.Center) {
                        when {
                            loadingOlder -> CircularProgressIndicator(Modifier.size(24.dp), strokeWidth = 2.dp)
                            !reachedStart -> TextButton(onClick = { model.loadOlder() }) { Text(Labels.loadOlder) }
                        }
                    }
                }
                items(rows, key = { it.key }) { row ->
                    when (row) {
                        is ConversationRow.DateSeparator -> DateSeparator(row.text)
                        is ConversationRow.Message -> MessageBubble(
                            row,
                            onRetry = { model.retry(row.id) },
                            onDownload = { model.download(row.id) },
                            onCancel = { model.cancelTransfer(row.id) },
                            onOpen = { path, type ->
                                if (!Files.open(context, path, type)) {
                                    scope.launch { snackbar.showSnackbar(Labels.cannotOpen, withDismissAction = true) }
                                }
                            },
                        )
                    }
                }
            }
            Composer(
                draft = draft,
                onDraftChanged = onDraftChange,
                onSend = { model.send() },
                onAttach = { pickFile.launch("*/*") },
            )
        }
    }
}

@Composable
private fun DateSeparator(text: String) {
    Text(
        text,
        style = MaterialTheme.typography.labelMedium,
        textAlign = TextAlign.Center,
        color = MaterialTheme.colorScheme.onSurfaceVariant,
        modifier = Modifier.fillMaxWidth().padding(vertical = 8.dp),
    )
}

@Composable
private fun MessageBubble(
    row: ConversationRow.Message,
    onRetry: () -> Unit,
    onDownload: () -> Unit,
    onCancel: () -> Unit,
    onOpen: (path: String, mediaType: String?) -> Unit,
) {
    val outgoing = row.outgoing
    Box(
        Modifier.fillMaxWidth().padding(horizontal = 12.dp),
        contentAlignment = if (outgoing) Alignment.CenterEnd else Alignment.CenterStart,
    ) {
        Surface(
            shape = RoundedCornerShape(16.dp),
            color = if (outgoing) MaterialTheme.colorScheme.primaryContainer else MaterialTheme.colorScheme.surfaceVariant,
            modifier = Modifier.widthIn(max = 320.dp),
        ) {
            Column(Modifier.padding(horizontal = 12.dp, vertical = 8.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
                row.attachment?.let { Attachment(it, onDownload = onDownload, onCancel = onCancel, onRetry = onRetry, onOpen = onOpen) }
                if (row.body.isNotEmpty() && row.body != row.attachment?.fileName) {
                    Text(row.body, style = MaterialTheme.typography.bodyLarge)
                }
                Row(
                    modifier = Modifier.align(Alignment.End),
                    verticalAlignment = Alignment.CenterVertically,
                    horizontalArrangement = Arrangement.spacedBy(4.dp),
                ) {
                    Text(row.timeText, style = MaterialTheme.typography.labelSmall)
                    if (outgoing) StatusIcon(row.status)
                }
                row.failureText?.let {
                    Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
                }
                // An upload's retry is offered on its file row; a plain message's here.
                if (row.canRetry && row.attachment?.canRetry != true) {
                    TextButton(onClick = onRetry) { Text(Labels.retry) }
                }
            }
        }
    }
}

@Composable
private fun Attachment(
    file: AttachmentRow,
    onDownload: () -> Unit,
    onCancel: () -> Unit,
    onRetry: () -> Unit,
    onOpen: (path: String, mediaType: String?) -> Unit,
) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Row(verticalAlignment = Alignment.CenterVertically, horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Icon(Icons.AutoMirrored.Filled.InsertDriveFile, contentDescription = null)
            Column(Modifier.weight(1f, fill = false)) {
                Text(file.fileName, style = MaterialTheme.typography.bodyMedium, maxLines = 2)
                val details = listOfNotNull(file.sizeText, file.stateText.ifEmpty { null }).joinToString(" · ")
                if (details.isNotEmpty()) Text(details, style = MaterialTheme.typography.labelSmall)
            }
        }
        val progress = file.progress
        when {
            progress != null -> LinearProgressIndicator(progress = { progress }, modifier = Modifier.widthIn(min = 160.dp))
            file.state == AttachmentState.Transferring -> LinearProgressIndicator(Modifier.widthIn(min = 160.dp))
        }
        file.errorText?.let {
            Text(it, color = MaterialTheme.colorScheme.error, style = MaterialTheme.typography.bodySmall)
        }
        Row {
            val path = file.localPath
            if (file.state == AttachmentState.Done && path != null) {
                TextButton(onClick = { onOpen(path, file.mediaType) }) { Text(Labels.open) }
            }
            if (file.canDownload) TextButton(onClick = onDownload) { Text(Labels.download) }
            if (file.canCancel) TextButton(onClick = onCancel) { Text(Labels.cancel) }
            if (file.canRetry) TextButton(onClick = onRetry) { Text(Labels.retry) }
        }
    }
}

@Composable
private fun Composer(draft: String, onDraftChanged: (String) -> Unit, onSend: () -> Unit, onAttach: () -> Unit) {
    Surface(tonalElevation = 2.dp) {
        Row(
            Modifier.fillMaxWidth().padding(horizontal = 8.dp, vertical = 6.dp),
            verticalAlignment = Alignment.CenterVertically,
        ) {
            IconButton(onClick = onAttach) { Icon(Icons.Filled.AttachFile, contentDescription = Labels.attach) }
            OutlinedTextField(
                value = draft,
                onValueChange = onDraftChanged,
                placeholder = { Text(Labels.messageField) },
                maxLines = 5,
                modifier = Modifier.weight(1f),
            )
            IconButton(onClick = onSend, enabled = draft.isNotBlank()) {
                Icon(Icons.AutoMirrored.Filled.Send, contentDescription = Labels.send)
            }
        }
    }
}
