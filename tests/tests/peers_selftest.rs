//! The independent Jingle test peers (tests/peers/jingle_peer.py, aiortc + slixmpp) against each
//! other through the real servers, so that a Linnet call test failing against them points at
//! Linnet, not at the peers: aiortc calls aiortc (Opus both ways, DTMF), and a PCMU caller calls
//! the phone-gateway component, which starts ICE before it answers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_tests::jingle_peer::{
    ALL_DIGITS, JinglePeer, PeerArgs, PeerCodecs, gateway_component, phone_jid,
};
use linnet_tests::*;
use serde_json::Value;

const SETUP: Duration = Duration::from_secs(30);
const MEDIA: Duration = Duration::from_secs(20);

/// Waits for two "audio" reports in a row and asserts each heard `hz` (+-10 Hz).
async fn hears(peer: &mut JinglePeer, hz: f64) {
    for _ in 0..2 {
        let audio = peer.wait_for("audio", MEDIA).await;
        let heard = audio["frequency"].as_f64().unwrap();
        assert!(
            (heard - hz).abs() <= 10.0,
            "expected {hz} Hz, heard {heard} Hz: {audio}"
        );
    }
}

fn is_from(event: &Value, jid: &str) -> bool {
    event["from"]
        .as_str()
        .is_some_and(|f| f.split('/').next() == Some(jid))
}

async fn aiortc_calls_aiortc(server: TestServer) {
    let (alice, alice_pw) = create_account(&server, "peeralice");
    let (bob, bob_pw) = create_account(&server, "peerbob");
    let mut callee = JinglePeer::spawn(
        PeerArgs::client(&server, &bob, &bob_pw)
            .tone(440.0)
            .accept_from(&alice),
    );
    callee.wait_for("ready", SETUP).await;
    let mut caller = JinglePeer::spawn(
        PeerArgs::client(&server, &alice, &alice_pw)
            .call(&bob)
            .tone(660.0)
            .dtmf(ALL_DIGITS),
    );

    let propose = callee.wait_for("propose", SETUP).await;
    assert!(is_from(&propose, &alice), "{propose}");
    caller.wait_for("ringing", SETUP).await;
    caller.wait_for("proceed", SETUP).await;
    callee.wait_for("session-initiate", SETUP).await;
    caller.wait_for("session-accept", SETUP).await;
    caller.wait_for("connected", SETUP).await;
    callee.wait_for("connected", SETUP).await;

    hears(&mut caller, 440.0).await;
    hears(&mut callee, 660.0).await;

    caller.wait_for("dtmf-sent", MEDIA).await;
    let digits = callee.wait_for_digits(ALL_DIGITS.len(), MEDIA).await;
    assert_eq!(digits, ALL_DIGITS);

    caller.terminate();
    let end = callee.wait_for("terminated", SETUP).await;
    assert_eq!(end["reason"], "success", "{end}");
    assert_eq!(caller.wait_exit(SETUP).await, 0);
    assert_eq!(callee.wait_exit(SETUP).await, 0);
}
on_both_servers!(aiortc_calls_aiortc);

async fn pcmu_caller_calls_the_phone_gateway(server: TestServer) {
    let gateway = gateway_component(&server);
    let mut gw = JinglePeer::spawn(PeerArgs::gateway(&server).tone(440.0));
    // Parallel tests take turns for the component: its lock may take a while.
    gw.wait_for("ready", Duration::from_secs(90)).await;

    // The server lists the gateway, and it says it is a phone gateway that does Jingle.
    let (alice, alice_pw) = create_account(&server, "peercaller");
    let mut disco = JinglePeer::spawn(PeerArgs::client(&server, &alice, &alice_pw).disco());
    let items = disco.wait_for("disco-items", SETUP).await;
    assert!(
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == gateway.jid.as_str()),
        "{items}"
    );
    let info = disco
        .wait_until("disco-info", SETUP, |e| e["jid"] == gateway.jid.as_str())
        .await;
    assert!(
        info["identities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["category"] == "gateway" && i["type"] == "pstn"),
        "{info}"
    );
    for feature in [
        "urn:xmpp:jingle:1",
        "urn:xmpp:jingle-message:0",
        "urn:xmpp:jingle:apps:rtp:audio",
    ] {
        assert!(
            info["features"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == feature),
            "{feature} missing: {info}"
        );
    }
    assert_eq!(disco.wait_exit(SETUP).await, 0);

    let number = phone_jid(&server, "+15551234567");
    let mut caller = JinglePeer::spawn(
        PeerArgs::client(&server, &alice, &alice_pw)
            .call(&number)
            .codecs(PeerCodecs::Pcmu)
            .tone(660.0)
            .dtmf(ALL_DIGITS),
    );
    gw.wait_for("propose", SETUP).await;
    // The gateway proceeds at once, from <number>@<gateway>/sip.
    let proceed = caller.wait_for("proceed", SETUP).await;
    assert_eq!(proceed["from"], format!("{number}/sip"), "{proceed}");

    // ICE runs while the phone rings: connected before the gateway sends session-accept.
    gw.wait_for("session-accept-sent", SETUP).await;
    let ice = gw.position("ice-connected");
    let accept = gw.position("session-accept-sent");
    assert!(
        ice.is_some() && ice < accept,
        "the gateway's ICE did not connect before session-accept: {:?}",
        gw.events()
    );
    caller.wait_for("session-accept", SETUP).await;
    assert!(
        caller.position("early-ice") < caller.position("session-accept")
            && caller.position("early-ice").is_some(),
        "the caller did not start ICE from the early transport-info: {:?}",
        caller.events()
    );
    assert!(
        caller.position("session-info") < caller.position("session-accept"),
        "no ringing session-info before session-accept: {:?}",
        caller.events()
    );

    hears(&mut caller, 440.0).await;
    hears(&mut gw, 660.0).await;

    caller.wait_for("dtmf-sent", MEDIA).await;
    let digits = gw.wait_for_digits(ALL_DIGITS.len(), MEDIA).await;
    assert_eq!(digits, ALL_DIGITS);

    caller.terminate();
    gw.wait_for("terminated", SETUP).await;
    assert_eq!(caller.wait_exit(SETUP).await, 0);
    assert_eq!(gw.wait_exit(SETUP).await, 0);
}
on_both_servers!(pcmu_caller_calls_the_phone_gateway);

/// `accept_from`: a stranger's propose gets no ringing and no proceed, and the stranger gives up.
async fn the_peer_ignores_a_stranger(server: TestServer) {
    let (friend, _) = create_account(&server, "peerfriend");
    let (stranger, stranger_pw) = create_account(&server, "peerstranger");
    let (bob, bob_pw) = create_account(&server, "peerbob");
    let mut callee =
        JinglePeer::spawn(PeerArgs::client(&server, &bob, &bob_pw).accept_from(&friend));
    callee.wait_for("ready", SETUP).await;
    let mut caller = JinglePeer::spawn(
        PeerArgs::client(&server, &stranger, &stranger_pw)
            .call(&bob)
            .arg("--ring-timeout")
            .arg("3"),
    );
    let ignored = callee.wait_for("ignored", SETUP).await;
    assert!(is_from(&ignored, &stranger), "{ignored}");
    let end = caller.wait_for("terminated", SETUP).await;
    assert_eq!(end["reason"], "timeout", "{end}");
    assert_eq!(caller.wait_exit(SETUP).await, 0);
    for event in ["ringing", "proceed", "session-initiate-sent"] {
        assert!(
            caller.position(event).is_none(),
            "{event}: {:?}",
            caller.events()
        );
    }
    callee.terminate();
    assert_eq!(callee.wait_exit(SETUP).await, 0);
    assert!(
        callee.position("session-initiate").is_none(),
        "{:?}",
        callee.events()
    );
}
on_both_servers!(the_peer_ignores_a_stranger);
