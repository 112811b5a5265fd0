//! `ScramClient` against an arbitrary server: server-first (the challenge) and server-final (the
//! additional data of `<success/>`).
//!
//! Input: byte 0 holds flags (bit 0: SHA-256 rather than SHA-1; bits 1-2: no channel binding,
//! tls-exporter, tls-server-end-point or tls-unique; bit 3: the server offered -PLUS; bit 4: call
//! `verify_server_final` first, out of order; bit 5: username and password come from the input).
//! The rest is split at NUL bytes: server-first, server-final, username, password, channel-binding
//! data.
//!
//! The client nonce is random, so a server-first starting with `r=*` gets the `*` replaced by the
//! client nonce: that lets the fuzzer past the nonce check to the salt, the iteration count and
//! the proof. Accepted iteration counts above 8192 are lowered to 4096 so that one execution stays
//! in the milliseconds (the upper bound itself, `MAX_ITERATIONS`, is a unit test in `sasl.rs`).
//!
//! Checked: nothing panics or hangs; each step refuses to run twice or out of order; a
//! client-final has the RFC 5802 shape and carries the server's nonce; and the server signature
//! is never accepted, since this "server" cannot know the password-derived keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linnet_xmpp::sasl::{ChannelBindingType, MAX_ITERATIONS, SaslError, ScramClient, ScramHash};

/// The client nonce from the client-first message `gs2-header n=user,r=nonce`.
fn client_nonce(client_first: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(client_first);
    let Some(pos) = s.rfind(",r=") else {
        panic!("client-first without a nonce: {s}");
    };
    s[pos + 3..].as_bytes().to_vec()
}

/// Applies the `r=*` substitution and the iteration-count cap described above.
fn prepare_server_first(raw: &[u8], nonce: &[u8]) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = raw.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
    if let Some(first) = parts.first_mut()
        && first.starts_with(b"r=*")
    {
        let mut n = b"r=".to_vec();
        n.extend_from_slice(nonce);
        n.extend_from_slice(&first[3..]);
        *first = n;
    }
    if let Some(it) = parts.get_mut(2)
        && let Some(digits) = it.strip_prefix(b"i=")
        && !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && let Ok(n) = std::str::from_utf8(digits).unwrap_or("x").parse::<u64>()
        && n > 8192
        && n <= u64::from(MAX_ITERATIONS)
    {
        *it = b"i=4096".to_vec();
    }
    parts.join(&b","[..])
}

fuzz_target!(|data: &[u8]| {
    let [flags, rest @ ..] = data else {
        return;
    };
    let mut parts = rest.split(|&b| b == 0);
    let server_first = parts.next().unwrap_or_default();
    let server_final = parts.next().unwrap_or_default();
    let username = parts.next().unwrap_or_default();
    let password = parts.next().unwrap_or_default();
    let cb_data = parts.next().unwrap_or_default();

    let hash = if flags & 1 != 0 {
        ScramHash::Sha256
    } else {
        ScramHash::Sha1
    };
    let cb_type = match (flags >> 1) & 3 {
        0 => None,
        1 => Some(ChannelBindingType::TlsExporter),
        2 => Some(ChannelBindingType::TlsServerEndPoint),
        _ => Some(ChannelBindingType::TlsUnique),
    };
    let offered_plus = flags & 8 != 0;
    let out_of_order = flags & 16 != 0;
    let (username, password) = if flags & 32 != 0 {
        (
            String::from_utf8_lossy(username).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        )
    } else {
        ("romeo,=x".to_owned(), "pencil ∑".to_owned())
    };

    let cb = cb_type.map(|t| (t, cb_data.to_vec()));
    let mut client = match ScramClient::new(hash, &username, &password, cb, offered_plus) {
        Ok(c) => c,
        Err(e) => {
            assert!(matches!(e, SaslError::InvalidCredentials(_)), "{e:?}");
            return;
        }
    };
    std::hint::black_box(format!("{client:?}"));
    let mechanism = client.mechanism();
    assert_eq!(mechanism.is_plus(), cb_type.is_some());
    assert_eq!(mechanism.scram_hash(), Some(hash));

    let first = client.client_first();
    let gs2 = match cb_type {
        Some(t) => format!("p={},,", t.name()),
        None if offered_plus => "n,,".to_owned(),
        None => "y,,".to_owned(),
    };
    assert!(first.starts_with(gs2.as_bytes()));
    let nonce = client_nonce(&first);

    if out_of_order {
        assert_eq!(
            client.verify_server_final(server_final),
            Err(SaslError::OutOfOrder)
        );
        // A failed client stays failed.
        assert_eq!(
            client.handle_server_first(server_first),
            Err(SaslError::OutOfOrder)
        );
        return;
    }

    let server_first = prepare_server_first(server_first, &nonce);
    match client.handle_server_first(&server_first) {
        Ok(client_final) => {
            let text = std::str::from_utf8(&client_final).expect("client-final is UTF-8");
            assert!(text.starts_with("c="), "{text}");
            assert!(text.contains(",p="), "{text}");
            let server_nonce = std::str::from_utf8(&server_first)
                .ok()
                .and_then(|s| s.split(',').next())
                .and_then(|r| r.strip_prefix("r="))
                .expect("accepted server-first has a nonce");
            assert!(text.contains(&format!(",r={server_nonce},")), "{text}");
            assert!(server_nonce.as_bytes().starts_with(&nonce));
            assert!(server_nonce.len() > nonce.len());
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
            assert_eq!(
                client.verify_server_final(server_final),
                Err(SaslError::OutOfOrder)
            );
            return;
        }
    }

    match client.verify_server_final(server_final) {
        Ok(()) => panic!(
            "server signature accepted from a server that cannot know it: {:?}",
            String::from_utf8_lossy(server_final)
        ),
        Err(SaslError::ServerError(text)) => {
            assert!(text.chars().count() <= 200);
            assert!(!text.chars().any(char::is_control));
        }
        Err(e) => std::hint::black_box(e.to_string()).clear(),
    }
    // Failed for good: neither step runs again.
    assert_eq!(
        client.verify_server_final(server_final),
        Err(SaslError::OutOfOrder)
    );
    assert_eq!(
        client.handle_server_first(&server_first),
        Err(SaslError::OutOfOrder)
    );
});
