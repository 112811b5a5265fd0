//! One connection as the fake server sees it: the script's handle.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use linnet_xmpp::transport::ByteStream;
use linnet_xmpp::xml::{Limits, StreamEvent, StreamHeader, StreamReader};
use linnet_xmpp::{Element, FullJid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::scram::{self, ScramOptions, ScramTranscript};
use super::{Shared, TlsMode};

/// The stream management feature, for [`ServerConn::accept_bind_offering`].
pub const SM_FEATURE: &str = "<sm xmlns='urn:xmpp:sm:3'/>";

const NS_CLIENT: &str = "jabber:client";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SM: &str = "urn:xmpp:sm:3";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";

/// What the server does with the client's stream management ack requests (`<r/>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Answer with `<a h/>` counting every client stanza, and do not show `<r/>` to the script.
    Auto,
    /// Do not answer, do not show `<r/>` to the script.
    Ignore,
    /// Hand `<r/>` to the script like any other element.
    Manual,
}

/// What [`ServerConn::serve_session`] answers during the SDK's connect sequence.
#[derive(Debug, Clone)]
pub struct Basics {
    /// Bare JIDs in the roster (subscription both).
    pub roster: Vec<String>,
    pub roster_version: String,
    /// Answer the carbons enable request with a result (true) or an error (false).
    pub carbons: bool,
}

impl Default for Basics {
    fn default() -> Self {
        Self {
            roster: Vec::new(),
            roster_version: "1".into(),
            carbons: true,
        }
    }
}

/// What the client sent with PLAIN.
#[derive(Debug, Clone)]
pub struct PlainAuth {
    pub authzid: String,
    pub user: String,
    pub password: String,
    /// The base64 text of `<auth/>` as received.
    pub payload_base64: String,
}

/// Negotiated TLS on the server side.
#[derive(Debug, Clone)]
pub(crate) struct TlsDetails {
    pub(crate) version: Option<rustls::ProtocolVersion>,
    /// RFC 9266 tls-exporter channel binding data, as the server computes it.
    pub(crate) exporter: Option<Vec<u8>>,
}

/// Why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadEnd {
    Closed,
    TimedOut,
    Io(String),
    Xml(String),
}

/// The script's side of one connection. See the module documentation of `fake_server`.
pub struct ServerConn {
    index: usize,
    pub(crate) shared: Arc<Shared>,
    io: Option<Box<dyn ByteStream>>,
    reader: StreamReader,
    pending: VecDeque<StreamEvent>,
    pub(crate) tls: Option<TlsDetails>,
    timeout: Duration,
    acks: Acks,
    sm_enabled: bool,
    client_stanzas: u32,
    bound: Option<FullJid>,
    next_id: u64,
}

fn server_limits() -> Limits {
    // Lenient: the fake must see whatever the client sends, even if it is large.
    Limits {
        max_stanza_bytes: 4 * 1024 * 1024,
        max_depth: 64,
        max_header_bytes: 8 * 1024,
    }
}

impl ServerConn {
    pub(crate) fn new(index: usize, shared: Arc<Shared>, io: Box<dyn ByteStream>) -> Self {
        Self {
            index,
            shared,
            io: Some(io),
            reader: StreamReader::new(server_limits()),
            pending: VecDeque::new(),
            tls: None,
            timeout: Duration::from_secs(5),
            acks: Acks::Auto,
            sm_enabled: false,
            client_stanzas: 0,
            bound: None,
            next_id: 0,
        }
    }

    /// 0 for the first connection to this server, 1 for the second, ...
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn domain(&self) -> String {
        self.shared.config.domain.clone()
    }

    /// The account's bare JID.
    pub fn jid(&self) -> String {
        format!("{}@{}", self.shared.config.user, self.shared.config.domain)
    }

    /// The full JID bound on this connection (after [`accept_bind`](Self::accept_bind)).
    pub fn full_jid(&self) -> String {
        self.bound
            .as_ref()
            .map(|j| j.to_string())
            .expect("no resource bound yet")
    }

    /// Deadline of every read from now on.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    pub fn set_acks(&mut self, acks: Acks) {
        self.acks = acks;
    }

    /// Stanzas (message, presence, iq) received since stream management was enabled: the `h`
    /// that acknowledges all of them.
    pub fn client_stanzas(&self) -> u32 {
        self.client_stanzas
    }

    /// Negotiated TLS version, once TLS is up.
    pub fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        self.tls.as_ref().and_then(|t| t.version)
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}-{}", self.index, self.next_id)
    }

    /// Lets the test's [`FakeServer::wait_for`](super::FakeServer::wait_for) go on.
    pub fn signal(&self, name: &str) {
        self.shared.signal(name);
    }

    /// Waits (up to 5 s) for the test's [`FakeServer::signal`](super::FakeServer::signal).
    pub async fn wait_for(&mut self, name: &str) {
        self.shared.wait_for(name, Duration::from_secs(5)).await;
    }

    // ----- writing -----

    /// Sends XML text (anything: it is not checked). Panics if the client has gone.
    pub async fn send(&mut self, xml: &str) {
        self.send_raw(xml.as_bytes()).await;
    }

    /// Sends raw bytes. Panics if the client has gone.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        if let Err(e) = self.try_send_raw(bytes).await {
            panic!("fake server: cannot send to the client: {e}");
        }
    }

    pub async fn try_send(&mut self, xml: &str) -> std::io::Result<()> {
        self.try_send_raw(xml.as_bytes()).await
    }

    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let io = self.io.as_mut().expect("connection is open");
        io.write_all(bytes).await?;
        io.flush().await
    }

    // ----- reading -----

    pub(crate) async fn read_event(&mut self) -> Result<StreamEvent, ReadEnd> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            let io = self.io.as_mut().expect("connection is open");
            let n = match tokio::time::timeout(self.timeout, io.read(&mut buf)).await {
                Err(_) => return Err(ReadEnd::TimedOut),
                Ok(Ok(0)) => return Err(ReadEnd::Closed),
                Ok(Ok(n)) => n,
                // The client dropped the TLS stream without close_notify.
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(ReadEnd::Closed);
                }
                Ok(Err(e)) => return Err(ReadEnd::Io(e.to_string())),
            };
            match self.reader.feed(&buf[..n]) {
                Ok(events) => self.pending.extend(events),
                Err(e) => return Err(ReadEnd::Xml(e.to_string())),
            }
        }
    }

    /// Next top-level element from the client (stream management `<r/>` handled per
    /// [`set_acks`](Self::set_acks)). Panics on a stream header, the end of the stream, a closed
    /// connection or the deadline.
    pub async fn next(&mut self) -> Element {
        match self.next_or_closed().await {
            Some(e) => e,
            None => panic!("fake server: the client closed the connection"),
        }
    }

    /// Like [`next`](Self::next), but `None` when the client closed its stream or the connection.
    pub async fn next_or_closed(&mut self) -> Option<Element> {
        loop {
            let e = match self.read_event().await {
                Ok(StreamEvent::Stanza(e)) => e,
                Ok(StreamEvent::End) | Err(ReadEnd::Closed) => return None,
                Ok(StreamEvent::Header(h)) => panic!("fake server: unexpected stream header {h:?}"),
                Err(ReadEnd::TimedOut) => {
                    panic!(
                        "fake server: nothing from the client within {:?}",
                        self.timeout
                    )
                }
                Err(ReadEnd::Io(e)) => panic!("fake server: reading from the client failed: {e}"),
                Err(ReadEnd::Xml(e)) => panic!("fake server: the client sent invalid XML: {e}"),
            };
            if let Some(e) = self.on_element(e).await {
                return Some(e);
            }
        }
    }

    /// Counts client stanzas for stream management and handles `<r/>` per the ack mode;
    /// `None` if the element was consumed here.
    async fn on_element(&mut self, e: Element) -> Option<Element> {
        if self.sm_enabled && e.ns() == NS_CLIENT {
            self.client_stanzas = self.client_stanzas.wrapping_add(1);
        }
        if e.is("r", NS_SM) {
            match self.acks {
                Acks::Auto => {
                    let h = self.client_stanzas;
                    // The client may be on its way out; a failed ack is its problem.
                    let _ = self
                        .try_send(&format!("<a xmlns='urn:xmpp:sm:3' h='{h}'/>"))
                        .await;
                    return None;
                }
                Acks::Ignore => return None,
                Acks::Manual => {}
            }
        }
        Some(e)
    }

    /// Next element, asserting its local name.
    pub async fn expect(&mut self, name: &str) -> Element {
        let e = self.next().await;
        assert_eq!(
            e.name(),
            name,
            "fake server: expected <{name}/> from the client, got {}",
            show(&e)
        );
        e
    }

    /// Next element, asserting it is an `<iq type=kind>` whose payload is in `ns`.
    pub async fn expect_iq(&mut self, kind: &str, ns: &str) -> Element {
        let e = self.expect("iq").await;
        assert_eq!(e.attr("type"), Some(kind), "unexpected IQ {}", show(&e));
        assert!(
            e.children().any(|c| c.ns() == ns),
            "expected an IQ {kind} in {ns}, got {}",
            show(&e)
        );
        e
    }

    /// Reads until the client closes its stream or the connection; returns what it sent on the
    /// way (`<r/>` only with [`Acks::Manual`]). Answers a closing `</stream:stream>` with ours.
    pub async fn drain_until_closed(&mut self) -> Vec<Element> {
        let mut seen = Vec::new();
        loop {
            match self.read_event().await {
                Ok(StreamEvent::Stanza(e)) => seen.extend(self.on_element(e).await),
                Ok(StreamEvent::End) => {
                    let _ = self.try_send("</stream:stream>").await;
                    return seen;
                }
                Ok(StreamEvent::Header(h)) => {
                    panic!("fake server: unexpected stream header {h:?} while draining")
                }
                Err(ReadEnd::Closed) => return seen,
                Err(ReadEnd::Io(_)) => return seen,
                Err(ReadEnd::TimedOut) => panic!(
                    "fake server: the client did not close within {:?} (sent {})",
                    self.timeout,
                    seen.iter().map(show).collect::<Vec<_>>().join(", ")
                ),
                Err(ReadEnd::Xml(e)) => panic!("fake server: the client sent invalid XML: {e}"),
            }
        }
    }

    /// Asserts that the client sends nothing more (no element, no new stream header) and closes
    /// the connection.
    pub async fn expect_hangup(&mut self) {
        match self.read_event().await {
            Ok(StreamEvent::End) | Err(ReadEnd::Closed) | Err(ReadEnd::Io(_)) => {}
            Ok(other) => panic!("fake server: the client went on after the failure: {other:?}"),
            Err(ReadEnd::Xml(e)) => {
                panic!("fake server: the client went on after the failure (unparsable: {e})")
            }
            Err(ReadEnd::TimedOut) => panic!(
                "fake server: the client did not hang up within {:?}",
                self.timeout
            ),
        }
    }

    /// Closes our side: `</stream:stream>` and the end of the byte stream.
    pub async fn close(&mut self) {
        let _ = self.try_send("</stream:stream>").await;
        if let Some(io) = self.io.as_mut() {
            let _ = io.shutdown().await;
        }
    }

    // ----- stream and TLS -----

    /// Forgets what the client sent on the old stream and waits for a new header (after TLS or
    /// SASL success the client restarts the stream).
    fn restart_stream(&mut self) {
        self.reader = StreamReader::new(server_limits());
        self.pending.clear();
    }

    /// Waits for the client's stream header and answers with ours.
    pub async fn open_stream(&mut self) -> StreamHeader {
        let header = self.read_stream_header().await;
        let header_xml = self.stream_header_xml();
        self.send(&header_xml).await;
        header
    }

    /// Waits for the client's stream header (addressed to our domain) without answering.
    pub async fn read_stream_header(&mut self) -> StreamHeader {
        let header = match self.read_event().await {
            Ok(StreamEvent::Header(h)) => h,
            other => panic!("fake server: expected the client's stream header, got {other:?}"),
        };
        assert_eq!(
            header.to.as_deref(),
            Some(self.shared.config.domain.as_str()),
            "stream header addressed to the wrong domain"
        );
        header
    }

    /// Our stream header (with the XML declaration), as [`open_stream`](Self::open_stream)
    /// sends it.
    pub fn stream_header_xml(&mut self) -> String {
        let id = self.fresh_id("stream");
        format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' id='{id}' from='{}' version='1.0' xml:lang='en'>",
            self.shared.config.domain
        )
    }

    /// Sends `<stream:features>` with `inner` inside.
    pub async fn send_features(&mut self, inner: &str) {
        self.send(&format!("<stream:features>{inner}</stream:features>"))
            .await;
    }

    /// TLS as configured: STARTTLS (header, features, `<starttls/>`, `<proceed/>`, handshake) or
    /// direct TLS (handshake first). Panics if the handshake fails.
    pub async fn secure(&mut self) {
        if let Err(e) = self.try_secure().await {
            panic!("fake server: TLS handshake failed: {e}");
        }
    }

    /// Like [`secure`](Self::secure), but returns the handshake error (for certificate tests).
    pub async fn try_secure(&mut self) -> std::io::Result<()> {
        match self.shared.config.mode {
            TlsMode::StartTls => self.try_accept_starttls().await,
            TlsMode::DirectTls => self.start_tls().await,
        }
    }

    /// The STARTTLS dance: header, features with `<starttls/>`, `<proceed/>`, handshake.
    pub async fn accept_starttls(&mut self) {
        if let Err(e) = self.try_accept_starttls().await {
            panic!("fake server: TLS handshake failed: {e}");
        }
    }

    pub async fn try_accept_starttls(&mut self) -> std::io::Result<()> {
        self.open_stream().await;
        self.send_features(&format!(
            "<starttls xmlns='{NS_TLS}'><required/></starttls>"
        ))
        .await;
        let e = self.expect("starttls").await;
        assert_eq!(e.ns(), NS_TLS);
        self.send(&format!("<proceed xmlns='{NS_TLS}'/>")).await;
        self.start_tls().await
    }

    /// The TLS handshake on the raw stream, right now.
    pub async fn start_tls(&mut self) -> std::io::Result<()> {
        let raw = self.io.take().expect("connection is open");
        let acceptor = tokio_rustls::TlsAcceptor::from(self.shared.tls.clone());
        let tls = tokio::time::timeout(self.timeout, acceptor.accept(raw))
            .await
            .map_err(|_| std::io::Error::other("TLS handshake timed out"))??;
        let (_, conn) = tls.get_ref();
        let exporter = conn
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", None)
            .ok()
            .map(|k| k.to_vec());
        self.tls = Some(TlsDetails {
            version: conn.protocol_version(),
            exporter,
        });
        self.io = Some(Box::new(tls));
        self.restart_stream();
        Ok(())
    }

    // ----- SASL -----

    /// Opens the (secured) stream and offers these SASL mechanisms.
    pub async fn offer_mechanisms(&mut self, mechanisms: &[&str]) {
        self.offer_sasl(mechanisms, None, "").await;
    }

    /// Offers mechanisms plus XEP-0440 channel-binding types.
    pub async fn offer_mechanisms_with_cb(&mut self, mechanisms: &[&str], cb_types: &[&str]) {
        self.offer_sasl(mechanisms, Some(cb_types), "").await;
    }

    /// Opens the stream and offers mechanisms, optional XEP-0440 types and `extra` features.
    pub async fn offer_sasl(
        &mut self,
        mechanisms: &[&str],
        cb_types: Option<&[&str]>,
        extra: &str,
    ) {
        self.open_stream().await;
        let mut inner = format!("<mechanisms xmlns='{NS_SASL}'>");
        for m in mechanisms {
            inner.push_str(&format!("<mechanism>{m}</mechanism>"));
        }
        inner.push_str("</mechanisms>");
        if let Some(types) = cb_types {
            inner.push_str("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>");
            for t in types {
                inner.push_str(&format!("<channel-binding type='{t}'/>"));
            }
            inner.push_str("</sasl-channel-binding>");
        }
        inner.push_str(extra);
        self.send_features(&inner).await;
    }

    /// Expects `<auth mechanism='PLAIN'>`, checks the credentials and answers success (or
    /// not-authorized for a wrong password). Returns what the client sent.
    pub async fn accept_plain_auth(&mut self) -> PlainAuth {
        let auth = self.expect("auth").await;
        assert_eq!(auth.ns(), NS_SASL);
        assert_eq!(auth.attr("mechanism"), Some("PLAIN"), "{}", show(&auth));
        let payload_base64 = auth.text().trim().to_string();
        let raw = B64
            .decode(&payload_base64)
            .expect("PLAIN payload is base64");
        let parts: Vec<String> = raw
            .split(|b| *b == 0)
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        assert_eq!(
            parts.len(),
            3,
            "PLAIN payload is authzid NUL user NUL password"
        );
        let plain = PlainAuth {
            authzid: parts[0].clone(),
            user: parts[1].clone(),
            password: parts[2].clone(),
            payload_base64,
        };
        if plain.user == self.shared.config.user && plain.password == self.shared.config.password {
            self.sasl_success(None).await;
        } else {
            self.sasl_failure("not-authorized").await;
        }
        plain
    }

    /// Runs the server side of SCRAM (RFC 5802 / 7677, with channel binding) as `opts` says.
    pub async fn accept_scram(&mut self, opts: ScramOptions) -> ScramTranscript {
        scram::serve(self, opts).await
    }

    /// `<success/>` (with optional additional data) and the stream restart that follows.
    pub async fn sasl_success(&mut self, data: Option<&[u8]>) {
        let xml = match data {
            Some(d) => format!("<success xmlns='{NS_SASL}'>{}</success>", B64.encode(d)),
            None => format!("<success xmlns='{NS_SASL}'/>"),
        };
        self.send(&xml).await;
        self.restart_stream();
    }

    pub async fn sasl_failure(&mut self, condition: &str) {
        self.send(&format!(
            "<failure xmlns='{NS_SASL}'><{condition}/></failure>"
        ))
        .await;
    }

    // ----- bind and stream management -----

    /// Opens the authenticated stream, offers resource binding and binds the resource the client
    /// asks for.
    pub async fn accept_bind(&mut self) -> FullJid {
        self.accept_bind_offering("").await
    }

    /// Like [`accept_bind`](Self::accept_bind), offering `extra` features too (e.g.
    /// [`SM_FEATURE`]).
    pub async fn accept_bind_offering(&mut self, extra: &str) -> FullJid {
        self.open_stream().await;
        self.send_features(&format!("<bind xmlns='{NS_BIND}'/>{extra}"))
            .await;
        let mut first = self.next().await;
        if first.is("resume", NS_SM) {
            // This fake keeps no session once its connection is gone.
            self.send(
                "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
            )
            .await;
            first = self.next().await;
        }
        let iq = first;
        assert!(
            iq.is("iq", "jabber:client")
                && iq.attr("type") == Some("set")
                && iq.get_child("bind", NS_BIND).is_some(),
            "fake server: expected a bind request, got {}",
            show(&iq)
        );
        let resource = iq
            .get_child("bind", NS_BIND)
            .and_then(|b| b.get_child("resource", NS_BIND))
            .map(|r| r.text())
            .unwrap_or_else(|| "fake".into());
        let full = FullJid::new(&format!("{}/{}", self.jid(), resource.trim())).expect("valid JID");
        let id = iq.attr("id").unwrap_or_default().to_string();
        self.send(&format!(
            "<iq type='result' id='{id}'><bind xmlns='{NS_BIND}'><jid>{full}</jid></bind></iq>"
        ))
        .await;
        self.bound = Some(full.clone());
        full
    }

    /// Expects `<enable/>` and enables stream management; from now on client stanzas are
    /// counted.
    pub async fn enable_sm(&mut self) {
        let e = self.expect("enable").await;
        assert_eq!(e.ns(), NS_SM);
        let id = self.fresh_id("sm");
        self.send(&format!(
            "<enabled xmlns='urn:xmpp:sm:3' id='{id}' resume='true' max='300'/>"
        ))
        .await;
        self.sm_enabled = true;
        self.client_stanzas = 0;
    }

    // ----- shortcuts -----

    /// TLS, PLAIN, bind.
    pub async fn login(&mut self) {
        self.secure().await;
        self.offer_mechanisms(&["PLAIN"]).await;
        self.accept_plain_auth().await;
        self.accept_bind().await;
    }

    /// TLS, PLAIN, bind, stream management.
    pub async fn login_with_sm(&mut self) {
        self.secure().await;
        self.offer_mechanisms(&["PLAIN"]).await;
        self.accept_plain_auth().await;
        self.accept_bind_offering(SM_FEATURE).await;
        self.enable_sm().await;
    }

    /// TLS, SCRAM-SHA-256, bind.
    pub async fn login_scram(&mut self) -> ScramTranscript {
        self.secure().await;
        self.offer_mechanisms(&["SCRAM-SHA-256"]).await;
        let transcript = self.accept_scram(ScramOptions::default()).await;
        assert!(transcript.succeeded(), "SCRAM login failed: {transcript:?}");
        self.accept_bind().await;
        transcript
    }

    // ----- the SDK's session -----

    /// Answers the SDK's connect sequence with an empty roster and carbons enabled.
    pub async fn serve_session_basics(&mut self) {
        self.serve_session(Basics::default()).await;
    }

    /// Answers the roster get and the carbons enable request, then waits for the initial
    /// presence.
    pub async fn serve_session(&mut self, basics: Basics) {
        loop {
            let e = self.next().await;
            if e.is("presence", NS_CLIENT) {
                assert_eq!(e.attr("type"), None, "initial presence: {}", show(&e));
                return;
            }
            assert!(
                e.is("iq", NS_CLIENT),
                "unexpected {} during connect",
                show(&e)
            );
            let id = e.attr("id").unwrap_or_default().to_string();
            if e.get_child("query", "jabber:iq:roster").is_some() {
                let items: String = basics
                    .roster
                    .iter()
                    .map(|j| format!("<item jid='{j}' subscription='both'/>"))
                    .collect();
                self.send(&format!(
                    "<iq type='result' id='{id}'><query xmlns='jabber:iq:roster' ver='{}'>{items}</query></iq>",
                    basics.roster_version
                ))
                .await;
            } else if e.get_child("enable", "urn:xmpp:carbons:2").is_some() {
                if basics.carbons {
                    self.send(&format!("<iq type='result' id='{id}'/>")).await;
                } else {
                    self.send(&format!(
                        "<iq type='error' id='{id}'><error type='cancel'>\
                         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                    ))
                    .await;
                }
            } else {
                panic!("unexpected IQ during connect: {}", show(&e));
            }
        }
    }

    /// Sends a disco#info request from the server and waits for the SDK's answer. The SDK handles
    /// incoming stanzas in order, so everything sent before has been processed (stored, dropped,
    /// answered) when this returns. Returns what the client sent meanwhile.
    pub async fn barrier(&mut self) -> Vec<Element> {
        let id = self.fresh_id("barrier");
        let to = self.full_jid();
        self.send(&format!(
            "<iq type='get' id='{id}' from='{}' to='{to}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            self.shared.config.domain
        ))
        .await;
        let mut seen = Vec::new();
        loop {
            let e = self.next().await;
            if e.is("iq", NS_CLIENT) && e.attr("id") == Some(id.as_str()) {
                return seen;
            }
            seen.push(e);
        }
    }

    /// A result for the client's IQ `request`, with optional payload XML.
    pub async fn reply_result(&mut self, request: &Element, payload: &str) {
        let id = request.attr("id").unwrap_or_default();
        self.send(&format!("<iq type='result' id='{id}'>{payload}</iq>"))
            .await;
    }
}

/// An element as text, for assertion messages.
pub fn show(e: &Element) -> String {
    linnet_xmpp::xml::element_to_string(e).unwrap_or_else(|_| format!("<{}/>", e.name()))
}
