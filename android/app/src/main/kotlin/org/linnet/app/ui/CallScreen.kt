// The call screen, over the whole app: who, the phase ("Ringing…", "0:42", "Bob hung up"),
// answer / decline for an incoming call, then mute, speaker, keypad (DTMF) and hang up. Every
// state and word comes from CallModel's CallUi; buttons call its actions.
package org.linnet.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.background
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.safeDrawingPadding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.shape.CircleShape
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.VolumeUp
import androidx.compose.material.icons.filled.Call
import androidx.compose.material.icons.filled.CallEnd
import androidx.compose.material.icons.filled.Dialpad
import androidx.compose.material.icons.filled.Mic
import androidx.compose.material.icons.filled.MicOff
import androidx.compose.material3.FilledIconButton
import androidx.compose.material3.FilledTonalIconToggleButton
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButtonDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.vector.ImageVector
import androidx.compose.ui.text.style.TextAlign
import androidx.compose.ui.unit.dp
import kotlinx.coroutines.launch
import org.linnet.app.presentation.CallModel
import org.linnet.app.presentation.CallUi

private val AnswerGreen = Color(0xFF2E7D32)
private val HangUpRed = Color(0xFFC62828)

@Composable
fun CallScreen(model: CallModel, call: CallUi, error: String?, ensureMicrophone: suspend () -> Boolean) {
    val scope = rememberCoroutineScope()
    var keypad by rememberSaveable(call.id) { mutableStateOf(false) }
    // Back does not leave a live call; an ended one is dismissed.
    BackHandler { if (call.isEnded) model.dismiss() else keypad = false }

    Surface(Modifier.fillMaxSize(), color = MaterialTheme.colorScheme.surfaceContainerHigh) {
        Column(
            Modifier.fillMaxSize().safeDrawingPadding().padding(24.dp),
            horizontalAlignment = Alignment.CenterHorizontally,
        ) {
            Spacer(Modifier.height(32.dp))
            Avatar(call.title, size = 96.dp)
            Spacer(Modifier.height(16.dp))
            Text(call.title, style = MaterialTheme.typography.headlineMedium, textAlign = TextAlign.Center)
            call.phoneNumber?.takeIf { it != call.title }?.let {
                Text(it, style = MaterialTheme.typography.bodyLarge)
            }
            Spacer(Modifier.height(8.dp))
            Text(call.phaseText, style = MaterialTheme.typography.titleMedium)
            if (call.digitsSent.isNotEmpty() || call.digitsReceived.isNotEmpty()) {
                Spacer(Modifier.height(8.dp))
                if (call.digitsSent.isNotEmpty()) Text("→ ${call.digitsSent}", style = MaterialTheme.typography.bodyLarge)
                if (call.digitsReceived.isNotEmpty()) Text("← ${call.digitsReceived}", style = MaterialTheme.typography.bodyLarge)
            }
            error?.let {
                Spacer(Modifier.height(8.dp))
                Text(it, color = MaterialTheme.colorScheme.error, textAlign = TextAlign.Center)
            }

            Spacer(Modifier.weight(1f))

            when {
                call.isEnded -> OutlinedButton(onClick = model::dismiss) { Text(Labels.close) }

                call.canAnswer -> Row(horizontalArrangement = Arrangement.spacedBy(64.dp)) {
                    RoundButton(Icons.Filled.CallEnd, Labels.decline, HangUpRed) { model.decline() }
                    RoundButton(Icons.Filled.Call, Labels.answer, AnswerGreen) {
                        scope.launch {
                            ensureMicrophone()
                            model.answer()
                        }
                    }
                }

                else -> Column(horizontalAlignment = Alignment.CenterHorizontally) {
                    if (keypad) {
                        Keypad(enabled = call.canSendDigits, onDigit = { model.pressDigit(it) })
                        Spacer(Modifier.height(16.dp))
                    }
                    Row(horizontalArrangement = Arrangement.spacedBy(24.dp)) {
                        ToggleButton(
                            checked = call.muted,
                            icon = if (call.muted) Icons.Filled.MicOff else Icons.Filled.Mic,
                            label = if (call.muted) Labels.unmute else Labels.mute,
                            onToggle = { model.toggleMute() },
                        )
                        ToggleButton(
                            checked = call.speaker,
                            icon = Icons.AutoMirrored.Filled.VolumeUp,
                            label = Labels.speaker,
                            onToggle = { model.toggleSpeaker() },
                        )
                        ToggleButton(
                            checked = keypad,
                            icon = Icons.Filled.Dialpad,
                            label = Labels.keypad,
                            onToggle = { keypad = !keypad },
                        )
                    }
                    Spacer(Modifier.height(24.dp))
                    if (call.canHangUp) RoundButton(Icons.Filled.CallEnd, Labels.hangUp, HangUpRed) { model.hangUp() }
                }
            }
            Spacer(Modifier.height(24.dp))
        }
    }
}

@Composable
private fun RoundButton(icon: ImageVector, label: String, color: Color, onClick: () -> Unit) {
    Column(horizontalAlignment = Alignment.CenterHorizontally) {
        FilledIconButton(
            onClick = onClick,
            modifier = Modifier.size(72.dp),
            colors = IconButtonDefaults.filledIconButtonColors(containerColor = color, contentColor = Color.White),
        ) {
            Icon(icon, contentDescription = label, modifier = Modifier.size(32.dp))
        }
        Text(label, style = MaterialTheme.typography.labelMedium, modifier = Modifier.padding(top = 4.dp))
    }
}

@Composable
private fun ToggleButton(checked: Boolean, icon: ImageVector, label: String, onToggle: () -> Unit) {
    Column(horizontalAlignment = Alignment.CenterHorizontally) {
        FilledTonalIconToggleButton(
            checked = checked,
            onCheckedChange = { onToggle() },
            modifier = Modifier.size(56.dp),
        ) {
            Icon(icon, contentDescription = label)
        }
        Text(label, style = MaterialTheme.typography.labelMedium, modifier = Modifier.padding(top = 4.dp))
    }
}

/** The 12-key DTMF pad; each key goes to CallModel.pressDigit (sent while connected). */
@Composable
private fun Keypad(enabled: Boolean, onDigit: (Char) -> Unit) {
    val rows = listOf("123", "456", "789", "*0#")
    Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
        rows.forEach { keys ->
            Row(horizontalArrangement = Arrangement.spacedBy(16.dp)) {
                keys.forEach { key ->
                    TextButton(
                        onClick = { onDigit(key) },
                        enabled = enabled,
                        shape = CircleShape,
                        modifier = Modifier
                            .width(72.dp)
                            .aspectRatio(1f)
                            .background(MaterialTheme.colorScheme.surfaceVariant, CircleShape),
                    ) {
                        Text(key.toString(), style = MaterialTheme.typography.headlineSmall)
                    }
                }
            }
        }
    }
}
