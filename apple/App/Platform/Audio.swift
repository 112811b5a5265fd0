// Call audio: the SDK's AudioDevice over AVAudioEngine (20 ms frames of 48 kHz mono 16-bit PCM,
// 960 samples), the speaker switch (AudioRoute) and the microphone permission.
//
// Linnet calls capture() and play(frame:) from its media task every 20 ms and they must not block:
// the microphone tap converts into a small buffer that capture() drains, and play(frame:) schedules
// the frame on a player node and returns.
import AVFoundation
import Foundation
import Linnet

/// Opens the microphone and speaker for each call (the AudioDevices port). With CallKit the audio
/// session is activated by the system: the engine starts once CallKit says so.
final class EngineAudioDevices: AudioDevices, @unchecked Sendable {
    private let lock = NSLock()
    private var current: EngineAudioDevice?
    private var sessionActive: Bool

    init() {
        #if os(iOS)
        sessionActive = false
        #else
        sessionActive = true
        #endif
    }

    func open() -> any AudioDevice {
        #if os(iOS)
        Self.configureSession()
        #endif
        let device = EngineAudioDevice()
        let (previous, active) = lock.withLock {
            let previous = current
            current = device
            return (previous, sessionActive)
        }
        previous?.stop()
        if active { device.start() }
        return device
    }

    /// CallKit activated the audio session (provider(_:didActivate:)), or the app did without it.
    func sessionDidActivate() {
        let device = lock.withLock {
            sessionActive = true
            return current
        }
        device?.start()
    }

    /// CallKit deactivated the audio session (provider(_:didDeactivate:)).
    func sessionDidDeactivate() {
        let device = lock.withLock {
            #if os(iOS)
            sessionActive = false
            #endif
            return current
        }
        device?.stop()
    }

    /// The call ended: release the microphone at once (the SDK may keep the device a little longer).
    func callEnded() {
        let device = lock.withLock {
            let device = current
            current = nil
            return device
        }
        device?.stop()
    }

    #if os(iOS)
    /// A voice call: echo cancellation and the earpiece, Bluetooth headsets allowed. Set before
    /// CallKit activates the session, as CallKit expects.
    static func configureSession() {
        let session = AVAudioSession.sharedInstance()
        try? session.setCategory(.playAndRecord, mode: .voiceChat, options: [.allowBluetooth])
        try? session.setPreferredSampleRate(EngineAudioDevice.sampleRate)
        try? session.setPreferredIOBufferDuration(0.02)
    }

    /// Without CallKit (it refused the call): activate the session ourselves.
    static func activateSessionDirectly() {
        configureSession()
        try? AVAudioSession.sharedInstance().setActive(true)
    }
    #endif
}

/// One call's microphone and speaker.
final class EngineAudioDevice: AudioDevice, @unchecked Sendable {
    static let sampleRate = 48_000.0
    static let frameSamples = 960
    /// At most 200 ms of microphone audio waits for capture(): older audio is dropped (latency).
    private static let maxBufferedSamples = frameSamples * 10
    /// At most 200 ms of the peer's audio waits for the speaker.
    private static let maxQueuedFrames = 10

    private let engine = AVAudioEngine()
    private let player = AVAudioPlayerNode()
    private let captureFormat: AVAudioFormat?
    private let playFormat: AVAudioFormat?

    /// Guards starting and stopping the engine.
    private let engineLock = NSLock()
    private var running = false
    private var configurationObserver: (any NSObjectProtocol)?

    /// Guards the sample buffers (the tap thread, the SDK's media task, the player's callbacks).
    private let bufferLock = NSLock()
    private var captured: [Int16] = []
    private var queuedFrames = 0
    private var playing = false

    init() {
        captureFormat = AVAudioFormat(commonFormat: .pcmFormatInt16, sampleRate: Self.sampleRate, channels: 1, interleaved: true)
        playFormat = AVAudioFormat(standardFormatWithSampleRate: Self.sampleRate, channels: 1)
        engine.attach(player)
    }

    deinit {
        stop()
    }

    func start() {
        let started = engineLock.withLock { () -> Bool in
            if running { return true }
            guard let captureFormat, let playFormat else { return false }
            let input = engine.inputNode
            // Echo cancellation, so that the speakerphone does not feed the peer's voice back.
            try? input.setVoiceProcessingEnabled(true)
            let inputFormat = input.outputFormat(forBus: 0)
            guard inputFormat.sampleRate > 0, inputFormat.channelCount > 0,
                  let converter = AVAudioConverter(from: inputFormat, to: captureFormat)
            else { return false }
            converter.downmix = true
            input.installTap(onBus: 0, bufferSize: AVAudioFrameCount(inputFormat.sampleRate / 50), format: inputFormat) { [weak self] buffer, _ in
                self?.microphone(buffer, converter: converter)
            }
            engine.connect(player, to: engine.mainMixerNode, format: playFormat)
            engine.prepare()
            do {
                try engine.start()
            } catch {
                input.removeTap(onBus: 0)
                return false
            }
            player.play()
            running = true
            // A headset plugged in or a route change stops the engine: start it again.
            configurationObserver = NotificationCenter.default.addObserver(
                forName: .AVAudioEngineConfigurationChange, object: engine, queue: nil
            ) { [weak self] _ in
                self?.restart()
            }
            return true
        }
        if started {
            bufferLock.withLock { playing = true }
        }
    }

    func stop() {
        bufferLock.withLock {
            playing = false
            captured.removeAll()
            queuedFrames = 0
        }
        engineLock.withLock {
            guard running else { return }
            if let configurationObserver {
                NotificationCenter.default.removeObserver(configurationObserver)
            }
            configurationObserver = nil
            engine.inputNode.removeTap(onBus: 0)
            player.stop()
            engine.stop()
            running = false
        }
    }

    private func restart() {
        stop()
        start()
    }

    // MARK: AudioDevice (called by Linnet's media task every 20 ms)

    func capture() throws -> [Int16] {
        bufferLock.withLock {
            guard captured.count >= Self.frameSamples else { return [] }
            let frame = Array(captured.prefix(Self.frameSamples))
            captured.removeFirst(Self.frameSamples)
            return frame
        }
    }

    func play(frame: [Int16]) throws {
        guard !frame.isEmpty, let playFormat else { return }
        let admitted = bufferLock.withLock {
            guard playing, queuedFrames < Self.maxQueuedFrames else { return false }
            queuedFrames += 1
            return true
        }
        guard admitted else { return }
        guard let buffer = AVAudioPCMBuffer(pcmFormat: playFormat, frameCapacity: AVAudioFrameCount(frame.count)),
              let channel = buffer.floatChannelData?[0]
        else {
            framePlayed()
            return
        }
        for (index, sample) in frame.enumerated() {
            channel[index] = Float(sample) / 32768
        }
        buffer.frameLength = AVAudioFrameCount(frame.count)
        player.scheduleBuffer(buffer) { [weak self] in
            self?.framePlayed()
        }
    }

    // MARK: Internals

    private func framePlayed() {
        bufferLock.withLock { queuedFrames = max(0, queuedFrames - 1) }
    }

    /// The microphone tap: converts to 48 kHz mono Int16 and appends to the capture buffer.
    private func microphone(_ buffer: AVAudioPCMBuffer, converter: AVAudioConverter) {
        guard let captureFormat else { return }
        let ratio = captureFormat.sampleRate / buffer.format.sampleRate
        let capacity = AVAudioFrameCount((Double(buffer.frameLength) * ratio).rounded(.up)) + 32
        guard let output = AVAudioPCMBuffer(pcmFormat: captureFormat, frameCapacity: capacity) else { return }
        let input = PendingInput(buffer)
        var conversionError: NSError?
        let status = converter.convert(to: output, error: &conversionError) { _, inputStatus in
            guard let next = input.take() else {
                // Not end of stream: the converter keeps its resampling state for the next tap.
                inputStatus.pointee = .noDataNow
                return nil
            }
            inputStatus.pointee = .haveData
            return next
        }
        guard status != .error, let samples = output.int16ChannelData, output.frameLength > 0 else { return }
        let converted = UnsafeBufferPointer(start: samples[0], count: Int(output.frameLength))
        bufferLock.withLock {
            guard playing else { return }
            captured.append(contentsOf: converted)
            if captured.count > Self.maxBufferedSamples {
                captured.removeFirst(captured.count - Self.maxBufferedSamples)
            }
        }
    }
}

/// One tap buffer, handed to the converter's input block once.
private final class PendingInput: @unchecked Sendable {
    private var buffer: AVAudioPCMBuffer?

    init(_ buffer: AVAudioPCMBuffer) {
        self.buffer = buffer
    }

    func take() -> AVAudioPCMBuffer? {
        defer { buffer = nil }
        return buffer
    }
}

/// The speakerphone switch: iPhone routes call audio to the earpiece unless overridden.
struct SpeakerAudioRoute: AudioRoute {
    func setSpeaker(on: Bool) {
        #if os(iOS)
        try? AVAudioSession.sharedInstance().overrideOutputAudioPort(on ? .speaker : .none)
        #endif
    }
}

enum MicrophoneAccess {
    /// Asks for the microphone once (the system remembers the answer); true when allowed.
    static func request() async -> Bool {
        await AVAudioApplication.requestRecordPermission()
    }
}
