//! External components (XEP-0114): a service (such as the push app server) connects to an XMPP
//! server over plain TCP, proves it knows the shared secret, and then receives every stanza
//! addressed to its domain.
//!
//! The connection is split in two so that a service can work on many stanzas at once: a
//! [`ComponentStream`] that yields incoming stanzas, and a cloneable [`ComponentSender`] that
//! queues outgoing ones for a writer task. The writer also sends an XMPP ping to the server every
//! [`ComponentConfig::keepalive`]; the stream fails with [`ComponentError::Timeout`] when nothing
//! at all arrived for two intervals, so a dead link is noticed even when the TCP connection
//! lingers.
//!
//! Incoming bytes go through [`StreamReader`] with its limits, like a client stream.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use minidom::Element;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::ns;
use crate::xml::{
    Limits, NS_STREAMS, STREAM_CLOSE, StreamEvent, StreamReader, XmlError, check_outgoing_size,
    element_to_string,
};

/// Prefix of the ids of our keepalive pings; their answers are consumed by [`ComponentStream`].
const KEEPALIVE_ID_PREFIX: &str = "lnt-keepalive-";
/// Outgoing stanzas queued for the writer before [`ComponentSender::send`] waits.
const SEND_QUEUE: usize = 1024;
const READ_BUFFER: usize = 16 * 1024;

/// Where and how to connect.
#[derive(Clone)]
pub struct ComponentConfig {
    /// The component's domain, e.g. `push.example.org`.
    pub jid: String,
    pub host: String,
    pub port: u16,
    pub secret: String,
    /// How long the TCP connect plus the handshake may take.
    pub connect_timeout: Duration,
    /// Interval of the keepalive pings. The stream fails after two intervals of silence.
    pub keepalive: Duration,
    pub limits: Limits,
}

impl ComponentConfig {
    /// A configuration with the usual timeouts (10 s to connect, a ping every 60 s).
    pub fn new(jid: &str, host: &str, port: u16, secret: &str) -> Self {
        Self {
            jid: jid.to_string(),
            host: host.to_string(),
            port,
            secret: secret.to_string(),
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(60),
            limits: Limits::default(),
        }
    }
}

impl fmt::Debug for ComponentConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentConfig")
            .field("jid", &self.jid)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("secret", &"<redacted>")
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComponentError {
    /// The TCP connection failed or broke.
    #[error("network: {0}")]
    Network(String),
    /// The server refused the handshake: wrong secret or unknown component name.
    #[error("the server refused the component handshake (wrong secret or component name)")]
    NotAuthorized,
    /// Another connection holds this component address (Prosody allows one).
    #[error("another connection is already serving this component address")]
    Conflict,
    /// Any other stream error from the server.
    #[error("the server closed the stream with an error: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    StreamError {
        condition: String,
        text: Option<String>,
    },
    #[error("invalid XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// The server closed the stream, or the connection was closed on our side.
    #[error("the stream is closed")]
    Closed,
}

impl ComponentError {
    /// Whether reconnecting later may help. A refused handshake needs a configuration change.
    pub fn is_transient(&self) -> bool {
        !matches!(self, ComponentError::NotAuthorized)
    }
}

/// The incoming half: stanzas addressed to the component.
pub struct ComponentStream {
    read: OwnedReadHalf,
    reader: StreamReader,
    pending: VecDeque<StreamEvent>,
    buf: Vec<u8>,
    writer_failed: oneshot::Receiver<ComponentError>,
    silence_limit: Duration,
    last_received: Instant,
}

impl fmt::Debug for ComponentStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentStream").finish_non_exhaustive()
    }
}

/// The outgoing half. Cheap to clone; every clone feeds the same writer task.
#[derive(Clone)]
pub struct ComponentSender {
    queue: mpsc::Sender<String>,
    jid: String,
    limits: Limits,
}

impl fmt::Debug for ComponentSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentSender")
            .field("jid", &self.jid)
            .finish_non_exhaustive()
    }
}

/// Connects and authenticates. The writer task runs until every [`ComponentSender`] is dropped
/// or a write fails.
pub async fn connect(
    config: &ComponentConfig,
) -> Result<(ComponentStream, ComponentSender), ComponentError> {
    match tokio::time::timeout(config.connect_timeout, connect_inner(config)).await {
        Ok(result) => result,
        Err(_) => Err(ComponentError::Timeout("connecting the component")),
    }
}

async fn connect_inner(
    config: &ComponentConfig,
) -> Result<(ComponentStream, ComponentSender), ComponentError> {
    let tcp = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|e| ComponentError::Network(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let (read, mut write) = tcp.into_split();
    write
        .write_all(component_stream_header(&config.jid).as_bytes())
        .await
        .map_err(|e| ComponentError::Network(e.to_string()))?;

    let (writer_failed_tx, writer_failed) = oneshot::channel();
    let mut stream = ComponentStream {
        read,
        reader: StreamReader::new(config.limits),
        pending: VecDeque::new(),
        buf: vec![0; READ_BUFFER],
        writer_failed,
        silence_limit: config.keepalive.saturating_mul(2),
        last_received: Instant::now(),
    };

    let stream_id = match stream.next_event().await? {
        StreamEvent::Header(header) => header
            .id
            .ok_or_else(|| ComponentError::Protocol("the stream header has no id".into()))?,
        StreamEvent::Stanza(el) => return Err(unexpected(&el)),
        StreamEvent::End => return Err(ComponentError::Closed),
    };
    let handshake = handshake_digest(&stream_id, &config.secret);
    write
        .write_all(format!("<handshake>{handshake}</handshake>").as_bytes())
        .await
        .map_err(|e| ComponentError::Network(e.to_string()))?;
    match stream.next_event().await? {
        StreamEvent::Stanza(el) if el.is("handshake", ns::COMPONENT_ACCEPT) => {}
        StreamEvent::Stanza(el) => return Err(unexpected(&el)),
        StreamEvent::Header(_) => {
            return Err(ComponentError::Protocol("a second stream header".into()));
        }
        StreamEvent::End => return Err(ComponentError::Closed),
    }

    let (queue, outgoing) = mpsc::channel(SEND_QUEUE);
    tokio::spawn(write_loop(
        write,
        outgoing,
        config.jid.clone(),
        config.keepalive,
        writer_failed_tx,
    ));
    let sender = ComponentSender {
        queue,
        jid: config.jid.clone(),
        limits: config.limits,
    };
    stream.last_received = Instant::now();
    Ok((stream, sender))
}

/// `hex(SHA-1(stream id + secret))`, lower case (XEP-0114 section 3).
pub fn handshake_digest(stream_id: &str, secret: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(stream_id.as_bytes());
    hasher.update(secret.as_bytes());
    to_hex(&hasher.finalize())
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn component_stream_header(jid: &str) -> String {
    let mut escaped = String::with_capacity(jid.len());
    for c in jid.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '\'' => escaped.push_str("&apos;"),
            '"' => escaped.push_str("&quot;"),
            c => escaped.push(c),
        }
    }
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='{}' xmlns:stream='{NS_STREAMS}' to='{escaped}'>",
        ns::COMPONENT_ACCEPT
    )
}

fn unexpected(el: &Element) -> ComponentError {
    if el.is("error", NS_STREAMS) {
        return stream_error(el);
    }
    ComponentError::Protocol(format!("unexpected <{}> during the handshake", el.name()))
}

fn stream_error(el: &Element) -> ComponentError {
    let condition = el
        .children()
        .find(|c| c.ns() == ns::STREAM_ERRORS && c.name() != "text")
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| "undefined-condition".into());
    let text = el
        .get_child("text", ns::STREAM_ERRORS)
        .map(|t| t.text())
        .filter(|t| !t.is_empty());
    match condition.as_str() {
        "not-authorized" => ComponentError::NotAuthorized,
        "conflict" => ComponentError::Conflict,
        _ => ComponentError::StreamError { condition, text },
    }
}

async fn write_loop(
    mut write: OwnedWriteHalf,
    mut outgoing: mpsc::Receiver<String>,
    jid: String,
    keepalive: Duration,
    failed: oneshot::Sender<ComponentError>,
) {
    let server = jid.split_once('.').map(|(_, parent)| parent).unwrap_or("");
    let mut ticker = tokio::time::interval_at(Instant::now() + keepalive, keepalive);
    let mut pings: u64 = 0;
    loop {
        let text = tokio::select! {
            next = outgoing.recv() => match next {
                Some(text) => text,
                None => {
                    // Every sender is gone: close our side politely.
                    let _ = write.write_all(STREAM_CLOSE.as_bytes()).await;
                    let _ = write.shutdown().await;
                    return;
                }
            },
            _ = ticker.tick() => {
                pings += 1;
                // A ping the server answers: the reader sees traffic at least once per interval
                // while the link is alive. Addressed to the parent domain (the server's host);
                // an error answer is as good as a result for this purpose.
                format!(
                    "<iq type='get' id='{KEEPALIVE_ID_PREFIX}{pings}' from='{}' to='{}'><ping xmlns='{}'/></iq>",
                    escape_text(&jid),
                    escape_text(server),
                    ns::PING
                )
            }
        };
        if let Err(e) = write.write_all(text.as_bytes()).await {
            let _ = failed.send(ComponentError::Network(e.to_string()));
            return;
        }
    }
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

impl ComponentSender {
    /// The component's own JID (its domain).
    pub fn jid(&self) -> &str {
        &self.jid
    }

    /// Queues a stanza. Waits when the writer is behind; fails when the connection is gone.
    /// Build stanzas in `jabber:client` (they inherit the stream's `jabber:component:accept`)
    /// or in `jabber:component:accept`.
    pub async fn send(&self, stanza: &Element) -> Result<(), ComponentError> {
        let text = element_to_string(stanza)?;
        check_outgoing_size(&text, &self.limits)?;
        self.queue
            .send(text)
            .await
            .map_err(|_| ComponentError::Closed)
    }

    /// Whether the writer task has stopped (connection lost or closed).
    pub fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }
}

impl ComponentStream {
    /// The next stanza addressed to the component. Answers to our keepalive pings are consumed
    /// here. Every error is final: reconnect with [`connect`].
    pub async fn next(&mut self) -> Result<Element, ComponentError> {
        loop {
            match self.next_event().await? {
                StreamEvent::Stanza(el) => {
                    if el.is("error", NS_STREAMS) {
                        return Err(stream_error(&el));
                    }
                    if is_keepalive_answer(&el) {
                        continue;
                    }
                    return Ok(el);
                }
                StreamEvent::Header(_) => {
                    return Err(ComponentError::Protocol("a second stream header".into()));
                }
                StreamEvent::End => return Err(ComponentError::Closed),
            }
        }
    }

    async fn next_event(&mut self) -> Result<StreamEvent, ComponentError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let deadline = self.last_received + self.silence_limit;
            let read = tokio::select! {
                read = self.read.read(&mut self.buf) => read,
                failed = &mut self.writer_failed => {
                    return Err(failed.unwrap_or(ComponentError::Closed));
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(ComponentError::Timeout("no traffic from the server"));
                }
            };
            let n = read.map_err(|e| ComponentError::Network(e.to_string()))?;
            if n == 0 {
                return Err(ComponentError::Network(
                    "the server closed the connection".into(),
                ));
            }
            self.last_received = Instant::now();
            let bytes = self.buf.get(..n).unwrap_or_default();
            self.pending.extend(self.reader.feed(bytes)?);
        }
    }
}

fn is_keepalive_answer(el: &Element) -> bool {
    el.name() == "iq"
        && matches!(el.attr("type"), Some("result") | Some("error"))
        && el
            .attr("id")
            .is_some_and(|id| id.starts_with(KEEPALIVE_ID_PREFIX))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use rxml::xml_ncname as n;
    use tokio::io::AsyncBufReadExt;
    use tokio::net::TcpListener;

    #[test]
    fn handshake_digest_matches_the_xep_example() {
        // Stream id and secret of XEP-0114's example; the digest computed independently
        // (Python: hashlib.sha1(b"3BF96D32sesame").hexdigest()).
        assert_eq!(
            handshake_digest("3BF96D32", "sesame"),
            "7a98dc4c9e92493d7fd66a25364c862637789c45"
        );
    }

    /// A one-shot fake server: reads our header, sends its own, reads the handshake and answers
    /// with `reply` (after checking the digest when `reply` is a success).
    async fn fake_server(reply: &'static str) -> (u16, tokio::task::JoinHandle<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !String::from_utf8_lossy(&got).contains("push.example'>") {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8_lossy(&got).to_string();
            assert!(head.contains("xmlns='jabber:component:accept'"), "{head}");
            sock.write_all(
                b"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
                  xmlns='jabber:component:accept' from='push.example' id='3BF96D32'>",
            )
            .await
            .unwrap();
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("</handshake>") {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            let expected = format!(
                "<handshake>{}</handshake>",
                handshake_digest("3BF96D32", "sesame")
            );
            assert_eq!(String::from_utf8_lossy(&got), expected);
            sock.write_all(reply.as_bytes()).await.unwrap();
            sock
        });
        (port, task)
    }

    fn config(port: u16) -> ComponentConfig {
        ComponentConfig::new("push.example", "127.0.0.1", port, "sesame")
    }

    #[tokio::test]
    async fn connects_receives_and_sends() {
        let (port, server) = fake_server("<handshake/>").await;
        let (mut stream, sender) = connect(&config(port)).await.unwrap();
        let sock = server.await.unwrap();
        let (read, mut write) = sock.into_split();

        write
            .write_all(b"<iq type='get' id='1' from='a.example' to='push.example'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>")
            .await
            .unwrap();
        let iq = stream.next().await.unwrap();
        assert!(iq.is("iq", "jabber:component:accept"));
        assert_eq!(iq.attr("id"), Some("1"));

        let reply = Element::builder("iq", ns::CLIENT)
            .attr(n!("type").into(), "result")
            .attr(n!("id").into(), "1")
            .build();
        sender.send(&reply).await.unwrap();
        let mut lines = tokio::io::BufReader::new(read);
        let mut buf = vec![0u8; 256];
        let n = lines.read(&mut buf).await.unwrap();
        let sent = String::from_utf8_lossy(&buf[..n]).to_string();
        // No xmlns: the element inherits the stream's jabber:component:accept.
        assert!(sent.starts_with("<iq ") && sent.ends_with("/>"), "{sent}");
        assert!(
            sent.contains("type='result'") && sent.contains("id='1'"),
            "{sent}"
        );
        assert!(!sent.contains("xmlns"), "{sent}");
        drop(sender);
        let mut rest = String::new();
        lines.read_line(&mut rest).await.unwrap();
        assert_eq!(rest, STREAM_CLOSE);
    }

    #[tokio::test]
    async fn refused_handshake_is_not_authorized() {
        let (port, _server) = fake_server(
            "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        )
        .await;
        assert_eq!(
            connect(&config(port)).await.unwrap_err(),
            ComponentError::NotAuthorized
        );
    }

    #[tokio::test]
    async fn second_instance_gets_conflict() {
        let (port, _server) = fake_server(
            "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Component already connected</text></stream:error>",
        )
        .await;
        let err = connect(&config(port)).await.unwrap_err();
        assert_eq!(err, ComponentError::Conflict);
        assert!(err.is_transient());
    }

    #[tokio::test]
    async fn nothing_listening_is_a_network_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        assert!(matches!(
            connect(&config(port)).await.unwrap_err(),
            ComponentError::Network(_)
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn keepalive_pings_and_silence_is_noticed() {
        let (port, server) = fake_server("<handshake/>").await;
        let mut cfg = config(port);
        cfg.keepalive = Duration::from_secs(60);
        let (mut stream, _sender) = connect(&cfg).await.unwrap();
        let sock = server.await.unwrap();
        let (mut read, mut write) = sock.into_split();
        // The server answers the first ping: the answer is swallowed, and the link stays up.
        let mut buf = vec![0u8; 512];
        let next = tokio::spawn(async move {
            let r = stream.next().await;
            (stream, r)
        });
        let n = read.read(&mut buf).await.unwrap();
        let ping = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(ping.contains("urn:xmpp:ping"), "{ping}");
        assert!(ping.contains("to='example'"), "{ping}");
        write
            .write_all(b"<iq type='result' id='lnt-keepalive-1' from='example' to='push.example'/>")
            .await
            .unwrap();
        // Then silence: after two intervals without traffic the stream fails.
        let (_stream, result) = next.await.unwrap();
        assert_eq!(
            result.unwrap_err(),
            ComponentError::Timeout("no traffic from the server")
        );
    }

    #[tokio::test]
    async fn stream_error_after_connecting_is_reported() {
        let (port, server) = fake_server("<handshake/>").await;
        let (mut stream, _sender) = connect(&config(port)).await.unwrap();
        let mut sock = server.await.unwrap();
        sock.write_all(
            b"<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        )
        .await
        .unwrap();
        assert_eq!(
            stream.next().await.unwrap_err(),
            ComponentError::StreamError {
                condition: "system-shutdown".into(),
                text: None
            }
        );
    }
}
