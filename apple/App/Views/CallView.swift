import Linnet
import SwiftUI

/// The call screen: who, the phase or duration, answer/decline for an incoming call, and mute,
/// speaker, keypad (DTMF) and hang-up once it runs. On iOS, CallKit's system UI drives the same
/// CallModel actions.
struct CallView: View {
    let model: CallModel
    /// The in-app Answer and Mute buttons go through the system call UI where there is one
    /// (CallKit), so that it stays in step; by default they call the model directly.
    var answer: (() -> Void)?
    var toggleMute: (() -> Void)?
    @State private var showKeypad = false

    var body: some View {
        VStack(spacing: 24) {
            if let call = model.call {
                header(call)
                if let error = model.error {
                    ErrorBanner(text: error, dismiss: model.dismissError)
                        .padding(.horizontal)
                }
                Spacer()
                if showKeypad && call.canUseKeypad {
                    DialPad(sent: call.digitsSent) { digit in model.pressDigit(digit) }
                }
                controls(call)
            }
        }
        .padding(.vertical, 32)
        .frame(maxWidth: .infinity, maxHeight: .infinity)
        .background(.background)
    }

    private func header(_ call: CallUi) -> some View {
        VStack(spacing: 8) {
            PresenceAvatar(title: call.title, presence: .offline, size: 96)
            Text(call.title)
                .font(.largeTitle.weight(.semibold))
                .lineLimit(1)
                .minimumScaleFactor(0.5)
            if call.title != call.peer {
                Text(call.phoneNumber ?? call.peer)
                    .font(.callout)
                    .foregroundStyle(.secondary)
            }
            Text(call.phaseText)
                .font(.title3.monospacedDigit())
                .foregroundStyle(call.endedText == nil ? Color.secondary : Color.red)
            if !call.digitsReceived.isEmpty {
                Label(call.digitsReceived, systemImage: "number")
                    .font(.caption.monospaced())
                    .foregroundStyle(.secondary)
            }
        }
        .padding(.horizontal)
    }

    @ViewBuilder
    private func controls(_ call: CallUi) -> some View {
        if call.canAnswer {
            HStack(spacing: 64) {
                RoundCallButton(title: "Decline", systemImage: "phone.down.fill", tint: .red) {
                    model.decline()
                }
                RoundCallButton(title: "Answer", systemImage: "phone.fill", tint: .green) {
                    Task {
                        _ = await MicrophoneAccess.request()
                        if let answer { answer() } else { model.answer() }
                    }
                }
            }
        } else if call.canHangUp {
            VStack(spacing: 28) {
                HStack(spacing: 36) {
                    RoundCallButton(
                        title: call.muted ? "Unmute" : "Mute",
                        systemImage: call.muted ? "mic.slash.fill" : "mic.fill",
                        tint: call.muted ? .orange : .gray, isOn: call.muted
                    ) {
                        if let toggleMute { toggleMute() } else { model.toggleMute() }
                    }
                    RoundCallButton(
                        title: "Speaker", systemImage: call.speaker ? "speaker.wave.3.fill" : "speaker.fill",
                        tint: call.speaker ? .blue : .gray, isOn: call.speaker
                    ) {
                        model.toggleSpeaker()
                    }
                    RoundCallButton(
                        title: "Keypad", systemImage: "circle.grid.3x3.fill",
                        tint: showKeypad ? .blue : .gray, isOn: showKeypad
                    ) {
                        showKeypad.toggle()
                    }
                    .disabled(!call.canUseKeypad)
                }
                RoundCallButton(title: "End", systemImage: "phone.down.fill", tint: .red) {
                    model.hangUp()
                }
            }
        } else {
            Button("Close") { model.dismiss() }
                .buttonStyle(.borderedProminent)
                .controlSize(.large)
                .keyboardShortcut(.defaultAction)
        }
    }
}

struct RoundCallButton: View {
    let title: String
    let systemImage: String
    let tint: Color
    var isOn = false
    let action: () -> Void

    var body: some View {
        Button(action: action) {
            VStack(spacing: 6) {
                Image(systemName: systemImage)
                    .font(.title)
                    .frame(width: 68, height: 68)
                    .foregroundStyle(.white)
                    .background(tint.opacity(isOn || tint != .gray ? 1 : 0.6), in: Circle())
                Text(title)
                    .font(.caption)
                    .foregroundStyle(.primary)
            }
        }
        .buttonStyle(.plain)
        .accessibilityLabel(title)
        .accessibilityAddTraits(isOn ? .isSelected : [])
    }
}

/// The DTMF keypad: each press goes to CallModel.pressDigit.
struct DialPad: View {
    let sent: String
    let press: (Character) -> Void

    private static let keys: [[Character]] = [
        ["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["*", "0", "#"],
    ]

    var body: some View {
        VStack(spacing: 12) {
            Text(sent.isEmpty ? " " : sent)
                .font(.title2.monospaced())
                .lineLimit(1)
                .truncationMode(.head)
            ForEach(DialPad.keys, id: \.self) { row in
                HStack(spacing: 20) {
                    ForEach(row, id: \.self) { key in
                        Button {
                            press(key)
                        } label: {
                            Text(String(key))
                                .font(.title.weight(.medium))
                                .frame(width: 64, height: 64)
                                .background(Color.secondary.opacity(0.15), in: Circle())
                        }
                        .buttonStyle(.plain)
                        .keyboardShortcut(KeyEquivalent(key), modifiers: [])
                    }
                }
            }
        }
    }
}

/// Place a call (an address or a phone number through the server's gateway) and the call history.
struct CallsView: View {
    let model: CallModel
    @State private var target = ""

    var body: some View {
        List {
            Section {
                HStack {
                    TextField("Address or phone number", text: $target)
                        .autocorrectionDisabled()
                        .onSubmit(place)
                    Button(action: place) {
                        Label("Call", systemImage: "phone.fill")
                    }
                    .disabled(target.trimmingCharacters(in: .whitespaces).isEmpty || model.call != nil)
                }
            }
            if let error = model.error, model.call == nil {
                Section {
                    ErrorBanner(text: error, dismiss: model.dismissError)
                }
            }
            Section("Recent") {
                ForEach(model.callLog) { entry in
                    Button {
                        call(entry.peer)
                    } label: {
                        HStack {
                            Image(systemName: entry.incoming ? "phone.arrow.down.left" : "phone.arrow.up.right")
                                .foregroundStyle(entry.missed ? Color.red : Color.secondary)
                            VStack(alignment: .leading) {
                                Text(entry.title)
                                    .foregroundStyle(entry.missed ? Color.red : Color.primary)
                                Text(entry.summaryText)
                                    .font(.caption)
                                    .foregroundStyle(.secondary)
                            }
                            Spacer()
                            Text(entry.timeText)
                                .font(.caption)
                                .foregroundStyle(.secondary)
                        }
                    }
                    .buttonStyle(.plain)
                }
            }
        }
        .navigationTitle("Calls")
        .onAppear { model.refreshCallLog() }
    }

    private func place() {
        call(target)
    }

    private func call(_ peer: String) {
        Task {
            _ = await MicrophoneAccess.request()
            await model.place(to: peer)
        }
    }
}
