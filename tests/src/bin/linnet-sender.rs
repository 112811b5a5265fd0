//! A Linnet process for the crash scenarios of `tests/restarts.rs`: a test runs it, kills it with
//! SIGKILL mid-send and runs it again on the same data dir.
//!
//! ```text
//! linnet-sender DATA_DIR PEER send N TAG [DELAY_MS]
//! linnet-sender DATA_DIR PEER flush [TIMEOUT_S]
//! ```
//!
//! Both open the data dir (one account in it, added beforehand) and start that account's client
//! (the supervisor keeps it connected).
//! - `send` sends N messages "TAG 000", "TAG 001", ... to PEER, DELAY_MS (default 10) apart. Each
//!   body is printed on its own line on stdout, flushed, as soon as `send_message` returned its
//!   id: from that moment the message is in the outbox on disk, and Linnet owes its delivery.
//!   Then it waits (up to 30 s) until the server acknowledged every message.
//! - `flush` sends nothing new: it waits (up to TIMEOUT_S, default 30) until the outbox is empty,
//!   every message acknowledged, and prints what it found on stderr.
//!
//! Exit status: 0 when every outgoing message of the account is acknowledged and none failed;
//! 1 otherwise (a failed message, a timeout, an error); 2 for a usage error.
//! `RUST_LOG=debug` (any filter) logs to stderr, redacted, as the tests do with `RUST_LOG`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use linnet_sdk::store::OutboxCounts;
use linnet_sdk::{Client, Linnet};

const USAGE: &str = "usage: linnet-sender DATA_DIR PEER send N TAG [DELAY_MS]\n       \
                     linnet-sender DATA_DIR PEER flush [TIMEOUT_S]";

enum Mode {
    Send {
        n: usize,
        tag: String,
        delay: Duration,
    },
    Flush {
        timeout: Duration,
    },
}

fn parse(args: &[String]) -> Option<(String, String, Mode)> {
    let dir = args.first()?.clone();
    let peer = args.get(1)?.clone();
    let mode = match args.get(2)?.as_str() {
        "send" if (5..=6).contains(&args.len()) => Mode::Send {
            n: args.get(3)?.parse().ok()?,
            tag: args.get(4)?.clone(),
            delay: Duration::from_millis(match args.get(5) {
                Some(d) => d.parse().ok()?,
                None => 10,
            }),
        },
        "flush" if (3..=4).contains(&args.len()) => Mode::Flush {
            timeout: Duration::from_secs(match args.get(3) {
                Some(t) => t.parse().ok()?,
                None => 30,
            }),
        },
        _ => return None,
    };
    Some((dir, peer, mode))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, peer, mode)) = parse(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if let Ok(filter) = std::env::var("RUST_LOG") {
        linnet_sdk::logging::init(&filter, false);
    }
    match run(Path::new(&dir), &peer, mode).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linnet-sender: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(dir: &Path, peer: &str, mode: Mode) -> Result<(), String> {
    let linnet = Linnet::open(dir).map_err(|e| format!("open {}: {e}", dir.display()))?;
    let account = linnet.resolve_account(None).map_err(|e| e.to_string())?;
    let client = linnet.client(None).map_err(|e| e.to_string())?;
    let counts = || {
        linnet
            .store()
            .outbox_counts(account.id)
            .map_err(|e| format!("outbox: {e}"))
    };
    let at_start = counts()?;
    eprintln!("linnet-sender: outbox at start: {}", describe(&at_start));
    // The first attempt's outcome only: the supervisor keeps trying, and `send` queues anyway.
    if let Err(e) = client.start().await {
        eprintln!("linnet-sender: first connection attempt failed: {e}");
    }
    let timeout = match mode {
        Mode::Send { n, tag, delay } => {
            send(&client, peer, n, &tag, delay).await?;
            Duration::from_secs(30)
        }
        Mode::Flush { timeout } => timeout,
    };
    let t0 = Instant::now();
    let result = loop {
        let c = counts()?;
        if c.failed > 0 {
            break Err(format!("{} message(s) failed: {}", c.failed, describe(&c)));
        }
        if c.queued == 0 && c.sent == 0 {
            eprintln!(
                "linnet-sender: outbox empty after {} ms: {}",
                t0.elapsed().as_millis(),
                describe(&c)
            );
            break Ok(());
        }
        if t0.elapsed() >= timeout {
            break Err(format!(
                "outbox not empty after {timeout:?}: {}",
                describe(&c)
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    client.stop().await;
    result
}

/// Sends "TAG 000" .. to `peer`, printing each body once it is stored.
async fn send(
    client: &Client,
    peer: &str,
    n: usize,
    tag: &str,
    delay: Duration,
) -> Result<(), String> {
    for i in 0..n {
        let body = format!("{tag} {i:03}");
        client
            .send_message(peer, &body)
            .map_err(|e| format!("send {body:?}: {e}"))?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{body}")
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("stdout: {e}"))?;
        drop(stdout);
        tokio::time::sleep(delay).await;
    }
    Ok(())
}

fn describe(c: &OutboxCounts) -> String {
    format!(
        "queued {} sent {} acked {} delivered {} displayed {} failed {}",
        c.queued, c.sent, c.acked, c.delivered, c.displayed, c.failed
    )
}
