import Foundation
import Linnet
import Observation

/// The call on screen.
public struct CallUi: Equatable, Sendable {
    public let id: String
    public let peer: String
    /// The contact's name, or the phone number called.
    public let title: String
    public let phoneNumber: String?
    public let incoming: Bool
    public let phase: CallPhase
    /// "Calling…", "Ringing…", "Incoming call", "Connecting…", "0:42", or the end text.
    public let phaseText: String
    public let muted: Bool
    public let speaker: Bool
    /// "0:42" (the time connected).
    public let durationText: String
    public let digitsSent: String
    public let digitsReceived: String
    /// Whether the peer's audio has arrived (else: "no audio yet" hints at a network problem).
    public let audioHeard: Bool
    /// Why it ended ("Call ended", "Alice declined the call"), nil while not ended.
    public let endedText: String?

    public var canAnswer: Bool { incoming && phase == .incoming }
    public var canHangUp: Bool { phase != .ended }
    public var canUseKeypad: Bool { phase == .connected }
}

/// One call of the call history.
public struct CallLogRow: Identifiable, Equatable, Sendable {
    public let id: Int64
    public let callId: String
    /// Whom to call back: the address, or the phone number.
    public let peer: String
    public let title: String
    public let incoming: Bool
    public let missed: Bool
    /// "Incoming, 1:05", "Outgoing, no answer", "Missed".
    public let summaryText: String
    public let started: Date
    public let timeText: String
}

/// Calls: place, answer, decline, hang up, mute, speaker, keypad; the call history. Reports every
/// call to the system call UI (CallIntegration); the platform calls these actions back.
@MainActor @Observable
public final class CallModel {
    public private(set) var call: CallUi?
    public private(set) var callLog: [CallLogRow] = []
    /// The last failed action, as a sentence.
    public private(set) var error: String?

    @ObservationIgnored private let client: LinnetClient
    @ObservationIgnored private let ports: PlatformPorts
    @ObservationIgnored private let tasks = ModelTasks()
    @ObservationIgnored private var screen: CallScreenState?
    @ObservationIgnored private var speakerOn = false
    /// An ended call the user closed: it stays in the SDK until the next call; hidden here.
    @ObservationIgnored private var dismissedId: String?
    /// Calls already reported to the system call UI, per stage, so each is reported once.
    @ObservationIgnored private var reportedStart: Set<String> = []
    @ObservationIgnored private var reportedConnected: Set<String> = []
    @ObservationIgnored private var reportedEnd: Set<String> = []

    public init(client: LinnetClient, ports: PlatformPorts) {
        self.client = client
        self.ports = ports
        do {
            let states = try client.calls().states()
            tasks.add(Task { [weak self] in
                for await state in states { self?.apply(state) }
            })
        } catch {
            self.error = Texts.error(error)
        }
        refreshCallLog()
    }

    public func close() {
        tasks.cancelAll()
    }

    /// Calls an address (name@example.org) or a phone number (+1 555 123 4567; spaces, dashes,
    /// dots and brackets are dropped).
    public func place(to target: String) async {
        let callee = Self.normalizedTarget(target)
        guard !callee.isEmpty else {
            error = "Enter an address or a phone number."
            return
        }
        if let call, call.phase != .ended {
            error = Texts.call(.CallInProgress)
            return
        }
        speakerOn = false
        do {
            _ = try await client.calls().call(to: callee, audio: ports.audioDevices.open())
            error = nil
        } catch {
            self.error = Texts.error(error)
        }
    }

    public func answer() {
        guard let call, call.canAnswer else { return }
        perform { try $0.answer(id: call.id, audio: ports.audioDevices.open()) }
    }

    public func decline() {
        guard let call, call.canAnswer else { return }
        perform { try $0.decline(id: call.id) }
    }

    /// Ends the call. A call still ringing here is declined (the system call UI has one "end"
    /// action for both).
    public func hangUp() {
        guard let call, call.canHangUp else { return }
        if call.canAnswer {
            decline()
        } else {
            perform { try $0.hangUp(id: call.id) }
        }
    }

    public func toggleMute() {
        guard let call else { return }
        setMuted(!call.muted)
    }

    /// Mutes or unmutes (the system call UI says which, rather than toggling).
    public func setMuted(_ muted: Bool) {
        guard let call, call.canHangUp, call.muted != muted else { return }
        perform { try $0.setMuted(id: call.id, muted: muted) }
    }

    public func toggleSpeaker() {
        guard call?.canHangUp == true else { return }
        speakerOn.toggle()
        ports.audioRoute.setSpeaker(on: speakerOn)
        refreshCall()
    }

    /// A keypad press during the call: its tone goes to the peer (phone menus).
    public func pressDigit(_ digit: Character) {
        guard let call, call.canUseKeypad else { return }
        guard "0123456789*#ABCD".contains(digit.uppercased()) else {
            error = Texts.call(.InvalidDigits(reason: ""))
            return
        }
        perform { try $0.sendDtmf(id: call.id, digits: digit.uppercased()) }
    }

    /// Closes the ended call's screen.
    public func dismiss() {
        guard let call, call.phase == .ended else { return }
        dismissedId = call.id
        refreshCall()
    }

    public func dismissError() {
        error = nil
    }

    public func refreshCallLog() {
        do {
            callLog = try client.calls().callLog(limit: 100).map(Self.logRow)
        } catch {
            self.error = Texts.error(error)
        }
    }

    private func perform(_ action: (CallService) throws -> Void) {
        do {
            try action(client.calls())
            error = nil
        } catch {
            self.error = Texts.error(error)
        }
    }

    private func apply(_ state: CallScreenState?) {
        if let state, state.id != screen?.id {
            // A new call: the speaker starts off, a closed screen stays closed only for its call.
            speakerOn = false
            ports.audioRoute.setSpeaker(on: false)
        }
        screen = state
        refreshCall()
        guard let state else { return }
        report(state)
        if state.phase == .ended { refreshCallLog() }
    }

    private func refreshCall() {
        guard let screen, screen.id != dismissedId else {
            call = nil
            return
        }
        call = Self.ui(screen, speaker: speakerOn)
    }

    private func report(_ state: CallScreenState) {
        let integration = ports.callIntegration
        let handle = state.phoneNumber ?? state.peer
        if state.phase != .ended && !reportedStart.contains(state.id) {
            reportedStart.insert(state.id)
            if state.incoming {
                integration.reportIncoming(callId: state.id, handle: handle, displayName: Self.title(state))
            } else {
                integration.reportOutgoing(callId: state.id, handle: handle)
            }
        }
        if state.phase == .connected && !reportedConnected.contains(state.id) {
            reportedConnected.insert(state.id)
            integration.reportConnected(callId: state.id)
        }
        // Only calls the system UI knows of end there (not an old ended call seen at launch).
        if state.phase == .ended && reportedStart.contains(state.id) && !reportedEnd.contains(state.id) {
            reportedEnd.insert(state.id)
            integration.reportEnded(callId: state.id, reason: state.endReason ?? .failed)
        }
    }

    nonisolated static func title(_ state: CallScreenState) -> String {
        if !state.displayName.isEmpty { return state.displayName }
        return state.phoneNumber ?? state.peer
    }

    nonisolated static func ui(_ state: CallScreenState, speaker: Bool) -> CallUi {
        let title = title(state)
        let duration = Texts.duration(seconds: state.durationSecs)
        let ended = state.phase == .ended ? endText(state.endReason ?? .failed, title: title) : nil
        let phaseText: String
        switch state.phase {
        case .calling: phaseText = "Calling…"
        case .ringing: phaseText = "Ringing…"
        case .incoming: phaseText = "Incoming call"
        case .connecting: phaseText = "Connecting…"
        case .connected: phaseText = duration
        case .ended: phaseText = ended ?? "Call ended"
        }
        return CallUi(
            id: state.id, peer: state.peer, title: title, phoneNumber: state.phoneNumber,
            incoming: state.incoming, phase: state.phase, phaseText: phaseText, muted: state.muted,
            speaker: speaker, durationText: duration, digitsSent: state.digitsSent,
            digitsReceived: state.digitsReceived, audioHeard: state.audioHeard, endedText: ended)
    }

    nonisolated static func endText(_ reason: CallEndReason, title: String) -> String {
        switch reason {
        case .hungUp: return "Call ended"
        case .remoteHungUp: return "\(title) hung up"
        case .cancelled: return "Call cancelled"
        case .declined: return "Call declined"
        case .remoteDeclined: return "\(title) declined the call"
        case .busy: return "\(title) is busy"
        case .noAnswer: return "No answer"
        case .missed: return "Missed call"
        case .answeredElsewhere: return "Answered on another device"
        case .declinedElsewhere: return "Declined on another device"
        case .connectivityFailed: return "The call could not connect"
        case .networkLost: return "The connection was lost"
        case .failed: return "The call failed"
        case .stranger: return "Call from someone not in your contacts"
        case .interrupted: return "The call was interrupted"
        }
    }

    nonisolated static func logRow(_ entry: CallLogEntry) -> CallLogRow {
        let notAnswered = entry.incoming && entry.answeredAt == nil
        let missed = notAnswered && entry.endReason != .declined && entry.endReason != .declinedElsewhere
            && entry.endReason != .answeredElsewhere
        let summary: String
        if let answered = entry.answeredAt {
            let seconds = UInt64(max(0, ((entry.endedAt ?? answered) - answered) / 1000))
            summary = "\(entry.incoming ? "Incoming" : "Outgoing"), \(Texts.duration(seconds: seconds))"
        } else if notAnswered {
            summary = missed ? "Missed" : entry.endReason == .answeredElsewhere ? "Answered on another device" : "Incoming, declined"
        } else {
            summary = "Outgoing, " + (entry.endReason == .remoteDeclined ? "declined" : entry.endReason == .busy ? "busy" : "no answer")
        }
        let started = Texts.date(unixMs: entry.startedAt)
        return CallLogRow(
            id: entry.id, callId: entry.callId, peer: entry.phoneNumber ?? entry.peer,
            title: entry.phoneNumber ?? entry.peer, incoming: entry.incoming, missed: missed,
            summaryText: summary, started: started, timeText: Texts.lastActivity(started))
    }

    /// A phone number loses its separators; an address is only trimmed.
    nonisolated static func normalizedTarget(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let separators: Set<Character> = [" ", "-", ".", "(", ")", "\u{00A0}"]
        let looksLikeNumber = trimmed.first.map { $0 == "+" || $0.isNumber } ?? false
            && trimmed.allSatisfy { $0.isNumber || separators.contains($0) || "+,*#".contains($0) }
        return looksLikeNumber ? String(trimmed.filter { !separators.contains($0) }) : trimmed
    }
}
