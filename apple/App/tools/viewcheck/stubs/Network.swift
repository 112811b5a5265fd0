// Network (NWPathMonitor), declarations only, for apple/App/tools/viewcheck/check.sh.
import Foundation

public struct NWPath: Equatable, Sendable {
    public enum Status: Equatable, Sendable { case satisfied, unsatisfied, requiresConnection }
    public let status: NWPath.Status
    public let isExpensive: Bool
    public let isConstrained: Bool
}

final public class NWPathMonitor: @unchecked Sendable {
    public init() {}
    final public var currentPath: NWPath { fatalError() }
    final public var pathUpdateHandler: (@Sendable (_ newPath: NWPath) -> Void)?
    final public func start(queue: DispatchQueue) {}
    final public func cancel() {}
}
