//! The running session: one task owns the connection, counts stanzas for stream management
//! (XEP-0198), matches IQ responses (with timeouts and sender checks), answers pings, detects dead
//! connections, and reports everything else as events. Nothing here blocks on the network from
//! the caller's side: sends are queued, IQs have deadlines, and the end of the session is always
//! reported with its reason.
//!
//! With resumable stream management the session outlives its connection: when the connection
//! drops, the session is suspended (`SessionEvent::Interrupted`) with its counters, the text of
//! every unacknowledged stanza and its pending IQs; `Suspended::resume` continues it on a new
//! connection, resending exactly the unacknowledged tail, and `Suspended::abandon` ends it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use jid::Jid;
use minidom::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza_error::StanzaError;

use crate::connection::{READ_CHUNK, XmlConnection, log_received, log_wire, stream_error};
use crate::error::ConnectError;
use crate::negotiate::{ResumeRequest, SessionInfo};
use crate::ns;
use crate::xml::{self, StreamEvent, XmlError};

/// During a burst, an ack request every this many stanzas (and one at its end). Measured on
/// Prosody 0.12: 1000 messages acked in 1.7 s this way, 4-5 s with a single request per burst
/// (the server then answers only after working through the whole backlog).
const ACK_REQUEST_EVERY: u32 = 5;

/// Queued stanzas are written in batches of about this size.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Id prefix of the ping that stands in for stream-management acks when the server has none.
const ACK_PING_PREFIX: &str = "linnet-ack-";

/// Timers of a running session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Silence from the server after which we probe the connection.
    pub idle_before_ping: Duration,
    /// How long a probe may stay unanswered before the connection is declared dead.
    pub ping_timeout: Duration,
    /// Default deadline of an IQ request.
    pub iq_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_before_ping: Duration::from_secs(60),
            ping_timeout: Duration::from_secs(20),
            iq_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Disconnect {
    #[error("closed on request")]
    Requested,
    #[error("the server ended the stream")]
    ServerClosed,
    #[error("{0}")]
    Error(ConnectError),
    #[error("the connection stopped answering")]
    Dead,
}

/// What the session reports.
#[derive(Debug)]
pub enum SessionEvent {
    Message(Box<Message>),
    Presence(Box<Presence>),
    /// An IQ get or set addressed to us; the receiver must answer it (`SessionHandle::send`).
    IqRequest(Box<Iq>),
    /// The server acknowledged these tagged outgoing stanzas (stream management).
    Acked(Vec<u64>),
    /// A stanza that failed validation and was dropped (counted for stream management).
    Dropped {
        reason: String,
    },
    /// The connection dropped but the server keeps the session for resumption: the handle
    /// refuses new work until `Suspended::resume` continues the session (this event stream
    /// then goes on) or `Suspended::abandon` ends it (the stream then ends without `Closed`).
    Interrupted {
        reason: Disconnect,
        session: Box<Suspended>,
    },
    Closed(Disconnect),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    #[error("the stanza is too large to send ({size} bytes, limit {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("the session is closed")]
    Closed,
    #[error("cannot serialise the stanza: {0}")]
    Serialise(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IqError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the server answered with an error: {0:?}")]
    Error(Box<StanzaError>),
    #[error("the session ended before an answer came")]
    Disconnected,
    #[error("{0}")]
    Send(#[from] SendError),
}

enum Command {
    Stanza {
        text: String,
        tag: Option<u64>,
    },
    Nonza {
        text: String,
    },
    Iq {
        id: String,
        text: String,
        to: Option<Jid>,
        timeout: Duration,
        collect: Option<Collect>,
        reply: oneshot::Sender<Result<IqAnswer, IqError>>,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

/// Cheap, cloneable handle to a running session.
#[derive(Clone)]
pub struct SessionHandle {
    commands: mpsc::UnboundedSender<Command>,
    /// Replaced when the session resumes on a new connection.
    info: Arc<Mutex<Arc<SessionInfo>>>,
    /// Set while the session is suspended (between `Interrupted` and resume or abandon).
    interrupted: Arc<AtomicBool>,
    max_stanza_bytes: usize,
    iq_timeout: Duration,
    next_id: Arc<AtomicU64>,
}

impl SessionHandle {
    /// What was negotiated on the session's current (or last) connection.
    pub fn info(&self) -> Arc<SessionInfo> {
        self.info.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `other` is a handle to this same session.
    pub fn same_session(&self, other: &SessionHandle) -> bool {
        self.commands.same_channel(&other.commands)
    }

    /// While the session is suspended, work still queues: it goes out after a resumption and
    /// is dropped if the session is abandoned (callers treat `is_closed` as offline and keep
    /// what must not be lost, like outbox messages, in their own store).
    fn queue(&self, command: Command) -> Result<(), SendError> {
        self.commands.send(command).map_err(|_| SendError::Closed)
    }

    fn serialise(&self, element: &Element) -> Result<String, SendError> {
        let text =
            xml::element_to_string(element).map_err(|e| SendError::Serialise(e.to_string()))?;
        if text.len() > self.max_stanza_bytes {
            return Err(SendError::TooLarge {
                size: text.len(),
                limit: self.max_stanza_bytes,
            });
        }
        Ok(text)
    }

    /// Queues a stanza. With `tag`, an `Acked` event names it once the server has it.
    pub fn send(&self, stanza: &Element, tag: Option<u64>) -> Result<(), SendError> {
        let text = self.serialise(stanza)?;
        self.queue(Command::Stanza { text, tag })
    }

    /// Queues a top-level element that is not a stanza (client state indication, ...).
    pub fn send_nonza(&self, element: &Element) -> Result<(), SendError> {
        let text = self.serialise(element)?;
        self.queue(Command::Nonza { text })
    }

    /// A fresh id for a stanza.
    pub fn new_id(&self) -> String {
        format!(
            "lnt{}-{}",
            self.next_id.fetch_add(1, Ordering::Relaxed),
            crate::negotiate::random_suffix()
        )
    }

    /// Sends an IQ get/set and waits for its result payload. The answer is accepted only from the
    /// entity the request went to (or, for requests to our own account, from the server on its
    /// behalf).
    pub async fn iq(&self, iq: Iq) -> Result<Option<Element>, IqError> {
        self.iq_with_timeout(iq, self.iq_timeout).await
    }

    pub async fn iq_with_timeout(
        &self,
        iq: Iq,
        timeout: Duration,
    ) -> Result<Option<Element>, IqError> {
        Ok(self.request(iq, timeout, None).await?.payload)
    }

    /// Sends an IQ and gathers the messages that belong to its answer (XEP-0313 results come as
    /// messages before the IQ result): every message `collect` accepts while the request is open
    /// is returned with the answer, in order, instead of becoming a `SessionEvent::Message`.
    pub async fn iq_collecting(
        &self,
        iq: Iq,
        timeout: Duration,
        collect: Collect,
    ) -> Result<IqAnswer, IqError> {
        self.request(iq, timeout, Some(collect)).await
    }

    async fn request(
        &self,
        iq: Iq,
        timeout: Duration,
        collect: Option<Collect>,
    ) -> Result<IqAnswer, IqError> {
        self.queue_request(iq, timeout, collect)?
            .await
            .unwrap_or(Err(IqError::Disconnected))
    }

    fn queue_request(
        &self,
        iq: Iq,
        timeout: Duration,
        collect: Option<Collect>,
    ) -> Result<oneshot::Receiver<Result<IqAnswer, IqError>>, IqError> {
        let (id, to) = match &iq {
            Iq::Get { id, to, .. } | Iq::Set { id, to, .. } => (id.clone(), to.clone()),
            Iq::Result { id, to, .. } | Iq::Error { id, to, .. } => (id.clone(), to.clone()),
        };
        let text = self.serialise(&Element::from(iq))?;
        let (reply, answer) = oneshot::channel();
        self.queue(Command::Iq {
            id,
            text,
            to,
            timeout,
            collect,
            reply,
        })?;
        Ok(answer)
    }

    /// Queues an IQ get/set at once, so that IQs sent by successive calls leave in that order
    /// (Jingle: the session-initiate before its transport-info), and returns the wait for the
    /// answer.
    pub fn send_iq(&self, iq: Iq) -> Result<IqInFlight, IqError> {
        Ok(IqInFlight(self.queue_request(iq, self.iq_timeout, None)?))
    }

    /// Closes the stream politely and waits (briefly) for the session task to finish.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Close { done }).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        }
    }

    /// Closed for good, or suspended until a resumption.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed() || self.interrupted.load(Ordering::SeqCst)
    }
}

/// Starts the session task on the current tokio runtime.
pub fn start(
    conn: XmlConnection,
    info: SessionInfo,
    config: SessionConfig,
) -> (SessionHandle, mpsc::UnboundedReceiver<SessionEvent>) {
    let (commands, command_rx) = mpsc::unbounded_channel();
    let (events, event_rx) = mpsc::unbounded_channel();
    let own = info.bound_jid.clone();
    let stream_management = info.stream_management.clone();
    let info = Arc::new(Mutex::new(Arc::new(info)));
    let interrupted = Arc::new(AtomicBool::new(false));
    let handle = SessionHandle {
        commands,
        info: info.clone(),
        interrupted: interrupted.clone(),
        max_stanza_bytes: conn.limits.max_stanza_bytes,
        iq_timeout: config.iq_timeout,
        next_id: Arc::new(AtomicU64::new(1)),
    };
    let driver = Driver {
        conn,
        own,
        sm_enabled: stream_management.is_some(),
        resumable: stream_management
            .as_ref()
            .and_then(|sm| sm.id.clone().filter(|_| sm.resume)),
        info,
        interrupted,
        config,
        events,
        inbound: 0,
        outbound: 0,
        unacked: VecDeque::new(),
        pending_iqs: HashMap::new(),
        last_heard: Instant::now(),
        probe_sent: None,
        ping_seq: 0,
        since_ack_request: 0,
    };
    tokio::spawn(driver.run(command_rx));
    (handle, event_rx)
}

/// A session whose connection dropped, waiting to be resumed on a new one (XEP-0198).
pub struct Suspended {
    driver: Driver,
    commands: mpsc::UnboundedReceiver<Command>,
}

impl std::fmt::Debug for Suspended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suspended")
            .field("inbound", &self.driver.inbound)
            .field("outbound", &self.driver.outbound)
            .field("unacked", &self.driver.unacked.len())
            .finish_non_exhaustive()
    }
}

impl Suspended {
    /// What to ask the server for: the previous session id and what we received of it.
    pub fn request(&self) -> Option<ResumeRequest> {
        let info = self
            .driver
            .info
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Some(ResumeRequest {
            previd: self.driver.resumable.clone()?,
            h: self.driver.inbound,
            bound_jid: info.bound_jid.clone(),
            stream_management: info.stream_management.clone()?,
        })
    }

    /// Stanzas sent and not yet acknowledged.
    pub fn unacknowledged(&self) -> usize {
        self.driver.unacked.len()
    }

    /// How many stanzas a resumption at `h` sends again (those `h` does not cover).
    pub fn to_resend(&self, h: u32) -> usize {
        self.driver
            .unacked
            .iter()
            .filter(|u| !covers(h, u.seq))
            .count()
    }

    /// Continues the session on `conn`, which the server resumed with `<resumed h='h'/>`. The
    /// handle works again and the event stream goes on. Needs a tokio runtime.
    pub fn resume(self, conn: XmlConnection, info: SessionInfo, h: u32) {
        let Suspended {
            mut driver,
            commands,
        } = self;
        *driver.info.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(info);
        driver.conn = conn;
        driver.last_heard = Instant::now();
        driver.probe_sent = None;
        driver.interrupted.store(false, Ordering::SeqCst);
        tokio::spawn(driver.run_resumed(commands, h));
    }

    /// Ends the session (the server refused to resume it, or we stop). Returns the tags of the
    /// stanzas `h` (from the server's `<failed h='..'/>`) acknowledges; the rest never reached
    /// the server for all we know. Pending IQs fail; the event stream ends.
    pub fn abandon(mut self, h: Option<u32>) -> Vec<u64> {
        let tags = h.map(|h| self.driver.settle(h)).unwrap_or_default();
        for (_, p) in self.driver.pending_iqs.drain() {
            let _ = p.reply.send(Err(IqError::Disconnected));
        }
        tags
    }
}

/// Which messages belong to an IQ's answer, and how many at most (more are dropped: the request
/// said how many it wanted).
pub struct Collect {
    pub accepts: Box<dyn Fn(&Message) -> bool + Send>,
    pub limit: usize,
}

/// An IQ on its way (see [`SessionHandle::send_iq`]).
pub struct IqInFlight(oneshot::Receiver<Result<IqAnswer, IqError>>);

impl IqInFlight {
    /// The answer's payload.
    pub async fn answer(self) -> Result<Option<Element>, IqError> {
        Ok(self.0.await.unwrap_or(Err(IqError::Disconnected))?.payload)
    }
}

/// An IQ result: its payload, and the messages gathered for it (`iq_collecting`).
#[derive(Debug, Default)]
pub struct IqAnswer {
    pub payload: Option<Element>,
    pub collected: Vec<Message>,
}

struct PendingIq {
    to: Option<Jid>,
    timeout: Duration,
    deadline: Instant,
    collect: Option<(Collect, Vec<Message>)>,
    reply: oneshot::Sender<Result<IqAnswer, IqError>>,
}

/// A sent stanza the server has not acknowledged yet.
struct Unacked {
    seq: u32,
    tag: Option<u64>,
    /// Kept for a resend after resumption (only when the session is resumable).
    text: Option<String>,
}

struct Driver {
    conn: XmlConnection,
    own: jid::FullJid,
    sm_enabled: bool,
    /// The stream-management id when the server allows resuming this session.
    resumable: Option<String>,
    info: Arc<Mutex<Arc<SessionInfo>>>,
    interrupted: Arc<AtomicBool>,
    config: SessionConfig,
    events: mpsc::UnboundedSender<SessionEvent>,
    /// Stanzas received, modulo 2^32 (XEP-0198 `h`).
    inbound: u32,
    /// Stanzas sent, modulo 2^32.
    outbound: u32,
    /// Sent stanzas not yet acknowledged, oldest first.
    unacked: VecDeque<Unacked>,
    pending_iqs: HashMap<String, PendingIq>,
    last_heard: Instant,
    probe_sent: Option<Instant>,
    ping_seq: u64,
    /// Stanzas written since the last ack request.
    since_ack_request: u32,
}

enum Flow {
    Continue,
    Stop(Disconnect),
}

impl Driver {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; READ_CHUNK];
        // Stanzas the server sent in the same read as the end of negotiation (e.g. right after
        // `<enabled/>`) were parsed then; they belong to the session.
        let early: Vec<StreamEvent> = self.conn.pending.drain(..).collect();
        if let Flow::Stop(reason) = self.on_events(early).await {
            self.finish(reason, commands).await;
            return;
        }
        let reason = loop {
            let next_deadline = self.next_deadline();
            let flow = tokio::select! {
                read = self.conn.stream.read(&mut buf) => match read {
                    Ok(0) => Flow::Stop(Disconnect::Error(ConnectError::Io(
                        "the connection was closed without ending the stream".into(),
                    ))),
                    Ok(n) => self.on_bytes(buf.get(..n).unwrap_or_default()).await,
                    Err(e) => Flow::Stop(Disconnect::Error(ConnectError::Io(e.to_string()))),
                },
                cmd = commands.recv() => match cmd {
                    None => Flow::Stop(Disconnect::Requested),
                    Some(first) => self.on_commands(first, &mut commands).await,
                },
                _ = tokio::time::sleep_until(next_deadline) => self.on_timer().await,
            };
            if let Flow::Stop(reason) = flow {
                break reason;
            }
        };
        self.finish(reason, commands).await;
    }

    /// Continues on a resumed connection: what `h` acknowledges is settled, the rest of the
    /// unacknowledged tail goes out again, in order, with its original sequence numbers.
    async fn run_resumed(mut self, commands: mpsc::UnboundedReceiver<Command>, h: u32) {
        self.ack_up_to(h);
        let mut tail: String = self
            .unacked
            .iter()
            .filter_map(|u| u.text.as_deref())
            .collect();
        let resent = self.unacked.len();
        if resent > 0 {
            tail.push_str("<r xmlns='urn:xmpp:sm:3'/>");
            self.since_ack_request = 0;
            tracing::debug!(resent, "resending the unacknowledged tail");
            if let Err(e) = self.write(&tail).await.and(self.flush().await) {
                self.finish(Disconnect::Error(e), commands).await;
                return;
            }
        }
        self.run(commands).await;
    }

    fn next_deadline(&self) -> Instant {
        let probe = match self.probe_sent {
            Some(sent) => sent + self.config.ping_timeout,
            None => self.last_heard + self.config.idle_before_ping,
        };
        self.pending_iqs
            .values()
            .map(|p| p.deadline)
            .fold(probe, Instant::min)
    }

    async fn write(&mut self, text: &str) -> Result<(), ConnectError> {
        log_wire("SEND", text.as_bytes());
        self.conn.stream.write_all(text.as_bytes()).await?;
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ConnectError> {
        self.conn.stream.flush().await?;
        Ok(())
    }

    fn count_outbound(&mut self, tag: Option<u64>, text: &str) {
        self.outbound = self.outbound.wrapping_add(1);
        self.since_ack_request = self.since_ack_request.saturating_add(1);
        // Without stream management only tagged stanzas wait for the ping-based ack.
        if self.sm_enabled || tag.is_some() {
            self.unacked.push_back(Unacked {
                seq: self.outbound,
                tag,
                text: self.resumable.as_ref().map(|_| text.to_string()),
            });
        }
    }

    /// Writes a burst of queued commands, then one ack request for all of them.
    async fn on_commands(
        &mut self,
        first: Command,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Flow {
        let mut next = Some(first);
        let mut wrote_stanza = false;
        let mut closing = None;
        // One write (one TLS record, few TCP segments) for the whole burst: the server then
        // parses it in a few reads instead of one per stanza.
        let mut batch = String::new();
        while let Some(cmd) = next.take() {
            match cmd {
                Command::Stanza { text, tag } => {
                    self.count_outbound(tag, &text);
                    wrote_stanza = true;
                    batch.push_str(&text);
                    self.request_ack_after(ACK_REQUEST_EVERY, &mut batch);
                }
                Command::Nonza { text } => batch.push_str(&text),
                Command::Iq {
                    id,
                    text,
                    to,
                    timeout,
                    collect,
                    reply,
                } => {
                    self.count_outbound(None, &text);
                    wrote_stanza = true;
                    let deadline = Instant::now() + timeout;
                    self.pending_iqs.insert(
                        id,
                        PendingIq {
                            to,
                            timeout,
                            deadline,
                            collect: collect.map(|c| (c, Vec::new())),
                            reply,
                        },
                    );
                    batch.push_str(&text);
                }
                Command::Close { done } => {
                    closing = Some(done);
                    break;
                }
            }
            if batch.len() >= WRITE_BATCH_BYTES {
                if let Err(e) = self.write(&batch).await {
                    return Flow::Stop(Disconnect::Error(e));
                }
                batch.clear();
            }
            next = commands.try_recv().ok();
        }
        if wrote_stanza {
            let request = if self.sm_enabled {
                // The end of a burst: whatever is not covered yet gets its request now.
                self.request_ack_after(1, &mut batch);
                None
            } else if self.unacked.iter().any(|u| u.tag.is_some()) {
                // No stream management: the server handles our stanzas in order, so its answer
                // to a ping sent after them acknowledges them all.
                let upto = self.outbound;
                let ping = format!(
                    "<iq xmlns='jabber:client' type='get' id='{ACK_PING_PREFIX}{upto}'><ping xmlns='urn:xmpp:ping'/></iq>"
                );
                self.count_outbound(None, &ping);
                Some(ping)
            } else {
                None
            };
            if let Some(request) = request {
                batch.push_str(&request);
            }
        }
        if !batch.is_empty()
            && let Err(e) = self.write(&batch).await
        {
            return Flow::Stop(Disconnect::Error(e));
        }
        if let Err(e) = self.flush().await {
            return Flow::Stop(Disconnect::Error(e));
        }
        if let Some(done) = closing {
            self.close_stream().await;
            let _ = done.send(());
            return Flow::Stop(Disconnect::Requested);
        }
        Flow::Continue
    }

    async fn close_stream(&mut self) {
        if self.sm_enabled {
            // Acknowledge what we received (the server would otherwise treat it as undelivered
            // and requeue it: ejabberd stores it offline and pushes for it again), and ask for a
            // final ack so the caller learns what the server got before we leave.
            let acks = format!(
                "<a xmlns='urn:xmpp:sm:3' h='{}'/><r xmlns='urn:xmpp:sm:3'/>",
                self.inbound
            );
            let _ = self.write(&acks).await;
        }
        let _ = self.write(xml::STREAM_CLOSE).await;
        let _ = self.flush().await;
        // Wait briefly for the server's own close (and the final ack) so nothing is cut short.
        let mut buf = vec![0u8; READ_CHUNK];
        let until = Instant::now() + Duration::from_secs(2);
        loop {
            match tokio::time::timeout_at(until, self.conn.stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    let Ok(events) = self.conn.reader.feed(buf.get(..n).unwrap_or_default()) else {
                        break;
                    };
                    let mut ended = false;
                    for ev in events {
                        match ev {
                            StreamEvent::Stanza(e) if e.is("a", ns::SM) => self.on_ack(&e),
                            StreamEvent::End => ended = true,
                            _ => {}
                        }
                    }
                    if ended {
                        break;
                    }
                }
                _ => break,
            }
        }
        let _ = self.conn.stream.shutdown().await;
    }

    async fn on_timer(&mut self) -> Flow {
        let now = Instant::now();
        // Expired IQs fail with a timeout.
        let expired: Vec<String> = self
            .pending_iqs
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(p) = self.pending_iqs.remove(&id) {
                let _ = p.reply.send(Err(IqError::Timeout(p.timeout)));
            }
        }
        match self.probe_sent {
            Some(sent) if now >= sent + self.config.ping_timeout => {
                return Flow::Stop(Disconnect::Dead);
            }
            Some(_) => {}
            None if now >= self.last_heard + self.config.idle_before_ping => {
                self.probe_sent = Some(now);
                let probe = if self.sm_enabled {
                    "<r xmlns='urn:xmpp:sm:3'/>".to_string()
                } else {
                    self.ping_seq += 1;
                    let ping = format!(
                        "<iq xmlns='jabber:client' type='get' id='linnet-ping-{}'><ping xmlns='urn:xmpp:ping'/></iq>",
                        self.ping_seq
                    );
                    self.count_outbound(None, &ping);
                    ping
                };
                if let Err(e) = self.write(&probe).await.and(self.flush().await) {
                    return Flow::Stop(Disconnect::Error(e));
                }
            }
            None => {}
        }
        Flow::Continue
    }

    async fn on_bytes(&mut self, bytes: &[u8]) -> Flow {
        self.last_heard = Instant::now();
        self.probe_sent = None;
        let events = match self.conn.reader.feed(bytes) {
            Ok(events) => events,
            Err(e) => return Flow::Stop(Disconnect::Error(ConnectError::Xml(e))),
        };
        log_received(&events);
        self.on_events(events).await
    }

    async fn on_events(&mut self, events: Vec<StreamEvent>) -> Flow {
        for event in events {
            let flow = match event {
                StreamEvent::Stanza(e) => self.on_element(e).await,
                StreamEvent::End => Flow::Stop(Disconnect::ServerClosed),
                StreamEvent::Header(_) => Flow::Stop(Disconnect::Error(ConnectError::Xml(
                    XmlError::UnexpectedHeader,
                ))),
            };
            if let Flow::Stop(r) = flow {
                return Flow::Stop(r);
            }
        }
        Flow::Continue
    }

    async fn on_element(&mut self, e: Element) -> Flow {
        if e.ns() == ns::SM {
            match e.name() {
                "r" => {
                    let answer = format!("<a xmlns='urn:xmpp:sm:3' h='{}'/>", self.inbound);
                    if let Err(err) = self.write(&answer).await.and(self.flush().await) {
                        return Flow::Stop(Disconnect::Error(err));
                    }
                }
                "a" => self.on_ack(&e),
                _ => tracing::debug!(name = e.name(), "ignoring stream management element"),
            }
            return Flow::Continue;
        }
        if let Some(err) = stream_error(&e) {
            return Flow::Stop(Disconnect::Error(err));
        }
        if e.ns() != ns::CLIENT {
            tracing::debug!(
                name = e.name(),
                ns = e.ns(),
                "ignoring unknown top-level element"
            );
            return Flow::Continue;
        }
        // Every stanza counts for stream management, valid or not, except those that came
        // before it was enabled.
        if self.conn.uncounted > 0 {
            self.conn.uncounted -= 1;
        } else {
            self.inbound = self.inbound.wrapping_add(1);
        }
        match e.name() {
            "message" => match Message::try_from(e) {
                Ok(m) => self.on_message(m),
                Err(err) => self.emit(SessionEvent::Dropped {
                    reason: format!("invalid message: {err}"),
                }),
            },
            "presence" => match Presence::try_from(e) {
                Ok(p) => self.emit(SessionEvent::Presence(Box::new(p))),
                Err(err) => self.emit(SessionEvent::Dropped {
                    reason: format!("invalid presence: {err}"),
                }),
            },
            "iq" => return self.on_iq(e).await,
            other => self.emit(SessionEvent::Dropped {
                reason: format!("unknown stanza <{other}/>"),
            }),
        }
        Flow::Continue
    }

    /// A message goes to the open request that collects it (`iq_collecting`), or out as an event.
    fn on_message(&mut self, m: Message) {
        let gatherer = self.pending_iqs.values_mut().find_map(|p| {
            p.collect
                .as_mut()
                .filter(|(collect, _)| (collect.accepts)(&m))
        });
        match gatherer {
            Some((collect, gathered)) if gathered.len() < collect.limit => gathered.push(m),
            Some(_) => self.emit(SessionEvent::Dropped {
                reason: "more results than the request asked for".into(),
            }),
            None => self.emit(SessionEvent::Message(Box::new(m))),
        }
    }

    /// Appends an ack request once at least `threshold` stanzas were written since the last.
    fn request_ack_after(&mut self, threshold: u32, batch: &mut String) {
        if self.sm_enabled && self.since_ack_request >= threshold {
            batch.push_str("<r xmlns='urn:xmpp:sm:3'/>");
            self.since_ack_request = 0;
        }
    }

    fn on_ack(&mut self, e: &Element) {
        let Some(h) = e.attr("h").and_then(|h| h.parse::<u32>().ok()) else {
            tracing::warn!("ack without a valid h");
            return;
        };
        self.ack_up_to(h);
    }

    /// Everything sent up to sequence number `h` reached the server.
    fn ack_up_to(&mut self, h: u32) {
        let tags = self.settle(h);
        if !tags.is_empty() {
            self.emit(SessionEvent::Acked(tags));
        }
    }

    /// Drops what `h` acknowledges from the unacknowledged queue; returns the tags dropped.
    fn settle(&mut self, h: u32) -> Vec<u64> {
        if h != self.outbound && covers(h, self.outbound) {
            // The server claims more than we ever sent: everything we sent is covered.
            tracing::warn!(h, sent = self.outbound, "ack beyond what was sent");
        }
        let mut tags = Vec::new();
        while let Some(front) = self.unacked.front() {
            if !covers(h, front.seq) {
                break;
            }
            if let Some(tag) = self.unacked.pop_front().and_then(|u| u.tag) {
                tags.push(tag);
            }
        }
        tags
    }

    async fn on_iq(&mut self, e: Element) -> Flow {
        let kind = e.attr("type").unwrap_or_default().to_string();
        let id = e.attr("id").unwrap_or_default().to_string();
        if kind == "result" || kind == "error" {
            if id.starts_with("linnet-ping-") {
                return Flow::Continue;
            }
            let from: Option<Jid> = e.attr("from").and_then(|f| Jid::new(f).ok());
            if let Some(upto) = id
                .strip_prefix(ACK_PING_PREFIX)
                .and_then(|n| n.parse::<u32>().ok())
            {
                // Only our own server may confirm what it received.
                let own_domain = self.own.domain().as_str();
                let from_server = from.as_ref().is_none_or(|f| {
                    f.as_str() == own_domain
                        || (f.resource().is_none() && f.to_bare() == self.own.to_bare())
                });
                if from_server && !self.sm_enabled {
                    self.ack_up_to(upto);
                }
                return Flow::Continue;
            }
            let Some(pending) = self.pending_iqs.get(&id) else {
                self.emit(SessionEvent::Dropped {
                    reason: format!("IQ {kind} with unknown id"),
                });
                return Flow::Continue;
            };
            if !self.response_from_ok(pending.to.as_ref(), from.as_ref()) {
                // A spoofed answer: leave the request waiting for the real one.
                self.emit(SessionEvent::Dropped {
                    reason: "IQ response from an unexpected sender".into(),
                });
                return Flow::Continue;
            }
            let Some(pending) = self.pending_iqs.remove(&id) else {
                return Flow::Continue;
            };
            let collected = pending.collect.map(|(_, c)| c).unwrap_or_default();
            let answer = match Iq::try_from(e) {
                Ok(Iq::Result { payload, .. }) => Ok(IqAnswer { payload, collected }),
                Ok(Iq::Error { error, .. }) => Err(IqError::Error(Box::new(error))),
                Ok(_) => Err(IqError::Disconnected),
                Err(err) => {
                    self.emit(SessionEvent::Dropped {
                        reason: format!("invalid IQ response: {err}"),
                    });
                    Err(IqError::Error(Box::new(StanzaError::new(
                        xmpp_parsers::stanza_error::ErrorType::Cancel,
                        xmpp_parsers::stanza_error::DefinedCondition::UndefinedCondition,
                        "en",
                        "invalid response",
                    ))))
                }
            };
            let _ = pending.reply.send(answer);
            return Flow::Continue;
        }
        match Iq::try_from(e) {
            Ok(Iq::Get {
                payload, from, id, ..
            }) if payload.is("ping", ns::PING) => {
                let mut answer = Element::builder("iq", ns::CLIENT)
                    .attr(rxml::xml_ncname!("type").into(), "result")
                    .attr(rxml::xml_ncname!("id").into(), id);
                if let Some(from) = from {
                    answer = answer.attr(rxml::xml_ncname!("to").into(), from.to_string());
                }
                let text = match xml::element_to_string(&answer.build()) {
                    Ok(t) => t,
                    Err(err) => return Flow::Stop(Disconnect::Error(ConnectError::Xml(err))),
                };
                self.count_outbound(None, &text);
                if let Err(err) = self.write(&text).await.and(self.flush().await) {
                    return Flow::Stop(Disconnect::Error(err));
                }
            }
            Ok(iq) => self.emit(SessionEvent::IqRequest(Box::new(iq))),
            Err(err) => self.emit(SessionEvent::Dropped {
                reason: format!("invalid IQ: {err}"),
            }),
        }
        Flow::Continue
    }

    fn response_from_ok(&self, to: Option<&Jid>, from: Option<&Jid>) -> bool {
        let own_bare = self.own.to_bare();
        let to_self = match to {
            None => true,
            Some(t) => t.to_bare() == own_bare && t.resource().is_none(),
        };
        match from {
            None => to_self,
            Some(f) if to_self => f.to_bare() == own_bare,
            Some(f) => Some(f) == to,
        }
    }

    fn emit(&self, event: SessionEvent) {
        if let SessionEvent::Dropped { reason } = &event {
            tracing::debug!(%reason, "dropped stanza");
        }
        let _ = self.events.send(event);
    }

    /// Whether the server would let us resume after losing the connection this way.
    fn can_resume_after(&self, reason: &Disconnect) -> bool {
        self.resumable.is_some()
            && matches!(
                reason,
                Disconnect::Dead | Disconnect::Error(ConnectError::Io(_))
            )
    }

    async fn finish(mut self, reason: Disconnect, commands: mpsc::UnboundedReceiver<Command>) {
        if self.can_resume_after(&reason) {
            tracing::debug!(?reason, unacked = self.unacked.len(), "session suspended");
            self.interrupted.store(true, Ordering::SeqCst);
            // Briefly: a stalled peer may never take the close (the socket goes with the
            // connection when the session resumes elsewhere or is abandoned).
            let _ =
                tokio::time::timeout(Duration::from_millis(200), self.conn.stream.shutdown()).await;
            let events = self.events.clone();
            let session = Box::new(Suspended {
                driver: self,
                commands,
            });
            let _ = events.send(SessionEvent::Interrupted { reason, session });
            return;
        }
        drop(commands);
        tracing::debug!(?reason, "session ended");
        if matches!(reason, Disconnect::Error(ConnectError::Xml(_))) {
            let _ = self.write("<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>").await;
            let _ = self.flush().await;
        }
        for (_, p) in self.pending_iqs.drain() {
            let _ = p.reply.send(Err(IqError::Disconnected));
        }
        let _ = self.events.send(SessionEvent::Closed(reason));
    }
}

/// Whether an acknowledgement up to `h` covers the stanza numbered `seq`. Both count modulo 2^32
/// (XEP-0198 §4), so "not after `h`" is decided on the wrapped distance: a long session whose
/// counter passed 2^32 - 1 goes on being acknowledged correctly.
fn covers(h: u32, seq: u32) -> bool {
    h.wrapping_sub(seq) < (1 << 31)
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn acknowledgements_wrap_at_two_to_the_32() {
        assert!(covers(5, 5));
        assert!(covers(6, 5));
        assert!(!covers(4, 5));
        // Across the wrap: h has passed 2^32 - 1 and started again at 0.
        assert!(covers(3, u32::MAX));
        assert!(covers(0, u32::MAX - 10));
        assert!(!covers(u32::MAX, 3));
        assert!(!covers(u32::MAX - 10, 0));
    }
}
