// The Apple presentation layer (apple/App/Presentation) against a real Prosody: two simulated
// phones (AppModel with fake platform ports, real SDK), fresh accounts from the environment
// (LINNET_BT_*). Each case asserts what a user would see: the models' state and texts.
// Exits non-zero when a case fails.
import Foundation
import Linnet

@MainActor
func run() async -> Int32 {
    var failed = 0
    var count = 0

    func test(_ name: String, _ body: () async throws -> Void) async {
        count += 1
        let started = Date()
        do {
            try await body()
            print("PASS  \(name) (\(Int(Date().timeIntervalSince(started) * 1000)) ms)")
        } catch {
            failed += 1
            print("FAIL  \(name): \(error)")
        }
    }

    let server: TestServer
    let alice, bob: TestAccount
    do {
        server = try TestServer()
        alice = TestAccount(jid: try env("LINNET_BT_A_JID"), password: try env("LINNET_BT_A_PASSWORD"))
        bob = TestAccount(jid: try env("LINNET_BT_B_JID"), password: try env("LINNET_BT_B_PASSWORD"))
    } catch {
        print("FAIL  setup: \(error)")
        return 1
    }
    let a = Device(label: "alice", toneHz: 440, grantsNotifications: true, appServer: server.pushJid)
    let b = Device(label: "bob", toneHz: 660, grantsNotifications: false, appServer: server.pushJid)

    await test("texts: sizes, durations, statuses, transfer rows") {
        try check(Texts.size(512) == "512 bytes" && Texts.size(10 * 1024 * 1024) == "10 MB" && Texts.size(1536 * 1024) == "1.5 MB",
                  "sizes: \(Texts.size(512)) \(Texts.size(10 * 1024 * 1024)) \(Texts.size(1536 * 1024))")
        try check(Texts.duration(seconds: 42) == "0:42" && Texts.duration(seconds: 3723) == "1:02:03", "durations")
        try check(MessageStatus(.queued) == .sending && MessageStatus(.acknowledged) == .sent && MessageStatus(.displayed) == .read, "statuses")
        let uploading = ConversationModel.attachmentRow(TimelineAttachment(
            direction: .upload, state: .transferring, fileName: "a.bin", mediaType: nil, size: 1000, dimensions: nil,
            localPath: nil, transferred: 400, total: 1000, failure: nil, failureReason: nil))
        try check(uploading.progress == 0.4 && uploading.stateText == "Uploading… 40%" && uploading.canCancel && !uploading.canRetry,
                  "uploading row: \(uploading)")
        let failedDownload = ConversationModel.attachmentRow(TimelineAttachment(
            direction: .download, state: .failed, fileName: "b.bin", mediaType: nil, size: nil, dimensions: nil,
            localPath: nil, transferred: 0, total: nil, failure: .diskFull, failureReason: "ENOSPC"))
        try check(failedDownload.canDownload && failedDownload.errorText == "There is not enough free space on this device."
                  && failedDownload.progress == nil, "failed download row: \(failedDownload)")
        try check(DownloadPolicy(maxBytes: 0) == .never && DownloadPolicy(maxBytes: 5 * 1024 * 1024) == .smallFiles
                  && DownloadPolicy(maxBytes: 100 * 1024 * 1024) == .large, "download policies")
        let syncing = ChatListModel.syncBanner(SyncStatus(syncing: true, phase: .catchUp, fetched: 40, total: 100, progress: 0.4))
        try check(syncing == SyncBanner(text: "Syncing history… 40%", progress: Double(Float(0.4))), "sync: \(String(describing: syncing))")
        try check(ChatListModel.syncBanner(SyncStatus(syncing: false, phase: nil, fetched: 0, total: nil, progress: nil)) == nil, "idle sync")
        try check(ChatListModel.connectionBanner(.disconnected(reason: "not-authorized", failure: .auth))?.text
                  == "Not connected: the server no longer accepts your password. Sign out and sign in again.", "auth banner")
        try check(CallModel.normalizedTarget(" +1 (555) 123-4567 ") == "+15551234567"
                  && CallModel.normalizedTarget(" bob@example.org ") == "bob@example.org", "call targets")
    }

    await test("sign-in: an address that is not one is refused before any network") {
        let form = try await a.signIn(TestAccount(jid: "not an address", password: "x"), server: server)
        try check(form.error?.kind == .invalidAddress, "error: \(String(describing: form.error))")
        try check(form.error?.message == "Enter your address as name@example.org.", "message: \(String(describing: form.error?.message))")
    }

    await test("sign-in: a wrong password is WrongPassword and leaves no account behind") {
        let form = try await a.signIn(alice, server: server, password: "not-" + alice.password)
        try check(form.error?.kind == .wrongPassword, "error: \(String(describing: form.error))")
        try check(form.error?.message == "The address or password is wrong.", "message: \(String(describing: form.error?.message))")
        try check(a.app.screen == .signIn, "screen: \(a.app.screen)")
        await a.app.start()
        try check(a.app.screen == .signIn, "an account was left behind: start() went to \(a.app.screen)")
    }

    await test("sign-in: a closed port is ServerUnreachable") {
        let form = try await a.signIn(alice, server: server, port: "1")
        try check(form.error?.kind == .serverUnreachable, "error: \(String(describing: form.error))")
        try check(form.error?.message.contains("cannot be reached") == true, "message: \(String(describing: form.error?.message))")
    }

    await test("sign-in: a server certificate from an unknown CA is CertificateProblem") {
        let form = try await a.signIn(alice, server: server, trustTestCa: false)
        try check(form.error?.kind == .certificateProblem, "error: \(String(describing: form.error))")
        try check(form.error?.message.contains("certificate is not trusted") == true, "message: \(String(describing: form.error?.message))")
        try check(a.app.screen == .signIn, "screen: \(a.app.screen)")
    }

    await test("sign-in: both accounts sign in and reach the main screen; a second sign-in is refused") {
        let formA = try await a.signIn(alice, server: server)
        try check(formA.error == nil && a.app.screen == .main(jid: alice.jid), "alice: \(String(describing: formA.error)) \(a.app.screen)")
        try check(formA.password.isEmpty, "the password stays in the form")
        let formB = try await b.signIn(bob, server: server)
        try check(formB.error == nil && b.app.screen == .main(jid: bob.jid), "bob: \(String(describing: formB.error)) \(b.app.screen)")
        guard let again = a.app.makeSignInModel() else { throw Failure(description: "no sign-in model") }
        again.address = bob.jid
        again.password = bob.password
        await again.signIn()
        try check(again.error?.kind == .alreadySignedIn, "second sign-in: \(String(describing: again.error))")
        try check(a.app.calls != nil && b.app.calls != nil, "no call model while signed in")
    }
    guard case .main = a.app.screen, case .main = b.app.screen else {
        print("presentation: cannot go on without two signed-in devices")
        return 1
    }

    await test("contacts: alice adds bob, bob sees the request and approves; and back") {
        guard let contactsA = a.app.makeContactsModel(), let contactsB = b.app.makeContactsModel() else {
            throw Failure(description: "no contacts model")
        }
        defer { contactsA.close(); contactsB.close() }
        let refused = await contactsA.add(jid: "no address", name: nil)
        try check(!refused && contactsA.error == "Enter the address as name@example.org.", "bad address: \(String(describing: contactsA.error))")
        try check(await contactsA.add(jid: bob.jid, name: "Bob"), "add: \(String(describing: contactsA.error))")
        try await eventually("bob in alice's contacts, awaiting approval") {
            contactsA.contacts.contains { $0.jid == bob.jid && $0.name == "Bob" && $0.subscriptionText == "Waiting for approval" }
        }
        try await eventually("alice's request at bob") { contactsB.requests.contains { $0.jid == alice.jid } }
        contactsB.approve(alice.jid)
        try check(contactsB.error == nil, "approve: \(String(describing: contactsB.error))")
        try await eventually("the request gone at bob") { !contactsB.requests.contains { $0.jid == alice.jid } }
        try check(await contactsB.add(jid: alice.jid, name: "Alice"), "add back: \(String(describing: contactsB.error))")
        try await eventually("bob's request at alice") { contactsA.requests.contains { $0.jid == bob.jid } }
        contactsA.approve(bob.jid)
        try await eventually("both see each other at alice") {
            contactsA.contacts.contains { $0.jid == bob.jid && $0.subscriptionText == nil && !$0.pendingRequest }
        }
        try await eventually("both see each other at bob, online") {
            contactsB.contacts.contains { $0.jid == alice.jid && $0.subscriptionText == nil && $0.presenceText == "Online" }
        }
    }

    await test("conversation: typing shows before the first message (the chat list has no row yet)") {
        guard let chatA = a.app.makeConversationModel(peer: bob.jid), let chatB = b.app.makeConversationModel(peer: alice.jid) else {
            throw Failure(description: "no models")
        }
        defer { chatA.close(); chatB.close() }
        try check(chatA.rows.compactMap(\.message).isEmpty, "already messages: \(chatA.rows.count) rows")
        chatB.onDraftChanged("first words")
        try await eventually("alice sees bob typing, before any message") { chatA.peerTyping }
        chatB.onDraftChanged("")
        try await eventually("alice sees bob stop") { !chatA.peerTyping }
    }

    await test("chat list: typing, preview, unread at alice; 'You:' and status at bob; read clears unread") {
        guard let listA = a.app.makeChatListModel(), let listB = b.app.makeChatListModel(),
              let chatB = b.app.makeConversationModel(peer: alice.jid) else { throw Failure(description: "no models") }
        defer { listA.close(); listB.close(); chatB.close() }
        try await eventually("alice online: no banner") { listA.banner == nil }
        chatB.onDraftChanged("hello alice, from the presentation test")
        try check(chatB.canSend, "cannot send a non-empty draft")
        chatB.send()
        try check(chatB.error == nil && chatB.draft.isEmpty, "send: \(String(describing: chatB.error)) draft \(chatB.draft)")
        try await eventually("the message in alice's chat list, unread, not typing") {
            listA.rows.contains {
                $0.peer == bob.jid && $0.previewText == "hello alice, from the presentation test" && $0.unread == 1
                    && $0.unreadText == "1" && !$0.typing && $0.previewStatus == nil
            }
        }
        try check(listA.totalUnread == 1, "total unread: \(listA.totalUnread)")
        chatB.onDraftChanged("more")
        try await eventually("bob typing in alice's chat list") {
            listA.rows.contains { $0.peer == bob.jid && $0.typing && $0.previewText == "typing…" }
        }
        chatB.onDraftChanged("")
        try await eventually("bob stopped typing") {
            listA.rows.contains { $0.peer == bob.jid && !$0.typing && $0.previewText == "hello alice, from the presentation test" }
        }
        try check(listA.rows.first { $0.peer == bob.jid }?.title == "Bob", "title: \(String(describing: listA.rows.first?.title))")
        try await eventually("'You:' and delivered at bob") {
            listB.rows.contains {
                $0.peer == alice.jid && $0.previewText == "You: hello alice, from the presentation test"
                    && ($0.previewStatus == .delivered || $0.previewStatus == .read)
            }
        }
        guard let chatA = a.app.makeConversationModel(peer: bob.jid) else { throw Failure(description: "no conversation") }
        defer { chatA.close() }
        chatA.markRead()
        try await eventually("alice's unread cleared") { listA.totalUnread == 0 && listA.rows.first { $0.peer == bob.jid }?.unreadText == nil }
        try await eventually("bob's message read") { listB.rows.first { $0.peer == alice.jid }?.previewStatus == .read }
    }

    await test("conversation: send goes Sending -> Delivered -> Read; the peer's typing shows") {
        guard let chatA = a.app.makeConversationModel(peer: bob.jid), let chatB = b.app.makeConversationModel(peer: alice.jid) else {
            throw Failure(description: "no models")
        }
        defer { chatA.close(); chatB.close() }
        try await eventually("alice's title from the chat list: \(chatA.title)") { chatA.title == "Bob" }
        chatB.onDraftChanged("typing to alice")
        try await eventually("alice sees bob typing") { chatA.peerTyping }
        chatB.onDraftChanged("")
        try await eventually("alice sees bob stop") { !chatA.peerTyping }
        chatA.onDraftChanged("  how are you?  ")
        chatA.send()
        var seen: [MessageStatus] = []
        var row: MessageRow?
        try await eventually("delivered") {
            row = chatA.rows.compactMap(\.message).last { $0.body == "how are you?" }
            if let status = row?.status, seen.last != status { seen.append(status) }
            return row?.status == .delivered || row?.status == .read
        }
        try check(row?.outgoing == true && row?.statusText == "Delivered" || row?.statusText == "Read", "row: \(String(describing: row))")
        try check(chatA.rows.contains { if case .dateSeparator(let day) = $0 { return day.text == "Today" } else { return false } },
                  "no 'Today' separator: \(chatA.rows.prefix(2))")
        try await eventually("bob has the message") { chatB.rows.contains { $0.message?.body == "how are you?" && $0.message?.status == .received } }
        chatB.markRead()
        try await eventually("read at alice") {
            row = chatA.rows.compactMap(\.message).last { $0.body == "how are you?" }
            if let status = row?.status, seen.last != status { seen.append(status) }
            return row?.status == .read && row?.statusText == "Read"
        }
        try check(seen.last == .read && !seen.contains(.failed), "statuses seen: \(seen)")
    }

    await test("conversation: a message to an unreachable server fails with a reason, and retry sends it again") {
        guard let chat = a.app.makeConversationModel(peer: "nobody@unreachable.invalid") else { throw Failure(description: "no model") }
        defer { chat.close() }
        chat.onDraftChanged("are you there?")
        chat.send()
        var row: MessageRow?
        try await eventually("the message failed") {
            row = chat.rows.compactMap(\.message).last
            return row?.status == .failed
        }
        guard let failedRow = row else { throw Failure(description: "no row") }
        try check(failedRow.canRetry && failedRow.statusText == "Not sent" && failedRow.failureText == "Not sent. Tap to try again.",
                  "failed row: \(failedRow)")
        // Sending again and failing again can both land between two polls: count the row updates.
        let updates = ChangeCounter { _ = chat.rows }
        chat.retry(failedRow.id)
        try check(chat.error == nil, "retry: \(String(describing: chat.error))")
        try await eventually("the retried message updated, then failed again") {
            updates.count >= 1 && chat.rows.compactMap(\.message).last?.status == .failed
        }
        chat.download(987_654_321)
        try check(chat.error == "This message no longer exists.", "unknown id: \(String(describing: chat.error))")
    }

    await test("files: upload progress to Uploaded, bob downloads it; a missing file and a too large one are shown") {
        guard let chatA = a.app.makeConversationModel(peer: bob.jid), let chatB = b.app.makeConversationModel(peer: alice.jid) else {
            throw Failure(description: "no models")
        }
        defer { chatA.close(); chatB.close() }
        chatA.sendFile(path: "/nonexistent/linnet/missing.txt")
        try check(chatA.error == "“missing.txt” could not be read. It may have been moved or deleted.", "missing: \(String(describing: chatA.error))")

        let name = "presentation-\(UUID().uuidString).bin"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        let bytes = Data((0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try bytes.write(to: path)
        chatA.sendFile(path: path.path)
        try check(chatA.error == nil, "sendFile: \(String(describing: chatA.error))")
        var progress: [Double] = []
        var file: AttachmentRow?
        try await eventually("uploaded") {
            file = chatA.rows.compactMap(\.message).last { $0.attachment?.fileName == name }?.attachment
            if let p = file?.progress, progress.last != p { progress.append(p) }
            return file?.state == .done
        }
        try check(file?.stateText == "Uploaded" && file?.progress == nil && file?.sizeText == "3 MB" && file?.isUpload == true,
                  "uploaded row: \(String(describing: file))")
        try check(progress.allSatisfy { (0...1).contains($0) } && progress == progress.sorted(), "progress not in 0...1 or not rising: \(progress)")

        var received: AttachmentRow?
        try await eventually("the file at bob") {
            received = chatB.rows.compactMap(\.message).last { $0.attachment?.fileName == name }?.attachment
            return received != nil
        }
        // Bob's default policy downloads files up to 5 MB by itself; else the row offers it.
        if received?.canDownload == true, let id = chatB.rows.compactMap(\.message).last(where: { $0.attachment?.fileName == name })?.id {
            chatB.download(id)
        }
        try await eventually("downloaded at bob") {
            received = chatB.rows.compactMap(\.message).last { $0.attachment?.fileName == name }?.attachment
            return received?.state == .done
        }
        try check(received?.stateText == "Downloaded" && !received!.isUpload, "bob's row: \(String(describing: received))")
        guard let local = received?.localPath else { throw Failure(description: "no local path") }
        try check(FileManager.default.contents(atPath: local) == bytes, "the downloaded bytes differ")

        // Now the server's limit (10 MB) is known: a larger file is refused at once.
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).bin")
        try check(FileManager.default.createFile(atPath: big.path, contents: nil), "cannot create \(big.path)")
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: 11 * 1024 * 1024)
        try handle.close()
        chatA.sendFile(path: big.path)
        try check(chatA.error == "This file is too large (11 MB; max 10 MB).", "too large: \(String(describing: chatA.error))")
    }

    await test("call: alice calls bob, CallKit reports, answer, DTMF, mute, speaker, hang-up, call log") {
        guard let callsA = a.app.calls, let callsB = b.app.calls else { throw Failure(description: "no call models") }
        await callsA.place(to: " \(bob.jid) ")
        try check(callsA.error == nil, "place: \(String(describing: callsA.error))")
        try await eventually("bob's phone rings") { callsB.call?.canAnswer == true }
        guard let ringing = callsB.call else { throw Failure(description: "no call") }
        try check(ringing.phaseText == "Incoming call" && ringing.title == "Alice" && ringing.incoming, "ringing: \(ringing)")
        try check(b.log.events.contains("incoming \(ringing.id) \(alice.jid) Alice"), "bob's CallKit: \(b.log.events)")
        try check(a.log.events.contains("outgoing \(ringing.id) \(bob.jid)"), "alice's CallKit: \(a.log.events)")
        callsB.answer()
        try check(callsB.error == nil, "answer: \(String(describing: callsB.error))")
        try await eventually("both connected") { callsA.call?.phase == .connected && callsB.call?.phase == .connected }
        try check(callsA.call?.phaseText.range(of: #"^\d+:\d\d$"#, options: .regularExpression) != nil, "phase text: \(String(describing: callsA.call?.phaseText))")
        try check(a.log.events.contains("connected \(ringing.id)") && b.log.events.contains("connected \(ringing.id)"), "connected reports")
        for digit in "12#" { callsA.pressDigit(digit) }
        try check(callsA.error == nil, "digits: \(String(describing: callsA.error))")
        try await eventually("the digits at bob") { callsB.call?.digitsReceived == "12#" }
        try await eventually("the digits sent at alice") { callsA.call?.digitsSent == "12#" }
        callsA.pressDigit("x")
        try check(callsA.error == "Only 0–9, *, # and A–D can be sent as keypad tones.", "bad digit: \(String(describing: callsA.error))")
        try await eventually("alice hears bob's 660 Hz") { abs((a.audio.last?.dominantFrequency(lastMs: 500) ?? 0) - 660) <= 10 }
        callsA.toggleMute()
        try await eventually("alice muted") { callsA.call?.muted == true }
        callsA.toggleSpeaker()
        try check(callsA.call?.speaker == true && a.log.events.last == "speaker.true", "speaker: \(String(describing: callsA.call)) \(a.log.events.suffix(2))")
        try await eventually("a second of call") { callsA.call?.durationText != "0:00" }
        callsA.hangUp()
        try await eventually("ended at both") { callsA.call?.phase == .ended && callsB.call?.phase == .ended }
        try check(callsA.call?.endedText == "Call ended" && callsB.call?.endedText == "Alice hung up",
                  "ended: \(String(describing: callsA.call?.endedText)) / \(String(describing: callsB.call?.endedText))")
        try check(a.log.events.contains("ended \(ringing.id) hungUp") && b.log.events.contains("ended \(ringing.id) remoteHungUp"),
                  "ended reports: \(a.log.events) \(b.log.events)")
        let entry = callsB.callLog.first { $0.callId == ringing.id }
        try check(entry?.incoming == true && entry?.missed == false && entry?.summaryText.hasPrefix("Incoming, 0:0") == true,
                  "bob's log: \(String(describing: entry))")
        callsB.dismiss()
        try check(callsB.call == nil, "the ended call stays after dismiss")
    }

    await test("call: bob declines; alice sees it, bob's log says declined, not missed") {
        guard let callsA = a.app.calls, let callsB = b.app.calls else { throw Failure(description: "no call models") }
        await callsA.place(to: bob.jid)
        try check(callsA.error == nil, "place: \(String(describing: callsA.error))")
        try await eventually("bob's phone rings") { callsB.call?.canAnswer == true }
        guard let id = callsB.call?.id else { throw Failure(description: "no call") }
        callsB.hangUp()  // the system UI's "end" on a ringing call declines it
        try await eventually("declined at alice") { callsA.call?.id == id && callsA.call?.phase == .ended }
        try check(callsA.call?.endedText == "Bob declined the call", "alice: \(String(describing: callsA.call?.endedText))")
        try await eventually("ended at bob") { callsB.call?.phase == .ended }
        let entry = callsB.callLog.first { $0.callId == id }
        try check(entry?.missed == false && entry?.summaryText == "Incoming, declined", "bob's log: \(String(describing: entry))")
        let outgoing = callsA.callLog.first { $0.callId == id }
        try check(outgoing?.summaryText == "Outgoing, declined", "alice's log: \(String(describing: outgoing))")
    }

    await test("notifications: denied registers nothing; granted asks first, then registers (and fails visibly without an app server)") {
        guard let settingsB = b.app.makeSettingsModel(), let settingsA = a.app.makeSettingsModel(),
              let clientA = a.app.client, let clientB = b.app.client else { throw Failure(description: "no models") }
        let before = try clientB.push().status()
        try check(!before.permitted && !before.hasToken && before.appServer == nil && !before.registered, "before: \(before)")
        try check(settingsB.notifications == .off && settingsB.pushStatusText == "Notifications are off.", "off: \(settingsB.pushStatusText)")
        await settingsB.enableNotifications()
        try check(settingsB.notifications == .denied, "bob: \(settingsB.notifications)")
        try check(settingsB.pushStatusText == "Notifications are not allowed. Allow them for Linnet in the system settings.", "text: \(settingsB.pushStatusText)")
        let denied = try clientB.push().status()
        try check(!denied.permitted && !denied.hasToken && denied.appServer == nil && !denied.registered, "after denial: \(denied)")
        try check(!b.log.events.contains("token.current"), "the token was read after a denial")
        await settingsB.onTokenChanged("late-token")
        try check(try !clientB.push().status().hasToken, "a token was registered while denied")

        try check(try !clientA.push().status().permitted, "alice permitted before asking")
        await settingsA.enableNotifications()
        let order = a.log.events.filter { $0.hasPrefix("permission") || $0.hasPrefix("token") }
        try check(order == ["permission.request", "token.current"], "order: \(order)")
        try check(settingsA.notifications == .on, "alice: \(settingsA.notifications)")
        let status = try clientA.push().status()
        try check(status.permitted && status.hasToken && status.appServer == server.pushJid, "alice's push: \(status)")
        // No app server runs on push.prosody.test during tests: the registration fails, visibly.
        try check(!status.registered, "registered without an app server: \(status)")
        try check(status.lastError != nil, "no push error recorded: \(status)")
        try check(settingsA.pushStatusText == "Notifications are not working yet: this device could not be registered with the notification server. Linnet will try again.",
                  "no visible failure: \(settingsA.pushStatusText)")
        await settingsA.disableNotifications()
        try check(settingsA.notifications == .off && (try !clientA.push().status().permitted), "disable")

        // A build without a push server: allowed, nothing registered, and the screen says why.
        let noServer = SettingsModel(client: clientA, ports: a.ports, appServer: " ")
        await noServer.enableNotifications()
        let without = try clientA.push().status()
        try check(without.permitted && without.appServer == nil && !without.registered, "no app server: \(without)")
        try check(noServer.pushStatusText.hasPrefix("Notifications are allowed, but this build has no notification server"),
                  "no app server: \(noServer.pushStatusText)")
        await noServer.disableNotifications()
    }

    await test("settings: preferences are saved and read back") {
        guard let settings = a.app.makeSettingsModel(), let client = a.app.client else { throw Failure(description: "no model") }
        settings.setDownloadPolicy(.never)
        settings.setSendTyping(false)
        settings.setNotificationPreview(.senderOnly)
        try check(settings.error == nil, "error: \(String(describing: settings.error))")
        let prefs = try client.settings().get()
        try check(prefs.autoDownloadMaxBytes == 0 && !prefs.sendTyping && prefs.notificationPreview == .senderOnly, "stored: \(prefs)")
        guard let reread = a.app.makeSettingsModel() else { throw Failure(description: "no model") }
        try check(reread.downloadPolicy == .never && !reread.sendTyping && reread.notificationPreview == .senderOnly, "read back")
        settings.setDownloadPolicy(.large)
        try check(try client.settings().get().autoDownloadMaxBytes == 100 * 1024 * 1024, "large")
        settings.setSendTyping(true)
    }

    await test("diagnostics: doctor rows and JSON; the exported log has no password and no message text") {
        guard let diagnostics = a.app.makeDiagnosticsModel() else { throw Failure(description: "no model") }
        defer { diagnostics.close() }
        try await eventually("online") { diagnostics.connectionText == "Online" }
        await diagnostics.runDoctor()
        try check(diagnostics.error == nil, "doctor: \(String(describing: diagnostics.error))")
        let features = Dictionary(diagnostics.serverFeatures.map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
        try check(features["Message archive"] == "Yes" && features["Signed in as"]?.hasPrefix(alice.jid + "/") == true,
                  "rows: \(diagnostics.serverFeatures)")
        try check(features["File sharing"]?.contains("max 10 MB") == true, "file sharing: \(String(describing: features["File sharing"]))")
        try check(diagnostics.doctorJson?.hasPrefix("{") == true, "json: \(String(describing: diagnostics.doctorJson?.prefix(40)))")
        try check(diagnostics.version.hasPrefix("Linnet "), "version: \(diagnostics.version)")
        let log = diagnostics.exportLog()
        try check(log.fileName.hasPrefix("linnet-log-") && log.fileName.hasSuffix(".txt") && !log.text.isEmpty, "export: \(log.fileName)")
        try check(!log.text.contains(alice.password) && !log.text.contains(bob.password), "a password is in the log")
        try check(!log.text.contains("hello alice, from the presentation test"), "a message body is in the log")
    }

    await test("chat list banner: offline shows 'Offline.' with retry; retry brings it back online") {
        guard let list = a.app.makeChatListModel(), let client = a.app.client else { throw Failure(description: "no model") }
        defer { list.close() }
        try await eventually("online") { list.banner == nil }
        await client.connection().stop()
        try await eventually("the offline banner") { list.banner == ConnectionBanner(text: "Offline.", canRetry: true) }
        await list.retryConnection()
        try await eventually("online again") { list.banner == nil }
    }

    await test("sign-out: back to sign-in, the account is gone") {
        await a.app.signOut()
        try check(a.app.screen == .signIn && a.app.calls == nil && a.app.signOutError == nil,
                  "after sign-out: \(a.app.screen) \(String(describing: a.app.signOutError))")
        await a.app.start()
        try check(a.app.screen == .signIn, "start() after sign-out: \(a.app.screen)")
        try check(a.app.makeChatListModel() == nil, "a chat list without an account")
    }

    print(failed == 0 ? "presentation: all \(count) cases passed" : "presentation: \(failed) of \(count) cases failed")
    return failed == 0 ? 0 : 1
}

exit(await run())
