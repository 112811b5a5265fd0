// CallKit on iOS: the system call UI for Linnet's calls (incoming call screen on the lock screen,
// the green pill, Bluetooth and CarPlay buttons, Recents). CallModel reports each call here through
// the CallIntegration port; what the user does in the system UI comes back as CXActions, which call
// CallModel's own actions (answer, decline, hang up, mute, keypad). macOS uses the in-app screen.
#if os(iOS)
import AVFoundation
import CallKit
import Foundation
import Linnet

final class CallKitIntegration: NSObject, CallIntegration, CXProviderDelegate, @unchecked Sendable {
    /// The app whose `calls` model the system UI's actions go to.
    @MainActor weak var app: AppModel?

    private let provider: CXProvider
    private let controller = CXCallController()
    private let audio: EngineAudioDevices

    private let lock = NSLock()
    /// Linnet call id -> CallKit UUID, while the system knows the call.
    private var uuids: [String: UUID] = [:]
    private var outgoing: Set<UUID> = []
    /// Calls the user ended in the system UI (no second end report).
    private var endedBySystemUI: Set<UUID> = []

    init(audio: EngineAudioDevices) {
        self.audio = audio
        let configuration = CXProviderConfiguration()
        configuration.supportsVideo = false
        configuration.maximumCallGroups = 1
        configuration.maximumCallsPerCallGroup = 1
        configuration.supportedHandleTypes = [.generic, .phoneNumber]
        configuration.includesCallsInRecents = true
        provider = CXProvider(configuration: configuration)
        super.init()
        // nil: the delegate runs on the main queue, where CallModel lives.
        provider.setDelegate(self, queue: nil)
    }

    // MARK: CallIntegration (from CallModel, on the main actor)

    func reportIncoming(callId: String, handle: String, displayName: String) {
        let uuid = register(callId, outgoing: false)
        let update = Self.update(handle: handle, displayName: displayName)
        EngineAudioDevices.configureSession()
        provider.reportNewIncomingCall(with: uuid, update: update) { [weak self] error in
            guard error != nil else { return }
            // The system refused to ring (Do Not Disturb, a blocked caller): decline the call.
            Task { @MainActor in
                self?.forget(uuid)
                self?.app?.calls?.decline()
            }
        }
    }

    func reportOutgoing(callId: String, handle: String) {
        let uuid = register(callId, outgoing: true)
        let action = CXStartCallAction(call: uuid, handle: Self.handle(handle))
        action.isVideo = false
        controller.request(CXTransaction(action: action)) { [weak self] error in
            guard error != nil else { return }
            // CallKit would not take the call: it goes on without the system UI and its audio
            // session, which the app activates itself.
            self?.forget(uuid)
            EngineAudioDevices.activateSessionDirectly()
            self?.audio.sessionDidActivate()
        }
    }

    func reportConnected(callId: String) {
        let (uuid, isOutgoing) = lock.withLock { () -> (UUID?, Bool) in
            guard let uuid = uuids[callId] else { return (nil, false) }
            return (uuid, outgoing.contains(uuid))
        }
        guard let uuid, isOutgoing else { return }
        provider.reportOutgoingCall(with: uuid, connectedAt: nil)
    }

    func reportEnded(callId: String, reason: CallEndReason) {
        let (known, endedInSystemUI) = lock.withLock { () -> (UUID?, Bool) in
            guard let uuid = uuids.removeValue(forKey: callId) else { return (nil, false) }
            outgoing.remove(uuid)
            return (uuid, endedBySystemUI.remove(uuid) != nil)
        }
        audio.callEnded()
        guard let uuid = known, !endedInSystemUI else { return }
        if let systemReason = Self.endedReason(reason) {
            provider.reportCall(with: uuid, endedAt: nil, reason: systemReason)
        } else {
            // Ended on this device in the app's own screen: tell CallKit the way a user end goes.
            controller.request(CXTransaction(action: CXEndCallAction(call: uuid))) { [weak self] error in
                if error != nil {
                    self?.provider.reportCall(with: uuid, endedAt: nil, reason: .remoteEnded)
                }
            }
        }
    }

    // MARK: The app's own call screen

    /// The in-app Answer button: CallKit answers (so its ringing UI stops and it activates the
    /// audio session), then provider(_:perform: CXAnswerCallAction) calls CallModel.answer().
    /// False when CallKit does not know the call: the caller answers directly.
    func requestAnswer(callId: String) -> Bool {
        guard let uuid = lock.withLock({ uuids[callId] }) else { return false }
        controller.request(CXTransaction(action: CXAnswerCallAction(call: uuid))) { [weak self] error in
            guard error != nil else { return }
            Task { @MainActor in
                EngineAudioDevices.activateSessionDirectly()
                self?.audio.sessionDidActivate()
                self?.app?.calls?.answer()
            }
        }
        return true
    }

    /// The in-app mute button, through CallKit so that its UI shows the same state.
    func requestMute(callId: String, muted: Bool) -> Bool {
        guard let uuid = lock.withLock({ uuids[callId] }) else { return false }
        controller.request(CXTransaction(action: CXSetMutedCallAction(call: uuid, muted: muted))) { [weak self] error in
            guard error != nil else { return }
            Task { @MainActor in
                self?.app?.calls?.setMuted(muted)
            }
        }
        return true
    }

    // MARK: CXProviderDelegate (main queue)

    func providerDidReset(_ provider: CXProvider) {
        lock.withLock {
            uuids.removeAll()
            outgoing.removeAll()
            endedBySystemUI.removeAll()
        }
        audio.callEnded()
        MainActor.assumeIsolated {
            app?.calls?.hangUp()
        }
    }

    func provider(_ provider: CXProvider, perform action: CXStartCallAction) {
        // Linnet already placed the call (CallModel.place): CallKit only learns of it here.
        provider.reportOutgoingCall(with: action.callUUID, startedConnectingAt: nil)
        let update = CXCallUpdate()
        update.remoteHandle = action.handle
        update.supportsDTMF = true
        update.supportsHolding = false
        update.supportsGrouping = false
        update.supportsUngrouping = false
        update.hasVideo = false
        provider.reportCall(with: action.callUUID, updated: update)
        action.fulfill()
    }

    func provider(_ provider: CXProvider, perform action: CXAnswerCallAction) {
        let answered = MainActor.assumeIsolated { () -> Bool in
            guard let calls = app?.calls, let call = calls.call, isCall(call.id, action.callUUID) else { return false }
            if call.canAnswer { calls.answer() }
            return true
        }
        if answered {
            action.fulfill()
        } else {
            action.fail()
        }
    }

    func provider(_ provider: CXProvider, perform action: CXEndCallAction) {
        lock.withLock {
            // Only a call still running (an end the app requested itself is already reported).
            if uuids.values.contains(action.callUUID) { endedBySystemUI.insert(action.callUUID) }
        }
        MainActor.assumeIsolated {
            guard let calls = app?.calls, let call = calls.call, isCall(call.id, action.callUUID) else { return }
            // Declines a call still ringing, hangs up one in progress.
            calls.hangUp()
        }
        audio.callEnded()
        action.fulfill()
    }

    func provider(_ provider: CXProvider, perform action: CXSetMutedCallAction) {
        MainActor.assumeIsolated {
            guard let calls = app?.calls, let call = calls.call, isCall(call.id, action.callUUID) else { return }
            calls.setMuted(action.isMuted)
        }
        action.fulfill()
    }

    func provider(_ provider: CXProvider, perform action: CXPlayDTMFCallAction) {
        MainActor.assumeIsolated {
            guard let calls = app?.calls, let call = calls.call, isCall(call.id, action.callUUID) else { return }
            for digit in action.digits { calls.pressDigit(digit) }
        }
        action.fulfill()
    }

    func provider(_ provider: CXProvider, perform action: CXSetHeldCallAction) {
        // Linnet has no hold: a second call is refused while one is active.
        action.fail()
    }

    func provider(_ provider: CXProvider, didActivate audioSession: AVAudioSession) {
        audio.sessionDidActivate()
    }

    func provider(_ provider: CXProvider, didDeactivate audioSession: AVAudioSession) {
        audio.sessionDidDeactivate()
    }

    // MARK: Internals

    private func register(_ callId: String, outgoing isOutgoing: Bool) -> UUID {
        lock.withLock {
            if let uuid = uuids[callId] { return uuid }
            let uuid = UUID(uuidString: callId) ?? UUID()
            uuids[callId] = uuid
            if isOutgoing { outgoing.insert(uuid) }
            return uuid
        }
    }

    private func forget(_ uuid: UUID) {
        lock.withLock {
            uuids = uuids.filter { $0.value != uuid }
            outgoing.remove(uuid)
        }
    }

    private func isCall(_ callId: String, _ uuid: UUID) -> Bool {
        lock.withLock { uuids[callId] == uuid }
    }

    private static func handle(_ value: String) -> CXHandle {
        CXHandle(type: value.hasPrefix("+") ? .phoneNumber : .generic, value: value)
    }

    private static func update(handle: String, displayName: String) -> CXCallUpdate {
        let update = CXCallUpdate()
        update.remoteHandle = Self.handle(handle)
        update.localizedCallerName = displayName
        update.supportsDTMF = true
        update.supportsHolding = false
        update.supportsGrouping = false
        update.supportsUngrouping = false
        update.hasVideo = false
        return update
    }

    /// How CallKit should show an end this device did not cause; nil for ends caused here.
    private static func endedReason(_ reason: CallEndReason) -> CXCallEndedReason? {
        switch reason {
        case .hungUp, .cancelled, .declined:
            return nil
        case .remoteHungUp, .remoteDeclined, .busy:
            return .remoteEnded
        case .noAnswer, .missed:
            return .unanswered
        case .answeredElsewhere:
            return .answeredElsewhere
        case .declinedElsewhere:
            return .declinedElsewhere
        case .connectivityFailed, .networkLost, .failed, .stranger, .interrupted:
            return .failed
        }
    }
}
#endif
