//! "Who may say this?" (security.md 1-4 and 7): forged and malformed carbons, carbons that were
//! never enabled, legitimate carbons, roster pushes from strangers. Each case runs the SDK
//! against a scripted fake server and checks the store and the events.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_sdk::{ClientEvent, MessageState};
use linnet_store::Direction;
use linnet_tests::fake_server::*;

/// A carbon wrapper (`received` or `sent`) around an inner message.
fn carbon(outer_from: &str, to: &str, kind: &str, inner: &str) -> String {
    format!(
        "<message from='{outer_from}' to='{to}' type='chat'><{kind} xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></{kind}></message>"
    )
}

fn inner_message(from: &str, to: &str, id: &str, body: &str) -> String {
    format!(
        "<message xmlns='jabber:client' from='{from}' to='{to}' type='chat' id='{id}'><body>{body}</body></message>"
    )
}

fn message_events(events: &[ClientEvent]) -> Vec<&ClientEvent> {
    events
        .iter()
        .filter(|e| matches!(e, ClientEvent::Message(_)))
        .collect()
}

/// Case 1: a carbon whose outer `from` is not our own bare JID (a stranger, our own full JID,
/// our server) is dropped: nothing stored, no event. Without the check, the forged inner message
/// "from bob" would be stored.
#[tokio::test]
async fn forged_carbons_from_anyone_but_our_bare_jid_are_dropped() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let forged_senders = [
            "mallory@evil.example/x".to_string(),
            "mallory@evil.example".to_string(),
            format!("{}/other-device", s.jid()),
            s.domain(),
        ];
        for (i, outer) in forged_senders.iter().enumerate() {
            let received = inner_message("bob@fake.test/phone", &me, &format!("r{i}"), "forged");
            s.send(&carbon(outer, &me, "received", &received)).await;
            let sent = inner_message(
                &format!("{}/laptop", s.jid()),
                "bob@fake.test",
                &format!("s{i}"),
                "forged",
            );
            s.send(&carbon(outer, &me, "sent", &sent)).await;
        }
        let answered = s.barrier().await;
        assert!(
            answered.is_empty(),
            "the client answered a forged carbon: {answered:?}"
        );
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    // After the script's barrier, every forged stanza has been handled.
    server.wait_for("handled").await;
    c.assert_nothing_stored();
    c.client.disconnect().await;
    server.finish().await;
}

/// Case 2: carbons were never enabled (the server refused the enable request), so even a
/// carbon that comes from our own bare JID is dropped.
#[tokio::test]
async fn carbons_are_dropped_when_carbons_were_never_enabled() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session(Basics {
            carbons: false,
            ..Basics::default()
        })
        .await;
        let me = s.full_jid();
        let own = s.jid();
        let received = inner_message("bob@fake.test/phone", &me, "r1", "unsolicited received");
        s.send(&carbon(&own, &me, "received", &received)).await;
        let sent = inner_message(
            &format!("{own}/laptop"),
            "bob@fake.test",
            "s1",
            "unsolicited sent",
        );
        s.send(&carbon(&own, &me, "sent", &sent)).await;
        s.barrier().await;
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    server.wait_for("handled").await;
    c.assert_nothing_stored();
    c.client.disconnect().await;
    server.finish().await;
}

/// Case 3: legitimate carbons (outer from = our bare JID, carbons enabled) are accepted: a sent
/// carbon is stored as our outgoing message to the peer, a received carbon as incoming.
#[tokio::test]
async fn legitimate_carbons_are_stored_with_the_right_direction() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let own = s.jid();
        let sent = inner_message(
            &format!("{own}/laptop"),
            "bob@fake.test",
            "s1",
            "sent from my laptop",
        );
        s.send(&carbon(&own, &me, "sent", &sent)).await;
        let received = inner_message(
            "carol@fake.test/phone",
            &format!("{own}/laptop"),
            "r1",
            "carol wrote to my laptop",
        );
        s.send(&carbon(&own, &me, "received", &received)).await;
        let answered = s.barrier().await;
        assert!(
            answered.is_empty(),
            "no receipt for a carbon (carol is not a contact either): {answered:?}"
        );
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    server.wait_for("handled").await;

    let bob = c.client.history("bob@fake.test", 10, None).unwrap();
    assert_eq!(bob.len(), 1, "{bob:?}");
    assert_eq!(bob[0].body, "sent from my laptop");
    assert_eq!(bob[0].direction, Direction::Outgoing);
    assert_eq!(bob[0].state, MessageState::Acked);
    assert!(bob[0].is_carbon);

    let carol = c.client.history("carol@fake.test", 10, None).unwrap();
    assert_eq!(carol.len(), 1, "{carol:?}");
    assert_eq!(carol[0].direction, Direction::Incoming);
    assert_eq!(carol[0].body, "carol wrote to my laptop");

    assert_eq!(message_events(&c.drain_events()).len(), 2);
    c.client.disconnect().await;
    server.finish().await;
}

/// Case 4: one level of unwrapping only, and the inner message must be well-formed: a carbon
/// inside a carbon, a forwarded message without `from`, a wrapper without a forwarded message,
/// a sent carbon of a message someone else sent, a received carbon of a message to someone else.
#[tokio::test]
async fn nested_and_malformed_carbon_wrappers_are_dropped() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let own = s.jid();
        // A received carbon whose inner message is itself a carbon (of bob's "message").
        let innermost = inner_message("bob@fake.test/phone", &me, "n0", "nested");
        let nested_inner = format!(
            "<message xmlns='jabber:client' from='{own}' to='{me}' type='chat' id='n1'>\
             <body>outer of nested</body><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>{innermost}</forwarded></received></message>"
        );
        s.send(&carbon(&own, &me, "received", &nested_inner)).await;
        // The forwarded message has no sender.
        let no_from = format!(
            "<message xmlns='jabber:client' to='{me}' type='chat' id='n2'><body>who am I</body></message>"
        );
        s.send(&carbon(&own, &me, "received", &no_from)).await;
        // No forwarded message at all.
        s.send(&format!(
            "<message from='{own}' to='{me}' type='chat'><received xmlns='urn:xmpp:carbons:2'>\
             <forwarded xmlns='urn:xmpp:forward:0'/></received><body>outer body</body></message>"
        ))
        .await;
        // A "sent" carbon of a message that mallory sent.
        let not_ours = inner_message("mallory@evil.example/x", "bob@fake.test", "n3", "not mine");
        s.send(&carbon(&own, &me, "sent", &not_ours)).await;
        // A "received" carbon of a message addressed to someone else.
        let not_to_us = inner_message("bob@fake.test/phone", "dave@fake.test", "n4", "not for me");
        s.send(&carbon(&own, &me, "received", &not_to_us)).await;
        s.barrier().await;
        s.signal("handled");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    server.wait_for("handled").await;
    c.assert_nothing_stored();
    c.client.disconnect().await;
    server.finish().await;
}

fn roster_push(from: Option<&str>, id: &str, jid: &str, ver: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<iq type='set' id='{id}'{from}><query xmlns='jabber:iq:roster' ver='{ver}'>\
         <item jid='{jid}' subscription='both' name='{jid}'/></query></iq>"
    )
}

/// Case 7: a roster push from a stranger, from our own full JID or from the server domain is
/// ignored (the store is unchanged, no result is sent; an error would be acceptable); a
/// push without `from` or from our bare JID is applied and answered.
#[tokio::test]
async fn roster_pushes_from_anyone_but_our_account_are_ignored() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session(Basics {
            roster: vec!["alice@fake.test".into()],
            ..Basics::default()
        })
        .await;
        let own_full_other = format!("{}/other-device", s.jid());
        let forged = [
            ("p1", "mallory@evil.example/x"),
            ("p2", "mallory@evil.example"),
            ("p3", own_full_other.as_str()),
            ("p4", "fake.test"),
        ];
        for (id, from) in forged {
            s.send(&roster_push(Some(from), id, "eve@evil.example", "v-evil"))
                .await;
        }
        let answered = s.barrier().await;
        for e in &answered {
            assert!(
                !(e.name() == "iq" && e.attr("type") == Some("result")),
                "a forged roster push was acknowledged: {}",
                show(e)
            );
        }
        s.signal("forged handled");
        s.wait_for("forged checked").await;

        s.send(&roster_push(None, "p5", "carol@fake.test", "2"))
            .await;
        let e = s.expect("iq").await;
        assert_eq!(e.attr("id"), Some("p5"));
        assert_eq!(e.attr("type"), Some("result"));
        // From our own bare JID is allowed too (RFC 6121 2.1.6).
        let own = s.jid();
        s.send(&roster_push(Some(&own), "p6", "dave@fake.test", "3"))
            .await;
        let e = s.expect("iq").await;
        assert_eq!(e.attr("id"), Some("p6"));
        assert_eq!(e.attr("type"), Some("result"));
        s.barrier().await;
        s.signal("legit handled");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    let jids = |c: &FakeClient| -> Vec<String> {
        let mut v: Vec<String> = c
            .client
            .roster()
            .unwrap()
            .into_iter()
            .map(|x| x.jid)
            .collect();
        v.sort();
        v
    };
    assert_eq!(jids(&c), ["alice@fake.test"]);
    let _ = c.drain_events();

    server.wait_for("forged handled").await;
    assert_eq!(
        jids(&c),
        ["alice@fake.test"],
        "a forged push changed the roster"
    );
    let roster_version = c
        .linnet
        .store()
        .account(c.account_id())
        .unwrap()
        .unwrap()
        .roster_version;
    assert_eq!(
        roster_version.as_deref(),
        Some("1"),
        "a forged push changed the version"
    );
    assert!(
        !c.drain_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::RosterChanged)),
        "RosterChanged for a forged push"
    );
    server.signal("forged checked");

    server.wait_for("legit handled").await;
    assert_eq!(
        jids(&c),
        ["alice@fake.test", "carol@fake.test", "dave@fake.test"]
    );
    assert!(
        c.drain_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::RosterChanged))
    );
    c.client.disconnect().await;
    server.finish().await;
}
