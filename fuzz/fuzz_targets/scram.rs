//! `ScramClient` against an arbitrary server: server-first (the challenge) and server-final (the
//! additional data of `<success/>`).
//!
//! Input: byte 0 holds flags (bit 0: SHA-256 rather than SHA-1; bits 1-2: no channel binding,
//! tls-exporter, tls-server-end-point or tls-unique; bit 3: the server offered -PLUS; bit 4: call
//! `verify_server_final` first, out of order; bit 5: username and password come from the input;
//! bit 6: answer with the correct server signature, computed here; bit 7: with bit 6, append the
//! input's server-final after it as an extension).
//! The rest is split at NUL bytes: server-first, server-final, username, password, channel-binding
//! data.
//!
//! The client nonce is random, so a server-first starting with `r=*` gets the `*` replaced by the
//! client nonce: that lets the fuzzer past the nonce check to the salt, the iteration count and
//! the proof. Accepted iteration counts above 8192 are lowered to 4096 so that one execution stays
//! in the milliseconds (the upper bound itself, `MAX_ITERATIONS`, is a unit test in `sasl.rs`).
//!
//! Checked: nothing panics or hangs; each step refuses to run twice or out of order; a
//! client-final has the RFC 5802 shape and carries the server's nonce; its channel-binding data
//! and proof equal those of an independent RFC 5802 computation done here with the same password;
//! a server-final with the signature from that computation is accepted, and any other one never.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use linnet_xmpp::sasl::{ChannelBindingType, MAX_ITERATIONS, SaslError, ScramClient, ScramHash};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// RFC 5802 section 3, written out again for comparison.
mod reference {
    use super::*;

    pub fn hmac(hash: ScramHash, key: &[u8], data: &[u8]) -> Vec<u8> {
        match hash {
            ScramHash::Sha1 => {
                let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("any key size");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key size");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn h(hash: ScramHash, data: &[u8]) -> Vec<u8> {
        match hash {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn hi(hash: ScramHash, password: &[u8], salt: &[u8], i: u32) -> Vec<u8> {
        match hash {
            ScramHash::Sha1 => {
                let mut out = vec![0; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, i, &mut out);
                out
            }
            ScramHash::Sha256 => {
                let mut out = vec![0; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, i, &mut out);
                out
            }
        }
    }

    /// (ClientProof, ServerSignature) for this password, salt, count and AuthMessage.
    pub fn proof_and_signature(
        hash: ScramHash,
        password: &str,
        salt: &[u8],
        i: u32,
        auth_message: &[u8],
    ) -> (Vec<u8>, Vec<u8>) {
        let salted = hi(hash, password.as_bytes(), salt, i);
        let client_key = hmac(hash, &salted, b"Client Key");
        let stored_key = h(hash, &client_key);
        let client_signature = hmac(hash, &stored_key, auth_message);
        let proof = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac(hash, &salted, b"Server Key");
        (proof, hmac(hash, &server_key, auth_message))
    }
}

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
    let answer_correctly = flags & 64 != 0;
    let (username, password) = if flags & 32 != 0 {
        (
            String::from_utf8_lossy(username).into_owned(),
            String::from_utf8_lossy(password).into_owned(),
        )
    } else {
        ("romeo,=x".to_owned(), "pencil ∑".to_owned())
    };

    let cb = cb_type.map(|t| (t, cb_data.to_vec()));
    let cb_data_used: &[u8] = if cb_type.is_some() { cb_data } else { b"" };
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
    let correct_final = match client.handle_server_first(&server_first) {
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

            // The independent computation.
            let sf = std::str::from_utf8(&server_first).expect("accepted server-first is UTF-8");
            let mut attrs = sf.split(',');
            let _ = attrs.next();
            let salt = attrs
                .next()
                .and_then(|s| s.strip_prefix("s="))
                .expect("salt");
            let salt = B64.decode(salt).expect("accepted salt is base64");
            let iterations: u32 = attrs
                .next()
                .and_then(|i| i.strip_prefix("i="))
                .and_then(|i| i.parse().ok())
                .expect("accepted iteration count");
            let mut cbind_input = gs2.clone().into_bytes();
            cbind_input.extend_from_slice(cb_data_used);
            let (without_proof, proof) = text.rsplit_once(",p=").expect("proof");
            assert!(
                without_proof.starts_with(&format!("c={},r=", B64.encode(&cbind_input))),
                "wrong channel-binding data: {without_proof}"
            );
            let client_first_bare = &first[gs2.len()..];
            let mut auth_message = client_first_bare.to_vec();
            auth_message.push(b',');
            auth_message.extend_from_slice(&server_first);
            auth_message.push(b',');
            auth_message.extend_from_slice(without_proof.as_bytes());
            let password = stringprep::saslprep(&password).expect("accepted password");
            let (want_proof, signature) =
                reference::proof_and_signature(hash, &password, &salt, iterations, &auth_message);
            assert_eq!(
                B64.decode(proof).ok(),
                Some(want_proof),
                "wrong client proof"
            );
            format!("v={}", B64.encode(signature)).into_bytes()
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
            assert_eq!(
                client.verify_server_final(server_final),
                Err(SaslError::OutOfOrder)
            );
            return;
        }
    };

    if answer_correctly {
        let mut good = correct_final;
        if flags & 128 != 0 {
            // Any (UTF-8: SCRAM messages are) extension after the verifier is ignored.
            good.push(b',');
            good.extend_from_slice(String::from_utf8_lossy(server_final).as_bytes());
        }
        assert_eq!(
            client.verify_server_final(&good),
            Ok(()),
            "the correct server signature was refused"
        );
        assert_eq!(
            client.verify_server_final(&good),
            Err(SaslError::OutOfOrder)
        );
        return;
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
