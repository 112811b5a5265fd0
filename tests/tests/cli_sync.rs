//! `linnet sync` and `linnet history` against the real servers: a device whose store is empty
//! fetches the archive (newest first, then the whole conversation with `--all-with`), and
//! `history` then reads it from the store, in order, once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use linnet_tests::delivery::{all_acked, bodies, send_all};
use linnet_tests::{TestServer, connected, create_account, server};
use serde_json::Value;

/// The `linnet` binary of this workspace (`make test` builds every target first).
fn linnet_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> -> target/<profile>/linnet
    let bin = exe.parent().unwrap().parent().unwrap().join("linnet");
    assert!(
        bin.exists(),
        "{} is missing: cargo build -p linnet-cli",
        bin.display()
    );
    bin
}

fn linnet(data: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(linnet_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("LINNET_PASSWORD")
        .env_remove("LINNET_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "linnet {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn scenario(server: TestServer) {
    let (me, password) = create_account(&server, "clisync");
    let peer = connected(&server, "clipeer").await;
    let sent = bodies("cli archive", 80);
    all_acked(&peer, &send_all(&peer, &me, &sent)).await;
    peer.client.disconnect().await;

    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let data = dir.path().join("data");
    let address = format!("{}:{}", server.host, server.starttls_port);
    linnet(
        &data,
        &[
            "account",
            "add",
            &me,
            "--server",
            &address,
            "--ca-file",
            ca.to_str().unwrap(),
        ],
        &format!("{password}\n"),
    );
    let out = linnet(&data, &["--json", "sync", "--all-with", &peer.jid], "");
    let summary = json_lines(&out).pop().unwrap();
    assert_eq!(summary["type"], "synced", "{summary}");
    assert_eq!(summary["complete"], true, "{summary}");
    assert_eq!(summary["gaps"], 0, "{summary}");
    let human = linnet(&data, &["sync"], "");
    assert!(
        String::from_utf8_lossy(&human.stdout).starts_with("synced: "),
        "{}",
        String::from_utf8_lossy(&human.stdout)
    );

    let out = linnet(
        &data,
        &["--json", "history", &peer.jid, "--limit", "1000"],
        "",
    );
    let got: Vec<String> = json_lines(&out)
        .iter()
        .filter(|m| m["body"].is_string())
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    if got != sent {
        for m in json_lines(&out) {
            eprintln!("{m}");
        }
    }
    assert_eq!(got, sent, "history after sync, oldest first, each once");
}

#[tokio::test]
async fn sync_then_history_on_prosody() {
    scenario(server("prosody")).await;
}

#[tokio::test]
async fn sync_then_history_on_ejabberd() {
    scenario(server("ejabberd")).await;
}
