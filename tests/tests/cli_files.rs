//! `linnet send-file`, `linnet listen` downloading by policy, and `linnet download` against the
//! real servers, the bytes checked at the other end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use linnet_sdk::{ClientEvent, TransferState};
use linnet_tests::cli::{Running, add_account, json_lines, linnet};
use linnet_tests::*;
use rand::RngCore as _;
use serde_json::Value;

fn random_file(path: &Path, size: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; size];
    rand::rng().fill_bytes(&mut bytes);
    std::fs::write(path, &bytes).unwrap();
    bytes
}

async fn scenario(server: TestServer) {
    // Bob uses the CLI; alice (a contact) and carol (a stranger) use the SDK.
    let (bob_jid, bob_pw) = create_account(&server, "clibob");
    let mut bob_sdk = client_for(&server, &bob_jid, &bob_pw, Mode::StartTls);
    bob_sdk.client.connect().await.unwrap();
    let mut alice = connected(&server, "clialice").await;
    befriend(&mut alice, &mut bob_sdk).await;
    bob_sdk.client.disconnect().await;
    let carol = connected(&server, "clicarol").await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    add_account(&data, &server, &bob_jid, &bob_pw);

    // send-file: the upload, then the message; alice gets the same bytes.
    let outgoing = dir.path().join("from bob.bin");
    let sent_bytes = random_file(&outgoing, 200_000);
    let out = linnet(
        &data,
        &[
            "--json",
            "send-file",
            &alice.jid,
            outgoing.to_str().unwrap(),
        ],
        "",
    );
    let sent = json_lines(&out).pop().unwrap();
    assert_eq!(sent["type"], "sent", "{sent}");
    assert_eq!(sent["attachment"]["state"], "done", "{sent}");
    let url = sent["attachment"]["url"].as_str().unwrap().to_string();
    assert_eq!(sent["body"], url.as_str());
    let got = alice
        .expect("bob's file", |e| match e {
            ClientEvent::Message(m) if m.attachment.is_some() => Some((**m).clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        got.attachment.as_ref().unwrap().url.as_deref(),
        Some(url.as_str())
    );
    alice
        .eventually("the file from a contact is downloaded", |c| {
            c.message(got.id)
                .unwrap()
                .and_then(|m| m.attachment)
                .is_some_and(|a| a.state == TransferState::Done)
        })
        .await;
    let path = alice
        .client
        .message(got.id)
        .unwrap()
        .unwrap()
        .attachment
        .unwrap()
        .local_path;
    assert_eq!(std::fs::read(path.unwrap()).unwrap(), sent_bytes);

    // While bob is offline: a file from alice (a contact) and one from carol (a stranger).
    let src = tempfile::tempdir().unwrap();
    let from_alice = src.path().join("holiday.jpg");
    let alice_bytes = random_file(&from_alice, 300_000);
    let id = alice.client.send_file(&bob_jid, &from_alice).unwrap();
    alice
        .client
        .wait_for_state(id, linnet_sdk::MessageState::Acked, Duration::from_secs(30))
        .await
        .unwrap();
    let from_carol = src.path().join("invoice.pdf");
    let carol_bytes = random_file(&from_carol, 100_000);
    let id = carol.client.send_file(&bob_jid, &from_carol).unwrap();
    carol
        .client
        .wait_for_state(id, linnet_sdk::MessageState::Acked, Duration::from_secs(30))
        .await
        .unwrap();

    // listen: alice's file is fetched by itself and its path reported; carol's is offered.
    let listen = Running::start(&data, &["--json", "listen"]);
    let (mut downloaded, mut offered_id) = (None, None);
    listen.wait_for(Duration::from_secs(30), |v: &Value| {
        if v["type"] == "downloaded" {
            downloaded = Some(v.clone());
        }
        if v["type"] == "message" && v["from"] == carol.jid.as_str() {
            offered_id = v["id"].as_i64();
        }
        (downloaded.is_some() && offered_id.is_some()).then_some(())
    });
    let (downloaded, offered_id) = (downloaded.unwrap(), offered_id.unwrap());
    listen.stop();
    assert_eq!(downloaded["file_name"], "holiday.jpg", "{downloaded}");
    let local = downloaded["path"].as_str().unwrap();
    assert!(
        local.starts_with(data.join("files").to_str().unwrap()),
        "{local}"
    );
    assert_eq!(std::fs::read(local).unwrap(), alice_bytes);

    let history = linnet(&data, &["--json", "history", &carol.jid], "");
    let offered = json_lines(&history)
        .into_iter()
        .find(|m| m["id"].as_i64() == Some(offered_id))
        .unwrap();
    assert_eq!(offered["attachment"]["state"], "offered", "{offered}");

    // download: by hand, with the path in the answer.
    let out = linnet(&data, &["--json", "download", &offered_id.to_string()], "");
    let done = json_lines(&out).pop().unwrap();
    assert_eq!(done["type"], "downloaded", "{done}");
    assert_eq!(done["file_name"], "invoice.pdf");
    assert_eq!(
        std::fs::read(done["path"].as_str().unwrap()).unwrap(),
        carol_bytes
    );
    // People see it in words too.
    let out = linnet(&data, &["download", &offered_id.to_string()], "");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("saved to"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_file_listen_and_download_on_prosody() {
    scenario(server("prosody")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_file_listen_and_download_on_ejabberd() {
    scenario(server("ejabberd")).await;
}
