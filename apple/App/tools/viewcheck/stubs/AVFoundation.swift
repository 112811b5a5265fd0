// AVFoundation / AVFAudio, declarations only, for apple/App/tools/viewcheck/check.sh: the engine,
// nodes, formats, buffers and converter the call audio uses, AVAudioSession (iOS) and
// AVAudioApplication.
import Foundation

public typealias AVAudioFrameCount = UInt32
public typealias AVAudioPacketCount = UInt32
public typealias AVAudioChannelCount = UInt32
public typealias AVAudioNodeBus = Int
public typealias AVAudioFramePosition = Int64
public typealias AVAudioNodeTapBlock = @Sendable (AVAudioPCMBuffer, AVAudioTime) -> Void
public typealias AVAudioNodeCompletionHandler = @Sendable () -> Void
public typealias AVAudioConverterInputBlock = (_ inNumberOfPackets: AVAudioPacketCount, _ outStatus: UnsafeMutablePointer<AVAudioConverterInputStatus>) -> AVAudioBuffer?

public enum AVAudioCommonFormat: UInt, Sendable {
    case otherFormat = 0, pcmFormatFloat32 = 1, pcmFormatFloat64 = 2, pcmFormatInt16 = 3, pcmFormatInt32 = 4
}

open class AVAudioFormat: NSObject, @unchecked Sendable {
    public init?(commonFormat format: AVAudioCommonFormat, sampleRate: Double, channels: AVAudioChannelCount, interleaved: Bool) {}
    public init?(standardFormatWithSampleRate sampleRate: Double, channels: AVAudioChannelCount) {}
    open var sampleRate: Double { 0 }
    open var channelCount: AVAudioChannelCount { 0 }
    open var commonFormat: AVAudioCommonFormat { .otherFormat }
    open var isInterleaved: Bool { false }
    open var isStandard: Bool { false }
}

open class AVAudioTime: NSObject, @unchecked Sendable {
    open var sampleTime: AVAudioFramePosition { 0 }
    open var sampleRate: Double { 0 }
}

open class AVAudioBuffer: NSObject, NSCopying, NSMutableCopying, @unchecked Sendable {
    open var format: AVAudioFormat { fatalError() }
    public func copy(with zone: NSZone? = nil) -> Any { self }
    public func mutableCopy(with zone: NSZone? = nil) -> Any { self }
}

open class AVAudioPCMBuffer: AVAudioBuffer, @unchecked Sendable {
    public init?(pcmFormat format: AVAudioFormat, frameCapacity: AVAudioFrameCount) {}
    open var frameCapacity: AVAudioFrameCount { 0 }
    open var frameLength: AVAudioFrameCount = 0
    open var stride: Int { 1 }
    open var floatChannelData: UnsafePointer<UnsafeMutablePointer<Float>>? { nil }
    open var int16ChannelData: UnsafePointer<UnsafeMutablePointer<Int16>>? { nil }
    open var int32ChannelData: UnsafePointer<UnsafeMutablePointer<Int32>>? { nil }
}

public enum AVAudioConverterInputStatus: Int, Sendable { case haveData = 0, noDataNow = 1, endOfStream = 2 }
public enum AVAudioConverterOutputStatus: Int, Sendable { case haveData = 0, inputRanDry = 1, endOfStream = 2, error = 3 }

open class AVAudioConverter: NSObject, @unchecked Sendable {
    public init?(from fromFormat: AVAudioFormat, to toFormat: AVAudioFormat) {}
    open var inputFormat: AVAudioFormat { fatalError() }
    open var outputFormat: AVAudioFormat { fatalError() }
    open var downmix = false
    open func reset() {}
    open func convert(to outputBuffer: AVAudioPCMBuffer, from inputBuffer: AVAudioPCMBuffer) throws {}
    open func convert(to outputBuffer: AVAudioBuffer, error outError: NSErrorPointer, withInputFrom inputBlock: AVAudioConverterInputBlock) -> AVAudioConverterOutputStatus { .error }
}

open class AVAudioNode: NSObject, @unchecked Sendable {
    open var engine: AVAudioEngine? { nil }
    open var numberOfInputs: Int { 0 }
    open var numberOfOutputs: Int { 0 }
    open func inputFormat(forBus bus: AVAudioNodeBus) -> AVAudioFormat { fatalError() }
    open func outputFormat(forBus bus: AVAudioNodeBus) -> AVAudioFormat { fatalError() }
    open func installTap(onBus bus: AVAudioNodeBus, bufferSize: AVAudioFrameCount, format: AVAudioFormat?, block tapBlock: @escaping AVAudioNodeTapBlock) {}
    open func removeTap(onBus bus: AVAudioNodeBus) {}
    open func reset() {}
}

open class AVAudioIONode: AVAudioNode, @unchecked Sendable {
    open var isVoiceProcessingEnabled: Bool { false }
    open func setVoiceProcessingEnabled(_ enabled: Bool) throws {}
}

open class AVAudioInputNode: AVAudioIONode, @unchecked Sendable {
    open var isVoiceProcessingBypassed = false
    open var isVoiceProcessingAGCEnabled = true
}

open class AVAudioOutputNode: AVAudioIONode, @unchecked Sendable {}

open class AVAudioMixerNode: AVAudioNode, @unchecked Sendable {
    open var outputVolume: Float = 1
}

open class AVAudioPlayerNode: AVAudioNode, @unchecked Sendable {
    public override init() {}
    open func scheduleBuffer(_ buffer: AVAudioPCMBuffer, completionHandler: AVAudioNodeCompletionHandler? = nil) {}
    open func play() {}
    open func stop() {}
    open func pause() {}
    open var isPlaying: Bool { false }
    open var volume: Float = 1
}

open class AVAudioEngine: NSObject, @unchecked Sendable {
    public override init() {}
    open func attach(_ node: AVAudioNode) {}
    open func detach(_ node: AVAudioNode) {}
    open func connect(_ node1: AVAudioNode, to node2: AVAudioNode, format: AVAudioFormat?) {}
    open func disconnectNodeInput(_ node: AVAudioNode) {}
    open func prepare() {}
    open func start() throws {}
    open func pause() {}
    open func reset() {}
    open func stop() {}
    open var inputNode: AVAudioInputNode { fatalError() }
    open var outputNode: AVAudioOutputNode { fatalError() }
    open var mainMixerNode: AVAudioMixerNode { fatalError() }
    open var isRunning: Bool { false }
}

extension NSNotification.Name {
    public static let AVAudioEngineConfigurationChange = NSNotification.Name("AVAudioEngineConfigurationChangeNotification")
}

open class AVAudioApplication: NSObject, @unchecked Sendable {
    public enum recordPermission: Int, Sendable { case undetermined, denied, granted }
    open class var shared: AVAudioApplication { fatalError() }
    open var recordPermission: AVAudioApplication.recordPermission { .undetermined }
    open class func requestRecordPermission(completionHandler response: @escaping @Sendable (Bool) -> Void) {}
    open class func requestRecordPermission() async -> Bool { false }
}

#if os(iOS)
open class AVAudioSession: NSObject, @unchecked Sendable {
    open class func sharedInstance() -> AVAudioSession { fatalError() }

    public struct Category: Hashable, RawRepresentable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let ambient = Category(rawValue: "AVAudioSessionCategoryAmbient")
        public static let playback = Category(rawValue: "AVAudioSessionCategoryPlayback")
        public static let record = Category(rawValue: "AVAudioSessionCategoryRecord")
        public static let playAndRecord = Category(rawValue: "AVAudioSessionCategoryPlayAndRecord")
    }

    public struct Mode: Hashable, RawRepresentable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let `default` = Mode(rawValue: "AVAudioSessionModeDefault")
        public static let voiceChat = Mode(rawValue: "AVAudioSessionModeVoiceChat")
        public static let videoChat = Mode(rawValue: "AVAudioSessionModeVideoChat")
    }

    public struct CategoryOptions: OptionSet, Sendable {
        public let rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }
        public static let mixWithOthers = CategoryOptions(rawValue: 0x1)
        public static let duckOthers = CategoryOptions(rawValue: 0x2)
        public static let allowBluetooth = CategoryOptions(rawValue: 0x4)
        public static let defaultToSpeaker = CategoryOptions(rawValue: 0x8)
        public static let allowBluetoothA2DP = CategoryOptions(rawValue: 0x20)
        public static let allowAirPlay = CategoryOptions(rawValue: 0x40)
    }

    public struct SetActiveOptions: OptionSet, Sendable {
        public let rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }
        public static let notifyOthersOnDeactivation = SetActiveOptions(rawValue: 1)
    }

    public enum PortOverride: UInt, Sendable { case none = 0, speaker = 0x73706b72 }

    open func setCategory(_ category: AVAudioSession.Category, mode: AVAudioSession.Mode, options: AVAudioSession.CategoryOptions = []) throws {}
    open func setCategory(_ category: AVAudioSession.Category) throws {}
    open func setActive(_ active: Bool, options: AVAudioSession.SetActiveOptions = []) throws {}
    open func setPreferredSampleRate(_ sampleRate: Double) throws {}
    open func setPreferredIOBufferDuration(_ duration: TimeInterval) throws {}
    open func overrideOutputAudioPort(_ portOverride: AVAudioSession.PortOverride) throws {}
    open var sampleRate: Double { 0 }
    open var category: AVAudioSession.Category { .ambient }
}
#endif
