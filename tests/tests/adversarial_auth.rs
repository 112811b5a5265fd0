//! TLS and authentication against a hostile or broken server (security.md 17-21): STARTTLS
//! stripping and injection, certificates for other names, SASL downgrade, channel binding, and
//! SCRAM parameters and signatures. The fake server checks what the client sends (no SASL before
//! TLS, no PLAIN after SCRAM, the channel binding data), the client checks the typed errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_sdk::LinnetError;
use linnet_tests::fake_server::*;
use linnet_xmpp::error::{AuthError, ConnectError, TlsFailure};
use linnet_xmpp::sasl::{ChannelBindingType, Mechanism, SaslError, TlsVersion};
use linnet_xmpp::tls::TlsSettings;

const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";

/// Runs negotiation twice against `server` (each connection gets the same script): once with
/// the protocol layer for the typed error, once through the SDK for the public error.
async fn both_fail(server: &FakeServer) -> (ConnectError, LinnetError) {
    let err = match server.negotiate().await {
        Ok(_) => {
            server.finish().await;
            panic!("negotiation must fail");
        }
        Err(e) => e,
    };
    let c = FakeClient::new(server);
    let sdk = c.client.connect().await.unwrap_err();
    server.finish().await;
    assert!(c.client.session_info().is_none());
    (err, sdk)
}

// ----- 17: STARTTLS stripping and injection, no compression -----

/// A man in the middle removes `<starttls/>` from the features: the client refuses to go on
/// and sends nothing at all (in particular no `<auth/>` in plaintext).
#[tokio::test]
async fn stripped_starttls_is_refused_before_any_sasl_byte() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.open_stream().await;
        s.send_features(
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>",
        )
        .await;
        s.expect_hangup().await;
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(err, ConnectError::Tls(TlsFailure::NotOffered)),
        "{err:?}"
    );
    assert!(matches!(sdk, LinnetError::Tls { .. }), "{sdk:?}");
}

/// STARTTLS command injection: a stanza pipelined with `<proceed/>` in the same write must not
/// be taken as coming over TLS; the client refuses the connection instead of handshaking.
#[tokio::test]
async fn stanza_injected_after_proceed_is_refused() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.open_stream().await;
        s.send_features(&format!("<starttls xmlns='{NS_TLS}'/>"))
            .await;
        s.expect("starttls").await;
        s.send(&format!(
            "<proceed xmlns='{NS_TLS}'/><message from='bob@fake.test/x' type='chat'><body>injected</body></message>"
        ))
        .await;
        s.expect_hangup().await;
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(&err, ConnectError::Protocol(r) if r.contains("injected")),
        "{err:?}"
    );
    assert!(matches!(sdk, LinnetError::Protocol { .. }), "{sdk:?}");
}

/// The same with only the start of an element after `<proceed/>`: still data injected into the
/// plaintext phase, still refused.
#[tokio::test]
async fn partial_data_injected_after_proceed_is_refused() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.open_stream().await;
        s.send_features(&format!("<starttls xmlns='{NS_TLS}'/>"))
            .await;
        s.expect("starttls").await;
        s.send(&format!(
            "<proceed xmlns='{NS_TLS}'/><message from='bob@fake.test/x'"
        ))
        .await;
        s.expect_hangup().await;
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(&err, ConnectError::Protocol(r) if r.contains("injected")),
        "{err:?}"
    );
    assert!(matches!(sdk, LinnetError::Protocol { .. }), "{sdk:?}");
}

/// Stream compression offered next to SASL is never negotiated (CRIME-style attacks); the
/// client goes straight to authentication.
#[tokio::test]
async fn stream_compression_is_never_negotiated() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_sasl(
            &["PLAIN"],
            None,
            "<compression xmlns='http://jabber.org/features/compress'><method>zlib</method></compression>",
        )
        .await;
        s.accept_plain_auth().await;
        s.accept_bind_offering(
            "<compression xmlns='http://jabber.org/features/compress'><method>zlib</method></compression>",
        )
        .await;
        s.drain_until_closed().await;
    });
    let (conn, info) = server.negotiate().await.unwrap();
    assert_eq!(info.mechanism, Mechanism::Plain);
    drop(conn);
    server.finish().await;
}

// ----- 18: certificates -----

async fn certificate_case(config: FakeConfig) {
    let server = FakeServer::with_config(config, |mut s: ServerConn| async move {
        let result = s.try_secure().await;
        assert!(result.is_err(), "the client accepted the certificate");
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(err, ConnectError::Tls(TlsFailure::Certificate(_))),
        "{err:?}"
    );
    assert!(matches!(sdk, LinnetError::Certificate { .. }), "{sdk:?}");
}

#[tokio::test]
async fn certificate_for_another_name_is_refused_over_starttls() {
    certificate_case(FakeConfig {
        cert_names: Some(vec!["other.test".into()]),
        ..FakeConfig::default()
    })
    .await;
}

#[tokio::test]
async fn certificate_for_another_name_is_refused_over_direct_tls() {
    certificate_case(FakeConfig {
        mode: TlsMode::DirectTls,
        cert_names: Some(vec!["other.test".into()]),
        ..FakeConfig::default()
    })
    .await;
}

/// DNS (SRV) pointed at a host whose certificate is valid for that host but not for the XMPP
/// domain (CVE-2014-0363): refused, the certificate must match the domain.
#[tokio::test]
async fn certificate_for_the_srv_target_but_not_the_domain_is_refused() {
    certificate_case(FakeConfig {
        mode: TlsMode::DirectTls,
        target_host: Some("xmpp.hosting.example".into()),
        cert_names: Some(vec!["xmpp.hosting.example".into()]),
        ..FakeConfig::default()
    })
    .await;
}

/// Without the test CA configured, the fake server's certificate is not trusted: no silent
/// override, and the platform roots do not know a throwaway CA.
#[tokio::test]
async fn certificate_from_an_unknown_ca_is_refused() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        assert!(s.try_secure().await.is_err());
    });
    let mut opts = server.connect_options();
    opts.tls = TlsSettings::default();
    let err = server.negotiate_with(&opts).await.err().unwrap();
    server.finish().await;
    assert!(
        matches!(err, ConnectError::Tls(TlsFailure::Certificate(_))),
        "{err:?}"
    );
}

// ----- 19: SASL downgrade -----

/// SCRAM worked for this account before (remembered in the store): a server that now offers
/// only PLAIN is refused, and the password is never sent.
#[tokio::test]
async fn plain_only_server_is_refused_once_scram_was_seen() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_mechanisms(&["PLAIN"]).await;
        s.expect_hangup().await; // In particular no <auth mechanism='PLAIN'>.
    });
    let c = FakeClient::new(&server);
    c.linnet.store().mark_scram_seen(c.account_id()).unwrap();
    let err = c.client.connect().await.unwrap_err();
    server.finish().await;
    assert!(
        matches!(&err, LinnetError::NoAcceptableMechanism { offered } if offered == "PLAIN"),
        "{err:?}"
    );
}

/// A fresh account (SCRAM never seen) may use PLAIN over TLS.
#[tokio::test]
async fn fresh_account_logs_in_with_plain_when_only_plain_is_offered() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_mechanisms(&["PLAIN"]).await;
        let plain = s.accept_plain_auth().await;
        assert_eq!(plain.authzid, "");
        assert_eq!(plain.user, "user");
        s.accept_bind().await;
        s.serve_session_basics().await;
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    assert_eq!(c.client.session_info().unwrap().mechanism, Mechanism::Plain);
    assert!(!c.linnet.store().scram_seen(c.account_id()).unwrap());
    c.client.disconnect().await;
    server.finish().await;
}

/// The whole story: SCRAM is preferred over PLAIN, succeeds and is remembered; the next
/// connection offers only PLAIN and is refused.
#[tokio::test]
async fn downgrade_to_plain_after_a_scram_login_is_refused() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        if s.index() == 0 {
            s.offer_mechanisms(&["PLAIN", "SCRAM-SHA-1"]).await;
            let t = s.accept_scram(ScramOptions::default()).await;
            assert!(t.succeeded(), "{t:?}");
            assert_eq!(t.mechanism, "SCRAM-SHA-1");
            s.accept_bind().await;
            s.serve_session_basics().await;
            s.drain_until_closed().await;
        } else {
            s.offer_mechanisms(&["PLAIN"]).await;
            s.expect_hangup().await;
        }
    });
    let c = FakeClient::connected(&server).await;
    assert_eq!(
        c.client.session_info().unwrap().mechanism,
        Mechanism::ScramSha1
    );
    assert!(c.linnet.store().scram_seen(c.account_id()).unwrap());
    c.client.disconnect().await;
    let err = c.client.connect().await.unwrap_err();
    server.finish().await;
    assert!(
        matches!(err, LinnetError::NoAcceptableMechanism { .. }),
        "{err:?}"
    );
    assert_eq!(server.connections(), 2);
}

// ----- 20: channel binding -----

/// Negotiates with the script's SCRAM offer and returns (client's view, server's transcript).
async fn scram_login(
    config: FakeConfig,
    mechanisms: &'static [&'static str],
    cb_types: Option<&'static [&'static str]>,
) -> (linnet_xmpp::negotiate::SessionInfo, ScramTranscript) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let server = FakeServer::with_config(config, move |mut s: ServerConn| {
        let tx = tx.lock().unwrap().take();
        async move {
            s.secure().await;
            s.offer_sasl(mechanisms, cb_types, "").await;
            let t = s.accept_scram(ScramOptions::default()).await;
            assert!(t.succeeded(), "{t:?}");
            s.accept_bind().await;
            tx.unwrap().send(t).unwrap();
            s.drain_until_closed().await;
        }
    });
    let (conn, info) = match server.negotiate().await {
        Ok(x) => x,
        Err(e) => {
            server.finish().await;
            panic!("{e:?}");
        }
    };
    drop(conn);
    server.finish().await;
    (info, rx.await.unwrap())
}

/// ejabberd's case: -PLUS offered without XEP-0440. The client does not guess a binding type:
/// plain SCRAM-SHA-256 with `n,,` (not `y,,`, which would make the server suspect a downgrade).
#[tokio::test]
async fn plus_without_xep0440_uses_scram_without_binding_and_gs2_n() {
    let (info, t) = scram_login(
        FakeConfig::default(),
        &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"],
        None,
    )
    .await;
    assert_eq!(info.mechanism, Mechanism::ScramSha256);
    assert_eq!(info.channel_binding, None);
    assert_eq!(t.mechanism, "SCRAM-SHA-256");
    assert_eq!(t.gs2_header, "n,,");
}

/// XEP-0440 advertises tls-exporter on TLS 1.3: SCRAM-SHA-256-PLUS with `p=tls-exporter`, and
/// the binding data the server computes on its side of the TLS connection matches.
#[tokio::test]
async fn xep0440_tls_exporter_on_tls13_uses_plus() {
    let (info, t) = scram_login(
        FakeConfig::default(),
        &["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"],
        Some(&["tls-server-end-point", "tls-exporter"]),
    )
    .await;
    assert_eq!(info.tls.version, TlsVersion::Tls13);
    assert_eq!(info.mechanism, Mechanism::ScramSha256Plus);
    assert_eq!(info.channel_binding, Some(ChannelBindingType::TlsExporter));
    assert_eq!(t.gs2_header, "p=tls-exporter,,");
    assert!(t.channel_binding_ok);
}

/// On TLS 1.2 rustls always negotiates the extended master secret, so tls-exporter is sound
/// there too (RFC 9266 §3).
#[tokio::test]
async fn xep0440_tls_exporter_on_tls12_uses_plus() {
    let config = FakeConfig {
        tls12_only: true,
        ..FakeConfig::default()
    };
    let (info, t) = scram_login(
        config,
        &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
        Some(&["tls-exporter"]),
    )
    .await;
    assert_eq!(info.tls.version, TlsVersion::Tls12);
    assert_eq!(info.mechanism, Mechanism::ScramSha1Plus);
    assert_eq!(t.gs2_header, "p=tls-exporter,,");
    assert!(t.channel_binding_ok);
}

/// XEP-0440 advertises only tls-unique, which does not exist on TLS 1.3: no -PLUS.
#[tokio::test]
async fn binding_type_unsound_on_tls13_is_not_used() {
    let (info, t) = scram_login(
        FakeConfig::default(),
        &["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"],
        Some(&["tls-unique"]),
    )
    .await;
    assert_eq!(info.mechanism, Mechanism::ScramSha256);
    assert_eq!(t.gs2_header, "n,,");
}

/// The server rejects the -PLUS exchange with not-authorized: that is a channel-binding failure
/// to report as such, not "wrong password".
#[tokio::test]
async fn not_authorized_after_plus_is_a_channel_binding_failure() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_mechanisms_with_cb(&["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"], &["tls-exporter"])
            .await;
        let t = s
            .accept_scram(ScramOptions {
                outcome: ScramOutcome::Failure("not-authorized"),
                ..ScramOptions::default()
            })
            .await;
        assert_eq!(t.mechanism, "SCRAM-SHA-256-PLUS");
        s.expect_hangup().await;
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(err, ConnectError::Auth(AuthError::ChannelBindingRejected)),
        "{err:?}"
    );
    assert_ne!(sdk, LinnetError::WrongCredentials);
    assert!(
        matches!(&sdk, LinnetError::AuthFailed { reason } if reason.contains("channel binding")),
        "{sdk:?}"
    );
}

/// Control: the same failure without channel binding is a wrong password.
#[tokio::test]
async fn not_authorized_without_plus_is_wrong_credentials() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_mechanisms(&["SCRAM-SHA-256"]).await;
        s.accept_scram(ScramOptions {
            outcome: ScramOutcome::Failure("not-authorized"),
            ..ScramOptions::default()
        })
        .await;
        s.expect_hangup().await;
    });
    let (err, sdk) = both_fail(&server).await;
    assert!(
        matches!(err, ConnectError::Auth(AuthError::WrongCredentials)),
        "{err:?}"
    );
    assert_eq!(sdk, LinnetError::WrongCredentials);
}

// ----- 21: SCRAM parameters and the server signature -----

/// Runs a SCRAM exchange with `opts` on `mechanism` and returns the typed and public errors;
/// the fake server asserts that the client does not go on (no bind, no new stream).
async fn scram_failure(mechanism: &'static str, opts: ScramOptions) -> (ConnectError, LinnetError) {
    let server = FakeServer::new(move |mut s: ServerConn| {
        let opts = opts.clone();
        async move {
            s.secure().await;
            s.offer_mechanisms(&[mechanism]).await;
            s.accept_scram(opts).await;
            s.expect_hangup().await;
        }
    });
    both_fail(&server).await
}

fn sasl_error(err: &ConnectError) -> &SaslError {
    match err {
        ConnectError::Auth(AuthError::Protocol(e)) => e,
        other => panic!("expected a SASL protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn scram_iteration_count_below_4096_is_refused() {
    let (err, sdk) = scram_failure(
        "SCRAM-SHA-256",
        ScramOptions {
            iterations: 1000,
            ..ScramOptions::default()
        },
    )
    .await;
    assert_eq!(sasl_error(&err), &SaslError::IterationCountTooLow(1000));
    assert!(matches!(sdk, LinnetError::AuthFailed { .. }), "{sdk:?}");
}

#[tokio::test]
async fn scram_server_nonce_not_extending_ours_is_refused() {
    let (err, sdk) = scram_failure(
        "SCRAM-SHA-256",
        ScramOptions {
            nonce: ServerNonce::Replace("AttackerChosenNonce0123456789".into()),
            ..ScramOptions::default()
        },
    )
    .await;
    assert_eq!(sasl_error(&err), &SaslError::NonceMismatch);
    assert!(matches!(sdk, LinnetError::AuthFailed { .. }), "{sdk:?}");
}

#[tokio::test]
async fn scram_bad_server_signature_is_refused_despite_success() {
    for mechanism in ["SCRAM-SHA-1", "SCRAM-SHA-256"] {
        let (err, sdk) = scram_failure(
            mechanism,
            ScramOptions {
                outcome: ScramOutcome::BadSignature,
                ..ScramOptions::default()
            },
        )
        .await;
        assert_eq!(
            sasl_error(&err),
            &SaslError::BadServerSignature,
            "{mechanism}"
        );
        assert!(matches!(sdk, LinnetError::AuthFailed { .. }), "{sdk:?}");
    }
}

#[tokio::test]
async fn scram_success_without_server_signature_is_refused() {
    let (err, sdk) = scram_failure(
        "SCRAM-SHA-256",
        ScramOptions {
            outcome: ScramOutcome::SuccessWithoutVerifier,
            ..ScramOptions::default()
        },
    )
    .await;
    assert!(
        matches!(sasl_error(&err), SaslError::Malformed(_)),
        "{err:?}"
    );
    assert!(matches!(sdk, LinnetError::AuthFailed { .. }), "{sdk:?}");
}

/// Control for the cases above: a correct signature sent in a challenge (RFC 6120 allows it)
/// followed by an empty success logs in.
#[tokio::test]
async fn scram_verifier_in_a_challenge_is_accepted() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.secure().await;
        s.offer_mechanisms(&["SCRAM-SHA-256"]).await;
        let t = s
            .accept_scram(ScramOptions {
                outcome: ScramOutcome::VerifierInChallenge,
                ..ScramOptions::default()
            })
            .await;
        assert!(t.succeeded(), "{t:?}");
        s.accept_bind().await;
        s.drain_until_closed().await;
    });
    let (conn, info) = server.negotiate().await.unwrap();
    assert_eq!(info.mechanism, Mechanism::ScramSha256);
    drop(conn);
    server.finish().await;
}

/// Control: whitespace after `<proceed/>` is not data (no false alarm on a sloppy server).
#[tokio::test]
async fn whitespace_after_proceed_is_tolerated() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.open_stream().await;
        s.send_features(&format!("<starttls xmlns='{NS_TLS}'/>"))
            .await;
        s.expect("starttls").await;
        s.send(&format!("<proceed xmlns='{NS_TLS}'/>\n")).await;
        s.start_tls().await.unwrap();
        s.offer_mechanisms(&["PLAIN"]).await;
        s.accept_plain_auth().await;
        s.accept_bind().await;
        s.drain_until_closed().await;
    });
    let (conn, _) = server.negotiate().await.unwrap();
    drop(conn);
    server.finish().await;
}
