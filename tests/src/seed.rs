//! Fills an account's server archive (XEP-0313) fast, for the archive sync tests (issue 5).
//!
//! Everything goes over the protocol layer (`negotiate::connect` + `session::start`), not SDK
//! clients: each conversation's messages are written pipelined, so thousands seed in seconds.
//!
//! Measured here (loopback, server state on disk, 2 CPU cores), `fill_archive` with 20 peers x
//! 100 messages (2,000 messages, every 10th from the target's other device), account creation
//! included: ejabberd 23.01 (SQLite) 21.5 s, Prosody 0.12 (SQLite archive) 83 s. The servers
//! are the bottleneck (every message is archived twice, in the target's and in the peer's
//! archive, each a SQLite commit); see the `seeds_2000_messages` test in
//! `tests/tests/archive_sync.rs`, which prints the figure.
//!
//! # Order
//! A conversation has two senders: the peer (incoming for the target) and the target's other
//! device (outgoing). Each sender's stanzas are handled by the server in the order of its stream,
//! but two sessions have no defined order between them: the server may archive a later stanza of
//! one session before an earlier one of the other. So a conversation is sent as runs of
//! consecutive messages of one sender; each run is pipelined, and the other sender starts its
//! next run only after the run's last message reached its recipient. Both servers archive a
//! message before they deliver it (Prosody's mod_mam hooks run before mod_message delivers;
//! ejabberd archives the sender's copy in `user_send_packet` and the recipient's in
//! `sm_receive_packet`, both before routing on), so "received" means "archived", independent of
//! when the servers answer stream-management ack requests. The last run of each conversation
//! ends the same way, so when `fill_archive` returns the archive holds everything.
//!
//! # Why the other device stays online
//! While seeding, the target's other device is online with an available presence, so the peers'
//! messages are delivered to it (and archived), not queued in offline storage: a Linnet client
//! connecting later gets them from the archive only, as after a week away on a phone while the
//! laptop was on. The seeding sessions do not enable stream management, so closing them leaves
//! no unacknowledged stanzas a server could re-route to offline storage.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials};
use linnet_xmpp::sasl::Secret;
use linnet_xmpp::session::{self, SessionConfig, SessionEvent, SessionHandle};
use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{Target, TcpConnector, TlsMode};
use linnet_xmpp::{BareJid, Element, FullJid, ns};
use tokio::sync::mpsc;

use crate::{TestServer, create_account, unique_name};

/// A logged-in protocol-layer session (no SDK, no store): for seeding and for raw stanzas.
pub struct RawSession {
    pub handle: SessionHandle,
    pub events: mpsc::UnboundedReceiver<SessionEvent>,
    pub jid: FullJid,
}

/// Logs `jid` in over STARTTLS with a fresh resource `{resource_prefix}<random>`; stream
/// management only when `stream_management`.
pub async fn login(
    server: &TestServer,
    jid: &str,
    password: &str,
    resource_prefix: &str,
    stream_management: bool,
) -> RawSession {
    let connector = TcpConnector::new(Some(Target {
        host: server.host.clone(),
        port: server.starttls_port,
        mode: TlsMode::StartTls,
    }));
    let creds = Credentials {
        jid: jid.parse().unwrap(),
        password: Secret::from(password),
    };
    let opts = ConnectOptions {
        resource: unique_name(resource_prefix),
        tls: TlsSettings {
            extra_ca_pem: Some(server.ca_pem.clone()),
            only_extra_ca: true,
        },
        enable_stream_management: stream_management,
        ..ConnectOptions::default()
    };
    let (conn, info) = negotiate::connect(&connector, &creds, &opts)
        .await
        .unwrap_or_else(|e| panic!("{jid}: login failed: {e}"));
    let jid = info.bound_jid.clone();
    let (handle, events) = session::start(conn, info, SessionConfig::default());
    RawSession {
        handle,
        events,
        jid,
    }
}

impl RawSession {
    /// Sends an initial (available) presence.
    pub fn available(&self) {
        let presence = Element::builder("presence", ns::CLIENT).build();
        self.handle.send(&presence, None).unwrap();
    }

    /// Sends a chat message with a body, an id and the same origin-id (XEP-0359).
    pub fn send_chat(&self, to: &str, body: &str) {
        let id = self.handle.new_id();
        let message = chat_message(to, &id, body);
        self.handle.send(&message, None).unwrap();
    }

    /// A server round trip (XEP-0199 ping): everything sent before it was handled.
    pub async fn round_trip(&self) {
        let ping = Element::builder("iq", ns::CLIENT)
            .attr(rxml::xml_ncname!("type").into(), "get")
            .attr(rxml::xml_ncname!("id").into(), self.handle.new_id())
            .append(Element::builder("ping", ns::PING).build())
            .build();
        let iq = linnet_xmpp::xmpp_parsers::iq::Iq::try_from(ping).unwrap();
        self.handle.iq(iq).await.unwrap();
    }
}

/// `<message type='chat' to id><body/><origin-id/></message>`.
pub fn chat_message(to: &str, id: &str, body: &str) -> Element {
    Element::builder("message", ns::CLIENT)
        .attr(rxml::xml_ncname!("type").into(), "chat")
        .attr(rxml::xml_ncname!("to").into(), to)
        .attr(rxml::xml_ncname!("id").into(), id)
        .append(Element::builder("body", ns::CLIENT).append(body).build())
        .append(
            Element::builder("origin-id", ns::SID)
                .attr(rxml::xml_ncname!("id").into(), id)
                .build(),
        )
        .build()
}

/// One archived message as seeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededMessage {
    pub body: String,
    /// Sent by the target's other device to the peer (outgoing in the target's archive).
    pub outgoing: bool,
}

/// What was put in the archive, per peer (bare JID), in sending order.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// Bodies per peer, in sending (= archive) order.
    pub conversations: BTreeMap<String, Vec<String>>,
    /// The same messages with their direction.
    pub messages: BTreeMap<String, Vec<SeededMessage>>,
    /// Peer accounts (bare JID -> password), e.g. to send more later.
    pub peers: BTreeMap<String, String>,
    /// How long the seeding took (account creation included).
    pub elapsed: Duration,
}

impl Seeded {
    /// All seeded messages.
    pub fn total(&self) -> usize {
        self.conversations.values().map(Vec::len).sum()
    }

    /// Peers in the order they were created (index in the bodies).
    pub fn peer_list(&self) -> Vec<String> {
        let mut peers: Vec<(String, String)> = self
            .conversations
            .iter()
            .map(|(peer, bodies)| (bodies.first().cloned().unwrap_or_default(), peer.clone()))
            .collect();
        peers.sort();
        peers.into_iter().map(|(_, p)| p).collect()
    }
}

/// The body of message `i` (0-based) of the conversation with peer `peer_index`.
pub fn body_text(tag: &str, peer_index: usize, i: usize) -> String {
    format!("{tag} {peer_index:02}-{i:04}")
}

/// Whether message `i` (0-based) of a conversation comes from the target's other device.
pub fn is_own(i: usize, own_every: usize) -> bool {
    own_every > 0 && (i + 1).is_multiple_of(own_every)
}

/// Creates `peers` new accounts; each sends `per_peer` messages (type chat, with body, id and
/// origin-id) to `target` while `target` has no Linnet session; every `own_every`-th message of a
/// conversation (1-based: with 10, messages 10, 20, ...) is instead sent BY the target's other
/// device (a second resource of `target`, logged in with `target_password`) TO that peer, so it
/// is an outgoing message in the target's archive (0 = never). Bodies are
/// `body_text(tag, peer_index, i)`, unique per message. Returns once every message reached its
/// recipient, so the archive holds it all, in the order of `Seeded::conversations` (see the
/// module docs for why that order is defined).
pub async fn fill_archive(
    server: &TestServer,
    target: &str,
    target_password: &str,
    peers: usize,
    per_peer: usize,
    own_every: usize,
    tag: &str,
) -> Seeded {
    let started = Instant::now();
    let accounts: Vec<(String, String)> = (0..peers)
        .map(|_| create_account(server, "seedpeer"))
        .collect();

    // The target's other device: online (available) so the peers' messages reach it live.
    let device = login(server, target, target_password, "otherdevice", false).await;
    device.available();
    device.round_trip().await;
    // Its incoming messages, per peer (bare JID), to the conversation that waits for them.
    let mut inboxes: HashMap<BareJid, mpsc::UnboundedSender<String>> = HashMap::new();
    let mut device_rx = Vec::new();
    for (jid, _) in &accounts {
        let (tx, rx) = mpsc::unbounded_channel();
        inboxes.insert(jid.parse().unwrap(), tx);
        device_rx.push(rx);
    }
    let RawSession {
        handle: device_handle,
        events: mut device_events,
        ..
    } = device;
    let dispatcher = tokio::spawn(async move {
        while let Some(event) = device_events.recv().await {
            let SessionEvent::Message(m) = event else {
                continue;
            };
            let (Some(from), Some(body)) = (m.from.as_ref(), m.bodies.values().next()) else {
                continue;
            };
            if let Some(tx) = inboxes.get(&from.to_bare()) {
                let _ = tx.send(body.clone());
            }
        }
    });

    let mut tasks = Vec::new();
    for (index, ((peer, password), mut device_inbox)) in
        accounts.iter().cloned().zip(device_rx).enumerate()
    {
        let server = server.clone();
        let target = target.to_string();
        let tag = tag.to_string();
        let device = device_handle.clone();
        tasks.push(tokio::spawn(async move {
            let mut peer_session = login(&server, &peer, &password, "seed", false).await;
            peer_session.available();
            peer_session.round_trip().await;
            let messages: Vec<SeededMessage> = (0..per_peer)
                .map(|i| SeededMessage {
                    body: body_text(&tag, index, i),
                    outgoing: is_own(i, own_every),
                })
                .collect();
            for run in messages.chunk_by(|a, b| a.outgoing == b.outgoing) {
                for m in run {
                    if m.outgoing {
                        let id = device.new_id();
                        device
                            .send(&chat_message(&peer, &id, &m.body), None)
                            .unwrap();
                    } else {
                        peer_session.send_chat(&target, &m.body);
                    }
                }
                // The run is archived once its recipient has it all, in order.
                for m in run {
                    let got = if m.outgoing {
                        next_body(&mut peer_session.events).await
                    } else {
                        tokio::time::timeout(Duration::from_secs(30), device_inbox.recv())
                            .await
                            .ok()
                            .flatten()
                    };
                    assert_eq!(
                        got.as_deref(),
                        Some(m.body.as_str()),
                        "seeding {peer}: the recipient got another message than the next one sent"
                    );
                }
            }
            peer_session.handle.close().await;
            (peer, messages)
        }));
    }
    let mut seeded = Seeded::default();
    for ((peer, password), task) in accounts.into_iter().zip(tasks) {
        let (p, messages) = task.await.unwrap();
        assert_eq!(p, peer);
        seeded.conversations.insert(
            peer.clone(),
            messages.iter().map(|m| m.body.clone()).collect(),
        );
        seeded.messages.insert(peer.clone(), messages);
        seeded.peers.insert(peer, password);
    }
    device_handle.close().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), dispatcher).await;
    seeded.elapsed = started.elapsed();
    seeded
}

/// The body of the next message on a raw session (other events are skipped); `None` when the
/// session ended or nothing came within 30 s.
async fn next_body(events: &mut mpsc::UnboundedReceiver<SessionEvent>) -> Option<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(SessionEvent::Message(m))) => {
                if let Some(body) = m.bodies.values().next() {
                    return Some(body.clone());
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
}
