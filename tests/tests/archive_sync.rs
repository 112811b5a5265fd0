//! Message archive sync (issue 5, XEP-0313 MAM) against both real servers: the catch-up after
//! time offline (2,000 messages over 20 conversations, some sent from the account's other
//! device), an interrupted catch-up, a fresh device (newest first, then older history per
//! conversation) and spoofed archive results. Archives are filled with `seed::fill_archive`
//! and read back with `seed::archive_log` (test-only queries over the protocol layer).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use linnet_sdk::{
    ArchiveConfig, ClientConfig, ClientEvent, ConnectionState, LinnetError, SyncPhase, SyncState,
};
use linnet_store::{Direction, MessageState};
use linnet_tests::archive::archived_bodies;
use linnet_tests::delivery::{quick_ping, upstream};
use linnet_tests::fault_proxy::FaultProxy;
use linnet_tests::seed::{
    self, Delivery, Logged, RawSession, SeededMessage, archive_contents, archive_log, fill_archive,
    fill_archive_with,
};
use linnet_tests::*;
use linnet_xmpp::session::SessionConfig;
use linnet_xmpp::{Element, ns};
use tokio::sync::{broadcast, mpsc};

/// The conversation with `peer` as stored, oldest first.
fn stored(c: &TestClient, peer: &str) -> Vec<SeededMessage> {
    let mut history = c.client.history(peer, 100_000, None).unwrap();
    history.reverse();
    history
        .into_iter()
        .map(|m| SeededMessage {
            body: m.body,
            outgoing: m.direction == Direction::Outgoing,
        })
        .collect()
}

/// Every stored message of every conversation.
fn all_stored(c: &TestClient) -> BTreeMap<String, Vec<SeededMessage>> {
    c.client
        .chats()
        .unwrap()
        .into_iter()
        .map(|chat| {
            let peer = chat.conversation.peer;
            let messages = stored(c, &peer);
            (peer, messages)
        })
        .collect()
}

fn count(messages: &BTreeMap<String, Vec<SeededMessage>>) -> usize {
    messages.values().map(Vec::len).sum()
}

/// What a client reported while a sync ran.
#[derive(Default)]
struct Watched {
    /// `ClientEvent::Message`s (each a notification for an app).
    messages: Vec<linnet_sdk::Message>,
    /// Peers named by `HistoryChanged`.
    history_peers: BTreeSet<String>,
    /// Every `Syncing` progress seen.
    progress: Vec<linnet_sdk::SyncProgress>,
    /// Connection attempts that failed because the server "broke the protocol".
    protocol_errors: Vec<String>,
}

impl Watched {
    fn note(&mut self, event: &ClientEvent) {
        match event {
            ClientEvent::Message(m) => self.messages.push((**m).clone()),
            ClientEvent::HistoryChanged { peers } => {
                self.history_peers.extend(peers.iter().cloned())
            }
            ClientEvent::Sync(SyncState::Syncing(p)) => self.progress.push(p.clone()),
            ClientEvent::Connection(ConnectionState::Disconnected {
                error: Some(LinnetError::Protocol { reason }),
                ..
            }) => self.protocol_errors.push(reason.clone()),
            _ => {}
        }
    }
}

/// The next event (panics after `deadline` or when events were lost).
async fn next_event(c: &mut TestClient, deadline: tokio::time::Instant, what: &str) -> ClientEvent {
    match tokio::time::timeout_at(deadline, c.events.recv()).await {
        Err(_) => panic!("{}: timed out waiting for {what}", c.jid),
        Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
            panic!("{}: {n} events lost waiting for {what}", c.jid)
        }
        Ok(Err(e)) => panic!("{}: event stream ended waiting for {what}: {e}", c.jid),
        Ok(Ok(event)) => event,
    }
}

/// Reads events until a sync run ends (`Sync(Idle)`), noting what was reported meanwhile.
async fn until_sync_idle(c: &mut TestClient, within: Duration, watched: &mut Watched) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let event = next_event(c, deadline, "the end of a sync run").await;
        watched.note(&event);
        if matches!(event, ClientEvent::Sync(SyncState::Idle)) {
            return;
        }
    }
}

/// Prints the archive ids the server gave more than once (ejabberd 23.01 gives messages
/// archived in the same microsecond one id): a client that keys archive results by id alone
/// stores one of each such pair only.
async fn print_repeated_ids(server: &TestServer, jid: &str, password: &str) -> usize {
    let log = archive_log(server, jid, password).await;
    let repeated = seed::repeated_ids(&log);
    if !repeated.is_empty() {
        let examples: Vec<(&str, &str)> = log
            .iter()
            .filter(|m| repeated.contains_key(&m.id))
            .take(4)
            .map(|m| (m.id.as_str(), m.body.as_str()))
            .collect();
        eprintln!(
            "archive_sync: {}: {} archive ids given to more than one message, e.g. {examples:?}",
            server.name,
            repeated.len()
        );
    }
    repeated.len()
}

/// Asserts that every seeded conversation is stored exactly as seeded (each message once, in
/// order, with its direction).
fn assert_stored_as_seeded(c: &TestClient, server: &TestServer, seeded: &seed::Seeded) {
    for (peer, messages) in &seeded.messages {
        let got = stored(c, peer);
        if &got != messages {
            let expected: BTreeSet<&str> = messages.iter().map(|m| m.body.as_str()).collect();
            let distinct: BTreeSet<&str> = got.iter().map(|m| m.body.as_str()).collect();
            panic!(
                "{}: conversation with {peer}: {} stored ({} distinct, {} missing), {} seeded; \
                 first difference: {:?}",
                server.name,
                got.len(),
                distinct.len(),
                expected.difference(&distinct).count(),
                messages.len(),
                got.iter()
                    .zip(messages)
                    .enumerate()
                    .find(|(_, (a, b))| a != b)
            );
        }
    }
}

/// Issue 5 item 7, first case: 2,000 messages over 20 conversations (every 10th sent by the
/// account's other device, so outgoing in the archive) while the Linnet device was offline,
/// after it had synced before. One connect later every one is stored exactly once, in order,
/// with the right direction; the incoming ones unread; and no `Message` event (no
/// notification) was raised for any of them, `HistoryChanged` instead.
async fn catch_up_after_2000_messages_offline(server: TestServer) {
    let (target, password) = create_account(&server, "mamcatchup");
    // A small archive synced once before.
    let early = fill_archive(&server, &target, &password, 1, 5, 2, "early").await;
    let mut c = client_for(&server, &target, &password, Mode::StartTls);
    c.client.connect().await.unwrap();
    let mut first = Watched::default();
    until_sync_idle(&mut c, Duration::from_secs(30), &mut first).await;
    assert_stored_as_seeded(&c, &server, &early);
    assert_eq!(c.client.archive_gaps().unwrap(), vec![]);
    c.client.disconnect().await;

    let seeded = fill_archive(&server, &target, &password, 20, 100, 10, "away").await;
    eprintln!(
        "archive_sync: {}: seeded {} messages over {} conversations in {:.2} s",
        server.name,
        seeded.total(),
        seeded.conversations.len(),
        seeded.elapsed.as_secs_f64()
    );
    assert_eq!(seeded.total(), 2000);
    print_repeated_ids(&server, &target, &password).await;

    let started = Instant::now();
    c.client.connect().await.unwrap();
    let mut watched = Watched::default();
    until_sync_idle(&mut c, Duration::from_secs(90), &mut watched).await;
    eprintln!(
        "archive_sync: {}: caught up with {} messages in {:.2} s ({} progress reports)",
        server.name,
        seeded.total(),
        started.elapsed().as_secs_f64(),
        watched.progress.len()
    );

    // A further sync finds nothing new.
    let again = c.client.sync_archive().await.unwrap();
    assert!(
        again.complete && again.stored == 0,
        "{}: a further sync: {again:?}",
        server.name
    );
    assert_stored_as_seeded(&c, &server, &seeded);
    assert_stored_as_seeded(&c, &server, &early);
    let everything = all_stored(&c);
    assert_eq!(count(&everything), 2005, "{}: rows stored", server.name);
    assert_eq!(c.client.archive_gaps().unwrap(), vec![], "{}", server.name);
    assert_eq!(c.client.sync_state(), SyncState::Idle);

    // Incoming from the catch-up: unread (Received); outgoing from the other device: Acked.
    for (peer, messages) in &seeded.messages {
        let history = c.client.history(peer, 1000, None).unwrap();
        let incoming = messages.iter().filter(|m| !m.outgoing).count();
        assert_eq!(
            history
                .iter()
                .filter(|m| m.direction == Direction::Incoming && m.state == MessageState::Received)
                .count(),
            incoming,
            "{}: unread incoming messages from {peer}",
            server.name
        );
        assert_eq!(
            history
                .iter()
                .filter(|m| m.direction == Direction::Outgoing && m.state == MessageState::Acked)
                .count(),
            messages.len() - incoming,
            "{}: outgoing messages to {peer} from the other device",
            server.name
        );
    }
    let chats = c.client.chats().unwrap();
    for chat in &chats {
        if let Some(messages) = seeded.messages.get(&chat.conversation.peer) {
            assert_eq!(
                chat.conversation.unread_count as usize,
                messages.iter().filter(|m| !m.outgoing).count(),
                "{}: unread count of {}",
                server.name,
                chat.conversation.peer
            );
        }
    }

    // No notifications for history; every conversation was announced as changed.
    let notified: Vec<&str> = watched.messages.iter().map(|m| m.body.as_str()).collect();
    assert!(
        notified.is_empty(),
        "{}: {} Message events for archive results, e.g. {:?}",
        server.name,
        notified.len(),
        notified.first()
    );
    let peers: BTreeSet<String> = seeded.conversations.keys().cloned().collect();
    assert_eq!(watched.history_peers, peers, "{}", server.name);
    let last = watched.progress.last().expect("progress was reported");
    assert_eq!(last.phase, SyncPhase::CatchUp);
    // Each page after the first starts with the previous page's last result again (archive ids
    // can be shared: ejabberd stamps them by the microsecond); pages hold 50 or more.
    assert!(
        (2000..=2000 + 2000 / 50).contains(&last.fetched),
        "{}: {} results fetched",
        server.name,
        last.fetched
    );
    assert_eq!(last.stored, 2000, "{}: rows stored", server.name);
    c.client.disconnect().await;
}
on_both_servers!(catch_up_after_2000_messages_offline);

/// The same catch-up when the messages also waited in the server's offline storage (no device
/// of the account was available): the server delivers them live at the connect while the
/// catch-up brings them (and the other device's messages between them) from the archive. Each
/// is stored once, in archive order; `Message` events only for incoming ones, each at most once.
async fn catch_up_with_offline_storage(server: TestServer) {
    let (target, password) = create_account(&server, "mamoffline");
    let early = fill_archive(&server, &target, &password, 1, 3, 0, "early").await;
    let mut c = client_for(&server, &target, &password, Mode::StartTls);
    c.client.connect().await.unwrap();
    until_sync_idle(&mut c, Duration::from_secs(30), &mut Watched::default()).await;
    c.client.disconnect().await;

    let seeded = fill_archive_with(
        &server,
        &target,
        &password,
        10,
        20,
        5,
        "offline",
        Delivery::OfflineStorage,
    )
    .await;
    assert_eq!(seeded.total(), 200);
    // The archive holds them in sending order (the seeding's ordering with offline storage).
    let mut archived = archive_contents(&server, &target, &password).await;
    archived.retain(|peer, _| seeded.messages.contains_key(peer));
    assert_eq!(archived, seeded.messages, "{}: the archive", server.name);
    print_repeated_ids(&server, &target, &password).await;
    c.client.connect().await.unwrap();
    let mut watched = Watched::default();
    until_sync_idle(&mut c, Duration::from_secs(60), &mut watched).await;
    // Whatever the server delivered at the connect is here after a round trip.
    c.client.doctor().await.unwrap();
    let again = c.client.sync_archive().await.unwrap();
    assert!(
        again.complete && again.stored == 0,
        "{}: a further sync: {again:?}",
        server.name
    );
    while let Ok(event) = c.events.try_recv() {
        watched.note(&event);
    }

    assert_stored_as_seeded(&c, &server, &seeded);
    assert_stored_as_seeded(&c, &server, &early);
    assert_eq!(count(&all_stored(&c)), 203, "{}: rows stored", server.name);
    assert_eq!(c.client.archive_gaps().unwrap(), vec![], "{}", server.name);
    let incoming: BTreeSet<&str> = seeded
        .messages
        .values()
        .flatten()
        .filter(|m| !m.outgoing)
        .map(|m| m.body.as_str())
        .collect();
    let mut live = BTreeSet::new();
    for m in &watched.messages {
        assert!(
            incoming.contains(m.body.as_str()),
            "{}: a Message event for {:?}",
            server.name,
            m.body
        );
        assert!(
            live.insert(m.body.as_str()),
            "{}: two Message events for {:?}",
            server.name,
            m.body
        );
    }
    eprintln!(
        "archive_sync: {}: {} of {} incoming messages were reported live (offline storage)",
        server.name,
        live.len(),
        incoming.len()
    );
    c.client.disconnect().await;
}
on_both_servers!(catch_up_with_offline_storage);

/// Issue 5 item 7, second case: the connection is cut in the middle of a catch-up (after some
/// pages were stored, in the middle of the next); the supervisor reconnects with a new session
/// (no resumption), the catch-up resumes from what was stored and completes: every message is
/// stored exactly once, and no gap is left.
async fn interrupted_catch_up_completes_without_duplicates(server: TestServer) {
    interrupted_catch_up(server, false).await;
}
on_both_servers!(interrupted_catch_up_completes_without_duplicates);

/// The same cut with stream-management resumption on (the default): the session resumes, the
/// server resends what the cut dropped, and the catch-up completes with every message once.
async fn interrupted_catch_up_completes_in_the_resumed_session(server: TestServer) {
    interrupted_catch_up(server, true).await;
}
on_both_servers!(interrupted_catch_up_completes_in_the_resumed_session);

async fn interrupted_catch_up(server: TestServer, resume: bool) {
    let proxy = FaultProxy::start(upstream(&server)).await;
    // Each page takes at least two proxy delays: the catch-up lasts long enough to be cut.
    proxy.set_delay(Duration::from_millis(25));
    let config = ClientConfig {
        resume_sessions: resume,
        archive: ArchiveConfig {
            page_size: 50,
            ..ArchiveConfig::default()
        },
        // A dead link shows at once here (the proxy closes it); ejabberd (its archive in
        // Mnesia here) may take more than a second for a page and answers nothing meanwhile,
        // which quick_ping's 1 s probe timeout would take for a dead connection.
        session: SessionConfig {
            ping_timeout: Duration::from_secs(10),
            ..quick_ping().session
        },
        ..quick_ping()
    };
    let t0 = Instant::now();
    let phase = |what: &str| {
        eprintln!(
            "archive_sync: {}: {:.2} s {what}",
            server.name,
            t0.elapsed().as_secs_f64()
        )
    };
    let (target, password) = create_account(&server, "mamcut");
    let mut c = client_via(&server, &target, &password, proxy.addr(), config);
    c.client.start().await.unwrap();
    let mut first = Watched::default();
    until_sync_idle(&mut c, Duration::from_secs(30), &mut first).await;
    phase("first sync");
    c.client.stop().await;
    phase("stopped");

    let seeded = fill_archive(&server, &target, &password, 4, 75, 5, "cut").await;
    assert_eq!(seeded.total(), 300);
    print_repeated_ids(&server, &target, &password).await;
    phase("seeded");
    let accepted_before = proxy.accepted();
    c.client.start().await.unwrap();

    // Once the catch-up has stored a page, cut while the next one is arriving: part of it was
    // forwarded to the client (in 8-byte fragments from then on, so it trickles), the rest (and
    // its <fin/>) is held back by a stall and dropped by the cut.
    let mut watched = Watched::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let stored_at_cut = loop {
        let event = next_event(&mut c, deadline, "catch-up progress").await;
        watched.note(&event);
        match event {
            ClientEvent::Sync(SyncState::Syncing(p))
                if p.phase == SyncPhase::CatchUp && p.stored > 0 =>
            {
                // The next page is at least two proxy delays away.
                proxy.set_fragment(Some(8));
                break p.stored;
            }
            ClientEvent::Sync(SyncState::Idle) => {
                panic!("{}: the catch-up ended before it could be cut", server.name)
            }
            _ => {}
        }
    };
    let down_before = proxy.bytes_down();
    let waiting = Instant::now();
    while proxy.bytes_down() < down_before + 2048 {
        assert!(
            waiting.elapsed() < Duration::from_secs(10),
            "{}: the next page did not come",
            server.name
        );
        tokio::task::yield_now().await;
    }
    proxy.stall();
    let page_part = proxy.bytes_down() - down_before;
    proxy.cut_held().await;
    proxy.resume();
    proxy.set_fragment(None);
    phase("cut");
    eprintln!(
        "archive_sync: {}: cut with {stored_at_cut} stored and {page_part} bytes of the next \
         page forwarded",
        server.name
    );
    if !resume {
        // The interrupted run ends with the pages stored before the cut, the gap open.
        until_sync_idle(&mut c, Duration::from_secs(30), &mut watched).await;
        let after_cut = count(&all_stored(&c));
        assert!(
            stored_at_cut > 0 && after_cut == stored_at_cut as usize,
            "{}: the cut came at {stored_at_cut}, the run ended with {after_cut} of 300 (the \
             cut must fall into the next page)",
            server.name
        );
        assert!(
            !c.client.archive_gaps().unwrap().is_empty(),
            "{}: the interrupted catch-up left no gap",
            server.name
        );
    }

    // The supervisor reconnects; the next run completes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        until_sync_idle(&mut c, Duration::from_secs(60), &mut watched).await;
        if c.client.archive_gaps().unwrap().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the catch-up did not complete after the reconnect ({} stored, gaps {:?})",
            server.name,
            count(&all_stored(&c)),
            c.client.archive_gaps().unwrap()
        );
    }
    phase("complete");
    // Another run (one may be under way: a resumption with a gap open starts one) finds
    // nothing new and leaves no gap.
    let again = c.client.sync_archive().await.unwrap();
    assert!(
        again.complete && again.stored == 0,
        "{}: a further sync: {again:?}",
        server.name
    );
    assert!(
        proxy.accepted() >= accepted_before + 2,
        "{}: no reconnect through the proxy",
        server.name
    );
    assert_stored_as_seeded(&c, &server, &seeded);
    assert_eq!(count(&all_stored(&c)), 300, "{}: rows stored", server.name);
    assert_eq!(c.client.archive_gaps().unwrap(), vec![], "{}", server.name);
    assert!(
        watched.messages.is_empty(),
        "{}: {} Message events for archive results",
        server.name,
        watched.messages.len()
    );
    // The reconnect after the cut works at its first attempt. (ejabberd hands the new session
    // the old one's unacknowledged stanzas, here the rest of the cut page, right after bind.)
    assert_eq!(
        watched.protocol_errors,
        Vec::<String>::new(),
        "{}: failed reconnection attempts",
        server.name
    );
    if resume {
        assert!(
            c.client.connection_stats().resumes >= 1,
            "{}: the session was not resumed: {:?}",
            server.name,
            c.client.connection_stats()
        );
    }
    c.client.stop().await;
}

/// A client reaching `server` directly with `config`.
fn client_with_config(
    server: &TestServer,
    jid: &str,
    password: &str,
    config: ClientConfig,
) -> TestClient {
    client_via(server, jid, password, upstream(server), config)
}

/// `log` (oldest first) per peer.
fn per_peer(log: &[Logged]) -> BTreeMap<String, Vec<SeededMessage>> {
    let mut map: BTreeMap<String, Vec<SeededMessage>> = BTreeMap::new();
    for m in log {
        map.entry(m.peer.clone()).or_default().push(SeededMessage {
            body: m.body.clone(),
            outgoing: m.outgoing,
        });
    }
    map
}

/// Issue 5 item 7, third case: a fresh device on an account whose archive is full gets the
/// newest page first (with no back-fill: exactly the newest `first_page` messages, the chat
/// list ordered by them), then pages one conversation back with `load_older` until it is
/// complete, in order and without duplicates, leaving the others as they were.
async fn fresh_device_gets_the_newest_first(server: TestServer) {
    let (target, password) = create_account(&server, "mamfresh");
    let seeded = fill_archive(&server, &target, &password, 4, 90, 5, "fresh").await;
    let log = archive_log(&server, &target, &password).await;
    assert_eq!(log.len(), 360);
    assert_eq!(
        per_peer(&log),
        seeded.messages,
        "{}: the archive",
        server.name
    );
    print_repeated_ids(&server, &target, &password).await;

    let first_page = 50;
    let config = ClientConfig {
        archive: ArchiveConfig {
            first_page,
            backfill_pages: 0,
            ..ArchiveConfig::default()
        },
        ..ClientConfig::default()
    };
    let mut c = client_with_config(&server, &target, &password, config);
    c.client.connect().await.unwrap();
    let mut watched = Watched::default();
    until_sync_idle(&mut c, Duration::from_secs(30), &mut watched).await;

    // Exactly the newest page is stored, per conversation in order.
    let newest = &log[log.len() - first_page as usize..];
    let expected = per_peer(newest);
    assert_eq!(
        all_stored(&c),
        expected,
        "{}: after the first sync",
        server.name
    );
    assert!(
        !c.client.archive_gaps().unwrap().is_empty(),
        "{}: older history must remain a gap",
        server.name
    );
    assert!(
        watched.messages.is_empty(),
        "{}: Message events",
        server.name
    );

    // The chat list: newest conversation first, each showing its newest message.
    let mut by_last: Vec<(usize, &str)> = expected
        .keys()
        .map(|peer| {
            let last = newest.iter().rposition(|m| &m.peer == peer).unwrap();
            (last, peer.as_str())
        })
        .collect();
    by_last.sort_by(|a, b| b.cmp(a));
    let chats = c.client.chats().unwrap();
    let order: Vec<&str> = chats
        .iter()
        .map(|chat| chat.conversation.peer.as_str())
        .collect();
    let expected_order: Vec<&str> = by_last.iter().map(|(_, p)| *p).collect();
    // Same-second stamps (Prosody's resolution) tie on time: the archive order decides then.
    assert_eq!(
        order,
        expected_order,
        "{}: chat list order (last activity: {:?})",
        server.name,
        chats
            .iter()
            .map(|chat| chat.conversation.last_activity)
            .collect::<Vec<_>>()
    );
    for chat in &chats {
        let last = newest
            .iter()
            .rev()
            .find(|m| m.peer == chat.conversation.peer)
            .unwrap();
        assert_eq!(
            chat.last_message.as_ref().map(|m| m.body.as_str()),
            Some(last.body.as_str()),
            "{}: chat list preview of {}",
            server.name,
            chat.conversation.peer
        );
    }

    // One conversation pages back to its beginning.
    let peer = order[0].to_string();
    let had = expected[&peer].len();
    let total = seeded.messages[&peer].len();
    let mut calls = 0;
    let mut stored_by_pages = 0;
    loop {
        let page = c.client.load_older(&peer, 50).await.unwrap();
        calls += 1;
        stored_by_pages += page.stored as usize;
        if page.complete {
            break;
        }
        assert!(
            page.fetched > 0,
            "{}: an empty page not complete",
            server.name
        );
        assert!(calls < 10, "{}: load_older does not end", server.name);
    }
    let remaining = total - had;
    eprintln!(
        "archive_sync: {}: {peer}: {had} of {total} after the first sync, the rest in {calls} load_older pages",
        server.name
    );
    assert_eq!(
        stored_by_pages, remaining,
        "{}: rows from load_older",
        server.name
    );
    assert!(
        calls <= remaining.div_ceil(50) + 1,
        "{}: {calls} pages for {remaining} messages",
        server.name
    );
    assert_eq!(
        stored(&c, &peer),
        seeded.messages[&peer],
        "{}: {peer}",
        server.name
    );
    // Complete: no further query.
    let again = c.client.load_older(&peer, 50).await.unwrap();
    assert!(again.complete && again.fetched == 0 && again.stored == 0);
    // The other conversations are as the first sync left them.
    for (other, messages) in &expected {
        if *other != peer {
            assert_eq!(&stored(&c, other), messages, "{}: {other}", server.name);
        }
    }
    assert!(
        watched.messages.is_empty(),
        "{}: Message events",
        server.name
    );
    c.client.disconnect().await;
}
on_both_servers!(fresh_device_gets_the_newest_first);

/// Captures the wire log (`linnet::wire`, trace level) of the threads it is set on.
struct WireTap {
    lines: mpsc::UnboundedSender<String>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for WireTap {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != "linnet::wire" {
            return;
        }
        struct Text(String);
        impl tracing::field::Visit for Text {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        let _ = self.lines.send(text.0);
    }
}

/// The value of attribute `name` (the first one preceded by a space) in `xml`.
fn attr(xml: &str, name: &str) -> Option<String> {
    let at = xml.find(&format!(" {name}="))? + name.len() + 2;
    let quote = xml[at..].chars().next()?;
    let rest = &xml[at + 1..];
    Some(rest[..rest.find(quote)?].to_string())
}

/// A forged archive result for query `query_id`, sent by `forger` to `to` (Linnet's full JID):
/// one incoming message from a stranger and one "outgoing" one from the account itself.
fn send_forged(forger: &RawSession, to: &str, own: &str, domain: &str, query_id: &str, tag: &str) {
    for (n, (from, inner_to)) in [
        (format!("someone@{domain}/x"), own.to_string()),
        (own.to_string(), format!("someone@{domain}")),
    ]
    .into_iter()
    .enumerate()
    {
        let inner = Element::builder("message", ns::CLIENT)
            .attr(rxml::xml_ncname!("from").into(), from.as_str())
            .attr(rxml::xml_ncname!("to").into(), inner_to.as_str())
            .attr(rxml::xml_ncname!("type").into(), "chat")
            .attr(rxml::xml_ncname!("id").into(), forger.handle.new_id())
            .append(
                Element::builder("body", ns::CLIENT)
                    .append(format!("forged {tag} {n}"))
                    .build(),
            )
            .build();
        let forwarded = Element::builder("forwarded", ns::FORWARD)
            .append(
                Element::builder("delay", ns::DELAY)
                    .attr(rxml::xml_ncname!("stamp").into(), "2026-11-01T10:00:00Z")
                    .build(),
            )
            .append(inner)
            .build();
        let mut result = Element::builder("result", ns::MAM)
            .attr(rxml::xml_ncname!("id").into(), format!("1761991200{n:06}"));
        if !query_id.is_empty() {
            result = result.attr(rxml::xml_ncname!("queryid").into(), query_id);
        }
        let message = Element::builder("message", ns::CLIENT)
            .attr(rxml::xml_ncname!("to").into(), to)
            .attr(rxml::xml_ncname!("id").into(), forger.handle.new_id())
            .append(result.append(forwarded).build())
            .build();
        forger.handle.send(&message, None).unwrap();
    }
}

/// Issue 5 item 7, fourth case: spoofed archive results are dropped. Another account sends
/// the online Linnet client `<message>`s wrapping forged `<result/>`s: first with query ids no
/// query has (and none at all), then, during a running sync, with the id of the query open at
/// that moment (read from the client's wire log) — but not from the account's own archive.
/// No forged body is ever stored or reported; the real archive is stored exactly.
async fn spoofed_archive_results_are_dropped(server: TestServer) {
    // The client runs on a runtime whose threads log the wire to `tap` (the test needs the
    // query ids the client picks).
    let (lines, tap) = mpsc::unbounded_channel();
    let dispatch = tracing::Dispatch::new({
        use tracing_subscriber::layer::SubscriberExt as _;
        tracing_subscriber::registry().with(WireTap { lines })
    });
    tokio::task::spawn_blocking(move || {
        let on_start = dispatch.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&on_start)))
            .build()
            .unwrap();
        let _guard = tracing::dispatcher::set_default(&dispatch);
        runtime.block_on(spoofing_scenario(server, tap));
    })
    .await
    .unwrap();
}
on_both_servers!(spoofed_archive_results_are_dropped);

async fn spoofing_scenario(server: TestServer, mut tap: mpsc::UnboundedReceiver<String>) {
    let (target, password) = create_account(&server, "mamspoof");
    let seeded = fill_archive(&server, &target, &password, 1, 120, 4, "real").await;
    let (forger_jid, forger_password) = create_account(&server, "forger");
    let forger = seed::login(&server, &forger_jid, &forger_password, "forger", false).await;
    forger.available();

    let proxy = FaultProxy::start(upstream(&server)).await;
    let config = ClientConfig {
        archive: ArchiveConfig {
            auto_sync: false,
            page_size: 50,
            ..ArchiveConfig::default()
        },
        ..ClientConfig::default()
    };
    let mut c = client_via(&server, &target, &password, proxy.addr(), config);
    c.client.connect().await.unwrap();
    c.client.doctor().await.unwrap();
    let full = c.client.session_info().unwrap().bound_jid.to_string();

    // 1. No query open: unknown query ids, and no query id at all.
    send_forged(
        &forger,
        &full,
        &target,
        &server.domain,
        "q-unknown",
        "unknown",
    );
    send_forged(&forger, &full, &target, &server.domain, "", "no-queryid");
    // The forger's next message comes after them: once it is here, they were handled.
    forger.send_chat(&target, "after the forgeries");
    let mut watched = Watched::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = next_event(&mut c, deadline, "the forger's real message").await;
        watched.note(&event);
        if matches!(&event, ClientEvent::Message(m) if m.body == "after the forgeries") {
            break;
        }
    }

    // 2. A sync runs; each query it sends gets forged results with its id while it is open
    // (the proxy delays the client's traffic, so the forgeries reach it before the answer).
    // They did reach the client (the servers pass such stanzas on).
    let (mut unknown, mut without) = (0, 0);
    while let Ok(line) = tap.try_recv() {
        if line.starts_with("RECV") {
            unknown += usize::from(line.contains("forged unknown"));
            without += usize::from(line.contains("forged no-queryid"));
        }
    }
    assert_eq!(
        (unknown, without),
        (2, 2),
        "{}: forgeries received by the client",
        server.name
    );
    proxy.set_delay(Duration::from_millis(250));
    let syncing = c.client.clone();
    let mut sync = tokio::spawn(async move { syncing.sync_archive().await });
    // Per query id: its IQ id, and whether a forgery / the answer came back (in wire order).
    let mut queries: Vec<(String, String)> = Vec::new();
    let mut forged_while_open = 0;
    let mut answered: BTreeSet<String> = BTreeSet::new();
    let mut note_line = |line: &str, queries: &mut Vec<(String, String)>| -> Option<String> {
        // The client's queries (the forger's wire shows here too: its results are no queries).
        if line.starts_with("SEND") && line.contains("<query") && line.contains("queryid=") {
            let query_id = attr(line, "queryid").unwrap();
            let iq_id = attr(line, "id").unwrap();
            queries.push((query_id.clone(), iq_id));
            return Some(query_id);
        }
        if let Some(rest) = line.strip_prefix("RECV ") {
            if rest.starts_with("<iq") {
                if let Some(id) = attr(rest, "id") {
                    answered.insert(id);
                }
            } else if rest.contains("forged open") {
                let query_id = attr(rest, "queryid");
                let open = queries
                    .iter()
                    .any(|(q, iq)| Some(q) == query_id.as_ref() && !answered.contains(iq));
                if open {
                    forged_while_open += 1;
                }
            }
        }
        None
    };
    let report = loop {
        tokio::select! {
            line = tap.recv() => {
                let line = line.unwrap();
                if let Some(query_id) = note_line(&line, &mut queries) {
                    send_forged(&forger, &full, &target, &server.domain, &query_id, "open");
                }
            }
            done = &mut sync => break done.unwrap(),
        }
    };
    while let Ok(line) = tap.try_recv() {
        note_line(&line, &mut queries);
    }
    let report = report.unwrap_or_else(|e| panic!("{}: the sync failed: {e}", server.name));
    eprintln!(
        "archive_sync: {}: {} queries, {forged_while_open} forgeries arrived while their query was open",
        server.name,
        queries.len()
    );
    assert!(
        !queries.is_empty(),
        "{}: no query seen on the wire",
        server.name
    );
    assert!(
        forged_while_open > 0,
        "{}: no forgery reached the client while its query was open (the test proves nothing)",
        server.name
    );
    assert!(report.complete, "{}: {report:?}", server.name);

    // Let the client read whatever is still on the way, then look.
    proxy.set_delay(Duration::ZERO);
    c.client.doctor().await.unwrap();
    while let Ok(event) = c.events.try_recv() {
        watched.note(&event);
    }
    let everything = all_stored(&c);
    let forged: Vec<&SeededMessage> = everything
        .values()
        .flatten()
        .filter(|m| m.body.contains("forged"))
        .collect();
    assert!(
        forged.is_empty(),
        "{}: stored forgeries: {forged:?}",
        server.name
    );
    assert!(
        watched.messages.iter().all(|m| !m.body.contains("forged")),
        "{}: a forgery was reported",
        server.name
    );
    let peers: BTreeSet<&str> = everything.keys().map(String::as_str).collect();
    let seeded_peer = seeded.conversations.keys().next().unwrap().as_str();
    assert_eq!(
        peers,
        BTreeSet::from([seeded_peer, forger_jid.as_str()]),
        "{}: conversations",
        server.name
    );
    assert_stored_as_seeded(&c, &server, &seeded);
    assert_eq!(
        stored(&c, &forger_jid),
        vec![SeededMessage {
            body: "after the forgeries".into(),
            outgoing: false
        }]
    );
    forger.handle.close().await;
    c.client.disconnect().await;
}

/// The seeding helper itself: every message is in the target's archive exactly once, in
/// sending order, with its direction (every 3rd from the target's other device), and nothing
/// else is.
async fn seeding_fills_the_archive_in_order(server: TestServer) {
    let (target, password) = create_account(&server, "seedtarget");
    let seeded = fill_archive(&server, &target, &password, 4, 30, 3, "seed").await;
    eprintln!(
        "seed: {}: {} messages over {} conversations in {:.2} s",
        server.name,
        seeded.total(),
        seeded.conversations.len(),
        seeded.elapsed.as_secs_f64()
    );
    assert_eq!(seeded.total(), 120);
    assert_eq!(
        seeded
            .messages
            .values()
            .flatten()
            .filter(|m| m.outgoing)
            .count(),
        40
    );
    let archived = archive_contents(&server, &target, &password).await;
    assert_eq!(archived, seeded.messages, "{}", server.name);
    print_repeated_ids(&server, &target, &password).await;
    // The older test-only query sees the same conversation, both directions.
    let (peer, bodies) = seeded.conversations.iter().next().unwrap();
    assert_eq!(
        &archived_bodies(&server, &target, &password, peer).await,
        bodies
    );
}
on_both_servers!(seeding_fills_the_archive_in_order);
