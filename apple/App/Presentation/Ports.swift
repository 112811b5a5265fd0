// Platform ports: what the presentation layer needs from the operating system, as protocols.
// The Apple platform layer (apple/App/Platform) implements them with UserNotifications, APNs,
// AVAudioSession/AVAudioEngine and CallKit; the Linux tests use fakes. Pure Swift on purpose:
// nothing here may import an Apple UI or media framework.
import Foundation
import Linnet

/// The system's permission to show notifications.
public protocol NotificationPermission: Sendable {
    /// Whether notifications are allowed now, without asking.
    func isGranted() async -> Bool
    /// Asks the user (the system prompt, once); true when allowed.
    func request() async -> Bool
}

/// The device token the push service issued (APNs on Apple platforms).
public protocol PushTokenSource: Sendable {
    var platform: PushPlatform { get }
    /// The current token, or nil when the system has not issued one (yet).
    func currentToken() async -> String?
}

/// Where call audio plays.
public protocol AudioRoute: Sendable {
    func setSpeaker(on: Bool)
}

/// Opens the microphone and speaker for one call (the SDK's `AudioDevice` foreign trait).
public protocol AudioDevices: Sendable {
    func open() -> any AudioDevice
}

/// The system call UI (CallKit). The platform calls `CallModel`'s actions back when the user acts
/// in it (answer, decline, hang up, mute).
public protocol CallIntegration: Sendable {
    func reportIncoming(callId: String, handle: String, displayName: String)
    func reportOutgoing(callId: String, handle: String)
    func reportConnected(callId: String)
    func reportEnded(callId: String, reason: CallEndReason)
}

/// No system call UI: the app's own call screen is the only one (macOS, tests).
public struct NoCallIntegration: CallIntegration {
    public init() {}
    public func reportIncoming(callId: String, handle: String, displayName: String) {}
    public func reportOutgoing(callId: String, handle: String) {}
    public func reportConnected(callId: String) {}
    public func reportEnded(callId: String, reason: CallEndReason) {}
}

/// A speaker switch that does nothing: a platform without a separate earpiece (macOS, tests).
public struct NoAudioRoute: AudioRoute {
    public init() {}
    public func setSpeaker(on: Bool) {}
}

/// All the ports together, handed to `AppModel` once.
public struct PlatformPorts: Sendable {
    public var notificationPermission: any NotificationPermission
    public var pushTokens: any PushTokenSource
    public var audioRoute: any AudioRoute
    public var audioDevices: any AudioDevices
    public var callIntegration: any CallIntegration

    public init(
        notificationPermission: any NotificationPermission,
        pushTokens: any PushTokenSource,
        audioRoute: any AudioRoute = NoAudioRoute(),
        audioDevices: any AudioDevices,
        callIntegration: any CallIntegration = NoCallIntegration()
    ) {
        self.notificationPermission = notificationPermission
        self.pushTokens = pushTokens
        self.audioRoute = audioRoute
        self.audioDevices = audioDevices
        self.callIntegration = callIntegration
    }
}
