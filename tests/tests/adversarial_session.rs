//! The session driver against a scripted fake server: logins over both TLS modes, IQ response
//! sender checks and timeouts, stream management counting and acks, dead-connection detection,
//! and stream errors. No real server needed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::{ClientConfig, ClientEvent, ConnectionState, LinnetError, MessageState};
use linnet_tests::fake_server::*;
use linnet_xmpp::Element;
use linnet_xmpp::error::ConnectError;
use linnet_xmpp::session::{Disconnect, IqError, SessionConfig, SessionEvent};
use linnet_xmpp::xmpp_parsers::disco::DiscoInfoQuery;
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{Jid, sasl::Mechanism, transport::TlsMode};

const SECOND: Duration = Duration::from_secs(1);

/// TLS, PLAIN, bind with stream management offered; returns the client's `<enable/>`.
async fn negotiate_up_to_sm_enable(s: &mut ServerConn) -> Element {
    s.secure().await;
    s.offer_mechanisms(&["PLAIN"]).await;
    s.accept_plain_auth().await;
    s.accept_bind_offering(SM_FEATURE).await;
    s.expect("enable").await
}

fn session_config() -> SessionConfig {
    SessionConfig {
        idle_before_ping: Duration::from_secs(30),
        ping_timeout: Duration::from_secs(10),
        iq_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn sdk_logs_in_over_starttls_and_goes_online() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session(Basics {
            roster: vec!["alice@fake.test".into()],
            ..Basics::default()
        })
        .await;
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    assert_eq!(c.client.connection_state(), ConnectionState::Online);
    let info = c.client.session_info().unwrap();
    assert_eq!(info.mechanism, Mechanism::Plain);
    assert_eq!(info.target.mode, TlsMode::StartTls);
    assert_eq!(info.tls.version_name(), "TLS 1.3");
    let roster = c.client.roster().unwrap();
    assert_eq!(roster.len(), 1);
    assert_eq!(roster[0].jid, "alice@fake.test");
    c.client.disconnect().await;
    server.finish().await;
}

#[tokio::test]
async fn sdk_logs_in_over_direct_tls_with_scram() {
    let config = FakeConfig {
        mode: TlsMode::DirectTls,
        ..FakeConfig::default()
    };
    let server = FakeServer::with_config(config, |mut s: ServerConn| async move {
        let t = s.login_scram().await;
        assert_eq!(t.mechanism, "SCRAM-SHA-256");
        assert_eq!(
            t.gs2_header, "y,,",
            "no -PLUS offered: 'y' detects a stripped -PLUS"
        );
        s.serve_session_basics().await;
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let info = c.client.session_info().unwrap();
    assert_eq!(info.target.mode, TlsMode::DirectTls);
    assert_eq!(info.tls.alpn.as_deref(), Some("xmpp-client"));
    assert_eq!(info.mechanism, Mechanism::ScramSha256);
    assert!(c.linnet.store().scram_seen(c.account_id()).unwrap());
    c.client.disconnect().await;
    server.finish().await;
}

/// Stanzas the server sends in the same write as the end of negotiation (here right after
/// `<enabled/>`) belong to the session: they are reported and counted for stream management,
/// not lost between negotiation and session.
#[tokio::test]
async fn stanzas_pipelined_with_the_end_of_negotiation_are_not_lost() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        negotiate_up_to_sm_enable(&mut s).await;
        s.send(
            "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>\
             <message from='bob@fake.test/x' type='chat' id='early'><body>early bird</body></message>\
             <r xmlns='urn:xmpp:sm:3'/>",
        )
        .await;
        let a = s.expect("a").await;
        assert_eq!(a.attr("h"), Some("1"), "the early message must be counted");
        s.drain_until_closed().await;
    });
    let mut session = SessionClient::start(&server, session_config()).await;
    match session.next_event(5 * SECOND).await {
        SessionEvent::Message(m) => assert_eq!(m.id.unwrap().0, "early"),
        other => panic!("expected the early message, got {other:?}"),
    }
    session.handle.close().await;
    server.finish().await;
}

/// Closing the stream acknowledges what was received (XEP-0198): unacknowledged stanzas are,
/// to the server, undelivered; ejabberd requeues them to offline storage (and pushes for them).
#[tokio::test]
async fn closing_acknowledges_what_was_received() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        negotiate_up_to_sm_enable(&mut s).await;
        s.send(
            "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>\
             <message from='bob@fake.test/x' type='chat' id='m1'><body>one</body></message>\
             <message from='bob@fake.test/x' type='chat' id='m2'><body>two</body></message>",
        )
        .await;
        let sent = s.drain_until_closed().await;
        let acks: Vec<_> = sent.iter().filter(|e| e.is("a", "urn:xmpp:sm:3")).collect();
        assert_eq!(acks.len(), 1, "one closing ack: {sent:?}");
        assert_eq!(acks[0].attr("h"), Some("2"), "both messages acknowledged");
    });
    let mut session = SessionClient::start(&server, session_config()).await;
    for id in ["m1", "m2"] {
        match session.next_event(5 * SECOND).await {
            SessionEvent::Message(m) => assert_eq!(m.id.unwrap().0, id),
            other => panic!("expected message {id}, got {other:?}"),
        }
    }
    session.handle.close().await;
    server.finish().await;
}

// ----- IQ responses: sender checks and deadlines -----

const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";

fn disco_result(id: &str, from: Option<&str>, name: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<iq type='result' id='{id}'{from}><query xmlns='{DISCO_INFO}'>\
         <identity category='client' type='pc' name='{name}'/></query></iq>"
    )
}

fn identity_name(payload: &Element) -> String {
    payload
        .children()
        .find(|c| c.name() == "identity")
        .and_then(|i| i.attr("name"))
        .unwrap_or_default()
        .to_string()
}

/// An answer from someone other than the entity asked is dropped and the request keeps
/// waiting for the real one: for a request to a peer (a stranger and the peer's bare JID are
/// both wrong) and for a request to our own account (a stranger is wrong, no `from` is right).
#[tokio::test]
async fn iq_response_from_the_wrong_sender_is_ignored() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        let iq = s.expect_iq("get", DISCO_INFO).await;
        assert_eq!(iq.attr("to"), Some("peer@fake.test/res"));
        let id = iq.attr("id").unwrap().to_string();
        s.send(&disco_result(&id, Some("mallory@evil.example/x"), "forged"))
            .await;
        s.send(&disco_result(&id, Some("peer@fake.test"), "forged bare"))
            .await;
        s.send(&disco_result(&id, Some("peer@fake.test/res"), "real"))
            .await;

        let iq = s.expect_iq("get", DISCO_INFO).await;
        assert_eq!(iq.attr("to"), None);
        let id = iq.attr("id").unwrap().to_string();
        s.send(&disco_result(&id, Some("mallory@evil.example"), "forged"))
            .await;
        s.send(&disco_result(&id, None, "real own")).await;
        s.drain_until_closed().await;
    });
    let mut session = SessionClient::start(&server, session_config()).await;
    let h = session.handle.clone();

    let to_peer = Iq::from_get(h.new_id(), DiscoInfoQuery { node: None })
        .with_to(Jid::new("peer@fake.test/res").unwrap());
    let payload = h.iq(to_peer).await.unwrap().unwrap();
    assert_eq!(identity_name(&payload), "real");

    let to_self = Iq::from_get(h.new_id(), DiscoInfoQuery { node: None });
    let payload = h.iq(to_self).await.unwrap().unwrap();
    assert_eq!(identity_name(&payload), "real own");

    for _ in 0..3 {
        match session.next_event(SECOND).await {
            SessionEvent::Dropped { reason } => assert!(reason.contains("unexpected sender")),
            other => panic!("expected a dropped spoofed answer, got {other:?}"),
        }
    }
    h.close().await;
    server.finish().await;
}

/// Only a spoofed answer comes: the request times out with `IqError::Timeout` at its deadline.
#[tokio::test]
async fn iq_with_only_a_spoofed_answer_times_out() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        let iq = s.expect_iq("get", DISCO_INFO).await;
        let id = iq.attr("id").unwrap().to_string();
        s.send(&disco_result(&id, Some("mallory@evil.example/x"), "forged"))
            .await;
        s.drain_until_closed().await;
    });
    let session = SessionClient::start(&server, session_config()).await;
    let h = session.handle.clone();
    let iq = Iq::from_get(h.new_id(), DiscoInfoQuery { node: None })
        .with_to(Jid::new("peer@fake.test/res").unwrap());
    let started = tokio::time::Instant::now();
    let result = h.iq_with_timeout(iq, Duration::from_millis(300)).await;
    let waited = started.elapsed();
    // The error names the deadline of this request, not the session's default.
    assert!(
        matches!(result, Err(IqError::Timeout(d)) if d == Duration::from_millis(300)),
        "{result:?}"
    );
    assert!(
        waited >= Duration::from_millis(300) && waited < 2 * SECOND,
        "{waited:?}"
    );
    assert!(!h.is_closed(), "a timeout does not end the session");
    h.close().await;
    server.finish().await;
}

/// Through the SDK: a request the server never answers fails with `LinnetError::Timeout` after
/// the configured IQ deadline, and the client stays online.
#[tokio::test]
async fn unanswered_iq_is_a_timeout_in_the_sdk() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        s.expect_iq("set", "jabber:iq:roster").await; // and never answer
        s.drain_until_closed().await;
    });
    let mut config = fast_config();
    config.session.iq_timeout = Duration::from_millis(500);
    let c = FakeClient::with_config(&server, config);
    c.client.connect().await.unwrap();
    let started = tokio::time::Instant::now();
    let err = c
        .client
        .add_contact("bob@fake.test", None)
        .await
        .unwrap_err();
    assert!(matches!(err, LinnetError::Timeout { .. }), "{err:?}");
    // The request's own 500 ms deadline fired, not the 30 s default.
    assert!(started.elapsed() < 10 * SECOND);
    assert_eq!(c.client.connection_state(), ConnectionState::Online);
    c.client.disconnect().await;
    server.finish().await;
}

// ----- stream management -----

/// ejabberd hands a new session the unacknowledged stanzas of the previous one with the same
/// resource right after bind, before `<enabled/>`. They belong to the session (the message is
/// stored) but not to stream management's count (XEP-0198 counts from `<enabled/>`), and the
/// login succeeds.
#[tokio::test]
async fn stanzas_before_sm_is_enabled_are_kept_and_not_counted() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        let e = negotiate_up_to_sm_enable(&mut s).await;
        assert_eq!(e.ns(), "urn:xmpp:sm:3");
        s.send(
            "<message from='bob@fake.test/x' type='chat' id='early'><body>left over</body></message>",
        )
        .await;
        s.send("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true' max='300'/>")
            .await;
        s.serve_session_basics().await; // 2 stanzas to the client: roster and carbons results
        s.send("<r xmlns='urn:xmpp:sm:3'/>").await;
        let a = s.expect("a").await;
        assert_eq!(a.attr("h"), Some("2"), "only what came after <enabled/>");
        s.barrier().await;
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    server.wait_for("handled").await;
    let stored = c.all_messages();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].body, "left over");
    c.client.disconnect().await;
    server.finish().await;
}
/// The client's `h` counts every stanza it received, including the ones validation dropped
/// (invalid, unsolicited, forged), and nothing that is not a stanza.
#[tokio::test]
async fn sm_h_counts_every_inbound_stanza_including_dropped_ones() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login_with_sm().await;
        s.serve_session_basics().await; // 2 stanzas to the client: roster and carbons results
        let me = s.full_jid();
        let stanzas = [
            // Valid, stored.
            "<message from='bob@fake.test/x' type='chat' id='ok'><body>counted</body></message>"
                .to_string(),
            // Invalid message type: dropped by the parser.
            "<message from='bob@fake.test/x' type='bogus' id='bad'><body>x</body></message>".into(),
            // Answers nobody asked for.
            "<iq type='result' id='nobody-asked' from='fake.test'/>".into(),
            "<iq type='error' id='nobody-asked-2' from='fake.test'><error type='cancel'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                .into(),
            // Forged carbon: dropped by the SDK.
            format!(
                "<message from='mallory@evil.example' to='{me}'><received xmlns='urn:xmpp:carbons:2'>\
                 <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@fake.test/x' \
                 to='{me}' type='chat'><body>forged</body></message></forwarded></received></message>"
            ),
            // Presence from a stranger.
            "<presence from='carol@fake.test/x'/>".into(),
        ];
        for stanza in &stanzas {
            s.send(stanza).await;
        }
        // Not a stanza: must not count.
        s.send("<x xmlns='urn:example:not-a-stanza'/>").await;
        s.send("<r xmlns='urn:xmpp:sm:3'/>").await;
        let a = s.expect("a").await;
        assert_eq!(a.attr("h"), Some("8"), "2 session basics + 6 stanzas");
        s.barrier().await;
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    server.wait_for("handled").await;
    let stored = c.all_messages();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].body, "counted");
    c.client.disconnect().await;
    server.finish().await;
}

/// `<a h='N'/>` acknowledges exactly the first N stanzas the client sent: the messages among
/// them become Acked, the later one stays Sent until the next ack covers it.
#[tokio::test]
async fn sm_ack_marks_exactly_the_acknowledged_messages() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login_with_sm().await;
        s.set_acks(Acks::Ignore);
        s.serve_session_basics().await; // roster get, carbons enable, presence: 3 stanzas
        for _ in 0..3 {
            s.expect("message").await;
        }
        assert_eq!(s.client_stanzas(), 6);
        s.send("<a xmlns='urn:xmpp:sm:3' h='5'/>").await;
        s.signal("acked 5");
        s.wait_for("checked").await;
        s.send("<a xmlns='urn:xmpp:sm:3' h='6'/>").await;
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let ids: Vec<i64> = ["one", "two", "three"]
        .iter()
        .map(|body| c.client.send_message("bob@fake.test", body).unwrap())
        .collect();
    server.wait_for("acked 5").await;
    let state = |id: i64| {
        c.client
            .history("bob@fake.test", 10, None)
            .unwrap()
            .into_iter()
            .find(|m| m.id == id)
            .unwrap()
            .state
    };
    // Both acknowledged messages are marked by one event; wait for the second.
    c.client
        .wait_for_state(ids[1], MessageState::Acked, 5 * SECOND)
        .await
        .unwrap();
    assert_eq!(state(ids[0]), MessageState::Acked);
    assert_eq!(state(ids[1]), MessageState::Acked);
    assert_eq!(state(ids[2]), MessageState::Sent);
    server.signal("checked");
    let m = c
        .client
        .wait_for_state(ids[2], MessageState::Acked, 5 * SECOND)
        .await
        .unwrap();
    assert_eq!(m.state, MessageState::Acked);
    c.client.disconnect().await;
    server.finish().await;
}

// ----- dead connections and stream errors -----

fn dead_fast_config() -> ClientConfig {
    let mut config = fast_config();
    config.session.idle_before_ping = Duration::from_millis(200);
    config.session.ping_timeout = Duration::from_millis(300);
    config
}

/// A server that stops sending anything is probed after idle_before_ping and declared dead
/// after ping_timeout more: `Disconnected` within about 500 ms.
async fn silent_server_case(sm: bool) {
    let server = FakeServer::new(move |mut s: ServerConn| async move {
        if sm {
            s.login_with_sm().await;
            s.set_acks(Acks::Ignore); // the probe is <r/>: never answered
        } else {
            s.login().await;
        }
        s.serve_session_basics().await;
        let sent = s.drain_until_closed().await;
        if !sm {
            assert!(
                sent.iter()
                    .any(|e| e.name() == "iq" && e.get_child("ping", "urn:xmpp:ping").is_some()),
                "the client should probe with a ping: {:?}",
                sent.iter().map(show).collect::<Vec<_>>()
            );
        }
    });
    let mut c = FakeClient::with_config(&server, dead_fast_config());
    c.client.connect().await.unwrap();
    let started = tokio::time::Instant::now();
    let reason = c.wait_disconnected(3 * SECOND).await;
    let waited = started.elapsed();
    assert_eq!(reason, Disconnect::Dead.to_string());
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_millis(1500),
        "declared dead after {waited:?}"
    );
    assert!(matches!(
        c.client.connection_state(),
        ConnectionState::Disconnected { .. }
    ));
    server.finish().await;
}

#[tokio::test]
async fn silent_server_is_detected_as_dead_with_ping() {
    silent_server_case(false).await;
}

#[tokio::test]
async fn silent_server_is_detected_as_dead_with_stream_management() {
    silent_server_case(true).await;
}

const CONFLICT: &str = "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
    <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text>\
    </stream:error></stream:stream>";

/// `<stream:error><conflict/>`: the session ends with the typed condition, the SDK reports it
/// and does not reconnect (which would kick the other session out in turn, forever).
#[tokio::test]
async fn stream_error_conflict_ends_the_session_without_reconnecting() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        if s.index() == 0 {
            s.wait_for("session started").await;
        } else {
            s.serve_session_basics().await;
        }
        s.send(CONFLICT).await;
        s.drain_until_closed().await;
    });
    let mut session = SessionClient::start(&server, session_config()).await;
    server.signal("session started");
    let (reason, _) = session.wait_closed(5 * SECOND).await;
    match reason {
        Disconnect::Error(ConnectError::StreamError { condition, text }) => {
            assert_eq!(condition, "conflict");
            assert_eq!(text.as_deref(), Some("Replaced by new connection"));
        }
        other => panic!("expected a conflict stream error, got {other:?}"),
    }

    let mut c = FakeClient::connected(&server).await;
    let reason = c.wait_disconnected(5 * SECOND).await;
    assert!(reason.contains("conflict"), "{reason}");
    // Give a reconnect loop the time to show itself.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.connections(), 2, "the client reconnected");
    assert!(matches!(
        c.client.connection_state(),
        ConnectionState::Disconnected { .. }
    ));
    assert!(
        !c.drain_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::Connection(ConnectionState::Connecting))),
        "the client tried to reconnect"
    );
    server.finish().await;
}

/// Without stream management the server's answer to a ping sent after a message acknowledges it
/// (servers handle a session's stanzas in order); a "pong" from anyone else acknowledges nothing.
#[tokio::test]
async fn without_stream_management_a_ping_answer_from_the_server_acknowledges() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        s.expect("message").await;
        let ping = s.expect_iq("get", "urn:xmpp:ping").await;
        let id = ping.attr("id").unwrap().to_string();
        // A peer tries to confirm it first: ignored.
        s.send(&format!(
            "<iq type='result' id='{id}' from='mallory@evil.example/x'/>"
        ))
        .await;
        s.barrier().await;
        s.signal("spoofed");
        s.wait_for("checked").await;
        s.send(&format!("<iq type='result' id='{id}' from='fake.test'/>"))
            .await;
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let id = c
        .client
        .send_message("bob@fake.test", "no sm here")
        .unwrap();
    server.wait_for("spoofed").await;
    let state = c.linnet.store().message(id).unwrap().unwrap().state;
    assert_eq!(
        state,
        MessageState::Sent,
        "a peer's answer must not acknowledge"
    );
    server.signal("checked");
    let m = c
        .client
        .wait_for_state(id, MessageState::Acked, 5 * SECOND)
        .await
        .unwrap();
    assert_eq!(m.state, MessageState::Acked);
    c.client.disconnect().await;
    server.finish().await;
}

/// A connection cut before the server acknowledged a message: on the next connection the message
/// goes out again, with the same id (receivers deduplicate on it), and is then acknowledged.
#[tokio::test]
async fn unacknowledged_message_is_sent_again_after_the_connection_is_cut() {
    let seen_ids = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let ids = seen_ids.clone();
    let server = FakeServer::new(move |mut s: ServerConn| {
        let ids = ids.clone();
        async move {
            s.login_with_sm().await;
            if s.index() == 0 {
                s.set_acks(Acks::Ignore);
            }
            s.serve_session_basics().await;
            let m = s.expect("message").await;
            ids.lock().unwrap().push(m.attr("id").unwrap().to_string());
            if s.index() == 0 {
                return; // The connection drops with the message unacknowledged.
            }
            s.drain_until_closed().await;
        }
    });
    let mut c = FakeClient::connected(&server).await;
    let id = c
        .client
        .send_message("bob@fake.test", "must not be lost")
        .unwrap();
    c.wait_disconnected(5 * SECOND).await;
    assert_eq!(
        c.linnet.store().message(id).unwrap().unwrap().state,
        MessageState::Sent
    );
    c.client.connect().await.unwrap();
    let m = c
        .client
        .wait_for_state(id, MessageState::Acked, 5 * SECOND)
        .await
        .unwrap();
    assert_eq!(m.state, MessageState::Acked);
    let ids = seen_ids.lock().unwrap().clone();
    assert_eq!(ids.len(), 2, "sent once per connection");
    assert_eq!(ids[0], ids[1], "the resend keeps its id");
    c.client.disconnect().await;
    server.finish().await;
}

/// A message that arrives just before the connection drops is stored: the client counted it
/// for stream management (so the server will not resend it), and the end of the connection
/// must not make the SDK skip the events already received. Both when the session can be
/// resumed and when it cannot.
async fn message_right_before_the_drop_case(resumable: bool) {
    let server = FakeServer::new(move |mut s: ServerConn| async move {
        if resumable {
            s.login_with_sm().await;
        } else {
            s.login().await;
        }
        s.serve_session_basics().await;
        let me = s.full_jid();
        // In one write with the end of the connection.
        s.send(&format!(
            "<message from='bob@fake.test/x' to='{me}' type='chat' id='last'><body>last words</body></message>"
        ))
        .await;
    });
    let mut c = FakeClient::connected(&server).await;
    c.wait_disconnected(5 * SECOND).await;
    let stored = c.all_messages();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].body, "last words");
    server.finish().await;
}

#[tokio::test]
async fn message_right_before_a_drop_is_stored_with_stream_management() {
    message_right_before_the_drop_case(true).await;
}

#[tokio::test]
async fn message_right_before_a_drop_is_stored_without_stream_management() {
    message_right_before_the_drop_case(false).await;
}

/// A server that refuses messages by policy or permission: each is Failed with the reason in
/// words plus the server's own text (shortened), and nothing else is affected.
#[tokio::test]
async fn refused_messages_fail_with_the_servers_reason() {
    linnet_tests::test_logs();
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login_with_sm().await;
        s.serve_session_basics().await;
        for condition in ["policy-violation", "forbidden"] {
            let m = s.expect("message").await;
            let id = m.attr("id").unwrap_or_default().to_string();
            let to = m.attr("to").unwrap_or_default().to_string();
            s.send(&format!(
                "<message type='error' id='{id}' from='{to}'><error type='cancel'>\
                 <{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
                 <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{}</text></error></message>",
                "no links please ".repeat(40)
            ))
            .await;
        }
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let expected = [
        (
            "refused by policy",
            "the server refused it by policy (policy-violation: no links please",
        ),
        (
            "not allowed",
            "not allowed to message this recipient (forbidden: no links please",
        ),
    ];
    for (body, reason) in expected {
        let id = c.client.send_message("bob@fake.test", body).unwrap();
        let m = c
            .client
            .wait_for_state(id, MessageState::Failed, 5 * SECOND)
            .await
            .unwrap();
        assert_eq!(m.state, MessageState::Failed);
        let got = m.failure_reason.unwrap_or_default();
        assert!(got.starts_with(reason), "{got:?}");
        assert!(got.len() < 300, "the server's text is shortened: {got:?}");
    }
    c.client.disconnect().await;
    server.finish().await;
}
