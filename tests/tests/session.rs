//! Connection, TLS and authentication against the real servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_sdk::{AccountSettings, ErrorKind, LinnetError};
use linnet_tests::*;

async fn starttls_login_picks_the_strongest_scram(server: TestServer) {
    let (jid, pw) = create_account(&server, "tls");
    let c = client_for(&server, &jid, &pw, Mode::StartTls);
    c.client.connect().await.unwrap();
    let info = c.client.session_info().unwrap();
    let expected = if server.name == "prosody" {
        "SCRAM-SHA-1"
    } else {
        "SCRAM-SHA-256"
    };
    assert_eq!(
        info.mechanism.name(),
        expected,
        "offered {:?}",
        info.offered_mechanisms
    );
    assert!(info.bound_jid.resource().as_str().starts_with("linnet."));
    assert!(
        info.stream_management.is_some(),
        "stream management should be enabled"
    );
    // The resource is per installation: the same on the next connection.
    let first_resource = info.bound_jid.resource().to_string();
    c.client.disconnect().await;
    c.client.connect().await.unwrap();
    assert_eq!(
        c.client
            .session_info()
            .unwrap()
            .bound_jid
            .resource()
            .as_str(),
        first_resource
    );
    // SCRAM worked, so the store now refuses PLAIN for this account.
    assert!(c.linnet.store().scram_seen(c.client.account().id).unwrap());
    c.client.disconnect().await;
}
on_both_servers!(starttls_login_picks_the_strongest_scram);

async fn direct_tls_login(server: TestServer) {
    let (jid, pw) = create_account(&server, "dtls");
    let c = client_for(&server, &jid, &pw, Mode::DirectTls);
    c.client.connect().await.unwrap();
    let info = c.client.session_info().unwrap();
    assert_eq!(info.target.mode, linnet_xmpp::transport::TlsMode::DirectTls);
    c.client.disconnect().await;
}
on_both_servers!(direct_tls_login);

async fn wrong_password_is_a_typed_auth_error(server: TestServer) {
    let (jid, _) = create_account(&server, "wrongpw");
    let c = client_for(&server, &jid, "definitely-not-the-password", Mode::StartTls);
    let err = c.client.connect().await.unwrap_err();
    assert_eq!(err, LinnetError::WrongCredentials);
    assert_eq!(err.kind(), ErrorKind::Auth);
}
on_both_servers!(wrong_password_is_a_typed_auth_error);

async fn unknown_ca_is_a_certificate_error(server: TestServer) {
    let (jid, pw) = create_account(&server, "noca");
    let dir = tempfile::tempdir().unwrap();
    let linnet = linnet_sdk::Linnet::open(dir.path()).unwrap();
    let settings = AccountSettings {
        server: Some((server.host.clone(), server.starttls_port)),
        direct_tls: false,
        ca_pem: None,
    };
    linnet
        .add_account(&jid, linnet_sdk::Secret::from(pw), settings)
        .unwrap();
    let err = linnet.client(None).unwrap().connect().await.unwrap_err();
    assert!(matches!(err, LinnetError::Certificate { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Tls);
}
on_both_servers!(unknown_ca_is_a_certificate_error);

/// The certificate is checked against the XMPP domain, not the host we connected to: an account
/// at the other server's domain pointed at this server's port must fail. (Prosody already refuses
/// the unknown server name in the TLS handshake; ejabberd presents its certificate, which we reject.)
async fn certificate_must_match_the_xmpp_domain(server: TestServer) {
    let other = if server.name == "prosody" {
        "ejabberd.test"
    } else {
        "prosody.test"
    };
    let dir = tempfile::tempdir().unwrap();
    let linnet = linnet_sdk::Linnet::open(dir.path()).unwrap();
    let jid = format!("someone@{other}");
    linnet
        .add_account(
            &jid,
            linnet_sdk::Secret::from("x-password"),
            settings(&server, Mode::DirectTls),
        )
        .unwrap();
    let err = linnet.client(None).unwrap().connect().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err:?}");
    if server.name == "ejabberd" {
        assert!(matches!(err, LinnetError::Certificate { .. }), "{err:?}");
    }
}
on_both_servers!(certificate_must_match_the_xmpp_domain);

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let linnet = linnet_sdk::Linnet::open(dir.path()).unwrap();
    let settings = AccountSettings {
        server: Some(("127.0.0.1".into(), 9)),
        direct_tls: false,
        ca_pem: None,
    };
    linnet
        .add_account(
            "nobody@unreachable.test",
            linnet_sdk::Secret::from("pw-1234"),
            settings,
        )
        .unwrap();
    let err = linnet.client(None).unwrap().connect().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
}

async fn doctor_reports_what_the_server_offers(server: TestServer) {
    let c = connected(&server, "doc").await;
    let report = c.client.doctor().await.unwrap();
    assert!(report.tls_version.starts_with("TLS 1."));
    assert!(report.carbons, "carbons enabled");
    assert!(report.mam, "MAM advertised");
    assert!(report.csi, "CSI offered");
    assert!(report.stream_management.starts_with("enabled"));
    let upload = report.upload.expect("upload service found");
    assert!(upload.jid.starts_with("upload."));
    assert!(upload.max_file_size.unwrap_or(0) > 0);
    c.client.disconnect().await;
}
on_both_servers!(doctor_reports_what_the_server_offers);
