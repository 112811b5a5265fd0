//! One call's media over the webrtc crate (0.21): ICE, DTLS-SRTP and RTP, with our own
//! codecs, pacing and RFC 4733 DTMF on top.
//!
//! webrtc 0.21.1 behaviours worked around here (see shared/notes/calls.md):
//! - codec matching ignores clock rates, so an answer registers only what the offer carries,
//!   with one telephone-event at the chosen codec's rate, and our offers carry one too;
//! - a payload type that was not negotiated is dropped silently, so payload types come from
//!   the sender's negotiated parameters;
//! - gathered candidates appear for component 2 as well: only component 1 is reported;
//! - there is no DTMF sender: telephone-event packets go through the audio track itself;
//! - RTCP needs the default interceptors registered explicitly.
//!
//! Measured on loopback (tests/loopback.rs, tests/relay.rs): ~55-110 ms from `offer()` to the
//! callee's first decoded frame with host candidates (410 ms with webrtc's default 200 ms ICE
//! check interval, hence our 50 ms); ~1.7-2 s relay-only through coturn. ICE itself connects
//! through the relay in ~250 ms: the rest is DTLS, each flight waiting ~200-350 ms. webrtc's
//! driver loop polls the core's writes before it delivers TURN-decapsulated reads, so the
//! core's answer to a relayed packet waits for the next timer or event (webrtc
//! peer_connection/driver.rs, the `poll_writes`/`poll_reads` order). Not worked around here.
//!
//! The other rules (a direction and a BUNDLE group in every offer, trickle in Jingle) belong to
//! the SDP translator that feeds [`MediaSession::answer`] and [`MediaSession::set_remote_answer`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceCandidateType, RTCIceGatheringState,
    RTCIceServer, RTCIceTransportPolicy, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    RTCSessionDescription, Registry, SettingEngine, SettingEngineBuilder,
    register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::audio::{AudioSink, AudioSource, FRAME_SAMPLES};
use crate::codec::{Codec, CodecError, Decoder, Encoder};
use crate::dtmf::{self, DialStep, DtmfError, DtmfReceiver};

const TELEPHONE_EVENT_MIME: &str = "audio/telephone-event";
const OPUS_FMTP: &str = "minptime=10;useinbandfec=1";
/// Events 0-15 are the DTMF digits.
const TELEPHONE_EVENT_FMTP: &str = "0-15";
const OPUS_PAYLOAD_TYPE: u8 = 111;
const TELEPHONE_EVENT_PAYLOAD_TYPE: u8 = 101;
const FRAME_INTERVAL: Duration = Duration::from_millis(20);
const ICE_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// How long a reflexive (srflx, prflx) pair waits before it may be nominated.
const REFLEXIVE_ACCEPTANCE_WAIT: Duration = Duration::from_millis(100);
const ICE_MAX_BINDING_REQUESTS: u16 = 28;

/// A STUN or TURN server (XEP-0215 gives these, TURN with short-lived credentials).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodecProfile {
    /// XMPP peers: opus/48000/2 + telephone-event/48000 (only these two in our offers).
    #[default]
    Xmpp,
    /// Phone gateways: PCMU/8000 (+ G722/8000 when supported) + telephone-event/8000.
    Phone,
}

impl CodecProfile {
    /// The codecs our offers carry, in order of preference.
    pub fn codecs(self) -> &'static [Codec] {
        match self {
            CodecProfile::Xmpp => &[Codec::Opus],
            CodecProfile::Phone => &[Codec::Pcmu, Codec::G722],
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MediaConfig {
    pub ice_servers: Vec<IceServer>,
    /// Only TURN relay candidates: hides the user's addresses even from the peer.
    pub relay_only: bool,
    pub profile: CodecProfile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// A gathered local candidate, as the SDP attribute value "candidate:..." (no "a="), component 1
    /// only (rtcp-mux), duplicates removed; with relay_only, only relay candidates ever appear.
    LocalCandidate {
        mid: String,
        candidate: String,
    },
    GatheringDone,
    /// ICE+DTLS up, media flowing.
    Connected,
    /// ICE disconnected (may recover).
    Disconnected,
    Failed {
        reason: String,
    },
    /// The first decoded frame from the peer reached the sink.
    FirstAudio,
    DtmfReceived(char),
    DtmfSent(char),
    /// All queued DialSteps were played.
    DialDone,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("invalid SDP: {reason}")]
    InvalidSdp { reason: String },
    #[error("webrtc: {reason}")]
    Webrtc { reason: String },
    #[error("the offer has no audio codec we support (Opus, G.722, PCMU)")]
    NoCommonCodec,
    #[error("the media session is closed")]
    Closed,
    #[error("invalid ICE candidate: {reason}")]
    InvalidCandidate { reason: String },
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
}

fn webrtc_error(error: impl std::fmt::Display) -> MediaError {
    MediaError::Webrtc {
        reason: error.to_string(),
    }
}

/// What the offer/answer settled: the codec we send, and how to read what arrives.
#[derive(Debug, Clone)]
struct Negotiated {
    codec: Codec,
    payload_type: u8,
    dtmf_payload_type: Option<u8>,
    /// Payload types we may receive: a codec, or telephone-event.
    incoming: HashMap<u8, Incoming>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Incoming {
    Audio(Codec),
    TelephoneEvent,
}

#[derive(Default)]
struct Controls {
    muted: bool,
    dial_queue: VecDeque<DialStep>,
}

/// Remote candidates wait here until the remote description is set (webrtc rejects them
/// before).
#[derive(Default)]
struct RemoteCandidates {
    description_set: bool,
    waiting: Vec<RTCIceCandidateInit>,
}

struct Shared {
    pc: Arc<dyn PeerConnection>,
    sender: Arc<dyn RtpSender>,
    events: mpsc::UnboundedSender<MediaEvent>,
    controls: Mutex<Controls>,
    remote_candidates: tokio::sync::Mutex<RemoteCandidates>,
    negotiated: watch::Sender<Option<Negotiated>>,
    closed: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    fn controls(&self) -> MutexGuard<'_, Controls> {
        self.controls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn emit(&self, event: MediaEvent) {
        // The receiver may be gone (the call ended): nothing to tell then.
        let _ = self.events.send(event);
    }
}

/// One call's media: a webrtc peer connection, the task that paces outgoing audio and DTMF,
/// and the task that decodes what arrives. Send + Sync; methods take &self.
pub struct MediaSession {
    shared: Arc<Shared>,
}

/// The webrtc event handler: turns connection events into [`MediaEvent`]s.
struct Handler {
    events: mpsc::UnboundedSender<MediaEvent>,
    relay_only: bool,
    /// The audio m-line's mid, known once the local description is set.
    mid: Mutex<String>,
    seen_candidates: Mutex<HashSet<String>>,
    connected: watch::Sender<bool>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let candidate = event.candidate;
        // rtcp-mux: component 2 is never used (webrtc reports each socket twice).
        if candidate.component != 1 {
            return;
        }
        if self.relay_only && candidate.typ != RTCIceCandidateType::Relay {
            return;
        }
        let line = match candidate.to_json() {
            // A relay candidate's related address is our own (server-reflexive) address:
            // relay-only exists to hide it.
            Ok(init) if self.relay_only => hide_related_address(&init.candidate),
            Ok(init) => init.candidate,
            Err(error) => {
                tracing::debug!(%error, "local candidate not reportable");
                return;
            }
        };
        let fresh = self
            .seen_candidates
            .lock()
            .map(|mut seen| seen.insert(line.clone()))
            .unwrap_or(false);
        if !fresh {
            return;
        }
        let mid = self.mid.lock().map(|mid| mid.clone()).unwrap_or_default();
        let _ = self.events.send(MediaEvent::LocalCandidate {
            mid,
            candidate: line,
        });
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.events.send(MediaEvent::GatheringDone);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        tracing::debug!(?state, "peer connection state");
        let event = match state {
            RTCPeerConnectionState::Connected => {
                self.connected.send_replace(true);
                MediaEvent::Connected
            }
            RTCPeerConnectionState::Disconnected => MediaEvent::Disconnected,
            RTCPeerConnectionState::Failed => MediaEvent::Failed {
                reason: "ICE or DTLS failed".to_owned(),
            },
            _ => return,
        };
        let _ = self.events.send(event);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// ICE pacing. Checks every 50 ms (RFC 8445's Ta) rather than webrtc's 200 ms, for the
/// same 1.4 s of attempts per pair: the first check and the DTLS start both wait for this
/// tick. With relay only, a relay pair is nominated at once: nothing better can come (webrtc
/// otherwise waits 2 s for one).
///
/// Server-reflexive and peer-reflexive pairs may be nominated after 100 ms instead of webrtc's
/// 500 ms and 1 s. Over Jingle the callee's checks often arrive before its candidates (they
/// come in the session-accept and transport-info), so the first valid pair is peer-reflexive
/// even when it is the host pair: with webrtc's waits, a fifth of calls took 0.6 to 2 s to
/// connect (docs/benchmarks.md "Calls"). 100 ms still lets a host pair that is about to
/// succeed win.
fn setting_engine(relay_only: bool) -> SettingEngine {
    let builder = SettingEngineBuilder::new()
        .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(ICE_MAX_BINDING_REQUESTS))
        .with_srflx_acceptance_min_wait(Some(REFLEXIVE_ACCEPTANCE_WAIT))
        .with_prflx_acceptance_min_wait(Some(REFLEXIVE_ACCEPTANCE_WAIT));
    let builder = if relay_only {
        builder.with_relay_acceptance_min_wait(Some(Duration::ZERO))
    } else {
        builder
    };
    builder.build()
}

/// Replaces the `raddr`/`rport` of a candidate line with 0.0.0.0 and 0 (RFC 8445 allows
/// any value there; browsers do the same for privacy).
fn hide_related_address(candidate: &str) -> String {
    let mut fields: Vec<&str> = candidate.split_whitespace().collect();
    for (name, hidden) in [("raddr", "0.0.0.0"), ("rport", "0")] {
        if let Some(index) = fields.iter().position(|field| *field == name)
            && let Some(value) = fields.get_mut(index + 1)
        {
            *value = hidden;
        }
    }
    fields.join(" ")
}

/// A codec as registered with webrtc's media engine and offered in SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OfferedCodec {
    payload_type: u8,
    name: String,
    clock_rate: u32,
    channels: u16,
    fmtp: String,
}

impl OfferedCodec {
    fn ours(codec: Codec, payload_type: u8) -> Self {
        Self {
            payload_type,
            name: codec.rtpmap_name().to_owned(),
            clock_rate: codec.rtp_clock_rate(),
            channels: codec.sdp_channels(),
            fmtp: if codec == Codec::Opus {
                OPUS_FMTP.to_owned()
            } else {
                String::new()
            },
        }
    }

    fn telephone_event(clock_rate: u32) -> Self {
        Self {
            payload_type: TELEPHONE_EVENT_PAYLOAD_TYPE,
            name: "telephone-event".to_owned(),
            clock_rate,
            channels: 0,
            fmtp: TELEPHONE_EVENT_FMTP.to_owned(),
        }
    }

    fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case("telephone-event")
    }

    fn parameters(&self) -> RTCRtpCodecParameters {
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: format!("audio/{}", self.name),
                clock_rate: self.clock_rate,
                channels: self.channels,
                sdp_fmtp_line: self.fmtp.clone(),
                rtcp_feedback: vec![],
            },
            payload_type: self.payload_type,
        }
    }
}

/// The codecs our offer for a profile carries.
fn offer_codecs(profile: CodecProfile) -> Vec<OfferedCodec> {
    let mut codecs: Vec<OfferedCodec> = profile
        .codecs()
        .iter()
        .map(|&codec| {
            let payload_type = codec.static_payload_type().unwrap_or(OPUS_PAYLOAD_TYPE);
            OfferedCodec::ours(codec, payload_type)
        })
        .collect();
    let rate = profile
        .codecs()
        .first()
        .map(|codec| codec.rtp_clock_rate())
        .unwrap_or(48_000);
    codecs.push(OfferedCodec::telephone_event(rate));
    codecs
}

/// The codecs of the remote offer's audio section that we answer with: Opus if offered, else
/// G.722, else PCMU, plus the one telephone-event at that codec's rate, with the offer's
/// payload types and parameters.
fn answer_codecs(remote_offer: &str) -> Result<Vec<OfferedCodec>, MediaError> {
    let offered = parse_audio_codecs(remote_offer)?;
    let chosen = [Codec::Opus, Codec::G722, Codec::Pcmu]
        .into_iter()
        .find_map(|wanted| {
            offered
                .iter()
                .find(|c| Codec::from_rtpmap(&c.name, c.clock_rate) == Some(wanted))
                .map(|c| (wanted, c.clone()))
        });
    let Some((codec, chosen)) = chosen else {
        return Err(MediaError::NoCommonCodec);
    };
    let mut codecs = vec![chosen];
    if let Some(event) = offered
        .iter()
        .find(|c| c.is_telephone_event() && c.clock_rate == codec.rtp_clock_rate())
    {
        codecs.push(event.clone());
    }
    Ok(codecs)
}

/// Reads the first audio m-line's codecs (rtpmap and fmtp) from an SDP, with the static
/// payload types 0 and 9 when they have no rtpmap.
fn parse_audio_codecs(sdp: &str) -> Result<Vec<OfferedCodec>, MediaError> {
    let invalid = |reason: &str| MediaError::InvalidSdp {
        reason: reason.to_owned(),
    };
    let mut lines = sdp.lines().map(str::trim);
    let media_line = lines
        .by_ref()
        .find(|line| line.starts_with("m=audio "))
        .ok_or_else(|| invalid("no audio section (m=audio)"))?;
    // m=audio <port> <proto> <fmt> ...
    let payload_types: Vec<u8> = media_line
        .split_whitespace()
        .skip(3)
        .map(|pt| {
            pt.parse::<u8>()
                .map_err(|_| invalid(&format!("bad payload type {pt:?} in {media_line:?}")))
        })
        .collect::<Result<_, _>>()?;
    if payload_types.is_empty() {
        return Err(invalid("the audio section lists no payload types"));
    }
    let mut rtpmaps: HashMap<u8, (String, u32, u16)> = HashMap::new();
    let mut fmtps: HashMap<u8, String> = HashMap::new();
    for line in lines.take_while(|line| !line.starts_with("m=")) {
        if let Some(value) = line.strip_prefix("a=rtpmap:") {
            let (pt, encoding) = value
                .split_once(' ')
                .ok_or_else(|| invalid(&format!("bad rtpmap {line:?}")))?;
            let pt: u8 = pt
                .parse()
                .map_err(|_| invalid(&format!("bad rtpmap payload type in {line:?}")))?;
            let mut parts = encoding.trim().split('/');
            let name = parts.next().unwrap_or_default().to_owned();
            let clock_rate: u32 = parts
                .next()
                .and_then(|rate| rate.parse().ok())
                .ok_or_else(|| invalid(&format!("bad rtpmap clock rate in {line:?}")))?;
            let channels: u16 = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            rtpmaps.insert(pt, (name, clock_rate, channels));
        } else if let Some(value) = line.strip_prefix("a=fmtp:")
            && let Some((pt, params)) = value.split_once(' ')
            && let Ok(pt) = pt.parse::<u8>()
        {
            fmtps.insert(pt, params.trim().to_owned());
        }
    }
    Ok(payload_types
        .into_iter()
        .filter_map(|pt| {
            let (name, clock_rate, channels) = match rtpmaps.remove(&pt) {
                Some(map) => map,
                None => match pt {
                    0 => ("PCMU".to_owned(), 8000, 0),
                    9 => ("G722".to_owned(), 8000, 0),
                    _ => return None,
                },
            };
            Some(OfferedCodec {
                payload_type: pt,
                name,
                clock_rate,
                // webrtc registers mono codecs with 0 channels; "/1" means the same.
                channels: if channels == 1 { 0 } else { channels },
                fmtp: fmtps.remove(&pt).unwrap_or_default(),
            })
        })
        .collect())
}

/// The first `a=mid:` of an SDP (our sessions have one m-line).
fn first_mid(sdp: &str) -> Option<String> {
    sdp.lines()
        .find_map(|line| line.trim().strip_prefix("a=mid:"))
        .map(str::to_owned)
}

/// A freshly built connection and what its tasks need.
struct Built {
    shared: Arc<Shared>,
    handler: Arc<Handler>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
}

impl Built {
    fn take_events(&mut self) -> mpsc::UnboundedReceiver<MediaEvent> {
        let (_, empty) = mpsc::unbounded_channel();
        std::mem::replace(&mut self.events, empty)
    }
}

impl MediaSession {
    /// Caller side: builds a peer connection, sets the local offer, starts gathering.
    pub async fn offer(
        config: MediaConfig,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
    ) -> Result<(MediaSession, String, mpsc::UnboundedReceiver<MediaEvent>), MediaError> {
        let codecs = offer_codecs(config.profile);
        let mut built = Self::build(&config, &codecs).await?;
        let session = MediaSession {
            shared: built.shared.clone(),
        };
        match session.make_offer(&built.handler).await {
            Ok(sdp) => {
                let events = built.take_events();
                session.start_tasks(source, sink, built);
                Ok((session, sdp, events))
            }
            Err(error) => {
                session.close().await;
                Err(error)
            }
        }
    }

    async fn make_offer(&self, handler: &Handler) -> Result<String, MediaError> {
        let pc = &self.shared.pc;
        let offer = pc.create_offer(None).await.map_err(webrtc_error)?;
        let sdp = offer.sdp.clone();
        Self::remember_mid(handler, &sdp);
        pc.set_local_description(offer)
            .await
            .map_err(webrtc_error)?;
        Ok(sdp)
    }

    /// Callee side: the remote offer (already cleaned by the sdp translator: one telephone-event,
    /// a direction, a BUNDLE group) -> local answer SDP. Registers only codecs present in the offer
    /// (webrtc bug: telephone-event rates collapse, see calls.md), choosing Opus if offered, else
    /// G722, else PCMU, and the telephone-event at that codec's rate.
    pub async fn answer(
        config: MediaConfig,
        remote_offer: &str,
        source: Box<dyn AudioSource>,
        sink: Box<dyn AudioSink>,
    ) -> Result<(MediaSession, String, mpsc::UnboundedReceiver<MediaEvent>), MediaError> {
        let codecs = answer_codecs(remote_offer)?;
        let description =
            RTCSessionDescription::offer(remote_offer.to_owned()).map_err(|error| {
                MediaError::InvalidSdp {
                    reason: error.to_string(),
                }
            })?;
        let mut built = Self::build(&config, &codecs).await?;
        let session = MediaSession {
            shared: built.shared.clone(),
        };
        // From here on the session owns a running peer connection: close it on any failure.
        match session.answer_offer(description, &built.handler).await {
            Ok(answer) => {
                let events = built.take_events();
                session.start_tasks(source, sink, built);
                Ok((session, answer, events))
            }
            Err(error) => {
                session.close().await;
                Err(error)
            }
        }
    }

    async fn answer_offer(
        &self,
        offer: RTCSessionDescription,
        handler: &Handler,
    ) -> Result<String, MediaError> {
        let pc = &self.shared.pc;
        pc.set_remote_description(offer)
            .await
            .map_err(|error| MediaError::InvalidSdp {
                reason: error.to_string(),
            })?;
        let answer = pc.create_answer(None).await.map_err(webrtc_error)?;
        let sdp = answer.sdp.clone();
        Self::remember_mid(handler, &sdp);
        pc.set_local_description(answer)
            .await
            .map_err(webrtc_error)?;
        self.remote_description_set().await?;
        Ok(sdp)
    }

    /// The caller's side of the exchange: the callee's answer.
    pub async fn set_remote_answer(&self, sdp: &str) -> Result<(), MediaError> {
        self.ensure_open()?;
        let description = RTCSessionDescription::answer(sdp.to_owned()).map_err(|error| {
            MediaError::InvalidSdp {
                reason: error.to_string(),
            }
        })?;
        self.shared
            .pc
            .set_remote_description(description)
            .await
            .map_err(|error| MediaError::InvalidSdp {
                reason: error.to_string(),
            })?;
        self.remote_description_set().await
    }

    /// "candidate:..." (with or without "a="); buffered until the remote description is set.
    pub async fn add_remote_candidate(&self, mid: &str, candidate: &str) -> Result<(), MediaError> {
        self.ensure_open()?;
        let line = candidate.trim();
        let line = line.strip_prefix("a=").unwrap_or(line);
        if !line.starts_with("candidate:") || line.split_whitespace().count() < 8 {
            return Err(MediaError::InvalidCandidate {
                reason: format!("not an ICE candidate attribute: {line:?}"),
            });
        }
        let init = RTCIceCandidateInit {
            candidate: line.to_owned(),
            sdp_mid: Some(mid.to_owned()),
            sdp_mline_index: Some(0),
            username_fragment: None,
            url: None,
        };
        let mut remote = self.shared.remote_candidates.lock().await;
        if !remote.description_set {
            remote.waiting.push(init);
            return Ok(());
        }
        drop(remote);
        self.shared
            .pc
            .add_ice_candidate(init)
            .await
            .map_err(|error| MediaError::InvalidCandidate {
                reason: error.to_string(),
            })
    }

    /// Queues DTMF; played once connected, in order; audio paused during each event.
    pub fn send_dtmf(&self, steps: Vec<DialStep>) -> Result<(), MediaError> {
        self.ensure_open()?;
        for step in &steps {
            if let DialStep::Digit(character) = step
                && dtmf::event_code(*character).is_none()
            {
                return Err(DtmfError::InvalidDigit {
                    character: *character,
                }
                .into());
            }
        }
        self.shared.controls().dial_queue.extend(steps);
        Ok(())
    }

    /// Sends silence (keeps RTP flowing).
    pub fn set_muted(&self, muted: bool) {
        self.shared.controls().muted = muted;
    }

    pub fn is_muted(&self) -> bool {
        self.shared.controls().muted
    }

    /// The negotiated codec, once known.
    pub fn codec(&self) -> Option<Codec> {
        self.shared
            .negotiated
            .borrow()
            .as_ref()
            .map(|negotiated| negotiated.codec)
    }

    /// Idempotent; stops tasks, closes the peer connection.
    pub async fn close(&self) {
        if self.shared.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // Awaited after the abort, so that the audio sink has been dropped when `close`
        // returns: a WAV recording is complete then, not some time later.
        for task in self.take_tasks() {
            task.abort();
            let _ = tokio::time::timeout(Duration::from_secs(1), task).await;
        }
        if let Err(error) = self.shared.pc.close().await {
            tracing::debug!(%error, "closing the peer connection");
        }
    }

    fn take_tasks(&self) -> Vec<JoinHandle<()>> {
        self.shared
            .tasks
            .lock()
            .map(|mut tasks| std::mem::take(&mut *tasks))
            .unwrap_or_default()
    }

    fn ensure_open(&self) -> Result<(), MediaError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            Err(MediaError::Closed)
        } else {
            Ok(())
        }
    }

    fn remember_mid(handler: &Handler, sdp: &str) {
        if let (Some(mid), Ok(mut slot)) = (first_mid(sdp), handler.mid.lock()) {
            *slot = mid;
        }
    }

    /// Builds the peer connection with exactly `codecs` registered and our audio track added.
    async fn build(config: &MediaConfig, codecs: &[OfferedCodec]) -> Result<Built, MediaError> {
        let mut media_engine = MediaEngine::default();
        for codec in codecs {
            media_engine
                .register_codec(codec.parameters(), RtpCodecKind::Audio)
                .map_err(webrtc_error)?;
        }
        let registry = register_default_interceptors(Registry::new(), &mut media_engine)
            .map_err(webrtc_error)?;
        let ice_servers = config
            .ice_servers
            .iter()
            .map(|server| RTCIceServer {
                urls: server.urls.clone(),
                username: server.username.clone().unwrap_or_default(),
                credential: server.credential.clone().unwrap_or_default(),
            })
            .collect();
        let policy = if config.relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        };
        let configuration = RTCConfigurationBuilder::new()
            .with_ice_servers(ice_servers)
            .with_ice_transport_policy(policy)
            .build();

        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (tracks_tx, tracks_rx) = mpsc::unbounded_channel();
        let (connected_tx, _) = watch::channel(false);
        let handler = Handler {
            events: events_tx.clone(),
            relay_only: config.relay_only,
            mid: Mutex::new("0".to_owned()),
            seen_candidates: Mutex::new(HashSet::new()),
            connected: connected_tx,
            tracks: tracks_tx,
        };
        let handler = Arc::new(handler);
        let pc = PeerConnectionBuilder::new()
            .with_configuration(configuration)
            .with_setting_engine(setting_engine(config.relay_only))
            .with_media_engine(media_engine)
            .with_interceptor_registry(registry)
            .with_handler(handler.clone() as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec!["0.0.0.0:0"])
            .build()
            .await
            .map_err(webrtc_error)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);

        let first = codecs.first().ok_or(MediaError::NoCommonCodec)?;
        let ssrc: u32 = rand::random();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("linnet-{ssrc:08x}"),
            format!("audio-{ssrc:08x}"),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: first.parameters().rtp_codec,
                ..Default::default()
            }],
        )));
        let sender = match pc.add_track(track.clone() as Arc<dyn TrackLocal>).await {
            Ok(sender) => sender,
            Err(error) => {
                let _ = pc.close().await;
                return Err(webrtc_error(error));
            }
        };
        // webrtc offers only the track's own codec unless told otherwise: list them all
        // (telephone-event included) as the transceiver's preferences.
        let preferences: Vec<RTCRtpCodecParameters> =
            codecs.iter().map(OfferedCodec::parameters).collect();
        let mut preferred = false;
        for transceiver in pc.get_transceivers().await {
            if let Ok(Some(transceiver_sender)) = transceiver.sender().await
                && transceiver_sender.id() == sender.id()
            {
                if let Err(error) = transceiver.set_codec_preferences(preferences.clone()).await {
                    let _ = pc.close().await;
                    return Err(webrtc_error(error));
                }
                preferred = true;
            }
        }
        if !preferred {
            let _ = pc.close().await;
            return Err(MediaError::Webrtc {
                reason: "the audio transceiver is missing".to_owned(),
            });
        }
        let (negotiated, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            pc,
            sender,
            events: events_tx,
            controls: Mutex::new(Controls::default()),
            remote_candidates: tokio::sync::Mutex::new(RemoteCandidates::default()),
            negotiated,
            closed: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
        });
        Ok(Built {
            shared,
            handler,
            track,
            ssrc,
            events: events_rx,
            tracks: tracks_rx,
        })
    }

    /// After the remote description: read what was negotiated and let the waiting candidates in.
    async fn remote_description_set(&self) -> Result<(), MediaError> {
        let negotiated = self.read_negotiated().await?;
        tracing::debug!(?negotiated, "negotiated");
        self.shared.negotiated.send_replace(Some(negotiated));
        let waiting = {
            let mut remote = self.shared.remote_candidates.lock().await;
            remote.description_set = true;
            std::mem::take(&mut remote.waiting)
        };
        for candidate in waiting {
            if let Err(error) = self.shared.pc.add_ice_candidate(candidate).await {
                tracing::debug!(%error, "remote candidate rejected");
            }
        }
        Ok(())
    }

    async fn read_negotiated(&self) -> Result<Negotiated, MediaError> {
        let parameters = self
            .shared
            .sender
            .get_parameters()
            .await
            .map_err(webrtc_error)?;
        let codecs = &parameters.rtp_parameters.codecs;
        let name_of = |c: &RTCRtpCodecParameters| {
            let mime = &c.rtp_codec.mime_type;
            mime.split_once('/')
                .map(|(_, name)| name.to_owned())
                .unwrap_or_else(|| mime.clone())
        };
        let (codec, payload_type) = codecs
            .iter()
            .find_map(|c| {
                Codec::from_rtpmap(&name_of(c), c.rtp_codec.clock_rate)
                    .map(|codec| (codec, c.payload_type))
            })
            .ok_or(MediaError::NoCommonCodec)?;
        let is_event = |c: &&RTCRtpCodecParameters| {
            c.rtp_codec
                .mime_type
                .eq_ignore_ascii_case(TELEPHONE_EVENT_MIME)
        };
        let dtmf_payload_type = codecs
            .iter()
            .filter(is_event)
            .find(|c| c.rtp_codec.clock_rate == codec.rtp_clock_rate())
            .or_else(|| codecs.iter().find(is_event))
            .map(|c| c.payload_type);
        let mut incoming = HashMap::new();
        // The static payload types mean the same everywhere (RFC 3551).
        incoming.insert(0, Incoming::Audio(Codec::Pcmu));
        incoming.insert(9, Incoming::Audio(Codec::G722));
        for c in codecs {
            if is_event(&c) {
                incoming.insert(c.payload_type, Incoming::TelephoneEvent);
            } else if let Some(codec) = Codec::from_rtpmap(&name_of(c), c.rtp_codec.clock_rate) {
                incoming.insert(c.payload_type, Incoming::Audio(codec));
            }
        }
        Ok(Negotiated {
            codec,
            payload_type,
            dtmf_payload_type,
            incoming,
        })
    }

    fn start_tasks(&self, source: Box<dyn AudioSource>, sink: Box<dyn AudioSink>, built: Built) {
        let sending = tokio::spawn(send_loop(
            self.shared.clone(),
            built.handler.connected.subscribe(),
            built.track,
            built.ssrc,
            source,
        ));
        let receiving = tokio::spawn(receive_loop(self.shared.clone(), built.tracks, sink));
        if let Ok(mut tasks) = self.shared.tasks.lock() {
            tasks.push(sending);
            tasks.push(receiving);
        }
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        if self.shared.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        for task in self.take_tasks() {
            task.abort();
        }
        // Closing needs the runtime; without one the connection goes with the process.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let pc = self.shared.pc.clone();
            runtime.spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

/// Waits until `watch` holds a value that `ready` accepts; false if the sender is gone.
async fn wait_for<T>(watch: &mut watch::Receiver<T>, ready: impl Fn(&T) -> bool) -> bool {
    watch.wait_for(|value| ready(value)).await.is_ok()
}

/// Paces outgoing audio: every 20 ms one frame from the source (silence when muted or ended),
/// encoded and sent; queued DTMF interrupts the audio, one event at a time.
async fn send_loop(
    shared: Arc<Shared>,
    mut connected: watch::Receiver<bool>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    mut source: Box<dyn AudioSource>,
) {
    let mut negotiated_rx = shared.negotiated.subscribe();
    if !wait_for(&mut connected, |up| *up).await
        || !wait_for(&mut negotiated_rx, Option::is_some).await
    {
        return;
    }
    let Some(negotiated) = negotiated_rx.borrow().clone() else {
        return;
    };
    let mut encoder = match Encoder::new(negotiated.codec) {
        Ok(encoder) => encoder,
        Err(error) => {
            shared.emit(MediaEvent::Failed {
                reason: error.to_string(),
            });
            return;
        }
    };
    let mut rtp = RtpWriter {
        track,
        ssrc,
        sequence_number: rand::random(),
        timestamp: rand::random(),
        step: negotiated.codec.timestamp_step(),
        clock_rate: negotiated.codec.rtp_clock_rate(),
    };
    let mut ticker = tokio::time::interval(FRAME_INTERVAL);
    // After a stall, send the frames that fell behind rather than stretching the stream.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut frame = vec![0_i16; FRAME_SAMPLES];
    let mut source_ended = false;
    let mut first_packet = true;
    // DTMF waits until this instant (the gap after a digit, or a ',' pause).
    let mut dial_resumes_at = Instant::now();
    let mut dialing = false;
    loop {
        ticker.tick().await;
        if shared.closed.load(Ordering::SeqCst) {
            return;
        }
        if Instant::now() >= dial_resumes_at {
            let step = shared.controls().dial_queue.pop_front();
            match step {
                Some(DialStep::Digit(digit)) => {
                    dialing = true;
                    let Some(payload_type) = negotiated.dtmf_payload_type else {
                        tracing::warn!(%digit, "the peer takes no telephone-event: digit dropped");
                        continue;
                    };
                    if let Err(error) = play_digit(
                        &shared,
                        &mut rtp,
                        &mut ticker,
                        &mut source,
                        payload_type,
                        digit,
                    )
                    .await
                    {
                        tracing::warn!(%error, %digit, "DTMF not sent");
                    }
                    shared.emit(MediaEvent::DtmfSent(digit));
                    dial_resumes_at = Instant::now() + dtmf::INTER_DIGIT_GAP;
                    // The digit took this tick's slot.
                    continue;
                }
                Some(DialStep::Pause(pause)) => {
                    dialing = true;
                    dial_resumes_at = Instant::now() + pause;
                }
                None if dialing => {
                    dialing = false;
                    shared.emit(MediaEvent::DialDone);
                }
                None => {}
            }
        }
        if !source_ended && !source.read_frame(&mut frame) {
            source_ended = true;
        }
        if source_ended || shared.controls().muted {
            frame.fill(0);
        }
        let payload = match encoder.encode(&frame) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(%error, "frame not encoded");
                rtp.advance(1);
                continue;
            }
        };
        // The marker bit starts the first talk spurt.
        if rtp
            .send(
                negotiated.payload_type,
                first_packet,
                rtp.timestamp,
                payload,
            )
            .await
            .is_err()
        {
            return;
        }
        first_packet = false;
        rtp.advance(1);
    }
}

/// Sends one RTP packet after another on our audio SSRC.
struct RtpWriter {
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    sequence_number: u16,
    timestamp: u32,
    /// Timestamp ticks per 20 ms frame.
    step: u32,
    clock_rate: u32,
}

impl RtpWriter {
    async fn send(
        &mut self,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: Vec<u8>,
    ) -> Result<(), MediaError> {
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                marker,
                payload_type,
                sequence_number: self.sequence_number,
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::from(payload),
        };
        self.sequence_number = self.sequence_number.wrapping_add(1);
        self.track.write_rtp(packet).await.map_err(webrtc_error)
    }

    fn advance(&mut self, frames: u32) {
        self.timestamp = self.timestamp.wrapping_add(self.step.wrapping_mul(frames));
    }
}

/// One RFC 4733 event: the start packet with the marker bit, an update every 20 ms, all with
/// the event's timestamp, then the end packet three times with new sequence numbers. The
/// source keeps being read (a live microphone does not wait) but its audio is not sent.
async fn play_digit(
    shared: &Shared,
    rtp: &mut RtpWriter,
    ticker: &mut tokio::time::Interval,
    source: &mut Box<dyn AudioSource>,
    payload_type: u8,
    digit: char,
) -> Result<(), MediaError> {
    let packets = dtmf::digit_packets(digit, dtmf::TONE_DURATION, rtp.clock_rate)?;
    let event_timestamp = rtp.timestamp;
    let mut discard = vec![0_i16; FRAME_SAMPLES];
    let mut frames = 0_u32;
    for (index, packet) in packets.iter().enumerate() {
        // One packet per 20 ms; the end packet's repeats go right after it.
        let repeat = index > 0 && packets.get(index - 1).is_some_and(|p| p.payload.end);
        if !repeat {
            if index > 0 {
                ticker.tick().await;
            }
            source.read_frame(&mut discard);
            frames += 1;
        }
        if shared.closed.load(Ordering::SeqCst) {
            return Err(MediaError::Closed);
        }
        rtp.send(
            payload_type,
            packet.marker,
            event_timestamp,
            packet.payload.to_bytes().to_vec(),
        )
        .await?;
    }
    // Audio resumes after the event's duration.
    rtp.advance(frames);
    Ok(())
}

/// Decodes what arrives on the remote track(s) into the sink, and telephone-events into
/// digits.
async fn receive_loop(
    shared: Arc<Shared>,
    mut tracks: mpsc::UnboundedReceiver<Arc<dyn TrackRemote>>,
    sink: Box<dyn AudioSink>,
) {
    let mut receiver = AudioReceiver {
        shared: shared.clone(),
        sink,
        decoders: HashMap::new(),
        pending: Vec::new(),
        dtmf: DtmfReceiver::new(),
        heard_audio: false,
    };
    let mut negotiated_rx = shared.negotiated.subscribe();
    // One audio m-line: one remote track at a time (a new one replaces the old).
    while let Some(track) = tracks.recv().await {
        if !wait_for(&mut negotiated_rx, Option::is_some).await {
            return;
        }
        let Some(negotiated) = negotiated_rx.borrow().clone() else {
            return;
        };
        while let Some(event) = track.poll().await {
            match event {
                TrackRemoteEvent::OnRtpPacket(packet) => receiver.on_packet(&negotiated, &packet),
                TrackRemoteEvent::OnEnded => break,
                _ => {}
            }
        }
    }
}

struct AudioReceiver {
    shared: Arc<Shared>,
    sink: Box<dyn AudioSink>,
    decoders: HashMap<Codec, Decoder>,
    /// Decoded samples not yet making a whole frame (a peer may send 10 or 60 ms packets).
    pending: Vec<i16>,
    dtmf: DtmfReceiver,
    heard_audio: bool,
}

impl AudioReceiver {
    fn on_packet(&mut self, negotiated: &Negotiated, packet: &rtp::Packet) {
        let payload_type = packet.header.payload_type;
        match negotiated.incoming.get(&payload_type) {
            Some(Incoming::TelephoneEvent) => {
                match self
                    .dtmf
                    .on_packet(packet.header.timestamp, &packet.payload)
                {
                    Ok(Some(digit)) => self.shared.emit(MediaEvent::DtmfReceived(digit)),
                    Ok(None) => {}
                    Err(error) => tracing::debug!(%error, "telephone-event ignored"),
                }
            }
            Some(Incoming::Audio(codec)) => self.on_audio(*codec, &packet.payload),
            None => tracing::trace!(payload_type, "unknown payload type ignored"),
        }
    }

    fn on_audio(&mut self, codec: Codec, payload: &[u8]) {
        let decoder = match self.decoders.entry(codec) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => match Decoder::new(codec) {
                Ok(decoder) => entry.insert(decoder),
                Err(error) => {
                    tracing::warn!(%error, "no decoder");
                    return;
                }
            },
        };
        match decoder.decode(payload) {
            Ok(samples) => self.pending.extend(samples),
            Err(error) => {
                tracing::debug!(%error, "payload not decoded");
                return;
            }
        }
        while self.pending.len() >= FRAME_SAMPLES {
            let rest = self.pending.split_off(FRAME_SAMPLES);
            self.sink.write_frame(&self.pending);
            self.pending = rest;
            if !self.heard_audio {
                self.heard_audio = true;
                self.shared.emit(MediaEvent::FirstAudio);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    const GATEWAY_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 0 9 101 96\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n\
        a=rtpmap:96 telephone-event/48000\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";

    #[test]
    fn session_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MediaSession>();
    }

    #[test]
    fn answer_prefers_g722_then_pcmu_with_the_matching_telephone_event() {
        let codecs = answer_codecs(GATEWAY_OFFER).unwrap();
        assert_eq!(codecs.len(), 2);
        assert_eq!(
            (codecs[0].name.as_str(), codecs[0].payload_type),
            ("G722", 9)
        );
        assert_eq!(
            (
                codecs[1].payload_type,
                codecs[1].clock_rate,
                codecs[1].fmtp.as_str()
            ),
            (101, 8000, "0-16")
        );
        // Without G.722: PCMU. Static payload types need no rtpmap.
        let pcmu_only = "v=0\r\nm=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        let codecs = answer_codecs(pcmu_only).unwrap();
        assert_eq!(
            (codecs[0].name.as_str(), codecs[0].payload_type),
            ("PCMU", 0)
        );
        assert_eq!(codecs[1].payload_type, 101);
        // Opus wins when offered, with the 48 kHz telephone-event only.
        let xmpp = "m=audio 9 UDP/TLS/RTP/SAVPF 0 120 110 126\r\na=rtpmap:120 OPUS/48000/2\r\n\
            a=fmtp:120 useinbandfec=1\r\na=rtpmap:110 telephone-event/8000\r\n\
            a=rtpmap:126 telephone-event/48000\r\n";
        let codecs = answer_codecs(xmpp).unwrap();
        assert_eq!(codecs.len(), 2);
        assert_eq!(
            (
                codecs[0].payload_type,
                codecs[0].channels,
                codecs[0].fmtp.as_str()
            ),
            (120, 2, "useinbandfec=1")
        );
        assert_eq!(
            (codecs[1].payload_type, codecs[1].clock_rate),
            (126, 48_000)
        );
        // No telephone-event at the codec's rate: none at all.
        let codecs =
            answer_codecs("m=audio 9 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/48000\r\n")
                .unwrap();
        assert_eq!(codecs.len(), 1);
    }

    #[test]
    fn bad_offers_are_typed_errors() {
        assert!(matches!(
            answer_codecs(""),
            Err(MediaError::InvalidSdp { .. })
        ));
        assert!(matches!(
            answer_codecs("m=audio 9 RTP/AVP\r\n"),
            Err(MediaError::InvalidSdp { .. })
        ));
        assert!(matches!(
            answer_codecs("m=audio 9 RTP/AVP 300\r\n"),
            Err(MediaError::InvalidSdp { .. })
        ));
        assert!(matches!(
            answer_codecs("m=audio 9 RTP/AVP 96\r\na=rtpmap:96 opus\r\n"),
            Err(MediaError::InvalidSdp { .. })
        ));
        assert!(matches!(
            answer_codecs("m=audio 9 RTP/AVP 8 96\r\na=rtpmap:96 speex/16000\r\n"),
            Err(MediaError::NoCommonCodec)
        ));
    }

    #[test]
    fn relay_candidates_hide_the_related_address() {
        assert_eq!(
            hide_related_address(
                "candidate:1 1 udp 16777215 198.51.100.7 50000 typ relay raddr 192.0.2.2 rport 44005"
            ),
            "candidate:1 1 udp 16777215 198.51.100.7 50000 typ relay raddr 0.0.0.0 rport 0"
        );
        assert_eq!(
            hide_related_address("candidate:1 1 udp 1 10.0.0.1 5 typ host"),
            "candidate:1 1 udp 1 10.0.0.1 5 typ host"
        );
    }

    #[test]
    fn our_offers_carry_one_telephone_event_at_the_codec_rate() {
        let xmpp = offer_codecs(CodecProfile::Xmpp);
        assert_eq!(
            xmpp.iter()
                .map(|c| (c.name.as_str(), c.clock_rate))
                .collect::<Vec<_>>(),
            [("opus", 48_000), ("telephone-event", 48_000)]
        );
        let phone = offer_codecs(CodecProfile::Phone);
        assert_eq!(
            phone
                .iter()
                .map(|c| (c.name.as_str(), c.payload_type))
                .collect::<Vec<_>>(),
            [("PCMU", 0), ("G722", 9), ("telephone-event", 101)]
        );
        assert_eq!(phone[2].clock_rate, 8000);
    }
}
