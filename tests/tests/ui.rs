//! The view-model services (linnet-ui) against the real servers: what a screen sees, applying
//! every batch of diffs as a native UI would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_sdk::secrets::{FileSecretStore, SecretStore};
use linnet_sdk::store::NewMessage;
use linnet_sdk::{
    AccountSettings, ClientEvent, ConnectionState, ErrorKind, Linnet, LinnetError, MessageState,
    Preferences, Secret, TransferDirection, TransferState,
};
use linnet_tests::*;
use linnet_ui::diff::apply;
use linnet_ui::{
    ChatList, ChatListItem, ConnectionService, Contacts, Diagnostics, ListListener, Settings,
    Timeline, TimelineAttachment, TimelineItem, TimelineMessage, VecDiff,
};
use rand::RngCore as _;
use tokio::sync::watch;
use tokio::time::Instant;

const WAIT: Duration = Duration::from_secs(20);

/// The list so far, and every batch received.
type Seen<T> = (Vec<T>, Vec<Vec<VecDiff<T>>>);

/// What a UI holds: every batch received, and the list they add up to.
struct Screen<T> {
    seen: Arc<Mutex<Seen<T>>>,
    bumps: watch::Receiver<u64>,
}

impl<T: Clone + std::fmt::Debug + Send + 'static> Screen<T> {
    fn new() -> (Self, ListListener<T>) {
        let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
        let (tx, bumps) = watch::channel(0u64);
        let sink = seen.clone();
        let listener: ListListener<T> = Box::new(move |batch: Vec<VecDiff<T>>| {
            {
                let mut s = sink.lock().unwrap();
                apply(&mut s.0, &batch);
                s.1.push(batch);
            }
            tx.send_modify(|n| *n += 1);
        });
        (Self { seen, bumps }, listener)
    }

    fn list(&self) -> Vec<T> {
        self.seen.lock().unwrap().0.clone()
    }

    fn batches(&self) -> Vec<Vec<VecDiff<T>>> {
        self.seen.lock().unwrap().1.clone()
    }

    /// Waits (up to 20 s) until `check` holds for the list and the batches so far.
    async fn until(&mut self, what: &str, check: impl Fn(&[T], usize) -> bool) -> Vec<T> {
        let deadline = Instant::now() + WAIT;
        loop {
            let (list, batches) = {
                let s = self.seen.lock().unwrap();
                (s.0.clone(), s.1.len())
            };
            if check(&list, batches) {
                return list;
            }
            match tokio::time::timeout_at(deadline, self.bumps.changed()).await {
                Err(_) => panic!("timed out waiting until {what}: {list:#?}"),
                Ok(Err(_)) => panic!("the subscription ended waiting until {what}"),
                Ok(Ok(())) => {}
            }
        }
    }

    /// Waits for the first batch and checks that it is a single `Reset`.
    async fn reset(&mut self) -> Vec<T> {
        self.until("the first batch", |_, n| n >= 1).await;
        let first = self.batches().remove(0);
        assert!(
            matches!(first.as_slice(), [VecDiff::Reset { .. }]),
            "{first:?}"
        );
        self.list()
    }
}

/// States observed in order, for a connection screen.
#[derive(Clone)]
struct States(Arc<Mutex<Vec<ConnectionState>>>, watch::Receiver<u64>);

impl States {
    fn subscribe(service: &ConnectionService) -> (Self, linnet_ui::TaskHandle) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = watch::channel(0u64);
        let sink = seen.clone();
        let handle = service
            .subscribe(Box::new(move |state| {
                sink.lock().unwrap().push(state);
                tx.send_modify(|n| *n += 1);
            }))
            .unwrap();
        (Self(seen, rx), handle)
    }

    fn all(&self) -> Vec<ConnectionState> {
        self.0.lock().unwrap().clone()
    }

    async fn until(&mut self, what: &str, check: impl Fn(&[ConnectionState]) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !check(&self.all()) {
            match tokio::time::timeout_at(deadline, self.1.changed()).await {
                Err(_) => panic!("timed out waiting until {what}: {:?}", self.all()),
                Ok(Err(_)) => panic!("the subscription ended waiting until {what}"),
                Ok(Ok(())) => {}
            }
        }
    }
}

fn count<T>(list: &[T], pred: impl Fn(&T) -> bool) -> usize {
    list.iter().filter(|x| pred(x)).count()
}

/// Alice and bob, mutual contacts, and alice's chat list on a screen (past its `Reset`).
async fn friends_and_alices_chat_list(
    server: &TestServer,
) -> (
    TestClient,
    TestClient,
    ChatList,
    Screen<ChatListItem>,
    linnet_ui::TaskHandle,
) {
    let mut alice = connected(server, "alice").await;
    let mut bob = connected(server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let chats = ChatList::new(alice.client.clone());
    let (mut screen, listener) = Screen::new();
    let handle = chats.subscribe(listener).unwrap();
    assert!(screen.reset().await.is_empty(), "no conversation yet");
    (alice, bob, chats, screen, handle)
}

async fn chat_list_resets_then_follows_new_messages(server: TestServer) {
    let (alice, bob, chats, mut screen, _handle) = friends_and_alices_chat_list(&server).await;
    let carol = connected(&server, "carol").await;

    bob.client.send_message(&alice.jid, "hello alice").unwrap();
    let b = bob.jid.clone();
    let list = screen
        .until("bob's conversation", |l, _| {
            l.iter().any(|c| {
                c.peer == b
                    && c.unread == 1
                    && c.preview.as_ref().is_some_and(|p| p.body == "hello alice")
            })
        })
        .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].display_name, bob.jid.split('@').next().unwrap());
    assert!(!list[0].preview.as_ref().unwrap().outgoing);
    assert!(
        screen
            .batches()
            .iter()
            .skip(1)
            .flatten()
            .any(|d| matches!(d, VecDiff::Insert { index: 0, value } if value.peer == b)),
        "{:?}",
        screen.batches()
    );

    carol
        .client
        .send_message(&alice.jid, "hi from carol")
        .unwrap();
    let c = carol.jid.clone();
    screen
        .until("carol on top", |l, _| {
            l.len() == 2 && l[0].peer == c && l[1].peer == b
        })
        .await;
    let before = screen.batches().len();

    bob.client.send_message(&alice.jid, "again").unwrap();
    screen
        .until("bob back on top", |l, _| {
            l.len() == 2
                && l[0].peer == b
                && l[0].unread == 2
                && l[0].preview.as_ref().is_some_and(|p| p.body == "again")
        })
        .await;
    let later: Vec<_> = screen
        .batches()
        .into_iter()
        .skip(before)
        .flatten()
        .collect();
    assert!(
        later
            .iter()
            .any(|d| matches!(d, VecDiff::Move { from: 1, to: 0 })),
        "bumped by a move: {later:?}"
    );
    assert!(
        later
            .iter()
            .all(|d| matches!(d, VecDiff::Move { .. } | VecDiff::Set { .. })),
        "{later:?}"
    );
    // The screen matches a fresh read.
    assert_eq!(screen.list(), chats.items().unwrap());
    for c in [&alice, &bob, &carol] {
        c.client.disconnect().await;
    }
}
on_both_servers!(chat_list_resets_then_follows_new_messages);

async fn unread_count_falls_to_zero_when_read_and_the_sender_sees_displayed(server: TestServer) {
    let (alice, bob, _chats, mut screen, _handle) = friends_and_alices_chat_list(&server).await;

    bob.send_acked(&alice.jid, "one").await;
    let last = bob.send_acked(&alice.jid, "two").await;
    let b = bob.jid.clone();
    screen
        .until("two unread", |l, _| {
            l.iter().any(|c| c.peer == b && c.unread == 2)
        })
        .await;
    let timeline = Timeline::new(alice.client.clone(), &bob.jid).unwrap();
    timeline.mark_read().unwrap();
    screen
        .until("read", |l, _| {
            l.iter().any(|c| c.peer == b && c.unread == 0)
        })
        .await;
    let m = bob
        .client
        .wait_for_state(last, MessageState::Displayed, WAIT)
        .await
        .unwrap();
    assert_eq!(m.state, MessageState::Displayed);
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(unread_count_falls_to_zero_when_read_and_the_sender_sees_displayed);

async fn typing_indicator_turns_on_then_off(server: TestServer) {
    let (alice, bob, _chats, mut screen, _handle) = friends_and_alices_chat_list(&server).await;
    bob.client
        .send_message(&alice.jid, "about to type")
        .unwrap();
    let b = bob.jid.clone();
    screen
        .until("bob's row", |l, _| {
            l.iter().any(|c| c.peer == b && !c.typing)
        })
        .await;

    let bobs_view = Timeline::new(bob.client.clone(), &alice.jid).unwrap();
    bobs_view.set_typing(true).unwrap();
    screen
        .until("typing", |l, _| l.iter().any(|c| c.peer == b && c.typing))
        .await;
    bobs_view.set_typing(false).unwrap();
    screen
        .until("not typing", |l, _| {
            l.iter().any(|c| c.peer == b && !c.typing)
        })
        .await;
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(typing_indicator_turns_on_then_off);

/// The conversation screen's typing indicator: from the timeline itself, so it works before the
/// first message (the chat list has no row yet); each change is delivered once.
async fn timeline_typing_shows_before_the_first_message(server: TestServer) {
    let (alice, bob, _chats, _screen, _handle) = friends_and_alices_chat_list(&server).await;
    let alices_view = Timeline::new(alice.client.clone(), &bob.jid).unwrap();
    assert!(!alices_view.peer_typing());
    let (tx, mut rx) = watch::channel(Vec::<bool>::new());
    let _typing = alices_view
        .subscribe_typing(Box::new(move |typing| {
            tx.send_modify(|seen| seen.push(typing))
        }))
        .unwrap();
    let bobs_view = Timeline::new(bob.client.clone(), &alice.jid).unwrap();
    bobs_view.set_typing(true).unwrap();
    let seen = wait_until(&mut rx, |seen| seen.len() >= 2).await;
    assert_eq!(seen, vec![false, true], "the current value, then typing");
    assert!(alices_view.peer_typing());
    bobs_view.set_typing(false).unwrap();
    let seen = wait_until(&mut rx, |seen| seen.len() >= 3).await;
    assert_eq!(seen, vec![false, true, false]);
    assert!(alices_view.items().unwrap().is_empty(), "still no message");
    // Retrying a message that does not exist is the caller's mistake, and says so.
    assert!(matches!(
        alices_view.retry(i64::MAX),
        Err(LinnetError::NoSuchMessage { .. })
    ));
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(timeline_typing_shows_before_the_first_message);

/// Waits (at most 20 s) until the watched value satisfies `done`, and returns it.
async fn wait_until<T: Clone>(rx: &mut watch::Receiver<T>, done: impl Fn(&T) -> bool) -> T {
    tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|v| done(v)))
        .await
        .expect("timed out")
        .expect("sender gone")
        .clone()
}

async fn timeline_shows_the_local_echo_then_its_states(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    // Bob is away, so the server's acknowledgement and his receipt (once back) come apart.
    bob.client.disconnect().await;
    let timeline = Timeline::new(alice.client.clone(), &bob.jid).unwrap();
    let (mut screen, listener) = Screen::new();
    let _handle = timeline.subscribe(listener).unwrap();
    assert!(screen.reset().await.is_empty());

    let id = timeline.send("echo me").unwrap();
    screen
        .until("acked", |l, _| {
            l.iter().any(|i| matches!(i, TimelineItem::Message(m) if m.id == id && m.state == MessageState::Acked))
        })
        .await;
    bob.client.connect().await.unwrap();
    let is_delivered = |l: &[TimelineItem], _: usize| {
        l.iter().any(|i| matches!(i, TimelineItem::Message(m) if m.id == id && m.state == MessageState::Delivered))
    };
    let list = screen.until("delivered", is_delivered).await;
    assert!(matches!(&list[0], TimelineItem::DateSeparator { .. }));
    match &list[1] {
        TimelineItem::Message(m) => {
            assert!(m.outgoing);
            assert_eq!(m.body, "echo me");
            assert_eq!(m.sender, alice.jid);
        }
        other => panic!("{other:?}"),
    }
    // The states the screen went through, in order.
    let mut states = Vec::new();
    let mut first_was_insert = false;
    for diff in screen.batches().into_iter().skip(1).flatten() {
        match diff {
            VecDiff::Insert {
                value: TimelineItem::Message(m),
                ..
            } if m.id == id => {
                first_was_insert = states.is_empty();
                states.push(m.state);
            }
            VecDiff::Set {
                value: TimelineItem::Message(m),
                ..
            } if m.id == id => states.push(m.state),
            _ => {}
        }
    }
    assert!(first_was_insert, "{states:?}");
    assert!(
        matches!(states[0], MessageState::Queued | MessageState::Sent),
        "the echo shows before the server acknowledges it: {states:?}"
    );
    let acked = states.iter().position(|s| *s == MessageState::Acked);
    assert!(acked.is_some(), "{states:?}");
    assert_eq!(states.last(), Some(&MessageState::Delivered), "{states:?}");
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(timeline_shows_the_local_echo_then_its_states);

/// The store alone: 60 messages over three days, read by a timeline 50 at a time.
#[tokio::test]
async fn paginate_backwards_inserts_older_messages_at_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let linnet = Linnet::open(dir.path()).unwrap();
    linnet
        .add_account(
            "alice@example.test",
            Secret::from("pw-pagination"),
            AccountSettings::default(),
        )
        .unwrap();
    let client = linnet.client(None).unwrap();
    const DAY: i64 = 86_400_000;
    // 2026-11-24 12:00 UTC: noon keeps each group on one local day in any usual time zone.
    let noon = 1_795_478_400_000 + DAY / 2;
    for i in 0..60i64 {
        let at = noon + (i / 20) * DAY + i * 60_000;
        let m = NewMessage::incoming(
            client.account().id,
            "bob@example.test",
            &format!("m{i}"),
            at,
        );
        linnet.store().insert_message(&m).unwrap();
    }
    let bodies = |l: &[TimelineItem]| -> Vec<String> {
        l.iter()
            .filter_map(|i| match i {
                TimelineItem::Message(m) => Some(m.body.clone()),
                _ => None,
            })
            .collect()
    };
    let separators = |l: &[TimelineItem]| -> Vec<(usize, String)> {
        l.iter()
            .enumerate()
            .filter_map(|(n, i)| match i {
                TimelineItem::DateSeparator { day } => Some((n, day.clone())),
                _ => None,
            })
            .collect()
    };

    let timeline = Timeline::new(client.clone(), "Bob@Example.test").unwrap();
    let (mut screen, listener) = Screen::new();
    let _handle = timeline.subscribe(listener).unwrap();
    let first = screen.reset().await;
    let expected: Vec<String> = (10..60).map(|i| format!("m{i}")).collect();
    assert_eq!(bodies(&first), expected, "the newest 50, oldest first");
    let days = separators(&first);
    assert_eq!(days.len(), 3, "{days:?}");
    assert_eq!(days[0].0, 0);
    assert!(days.windows(2).all(|w| w[0].1 < w[1].1), "{days:?}");

    assert!(!timeline.paginate_backwards(5).unwrap());
    let list = screen
        .until("five older", |l, _| bodies(l).len() == 55)
        .await;
    assert_eq!(bodies(&list)[..6], ["m5", "m6", "m7", "m8", "m9", "m10"]);
    let batch = screen.batches().last().unwrap().clone();
    let inserted: Vec<u32> = batch
        .iter()
        .map(|d| match d {
            VecDiff::Insert { index, .. } => *index,
            other => panic!("only inserts at the top: {other:?}"),
        })
        .collect();
    assert_eq!(inserted, [1, 2, 3, 4, 5], "under the first day's separator");

    assert!(
        timeline.paginate_backwards(10).unwrap(),
        "the start is reached"
    );
    let list = screen
        .until("everything", |l, _| bodies(l).len() == 60)
        .await;
    assert_eq!(bodies(&list)[0], "m0");
    let day_names = |d: Vec<(usize, String)>| d.into_iter().map(|(_, day)| day).collect::<Vec<_>>();
    assert_eq!(
        day_names(separators(&list)),
        day_names(days),
        "still one separator per day"
    );
    assert!(
        matches!(&list[21], TimelineItem::DateSeparator { .. }),
        "before m20"
    );
    let batches = screen.batches().len();
    assert!(timeline.paginate_backwards(10).unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(screen.batches().len(), batches, "nothing more to load");
    assert_eq!(screen.list(), timeline.items().unwrap());
}

async fn a_cancelled_subscription_gets_no_more_callbacks(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let bob = connected(&server, "bob").await;
    let chats = ChatList::new(alice.client.clone());
    let (mut screen, listener) = Screen::new();
    let handle = chats.subscribe(listener).unwrap();
    screen.reset().await;
    handle.cancel();
    assert!(handle.is_cancelled());
    // A dropped handle cancels too.
    let (dropped_screen, listener) = Screen::new();
    drop(chats.subscribe(listener).unwrap());

    bob.client
        .send_message(&alice.jid, "nobody watches")
        .unwrap();
    alice.expect_message_from(&bob.jid).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(screen.batches().len(), 1, "{:?}", screen.batches());
    // (Its first batch may have gone out before the drop.)
    assert!(
        dropped_screen.batches().len() <= 1,
        "{:?}",
        dropped_screen.batches()
    );
    assert_eq!(chats.items().unwrap().len(), 1, "the store has it");
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(a_cancelled_subscription_gets_no_more_callbacks);

async fn contacts_show_a_pending_request_until_approved(server: TestServer) {
    let alice = connected(&server, "alice").await;
    let bob = connected(&server, "bob").await;
    let contacts = Contacts::new(bob.client.clone());
    let (mut screen, listener) = Screen::new();
    let _handle = contacts.subscribe(listener).unwrap();
    assert!(screen.reset().await.is_empty());

    alice.client.add_contact(&bob.jid, None).await.unwrap();
    let a = alice.jid.clone();
    let list = screen
        .until("alice's request", |l, _| {
            l.iter()
                .any(|c| c.jid == a && c.pending_request && c.subscription.is_none())
        })
        .await;
    assert!(list[0].pending_request, "requests come first");

    contacts.approve(&alice.jid).unwrap();
    screen
        .until("no pending request", |l, _| {
            !l.iter().any(|c| c.pending_request)
        })
        .await;
    assert!(bob.client.subscription_requests().unwrap().is_empty());
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(contacts_show_a_pending_request_until_approved);

async fn connection_service_reconnects_after_a_kick(server: TestServer) {
    let (jid, pw) = create_account(&server, "kicked");
    let c = client_for(&server, &jid, &pw, Mode::StartTls);
    let service = ConnectionService::new(c.client.clone());
    let (mut states, _handle) = States::subscribe(&service);
    states
        .until("the current state first", |s| {
            s.first() == Some(&ConnectionState::Offline)
        })
        .await;
    service.start().await.unwrap();
    assert_eq!(service.state(), ConnectionState::Online);
    states
        .until("online", |s| s.contains(&ConnectionState::Online))
        .await;

    kick(&server, &jid);
    let online = |s: &[ConnectionState]| count(s, |x| *x == ConnectionState::Online);
    states
        .until("online again after the kick", |s| online(s) == 2)
        .await;
    let all = states.all();
    assert!(
        all.iter()
            .any(|s| matches!(s, ConnectionState::Disconnected { .. })),
        "{all:?}"
    );
    assert!(
        count(&all, |s| *s == ConnectionState::Connecting) >= 2,
        "{all:?}"
    );

    service.stop().await;
    states
        .until("offline", |s| s.last() == Some(&ConnectionState::Offline))
        .await;
    let seen = states.all().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(states.all().len(), seen, "stopped: no reconnection");
    assert_eq!(service.state(), ConnectionState::Offline);
}
on_both_servers!(connection_service_reconnects_after_a_kick);

async fn reconnect_now_retries_after_a_wrong_password(server: TestServer) {
    let (jid, pw) = create_account(&server, "fatal");
    let c = client_for(&server, &jid, "wrong-password-4242", Mode::StartTls);
    let service = ConnectionService::new(c.client.clone());
    let (mut states, _handle) = States::subscribe(&service);
    let err = service.start().await.unwrap_err();
    assert_eq!(err, LinnetError::WrongCredentials);
    assert_eq!(err.kind(), ErrorKind::Auth);
    states
        .until("the failure", |s| {
            s.iter().any(|x| {
                matches!(
                    x,
                    ConnectionState::Disconnected {
                        error: Some(LinnetError::WrongCredentials),
                        ..
                    }
                )
            })
        })
        .await;
    // A fatal error: the supervisor waits for the user instead of retrying.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let connecting = |s: &[ConnectionState]| count(s, |x| *x == ConnectionState::Connecting);
    assert_eq!(connecting(&states.all()), 1, "{:?}", states.all());

    // The user fixes the password, then asks to reconnect.
    FileSecretStore::new(c.dir.path().join("secrets.json"))
        .set(&jid, &Secret::from(pw))
        .unwrap();
    service.reconnect_now();
    states
        .until("online", |s| s.last() == Some(&ConnectionState::Online))
        .await;
    assert_eq!(connecting(&states.all()), 2);
    service.stop().await;
}
on_both_servers!(reconnect_now_retries_after_a_wrong_password);

async fn preferences_turn_off_displayed_markers_and_typing(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let settings = Settings::new(alice.client.clone());
    assert_eq!(settings.get().unwrap(), Preferences::default());
    let quiet = Preferences {
        send_typing: false,
        send_read_markers: false,
        auto_download_max_bytes: 0,
        relay_only_calls: true,
        notification_preview: linnet_sdk::NotificationPreview::Hidden,
    };
    settings.set(quiet.clone()).unwrap();
    assert_eq!(settings.get().unwrap(), quiet);
    let again = alice.linnet.client(Some(&alice.jid)).unwrap();
    assert_eq!(again.preferences().unwrap(), quiet, "stored");

    let id = bob.send_acked(&alice.jid, "read quietly").await;
    alice.expect_message_from(&bob.jid).await;
    bob.client
        .wait_for_state(id, MessageState::Delivered, WAIT)
        .await
        .unwrap();
    let timeline = Timeline::new(alice.client.clone(), &bob.jid).unwrap();
    timeline.mark_read().unwrap();
    assert_eq!(
        alice.client.chats().unwrap()[0].conversation.unread_count,
        0
    );
    timeline.set_typing(true).unwrap();
    let waited = bob
        .client
        .wait_for_state(id, MessageState::Displayed, Duration::from_secs(3))
        .await;
    assert!(
        matches!(waited, Err(LinnetError::Timeout { .. })),
        "no displayed marker: {waited:?}"
    );
    let a = alice.jid.clone();
    let typing = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            match bob.events.recv().await {
                Ok(ClientEvent::ChatState { peer, .. }) if peer == a => return,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    std::future::pending::<()>().await
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(typing.is_err(), "no typing notification");
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(preferences_turn_off_displayed_markers_and_typing);

async fn diagnostics_export_contains_no_password_or_body(server: TestServer) {
    // The ring is filled by whatever logging is installed: wire traffic included.
    let installed = linnet_sdk::logging::init_with("debug,linnet::wire=trace", false, false);
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let (bob_jid, bob_pw) = create_account(&server, "bob");
    let mut alice = client_for(&server, &alice_jid, &alice_pw, Mode::StartTls);
    let bob = client_for(&server, &bob_jid, &bob_pw, Mode::StartTls);
    alice.client.connect().await.unwrap();
    bob.client.connect().await.unwrap();
    let body = format!("private words {}", unique_name("body"));
    bob.send_acked(&alice_jid, &body).await;
    alice.expect_message_from(&bob_jid).await;

    let diagnostics = Diagnostics::new(alice.client.clone());
    assert!(diagnostics.doctor().await.is_ok());
    let export = diagnostics.export_logs();
    let header: Vec<&str> = export.lines().take(3).collect();
    assert!(header[0].starts_with("Linnet "), "{header:?}");
    assert_eq!(header[1], format!("server: {}", server.domain));
    assert_eq!(header[2], "connection: online");
    let local = alice_jid.split('@').next().unwrap();
    assert!(!header.iter().any(|l| l.contains(local)), "{header:?}");
    if installed {
        assert!(export.contains("linnet::wire"), "not vacuous");
        assert!(export.contains("<body>[redacted]</body>"), "not vacuous");
    }
    for secret in [alice_pw.as_str(), bob_pw.as_str(), body.as_str()] {
        assert!(
            !export.contains(secret),
            "{secret:?} leaked into the export"
        );
    }
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(diagnostics_export_contains_no_password_or_body);

/// Writes `size` random bytes to `dir/name` and returns the path.
fn file_with(dir: &std::path::Path, name: &str, size: usize) -> std::path::PathBuf {
    let mut bytes = vec![0u8; size];
    rand::rng().fill_bytes(&mut bytes);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

/// The row of message `id`, if the list has it.
fn row(list: &[TimelineItem], id: i64) -> Option<&TimelineMessage> {
    list.iter().find_map(|i| match i {
        TimelineItem::Message(m) if m.id == id => Some(m),
        _ => None,
    })
}

/// The first row (by id) that carries a file.
fn file_row(list: &[TimelineItem]) -> Option<(&TimelineMessage, &TimelineAttachment)> {
    list.iter().find_map(|i| match i {
        TimelineItem::Message(m) => m.attachment.as_deref().map(|a| (m, a)),
        _ => None,
    })
}

/// Every version of message `id`'s row the screen received after its `Reset`, in order, and
/// whether the first was an insert.
fn versions(screen: &Screen<TimelineItem>, id: i64) -> (bool, Vec<TimelineMessage>) {
    let mut rows = Vec::new();
    let mut first_was_insert = false;
    for diff in screen.batches().into_iter().skip(1).flatten() {
        match diff {
            VecDiff::Insert {
                value: TimelineItem::Message(m),
                ..
            } if m.id == id => {
                first_was_insert = rows.is_empty();
                rows.push(m);
            }
            VecDiff::Set {
                value: TimelineItem::Message(m),
                ..
            } if m.id == id => rows.push(m),
            _ => {}
        }
    }
    (first_was_insert, rows)
}

async fn timeline_shows_a_file_upload_then_the_download(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    let alices = Timeline::new(alice.client.clone(), &bob.jid).unwrap();
    let (mut sender, listener) = Screen::new();
    let _h1 = alices.subscribe(listener).unwrap();
    assert!(sender.reset().await.is_empty());
    let bobs = Timeline::new(bob.client.clone(), &alice.jid).unwrap();
    let (mut receiver, listener) = Screen::new();
    let _h2 = bobs.subscribe(listener).unwrap();
    assert!(receiver.reset().await.is_empty());

    // Large enough to be seen moving; under bob's automatic limit (10 MiB by default).
    const SIZE: u64 = 6_000_000;
    let src = tempfile::tempdir().unwrap();
    let path = file_with(src.path(), "photo.bin", SIZE as usize);
    let id = alices.send_file(&path).unwrap();

    let list = sender
        .until("uploaded and acknowledged", |l, _| {
            row(l, id).is_some_and(|m| {
                matches!(
                    m.state,
                    MessageState::Acked | MessageState::Delivered | MessageState::Displayed
                ) && m
                    .attachment
                    .as_ref()
                    .is_some_and(|a| a.state == TransferState::Done)
            })
        })
        .await;
    let done = row(&list, id).unwrap().attachment.clone().unwrap();
    assert_eq!(done.direction, TransferDirection::Upload);
    assert_eq!(done.file_name, "photo.bin");
    assert_eq!(
        (done.transferred, done.total, done.size),
        (SIZE, Some(SIZE), Some(SIZE))
    );
    assert_eq!(
        done.local_path.as_deref(),
        Some(std::path::absolute(&path).unwrap().to_str().unwrap())
    );
    assert_eq!(done.failure_kind, None);

    // What the screen went through: the local echo first, then progress, then done.
    let (first_was_insert, rows) = versions(&sender, id);
    assert!(first_was_insert, "{rows:#?}");
    let echo = &rows[0];
    assert!(echo.outgoing);
    assert_eq!(echo.state, MessageState::Queued, "{rows:#?}");
    let a = echo.attachment.as_ref().unwrap();
    assert_eq!(a.direction, TransferDirection::Upload);
    assert!(
        matches!(a.state, TransferState::Queued | TransferState::Transferring),
        "{rows:#?}"
    );
    let files: Vec<&TimelineAttachment> = rows
        .iter()
        .filter_map(|m| m.attachment.as_deref())
        .collect();
    let moving: Vec<u64> = files
        .iter()
        .filter(|a| a.state == TransferState::Transferring)
        .map(|a| a.transferred)
        .collect();
    assert!(
        moving.iter().any(|&n| n > 0 && n < SIZE),
        "progress shows while it uploads: {moving:?}"
    );
    assert!(moving.windows(2).all(|w| w[0] <= w[1]), "{moving:?}");
    assert!(
        files
            .iter()
            .all(|a| a.total == Some(SIZE) && a.transferred <= SIZE),
        "{files:#?}"
    );
    let done_at = files
        .iter()
        .position(|a| a.state == TransferState::Done)
        .unwrap();
    assert!(
        files[..done_at]
            .iter()
            .all(|a| a.state != TransferState::Done),
        "{files:#?}"
    );
    // Acked, or already delivered: a receipt can come in the same update as the ack.
    let acked_at = rows
        .iter()
        .position(|m| {
            matches!(
                m.state,
                MessageState::Acked | MessageState::Delivered | MessageState::Displayed
            )
        })
        .unwrap();
    assert!(
        rows[acked_at].attachment.as_ref().unwrap().state == TransferState::Done,
        "the message leaves once its file is uploaded: {rows:#?}"
    );

    // Bob: offered, then fetched by itself (alice is a contact), with its local path.
    let list = receiver
        .until("downloaded", |l, _| {
            file_row(l).is_some_and(|(_, a)| a.state == TransferState::Done)
        })
        .await;
    let (m, a) = file_row(&list).unwrap();
    assert!(!m.outgoing);
    assert_eq!(a.direction, TransferDirection::Download);
    assert_eq!((a.transferred, a.size), (SIZE, Some(SIZE)));
    let local = a.local_path.clone().unwrap();
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(&path).unwrap()
    );
    let (first_was_insert, rows) = versions(&receiver, m.id);
    assert!(first_was_insert, "{rows:#?}");
    let offered = rows[0].attachment.as_ref().unwrap();
    assert_ne!(offered.state, TransferState::Done, "{rows:#?}");
    assert_eq!(offered.local_path, None);
    assert_eq!(receiver.list(), bobs.items().unwrap());
    alice.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(timeline_shows_a_file_upload_then_the_download);

async fn a_strangers_file_stays_offered_until_downloaded(server: TestServer) {
    let carol = connected(&server, "carol").await;
    let bob = connected(&server, "bob").await;
    let bobs = Timeline::new(bob.client.clone(), &carol.jid).unwrap();
    let (mut screen, listener) = Screen::new();
    let _handle = bobs.subscribe(listener).unwrap();
    assert!(screen.reset().await.is_empty());
    let carols = Timeline::new(carol.client.clone(), &bob.jid).unwrap();

    // The typed errors first.
    let src = tempfile::tempdir().unwrap();
    let missing = src.path().join("missing.txt");
    assert!(
        matches!(carols.send_file(&missing), Err(LinnetError::FileUnreadable { path, .. }) if path.contains("missing.txt"))
    );
    assert!(matches!(
        carols.send_file(src.path()),
        Err(LinnetError::FileUnreadable { .. })
    ));
    assert_eq!(
        bobs.download(987_654),
        Err(LinnetError::NoSuchMessage {
            message_id: 987_654
        })
    );
    let text = carols.send("just words").unwrap();
    assert_eq!(
        carols.cancel_transfer(text),
        Err(LinnetError::NoAttachment { message_id: text })
    );

    let path = file_with(src.path(), "hello.txt", 2000);
    let sent = carols.send_file(&path).unwrap();
    assert_eq!(
        carols.download(sent),
        Err(LinnetError::NoAttachment { message_id: sent }),
        "an upload is not downloaded"
    );
    let list = screen
        .until("the offered file", |l, _| file_row(l).is_some())
        .await;
    let (m, a) = file_row(&list).unwrap();
    let id = m.id;
    assert_eq!(a.direction, TransferDirection::Download);
    assert_eq!(a.state, TransferState::Offered);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, a) = file_row(&bobs.items().unwrap())
        .map(|(m, a)| (m.id, a.clone()))
        .unwrap();
    assert_eq!(a.state, TransferState::Offered, "never fetched by itself");
    assert_eq!((a.transferred, a.local_path.as_deref()), (0, None));

    bobs.download(id).unwrap();
    let list = screen
        .until("downloaded", |l, _| {
            row(l, id).is_some_and(|m| {
                m.attachment
                    .as_ref()
                    .is_some_and(|a| a.state == TransferState::Done)
            })
        })
        .await;
    let a = row(&list, id).unwrap().attachment.clone().unwrap();
    assert_eq!((a.transferred, a.total), (2000, Some(2000)));
    assert_eq!(
        std::fs::read(a.local_path.unwrap()).unwrap(),
        std::fs::read(&path).unwrap()
    );
    carol.client.disconnect().await;
    bob.client.disconnect().await;
}
on_both_servers!(a_strangers_file_stays_offered_until_downloaded);
