//! Linnet's benchmarks against a real local server (Prosody from `tests/servers/servers.sh`).
//! Not a test: it prints figures. `benches/run.sh` creates the accounts, runs this binary and the
//! slixmpp reference (`benches/slixmpp_bench.py`) on the same server and prints both side by side.
//!
//! Each figure is measured through the public SDK only (`linnet_sdk`):
//!
//! - `connect`: `Client::connect()` on a fresh client (new data dir, so no cached roster version):
//!   TCP, STARTTLS, TLS, SASL SCRAM, bind, stream management, roster fetch, carbons, initial
//!   presence. The data dir is set up before the clock starts.
//! - `rtt`: alice `send_message` to bob (mutual contacts), bob's client answers with a XEP-0184
//!   receipt by itself, until alice's client emits `MessageState::Delivered` for that message.
//! - `burst`: `send_message` N times to an offline account, then until every one of them is
//!   `MessageState::Acked` (XEP-0198 acks from the server).
//! - `reconnect`: the client reaches the server through a fault proxy; each run cuts the
//!   connection while new connections are refused, queues a message while offline, then lets
//!   the network return and signals it (`Client::hint_reconnect`, as a platform's network
//!   monitor does): timed from the network's return until the server acknowledged the queued
//!   message. Once with XEP-0198 resumption (`reconnect_resume`), once without
//!   (`reconnect_full`: login, bind, roster, carbons, presence, then the outbox).
//! - `catchup` (issue 5, `--catchup FILE`): `Client::sync_archive()` of an account whose archive
//!   received many messages (10,000 in run.sh) while it was offline, after it had synced once
//!   before: a forward catch-up from the last archive id it had. Each run starts from a copy of
//!   the template data dir of that first sync (`--catchup-prepare before`), connects with the
//!   automatic sync off, and is timed from the `sync_archive()` call until it returns, with the
//!   process's CPU time over that span. The archive is not changed by a catch-up, so every run
//!   (and the floor client and slixmpp) reads the same one. `--catchup-prepare seed` fills it
//!   (`linnet_tests::seed::fill_archive`).
//!
//! Output: one JSON object on stdout (raw samples and CPU times); progress on stderr.
//!
//! `--timeline N` instead runs N traced connects (a tracing layer timestamps Linnet's own log
//! events and every XML write and read) and prints the median time of each step: where a connect
//! spends its time. Tracing costs a little, so the headline figures never run with it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod proc_stat;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linnet_sdk::store::Subscription;
use linnet_sdk::{
    AccountSettings, ArchiveConfig, Client, ClientConfig, ClientEvent, ConnectionState, Linnet,
    MessageState, Secret,
};
use linnet_tests::fault_proxy::FaultProxy;
use proc_stat::cpu_seconds;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// One account from the accounts file.
#[derive(Clone)]
struct Account {
    jid: String,
    password: String,
}

struct Server {
    host: String,
    port: u16,
    ca_pem: String,
    pid: Option<u32>,
}

struct Args {
    accounts: PathBuf,
    runs: usize,
    warmup: usize,
    messages: usize,
    only: Vec<String>,
    timeline: Option<usize>,
    catchup: Option<PathBuf>,
    catchup_prepare: Option<String>,
    peers: usize,
    page_size: u32,
}

fn usage() -> ! {
    eprintln!(
        "usage: linnet-bench --accounts FILE [--runs 50] [--warmup 3] [--messages 1000] \
         [--only connect,rtt,burst,arrival,reconnect,catchup] [--timeline N] \
         [--catchup FILE [--page-size 250] [--catchup-prepare before|seed [--peers 20]]]\n\
         FILE: {{\"server\": \"prosody\", \"connect\": {{\"jid\":..,\"password\":..}}, \"alice\": .., \"bob\": .., \"sink\": ..}}"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        accounts: PathBuf::new(),
        runs: 50,
        warmup: 3,
        messages: 1000,
        only: vec!["connect".into(), "rtt".into(), "burst".into()],
        timeline: None,
        catchup: None,
        catchup_prepare: None,
        peers: 20,
        page_size: 250,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--accounts" => args.accounts = PathBuf::from(value()),
            "--runs" => args.runs = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => args.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--messages" => args.messages = value().parse().unwrap_or_else(|_| usage()),
            "--only" => args.only = value().split(',').map(str::to_string).collect(),
            "--timeline" => args.timeline = Some(value().parse().unwrap_or_else(|_| usage())),
            "--catchup" => args.catchup = Some(PathBuf::from(value())),
            "--catchup-prepare" => args.catchup_prepare = Some(value()),
            "--peers" => args.peers = value().parse().unwrap_or_else(|_| usage()),
            "--page-size" => args.page_size = value().parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if args.accounts.as_os_str().is_empty() && args.catchup.is_none() {
        usage();
    }
    args
}

fn state_dir() -> PathBuf {
    std::env::var_os("LINNET_TEST_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/linnet-test-servers"))
}

fn load_server(name: &str) -> Server {
    let dir = state_dir();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("servers.json")).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; start the servers: tests/servers/servers.sh start",
                dir.join("servers.json").display()
            )
        }),
    )
    .unwrap();
    let s = &json[name];
    Server {
        host: s["host"].as_str().unwrap().to_string(),
        port: s["starttls_port"].as_u64().unwrap() as u16,
        ca_pem: std::fs::read_to_string(json["ca_file"].as_str().unwrap()).unwrap(),
        pid: std::fs::read_to_string(dir.join(format!("{name}.pid")))
            .ok()
            .and_then(|p| p.trim().parse().ok()),
    }
}

/// CPU used by this process and by the server between `start()` and `stop()`.
struct CpuMeter {
    server_pid: Option<u32>,
    own: Option<f64>,
    server: Option<f64>,
}

impl CpuMeter {
    fn start(server_pid: Option<u32>) -> CpuMeter {
        CpuMeter {
            server_pid,
            own: cpu_seconds(None),
            server: cpu_seconds(server_pid),
        }
    }

    fn stop(&self) -> Value {
        let d = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => json!(((b - a) * 100.0).round() / 100.0),
            _ => Value::Null,
        };
        json!({ "client_s": d(self.own, cpu_seconds(None)), "server_s": d(self.server, cpu_seconds(self.server_pid)) })
    }
}

struct Bench {
    server: Server,
    root: tempfile::TempDir,
    next_dir: usize,
}

/// A client of one account, in its own data dir.
struct Peer {
    client: Client,
    events: broadcast::Receiver<ClientEvent>,
    _linnet: Linnet,
}

impl Bench {
    fn settings(&self) -> AccountSettings {
        AccountSettings {
            server: Some((self.server.host.clone(), self.server.port)),
            direct_tls: false,
            ca_pem: Some(self.server.ca_pem.clone()),
        }
    }

    fn fresh_dir(&mut self) -> PathBuf {
        self.next_dir += 1;
        self.root.path().join(format!("c{}", self.next_dir))
    }

    /// A new, unconnected client with its own fresh data dir.
    fn peer(&mut self, account: &Account) -> Peer {
        let dir = self.fresh_dir();
        let linnet = Linnet::open(&dir).unwrap();
        linnet
            .add_account(
                &account.jid,
                Secret::from(account.password.as_str()),
                self.settings(),
            )
            .unwrap();
        let client = linnet.client(Some(&account.jid)).unwrap();
        let events = client.subscribe();
        Peer {
            client,
            events,
            _linnet: linnet,
        }
    }
}

/// 5. Reconnect: network back to the queued message acknowledged, through a fault proxy.
async fn bench_reconnect(
    b: &mut Bench,
    alice: &Account,
    sink: &Account,
    resume: bool,
    warmup: usize,
    runs: usize,
) -> Value {
    let upstream = format!("{}:{}", b.server.host, b.server.port)
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(upstream).await;
    let dir = b.fresh_dir();
    let linnet = Linnet::open(&dir).unwrap().with_config(ClientConfig {
        resume_sessions: resume,
        ..ClientConfig::default()
    });
    let settings = AccountSettings {
        server: Some((proxy.addr().ip().to_string(), proxy.addr().port())),
        ..b.settings()
    };
    linnet
        .add_account(&alice.jid, Secret::from(alice.password.as_str()), settings)
        .unwrap();
    let client = linnet.client(Some(&alice.jid)).unwrap();
    client.start().await.unwrap();
    let mut samples = Vec::with_capacity(runs);
    let mut online_samples = Vec::with_capacity(runs);
    for i in 0..warmup + runs {
        proxy.refuse_new(true);
        proxy.cut();
        while client.connection_state() == ConnectionState::Online {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let id = client
            .send_message(&sink.jid, &format!("queued while offline {i}"))
            .unwrap();
        let t0 = Instant::now();
        proxy.refuse_new(false);
        client.hint_reconnect();
        while client.connection_state() != ConnectionState::Online {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let online = t0.elapsed();
        let m = client
            .wait_for_state(id, MessageState::Acked, Duration::from_secs(20))
            .await
            .unwrap();
        let dt = t0.elapsed();
        assert_eq!(m.state, MessageState::Acked, "{:?}", m.failure_reason);
        if i >= warmup {
            samples.push(millis(dt));
            online_samples.push(millis(online));
        }
    }
    let stats = client.connection_stats();
    client.stop().await;
    if resume {
        assert!(stats.resumes as usize >= warmup + runs, "{stats:?}");
    } else {
        assert_eq!(stats.resumes, 0, "{stats:?}");
    }
    let mut v = summary(&samples);
    v["warmup"] = json!(warmup);
    v["online"] = summary(&online_samples);
    v["resumes"] = json!(stats.resumes);
    v["fresh_sessions"] = json!(stats.fresh_sessions);
    eprintln!(
        "linnet reconnect ({}): median {:.2} ms (online after {:.2} ms)",
        if resume { "resume" } else { "full" },
        v["median_ms"].as_f64().unwrap_or(f64::NAN),
        v["online"]["median_ms"].as_f64().unwrap_or(f64::NAN)
    );
    v
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn summary(samples: &[f64]) -> Value {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    json!({
        "n": s.len(),
        "median_ms": median(&s),
        "p90_ms": percentile(&s, 90.0),
        "p99_ms": percentile(&s, 99.0),
        "min_ms": s.first().copied().unwrap_or(f64::NAN),
        "max_ms": s.last().copied().unwrap_or(f64::NAN),
        "samples_ms": samples,
    })
}

/// Waits for the first event matching `pred`.
async fn expect<T>(
    events: &mut broadcast::Receiver<ClientEvent>,
    what: &str,
    timeout: Duration,
    mut pred: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => panic!("timed out waiting for {what}"),
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                panic!("lost {n} events waiting for {what}")
            }
            Ok(Err(e)) => panic!("event stream ended waiting for {what}: {e}"),
            Ok(Ok(ev)) => {
                if let Some(v) = pred(&ev) {
                    return v;
                }
            }
        }
    }
}

/// 1. Connect to ready: a fresh client each run; only `connect()` is timed.
async fn bench_connect(b: &mut Bench, account: &Account, warmup: usize, runs: usize) -> Value {
    let mut samples = Vec::with_capacity(runs);
    let mut cpu = None;
    for i in 0..warmup + runs {
        if i == warmup {
            cpu = Some(CpuMeter::start(b.server.pid));
        }
        let peer = b.peer(account);
        let t0 = Instant::now();
        peer.client.connect().await.unwrap();
        let dt = t0.elapsed();
        if i >= warmup {
            samples.push(millis(dt));
        }
        peer.client.disconnect().await;
    }
    let cpu = cpu.map(|c| c.stop()).unwrap_or(Value::Null);
    let mut v = summary(&samples);
    v["warmup"] = json!(warmup);
    v["cpu_total"] = cpu;
    eprintln!(
        "linnet connect-to-ready: median {:.2} ms",
        v["median_ms"].as_f64().unwrap_or(f64::NAN)
    );
    v
}

/// Makes `a` and `b` mutual contacts (as `befriend` in tests/src/lib.rs).
async fn befriend(a: &mut Peer, a_jid: &str, b: &mut Peer, b_jid: &str) {
    let t = Duration::from_secs(20);
    let mutual = |p: &Peer, other: &str| {
        p.client
            .roster()
            .unwrap()
            .iter()
            .any(|c| c.jid == other && c.subscription == Subscription::Both)
    };
    if mutual(a, b_jid) && mutual(b, a_jid) {
        return; // already contacts (an earlier phase of the same run)
    }
    a.client.add_contact(b_jid, None).await.unwrap();
    expect(&mut b.events, "subscription request", t, |e| {
        matches!(e, ClientEvent::SubscriptionRequest { from } if from == a_jid).then_some(())
    })
    .await;
    b.client.approve(a_jid).unwrap();
    b.client.add_contact(a_jid, None).await.unwrap();
    expect(&mut a.events, "subscription request", t, |e| {
        matches!(e, ClientEvent::SubscriptionRequest { from } if from == b_jid).then_some(())
    })
    .await;
    a.client.approve(b_jid).unwrap();
    for (p, other) in [(&mut *a, b_jid), (&mut *b, a_jid)] {
        let deadline = Instant::now() + t;
        while !p
            .client
            .roster()
            .unwrap()
            .iter()
            .any(|c| c.jid == other && c.subscription == Subscription::Both)
        {
            assert!(
                Instant::now() < deadline,
                "no mutual subscription with {other}"
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), p.events.recv()).await;
        }
    }
}

/// Alice and bob connected and mutual contacts, alice's event queue drained of the set-up.
async fn connected_friends(b: &mut Bench, alice: &Account, bob: &Account) -> (Peer, Peer) {
    let mut a = b.peer(alice);
    let mut bb = b.peer(bob);
    a.client.connect().await.unwrap();
    bb.client.connect().await.unwrap();
    befriend(&mut a, &alice.jid, &mut bb, &bob.jid).await;
    while a.events.try_recv().is_ok() {}
    (a, bb)
}

/// 2. Round trip: alice sends, bob's client sends the receipt, alice sees Delivered.
async fn bench_rtt(
    b: &mut Bench,
    alice: &Account,
    bob: &Account,
    warmup: usize,
    runs: usize,
) -> Value {
    let (mut a, bb) = connected_friends(b, alice, bob).await;
    let mut samples = Vec::with_capacity(runs);
    let mut cpu = None;
    for i in 0..warmup + runs {
        if i == warmup {
            cpu = Some(CpuMeter::start(b.server.pid));
        }
        let t0 = Instant::now();
        let id = a
            .client
            .send_message(&bob.jid, &format!("ping {i}"))
            .unwrap();
        expect(&mut a.events, "delivery receipt", Duration::from_secs(20), |e| {
            matches!(e, ClientEvent::MessageState { id: m, state: MessageState::Delivered, .. } if *m == id)
                .then_some(())
        })
        .await;
        let dt = t0.elapsed();
        if i >= warmup {
            samples.push(millis(dt));
        }
    }
    let cpu = cpu.map(|c| c.stop()).unwrap_or(Value::Null);
    a.client.disconnect().await;
    bb.client.disconnect().await;
    let mut v = summary(&samples);
    v["warmup"] = json!(warmup);
    v["cpu_total"] = cpu;
    eprintln!(
        "linnet round trip: median {:.2} ms",
        v["median_ms"].as_f64().unwrap_or(f64::NAN)
    );
    v
}

/// 4. Arrival: bob sends, until alice's SDK reports the stored message (`ClientEvent::Message`).
///
/// The Rust reference for the bindings' "socket to ChatList listener in Kotlin" figure
/// (bindings/bench): both include bob's send and the server hop on loopback.
async fn bench_arrival(
    b: &mut Bench,
    alice: &Account,
    bob: &Account,
    warmup: usize,
    runs: usize,
) -> Value {
    let (mut a, bb) = connected_friends(b, alice, bob).await;
    let mut samples = Vec::with_capacity(runs);
    for i in 0..warmup + runs {
        let body = format!("arrival {i}");
        let t0 = Instant::now();
        bb.client.send_message(&alice.jid, &body).unwrap();
        expect(
            &mut a.events,
            "the message at alice",
            Duration::from_secs(20),
            |e| matches!(e, ClientEvent::Message(m) if m.body == body).then_some(()),
        )
        .await;
        if i >= warmup {
            samples.push(millis(t0.elapsed()));
        }
    }
    a.client.disconnect().await;
    bb.client.disconnect().await;
    let mut v = summary(&samples);
    v["warmup"] = json!(warmup);
    eprintln!(
        "linnet arrival (rust sdk event): median {:.3} ms, p99 {:.3} ms",
        v["median_ms"].as_f64().unwrap_or(f64::NAN),
        v["p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    v
}

/// 3. N messages to an offline account, until the server has acknowledged all of them.
async fn bench_burst(b: &mut Bench, alice: &Account, sink: &Account, n: usize) -> Value {
    let mut a = b.peer(alice);
    a.client.connect().await.unwrap();
    // Let the connect's own traffic (presence, roster) settle, then start clean.
    tokio::time::sleep(Duration::from_millis(300)).await;
    while a.events.try_recv().is_ok() {}
    let cpu = CpuMeter::start(b.server.pid);
    let t0 = Instant::now();
    let mut pending = HashSet::with_capacity(n);
    for i in 0..n {
        pending.insert(
            a.client
                .send_message(&sink.jid, &format!("message {i} of the burst"))
                .unwrap(),
        );
    }
    let send_loop = t0.elapsed();
    let mut lagged = false;
    // When each tenth of the messages had been acknowledged: a server that slows down as it
    // stores more shows here.
    let step = (n / 10).max(1);
    let mut progress = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    while !pending.is_empty() {
        match tokio::time::timeout_at(deadline, a.events.recv()).await {
            Err(_) => panic!("{} of {n} messages never acknowledged", pending.len()),
            Ok(Ok(ClientEvent::MessageState {
                id,
                state: MessageState::Acked,
                ..
            })) => {
                if pending.remove(&id) && (n - pending.len()).is_multiple_of(step) {
                    progress.push(json!([n - pending.len(), millis(t0.elapsed())]));
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                // Events were lost: ask the store instead (each call returns at once when reached).
                lagged = true;
                for id in pending.drain().collect::<Vec<_>>() {
                    let m = a
                        .client
                        .wait_for_state(id, MessageState::Acked, Duration::from_secs(120))
                        .await
                        .unwrap();
                    assert_eq!(m.state, MessageState::Acked, "message {id}");
                }
            }
            Ok(Err(e)) => panic!("event stream ended: {e}"),
        }
    }
    let total = t0.elapsed();
    let cpu = cpu.stop();
    a.client.disconnect().await;
    let v = json!({
        "messages": n,
        "send_loop_ms": millis(send_loop),
        "total_ms": millis(total),
        "msgs_per_s": (n as f64 / total.as_secs_f64()).round(),
        "events_lagged": lagged,
        "acked_at_ms": progress,
        "cpu_total": cpu,
    });
    eprintln!(
        "linnet {n} acked messages: {:.1} ms ({} msg/s)",
        millis(total),
        v["msgs_per_s"]
    );
    v
}

/// Timestamps of Linnet's log events and XML writes/reads, for `--timeline`.
#[derive(Clone, Default)]
struct Recorder {
    marks: Arc<Mutex<Vec<(Instant, String)>>>,
}

struct MessageVisitor(String);

impl tracing::field::Visit for MessageVisitor {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let now = Instant::now();
        let mut v = MessageVisitor(String::new());
        event.record(&mut v);
        self.marks.lock().unwrap().push((now, v.0));
    }
}

/// A short name for a wire line or log message.
fn step_name(msg: &str) -> String {
    let Some(xml) = msg
        .strip_prefix("SEND ")
        .map(|x| ("SEND", x))
        .or_else(|| msg.strip_prefix("RECV ").map(|x| ("RECV", x)))
    else {
        return msg.to_string();
    };
    let (dir, text) = xml;
    // First element name and, for IQs, the payload's element.
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        let tag = &rest[lt + 1..];
        let end = tag
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(tag.len());
        let name = &tag[..end];
        if !name.is_empty() && !name.starts_with('?') && !name.starts_with('/') {
            names.push(name.to_string());
        }
        if names.len() >= 2 {
            break;
        }
        rest = &tag[end..];
    }
    format!("{dir} <{}>", names.join("><"))
}

async fn timeline(b: &mut Bench, account: &Account, runs: usize, recorder: Recorder) -> Value {
    // Per run: list of (step, ms since connect() was called); keep the median run's.
    let mut all: Vec<(f64, Vec<(String, f64)>)> = Vec::new();
    for i in 0..runs + 2 {
        let peer = b.peer(account);
        recorder.marks.lock().unwrap().clear();
        let t0 = Instant::now();
        peer.client.connect().await.unwrap();
        let total = t0.elapsed();
        let marks = std::mem::take(&mut *recorder.marks.lock().unwrap());
        peer.client.disconnect().await;
        if i < 2 {
            continue; // warm-up
        }
        let mut steps: Vec<(String, f64)> = marks
            .iter()
            .filter(|(t, _)| *t >= t0)
            .map(|(t, m)| (step_name(m), millis(*t - t0)))
            .collect();
        steps.push(("connect() returned".into(), millis(total)));
        all.push((millis(total), steps));
    }
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (total, steps) = all[all.len() / 2].clone();
    print_steps(
        &format!("linnet connect timeline (median of {runs} traced runs, total {total:.2} ms):"),
        &steps,
    );
    json!({ "total_ms": total, "steps": steps.iter().map(|(n, t)| json!([n, t])).collect::<Vec<_>>() })
}

fn print_steps(title: &str, steps: &[(String, f64)]) {
    eprintln!("{title}");
    let mut prev = 0.0;
    for (name, at) in steps {
        eprintln!("  {at:8.2} ms  (+{:6.2})  {name}", at - prev);
        prev = *at;
    }
}

/// Traced round trips (both clients live in this process, so their lines interleave: alice
/// sends the body, bob receives it and sends the `<received/>`, alice receives that).
async fn timeline_rtt(
    b: &mut Bench,
    alice: &Account,
    bob: &Account,
    runs: usize,
    recorder: Recorder,
) -> Value {
    let mut a = b.peer(alice);
    let mut bb = b.peer(bob);
    a.client.connect().await.unwrap();
    bb.client.connect().await.unwrap();
    befriend(&mut a, &alice.jid, &mut bb, &bob.jid).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while a.events.try_recv().is_ok() {}
    let mut all: Vec<(f64, Vec<(String, f64)>)> = Vec::new();
    for i in 0..runs + 2 {
        recorder.marks.lock().unwrap().clear();
        let t0 = Instant::now();
        let id = a
            .client
            .send_message(&bob.jid, &format!("traced ping {i}"))
            .unwrap();
        expect(&mut a.events, "delivery receipt", Duration::from_secs(20), |e| {
            matches!(e, ClientEvent::MessageState { id: m, state: MessageState::Delivered, .. } if *m == id)
                .then_some(())
        })
        .await;
        let total = t0.elapsed();
        // Let trailing acks reach the log, then take the marks up to the Delivered event.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let marks = std::mem::take(&mut *recorder.marks.lock().unwrap());
        if i < 2 {
            continue;
        }
        let mut steps: Vec<(String, f64)> = marks
            .iter()
            .filter(|(t, _)| *t >= t0 && *t <= t0 + total)
            .map(|(t, m)| (step_name(m), millis(*t - t0)))
            .collect();
        steps.push(("alice sees Delivered".into(), millis(total)));
        all.push((millis(total), steps));
    }
    a.client.disconnect().await;
    bb.client.disconnect().await;
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let samples: Vec<f64> = all.iter().map(|x| x.0).collect();
    let (total, steps) = all[all.len() / 2].clone();
    print_steps(
        &format!(
            "linnet round trip timeline (median of {runs} traced runs, total {total:.2} ms; all: {samples:?}):"
        ),
        &steps,
    );
    json!({ "total_ms": total, "all_ms": samples, "steps": steps.iter().map(|(n, t)| json!([n, t])).collect::<Vec<_>>() })
}

/// A traced burst: how many ack requests Linnet wrote and acks it read for `n` messages.
async fn timeline_burst(
    b: &mut Bench,
    alice: &Account,
    sink: &Account,
    n: usize,
    recorder: Recorder,
) -> Value {
    let mut a = b.peer(alice);
    a.client.connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    while a.events.try_recv().is_ok() {}
    recorder.marks.lock().unwrap().clear();
    let t0 = Instant::now();
    let mut pending = HashSet::new();
    for i in 0..n {
        pending.insert(
            a.client
                .send_message(&sink.jid, &format!("traced burst {i}"))
                .unwrap(),
        );
    }
    while !pending.is_empty() {
        if let Ok(Ok(ClientEvent::MessageState {
            id,
            state: MessageState::Acked,
            ..
        })) = tokio::time::timeout(Duration::from_secs(120), a.events.recv()).await
        {
            pending.remove(&id);
        }
    }
    let total = t0.elapsed();
    let marks = std::mem::take(&mut *recorder.marks.lock().unwrap());
    a.client.disconnect().await;
    // Elements, not lines: one read can carry several acks.
    let count = |dir: &str, element: &str| {
        marks
            .iter()
            .filter_map(|(_, m)| m.strip_prefix(dir))
            .map(|text| text.matches(element).count())
            .sum::<usize>()
    };
    let v = json!({
        "messages": n,
        "total_ms": millis(total),
        "sent_messages": count("SEND ", "<message "),
        "sent_ack_requests": count("SEND ", "<r "),
        "received_acks": count("RECV ", "<a "),
        "reads": marks.iter().filter(|(_, m)| m.starts_with("RECV ")).count(),
    });
    eprintln!("linnet traced burst of {n}: {v}");
    v
}

/// The catch-up file written by run.sh: the account, the template data dir, the archive id
/// where the catch-up starts (for the floor client and slixmpp; Linnet has it in its store).
struct Catchup {
    server: String,
    account: Account,
    template: PathBuf,
}

fn load_catchup(path: &Path) -> Catchup {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Catchup {
        server: v["server"].as_str().unwrap_or("prosody").to_string(),
        account: account(&v, "catchup"),
        template: PathBuf::from(v["template"].as_str().unwrap()),
    }
}

fn archive_config(page_size: u32) -> ClientConfig {
    ClientConfig {
        archive: ArchiveConfig {
            // The benchmark calls sync_archive() itself, after connect(), with the clock running.
            auto_sync: false,
            page_size,
            ..ArchiveConfig::default()
        },
        ..ClientConfig::default()
    }
}

/// Copies the files of a (closed) data dir: the database with its WAL and the secrets.
fn copy_data_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        assert!(entry.file_type().unwrap().is_file(), "{:?}", entry.path());
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Waits until the client has emitted no event for `quiet` (at most `limit`).
async fn settle(events: &mut broadcast::Receiver<ClientEvent>, quiet: Duration, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if tokio::time::timeout(quiet, events.recv()).await.is_err() {
            return;
        }
    }
}

/// `--catchup-prepare before`: a first small archive (a few messages), then Linnet's first sync
/// on a new device into the template data dir. `--catchup-prepare seed`: `messages` more from
/// `peers` peers while the account has no Linnet session.
async fn catchup_prepare(b: &Bench, c: &Catchup, stage: &str, messages: usize, peers: usize) {
    let server = linnet_tests::server(Box::leak(c.server.clone().into_boxed_str()));
    match stage {
        "before" => {
            let seeded = linnet_tests::seed::fill_archive(
                &server,
                &c.account.jid,
                &c.account.password,
                1,
                10,
                5,
                "before",
            )
            .await;
            eprintln!(
                "catch-up: {} messages in the archive before the first sync ({:.1} s)",
                seeded.total(),
                seeded.elapsed.as_secs_f64()
            );
            let linnet = Linnet::open(&c.template)
                .unwrap()
                .with_config(archive_config(250));
            linnet
                .add_account(
                    &c.account.jid,
                    Secret::from(c.account.password.as_str()),
                    b.settings(),
                )
                .unwrap();
            let client = linnet.client(Some(&c.account.jid)).unwrap();
            client.connect().await.unwrap();
            let report = client.sync_archive().await.unwrap();
            client.disconnect().await;
            eprintln!("catch-up: Linnet's first sync into the template: {report:?}");
            assert!(report.complete, "{report:?}");
        }
        "seed" => {
            assert!(peers > 0 && messages.is_multiple_of(peers));
            let seeded = linnet_tests::seed::fill_archive(
                &server,
                &c.account.jid,
                &c.account.password,
                peers,
                messages / peers,
                10,
                "catchup",
            )
            .await;
            eprintln!(
                "catch-up: seeded {} messages from {peers} peers in {:.1} s",
                seeded.total(),
                seeded.elapsed.as_secs_f64()
            );
        }
        other => panic!("--catchup-prepare {other}: before or seed"),
    }
}

/// Phase 6, the archive catch-up: `sync_archive()` from the "synced once before" state, each
/// run in a fresh copy of the template data dir.
async fn bench_catchup(
    b: &mut Bench,
    c: &Catchup,
    page_size: u32,
    warmup: usize,
    runs: usize,
) -> Value {
    let mut out = Vec::with_capacity(runs);
    for i in 0..warmup + runs {
        let dir = b.fresh_dir();
        copy_data_dir(&c.template, &dir);
        let linnet = Linnet::open(&dir)
            .unwrap()
            .with_config(archive_config(page_size));
        let client = linnet.client(Some(&c.account.jid)).unwrap();
        let mut events = client.subscribe();
        client.connect().await.unwrap();
        // The connect's own traffic (roster, carbons, presence) done before the clock starts.
        settle(
            &mut events,
            Duration::from_millis(300),
            Duration::from_secs(5),
        )
        .await;
        let cpu = CpuMeter::start(b.server.pid);
        let t0 = Instant::now();
        let report = client.sync_archive().await.unwrap();
        let wall = t0.elapsed();
        let cpu = cpu.stop();
        client.disconnect().await;
        drop(client);
        drop(linnet);
        let db_bytes: u64 = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        if let Some(keep) = std::env::var_os("LINNET_BENCH_KEEP") {
            // A debugging aid: a copy of the data dir after the catch-up, to look into.
            let kept = PathBuf::from(keep).join(format!("catchup-{i}"));
            copy_data_dir(&dir, &kept);
            eprintln!("kept the data dir in {}", kept.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "linnet catch-up {}{i}: {:.1} ms, {report:?}, cpu {} s (server {} s)",
            if i < warmup { "warm-up " } else { "run " },
            millis(wall),
            cpu["client_s"],
            cpu["server_s"]
        );
        assert!(report.complete, "{report:?}");
        if i >= warmup {
            out.push(json!({
                "wall_ms": millis(wall),
                "cpu_s": cpu["client_s"],
                "server_cpu_s": cpu["server_s"],
                "pages": report.pages,
                "fetched": report.fetched,
                "stored": report.stored,
                "data_dir_bytes": db_bytes,
            }));
        }
    }
    json!({ "runs": out, "page_size": page_size })
}

fn account(v: &Value, name: &str) -> Account {
    let a = &v[name];
    Account {
        jid: a["jid"]
            .as_str()
            .unwrap_or_else(|| panic!("accounts file: no {name}.jid"))
            .to_string(),
        password: a["password"]
            .as_str()
            .unwrap_or_else(|| panic!("accounts file: no {name}.password"))
            .to_string(),
    }
}

fn main() {
    let args = parse_args();
    let catchup = args.catchup.as_deref().map(load_catchup);
    let accounts: Value = if args.accounts.as_os_str().is_empty() {
        json!({ "server": catchup.as_ref().map(|c| c.server.clone()) })
    } else {
        serde_json::from_str(&std::fs::read_to_string(&args.accounts).unwrap()).unwrap()
    };
    let server_name = accounts["server"].as_str().unwrap_or("prosody").to_string();
    let recorder = Recorder::default();
    if let Ok(filter) = std::env::var("LINNET_BENCH_LOG") {
        // A debugging aid (timestamps on stderr), through the SDK's redacting logger: no
        // password, token or body reaches the terminal. Figures are measured without it.
        linnet_sdk::logging::init_with(&filter, false, true);
    } else if args.timeline.is_some() {
        use tracing_subscriber::Layer as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let filter = tracing_subscriber::EnvFilter::new(
            "linnet_xmpp=debug,linnet_sdk=info,linnet::wire=trace",
        );
        let subscriber = tracing_subscriber::registry().with(recorder.clone().with_filter(filter));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async {
        let mut b = Bench {
            server: load_server(&server_name),
            root: tempfile::tempdir().unwrap(),
            next_dir: 0,
        };
        let mut out = json!({
            "client": "linnet",
            "server": server_name,
            "pid": std::process::id(),
            "runs": args.runs,
        });
        if let (Some(c), Some(stage)) = (&catchup, &args.catchup_prepare) {
            catchup_prepare(&b, c, stage, args.messages, args.peers).await;
            return out;
        }
        if let Some(n) = args.timeline {
            out["timeline"] =
                timeline(&mut b, &account(&accounts, "connect"), n, recorder.clone()).await;
            let (alice, bob, sink) = (
                account(&accounts, "alice"),
                account(&accounts, "bob"),
                account(&accounts, "sink"),
            );
            out["timeline_rtt"] = timeline_rtt(&mut b, &alice, &bob, n, recorder.clone()).await;
            out["timeline_burst"] = timeline_burst(&mut b, &alice, &sink, 100, recorder).await;
            return out;
        }
        if args.only.iter().any(|o| o == "connect") {
            out["connect"] = bench_connect(
                &mut b,
                &account(&accounts, "connect"),
                args.warmup,
                args.runs,
            )
            .await;
        }
        if args.only.iter().any(|o| o == "rtt") {
            out["rtt"] = bench_rtt(
                &mut b,
                &account(&accounts, "alice"),
                &account(&accounts, "bob"),
                args.warmup,
                args.runs,
            )
            .await;
        }
        if args.only.iter().any(|o| o == "arrival") {
            out["arrival"] = bench_arrival(
                &mut b,
                &account(&accounts, "alice"),
                &account(&accounts, "bob"),
                args.warmup,
                args.runs,
            )
            .await;
        }
        if args.only.iter().any(|o| o == "reconnect") {
            for (key, resume) in [("reconnect_resume", true), ("reconnect_full", false)] {
                out[key] = bench_reconnect(
                    &mut b,
                    &account(&accounts, "alice"),
                    &account(&accounts, "sink"),
                    resume,
                    args.warmup,
                    args.runs,
                )
                .await;
            }
        }
        if args.only.iter().any(|o| o == "burst") {
            out["burst"] = bench_burst(
                &mut b,
                &account(&accounts, "alice"),
                &account(&accounts, "sink"),
                args.messages,
            )
            .await;
        }
        if args.only.iter().any(|o| o == "catchup") {
            let c = catchup
                .as_ref()
                .expect("--only catchup needs --catchup FILE");
            out["catchup"] = bench_catchup(&mut b, c, args.page_size, args.warmup, args.runs).await;
        }
        out
    });
    println!("{}", serde_json::to_string(&result).unwrap());
}
