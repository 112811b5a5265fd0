//! The client side of fake-server tests: an SDK client, a bare protocol-layer session, and a log
//! capture for the redaction tests.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_sdk::{ArchiveConfig, Client, ClientConfig, ClientEvent, ConnectionState, Linnet};
use linnet_xmpp::session::{self, Disconnect, SessionConfig, SessionEvent, SessionHandle};
use tokio::sync::{broadcast, mpsc};

use super::FakeServer;

/// Client timers for tests: answers come within milliseconds from the fake, so nothing needs
/// the production deadlines. No automatic archive sync: scripted conversations say exactly
/// what the client sends (archive tests call `sync_archive` themselves).
pub fn fast_config() -> ClientConfig {
    ClientConfig {
        session: SessionConfig {
            idle_before_ping: Duration::from_secs(30),
            ping_timeout: Duration::from_secs(10),
            iq_timeout: Duration::from_secs(5),
        },
        step_timeout: Some(Duration::from_secs(5)),
        archive: ArchiveConfig {
            auto_sync: false,
            ..ArchiveConfig::default()
        },
        ..ClientConfig::default()
    }
}

/// A `Linnet` with its own data directory and the fake server's account, not yet connected.
pub struct FakeClient {
    pub linnet: Linnet,
    pub client: Client,
    /// Subscribed before anything happened: nothing is missed.
    pub events: broadcast::Receiver<ClientEvent>,
    pub dir: tempfile::TempDir,
}

impl FakeClient {
    pub fn new(server: &FakeServer) -> Self {
        Self::with_config(server, fast_config())
    }

    pub fn with_config(server: &FakeServer, config: ClientConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let linnet = Linnet::open(dir.path())
            .unwrap()
            .with_connector(server.connector())
            .with_config(config);
        linnet
            .add_account(
                &server.jid(),
                server.config().password.as_str().into(),
                server.account_settings(),
            )
            .unwrap();
        let client = linnet.client(None).unwrap();
        let events = client.subscribe();
        FakeClient {
            linnet,
            client,
            events,
            dir,
        }
    }

    /// A client that connected successfully.
    pub async fn connected(server: &FakeServer) -> Self {
        let c = Self::new(server);
        if let Err(e) = c.client.connect().await {
            // A script failure explains more than the client's view of it.
            server.finish().await;
            panic!("connecting to the fake server failed: {e:?}");
        }
        c
    }

    pub fn account_id(&self) -> i64 {
        self.client.account().id
    }

    /// Events received so far, without waiting.
    pub fn drain_events(&mut self) -> Vec<ClientEvent> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(e) => out.push(e),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return out,
            }
        }
    }

    /// Waits for the first event for which `pred` returns something.
    pub async fn wait_event<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&ClientEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => panic!("timed out after {timeout:?} waiting for {what}"),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(e)) => panic!("event stream ended waiting for {what}: {e}"),
                Ok(Ok(ev)) => {
                    if let Some(v) = pred(&ev) {
                        return v;
                    }
                }
            }
        }
    }

    /// Waits for `ConnectionState::Disconnected` and returns its reason.
    pub async fn wait_disconnected(&mut self, timeout: Duration) -> String {
        self.wait_event("disconnection", timeout, |e| match e {
            ClientEvent::Connection(ConnectionState::Disconnected { reason, .. }) => {
                Some(reason.clone())
            }
            _ => None,
        })
        .await
    }

    /// Every stored message of the account, all conversations.
    pub fn all_messages(&self) -> Vec<linnet_sdk::Message> {
        let mut out = Vec::new();
        for chat in self.client.chats().unwrap() {
            out.extend(
                self.client
                    .history(&chat.conversation.peer, 1000, None)
                    .unwrap(),
            );
        }
        out
    }

    /// Asserts that a dropped stanza left no trace: no conversation stored and no message event.
    pub fn assert_nothing_stored(&mut self) {
        assert!(
            self.client.chats().unwrap().is_empty(),
            "{:?}",
            self.all_messages()
        );
        let messages: Vec<_> = self
            .drain_events()
            .into_iter()
            .filter(|e| matches!(e, ClientEvent::Message(_)))
            .collect();
        assert!(messages.is_empty(), "{messages:?}");
    }
}

/// A protocol-layer session (`linnet_xmpp::session`) over the fake server, without the SDK.
pub struct SessionClient {
    pub handle: SessionHandle,
    pub events: mpsc::UnboundedReceiver<SessionEvent>,
}

impl SessionClient {
    /// Negotiates with the fake server and starts a session with `config`. Panics (after
    /// surfacing a script failure) if negotiation fails.
    pub async fn start(server: &FakeServer, config: SessionConfig) -> Self {
        match server.negotiate().await {
            Ok((conn, info)) => {
                let (handle, events) = session::start(conn, info, config);
                SessionClient { handle, events }
            }
            Err(e) => {
                server.finish().await;
                panic!("negotiation with the fake server failed: {e:?}");
            }
        }
    }

    /// Next session event within `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> SessionEvent {
        match tokio::time::timeout(timeout, self.events.recv()).await {
            Err(_) => panic!("no session event within {timeout:?}"),
            Ok(None) => panic!("the session's event channel closed"),
            Ok(Some(e)) => e,
        }
    }

    /// Skips events until the session reports its end; returns the reason and what came before.
    pub async fn wait_closed(&mut self, timeout: Duration) -> (Disconnect, Vec<SessionEvent>) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut before = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => panic!("session still open after {timeout:?}; events: {before:?}"),
                Ok(None) => panic!("event channel closed without a Closed event"),
                Ok(Some(SessionEvent::Closed(reason))) => return (reason, before),
                Ok(Some(other)) => before.push(other),
            }
        }
    }
}

/// Captures formatted log output in memory (for the redaction tests).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
