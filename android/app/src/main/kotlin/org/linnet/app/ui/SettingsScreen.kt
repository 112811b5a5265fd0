// Settings: notifications (turning them on asks the system permission first, in the model),
// the preview in notifications, typing and read markers, relay-only calls, automatic downloads,
// sign out. Coming back from the system settings re-reads the notification state.
package org.linnet.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.verticalScroll
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.automirrored.filled.ArrowBack
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TopAppBar
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.ui.Modifier
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import org.linnet.app.presentation.DownloadPolicy
import org.linnet.app.presentation.NotificationState
import org.linnet.app.presentation.SettingsModel
import org.linnet.app.presentation.text
import org.linnet.sdk.NotificationPreview

@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun SettingsScreen(model: SettingsModel, onBack: () -> Unit, onSignOut: () -> Unit) {
    val preferences by model.preferences.collectAsStateWithLifecycle()
    val notifications by model.notifications.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    val snackbar = remember { SnackbarHostState() }
    ErrorSnackbar(error, snackbar, model::dismissError)

    // Back from the system settings (or another app): the permission may have changed.
    LifecycleResumeEffect(model) {
        model.refreshNotifications()
        onPauseOrDispose { }
    }

    Scaffold(
        topBar = {
            TopAppBar(
                navigationIcon = {
                    IconButton(onClick = onBack) { Icon(Icons.AutoMirrored.Filled.ArrowBack, contentDescription = Labels.back) }
                },
                title = { Text(Labels.settings) },
            )
        },
        snackbarHost = { SnackbarHost(snackbar) },
    ) { padding ->
        Column(Modifier.fillMaxSize().padding(padding).verticalScroll(rememberScrollState())) {
            SectionTitle(Labels.notifications)
            val on = notifications.state == NotificationState.On
            val asking = notifications.state == NotificationState.Asking
            SwitchRow(
                title = Labels.notificationsOn,
                subtitle = notifications.statusText,
                checked = on || asking,
                enabled = !asking,
                onChange = { wanted -> if (wanted) model.enableNotifications() else model.disableNotifications() },
            )

            val prefs = preferences
            if (prefs != null) {
                Text(
                    Labels.notificationPreview,
                    style = MaterialTheme.typography.bodyLarge,
                    modifier = Modifier.padding(start = 16.dp, top = 8.dp),
                )
                Column(Modifier.selectableGroup()) {
                    NotificationPreview.entries.forEach { preview ->
                        RadioRow(preview.text(), prefs.notificationPreview == preview) { model.setNotificationPreview(preview) }
                    }
                }
                HorizontalDivider()

                SectionTitle(Labels.privacy)
                SwitchRow(Labels.sendTyping, null, prefs.sendTyping, onChange = { model.setSendTyping(it) })
                SwitchRow(Labels.sendReadMarkers, null, prefs.sendReadMarkers, onChange = { model.setSendReadMarkers(it) })
                HorizontalDivider()

                SectionTitle(Labels.calls)
                SwitchRow(Labels.relayOnly, null, prefs.relayOnlyCalls, onChange = { model.setRelayOnlyCalls(it) })
                HorizontalDivider()

                SectionTitle(Labels.downloads)
                Column(Modifier.selectableGroup()) {
                    DownloadPolicy.entries.forEach { policy ->
                        RadioRow(policy.text, prefs.downloadPolicy == policy) { model.setDownloadPolicy(policy) }
                    }
                }
                HorizontalDivider()
            }

            OutlinedButton(onClick = onSignOut, modifier = Modifier.fillMaxWidth().padding(16.dp)) {
                Text(Labels.signOut)
            }
        }
    }
}

@Composable
private fun SwitchRow(
    title: String,
    subtitle: String?,
    checked: Boolean,
    enabled: Boolean = true,
    onChange: (Boolean) -> Unit,
) {
    ListItem(
        modifier = Modifier.clickable(enabled = enabled, role = Role.Switch) { onChange(!checked) },
        headlineContent = { Text(title) },
        supportingContent = if (subtitle != null) { { Text(subtitle) } } else null,
        trailingContent = { Switch(checked = checked, onCheckedChange = null, enabled = enabled) },
    )
}

@Composable
private fun RadioRow(text: String, selected: Boolean, onSelect: () -> Unit) {
    ListItem(
        modifier = Modifier.selectable(selected = selected, role = Role.RadioButton, onClick = onSelect),
        leadingContent = { RadioButton(selected = selected, onClick = null) },
        headlineContent = { Text(text) },
    )
}
