//! The app server on the real test servers' component ports (`tests/servers/servers.sh start`):
//! it connects as `push.<domain>`, answers an account's disco, registers the account's device
//! through the ad-hoc command, and forwards the publish the server sends when a message reaches
//! the account while it is offline. The push services are a scripted in-process provider here
//! (the lead's tests use the real senders against the fake APNs/FCM endpoints).
//!
//! The tests of this file own `push.<domain>` (jids[0]); tests/component.rs uses jids[1].

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use linnet_push::config::HashKey;
use linnet_push::provider::{ProviderError, PushProvider, Wakeup};
use linnet_push::server::{LinkState, Providers, PushServer, PushService};
use linnet_push::store::{Platform, RegistrationStore};
use linnet_push::store_sqlite::SqliteStore;
use linnet_xmpp::adhoc::{self, CommandStatus};
use linnet_xmpp::component::ComponentConfig;
use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials};
use linnet_xmpp::sasl::Secret;
use linnet_xmpp::session::{self, SessionConfig, SessionEvent, SessionHandle};
use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{Target, TcpConnector, TlsMode};
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{Element, Jid, ns, push};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

fn state() -> serde_json::Value {
    let text = std::fs::read_to_string("/tmp/linnet-test-servers/servers.json")
        .expect("test servers running (bash tests/servers/servers.sh start)");
    serde_json::from_str(&text).unwrap()
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A new account on `server`; returns (bare JID, password).
fn create_account(server: &str, domain: &str) -> (String, String) {
    let user = format!("push{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let password = format!("pw{:016x}", rand::random::<u64>());
    let out = Command::new("bash")
        .arg(repo_root().join("tests/servers/servers.sh"))
        .args(["adduser", server, &user, &password])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "adduser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (format!("{user}@{domain}"), password)
}

struct Session {
    handle: SessionHandle,
    _events: mpsc::UnboundedReceiver<SessionEvent>,
}

async fn login(state: &serde_json::Value, server: &str, jid: &str, password: &str) -> Session {
    let s = &state[server];
    let connector = TcpConnector::new(Some(Target {
        host: s["host"].as_str().unwrap().to_string(),
        port: u16::try_from(s["starttls_port"].as_u64().unwrap()).unwrap(),
        mode: TlsMode::StartTls,
    }));
    let creds = Credentials {
        jid: jid.parse().unwrap(),
        password: Secret::from(password),
    };
    let opts = ConnectOptions {
        tls: TlsSettings {
            extra_ca_pem: Some(
                std::fs::read_to_string(state["ca_file"].as_str().unwrap()).unwrap(),
            ),
            only_extra_ca: true,
        },
        enable_stream_management: false,
        ..ConnectOptions::default()
    };
    let (conn, info) = negotiate::connect(&connector, &creds, &opts).await.unwrap();
    let (handle, events) = session::start(conn, info, SessionConfig::default());
    // Available, so the server treats the session as online until it closes.
    handle
        .send(&Element::builder("presence", ns::CLIENT).build(), None)
        .unwrap();
    Session {
        handle,
        _events: events,
    }
}

fn set(to: Option<&str>, id: String, payload: Element) -> Iq {
    Iq::Set {
        from: None,
        to: to.map(|t| Jid::new(t).unwrap()),
        id,
        payload,
    }
}

fn get(to: &str, id: String, payload: Element) -> Iq {
    Iq::Get {
        from: None,
        to: Some(Jid::new(to).unwrap()),
        id,
        payload,
    }
}

/// Delivers every wake-up and reports it.
struct RecordingProvider(mpsc::UnboundedSender<Wakeup>);

#[async_trait]
impl PushProvider for RecordingProvider {
    async fn send(&self, wakeup: &Wakeup) -> Result<(), ProviderError> {
        let _ = self.0.send(wakeup.clone());
        Ok(())
    }
}

struct Running {
    server: Arc<PushServer>,
    store: Arc<SqliteStore>,
    wakeups: mpsc::UnboundedReceiver<Wakeup>,
    component_jid: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

async fn start(state: &serde_json::Value, server: &str) -> Running {
    let running = start_on(state, server, 0).await;
    let mut connected = running.server.link_state();
    tokio::time::timeout(WAIT, connected.wait_for(|l| *l == LinkState::Connected))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{} did not connect (another instance holding it?)",
                running.component_jid
            )
        })
        .unwrap();
    running
}

/// Starts an app server on `jids[jid_index]` without waiting for it to connect.
async fn start_on(state: &serde_json::Value, server: &str, jid_index: usize) -> Running {
    let push = &state[server]["push"];
    let jid = push["jids"][jid_index].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("reg.db")).unwrap());
    let (tx, wakeups) = mpsc::unbounded_channel();
    let provider: Arc<dyn PushProvider> = Arc::new(RecordingProvider(tx));
    let service = PushService::new(
        &jid,
        store.clone(),
        Providers {
            apns: Some(provider.clone()),
            fcm: Some(provider),
        },
        HashKey(vec![1; 32]),
        Duration::from_millis(100),
    );
    let component = ComponentConfig::new(
        &jid,
        push["host"].as_str().unwrap(),
        u16::try_from(push["port"].as_u64().unwrap()).unwrap(),
        push["secret"].as_str().unwrap(),
    );
    let server = Arc::new(PushServer::new(component, Arc::new(service), 64));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = server.clone();
    tokio::spawn(async move {
        serving
            .serve_until(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        server,
        store,
        wakeups,
        component_jid: jid,
        stop: Some(stop),
        _dir: dir,
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn registers_and_forwards(server: &str) {
    let state = state();
    let domain = state[server]["domain"].as_str().unwrap().to_string();
    let mut running = start(&state, server).await;
    let component = running.component_jid.clone();

    let (alice, alice_pw) = create_account(server, &domain);
    let a = login(&state, server, &alice, &alice_pw).await;

    // Disco through the real server.
    let info = a
        .handle
        .iq(get(
            &component,
            a.handle.new_id(),
            Element::builder("query", ns::DISCO_INFO).build(),
        ))
        .await
        .unwrap();
    let info = linnet_xmpp::disco::parse_info(info.as_ref());
    assert!(
        info.identities
            .iter()
            .any(|(c, t, _)| c == "pubsub" && t == "push")
    );
    assert!(info.has(ns::PUSH) && info.has(ns::COMMANDS));

    // Registration.
    let answer = a
        .handle
        .iq(set(
            Some(&component),
            a.handle.new_id(),
            adhoc::execute(
                "register-push-fcm",
                &[("token", "fcm-token-of-alice"), ("device-id", "device-a")],
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let response = adhoc::parse_response(&answer).unwrap();
    assert_eq!(response.status, CommandStatus::Completed);
    assert_eq!(response.fields["jid"], component);
    let node = response.fields["node"].clone();
    let secret = response.fields["secret"].clone();
    let stored = running.store.by_node(&node).await.unwrap().unwrap();
    assert_eq!(stored.domain, domain);
    assert_eq!(stored.platform, Platform::Fcm);

    // Enable on the account's server, then go offline: a message for alice makes the server
    // publish to us, and we wake the device.
    a.handle
        .iq(set(
            None,
            a.handle.new_id(),
            push::enable(&Jid::new(&component).unwrap(), &node, &secret),
        ))
        .await
        .unwrap();
    a.handle.close().await;

    let (bob, bob_pw) = create_account(server, &domain);
    let b = login(&state, server, &bob, &bob_pw).await;
    let message = Element::builder("message", ns::CLIENT)
        .attr(rxml::xml_ncname!("to").into(), alice.as_str())
        .attr(rxml::xml_ncname!("type").into(), "chat")
        .attr(rxml::xml_ncname!("id").into(), b.handle.new_id())
        .append(
            Element::builder("body", ns::CLIENT)
                .append("a secret message text")
                .build(),
        )
        .build();
    b.handle.send(&message, None).unwrap();

    let wakeup = tokio::time::timeout(WAIT, running.wakeups.recv())
        .await
        .expect("no wake-up within 20 s")
        .unwrap();
    assert_eq!(wakeup.node, node);
    assert_eq!(wakeup.token, "fcm-token-of-alice");
    let stats = running.server.service().stats().snapshot();
    assert_eq!(stats.refused, 0, "{stats:?}");
    assert!(stats.forwarded >= 1, "{stats:?}");
    b.handle.close().await;
}

#[tokio::test]
async fn prosody_registers_and_forwards() {
    registers_and_forwards("prosody").await;
}

#[tokio::test]
async fn ejabberd_registers_and_forwards() {
    registers_and_forwards("ejabberd").await;
}

/// Prosody serves one connection per component address: a second instance stands by and takes
/// over when the first goes away. (ejabberd instead balances between connections.)
/// Uses `jids[1]`, which tests/component.rs shares (it waits while the address is taken).
#[tokio::test]
async fn prosody_standby_takes_over() {
    let state = state();
    let first = start_on(&state, "prosody", 1).await;
    let mut first_up = first.server.link_state();
    tokio::time::timeout(WAIT, first_up.wait_for(|l| *l == LinkState::Connected))
        .await
        .expect("the first instance did not connect")
        .unwrap();
    let second = start_on(&state, "prosody", 1).await;
    let mut second_up = second.server.link_state();
    tokio::time::timeout(WAIT, second_up.wait_for(|l| *l == LinkState::Standby))
        .await
        .expect("the second instance did not stand by")
        .unwrap();
    assert_eq!(*first_up.borrow(), LinkState::Connected);
    drop(first);
    tokio::time::timeout(WAIT, second_up.wait_for(|l| *l == LinkState::Connected))
        .await
        .expect("the standby did not take over")
        .unwrap();

    // Stanzas for the address now reach the second instance.
    let domain = state["prosody"]["domain"].as_str().unwrap().to_string();
    let (jid, password) = create_account("prosody", &domain);
    let a = login(&state, "prosody", &jid, &password).await;
    let info = a
        .handle
        .iq(get(
            &second.component_jid,
            a.handle.new_id(),
            Element::builder("query", ns::DISCO_INFO).build(),
        ))
        .await
        .unwrap();
    assert!(linnet_xmpp::disco::parse_info(info.as_ref()).has(ns::PUSH));
    a.handle.close().await;
}
