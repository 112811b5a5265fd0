//! File upload (issue 6): Linnet's `send_file` of a large file beside curl's PUT to the same kind
//! of slot, on the same server in the same run, and the peak memory of each.
//!
//! Run it through `benches/upload.sh`, which starts (and afterwards stops) a private server
//! instance with a 200 MiB upload limit and its state on tmpfs, builds this binary in release and
//! runs it for Prosody and ejabberd. By hand, against a running instance named by
//! `LINNET_TEST_STATE` (and the port variables of `tests/servers/servers.sh`):
//!
//! ```sh
//! target/release/linnet-upload-bench --server prosody [--runs 5] [--warmup 1] \
//!     [--size 100000000] [--memory-sizes 10000000,100000000] [--dir /dev/shm]
//! ```
//!
//! What one repetition does (Linnet and curl alternate who goes first):
//!
//! - Linnet: an SDK client (`linnet_sdk`, connected before the clock, as an app would be)
//!   `send_file`s the file to another account. Timed from the first `ClientEvent::Transfer` of
//!   the message with state `Transferring` to the one with state `Done` (the slot request, one IQ
//!   round trip, then the HTTP PUT of the whole file until the server's response), and from the
//!   `send_file` call until the message carrying the link is acknowledged by the server
//!   (`MessageState::Acked`, XEP-0198). The process's CPU time and the server's over the
//!   `Transferring -> Done` span are recorded.
//! - curl: a slot is requested through the protocol layer (`linnet_xmpp::upload::request_slot` on
//!   a session logged in with `linnet_tests::seed::login`, another account), then
//!   `curl -sS -T FILE -H 'Content-Type: application/octet-stream' [-H 'Authorization: ...']
//!   --cacert CA PUT_URL -o /dev/null -w '%{time_total} %{http_code} %{time_pretransfer}
//!   %{time_starttransfer}'` is spawned (under `/usr/bin/time` for its CPU time and peak RSS);
//!   its `time_total` is the figure. `--curl-arg ARG` (repeatable) adds arguments to it.
//!
//! Each repetition gets fresh slots. Throughput is the file size (10^6 bytes = 1 MB) over the
//! time. The file (random bytes) and Linnet's data dir live on tmpfs (`--dir`, default /dev/shm)
//! so that disk speed does not dominate; the private instance keeps its state (and so the
//! uploaded files) on tmpfs too.
//!
//! Peak memory: for each of `--memory-sizes`, this binary runs itself again as a child
//! (`--child-upload FILE`) that connects a fresh SDK client, uploads the file once and prints its
//! VmHWM (peak RSS, /proc/self/status) after connecting and at the end; curl's peak RSS for the
//! same file is `/usr/bin/time`'s. Flat means: the same for 10 MB as for 100 MB.
//!
//! Output: one JSON object on stdout; progress and a summary table on stderr.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod proc_stat;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use linnet_sdk::{
    AccountSettings, Client, ClientEvent, Linnet, MessageState, Secret, TransferState,
};
use linnet_tests::TestServer;
use linnet_tests::seed::{RawSession, login};
use linnet_xmpp::upload::{self, SlotRequest, UploadService};
use linnet_xmpp::{BareJid, Jid};
use proc_stat::cpu_seconds;
use serde_json::{Value, json};
use tokio::sync::broadcast;

const TIMEOUT: Duration = Duration::from_secs(600);
const PASSWORD_ENV: &str = "LINNET_UPLOAD_BENCH_PASSWORD";

struct Args {
    server: String,
    runs: usize,
    warmup: usize,
    size: u64,
    memory_sizes: Vec<u64>,
    dir: PathBuf,
    child_upload: Option<PathBuf>,
    curl_args: Vec<String>,
    jid: String,
    to: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: linnet-upload-bench --server prosody|ejabberd [--runs 5] [--warmup 1] \
         [--size 100000000] [--memory-sizes 10000000,100000000] [--dir /dev/shm] \
         [--curl-arg ARG]...\n\
         (the servers of the instance LINNET_TEST_STATE names; see benches/upload.sh)"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        server: "prosody".into(),
        runs: 5,
        warmup: 1,
        size: 100_000_000,
        memory_sizes: vec![10_000_000, 100_000_000],
        dir: PathBuf::from("/dev/shm"),
        child_upload: None,
        curl_args: Vec::new(),
        jid: String::new(),
        to: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--server" => args.server = value(),
            "--runs" => args.runs = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => args.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--size" => args.size = value().parse().unwrap_or_else(|_| usage()),
            "--memory-sizes" => {
                let v = value();
                args.memory_sizes = if v.is_empty() {
                    Vec::new()
                } else {
                    v.split(',')
                        .map(|s| s.parse().unwrap_or_else(|_| usage()))
                        .collect()
                };
            }
            "--dir" => args.dir = PathBuf::from(value()),
            "--curl-arg" => args.curl_args.push(value()),
            // The peak-memory child (internal).
            "--child-upload" => args.child_upload = Some(PathBuf::from(value())),
            "--jid" => args.jid = value(),
            "--to" => args.to = value(),
            _ => usage(),
        }
    }
    if args.runs == 0 {
        usage();
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

fn servers_json() -> Value {
    let path = linnet_tests::state_dir().join("servers.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn server_pid(name: &str) -> Option<u32> {
    std::fs::read_to_string(linnet_tests::state_dir().join(format!("{name}.pid")))
        .ok()
        .and_then(|p| p.trim().parse().ok())
}

/// Waits (up to 60 s) until the server process uses under 2 % of a core over half a second.
async fn settle(pid: Option<u32>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut before = cpu_seconds(pid);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_seconds(pid);
        match (before, now) {
            (Some(a), Some(b)) if b - a < 0.01 => return,
            (None, _) | (_, None) => return,
            _ => before = now,
        }
    }
}

fn cpu_delta(a: Option<f64>, b: Option<f64>) -> Value {
    match (a, b) {
        (Some(a), Some(b)) => json!(((b - a) * 100.0).round() / 100.0),
        _ => Value::Null,
    }
}

/// Peak resident set size of this process so far (KiB), from /proc/self/status.
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A file of `size` random bytes (from /dev/urandom) in `dir`.
fn random_file(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join(format!("upload-{size}.bin"));
    let mut src = std::fs::File::open("/dev/urandom").unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        src.read_exact(&mut buf[..n]).unwrap();
        out.write_all(&buf[..n]).unwrap();
        left -= n as u64;
    }
    out.flush().unwrap();
    path
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::min)
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NAN, f64::max)
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn mb_per_s(size: u64, seconds: f64) -> f64 {
    round(size as f64 / 1e6 / seconds, 1)
}

/// An SDK client of `jid` in a fresh data dir under `dir`, connected.
async fn sdk_client(
    server: &TestServer,
    dir: &Path,
    jid: &str,
    password: &str,
) -> (Linnet, Client, broadcast::Receiver<ClientEvent>) {
    let linnet = Linnet::open(dir).unwrap();
    linnet
        .add_account(
            jid,
            Secret::from(password),
            AccountSettings {
                server: Some((server.host.clone(), server.starttls_port)),
                direct_tls: false,
                ca_pem: Some(server.ca_pem.clone()),
            },
        )
        .unwrap();
    let client = linnet.client(Some(jid)).unwrap();
    let events = client.subscribe();
    client.connect().await.unwrap();
    (linnet, client, events)
}

/// One Linnet upload: `send_file` until the message is acknowledged.
struct LinnetRun {
    /// `Transferring` -> `Done`.
    put_s: f64,
    /// `send_file` -> `MessageState::Acked`.
    send_to_ack_s: f64,
    client_cpu_s: Value,
    server_cpu_s: Value,
}

async fn linnet_upload(
    client: &Client,
    events: &mut broadcast::Receiver<ClientEvent>,
    to: &str,
    file: &Path,
    server_pid: Option<u32>,
) -> LinnetRun {
    while events.try_recv().is_ok() {}
    let t0 = Instant::now();
    let id = client.send_file(to, file).unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let mut transferring: Option<(Instant, Option<f64>, Option<f64>)> = None;
    let mut done: Option<(Instant, Option<f64>, Option<f64>)> = None;
    let mut acked: Option<Instant> = None;
    while done.is_none() || acked.is_none() {
        let ev = match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => panic!("timed out waiting for the upload of message {id}"),
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                panic!("lost {n} events waiting for the upload")
            }
            Ok(Err(e)) => panic!("event stream ended: {e}"),
            Ok(Ok(ev)) => ev,
        };
        match ev {
            ClientEvent::Transfer(u) if u.message_id == id => match u.state {
                TransferState::Transferring if transferring.is_none() => {
                    transferring =
                        Some((Instant::now(), cpu_seconds(None), cpu_seconds(server_pid)));
                }
                TransferState::Done if done.is_none() => {
                    done = Some((Instant::now(), cpu_seconds(None), cpu_seconds(server_pid)));
                }
                TransferState::Failed | TransferState::Cancelled => {
                    panic!("upload {:?}: {:?}", u.state, u.failure_reason)
                }
                _ => {}
            },
            ClientEvent::MessageState {
                id: m,
                state,
                reason,
                ..
            } if m == id => match state {
                MessageState::Acked | MessageState::Delivered | MessageState::Displayed => {
                    acked.get_or_insert_with(Instant::now);
                }
                MessageState::Failed => panic!("message failed: {reason:?}"),
                _ => {}
            },
            _ => {}
        }
    }
    let (t1, c1, s1) = transferring.expect("no Transferring event");
    let (t2, c2, s2) = done.unwrap();
    LinnetRun {
        put_s: (t2 - t1).as_secs_f64(),
        send_to_ack_s: (acked.unwrap() - t0).as_secs_f64(),
        client_cpu_s: cpu_delta(c1, c2),
        server_cpu_s: cpu_delta(s1, s2),
    }
}

/// One curl PUT to a fresh slot.
struct CurlRun {
    time_total_s: f64,
    /// Connected, TLS done, request about to go (curl's `time_pretransfer`).
    pretransfer_s: f64,
    /// From /usr/bin/time: user + system seconds, peak RSS KiB.
    cpu_s: Value,
    max_rss_kib: Value,
    server_cpu_s: Value,
}

fn time_bin() -> Option<&'static str> {
    Path::new("/usr/bin/time")
        .exists()
        .then_some("/usr/bin/time")
}

async fn curl_upload(
    session: &RawSession,
    service: &UploadService,
    file: &Path,
    ca_file: &str,
    scratch: &Path,
    server_pid: Option<u32>,
    extra: &[String],
) -> CurlRun {
    let size = std::fs::metadata(file).unwrap().len();
    let request = SlotRequest {
        filename: format!(
            "curl-{}.bin",
            linnet_xmpp::negotiate::random_suffix().to_lowercase()
        ),
        size,
        content_type: Some("application/octet-stream".into()),
    };
    let slot = upload::request_slot(&session.handle, &service.jid, &request)
        .await
        .unwrap();
    let time_out = scratch.join("curl-time.txt");
    let mut curl: Vec<String> = vec![
        "curl".into(),
        "-sS".into(),
        "-T".into(),
        file.display().to_string(),
        "-H".into(),
        "Content-Type: application/octet-stream".into(),
    ];
    for (name, value) in &slot.put_headers {
        curl.push("-H".into());
        curl.push(format!("{name}: {value}"));
    }
    curl.extend(extra.iter().cloned());
    curl.extend([
        "--cacert".into(),
        ca_file.into(),
        slot.put_url.clone(),
        "-o".into(),
        "/dev/null".into(),
        "-w".into(),
        "%{time_total} %{http_code} %{time_pretransfer} %{time_starttransfer}".into(),
    ]);
    let mut cmd = match time_bin() {
        Some(t) => {
            let mut c = Command::new(t);
            c.arg("-f")
                .arg("%U %S %M")
                .arg("-o")
                .arg(&time_out)
                .args(&curl);
            c
        }
        None => {
            let mut c = Command::new(&curl[0]);
            c.args(&curl[1..]);
            c
        }
    };
    let s0 = cpu_seconds(server_pid);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let s1 = cpu_seconds(server_pid);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut parts = stdout.split_whitespace();
    let time_total_s: f64 = parts.next().unwrap().parse().unwrap();
    let code = parts.next().unwrap_or("");
    let pretransfer_s: f64 = parts
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    assert!(
        code == "200" || code == "201",
        "curl PUT answered {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (cpu_s, max_rss_kib) =
        match time_bin().and_then(|_| std::fs::read_to_string(&time_out).ok()) {
            Some(t) => {
                // The last line (GNU time puts a "Command exited..." line first on failure).
                let line = t.lines().last().unwrap_or("").to_string();
                let f: Vec<&str> = line.split_whitespace().collect();
                let u: f64 = f.first().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
                let s: f64 = f.get(1).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
                let m: Option<u64> = f.get(2).and_then(|v| v.parse().ok());
                (json!(round(u + s, 2)), json!(m))
            }
            None => (Value::Null, Value::Null),
        };
    CurlRun {
        time_total_s,
        pretransfer_s,
        cpu_s,
        max_rss_kib,
        server_cpu_s: cpu_delta(s0, s1),
    }
}

/// The peak-memory child: connect, upload `file` once, print VmHWM before and after.
async fn child_upload(args: &Args) -> Value {
    let server = test_server(&args.server);
    let password = std::env::var(PASSWORD_ENV).expect("password in the environment");
    let data = tempfile::Builder::new()
        .prefix("linnet-upload-child")
        .tempdir_in(&args.dir)
        .unwrap();
    let (_linnet, client, mut events) =
        sdk_client(&server, data.path(), &args.jid, &password).await;
    let connected_kib = vm_hwm_kib();
    let file = args.child_upload.as_deref().unwrap();
    let run = linnet_upload(&client, &mut events, &args.to, file, None).await;
    let end_kib = vm_hwm_kib();
    client.disconnect().await;
    json!({
        "size": std::fs::metadata(file).unwrap().len(),
        "vmhwm_after_connect_kib": connected_kib,
        "vmhwm_end_kib": end_kib,
        "put_s": round(run.put_s, 3),
        "client_cpu_s": run.client_cpu_s,
    })
}

fn stats(times: &[f64], size: u64) -> Value {
    let tput: Vec<f64> = times.iter().map(|t| mb_per_s(size, *t)).collect();
    json!({
        "n": times.len(),
        "median_mb_s": round(median(&tput), 1),
        "min_mb_s": round(min(&tput), 1),
        "max_mb_s": round(max(&tput), 1),
        "median_s": round(median(times), 3),
        "samples_s": times.iter().map(|t| round(*t, 3)).collect::<Vec<_>>(),
    })
}

async fn bench(args: &Args) -> Value {
    let server = test_server(&args.server);
    let server_pid = server_pid(&args.server);
    let ca_file = servers_json()["ca_file"].as_str().unwrap().to_string();
    let work = tempfile::Builder::new()
        .prefix("linnet-upload-bench")
        .tempdir_in(&args.dir)
        .unwrap();
    eprintln!(
        "== {}: files and Linnet's data in {} (tmpfs)",
        args.server,
        work.path().display()
    );
    let file = random_file(work.path(), args.size);

    let (alice, alice_pw) = linnet_tests::create_account(&server, "upalice");
    let (bob, _) = linnet_tests::create_account(&server, "upbob");
    let (carol, carol_pw) = linnet_tests::create_account(&server, "upcarol");

    // Linnet: the SDK client, connected before any clock.
    let (_linnet, client, mut events) =
        sdk_client(&server, &work.path().join("linnet"), &alice, &alice_pw).await;
    // curl's slots: a protocol-layer session of another account.
    let session = login(&server, &carol, &carol_pw, "uploadbench", false).await;
    let domain: BareJid = server.domain.parse().unwrap();
    let service = upload::discover(&session.handle, Jid::from(domain))
        .await
        .unwrap()
        .expect("no upload service");
    if let Some(max) = service.max_file_size {
        assert!(
            max >= args.size,
            "the server accepts uploads up to {max} bytes, the file is {}: start the instance \
             with LINNET_UPLOAD_MAX_BYTES=209715200 (benches/upload.sh does)",
            args.size
        );
    }

    let mut linnet_put = Vec::new();
    let mut linnet_ack = Vec::new();
    let mut linnet_cpu = Vec::new();
    let mut linnet_server_cpu = Vec::new();
    let mut curl_time = Vec::new();
    let mut curl_cpu = Vec::new();
    let mut curl_rss = Vec::new();
    let mut curl_server_cpu = Vec::new();
    let mut load = Vec::new();
    for i in 0..args.warmup + args.runs {
        let counted = i >= args.warmup;
        let tag = if counted { "" } else { " (warm-up)" };
        load.push(std::fs::read_to_string("/proc/loadavg").unwrap_or_default());
        // Alternate who goes first: other builds share the 2 cores.
        for who in if i % 2 == 0 {
            ["linnet", "curl"]
        } else {
            ["curl", "linnet"]
        } {
            // Each upload starts on an idle server: Prosody works on for seconds after a large
            // upload (garbage collection), and whoever goes next would pay for it.
            settle(server_pid).await;
            if who == "linnet" {
                let r = linnet_upload(&client, &mut events, &bob, &file, server_pid).await;
                eprintln!(
                    "linnet {i}{tag}: PUT {:.3} s ({:.1} MB/s), send_file -> acked {:.3} s, client CPU {} s, server CPU {} s",
                    r.put_s,
                    args.size as f64 / 1e6 / r.put_s,
                    r.send_to_ack_s,
                    r.client_cpu_s,
                    r.server_cpu_s
                );
                if counted {
                    linnet_put.push(r.put_s);
                    linnet_ack.push(r.send_to_ack_s);
                    linnet_cpu.push(r.client_cpu_s);
                    linnet_server_cpu.push(r.server_cpu_s);
                }
            } else {
                let r = curl_upload(
                    &session,
                    &service,
                    &file,
                    &ca_file,
                    work.path(),
                    server_pid,
                    &args.curl_args,
                )
                .await;
                eprintln!(
                    "curl   {i}{tag}: time_total {:.3} s ({:.1} MB/s; pretransfer {:.3} s), CPU {} s, peak RSS {} KiB, server CPU {} s",
                    r.time_total_s,
                    args.size as f64 / 1e6 / r.time_total_s,
                    r.pretransfer_s,
                    r.cpu_s,
                    r.max_rss_kib,
                    r.server_cpu_s
                );
                if counted {
                    curl_time.push(r.time_total_s);
                    curl_cpu.push(r.cpu_s);
                    curl_rss.push(r.max_rss_kib);
                    curl_server_cpu.push(r.server_cpu_s);
                }
            }
        }
    }
    client.disconnect().await;

    // Peak memory: a child process per size for Linnet, curl under /usr/bin/time.
    let mut memory = Vec::new();
    for &size in &args.memory_sizes {
        let f = if size == args.size {
            file.clone()
        } else {
            random_file(work.path(), size)
        };
        let exe = std::env::current_exe().unwrap();
        let out = Command::new(exe)
            .args(["--server", &args.server, "--dir"])
            .arg(&args.dir)
            .arg("--child-upload")
            .arg(&f)
            .args(["--jid", &alice, "--to", &bob])
            .env(PASSWORD_ENV, &alice_pw)
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "the peak-memory child failed");
        let child: Value = serde_json::from_slice(&out.stdout).unwrap();
        let c = curl_upload(
            &session,
            &service,
            &f,
            &ca_file,
            work.path(),
            server_pid,
            &args.curl_args,
        )
        .await;
        eprintln!(
            "peak RSS, {size} bytes: linnet {} KiB (after connect {} KiB), curl {} KiB",
            child["vmhwm_end_kib"], child["vmhwm_after_connect_kib"], c.max_rss_kib
        );
        memory.push(json!({
            "size": size,
            "linnet": child,
            "curl": { "max_rss_kib": c.max_rss_kib, "time_total_s": c.time_total_s },
        }));
        if size != args.size {
            let _ = std::fs::remove_file(&f);
        }
    }

    let l = stats(&linnet_put, args.size);
    let c = stats(&curl_time, args.size);
    let ratio = round(
        l["median_mb_s"].as_f64().unwrap() / c["median_mb_s"].as_f64().unwrap(),
        2,
    );
    json!({
        "server": args.server,
        "size": args.size,
        "runs": args.runs,
        "warmup": args.warmup,
        "file_dir": args.dir,
        "linnet": {
            "put": l,
            "send_to_ack": stats(&linnet_ack, args.size),
            "client_cpu_s": linnet_cpu,
            "server_cpu_s": linnet_server_cpu,
        },
        "curl": {
            "time_total": c,
            "cpu_s": curl_cpu,
            "max_rss_kib": curl_rss,
            "server_cpu_s": curl_server_cpu,
        },
        "ratio_median_throughput": ratio,
        "memory": memory,
        "loadavg_before_each_rep": load.iter().map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>(),
    })
}

fn summary(r: &Value) {
    let f = |v: &Value| v.as_f64().map_or("-".into(), |x| format!("{x}"));
    let median_of = |v: &Value| {
        let xs: Vec<f64> = v
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        if xs.is_empty() {
            "-".into()
        } else {
            format!("{}", round(median(&xs), 2))
        }
    };
    let l = &r["linnet"];
    let c = &r["curl"];
    eprintln!(
        "\n| {} ({} bytes, {} runs) | Linnet | curl |\n|---|---:|---:|",
        r["server"].as_str().unwrap_or(""),
        r["size"],
        r["runs"]
    );
    eprintln!(
        "| throughput, median (MB/s) | {} | {} |",
        f(&l["put"]["median_mb_s"]),
        f(&c["time_total"]["median_mb_s"])
    );
    eprintln!(
        "| throughput, min (MB/s) | {} | {} |",
        f(&l["put"]["min_mb_s"]),
        f(&c["time_total"]["min_mb_s"])
    );
    eprintln!(
        "| time, median (s) | {} (send_file -> acked {}) | {} |",
        f(&l["put"]["median_s"]),
        f(&l["send_to_ack"]["median_s"]),
        f(&c["time_total"]["median_s"])
    );
    eprintln!(
        "| client CPU, median (s) | {} | {} |",
        median_of(&l["client_cpu_s"]),
        median_of(&c["cpu_s"])
    );
    eprintln!(
        "| server CPU, median (s) | {} | {} |",
        median_of(&l["server_cpu_s"]),
        median_of(&c["server_cpu_s"])
    );
    for m in r["memory"].as_array().into_iter().flatten() {
        eprintln!(
            "| peak RSS, {} bytes (KiB) | {} | {} |",
            m["size"], m["linnet"]["vmhwm_end_kib"], m["curl"]["max_rss_kib"]
        );
    }
    eprintln!(
        "| Linnet / curl median throughput (goal 0.9) | {} | |",
        f(&r["ratio_median_throughput"])
    );
}

fn main() {
    let args = parse_args();
    if let Ok(filter) = std::env::var("LINNET_BENCH_LOG") {
        linnet_sdk::logging::init_with(&filter, false, true);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if args.child_upload.is_some() {
        let v = rt.block_on(child_upload(&args));
        println!("{v}");
        return;
    }
    let v = rt.block_on(bench(&args));
    summary(&v);
    println!("{v}");
}
