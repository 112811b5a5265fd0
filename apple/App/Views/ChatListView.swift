import Linnet
import SwiftUI

/// The chat list beside the open conversation (one column after the other on iPhone).
struct ChatsTab: View {
    let app: AppModel
    let model: ChatListModel
    @Binding var selection: String?
    @State private var composing = false

    var body: some View {
        NavigationSplitView {
            ChatListView(model: model, selection: $selection)
                .toolbar {
                    ToolbarItem(placement: .primaryAction) {
                        Button {
                            composing = true
                        } label: {
                            Label("New chat", systemImage: "square.and.pencil")
                        }
                    }
                }
        } detail: {
            if let peer = selection {
                ConversationScreen(app: app, peer: peer)
                    .id(peer)
            } else {
                ContentUnavailableView("No conversation selected", systemImage: "bubble.left.and.bubble.right")
            }
        }
        .sheet(isPresented: $composing) {
            NewChatSheet { peer in selection = peer }
        }
    }
}

/// Conversations with unread badges, presence, typing and the last message; the connection banner
/// (with Retry) and the history sync progress above them.
struct ChatListView: View {
    let model: ChatListModel
    @Binding var selection: String?

    var body: some View {
        List(selection: $selection) {
            if let banner = model.banner {
                Section {
                    HStack {
                        Image(systemName: "wifi.exclamationmark")
                            .foregroundStyle(.orange)
                        Text(banner.text)
                            .font(.callout)
                        Spacer()
                        if banner.canRetry {
                            Button("Retry") {
                                Task { await model.retryConnection() }
                            }
                            .buttonStyle(.borderless)
                        }
                    }
                }
            }
            if let sync = model.sync {
                Section {
                    VStack(alignment: .leading, spacing: 6) {
                        Text(sync.text)
                            .font(.callout)
                        if let progress = sync.progress {
                            ProgressView(value: progress)
                        } else {
                            ProgressView()
                                .progressViewStyle(.linear)
                        }
                    }
                }
            }
            if let error = model.error {
                Section {
                    ErrorBanner(text: error, dismiss: model.dismissError)
                }
            }
            Section {
                ForEach(model.rows) { row in
                    ChatRowView(row: row)
                }
            }
        }
        .overlay {
            if model.rows.isEmpty && model.banner == nil && model.sync == nil {
                ContentUnavailableView(
                    "No conversations yet", systemImage: "bubble.left.and.bubble.right",
                    description: Text("Start one with the compose button, or from a contact."))
            }
        }
        .navigationTitle("Chats")
    }
}

struct ChatRowView: View {
    let row: ChatRow

    var body: some View {
        HStack(spacing: 12) {
            PresenceAvatar(title: row.title, presence: row.presence)
            VStack(alignment: .leading, spacing: 3) {
                HStack(alignment: .firstTextBaseline) {
                    Text(row.title)
                        .font(.headline)
                        .lineLimit(1)
                    Spacer()
                    Text(row.lastActivityText)
                        .font(.caption)
                        .foregroundStyle(.secondary)
                }
                HStack(spacing: 4) {
                    if let status = row.previewStatus, !row.typing {
                        StatusIcon(status: status)
                            .font(.caption)
                            .foregroundStyle(.secondary)
                    }
                    Text(row.previewText)
                        .font(.subheadline)
                        .italic(row.typing)
                        .foregroundStyle(row.typing ? Color.accentColor : Color.secondary)
                        .lineLimit(2)
                    Spacer()
                    if let unread = row.unreadText {
                        Text(unread)
                            .font(.caption.bold())
                            .foregroundStyle(.white)
                            .padding(.horizontal, 7)
                            .padding(.vertical, 2)
                            .background(Color.accentColor, in: Capsule())
                    }
                }
            }
        }
        .padding(.vertical, 4)
        .accessibilityElement(children: .combine)
        .accessibilityValue(row.presenceText)
    }
}

/// Opens a conversation with any address.
struct NewChatSheet: View {
    let open: (String) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var address = ""

    var body: some View {
        NavigationStack {
            Form {
                TextField("Address", text: $address, prompt: Text("name@example.org"))
                    .autocorrectionDisabled()
                    .onSubmit(start)
            }
            .formStyle(.grouped)
            .navigationTitle("New chat")
            .toolbar {
                ToolbarItem(placement: .cancellationAction) {
                    Button("Cancel") { dismiss() }
                }
                ToolbarItem(placement: .confirmationAction) {
                    Button("Open", action: start)
                        .disabled(!SignInModel.looksLikeAddress(trimmed))
                }
            }
        }
    }

    private var trimmed: String {
        address.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func start() {
        guard SignInModel.looksLikeAddress(trimmed) else { return }
        open(trimmed)
        dismiss()
    }
}
