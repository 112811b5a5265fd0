//! The push wake-up path (issue 8) against the real servers: a device that synced and went
//! away is woken in a new client on the same data directory (as an iOS Notification Service
//! Extension or an Android push receiver would be); the wake stores what arrived and returns
//! the notifications per the preview preference, the calls that still ring, and closes the
//! database while the app holds it open too. `linnet wake --json` runs the same path.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_sdk::client::wake_and_close;
use linnet_sdk::store::CallEndReason;
use linnet_sdk::{Linnet, NotificationPreview, Preferences, WakeOptions, WakeReport};
use linnet_tests::calls::{ended, tone_audio};
use linnet_tests::cli::{json_lines, linnet};
use linnet_tests::{TestClient, TestServer, befriend, connected, on_both_servers};

fn previews(report: &WakeReport) -> Vec<&str> {
    report
        .notifications
        .iter()
        .map(|n| n.preview.as_str())
        .collect()
}

/// A client of the account in `dir`, as a new process would open it.
fn fresh_client(dir: &std::path::Path, jid: &str) -> linnet_sdk::Client {
    Linnet::open(dir).unwrap().client(Some(jid)).unwrap()
}

fn set_preview(client: &linnet_sdk::Client, preview: NotificationPreview) {
    client
        .set_preferences(Preferences {
            notification_preview: preview,
            ..client.preferences().unwrap()
        })
        .unwrap();
}

/// Alice synced, then her device went away; Bob (a contact, "Bob Builder" in her roster) and
/// a stranger write. Three wakes, one per preview preference.
async fn wake_stores_and_notifies(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    let stranger = connected(&server, "stranger").await;
    befriend(&mut alice, &mut bob).await;
    alice
        .client
        .add_contact(&bob.jid, Some("Bob Builder"))
        .await
        .unwrap();
    let bob_jid = bob.jid.clone();
    alice
        .eventually("Bob's roster name", |c| {
            c.roster()
                .unwrap()
                .iter()
                .any(|x| x.jid == bob_jid && x.name.as_deref() == Some("Bob Builder"))
        })
        .await;
    // Seen before the last sync: never a notification.
    bob.send_acked(&alice.jid, "seen before the last sync")
        .await;
    alice.expect_message_from(&bob.jid).await;
    alice.client.sync_archive().await.unwrap();
    alice.client.disconnect().await;
    let TestClient {
        dir,
        jid: alice_jid,
        ..
    } = alice;

    stranger.send_acked(&alice_jid, "hello from nowhere").await;
    let sent = ["first while away", "second while away", "third while away"];
    for body in sent {
        bob.send_acked(&alice_jid, body).await;
    }

    // The app keeps the database open while the extension wakes (they share the file).
    let app = fresh_client(dir.path(), &alice_jid);
    let report = wake_and_close(
        Linnet::open(dir.path()).unwrap(),
        Some(&alice_jid),
        WakeOptions::default(),
    )
    .await
    .unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(previews(&report), sent, "{report:?}");
    for n in &report.notifications {
        assert_eq!(n.conversation, bob.jid);
        assert_eq!(n.sender_name.as_deref(), Some("Bob Builder"));
        assert!(!n.from_stranger);
    }
    assert_eq!(report.new_messages, 4, "Bob's three and the stranger's");
    assert_eq!(report.requests, 1, "the stranger's, stored, not shown");
    assert!(report.calls.is_empty());
    assert!(report.unread_total >= 4, "{report:?}");

    // Stored: the app reads them through its own connection, and a new client opens the file.
    for n in &report.notifications {
        let m = app.message(n.message_id).unwrap().unwrap();
        assert_eq!(m.body, n.preview);
    }
    let mut history: Vec<String> = app
        .history(&bob.jid, 10, None)
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect();
    history.reverse();
    assert_eq!(
        history,
        [
            "seen before the last sync",
            "first while away",
            "second while away",
            "third while away"
        ],
        "each once, in order"
    );
    let another = fresh_client(dir.path(), &alice_jid);
    let from_stranger = another.history(&stranger.jid, 10, None).unwrap();
    assert_eq!(from_stranger.len(), 1);
    assert_eq!(from_stranger[0].body, "hello from nowhere");

    // Sender only, with message requests shown.
    set_preview(&app, NotificationPreview::SenderOnly);
    bob.send_acked(&alice_jid, "fourth while away").await;
    stranger.send_acked(&alice_jid, "hello again").await;
    let waker = fresh_client(dir.path(), &alice_jid);
    let report = waker
        .wake(WakeOptions {
            notify_requests: true,
            ..WakeOptions::default()
        })
        .await
        .unwrap();
    drop(waker);
    assert!(report.complete, "{report:?}");
    assert_eq!(report.notifications.len(), 2, "{report:?}");
    let (from_bob, from_nowhere) = (&report.notifications[0], &report.notifications[1]);
    assert_eq!(from_bob.sender_name.as_deref(), Some("Bob Builder"));
    assert_eq!(from_bob.preview, "New message");
    assert!(!from_bob.from_stranger);
    assert_eq!(from_nowhere.conversation, stranger.jid);
    assert_eq!(
        from_nowhere.sender_name.as_deref(),
        Some(stranger.jid.as_str())
    );
    assert_eq!(from_nowhere.preview, "New message");
    assert!(from_nowhere.from_stranger);
    assert_eq!((report.new_messages, report.requests), (2, 1));

    // Hidden: no sender, no content; nothing from the earlier wakes again.
    set_preview(&app, NotificationPreview::Hidden);
    bob.send_acked(&alice_jid, "fifth while away").await;
    let report = fresh_client(dir.path(), &alice_jid)
        .wake(WakeOptions::default())
        .await
        .unwrap();
    assert_eq!(report.notifications.len(), 1, "{report:?}");
    let n = &report.notifications[0];
    assert_eq!(n.sender_name, None);
    assert_eq!(n.preview, "New message");
    assert_eq!(n.conversation, bob.jid, "the conversation to open");
    assert_eq!(
        app.message(n.message_id).unwrap().unwrap().body,
        "fifth while away"
    );
}
on_both_servers!(wake_stores_and_notifies);

/// A call proposed (XEP-0353) while Bob was away rings in the wake's report while it is still
/// proposed; one retracted before the wake does not.
async fn wake_reports_a_call_that_still_rings(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    bob.client.disconnect().await;
    let TestClient {
        dir, jid: bob_jid, ..
    } = bob;

    let (audio, _) = tone_audio(440.0);
    let ringing = alice.client.place_call(&bob_jid, audio).await.unwrap();
    // A round trip behind the proposal: the server has stored it.
    alice.client.doctor().await.unwrap();
    let report = fresh_client(dir.path(), &bob_jid)
        .wake(WakeOptions::default())
        .await
        .unwrap();
    assert_eq!(report.calls.len(), 1, "{report:?}");
    assert_eq!(report.calls[0].call_id, ringing);
    assert_eq!(report.calls[0].peer, alice.jid);
    assert_eq!(
        report.calls[0].caller_name.as_deref(),
        Some(alice.jid.as_str())
    );
    alice.client.hang_up(&ringing).unwrap();
    ended(&mut alice, &ringing).await;

    let (audio, _) = tone_audio(440.0);
    let retracted = alice.client.place_call(&bob_jid, audio).await.unwrap();
    alice.client.hang_up(&retracted).unwrap();
    alice.client.doctor().await.unwrap();
    let bob_again = fresh_client(dir.path(), &bob_jid);
    let report = bob_again.wake(WakeOptions::default()).await.unwrap();
    assert!(report.calls.is_empty(), "a retracted call rang: {report:?}");
    let log = bob_again.call_log(5).unwrap();
    let entry = log.iter().find(|c| c.session_id == retracted).unwrap();
    assert_eq!(entry.end_reason, Some(CallEndReason::Missed));
}
on_both_servers!(wake_reports_a_call_that_still_rings);

/// `linnet wake --json`: the report as one JSON object; then nothing new.
async fn cli_wake_prints_the_notifications(server: TestServer) {
    let mut me = connected(&server, "cliwake").await;
    let mut peer = connected(&server, "clipeer").await;
    befriend(&mut me, &mut peer).await;
    me.client.sync_archive().await.unwrap();
    me.client.disconnect().await;
    let TestClient { dir, jid, .. } = me;
    peer.send_acked(&jid, "first for the cli").await;
    peer.send_acked(&jid, "second for the cli").await;

    let out = linnet(dir.path(), &["--json", "wake", "--timeout", "15"], "");
    let report = json_lines(&out).pop().unwrap();
    assert_eq!(report["type"], "wake", "{report}");
    assert_eq!(report["complete"], true, "{report}");
    assert_eq!(report["new_messages"], 2, "{report}");
    let notifications = report["notifications"].as_array().unwrap();
    let shown: Vec<&str> = notifications
        .iter()
        .map(|n| n["preview"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["first for the cli", "second for the cli"]);
    for n in notifications {
        assert_eq!(n["conversation"], peer.jid.as_str());
        assert_eq!(n["sender_name"], peer.jid.as_str());
        assert_eq!(n["from_stranger"], false);
        assert!(n["message_id"].is_i64());
    }
    let again = linnet(dir.path(), &["wake"], "");
    assert_eq!(String::from_utf8_lossy(&again.stdout), "nothing new\n");
}
on_both_servers!(cli_wake_prints_the_notifications);

/// A wake in a process whose client is online (an Android receiver in the app's process)
/// leaves it online, and one whose supervisor keeps it online while it happens to be offline
/// leaves the supervisor on.
async fn wake_leaves_an_online_client_online(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    bob.send_acked(&alice.jid, "while online").await;
    alice.expect_message_from(&bob.jid).await;
    let report = alice.client.wake(WakeOptions::default()).await.unwrap();
    assert!(report.complete, "{report:?}");
    assert!(
        report.notifications.is_empty(),
        "the message came before the wake: {report:?}"
    );
    assert_eq!(
        alice.client.connection_state(),
        linnet_sdk::ConnectionState::Online
    );
    bob.send_acked(&alice.jid, "still online").await;
    let m = alice.expect_message_from(&bob.jid).await;
    assert_eq!(m.body, "still online");
}
on_both_servers!(wake_leaves_an_online_client_online);

/// A deadline that comes before anything could be fetched: the wake returns an incomplete
/// report (no error), offline, and the next wake with time to spare gets the message.
async fn wake_stops_at_its_deadline(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    alice.client.sync_archive().await.unwrap();
    alice.client.disconnect().await;
    let TestClient {
        dir,
        jid: alice_jid,
        ..
    } = alice;
    bob.send_acked(&alice_jid, "after the deadline").await;

    let hurried = fresh_client(dir.path(), &alice_jid);
    let report = hurried
        .wake(WakeOptions {
            deadline: std::time::Duration::ZERO,
            ..WakeOptions::default()
        })
        .await
        .unwrap();
    assert!(!report.complete, "{report:?}");
    assert!(report.notifications.is_empty(), "{report:?}");
    assert_eq!(
        hurried.connection_state(),
        linnet_sdk::ConnectionState::Offline
    );
    drop(hurried);

    let report = fresh_client(dir.path(), &alice_jid)
        .wake(WakeOptions::default())
        .await
        .unwrap();
    assert!(report.complete, "{report:?}");
    assert_eq!(previews(&report), ["after the deadline"]);
}
on_both_servers!(wake_stops_at_its_deadline);
