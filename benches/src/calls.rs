//! Voice calls (issue 7): call setup latency and DTMF accuracy between two Linnet clients
//! through a real local server, beside two reference measurements made in the same run.
//!
//! Run it through `benches/calls.sh` (`make bench-calls`), which builds it in release and keeps
//! the JSON and logs. By hand, against the running test servers:
//!
//! ```sh
//! target/release/linnet-calls-bench --server prosody [--calls 20] [--warmup 1] \
//!     [--media-runs 20] [--aiortc-runs 10] [--digits 200] [--seed 7] \
//!     [--only setup,media,media-turn,aiortc,dtmf] [--answer-delay-ms 0] [--late-candidates-ms 0]
//! ```
//!
//! What is measured:
//!
//! - `setup`: two SDK clients (fresh accounts, mutual contacts, connected before the clock) in
//!   this process. Alice's `place_call` is the clock's zero ("pressing call"); Bob answers as soon
//!   as his `ClientEvent::Call` with state `Incoming` arrives; the figure is Bob's
//!   `ClientEvent::CallMedia { event: FirstAudio }` (the first decoded frame of Alice's audio
//!   reached his speaker). Also recorded: the return of `place_call`, Bob's `Incoming`, each
//!   side's `Connected` and Alice's own `FirstAudio`. Each call is hung up by Alice right after
//!   Bob's first audio, and both sides' `Ended` are awaited before the next. `--warmup` calls
//!   come first and are not counted (the first one also fetches the STUN/TURN services, XEP-0215,
//!   which the client then reuses for 5 minutes).
//! - `media`: the media stack alone, `linnet_calls::media::MediaSession` offer and answer in one
//!   process, SDP and candidates handed over directly (no XMPP, no STUN/TURN servers): from the
//!   start of `MediaSession::offer` to the answerer's `MediaEvent::FirstAudio`.
//! - `media-turn`: the same with the STUN and TURN services the server hands out (XEP-0215, as
//!   the SDK uses them): `stun:`, `turn:` UDP and TCP on the test coturn, with TURN REST
//!   credentials made here from its secret. Host candidates still win on loopback; this shows
//!   what gathering and checking the extra candidates costs.
//! - `--answer-delay-ms N` (media phases): the answerer gets the offerer's candidates at once
//!   but the offerer gets the answer N ms later, as when session-accept crosses the server while
//!   the callee already checks the caller's candidates from session-initiate.
//! - `--late-candidates-ms N` (media phases): the answerer's candidates reach the offerer N ms
//!   after they were gathered, as when they come by session-accept and transport-info while the
//!   answerer's checks reach the offerer directly.
//! - `aiortc`: the independent stack, `tests/peers/jingle_peer.py` (slixmpp + aiortc) calling
//!   another instance of itself through the same server, JMI and Jingle as Linnet does. Both
//!   processes are started and logged in before the clock; the callee is in answer mode (proceeds
//!   at once). The script's events carry no times, so each JSON line is stamped here when it is
//!   read from the pipe (the script flushes every line). Zero: the caller's `propose-sent` (just
//!   after its JMI propose went to slixmpp's send queue); figure: the callee's `first-audio`
//!   (its first decoded frame from aiortc's track). Also its `propose` (ringing), and both
//!   sides' `connected` (aiortc's connectionState). Each run is a fresh pair of processes (the
//!   script handles one call per process); the caller is told to hang up (SIGTERM) after the
//!   callee's first audio.
//! - `dtmf`: one call between the SDK clients; once both are `Connected`, Alice `send_dtmf`s
//!   `--digits` random keys of `0-9*#ABCD` (seeded by `--seed`, printed), and Bob's
//!   `CallMedia { event: Dtmf(_) }` are collected until all arrived or nothing came for 5 s. The
//!   two strings are aligned (edit distance) into matched, wrong, missing and extra digits.
//!
//! Output: one JSON object on stdout; progress and a summary on stderr.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::Mac as _;
use linnet_calls::audio::{NullSink, ToneSource};
use linnet_calls::media::{IceServer, MediaConfig, MediaEvent, MediaSession};
use linnet_sdk::{AudioIo, CallMediaEvent, CallState, CallUpdate, ClientEvent};
use linnet_tests::jingle_peer::{PeerArgs, peers_python};
use linnet_tests::{TestClient, TestServer, befriend, connected, repo_root};
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{broadcast, mpsc};

const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// RFC 4733 keys the DTMF phase draws from.
const DTMF_KEYS: &[char] = &[
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

struct Args {
    server: String,
    calls: usize,
    warmup: usize,
    media_runs: usize,
    aiortc_runs: usize,
    digits: usize,
    seed: u64,
    only: Vec<String>,
    /// Media phases: how long the offerer waits for the answer while the answerer already has
    /// its candidates (what the XMPP hop of session-accept does in a real call).
    answer_delay: Duration,
    /// Media phases: the answerer's candidates reach the offerer this much later than they are
    /// gathered (what trickling them through the server does), while the offerer's reach the
    /// answerer at once.
    late_candidates: Duration,
}

fn usage() -> ! {
    eprintln!(
        "usage: linnet-calls-bench --server prosody|ejabberd [--calls N] [--warmup N] \
         [--media-runs N] [--aiortc-runs N] [--digits N] [--seed N] [--only setup,media,media-turn,aiortc,dtmf] [--answer-delay-ms N] [--late-candidates-ms N]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        server: "prosody".to_string(),
        calls: 20,
        warmup: 1,
        media_runs: 20,
        aiortc_runs: 10,
        digits: 200,
        seed: 7,
        only: ["setup", "media", "media-turn", "aiortc", "dtmf"]
            .map(String::from)
            .to_vec(),
        answer_delay: Duration::ZERO,
        late_candidates: Duration::ZERO,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--server" => args.server = value(),
            "--calls" => args.calls = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => args.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--media-runs" => args.media_runs = value().parse().unwrap_or_else(|_| usage()),
            "--aiortc-runs" => args.aiortc_runs = value().parse().unwrap_or_else(|_| usage()),
            "--digits" => args.digits = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => args.seed = value().parse().unwrap_or_else(|_| usage()),
            "--only" => args.only = value().split(',').map(String::from).collect(),
            "--late-candidates-ms" => {
                args.late_candidates =
                    Duration::from_millis(value().parse().unwrap_or_else(|_| usage()));
            }
            "--answer-delay-ms" => {
                args.answer_delay =
                    Duration::from_millis(value().parse().unwrap_or_else(|_| usage()));
            }
            _ => usage(),
        }
    }
    args
}

fn test_server(name: &str) -> TestServer {
    let name: &'static str = match name {
        "prosody" => "prosody",
        "ejabberd" => "ejabberd",
        _ => usage(),
    };
    linnet_tests::server_in(&linnet_tests::state_dir(), name)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// median, p95, min, max and n of the values, in ms (null when there are none).
fn stats(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let round = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "n": sorted.len(),
        "median_ms": round(median(&sorted)),
        "p95_ms": round(percentile(&sorted, 95.0)),
        "min_ms": round(sorted[0]),
        "max_ms": round(sorted[sorted.len() - 1]),
    })
}

/// The values of `field` (ms) over the runs that have it.
fn column(runs: &[Value], field: &str) -> Vec<f64> {
    runs.iter().filter_map(|r| r[field].as_f64()).collect()
}

fn tone(hz: f32) -> AudioIo {
    AudioIo {
        source: Box::new(ToneSource::new(hz, 8_000)),
        sink: Box::new(NullSink),
    }
}

/// The next event of `c` (lag skipped); panics after `STEP_TIMEOUT`.
async fn next_event(c: &mut TestClient, what: &str) -> ClientEvent {
    loop {
        match tokio::time::timeout(STEP_TIMEOUT, c.events.recv()).await {
            Err(_) => panic!("{}: timed out waiting for {what}", c.jid),
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                eprintln!("{}: {n} events lagged", c.jid);
            }
            Ok(Err(e)) => panic!("{}: events ended waiting for {what}: {e}", c.jid),
            Ok(Ok(event)) => return event,
        }
    }
}

fn ended_update(event: &ClientEvent, id: &str) -> Option<CallUpdate> {
    match event {
        ClientEvent::Call(u) if u.id == id && u.state.is_ended() => Some(u.clone()),
        _ => None,
    }
}

/// Alice hangs up call `id`; returns once both sides reported its end.
async fn hang_up(alice: &mut TestClient, bob: &mut TestClient, id: &str) {
    alice.client.hang_up(id).unwrap();
    for c in [alice, bob] {
        loop {
            if ended_update(&next_event(c, "the end of the call").await, id).is_some() {
                break;
            }
        }
    }
}

/// One call from Alice to Bob, answered by Bob at once; times (ms since `place_call` started)
/// of each step until Bob's first audio. The call is left running.
async fn timed_call(alice: &mut TestClient, bob: &mut TestClient) -> (String, Value) {
    let start = Instant::now();
    let id = alice
        .client
        .place_call(&bob.jid, tone(440.0))
        .await
        .unwrap();
    let placed = start.elapsed();
    let mut incoming = None;
    let mut caller_connected = None;
    let mut callee_connected = None;
    let mut caller_first_audio = None;
    let callee_first_audio;
    loop {
        // Both clients' events, whichever comes first; each is stamped when it is taken.
        let (from_bob, event) = tokio::select! {
            e = next_event(alice, "the call's progress") => (false, e),
            e = next_event(bob, "the call's progress") => (true, e),
        };
        let at = start.elapsed();
        if let Some(u) = ended_update(&event, &id) {
            panic!("the call ended during setup: {u:?}");
        }
        match event {
            ClientEvent::Call(u) if u.id == id => match (&u.state, from_bob) {
                (CallState::Incoming, true) if incoming.is_none() => {
                    incoming = Some(at);
                    bob.client.answer_call(&id, tone(660.0)).unwrap();
                }
                (CallState::Connected { .. }, false) => {
                    caller_connected.get_or_insert(at);
                }
                (CallState::Connected { .. }, true) => {
                    callee_connected.get_or_insert(at);
                }
                _ => {}
            },
            ClientEvent::CallMedia {
                id: of,
                event: CallMediaEvent::FirstAudio,
            } if of == id => {
                if from_bob {
                    callee_first_audio = at;
                    break;
                }
                caller_first_audio.get_or_insert(at);
            }
            _ => {}
        }
    }
    let opt = |d: Option<Duration>| d.map(ms);
    let times = json!({
        "place_call_returned_ms": ms(placed),
        "callee_incoming_ms": opt(incoming),
        "caller_connected_ms": opt(caller_connected),
        "callee_connected_ms": opt(callee_connected),
        "callee_first_audio_ms": ms(callee_first_audio),
        "caller_first_audio_ms": opt(caller_first_audio),
    });
    (id, times)
}

/// Two contacts, connected: (alice, bob).
async fn two_contacts(server: &TestServer) -> (TestClient, TestClient) {
    let mut alice = connected(server, "callbencha").await;
    let mut bob = connected(server, "callbenchb").await;
    befriend(&mut alice, &mut bob).await;
    (alice, bob)
}

async fn setup_phase(server: &TestServer, args: &Args) -> Value {
    let (mut alice, mut bob) = two_contacts(server).await;
    let mut warmup = Vec::new();
    let mut runs = Vec::new();
    for i in 0..args.warmup + args.calls {
        let (id, times) = timed_call(&mut alice, &mut bob).await;
        hang_up(&mut alice, &mut bob, &id).await;
        let counted = i >= args.warmup;
        eprintln!(
            "setup {} {}: {times}",
            if counted { "call" } else { "warm-up" },
            i
        );
        if counted {
            runs.push(times);
        } else {
            warmup.push(times);
        }
    }
    let summary: serde_json::Map<String, Value> = [
        "place_call_returned_ms",
        "callee_incoming_ms",
        "caller_connected_ms",
        "callee_connected_ms",
        "callee_first_audio_ms",
        "caller_first_audio_ms",
    ]
    .iter()
    .map(|f| (f.to_string(), stats(&column(&runs, f))))
    .collect();
    json!({"summary": summary, "runs": runs, "warmup": warmup})
}

/// Hands every local candidate of one session to the other; the rest go to `rest`.
/// With `delay`, each candidate is handed over that much later (in its own task, in order of
/// gathering).
fn forward_candidates(
    mut events: mpsc::UnboundedReceiver<MediaEvent>,
    peer: Arc<MediaSession>,
    rest: mpsc::UnboundedSender<(Instant, MediaEvent)>,
    delay: Duration,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                MediaEvent::LocalCandidate { mid, candidate } => {
                    let peer = peer.clone();
                    let hand_over = async move {
                        tokio::time::sleep(delay).await;
                        if let Err(e) = peer.add_remote_candidate(&mid, &candidate).await {
                            eprintln!("candidate {candidate} refused: {e}");
                        }
                    };
                    if delay.is_zero() {
                        hand_over.await;
                    } else {
                        tokio::spawn(hand_over);
                    }
                }
                other => {
                    let _ = rest.send((Instant::now(), other));
                }
            }
        }
    });
}

/// The STUN and TURN services of the test coturn, as Prosody's XEP-0215 module lists them (STUN,
/// TURN over UDP and over TCP), with TURN REST credentials for its use-auth-secret.
fn coturn_servers() -> Vec<IceServer> {
    let path = linnet_tests::state_dir().join("servers.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let turn = &json["turn"];
    let host = turn["host"].as_str().unwrap();
    let port = turn["port"].as_u64().unwrap();
    let secret = turn["secret"].as_str().unwrap();
    let expiry = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let username = format!("{expiry}:linnet-calls-bench");
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let turn = |transport: &str| IceServer {
        urls: vec![format!("turn:{host}:{port}?transport={transport}")],
        username: Some(username.clone()),
        credential: Some(credential.clone()),
    };
    vec![
        IceServer {
            urls: vec![format!("stun:{host}:{port}")],
            ..Default::default()
        },
        turn("udp"),
        turn("tcp"),
    ]
}

/// The media stack alone: offer -> the answerer's first audio, in ms.
async fn media_run(
    ice_servers: &[IceServer],
    answer_delay: Duration,
    late_candidates: Duration,
) -> Value {
    let config = MediaConfig {
        ice_servers: ice_servers.to_vec(),
        ..Default::default()
    };
    let start = Instant::now();
    let (a, offer, a_events) = MediaSession::offer(
        config.clone(),
        Box::new(ToneSource::new(440.0, 8_000)),
        Box::new(NullSink),
    )
    .await
    .unwrap();
    let offered = start.elapsed();
    let a = Arc::new(a);
    let (b, answer, b_events) = MediaSession::answer(
        config,
        &offer,
        Box::new(ToneSource::new(660.0, 8_000)),
        Box::new(NullSink),
    )
    .await
    .unwrap();
    let b = Arc::new(b);
    let (a_tx, mut a_rest) = mpsc::unbounded_channel();
    let (b_tx, mut b_rest) = mpsc::unbounded_channel();
    if !answer_delay.is_zero() {
        // The answerer starts checking the offerer's candidates before the offerer has the
        // answer (its candidates wait in the session until then).
        forward_candidates(a_events, b.clone(), a_tx, Duration::ZERO);
        forward_candidates(b_events, a.clone(), b_tx, late_candidates);
        tokio::time::sleep(answer_delay).await;
        a.set_remote_answer(&answer).await.unwrap();
    } else {
        a.set_remote_answer(&answer).await.unwrap();
        forward_candidates(a_events, b.clone(), a_tx, Duration::ZERO);
        forward_candidates(b_events, a.clone(), b_tx, late_candidates);
    }
    let answered = start.elapsed();
    let mut b_connected = None;
    let first_audio = loop {
        let (at, event) = tokio::time::timeout(STEP_TIMEOUT, b_rest.recv())
            .await
            .expect("the answerer's first audio in time")
            .expect("the answerer's events");
        match event {
            MediaEvent::Connected => {
                b_connected.get_or_insert(at - start);
            }
            MediaEvent::FirstAudio => break at - start,
            MediaEvent::Failed { reason } => panic!("media failed: {reason}"),
            _ => {}
        }
    };
    a.close().await;
    b.close().await;
    while a_rest.try_recv().is_ok() {}
    json!({
        "offer_returned_ms": ms(offered),
        "answer_set_ms": ms(answered),
        "answerer_connected_ms": b_connected.map(ms),
        "answerer_first_audio_ms": ms(first_audio),
    })
}

async fn media_phase(args: &Args, ice_servers: &[IceServer]) -> Value {
    let label = if ice_servers.is_empty() {
        "media"
    } else {
        "media-turn"
    };
    // One run first, not counted: the first peer connection of a process warms up (as the
    // setup phase's warm-up call does).
    let warmup = media_run(ice_servers, args.answer_delay, args.late_candidates).await;
    eprintln!("{label} warm-up: {warmup}");
    let mut runs = Vec::new();
    for i in 0..args.media_runs {
        let run = media_run(ice_servers, args.answer_delay, args.late_candidates).await;
        eprintln!("{label} run {i}: {run}");
        runs.push(run);
    }
    let summary: serde_json::Map<String, Value> = [
        "offer_returned_ms",
        "answer_set_ms",
        "answerer_connected_ms",
        "answerer_first_audio_ms",
    ]
    .iter()
    .map(|f| (f.to_string(), stats(&column(&runs, f))))
    .collect();
    json!({
        "answer_delay_ms": ms(args.answer_delay),
        "late_candidates_ms": ms(args.late_candidates),
        "summary": summary,
        "runs": runs,
        "warmup": warmup,
    })
}

/// A running `jingle_peer.py`; its events, each stamped when read, arrive on `events`.
struct Peer {
    name: &'static str,
    child: tokio::process::Child,
    events: mpsc::UnboundedReceiver<(Instant, Value)>,
}

impl Peer {
    fn spawn(name: &'static str, args: PeerArgs) -> Peer {
        let mut child = tokio::process::Command::new(peers_python())
            .arg("-u")
            .arg(repo_root().join("tests/peers/jingle_peer.py"))
            .args(args.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start jingle_peer.py");
        let stdout = child.stdout.take().expect("its stdout");
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let at = Instant::now();
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && tx.send((at, v)).is_err()
                {
                    break;
                }
            }
        });
        Peer {
            name,
            child,
            events,
        }
    }

    /// The time of the next event named `name` (others are skipped); panics on an error event.
    async fn wait_for(&mut self, name: &str) -> (Instant, Value) {
        loop {
            let (at, event) = tokio::time::timeout(STEP_TIMEOUT, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("peer {}: no {name} in time", self.name))
                .unwrap_or_else(|| panic!("peer {}: exited before {name}", self.name));
            if event["event"] == "error" {
                panic!("peer {}: {event}", self.name);
            }
            if event["event"] == name {
                return (at, event);
            }
        }
    }

    fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }

    async fn wait_exit(mut self) {
        self.terminate();
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            eprintln!("peer {}: did not exit after SIGTERM; killing it", self.name);
            let _ = self.child.kill().await;
        }
    }
}

/// One aiortc -> aiortc call; ms since the caller's propose-sent.
async fn aiortc_run(
    server: &TestServer,
    caller: &(String, String),
    callee: &(String, String),
) -> Value {
    let mut answerer = Peer::spawn(
        "callee",
        PeerArgs::client(server, &callee.0, &callee.1)
            .tone(660.0)
            .accept_from(&caller.0),
    );
    answerer.wait_for("ready").await;
    let mut calling = Peer::spawn(
        "caller",
        PeerArgs::client(server, &caller.0, &caller.1)
            .tone(440.0)
            .call(&callee.0),
    );
    let (ready, _) = calling.wait_for("ready").await;
    let (start, _) = calling.wait_for("propose-sent").await;
    let (propose, _) = answerer.wait_for("propose").await;
    let (callee_connected, _) = answerer.wait_for("connected").await;
    let (first_audio, _) = answerer.wait_for("first-audio").await;
    // The caller's own "connected" was read by its reader task meanwhile.
    let (caller_connected, _) = calling.wait_for("connected").await;
    calling.wait_exit().await;
    answerer.wait_exit().await;
    let since = |t: Instant| ms(t.saturating_duration_since(start));
    json!({
        "ready_to_propose_ms": ms(start.saturating_duration_since(ready)),
        "callee_propose_ms": since(propose),
        "caller_connected_ms": since(caller_connected),
        "callee_connected_ms": since(callee_connected),
        "callee_first_audio_ms": since(first_audio),
    })
}

async fn aiortc_phase(server: &TestServer, args: &Args) -> Value {
    let caller = linnet_tests::create_account(server, "callbenchpa");
    let callee = linnet_tests::create_account(server, "callbenchpb");
    let mut runs = Vec::new();
    for i in 0..args.aiortc_runs {
        let run = aiortc_run(server, &caller, &callee).await;
        eprintln!("aiortc run {i}: {run}");
        runs.push(run);
    }
    let summary: serde_json::Map<String, Value> = [
        "callee_propose_ms",
        "caller_connected_ms",
        "callee_connected_ms",
        "callee_first_audio_ms",
    ]
    .iter()
    .map(|f| (f.to_string(), stats(&column(&runs, f))))
    .collect();
    json!({"summary": summary, "runs": runs})
}

/// Aligns `received` to `sent` (edit distance): (matched, wrong, missing, extra).
fn compare_digits(sent: &[char], received: &[char]) -> (usize, usize, usize, usize) {
    let (n, m) = (sent.len(), received.len());
    let mut cost = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in cost.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in cost[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let substitute = cost[i - 1][j - 1] + usize::from(sent[i - 1] != received[j - 1]);
            cost[i][j] = substitute.min(cost[i - 1][j] + 1).min(cost[i][j - 1] + 1);
        }
    }
    let (mut i, mut j) = (n, m);
    let (mut matched, mut wrong, mut missing, mut extra) = (0, 0, 0, 0);
    while i > 0 || j > 0 {
        if i > 0
            && j > 0
            && cost[i][j] == cost[i - 1][j - 1] + usize::from(sent[i - 1] != received[j - 1])
        {
            if sent[i - 1] == received[j - 1] {
                matched += 1;
            } else {
                wrong += 1;
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && cost[i][j] == cost[i - 1][j] + 1 {
            missing += 1;
            i -= 1;
        } else {
            extra += 1;
            j -= 1;
        }
    }
    (matched, wrong, missing, extra)
}

async fn dtmf_phase(server: &TestServer, args: &Args) -> Value {
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let sent: String = (0..args.digits)
        .map(|_| DTMF_KEYS[rng.random_range(0..DTMF_KEYS.len())])
        .collect();
    eprintln!("dtmf: seed {} digits {sent}", args.seed);
    let (mut alice, mut bob) = two_contacts(server).await;
    let (id, _) = timed_call(&mut alice, &mut bob).await;
    // Both sides connected (Bob's first audio came; Alice's Connected may still be on its way).
    while alice
        .client
        .active_calls()
        .iter()
        .all(|c| !matches!(c.state, CallState::Connected { .. }))
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Drain what is queued so far: only digits sent from here on count.
    while bob.events.try_recv().is_ok() {}
    let start = Instant::now();
    alice.client.send_dtmf(&id, &sent).unwrap();
    let mut received = String::new();
    let mut last_digit = start;
    while received.chars().count() < args.digits {
        match tokio::time::timeout(Duration::from_secs(5), bob.events.recv()).await {
            Err(_) => break, // nothing for 5 s: the rest is lost
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                panic!("bob lagged {n} events: digits may be lost in the bench, not the call")
            }
            Ok(Err(e)) => panic!("bob's events ended: {e}"),
            Ok(Ok(ClientEvent::CallMedia {
                id: of,
                event: CallMediaEvent::Dtmf(d),
            })) if of == id => {
                received.push(d);
                last_digit = Instant::now();
            }
            Ok(Ok(event)) => {
                if let Some(u) = ended_update(&event, &id) {
                    panic!("the call ended during the digits: {u:?}");
                }
            }
        }
    }
    let elapsed = last_digit - start;
    // The caller's own record: `digits_sent` grows as each digit's end packets go out, which
    // is after the callee reported the digit (on its first packet); wait for the last one.
    let mut sent_recorded = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sent_recorded.chars().count() < args.digits {
        match tokio::time::timeout_at(deadline, alice.events.recv()).await {
            Err(_) => break,
            Ok(Ok(ClientEvent::Call(u))) if u.id == id => sent_recorded = u.digits_sent,
            Ok(_) => {}
        }
    }
    hang_up(&mut alice, &mut bob, &id).await;
    let s: Vec<char> = sent.chars().collect();
    let r: Vec<char> = received.chars().collect();
    let (matched, wrong, missing, extra) = compare_digits(&s, &r);
    json!({
        "seed": args.seed,
        "sent": sent,
        "received": received,
        "digits_sent": s.len(),
        "digits_received": r.len(),
        "matched": matched,
        "wrong": wrong,
        "missing": missing,
        "extra": extra,
        "accuracy_percent": (matched as f64 * 1000.0 / s.len().max(1) as f64).round() / 10.0,
        "exact": sent == received,
        "caller_digits_sent_matches": sent_recorded == sent,
        "caller_digits_sent": sent_recorded,
        "send_to_last_digit_ms": ms(elapsed),
        "ms_per_digit": (ms(elapsed) / s.len().max(1) as f64 * 10.0).round() / 10.0,
    })
}

fn summary_line(label: &str, s: &Value) {
    if s.is_null() {
        eprintln!("{label:<44} -");
        return;
    }
    eprintln!(
        "{label:<44} median {:>7.1}  p95 {:>7.1}  min {:>7.1}  max {:>7.1}  (n={})",
        s["median_ms"].as_f64().unwrap_or(f64::NAN),
        s["p95_ms"].as_f64().unwrap_or(f64::NAN),
        s["min_ms"].as_f64().unwrap_or(f64::NAN),
        s["max_ms"].as_f64().unwrap_or(f64::NAN),
        s["n"]
    );
}

fn print_summary(result: &Value) {
    eprintln!("\n== summary (ms)");
    let setup = &result["setup"]["summary"];
    for (f, label) in [
        ("place_call_returned_ms", "linnet: place_call returned"),
        ("callee_incoming_ms", "linnet: callee Incoming"),
        ("caller_connected_ms", "linnet: caller Connected"),
        ("callee_connected_ms", "linnet: callee Connected"),
        (
            "callee_first_audio_ms",
            "linnet: callee FirstAudio (the figure)",
        ),
        ("caller_first_audio_ms", "linnet: caller FirstAudio"),
    ] {
        summary_line(label, &setup[f]);
    }
    let media = &result["media"]["summary"];
    for (f, label) in [
        ("answerer_connected_ms", "media alone: answerer Connected"),
        (
            "answerer_first_audio_ms",
            "media alone: answerer FirstAudio",
        ),
    ] {
        summary_line(label, &media[f]);
    }
    let media = &result["media-turn"]["summary"];
    for (f, label) in [
        (
            "answerer_connected_ms",
            "media + STUN/TURN: answerer Connected",
        ),
        (
            "answerer_first_audio_ms",
            "media + STUN/TURN: answerer FirstAudio",
        ),
    ] {
        summary_line(label, &media[f]);
    }
    let aiortc = &result["aiortc"]["summary"];
    for (f, label) in [
        ("callee_propose_ms", "aiortc: callee propose"),
        ("caller_connected_ms", "aiortc: caller connected"),
        ("callee_connected_ms", "aiortc: callee connected"),
        ("callee_first_audio_ms", "aiortc: callee first-audio"),
    ] {
        summary_line(label, &aiortc[f]);
    }
    let dtmf = &result["dtmf"];
    if !dtmf.is_null() {
        eprintln!(
            "dtmf: sent {} received {} matched {} wrong {} missing {} extra {} ({}%) in {} ms",
            dtmf["digits_sent"],
            dtmf["digits_received"],
            dtmf["matched"],
            dtmf["wrong"],
            dtmf["missing"],
            dtmf["extra"],
            dtmf["accuracy_percent"],
            dtmf["send_to_last_digit_ms"]
        );
    }
}

fn main() {
    let args = parse_args();
    // RUST_LOG (e.g. linnet_sdk=debug) logs through the SDK's redacting logger, to stderr.
    if let Ok(filter) = std::env::var("RUST_LOG") {
        linnet_sdk::logging::init_with(&filter, false, true);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let server = test_server(&args.server);
        let mut result = json!({"server": args.server});
        for phase in &args.only {
            let value = match phase.as_str() {
                "setup" => setup_phase(&server, &args).await,
                "media" => media_phase(&args, &[]).await,
                "media-turn" => media_phase(&args, &coturn_servers()).await,
                "aiortc" => aiortc_phase(&server, &args).await,
                "dtmf" => dtmf_phase(&server, &args).await,
                _ => usage(),
            };
            result[phase.as_str()] = value;
        }
        result
    });
    print_summary(&result);
    println!("{result}");
}
