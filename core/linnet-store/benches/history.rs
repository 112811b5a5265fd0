//! Opening a long conversation: `Store::history` on a conversation of 100,000 stored messages
//! (issue 5: the first page in under 10 ms). Not a test: `cargo bench -p linnet-store --bench
//! history` prints the figures (docs/benchmarks.md, "Archive catch-up").
//!
//! The database is a file in a temporary dir (WAL, as the SDK opens it), filled once through the
//! public `Store::insert_messages` (in batches, as archive sync stores pages) before anything is
//! timed: 100,000 messages with one peer
//! (alternating incoming and outgoing, one second apart, each with the ids an archive result
//! carries) and 1,000 with each of 9 other peers interleaved in time, so the conversation's index
//! range is not the whole table. Timed, each on the warm, open store:
//!
//! - `first_page`: `history(account, peer, 50, None)`, what a timeline shows when it opens;
//! - `next_page`: `history(account, peer, 50, Some(oldest of the first page))`, the first scroll;
//! - `deep_page`: the page before a message 50,000 back, a long scroll (same query);
//! - `reopen_first_page`: `Store::open` of the same file plus the first page, an app's cold start
//!   (the OS page cache is warm: the file was just written).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use linnet_store::{ConnectionSettings, MessageState, NewAccount, NewMessage, Placement, Store};

const ME: &str = "me@example.org";
const PEER: &str = "long@example.org";
const MESSAGES: i64 = 100_000;
const OTHER_PEERS: i64 = 9;
const OTHER_EACH: i64 = 1_000;
const PAGE: u32 = 50;
/// 2026-01-01T00:00:00Z, ms.
const T0: i64 = 1_767_225_600_000;

fn message(account: i64, peer: &str, i: i64, ts: i64) -> NewMessage {
    let incoming = i % 2 == 0;
    let body = format!("message {i} with {peer}: a line of ordinary chat text, about this long");
    let xmpp_id = format!("{peer}-{i:08x}-0b1d5c2e");
    NewMessage {
        server_id: Some(format!("arch-{peer}-{i:010}")),
        origin_id: Some(xmpp_id.clone()),
        xmpp_id: Some(xmpp_id),
        state: if incoming {
            MessageState::Displayed
        } else {
            MessageState::Acked
        },
        ..if incoming {
            NewMessage::incoming(account, peer, &body, ts)
        } else {
            NewMessage::outgoing(account, ME, peer, "", &body, ts)
        }
    }
}

fn fill(store: &Store) -> i64 {
    let account = store
        .create_account(&NewAccount {
            jid: ME.into(),
            resource: "linnet.bench".into(),
            settings: ConnectionSettings::default(),
        })
        .unwrap()
        .id;
    let others: Vec<String> = (0..OTHER_PEERS)
        .map(|p| format!("other{p}@example.org"))
        .collect();
    let every = MESSAGES / (OTHER_PEERS * OTHER_EACH);
    let mut other_i = 0;
    // In batches, as archive sync stores its pages (one transaction each).
    let mut batch = Vec::with_capacity(1100);
    for i in 0..MESSAGES {
        let ts = T0 + i * 1_000;
        batch.push(message(account, PEER, i, ts));
        if i % every == 0 && other_i < OTHER_PEERS * OTHER_EACH {
            let peer = &others[(other_i % OTHER_PEERS) as usize];
            batch.push(message(account, peer, other_i, ts + 500));
            other_i += 1;
        }
        if batch.len() >= 1000 {
            store
                .insert_messages(&batch, Placement::ArchiveNewer)
                .unwrap();
            batch.clear();
        }
    }
    store
        .insert_messages(&batch, Placement::ArchiveNewer)
        .unwrap();
    account
}

fn history(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("linnet.db");
    let store = Store::open(&path).unwrap();
    let t = Instant::now();
    let account = fill(&store);
    eprintln!(
        "filled {} messages ({MESSAGES} with {PEER}) in {:.1} s",
        MESSAGES + OTHER_PEERS * OTHER_EACH,
        t.elapsed().as_secs_f64()
    );

    let first = store.history(account, PEER, PAGE, None).unwrap();
    assert_eq!(first.len(), PAGE as usize);
    assert!(first.iter().all(|m| m.peer == PEER));
    let oldest = first.last().unwrap().id;
    let second = store.history(account, PEER, PAGE, Some(oldest)).unwrap();
    assert_eq!(second.len(), PAGE as usize);
    assert!(second.first().unwrap().timestamp < first.last().unwrap().timestamp);
    // A message about half-way back in the conversation.
    let middle: i64 = {
        let mut before = Some(oldest);
        for _ in 0..(MESSAGES / i64::from(PAGE) / 2) {
            before = store
                .history(account, PEER, PAGE, before)
                .unwrap()
                .last()
                .map(|m| m.id);
        }
        before.unwrap()
    };

    let mut g = c.benchmark_group("history_100k");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("first_page", |b| {
        b.iter(|| black_box(store.history(account, PEER, PAGE, None).unwrap()))
    });
    g.bench_function("next_page", |b| {
        b.iter(|| black_box(store.history(account, PEER, PAGE, Some(oldest)).unwrap()))
    });
    g.bench_function("deep_page", |b| {
        b.iter(|| black_box(store.history(account, PEER, PAGE, Some(middle)).unwrap()))
    });
    g.bench_function("reopen_first_page", |b| {
        b.iter(|| {
            let s = Store::open(&path).unwrap();
            black_box(s.history(account, PEER, PAGE, None).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
