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
use linnet_xmpp::error::ConnectError;
use linnet_xmpp::session::{Disconnect, IqError, SessionConfig, SessionEvent};
use linnet_xmpp::xmpp_parsers::disco::DiscoInfoQuery;
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{Jid, sasl::Mechanism, transport::TlsMode};

const SECOND: Duration = Duration::from_secs(1);

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
        s.secure().await;
        s.offer_mechanisms(&["PLAIN"]).await;
        s.accept_plain_auth().await;
        s.accept_bind_offering(SM_FEATURE).await;
        s.expect("enable").await;
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
