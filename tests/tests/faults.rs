//! Fault injection (issue 4): Linnet clients reach the real servers through a `FaultProxy` that
//! fragments, delays, stalls and cuts their traffic. Each scenario checks that nothing is lost
//! (every message sent is in the receiver's store and acknowledged on the sender's side) and
//! prints the figures: sent, received, lost and duplicated (both must be 0), and how many
//! messages the sender had to resend after a reconnect.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::{ClientConfig, ConnectionState};
use linnet_tests::delivery::*;
use linnet_tests::fault_proxy::FaultProxy;
use linnet_tests::*;
use linnet_xmpp::session::SessionConfig;
use tokio::time::Instant;

/// A whole session through `proxy`: both log in, become contacts (roster), then exchange
/// `n` messages each way; nothing may be lost and every message is acknowledged.
async fn whole_session(server: &TestServer, proxy: &FaultProxy, what: &str, n: usize) {
    let mut alice = started_via(server, proxy, "alice", ClientConfig::default()).await;
    let mut bob = started_via(server, proxy, "bob", ClientConfig::default()).await;
    befriend(&mut alice, &mut bob).await;

    let to_bob = bodies("to bob", n);
    let to_alice = bodies("to alice", n);
    let alice_ids = send_all(&alice, &bob.jid, &to_bob);
    let bob_ids = send_all(&bob, &alice.jid, &to_alice);
    all_acked(&alice, &alice_ids).await;
    all_acked(&bob, &bob_ids).await;
    let alice_jid = alice.jid.clone();
    let bob_jid = bob.jid.clone();
    let at_bob = tally(&format!("{what} alice→bob"), &mut bob, &alice_jid, &to_bob).await;
    let at_alice = tally(
        &format!("{what} bob→alice"),
        &mut alice,
        &bob_jid,
        &to_alice,
    )
    .await;
    for t in [at_bob, at_alice] {
        assert_eq!(t.lost, 0);
        assert_eq!(t.duplicated, 0);
    }
    eprintln!(
        "faults: {what}: {} connections, bytes up {} down {}",
        proxy.accepted(),
        proxy.bytes_up(),
        proxy.bytes_down()
    );
    alice.client.stop().await;
    bob.client.stop().await;
}

async fn session_through_1_byte_fragments(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    proxy.set_fragment(Some(1));
    whole_session(&server, &proxy, "1-byte fragments", 20).await;
}
on_both_servers!(session_through_1_byte_fragments);

async fn session_through_7_byte_fragments(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    proxy.set_fragment(Some(7));
    whole_session(&server, &proxy, "7-byte fragments", 20).await;
}
on_both_servers!(session_through_7_byte_fragments);

async fn session_with_50_ms_latency(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    proxy.set_delay(Duration::from_millis(50));
    whole_session(&server, &proxy, "50 ms latency", 20).await;
}
on_both_servers!(session_with_50_ms_latency);

/// The link goes silent (no FIN, no RST): the ping notices, the client reconnects once the
/// link is back, and what was sent into the dead link or while offline is delivered. With
/// `drop_held`, the dead connection is cut before the link comes back, so what it held never
/// reaches the server and only the resends can deliver it; without, the held bytes arrive late
/// on the dead connection as well as resent on the new one.
async fn stalled_link(server: TestServer, drop_held: bool) {
    let what = if drop_held {
        "stall, held bytes dropped"
    } else {
        "stall, held bytes released"
    };
    let proxy = FaultProxy::start(upstream(&server)).await;
    let alice = started_via(&server, &proxy, "alice", quick_ping()).await;
    let mut bob = connected(&server, "bob").await;
    let before = bodies("before", 1);
    all_acked(&alice, &send_all(&alice, &bob.jid, &before)).await;

    proxy.stall();
    // Into the silent link: the client still believes it is online.
    let into_stall = bodies("into the stall", 5);
    let mut ids = send_all(&alice, &bob.jid, &into_stall);
    let detected = wait_state(&alice, Duration::from_secs(6), "disconnected", |s| {
        matches!(s, ConnectionState::Disconnected { .. })
    })
    .await;
    // While offline: queued in the outbox.
    let offline = bodies("while offline", 5);
    ids.extend(send_all(&alice, &bob.jid, &offline));
    if drop_held {
        proxy.cut_held().await;
    }
    proxy.resume();
    let back = online(&alice, Duration::from_secs(10)).await;
    all_acked(&alice, &ids).await;
    let sent: Vec<String> = [before, into_stall, offline].concat();
    let t = tally(what, &mut bob, &alice.jid, &sent).await;
    eprintln!(
        "faults: {what}: detected after {detected:?}, online again {back:?} after resume, {} connections, {} resent",
        proxy.accepted(),
        resent(&alice, &ids)
    );
    assert!(detected < Duration::from_secs(5), "{detected:?}");
    assert_eq!(t.lost, 0);
    // Resends carry the same id: the receiver's store keeps one copy.
    assert_eq!(t.duplicated, 0);
    alice.client.stop().await;
    bob.client.disconnect().await;
}

async fn stalled_link_is_detected_and_recovered(server: TestServer) {
    stalled_link(server, false).await;
}
on_both_servers!(stalled_link_is_detected_and_recovered);

async fn stalled_link_dropping_what_it_held_loses_nothing(server: TestServer) {
    stalled_link(server, true).await;
}
on_both_servers!(stalled_link_dropping_what_it_held_loses_nothing);

/// The connection is cut while alice sends 50 messages: after the supervisor reconnects, every
/// one is acknowledged and in bob's store.
async fn cut_mid_send_loses_nothing(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    let alice = started_via(&server, &proxy, "alice", quick_ping()).await;
    let mut bob = connected(&server, "bob").await;
    let sent = bodies("cut", 50);
    let mut ids = Vec::new();
    for (i, body) in sent.iter().enumerate() {
        if i == 25 {
            proxy.cut();
        }
        ids.push(alice.client.send_message(&bob.jid, body).unwrap());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    all_acked(&alice, &ids).await;
    let t = tally("cut mid-send", &mut bob, &alice.jid, &sent).await;
    eprintln!(
        "faults: cut mid-send: {} connections, {} faults, {} resent",
        proxy.accepted(),
        proxy.faults(),
        resent(&alice, &ids)
    );
    assert!(proxy.accepted() >= 2, "the client reconnected");
    assert_eq!(t.lost, 0);
    // Resends carry the same id: the receiver's store keeps one copy.
    assert_eq!(t.duplicated, 0);
    alice.client.stop().await;
    bob.client.disconnect().await;
}
on_both_servers!(cut_mid_send_loses_nothing);

/// The server is unreachable for a while (the connection drops, new ones are closed at once):
/// messages wait in the outbox and go out once the supervisor gets through again.
async fn server_unreachable_for_a_while(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    let alice = started_via(&server, &proxy, "alice", quick_ping()).await;
    let mut bob = connected(&server, "bob").await;
    proxy.refuse_new(true);
    proxy.cut();
    let sent = bodies("unreachable", 10);
    let ids = send_all(&alice, &bob.jid, &sent);
    // Let the supervisor's first attempt (after ~1 s) be refused.
    let start = Instant::now();
    while proxy.accepted() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no reconnect attempt"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_ne!(alice.client.connection_state(), ConnectionState::Online);
    proxy.refuse_new(false);
    let back = online(&alice, Duration::from_secs(10)).await;
    all_acked(&alice, &ids).await;
    let t = tally("unreachable", &mut bob, &alice.jid, &sent).await;
    eprintln!(
        "faults: unreachable: online {back:?} after the server came back, {} connections, {} faults, {} resent",
        proxy.accepted(),
        proxy.faults(),
        resent(&alice, &ids)
    );
    assert_eq!(t.lost, 0);
    assert_eq!(t.duplicated, 0);
    alice.client.stop().await;
    bob.client.disconnect().await;
}
on_both_servers!(server_unreachable_for_a_while);

/// Stream resumption (XEP-0198) both ways: the connection of the sender is cut mid-send and,
/// separately, the receiver's while messages flow to it. Each side resumes its session (no new
/// login), the sender resends exactly its unacknowledged tail and the server its own; nothing
/// is lost or duplicated and no history gap is reported.
async fn cut_connections_resume_the_session(server: TestServer) {
    let alice_proxy = FaultProxy::start(upstream(&server)).await;
    let bob_proxy = FaultProxy::start(upstream(&server)).await;
    let alice = started_via(&server, &alice_proxy, "alice", quick_ping()).await;
    let mut bob = started_via(&server, &bob_proxy, "bob", quick_ping()).await;
    // A round trip so that bob's initial presence is processed (live delivery, not offline).
    bob.client.doctor().await.unwrap();

    let sent = bodies("resume", 60);
    let mut ids = Vec::new();
    for (i, body) in sent.iter().enumerate() {
        match i {
            20 => alice_proxy.cut(),
            40 => bob_proxy.cut(),
            _ => {}
        }
        ids.push(alice.client.send_message(&bob.jid, body).unwrap());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    all_acked(&alice, &ids).await;
    let alice_jid = alice.jid.clone();
    let t = tally("resume both ways", &mut bob, &alice_jid, &sent).await;
    let (a, b) = (
        alice.client.connection_stats(),
        bob.client.connection_stats(),
    );
    eprintln!(
        "faults: resume both ways: alice {a:?}, bob {b:?}, {} resent",
        resent(&alice, &ids)
    );
    assert_eq!(t.lost, 0);
    assert_eq!(t.duplicated, 0);
    // ejabberd may reorder messages in flight around a resumption, on the wire (see `soak`).
    if server.name == "prosody" {
        assert_eq!(t.out_of_order, 0);
    }
    for (who, stats) in [("alice", a), ("bob", b)] {
        assert!(stats.resumes >= 1, "{who} resumed: {stats:?}");
        assert_eq!(
            stats.fresh_sessions, 1,
            "{who} never logged in anew: {stats:?}"
        );
        assert_eq!(stats.resumes_refused, 0, "{who}: {stats:?}");
    }
    // Resumption keeps the session whole: no gap to report.
    assert_eq!(bob.client.history_gap_since().unwrap(), None);
    while let Ok(event) = bob.events.try_recv() {
        assert!(
            !matches!(event, linnet_sdk::ClientEvent::HistoryGap { .. }),
            "bob reported a gap after a resumption"
        );
    }
    alice.client.stop().await;
    bob.client.stop().await;
}
on_both_servers!(cut_connections_resume_the_session);

/// The server ends alice's session while her link is stalled (she never sees it), then the
/// link is cut: her resumption is refused, she logs in anew, resends what the server never
/// acknowledged (receivers deduplicate) and reports the possible gap in her history.
async fn refused_resumption_falls_back_to_a_new_session(server: TestServer) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    let mut alice = started_via(&server, &proxy, "alice", quick_ping()).await;
    let mut bob = connected(&server, "bob").await;
    let before = bodies("before refusal", 3);
    let mut ids = send_all(&alice, &bob.jid, &before);
    all_acked(&alice, &ids).await;

    proxy.stall();
    let into_stall = bodies("into the stall", 5);
    ids.extend(send_all(&alice, &bob.jid, &into_stall));
    kick(&server, &alice.jid);
    // What the dead link held (the server's goodbye among it) never arrives: the cut takes
    // effect before the link comes back.
    proxy.cut_held().await;
    proxy.resume();
    let since = alice
        .expect("a history gap", |e| match e {
            linnet_sdk::ClientEvent::HistoryGap { since_ms } => Some(*since_ms),
            _ => None,
        })
        .await;
    all_acked(&alice, &ids).await;
    let sent: Vec<String> = [before, into_stall].concat();
    let t = tally("resumption refused", &mut bob, &alice.jid, &sent).await;
    let stats = alice.client.connection_stats();
    eprintln!(
        "faults: resumption refused: {stats:?}, gap since {since}, {} resent",
        resent(&alice, &ids)
    );
    assert_eq!(stats.resumes_refused, 1, "{stats:?}");
    assert_eq!(stats.fresh_sessions, 2, "{stats:?}");
    // Shown until the archive catch-up of the new session has filled it.
    alice
        .eventually("the catch-up fills the history gap", |c| {
            c.history_gap_since().unwrap().is_none()
        })
        .await;
    assert_eq!(t.lost, 0);
    assert_eq!(t.duplicated, 0);
    alice.client.stop().await;
    bob.client.disconnect().await;
}
on_both_servers!(refused_resumption_falls_back_to_a_new_session);

/// The soak: alice and bob, each behind a proxy, send each other `LINNET_SOAK_MESSAGES`
/// messages (200 in `make test`, 1000 in `make soak`) while a random fault hits one of the
/// links every 1 to 3 s: a cut (twice as likely as the others), a stall of 0.5 to 7 s (those
/// over ~5 s are detected by the ping), 200 ms of latency or 1..16-byte fragments for 2 s. `LINNET_SOAK_SEED` replays a run. At
/// the end every message is acknowledged, in the receiver's store exactly once and in order.
async fn soak(server: TestServer) {
    use rand::{Rng as _, SeedableRng as _};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let n: usize = std::env::var("LINNET_SOAK_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("LINNET_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("soak: {} messages each way, seed {seed}", n);
    let proxies = Arc::new([
        FaultProxy::start(upstream(&server)).await,
        FaultProxy::start(upstream(&server)).await,
    ]);
    // Dead links show within ~5 s: a busy server (ejabberd writes every message to disk) can
    // stay silent for more than the 2 s of `quick_ping` while it works through a resent tail.
    let config = ClientConfig {
        session: SessionConfig {
            idle_before_ping: Duration::from_secs(2),
            ping_timeout: Duration::from_secs(3),
            iq_timeout: Duration::from_secs(10),
        },
        step_timeout: Some(Duration::from_secs(10)),
        ..ClientConfig::default()
    };
    let mut alice = started_via(&server, &proxies[0], "alice", config.clone()).await;
    let mut bob = started_via(&server, &proxies[1], "bob", config).await;
    // Round trips so that both initial presences are processed (live delivery).
    alice.client.doctor().await.unwrap();
    bob.client.doctor().await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let injector = {
        let (proxies, stop) = (proxies.clone(), stop.clone());
        tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut injected = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(rng.random_range(1000..3000))).await;
                let which = rng.random_range(0..2usize);
                let proxy = &proxies[which];
                // Cuts twice as often as the others: they make the client resume.
                let fault = match rng.random_range(0..5u8) {
                    0 | 4 => {
                        proxy.cut();
                        "cut".to_string()
                    }
                    1 => {
                        // Up to 7 s: the longer ones outlast the 5 s dead-link detection.
                        let ms = rng.random_range(500..7000);
                        proxy.stall();
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        proxy.resume();
                        format!("stall {ms} ms")
                    }
                    2 => {
                        proxy.set_delay(Duration::from_millis(200));
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        proxy.set_delay(Duration::ZERO);
                        "latency 200 ms".to_string()
                    }
                    _ => {
                        let size = rng.random_range(1..16usize);
                        proxy.set_fragment(Some(size));
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        proxy.set_fragment(None);
                        format!("{size}-byte fragments")
                    }
                };
                injected.push(format!("{} {fault}", ["alice", "bob"][which]));
            }
            injected
        })
    };

    let to_bob = bodies("soak to bob", n);
    let to_alice = bodies("soak to alice", n);
    let (mut alice_ids, mut bob_ids) = (Vec::new(), Vec::new());
    for (a, b) in to_bob.iter().zip(&to_alice) {
        alice_ids.push(alice.client.send_message(&bob.jid, a).unwrap());
        bob_ids.push(bob.client.send_message(&alice.jid, b).unwrap());
        // 50 messages/s in all: below what ejabberd stores per second on this machine's disk,
        // so the figures are about the faults, not a server falling behind.
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let injected = injector.await.unwrap();
    // The network is fine again, and the platform says so: no waiting out a long backoff.
    alice.client.hint_reconnect();
    bob.client.hint_reconnect();
    all_acked(&alice, &alice_ids).await;
    all_acked(&bob, &bob_ids).await;
    let (alice_jid, bob_jid) = (alice.jid.clone(), bob.jid.clone());
    let at_bob = tally("soak alice→bob", &mut bob, &alice_jid, &to_bob).await;
    let at_alice = tally("soak bob→alice", &mut alice, &bob_jid, &to_alice).await;
    let (a, b) = (
        alice.client.connection_stats(),
        bob.client.connection_stats(),
    );
    eprintln!(
        "soak: {}: sent {} received {} lost {} duplicated {} out of order {}; faults injected {} ({}); resumes {} (stanzas resent {}), full reconnects {}, resumptions refused {}; outbox resends {}; seed {seed}",
        server.name,
        at_bob.sent + at_alice.sent,
        at_bob.received + at_alice.received,
        at_bob.lost + at_alice.lost,
        at_bob.duplicated + at_alice.duplicated,
        at_bob.out_of_order + at_alice.out_of_order,
        injected.len(),
        injected.join(", "),
        a.resumes + b.resumes,
        a.stanzas_resent + b.stanzas_resent,
        a.fresh_sessions + b.fresh_sessions - 2,
        a.resumes_refused + b.resumes_refused,
        resent(&alice, &alice_ids) + resent(&bob, &bob_ids),
    );
    for t in [&at_bob, &at_alice] {
        assert_eq!(t.lost, 0, "lost messages (seed {seed})");
        assert_eq!(t.duplicated, 0, "duplicated messages (seed {seed})");
        // ejabberd 23.01 delivers messages that were in flight around a resumption after later
        // ones: on the wire, not in Linnet (a trace showed alice receive bob's 530, 531, 528,
        // 529 right after her session resumed; docs/decisions/0002). Linnet stores in arrival
        // order, so the order is asserted where the server keeps it (Prosody) and printed for
        // ejabberd.
        if server.name == "prosody" {
            assert_eq!(t.out_of_order, 0, "messages out of order (seed {seed})");
        }
    }
    alice.client.stop().await;
    bob.client.stop().await;
}
on_both_servers!(soak);
