import Foundation
import Linnet
import Observation

/// A message's delivery status as the user sees it.
public enum MessageStatus: Equatable, Sendable {
    /// Queued or sent, not yet acknowledged by the server.
    case sending
    /// Acknowledged by the server.
    case sent
    case delivered
    /// Displayed by the peer.
    case read
    case failed
    /// An incoming message.
    case received

    public init(_ state: DeliveryState) {
        switch state {
        case .queued, .sent: self = .sending
        case .acknowledged: self = .sent
        case .delivered: self = .delivered
        case .displayed: self = .read
        case .failed: self = .failed
        case .received: self = .received
        }
    }

    /// "Sending…", "Sent", "Delivered", "Read", "Not sent", "" (incoming).
    public var text: String {
        switch self {
        case .sending: return "Sending…"
        case .sent: return "Sent"
        case .delivered: return "Delivered"
        case .read: return "Read"
        case .failed: return "Not sent"
        case .received: return ""
        }
    }
}

/// A file attached to a message, with its transfer.
public struct AttachmentRow: Equatable, Sendable {
    public let fileName: String
    /// "1.5 MB", or nil when the size is unknown.
    public let sizeText: String?
    public let mediaType: String?
    public let isUpload: Bool
    public let state: TransferState
    /// 0...1 while transferring (or queued), else nil.
    public let progress: Double?
    /// "Uploading… 40%", "Downloaded", "Tap to download", …
    public let stateText: String
    /// Why the transfer failed, nil unless it did.
    public let errorText: String?
    /// Where the file is on this device, once there.
    public let localPath: String?
    public let canDownload: Bool
    public let canCancel: Bool
    public let canRetry: Bool
}

public struct MessageRow: Identifiable, Equatable, Sendable {
    public let id: Int64
    public let outgoing: Bool
    public let sender: String
    public let body: String
    public let time: Date
    /// "14:05".
    public let timeText: String
    public let status: MessageStatus
    public let statusText: String
    /// Why it was not sent, nil unless it failed.
    public let failureText: String?
    public let canRetry: Bool
    public let attachment: AttachmentRow?
}

public struct DateSeparatorRow: Equatable, Sendable {
    /// The SDK's day ("2024-05-06").
    public let day: String
    /// "Today", "Yesterday", "Monday, 6 May 2024".
    public let text: String
}

public enum ConversationRow: Identifiable, Equatable, Sendable {
    case dateSeparator(DateSeparatorRow)
    case message(MessageRow)

    public var id: String {
        switch self {
        case .dateSeparator(let row): return "day-\(row.day)"
        case .message(let row): return "message-\(row.id)"
        }
    }

    public var message: MessageRow? {
        if case .message(let row) = self { return row }
        return nil
    }
}

/// One conversation: its messages, the composer, and the actions on messages and files.
@MainActor @Observable
public final class ConversationModel {
    public let peer: String
    /// The peer's name (from the chat list), else the address.
    public private(set) var title: String
    public private(set) var rows: [ConversationRow] = []
    public private(set) var peerTyping = false
    /// The composer's text; change it through `onDraftChanged`.
    public private(set) var draft = ""
    public private(set) var loadingOlder = false
    /// The start of the conversation is loaded: no more `loadOlder`.
    public private(set) var reachedStart = false
    /// The last failed action, as a sentence (nil: none). Cleared by the next action.
    public private(set) var error: String?

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let timeline: TimelineService?
    @ObservationIgnored private let tasks = ModelTasks()
    /// What the peer was last told: typing or not. Sent only when it changes.
    @ObservationIgnored private var toldTyping = false

    public init(client: LinnetClient, peer: String) {
        self.client = client
        self.peer = peer
        title = peer
        let opened: TimelineService
        do {
            opened = try client.timeline(peer: peer)
        } catch {
            timeline = nil
            self.error = "This conversation could not be opened. " + Texts.error(error)
            return
        }
        timeline = opened
        do {
            let items = try opened.snapshots()
            tasks.add(Task { [weak self] in
                for await list in items { self?.apply(list) }
            })
            // From the timeline, not the chat list: a new conversation has no row there yet.
            let typing = try opened.typingUpdates()
            tasks.add(Task { [weak self] in
                for await value in typing { self?.peerTyping = value }
            })
            let chats = try client.chatList().snapshots()
            tasks.add(Task { [weak self] in
                for await list in chats { self?.applyChat(list) }
            })
        } catch {
            self.error = "This conversation could not be opened. " + Texts.error(error)
        }
    }

    public func close() {
        tasks.cancelAll()
        if toldTyping {
            toldTyping = false
            try? timeline?.setTyping(typing: false)
        }
    }

    public var canSend: Bool {
        timeline != nil && !draft.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// The composer changed: the peer sees "typing" while there is text, and stops seeing it when
    /// the text is cleared. A notification goes out only when that changes, not per keystroke.
    public func onDraftChanged(_ text: String) {
        draft = text
        let typing = !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        guard typing != toldTyping, let timeline else { return }
        toldTyping = typing
        // A typing notification that cannot go out (offline) is not worth bothering the user.
        try? timeline.setTyping(typing: typing)
    }

    /// Sends the draft. It appears at once as "Sending…".
    public func send() {
        let body = draft.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { return }
        guard perform({ _ = try $0.send(body: body) }) else { return }
        draft = ""
        if toldTyping {
            toldTyping = false
            try? timeline?.setTyping(typing: false)
        }
    }

    /// Sends a failed message (or file) again.
    public func retry(_ id: Int64) {
        perform { try $0.retry(messageId: id) }
    }

    /// Sends the file at `path` (a file the platform copied into the app's storage).
    public func sendFile(path: String) {
        perform { _ = try $0.sendFile(path: path) }
    }

    public func download(_ id: Int64) {
        perform { try $0.download(messageId: id) }
    }

    public func cancelTransfer(_ id: Int64) {
        perform { try $0.cancelTransfer(messageId: id) }
    }

    /// The conversation is on screen: everything in it is read (and the peer told, if allowed).
    public func markRead() {
        perform { try $0.markRead() }
    }

    /// Scrolled to the top: older messages, from this device first, then the server archive.
    public func loadOlder() async {
        guard let timeline, !loadingOlder, !reachedStart else { return }
        loadingOlder = true
        defer { loadingOlder = false }
        do {
            reachedStart = try await timeline.loadOlder(count: 50)
            error = nil
        } catch {
            self.error = "Older messages could not be loaded. " + Texts.error(error)
        }
    }

    public func dismissError() {
        error = nil
    }

    /// Runs one timeline action; its error becomes `error`. Returns whether it succeeded.
    @discardableResult
    private func perform(_ action: (TimelineService) throws -> Void) -> Bool {
        guard let timeline else { return false }
        do {
            try action(timeline)
            error = nil
            return true
        } catch {
            self.error = Texts.error(error)
            return false
        }
    }

    private func apply(_ items: [TimelineItem]) {
        let now = Date()
        rows = items.map { item in
            switch item {
            case .dateSeparator(let day):
                return .dateSeparator(DateSeparatorRow(day: day, text: Texts.day(day, now: now)))
            case .message(let message):
                return .message(Self.row(message))
            }
        }
    }

    private func applyChat(_ items: [ChatListItem]) {
        guard let item = items.first(where: { $0.peer == peer }) else { return }
        title = item.displayName.isEmpty ? peer : item.displayName
    }

    nonisolated static func row(_ message: TimelineMessage) -> MessageRow {
        let status = MessageStatus(message.state)
        let time = Texts.date(unixMs: message.timestamp)
        let attachment = message.attachment.map(attachmentRow)
        let failed = status == .failed
        return MessageRow(
            id: message.id,
            outgoing: message.outgoing,
            sender: message.sender,
            body: message.body,
            time: time,
            timeText: Texts.timeOfDay(time),
            status: status,
            statusText: status.text,
            failureText: failed ? failureText(message) : nil,
            canRetry: message.outgoing && (failed || attachment?.canRetry == true),
            attachment: attachment)
    }

    nonisolated private static func failureText(_ message: TimelineMessage) -> String {
        if let failure = message.attachment?.failure { return "Not sent: " + transferError(failure) }
        return "Not sent. Tap to try again."
    }

    nonisolated static func attachmentRow(_ file: TimelineAttachment) -> AttachmentRow {
        let upload = file.direction == .upload
        let total = file.total ?? file.size
        var progress: Double?
        if file.state == .transferring || file.state == .queued {
            progress = (total ?? 0) > 0 ? min(Double(file.transferred) / Double(total!), 1) : 0
        }
        let stateText: String
        switch file.state {
        case .offered: stateText = "Tap to download"
        case .queued: stateText = upload ? "Waiting to upload…" : "Waiting to download…"
        case .transferring:
            let verb = upload ? "Uploading…" : "Downloading…"
            stateText = progress.map { "\(verb) \(Texts.percent($0))" } ?? verb
        case .done: stateText = upload ? "Uploaded" : "Downloaded"
        case .failed: stateText = upload ? "Upload failed" : "Download failed"
        case .cancelled: stateText = upload ? "Upload cancelled" : "Download cancelled"
        }
        let retryable = file.state == .failed || file.state == .cancelled
        return AttachmentRow(
            fileName: file.fileName,
            sizeText: file.size.map(Texts.size),
            mediaType: file.mediaType,
            isUpload: upload,
            state: file.state,
            progress: progress,
            stateText: stateText,
            errorText: file.state == .failed ? transferError(file.failure ?? .local) : nil,
            localPath: file.localPath,
            canDownload: !upload && (file.state == .offered || retryable),
            canCancel: file.state == .queued || file.state == .transferring,
            canRetry: upload && retryable)
    }

    nonisolated static func transferError(_ failure: TransferFailure) -> String {
        switch failure {
        case .network: return "The connection was lost during the transfer."
        case .http: return "The file server refused the transfer."
        case .tls: return "A secure connection to the file server could not be made."
        case .tooLarge: return "The file is too large for the server."
        case .diskFull: return "There is not enough free space on this device."
        case .cancelled: return "The transfer was cancelled."
        case .notHttps: return "The file's link is not secure (not HTTPS), so it was not downloaded."
        case .fileMissing: return "The file is no longer on this device."
        case .serverRefused: return "The server refused the file."
        case .noUploadService: return "Your server does not accept files."
        case .local: return "The file could not be read or saved on this device."
        }
    }
}
