//! The server-bound floor of an archive catch-up (issue 5): the least a client can do to pull
//! the same pages of its own archive (XEP-0313 with forward RSM `after` paging, the same page
//! size) from the same server. `benches/run.sh` runs it beside Linnet's `sync_archive()` and
//! slixmpp's MAM iteration (the `catchup` phase); see docs/benchmarks.md.
//!
//! Login and bind go through `linnet_xmpp::negotiate` before the clock starts (no stream
//! management, no roster, no presence: nothing else arrives on the stream). Then, timed, on the
//! raw TLS byte stream: one `<iq type='set'>` query per page, written as a literal string; the
//! answer is read as bytes until the page's `<fin/>` is complete, and the only things looked at
//! are the `<last>` id (the next page's `after`), `complete='true'`, and the number of
//! `<result ` openings (to check that every client fetched the same number of messages).
//! No XML parsing, no storage. The last page is the one the server says is complete (or an
//! empty one).
//!
//! Usage: `linnet-mam-floor --accounts FILE [--runs 5] [--warmup 1] [--page-size 250]`, FILE as
//! written by run.sh: `{"server": "prosody", "catchup": {"jid":.., "password":..}, "after": ID}`
//! (`after`: the archive id the catch-up starts from; null: the whole archive).
//! `--last-id` instead pages through the whole archive once and prints `{"last": ID, "results": N}`.
//! `--online` (an experiment, not the floor): before the clock, also enable carbons (XEP-0280)
//! and send an initial presence, as Linnet's and slixmpp's connects do, to see what being an
//! available session with carbons costs the server during the catch-up (still no stream
//! management: that would need parsing to count stanzas for the acks).
//! Output: one JSON object on stdout; progress on stderr.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials};
use linnet_xmpp::sasl::Secret;
use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{ByteStream, Target, TcpConnector, TlsMode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Args {
    accounts: PathBuf,
    runs: usize,
    warmup: usize,
    page_size: u32,
    last_id: bool,
    online: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: linnet-mam-floor --accounts FILE [--runs 5] [--warmup 1] [--page-size 250] [--online] [--last-id]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        accounts: PathBuf::new(),
        runs: 5,
        warmup: 1,
        page_size: 250,
        last_id: false,
        online: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--accounts" => args.accounts = PathBuf::from(value()),
            "--runs" => args.runs = value().parse().unwrap_or_else(|_| usage()),
            "--warmup" => args.warmup = value().parse().unwrap_or_else(|_| usage()),
            "--page-size" => args.page_size = value().parse().unwrap_or_else(|_| usage()),
            "--last-id" => args.last_id = true,
            "--online" => args.online = true,
            _ => usage(),
        }
    }
    if args.accounts.as_os_str().is_empty() {
        usage();
    }
    args
}

struct Server {
    host: String,
    port: u16,
    ca_pem: String,
    pid: Option<u32>,
}

fn load_server(name: &str) -> Server {
    let dir = std::env::var_os("LINNET_TEST_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/linnet-test-servers"));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("servers.json")).unwrap()).unwrap();
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

/// CPU time (user + system) of a process (this one: `None`) so far, in seconds (/proc, 10 ms
/// resolution).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_string(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(path).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
}

fn round2(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!((v * 100.0).round() / 100.0))
}

/// Logged in and bound; the raw TLS byte stream.
async fn login(server: &Server, jid: &str, password: &str) -> Box<dyn ByteStream> {
    let connector = TcpConnector::new(Some(Target {
        host: server.host.clone(),
        port: server.port,
        mode: TlsMode::StartTls,
    }));
    let creds = Credentials {
        jid: jid.parse().unwrap(),
        password: Secret::from(password),
    };
    let opts = ConnectOptions {
        resource: format!("floor{}", std::process::id()),
        tls: TlsSettings {
            extra_ca_pem: Some(server.ca_pem.clone()),
            only_extra_ca: true,
        },
        enable_stream_management: false,
        ..ConnectOptions::default()
    };
    let (conn, _info) = negotiate::connect(&connector, &creds, &opts).await.unwrap();
    conn.into_stream()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// What one page's answer said.
struct PageEnd {
    last: Option<String>,
    complete: bool,
    results: usize,
}

/// Reads until the `<fin/>` of the page is complete; returns what it said and drops it (and
/// everything before it) from `buf`.
async fn read_page(
    stream: &mut Box<dyn ByteStream>,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
    bytes: &mut usize,
) -> PageEnd {
    let mut scanned: usize = 0;
    loop {
        if let Some(p) = find(buf, b"<fin", scanned.saturating_sub(4)) {
            // The end of the fin element: a self-closing start tag, or </fin>.
            if let Some(gt) = find(buf, b">", p) {
                let end = if buf[gt - 1] == b'/' {
                    Some(gt + 1)
                } else {
                    find(buf, b"</fin>", gt).map(|e| e + 6)
                };
                if let Some(end) = end {
                    let fin = &buf[p..end];
                    let start_tag = &buf[p..gt];
                    let complete = find(start_tag, b"complete='true'", 0).is_some()
                        || find(start_tag, b"complete=\"true\"", 0).is_some();
                    let last = find(fin, b"<last>", 0).and_then(|s| {
                        let s = s + 6;
                        find(fin, b"</last>", s)
                            .map(|e| String::from_utf8_lossy(&fin[s..e]).into_owned())
                    });
                    let mut results = 0;
                    let mut at = 0;
                    while let Some(r) = find(&buf[..p], b"<result ", at) {
                        results += 1;
                        at = r + 8;
                    }
                    buf.drain(..end);
                    return PageEnd {
                        last,
                        complete,
                        results,
                    };
                }
            }
        }
        if find(buf, b"type='error'", scanned.saturating_sub(12)).is_some()
            || find(buf, b"type=\"error\"", scanned.saturating_sub(12)).is_some()
        {
            panic!(
                "the server answered with an error: {}",
                String::from_utf8_lossy(buf)
            );
        }
        scanned = buf.len();
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(chunk))
            .await
            .expect("no answer within 60 s")
            .unwrap();
        assert!(n > 0, "the server closed the connection");
        *bytes += n;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Pages forward from `after` until the archive says complete.
async fn pull(
    stream: &mut Box<dyn ByteStream>,
    after: Option<&str>,
    page_size: u32,
    run: usize,
) -> (usize, usize, usize, Option<String>) {
    let mut after = after.map(str::to_string);
    let mut buf = Vec::with_capacity(1 << 20);
    let mut chunk = vec![0u8; 64 * 1024];
    let (mut pages, mut results, mut bytes) = (0, 0, 0);
    loop {
        let rsm_after = after
            .as_deref()
            .map(|a| format!("<after>{}</after>", escape(a)))
            .unwrap_or_default();
        let iq = format!(
            "<iq type='set' id='f{run}p{pages}'><query xmlns='urn:xmpp:mam:2' queryid='q{run}p{pages}'>\
             <x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field></x>\
             <set xmlns='http://jabber.org/protocol/rsm'><max>{page_size}</max>{rsm_after}</set></query></iq>"
        );
        stream.write_all(iq.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        let end = read_page(stream, &mut buf, &mut chunk, &mut bytes).await;
        pages += 1;
        results += end.results;
        if end.complete || end.last.is_none() {
            return (pages, results, bytes, end.last.or(after));
        }
        after = end.last;
    }
}

/// Carbons enabled and an initial presence sent; their answers (and the presence echo) read.
async fn go_online(stream: &mut Box<dyn ByteStream>) {
    stream
        .write_all(
            b"<iq type='set' id='carbons'><enable xmlns='urn:xmpp:carbons:2'/></iq><presence/>",
        )
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        // The rest (our own presence back) arrives within the quiet time.
        match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            Ok(_) => panic!("the server closed the connection"),
            Err(_) if find(&buf, b"id='carbons'", 0).is_some() => return,
            Err(_) => {}
        }
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn main() {
    let args = parse_args();
    let accounts: Value =
        serde_json::from_str(&std::fs::read_to_string(&args.accounts).unwrap()).unwrap();
    let server_name = accounts["server"].as_str().unwrap_or("prosody").to_string();
    let server = load_server(&server_name);
    let jid = accounts["catchup"]["jid"].as_str().unwrap().to_string();
    let password = accounts["catchup"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let after = accounts["after"].as_str().map(str::to_string);
    // One thread: the least machinery there is.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt.block_on(async {
        if args.last_id {
            let mut s = login(&server, &jid, &password).await;
            let (pages, results, _, last) = pull(&mut s, None, args.page_size, 0).await;
            let _ = s.write_all(b"</stream:stream>").await;
            return json!({ "last": last, "results": results, "pages": pages });
        }
        let mut runs = Vec::new();
        for i in 0..args.warmup + args.runs {
            let mut s = login(&server, &jid, &password).await;
            if args.online {
                go_online(&mut s).await;
            }
            let (cpu0, server0) = (cpu_seconds(None), cpu_seconds(server.pid));
            let t0 = Instant::now();
            let (pages, results, bytes, _) =
                pull(&mut s, after.as_deref(), args.page_size, i).await;
            let wall = t0.elapsed();
            let cpu = cpu_seconds(None).zip(cpu0).map(|(b, a)| b - a);
            let server_cpu = cpu_seconds(server.pid).zip(server0).map(|(b, a)| b - a);
            let _ = s.write_all(b"</stream:stream>").await;
            drop(s);
            eprintln!(
                "floor catch-up {}{}: {:.1} ms, {pages} pages, {results} messages, {bytes} bytes, cpu {} s (server {} s)",
                if i < args.warmup { "warm-up " } else { "run " },
                i,
                millis(wall),
                round2(cpu),
                round2(server_cpu),
            );
            if i >= args.warmup {
                runs.push(json!({
                    "wall_ms": millis(wall),
                    "cpu_s": round2(cpu),
                    "server_cpu_s": round2(server_cpu),
                    "pages": pages,
                    "fetched": results,
                    "bytes": bytes,
                }));
            }
        }
        json!({ "client": "floor", "server": server_name, "pid": std::process::id(),
                "page_size": args.page_size, "catchup": { "runs": runs } })
    });
    println!("{}", serde_json::to_string(&out).unwrap());
}
