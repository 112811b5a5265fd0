//! Voice calls between two Linnet clients through the real servers (issue 7): JMI and Jingle
//! signalling, ICE/DTLS-SRTP media, tones both ways, DTMF, hang-up, the call log, relay-only
//! calls through coturn, several devices, and what strangers cannot do.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::audio::RecordingSink;
use linnet_sdk::store::{CallEndReason, Direction};
use linnet_sdk::{AudioIo, CallMediaEvent, CallState, ClientEvent, Preferences};
use linnet_tests::calls::{
    assert_near, call_update, ended, heard, is_connected, reaches, tone_audio,
};
use linnet_tests::{
    Mode, TestClient, befriend, client_for, connected, create_account, on_both_servers,
};

const CALL_TIMEOUT: Duration = linnet_tests::calls::CALL_STEP;

fn audio(tone_hz: f32) -> (AudioIo, RecordingSink) {
    tone_audio(tone_hz)
}

async fn connected_state(c: &mut TestClient, id: &str) {
    reaches(c, id, "connected", is_connected).await;
}

/// Waits for the DTMF digits of call `id` until `count` arrived (or the time is up).
async fn dtmf_digits(c: &mut TestClient, id: &str, count: usize) -> String {
    let mut digits = String::new();
    let deadline = tokio::time::Instant::now() + CALL_TIMEOUT;
    while digits.len() < count {
        let Ok(event) = tokio::time::timeout_at(deadline, c.events.recv()).await else {
            break;
        };
        if let Ok(ClientEvent::CallMedia {
            id: of,
            event: CallMediaEvent::Dtmf(d),
        }) = event
            && of == id
        {
            digits.push(d);
        }
    }
    digits
}

/// Alice calls Bob, Bob answers: tones both ways, DTMF from Alice, Alice hangs up.
async fn call_with_tones_and_dtmf(alice: &mut TestClient, bob: &mut TestClient) -> String {
    let (alice_audio, alice_heard) = audio(440.0);
    let id = alice
        .client
        .place_call(&bob.jid, alice_audio)
        .await
        .unwrap();
    let ringing = call_update(bob, "an incoming call", |u| u.state == CallState::Incoming).await;
    assert_eq!(ringing.id, id);
    assert_eq!(ringing.peer, alice.jid);
    let (bob_audio, bob_heard) = audio(660.0);
    bob.client.answer_call(&id, bob_audio).unwrap();
    connected_state(alice, &id).await;
    connected_state(bob, &id).await;

    alice.client.send_dtmf(&id, "0123456789*#").unwrap();
    assert_eq!(dtmf_digits(bob, &id, 12).await, "0123456789*#");
    // Audio flows again after the digits; let a second of it arrive.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_near(heard(&alice_heard, 0.5), 660.0, "alice");
    assert_near(heard(&bob_heard, 0.5), 440.0, "bob");

    let sent = call_update(alice, "the digits sent", |u| u.digits_sent.len() == 12).await;
    assert_eq!(sent.digits_sent, "0123456789*#");
    alice.client.hang_up(&id).unwrap();
    assert_eq!(ended(alice, &id).await, CallEndReason::HungUp);
    assert_eq!(ended(bob, &id).await, CallEndReason::RemoteHungUp);

    for (c, direction) in [(&*alice, Direction::Outgoing), (&*bob, Direction::Incoming)] {
        let log = c.client.call_log(10).unwrap();
        let entry = log.iter().find(|e| e.session_id == id).expect("logged");
        assert_eq!(entry.direction, direction);
        assert!(entry.answered_at.is_some(), "{entry:?}");
        assert!(entry.ended_at.is_some(), "{entry:?}");
        assert!(!entry.silent);
    }
    id
}

async fn two_clients_call(server: linnet_tests::TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    call_with_tones_and_dtmf(&mut alice, &mut bob).await;
}
on_both_servers!(two_clients_call);

/// Relay-only on both sides: the call still connects, through coturn, and neither side ever
/// sends a candidate other than a relay one.
async fn relay_only_call(server: linnet_tests::TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    for c in [&alice, &bob] {
        c.client
            .set_preferences(Preferences {
                relay_only_calls: true,
                ..c.client.preferences().unwrap()
            })
            .unwrap();
    }
    let id = call_with_tones_and_dtmf(&mut alice, &mut bob).await;
    for c in [&alice, &bob] {
        let diagnostics = c.client.call_diagnostics(&id).expect("diagnostics");
        let sent = &diagnostics.local_candidates;
        assert!(!sent.is_empty(), "{}: no candidates were sent", c.jid);
        assert!(
            sent.iter().all(|k| k == "relay"),
            "{}: sent {sent:?}",
            c.jid
        );
        assert!(
            diagnostics.remote_candidates.iter().all(|k| k == "relay"),
            "{}: received {:?}",
            c.jid,
            diagnostics.remote_candidates
        );
    }
}
on_both_servers!(relay_only_call);

/// Another device (its own data dir and resource) of an existing account, connected.
async fn device(server: &linnet_tests::TestServer, jid: &str, password: &str) -> TestClient {
    let c = client_for(server, jid, password, Mode::StartTls);
    c.client.connect().await.unwrap();
    c.client.doctor().await.unwrap();
    c
}

/// Several devices of the callee ring; the one that answers takes the call and the others stop
/// ringing ("answered elsewhere"). Then a second call, declined on one device: the other stops
/// ringing too ("declined elsewhere") and the caller hears it was declined.
async fn ringing_stops_on_every_device(server: linnet_tests::TestServer) {
    let mut alice = connected(&server, "alice").await;
    let (bob_jid, bob_password) = create_account(&server, "bob");
    let mut bob = device(&server, &bob_jid, &bob_password).await;
    befriend(&mut alice, &mut bob).await;
    let mut bob2 = device(&server, &bob_jid, &bob_password).await;

    let (alice_audio, alice_heard) = audio(440.0);
    let id = alice
        .client
        .place_call(&bob.jid, alice_audio)
        .await
        .unwrap();
    for device in [&mut bob, &mut bob2] {
        call_update(device, "ringing", |u| {
            u.id == id && u.state == CallState::Incoming
        })
        .await;
    }
    let (bob2_audio, _) = audio(660.0);
    bob2.client.answer_call(&id, bob2_audio).unwrap();
    assert_eq!(ended(&mut bob, &id).await, CallEndReason::AnsweredElsewhere);
    connected_state(&mut alice, &id).await;
    connected_state(&mut bob2, &id).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_near(heard(&alice_heard, 0.4), 660.0, "alice");
    bob2.client.hang_up(&id).unwrap();
    assert_eq!(ended(&mut alice, &id).await, CallEndReason::RemoteHungUp);
    assert_eq!(ended(&mut bob2, &id).await, CallEndReason::HungUp);

    let (alice_audio, _) = audio(440.0);
    let id = alice
        .client
        .place_call(&bob.jid, alice_audio)
        .await
        .unwrap();
    for device in [&mut bob, &mut bob2] {
        call_update(device, "ringing", |u| {
            u.id == id && u.state == CallState::Incoming
        })
        .await;
    }
    bob.client.decline_call(&id).unwrap();
    assert_eq!(ended(&mut bob, &id).await, CallEndReason::Declined);
    assert_eq!(
        ended(&mut bob2, &id).await,
        CallEndReason::DeclinedElsewhere
    );
    assert_eq!(ended(&mut alice, &id).await, CallEndReason::RemoteDeclined);
}
on_both_servers!(ringing_stops_on_every_device);

/// The caller gives up while it rings: the callee's ringing stops, as a missed call. Then a
/// third party calls while the two talk: busy.
async fn cancelled_missed_and_busy(server: linnet_tests::TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    let mut carol = connected(&server, "carol").await;
    befriend(&mut alice, &mut bob).await;
    befriend(&mut carol, &mut bob).await;

    let (alice_audio, _) = audio(440.0);
    let id = alice
        .client
        .place_call(&bob.jid, alice_audio)
        .await
        .unwrap();
    call_update(&mut alice, "ringing", |u| {
        u.id == id && u.state == CallState::Ringing
    })
    .await;
    call_update(&mut bob, "ringing", |u| {
        u.id == id && u.state == CallState::Incoming
    })
    .await;
    alice.client.hang_up(&id).unwrap();
    assert_eq!(ended(&mut alice, &id).await, CallEndReason::Cancelled);
    assert_eq!(ended(&mut bob, &id).await, CallEndReason::Missed);

    let (alice_audio, _) = audio(440.0);
    let id = alice
        .client
        .place_call(&bob.jid, alice_audio)
        .await
        .unwrap();
    call_update(&mut bob, "ringing", |u| {
        u.id == id && u.state == CallState::Incoming
    })
    .await;
    let (bob_audio, _) = audio(660.0);
    bob.client.answer_call(&id, bob_audio).unwrap();
    connected_state(&mut alice, &id).await;
    let (carol_audio, _) = audio(550.0);
    let busy = carol
        .client
        .place_call(&bob.jid, carol_audio)
        .await
        .unwrap();
    assert_eq!(ended(&mut carol, &busy).await, CallEndReason::Busy);
    alice.client.hang_up(&id).unwrap();
    assert_eq!(ended(&mut bob, &id).await, CallEndReason::RemoteHungUp);
    let log = bob.client.call_log(10).unwrap();
    let entry = log
        .iter()
        .find(|e| e.session_id == busy)
        .expect("busy call logged");
    assert_eq!(entry.end_reason, Some(CallEndReason::Busy));
}
on_both_servers!(cancelled_missed_and_busy);

/// Someone not in the roster cannot make Linnet ring: no ringing, nothing sent back, only a
/// silent entry in the call log.
async fn strangers_do_not_ring(server: linnet_tests::TestServer) {
    let mut mallory = connected(&server, "mallory").await;
    let mut bob = connected(&server, "bob").await;
    let (audio_out, _) = audio(440.0);
    let id = mallory
        .client
        .place_call(&bob.jid, audio_out)
        .await
        .unwrap();
    // Long enough for a ringing (or anything else) to come back.
    let quiet = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            match bob.events.recv().await {
                Ok(ClientEvent::Call(u)) => return Some(u),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "bob's client showed the call: {quiet:?}");
    let states: Vec<CallState> = std::iter::from_fn(|| mallory.events.try_recv().ok())
        .filter_map(|e| match e {
            ClientEvent::Call(u) if u.id == id => Some(u.state),
            _ => None,
        })
        .collect();
    assert!(
        states.iter().all(|s| *s == CallState::Calling),
        "mallory learnt something: {states:?}"
    );
    let diagnostics = mallory.client.call_diagnostics(&id).unwrap();
    assert!(diagnostics.remote_candidates.is_empty(), "{diagnostics:?}");
    mallory.client.hang_up(&id).unwrap();
    let log = bob.client.call_log(10).unwrap();
    let entry = log
        .iter()
        .find(|e| e.session_id == id)
        .expect("a silent entry");
    assert!(entry.silent);
    assert_eq!(entry.end_reason, Some(CallEndReason::Stranger));
    assert_eq!(entry.answered_at, None);
}
on_both_servers!(strangers_do_not_ring);

/// Nobody answers: after the ring timeout the caller gives up (`no_answer`) and the callee's
/// ringing stops (`missed`).
async fn unanswered_calls_time_out(server: linnet_tests::TestServer) {
    let short = linnet_sdk::ClientConfig {
        calls: linnet_sdk::CallsConfig {
            ring_timeout: Duration::from_secs(3),
            ..Default::default()
        },
        ..Default::default()
    };
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let mut alice = linnet_tests::client_with_config(&server, &alice_jid, &alice_pw, short);
    alice.client.connect().await.unwrap();
    alice.client.doctor().await.unwrap();
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let (out, _) = audio(440.0);
    let id = alice.client.place_call(&bob.jid, out).await.unwrap();
    call_update(&mut bob, "ringing", |u| {
        u.id == id && u.state == CallState::Incoming
    })
    .await;
    assert_eq!(ended(&mut alice, &id).await, CallEndReason::NoAnswer);
    assert_eq!(ended(&mut bob, &id).await, CallEndReason::Missed);
}
on_both_servers!(unanswered_calls_time_out);

/// A call proposed while the callee was offline, older than a ring lasts when the callee comes
/// online: it does not ring, it is logged as missed.
async fn a_call_proposed_while_offline_does_not_ring_later(server: linnet_tests::TestServer) {
    let short = || linnet_sdk::ClientConfig {
        calls: linnet_sdk::CallsConfig {
            ring_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut alice = connected(&server, "alice").await;
    let (bob_jid, bob_pw) = create_account(&server, "bob");
    let mut bob = linnet_tests::client_with_config(&server, &bob_jid, &bob_pw, short());
    bob.client.connect().await.unwrap();
    bob.client.doctor().await.unwrap();
    befriend(&mut alice, &mut bob).await;
    bob.client.disconnect().await;

    // Alice's client crashes while calling: no retract ever follows the proposal.
    let (out, _) = audio(440.0);
    let id = alice.client.place_call(&bob.jid, out).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.client.disconnect().await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    bob.client.connect().await.unwrap();
    bob.client.doctor().await.unwrap();
    let log = loop {
        let log = bob.client.call_log(5).unwrap();
        if !log.is_empty() {
            break log;
        }
        assert!(
            tokio::time::timeout(Duration::from_secs(10), bob.events.recv())
                .await
                .is_ok(),
            "the proposal never arrived"
        );
    };
    assert_eq!(log[0].session_id, id);
    assert_eq!(log[0].end_reason, Some(CallEndReason::Missed));
    let rang = std::iter::from_fn(|| bob.events.try_recv().ok())
        .any(|e| matches!(e, ClientEvent::Call(_)));
    assert!(!rang, "an old proposal rang");
}
on_both_servers!(a_call_proposed_while_offline_does_not_ring_later);
