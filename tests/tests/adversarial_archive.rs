//! A hostile or broken archive (XEP-0313) against the SDK's sync, on a scripted fake server:
//! results that are not ours to accept (another query id, another sender than our own
//! archive), more results than asked for, and a server that repeats a page forever. Real
//! servers do none of this; the real-server archive tests are in `archive_sync.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_sdk::ClientEvent;
use linnet_tests::fake_server::*;
use linnet_xmpp::Element;

const MAM: &str = "urn:xmpp:mam:2";
const RSM: &str = "http://jabber.org/protocol/rsm";

/// One archived message as a result for `query_id`, sent by `from` (None: no `from`, as our own
/// server may send it).
fn result(from: Option<&str>, to: &str, query_id: &str, id: &str, body: &str) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<message{from} to='{to}'><result xmlns='{MAM}' queryid='{query_id}' id='{id}'>\
         <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-11-20T10:00:00Z'/>\
         <message xmlns='jabber:client' from='bob@fake.test/phone' to='{to}' type='chat' id='m-{id}'>\
         <body>{body}</body></message></forwarded></result></message>"
    )
}

fn fin(request: &Element, complete: bool, first: &str, last: &str) -> String {
    let id = request.attr("id").unwrap();
    let set = if first.is_empty() {
        format!("<set xmlns='{RSM}'/>")
    } else {
        format!("<set xmlns='{RSM}'><first>{first}</first><last>{last}</last></set>")
    };
    format!("<iq type='result' id='{id}'><fin xmlns='{MAM}' complete='{complete}'>{set}</fin></iq>")
}

/// The query id and the RSM `after` / `before` of an archive request.
fn query_of(request: &Element) -> (String, Option<String>, Option<String>) {
    let query = request.get_child("query", MAM).unwrap();
    let set = query.get_child("set", RSM).unwrap();
    (
        query.attr("queryid").unwrap().to_string(),
        set.get_child("after", RSM).map(|e| e.text()),
        set.get_child("before", RSM).map(|e| e.text()),
    )
}

fn stored_bodies(c: &FakeClient) -> Vec<String> {
    let mut h = c.client.history("bob@fake.test", 500, None).unwrap();
    h.reverse();
    h.into_iter().map(|m| m.body).collect()
}

/// Results for another query id, or from anyone but our own archive, are dropped, during the
/// query and after it; the genuine ones are stored without a `Message` event.
#[tokio::test]
async fn only_results_of_an_open_query_from_the_own_archive_are_stored() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let own = s.jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, after, before) = query_of(&newest);
        assert_eq!(
            (after, before.as_deref()),
            (None, Some("")),
            "newest page first"
        );
        for forged in [
            result(
                Some("mallory@evil.example"),
                &me,
                &qid,
                "f1",
                "forged by mallory",
            ),
            result(
                Some(&format!("{own}/laptop")),
                &me,
                &qid,
                "f2",
                "forged by a full JID",
            ),
            result(Some("fake.test"), &me, &qid, "f3", "forged by the domain"),
            result(Some(&own), &me, "not-our-query", "f4", "forged query id"),
        ] {
            s.send(&forged).await;
        }
        s.send(&result(None, &me, &qid, "g1", "genuine one")).await;
        s.send(&result(Some(&own), &me, &qid, "g2", "genuine two"))
            .await;
        s.send(&fin(&newest, true, "g1", "g2")).await;
        // A late result for the query that just ended.
        s.send(&result(Some(&own), &me, &qid, "g3", "too late"))
            .await;
        let catch_up = s.expect_iq("set", MAM).await;
        let (_, after, _) = query_of(&catch_up);
        assert_eq!(
            after.as_deref(),
            Some("g1"),
            "the catch-up goes on from before the newest: it comes again (ids can be shared)"
        );
        s.send(&fin(&catch_up, true, "", "")).await;
        s.barrier().await;
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    assert_eq!(stored_bodies(&c), ["genuine one", "genuine two"]);
    assert!(report.complete, "{report:?}");
    assert_eq!((report.fetched, report.stored), (2, 2), "{report:?}");
    assert!(c.client.archive_gaps().unwrap().is_empty());
    let events = c.drain_events();
    assert!(
        !events.iter().any(|e| matches!(e, ClientEvent::Message(_))),
        "archive results raised message events: {events:?}"
    );
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::HistoryChanged { peers } if peers == &["bob@fake.test"])
    ));
    c.client.disconnect().await;
    server.finish().await;
}

/// A page with more results than asked for keeps only as many as asked for.
#[tokio::test]
async fn a_page_larger_than_asked_for_is_cut() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&newest);
        let max: usize = newest
            .get_child("query", MAM)
            .and_then(|q| q.get_child("set", RSM))
            .and_then(|set| set.get_child("max", RSM))
            .map(|m| m.text().parse().unwrap())
            .unwrap();
        for i in 0..max + 7 {
            s.send(&result(
                None,
                &me,
                &qid,
                &format!("r{i:03}"),
                &format!("m{i:03}"),
            ))
            .await;
        }
        s.send(&fin(&newest, true, "r000", &format!("r{:03}", max + 6)))
            .await;
        let catch_up = s.expect_iq("set", MAM).await;
        s.send(&fin(&catch_up, true, "", "")).await;
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    let max = linnet_sdk::ArchiveConfig::default().first_page as usize;
    let bodies = stored_bodies(&c);
    assert_eq!(bodies.len(), max, "{report:?}");
    assert_eq!(bodies.last().unwrap(), &format!("m{:03}", max - 1));
    c.client.disconnect().await;
    server.finish().await;
}

/// A server that answers the next page with the same page again (and never says complete):
/// the catch-up stops instead of looping, keeps what it stored once, and leaves the rest as a
/// gap that the next sync resumes.
#[tokio::test]
async fn a_repeated_page_stops_the_catch_up_with_a_gap() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&newest);
        s.send(&result(None, &me, &qid, "a1", "one")).await;
        s.send(&fin(&newest, true, "a1", "a1")).await;
        let mut last_after = None;
        for _ in 0..2 {
            let page = s.expect_iq("set", MAM).await;
            let (qid, after, _) = query_of(&page);
            last_after = after;
            s.send(&result(None, &me, &qid, "a2", "two")).await;
            s.send(&result(None, &me, &qid, "a3", "three")).await;
            s.send(&fin(&page, false, "a2", "a3")).await;
        }
        assert_eq!(last_after.as_deref(), Some("a2"));
        let more = s.barrier().await;
        assert!(more.is_empty(), "the client kept asking: {more:?}");
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    assert!(!report.complete, "{report:?}");
    assert_eq!(stored_bodies(&c), ["one", "two", "three"]);
    let gaps = c.client.archive_gaps().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        (gaps[0].after_id.as_deref(), gaps[0].before_id.as_deref()),
        (Some("a2"), None)
    );
    c.client.disconnect().await;
    server.finish().await;
}

/// The archive no longer holds the cursor (it expired): the catch-up goes on by time from the
/// cursor's message instead of failing or starting over.
#[tokio::test]
async fn an_expired_cursor_continues_by_time() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&newest);
        s.send(&result(None, &me, &qid, "old-1", "kept")).await;
        s.send(&fin(&newest, true, "old-1", "old-1")).await;
        let catch_up = s.expect_iq("set", MAM).await;
        assert_eq!(query_of(&catch_up).1.as_deref(), Some("old-1"));
        let id = catch_up.attr("id").unwrap();
        s.send(&format!(
            "<iq type='error' id='{id}'><error type='cancel'>\
             <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        ))
        .await;
        let by_time = s.expect_iq("set", MAM).await;
        let (qid, after, _) = query_of(&by_time);
        assert_eq!(after, None, "no id the archive does not know");
        let form = by_time
            .get_child("query", MAM)
            .and_then(|q| q.get_child("x", "jabber:x:data"))
            .unwrap();
        let start = form
            .children()
            .find(|f| f.attr("var") == Some("start"))
            .map(|f| f.children().next().unwrap().text());
        assert_eq!(start.as_deref(), Some("2026-11-20T10:00:00.000Z"));
        s.send(&result(None, &me, &qid, "new-1", "after expiry"))
            .await;
        s.send(&fin(&by_time, true, "new-1", "new-1")).await;
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    assert!(report.complete, "{report:?}");
    assert_eq!(stored_bodies(&c), ["kept", "after expiry"]);
    c.client.disconnect().await;
    server.finish().await;
}

/// ejabberd stamps archive ids by the microsecond: two messages can share one. Both are kept,
/// also when a page ends between them (the next page starts before the last id, not after it).
#[tokio::test]
async fn messages_sharing_an_archive_id_are_all_kept() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&newest);
        s.send(&result(None, &me, &qid, "100", "first")).await;
        s.send(&fin(&newest, true, "100", "100")).await;
        let page = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&page);
        s.send(&result(None, &me, &qid, "200", "twin one in page one"))
            .await;
        s.send(&result(None, &me, &qid, "200", "twin two in page one"))
            .await;
        s.send(&result(None, &me, &qid, "300", "three")).await;
        s.send(&fin(&page, false, "200", "300")).await;
        let next = s.expect_iq("set", MAM).await;
        let (qid, after, _) = query_of(&next);
        assert_eq!(after.as_deref(), Some("200"), "from before the last id");
        s.send(&result(None, &me, &qid, "300", "three")).await;
        s.send(&result(None, &me, &qid, "300", "three's twin in page two"))
            .await;
        s.send(&fin(&next, true, "300", "300")).await;
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    assert!(report.complete, "{report:?}");
    assert_eq!(
        stored_bodies(&c),
        [
            "first",
            "twin one in page one",
            "twin two in page one",
            "three",
            "three's twin in page two"
        ]
    );
    c.client.disconnect().await;
    server.finish().await;
}

/// An empty page that does not say complete: asking again would bring the same, so the
/// catch-up stops with its gap open (and does not ask in a loop).
#[tokio::test]
async fn an_empty_page_that_is_not_complete_stops_the_catch_up() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let newest = s.expect_iq("set", MAM).await;
        s.send(&fin(&newest, true, "", "")).await;
        let page = s.expect_iq("set", MAM).await;
        s.send(&fin(&page, false, "", "")).await;
        let more = s.barrier().await;
        assert!(more.is_empty(), "the client kept asking: {more:?}");
        s.signal("synced");
        s.drain_until_closed().await;
    });
    let c = FakeClient::connected(&server).await;
    let report = c.client.sync_archive().await.unwrap();
    server.wait_for("synced").await;
    assert!(!report.complete, "{report:?}");
    assert_eq!(c.client.archive_gaps().unwrap().len(), 1);
    c.client.disconnect().await;
    server.finish().await;
}

/// The archive query raced a live delivery: the archive stored the message first (no event),
/// then it arrived live. That arrival is announced, once; a second live copy is not.
#[tokio::test]
async fn a_live_message_the_archive_stored_first_is_announced_once() {
    let server = FakeServer::new(|mut s: ServerConn| async move {
        s.login().await;
        s.serve_session_basics().await;
        let me = s.full_jid();
        let own = s.jid();
        let newest = s.expect_iq("set", MAM).await;
        let (qid, _, _) = query_of(&newest);
        s.send(&result(None, &me, &qid, "r1", "raced")).await;
        s.send(&fin(&newest, true, "r1", "r1")).await;
        let catch_up = s.expect_iq("set", MAM).await;
        s.send(&fin(&catch_up, true, "", "")).await;
        s.wait_for("synced").await;
        let live = format!(
            "<message from='bob@fake.test/phone' to='{me}' type='chat' id='m-r1'><body>raced</body>\
             <stanza-id xmlns='urn:xmpp:sid:0' by='{own}' id='r1'/></message>"
        );
        s.send(&live).await;
        s.send(&live).await;
        s.barrier().await;
        s.signal("delivered");
        s.drain_until_closed().await;
    });
    let mut c = FakeClient::connected(&server).await;
    c.client.sync_archive().await.unwrap();
    assert!(
        !c.drain_events()
            .iter()
            .any(|e| matches!(e, ClientEvent::Message(_))),
        "the archive announced a message"
    );
    server.signal("synced");
    server.wait_for("delivered").await;
    let announced: Vec<ClientEvent> = c
        .drain_events()
        .into_iter()
        .filter(|e| matches!(e, ClientEvent::Message(_)))
        .collect();
    assert_eq!(announced.len(), 1, "{announced:?}");
    assert_eq!(stored_bodies(&c), ["raced"]);
    c.client.disconnect().await;
    server.finish().await;
}
