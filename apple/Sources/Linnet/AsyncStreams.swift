// Swift concurrency adapters over Linnet's listeners: presentation-level code, no SwiftUI or
// UIKit imports, compiled in Swift 6 language mode and tested on Linux against the real bindings
// (bindings/tests/swift). Feed the streams into an @Observable model; SwiftUI renders it.
import Foundation

/// One list change, whatever list it belongs to.
public enum ListChange<Element: Sendable>: Sendable {
    case reset([Element])
    case insert(Int, Element)
    case set(Int, Element)
    case remove(Int)
    case move(from: Int, to: Int)
}

extension Array where Element: Sendable {
    /// Applies a batch of changes in order, as a list view's data source would.
    public func applying(_ changes: [ListChange<Element>]) -> [Element] {
        var list = self
        for change in changes {
            switch change {
            case .reset(let values): list = values
            case .insert(let index, let value): list.insert(value, at: index)
            case .set(let index, let value): list[index] = value
            case .remove(let index): list.remove(at: index)
            case .move(let from, let to): list.insert(list.remove(at: from), at: to)
            }
        }
        return list
    }
}

extension ChatListDiff {
    public var change: ListChange<ChatListItem> {
        switch self {
        case .reset(let values): return .reset(values)
        case .insert(let index, let value): return .insert(Int(index), value)
        case .set(let index, let value): return .set(Int(index), value)
        case .remove(let index): return .remove(Int(index))
        case .move(let from, let to): return .move(from: Int(from), to: Int(to))
        }
    }
}

extension TimelineDiff {
    public var change: ListChange<TimelineItem> {
        switch self {
        case .reset(let values): return .reset(values)
        case .insert(let index, let value): return .insert(Int(index), value)
        case .set(let index, let value): return .set(Int(index), value)
        case .remove(let index): return .remove(Int(index))
        case .move(let from, let to): return .move(from: Int(from), to: Int(to))
        }
    }
}

extension ContactsDiff {
    public var change: ListChange<ContactItem> {
        switch self {
        case .reset(let values): return .reset(values)
        case .insert(let index, let value): return .insert(Int(index), value)
        case .set(let index, let value): return .set(Int(index), value)
        case .remove(let index): return .remove(Int(index))
        case .move(let from, let to): return .move(from: Int(from), to: Int(to))
        }
    }
}

private final class ChatListForwarder: ChatListListener {
    let forward: @Sendable ([ChatListDiff]) -> Void
    init(_ forward: @escaping @Sendable ([ChatListDiff]) -> Void) { self.forward = forward }
    func onUpdate(diffs: [ChatListDiff]) { forward(diffs) }
}

private final class TimelineForwarder: TimelineListener {
    let forward: @Sendable ([TimelineDiff]) -> Void
    init(_ forward: @escaping @Sendable ([TimelineDiff]) -> Void) { self.forward = forward }
    func onUpdate(diffs: [TimelineDiff]) { forward(diffs) }
}

private final class ContactsForwarder: ContactsListener {
    let forward: @Sendable ([ContactsDiff]) -> Void
    init(_ forward: @escaping @Sendable ([ContactsDiff]) -> Void) { self.forward = forward }
    func onUpdate(diffs: [ContactsDiff]) { forward(diffs) }
}

private final class ConnectionForwarder: ConnectionListener {
    let forward: @Sendable (ConnectionState) -> Void
    init(_ forward: @escaping @Sendable (ConnectionState) -> Void) { self.forward = forward }
    func onState(state: ConnectionState) { forward(state) }
}

private final class SyncForwarder: SyncListener {
    let forward: @Sendable (SyncStatus) -> Void
    init(_ forward: @escaping @Sendable (SyncStatus) -> Void) { self.forward = forward }
    func onSync(status: SyncStatus) { forward(status) }
}

private final class TypingForwarder: TypingListener {
    let forward: @Sendable (Bool) -> Void
    init(_ forward: @escaping @Sendable (Bool) -> Void) { self.forward = forward }
    func onTyping(typing: Bool) { forward(typing) }
}

private final class CallScreenForwarder: CallScreenListener {
    let forward: @Sendable (CallScreenState?) -> Void
    init(_ forward: @escaping @Sendable (CallScreenState?) -> Void) { self.forward = forward }
    func onCall(state: CallScreenState?) { forward(state) }
}

/// A subscription as an AsyncStream: ending the iteration (or cancelling its task) cancels the
/// subscription. Unbounded buffer: a dropped batch would corrupt the list being rebuilt.
private func subscriptionStream<Value: Sendable>(
    _ subscribe: (@escaping @Sendable (Value) -> Void) throws -> TaskHandle
) rethrows -> AsyncStream<Value> {
    let (stream, continuation) = AsyncStream.makeStream(of: Value.self, bufferingPolicy: .unbounded)
    let handle = try subscribe { value in continuation.yield(value) }
    continuation.onTermination = { _ in handle.cancel() }
    return stream
}

/// The whole list after each batch of changes: first the full list, then each update.
private func snapshots<Element: Sendable>(
    of changes: AsyncStream<[ListChange<Element>]>
) -> AsyncStream<[Element]> {
    let (stream, continuation) = AsyncStream.makeStream(of: [Element].self, bufferingPolicy: .unbounded)
    let task = Task {
        var list: [Element] = []
        for await batch in changes {
            list = list.applying(batch)
            continuation.yield(list)
        }
        continuation.finish()
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
}

extension ChatListService {
    /// Change batches of the chat list; the first is a `.reset`.
    public func changes() throws -> AsyncStream<[ListChange<ChatListItem>]> {
        try subscriptionStream { emit in
            try subscribe(listener: ChatListForwarder { emit($0.map(\.change)) })
        }
    }

    /// The chat list, whole, each time it changes.
    public func snapshots() throws -> AsyncStream<[ChatListItem]> {
        Linnet.snapshots(of: try changes())
    }
}

extension TimelineService {
    public func changes() throws -> AsyncStream<[ListChange<TimelineItem>]> {
        try subscriptionStream { emit in
            try subscribe(listener: TimelineForwarder { emit($0.map(\.change)) })
        }
    }

    public func snapshots() throws -> AsyncStream<[TimelineItem]> {
        Linnet.snapshots(of: try changes())
    }
}

extension TimelineService {
    /// Whether the peer is typing: the current value first, then every change.
    public func typingUpdates() throws -> AsyncStream<Bool> {
        try subscriptionStream { emit in
            try subscribeTyping(listener: TypingForwarder(emit))
        }
    }
}

extension ContactsService {
    public func changes() throws -> AsyncStream<[ListChange<ContactItem>]> {
        try subscriptionStream { emit in
            try subscribe(listener: ContactsForwarder { emit($0.map(\.change)) })
        }
    }

    public func snapshots() throws -> AsyncStream<[ContactItem]> {
        Linnet.snapshots(of: try changes())
    }
}

extension ConnectionController {
    /// The connection state: the current one first, then every change.
    public func states() throws -> AsyncStream<ConnectionState> {
        try subscriptionStream { emit in
            try subscribe(listener: ConnectionForwarder(emit))
        }
    }
}

extension ChatListService {
    /// Archive sync status: the current one first, then its changes (coalesced).
    public func syncStatuses() throws -> AsyncStream<SyncStatus> {
        try subscriptionStream { emit in
            try subscribeSync(listener: SyncForwarder(emit))
        }
    }
}

extension CallService {
    /// The call screen: the call on it first (nil: no call), then every change; the duration
    /// ticks every second while connected. An ended call stays (phase `.ended`, with its
    /// `endReason`) until the next call starts.
    public func states() throws -> AsyncStream<CallScreenState?> {
        try subscriptionStream { emit in
            try subscribe(listener: CallScreenForwarder(emit))
        }
    }
}
