//! One-to-one messaging, roster and subscriptions, receipts, markers, carbons, typing and the
//! outbox against the real servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use linnet_sdk::{ChatState, ClientEvent, LinnetError, MessageState};
use linnet_store::Subscription;
use linnet_tests::*;

async fn message_goes_sent_acked_delivered_displayed(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;

    let id = alice
        .client
        .send_message(&bob.jid, "  hello bob \n")
        .unwrap();
    let acked = alice
        .client
        .wait_for_state(id, MessageState::Acked, Duration::from_secs(20))
        .await
        .unwrap();
    assert_ne!(acked.state, MessageState::Failed);

    let alice_jid = alice.jid.clone();
    let received = bob
        .expect("message", |e| match e {
            ClientEvent::Message(m) if m.peer == alice_jid => Some(m.clone()),
            _ => None,
        })
        .await;
    assert_eq!(received.body, "hello bob", "whitespace is trimmed");
    assert!(
        received.server_id.is_some(),
        "own server's stanza-id is kept"
    );

    let delivered = alice
        .client
        .wait_for_state(id, MessageState::Delivered, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(delivered.state, MessageState::Delivered);

    bob.client.mark_read(&alice.jid).unwrap();
    let displayed = alice
        .client
        .wait_for_state(id, MessageState::Displayed, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(displayed.state, MessageState::Displayed);

    // Both stores hold the conversation.
    let history = bob.client.history(&alice.jid, 10, None).unwrap();
    assert_eq!(history.len(), 1);
    let chats = alice.client.chats().unwrap();
    assert_eq!(chats[0].conversation.peer, bob.jid);
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(message_goes_sent_acked_delivered_displayed);

async fn strangers_get_no_receipts(server: TestServer) {
    let alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    let id = alice.send_acked(&bob.jid, "hi stranger").await;
    bob.expect_message_from(&alice.jid).await;
    // A receipt would reveal bob is online to someone not in his roster.
    let waited = alice
        .client
        .wait_for_state(id, MessageState::Delivered, Duration::from_secs(2))
        .await;
    assert!(
        matches!(waited, Err(LinnetError::Timeout { .. })),
        "{waited:?}"
    );
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(strangers_get_no_receipts);

async fn subscription_requests_can_be_denied_and_contacts_removed(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    alice
        .client
        .add_contact(&bob.jid, Some("Bob"))
        .await
        .unwrap();
    let alice_jid = alice.jid.clone();
    bob.expect("subscription request", |e| {
        matches!(e, ClientEvent::SubscriptionRequest { from } if *from == alice_jid).then_some(())
    })
    .await;
    assert_eq!(bob.client.subscription_requests().unwrap().len(), 1);
    bob.client.deny(&alice.jid).unwrap();
    assert!(bob.client.subscription_requests().unwrap().is_empty());
    let bob_jid = bob.jid.clone();
    alice.expect("denial", |e| matches!(e, ClientEvent::Subscription { from, kind } if *from == bob_jid && kind == "denied").then_some(())).await;
    let b = bob.jid.clone();
    alice
        .eventually("the pending request is gone once denied", |c| {
            c.roster().unwrap().iter().any(|x| {
                x.jid == b
                    && !x.ask
                    && x.subscription == Subscription::None
                    && x.name.as_deref() == Some("Bob")
            })
        })
        .await;

    alice.client.remove_contact(&bob.jid).await.unwrap();
    alice
        .expect("roster push", |e| {
            matches!(e, ClientEvent::RosterChanged).then_some(())
        })
        .await;
    alice
        .eventually("the contact is removed", |c| {
            !c.roster().unwrap().iter().any(|x| x.jid == b)
        })
        .await;
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(subscription_requests_can_be_denied_and_contacts_removed);

async fn carbons_keep_two_devices_in_step(server: TestServer) {
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let mut phone = client_for(&server, &alice_jid, &alice_pw, Mode::StartTls);
    let mut laptop = client_for(&server, &alice_jid, &alice_pw, Mode::DirectTls);
    phone.client.connect().await.unwrap();
    laptop.client.connect().await.unwrap();
    let bob = connected(&server, "bob").await;

    // Bob writes to alice's bare JID: both devices store it.
    bob.client
        .send_message(&alice_jid, "to both devices")
        .unwrap();
    let bob_jid = bob.jid.clone();
    for device in [&mut phone, &mut laptop] {
        let m = device
            .expect("bob's message", |e| match e {
                ClientEvent::Message(m) if m.peer == bob_jid => Some(m.clone()),
                _ => None,
            })
            .await;
        assert_eq!(m.body, "to both devices");
    }

    // The phone writes to bob: the laptop gets a sent carbon stored as outgoing.
    phone
        .client
        .send_message(&bob.jid, "from my phone")
        .unwrap();
    let copy = laptop
        .expect("sent carbon", |e| match e {
            ClientEvent::Message(m)
                if m.peer == bob_jid && m.direction == linnet_store::Direction::Outgoing =>
            {
                Some(m.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(copy.body, "from my phone");
    assert!(copy.is_carbon);
    phone.client.disconnect().await;
    laptop.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(carbons_keep_two_devices_in_step);

async fn typing_notifications_arrive(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    alice
        .client
        .send_chat_state(&bob.jid, ChatState::Composing)
        .unwrap();
    let alice_jid = alice.jid.clone();
    let state = bob
        .expect("typing", |e| match e {
            ClientEvent::ChatState { peer, state } if *peer == alice_jid => Some(state.clone()),
            _ => None,
        })
        .await;
    assert_eq!(state, "composing");
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(typing_notifications_arrive);

async fn outbox_survives_a_restart(server: TestServer) {
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let mut bob = connected(&server, "bob").await;
    let alice = client_for(&server, &alice_jid, &alice_pw, Mode::StartTls);
    // Offline: the message is stored, queued.
    let id = alice
        .client
        .send_message(&bob.jid, "written offline")
        .unwrap();
    assert_eq!(
        alice.linnet.store().message(id).unwrap().unwrap().state,
        MessageState::Queued
    );
    // "Restart": drop everything, reopen the same data dir.
    let TestClient {
        dir,
        linnet,
        client,
        ..
    } = alice;
    drop(client);
    drop(linnet);
    let alice = client_in(dir, &server, &alice_jid, &alice_pw, Mode::StartTls);
    alice.client.connect().await.unwrap();
    let m = alice
        .client
        .wait_for_state(id, MessageState::Acked, Duration::from_secs(20))
        .await
        .unwrap();
    assert_ne!(m.state, MessageState::Failed);
    let alice_bare = alice_jid.clone();
    let got = bob
        .expect("queued message", |e| match e {
            ClientEvent::Message(m) if m.peer == alice_bare => Some(m.body.clone()),
            _ => None,
        })
        .await;
    assert_eq!(got, "written offline");
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(outbox_survives_a_restart);

async fn oversized_message_fails_locally_and_the_session_lives_on(server: TestServer) {
    let alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    let huge = "x".repeat(300 * 1024);
    let err = alice.client.send_message(&bob.jid, &huge).unwrap_err();
    assert!(matches!(err, LinnetError::TooLarge { .. }), "{err:?}");
    let failed = alice.client.history(&bob.jid, 1, None).unwrap();
    assert_eq!(
        failed[0].state,
        MessageState::Failed,
        "the failure is visible, not silent"
    );
    alice.send_acked(&bob.jid, "small one").await;
    bob.expect_message_from(&alice.jid).await;
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(oversized_message_fails_locally_and_the_session_lives_on);

async fn roster_version_is_kept_and_contacts_survive_reconnects(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    alice.client.disconnect().await;
    let version = alice
        .linnet
        .store()
        .account(alice.client.account().id)
        .unwrap()
        .unwrap()
        .roster_version;
    if server.name == "prosody" {
        // Prosody does roster versioning (RFC 6121 §2.6); the version is stored for the next login.
        assert!(version.is_some(), "roster version stored");
    }
    alice.client.connect().await.unwrap();
    let contacts = alice.client.roster().unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].jid, bob.jid);
    assert_eq!(contacts[0].subscription, Subscription::Both);
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(roster_version_is_kept_and_contacts_survive_reconnects);

async fn addresses_are_normalised_into_one_conversation(server: TestServer) {
    let alice = connected(&server, "alice").await;
    let bob = connected(&server, "bob").await;
    let shouting = bob.jid.to_uppercase();
    let first = alice.client.send_message(&shouting, "one").unwrap();
    let second = alice
        .client
        .send_message(&format!("  {} ", bob.jid), "two")
        .unwrap();
    alice
        .client
        .wait_for_state(second, MessageState::Acked, Duration::from_secs(20))
        .await
        .unwrap();
    let chats = alice.client.chats().unwrap();
    assert_eq!(chats.len(), 1, "one conversation for one contact");
    assert_eq!(chats[0].conversation.peer, bob.jid);
    let history = alice.client.history(&bob.jid, 10, None).unwrap();
    assert_eq!(
        history.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    assert!(matches!(
        alice.client.send_message("not a jid@@", "x"),
        Err(LinnetError::InvalidAddress { .. })
    ));
    assert!(matches!(
        alice.client.send_message(&bob.jid, "  \n "),
        Err(LinnetError::EmptyMessage)
    ));
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(addresses_are_normalised_into_one_conversation);

async fn presence_flows_between_contacts_and_can_be_cancelled(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    // Bob reconnects: alice sees him go and come back.
    bob.client.disconnect().await;
    let bob_jid = bob.jid.clone();
    alice.expect("bob unavailable", |e| matches!(e, ClientEvent::Presence { from, available: false, .. } if from.starts_with(&bob_jid)).then_some(())).await;
    bob.client.connect().await.unwrap();
    alice.expect("bob available", |e| matches!(e, ClientEvent::Presence { from, available: true, .. } if from.starts_with(&bob_jid)).then_some(())).await;
    // Alice stops following bob's presence: her roster entry drops to "from".
    alice.client.cancel_subscription(&bob.jid).unwrap();
    let b = bob.jid.clone();
    alice
        .eventually("the subscription drops to 'from'", |c| {
            c.roster()
                .unwrap()
                .iter()
                .any(|x| x.jid == b && x.subscription == Subscription::From)
        })
        .await;
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(presence_flows_between_contacts_and_can_be_cancelled);

/// The server bounces a message (no such user; a domain it cannot reach): the message is
/// Failed with a reason a person can act on, not left hanging or dropped, and `retry` sends it
/// again (same id) with the same visible outcome.
async fn bounced_messages_fail_with_a_reason_and_can_be_retried(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let nobody = format!("{}@{}", unique_name("nobody"), server.domain);
    // A server without federation to that domain may say so (ejabberd: forbidden by its s2s
    // access rule) rather than try to reach it.
    let cases: [(&str, &[&str]); 2] = [
        (nobody.as_str(), &["the recipient is unavailable"]),
        (
            "someone@unreachable.invalid",
            &["cannot be reached", "not allowed to message"],
        ),
    ];
    for (to, expected) in cases {
        let id = alice.client.send_message(to, "hello?").unwrap();
        let m = alice
            .client
            .wait_for_state(id, MessageState::Failed, Duration::from_secs(10))
            .await
            .unwrap();
        let reason = m.failure_reason.clone().unwrap_or_default();
        eprintln!("chat: {}: to {to}: failed with {reason:?}", server.name);
        assert_eq!(m.state, MessageState::Failed, "to {to}");
        assert!(
            expected.iter().any(|e| reason.contains(e)),
            "to {to}: {reason:?}"
        );
        let attempts = m.attempts;
        alice.client.retry(id).unwrap();
        alice
            .eventually("the retry bounced too", |c| {
                c.message(id)
                    .unwrap()
                    .is_some_and(|m| m.state == MessageState::Failed && m.attempts == attempts + 1)
            })
            .await;
    }
    alice.client.disconnect().await;
}
on_both_servers!(bounced_messages_fail_with_a_reason_and_can_be_retried);
