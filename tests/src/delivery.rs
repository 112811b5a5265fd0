//! What the delivery scenarios of issue 4 ("never lose a message") share: clients with short
//! ping timers started through a `FaultProxy` or straight at a server, numbered bodies, sending,
//! waiting for acknowledgements, and the tally of what a receiver's store holds of what was sent
//! (`tests/faults.rs`, `tests/restarts.rs`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use linnet_sdk::{ClientConfig, ConnectionState, MessageState};
use linnet_store::Direction;
use linnet_xmpp::session::SessionConfig;
use tokio::time::Instant;

use crate::fault_proxy::FaultProxy;
use crate::{TestClient, TestServer, client_via, create_account};

/// The real server's STARTTLS port, where the proxy forwards to.
pub fn upstream(server: &TestServer) -> SocketAddr {
    format!("{}:{}", server.host, server.starttls_port)
        .parse()
        .unwrap()
}

/// Probes after 1 s of silence and gives up after 1 s more: a dead link shows within ~2 s.
pub fn quick_ping() -> ClientConfig {
    ClientConfig {
        session: SessionConfig {
            idle_before_ping: Duration::from_secs(1),
            ping_timeout: Duration::from_secs(1),
            iq_timeout: Duration::from_secs(5),
        },
        step_timeout: Some(Duration::from_secs(5)),
        ..ClientConfig::default()
    }
}

/// A new account reached through `proxy`, started: the supervisor keeps it connected.
pub async fn started_via(
    server: &TestServer,
    proxy: &FaultProxy,
    prefix: &str,
    config: ClientConfig,
) -> TestClient {
    let (jid, password) = create_account(server, prefix);
    let c = client_via(server, &jid, &password, proxy.addr(), config);
    c.client.start().await.unwrap();
    c
}

/// `n` distinct bodies tagged with `tag`.
pub fn bodies(tag: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{tag} {i:03}")).collect()
}

/// Sends every body from `from` to `to`; returns the message ids.
pub fn send_all(from: &TestClient, to: &str, bodies: &[String]) -> Vec<i64> {
    bodies
        .iter()
        .map(|b| from.client.send_message(to, b).unwrap())
        .collect()
}

/// Waits until the server acknowledged every message (none failed).
pub async fn all_acked(sender: &TestClient, ids: &[i64]) {
    for &id in ids {
        let m = sender
            .client
            .wait_for_state(id, MessageState::Acked, Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("{}: message {id} never acknowledged: {e}", sender.jid));
        assert_ne!(m.state, MessageState::Failed, "{:?}", m.failure_reason);
    }
}

/// How many of the messages the sender handed to the network more than once (resent after a
/// reconnect because the server had not acknowledged them).
pub fn resent(sender: &TestClient, ids: &[i64]) -> usize {
    ids.iter()
        .filter(|&&id| sender.client.message(id).unwrap().unwrap().attempts > 1)
        .count()
}

/// What a receiver's store holds of what was sent.
pub struct Tally {
    pub sent: usize,
    pub received: usize,
    pub lost: usize,
    pub duplicated: usize,
    /// Stored after a message that was sent later (the order the receiver's store took them
    /// in, against the send order). Must be 0.
    pub out_of_order: usize,
}

/// How many of `indices` (positions in the send order) come after a later-sent one.
/// With `print`, names each offender.
fn disorder(print: Option<&str>, sent: &[String], indices: impl Iterator<Item = usize>) -> usize {
    let mut latest = None;
    let mut count = 0;
    for i in indices {
        if let Some(l) = latest.filter(|&l| i < l) {
            count += 1;
            if let Some(what) = print {
                eprintln!("faults: {what}: {:?} stored after {:?}", sent[i], sent[l]);
            }
        }
        latest = latest.max(Some(i));
    }
    count
}

/// Waits (up to 20 s) until `receiver` stored every body `from` sent, then counts: received
/// (stored rows), lost (bodies missing), duplicated (extra rows of a body) and out of order.
/// Prints the figures.
pub async fn tally(what: &str, receiver: &mut TestClient, from: &str, sent: &[String]) -> Tally {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stored = receiver.client.history(from, 10_000, None).unwrap();
        // The order the store took them in.
        stored.sort_by_key(|m| m.id);
        let positions: Vec<usize> = stored
            .iter()
            .filter(|m| m.direction == Direction::Incoming)
            .filter_map(|m| sent.iter().position(|b| *b == m.body))
            .collect();
        let mut count: HashMap<usize, usize> = HashMap::new();
        for &i in &positions {
            *count.entry(i).or_default() += 1;
        }
        let complete = count.len() == sent.len();
        // The offenders are printed once, when everything is in (or at the deadline).
        let show = complete || Instant::now() >= deadline;
        let out_of_order = disorder(show.then_some(what), sent, positions.into_iter());
        if show && out_of_order > 0 {
            for m in stored.iter().filter(|m| m.direction == Direction::Incoming) {
                eprintln!(
                    "faults: {what}: row {} {:?} id {:?} at {}",
                    m.id, m.body, m.xmpp_id, m.timestamp
                );
            }
        }
        let t = Tally {
            sent: sent.len(),
            received: count.values().sum(),
            lost: sent.len() - count.len(),
            duplicated: count.values().map(|c| c - 1).sum(),
            out_of_order,
        };
        if t.lost == 0 || Instant::now() >= deadline {
            eprintln!(
                "faults: {what}: sent {} received {} lost {} duplicated {} out of order {}",
                t.sent, t.received, t.lost, t.duplicated, t.out_of_order
            );
            return t;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), receiver.events.recv()).await;
    }
}

/// Waits (up to `within`) until the client reports `Online`; returns how long that took.
pub async fn online(c: &TestClient, within: Duration) -> Duration {
    wait_state(c, within, "online", |s| *s == ConnectionState::Online).await
}

/// Waits (up to `within`) until the client's connection state satisfies `pred`; returns how
/// long that took.
pub async fn wait_state(
    c: &TestClient,
    within: Duration,
    what: &str,
    pred: impl Fn(&ConnectionState) -> bool,
) -> Duration {
    let start = Instant::now();
    while !pred(&c.client.connection_state()) {
        assert!(
            start.elapsed() < within,
            "{}: not {what} after {within:?} (state {:?})",
            c.jid,
            c.client.connection_state()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}
