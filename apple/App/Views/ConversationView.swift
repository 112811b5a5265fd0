import Linnet
import SwiftUI
import UniformTypeIdentifiers

/// Holds a conversation's model while it is on screen.
struct ConversationScreen: View {
    let app: AppModel
    let peer: String
    @State private var model: ConversationModel?

    var body: some View {
        Group {
            if let model {
                ConversationView(model: model, call: app.calls == nil ? nil : { startCall() })
            } else {
                ProgressView()
            }
        }
        .onAppear {
            if model == nil { model = app.makeConversationModel(peer: peer) }
        }
        .onDisappear {
            model?.close()
            model = nil
        }
    }

    private func startCall() {
        guard let calls = app.calls else { return }
        Task {
            _ = await MicrophoneAccess.request()
            await calls.place(to: peer)
        }
    }
}

/// Message bubbles with their delivery status (and Retry when sending failed), attachments with
/// progress, errors and download/cancel, the peer's typing, and the composer.
struct ConversationView: View {
    let model: ConversationModel
    /// Calls the peer; nil when calls are unavailable.
    var call: (() -> Void)?

    @State private var pickingFile = false

    var body: some View {
        let draft = model.draft
        VStack(spacing: 0) {
            if let error = model.error {
                ErrorBanner(text: error, dismiss: model.dismissError)
                    .padding([.horizontal, .top], 8)
            }
            ScrollViewReader { proxy in
                ScrollView {
                    LazyVStack(spacing: 6) {
                        if !model.reachedStart {
                            olderMessages
                        }
                        ForEach(model.rows) { row in
                            switch row {
                            case .dateSeparator(let day):
                                Text(day.text)
                                    .font(.caption)
                                    .foregroundStyle(.secondary)
                                    .padding(.vertical, 6)
                                    .frame(maxWidth: .infinity)
                            case .message(let message):
                                MessageBubble(
                                    message: message,
                                    retry: { model.retry(message.id) },
                                    download: { model.download(message.id) },
                                    cancel: { model.cancelTransfer(message.id) })
                            }
                        }
                        if model.peerTyping {
                            TypingIndicator(name: model.title)
                                .id(TypingIndicator.anchor)
                        }
                    }
                    .padding(.horizontal, 12)
                    .padding(.vertical, 8)
                }
                .defaultScrollAnchor(.bottom)
                .onChange(of: model.rows.last?.id) { _, last in
                    guard let last else { return }
                    withAnimation { proxy.scrollTo(last, anchor: .bottom) }
                }
                .onChange(of: model.peerTyping) { _, typing in
                    if typing { withAnimation { proxy.scrollTo(TypingIndicator.anchor, anchor: .bottom) } }
                }
            }
            Divider()
            composer(draft: draft)
        }
        .navigationTitle(model.title)
        .toolbar {
            if let call {
                ToolbarItem(placement: .primaryAction) {
                    Button(action: call) {
                        Label("Call", systemImage: "phone")
                    }
                }
            }
        }
        .fileImporter(isPresented: $pickingFile, allowedContentTypes: [.item]) { result in
            guard case .success(let url) = result else { return }
            // A file that cannot be copied is handed over as it is: the model then shows the
            // SDK's reason (e.g. the file is missing) like any other failed send.
            model.sendFile(path: AttachmentInbox.copy(url) ?? url.path)
        }
        .onAppear { model.markRead() }
        .onChange(of: model.rows.count) { model.markRead() }
    }

    private var olderMessages: some View {
        Group {
            if model.loadingOlder {
                ProgressView()
            } else {
                Button("Earlier messages") {
                    Task { await model.loadOlder() }
                }
                .buttonStyle(.borderless)
                .font(.caption)
            }
        }
        .frame(maxWidth: .infinity)
        .padding(.vertical, 4)
        .onAppear {
            // Scrolled to the top: fetch more without a tap.
            Task { await model.loadOlder() }
        }
    }

    private func composer(draft: String) -> some View {
        HStack(alignment: .bottom, spacing: 8) {
            Button {
                pickingFile = true
            } label: {
                Image(systemName: "paperclip")
                    .font(.title3)
            }
            .buttonStyle(.borderless)
            .accessibilityLabel("Attach a file")

            TextField("Message", text: modelBinding(draft, model.onDraftChanged), axis: .vertical)
                .lineLimit(1...6)
                .textFieldStyle(.roundedBorder)
                .onSubmit { model.send() }

            Button {
                model.send()
            } label: {
                Image(systemName: "arrow.up.circle.fill")
                    .font(.title2)
            }
            .buttonStyle(.borderless)
            .disabled(!model.canSend)
            .keyboardShortcut(.return, modifiers: .command)
            .accessibilityLabel("Send")
        }
        .padding(10)
    }
}

struct TypingIndicator: View {
    static let anchor = "typing-indicator"
    let name: String

    var body: some View {
        HStack(spacing: 6) {
            Image(systemName: "ellipsis.bubble")
                .symbolEffect(.pulse)
            Text("\(name) is typing…")
        }
        .font(.caption)
        .foregroundStyle(.secondary)
        .frame(maxWidth: .infinity, alignment: .leading)
    }
}

struct MessageBubble: View {
    let message: MessageRow
    let retry: () -> Void
    let download: () -> Void
    let cancel: () -> Void

    var body: some View {
        HStack {
            if message.outgoing { Spacer(minLength: 48) }
            VStack(alignment: message.outgoing ? .trailing : .leading, spacing: 4) {
                if let attachment = message.attachment {
                    AttachmentView(attachment: attachment, retry: retry, download: download, cancel: cancel)
                }
                if !message.body.isEmpty {
                    Text(message.body)
                        .textSelection(.enabled)
                }
                HStack(spacing: 4) {
                    Text(message.timeText)
                    if message.outgoing {
                        StatusIcon(status: message.status)
                        Text(message.statusText)
                    }
                }
                .font(.caption2)
                .foregroundStyle(.secondary)
                if let failure = message.failureText {
                    Text(failure)
                        .font(.caption)
                        .foregroundStyle(.red)
                }
                // A failed file's own Retry is on the attachment; this one is for the message.
                if message.canRetry && message.attachment?.canRetry != true {
                    Button("Retry", action: retry)
                        .font(.caption.bold())
                        .buttonStyle(.borderless)
                }
            }
            .padding(10)
            .background(
                message.outgoing ? Color.accentColor.opacity(0.18) : Color.secondary.opacity(0.12),
                in: RoundedRectangle(cornerRadius: 16))
            if !message.outgoing { Spacer(minLength: 48) }
        }
    }
}

/// A file: name, size, transfer state and progress, the reason it failed, and its actions.
struct AttachmentView: View {
    let attachment: AttachmentRow
    let retry: () -> Void
    let download: () -> Void
    let cancel: () -> Void

    var body: some View {
        VStack(alignment: .leading, spacing: 6) {
            if let path = attachment.localPath, attachment.state == .done,
               attachment.mediaType?.hasPrefix("image/") == true {
                AsyncImage(url: URL(fileURLWithPath: path)) { image in
                    image.resizable().scaledToFit()
                } placeholder: {
                    ProgressView()
                }
                .frame(maxWidth: 240, maxHeight: 240)
                .clipShape(RoundedRectangle(cornerRadius: 10))
            }
            HStack(spacing: 8) {
                Image(systemName: attachment.isUpload ? "doc.badge.arrow.up" : "doc")
                    .font(.title2)
                VStack(alignment: .leading, spacing: 2) {
                    Text(attachment.fileName)
                        .font(.callout.weight(.medium))
                        .lineLimit(1)
                        .truncationMode(.middle)
                    HStack(spacing: 4) {
                        if let size = attachment.sizeText {
                            Text(size)
                            Text("·")
                        }
                        Text(attachment.stateText)
                    }
                    .font(.caption)
                    .foregroundStyle(.secondary)
                }
            }
            if let progress = attachment.progress {
                ProgressView(value: progress)
            }
            if let error = attachment.errorText {
                Text(error)
                    .font(.caption)
                    .foregroundStyle(.red)
            }
            HStack(spacing: 12) {
                if attachment.canDownload {
                    Button("Download", action: download)
                }
                if attachment.canCancel {
                    Button("Cancel", role: .cancel, action: cancel)
                }
                if attachment.canRetry {
                    Button("Retry", action: retry)
                }
                if let path = attachment.localPath, attachment.state == .done {
                    ShareLink(item: URL(fileURLWithPath: path)) {
                        Label("Open", systemImage: "square.and.arrow.up")
                    }
                }
            }
            .buttonStyle(.borderless)
            .font(.caption.bold())
        }
        .frame(minWidth: 180, alignment: .leading)
    }
}
