//! The server's connection loop against an in-process XEP-0114 peer: answers over the wire,
//! saturation, reconnecting after a lost link, standing by while the address is taken, and
//! giving up on a refused secret.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use linnet_push::config::HashKey;
use linnet_push::provider::{ProviderError, PushProvider, Wakeup};
use linnet_push::server::{LinkState, Providers, PushServer, PushService, ServerError};
use linnet_push::store_sqlite::SqliteStore;
use linnet_xmpp::adhoc;
use linnet_xmpp::component::{ComponentConfig, ComponentError, handshake_digest};
use linnet_xmpp::xml::{Limits, StreamEvent, StreamReader};
use linnet_xmpp::{Element, ns};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, mpsc};

const JID: &str = "push.example.org";
const SECRET: &str = "sesame";
const WAIT: Duration = Duration::from_secs(10);

/// The XMPP server's side of one component connection.
struct Peer {
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    reader: StreamReader,
    pending: VecDeque<StreamEvent>,
}

impl Peer {
    async fn event(&mut self) -> StreamEvent {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return e;
            }
            let mut buf = vec![0u8; 8192];
            let n = self.read.read(&mut buf).await.unwrap();
            assert!(n > 0, "the component closed the connection");
            self.pending.extend(self.reader.feed(&buf[..n]).unwrap());
        }
    }

    /// Accepts a connection and answers its handshake with `answer`, or with success when
    /// `None` (after checking the digest).
    async fn accept(listener: &TcpListener, answer: Option<&str>) -> Peer {
        let (sock, _) = tokio::time::timeout(WAIT, listener.accept())
            .await
            .expect("the component did not connect")
            .unwrap();
        let (read, write) = sock.into_split();
        let mut peer = Peer {
            read,
            write,
            reader: StreamReader::new(Limits::default()),
            pending: VecDeque::new(),
        };
        let StreamEvent::Header(header) = peer.event().await else {
            panic!("no stream header");
        };
        assert_eq!(header.to.as_deref(), Some(JID));
        peer.send(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' \
             xmlns:stream='http://etherx.jabber.org/streams' from='push.example.org' id='s1'>",
        )
        .await;
        let StreamEvent::Stanza(handshake) = peer.event().await else {
            panic!("no handshake");
        };
        assert_eq!(handshake.text(), handshake_digest("s1", SECRET));
        peer.send(answer.unwrap_or("<handshake/>")).await;
        peer
    }

    async fn send(&mut self, xml: &str) {
        self.write.write_all(xml.as_bytes()).await.unwrap();
    }

    async fn stanza(&mut self) -> Element {
        match tokio::time::timeout(WAIT, self.event()).await.unwrap() {
            StreamEvent::Stanza(el) => el,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Blocks every send until the test lets it through; reports each send as it starts.
struct GatedProvider {
    gate: Semaphore,
    started: mpsc::UnboundedSender<()>,
}

#[async_trait]
impl PushProvider for GatedProvider {
    async fn send(&self, _wakeup: &Wakeup) -> Result<(), ProviderError> {
        let _ = self.started.send(());
        self.gate.acquire().await.unwrap().forget();
        Ok(())
    }
}

struct Setup {
    server: Arc<PushServer>,
    listener: TcpListener,
    provider: Arc<GatedProvider>,
    started: mpsc::UnboundedReceiver<()>,
    _dir: tempfile::TempDir,
}

async fn setup(max_in_flight: usize) -> Setup {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("reg.db")).unwrap());
    let (tx, started) = mpsc::unbounded_channel();
    let provider = Arc::new(GatedProvider {
        gate: Semaphore::new(0),
        started: tx,
    });
    let service = PushService::new(
        JID,
        store,
        Providers {
            apns: None,
            fcm: Some(provider.clone()),
        },
        HashKey(vec![3; 32]),
        Duration::from_millis(1),
    );
    let server = Arc::new(PushServer::new(
        ComponentConfig::new(JID, "127.0.0.1", port, SECRET),
        Arc::new(service),
        max_in_flight,
    ));
    Setup {
        server,
        listener,
        provider,
        started,
        _dir: dir,
    }
}

fn serve(server: &Arc<PushServer>) -> tokio::task::JoinHandle<Result<(), ServerError>> {
    let server = server.clone();
    tokio::spawn(async move { server.serve().await })
}

/// Registers a device through the handler directly; returns (node, secret).
async fn register(server: &PushServer) -> (String, String) {
    let mut iq: Element = format!(
        "<iq xmlns='jabber:component:accept' type='set' id='r' from='a@a.example/x' to='{JID}'/>"
    )
    .parse()
    .unwrap();
    iq.append_child(adhoc::execute(
        "register-push-fcm",
        &[("token", "fcm-token-1"), ("device-id", "d")],
    ));
    let answer = server.service().handle(&iq).await.unwrap();
    let response =
        adhoc::parse_response(answer.get_child("command", ns::COMMANDS).unwrap()).unwrap();
    (
        response.fields["node"].clone(),
        response.fields["secret"].clone(),
    )
}

fn publish_xml(id: &str, node: &str, secret: &str) -> String {
    format!(
        "<iq type='set' id='{id}' from='a.example' to='{JID}'>\
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{node}'><item>\
         <notification xmlns='urn:xmpp:push:0'/></item></publish>\
         <publish-options><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
         <field var='secret'><value>{secret}</value></field></x></publish-options></pubsub></iq>"
    )
}

fn condition(answer: &Element) -> Option<String> {
    let error = answer.children().find(|c| c.name() == "error")?;
    Some(format!(
        "{}/{}",
        error.attr("type").unwrap_or_default(),
        error
            .children()
            .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
            .map(|c| c.name().to_string())
            .unwrap_or_default()
    ))
}

#[tokio::test]
async fn every_iq_is_answered_over_the_wire() {
    let s = setup(16).await;
    let serving = serve(&s.server);
    let mut peer = Peer::accept(&s.listener, None).await;
    peer.send(&format!(
        "<iq type='get' id='1' from='a@a.example/x' to='{JID}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
         <iq type='set' id='2' from='a@a.example/x' to='{JID}'><query xmlns='jabber:iq:register'/></iq>\
         <iq type='get' id='3' from='a.example' to='{JID}'><ping xmlns='urn:xmpp:ping'/></iq>\
         {}",
        publish_xml("4", "unknown", "x")
    ))
    .await;
    let mut answers = HashMap::new();
    for _ in 0..4 {
        let answer = peer.stanza().await;
        assert_eq!(answer.attr("from"), Some(JID));
        answers.insert(answer.attr("id").unwrap().to_string(), answer);
    }
    assert_eq!(answers["1"].attr("type"), Some("result"));
    assert_eq!(answers["1"].attr("to"), Some("a@a.example/x"));
    assert_eq!(
        condition(&answers["2"]).as_deref(),
        Some("cancel/service-unavailable")
    );
    assert_eq!(answers["3"].attr("type"), Some("result"));
    assert_eq!(
        condition(&answers["4"]).as_deref(),
        Some("cancel/item-not-found")
    );
    serving.abort();
}

#[tokio::test]
async fn saturated_server_answers_wait() {
    let mut s = setup(1).await;
    let (node, secret) = register(&s.server).await;
    let serving = serve(&s.server);
    let mut peer = Peer::accept(&s.listener, None).await;
    peer.send(&publish_xml("p1", &node, &secret)).await;
    // The first publish is at the provider and holds the only slot.
    tokio::time::timeout(WAIT, s.started.recv())
        .await
        .unwrap()
        .unwrap();
    peer.send(&publish_xml("p2", &node, &secret)).await;
    let busy = peer.stanza().await;
    assert_eq!(busy.attr("id"), Some("p2"));
    assert_eq!(
        condition(&busy).as_deref(),
        Some("wait/resource-constraint")
    );
    s.provider.gate.add_permits(1);
    let done = peer.stanza().await;
    assert_eq!(done.attr("id"), Some("p1"));
    assert_eq!(done.attr("type"), Some("result"));
    let stats = s.server.service().stats().snapshot();
    assert_eq!((stats.busy, stats.forwarded), (1, 1));
    serving.abort();
}

#[tokio::test]
async fn reconnects_after_the_link_drops() {
    let s = setup(16).await;
    let mut connected = s.server.link_state();
    let serving = serve(&s.server);
    let peer = Peer::accept(&s.listener, None).await;
    connected
        .wait_for(|l| *l == LinkState::Connected)
        .await
        .unwrap();
    drop(peer);
    tokio::time::timeout(WAIT, connected.wait_for(|l| *l != LinkState::Connected))
        .await
        .unwrap()
        .unwrap();
    let mut peer = Peer::accept(&s.listener, None).await;
    tokio::time::timeout(WAIT, connected.wait_for(|l| *l == LinkState::Connected))
        .await
        .unwrap()
        .unwrap();
    peer.send(&format!(
        "<iq type='get' id='again' from='a.example' to='{JID}'><ping xmlns='urn:xmpp:ping'/></iq>"
    ))
    .await;
    assert_eq!(peer.stanza().await.attr("id"), Some("again"));
    serving.abort();
}

#[tokio::test]
async fn stands_by_while_the_address_is_taken() {
    let s = setup(16).await;
    let mut connected = s.server.link_state();
    let serving = serve(&s.server);
    let _refused = Peer::accept(
        &s.listener,
        Some(
            "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        ),
    )
    .await;
    tokio::time::timeout(WAIT, connected.wait_for(|l| *l == LinkState::Standby))
        .await
        .unwrap()
        .unwrap();
    // It tries again and takes over once the address is free.
    let _peer = Peer::accept(&s.listener, None).await;
    tokio::time::timeout(WAIT, connected.wait_for(|l| *l == LinkState::Connected))
        .await
        .unwrap()
        .unwrap();
    serving.abort();
}

#[tokio::test]
async fn a_refused_secret_stops_the_server() {
    let s = setup(16).await;
    let serving = serve(&s.server);
    let _peer = Peer::accept(
        &s.listener,
        Some(
            "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        ),
    )
    .await;
    let result = tokio::time::timeout(WAIT, serving).await.unwrap().unwrap();
    assert!(matches!(
        result,
        Err(ServerError::Component(ComponentError::NotAuthorized))
    ));
}
