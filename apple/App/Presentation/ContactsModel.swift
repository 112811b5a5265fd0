import Foundation
import Linnet
import Observation

public struct ContactRow: Identifiable, Equatable, Sendable {
    public var id: String { jid }
    public let jid: String
    public let name: String
    public let presence: Availability
    public let presenceText: String
    /// The contact's own status message, if any.
    public let statusText: String?
    /// "Sees your status", "Waiting for approval", … (nil when both see each other).
    public let subscriptionText: String?
    /// This contact asked to see your status: approve or deny.
    public let pendingRequest: Bool
    /// You asked to see theirs; they have not answered yet.
    public let awaitingApproval: Bool
}

@MainActor @Observable
public final class ContactsModel {
    /// The address book (without people who only asked to be added).
    public private(set) var contacts: [ContactRow] = []
    /// People asking to see your status.
    public private(set) var requests: [ContactRow] = []
    public private(set) var busy = false
    public private(set) var error: String?

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let tasks = ModelTasks()

    public init(client: LinnetClient) {
        self.client = client
        do {
            let items = try client.contacts().snapshots()
            tasks.add(Task { [weak self] in
                for await list in items { self?.apply(list) }
            })
        } catch {
            self.error = "Your contacts could not be loaded. " + Texts.error(error)
        }
    }

    public func close() {
        tasks.cancelAll()
    }

    /// Adds a contact and asks to see their status. Returns whether it worked.
    @discardableResult
    public func add(jid: String, name: String? = nil) async -> Bool {
        let address = jid.trimmingCharacters(in: .whitespacesAndNewlines)
        guard SignInModel.looksLikeAddress(address) else {
            error = "Enter the address as name@example.org."
            return false
        }
        let trimmedName = name?.trimmingCharacters(in: .whitespacesAndNewlines)
        busy = true
        defer { busy = false }
        do {
            try await client.contacts().add(jid: address, name: (trimmedName?.isEmpty ?? true) ? nil : trimmedName)
            error = nil
            return true
        } catch {
            self.error = Texts.error(error)
            return false
        }
    }

    /// Lets this person see your status.
    public func approve(_ jid: String) {
        perform { try $0.approve(jid: jid) }
    }

    public func deny(_ jid: String) {
        perform { try $0.deny(jid: jid) }
    }

    public func remove(_ jid: String) async {
        busy = true
        defer { busy = false }
        do {
            try await client.contacts().remove(jid: jid)
            error = nil
        } catch {
            self.error = Texts.error(error)
        }
    }

    public func dismissError() {
        error = nil
    }

    private func perform(_ action: (ContactsService) throws -> Void) {
        do {
            try action(client.contacts())
            error = nil
        } catch {
            self.error = Texts.error(error)
        }
    }

    private func apply(_ items: [ContactItem]) {
        let rows = items.map(Self.row)
        requests = rows.filter(\.pendingRequest)
        // A request from someone not in the address book is only a request; a contact who also
        // asks (e.g. after you added them) is both.
        contacts = zip(items, rows).filter { item, _ in
            !item.pendingRequest || item.subscription == .to || item.subscription == .both || item.awaitingApproval
        }.map(\.1)
    }

    nonisolated static func row(_ item: ContactItem) -> ContactRow {
        let subscriptionText: String?
        switch item.subscription {
        case .both?: subscriptionText = nil
        case .to?: subscriptionText = "Does not see your status"
        case .from?: subscriptionText = item.awaitingApproval ? "Waiting for approval" : "Sees your status; you do not see theirs"
        case SubscriptionState.none?, nil: subscriptionText = item.awaitingApproval ? "Waiting for approval" : "Not sharing status"
        }
        let status = item.status?.trimmingCharacters(in: .whitespacesAndNewlines)
        return ContactRow(
            jid: item.jid,
            name: item.displayName.isEmpty ? item.jid : item.displayName,
            presence: item.presence,
            presenceText: Texts.presence(item.presence),
            statusText: (status?.isEmpty ?? true) ? nil : status,
            subscriptionText: subscriptionText,
            pendingRequest: item.pendingRequest,
            awaitingApproval: item.awaitingApproval)
    }
}
