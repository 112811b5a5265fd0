//! `linnet call` and `linnet listen --answer-calls` against the real servers: a tone each way,
//! recorded to WAV files and measured, DTMF pressed by one and reported by the other.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use linnet_sdk::audio::{AudioSource, FRAME_SAMPLES, WavSource, dominant_frequency};
use linnet_tests::cli::{Running, add_account, json_lines, linnet};
use linnet_tests::*;

/// The dominant frequency of the middle of a recorded call (its start and end are ringing and
/// hanging up).
fn recorded_frequency(path: &Path) -> f32 {
    let mut source = WavSource::open(path).unwrap();
    let mut samples = Vec::new();
    let mut frame = vec![0i16; FRAME_SAMPLES];
    while source.read_frame(&mut frame) {
        samples.extend_from_slice(&frame);
    }
    assert!(
        samples.len() > 48_000,
        "{}: under a second recorded",
        path.display()
    );
    let middle = samples.len() / 2;
    dominant_frequency(&samples[middle - 12_000..middle + 12_000], 48_000)
        .unwrap_or_else(|| panic!("{}: silence", path.display()))
}

async fn scenario(server: TestServer) {
    let (alice_jid, alice_pw) = create_account(&server, "clicallalice");
    let (bob_jid, bob_pw) = create_account(&server, "clicallbob");
    {
        let mut alice = client_for(&server, &alice_jid, &alice_pw, Mode::StartTls);
        let mut bob = client_for(&server, &bob_jid, &bob_pw, Mode::StartTls);
        alice.client.connect().await.unwrap();
        bob.client.connect().await.unwrap();
        befriend(&mut alice, &mut bob).await;
        alice.client.disconnect().await;
        bob.client.disconnect().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let alice_data = dir.path().join("alice");
    let bob_data = dir.path().join("bob");
    add_account(&alice_data, &server, &alice_jid, &alice_pw);
    add_account(&bob_data, &server, &bob_jid, &bob_pw);
    let recordings = dir.path().join("calls");

    let listen = Running::start(
        &bob_data,
        &[
            "--json",
            "listen",
            "--answer-calls",
            "--tone",
            "660",
            "--record-dir",
            recordings.to_str().unwrap(),
        ],
    );
    listen.wait_for(Duration::from_secs(30), |v| {
        (v["type"] == "ready").then_some(())
    });

    let alice_wav = dir.path().join("alice.wav");
    let out = tokio::task::spawn_blocking({
        let (alice_data, bob_jid, alice_wav) =
            (alice_data.clone(), bob_jid.clone(), alice_wav.clone());
        move || {
            linnet(
                &alice_data,
                &[
                    "--json",
                    "call",
                    &bob_jid,
                    "--tone",
                    "440",
                    "--dtmf",
                    "123#",
                    "--record",
                    alice_wav.to_str().unwrap(),
                    "--hangup-after",
                    "3",
                ],
                "",
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "linnet call failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let states: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "call")
        .filter_map(|l| l["state"].as_str())
        .collect();
    assert!(states.contains(&"connected"), "{lines:?}");
    let last = lines.iter().rev().find(|l| l["type"] == "call").unwrap();
    assert_eq!(last["state"], "ended", "{last}");
    assert_eq!(last["reason"], "hung_up", "{last}");

    // Bob's listen answered, recorded, and reported the digits, then the end.
    let recording = listen.wait_for(Duration::from_secs(30), |v| {
        (v["type"] == "call_answered").then(|| v["recording"].as_str().unwrap().to_string())
    });
    let mut digits = String::new();
    let end = listen.wait_for(Duration::from_secs(30), |v| {
        if v["type"] == "dtmf" {
            digits.push_str(v["digit"].as_str().unwrap());
        }
        (v["type"] == "call" && v["state"] == "ended").then(|| v["reason"].clone())
    });
    assert_eq!(digits, "123#");
    assert_eq!(end, "remote_hung_up");
    listen.stop();

    let heard_by_alice = recorded_frequency(&alice_wav);
    assert!(
        (heard_by_alice - 660.0).abs() <= 10.0,
        "alice heard {heard_by_alice} Hz"
    );
    let heard_by_bob = recorded_frequency(Path::new(&recording));
    assert!(
        (heard_by_bob - 440.0).abs() <= 10.0,
        "bob heard {heard_by_bob} Hz"
    );
}
on_both_servers!(scenario);

/// Usage errors are caught before anything is sent.
#[test]
fn bad_digits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(linnet_tests::cli::linnet_bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["call", "bob@example.org", "--dtmf", "12x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--dtmf"), "{stderr}");
}
