//! SASL2 (XEP-0388) with Bind2 (XEP-0386), inline stream management and FAST (XEP-0484)
//! against the real Prosody host `sasl2.prosody.test` (prosody-modules plus the 0.12 shim, see
//! tests/servers/), and the classic path where SASL2 is not offered (prosody.test, ejabberd).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;

use linnet_sdk::secrets::{FileSecretStore, SecretStore};
use linnet_sdk::{LinnetError, Secret};
use linnet_tests::delivery::quick_ping;
use linnet_tests::fault_proxy::FaultProxy;
use linnet_tests::*;
use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials, Resumption};

use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{Target, TcpConnector, TlsMode};

fn sasl2_server() -> TestServer {
    server("prosody-sasl2")
}

fn secrets(c: &TestClient) -> FileSecretStore {
    FileSecretStore::new(c.dir.path().join("secrets.json"))
}

fn stored_token(c: &TestClient) -> Option<String> {
    secrets(c)
        .get(&format!("{}#fast", c.jid))
        .unwrap()
        .map(|s| s.expose().clone())
}

/// A password login goes through SASL2 with Bind2 and inline SM, and gets a FAST token; the
/// next login uses the token; the doctor says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl2_login_binds_inline_then_fast_logs_in_with_the_token() {
    let server = sasl2_server();
    let (jid, password) = create_account(&server, "sasl2a");
    let c = client_for(&server, &jid, &password, Mode::StartTls);
    c.client.connect().await.unwrap();
    let info = c.client.session_info().unwrap();
    assert!(info.sasl2, "{info:?}");
    assert!(info.bind2, "{info:?}");
    assert!(!info.fast, "the first login has no token: {info:?}");
    assert_eq!(info.mechanism.name(), "SCRAM-SHA-1");
    assert!(
        info.fast_token.is_none(),
        "the token must not stay in the shared info"
    );
    let sm = info.stream_management.clone().expect("SM enabled inline");
    assert!(sm.resume && sm.id.is_some(), "{sm:?}");
    assert_eq!(info.bound_jid.to_bare().as_str(), jid);
    assert!(
        info.bound_jid.resource().as_str().starts_with("Linnet"),
        "Bind2 derives the resource from our tag: {}",
        info.bound_jid
    );
    let token = stored_token(&c).expect("a FAST token was stored");
    let report = c.client.doctor().await.unwrap();
    assert!(report.sasl2 && !report.fast, "{report:?}");
    assert!(report.authentication.contains("SASL2"), "{report:?}");
    assert!(report.authentication.contains("Bind2"), "{report:?}");
    assert_eq!(report.stream_management, "enabled, resumable");
    c.client.disconnect().await;

    // Second login: the token, one round trip.
    c.client.connect().await.unwrap();
    let info = c.client.session_info().unwrap();
    assert!(info.sasl2 && info.fast && info.bind2, "{info:?}");
    assert_eq!(info.authenticated_with(), "HT-SHA-256-NONE");
    assert!(info.stream_management.is_some());
    let report = c.client.doctor().await.unwrap();
    assert!(report.fast, "{report:?}");
    assert_eq!(report.sasl_chosen, "HT-SHA-256-NONE");
    assert!(report.authentication.contains("FAST"), "{report:?}");
    // The token is kept (a rotated one would replace it).
    assert!(stored_token(&c).is_some());
    let _ = token;
    c.client.disconnect().await;
}

/// A token the server does not know is refused; the password logs in on the same stream, the
/// bad token is replaced by the new one the server issues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_fast_token_falls_back_to_the_password() {
    let server = sasl2_server();
    let (jid, password) = create_account(&server, "sasl2b");
    let c = client_for(&server, &jid, &password, Mode::DirectTls);
    let bogus = "secret-token:fast-not-a-real-token-0123456789";
    secrets(&c)
        .set(&format!("{jid}#fast"), &Secret::from(bogus))
        .unwrap();
    c.client.connect().await.unwrap();
    let info = c.client.session_info().unwrap();
    assert!(info.sasl2 && !info.fast, "{info:?}");
    assert!(info.fast_token_rejected, "{info:?}");
    let token = stored_token(&c).expect("a new token");
    assert_ne!(token, bogus);
    c.client.disconnect().await;
    // And the new one works.
    c.client.connect().await.unwrap();
    assert!(c.client.session_info().unwrap().fast);
    c.client.disconnect().await;
}

/// A wrong password is the same typed error as on the classic path (and no token is stored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_the_typed_auth_error() {
    let server = sasl2_server();
    let (jid, _) = create_account(&server, "sasl2c");
    let c = client_for(&server, &jid, "not-the-password", Mode::StartTls);
    let err = c.client.connect().await.unwrap_err();
    assert!(matches!(err, LinnetError::WrongCredentials), "{err:?}");
    assert!(stored_token(&c).is_none());
}

/// A refused token and a wrong password (the password changed elsewhere): the typed error, and
/// the dead token is forgotten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_and_a_wrong_password_forget_the_token() {
    let server = sasl2_server();
    let (jid, _) = create_account(&server, "sasl2g");
    let c = client_for(&server, &jid, "not-the-password", Mode::StartTls);
    secrets(&c)
        .set(
            &format!("{jid}#fast"),
            &Secret::from("secret-token:fast-not-a-real-token-9876543210"),
        )
        .unwrap();
    let err = c.client.connect().await.unwrap_err();
    assert!(matches!(err, LinnetError::WrongCredentials), "{err:?}");
    assert!(stored_token(&c).is_none());
}

/// A cut connection is resumed inside the SASL2 exchange (FAST token + `<resume/>`): the same
/// session goes on, and a message sent to it while it was away arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_session_is_resumed_inline() {
    let server = sasl2_server();
    let upstream: SocketAddr = format!("{}:{}", server.host, server.starttls_port)
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream).await;
    let (jid, password) = create_account(&server, "sasl2d");
    let mut alice = client_via(&server, &jid, &password, proxy.addr(), quick_ping());
    alice.client.start().await.unwrap();
    let mut bob = connected(&server, "sasl2e").await;
    befriend(&mut alice, &mut bob).await;
    let first = alice.client.session_info().unwrap();
    assert!(
        first.sasl2 && first.stream_management.is_some(),
        "{first:?}"
    );

    proxy.cut();
    bob.send_acked(&alice.jid, "sent while alice was cut off")
        .await;
    alice
        .eventually("resumed", |c| c.connection_stats().resumes >= 1)
        .await;
    let m = alice.expect_message_from(&bob.jid).await;
    assert_eq!(m.body, "sent while alice was cut off");
    let stats = alice.client.connection_stats();
    assert_eq!(stats.fresh_sessions, 1, "{stats:?}");
    assert_eq!(stats.resumes_refused, 0, "{stats:?}");
    let info = alice.client.session_info().unwrap();
    assert!(info.sasl2, "{info:?}");
    assert!(
        info.fast,
        "the resumption authenticated with the token: {info:?}"
    );
    assert!(
        matches!(info.resumption, Resumption::Resumed { .. }),
        "{info:?}"
    );
    assert_eq!(info.bound_jid, first.bound_jid);
    alice.client.stop().await;
    bob.client.disconnect().await;
}

/// The server ends alice's session while her link is stalled, then the link is cut: the inline
/// resumption is refused and, in the same `<success>`, Bind2 binds a new session (SM enabled
/// again); the SDK counts a refused resumption and a fresh session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_inline_resumption_binds_anew_in_the_same_exchange() {
    let server = sasl2_server();
    let upstream: SocketAddr = format!("{}:{}", server.host, server.starttls_port)
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream).await;
    let (jid, password) = create_account(&server, "sasl2f");
    let mut alice = client_via(&server, &jid, &password, proxy.addr(), quick_ping());
    alice.client.start().await.unwrap();
    alice.client.doctor().await.unwrap();
    proxy.stall();
    kick(&server, &alice.jid);
    proxy.cut_held().await;
    proxy.resume();
    alice
        .eventually("a new session", |c| {
            c.connection_stats().fresh_sessions >= 2
        })
        .await;
    let stats = alice.client.connection_stats();
    assert_eq!(stats.resumes_refused, 1, "{stats:?}");
    assert_eq!(stats.resumes, 0, "{stats:?}");
    let info = alice.client.session_info().unwrap();
    assert!(info.sasl2 && info.bind2 && info.fast, "{info:?}");
    assert!(
        matches!(info.resumption, Resumption::Refused { .. }),
        "{info:?}"
    );
    assert!(info.stream_management.is_some(), "{info:?}");
    alice.client.doctor().await.unwrap();
    alice.client.stop().await;
}

/// Where SASL2 is not offered, nothing changes: classic SASL, bind, enable.
async fn classic_servers_use_classic_sasl(server: TestServer) {
    let c = connected(&server, "classic").await;
    let info = c.client.session_info().unwrap();
    assert!(!info.sasl2 && !info.bind2 && !info.fast, "{info:?}");
    assert!(info.stream_management.is_some());
    assert!(stored_token(&c).is_none());
    let report = c.client.doctor().await.unwrap();
    assert_eq!(report.authentication, "SASL (RFC 6120)");
    c.client.disconnect().await;
}
on_both_servers!(classic_servers_use_classic_sasl);

/// The three ways in on the SASL2 host, protocol layer only, each several times in a row:
/// classic SASL (SASL2 switched off), SASL2 with the password (SCRAM + Bind2 + SM) and SASL2
/// with FAST. Their speed is measured by `benches/` (docs/benchmarks.md), not here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_sasl2_and_fast_logins_repeat() {
    let server = sasl2_server();
    let (jid, password) = create_account(&server, "sasl2t");
    let connector = TcpConnector::new(Some(Target {
        host: server.host.clone(),
        port: server.direct_tls_port,
        mode: TlsMode::DirectTls,
    }));
    let creds = Credentials {
        jid: jid.parse().unwrap(),
        password: Secret::from(password.as_str()),
    };
    let base = ConnectOptions {
        resource: "linnet.timing".into(),
        tls: TlsSettings {
            extra_ca_pem: Some(server.ca_pem.clone()),
            only_extra_ca: true,
        },
        ..ConnectOptions::default()
    };
    const N: usize = 5;
    let run = |opts: ConnectOptions| {
        let connector = connector.clone();
        let creds = creds.clone();
        async move {
            let mut last = None;
            for _ in 0..N {
                let (conn, info) = negotiate::connect(&connector, &creds, &opts).await.unwrap();
                drop(conn);
                last = Some(info);
            }
            last.unwrap()
        }
    };
    let info = run(ConnectOptions {
        sasl2: false,
        ..base.clone()
    })
    .await;
    assert!(!info.sasl2);
    let info = run(base.clone()).await;
    assert!(info.sasl2 && !info.fast);
    let token = info.fast_token.expect("a token").token;
    let info = run(ConnectOptions {
        fast_token: Some(token),
        request_fast_token: false,
        ..base.clone()
    })
    .await;
    assert!(info.sasl2 && info.fast, "{info:?}");
}

// ----- hostile or broken SASL2 servers (scripted fake server, no real server needed) -----

mod hostile {
    use linnet_tests::fake_server::*;
    use linnet_xmpp::error::{AuthError, ConnectError};
    use linnet_xmpp::negotiate::ConnectOptions;
    use linnet_xmpp::sasl::{SaslError, Secret};

    const SASL2_PLAIN: &str = "<authentication xmlns='urn:xmpp:sasl:2'>\
        <mechanism>PLAIN</mechanism><inline><bind xmlns='urn:xmpp:bind:0'><inline>\
        <feature var='urn:xmpp:sm:3'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/>\
        <fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism></fast>\
        </inline></authentication>";

    /// TLS, then SASL2 offered; returns the client's `<authenticate>`.
    async fn offer(s: &mut ServerConn) -> linnet_xmpp::Element {
        s.secure().await;
        s.open_stream().await;
        s.send_features(SASL2_PLAIN).await;
        s.expect("authenticate").await
    }

    /// The `<success>` names another account: refused.
    #[tokio::test]
    async fn success_for_another_account_is_refused() {
        let server = FakeServer::new(|mut s: ServerConn| async move {
            offer(&mut s).await;
            s.send(
                "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>mallory@fake.test/x\
                 </authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>\
                 <stream:features/>",
            )
            .await;
            s.expect_hangup().await;
        });
        let err = server.negotiate().await.err().expect("must fail");
        server.finish().await;
        assert!(
            matches!(&err, ConnectError::Protocol(r) if r.contains("another account")),
            "{err:?}"
        );
    }

    /// SASL2 offering nothing acceptable (here nothing at all) while classic SASL offers
    /// PLAIN: the classic path is used.
    #[tokio::test]
    async fn sasl2_without_an_acceptable_mechanism_falls_back_to_classic() {
        let server = FakeServer::new(|mut s: ServerConn| async move {
            s.secure().await;
            s.offer_sasl(
                &["PLAIN"],
                None,
                "<authentication xmlns='urn:xmpp:sasl:2'><mechanism>X-UNKNOWN</mechanism>\
                 </authentication>",
            )
            .await;
            s.accept_plain_auth().await;
            s.accept_bind().await;
            s.drain_until_closed().await;
        });
        let (conn, info) = server.negotiate().await.unwrap();
        assert!(!info.sasl2, "{info:?}");
        drop(conn);
        server.finish().await;
    }

    /// A SASL2 `<failure>` is the same typed error as the classic one.
    #[tokio::test]
    async fn failure_is_the_typed_error() {
        let server = FakeServer::new(|mut s: ServerConn| async move {
            offer(&mut s).await;
            s.send(
                "<failure xmlns='urn:xmpp:sasl:2'><not-authorized \
                 xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>",
            )
            .await;
            s.expect_hangup().await;
        });
        let err = server.negotiate().await.err().expect("must fail");
        server.finish().await;
        assert!(
            matches!(err, ConnectError::Auth(AuthError::WrongCredentials)),
            "{err:?}"
        );
    }

    /// A FAST `<success>` whose server proof is wrong is not trusted (mutual authentication).
    #[tokio::test]
    async fn fast_success_with_a_wrong_server_proof_is_refused() {
        let server = FakeServer::new(|mut s: ServerConn| async move {
            let auth = offer(&mut s).await;
            assert_eq!(auth.attr("mechanism"), Some("HT-SHA-256-NONE"));
            assert!(auth.get_child("fast", "urn:xmpp:fast:0").is_some());
            let jid = s.jid();
            s.send(&format!(
                "<success xmlns='urn:xmpp:sasl:2'><additional-data>AAAA</additional-data>\
                 <authorization-identifier>{jid}/x</authorization-identifier>\
                 <bound xmlns='urn:xmpp:bind:0'/></success><stream:features/>"
            ))
            .await;
            s.expect_hangup().await;
        });
        let opts = ConnectOptions {
            fast_token: Some(Secret::from("secret-token:fast-test")),
            ..server.connect_options()
        };
        let err = server.negotiate_with(&opts).await.err().expect("must fail");
        server.finish().await;
        assert!(
            matches!(
                err,
                ConnectError::Auth(AuthError::Protocol(SaslError::BadServerSignature))
            ),
            "{err:?}"
        );
    }

    /// Stanzas between `<success>` and the features (a resumption's replay) are not lost: the
    /// session reads them first, in order; the stream header carried our JID (FAST needs it).
    #[tokio::test]
    async fn stanzas_before_the_features_stay_for_the_session() {
        let server = FakeServer::new(|mut s: ServerConn| async move {
            s.secure().await;
            let header = s.open_stream().await;
            assert!(
                header.from.is_some(),
                "no from on the TLS-protected stream header"
            );
            s.send_features(SASL2_PLAIN).await;
            let auth = s.expect("authenticate").await;
            let bind = auth.get_child("bind", "urn:xmpp:bind:0").expect("Bind2");
            assert!(bind.get_child("enable", "urn:xmpp:sm:3").is_some());
            assert!(auth.get_child("request-token", "urn:xmpp:fast:0").is_some());
            let jid = s.jid();
            s.send(&format!(
                "<success xmlns='urn:xmpp:sasl:2'>\
                 <authorization-identifier>{jid}/Linnet~a/b</authorization-identifier>\
                 <bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='s1' \
                 resume='true'/></bound></success>\
                 <message from='bob@fake.test/x' to='{jid}/Linnet~a/b' type='chat' id='m1'>\
                 <body>early</body></message><r xmlns='urn:xmpp:sm:3'/>\
                 <stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
                 </stream:features>"
            ))
            .await;
            s.drain_until_closed().await;
        });
        let (mut conn, info) = server.negotiate().await.unwrap();
        assert!(info.sasl2 && info.bind2 && !info.fast, "{info:?}");
        assert_eq!(info.bound_jid.resource().as_str(), "Linnet~a/b");
        assert_eq!(
            info.stream_management
                .as_ref()
                .and_then(|s| s.id.as_deref()),
            Some("s1")
        );
        let t = std::time::Duration::from_secs(5);
        let first = conn.next_element(t, "test").await.unwrap();
        assert!(first.is("message", "jabber:client"), "{first:?}");
        let second = conn.next_element(t, "test").await.unwrap();
        assert!(second.is("r", "urn:xmpp:sm:3"), "{second:?}");
        conn.send_str("</stream:stream>").await.unwrap();
        drop(conn);
        server.finish().await;
    }
}
