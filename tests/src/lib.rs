//! Shared helpers for Linnet's integration tests: the local servers started by
//! `tests/servers/servers.sh`, fresh accounts per test, and clients with their own data dirs.
//!
//! Every scenario runs against both Prosody and ejabberd (see the `on_both_servers!` macro).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use linnet_sdk::{AccountSettings, Client, ClientConfig, ClientEvent, Linnet, Secret};
use tokio::sync::broadcast;

pub mod archive;
pub mod calls;
pub mod cli;
pub mod delivery;
pub mod fake_push;
pub mod fake_server;
pub mod fault_proxy;
pub mod jingle_peer;
pub mod private_server;
pub mod push;
pub mod push_component;
pub mod seed;

/// One of the local test servers.
#[derive(Debug, Clone)]
pub struct TestServer {
    pub name: &'static str,
    pub domain: String,
    pub host: String,
    pub starttls_port: u16,
    pub direct_tls_port: u16,
    pub ca_pem: String,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn state_dir() -> PathBuf {
    std::env::var_os("LINNET_TEST_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/linnet-test-servers"))
}

/// With `RUST_LOG` set (e.g. `RUST_LOG=linnet_sdk=debug cargo nextest run ... --no-capture`),
/// the test's logs go to its output. `server` calls it; fake-server tests may call it too.
pub fn test_logs() {
    // Through the SDK's redacting logger, as an app would log: no secret or body shows.
    if let Ok(filter) = std::env::var("RUST_LOG") {
        linnet_sdk::logging::init_with(&filter, false, true);
    }
}

/// The server named `name` ("prosody" or "ejabberd"). Panics with a clear message when the
/// servers are not running: integration tests need `make test` (or `tests/servers/servers.sh start`).
pub fn server(name: &'static str) -> TestServer {
    test_logs();
    server_in(&state_dir(), name)
}

/// The server named `name` of the instance whose state dir is `state`.
pub fn server_in(state: &Path, name: &'static str) -> TestServer {
    let path = state.join("servers.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Start the servers: tests/servers/servers.sh start",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ca_file = json["ca_file"].as_str().unwrap();
    let s = &json[name];
    TestServer {
        name,
        domain: s["domain"].as_str().unwrap().to_string(),
        host: s["host"].as_str().unwrap().to_string(),
        starttls_port: s["starttls_port"].as_u64().unwrap() as u16,
        direct_tls_port: s["direct_tls_port"].as_u64().unwrap() as u16,
        ca_pem: std::fs::read_to_string(ca_file).unwrap(),
    }
}

/// A unique, valid localpart.
pub fn unique_name(prefix: &str) -> String {
    use rand::Rng as _;
    let n: u64 = rand::rng().random();
    format!("{prefix}{:012x}", n & 0xffff_ffff_ffff)
}

/// A new account on the server; returns (bare JID, password).
pub fn create_account(server: &TestServer, prefix: &str) -> (String, String) {
    create_account_with(&[], server, prefix)
}

/// `create_account` on the instance `env` names (see `servers_sh_with`).
pub(crate) fn create_account_with(
    env: &[(String, String)],
    server: &TestServer,
    prefix: &str,
) -> (String, String) {
    let user = unique_name(prefix);
    let password = format!("pw-{}", unique_name(""));
    servers_sh_with(env, &["adduser", server.name, &user, &password]);
    (format!("{user}@{}", server.domain), password)
}

/// Closes every session of `jid` (a bare JID on `server`) from the server side.
pub fn kick(server: &TestServer, jid: &str) {
    servers_sh(&["kick", server.name, jid.split('@').next().unwrap()]);
}

/// Runs `tests/servers/servers.sh` with `args`; panics with its message if it fails.
fn servers_sh(args: &[&str]) {
    servers_sh_with(&[], args);
}

/// `servers_sh` with extra environment variables (another instance's state dir and ports).
pub(crate) fn servers_sh_with(env: &[(String, String)], args: &[&str]) {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/servers/servers.sh"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "servers.sh {} failed: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How a test client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    StartTls,
    DirectTls,
}

/// A Linnet instance with its own data dir, logged into `jid`.
pub struct TestClient {
    pub linnet: Linnet,
    pub client: Client,
    pub events: broadcast::Receiver<ClientEvent>,
    pub jid: String,
    pub dir: tempfile::TempDir,
}

pub fn settings(server: &TestServer, mode: Mode) -> AccountSettings {
    let port = match mode {
        Mode::StartTls => server.starttls_port,
        Mode::DirectTls => server.direct_tls_port,
    };
    AccountSettings {
        server: Some((server.host.clone(), port)),
        direct_tls: mode == Mode::DirectTls,
        ca_pem: Some(server.ca_pem.clone()),
    }
}

/// Sets up (but does not connect) a client for an existing account.
pub fn client_for(server: &TestServer, jid: &str, password: &str, mode: Mode) -> TestClient {
    let dir = tempfile::tempdir().unwrap();
    client_in(dir, server, jid, password, mode)
}

pub fn client_in(
    dir: tempfile::TempDir,
    server: &TestServer,
    jid: &str,
    password: &str,
    mode: Mode,
) -> TestClient {
    let linnet = Linnet::open(dir.path()).unwrap();
    client_with(dir, linnet, jid, password, settings(server, mode))
}

/// Sets up (but does not connect) a client for an existing account with `config` (e.g. short
/// call timeouts).
pub fn client_with_config(
    server: &TestServer,
    jid: &str,
    password: &str,
    config: ClientConfig,
) -> TestClient {
    let dir = tempfile::tempdir().unwrap();
    let linnet = Linnet::open(dir.path()).unwrap().with_config(config);
    client_with(dir, linnet, jid, password, settings(server, Mode::StartTls))
}

/// Sets up (but does not connect) a client for an existing account on `server` that connects
/// (STARTTLS) to `addr` instead, e.g. a `fault_proxy::FaultProxy` in front of the server, with
/// `config` (e.g. short ping timeouts).
pub fn client_via(
    server: &TestServer,
    jid: &str,
    password: &str,
    addr: std::net::SocketAddr,
    config: ClientConfig,
) -> TestClient {
    let dir = tempfile::tempdir().unwrap();
    let linnet = Linnet::open(dir.path()).unwrap().with_config(config);
    let settings = AccountSettings {
        server: Some((addr.ip().to_string(), addr.port())),
        ..settings(server, Mode::StartTls)
    };
    client_with(dir, linnet, jid, password, settings)
}

fn client_with(
    dir: tempfile::TempDir,
    linnet: Linnet,
    jid: &str,
    password: &str,
    settings: AccountSettings,
) -> TestClient {
    if linnet.resolve_account(Some(jid)).is_err() {
        linnet
            .add_account(jid, Secret::from(password), settings)
            .unwrap();
    }
    let client = linnet.client(Some(jid)).unwrap();
    let events = client.subscribe();
    TestClient {
        linnet,
        client,
        events,
        jid: jid.to_string(),
        dir,
    }
}

/// Creates an account and connects a client to it.
pub async fn connected(server: &TestServer, prefix: &str) -> TestClient {
    let (jid, pw) = create_account(server, prefix);
    let c = client_for(server, &jid, &pw, Mode::StartTls);
    c.client.connect().await.unwrap();
    // `connect` returns once the initial presence is sent, not processed: a message to the bare
    // JID in between goes to offline storage (seen on ejabberd). A server round trip after it
    // (the doctor's IQs) means the presence was handled, so the client is reachable live.
    c.client.doctor().await.unwrap();
    c
}

impl TestClient {
    /// Waits for the first event matching `pred` (up to 20 s).
    pub async fn expect<T>(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&ClientEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => panic!("{}: timed out waiting for {what}", self.jid),
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(e)) => panic!("{}: event stream ended waiting for {what}: {e}", self.jid),
                Ok(Ok(ev)) => {
                    if let Some(v) = pred(&ev) {
                        return v;
                    }
                }
            }
        }
    }
}

/// Makes `a` and `b` mutual contacts (roster + presence subscriptions both ways).
pub async fn befriend(a: &mut TestClient, b: &mut TestClient) {
    a.client.add_contact(&b.jid, None).await.unwrap();
    let a_jid = a.jid.clone();
    b.expect("subscription request", |e| {
        matches!(e, ClientEvent::SubscriptionRequest { from } if *from == a_jid).then_some(())
    })
    .await;
    b.client.approve(&a.jid).unwrap();
    b.client.add_contact(&a.jid, None).await.unwrap();
    let b_jid = b.jid.clone();
    a.expect("subscription request", |e| {
        matches!(e, ClientEvent::SubscriptionRequest { from } if *from == b_jid).then_some(())
    })
    .await;
    a.client.approve(&b.jid).unwrap();
    // Wait until both rosters show "both".
    for (c, other) in [(&mut *a, b.jid.clone()), (&mut *b, a_jid.clone())] {
        c.eventually("a mutual subscription", |client| {
            client
                .roster()
                .unwrap()
                .iter()
                .any(|x| x.jid == other && x.subscription == linnet_store::Subscription::Both)
        })
        .await;
    }
}

/// Runs an async scenario `fn(TestServer)` once against each real server.
#[macro_export]
macro_rules! on_both_servers {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn prosody() {
                super::$name($crate::server("prosody")).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ejabberd() {
                super::$name($crate::server("ejabberd")).await;
            }
        }
    };
}

impl TestClient {
    /// Waits (up to 10 s) until `check` holds, re-checking whenever an event arrives.
    pub async fn eventually(&mut self, what: &str, mut check: impl FnMut(&Client) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !check(&self.client) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: timed out waiting until {what}",
                self.jid
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), self.events.recv()).await;
        }
    }
}

impl TestClient {
    /// Waits for the next stored message whose conversation is with `peer`.
    pub async fn expect_message_from(&mut self, peer: &str) -> linnet_sdk::Message {
        let peer = peer.to_string();
        self.expect("a message", |e| match e {
            ClientEvent::Message(m) if m.peer == peer => Some((**m).clone()),
            _ => None,
        })
        .await
    }

    /// Sends and waits until the server acknowledged the message; returns its id.
    pub async fn send_acked(&self, to: &str, body: &str) -> i64 {
        let id = self.client.send_message(to, body).unwrap();
        let m = self
            .client
            .wait_for_state(id, linnet_sdk::MessageState::Acked, Duration::from_secs(20))
            .await
            .unwrap();
        assert_ne!(
            m.state,
            linnet_sdk::MessageState::Failed,
            "{:?}",
            m.failure_reason
        );
        id
    }
}
