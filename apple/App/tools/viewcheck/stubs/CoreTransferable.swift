// CoreTransferable, declarations only, for apple/App/tools/viewcheck/check.sh.
import Foundation

public protocol Transferable {
    associatedtype Representation: TransferRepresentation
    @TransferRepresentationBuilder<Self> static var transferRepresentation: Self.Representation { get }
}

public protocol TransferRepresentation<Item> {
    associatedtype Item: Transferable
    associatedtype Body: TransferRepresentation
    @TransferRepresentationBuilder<Self.Item> var body: Self.Body { get }
}

extension Never: Transferable, TransferRepresentation {
    public typealias Item = Never
    // Body == Never comes from SwiftUI.swift's `extension Never: View`.
    public typealias Representation = Never
    public static var transferRepresentation: Never { return fatalError() }
    public var body: Never { return fatalError() }
}

@resultBuilder public struct TransferRepresentationBuilder<Item: Transferable> {
    public static func buildExpression<R: TransferRepresentation>(_ content: R) -> R where Item == R.Item { content }
    public static func buildBlock<R: TransferRepresentation>(_ content: R) -> R where Item == R.Item { content }
}

public struct SentTransferredFile: Sendable {
    public init(_ file: URL, allowAccessingOriginalFile: Bool = false) {}
    public var file: URL { fatalError() }
}

public struct ReceivedTransferredFile: Sendable {
    public var file: URL { fatalError() }
    public var isOriginalFile: Bool { false }
}

public struct FileRepresentation<Item: Transferable>: TransferRepresentation {
    public typealias Body = Never
    public var body: Never { return fatalError() }
    public init(contentType: UTType, shouldAttemptToOpenInPlace: Bool = false, exporting: @escaping @Sendable (Item) async throws -> SentTransferredFile, importing: @escaping @Sendable (ReceivedTransferredFile) async throws -> Item) {}
    public init(exportedContentType: UTType, shouldAllowToOpenInPlace: Bool = false, exporting: @escaping @Sendable (Item) async throws -> SentTransferredFile) {}
    public init(importedContentType: UTType, shouldAttemptToOpenInPlace: Bool = false, importing: @escaping @Sendable (ReceivedTransferredFile) async throws -> Item) {}
}

/// Stands for the real, unnamed representations of the standard types below.
public struct _StubRepresentation<Item: Transferable>: TransferRepresentation {
    public init() {}
    public typealias Body = Never
    public var body: Never { return fatalError() }
}

extension String: Transferable {
    public static var transferRepresentation: _StubRepresentation<String> { return _StubRepresentation() }
}
extension URL: Transferable {
    public static var transferRepresentation: _StubRepresentation<URL> { return _StubRepresentation() }
}
extension Data: Transferable {
    public static var transferRepresentation: _StubRepresentation<Data> { return _StubRepresentation() }
}
