// Navigation: one NavHost for the whole app. AppModel.screen decides between sign-in and the
// account's screens (each change clears the back stack, so the previous screens' models are
// closed: no password stays in a sign-in form, no model of a signed-out account survives).
// The call screen draws over everything while the CallModel has a call.
package org.linnet.app.ui

import android.net.Uri
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.navigationBarsPadding
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.SnackbarHost
import androidx.compose.material3.SnackbarHostState
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import androidx.navigation.NavHostController
import androidx.navigation.NavType
import androidx.navigation.compose.NavHost
import androidx.navigation.compose.composable
import androidx.navigation.compose.rememberNavController
import androidx.navigation.navArgument
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.launch
import org.linnet.app.platform.LinnetApplication
import org.linnet.app.presentation.CallModel
import org.linnet.app.presentation.ChatListModel
import org.linnet.app.presentation.ContactsModel
import org.linnet.app.presentation.ConversationModel
import org.linnet.app.presentation.DiagnosticsModel
import org.linnet.app.presentation.Screen
import org.linnet.app.presentation.SettingsModel
import org.linnet.app.presentation.SignInModel

private object Routes {
    const val STARTING = "starting"
    const val BROKEN = "broken"
    const val SIGN_IN = "signin"
    const val CHATS = "chats"
    const val CONVERSATION = "conversation/{peer}"
    const val CONTACTS = "contacts"
    const val CALLS = "calls"
    const val SETTINGS = "settings"
    const val ABOUT = "about"
    const val DIAGNOSTICS = "diagnostics"

    fun conversation(peer: String) = "conversation/${Uri.encode(peer)}"
}

@Composable
fun LinnetRoot(
    app: LinnetApplication,
    openPeer: MutableStateFlow<String?>,
    ensureMicrophone: suspend () -> Boolean,
    shareLog: (fileName: String, text: String) -> Unit,
) {
    val appModel = app.appModel
    val screen by appModel.screen.collectAsStateWithLifecycle()
    val callModel by app.callModel.collectAsStateWithLifecycle()
    val pendingPeer by openPeer.collectAsStateWithLifecycle()
    val nav = rememberNavController()
    val scope = rememberCoroutineScope()

    // The app's screen decides the root; the back stack starts over at each change (only at a
    // change: after a rotation the restored back stack stays as it was).
    var shownScreen by rememberSaveable { mutableStateOf<String?>(null) }
    LaunchedEffect(screen) {
        val current = screen
        val (key, root) = when (current) {
            Screen.Starting -> "starting" to Routes.STARTING
            is Screen.Broken -> "broken" to Routes.BROKEN
            Screen.SignIn -> "signin" to Routes.SIGN_IN
            is Screen.Main -> "main:${current.jid}" to Routes.CHATS
        }
        if (shownScreen != key) {
            shownScreen = key
            nav.navigate(root) {
                popUpTo(nav.graph.id) { inclusive = true }
                launchSingleTop = true
            }
        }
    }
    // A tapped message notification opens its conversation.
    LaunchedEffect(pendingPeer, screen) {
        val peer = pendingPeer
        if (peer != null && screen is Screen.Main) {
            nav.navigate(Routes.conversation(peer)) { launchSingleTop = true }
            openPeer.value = null
        }
    }

    val placeCall: ((String) -> Unit)? = callModel?.let { calls ->
        { to: String ->
            scope.launch {
                ensureMicrophone()
                calls.place(to)
            }
        }
    }

    Box(Modifier.fillMaxSize()) {
        NavHost(navController = nav, startDestination = Routes.STARTING) {
            composable(Routes.STARTING) {
                Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { CircularProgressIndicator() }
            }
            composable(Routes.BROKEN) {
                val message = (screen as? Screen.Broken)?.message.orEmpty()
                Surface(Modifier.fillMaxSize()) {
                    Box(Modifier.padding(32.dp), contentAlignment = Alignment.Center) {
                        Text(message, style = MaterialTheme.typography.bodyLarge)
                    }
                }
            }
            composable(Routes.SIGN_IN) {
                rememberModel("signin", appModel::signInModel, SignInModel::close)?.let { SignInScreen(it) }
            }
            composable(Routes.CHATS) {
                rememberModel("chats", appModel::chatListModel, ChatListModel::close)?.let { model ->
                    ChatListScreen(
                        model = model,
                        openConversation = { nav.navigate(Routes.conversation(it)) },
                        openContacts = { nav.navigate(Routes.CONTACTS) },
                        openCalls = { nav.navigate(Routes.CALLS) },
                        openSettings = { nav.navigate(Routes.SETTINGS) },
                        openAbout = { nav.navigate(Routes.ABOUT) },
                    )
                }
            }
            composable(
                Routes.CONVERSATION,
                arguments = listOf(navArgument("peer") { type = NavType.StringType }),
            ) { entry ->
                // Navigation decodes the path argument itself.
                val peer = entry.arguments?.getString("peer") ?: return@composable
                rememberModel(
                    "conversation:$peer",
                    { scope -> appModel.conversationModel(peer, scope) },
                    ConversationModel::close,
                )?.let { model ->
                    ConversationScreen(
                        model = model,
                        onBack = { nav.popBackStack() },
                        onCall = placeCall?.let { place -> { place(peer) } },
                    )
                }
            }
            composable(Routes.CONTACTS) {
                rememberModel("contacts", appModel::contactsModel, ContactsModel::close)?.let { model ->
                    ContactsScreen(
                        model = model,
                        onBack = { nav.popBackStack() },
                        openConversation = { peer ->
                            nav.navigate(Routes.conversation(peer)) { popUpTo(Routes.CHATS) }
                        },
                        onCall = placeCall,
                    )
                }
            }
            composable(Routes.CALLS) {
                callModel?.let { model ->
                    CallsScreen(model = model, onBack = { nav.popBackStack() }, placeCall = placeCall ?: {})
                }
            }
            composable(Routes.SETTINGS) {
                rememberModel("settings", appModel::settingsModel, SettingsModel::close)?.let { model ->
                    SettingsScreen(model = model, onBack = { nav.popBackStack() }, onSignOut = { appModel.signOut() })
                }
            }
            composable(Routes.ABOUT) {
                AboutScreen(versionName = app.versionName, onBack = { nav.popBackStack() }, openDiagnostics = { nav.navigate(Routes.DIAGNOSTICS) })
            }
            composable(Routes.DIAGNOSTICS) {
                rememberModel(
                    "diagnostics",
                    { scope -> appModel.diagnosticsModel(scope, app.versionName) },
                    DiagnosticsModel::close,
                )?.let { model ->
                    DiagnosticsScreen(model = model, onBack = { nav.popBackStack() }, shareLog = shareLog)
                }
            }
        }

        callModel?.let { model -> CallOverlay(model, ensureMicrophone) }

        // An app-level failure (sign-out): shown over whatever screen is there.
        val appError by appModel.error.collectAsStateWithLifecycle()
        val snackbar = remember { SnackbarHostState() }
        ErrorSnackbar(appError, snackbar, appModel::dismissError)
        SnackbarHost(snackbar, Modifier.align(Alignment.BottomCenter).navigationBarsPadding())
    }
}

/** The call screen over the app while there is a call (an ended one until dismissed). */
@Composable
private fun CallOverlay(model: CallModel, ensureMicrophone: suspend () -> Boolean) {
    val call by model.call.collectAsStateWithLifecycle()
    val error by model.error.collectAsStateWithLifecycle()
    call?.let { CallScreen(model = model, call = it, error = error, ensureMicrophone = ensureMicrophone) }
}
