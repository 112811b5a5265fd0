//! Voice calls: the call screen of linnet-ui (`CallService`), the platform's audio device as a
//! foreign trait adapted to the core's `AudioSource`/`AudioSink`, and a tone device for tests
//! and demos on machines without a sound card. Conversions and adapters only: the call logic
//! lives in linnet-sdk (the state machine) and linnet-ui (`CallScreen`).

use std::sync::{Arc, Mutex, MutexGuard};

use linnet_sdk::audio::{
    AudioSink, AudioSource, FRAME_SAMPLES, RecordingSink, SAMPLE_RATE, ToneSource,
};
use linnet_sdk::{AudioIo, Client};
use linnet_ui::call_screen::{CallPhase as CorePhase, CallScreen, CallScreenState as CoreState};

use crate::errors::CallError;
use crate::runtime::{in_runtime, on_runtime};
use crate::services::{TaskHandle, handle};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What an `AudioDevice` reports when it cannot deliver (the call goes on with silence).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AudioDeviceError {
    #[error("audio device failed: {reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for AudioDeviceError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed { reason: e.reason }
    }
}

/// The platform's microphone and speaker for one call (AudioRecord/AudioTrack, AVAudioEngine).
/// Frames are 20 ms of 48 kHz mono 16-bit PCM: 960 samples.
///
/// Linnet calls both methods from its media task every 20 ms: they must not block. `capture`
/// returns what the microphone has buffered (or an empty list: silence this time); `play`
/// queues the frame for the speaker and returns. A shorter frame from `capture` is padded
/// with silence, a longer one truncated; a thrown error counts as silence (and is logged).
#[uniffi::export(with_foreign)]
pub trait AudioDevice: Send + Sync {
    /// The next 20 ms of microphone audio: 960 samples, or empty for silence.
    fn capture(&self) -> Result<Vec<i16>, AudioDeviceError>;
    /// 20 ms of the peer's audio (960 samples) for the speaker.
    fn play(&self, frame: Vec<i16>) -> Result<(), AudioDeviceError>;
}

/// The device's microphone as the core's audio source.
struct DeviceSource {
    device: Arc<dyn AudioDevice>,
    /// Whether the last capture failed: a failure is logged once per streak, not 50 times a
    /// second.
    failing: bool,
}

impl AudioSource for DeviceSource {
    fn read_frame(&mut self, frame: &mut [i16]) -> bool {
        match self.device.capture() {
            Ok(samples) => {
                self.failing = false;
                let n = samples.len().min(frame.len());
                for (out, sample) in frame.iter_mut().zip(samples.iter().take(n)) {
                    *out = *sample;
                }
                for out in frame.iter_mut().skip(n) {
                    *out = 0;
                }
            }
            Err(error) => {
                if !self.failing {
                    tracing::warn!(%error, "audio capture failed: sending silence");
                }
                self.failing = true;
                frame.fill(0);
            }
        }
        // A device never ends: the call does.
        true
    }
}

/// The device's speaker as the core's audio sink.
struct DeviceSink {
    device: Arc<dyn AudioDevice>,
    failing: bool,
}

impl AudioSink for DeviceSink {
    fn write_frame(&mut self, frame: &[i16]) {
        match self.device.play(frame.to_vec()) {
            Ok(()) => self.failing = false,
            Err(error) => {
                if !self.failing {
                    tracing::warn!(%error, "audio playback failed: frames dropped");
                }
                self.failing = true;
            }
        }
    }
}

fn audio_io(device: Arc<dyn AudioDevice>) -> AudioIo {
    AudioIo {
        source: Box::new(DeviceSource {
            device: device.clone(),
            failing: false,
        }),
        sink: Box::new(DeviceSink {
            device,
            failing: false,
        }),
    }
}

/// An audio device without hardware: sends a sine tone and records what it plays, so tests
/// and demos can prove audio flows both ways.
#[derive(uniffi::Object)]
pub struct ToneAudioDevice {
    tone: Mutex<ToneSource>,
    heard: RecordingSink,
}

/// Loud enough to be far above the silence threshold, well below clipping.
const TONE_AMPLITUDE: i16 = 8_000;

#[uniffi::export]
impl ToneAudioDevice {
    /// Sends a continuous `freq_hz` tone.
    #[uniffi::constructor]
    pub fn new(freq_hz: f32) -> Arc<Self> {
        Arc::new(Self {
            tone: Mutex::new(ToneSource::new(freq_hz, TONE_AMPLITUDE)),
            heard: RecordingSink::new(),
        })
    }

    /// This device as the `AudioDevice` that `CallService.call` and `answer` take.
    pub fn as_audio_device(self: Arc<Self>) -> Arc<dyn AudioDevice> {
        self
    }

    /// How many frames it has played (the peer's audio received).
    pub fn frames_played(&self) -> u64 {
        self.heard.frames_written()
    }

    /// The dominant frequency (Hz) of the last `last_ms` milliseconds it played, or null for
    /// silence (or nothing played yet).
    pub fn dominant_frequency(&self, last_ms: u32) -> Option<f32> {
        let samples = self.heard.samples();
        let take = (u64::from(last_ms) * u64::from(SAMPLE_RATE) / 1000) as usize;
        let tail = samples
            .get(samples.len().saturating_sub(take)..)
            .unwrap_or(&[]);
        linnet_sdk::audio::dominant_frequency(tail, SAMPLE_RATE)
    }
}

impl AudioDevice for ToneAudioDevice {
    fn capture(&self) -> Result<Vec<i16>, AudioDeviceError> {
        let mut frame = vec![0_i16; FRAME_SAMPLES];
        lock(&self.tone).read_frame(&mut frame);
        Ok(frame)
    }

    fn play(&self, frame: Vec<i16>) -> Result<(), AudioDeviceError> {
        self.heard.clone().write_frame(&frame);
        Ok(())
    }
}

/// The dominant frequency (Hz) of 16-bit mono samples at `sample_rate`, between about 50 and
/// 4000 Hz; null for silence. For an app's own audio checks.
#[uniffi::export]
pub fn dominant_frequency(samples: Vec<i16>, sample_rate: u32) -> Option<f32> {
    linnet_sdk::audio::dominant_frequency(&samples, sample_rate)
}

/// What the call screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallPhase {
    /// Outgoing, no device of the peer has rung yet.
    Calling,
    /// Outgoing, the other side rings.
    Ringing,
    /// Incoming: answer or decline.
    Incoming,
    Connecting,
    Connected,
    Ended,
}

impl From<CorePhase> for CallPhase {
    fn from(p: CorePhase) -> Self {
        match p {
            CorePhase::Calling => Self::Calling,
            CorePhase::Ringing => Self::Ringing,
            CorePhase::Incoming => Self::Incoming,
            CorePhase::Connecting => Self::Connecting,
            CorePhase::Connected => Self::Connected,
            CorePhase::Ended => Self::Ended,
        }
    }
}

/// Why a call ended: every end has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallEndReason {
    /// We hung up a connected call.
    HungUp,
    /// The other side hung up a connected call.
    RemoteHungUp,
    /// We cancelled our call before it was answered.
    Cancelled,
    /// We declined an incoming call.
    Declined,
    /// The callee declined our call.
    RemoteDeclined,
    /// The callee was in another call.
    Busy,
    /// Nobody answered our call in time.
    NoAnswer,
    /// An incoming call we did not answer.
    Missed,
    /// Another of our devices answered.
    AnsweredElsewhere,
    /// Another of our devices declined.
    DeclinedElsewhere,
    /// The media never connected (ICE or DTLS failed).
    ConnectivityFailed,
    /// The media connection was lost during the call.
    NetworkLost,
    /// The peer could not run the call (no common codec, a protocol error).
    Failed,
    /// A call from someone not in the roster: it never rang.
    Stranger,
    /// The app stopped during the call.
    Interrupted,
}

impl From<linnet_sdk::CallEndReason> for CallEndReason {
    fn from(r: linnet_sdk::CallEndReason) -> Self {
        use linnet_sdk::CallEndReason as Core;
        match r {
            Core::HungUp => Self::HungUp,
            Core::RemoteHungUp => Self::RemoteHungUp,
            Core::Cancelled => Self::Cancelled,
            Core::Declined => Self::Declined,
            Core::RemoteDeclined => Self::RemoteDeclined,
            Core::Busy => Self::Busy,
            Core::NoAnswer => Self::NoAnswer,
            Core::Missed => Self::Missed,
            Core::AnsweredElsewhere => Self::AnsweredElsewhere,
            Core::DeclinedElsewhere => Self::DeclinedElsewhere,
            Core::ConnectivityFailed => Self::ConnectivityFailed,
            Core::NetworkLost => Self::NetworkLost,
            Core::Failed => Self::Failed,
            Core::Stranger => Self::Stranger,
            Core::Interrupted => Self::Interrupted,
        }
    }
}

/// The call on screen (the one in progress, or the one that just ended).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CallScreenState {
    /// The call's id, for `answer`, `hangUp`, ...
    pub id: String,
    /// The other party's address (for a phone call, the number's address at the gateway).
    pub peer: String,
    /// The roster name, else the number, else the address's local part.
    pub display_name: String,
    pub phone_number: Option<String>,
    pub incoming: bool,
    pub phase: CallPhase,
    /// Whole seconds since the media connected (ticks every second while connected).
    pub duration_secs: u64,
    pub muted: bool,
    pub digits_sent: String,
    pub digits_received: String,
    /// Whether the peer's audio has been heard yet.
    pub audio_heard: bool,
    /// Set once the phase is `Ended`.
    pub end_reason: Option<CallEndReason>,
}

impl From<CoreState> for CallScreenState {
    fn from(s: CoreState) -> Self {
        Self {
            id: s.id,
            peer: s.peer,
            display_name: s.display_name,
            phone_number: s.phone_number,
            incoming: s.incoming,
            phase: s.phase.into(),
            duration_secs: s.duration_secs,
            muted: s.muted,
            digits_sent: s.digits_sent,
            digits_received: s.digits_received,
            audio_heard: s.audio_heard,
            end_reason: s.end_reason.map(Into::into),
        }
    }
}

/// One call of the call log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CallLogEntry {
    /// The log entry's id.
    pub id: i64,
    /// The call's id (as in `CallScreenState.id`).
    pub call_id: String,
    pub peer: String,
    pub incoming: bool,
    pub phone_number: Option<String>,
    /// Unix ms.
    pub started_at: i64,
    /// Unix ms; null when it was never answered.
    pub answered_at: Option<i64>,
    /// Unix ms; null while the call goes on.
    pub ended_at: Option<i64>,
    pub end_reason: Option<CallEndReason>,
    /// A call that never rang (a stranger's): show it quietly, if at all.
    pub silent: bool,
}

impl From<linnet_sdk::CallRecord> for CallLogEntry {
    fn from(r: linnet_sdk::CallRecord) -> Self {
        Self {
            id: r.id,
            call_id: r.session_id,
            peer: r.peer,
            incoming: r.direction == linnet_sdk::store::Direction::Incoming,
            phone_number: r.phone_number,
            started_at: r.started_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            end_reason: r.end_reason.map(Into::into),
            silent: r.silent,
        }
    }
}

/// What a call negotiated, for testers' bug reports (kinds only, no addresses).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CallDiagnostics {
    /// The audio codec in use, once the media connected.
    pub codec: Option<String>,
    /// The kinds (`host`, `srflx`, `relay`, ...) of the candidates we sent, in order.
    pub local_candidates: Vec<String>,
    /// The kinds of the candidates the peer sent.
    pub remote_candidates: Vec<String>,
}

impl From<linnet_sdk::CallDiagnostics> for CallDiagnostics {
    fn from(d: linnet_sdk::CallDiagnostics) -> Self {
        Self {
            codec: d.codec,
            local_candidates: d.local_candidates,
            remote_candidates: d.remote_candidates,
        }
    }
}

#[uniffi::export(with_foreign)]
pub trait CallScreenListener: Send + Sync {
    /// The call on screen (null: no call): the current one first, then every change (the
    /// duration ticks every second while connected). An ended call stays, phase `Ended` with
    /// its reason, until the next call starts.
    fn on_call(&self, state: Option<CallScreenState>);
}

/// Voice calls of one account: the call screen, its controls and the call log. Relay-only
/// calls (hiding this device's addresses) are `Preferences.relayOnlyCalls`.
#[derive(uniffi::Object)]
pub struct CallService {
    screen: Arc<CallScreen>,
    client: Client,
}

impl CallService {
    pub(crate) fn new(client: Client) -> Arc<Self> {
        Arc::new(Self {
            screen: Arc::new(CallScreen::new(client.clone())),
            client,
        })
    }
}

#[uniffi::export]
impl CallService {
    pub fn subscribe(
        &self,
        listener: Arc<dyn CallScreenListener>,
    ) -> Result<Arc<TaskHandle>, CallError> {
        let h = in_runtime(|| {
            self.screen.subscribe(Box::new(move |state| {
                listener.on_call(state.map(Into::into))
            }))
        })??;
        Ok(handle(h))
    }

    /// Calls a contact's address, or a phone number (`+15551234567`, through the account's
    /// phone gateway; digits after the number are sent once connected, `,` pauses). Returns
    /// the call's id once the invitation is out. `audio` is the microphone and speaker.
    pub async fn call(&self, to: String, audio: Arc<dyn AudioDevice>) -> Result<String, CallError> {
        let screen = self.screen.clone();
        on_runtime(async move { Ok(screen.call(&to, audio_io(audio)).await?) }).await
    }

    /// Answers the incoming call `id` with this microphone and speaker.
    pub fn answer(&self, id: String, audio: Arc<dyn AudioDevice>) -> Result<(), CallError> {
        Ok(in_runtime(|| self.screen.answer(&id, audio_io(audio)))??)
    }

    /// Declines the incoming call `id` (on every device of this account).
    pub fn decline(&self, id: String) -> Result<(), CallError> {
        Ok(in_runtime(|| self.screen.decline(&id))??)
    }

    /// Hangs up (or cancels, while it rings) the call `id`.
    pub fn hang_up(&self, id: String) -> Result<(), CallError> {
        Ok(in_runtime(|| self.screen.hang_up(&id))??)
    }

    /// Sends DTMF digits (`0-9 * # A-D`; `,` pauses) in the connected call `id`.
    pub fn send_dtmf(&self, id: String, digits: String) -> Result<(), CallError> {
        Ok(in_runtime(|| self.screen.send_dtmf(&id, &digits))??)
    }

    /// Mutes (silence is sent) or unmutes the microphone in the call `id`.
    pub fn set_muted(&self, id: String, muted: bool) -> Result<(), CallError> {
        Ok(in_runtime(|| self.screen.set_muted(&id, muted))??)
    }

    /// The newest `limit` calls, newest first.
    pub fn call_log(&self, limit: u32) -> Result<Vec<CallLogEntry>, CallError> {
        Ok(self
            .client
            .call_log(limit)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// What the call `id` negotiated (also the call that ended last), or null.
    pub fn diagnostics(&self, id: String) -> Option<CallDiagnostics> {
        self.client.call_diagnostics(&id).map(Into::into)
    }

    /// The phone gateway numbers are called through (discovered on the server or in the
    /// roster), or null when there is none.
    pub async fn phone_gateway(&self) -> Result<Option<String>, CallError> {
        let client = self.client.clone();
        on_runtime(async move { Ok(client.phone_gateway().await?) }).await
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A device that captures a fixed frame (or fails) and keeps what it is given to play.
    struct Fixed {
        capture: Result<Vec<i16>, String>,
        played: Mutex<Vec<Vec<i16>>>,
    }

    impl AudioDevice for Fixed {
        fn capture(&self) -> Result<Vec<i16>, AudioDeviceError> {
            self.capture
                .clone()
                .map_err(|reason| AudioDeviceError::Failed { reason })
        }

        fn play(&self, frame: Vec<i16>) -> Result<(), AudioDeviceError> {
            lock(&self.played).push(frame);
            Ok(())
        }
    }

    fn read(capture: Result<Vec<i16>, String>) -> Vec<i16> {
        let mut io = audio_io(Arc::new(Fixed {
            capture,
            played: Mutex::new(Vec::new()),
        }));
        let mut frame = vec![7_i16; FRAME_SAMPLES];
        assert!(io.source.read_frame(&mut frame), "a device never ends");
        frame
    }

    #[test]
    fn short_frames_are_padded_long_ones_truncated_failures_silent() {
        let frame = read(Ok(vec![1; 10]));
        assert_eq!(&frame[..10], &[1; 10]);
        assert!(frame[10..].iter().all(|&s| s == 0));
        assert_eq!(read(Ok(Vec::new())), vec![0; FRAME_SAMPLES]);
        let frame = read(Ok((0..2000).map(|i| i as i16).collect()));
        assert_eq!(frame.len(), FRAME_SAMPLES);
        assert_eq!(frame[959], 959);
        assert_eq!(read(Err("unplugged".into())), vec![0; FRAME_SAMPLES]);
    }

    #[test]
    fn played_frames_reach_the_device() {
        let device = Arc::new(Fixed {
            capture: Ok(Vec::new()),
            played: Mutex::new(Vec::new()),
        });
        let mut io = audio_io(device.clone());
        io.sink.write_frame(&[3; FRAME_SAMPLES]);
        assert_eq!(*lock(&device.played), vec![vec![3; FRAME_SAMPLES]]);
    }

    #[test]
    fn the_tone_device_sends_its_tone_and_hears_what_it_plays() {
        let sender = ToneAudioDevice::new(440.0);
        let receiver = ToneAudioDevice::new(660.0);
        assert_eq!(receiver.dominant_frequency(500), None);
        for _ in 0..50 {
            let frame = sender.capture().unwrap();
            assert_eq!(frame.len(), FRAME_SAMPLES);
            receiver.play(frame).unwrap();
        }
        assert_eq!(receiver.frames_played(), 50);
        let heard = receiver.dominant_frequency(500).unwrap();
        assert!((heard - 440.0).abs() < 2.0, "{heard}");
        assert_eq!(sender.dominant_frequency(500), None);
    }
}
