//! Voice calls: Jingle Message Initiation (XEP-0353) to ring every device, a Jingle RTP session
//! (XEP-0166/0167) over ICE-UDP (XEP-0176) with DTLS-SRTP (XEP-0320) for the media, and the
//! call state machine between them.
//!
//! Outgoing: `propose` to the peer's bare JID (all their devices ring) while our media gathers;
//! the first device that answers `proceed` gets the `session-initiate`; its `session-accept`
//! carries the answer. A phone gateway proceeds at once while the phone still rings, so a call
//! through one stays `Ringing` until the `session-accept`. Incoming: a `propose` from a contact
//! rings (a stranger's is logged silently, nothing is sent back); answering sends `proceed`, and
//! the caller's `session-initiate` is answered with our media. Carbons of our own `proceed` /
//! `reject` (or a legacy `accept` to our bare JID) stop the ringing on our other devices.
//!
//! Every call is in the store's call log from its first ring to its end and the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use linnet_calls::audio::{AudioSink, AudioSource};
use linnet_calls::dtmf::{self, DialStep};
use linnet_calls::media::{CodecProfile, IceServer, MediaConfig, MediaEvent, MediaSession};
use linnet_calls::sdp::{self, SdpRole};
use linnet_store::{CallEndReason, CallRecord, Direction, NewCall};
use linnet_xmpp::chat::ChatEvent;
use linnet_xmpp::jingle::{Action, Content, Jingle, Reason, ReasonKind, SessionInfo};
use linnet_xmpp::jingle_grouping::Group;
use linnet_xmpp::jingle_ice_udp::{Candidate, CandidateType, IceUdpTransport, MAX_CANDIDATES};
use linnet_xmpp::jingle_message::JingleMessage;
use linnet_xmpp::session::SessionHandle;
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};
use linnet_xmpp::{BareJid, Element, Jid, external_services, gateway, ns};

use super::{Client, ClientEvent, lock, now_ms};
use crate::account::normalise_jid;
use crate::error::LinnetError;

/// Tunables of calls.
#[derive(Debug, Clone)]
pub struct CallsConfig {
    /// An outgoing call nobody answers is cancelled after this long (`no_answer`); an incoming
    /// one stops ringing (`missed`).
    pub ring_timeout: Duration,
    /// From the answer to connected media: longer, and the call fails (`connectivity_failed`).
    pub connect_timeout: Duration,
    /// A connected call whose media stays disconnected this long ends (`network_lost`).
    pub media_loss_grace: Duration,
    /// How long STUN/TURN services (XEP-0215) are reused before asking again (their TURN
    /// credentials expire).
    pub ice_servers_ttl: Duration,
    /// The phone gateway to call numbers through; discovered when `None`.
    pub phone_gateway: Option<String>,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            ring_timeout: Duration::from_secs(45),
            connect_timeout: Duration::from_secs(30),
            media_loss_grace: Duration::from_secs(10),
            ice_servers_ttl: Duration::from_secs(300),
            phone_gateway: None,
        }
    }
}

/// The microphone and the speaker of a call: 20 ms frames of 48 kHz mono PCM.
pub struct AudioIo {
    pub source: Box<dyn AudioSource>,
    pub sink: Box<dyn AudioSink>,
}

/// Where a call stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// Outgoing: the invitation is out, no device has rung yet.
    Calling,
    /// Outgoing: a device of the peer (or the phone behind a gateway) is ringing.
    Ringing,
    /// Incoming: ringing here, waiting for the user.
    Incoming,
    /// Answered; the media is being set up.
    Connecting,
    /// Media flows since `since_ms` (Unix ms).
    Connected {
        since_ms: i64,
    },
    Ended {
        reason: CallEndReason,
    },
}

impl CallState {
    pub fn is_ended(&self) -> bool {
        matches!(self, CallState::Ended { .. })
    }
}

/// A call moved on: its whole current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallUpdate {
    /// The call's id (the Jingle session id).
    pub id: String,
    /// Its entry in the call log.
    pub record_id: i64,
    /// The other party's bare JID (for a phone call, the number's JID at the gateway).
    pub peer: String,
    pub direction: Direction,
    pub phone_number: Option<String>,
    pub state: CallState,
    pub muted: bool,
    /// The DTMF digits sent so far, in order.
    pub digits_sent: String,
}

/// What happened in a call's media, beside its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallMediaEvent {
    /// The first frame of the peer's audio reached the speaker.
    FirstAudio,
    /// The peer pressed a key (RFC 4733).
    Dtmf(char),
}

/// What a call negotiated, for testers' diagnostics (no addresses: only kinds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallDiagnostics {
    /// The audio codec in use, once the media connected.
    pub codec: Option<String>,
    /// The kinds (`host`, `srflx`, `relay`, ...) of the candidates we sent, in order.
    pub local_candidates: Vec<String>,
    /// The kinds of the candidates the peer sent.
    pub remote_candidates: Vec<String>,
}

/// The calls of a client, by id.
#[derive(Default)]
pub(super) struct Calls {
    map: HashMap<String, Call>,
    /// The diagnostics of the call that ended last.
    last_ended: Option<(String, CallDiagnostics)>,
    ice_servers: Option<(Vec<IceServer>, Instant)>,
    /// The phone gateway, once discovered.
    gateway: Option<BareJid>,
}

struct Call {
    record_id: i64,
    peer: BareJid,
    /// The device we talk to: the one that proceeded (outgoing) or proposed / initiated
    /// (incoming). Jingle stanzas for this call from anyone else are refused.
    device: Option<Jid>,
    direction: Direction,
    phone_number: Option<String>,
    state: CallState,
    muted: bool,
    digits_sent: String,
    /// Whether the call started with JMI (then it ends with a `finish` too).
    via_jmi: bool,
    profile: CodecProfile,
    relay_only: bool,
    media: Option<Arc<MediaSession>>,
    /// Incoming: the microphone and speaker handed to `answer_call`, until the media starts.
    audio: Option<AudioIo>,
    /// Incoming: the caller's session-initiate, until we answer it.
    offer: Option<Jingle>,
    /// Outgoing: our offer, sent in the session-initiate once a device proceeds.
    local_offer: Option<(Vec<Content>, Option<Group>)>,
    /// Our candidates gathered before the session-initiate / session-accept could carry them.
    unsent_candidates: Vec<(String, Candidate)>,
    /// Our ICE username fragment and password, repeated in every transport-info.
    local_credentials: Option<(String, String)>,
    /// Their candidates that came before our media existed (incoming, before the answer).
    early_candidates: Vec<(String, String)>,
    /// Our session-initiate (outgoing) or session-accept (incoming) is out: candidates now
    /// trickle in transport-info.
    signalled: bool,
    /// Outgoing: their session-accept was applied.
    accepted: bool,
    /// Digits to send once connected (a dial string's tail).
    dial: Vec<DialStep>,
    /// Media lost since then (a connected call ends after the grace period).
    media_lost_at: Option<Instant>,
    diagnostics: CallDiagnostics,
}

impl Call {
    fn update(&self, id: &str) -> CallUpdate {
        CallUpdate {
            id: id.to_string(),
            record_id: self.record_id,
            peer: self.peer.to_string(),
            direction: self.direction,
            phone_number: self.phone_number.clone(),
            state: self.state.clone(),
            muted: self.muted,
            digits_sent: self.digits_sent.clone(),
        }
    }

    fn is_connected(&self) -> bool {
        matches!(self.state, CallState::Connected { .. })
    }
}

/// Who to call: a JID, or a number through the phone gateway.
struct CallTarget {
    peer: BareJid,
    phone_number: Option<String>,
    dial: Vec<DialStep>,
    profile: CodecProfile,
}

fn media_error(e: impl std::fmt::Display) -> LinnetError {
    LinnetError::CallMedia {
        reason: e.to_string(),
    }
}

fn reason(kind: ReasonKind) -> Option<Reason> {
    Some(Reason { kind, text: None })
}

fn jingle_iq(to: &Jid, id: String, jingle: &Jingle) -> Iq {
    Iq::Set {
        from: None,
        to: Some(to.clone()),
        id,
        payload: jingle.to_element(),
    }
}

/// The `<unknown-session/>` error (XEP-0166 §7.2) for Jingle IQs about no session of ours.
fn unknown_session(to: Option<Jid>, id: String) -> Iq {
    let mut error = StanzaError::new(
        ErrorType::Cancel,
        DefinedCondition::ItemNotFound,
        "en",
        "unknown session",
    );
    error.other = Some(Element::builder("unknown-session", ns::JINGLE_ERRORS).build());
    Iq::Error {
        from: None,
        to,
        id,
        error,
        payload: None,
    }
}

fn bad_request(to: Option<Jid>, id: String, text: &str) -> Iq {
    Iq::Error {
        from: None,
        to,
        id,
        error: StanzaError::new(ErrorType::Modify, DefinedCondition::BadRequest, "en", text),
        payload: None,
    }
}

impl Client {
    /// Active calls (ringing, connecting or connected).
    pub fn active_calls(&self) -> Vec<CallUpdate> {
        let calls = lock(&self.inner.calls);
        calls.map.iter().map(|(id, c)| c.update(id)).collect()
    }

    /// What call `id` negotiated (while it runs, and for the call that ended last).
    pub fn call_diagnostics(&self, id: &str) -> Option<CallDiagnostics> {
        let calls = lock(&self.inner.calls);
        if let Some(call) = calls.map.get(id) {
            return Some(call.diagnostics.clone());
        }
        calls
            .last_ended
            .as_ref()
            .filter(|(ended, _)| ended == id)
            .map(|(_, d)| d.clone())
    }

    /// The newest `limit` entries of the call log, newest first.
    pub fn call_log(&self, limit: u32) -> Result<Vec<CallRecord>, LinnetError> {
        Ok(self.inner.store.calls(self.inner.account.id, limit)?)
    }

    /// Calls `to`: a JID, or a phone number (`+15551234567`, optionally followed by a dial
    /// string: `,` pauses 2 s, digits are sent as DTMF once connected) through the account's
    /// phone gateway. Returns the call's id at once; `ClientEvent::Call` follows its progress.
    pub async fn place_call(&self, to: &str, audio: AudioIo) -> Result<String, LinnetError> {
        let handle = self.require_session()?;
        let target = self.call_target(&handle, to).await?;
        if !lock(&self.inner.calls).map.is_empty() {
            return Err(LinnetError::CallInProgress);
        }
        let relay_only = self.preferences()?.relay_only_calls;
        let ice_servers = self.ice_servers(&handle, relay_only).await?;
        let config = MediaConfig {
            ice_servers,
            relay_only,
            profile: target.profile,
        };
        let (media, offer, events) = MediaSession::offer(config, audio.source, audio.sink)
            .await
            .map_err(media_error)?;
        let (contents, group) = match sdp::sdp_to_jingle(&offer, SdpRole::Offer) {
            Ok(jingle) => jingle,
            Err(e) => {
                media.close().await;
                return Err(media_error(e));
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        let record_id = self.inner.store.insert_call(&NewCall {
            account_id: self.inner.account.id,
            session_id: id.clone(),
            peer: target.peer.to_string(),
            direction: Direction::Outgoing,
            phone_number: target.phone_number.clone(),
            started_at: now_ms(),
            silent: false,
        })?;
        let local_credentials = credentials_of(&contents);
        let call = Call {
            record_id,
            peer: target.peer.clone(),
            device: None,
            direction: Direction::Outgoing,
            phone_number: target.phone_number,
            state: CallState::Calling,
            muted: false,
            digits_sent: String::new(),
            via_jmi: true,
            profile: target.profile,
            relay_only,
            media: Some(Arc::new(media)),
            audio: None,
            offer: None,
            local_offer: Some((contents, group)),
            local_credentials,
            unsent_candidates: Vec::new(),
            early_candidates: Vec::new(),
            signalled: false,
            accepted: false,
            dial: target.dial,
            media_lost_at: None,
            diagnostics: CallDiagnostics::default(),
        };
        let update = call.update(&id);
        {
            let mut calls = lock(&self.inner.calls);
            if !calls.map.is_empty() {
                drop(calls);
                Self::discard_media(call.media);
                self.inner
                    .store
                    .end_call(record_id, CallEndReason::Failed, now_ms())?;
                return Err(LinnetError::CallInProgress);
            }
            calls.map.insert(id.clone(), call);
        }
        self.spawn_media_events(&id, events);
        let propose = JingleMessage::Propose {
            id: id.clone(),
            media: vec!["audio".to_string()],
        };
        if let Err(e) = handle.send(
            &propose.to_message(&Jid::from(target.peer), &handle.new_id()),
            None,
        ) {
            self.end_call(&id, CallEndReason::Failed);
            return Err(e.into());
        }
        self.emit(ClientEvent::Call(update));
        self.after(self.inner.config.calls.ring_timeout, &id, |client, id| {
            client.ring_timed_out(id)
        });
        Ok(id)
    }

    /// Answers a ringing incoming call.
    pub fn answer_call(&self, id: &str, audio: AudioIo) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let (device, via_jmi, has_offer, update) = {
            let mut calls = lock(&self.inner.calls);
            let call = calls.map.get_mut(id).ok_or_else(|| no_such_call(id))?;
            if call.state != CallState::Incoming {
                return Err(LinnetError::CallNotRinging { id: id.to_string() });
            }
            call.state = CallState::Connecting;
            call.audio = Some(audio);
            (
                call.device.clone(),
                call.via_jmi,
                call.offer.is_some(),
                call.update(id),
            )
        };
        let device = device.ok_or_else(|| no_such_call(id))?;
        self.inner.store.call_answered(update.record_id, now_ms())?;
        if via_jmi && !has_offer {
            let proceed = JingleMessage::Proceed { id: id.to_string() };
            handle.send(&proceed.to_message(&device, &handle.new_id()), None)?;
        }
        self.emit(ClientEvent::Call(update));
        if has_offer {
            self.spawn_answer(id);
        }
        self.after(self.inner.config.calls.connect_timeout, id, |client, id| {
            client.connect_timed_out(id)
        });
        Ok(())
    }

    /// Declines a ringing incoming call (the caller sees it declined; our other devices stop
    /// ringing).
    pub fn decline_call(&self, id: &str) -> Result<(), LinnetError> {
        let (device, via_jmi) = {
            let calls = lock(&self.inner.calls);
            let call = calls.map.get(id).ok_or_else(|| no_such_call(id))?;
            if call.state != CallState::Incoming {
                return Err(LinnetError::CallNotRinging { id: id.to_string() });
            }
            (call.device.clone(), call.via_jmi)
        };
        self.end_call(id, CallEndReason::Declined);
        if let (Some(handle), Some(device)) = (self.session(), device) {
            if via_jmi {
                let reject = JingleMessage::Reject {
                    id: id.to_string(),
                    reason: reason(ReasonKind::Decline),
                    tie_break: false,
                };
                let _ = handle.send(&reject.to_message(&device, &handle.new_id()), None);
            } else {
                self.send_terminate(&handle, id, &device, ReasonKind::Decline);
            }
        }
        Ok(())
    }

    /// Ends a call: cancels it while it rings, declines it if it rings here, hangs up otherwise.
    pub fn hang_up(&self, id: &str) -> Result<(), LinnetError> {
        self.hang_up_because(id, None)
    }

    /// `hang_up`, logged with `unanswered` (instead of `cancelled`) when nobody had answered.
    fn hang_up_because(
        &self,
        id: &str,
        unanswered: Option<CallEndReason>,
    ) -> Result<(), LinnetError> {
        let (state, device, peer, via_jmi, accepted, direction) = {
            let calls = lock(&self.inner.calls);
            let call = calls.map.get(id).ok_or_else(|| no_such_call(id))?;
            (
                call.state.clone(),
                call.device.clone(),
                call.peer.clone(),
                call.via_jmi,
                call.accepted,
                call.direction,
            )
        };
        if state == CallState::Incoming {
            return self.decline_call(id);
        }
        let handle = self.session();
        let reason = match (&state, direction) {
            (CallState::Connected { .. }, _) => CallEndReason::HungUp,
            (_, Direction::Incoming) => CallEndReason::HungUp,
            _ if accepted => CallEndReason::HungUp,
            _ => unanswered.unwrap_or(CallEndReason::Cancelled),
        };
        // Ended here first: the peer's answer (its `finish`) must find nothing left to end.
        self.end_call(id, reason);
        if let Some(handle) = handle {
            match &device {
                // Nobody proceeded yet: take the invitation back from every device.
                None => {
                    let retract = JingleMessage::Retract {
                        id: id.to_string(),
                        reason: reason_for_retract(),
                        tie_break: false,
                    };
                    let _ = handle.send(
                        &retract.to_message(&Jid::from(peer), &handle.new_id()),
                        None,
                    );
                }
                Some(device) => {
                    let kind = if reason != CallEndReason::HungUp {
                        ReasonKind::Cancel
                    } else {
                        ReasonKind::Success
                    };
                    self.send_terminate(&handle, id, device, kind);
                    if via_jmi {
                        self.send_finish(&handle, id, device, kind);
                    }
                }
            }
        }
        Ok(())
    }

    /// Sends DTMF digits (`0-9`, `*`, `#`, `A-D`; `,` pauses 2 s) in a connected call.
    pub fn send_dtmf(&self, id: &str, digits: &str) -> Result<(), LinnetError> {
        let steps = dtmf::parse_digits(digits).map_err(|e| LinnetError::InvalidDigits {
            reason: e.to_string(),
        })?;
        let media = {
            let calls = lock(&self.inner.calls);
            let call = calls.map.get(id).ok_or_else(|| no_such_call(id))?;
            call.media.clone()
        };
        let media = media.ok_or_else(|| LinnetError::CallNotConnected { id: id.to_string() })?;
        media.send_dtmf(steps).map_err(media_error)
    }

    /// Mutes (the peer hears silence) or unmutes our microphone.
    pub fn set_call_muted(&self, id: &str, muted: bool) -> Result<(), LinnetError> {
        let update = {
            let mut calls = lock(&self.inner.calls);
            let call = calls.map.get_mut(id).ok_or_else(|| no_such_call(id))?;
            call.muted = muted;
            if let Some(media) = &call.media {
                media.set_muted(muted);
            }
            call.update(id)
        };
        self.emit(ClientEvent::Call(update));
        Ok(())
    }

    /// The phone gateway calls to numbers go through: configured, or discovered among the
    /// server's services and the roster's service addresses (identity `gateway/pstn`).
    pub async fn phone_gateway(&self) -> Result<Option<String>, LinnetError> {
        let handle = self.require_session()?;
        Ok(self.find_gateway(&handle).await?.map(|g| g.to_string()))
    }

    async fn find_gateway(&self, handle: &SessionHandle) -> Result<Option<BareJid>, LinnetError> {
        if let Some(configured) = &self.inner.config.calls.phone_gateway {
            return Ok(Some(normalise_jid(configured)?));
        }
        if let Some(known) = lock(&self.inner.calls).gateway.clone() {
            return Ok(Some(known));
        }
        let services: Vec<BareJid> = self
            .roster()?
            .into_iter()
            .filter_map(|c| BareJid::new(&c.jid).ok())
            .filter(|j| j.node().is_none())
            .collect();
        let found = gateway::discover(
            handle,
            Jid::from(self.inner.own.domain().to_owned()),
            &services,
        )
        .await?;
        if let Some(found) = &found {
            lock(&self.inner.calls).gateway = Some(found.clone());
        }
        Ok(found)
    }

    async fn call_target(
        &self,
        handle: &SessionHandle,
        to: &str,
    ) -> Result<CallTarget, LinnetError> {
        let starts_like_number = to
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c == '+' || c.is_ascii_digit());
        if starts_like_number && !to.contains('@') {
            let (number, dial) =
                dtmf::parse_dial_string(to).map_err(|e| LinnetError::InvalidAddress {
                    input: format!("{to}: {e}"),
                })?;
            let gateway = self
                .find_gateway(handle)
                .await?
                .ok_or(LinnetError::NoPhoneGateway)?;
            let peer = gateway::number_jid(&gateway, &number).map_err(|e| {
                LinnetError::InvalidAddress {
                    input: format!("{to}: {e}"),
                }
            })?;
            return Ok(CallTarget {
                peer,
                phone_number: Some(number),
                dial,
                profile: CodecProfile::Phone,
            });
        }
        let peer = normalise_jid(to)?;
        let via_gateway = self.is_gateway_address(&peer);
        Ok(CallTarget {
            phone_number: via_gateway
                .then(|| peer.node().map(|n| n.to_string()).unwrap_or_default()),
            profile: if via_gateway {
                CodecProfile::Phone
            } else {
                CodecProfile::Xmpp
            },
            peer,
            dial: Vec::new(),
        })
    }

    /// A number's JID at our phone gateway (once known).
    fn is_gateway_address(&self, jid: &BareJid) -> bool {
        let calls = lock(&self.inner.calls);
        let configured = self
            .inner
            .config
            .calls
            .phone_gateway
            .as_deref()
            .and_then(|g| normalise_jid(g).ok());
        configured
            .or_else(|| calls.gateway.clone())
            .is_some_and(|g| jid.domain() == g.domain() && jid.node().is_some())
    }

    /// Whether `peer` may make this device ring: a roster contact, a number at a gateway that is
    /// in the roster, or at our phone gateway.
    fn may_ring(&self, peer: &BareJid) -> Result<bool, LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        if store.contact(account, peer.as_str())?.is_some() {
            return Ok(true);
        }
        if peer.node().is_some() {
            let domain = peer.domain().as_str();
            if store.contact(account, domain)?.is_some() {
                return Ok(true);
            }
            return Ok(self.is_gateway_address(peer));
        }
        Ok(false)
    }

    /// STUN/TURN services from our server (XEP-0215), reused for `ice_servers_ttl`. Relay-only
    /// calls need a TURN service: without one they fail here rather than leak our address.
    async fn ice_servers(
        &self,
        handle: &SessionHandle,
        relay_only: bool,
    ) -> Result<Vec<IceServer>, LinnetError> {
        let ttl = self.inner.config.calls.ice_servers_ttl;
        let cached = lock(&self.inner.calls)
            .ice_servers
            .as_ref()
            .filter(|(_, at)| at.elapsed() < ttl)
            .map(|(servers, _)| servers.clone());
        let servers = match cached {
            Some(servers) => servers,
            None => {
                let domain = self.inner.own.domain().to_string();
                let request = Iq::Get {
                    from: None,
                    to: Some(Jid::from(self.inner.own.domain().to_owned())),
                    id: handle.new_id(),
                    payload: external_services::request(&domain),
                };
                let services = match handle.iq(request).await {
                    Ok(Some(payload)) => external_services::parse(&payload).unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "unreadable external services");
                        Vec::new()
                    }),
                    Ok(None) => Vec::new(),
                    Err(e) => {
                        tracing::info!(error = %e, "no external services (XEP-0215)");
                        Vec::new()
                    }
                };
                let servers: Vec<IceServer> = services
                    .iter()
                    .filter_map(|s| {
                        Some(IceServer {
                            urls: vec![external_services::ice_url(s)?],
                            username: s.username.clone(),
                            credential: s.password.clone(),
                        })
                    })
                    .collect();
                lock(&self.inner.calls).ice_servers = Some((servers.clone(), Instant::now()));
                servers
            }
        };
        if relay_only
            && !servers
                .iter()
                .any(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
        {
            return Err(LinnetError::NoTurnServer);
        }
        Ok(servers)
    }

    /// A JMI message (XEP-0353) arrived: from the peer, or a carbon of what another of our
    /// devices sent.
    pub(super) fn on_jingle_message(
        &self,
        handle: &SessionHandle,
        event: &ChatEvent,
        message: JingleMessage,
    ) -> Result<(), LinnetError> {
        let from_own_account = event.sender.to_bare() == self.inner.own;
        if event.direction == linnet_xmpp::chat::Direction::Outgoing || from_own_account {
            // Another device of ours acted on a call: the ringing stops here.
            let reason = match message {
                JingleMessage::Proceed { .. } | JingleMessage::Accept { .. } => {
                    CallEndReason::AnsweredElsewhere
                }
                JingleMessage::Reject { .. } => CallEndReason::DeclinedElsewhere,
                _ => return Ok(()),
            };
            let ringing_here = lock(&self.inner.calls)
                .map
                .get(message.id())
                .is_some_and(|c| c.state == CallState::Incoming);
            if ringing_here {
                self.end_call(message.id(), reason);
            }
            return Ok(());
        }
        let from = event.sender.clone();
        let peer = event.peer.clone();
        match message {
            JingleMessage::Propose { id, media } => {
                // A proposal stored while we were offline, older than a ring lasts: the
                // caller gave up long ago (its retract may follow). Missed, without ringing.
                let stale = event.delay_ms.is_some_and(|sent| {
                    now_ms().saturating_sub(sent)
                        > self.inner.config.calls.ring_timeout.as_millis() as i64
                });
                if stale {
                    if self.may_ring(&peer)? && !lock(&self.inner.calls).map.contains_key(&id) {
                        self.log_silent_call(&id, &peer, CallEndReason::Missed)?;
                    }
                    return Ok(());
                }
                self.on_propose(handle, from, peer, id, &media)
            }
            JingleMessage::Ringing { id } => {
                self.with_call_from(&id, &peer, |call| {
                    if call.state == CallState::Calling {
                        call.state = CallState::Ringing;
                        true
                    } else {
                        false
                    }
                });
                Ok(())
            }
            JingleMessage::Proceed { id } => self.on_proceed(handle, &id, from, &peer),
            JingleMessage::Reject { id, reason, .. } => {
                let waiting = lock(&self.inner.calls).map.get(&id).is_some_and(|c| {
                    c.peer == peer
                        && c.direction == Direction::Outgoing
                        && c.device.is_none()
                        && !c.state.is_ended()
                });
                if waiting {
                    let busy = reason.is_some_and(|r| r.kind == ReasonKind::Busy);
                    self.end_call(
                        &id,
                        if busy {
                            CallEndReason::Busy
                        } else {
                            CallEndReason::RemoteDeclined
                        },
                    );
                }
                Ok(())
            }
            JingleMessage::Retract { id, .. } => {
                let ringing = lock(&self.inner.calls).map.get(&id).is_some_and(|c| {
                    c.peer == peer && c.direction == Direction::Incoming && !c.signalled
                });
                if ringing {
                    self.end_call(&id, CallEndReason::Missed);
                }
                Ok(())
            }
            JingleMessage::Finish { id, .. } => {
                let ours = lock(&self.inner.calls)
                    .map
                    .get(&id)
                    .is_some_and(|c| c.device.as_ref() == Some(&from));
                if ours {
                    self.end_call(&id, CallEndReason::RemoteHungUp);
                }
                Ok(())
            }
            JingleMessage::Accept { .. } => Ok(()),
        }
    }

    fn on_propose(
        &self,
        handle: &SessionHandle,
        from: Jid,
        peer: BareJid,
        id: String,
        media: &[String],
    ) -> Result<(), LinnetError> {
        if !media.iter().any(|m| m == "audio") {
            tracing::info!("call proposal without audio ignored");
            return Ok(());
        }
        if lock(&self.inner.calls).map.contains_key(&id) {
            return Ok(());
        }
        if !self.may_ring(&peer)? {
            // Nothing goes back: no ringing, no candidates, no sign that we are here.
            self.log_silent_call(&id, &peer, CallEndReason::Stranger)?;
            return Ok(());
        }
        if !lock(&self.inner.calls).map.is_empty() {
            let reject = JingleMessage::Reject {
                id: id.clone(),
                reason: reason(ReasonKind::Busy),
                tie_break: false,
            };
            handle.send(&reject.to_message(&from, &handle.new_id()), None)?;
            self.log_silent_call(&id, &peer, CallEndReason::Busy)?;
            return Ok(());
        }
        self.ring(&id, from.clone(), peer, true, None)?;
        let ringing = JingleMessage::Ringing { id };
        handle.send(&ringing.to_message(&from, &handle.new_id()), None)?;
        Ok(())
    }

    /// An incoming call starts ringing here.
    fn ring(
        &self,
        id: &str,
        from: Jid,
        peer: BareJid,
        via_jmi: bool,
        offer: Option<Jingle>,
    ) -> Result<(), LinnetError> {
        let via_gateway = self.is_gateway_address(&peer);
        let record_id = self.inner.store.insert_call(&NewCall {
            account_id: self.inner.account.id,
            session_id: id.to_string(),
            peer: peer.to_string(),
            direction: Direction::Incoming,
            phone_number: via_gateway
                .then(|| peer.node().map(|n| n.to_string()).unwrap_or_default()),
            started_at: now_ms(),
            silent: false,
        })?;
        let call = Call {
            record_id,
            phone_number: via_gateway
                .then(|| peer.node().map(|n| n.to_string()).unwrap_or_default()),
            peer,
            device: Some(from),
            direction: Direction::Incoming,
            state: CallState::Incoming,
            muted: false,
            digits_sent: String::new(),
            via_jmi,
            profile: if via_gateway {
                CodecProfile::Phone
            } else {
                CodecProfile::Xmpp
            },
            relay_only: self.preferences()?.relay_only_calls,
            media: None,
            audio: None,
            offer,
            local_offer: None,
            unsent_candidates: Vec::new(),
            early_candidates: Vec::new(),
            local_credentials: None,
            signalled: false,
            accepted: false,
            dial: Vec::new(),
            media_lost_at: None,
            diagnostics: CallDiagnostics::default(),
        };
        let update = call.update(id);
        let mut call = call;
        if let Some(offer) = &call.offer {
            let contents = offer.contents.clone();
            note_remote_candidates(&mut call, &contents);
        }
        lock(&self.inner.calls).map.insert(id.to_string(), call);
        self.emit(ClientEvent::Call(update));
        self.after(self.inner.config.calls.ring_timeout, id, |client, id| {
            client.ring_timed_out(id)
        });
        Ok(())
    }

    /// A call that never rang (a stranger's, one while busy, one proposed while we were
    /// offline): only the log knows.
    fn log_silent_call(
        &self,
        id: &str,
        peer: &BareJid,
        end: CallEndReason,
    ) -> Result<(), LinnetError> {
        let now = now_ms();
        let record_id = self.inner.store.insert_call(&NewCall {
            account_id: self.inner.account.id,
            session_id: id.to_string(),
            peer: peer.to_string(),
            direction: Direction::Incoming,
            phone_number: None,
            started_at: now,
            silent: end == CallEndReason::Stranger,
        })?;
        self.inner.store.end_call(record_id, end, now)?;
        Ok(())
    }

    fn on_proceed(
        &self,
        handle: &SessionHandle,
        id: &str,
        from: Jid,
        peer: &BareJid,
    ) -> Result<(), LinnetError> {
        let (initiate, update) = {
            let mut calls = lock(&self.inner.calls);
            let Some(call) = calls.map.get_mut(id) else {
                return Ok(());
            };
            if call.peer != *peer
                || call.direction != Direction::Outgoing
                || call.device.is_some()
                || call.state.is_ended()
                || from.resource().is_none()
            {
                return Ok(());
            }
            let Some((contents, group)) = call.local_offer.take() else {
                return Ok(());
            };
            call.device = Some(from.clone());
            // A phone gateway proceeds at once; the phone behind it still rings.
            call.state = if call.phone_number.is_some() {
                CallState::Ringing
            } else {
                CallState::Connecting
            };
            call.signalled = true;
            let mut jingle = Jingle::new(Action::SessionInitiate, id.to_string());
            jingle.initiator = Some(handle.info().bound_jid.to_string());
            jingle.contents = contents;
            jingle.group = group;
            add_candidates(
                &mut jingle.contents,
                std::mem::take(&mut call.unsent_candidates),
            );
            (jingle, call.update(id))
        };
        self.emit(ClientEvent::Call(update));
        self.send_jingle(handle, id, &from, &initiate);
        Ok(())
    }

    /// Sends a Jingle IQ in order with the call's others; an error answer ends the call.
    fn send_jingle(&self, handle: &SessionHandle, id: &str, to: &Jid, jingle: &Jingle) {
        let pending = match handle.send_iq(jingle_iq(to, handle.new_id(), jingle)) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(error = %e, "a Jingle request could not be sent");
                return;
            }
        };
        let client = self.clone();
        let id = id.to_string();
        let action = jingle.action;
        tokio::spawn(async move {
            if let Err(e) = pending.answer().await {
                tracing::info!(error = %e, ?action, "the peer refused a Jingle request");
                let essential = matches!(action, Action::SessionInitiate | Action::SessionAccept);
                if essential && lock(&client.inner.calls).map.contains_key(&id) {
                    client.end_call(&id, CallEndReason::Failed);
                }
            }
        });
    }

    fn send_terminate(&self, handle: &SessionHandle, id: &str, to: &Jid, kind: ReasonKind) {
        let mut jingle = Jingle::new(Action::SessionTerminate, id.to_string());
        jingle.reason = reason(kind);
        if let Ok(pending) = handle.send_iq(jingle_iq(to, handle.new_id(), &jingle)) {
            // The answer does not matter: the call is over either way.
            tokio::spawn(async move {
                let _ = pending.answer().await;
            });
        }
    }

    fn send_finish(&self, handle: &SessionHandle, id: &str, to: &Jid, kind: ReasonKind) {
        let finish = JingleMessage::Finish {
            id: id.to_string(),
            reason: reason(kind),
            migrated: None,
        };
        let _ = handle.send(&finish.to_message(to, &handle.new_id()), None);
    }

    /// A Jingle IQ (XEP-0166) arrived. Returns the answer to send.
    pub(super) fn on_jingle_iq(
        &self,
        handle: &SessionHandle,
        from: Option<Jid>,
        iq_id: String,
        payload: &Element,
    ) -> Result<Iq, LinnetError> {
        let ack = Iq::Result {
            from: None,
            to: from.clone(),
            id: iq_id.clone(),
            payload: None,
        };
        let Some(sender) = from.clone() else {
            return Ok(bad_request(from, iq_id, "no sender"));
        };
        let jingle = match Jingle::parse(payload) {
            Ok(j) => j,
            Err(e) => {
                tracing::info!(error = %e, "malformed Jingle request");
                return Ok(bad_request(from, iq_id, "malformed Jingle"));
            }
        };
        let sid = jingle.sid.clone();
        let known_device = lock(&self.inner.calls)
            .map
            .get(&sid)
            .map(|c| c.device.as_ref() == Some(&sender));
        if jingle.action == Action::SessionInitiate && known_device.is_none() {
            // No JMI before it: a direct session-initiate.
            return self.on_direct_initiate(handle, sender, jingle, ack);
        }
        if known_device != Some(true) {
            return Ok(unknown_session(from, iq_id));
        }
        match jingle.action {
            Action::SessionInitiate => {
                let answer_now = {
                    let mut calls = lock(&self.inner.calls);
                    let Some(call) = calls.map.get_mut(&sid) else {
                        return Ok(unknown_session(from, iq_id));
                    };
                    if call.direction != Direction::Incoming || call.offer.is_some() {
                        return Ok(bad_request(from, iq_id, "unexpected session-initiate"));
                    }
                    note_remote_candidates(call, &jingle.contents);
                    call.offer = Some(jingle);
                    call.state == CallState::Connecting
                };
                if answer_now {
                    self.spawn_answer(&sid);
                }
            }
            Action::SessionAccept => self.on_session_accept(handle, &sid, jingle),
            Action::TransportInfo => self.on_transport_info(&sid, jingle),
            Action::SessionInfo => {
                if jingle.info == Some(SessionInfo::Ringing) {
                    self.with_call_from(&sid, &sender.to_bare(), |call| {
                        let ringing = call.direction == Direction::Outgoing && !call.accepted;
                        if ringing && call.state != CallState::Ringing {
                            call.state = CallState::Ringing;
                            return true;
                        }
                        false
                    });
                }
            }
            Action::SessionTerminate => {
                let (connected, direction, answered, via_jmi) = {
                    let calls = lock(&self.inner.calls);
                    let Some(call) = calls.map.get(&sid) else {
                        return Ok(ack);
                    };
                    let answered = call.accepted || call.state == CallState::Connecting;
                    (call.is_connected(), call.direction, answered, call.via_jmi)
                };
                // Both sides say `finish` (XEP-0353 §3.5), so every device's history agrees.
                if via_jmi && (connected || answered) {
                    self.send_finish(handle, &sid, &sender, ReasonKind::Success);
                }
                let kind = jingle.reason.as_ref().map(|r| r.kind);
                let end = match (connected, direction, kind) {
                    (true, _, _) => CallEndReason::RemoteHungUp,
                    (false, Direction::Incoming, _) if answered => CallEndReason::RemoteHungUp,
                    (false, Direction::Incoming, _) => CallEndReason::Missed,
                    (false, Direction::Outgoing, Some(ReasonKind::Busy)) => CallEndReason::Busy,
                    (false, Direction::Outgoing, Some(ReasonKind::Decline)) => {
                        CallEndReason::RemoteDeclined
                    }
                    (
                        false,
                        Direction::Outgoing,
                        Some(ReasonKind::ConnectivityError | ReasonKind::FailedTransport),
                    ) => CallEndReason::ConnectivityFailed,
                    (false, Direction::Outgoing, Some(ReasonKind::Success | ReasonKind::Gone)) => {
                        CallEndReason::RemoteHungUp
                    }
                    (false, Direction::Outgoing, _) => CallEndReason::Failed,
                };
                self.end_call(&sid, end);
            }
            _ => {
                tracing::debug!(action = ?jingle.action, "Jingle action not handled");
            }
        }
        Ok(ack)
    }

    fn on_direct_initiate(
        &self,
        handle: &SessionHandle,
        sender: Jid,
        jingle: Jingle,
        ack: Iq,
    ) -> Result<Iq, LinnetError> {
        let peer = sender.to_bare();
        let sid = jingle.sid.clone();
        if !self.may_ring(&peer)? {
            // Acknowledge, then end it at once: no ringing and no candidates for a stranger.
            self.send_terminate(handle, &sid, &sender, ReasonKind::Decline);
            self.log_silent_call(&sid, &peer, CallEndReason::Stranger)?;
            return Ok(ack);
        }
        if !lock(&self.inner.calls).map.is_empty() {
            self.send_terminate(handle, &sid, &sender, ReasonKind::Busy);
            self.log_silent_call(&sid, &peer, CallEndReason::Busy)?;
            return Ok(ack);
        }
        self.ring(&sid, sender, peer, false, Some(jingle))?;
        Ok(ack)
    }

    fn on_session_accept(&self, handle: &SessionHandle, id: &str, jingle: Jingle) {
        let media = {
            let mut calls = lock(&self.inner.calls);
            let Some(call) = calls.map.get_mut(id) else {
                return;
            };
            if call.direction != Direction::Outgoing || call.accepted {
                return;
            }
            note_remote_candidates(call, &jingle.contents);
            call.accepted = true;
            if !call.is_connected() {
                call.state = CallState::Connecting;
            }
            call.media.clone()
        };
        let Some(media) = media else {
            return;
        };
        if let Some(record) = lock(&self.inner.calls).map.get(id).map(|c| c.record_id) {
            let _ = self.inner.store.call_answered(record, now_ms());
        }
        self.emit_update(id);
        let answer = match sdp::jingle_to_sdp(
            &jingle.contents,
            jingle.group.as_ref(),
            SdpRole::Answer,
            true,
        ) {
            Ok(sdp) => sdp,
            Err(e) => {
                tracing::info!(error = %e, "unusable session-accept");
                self.fail_call(handle, id, ReasonKind::FailedApplication);
                return;
            }
        };
        let candidates = remote_candidates(&jingle.contents);
        self.after(self.inner.config.calls.connect_timeout, id, |client, id| {
            client.connect_timed_out(id)
        });
        let client = self.clone();
        let id = id.to_string();
        let handle = handle.clone();
        tokio::spawn(async move {
            if let Err(e) = media.set_remote_answer(&answer).await {
                tracing::info!(error = %e, "the answer did not apply");
                client.fail_call(&handle, &id, ReasonKind::IncompatibleParameters);
                return;
            }
            for (mid, candidate) in candidates {
                if let Err(e) = media.add_remote_candidate(&mid, &candidate).await {
                    tracing::debug!(error = %e, "a remote candidate was refused");
                }
            }
        });
    }

    fn on_transport_info(&self, id: &str, jingle: Jingle) {
        let candidates = remote_candidates(&jingle.contents);
        let media = {
            let mut calls = lock(&self.inner.calls);
            let Some(call) = calls.map.get_mut(id) else {
                return;
            };
            note_remote_candidates(call, &jingle.contents);
            match &call.media {
                Some(media) => media.clone(),
                None => {
                    // Incoming, not answered yet: kept for the media.
                    // A peer may trickle without end: keep what one transport can hold.
                    let room = MAX_CANDIDATES.saturating_sub(call.early_candidates.len());
                    call.early_candidates
                        .extend(candidates.into_iter().take(room));
                    return;
                }
            }
        };
        // The media keeps candidates until its remote description is set (outgoing: until the
        // session-accept), so a gateway's early transport-info is not lost.
        tokio::spawn(async move {
            for (mid, candidate) in candidates {
                if let Err(e) = media.add_remote_candidate(&mid, &candidate).await {
                    tracing::debug!(error = %e, "a remote candidate was refused");
                }
            }
        });
    }

    /// Answers the caller's session-initiate with our media (after the user answered).
    fn spawn_answer(&self, id: &str) {
        let client = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            if let Err(e) = client.answer_media(&id).await {
                tracing::info!(error = %e, "answering the call failed");
                if let Some(handle) = client.session() {
                    client.fail_call(&handle, &id, ReasonKind::FailedApplication);
                } else {
                    client.end_call(&id, CallEndReason::Failed);
                }
            }
        });
    }

    async fn answer_media(&self, id: &str) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let (offer, audio, profile, relay_only, early) = {
            let mut calls = lock(&self.inner.calls);
            let call = calls.map.get_mut(id).ok_or_else(|| no_such_call(id))?;
            let (Some(offer), Some(audio)) = (call.offer.take(), call.audio.take()) else {
                return Err(no_such_call(id));
            };
            (
                offer,
                audio,
                call.profile,
                call.relay_only,
                std::mem::take(&mut call.early_candidates),
            )
        };
        let remote =
            sdp::jingle_to_sdp(&offer.contents, offer.group.as_ref(), SdpRole::Offer, false)
                .map_err(media_error)?;
        let ice_servers = self.ice_servers(&handle, relay_only).await?;
        let config = MediaConfig {
            ice_servers,
            relay_only,
            profile,
        };
        let (media, answer, events) =
            MediaSession::answer(config, &remote, audio.source, audio.sink)
                .await
                .map_err(media_error)?;
        let media = Arc::new(media);
        let (contents, group) =
            sdp::sdp_to_jingle(&answer, SdpRole::Answer).map_err(media_error)?;
        let signalled = {
            let mut calls = lock(&self.inner.calls);
            calls.map.get_mut(id).map(|call| {
                call.media = Some(media.clone());
                call.local_credentials = credentials_of(&contents);
                call.signalled = true;
                let mut jingle = Jingle::new(Action::SessionAccept, id.to_string());
                jingle.responder = Some(handle.info().bound_jid.to_string());
                jingle.contents = contents;
                jingle.group = group;
                add_candidates(
                    &mut jingle.contents,
                    std::mem::take(&mut call.unsent_candidates),
                );
                (jingle, call.device.clone())
            })
        };
        let Some((accept, device)) = signalled else {
            // Ended while the media started.
            media.close().await;
            return Ok(());
        };
        self.spawn_media_events(id, events);
        let device = device.ok_or_else(|| no_such_call(id))?;
        self.send_jingle(&handle, id, &device, &accept);
        let mut remote_candidates_all = remote_candidates(&offer.contents);
        remote_candidates_all.extend(early);
        for (mid, candidate) in remote_candidates_all {
            if let Err(e) = media.add_remote_candidate(&mid, &candidate).await {
                tracing::debug!(error = %e, "a remote candidate was refused");
            }
        }
        Ok(())
    }

    fn spawn_media_events(
        &self,
        id: &str,
        mut events: tokio::sync::mpsc::UnboundedReceiver<MediaEvent>,
    ) {
        let client = self.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if !lock(&client.inner.calls).map.contains_key(&id) {
                    break;
                }
                client.on_media_event(&id, event);
            }
        });
    }

    fn on_media_event(&self, id: &str, event: MediaEvent) {
        match event {
            MediaEvent::LocalCandidate { mid, candidate } => {
                self.on_local_candidate(id, mid, &candidate)
            }
            MediaEvent::Connected => {
                let (dial, media, update) = {
                    let mut calls = lock(&self.inner.calls);
                    let Some(call) = calls.map.get_mut(id) else {
                        return;
                    };
                    call.media_lost_at = None;
                    if call.is_connected() {
                        return;
                    }
                    call.state = CallState::Connected { since_ms: now_ms() };
                    call.diagnostics.codec = call
                        .media
                        .as_ref()
                        .and_then(|m| m.codec())
                        .map(|c| c.to_string());
                    (
                        std::mem::take(&mut call.dial),
                        call.media.clone(),
                        call.update(id),
                    )
                };
                self.emit(ClientEvent::Call(update));
                if let (false, Some(media)) = (dial.is_empty(), media)
                    && let Err(e) = media.send_dtmf(dial)
                {
                    tracing::info!(error = %e, "the dial string's digits could not be sent");
                }
            }
            MediaEvent::Disconnected => {
                let connected = {
                    let mut calls = lock(&self.inner.calls);
                    let Some(call) = calls.map.get_mut(id) else {
                        return;
                    };
                    call.media_lost_at.get_or_insert_with(Instant::now);
                    call.is_connected()
                };
                if connected {
                    self.after(
                        self.inner.config.calls.media_loss_grace,
                        id,
                        |client, id| client.media_loss_timed_out(id),
                    );
                }
            }
            MediaEvent::Failed { reason } => {
                tracing::info!(%reason, "call media failed");
                if let Some(handle) = self.session() {
                    self.fail_call(&handle, id, ReasonKind::ConnectivityError);
                } else {
                    self.end_media_failure(id);
                }
            }
            MediaEvent::FirstAudio => self.emit(ClientEvent::CallMedia {
                id: id.to_string(),
                event: CallMediaEvent::FirstAudio,
            }),
            MediaEvent::DtmfReceived(digit) => self.emit(ClientEvent::CallMedia {
                id: id.to_string(),
                event: CallMediaEvent::Dtmf(digit),
            }),
            MediaEvent::DtmfSent(digit) => {
                if self.with_call(id, |call| {
                    call.digits_sent.push(digit);
                    true
                }) {
                    self.emit_update(id);
                }
            }
            MediaEvent::GatheringDone | MediaEvent::DialDone => {}
        }
    }

    fn on_local_candidate(&self, id: &str, mid: String, candidate: &str) {
        let candidate = match sdp::candidate_from_sdp(candidate) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "unreadable local candidate");
                return;
            }
        };
        let send = {
            let mut calls = lock(&self.inner.calls);
            let Some(call) = calls.map.get_mut(id) else {
                return;
            };
            // Relay only: our addresses never leave this device, even towards contacts.
            if call.relay_only && candidate.kind != CandidateType::Relay {
                return;
            }
            // An Asterisk-based gateway hangs up on candidates it cannot read.
            if call.phone_number.is_some() && !sdp::candidate_fits_gateway(&candidate) {
                return;
            }
            call.diagnostics
                .local_candidates
                .push(candidate.kind.as_str().to_string());
            if !call.signalled {
                call.unsent_candidates.push((mid, candidate));
                return;
            }
            call.device
                .clone()
                .map(|d| (d, call.direction, call.local_credentials.clone()))
        };
        let (Some((device, direction, credentials)), Some(handle)) = (send, self.session()) else {
            return;
        };
        let mut jingle = Jingle::new(Action::TransportInfo, id.to_string());
        if direction == Direction::Outgoing {
            jingle.initiator = Some(handle.info().bound_jid.to_string());
        }
        let mut content = Content {
            creator: linnet_xmpp::jingle::Creator::Initiator,
            name: mid,
            senders: linnet_xmpp::jingle::Senders::Both,
            description: None,
            transport: Some(IceUdpTransport {
                ufrag: credentials.as_ref().map(|c| c.0.clone()),
                pwd: credentials.map(|c| c.1),
                fingerprint: None,
                candidates: Vec::new(),
            }),
        };
        add_candidate_to(&mut content, candidate);
        jingle.contents = vec![content];
        self.send_jingle(&handle, id, &device, &jingle);
    }

    /// Ends a call that failed: tells the peer (session-terminate with `kind`), then ends.
    fn fail_call(&self, handle: &SessionHandle, id: &str, kind: ReasonKind) {
        let device = lock(&self.inner.calls)
            .map
            .get(id)
            .and_then(|c| c.device.clone());
        if kind == ReasonKind::ConnectivityError {
            self.end_media_failure(id);
        } else {
            self.end_call(id, CallEndReason::Failed);
        }
        if let Some(device) = device {
            self.send_terminate(handle, id, &device, kind);
        }
    }

    fn end_media_failure(&self, id: &str) {
        let connected = lock(&self.inner.calls)
            .map
            .get(id)
            .is_some_and(|c| c.is_connected());
        self.end_call(
            id,
            if connected {
                CallEndReason::NetworkLost
            } else {
                CallEndReason::ConnectivityFailed
            },
        );
    }

    fn ring_timed_out(&self, id: &str) {
        let (state, direction) = match lock(&self.inner.calls).map.get(id) {
            Some(c) if !c.accepted && !c.is_connected() => (c.state.clone(), c.direction),
            _ => return,
        };
        match (state, direction) {
            (CallState::Incoming, _) => self.end_call(id, CallEndReason::Missed),
            (CallState::Calling | CallState::Ringing, Direction::Outgoing) => {
                let _ = self.hang_up_because(id, Some(CallEndReason::NoAnswer));
            }
            _ => {}
        }
    }

    fn connect_timed_out(&self, id: &str) {
        let stuck = lock(&self.inner.calls)
            .map
            .get(id)
            .is_some_and(|c| c.state == CallState::Connecting);
        if stuck && let Some(handle) = self.session() {
            self.fail_call(&handle, id, ReasonKind::ConnectivityError);
        } else if stuck {
            self.end_call(id, CallEndReason::ConnectivityFailed);
        }
    }

    fn media_loss_timed_out(&self, id: &str) {
        let grace = self.inner.config.calls.media_loss_grace;
        let lost = lock(&self.inner.calls)
            .map
            .get(id)
            .and_then(|c| c.media_lost_at)
            .is_some_and(|at| at.elapsed() >= grace);
        if !lost {
            return;
        }
        if let Some(handle) = self.session() {
            self.fail_call(&handle, id, ReasonKind::ConnectivityError);
        } else {
            self.end_call(id, CallEndReason::NetworkLost);
        }
    }

    /// Runs `f` after `delay` unless the client is gone.
    fn after(&self, delay: Duration, id: &str, f: fn(&Client, &str)) {
        let weak = std::sync::Arc::downgrade(&self.inner);
        let id = id.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(inner) = weak.upgrade() {
                f(&Client { inner }, &id);
            }
        });
    }

    /// Ends a call here: the log gets its end and reason, the media stops, observers hear.
    fn end_call(&self, id: &str, reason: CallEndReason) {
        let Some(mut call) = ({
            let mut calls = lock(&self.inner.calls);
            let call = calls.map.remove(id);
            if let Some(call) = &call {
                calls.last_ended = Some((id.to_string(), call.diagnostics.clone()));
            }
            call
        }) else {
            return;
        };
        if let Err(e) = self.inner.store.end_call(call.record_id, reason, now_ms()) {
            tracing::warn!(error = %e, "the call log could not record the end of a call");
        }
        call.state = CallState::Ended { reason };
        let update = call.update(id);
        Self::discard_media(call.media.take());
        self.emit(ClientEvent::Call(update));
    }

    fn discard_media(media: Option<Arc<MediaSession>>) {
        if let Some(media) = media {
            tokio::spawn(async move { media.close().await });
        }
    }

    fn emit_update(&self, id: &str) {
        let update = lock(&self.inner.calls).map.get(id).map(|c| c.update(id));
        if let Some(update) = update {
            self.emit(ClientEvent::Call(update));
        }
    }

    /// Changes a call (if `f` says it changed, observers hear).
    fn with_call(&self, id: &str, f: impl FnOnce(&mut Call) -> bool) -> bool {
        lock(&self.inner.calls).map.get_mut(id).is_some_and(f)
    }

    /// Like `with_call`, only for a call with `peer`.
    fn with_call_from(&self, id: &str, peer: &BareJid, f: impl FnOnce(&mut Call) -> bool) {
        let changed = lock(&self.inner.calls)
            .map
            .get_mut(id)
            .filter(|c| c.peer == *peer)
            .is_some_and(f);
        if changed {
            self.emit_update(id);
        }
    }

    /// At startup: calls open when the app stopped end as interrupted.
    pub(super) fn end_interrupted_calls(&self) {
        if let Err(e) = self
            .inner
            .store
            .end_interrupted_calls(self.inner.account.id, now_ms())
        {
            tracing::warn!(error = %e, "the call log could not be tidied");
        }
    }
}

/// The ICE username fragment and password of our first content.
fn credentials_of(contents: &[Content]) -> Option<(String, String)> {
    let transport = contents.iter().find_map(|c| c.transport.as_ref())?;
    Some((transport.ufrag.clone()?, transport.pwd.clone()?))
}

fn reason_for_retract() -> Option<Reason> {
    reason(ReasonKind::Cancel)
}

fn no_such_call(id: &str) -> LinnetError {
    LinnetError::NoSuchCall { id: id.to_string() }
}

/// Their candidates in Jingle contents, as (mid, SDP candidate) for the media.
fn remote_candidates(contents: &[Content]) -> Vec<(String, String)> {
    contents
        .iter()
        .flat_map(|content| {
            content
                .transport
                .iter()
                .flat_map(|t| t.candidates.iter())
                .map(|c| (content.name.clone(), sdp::candidate_to_sdp(c)))
        })
        .collect()
}

fn note_remote_candidates(call: &mut Call, contents: &[Content]) {
    let kinds = contents
        .iter()
        .flat_map(|c| c.transport.iter().flat_map(|t| t.candidates.iter()))
        .map(|c| c.kind.as_str().to_string());
    let room = MAX_CANDIDATES.saturating_sub(call.diagnostics.remote_candidates.len());
    call.diagnostics.remote_candidates.extend(kinds.take(room));
}

fn add_candidates(contents: &mut [Content], candidates: Vec<(String, Candidate)>) {
    for (mid, candidate) in candidates {
        if let Some(content) = contents.iter_mut().find(|c| c.name == mid) {
            add_candidate_to(content, candidate);
        }
    }
}

fn add_candidate_to(content: &mut Content, candidate: Candidate) {
    content
        .transport
        .get_or_insert_with(|| IceUdpTransport {
            ufrag: None,
            pwd: None,
            fingerprint: None,
            candidates: Vec::new(),
        })
        .candidates
        .push(candidate);
}
