//! The XML stream (security.md 14-16): forbidden constructs, invalid UTF-8, a second stream
//! header, nesting and size limits both ways. Each hostile payload is sent twice by the fake
//! server: once to a bare protocol-layer session (to check the typed reason) and once to an SDK
//! client that is online (to check that the session ends, nothing is stored and nothing
//! crashes).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Duration;

use linnet_sdk::{ClientEvent, ConnectionState, LinnetError, MessageState};
use linnet_tests::fake_server::*;
use linnet_xmpp::error::ConnectError;
use linnet_xmpp::session::{Disconnect, SessionConfig, SessionEvent};
use linnet_xmpp::xml::XmlError;

const WAIT: Duration = Duration::from_secs(5);
const NS_STREAMS: &str = "http://etherx.jabber.org/streams";

const MESSAGE: &str =
    "<message from='bob@fake.test/x' type='chat' id='m1'><body>smuggled</body></message>";

fn session_config() -> SessionConfig {
    SessionConfig {
        idle_before_ping: Duration::from_secs(30),
        ping_timeout: Duration::from_secs(10),
        iq_timeout: Duration::from_secs(5),
    }
}

/// Sends `payload` (in `chunk`-sized writes) once the session is up, first to a protocol-layer
/// session, then to an online SDK client. Returns the protocol layer's reason for closing; checks
/// that the SDK client went offline with the same words, stored nothing and reported no message.
async fn attack(payload: Vec<u8>, chunk: usize) -> Disconnect {
    let payload = Arc::new(payload);
    let server = FakeServer::new(move |mut s: ServerConn| {
        let payload = payload.clone();
        async move {
            s.login().await;
            if s.index() == 0 {
                // Not in the same read as the end of negotiation: this attacks the session.
                s.wait_for("session started").await;
            } else {
                s.serve_session_basics().await;
            }
            for piece in payload.chunks(chunk) {
                if s.try_send_raw(piece).await.is_err() {
                    break; // The client gave up before the end: fine.
                }
            }
            let answer = s.drain_until_closed().await;
            assert!(
                answer.iter().any(|e| e.is("error", NS_STREAMS)
                    && e.children().any(|c| c.name() == "not-well-formed")),
                "the client should close with a not-well-formed stream error, sent {:?}",
                answer.iter().map(show).collect::<Vec<_>>()
            );
        }
    });

    let mut session = SessionClient::start(&server, session_config()).await;
    server.signal("session started");
    let (reason, before) = session.wait_closed(WAIT).await;
    assert!(
        !before.iter().any(|e| matches!(e, SessionEvent::Message(_))),
        "a message got through: {before:?}"
    );

    let mut c = FakeClient::connected(&server).await;
    let sdk_reason = c.wait_disconnected(WAIT).await;
    server.finish().await;
    assert_eq!(sdk_reason, reason.to_string());
    assert!(
        c.client.chats().unwrap().is_empty(),
        "{:?}",
        c.all_messages()
    );
    assert!(
        !c.drain_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::Message(_)))
    );
    reason
}

fn xml_error(reason: &Disconnect) -> &XmlError {
    match reason {
        Disconnect::Error(ConnectError::Xml(e)) => e,
        other => panic!("expected an XML error, got {other:?}"),
    }
}

/// Sends a stream header of our making as the first answer (before TLS) and returns what
/// negotiation made of it; the client must hang up without sending anything else.
async fn hostile_header(header: &'static [u8]) -> ConnectError {
    let server = FakeServer::new(move |mut s: ServerConn| async move {
        s.read_stream_header().await;
        s.send_raw(header).await;
        s.send_features("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>")
            .await;
        s.expect_hangup().await;
    });
    let err = server
        .negotiate()
        .await
        .err()
        .expect("negotiation must fail");
    let c = FakeClient::new(&server);
    let sdk_err = c.client.connect().await.unwrap_err();
    server.finish().await;
    assert_eq!(sdk_err, LinnetError::from(err.clone()));
    assert!(c.client.chats().unwrap().is_empty());
    err
}

// ----- 14: DOCTYPE, entities, comments, processing instructions, non-UTF-8 -----

#[tokio::test]
async fn doctype_with_entity_declarations_mid_stream_is_fatal() {
    let payload = "<!DOCTYPE message [<!ENTITY boom 'boom'>]>\
         <message from='bob@fake.test/x' type='chat' id='m1'><body>&boom;</body></message>"
        .to_string();
    let reason = attack(payload.into_bytes(), 4096).await;
    assert_eq!(
        xml_error(&reason),
        &XmlError::Forbidden("DOCTYPE or markup declaration")
    );
}

#[tokio::test]
async fn doctype_in_the_stream_prolog_fails_negotiation() {
    let err = hostile_header(
        b"<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY lol 'lol'>]>\
          <stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
          from='fake.test' id='x' version='1.0'>",
    )
    .await;
    assert!(
        matches!(
            err,
            ConnectError::Xml(XmlError::Forbidden("DOCTYPE or markup declaration"))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn undeclared_entity_reference_is_fatal_and_never_expanded() {
    let payload =
        "<message from='bob@fake.test/x' type='chat' id='m1'><body>&xxe;</body></message>";
    let reason = attack(payload.as_bytes().to_vec(), 4096).await;
    assert_eq!(xml_error(&reason), &XmlError::Forbidden("entity reference"));
}

#[tokio::test]
async fn comment_is_fatal_between_and_inside_stanzas() {
    for payload in [
        format!("<!-- hello -->{MESSAGE}"),
        "<message from='bob@fake.test/x' type='chat' id='m1'><!-- c --><body>x</body></message>"
            .to_string(),
    ] {
        let reason = attack(payload.into_bytes(), 4096).await;
        assert_eq!(xml_error(&reason), &XmlError::Forbidden("comment"));
    }
}

#[tokio::test]
async fn processing_instruction_is_fatal() {
    let reason = attack(format!("<?evil run='me'?>{MESSAGE}").into_bytes(), 4096).await;
    assert_eq!(
        xml_error(&reason),
        &XmlError::Forbidden("processing instruction")
    );
}

#[tokio::test]
async fn non_utf8_encoding_declaration_fails_negotiation() {
    let err = hostile_header(
        b"<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns='jabber:client' \
          xmlns:stream='http://etherx.jabber.org/streams' from='fake.test' id='x' version='1.0'>",
    )
    .await;
    assert!(
        matches!(&err, ConnectError::Xml(XmlError::Syntax(s)) if s.contains("only utf-8")),
        "{err:?}"
    );
}

// ----- 15: invalid UTF-8, a second stream header -----

#[tokio::test]
async fn invalid_utf8_is_fatal() {
    for bad in [
        &b"\xC3\x28"[..],     // truncated two-byte sequence
        &b"\xC0\xAF"[..],     // overlong '/'
        &b"\xED\xA0\x80"[..], // UTF-16 surrogate
        &b"\xFF"[..],
    ] {
        let mut payload = b"<message from='bob@fake.test/x' type='chat' id='m1'><body>".to_vec();
        payload.extend_from_slice(bad);
        payload.extend_from_slice(b"</body></message>");
        payload.extend_from_slice(MESSAGE.as_bytes());
        let reason = attack(payload, 4096).await;
        assert_eq!(xml_error(&reason), &XmlError::InvalidUtf8, "{bad:?}");
    }
}

#[tokio::test]
async fn second_stream_header_mid_stream_is_fatal() {
    let header = "<stream:stream xmlns='jabber:client' \
                  xmlns:stream='http://etherx.jabber.org/streams' from='fake.test' version='1.0'>";
    let reason = attack(format!("{header}{MESSAGE}").into_bytes(), 4096).await;
    assert_eq!(xml_error(&reason), &XmlError::UnexpectedHeader);

    // With an XML declaration in front, as a smuggled stream restart would have.
    let reason = attack(
        format!("<?xml version='1.0'?>{header}{MESSAGE}").into_bytes(),
        4096,
    )
    .await;
    // rxml accepts `<?xml` only at the very start; later it is a processing instruction.
    assert_eq!(
        xml_error(&reason),
        &XmlError::Forbidden("processing instruction")
    );
}

/// A stream end followed by a new stream in the same write: the session ends at the end of the
/// stream, and what follows is never processed.
#[tokio::test]
async fn nothing_after_the_end_of_the_stream_is_processed() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let restart = s.stream_header_xml();
        let _ = s
            .try_send(&format!("</stream:stream>{restart}{MESSAGE}"))
            .await;
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    c.wait_disconnected(WAIT).await;
    server.finish().await;
    assert!(
        c.client.chats().unwrap().is_empty(),
        "{:?}",
        c.all_messages()
    );
}

// ----- 16: size and depth limits both ways -----

#[tokio::test]
async fn deeply_nested_stanza_is_fatal_without_exhausting_anything() {
    let mut payload = b"<message from='bob@fake.test/x' type='chat' id='m1'>".to_vec();
    payload.extend(b"<a>".repeat(100_000));
    let reason = attack(payload, 8 * 1024).await;
    assert_eq!(xml_error(&reason), &XmlError::TooDeep { limit: 32 });
}

#[tokio::test]
async fn oversize_incoming_stanza_is_fatal() {
    let body = "x".repeat(300 * 1024);
    let payload = format!(
        "<message from='bob@fake.test/x' type='chat' id='m1'><body>{body}</body></message>"
    );
    let reason = attack(payload.into_bytes(), 16 * 1024).await;
    assert_eq!(
        xml_error(&reason),
        &XmlError::StanzaTooLarge { limit: 256 * 1024 }
    );
}

#[tokio::test]
async fn oversize_stream_header_fails_negotiation() {
    static HEADER: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='fake.test' id='{}' version='1.0'>",
            "i".repeat(9 * 1024)
        )
        .into_bytes()
    });
    let err = hostile_header(&HEADER).await;
    assert!(
        matches!(
            err,
            ConnectError::Xml(XmlError::HeaderTooLarge { limit: 8192 })
        ),
        "{err:?}"
    );
}

/// An outgoing message over the stanza limit fails locally with `TooLarge`: it is not sent,
/// it is marked failed (so it is not retried on every reconnect), and the session stays up.
#[tokio::test]
async fn oversize_outgoing_message_fails_locally_and_the_session_stays_up() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login_with_sm().await;
        s.serve_session_basics().await;
        let m = s.expect("message").await;
        let body = m
            .children()
            .find(|c| c.name() == "body")
            .map(|b| b.text())
            .unwrap_or_default();
        assert_eq!(body, "small one", "the oversize message must never be sent");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let huge = "y".repeat(300 * 1024);
    let err = c.client.send_message("bob@fake.test", &huge).unwrap_err();
    assert!(
        matches!(err, LinnetError::TooLarge { size, limit } if size > limit && limit == 256 * 1024),
        "{err:?}"
    );
    assert_eq!(c.client.connection_state(), ConnectionState::Online);
    let stored = c.client.history("bob@fake.test", 10, None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].state, MessageState::Failed);

    let id = c.client.send_message("bob@fake.test", "small one").unwrap();
    let m = c
        .client
        .wait_for_state(id, MessageState::Acked, WAIT)
        .await
        .unwrap();
    assert_eq!(m.state, MessageState::Acked);
    assert_eq!(c.client.connection_state(), ConnectionState::Online);
    c.client.disconnect().await;
    server.finish().await;
}
