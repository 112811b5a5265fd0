//! `linnet sync` and `linnet history` against the real servers: a device whose store is empty
//! fetches the archive (newest first, then the whole conversation with `--all-with`), and
//! `history` then reads it from the store, in order, once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_tests::cli::{add_account, json_lines, linnet};
use linnet_tests::delivery::{all_acked, bodies, send_all};
use linnet_tests::{TestServer, connected, create_account, server};

async fn scenario(server: TestServer) {
    let (me, password) = create_account(&server, "clisync");
    let peer = connected(&server, "clipeer").await;
    let sent = bodies("cli archive", 80);
    all_acked(&peer, &send_all(&peer, &me, &sent)).await;
    peer.client.disconnect().await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_account(&data, &server, &me, &password);
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
