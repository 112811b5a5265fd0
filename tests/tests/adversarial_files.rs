//! A hostile or broken upload service (XEP-0363) on a scripted fake server: slots that point at
//! plain http, refusals, and what the client must do with each (a visible failure, no retry
//! loop, no byte sent in clear). Real servers do none of this; `files.rs` has the real ones.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::{MessageState, TransferFailureKind, TransferState};
use linnet_tests::fake_server::*;
use linnet_xmpp::Element;

const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
const UPLOAD: &str = "urn:xmpp:http:upload:0";

/// Answers `request` as the entity it was addressed to (the client checks who answers).
async fn reply(s: &mut ServerConn, request: &Element, payload: &str) {
    let id = request.attr("id").unwrap();
    let from = request.attr("to").unwrap();
    s.send(&format!(
        "<iq type='result' id='{id}' from='{from}'>{payload}</iq>"
    ))
    .await;
}

/// Answers the discovery of the upload service: `upload.fake.test`, up to `max` bytes.
async fn serve_upload_discovery(s: &mut ServerConn, max: u64) {
    let items = s.expect_iq("get", DISCO_ITEMS).await;
    reply(s,
        &items,
        &format!(
            "<query xmlns='{DISCO_ITEMS}'><item jid='upload.fake.test'/><item jid='conference.fake.test'/></query>"
        ),
    )
    .await;
    loop {
        let info = s.expect_iq("get", DISCO_INFO).await;
        if info.attr("to") == Some("upload.fake.test") {
            reply(
                s,
                &info,
                &format!(
                    "<query xmlns='{DISCO_INFO}'><identity category='store' type='file'/>\
                     <feature var='{UPLOAD}'/><x xmlns='jabber:x:data' type='result'>\
                     <field var='FORM_TYPE' type='hidden'><value>{UPLOAD}</value></field>\
                     <field var='max-file-size'><value>{max}</value></field></x></query>"
                ),
            )
            .await;
            return;
        }
        reply(
            s,
            &info,
            &format!(
                "<query xmlns='{DISCO_INFO}'><identity category='conference' type='text'/></query>"
            ),
        )
        .await;
    }
}

/// Tells the test the script got this far (`signal`), then serves nothing more.
async fn end_script(s: &mut ServerConn, signal: &str) {
    s.barrier().await;
    s.signal(signal);
    s.drain_until_closed().await;
}

/// Sends a file, waits for the script's `signal`, then for the upload to fail.
async fn failed_upload_of_a_file(
    server: &FakeServer,
    signal: &str,
) -> (FakeClient, i64, linnet_sdk::Attachment, tempfile::TempDir) {
    let (c, id, src) = send_a_file(server).await;
    server.wait_for(signal).await;
    let a = failed_upload(&c, id).await;
    (c, id, a, src)
}

/// Sends a 100-byte file and returns the client with the message id.
async fn send_a_file(server: &FakeServer) -> (FakeClient, i64, tempfile::TempDir) {
    let c = FakeClient::connected(server).await;
    let src = tempfile::tempdir().unwrap();
    let path = src.path().join("photo.jpg");
    std::fs::write(&path, [7u8; 100]).unwrap();
    let id = c.client.send_file("bob@fake.test", &path).unwrap();
    (c, id, src)
}

/// Waits until the upload of message `id` has ended (failed here) and returns its attachment.
async fn failed_upload(c: &FakeClient, id: i64) -> linnet_sdk::Attachment {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let a = c.client.message(id).unwrap().unwrap().attachment.unwrap();
        if a.state == TransferState::Failed {
            return a;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload did not fail: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn request_of(slot_request: &Element) -> (String, u64) {
    let r = slot_request.get_child("request", UPLOAD).unwrap();
    (
        r.attr("filename").unwrap().to_string(),
        r.attr("size").unwrap().parse().unwrap(),
    )
}

/// A slot whose PUT or GET URL is plain http is refused: nothing is sent to it, the message
/// fails with the reason, and it is not retried by itself.
#[tokio::test]
async fn a_slot_over_plain_http_is_refused() {
    for (put, get) in [
        (
            "http://127.0.0.1:9/put/photo.jpg",
            "https://fake.test/get/photo.jpg",
        ),
        (
            "https://127.0.0.1:9/put/photo.jpg",
            "http://fake.test/get/photo.jpg",
        ),
        (
            "HTTP://127.0.0.1:9/put/photo.jpg",
            "https://fake.test/get/photo.jpg",
        ),
    ] {
        let server = FakeServer::new(move |mut s: ServerConn| async move {
            s.login().await;
            s.serve_session_basics().await;
            serve_upload_discovery(&mut s, 1_000_000).await;
            let slot = s.expect_iq("get", UPLOAD).await;
            assert_eq!(slot.attr("to"), Some("upload.fake.test"));
            assert_eq!(request_of(&slot), ("photo.jpg".into(), 100));
            reply(
                &mut s,
                &slot,
                &format!("<slot xmlns='{UPLOAD}'><put url='{put}'/><get url='{get}'/></slot>"),
            )
            .await;
            end_script(&mut s, "answered").await;
        });
        let (c, id, a, _src) = failed_upload_of_a_file(&server, "answered").await;
        assert_eq!(
            a.failure_kind.as_deref(),
            Some(TransferFailureKind::NotHttps.as_str()),
            "{put} / {get}: {a:?}"
        );
        assert_eq!(a.attempts, 1);
        assert_eq!(a.url, None, "the http link is not kept");
        let m = c.client.message(id).unwrap().unwrap();
        assert_eq!(m.state, MessageState::Failed);
        c.client.disconnect().await;
        server.finish().await;
    }
}

/// The service's own limit is honoured before asking, and a slot refused as too large (a
/// limit that changed) fails the same way, with the new limit in the reason.
#[tokio::test]
async fn file_too_large_from_the_service_fails_without_a_retry() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        serve_upload_discovery(&mut s, 1_000).await;
        let slot = s.expect_iq("get", UPLOAD).await;
        let id = slot.attr("id").unwrap().to_string();
        s.send(&format!(
            "<iq type='error' id='{id}' from='upload.fake.test'><error type='modify'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large</text>\
             <file-too-large xmlns='{UPLOAD}'><max-file-size>50</max-file-size></file-too-large>\
             </error></iq>"
        ))
        .await;
        end_script(&mut s, "refused").await;
    });
    let (c, _, a, _src) = failed_upload_of_a_file(&server, "refused").await;
    assert_eq!(
        a.failure_kind.as_deref(),
        Some(TransferFailureKind::TooLarge.as_str()),
        "{a:?}"
    );
    assert!(a.failure_reason.as_deref().unwrap().contains("50"), "{a:?}");
    assert_eq!(a.attempts, 1);
    c.client.disconnect().await;
    server.finish().await;
}

/// A server without an upload service: a clear failure, not a retry loop.
#[tokio::test]
async fn no_upload_service_is_a_clear_failure() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let items = s.expect_iq("get", DISCO_ITEMS).await;
        reply(&mut s, &items, &format!("<query xmlns='{DISCO_ITEMS}'/>")).await;
        // The domain itself may offer the feature: asked, it does not.
        let info = s.expect_iq("get", DISCO_INFO).await;
        reply(
            &mut s,
            &info,
            &format!("<query xmlns='{DISCO_INFO}'><identity category='server' type='im'/></query>"),
        )
        .await;
        end_script(&mut s, "answered").await;
    });
    let (c, _, a, _src) = failed_upload_of_a_file(&server, "answered").await;
    assert_eq!(
        a.failure_kind.as_deref(),
        Some(TransferFailureKind::NoUploadService.as_str())
    );
    c.client.disconnect().await;
    server.finish().await;
}

/// A slot whose HTTP server cannot be reached is a transient failure: the upload waits out a
/// backoff and asks for a new slot, up to `max_attempts`, then fails with the network reason.
#[tokio::test]
async fn unreachable_upload_servers_are_retried_with_backoff_then_fail() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let server = FakeServer::new(move |mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        serve_upload_discovery(&mut s, 1_000_000).await;
        for _ in 0..3 {
            let slot = s.expect_iq("get", UPLOAD).await;
            reply(
                &mut s,
                &slot,
                &format!(
                    "<slot xmlns='{UPLOAD}'><put url='https://127.0.0.1:{port}/put/photo.jpg'/>\
                     <get url='https://127.0.0.1:{port}/get/photo.jpg'/></slot>"
                ),
            )
            .await;
        }
        end_script(&mut s, "three slots").await;
    });
    let config = linnet_sdk::ClientConfig {
        files: linnet_sdk::FilesConfig {
            max_attempts: 3,
            retry_base_delay: Duration::from_millis(50),
            retry_max_delay: Duration::from_millis(200),
            ..Default::default()
        },
        ..fast_config()
    };
    let c = FakeClient::with_config(&server, config);
    c.client.connect().await.unwrap();
    let src = tempfile::tempdir().unwrap();
    let path = src.path().join("photo.jpg");
    std::fs::write(&path, [7u8; 100]).unwrap();
    let id = c.client.send_file("bob@fake.test", &path).unwrap();
    // Between attempts: waiting, with the reason of the last failure.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let a = c.client.message(id).unwrap().unwrap().attachment.unwrap();
        if a.state == TransferState::Queued && a.failure_kind.is_some() {
            assert_eq!(a.failure_kind.as_deref(), Some("network"), "{a:?}");
            assert!(a.next_attempt_at.is_some());
            assert_eq!(
                c.client.message(id).unwrap().unwrap().state,
                MessageState::Queued
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{a:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.wait_for("three slots").await;
    let a = failed_upload(&c, id).await;
    assert_eq!(a.failure_kind.as_deref(), Some("network"), "{a:?}");
    assert_eq!(a.attempts, 3);
    assert_eq!(
        c.client.message(id).unwrap().unwrap().state,
        MessageState::Failed
    );
    c.client.disconnect().await;
    server.finish().await;
}
