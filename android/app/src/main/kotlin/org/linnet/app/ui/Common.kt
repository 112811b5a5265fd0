// Small pieces shared by the screens: avatar with presence dot, delivery icon, error snackbar,
// the banner strip.
package org.linnet.app.ui

import androidx.compose.foundation.background
import androidx.compose.foundation.border
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Done
import androidx.compose.material.icons.filled.DoneAll
import androidx.compose.material.icons.filled.ErrorOutline
import androidx.compose.material.icons.filled.Schedule
import androidx.compose.material3.Icon
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.draw.clip
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.Dp
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.flow.StateFlow
import org.linnet.app.presentation.MessageStatus
import org.linnet.sdk.Availability

/** A letter avatar; with [presence], a dot in its corner (green online, amber away, red DND). */
@Composable
fun Avatar(title: String, presence: Availability? = null, size: Dp = 44.dp) {
    Box(Modifier.size(size)) {
        Box(
            Modifier
                .size(size)
                .clip(CircleShape)
                .background(MaterialTheme.colorScheme.primaryContainer),
            contentAlignment = Alignment.Center,
        ) {
            Text(
                title.trim().take(1).uppercase(),
                color = MaterialTheme.colorScheme.onPrimaryContainer,
                fontWeight = FontWeight.SemiBold,
            )
        }
        if (presence != null && presence != Availability.OFFLINE) {
            Box(
                Modifier
                    .align(Alignment.BottomEnd)
                    .size(size / 4)
                    .clip(CircleShape)
                    .background(presenceColor(presence))
                    .border(2.dp, MaterialTheme.colorScheme.surface, CircleShape),
            )
        }
    }
}

fun presenceColor(presence: Availability): Color = when (presence) {
    Availability.ONLINE -> Color(0xFF2E7D32)
    Availability.AWAY, Availability.EXTENDED_AWAY -> Color(0xFFF9A825)
    Availability.DO_NOT_DISTURB -> Color(0xFFC62828)
    Availability.OFFLINE -> Color.Gray
}

/** The delivery tick of an outgoing message; nothing for received ones. */
@Composable
fun StatusIcon(status: MessageStatus, modifier: Modifier = Modifier, tint: Color = MaterialTheme.colorScheme.onSurfaceVariant) {
    val icon = when (status) {
        MessageStatus.Sending -> Icons.Filled.Schedule
        MessageStatus.Sent -> Icons.Filled.Done
        MessageStatus.Delivered -> Icons.Filled.DoneAll
        MessageStatus.Read -> Icons.Filled.DoneAll
        MessageStatus.Failed -> Icons.Filled.ErrorOutline
        MessageStatus.Received -> return
    }
    val color = when (status) {
        MessageStatus.Read -> MaterialTheme.colorScheme.primary
        MessageStatus.Failed -> MaterialTheme.colorScheme.error
        else -> tint
    }
    Icon(icon, contentDescription = status.text, tint = color, modifier = modifier.size(16.dp))
}

/** Shows the model's error once as a snackbar, then lets the model forget it. */
@Composable
fun ErrorSnackbar(error: String?, host: SnackbarHostState, dismiss: () -> Unit) {
    LaunchedEffect(error) {
        if (error != null) {
            host.showSnackbar(error, withDismissAction = true)
            dismiss()
        }
    }
}

/** A strip above a list: the connection problem, sync progress. */
@Composable
fun Banner(text: String, actionLabel: String? = null, onAction: (() -> Unit)? = null, error: Boolean = false) {
    Surface(
        color = if (error) MaterialTheme.colorScheme.errorContainer else MaterialTheme.colorScheme.secondaryContainer,
        contentColor = if (error) MaterialTheme.colorScheme.onErrorContainer else MaterialTheme.colorScheme.onSecondaryContainer,
        modifier = Modifier.fillMaxWidth(),
    ) {
        Row(Modifier.padding(horizontal = 16.dp, vertical = 8.dp), verticalAlignment = Alignment.CenterVertically) {
            Text(text, style = MaterialTheme.typography.bodyMedium, modifier = Modifier.weight(1f))
            if (actionLabel != null && onAction != null) {
                TextButton(onClick = onAction) { Text(actionLabel) }
            }
        }
    }
}

/**
 * A text field's text as Compose state, with the setter that also tells the model: each
 * keystroke shows at once (a field drawn straight from a StateFlow can lose characters typed
 * while the flow's new value is on its way), and the model still wins when it changes the text
 * itself (the draft cleared after sending).
 */
@Composable
fun fieldText(source: StateFlow<String>, onChange: (String) -> Unit): Pair<String, (String) -> Unit> {
    val text = remember(source) { mutableStateOf(source.value) }
    LaunchedEffect(source) { source.collect { if (it != text.value) text.value = it } }
    return text.value to { value: String ->
        text.value = value
        onChange(value)
    }
}
