//! File transfer against the real servers: HTTP upload (XEP-0363) with each server's quirks, the
//! message with its OOB link, downloads by policy and by hand, the bytes checked end to end.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use linnet_sdk::{
    ClientEvent, LinnetError, Message, MessageState, Preferences, TransferFailureKind,
    TransferState, TransferUpdate,
};
use linnet_tests::*;
use rand::RngCore as _;

/// Writes `size` random bytes to `dir/name` and returns the path.
fn file_with(dir: &Path, name: &str, size: usize) -> PathBuf {
    let mut bytes = vec![0u8; size];
    rand::rng().fill_bytes(&mut bytes);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

/// A tiny PNG header (signature and IHDR): enough for its dimensions to be read.
fn png(dir: &Path, name: &str, width: u32, height: u32) -> PathBuf {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    bytes.extend_from_slice(&13u32.to_be_bytes());
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&width.to_be_bytes());
    bytes.extend_from_slice(&height.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0]);
    bytes.extend_from_slice(&[0, 0, 0, 0]); // CRC (not checked by readers of the size)
    bytes.extend_from_slice(&[0u8; 64]);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

/// Waits for a transfer of message `id` to reach a final state (done, failed, cancelled).
async fn transfer_end(c: &mut TestClient, id: i64, within: Duration) -> TransferUpdate {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(a) = c.client.message(id).unwrap().and_then(|m| m.attachment)
            && matches!(
                a.state,
                TransferState::Done | TransferState::Failed | TransferState::Cancelled
            )
        {
            return TransferUpdate {
                message_id: id,
                peer: String::new(),
                direction: a.direction,
                state: a.state,
                transferred: a.size.unwrap_or(0),
                total: a.size,
                failure_kind: a
                    .failure_kind
                    .as_deref()
                    .and_then(TransferFailureKind::parse),
                failure_reason: a.failure_reason,
            };
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "{}: transfer {id} did not end", c.jid);
        let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), c.events.recv()).await;
    }
}

/// The attachment of message `id` as stored on `c`.
fn attachment_of(c: &TestClient, id: i64) -> linnet_sdk::Attachment {
    c.client.message(id).unwrap().unwrap().attachment.unwrap()
}

/// The next message from `peer` that carries a file (live).
async fn file_message_from(c: &mut TestClient, peer: &str) -> Message {
    let peer = peer.to_string();
    c.expect("a message with a file", |e| match e {
        ClientEvent::Message(m) if m.peer == peer && m.attachment.is_some() => Some((**m).clone()),
        _ => None,
    })
    .await
}

/// Checks that the downloaded file of message `id` holds exactly the bytes of `source`, under a
/// generated name in the client's own files folder.
fn assert_downloaded_as(c: &TestClient, id: i64, source: &Path) {
    let a = attachment_of(c, id);
    assert_eq!(a.state, TransferState::Done, "{:?}", a.failure_reason);
    let local = PathBuf::from(a.local_path.as_deref().unwrap());
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(source).unwrap(),
        "the bytes arrived unchanged"
    );
    let files = c.dir.path().join("files");
    assert_eq!(local.parent().unwrap(), files, "inside the app's storage");
    let stored_name = local.file_name().unwrap().to_string_lossy().into_owned();
    let source_stem = source.file_stem().unwrap().to_string_lossy().into_owned();
    assert!(
        !stored_name.contains(&source_stem),
        "the stored name {stored_name} is generated, not taken from the network"
    );
}

/// Waits until the server acknowledged message `id` (a file: after its upload).
async fn acked(client: &linnet_sdk::Client, id: i64) -> Message {
    let sent = client
        .wait_for_state(id, MessageState::Acked, Duration::from_secs(60))
        .await
        .unwrap();
    assert_ne!(
        sent.state,
        MessageState::Failed,
        "{:?}",
        sent.failure_reason
    );
    sent
}

/// Sends `path` from `alice` to `bob` and waits until the server acknowledged the message.
async fn send_acked_file(alice: &mut TestClient, to: &str, path: &Path) -> Message {
    let id = alice.client.send_file(to, path).unwrap();
    acked(&alice.client, id).await
}

async fn files_round_trip(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    befriend(&mut alice, &mut bob).await;
    // Automatic below 1 MiB, by hand above.
    bob.client
        .set_preferences(Preferences {
            auto_download_max_bytes: 1024 * 1024,
            ..bob.client.preferences().unwrap()
        })
        .unwrap();
    let src = tempfile::tempdir().unwrap();

    // Small, and a name with spaces and umlauts: downloaded by the policy (from a contact).
    for (path, dims) in [
        (file_with(src.path(), "note.txt", 1500), None),
        (
            png(src.path(), "Grüße aus Köln 1.png", 640, 480),
            Some((640, 480)),
        ),
    ] {
        let sent = send_acked_file(&mut alice, &bob.jid, &path).await;
        let a = sent.attachment.clone().unwrap();
        assert_eq!(a.state, TransferState::Done);
        let url = a.url.clone().unwrap();
        assert!(url.starts_with("https://"), "{url}");
        assert_eq!(
            sent.body, url,
            "the URL is the body, as other clients expect"
        );
        assert_eq!(a.dimensions, dims);
        let got = file_message_from(&mut bob, &alice.jid).await;
        let offered = got.attachment.clone().unwrap();
        assert_eq!(offered.url.as_deref(), Some(url.as_str()));
        // The name to show comes from the link, decoded. Prosody keeps the name in the link;
        // ejabberd replaces spaces with underscores there.
        let original = path.file_name().unwrap().to_string_lossy().into_owned();
        let expected = match server.name {
            "prosody" => original,
            _ => original.replace(' ', "_"),
        };
        assert_eq!(offered.file_name, expected);
        let end = transfer_end(&mut bob, got.id, Duration::from_secs(30)).await;
        assert_eq!(end.state, TransferState::Done, "{:?}", end.failure_reason);
        assert_downloaded_as(&bob, got.id, &path);
        let done = attachment_of(&bob, got.id);
        assert_eq!(done.dimensions, dims);
    }

    // 10 MB (the servers take up to 10 MiB): over bob's automatic limit, so offered.
    let big = file_with(src.path(), "big.bin", 10_000_000);
    send_acked_file(&mut alice, &bob.jid, &big).await;
    let got = file_message_from(&mut bob, &alice.jid).await;
    bob.eventually("the size is known from a HEAD request", |c| {
        c.message(got.id)
            .unwrap()
            .and_then(|m| m.attachment)
            .is_some_and(|a| a.size == Some(10_000_000))
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = attachment_of(&bob, got.id);
    assert_eq!(a.state, TransferState::Offered, "not fetched by itself");
    bob.client.download(got.id).unwrap();
    let end = transfer_end(&mut bob, got.id, Duration::from_secs(60)).await;
    assert_eq!(end.state, TransferState::Done, "{:?}", end.failure_reason);
    assert_downloaded_as(&bob, got.id, &big);

    // Empty: Prosody grants a slot for 0 bytes, ejabberd answers bad-request.
    let empty = file_with(src.path(), "empty.txt", 0);
    let id = alice.client.send_file(&bob.jid, &empty).unwrap();
    let end = transfer_end(&mut alice, id, Duration::from_secs(30)).await;
    if server.name == "prosody" {
        assert_eq!(end.state, TransferState::Done, "{:?}", end.failure_reason);
        let got = file_message_from(&mut bob, &alice.jid).await;
        let end = transfer_end(&mut bob, got.id, Duration::from_secs(30)).await;
        assert_eq!(end.state, TransferState::Done, "{:?}", end.failure_reason);
        assert_downloaded_as(&bob, got.id, &empty);
    } else {
        assert_eq!(end.state, TransferState::Failed);
        assert_eq!(end.failure_kind, Some(TransferFailureKind::ServerRefused));
        assert!(
            end.failure_reason
                .as_deref()
                .unwrap()
                .contains("bad-request"),
            "{:?}",
            end.failure_reason
        );
        let m = alice.client.message(id).unwrap().unwrap();
        assert_eq!(
            m.state,
            MessageState::Failed,
            "the message shows the failure"
        );
    }
}
on_both_servers!(files_round_trip);

async fn too_large_files_are_refused(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let (bob, _) = create_account(&server, "bob");
    let src = tempfile::tempdir().unwrap();
    // Sparse: one byte over the servers' 10 MiB limit costs no disk.
    let path = src.path().join("too big.bin");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(10 * 1024 * 1024 + 1)
        .unwrap();
    // The first time, the limit is learnt from the upload service before any slot is asked.
    let id = alice.client.send_file(&bob, &path).unwrap();
    let end = transfer_end(&mut alice, id, Duration::from_secs(30)).await;
    assert_eq!(end.state, TransferState::Failed);
    assert_eq!(end.failure_kind, Some(TransferFailureKind::TooLarge));
    let m = alice.client.message(id).unwrap().unwrap();
    assert_eq!(m.state, MessageState::Failed);
    assert_eq!(
        m.attachment.unwrap().attempts,
        1,
        "not retried: a bigger file will not fit later"
    );
    // From then on it is refused at once, and nothing is stored.
    let before = alice.client.history(&bob, 100, None).unwrap().len();
    match alice.client.send_file(&bob, &path) {
        Err(LinnetError::FileTooLarge { size, max }) => {
            assert_eq!(size, 10 * 1024 * 1024 + 1);
            assert_eq!(max, 10 * 1024 * 1024);
        }
        other => panic!("expected FileTooLarge, got {other:?}"),
    }
    assert_eq!(alice.client.history(&bob, 100, None).unwrap().len(), before);
}
on_both_servers!(too_large_files_are_refused);

/// Prosody's slots carry an Authorization header the PUT must send (401 without it); ejabberd's
/// carry none. The round trip above proves the header is sent; this pins down who sends one.
async fn slot_headers_differ_by_server(server: TestServer) {
    let (jid, password) = create_account(&server, "alice");
    let raw = seed::login(&server, &jid, &password, "slot", false).await;
    let domain: linnet_xmpp::Jid = server.domain.parse().unwrap();
    let service = linnet_xmpp::upload::discover(&raw.handle, domain)
        .await
        .unwrap()
        .expect("an upload service");
    assert_eq!(service.max_file_size, Some(10 * 1024 * 1024));
    let slot = linnet_xmpp::upload::request_slot(
        &raw.handle,
        &service.jid,
        &linnet_xmpp::upload::SlotRequest {
            filename: "a b.txt".into(),
            size: 10,
            content_type: Some("text/plain".into()),
        },
    )
    .await
    .unwrap();
    assert!(slot.put_url.starts_with("https://"));
    let names: Vec<&str> = slot.put_headers.iter().map(|(n, _)| n.as_str()).collect();
    if server.name == "prosody" {
        assert_eq!(names, ["Authorization"]);
    } else {
        assert!(names.is_empty(), "{names:?}");
    }
}
on_both_servers!(slot_headers_differ_by_server);

/// The app is killed in the middle of an upload (its runtime stops dead, as a process would):
/// the next start uploads the file again and the message goes out once.
async fn upload_interrupted_by_a_restart_completes_once(server: TestServer) {
    let (alice_jid, alice_pw) = create_account(&server, "alice");
    let mut bob = connected(&server, "bob").await;
    let src = tempfile::tempdir().unwrap();
    let path = file_with(src.path(), "restart.bin", 8_000_000);
    let dir = tempfile::tempdir().unwrap();

    let first = {
        let (server, bob_jid, alice_jid, alice_pw, path) = (
            server.clone(),
            bob.jid.clone(),
            alice_jid.clone(),
            alice_pw.clone(),
            path.clone(),
        );
        let dir_path = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let id = runtime.block_on(async move {
                let linnet = linnet_sdk::Linnet::open(&dir_path).unwrap();
                linnet
                    .add_account(
                        &alice_jid,
                        linnet_sdk::Secret::from(alice_pw.as_str()),
                        settings(&server, Mode::StartTls),
                    )
                    .unwrap();
                let client = linnet.client(Some(&alice_jid)).unwrap();
                let mut events = client.subscribe();
                client.connect().await.unwrap();
                let id = client.send_file(&bob_jid, &path).unwrap();
                // Until the PUT is under way.
                loop {
                    if let Ok(ClientEvent::Transfer(t)) = events.recv().await
                        && t.message_id == id
                        && t.state == TransferState::Transferring
                        && t.transferred > 0
                    {
                        assert!(t.transferred < 8_000_000);
                        return id;
                    }
                }
            });
            // Everything stops where it is: no goodbye, no cleanup.
            runtime.shutdown_background();
            id
        })
        .join()
        .unwrap()
    };

    let linnet = linnet_sdk::Linnet::open(dir.path()).unwrap();
    let stuck = linnet.store().attachment(first).unwrap().unwrap();
    // Mid-way: still marked running, or (when the dying runtime failed it first) waiting for
    // another attempt. Never failed for good, never done.
    assert!(
        matches!(
            stuck.state,
            TransferState::Transferring | TransferState::Queued
        ),
        "the restart hit the upload mid-way: {stuck:?}"
    );
    let client = linnet.client(Some(&alice_jid)).unwrap();
    client.connect().await.unwrap();
    let sent = acked(&client, first).await;
    assert_eq!(sent.attachment.as_ref().unwrap().attempts, 2);

    let got = file_message_from(&mut bob, &alice_jid).await;
    assert_eq!(got.body, sent.body);
    // Bob has no roster entry for alice: a stranger's file is never fetched by itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let offered = attachment_of(&bob, got.id);
    assert_eq!(offered.state, TransferState::Offered);
    assert_eq!(
        offered.size, None,
        "not even a HEAD request to a stranger's link"
    );
    bob.client.download(got.id).unwrap();
    let end = transfer_end(&mut bob, got.id, Duration::from_secs(60)).await;
    assert_eq!(end.state, TransferState::Done, "{:?}", end.failure_reason);
    assert_downloaded_as(&bob, got.id, &path);
    // Exactly one message with a file arrived.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_files = bob
        .client
        .history(&alice_jid, 100, None)
        .unwrap()
        .into_iter()
        .filter(|m| m.attachment.is_some())
        .count();
    assert_eq!(with_files, 1);
    client.disconnect().await;
}
on_both_servers!(upload_interrupted_by_a_restart_completes_once);

/// A cancelled upload fails its message; a retry sends it.
async fn cancel_then_retry_an_upload(server: TestServer) {
    let alice = connected(&server, "alice").await;
    let mut bob = connected(&server, "bob").await;
    let src = tempfile::tempdir().unwrap();
    let path = file_with(src.path(), "cancelled.bin", 2_000);
    alice.client.disconnect().await;
    // Queued while offline, cancelled before it could start.
    let id = alice.client.send_file(&bob.jid, &path).unwrap();
    alice.client.cancel_transfer(id).unwrap();
    let m = alice.client.message(id).unwrap().unwrap();
    assert_eq!(m.state, MessageState::Failed);
    assert_eq!(m.failure_reason.as_deref(), Some("cancelled"));
    assert_eq!(m.attachment.unwrap().state, TransferState::Cancelled);
    alice.client.connect().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        alice.client.message(id).unwrap().unwrap().state,
        MessageState::Failed,
        "a cancelled upload stays cancelled after a connect"
    );
    alice.client.retry(id).unwrap();
    let sent = acked(&alice.client, id).await;
    let got = file_message_from(&mut bob, &alice.jid).await;
    assert_eq!(got.body, sent.body);
}
on_both_servers!(cancel_then_retry_an_upload);

/// Links whose file names try to leave the storage folder (`../../etc/passwd`, percent-encoded,
/// backslashes): the files land under generated names inside it, and the names shown are
/// harmless. The links are real uploads (a raw session asks for slots with those names and puts
/// the bytes), so each server's own handling of such names is part of the test.
async fn hostile_file_names_never_leave_the_storage_folder(server: TestServer) {
    let (mallory_jid, mallory_pw) = create_account(&server, "mallory");
    let mut bob = connected(&server, "bob").await;
    let mallory = seed::login(&server, &mallory_jid, &mallory_pw, "evil", false).await;
    let domain: linnet_xmpp::Jid = server.domain.parse().unwrap();
    let service = linnet_xmpp::upload::discover(&mallory.handle, domain)
        .await
        .unwrap()
        .unwrap();
    let tls = linnet_xmpp::tls::client_config(
        &linnet_xmpp::tls::TlsSettings {
            extra_ca_pem: Some(server.ca_pem.clone()),
            only_extra_ca: true,
        },
        false,
    )
    .unwrap();
    let http = linnet_files::HttpClient::new(tls, "hostile-test").unwrap();
    let src = tempfile::tempdir().unwrap();
    let source = file_with(src.path(), "payload.bin", 3_000);
    let mut urls = Vec::new();
    for name in [
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%252e%252e%252fetc%252fpasswd",
        "..\\..\\windows\\win.ini",
        ".bashrc",
        "invoice\u{202E}gpj.exe",
    ] {
        let slot = linnet_xmpp::upload::request_slot(
            &mallory.handle,
            &service.jid,
            &linnet_xmpp::upload::SlotRequest {
                filename: name.into(),
                size: 3_000,
                content_type: None,
            },
        )
        .await;
        // Prosody refuses a name with a slash; that is its right.
        let Ok(slot) = slot else { continue };
        http.put_file(
            &slot.put_url,
            &slot.put_headers,
            &source,
            3_000,
            "application/octet-stream",
            &|_| {},
            &linnet_files::CancellationToken::new(),
        )
        .await
        .unwrap();
        urls.push(slot.get_url);
    }
    assert!(
        urls.len() >= 4,
        "{} of 7 hostile names accepted",
        urls.len()
    );
    let uploaded = urls.clone();
    // Links as a peer may write them: the name part rewritten to climb out, percent-encoded.
    // Prosody serves a file by its slot id (and refuses some of these with 400).
    if server.name == "prosody" {
        let base = urls[0].rsplit_once('/').unwrap().0.to_string();
        for tail in [
            "..%2F..%2F..%2Fetc%2Fpasswd",
            "%2E%2E%5C%2E%2E%5Cboot.ini",
            "%00.jpg",
        ] {
            urls.push(format!("{base}/{tail}"));
        }
    }

    let mut downloaded = 0;
    let before: Vec<_> = std::fs::read_dir(bob.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    for url in &urls {
        let id = mallory.handle.new_id();
        let to: linnet_xmpp::BareJid = bob.jid.parse().unwrap();
        let message = linnet_xmpp::chat::message_with_attachment(&to, &id, url);
        mallory.handle.send(&message.into(), None).unwrap();
        let got = file_message_from(&mut bob, &mallory_jid).await;
        let shown = got.attachment.as_ref().unwrap().file_name.clone();
        assert!(
            !shown.contains('/') && !shown.contains('\\') && !shown.starts_with('.'),
            "{url}: shown as {shown:?}"
        );
        assert!(
            !shown.chars().any(|c| c == '\u{202E}' || c.is_control()),
            "{url}: shown as {shown:?}"
        );
        bob.client.download(got.id).unwrap();
        let end = transfer_end(&mut bob, got.id, Duration::from_secs(30)).await;
        if uploaded.contains(url) {
            assert_eq!(
                end.state,
                TransferState::Done,
                "{url}: {:?}",
                end.failure_reason
            );
        }
        match end.state {
            TransferState::Done => {
                assert_downloaded_as(&bob, got.id, &source);
                downloaded += 1;
            }
            // A rewritten link the server does not serve: a visible failure, nothing stored.
            _ => assert_eq!(
                end.failure_kind,
                Some(TransferFailureKind::Http),
                "{url}: {end:?}"
            ),
        }
    }
    let after: Vec<_> = std::fs::read_dir(bob.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let new: Vec<_> = after.iter().filter(|n| !before.contains(n)).collect();
    assert!(
        new.iter().all(|n| *n == "files"),
        "only the files folder is new in the data dir: {new:?}"
    );
    let stored: Vec<String> = std::fs::read_dir(bob.dir.path().join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored.len(), downloaded, "{stored:?}");
    for name in &stored {
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
            "generated name {name:?}"
        );
        assert!(
            !name.contains("passwd") && !name.starts_with('.'),
            "{name:?}"
        );
    }
}
on_both_servers!(hostile_file_names_never_leave_the_storage_folder);

/// A download over this device's limit fails while streaming, visibly and with the limit in the
/// reason; asking again fails the same way (nothing half-written is left).
async fn a_download_over_the_limit_fails_visibly(server: TestServer) {
    let mut alice = connected(&server, "alice").await;
    let (bob_jid, bob_pw) = create_account(&server, "bob");
    let config = linnet_sdk::ClientConfig {
        files: linnet_sdk::FilesConfig {
            max_download_bytes: 1_000,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut bob = client_via(
        &server,
        &bob_jid,
        &bob_pw,
        linnet_tests::delivery::upstream(&server),
        config,
    );
    bob.client.connect().await.unwrap();
    bob.client.doctor().await.unwrap();
    befriend(&mut alice, &mut bob).await;
    let src = tempfile::tempdir().unwrap();
    let path = file_with(src.path(), "three-k.bin", 3_000);
    send_acked_file(&mut alice, &bob.jid, &path).await;
    let got = file_message_from(&mut bob, &alice.jid).await;
    // From a contact, small enough for the policy: fetched by itself, and cut off at 1000.
    for attempt in 0..2 {
        if attempt > 0 {
            bob.client.download(got.id).unwrap();
        }
        let end = transfer_end(&mut bob, got.id, Duration::from_secs(30)).await;
        assert_eq!(end.state, TransferState::Failed, "{end:?}");
        assert_eq!(end.failure_kind, Some(TransferFailureKind::TooLarge));
        assert!(
            end.failure_reason.as_deref().unwrap().contains("1000"),
            "{end:?}"
        );
    }
    let files = bob.dir.path().join("files");
    let left: Vec<_> = std::fs::read_dir(&files)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "no partial file left: {left:?}");
}
on_both_servers!(a_download_over_the_limit_fails_visibly);
