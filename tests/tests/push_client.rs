//! Push registration in the SDK (issue 8, XEP-0357) against the real servers, with a test app
//! server (`linnet_tests::push_component`) on `push.<domain>` and `push2.<domain>`. The
//! assertions are on what the servers do: which commands the app server receives, and whether
//! the user's server publishes to it when a message arrives while the account is offline.
//!
//! One scenario per server, in steps: the push component addresses are shared (Prosody accepts
//! one connection per address), so the steps run in order instead of as parallel tests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::{ClientEvent, PushPlatform, PushStatus};
use linnet_tests::push_component::PushComponents;
use linnet_tests::{
    Mode, TestClient, TestServer, client_for, connected, create_account, on_both_servers,
};

/// How long "nothing arrives" is watched.
const QUIET: Duration = Duration::from_secs(3);

/// Connects and waits for the reconciliation that follows every session.
async fn connect_and_reconcile(c: &mut TestClient) -> PushStatus {
    // Earlier settings changes reported their own statuses: skip them.
    while c.events.try_recv().is_ok() {}
    c.client.connect().await.unwrap();
    c.expect("the push reconciliation", |e| match e {
        ClientEvent::Push(status) => Some(status.clone()),
        _ => None,
    })
    .await
}

/// Bob sends a message to offline Alice; returns once Bob's server has it.
async fn message_while_offline(bob: &TestClient, alice: &str, body: &str) {
    bob.send_acked(alice, body).await;
}

async fn push_registration_follows_the_settings(server: TestServer) {
    let mut apps = PushComponents::start(&server).await;
    let [push1, push2] = apps.jids.clone();
    let domain = server.domain.clone();
    let (alice_jid, alice_pw) = create_account(&server, "pusha");
    let mut alice = client_for(&server, &alice_jid, &alice_pw, Mode::StartTls);
    let (bob_jid, bob_pw) = create_account(&server, "pushb");
    let bob = client_for(&server, &bob_jid, &bob_pw, Mode::StartTls);
    bob.client.connect().await.unwrap();

    // Not permitted (token and app server set): nothing reaches the app server, and an offline
    // message produces no publish.
    let status = connect_and_reconcile(&mut alice).await;
    assert!(!status.permitted && !status.registered);
    let token_a = format!("tok-a-{}", linnet_tests::unique_name(""));
    alice
        .client
        .set_push_token(PushPlatform::Fcm, Some(token_a.clone()))
        .await
        .unwrap();
    let status = alice
        .client
        .set_push_app_server(Some(push1.clone()))
        .await
        .unwrap();
    assert!(!status.permitted && status.has_token && !status.registered);
    assert!(!status.enabled_on_current_session);
    alice.client.disconnect().await;
    message_while_offline(&bob, &alice_jid, "while not permitted").await;
    apps.expect_nothing(QUIET, None, "no command and no publish without permission")
        .await;

    // Permitted: one registration, enabled, and an offline message is published to the app
    // server with the node and secret it gave.
    connect_and_reconcile(&mut alice).await;
    let status = alice.client.set_push_permitted(true).await.unwrap();
    assert_eq!(status.last_error, None);
    assert!(status.registered && status.enabled_on_current_session);
    let (command, fields, answered) = apps.next_command(&push1, "the registration").await;
    assert_eq!(command, "register-push-fcm");
    assert_eq!(fields.get("token"), Some(&token_a));
    let device_id = fields.get("device-id").cloned().unwrap();
    assert_eq!(device_id.len(), 32);
    let (node_1, secret_1) = (answered["node"].clone(), answered["secret"].clone());
    alice.client.disconnect().await;
    message_while_offline(&bob, &alice_jid, "after permission").await;
    apps.expect_publish(&push1, &node_1, &secret_1, &domain)
        .await;

    // A fresh session enables again (ejabberd keys the registration to the session) without
    // registering again (a second register command would fail the next `next_command`).
    let status = connect_and_reconcile(&mut alice).await;
    assert!(
        status.registered && status.enabled_on_current_session,
        "{status:?}"
    );
    alice.client.disconnect().await;
    apps.forget_publishes();
    message_while_offline(&bob, &alice_jid, "after a reconnect").await;
    apps.expect_publish(&push1, &node_1, &secret_1, &domain)
        .await;

    // A new token: the old registration is disabled and unregistered, a new one made.
    connect_and_reconcile(&mut alice).await;
    let token_b = format!("tok-b-{}", linnet_tests::unique_name(""));
    let status = alice
        .client
        .set_push_token(PushPlatform::Fcm, Some(token_b.clone()))
        .await
        .unwrap();
    assert!(
        status.registered && status.enabled_on_current_session,
        "{status:?}"
    );
    let (command, fields, _) = apps
        .next_command(&push1, "the old token's unregistration")
        .await;
    assert_eq!(command, "unregister-push");
    assert_eq!(fields.get("device-id"), Some(&device_id));
    let (command, fields, answered) = apps
        .next_command(&push1, "the new token's registration")
        .await;
    assert_eq!(command, "register-push-fcm");
    assert_eq!(fields.get("token"), Some(&token_b));
    let (node_2, secret_2) = (answered["node"].clone(), answered["secret"].clone());
    assert_ne!(node_2, node_1);
    alice.client.disconnect().await;
    apps.forget_publishes();
    message_while_offline(&bob, &alice_jid, "after the token change").await;
    apps.expect_publish(&push1, &node_2, &secret_2, &domain)
        .await;
    apps.expect_nothing(QUIET, Some(&node_2), "nothing for the old node")
        .await;

    // Another app server: unregistered at the old one, registered at the new one, and only the
    // new one hears of offline messages.
    connect_and_reconcile(&mut alice).await;
    let status = alice
        .client
        .set_push_app_server(Some(push2.clone()))
        .await
        .unwrap();
    assert!(
        status.registered && status.enabled_on_current_session,
        "{status:?}"
    );
    let (command, _, _) = apps
        .next_command(&push1, "the unregistration at the old app server")
        .await;
    assert_eq!(command, "unregister-push");
    let (command, fields, answered) = apps
        .next_command(&push2, "the registration at the new one")
        .await;
    assert_eq!(command, "register-push-fcm");
    assert_eq!(fields.get("token"), Some(&token_b));
    let (node_3, secret_3) = (answered["node"].clone(), answered["secret"].clone());
    alice.client.disconnect().await;
    apps.forget_publishes();
    message_while_offline(&bob, &alice_jid, "after the app server change").await;
    apps.expect_publish(&push2, &node_3, &secret_3, &domain)
        .await;
    apps.expect_nothing(QUIET, Some(&node_3), "the old app server hears nothing")
        .await;

    // Permission withdrawn: disabled and unregistered; the next offline message is not pushed.
    connect_and_reconcile(&mut alice).await;
    let status = alice.client.set_push_permitted(false).await.unwrap();
    assert!(
        !status.registered && !status.enabled_on_current_session,
        "{status:?}"
    );
    assert_eq!(status.last_error, None);
    let (command, _, _) = apps
        .next_command(&push2, "the unregistration on revocation")
        .await;
    assert_eq!(command, "unregister-push");
    alice.client.disconnect().await;
    apps.forget_publishes();
    message_while_offline(&bob, &alice_jid, "after revocation").await;
    apps.expect_nothing(QUIET, None, "no publish after revocation")
        .await;

    // Logout (permission given again first): disabled and unregistered before the stream
    // closes.
    connect_and_reconcile(&mut alice).await;
    let status = alice.client.set_push_permitted(true).await.unwrap();
    assert!(status.registered, "{status:?}");
    let (command, _, _) = apps
        .next_command(&push2, "the registration before logout")
        .await;
    assert_eq!(command, "register-push-fcm");
    alice.client.logout().await.unwrap();
    let (command, _, _) = apps
        .next_command(&push2, "the unregistration on logout")
        .await;
    assert_eq!(command, "unregister-push");
    assert!(!alice.client.push_status().unwrap().registered);
    apps.forget_publishes();
    message_while_offline(&bob, &alice_jid, "after logout").await;
    apps.expect_nothing(QUIET, None, "no publish after logout")
        .await;
    bob.client.disconnect().await;

    // The same through the command line, with wire-level TRACE logs: APNs (sandbox) this time,
    // and neither the token nor the node nor the secret may reach the log. In this scenario
    // rather than a test of its own: the push component addresses are shared.
    cli_push_commands_never_log_the_secrets(&server, &mut apps).await;
}

async fn cli_push_commands_never_log_the_secrets(server: &TestServer, apps: &mut PushComponents) {
    use linnet_tests::cli::{add_account, json_lines, linnet};
    let push1 = apps.jids[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (jid, password) = create_account(server, "pushc");
    add_account(&data, server, &jid, &password);
    let token = format!("cafe{:032x}", rand::random::<u128>());
    let trace = ["--log", "trace", "--json"];
    let mut logs = String::new();
    let mut run = |args: &[&str]| {
        let all: Vec<&str> = trace.iter().chain(args).copied().collect();
        let out = linnet(&data, &all, "");
        logs.push_str(&String::from_utf8_lossy(&out.stderr));
        json_lines(&out).pop().unwrap()
    };
    let set = run(&[
        "push",
        "set",
        "--app-server",
        &push1,
        "--token",
        &token,
        "--platform",
        "apns-sandbox",
    ]);
    assert_eq!(set["type"], "push");
    assert_eq!(set["permitted"], false);
    assert_eq!(set["has_token"], true);
    let permitted = run(&["push", "permit"]);
    assert_eq!(permitted["registered"], true, "{permitted}");
    assert_eq!(permitted["enabled"], true, "{permitted}");
    let (command, fields, answered) = apps.next_command(&push1, "the CLI's registration").await;
    assert_eq!(command, "register-push-apns");
    assert_eq!(
        fields.get("environment").map(String::as_str),
        Some("sandbox")
    );
    assert_eq!(fields.get("token"), Some(&token));
    let status = run(&["push", "status"]);
    assert_eq!(status["enabled"], true, "{status}");
    let revoked = run(&["push", "revoke"]);
    assert_eq!(revoked["registered"], false, "{revoked}");
    let (command, _, _) = apps.next_command(&push1, "the CLI's unregistration").await;
    assert_eq!(command, "unregister-push");
    assert!(
        logs.contains("linnet::wire"),
        "the logs show the wire traffic"
    );
    assert!(logs.contains("urn:xmpp:push:0"), "the logs show the enable");
    for secret in [&token, &answered["node"], &answered["secret"]] {
        assert!(
            !logs.contains(secret.as_str()),
            "a push secret reached the log"
        );
    }
}

on_both_servers!(push_registration_follows_the_settings);

/// An app server that is not there: the error is typed and kept in the status, the session
/// stays up, and nothing is registered. (Our servers answer for the unknown domain themselves,
/// Prosody `not-allowed` and ejabberd `forbidden` since s2s is off: that reads as a refusal.)
async fn an_absent_app_server_is_reported_and_harmless(server: TestServer) {
    let alice = connected(&server, "pushx").await;
    alice
        .client
        .set_push_token(
            PushPlatform::Apns { sandbox: true },
            Some("cafe0001".into()),
        )
        .await
        .unwrap();
    alice
        .client
        .set_push_app_server(Some(format!("nopush.{}", server.domain)))
        .await
        .unwrap();
    let status = alice.client.set_push_permitted(true).await.unwrap();
    assert!(!status.registered, "{status:?}");
    assert!(
        matches!(
            status.last_error,
            Some(
                linnet_sdk::LinnetError::PushAppServerUnavailable { .. }
                    | linnet_sdk::LinnetError::PushRefused { .. }
            )
        ),
        "{status:?}"
    );
    // The session is fine.
    alice.client.doctor().await.unwrap();
    alice.client.disconnect().await;
}

on_both_servers!(an_absent_app_server_is_reported_and_harmless);
