// The presentation layer against the real Prosody (fresh accounts alice and bob from LINNET_BT_*):
// sign-in outcomes, contacts, chat list, conversation, files, notifications, diagnostics and
// sign-out, each asserted on the models' states and user texts. Exits non-zero on a failure.
package org.linnet.app.presentation

import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.linnet.sdk.LinnetClient
import org.linnet.sdk.NetworkMonitor
import org.linnet.sdk.NetworkObserver
import java.io.RandomAccessFile
import java.net.ServerSocket
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.system.exitProcess

private val alice = TestServer.alice
private val bob = TestServer.bob
private lateinit var aliceDevice: Device
private lateinit var bobDevice: Device

private fun Device.client(): LinnetClient = app.client ?: error("not signed in: ${app.screen.value}")

/** A port nothing listens on: bound, then released. */
private fun closedPort(): Int = ServerSocket(0).use { it.localPort }

private val cases: List<Pair<String, suspend () -> Unit>> = listOf(
    "sign-in: the form's own checks come first (address, port)" to {
        val device = Device()
        device.app.start().join()
        check(device.app.screen.value == Screen.SignIn) { "screen: ${device.app.screen.value}" }
        val form = device.signInForm(alice)
        form.setAddress("not an address")
        form.signIn().join()
        check(form.error.value?.kind == SignInErrorKind.InvalidAddress) { "error: ${form.error.value}" }
        check(form.error.value?.message == "Enter your address, like name@example.org.") { "message: ${form.error.value}" }
        form.setAddress(alice.jid)
        check(form.error.value == null) { "editing did not clear the error" }
        form.setServerPort("port")
        form.signIn().join()
        check(form.error.value?.kind == SignInErrorKind.InvalidServerPort) { "error: ${form.error.value}" }
        form.close()
        device.app.close()
    },
    "sign-in: a wrong password is WrongPassword and leaves no account behind" to {
        val device = Device()
        device.app.start().join()
        val wrong = device.signInForm(alice, password = "not-" + alice.password)
        wrong.signIn().join()
        val error = wrong.error.value
        check(error?.kind == SignInErrorKind.WrongPassword) { "error: $error" }
        check(error?.message == "The address or password is wrong.") { "message: $error" }
        check(!wrong.busy.value) { "still busy" }
        check(device.app.screen.value == Screen.SignIn) { "screen: ${device.app.screen.value}" }
        // No account left: starting again shows the sign-in screen, and the right password is
        // accepted (not AlreadySignedIn).
        device.app.start().join()
        check(device.app.screen.value == Screen.SignIn) { "an account was left: ${device.app.screen.value}" }
        val right = device.signInForm(alice)
        right.signIn().join()
        check(right.error.value == null) { "the right password after a wrong one: ${right.error.value}" }
        device.app.screen.await("signed in") { it == Screen.Main(alice.jid) }
        device.app.signOut().join()
        check(device.app.screen.value == Screen.SignIn) { "after sign-out: ${device.app.screen.value}" }
        wrong.close(); right.close(); device.app.close()
    },
    "sign-in: a closed port is ServerUnreachable" to {
        val device = Device()
        device.app.start().join()
        val form = device.signInForm(alice, port = closedPort().toString())
        form.signIn().join()
        check(form.error.value?.kind == SignInErrorKind.ServerUnreachable) { "error: ${form.error.value}" }
        check(form.error.value?.message?.startsWith("The server cannot be reached.") == true) { "message: ${form.error.value}" }
        device.app.start().join()
        check(device.app.screen.value == Screen.SignIn) { "an account was left: ${device.app.screen.value}" }
        form.close(); device.app.close()
    },
    "sign-in: a server certificate from an unknown authority is CertificateProblem" to {
        val device = Device()
        device.app.start().join()
        val form = device.signInForm(alice, trustCa = false)
        form.signIn().join()
        check(form.error.value?.kind == SignInErrorKind.CertificateProblem) { "error: ${form.error.value}" }
        check(form.error.value?.message?.contains("certificate") == true) { "message: ${form.error.value}" }
        form.close(); device.app.close()
    },
    "sign-in: both accounts reach the main screen; a second sign-in is AlreadySignedIn" to {
        aliceDevice = Device()
        bobDevice = Device()
        aliceDevice.signIn(alice)
        bobDevice.signIn(bob)
        val again = aliceDevice.app.signInModel(modelScope)!!
        again.setAddress(alice.jid); again.setPassword(alice.password)
        again.signIn().join()
        check(again.error.value?.kind == SignInErrorKind.AlreadySignedIn) { "error: ${again.error.value}" }
        again.close()
    },
    "contacts: request, approve, mutual; a bad address is a user error" to {
        becomeContacts(aliceDevice, alice, bobDevice, bob)
        val contacts = aliceDevice.app.contactsModel(modelScope)!!
        contacts.add("no address").join()
        check(contacts.error.value == "Enter an address like name@example.org.") { "error: ${contacts.error.value}" }
        val bobRow = contacts.contacts.await("bob listed") { rows -> rows.any { it.jid == bob.jid } }.first { it.jid == bob.jid }
        check(bobRow.name == "Bob") { "row: $bobRow" }
        contacts.close()
    },
    "conversation: typing shows before the first message (the chat list has no row yet)" to {
        val aliceSees = aliceDevice.app.conversationModel(bob.jid, modelScope)!!
        val bobTypes = bobDevice.app.conversationModel(alice.jid, modelScope)!!
        try {
            check(aliceSees.rows.value.none { it is ConversationRow.Message }) { "already messages: ${aliceSees.rows.value}" }
            bobTypes.onDraftChanged("first words")
            aliceSees.peerTyping.await("bob typing at alice, before any message") { it }
            bobTypes.onDraftChanged("")
            aliceSees.peerTyping.await("bob stopped typing") { !it }
        } finally {
            aliceSees.close()
            bobTypes.close()
        }
    },
    "chat list: a message from bob shows unread, preview and typing" to {
        val list = aliceDevice.app.chatListModel(modelScope)!!
        val bobConversation = bobDevice.app.conversationModel(alice.jid, modelScope)!!
        try {
            list.banner.await("online: no banner") { it == null }
            bobConversation.onDraftChanged("hello alice")
            bobConversation.send().join()
            check(bobConversation.draft.value.isEmpty()) { "draft not cleared: ${bobConversation.draft.value}" }
            val row = list.rows.await("bob's message at alice") { rows ->
                rows.any { it.peer == bob.jid && it.previewText == "hello alice" && it.unread >= 1 && !it.typing }
            }.first { it.peer == bob.jid }
            check(row.title == "Bob" && row.unreadText == row.unread.toString() && row.previewStatus == null) { "row: $row" }
            list.totalUnread.await("the total unread") { it >= 1 }
            // A row exists now: bob's typing shows in it (instead of the preview), then stops.
            bobConversation.onDraftChanged("more")
            list.rows.await("bob typing at alice") { rows -> rows.any { it.peer == bob.jid && it.typing && it.typingText == "typing…" } }
            bobConversation.onDraftChanged("")
            list.rows.await("bob stopped typing") { rows -> rows.any { it.peer == bob.jid && !it.typing && it.typingText == null } }
            // Bob's own list shows the message as his, with its delivery.
            val bobList = bobDevice.app.chatListModel(modelScope)!!
            val mine = bobList.rows.await("alice's row at bob") { rows -> rows.any { it.peer == alice.jid } }.first { it.peer == alice.jid }
            check(mine.previewText == "You: hello alice" && mine.previewStatus != null && mine.unread == 0) { "row at bob: $mine" }
            bobList.close()
        } finally {
            list.close()
            bobConversation.close()
        }
    },
    "conversation: date separator, typing shown at the peer and stopped, reading clears unread" to {
        val conversation = aliceDevice.app.conversationModel(bob.jid, modelScope)!!
        val list = aliceDevice.app.chatListModel(modelScope)!!
        try {
            conversation.rows.await("bob's message in the conversation") { rows ->
                rows.any { it is ConversationRow.Message && !it.outgoing && it.body == "hello alice" && it.status == MessageStatus.Received }
            }
            check(conversation.rows.value.first() is ConversationRow.DateSeparator) { "first row: ${conversation.rows.value.first()}" }
            check((conversation.rows.value.first() as ConversationRow.DateSeparator).text == "Today") { "separator: ${conversation.rows.value.first()}" }
            conversation.setVisible(true)
            list.rows.await("alice read bob's message") { rows -> rows.any { it.peer == bob.jid && it.unread == 0 } }
            list.totalUnread.await("no unread left") { it == 0 }
            val bobSees = bobDevice.app.conversationModel(alice.jid, modelScope)!!
            conversation.onDraftChanged("h")
            bobSees.peerTyping.await("alice typing at bob") { it }
            conversation.onDraftChanged("hi")
            conversation.onDraftChanged("")
            bobSees.peerTyping.await("alice stopped typing at bob") { !it }
            bobSees.close()
        } finally {
            conversation.close()
            list.close()
        }
    },
    "conversation: sent, delivered, read" to {
        val conversation = aliceDevice.app.conversationModel(bob.jid, modelScope)!!
        val seen = CopyOnWriteArrayList<MessageStatus>()
        val watcher = modelScope.launch {
            conversation.rows.collect { rows ->
                rows.filterIsInstance<ConversationRow.Message>().firstOrNull { it.body == "hi bob" }?.let {
                    if (seen.lastOrNull() != it.status) seen.add(it.status)
                }
            }
        }
        try {
            conversation.onDraftChanged("hi bob")
            conversation.send().join()
            conversation.rows.await("delivered") { rows ->
                rows.any { it is ConversationRow.Message && it.body == "hi bob" && it.status == MessageStatus.Delivered }
            }
            val bobConversation = bobDevice.app.conversationModel(alice.jid, modelScope)!!
            bobConversation.rows.await("hi bob at bob") { rows -> rows.any { it is ConversationRow.Message && it.body == "hi bob" } }
            bobConversation.markRead().join()
            val read = conversation.rows.await("read") { rows ->
                rows.any { it is ConversationRow.Message && it.body == "hi bob" && it.status == MessageStatus.Read }
            }.filterIsInstance<ConversationRow.Message>().first { it.body == "hi bob" }
            check(read.outgoing && read.statusText == "Read" && read.failureText == null && !read.canRetry) { "row: $read" }
            val order = MessageStatus.entries
            check(seen.zipWithNext().all { (x, y) -> order.indexOf(x) <= order.indexOf(y) }) { "statuses went backwards: $seen" }
            check(seen.first() == MessageStatus.Sending) { "first status: $seen" }
            bobConversation.close()
        } finally {
            watcher.cancel()
            conversation.close()
        }
    },
    "conversation: a message to an unreachable server fails, with its reason and a retry" to {
        val nowhere = "nobody@nowhere.invalid"
        val conversation = aliceDevice.app.conversationModel(nowhere, modelScope)!!
        try {
            conversation.onDraftChanged("into the void")
            conversation.send().join()
            val failed = conversation.rows.await("the failure") { rows ->
                rows.any { it is ConversationRow.Message && it.status == MessageStatus.Failed }
            }.filterIsInstance<ConversationRow.Message>().first()
            check(failed.canRetry && failed.statusText == "Not sent" && failed.failureText?.startsWith("Not sent") == true) { "row: $failed" }
            check(conversation.error.value == null) { "error: ${conversation.error.value}" }
            val afterRetry = CopyOnWriteArrayList<MessageStatus>()
            val watcher = modelScope.launch {
                conversation.rows.collect { rows ->
                    rows.filterIsInstance<ConversationRow.Message>().firstOrNull { it.id == failed.id }?.let { afterRetry.add(it.status) }
                }
            }
            waitFor("the watcher's first state") { afterRetry.isNotEmpty() }
            conversation.retry(failed.id).join()
            check(conversation.error.value == null) { "retry error: ${conversation.error.value}" }
            // The retry sends it again: it leaves Failed (Sending), then fails again, still retryable.
            waitFor("sending again, then failed again (seen: $afterRetry)") {
                val again = afterRetry.indexOf(MessageStatus.Sending)
                again >= 0 && afterRetry.drop(again).contains(MessageStatus.Failed)
            }
            watcher.cancel()
            check(conversation.rows.value.filterIsInstance<ConversationRow.Message>().first { it.id == failed.id }.canRetry) { "not retryable again" }
            conversation.retry(424242424242L).join()
            check(conversation.error.value == "This message no longer exists.") { "unknown retry: ${conversation.error.value}" }
        } finally {
            conversation.close()
        }
    },
    "files: an upload shows progress to done and arrives; missing and too large files are user errors" to {
        val conversation = aliceDevice.app.conversationModel(bob.jid, modelScope)!!
        val source = Files.createTempFile("presentation-", ".bin").toFile()
        source.writeBytes(ByteArray(3 * 1024 * 1024) { (it * 31 % 251).toByte() })
        val states = CopyOnWriteArrayList<AttachmentState>()
        val progress = CopyOnWriteArrayList<Float>()
        val watcher = modelScope.launch {
            conversation.rows.collect { rows ->
                rows.filterIsInstance<ConversationRow.Message>().mapNotNull { it.attachment }.firstOrNull { it.fileName == source.name }?.let {
                    if (states.lastOrNull() != it.state) states.add(it.state)
                    it.progress?.let(progress::add)
                }
            }
        }
        try {
            conversation.sendFile(source.path).join()
            check(conversation.error.value == null) { "error: ${conversation.error.value}" }
            val done = conversation.rows.await("the upload done") { rows ->
                rows.any { it is ConversationRow.Message && it.attachment?.fileName == source.name && it.attachment.state == AttachmentState.Done }
            }.filterIsInstance<ConversationRow.Message>().mapNotNull { it.attachment }.first { it.fileName == source.name }
            check(done.isUpload && done.sizeText == "3 MB" && done.stateText == "" && done.errorText == null && !done.canCancel) { "row: $done" }
            check(states.first() != AttachmentState.Done) { "no state before done: $states" }
            check(progress.all { it in 0f..1f } && progress.zipWithNext().all { (x, y) -> x <= y }) { "progress: $progress" }
            println("      upload states $states, ${progress.size} progress values")
            val bobConversation = bobDevice.app.conversationModel(alice.jid, modelScope)!!
            bobConversation.rows.await("the file downloaded at bob") { rows ->
                rows.any { it is ConversationRow.Message && it.attachment?.let { a -> a.fileName == source.name && a.state == AttachmentState.Done && !a.isUpload } == true }
            }
            bobConversation.close()

            conversation.sendFile("/nonexistent/linnet/missing.txt").join()
            check(conversation.error.value == "“missing.txt” cannot be read. It may have been moved or deleted.") { "missing: ${conversation.error.value}" }
            conversation.dismissError()
            val big = Files.createTempFile("presentation-big-", ".bin").toFile()
            RandomAccessFile(big, "rw").use { it.setLength(11L * 1024 * 1024) }
            conversation.sendFile(big.path).join()
            check(conversation.error.value == "“${big.name}” is too large (max 10 MB).") { "too large: ${conversation.error.value}" }
            big.delete()
        } finally {
            watcher.cancel()
            conversation.close()
            source.delete()
        }
    },
    "notifications: nothing registered before permission; denied keeps it off; allowed registers (no app server here)" to {
        val settings = aliceDevice.app.settingsModel(modelScope)!!
        val push = aliceDevice.client().push()
        try {
            settings.preferences.await("the preferences") { it != null }
            val before = push.status()
            check(!before.permitted && !before.registered && !before.hasToken) { "before any permission: $before" }
            check(settings.notifications.value.state == NotificationState.Off) { "state: ${settings.notifications.value}" }
            check(aliceDevice.permission.requests.get() == 0) { "the permission was asked on opening" }

            aliceDevice.permission.userAllows = false
            settings.enableNotifications().join()
            val denied = settings.notifications.value
            check(denied.state == NotificationState.Denied && denied.statusText.startsWith("Notifications are blocked")) { "denied: $denied" }
            check(aliceDevice.permission.requests.get() == 1) { "asked ${aliceDevice.permission.requests.get()} times" }
            val afterDenial = push.status()
            check(!afterDenial.permitted && !afterDenial.registered && !afterDenial.hasToken && afterDenial.appServer == null) { "after denial: $afterDenial" }
            check(aliceDevice.pushTokens.asked.get() == 0) { "the token was fetched without permission" }

            aliceDevice.permission.userAllows = true
            settings.enableNotifications().join()
            val on = settings.notifications.value
            val status = push.status()
            check(status.permitted && status.hasToken && status.appServer == "push.${TestServer.domain}") { "allowed: $status" }
            // No app server answers during tests: the failure is shown, not swallowed.
            check(!status.registered && status.lastError != null) { "registration: $status" }
            check(on.state == NotificationState.On && on.statusText.startsWith("Notifications are allowed, but this device is not registered:")) { "on: $on" }

            settings.disableNotifications().join()
            check(settings.notifications.value.state == NotificationState.Off && !push.status().permitted) { "off: ${settings.notifications.value}" }

            // A build without a push server: allowed, nothing registered, and the screen says why.
            val noServer = SettingsModel(aliceDevice.client(), modelScope, aliceDevice.permission, aliceDevice.pushTokens, " ")
            try {
                noServer.enableNotifications().join()
                val without = push.status()
                check(without.permitted && without.appServer == null && !without.registered) { "no app server: $without" }
                check(noServer.notifications.value.statusText.startsWith("Notifications are allowed, but this build has no notification server")) {
                    "no app server: ${noServer.notifications.value}"
                }
                noServer.disableNotifications().join()
            } finally {
                noServer.close()
            }
        } finally {
            settings.close()
        }
    },
    "settings: the download policy maps to the SDK's byte limit" to {
        val settings = aliceDevice.app.settingsModel(modelScope)!!
        try {
            val original = settings.preferences.await("the preferences") { it != null }!!
            settings.setDownloadPolicy(DownloadPolicy.SmallFiles).join()
            check(aliceDevice.client().settings().get().autoDownloadMaxBytes == 5uL * 1024uL * 1024uL) { "bytes: ${aliceDevice.client().settings().get()}" }
            check(settings.preferences.value?.downloadPolicy == DownloadPolicy.SmallFiles) { "ui: ${settings.preferences.value}" }
            settings.setDownloadPolicy(DownloadPolicy.Never).join()
            check(aliceDevice.client().settings().get().autoDownloadMaxBytes == 0uL) { "never: ${aliceDevice.client().settings().get()}" }
            settings.setSendTyping(false).join()
            check(!aliceDevice.client().settings().get().sendTyping && settings.preferences.value?.sendTyping == false) { "typing off" }
            settings.setSendTyping(original.sendTyping).join()
            settings.setDownloadPolicy(original.downloadPolicy).join()
            check(DownloadPolicy.of(1) == DownloadPolicy.SmallFiles && DownloadPolicy.of(50L * 1024 * 1024) == DownloadPolicy.Large) { "mapping" }
        } finally {
            settings.close()
        }
    },
    "diagnostics: doctor rows and JSON; the exported log holds no password" to {
        val diagnostics = aliceDevice.app.diagnosticsModel(modelScope, appVersion = "test")!!
        try {
            diagnostics.connectionText.await("online") { it == "Online" }
            diagnostics.runDoctor().join()
            check(diagnostics.error.value == null) { "error: ${diagnostics.error.value}" }
            val rows = diagnostics.serverFeatures.value
            check(rows.any { it.label == "Signed in as" && it.value.startsWith(alice.jid + "/") }) { "rows: $rows" }
            check(rows.any { it.label == "File upload" && it.value.contains("max 10 MB") }) { "upload row: $rows" }
            check(rows.any { it.label == "History on the server (MAM)" && it.value == "Yes" }) { "mam row: $rows" }
            check(diagnostics.doctorJson.value?.contains(alice.jid) == true) { "json: ${diagnostics.doctorJson.value}" }
            check(diagnostics.version.startsWith("App test · Linnet ")) { "version: ${diagnostics.version}" }
            val log = diagnostics.exportLog()
            check(log.fileName.startsWith("linnet-log-") && log.fileName.endsWith(".txt")) { "file name: ${log.fileName}" }
            check(log.text.length > 100) { "an empty log: ${log.text}" }
            check(!log.text.contains(alice.password) && !log.text.contains(bob.password)) { "a password is in the exported log" }
            check(!log.text.contains("hello alice")) { "a message body is in the exported log" }
        } finally {
            diagnostics.close()
        }
    },
    "app: the network monitor is installed and reconnects; foreground changes keep the account online" to {
        val monitor = object : NetworkMonitor {
            @Volatile var observer: NetworkObserver? = null
            override fun start(observer: NetworkObserver) { this.observer = observer }
            override fun stop() {}
        }
        aliceDevice.app.setNetworkMonitor(monitor)
        waitFor("the monitor started") { monitor.observer != null }
        aliceDevice.app.setForeground(false)
        aliceDevice.app.setForeground(true)
        monitor.observer!!.networkChanged(true)
        val diagnostics = aliceDevice.app.diagnosticsModel(modelScope)!!
        diagnostics.connectionText.await("still online") { it == "Online" }
        diagnostics.close()
    },
    "sign-out: back to the sign-in screen; the old list shows the connection gone" to {
        val list = aliceDevice.app.chatListModel(modelScope)!!
        list.banner.await("online") { it == null }
        aliceDevice.app.signOut().join()
        check(aliceDevice.app.screen.value == Screen.SignIn) { "screen: ${aliceDevice.app.screen.value}" }
        check(aliceDevice.app.chatListModel(modelScope) == null) { "a chat list without an account" }
        val banner = list.banner.await("a banner") { it != null }
        check(banner!!.text.isNotBlank()) { "banner: $banner" }
        list.close()
        aliceDevice.app.start().join()
        check(aliceDevice.app.screen.value == Screen.SignIn) { "the account came back: ${aliceDevice.app.screen.value}" }
    },
)

fun main() {
    val failed = runBlocking { runCases(cases) }
    modelScope.cancel()
    println(if (failed == 0) "presentation: all ${cases.size} cases passed" else "presentation: $failed of ${cases.size} cases failed")
    exitProcess(if (failed == 0) 0 else 1)
}
