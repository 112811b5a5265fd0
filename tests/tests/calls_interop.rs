//! Linnet calls against an independent WebRTC stack (aiortc, behind the Jingle test peer in
//! tests/peers) and against a JMP/Cheogram-like phone gateway component that speaks only PCMU +
//! telephone-event/8000, proceeds at once and starts ICE while the phone still rings.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::audio::{RecordingSink, dominant_frequency};
use linnet_sdk::store::CallEndReason;
use linnet_sdk::{AudioIo, CallMediaEvent, CallState, ClientEvent};
use linnet_tests::calls::{call_update, is_connected, reaches, tone_audio};
use linnet_tests::jingle_peer::{JinglePeer, PeerArgs, phone_jid};
use linnet_tests::*;

const SETUP: Duration = Duration::from_secs(30);
const MEDIA: Duration = Duration::from_secs(20);

fn audio(tone_hz: f32) -> (AudioIo, RecordingSink) {
    tone_audio(tone_hz)
}

fn connected(state: &CallState) -> bool {
    is_connected(state)
}

/// The dominant frequency of the last half second heard, after letting `settle` of audio in.
async fn heard(recording: &RecordingSink, settle: Duration) -> f32 {
    tokio::time::sleep(settle).await;
    let samples = recording.samples();
    let tail = &samples[samples.len().saturating_sub(24_000)..];
    dominant_frequency(tail, 48_000).expect("heard silence")
}

async fn peer_hears(peer: &mut JinglePeer, hz: f64) {
    let audio = peer
        .wait_until("audio", MEDIA, |e| {
            e["frequency"]
                .as_f64()
                .is_some_and(|f| (f - hz).abs() <= 10.0)
        })
        .await;
    assert!(audio["frequency"].is_number());
}

/// Linnet calls aiortc (Opus): each hears the other's tone, aiortc decodes Linnet's DTMF; then
/// aiortc calls Linnet (a contact) and Linnet answers.
async fn linnet_and_aiortc_call_each_other(server: TestServer) {
    let mut alice = linnet_tests::connected(&server, "alice").await;
    let (peer_jid, peer_pw) = create_account(&server, "aiortc");
    alice.client.add_contact(&peer_jid, None).await.unwrap();
    let mut peer = JinglePeer::spawn(
        PeerArgs::client(&server, &peer_jid, &peer_pw)
            .tone(660.0)
            .accept_from(&alice.jid),
    );
    peer.wait_for("ready", SETUP).await;

    let (out, alice_heard) = audio(440.0);
    let id = alice.client.place_call(&peer_jid, out).await.unwrap();
    peer.wait_for("propose", SETUP).await;
    reaches(&mut alice, &id, "connected", connected).await;
    peer.wait_for("connected", SETUP).await;
    let f = heard(&alice_heard, Duration::from_millis(1500)).await;
    assert!((f - 660.0).abs() <= 10.0, "alice heard {f} Hz");
    peer_hears(&mut peer, 440.0).await;
    let codec = alice.client.call_diagnostics(&id).unwrap().codec.unwrap();
    assert!(codec.starts_with("opus/48000"), "{codec}");
    alice.client.send_dtmf(&id, "0123456789*#").unwrap();
    assert_eq!(peer.wait_for_digits(12, MEDIA).await, "0123456789*#");
    alice.client.hang_up(&id).unwrap();
    let end = peer.wait_for("terminated", SETUP).await;
    assert_eq!(end["reason"], "success", "{end}");
    assert_eq!(peer.wait_exit(SETUP).await, 0);

    // The other way: aiortc proposes, Linnet rings (aiortc is a contact) and answers.
    let mut caller = JinglePeer::spawn(
        PeerArgs::client(&server, &peer_jid, &peer_pw)
            .call(&alice.jid)
            .tone(550.0)
            .dtmf("42#"),
    );
    let ringing = call_update(&mut alice, "an incoming call", |u| {
        u.state == CallState::Incoming
    })
    .await;
    let (out, alice_heard) = audio(440.0);
    alice.client.answer_call(&ringing.id, out).unwrap();
    reaches(&mut alice, &ringing.id, "connected", connected).await;
    let f = heard(&alice_heard, Duration::from_millis(1500)).await;
    assert!((f - 550.0).abs() <= 10.0, "alice heard {f} Hz");
    peer_hears(&mut caller, 440.0).await;
    let mut digits = String::new();
    while digits.len() < 3 {
        digits.push(
            alice
                .expect("DTMF", |e| match e {
                    ClientEvent::CallMedia {
                        event: CallMediaEvent::Dtmf(d),
                        ..
                    } => Some(*d),
                    _ => None,
                })
                .await,
        );
    }
    assert_eq!(digits, "42#");
    caller.terminate();
    let end = call_update(&mut alice, "the end", |u| {
        matches!(u.state, CallState::Ended { .. })
    })
    .await;
    assert_eq!(
        end.state,
        CallState::Ended {
            reason: CallEndReason::RemoteHungUp
        }
    );
    assert_eq!(caller.wait_exit(SETUP).await, 0);
}
on_both_servers!(linnet_and_aiortc_call_each_other);

/// `place_call("+15551234567,,123#")`: Linnet finds the gateway (disco gateway/pstn), offers
/// PCMU/G.722 with telephone-event/8000, copes with the gateway proceeding at once and starting
/// ICE while ringing (the call shows "ringing" until the session-accept), and presses the dial
/// string's digits once connected.
async fn phone_call_through_the_gateway(server: TestServer) {
    let mut gw = JinglePeer::spawn(
        PeerArgs::gateway(&server)
            .tone(440.0)
            .answer_delay(Duration::from_secs(3)),
    );
    gw.wait_for("ready", Duration::from_secs(90)).await;
    let mut alice = linnet_tests::connected(&server, "alice").await;
    let gateway = alice.client.phone_gateway().await.unwrap();
    assert_eq!(
        gateway.as_deref(),
        Some(format!("gateway.{}", server.domain).as_str())
    );

    let (out, alice_heard) = audio(660.0);
    let id = alice
        .client
        .place_call("+1 555 123 4567,,123#", out)
        .await
        .unwrap();
    let number_jid = phone_jid(&server, "+15551234567");
    let calling = call_update(&mut alice, "calling", |u| u.id == id).await;
    assert_eq!(calling.peer, number_jid);
    assert_eq!(calling.phone_number.as_deref(), Some("+15551234567"));
    // Proceeded at once, but the phone rings: not connecting yet.
    reaches(&mut alice, &id, "ringing", |s| *s == CallState::Ringing).await;
    gw.wait_for("session-initiate", SETUP).await;
    // The gateway's ICE checks start at once, while the phone rings...
    gw.wait_for("transport-info-sent", SETUP).await;
    gw.wait_for("session-accept-sent", SETUP).await;
    assert!(
        gw.position("ice-state") < gw.position("session-accept-sent"),
        "{:?}",
        gw.events()
    );
    // ... and the call connects once it answers.
    reaches(&mut alice, &id, "connected", connected).await;
    let f = heard(&alice_heard, Duration::from_millis(1500)).await;
    assert!((f - 440.0).abs() <= 10.0, "alice heard {f} Hz");
    peer_hears(&mut gw, 660.0).await;
    // ",," is a 4 s pause, then the digits.
    assert_eq!(gw.wait_for_digits(4, MEDIA).await, "123#");
    let diagnostics = alice.client.call_diagnostics(&id).unwrap();
    let codec = diagnostics.codec.unwrap_or_default();
    assert!(
        codec.starts_with("PCMU/8000") || codec.starts_with("G722/8000"),
        "{codec}"
    );
    alice.client.hang_up(&id).unwrap();
    gw.wait_for("terminated", SETUP).await;
    assert_eq!(gw.wait_exit(SETUP).await, 0);
}
on_both_servers!(phone_call_through_the_gateway);

/// A direct session-initiate (no JMI) from a stranger is terminated at once: no ringing here,
/// no candidates sent back.
async fn a_strangers_direct_session_initiate_is_refused(server: TestServer) {
    let mut bob = linnet_tests::connected(&server, "bob").await;
    let (stranger, stranger_pw) = create_account(&server, "stranger");
    // A direct session-initiate goes to a device (a full JID), as one seen in presence.
    let device = bob.client.session_info().unwrap().bound_jid.to_string();
    let mut caller = JinglePeer::spawn(
        PeerArgs::client(&server, &stranger, &stranger_pw)
            .call(&device)
            .direct(),
    );
    let end = caller.wait_for("terminated", SETUP).await;
    assert_eq!(end["reason"], "decline", "{end}");
    for event in [
        "transport-info",
        "session-accept",
        "connected",
        "ice-connected",
    ] {
        assert!(
            caller.position(event).is_none(),
            "{event}: {:?}",
            caller.events()
        );
    }
    let rang = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            if let Ok(ClientEvent::Call(u)) = bob.events.recv().await {
                return u;
            }
        }
    })
    .await;
    assert!(rang.is_err(), "bob's client showed the call: {rang:?}");
    let log = bob.client.call_log(5).unwrap();
    assert!(
        log.first()
            .is_some_and(|e| e.silent && e.end_reason == Some(CallEndReason::Stranger)),
        "{log:?}"
    );
}
on_both_servers!(a_strangers_direct_session_initiate_is_refused);

/// The peer vanishes mid-call (killed: no session-terminate): the media is lost, and after the
/// grace period the call ends as `network_lost`.
async fn a_vanished_peer_ends_the_call_as_network_lost(server: TestServer) {
    let config = linnet_sdk::ClientConfig {
        calls: linnet_sdk::CallsConfig {
            media_loss_grace: Duration::from_secs(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let mut alice = client_with_config(&server, &alice_jid, &alice_pw, config);
    alice.client.connect().await.unwrap();
    alice.client.doctor().await.unwrap();
    let (peer_jid, peer_pw) = create_account(&server, "aiortc");
    alice.client.add_contact(&peer_jid, None).await.unwrap();
    let mut peer =
        JinglePeer::spawn(PeerArgs::client(&server, &peer_jid, &peer_pw).accept_from(&alice.jid));
    peer.wait_for("ready", SETUP).await;
    let (out, _) = audio(440.0);
    let id = alice.client.place_call(&peer_jid, out).await.unwrap();
    reaches(&mut alice, &id, "connected", connected).await;
    drop(peer);
    let end = call_update(&mut alice, "the end", |u| {
        u.id == id && matches!(u.state, CallState::Ended { .. })
    })
    .await;
    assert_eq!(
        end.state,
        CallState::Ended {
            reason: CallEndReason::NetworkLost
        }
    );
}
on_both_servers!(a_vanished_peer_ends_the_call_as_network_lost);

/// A third party cannot end (or touch) someone else's call: its session-terminate with the
/// call's id is refused as an unknown session, and the call goes on.
async fn a_third_party_cannot_end_someone_elses_call(server: TestServer) {
    let mut alice = linnet_tests::connected(&server, "alice").await;
    let mut bob = linnet_tests::connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let (out, _) = audio(440.0);
    let id = alice.client.place_call(&bob.jid, out).await.unwrap();
    call_update(&mut bob, "ringing", |u| u.state == CallState::Incoming).await;
    let (out, _) = audio(660.0);
    bob.client.answer_call(&id, out).unwrap();
    reaches(&mut bob, &id, "connected", connected).await;

    let (mallory, mallory_pw) = create_account(&server, "mallory");
    let bob_device = bob.client.session_info().unwrap().bound_jid.to_string();
    let mut meddler = JinglePeer::spawn(PeerArgs::client(&server, &mallory, &mallory_pw).inject(
        &bob_device,
        "session-terminate",
        &id,
    ));
    let refused = meddler.wait_for("iq-error", SETUP).await;
    assert_eq!(refused["condition"], "item-not-found", "{refused}");
    assert_eq!(meddler.wait_exit(SETUP).await, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = bob.client.active_calls();
    assert!(
        calls.iter().any(|c| c.id == id && connected(&c.state)),
        "{calls:?}"
    );
    alice.client.hang_up(&id).unwrap();
}
on_both_servers!(a_third_party_cannot_end_someone_elses_call);
