import Foundation
import Linnet
import Observation

/// One conversation in the chat list.
public struct ChatRow: Identifiable, Equatable, Sendable {
    public var id: String { peer }
    public let peer: String
    public let title: String
    public let unread: Int
    /// "3", "99+", or nil when everything is read.
    public let unreadText: String?
    public let lastActivity: Date
    /// "14:05", "Yesterday", "Monday", "6 May 2024".
    public let lastActivityText: String
    /// The last message ("You: …" for one sent), "typing…" while the peer types, "" for none.
    public let previewText: String
    /// The delivery status of the last message when it was sent from here; nil otherwise.
    public let previewStatus: MessageStatus?
    public let typing: Bool
    public let presence: Availability
    public let presenceText: String
}

/// The connection problem shown above the chat list (nil while online).
public struct ConnectionBanner: Equatable, Sendable {
    public let text: String
    /// Whether "Retry" makes sense (not while a connection attempt is under way).
    public let canRetry: Bool
}

/// History being fetched from the server archive.
public struct SyncBanner: Equatable, Sendable {
    /// "Syncing history… 40%" or "Syncing history…".
    public let text: String
    /// 0...1, or nil when the total is unknown.
    public let progress: Double?
}

@MainActor @Observable
public final class ChatListModel {
    public private(set) var rows: [ChatRow] = []
    public private(set) var totalUnread = 0
    public private(set) var banner: ConnectionBanner?
    public private(set) var sync: SyncBanner?
    /// A failed action or subscription, as a sentence.
    public private(set) var error: String?

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let tasks = ModelTasks()

    public init(client: LinnetClient) {
        self.client = client
        do {
            let items = try client.chatList().snapshots()
            tasks.add(Task { [weak self] in
                for await list in items { self?.apply(list) }
            })
            let statuses = try client.chatList().syncStatuses()
            tasks.add(Task { [weak self] in
                for await status in statuses { self?.sync = Self.syncBanner(status) }
            })
            let states = try client.connection().states()
            tasks.add(Task { [weak self] in
                for await state in states { self?.banner = Self.connectionBanner(state) }
            })
        } catch {
            self.error = "The chat list could not be loaded. " + Texts.error(error)
        }
    }

    /// Stops listening (the screen went away).
    public func close() {
        tasks.cancelAll()
    }

    /// The banner's "Retry": connects now, skipping the backoff wait.
    public func retryConnection() async {
        let connection = client.connection()
        if connection.state() == .offline {
            // Stopped (not merely waiting): start again; a failure shows in the banner.
            try? await connection.start()
        } else {
            connection.reconnectNow()
        }
    }

    public func dismissError() {
        error = nil
    }

    private func apply(_ items: [ChatListItem]) {
        let now = Date()
        rows = items.map { Self.row($0, now: now) }
        totalUnread = items.reduce(0) { $0 + Int($1.unread) }
    }

    nonisolated static func row(_ item: ChatListItem, now: Date) -> ChatRow {
        let lastActivity = Texts.date(unixMs: item.lastActivity)
        let preview: String
        if item.typing {
            preview = "typing…"
        } else if let last = item.preview {
            let body = last.body.isEmpty ? "File" : last.body
            preview = last.outgoing ? "You: \(body)" : body
        } else {
            preview = ""
        }
        let unread = Int(item.unread)
        return ChatRow(
            peer: item.peer,
            title: item.displayName.isEmpty ? item.peer : item.displayName,
            unread: unread,
            unreadText: unread == 0 ? nil : (unread > 99 ? "99+" : "\(unread)"),
            lastActivity: lastActivity,
            lastActivityText: Texts.lastActivity(lastActivity, now: now),
            previewText: preview,
            previewStatus: item.preview.flatMap { $0.outgoing ? MessageStatus($0.state) : nil },
            typing: item.typing,
            presence: item.presence,
            presenceText: Texts.presence(item.presence))
    }

    nonisolated static func connectionBanner(_ state: ConnectionState) -> ConnectionBanner? {
        switch state {
        case .online:
            return nil
        case .connecting:
            return ConnectionBanner(text: "Connecting…", canRetry: false)
        case .offline:
            return ConnectionBanner(text: "Offline.", canRetry: true)
        case .disconnected(_, let failure):
            switch failure {
            case .auth:
                return ConnectionBanner(text: "Not connected: the server no longer accepts your password. Sign out and sign in again.", canRetry: true)
            case .security:
                return ConnectionBanner(text: "Not connected: a secure connection to the server could not be made.", canRetry: true)
            case .network:
                return ConnectionBanner(text: "Not connected: waiting for the network…", canRetry: true)
            case .server:
                return ConnectionBanner(text: "Not connected: the server had a problem. Retrying…", canRetry: true)
            case .local:
                return ConnectionBanner(text: "Not connected: a problem on this device.", canRetry: true)
            case nil:
                return ConnectionBanner(text: "Not connected. Retrying…", canRetry: true)
            }
        }
    }

    nonisolated static func syncBanner(_ status: SyncStatus) -> SyncBanner? {
        guard status.syncing else { return nil }
        if let progress = status.progress {
            let fraction = min(max(Double(progress), 0), 1)
            return SyncBanner(text: "Syncing history… \(Texts.percent(fraction))", progress: fraction)
        }
        return SyncBanner(text: "Syncing history…", progress: nil)
    }
}
