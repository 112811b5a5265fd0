//! The `linnet-push` binary from a configuration file: it connects to an in-process XEP-0114
//! peer, registers a device, answers a publish with `wait` while FCM is unreachable, stops on
//! SIGTERM, and its debug logs never show the token, the node, the secret or the account.
//! A configuration error names the key and fails the start.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::process::{Command, Stdio};
use std::time::Duration;

use linnet_xmpp::component::handshake_digest;
use linnet_xmpp::xml::{Limits, StreamEvent, StreamReader};
use linnet_xmpp::{Element, adhoc, ns};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const JID: &str = "push.example.org";
const SECRET: &str = "component-secret-canary";
const TOKEN: &str = "fcmTokenCanary0123456789";
const ACCOUNT: &str = "alicecanary@a.example";
const WAIT: Duration = Duration::from_secs(20);

struct Peer {
    sock: tokio::net::TcpStream,
    reader: StreamReader,
    pending: VecDeque<StreamEvent>,
}

impl Peer {
    async fn event(&mut self) -> StreamEvent {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return e;
            }
            let mut buf = vec![0u8; 8192];
            let n = tokio::time::timeout(WAIT, self.sock.read(&mut buf))
                .await
                .expect("nothing from linnet-push")
                .unwrap();
            assert!(n > 0, "linnet-push closed the connection");
            self.pending.extend(self.reader.feed(&buf[..n]).unwrap());
        }
    }

    async fn stanza(&mut self) -> Element {
        match self.event().await {
            StreamEvent::Stanza(el) => el,
            other => panic!("unexpected {other:?}"),
        }
    }

    async fn send(&mut self, xml: &str) {
        self.sock.write_all(xml.as_bytes()).await.unwrap();
    }
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn runs_from_a_config_file_and_keeps_secrets_out_of_its_logs() {
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    // A throwaway service account whose token endpoint refuses connections: every FCM send
    // fails transiently.
    let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let key = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    let account = serde_json::json!({
        "type": "service_account",
        "project_id": "linnet-test",
        "client_email": "push@linnet-test.iam.gserviceaccount.com",
        "private_key": key,
        "token_uri": format!("http://127.0.0.1:{dead_port}/token"),
    });
    std::fs::write(dir.path().join("sa.json"), account.to_string()).unwrap();
    std::fs::write(dir.path().join("component.secret"), SECRET).unwrap();
    let config = dir.path().join("linnet-push.toml");
    std::fs::write(
        &config,
        format!(
            "[component]\njid = '{JID}'\nhost = '127.0.0.1'\nport = {port}\nsecret_file = 'component.secret'\n\
             [store]\nsqlite = 'registrations.db'\n\
             [fcm]\nservice_account_file = 'sa.json'\nbase_url = 'http://127.0.0.1:{dead_port}'\ntimeout_ms = 2000\n"
        ),
    )
    .unwrap();

    let log_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_linnet-push"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();

    let (sock, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .expect("linnet-push did not connect")
        .unwrap();
    let mut peer = Peer {
        sock,
        reader: StreamReader::new(Limits::default()),
        pending: VecDeque::new(),
    };
    assert!(matches!(peer.event().await, StreamEvent::Header(_)));
    peer.send(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' \
         xmlns:stream='http://etherx.jabber.org/streams' from='push.example.org' id='abc'>",
    )
    .await;
    let handshake = peer.stanza().await;
    assert_eq!(handshake.text(), handshake_digest("abc", SECRET));
    peer.send("<handshake/>").await;

    // Register.
    let command = String::from(&adhoc::execute(
        "register-push-fcm",
        &[("token", TOKEN), ("device-id", "device-canary")],
    ));
    peer.send(&format!(
        "<iq type='set' id='r1' from='{ACCOUNT}/phone' to='{JID}'>{command}</iq>"
    ))
    .await;
    let answer = peer.stanza().await;
    assert_eq!(
        answer.attr("type"),
        Some("result"),
        "{}",
        String::from(&answer)
    );
    let response =
        adhoc::parse_response(answer.get_child("command", ns::COMMANDS).unwrap()).unwrap();
    let node = response.fields["node"].clone();
    let secret = response.fields["secret"].clone();

    // Publish: FCM is unreachable, so the answer is wait (the registration survives).
    peer.send(&format!(
        "<iq type='set' id='p1' from='a.example' to='{JID}'>\
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{node}'><item>\
         <notification xmlns='urn:xmpp:push:0'/></item></publish>\
         <publish-options><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
         <field var='secret'><value>{secret}</value></field></x></publish-options></pubsub></iq>"
    ))
    .await;
    let answer = peer.stanza().await;
    assert_eq!(answer.attr("id"), Some("p1"));
    // Parsed on the component stream: the error inherits jabber:component:accept.
    let error = answer
        .get_child("error", ns::COMPONENT_ACCEPT)
        .unwrap_or_else(|| panic!("{}", String::from(&answer)));
    assert_eq!(
        error.attr("type"),
        Some("wait"),
        "{}",
        String::from(&answer)
    );

    // SIGTERM: a clean stop.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("component connected"), "{logs}");
    assert!(logs.contains("device registered"), "{logs}");
    for canary in [
        TOKEN,
        node.as_str(),
        secret.as_str(),
        SECRET,
        "alicecanary",
        "device-canary",
    ] {
        assert!(!logs.contains(canary), "{canary} in the logs:\n{logs}");
    }
}

#[test]
fn a_config_error_names_the_key_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[component]\njid = 'push.example.org'\nhost = '127.0.0.1'\nport = 5347\nsecret = 'x'\nsecret_fiel = 'y'\n[store]\nsqlite = 'r.db'\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_linnet-push"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("secret_fiel"), "{stderr}");
}
