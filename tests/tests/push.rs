//! Push end to end (issue 8): Linnet devices register with linnet-push (started from a config
//! file, connected as `push.<domain>`), Prosody's mod_cloud_notify and ejabberd's mod_push
//! publish when a message reaches an offline device, and linnet-push forwards a wake-up without
//! content to the fake APNs and FCM endpoints. Every scenario runs on both servers and on both
//! registration stores (SQLite, PostgreSQL).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_push::StatsSnapshot;
use linnet_sdk::secrets::{FileSecretStore, SecretStore as _};
use linnet_sdk::{PushPlatform, PushSettings, Secret, WakeOptions};
use linnet_tests::push::{AppServer, StoreKind};
use linnet_tests::{TestClient, TestServer, befriend, connected};

/// How long a "nothing arrives" check waits: the servers publish within a second of storing an
/// offline message (Prosody) or at once (ejabberd).
const QUIET: Duration = Duration::from_secs(3);

/// Runs `scenario(server, store)` on each server with each store.
macro_rules! on_both_servers_and_stores {
    ($name:ident) => {
        mod $name {
            use linnet_tests::push::StoreKind;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn prosody_sqlite() {
                super::$name(linnet_tests::server("prosody"), StoreKind::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn prosody_postgres() {
                super::$name(linnet_tests::server("prosody"), StoreKind::Postgres).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ejabberd_sqlite() {
                super::$name(linnet_tests::server("ejabberd"), StoreKind::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn ejabberd_postgres() {
                super::$name(linnet_tests::server("ejabberd"), StoreKind::Postgres).await;
            }
        }
    };
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// An APNs device token (64 hex digits) ending in `suffix` (the fake's scripts, e.g. "0410").
fn apns_token(suffix: &str) -> String {
    let mut t = random_hex(32);
    t.truncate(64 - suffix.len());
    t + suffix
}

fn fcm_token(suffix: &str) -> String {
    format!("fcm:{}{suffix}", random_hex(24))
}

async fn enable_push(c: &TestClient, app: &AppServer, platform: PushPlatform, token: &str) {
    let status = c
        .client
        .set_push(PushSettings {
            permitted: true,
            token: Some(token.to_string()),
            platform,
            app_server: Some(app.jid.clone()),
        })
        .await
        .unwrap();
    assert!(
        status.registered && status.enabled_on_current_session && status.last_error.is_none(),
        "{}: {status:?}",
        c.jid
    );
}

/// Sends `body` from `from` to `to` and waits until `from`'s server has it.
async fn send_and_ack(from: &TestClient, to: &str, body: &str) {
    let id = from.client.send_message(to, body).unwrap();
    linnet_tests::delivery::all_acked(from, &[id]).await;
}

/// Waits (up to 20 s) until the app server's counters satisfy `pred`.
async fn stats_reach(app: &AppServer, what: &str, pred: impl Fn(&StatsSnapshot) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !pred(&app.stats()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            app.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a payload must never carry: the message, and who is talking to whom.
fn assert_no_content(what: &str, body: &[u8], forbidden: &[&str]) {
    let text = String::from_utf8_lossy(body);
    for word in forbidden {
        assert!(
            !text.contains(word),
            "{what} payload carries {word:?}: {text}"
        );
    }
}

fn localpart(jid: &str) -> &str {
    jid.split('@').next().unwrap()
}

/// A message to an offline iPhone (APNs sandbox) and one to an offline Android phone (FCM)
/// each produce exactly one content-free wake-up; the wake-up path then stores the message and
/// returns its preview.
async fn an_offline_message_wakes_the_device(server: TestServer, store: StoreKind) {
    let app = AppServer::start(&server, store).await;
    let mut bob = connected(&server, "bob").await;
    let mut alice = connected(&server, "alice").await;
    let mut carol = connected(&server, "carol").await;
    befriend(&mut alice, &mut bob).await;
    befriend(&mut carol, &mut bob).await;
    let ios = apns_token("");
    let android = fcm_token("");
    enable_push(&alice, &app, PushPlatform::Apns { sandbox: true }, &ios).await;
    enable_push(&carol, &app, PushPlatform::Fcm, &android).await;
    alice.client.disconnect().await;
    carol.client.disconnect().await;

    send_and_ack(&bob, &alice.jid, "the plan for tuesday").await;
    send_and_ack(&bob, &carol.jid, "carol's recipe").await;

    let apns = app.apns.wait_for_requests(1).await;
    let request = &apns[0];
    assert_eq!(request.token, ios);
    assert!(request.sandbox, "a sandbox token went to production");
    assert_eq!(request.verdict, Ok(()), "{request:?}");
    assert_eq!(request.status, 200);
    let forbidden = [
        "tuesday",
        "recipe",
        &bob.jid,
        localpart(&bob.jid),
        &alice.jid,
        localpart(&alice.jid),
        &carol.jid,
        localpart(&carol.jid),
    ];
    assert_no_content("APNs", &request.body, &forbidden);
    let fcm = app.fcm.wait_for_requests(1).await;
    assert_eq!(fcm[0].token, android);
    assert_eq!(fcm[0].verdict, Ok(()), "{:?}", fcm[0]);
    assert_no_content("FCM", &fcm[0].body, &forbidden);
    // One message, one wake-up each.
    tokio::time::sleep(QUIET).await;
    assert_eq!(app.apns.request_count(), 1, "{:?}", app.apns.requests());
    assert_eq!(app.fcm.request_count(), 1, "{:?}", app.fcm.requests());

    // The device handles the push: the message is fetched, stored and previewed.
    let report = alice.client.wake(WakeOptions::default()).await.unwrap();
    assert!(report.complete, "{report:?}");
    let shown = report
        .notifications
        .iter()
        .find(|n| n.preview == "the plan for tuesday")
        .unwrap_or_else(|| panic!("no notification for the message: {report:?}"));
    assert_eq!(shown.conversation, bob.jid);
    assert!(shown.sender_name.is_some(), "{shown:?}");
    let stored = alice.client.message(shown.message_id).unwrap().unwrap();
    assert_eq!(stored.body, "the plan for tuesday");
    let report = carol.client.wake(WakeOptions::default()).await.unwrap();
    assert!(
        report
            .notifications
            .iter()
            .any(|n| n.preview == "carol's recipe"),
        "{report:?}"
    );
}
on_both_servers_and_stores!(an_offline_message_wakes_the_device);

/// Nothing registers while notifications are not permitted; withdrawing the permission removes
/// the registration from the app server and the user's server stops publishing.
async fn permission_gates_registration(server: TestServer, store: StoreKind) {
    let app = AppServer::start(&server, store).await;
    let registrations = app.store.open().await;
    let mut bob = connected(&server, "bob").await;
    let mut alice = connected(&server, "alice").await;
    befriend(&mut alice, &mut bob).await;
    let token = apns_token("");
    let status = alice
        .client
        .set_push(PushSettings {
            permitted: false,
            token: Some(token.clone()),
            platform: PushPlatform::Apns { sandbox: false },
            app_server: Some(app.jid.clone()),
        })
        .await
        .unwrap();
    assert!(!status.registered, "{status:?}");
    alice.client.disconnect().await;
    send_and_ack(&bob, &alice.jid, "not permitted").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(app.apns.request_count(), 0);
    assert_eq!(app.stats().registered, 0);
    assert_eq!(registrations.count().await.unwrap(), 0);

    alice.client.connect().await.unwrap();
    let status = alice.client.set_push_permitted(true).await.unwrap();
    assert!(
        status.registered && status.enabled_on_current_session,
        "{status:?}"
    );
    assert_eq!(registrations.count().await.unwrap(), 1);
    alice.client.disconnect().await;
    send_and_ack(&bob, &alice.jid, "permitted").await;
    assert_eq!(app.apns.wait_for_requests(1).await[0].token, token);

    alice.client.connect().await.unwrap();
    let status = alice.client.set_push_permitted(false).await.unwrap();
    assert!(!status.registered, "{status:?}");
    assert_eq!(registrations.count().await.unwrap(), 0);
    alice.client.disconnect().await;
    send_and_ack(&bob, &alice.jid, "withdrawn").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(app.apns.request_count(), 1, "{:?}", app.apns.requests());
}
on_both_servers_and_stores!(permission_gates_registration);

/// A publish whose secret is not the registration's (here: the device's stored secret was
/// tampered with, so its server publishes the wrong one) is refused and forwards nothing.
async fn a_wrong_secret_is_refused(server: TestServer, store: StoreKind) {
    let app = AppServer::start(&server, store).await;
    let mut bob = connected(&server, "bob").await;
    let mut alice = connected(&server, "alice").await;
    befriend(&mut alice, &mut bob).await;
    enable_push(&alice, &app, PushPlatform::Fcm, &fcm_token("")).await;
    alice.client.disconnect().await;
    FileSecretStore::new(alice.dir.path().join("secrets.json"))
        .set(
            &format!("{}#push", alice.jid),
            &Secret::from(random_hex(16).as_str()),
        )
        .unwrap();
    // The next session enables push again, now with the wrong secret.
    alice.client.connect().await.unwrap();
    let status = alice.client.reconcile_push().await;
    assert!(status.enabled_on_current_session, "{status:?}");
    alice.client.disconnect().await;

    send_and_ack(&bob, &alice.jid, "with a wrong secret").await;
    stats_reach(&app, "a refused publish", |s| s.refused > 0).await;
    assert_eq!(app.fcm.request_count(), 0, "{:?}", app.fcm.requests());
    assert_eq!(app.stats().forwarded, 0);
}
on_both_servers_and_stores!(a_wrong_secret_is_refused);

/// APNs answers 410 Unregistered and FCM UNREGISTERED: the app server deletes the registration,
/// and a later message makes no request to either service.
async fn an_unregistered_token_removes_the_registration(server: TestServer, store: StoreKind) {
    let app = AppServer::start(&server, store).await;
    let registrations = app.store.open().await;
    let mut bob = connected(&server, "bob").await;
    let mut alice = connected(&server, "alice").await;
    let mut carol = connected(&server, "carol").await;
    befriend(&mut alice, &mut bob).await;
    befriend(&mut carol, &mut bob).await;
    enable_push(
        &alice,
        &app,
        PushPlatform::Apns { sandbox: false },
        &apns_token("0410"),
    )
    .await;
    enable_push(&carol, &app, PushPlatform::Fcm, &fcm_token("-unregistered")).await;
    assert_eq!(registrations.count().await.unwrap(), 2);
    alice.client.disconnect().await;
    carol.client.disconnect().await;

    send_and_ack(&bob, &alice.jid, "to a dead token").await;
    send_and_ack(&bob, &carol.jid, "to another dead token").await;
    assert_eq!(app.apns.wait_for_requests(1).await[0].status, 410);
    app.fcm.wait_for_requests(1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while registrations.count().await.unwrap() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the registrations stay: {:?}",
            app.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stats_reach(&app, "both tokens gone", |s| s.token_gone == 2).await;

    send_and_ack(&bob, &alice.jid, "again").await;
    send_and_ack(&bob, &carol.jid, "again").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(app.apns.request_count(), 1, "{:?}", app.apns.requests());
    assert_eq!(app.fcm.request_count(), 1, "{:?}", app.fcm.requests());
}
on_both_servers_and_stores!(an_unregistered_token_removes_the_registration);

/// Two linnet-push instances share one PostgreSQL behind one component address: a device
/// registered through the first is still pushed when only the second runs (on Prosody the
/// second stands by until the first stops; on ejabberd both serve the address at once).
async fn two_instances_share_registrations(server: TestServer) {
    let first = AppServer::start(&server, StoreKind::Postgres).await;
    let second = AppServer::beside(&server, &first).await;
    let mut bob = connected(&server, "bob").await;
    let mut alice = connected(&server, "alice").await;
    befriend(&mut alice, &mut bob).await;
    let token = apns_token("");
    enable_push(
        &alice,
        &first,
        PushPlatform::Apns { sandbox: false },
        &token,
    )
    .await;
    alice.client.disconnect().await;
    first.stop().await;
    second.connected().await;

    send_and_ack(&bob, &alice.jid, "through the second instance").await;
    let requests = second.apns.wait_for_requests(1).await;
    assert_eq!(requests[0].token, token);
    // The fake has the request a moment before the instance has its answer.
    stats_reach(&second, "the second instance forwarded it", |s| {
        s.forwarded == 1
    })
    .await;
}
linnet_tests::on_both_servers!(two_instances_share_registrations);
