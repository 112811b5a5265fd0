// CallKit (iOS), declarations only, for apple/App/tools/viewcheck/check.sh. CXProviderDelegate's
// Objective-C optional methods (provider(_:perform:) for each action, didActivate/didDeactivate)
// are not requirements here: only providerDidReset(_:) is required on Apple platforms too.
#if os(iOS)
import Foundation

public class CXHandle: NSObject, NSCopying, @unchecked Sendable {
    public enum HandleType: Int, Sendable { case generic = 1, phoneNumber, emailAddress }
    public init(type: CXHandle.HandleType, value: String) {}
    open var type: CXHandle.HandleType { .generic }
    open var value: String { "" }
    public func copy(with zone: NSZone? = nil) -> Any { self }
}

public enum CXCallEndedReason: Int, Sendable {
    case failed = 1, remoteEnded, unanswered, answeredElsewhere, declinedElsewhere
}

open class CXCallUpdate: NSObject, NSCopying, @unchecked Sendable {
    public override init() {}
    open var remoteHandle: CXHandle?
    open var localizedCallerName: String?
    open var supportsHolding = false
    open var supportsGrouping = false
    open var supportsUngrouping = false
    open var supportsDTMF = false
    open var hasVideo = false
    public func copy(with zone: NSZone? = nil) -> Any { self }
}

open class CXAction: NSObject, NSCopying, NSSecureCoding, @unchecked Sendable {
    public override init() {}
    public required init?(coder: NSCoder) {}
    public func encode(with coder: NSCoder) {}
    public static var supportsSecureCoding: Bool { true }
    public func copy(with zone: NSZone? = nil) -> Any { self }
    open var uuid: UUID { fatalError() }
    open var isComplete: Bool { false }
    open func fulfill() {}
    open func fail() {}
}

open class CXCallAction: CXAction, @unchecked Sendable {
    public init(call callUUID: UUID) { super.init() }
    public required init?(coder: NSCoder) { super.init(coder: coder) }
    open var callUUID: UUID { fatalError() }
}

open class CXStartCallAction: CXCallAction, @unchecked Sendable {
    public init(call callUUID: UUID, handle: CXHandle) { super.init(call: callUUID) }
    public required init?(coder: NSCoder) { super.init(coder: coder) }
    open var handle: CXHandle { fatalError() }
    open var contactIdentifier: String?
    open var isVideo = false
    open func fulfill(withDateStarted dateStarted: Date) {}
}

open class CXAnswerCallAction: CXCallAction, @unchecked Sendable {
    open func fulfill(withDateConnected dateConnected: Date) {}
}

open class CXEndCallAction: CXCallAction, @unchecked Sendable {
    open func fulfill(withDateEnded dateEnded: Date) {}
}

open class CXSetHeldCallAction: CXCallAction, @unchecked Sendable {
    public init(call callUUID: UUID, onHold: Bool) { super.init(call: callUUID) }
    public required init?(coder: NSCoder) { super.init(coder: coder) }
    open var isOnHold = false
}

open class CXSetMutedCallAction: CXCallAction, @unchecked Sendable {
    public init(call callUUID: UUID, muted: Bool) { super.init(call: callUUID) }
    public required init?(coder: NSCoder) { super.init(coder: coder) }
    open var isMuted = false
}

open class CXPlayDTMFCallAction: CXCallAction, @unchecked Sendable {
    public enum ActionType: Int, Sendable { case singleTone = 1, softPause, hardPause }
    public init(call callUUID: UUID, digits: String, type: CXPlayDTMFCallAction.ActionType) { super.init(call: callUUID) }
    public required init?(coder: NSCoder) { super.init(coder: coder) }
    open var digits = ""
    open var type: CXPlayDTMFCallAction.ActionType = .singleTone
}

open class CXTransaction: NSObject, NSCopying, @unchecked Sendable {
    public init(actions: [CXAction]) {}
    public convenience init(action: CXAction) { self.init(actions: [action]) }
    open var uuid: UUID { fatalError() }
    open var actions: [CXAction] { [] }
    public func copy(with zone: NSZone? = nil) -> Any { self }
}

open class CXProviderConfiguration: NSObject, NSCopying, @unchecked Sendable {
    public override init() {}
    open var maximumCallGroups = 2
    open var maximumCallsPerCallGroup = 5
    open var includesCallsInRecents = true
    open var supportsVideo = false
    open var supportedHandleTypes: Set<CXHandle.HandleType> = []
    open var iconTemplateImageData: Data?
    open var ringtoneSound: String?
    public func copy(with zone: NSZone? = nil) -> Any { self }
}

public protocol CXProviderDelegate: NSObjectProtocol {
    func providerDidReset(_ provider: CXProvider)
}

open class CXProvider: NSObject, @unchecked Sendable {
    public init(configuration: CXProviderConfiguration) {}
    open func setDelegate(_ delegate: (any CXProviderDelegate)?, queue: DispatchQueue?) {}
    open var configuration: CXProviderConfiguration { fatalError() }
    open func reportNewIncomingCall(with UUID: UUID, update: CXCallUpdate, completion: @escaping @Sendable ((any Error)?) -> Void) {}
    open func reportNewIncomingCall(with UUID: UUID, update: CXCallUpdate) async throws {}
    open func reportCall(with UUID: UUID, updated update: CXCallUpdate) {}
    open func reportCall(with UUID: UUID, endedAt dateEnded: Date?, reason endedReason: CXCallEndedReason) {}
    open func reportOutgoingCall(with UUID: UUID, startedConnectingAt dateStartedConnecting: Date?) {}
    open func reportOutgoingCall(with UUID: UUID, connectedAt dateConnected: Date?) {}
    open func invalidate() {}
}

open class CXCallController: NSObject, @unchecked Sendable {
    public override init() {}
    public init(queue: DispatchQueue) {}
    open func request(_ transaction: CXTransaction, completion: @escaping @Sendable ((any Error)?) -> Void) {}
    open func request(_ transaction: CXTransaction) async throws {}
    open func requestTransaction(with actions: [CXAction], completion: @escaping @Sendable ((any Error)?) -> Void) {}
    open func requestTransaction(with action: CXAction, completion: @escaping @Sendable ((any Error)?) -> Void) {}
}
#endif
