//! Secrets never reach a log (security.md 22). A canary password logs in with PLAIN and with
//! SCRAM against the fake server and sends a message, with every log line at TRACE (wire
//! traffic included) going through the SDK's redacting writer into memory. The capture must
//! hold the wire traffic (so the test cannot pass by logging nothing) and none of: the
//! password, its base64 forms at any alignment, the PLAIN payload, the SCRAM client-final
//! message or its proof.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use linnet_sdk::MessageState;
use linnet_sdk::logging::RedactingMakeWriter;
use linnet_tests::fake_server::*;

const CANARY: &str = "Canary-Secret-9f4c1e7a";

/// Base64 text that appears in any base64 encoding of data containing `secret`, whatever its
/// offset: for each of the three alignments, the encoding minus the characters that depend on
/// the neighbouring bytes.
fn base64_fragments(secret: &str) -> Vec<String> {
    (0..3)
        .map(|pad| {
            let mut data = vec![0u8; pad];
            data.extend_from_slice(secret.as_bytes());
            let encoded = B64.encode(&data);
            // The first 4 characters may mix in padding bytes, the last 4 the next bytes.
            encoded[4..encoded.len() - 4].to_string()
        })
        .collect()
}

#[derive(Default)]
struct Seen {
    plain_payload: Option<String>,
    scram: Option<ScramTranscript>,
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let capture = LogCapture::new();
    let writer = {
        let capture = capture.clone();
        RedactingMakeWriter::new(move || capture.clone())
    };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(writer)
        .finish();
    // The test runs on a current-thread runtime: the client, the session tasks and the fake
    // server all log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let config = FakeConfig {
        password: CANARY.into(),
        ..FakeConfig::default()
    };
    let server = {
        let seen = seen.clone();
        FakeServer::with_config(config, move |mut s: ServerConn| {
            let seen = seen.clone();
            async move {
                s.secure().await;
                if s.index() == 0 {
                    s.offer_mechanisms(&["PLAIN"]).await;
                    let plain = s.accept_plain_auth().await;
                    assert_eq!(plain.password, CANARY);
                    seen.lock().unwrap().plain_payload = Some(plain.payload_base64);
                    s.accept_bind().await;
                    s.serve_session_basics().await;
                    let m = s.expect("message").await;
                    assert!(show(&m).contains("hello from the canary test"));
                } else {
                    s.offer_mechanisms(&["SCRAM-SHA-256"]).await;
                    let t = s.accept_scram(ScramOptions::default()).await;
                    assert!(t.succeeded(), "{t:?}");
                    seen.lock().unwrap().scram = Some(t);
                    s.accept_bind().await;
                    s.serve_session_basics().await;
                }
                s.drain_until_closed().await;
            }
        })
    };

    let c = FakeClient::connected(&server).await;
    assert_eq!(
        c.client.session_info().unwrap().mechanism.name(),
        "PLAIN",
        "first login with PLAIN"
    );
    let id = c
        .client
        .send_message("bob@fake.test", "hello from the canary test")
        .unwrap();
    c.client
        .wait_for_state(id, MessageState::Sent, Duration::from_secs(5))
        .await
        .unwrap();
    c.client.disconnect().await;
    c.client.connect().await.unwrap();
    assert_eq!(
        c.client.session_info().unwrap().mechanism.name(),
        "SCRAM-SHA-256"
    );
    c.client.disconnect().await;
    server.finish().await;

    let log = capture.text();
    // Not vacuous: the wire traffic of both logins and the message is there.
    for expected in [
        "linnet::wire",
        "SEND",
        "RECV",
        "mechanism='PLAIN'",
        "mechanism='SCRAM-SHA-256'",
        "<response",
        "hello from the canary test",
        "[redacted]",
    ] {
        assert!(
            log.contains(expected),
            "the log should contain {expected:?}:\n{log}"
        );
    }

    let seen = seen.lock().unwrap();
    let scram = seen.scram.as_ref().expect("SCRAM login happened");
    let mut secrets = vec![
        CANARY.to_string(),
        seen.plain_payload.clone().expect("PLAIN login happened"),
        B64.encode(format!("\0user\0{CANARY}")),
        scram.client_final.clone().unwrap(),
        scram.client_final_base64.clone().unwrap(),
        scram.proof.clone().unwrap(),
    ];
    secrets.extend(base64_fragments(CANARY));
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "secret {secret:?} leaked into the log:\n{log}"
        );
    }
}

/// The in-memory log a tester exports holds no message text, even when the server's bytes split
/// a `<body>` across two reads: received traffic is logged as whole elements, never raw chunks.
#[tokio::test]
async fn a_body_split_across_reads_never_reaches_the_exported_log() {
    use linnet_sdk::logging::{LogSinks, recent_logs};
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(RedactingMakeWriter::new(LogSinks { to_stderr: false }))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let head = format!(
            "<message from='friend@{}/phone' to='{}' type='chat' id='split-1'><body>first half of the secret ",
            s.domain(),
            s.full_jid()
        );
        s.send_raw(head.as_bytes()).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.send_raw(b"second half of the secret</body></message>")
            .await;
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    let body = c
        .wait_event("the split message", Duration::from_secs(5), |e| match e {
            linnet_sdk::ClientEvent::Message(m) => Some(m.body.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        body, "first half of the secret second half of the secret",
        "the message arrived whole"
    );
    c.client.disconnect().await;
    server.finish().await;

    let log = recent_logs();
    assert!(log.contains("split-1"), "the message is logged:\n{log}");
    for fragment in ["first half", "second half"] {
        assert!(!log.contains(fragment), "{fragment:?} leaked:\n{log}");
    }
}
