#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Barrier};

use tempfile::TempDir;

use crate::*;

const ME: &str = "me@example.org";
const ALICE: &str = "alice@example.org";
const MALLORY: &str = "mallory@evil.example";
const BOB: &str = "bob@example.org";

fn new_account(jid: &str) -> NewAccount {
    NewAccount {
        jid: jid.into(),
        resource: "linnet.abcd".into(),
        settings: ConnectionSettings::default(),
    }
}

fn setup() -> (Store, i64) {
    let store = Store::open_in_memory().unwrap();
    let id = store.create_account(&new_account(ME)).unwrap().id;
    (store, id)
}

fn file_store() -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linnet.db");
    (dir, path)
}

fn incoming(acc: i64, from: &str, id: &str, body: &str, ts: i64) -> NewMessage {
    NewMessage {
        xmpp_id: Some(id.into()),
        ..NewMessage::incoming(acc, from, body, ts)
    }
}

fn send(store: &Store, acc: i64, to: &str, id: &str, ts: i64) -> i64 {
    let m = NewMessage::outgoing(acc, ME, to, id, "hi", ts);
    store.insert_message(&m).unwrap().id()
}

fn state(store: &Store, id: i64) -> MessageState {
    store.message(id).unwrap().unwrap().state
}

fn count_messages(store: &Store) -> i64 {
    store
        .conn()
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn store_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
}

#[test]
fn fresh_db_is_migrated_and_reopen_keeps_data() {
    let (_dir, path) = file_store();
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(SCHEMA_VERSION, schema::MIGRATIONS.len() as i64);
        store.create_account(&new_account(ME)).unwrap();
    }
    // Migrations use plain CREATE TABLE: re-running them would fail.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.accounts().unwrap().len(), 1);
}

#[test]
fn future_schema_is_refused() {
    let (_dir, path) = file_store();
    drop(Store::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    match Store::open(&path) {
        Err(StoreError::UnsupportedSchema { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected UnsupportedSchema, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn wal_and_foreign_keys_on() {
    let (_dir, path) = file_store();
    let store = Store::open(&path).unwrap();
    let conn = store.conn();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: bool = conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert!(fk);
}

#[test]
fn no_secret_columns_anywhere() {
    let (store, _) = setup();
    let conn = store.conn();
    let mut tables = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .unwrap();
    let tables: Vec<String> = tables
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() >= 6);
    for table in tables {
        let mut cols = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .unwrap();
        let cols: Vec<String> = cols
            .query_map([&table], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for col in cols {
            let c = col.to_lowercase();
            for bad in ["pass", "secret", "pwd", "credential"] {
                assert!(!c.contains(bad), "{table}.{col} looks like a secret");
            }
        }
    }
}

#[test]
fn account_roundtrip_and_scram_seen_persists() {
    let (_dir, path) = file_store();
    let id = {
        let store = Store::open(&path).unwrap();
        let acc = store
            .create_account(&NewAccount {
                settings: ConnectionSettings {
                    server_override: Some(ServerOverride {
                        host: "xmpp.example.org".into(),
                        port: 5223,
                    }),
                    direct_tls: true,
                    extra_ca_pem: Some("-----BEGIN CERTIFICATE-----".into()),
                },
                ..new_account(ME)
            })
            .unwrap();
        assert!(!acc.scram_seen);
        assert!(store.create_account(&new_account(ME)).is_err());
        store.mark_scram_seen(acc.id).unwrap();
        acc.id
    };
    let store = Store::open(&path).unwrap();
    assert!(store.scram_seen(id).unwrap());
    let acc = store.account_by_jid(ME).unwrap().unwrap();
    assert_eq!(acc.id, id);
    assert!(acc.scram_seen);
    assert_eq!(acc.settings.server_override.as_ref().unwrap().port, 5223);
    assert!(acc.settings.direct_tls);
    assert!(matches!(
        store.mark_scram_seen(id + 100),
        Err(StoreError::NotFound(_))
    ));
    store
        .update_connection_settings(id, &ConnectionSettings::default())
        .unwrap();
    assert_eq!(
        store.account(id).unwrap().unwrap().settings,
        ConnectionSettings::default()
    );
    let bad = ConnectionSettings {
        server_override: Some(ServerOverride {
            host: String::new(),
            port: 0,
        }),
        ..Default::default()
    };
    assert!(matches!(
        store.update_connection_settings(id, &bad),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn roster_replace_push_remove() {
    let (store, acc) = setup();
    let item = |jid: &str, sub| RosterItem {
        jid: jid.into(),
        name: Some(jid.split('@').next().unwrap().into()),
        subscription: sub,
        ask: false,
        groups: vec!["Friends".into()],
    };
    store
        .apply_roster_push(acc, &item("old@x", Subscription::Both), None)
        .unwrap();
    store
        .replace_roster(
            acc,
            &[
                item(ALICE, Subscription::Both),
                item("bob@x", Subscription::To),
            ],
            Some("v1"),
        )
        .unwrap();
    let contacts = store.contacts(acc).unwrap();
    assert_eq!(
        contacts.iter().map(|c| c.jid.as_str()).collect::<Vec<_>>(),
        [ALICE, "bob@x"]
    );
    assert_eq!(contacts[0].groups, ["Friends"]);
    assert_eq!(
        store
            .account(acc)
            .unwrap()
            .unwrap()
            .roster_version
            .as_deref(),
        Some("v1")
    );

    let mut bob = item("bob@x", Subscription::To);
    bob.ask = true;
    bob.groups = vec![];
    store.apply_roster_push(acc, &bob, Some("v2")).unwrap();
    let stored = store.contact(acc, "bob@x").unwrap().unwrap();
    assert!(stored.ask);
    assert!(stored.groups.is_empty());

    store
        .apply_roster_push(acc, &item(ALICE, Subscription::Remove), Some("v3"))
        .unwrap();
    assert!(store.contact(acc, ALICE).unwrap().is_none());
    // A push without a version keeps the stored one.
    store
        .apply_roster_push(acc, &item("carol@x", Subscription::None), None)
        .unwrap();
    assert_eq!(
        store
            .account(acc)
            .unwrap()
            .unwrap()
            .roster_version
            .as_deref(),
        Some("v3")
    );
    assert_eq!(store.contacts(acc).unwrap().len(), 2);
    assert!(matches!(
        store.replace_roster(acc + 1, &[], None),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn subscription_requests_insert_if_absent() {
    let (store, acc) = setup();
    assert!(store.add_subscription_request(acc, ALICE).unwrap());
    let first = store.subscription_requests(acc).unwrap();
    assert!(!store.add_subscription_request(acc, ALICE).unwrap());
    assert_eq!(store.subscription_requests(acc).unwrap(), first);
    assert!(store.remove_subscription_request(acc, ALICE).unwrap());
    assert!(!store.remove_subscription_request(acc, ALICE).unwrap());
    assert!(store.subscription_requests(acc).unwrap().is_empty());
}

#[test]
fn dedupe_by_server_id_and_fill_in() {
    let (store, acc) = setup();
    let live = incoming(acc, ALICE, "m1", "hello", 1000);
    let first = store.insert_message(&live).unwrap();
    assert!(first.is_new());
    // The archive copy arrives later with our server's stanza-id.
    let archived = NewMessage {
        server_id: Some("arch-1".into()),
        ..live.clone()
    };
    assert_eq!(
        store.insert_message(&archived).unwrap(),
        InsertOutcome::Duplicate(first.id())
    );
    assert_eq!(
        store
            .message(first.id())
            .unwrap()
            .unwrap()
            .server_id
            .as_deref(),
        Some("arch-1")
    );
    // The same archive id on another message (ejabberd stamps ids by the microsecond, and two
    // messages can share one): both are kept.
    let other = NewMessage {
        server_id: Some("arch-1".into()),
        ..incoming(acc, ALICE, "zz", "different", 5)
    };
    let twin = store.insert_message(&other).unwrap();
    assert!(twin.is_new());
    // ... and each of the two is a duplicate of itself.
    assert_eq!(
        store.insert_message(&other).unwrap(),
        InsertOutcome::Duplicate(twin.id())
    );
    assert_eq!(
        store.insert_message(&archived).unwrap(),
        InsertOutcome::Duplicate(first.id())
    );
    assert_eq!(count_messages(&store), 2);
    assert_eq!(
        store
            .conversation(acc, ALICE)
            .unwrap()
            .unwrap()
            .unread_count,
        2
    );
}

#[test]
fn dedupe_by_content_not_by_id_alone() {
    let (store, acc) = setup();
    let m = incoming(acc, ALICE, "id1", "hello", 1000);
    let id = store.insert_message(&m).unwrap().id();
    assert_eq!(
        store.insert_message(&m).unwrap(),
        InsertOutcome::Duplicate(id)
    );
    // A stranger reusing the id must not suppress anything.
    assert!(
        store
            .insert_message(&incoming(acc, MALLORY, "id1", "hello", 1000))
            .unwrap()
            .is_new()
    );
    // Same sender, same id, other body: a different message.
    assert!(
        store
            .insert_message(&incoming(acc, ALICE, "id1", "other", 1000))
            .unwrap()
            .is_new()
    );
    // origin-id takes precedence over the id attribute.
    let with_origin = NewMessage {
        origin_id: Some("o1".into()),
        ..incoming(acc, ALICE, "a", "x", 1)
    };
    let oid = store.insert_message(&with_origin).unwrap().id();
    let same_origin = NewMessage {
        origin_id: Some("o1".into()),
        ..incoming(acc, ALICE, "b", "x", 2)
    };
    assert_eq!(
        store.insert_message(&same_origin).unwrap(),
        InsertOutcome::Duplicate(oid)
    );
    // No id at all (or an empty one): never deduplicated.
    let bare = NewMessage::incoming(acc, ALICE, "ok", 3);
    assert!(store.insert_message(&bare).unwrap().is_new());
    assert!(store.insert_message(&bare).unwrap().is_new());
    let empty = incoming(acc, ALICE, "", "ok", 3);
    assert!(store.insert_message(&empty).unwrap().is_new());
    assert!(store.insert_message(&empty).unwrap().is_new());
    assert_eq!(count_messages(&store), 8);
}

#[test]
fn concurrent_duplicate_inserts_give_one_row() {
    let (_dir, path) = file_store();
    let acc = Store::open(&path)
        .unwrap()
        .create_account(&new_account(ME))
        .unwrap()
        .id;
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let path = path.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                // Separate connections: the guarantee is the database's.
                let store = Store::open(&path).unwrap();
                let m = incoming(acc, ALICE, "race", "hello", 1);
                barrier.wait();
                (0..20)
                    .map(|_| store.insert_message(&m).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<InsertOutcome> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_new()).count(), 1);
    let id = outcomes[0].id();
    assert!(outcomes.iter().all(|o| o.id() == id));
    let store = Store::open(&path).unwrap();
    assert_eq!(count_messages(&store), 1);
    assert_eq!(
        store
            .conversation(acc, ALICE)
            .unwrap()
            .unwrap()
            .unread_count,
        1
    );
}

#[test]
fn states_are_monotonic() {
    let (store, acc) = setup();
    let id = send(&store, acc, ALICE, "s1", 1);
    assert_eq!(state(&store, id), MessageState::Queued);
    assert!(store.mark_sent(id).unwrap());
    assert!(!store.mark_sent(id).unwrap());
    assert_eq!(store.mark_delivered(acc, ALICE, "s1").unwrap(), Some(id));
    // A late stream-management ack changes nothing.
    assert!(!store.mark_acked(id).unwrap());
    assert_eq!(state(&store, id), MessageState::Delivered);
    assert_eq!(store.mark_displayed(acc, ALICE, "s1").unwrap(), [id]);
    assert_eq!(store.mark_delivered(acc, ALICE, "s1").unwrap(), None);
    assert!(!store.mark_failed(id, "late error").unwrap());
    assert!(!store.retry(id).unwrap());
    let msg = store.message(id).unwrap().unwrap();
    assert_eq!(msg.state, MessageState::Displayed);
    assert_eq!(msg.attempts, 1);
    assert_eq!(msg.failure_reason, None);

    // Failure, retry, and a late ack that must not hide a failure (servers acknowledge a
    // message after bouncing it).
    let id2 = send(&store, acc, ALICE, "s2", 2);
    store.mark_sent(id2).unwrap();
    assert!(store.mark_failed(id2, "timeout").unwrap());
    let msg = store.message(id2).unwrap().unwrap();
    assert_eq!(
        (msg.state, msg.failure_reason.as_deref()),
        (MessageState::Failed, Some("timeout"))
    );
    assert!(store.retry(id2).unwrap());
    assert_eq!(state(&store, id2), MessageState::Queued);
    store.mark_sent(id2).unwrap();
    store.mark_failed(id2, "again").unwrap();
    assert!(!store.mark_acked(id2).unwrap());
    let msg = store.message(id2).unwrap().unwrap();
    assert_eq!(
        (msg.state, msg.attempts, msg.failure_reason.as_deref()),
        (MessageState::Failed, 2, Some("again"))
    );

    // Outgoing transitions never touch incoming messages.
    let inc = store
        .insert_message(&incoming(acc, ALICE, "i", "yo", 3))
        .unwrap()
        .id();
    assert!(!store.mark_sent(inc).unwrap());
    assert!(!store.mark_failed(inc, "x").unwrap());
    assert_eq!(state(&store, inc), MessageState::Received);
    // Invalid combinations are rejected.
    let bad = NewMessage {
        state: MessageState::Sent,
        ..NewMessage::incoming(acc, ALICE, "x", 1)
    };
    assert!(matches!(
        store.insert_message(&bad),
        Err(StoreError::Invalid(_))
    ));
}

#[test]
fn displayed_marks_earlier_messages() {
    let (store, acc) = setup();
    let a = send(&store, acc, ALICE, "a", 10);
    let b = send(&store, acc, ALICE, "b", 20);
    let c = send(&store, acc, ALICE, "c", 30);
    let never_sent = send(&store, acc, ALICE, "q", 15);
    let other = send(&store, acc, "bob@x", "o", 5);
    for id in [a, b, c, other] {
        store.mark_sent(id).unwrap();
    }
    store.mark_delivered(acc, ALICE, "a").unwrap();
    let mut changed = store.mark_displayed(acc, ALICE, "b").unwrap();
    changed.sort();
    assert_eq!(changed, [a, b]);
    assert_eq!(state(&store, c), MessageState::Sent);
    assert_eq!(state(&store, never_sent), MessageState::Queued);
    assert_eq!(state(&store, other), MessageState::Sent);
    assert!(store.mark_displayed(acc, ALICE, "nope").unwrap().is_empty());
}

#[test]
fn receipt_from_wrong_conversation_is_ignored() {
    let (store, acc) = setup();
    let id = send(&store, acc, ALICE, "secret-id", 1);
    store.mark_sent(id).unwrap();
    assert_eq!(
        store.mark_delivered(acc, MALLORY, "secret-id").unwrap(),
        None
    );
    assert!(
        store
            .mark_displayed(acc, MALLORY, "secret-id")
            .unwrap()
            .is_empty()
    );
    assert_eq!(state(&store, id), MessageState::Sent);
    // Nor does an incoming message with that id from the right peer count.
    store
        .insert_message(&incoming(acc, ALICE, "in-id", "x", 2))
        .unwrap();
    assert_eq!(store.mark_delivered(acc, ALICE, "in-id").unwrap(), None);
}

#[test]
fn outbox_order_counts_and_survives_reopen() {
    let (_dir, path) = file_store();
    let (acc, ids) = {
        let store = Store::open(&path).unwrap();
        let acc = store.create_account(&new_account(ME)).unwrap().id;
        let ids: Vec<i64> = (0..4)
            .map(|i| send(&store, acc, ALICE, &format!("o{i}"), 100 - i))
            .collect();
        store.mark_sent(ids[1]).unwrap();
        (acc, ids)
    };
    let store = Store::open(&path).unwrap();
    let pending: Vec<i64> = store
        .pending_outbox(acc)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(pending, [ids[0], ids[2], ids[3]]);
    let first = &store.pending_outbox(acc).unwrap()[0];
    assert_eq!(
        (first.peer.as_str(), first.xmpp_id.as_deref()),
        (ALICE, Some("o0"))
    );
    store.mark_sent(ids[0]).unwrap();
    store.mark_failed(ids[0], "bounce").unwrap();
    store.mark_acked(ids[1]).unwrap();
    assert_eq!(
        store.outbox_counts(acc).unwrap(),
        OutboxCounts {
            queued: 2,
            acked: 1,
            failed: 1,
            ..Default::default()
        }
    );
}

#[test]
fn unread_counts_mark_read_and_chat_list_order() {
    let (store, acc) = setup();
    store
        .replace_roster(
            acc,
            &[RosterItem {
                jid: ALICE.into(),
                name: Some("Alice".into()),
                subscription: Subscription::Both,
                ask: false,
                groups: vec![],
            }],
            None,
        )
        .unwrap();
    store
        .insert_message(&incoming(acc, ALICE, "1", "one", 100))
        .unwrap();
    let last_in = store
        .insert_message(&incoming(acc, ALICE, "2", "two", 200))
        .unwrap()
        .id();
    send(&store, acc, ALICE, "3", 250);
    store
        .insert_message(&incoming(acc, "bob@x", "1", "b", 300))
        .unwrap();
    // An old archived message neither reorders nor becomes the preview.
    store
        .insert_message(&incoming(acc, ALICE, "0", "zero", 50))
        .unwrap();

    let list = store.chat_list(acc).unwrap();
    let peers: Vec<&str> = list.iter().map(|s| s.conversation.peer.as_str()).collect();
    assert_eq!(peers, ["bob@x", ALICE]);
    let alice = &list[1];
    assert_eq!(alice.name.as_deref(), Some("Alice"));
    assert_eq!(alice.conversation.unread_count, 3);
    assert_eq!(alice.conversation.last_activity, 250);
    let last = alice.last_message.as_ref().unwrap();
    assert_eq!(
        (last.body.as_str(), last.direction),
        ("hi", Direction::Outgoing)
    );

    let marked = store.mark_read(acc, ALICE).unwrap().unwrap();
    assert_eq!(marked.id, last_in);
    assert_eq!(marked.xmpp_id.as_deref(), Some("2"));
    assert_eq!(state(&store, last_in), MessageState::Displayed);
    assert_eq!(
        store
            .conversation(acc, ALICE)
            .unwrap()
            .unwrap()
            .unread_count,
        0
    );
    assert_eq!(store.mark_read(acc, ALICE).unwrap(), None);
    assert_eq!(store.mark_read(acc, "nobody@x").unwrap(), None);

    // Opening a chat creates it at the top without reordering existing ones.
    let conv = store.get_or_create_conversation(acc, "new@x").unwrap();
    assert_eq!(store.chat_list(acc).unwrap()[0].conversation, conv);
    assert!(store.chat_list(acc).unwrap()[0].last_message.is_none());
    let again = store.get_or_create_conversation(acc, ALICE).unwrap();
    assert_eq!(again.last_activity, 250);
}

#[test]
fn history_pages_newest_first() {
    let (store, acc) = setup();
    let ids: Vec<i64> = (0..5)
        .map(|i| {
            store
                .insert_message(&incoming(acc, ALICE, &i.to_string(), "m", i * 10))
                .unwrap()
                .id()
        })
        .collect();
    let page1 = store.history(acc, ALICE, 2, None).unwrap();
    assert_eq!(
        page1.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    let page2 = store.history(acc, ALICE, 2, Some(ids[3])).unwrap();
    assert_eq!(
        page2.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[2], ids[1]]
    );
    let page3 = store.history(acc, ALICE, 2, Some(ids[1])).unwrap();
    assert_eq!(page3.iter().map(|m| m.id).collect::<Vec<_>>(), [ids[0]]);
    assert!(store.history(acc, "bob@x", 10, None).unwrap().is_empty());
}

#[test]
fn session_state_kv() {
    let (store, acc) = setup();
    assert_eq!(store.get_state(acc, "sm").unwrap(), None);
    store.set_state(acc, "sm", "a").unwrap();
    store.set_state(acc, "sm", "b").unwrap();
    assert_eq!(store.get_state(acc, "sm").unwrap().as_deref(), Some("b"));
    assert!(store.delete_state(acc, "sm").unwrap());
    assert!(!store.delete_state(acc, "sm").unwrap());
    assert!(store.set_state(acc + 1, "sm", "x").is_err());
}

#[test]
fn deleting_an_account_cascades() {
    let (store, acc) = setup();
    send(&store, acc, ALICE, "x", 1);
    store.set_state(acc, "k", "v").unwrap();
    store.delete_account(acc).unwrap();
    assert_eq!(count_messages(&store), 0);
    assert!(store.chat_list(acc).unwrap().is_empty());
    assert!(matches!(
        store.delete_account(acc),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn unacknowledged_messages_go_back_to_the_outbox_and_others_stay() {
    let (store, acc) = setup();
    let sent = send(&store, acc, ALICE, "m1", 1);
    let acked = send(&store, acc, ALICE, "m2", 2);
    let queued = send(&store, acc, ALICE, "m3", 3);
    store.mark_sent(sent).unwrap();
    store.mark_sent(acked).unwrap();
    store.mark_acked(acked).unwrap();
    assert_eq!(store.requeue_unacknowledged(acc).unwrap(), 1);
    assert_eq!(state(&store, sent), MessageState::Queued);
    assert_eq!(state(&store, acked), MessageState::Acked);
    let pending: Vec<i64> = store
        .pending_outbox(acc)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(pending, vec![sent, queued], "oldest first, resent in order");
}

#[test]
fn one_ack_settles_many_messages_in_one_go() {
    let (store, acc) = setup();
    let a = send(&store, acc, ALICE, "a1", 1);
    let b = send(&store, acc, ALICE, "a2", 2);
    let delivered = send(&store, acc, ALICE, "a3", 3);
    for id in [a, b, delivered] {
        store.mark_sent(id).unwrap();
    }
    store.mark_delivered(acc, ALICE, "a3").unwrap();
    let changed = store.mark_acked_many(&[a, b, delivered, 9999]).unwrap();
    assert_eq!(
        changed,
        vec![(a, ALICE.to_string()), (b, ALICE.to_string())]
    );
    assert_eq!(
        state(&store, delivered),
        MessageState::Delivered,
        "never goes back"
    );
}

fn archived(acc: i64, from: &str, server_id: &str, body: &str, ts: i64) -> NewMessage {
    NewMessage {
        server_id: Some(server_id.into()),
        ..NewMessage::incoming(acc, from, body, ts)
    }
}

fn bodies_oldest_first(store: &Store, acc: i64, peer: &str) -> Vec<String> {
    let mut page = store.history(acc, peer, 100, None).unwrap();
    page.reverse();
    page.into_iter().map(|m| m.body).collect()
}

#[test]
fn older_history_sorts_before_stored_messages_of_the_same_second() {
    let (store, acc) = setup();
    // The newest page came first; both pages share one archive second (Prosody stamps seconds).
    let newest: Vec<NewMessage> = (3..6)
        .map(|i| archived(acc, ALICE, &format!("a{i}"), &format!("m{i}"), 1000))
        .collect();
    store
        .insert_messages(&newest, Placement::ArchiveNewer)
        .unwrap();
    let older: Vec<NewMessage> = (0..3)
        .map(|i| archived(acc, ALICE, &format!("a{i}"), &format!("m{i}"), 1000))
        .collect();
    let outcomes = store
        .insert_messages(&older, Placement::ArchiveOlder)
        .unwrap();
    assert!(outcomes.iter().all(|o| o.is_new()));
    assert_eq!(
        bodies_oldest_first(&store, acc, ALICE),
        ["m0", "m1", "m2", "m3", "m4", "m5"]
    );
    // A live duplicate changes nothing.
    let again = store.insert_messages(&older, Placement::Live).unwrap();
    assert!(again.iter().all(|o| !o.is_new()));
    assert_eq!(count_messages(&store), 6);
    assert_eq!(
        bodies_oldest_first(&store, acc, ALICE)[..3],
        ["m0", "m1", "m2"]
    );
    // And the next batch of older history still goes before.
    store
        .insert_messages(
            &[archived(acc, ALICE, "z", "older still", 1000)],
            Placement::ArchiveOlder,
        )
        .unwrap();
    assert_eq!(bodies_oldest_first(&store, acc, ALICE)[0], "older still");
}

#[test]
fn a_batch_with_one_invalid_message_stores_nothing() {
    let (store, acc) = setup();
    let mut bad = archived(acc, ALICE, "b", "x", 1);
    bad.sender = String::new();
    let batch = [archived(acc, ALICE, "a", "ok", 1), bad];
    assert!(store.insert_messages(&batch, Placement::Live).is_err());
    assert_eq!(count_messages(&store), 0);
}

#[test]
fn archive_cursor_and_gaps_move_together() {
    let (store, acc) = setup();
    assert_eq!(
        store.archive_cursor(acc).unwrap(),
        ArchiveCursor::NeverSynced
    );
    let gap = store
        .open_archive_gap(acc, None, Some("n1"), Some(Some("n9")))
        .unwrap();
    assert_eq!(
        store.archive_cursor(acc).unwrap(),
        ArchiveCursor::After(Some("n9".into()))
    );
    store.archive_gap_fetched_before(acc, gap.id, "k1").unwrap();
    let catch_up = store.open_archive_gap(acc, Some("n9"), None, None).unwrap();
    store
        .archive_gap_fetched_after(acc, catch_up.id, "p5", true)
        .unwrap();
    let gaps = store.archive_gaps(acc).unwrap();
    assert_eq!(gaps.len(), 2);
    assert_eq!(
        (gaps[0].after_id.as_deref(), gaps[0].before_id.as_deref()),
        (None, Some("k1"))
    );
    assert_eq!(
        (gaps[1].after_id.as_deref(), gaps[1].before_id.as_deref()),
        (Some("p5"), None)
    );
    assert_eq!(
        store.archive_cursor(acc).unwrap(),
        ArchiveCursor::After(Some("p5".into()))
    );
    assert!(store.close_archive_gap(acc, gap.id).unwrap());
    assert!(!store.close_archive_gap(acc, gap.id).unwrap());
    assert_eq!(store.archive_gaps(acc).unwrap().len(), 1);
    // An empty archive: the next catch-up starts at its beginning.
    let (store, acc) = setup();
    store.open_archive_gap(acc, None, None, Some(None)).unwrap();
    assert_eq!(
        store.archive_cursor(acc).unwrap(),
        ArchiveCursor::After(None)
    );
}

#[test]
fn oldest_archive_id_and_history_complete_per_conversation() {
    let (store, acc) = setup();
    assert_eq!(store.oldest_archive_id(acc, ALICE).unwrap(), None);
    store
        .insert_messages(
            &[
                NewMessage::incoming(acc, ALICE, "no id yet", 1),
                archived(acc, ALICE, "a2", "two", 2),
                archived(acc, ALICE, "a3", "three", 3),
            ],
            Placement::Live,
        )
        .unwrap();
    assert_eq!(
        store.oldest_archive_id(acc, ALICE).unwrap().as_deref(),
        Some("a2")
    );
    assert_eq!(store.archived_at(acc, "a3").unwrap(), Some(3));
    assert!(!store.history_complete(acc, ALICE).unwrap());
    store.set_history_complete(acc, ALICE, true).unwrap();
    assert!(store.history_complete(acc, ALICE).unwrap());
    assert!(!store.history_complete(acc, MALLORY).unwrap());
}

#[test]
fn an_archive_page_puts_live_duplicates_in_its_order() {
    let (store, acc) = setup();
    // The newest page came first; then the live offline delivery brought the older messages of
    // the same second (Prosody stamps whole seconds), so they arrived last.
    let page: Vec<NewMessage> = (2..5)
        .map(|i| archived(acc, ALICE, &format!("a{i}"), &format!("m{i}"), 1000))
        .collect();
    store
        .insert_messages(&page, Placement::ArchiveNewer)
        .unwrap();
    for i in 0..2 {
        store
            .insert_message(&archived(
                acc,
                ALICE,
                &format!("a{i}"),
                &format!("m{i}"),
                1000,
            ))
            .unwrap();
    }
    assert_eq!(
        bodies_oldest_first(&store, acc, ALICE),
        ["m2", "m3", "m4", "m0", "m1"]
    );
    // Older history from the archive covers them: the archive's order wins.
    let older: Vec<NewMessage> = (0..2)
        .map(|i| archived(acc, ALICE, &format!("a{i}"), &format!("m{i}"), 1000))
        .collect();
    let outcomes = store
        .insert_messages(&older, Placement::ArchiveOlder)
        .unwrap();
    assert!(outcomes.iter().all(|o| !o.is_new()));
    assert_eq!(
        bodies_oldest_first(&store, acc, ALICE),
        ["m0", "m1", "m2", "m3", "m4"]
    );
    // And a catch-up page that covers a message moves it after what came before it.
    store
        .insert_message(&archived(acc, ALICE, "a6", "m6", 1000))
        .unwrap();
    store
        .insert_messages(
            &[
                archived(acc, ALICE, "a5", "m5", 1000),
                archived(acc, ALICE, "a6", "m6", 1000),
            ],
            Placement::ArchiveNewer,
        )
        .unwrap();
    assert_eq!(
        bodies_oldest_first(&store, acc, ALICE),
        ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]
    );
}

#[test]
fn chat_list_ties_on_time_go_by_the_archive_order_of_the_last_messages() {
    let (store, acc) = setup();
    // Mallory's conversation is the older one...
    store
        .insert_message(&archived(acc, MALLORY, "a0", "earlier", 500))
        .unwrap();
    store
        .insert_message(&archived(acc, ALICE, "a00", "earlier too", 600))
        .unwrap();
    // ... but in this archive second, mallory's message is the newer one.
    store
        .insert_messages(
            &[
                archived(acc, ALICE, "a1", "from alice", 1000),
                archived(acc, MALLORY, "a2", "from mallory", 1000),
            ],
            Placement::ArchiveNewer,
        )
        .unwrap();
    let peers: Vec<String> = store
        .chat_list(acc)
        .unwrap()
        .into_iter()
        .map(|c| c.conversation.peer)
        .collect();
    assert_eq!(peers, [MALLORY, ALICE]);
}

#[test]
fn an_archive_page_gives_live_rows_the_archive_time() {
    let (store, acc) = setup();
    // Received live, stamped when it arrived (to the ms); the next message only came with the
    // archive, stamped to the whole second it was archived in.
    let live = store
        .insert_message(&archived(acc, ALICE, "a1", "first", 5_021))
        .unwrap();
    store
        .insert_messages(
            &[
                archived(acc, ALICE, "a1", "first", 5_000),
                archived(acc, ALICE, "a2", "second", 5_000),
            ],
            Placement::ArchiveNewer,
        )
        .unwrap();
    assert_eq!(store.message(live.id()).unwrap().unwrap().timestamp, 5_000);
    assert_eq!(bodies_oldest_first(&store, acc, ALICE), ["first", "second"]);
}

fn upload(acc: i64, id: &str, file: &str) -> NewMessage {
    NewMessage {
        attachment: Some(NewAttachment {
            direction: TransferDirection::Upload,
            url: None,
            source_path: Some(format!("/tmp/{file}")),
            file_name: file.into(),
            media_type: Some("image/png".into()),
            size: Some(1234),
            dimensions: Some((640, 480)),
            state: TransferState::Queued,
        }),
        ..NewMessage::outgoing(acc, ME, ALICE, id, file, 1_000)
    }
}

fn download(acc: i64, server_id: &str, url: &str) -> NewMessage {
    NewMessage {
        attachment: Some(NewAttachment {
            direction: TransferDirection::Download,
            url: Some(url.into()),
            source_path: None,
            file_name: "photo.jpg".into(),
            media_type: None,
            size: None,
            dimensions: None,
            state: TransferState::Offered,
        }),
        ..archived(acc, ALICE, server_id, url, 2_000)
    }
}

#[test]
fn a_message_with_a_file_leaves_the_outbox_only_once_the_upload_is_done() {
    let (store, acc) = setup();
    let file = store
        .insert_message(&upload(acc, "f1", "a.png"))
        .unwrap()
        .id();
    let text = send(&store, acc, ALICE, "t1", 1_001);
    let ids = |s: &Store| -> Vec<i64> {
        s.pending_outbox(acc)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect()
    };
    assert_eq!(ids(&store), vec![text], "the text goes, the file waits");
    assert_eq!(
        store
            .queued_uploads(acc)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![file]
    );
    assert!(store.start_transfer(file).unwrap());
    assert!(
        !store.start_transfer(file).unwrap(),
        "only a queued transfer starts"
    );
    assert!(store.queued_uploads(acc).unwrap().is_empty());
    assert!(
        store
            .finish_upload(file, "https://up.example/x/a.png")
            .unwrap()
    );
    let m = store.message(file).unwrap().unwrap();
    assert_eq!(
        m.body, "https://up.example/x/a.png",
        "the URL is the body on the wire"
    );
    let a = m.attachment.unwrap();
    assert_eq!(a.state, TransferState::Done);
    assert_eq!(a.url.as_deref(), Some("https://up.example/x/a.png"));
    assert_eq!(a.local_path.as_deref(), Some("/tmp/a.png"));
    assert_eq!(a.dimensions, Some((640, 480)));
    assert_eq!(a.attempts, 1);
    assert_eq!(ids(&store), vec![file, text]);
}

#[test]
fn a_transient_upload_failure_waits_and_a_permanent_one_fails_until_retried() {
    let (store, acc) = setup();
    let file = store
        .insert_message(&upload(acc, "f1", "a.png"))
        .unwrap()
        .id();
    store.start_transfer(file).unwrap();
    assert!(
        store
            .fail_transfer(file, "network", "reset", Some(99_000))
            .unwrap()
    );
    let a = store.attachment(file).unwrap().unwrap();
    assert_eq!(a.state, TransferState::Queued);
    assert_eq!(a.next_attempt_at, Some(99_000));
    assert_eq!(a.failure_kind.as_deref(), Some("network"));
    store.start_transfer(file).unwrap();
    assert!(
        store
            .fail_transfer(file, "too_large", "over 10 MiB", None)
            .unwrap()
    );
    store.mark_failed(file, "over 10 MiB").unwrap();
    let m = store.message(file).unwrap().unwrap();
    assert_eq!(m.state, MessageState::Failed);
    assert_eq!(m.attachment.as_ref().unwrap().state, TransferState::Failed);
    assert!(store.queued_uploads(acc).unwrap().is_empty());
    assert!(store.queue_transfer(file).unwrap(), "a retry");
    let m = store.message(file).unwrap().unwrap();
    assert_eq!(
        m.state,
        MessageState::Queued,
        "the message is back in the outbox"
    );
    assert_eq!(m.attachment.unwrap().state, TransferState::Queued);
    assert!(!store.queue_transfer(file).unwrap(), "already queued");
}

#[test]
fn transfers_running_at_a_crash_are_queued_again() {
    let (dir, path) = file_store();
    let file = {
        let store = Store::open(&path).unwrap();
        let acc = store.create_account(&new_account(ME)).unwrap().id;
        let file = store
            .insert_message(&upload(acc, "f1", "a.png"))
            .unwrap()
            .id();
        store.start_transfer(file).unwrap();
        file
    };
    let store = Store::open(&path).unwrap();
    let acc = store.account_by_jid(ME).unwrap().unwrap().id;
    assert_eq!(store.requeue_interrupted_transfers(acc).unwrap(), 1);
    assert_eq!(store.queued_uploads(acc).unwrap()[0].id, file);
    // A second client of the account on this store finds the transfer running, not stuck.
    store.start_transfer(file).unwrap();
    assert_eq!(store.requeue_interrupted_transfers(acc).unwrap(), 0);
    assert!(store.queued_uploads(acc).unwrap().is_empty());
    drop(dir);
}

#[test]
fn an_incoming_link_is_offered_then_downloaded_and_its_copies_add_nothing() {
    let (store, acc) = setup();
    let url = "https://up.example/y/photo.jpg";
    let id = store.insert_message(&download(acc, "s1", url)).unwrap();
    assert!(id.is_new());
    let again = store.insert_message(&download(acc, "s1", url)).unwrap();
    assert_eq!(again, InsertOutcome::Duplicate(id.id()));
    let a = store.attachment(id.id()).unwrap().unwrap();
    assert_eq!(a.state, TransferState::Offered);
    assert!(
        store.queued_downloads(acc).unwrap().is_empty(),
        "offered is not queued"
    );
    assert!(
        !store.start_transfer(id.id()).unwrap(),
        "nobody asked for it yet"
    );
    assert!(store.queue_transfer(id.id()).unwrap());
    assert!(
        store
            .set_download_info(id.id(), Some(42), Some("image/jpeg"))
            .unwrap()
    );
    assert!(store.start_transfer(id.id()).unwrap());
    assert!(
        store
            .finish_download(id.id(), "/data/files/abc.jpg", 42, None, Some((1, 2)))
            .unwrap()
    );
    let a = store.attachment(id.id()).unwrap().unwrap();
    assert_eq!(a.state, TransferState::Done);
    assert_eq!(a.local_path.as_deref(), Some("/data/files/abc.jpg"));
    assert_eq!(a.media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(a.size, Some(42));
    assert!(
        !store.cancel_transfer(id.id()).unwrap(),
        "a finished transfer stays done"
    );
    let history = store.history(acc, ALICE, 10, None).unwrap();
    assert!(history[0].attachment.is_some());
}

#[test]
fn a_cancelled_download_can_be_queued_again() {
    let (store, acc) = setup();
    let id = store
        .insert_message(&download(acc, "s1", "https://up.example/z"))
        .unwrap()
        .id();
    store.queue_transfer(id).unwrap();
    store.start_transfer(id).unwrap();
    assert!(store.cancel_transfer(id).unwrap());
    let a = store.attachment(id).unwrap().unwrap();
    assert_eq!(a.state, TransferState::Cancelled);
    assert_eq!(a.failure_kind.as_deref(), Some("cancelled"));
    assert!(store.queue_transfer(id).unwrap());
    assert_eq!(store.queued_downloads(acc).unwrap().len(), 1);
}

#[test]
fn an_attachment_without_its_source_or_url_is_refused() {
    let (store, acc) = setup();
    let mut bad = upload(acc, "f1", "a.png");
    if let Some(a) = bad.attachment.as_mut() {
        a.source_path = None;
    }
    assert!(matches!(
        store.insert_message(&bad),
        Err(StoreError::Invalid(_))
    ));
    assert!(store.message(1).unwrap().is_none(), "nothing half-stored");
}

fn new_call(acc: i64, sid: &str, peer: &str, direction: Direction) -> NewCall {
    NewCall {
        account_id: acc,
        session_id: sid.into(),
        peer: peer.into(),
        direction,
        phone_number: None,
        started_at: 1_000,
        silent: false,
    }
}

#[test]
fn call_log_records_answer_and_first_end_only() {
    let (store, acc) = setup();
    let id = store
        .insert_call(&new_call(acc, "s1", BOB, Direction::Outgoing))
        .unwrap();
    // The same session again (a repeated propose) is the same call.
    assert_eq!(
        store
            .insert_call(&new_call(acc, "s1", BOB, Direction::Outgoing))
            .unwrap(),
        id
    );
    assert!(store.call_answered(id, 2_000).unwrap());
    assert!(!store.call_answered(id, 2_500).unwrap());
    assert!(
        store
            .end_call(id, CallEndReason::RemoteHungUp, 3_000)
            .unwrap()
    );
    assert!(!store.end_call(id, CallEndReason::HungUp, 4_000).unwrap());
    let call = store.call(id).unwrap().unwrap();
    assert_eq!(call.answered_at, Some(2_000));
    assert_eq!(
        (call.ended_at, call.end_reason),
        (Some(3_000), Some(CallEndReason::RemoteHungUp))
    );
    assert!(!call.silent);
}

#[test]
fn call_log_is_newest_first_and_interrupted_calls_end() {
    let (store, acc) = setup();
    let first = store
        .insert_call(&new_call(acc, "s1", BOB, Direction::Incoming))
        .unwrap();
    let second = store
        .insert_call(&NewCall {
            started_at: 5_000,
            silent: true,
            ..new_call(acc, "s2", MALLORY, Direction::Incoming)
        })
        .unwrap();
    store
        .end_call(second, CallEndReason::Stranger, 5_000)
        .unwrap();
    let log = store.calls(acc, 10).unwrap();
    assert_eq!(
        log.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    assert!(log[0].silent);
    assert_eq!(store.end_interrupted_calls(acc, 9_000).unwrap(), 1);
    let call = store.call(first).unwrap().unwrap();
    assert_eq!(call.end_reason, Some(CallEndReason::Interrupted));
    assert_eq!(store.end_interrupted_calls(acc, 9_500).unwrap(), 0);
}
