//! Relay-only calls through the local coturn (tests/servers/servers.sh starts it): only TURN
//! candidates leave the session, and the call still connects and carries audio.
#![allow(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use common::*;
use hmac::{Hmac, Mac};
use linnet_calls::audio::{RecordingSink, ToneSource};
use linnet_calls::media::{CodecProfile, IceServer, MediaConfig};

/// TURN REST credentials for coturn's use-auth-secret: "<expiry>:<name>" and
/// base64(HMAC-SHA1(secret, username)).
fn turn_server() -> IceServer {
    let state = std::env::var("LINNET_TEST_STATE")
        .unwrap_or_else(|_| "/tmp/linnet-test-servers".to_owned());
    let path = format!("{state}/turn.secret");
    let secret = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the TURN secret is not readable at {path} ({error}): start the test servers with \
             `bash tests/servers/servers.sh start`"
        )
    });
    let expiry = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    let username = format!("{expiry}:linnet-media-test");
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(secret.trim().as_bytes()).expect("any key length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    IceServer {
        urls: vec!["turn:127.0.0.1:3478?transport=udp".to_owned()],
        username: Some(username),
        credential: Some(credential),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_call_through_coturn() -> TestResult {
    let config = MediaConfig {
        ice_servers: vec![turn_server()],
        relay_only: true,
        profile: CodecProfile::Xmpp,
    };
    let heard_by_a = RecordingSink::new();
    let heard_by_b = RecordingSink::new();
    let mut call = call(
        config.clone(),
        config,
        Box::new(ToneSource::new(440.0, 8000)),
        Box::new(heard_by_a.clone()),
        Box::new(ToneSource::new(660.0, 8000)),
        Box::new(heard_by_b.clone()),
        str::to_owned,
    )
    .await?;
    first_audio(&mut call.b).await?;
    println!(
        "relay only: time from offer() to the callee's first audio: {} ms",
        call.started.elapsed().as_millis()
    );
    first_audio(&mut call.a).await?;
    let skip = Duration::from_millis(200);
    assert_near(
        heard_frequency(&heard_by_b, skip).await?,
        440.0,
        "B hears A",
    );
    assert_near(
        heard_frequency(&heard_by_a, skip).await?,
        660.0,
        "A hears B",
    );
    for side in [&call.a, &call.b] {
        let candidates = side.candidates.lock().unwrap().clone();
        assert!(!candidates.is_empty(), "no candidates at all");
        for candidate in &candidates {
            assert!(
                candidate.contains(" typ relay"),
                "a non-relay candidate left: {candidate}"
            );
            assert!(candidate.starts_with("candidate:"), "{candidate}");
            // Our own address stays hidden, even as the relay's related address.
            assert!(candidate.ends_with(" raddr 0.0.0.0 rport 0"), "{candidate}");
        }
        println!("candidates: {candidates:?}");
    }
    hang_up(&call).await;
    Ok(())
}
