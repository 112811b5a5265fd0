//! The server side of SCRAM (RFC 5802, RFC 7677) with channel binding (RFC 9266 tls-exporter),
//! written independently of the client in `linnet_xmpp::sasl`, plus knobs to misbehave.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::conn::ServerConn;

/// How the server builds its nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerNonce {
    /// The client's nonce plus our part (correct).
    Extend,
    /// A nonce that does not start with the client's (an attack).
    Replace(String),
}

/// How the exchange ends once the client's proof arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScramOutcome {
    /// `<success>` with the correct `v=` (or `<failure><not-authorized/>` if the proof or the
    /// channel binding is wrong, as a real server would).
    Success,
    /// `<success/>` without additional data: no server signature at all.
    SuccessWithoutVerifier,
    /// `<success>` with a `v=` that is not the server signature.
    BadSignature,
    /// The correct `v=` in a `<challenge>`, then an empty `<success/>` (allowed by RFC 6120).
    VerifierInChallenge,
    /// `<failure>` with this condition, whatever the client sent.
    Failure(&'static str),
}

/// Knobs of the server side.
#[derive(Debug, Clone)]
pub struct ScramOptions {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub nonce: ServerNonce,
    pub outcome: ScramOutcome,
}

impl Default for ScramOptions {
    fn default() -> Self {
        Self {
            iterations: 4096,
            salt: b"fake-server-salt".to_vec(),
            nonce: ServerNonce::Extend,
            outcome: ScramOutcome::Success,
        }
    }
}

/// What happened, for the test's assertions.
#[derive(Debug, Clone, Default)]
pub struct ScramTranscript {
    /// The mechanism in `<auth/>`.
    pub mechanism: String,
    /// The gs2 header, e.g. `n,,`, `y,,`, `p=tls-exporter,,`.
    pub gs2_header: String,
    pub client_first: String,
    /// `None` when the client hung up after server-first (it refused our parameters).
    pub client_final: Option<String>,
    /// The `<response/>` text (base64 of client-final) as received.
    pub client_final_base64: Option<String>,
    /// The base64 proof (`p=`).
    pub proof: Option<String>,
    /// `c=` matched the gs2 header plus, for -PLUS, our own tls-exporter data.
    pub channel_binding_ok: bool,
    /// The proof is right for the configured password.
    pub proof_ok: bool,
    /// We sent `<success>` (whatever the verifier).
    pub sent_success: bool,
}

impl ScramTranscript {
    /// The client authenticated correctly and we accepted it.
    pub fn succeeded(&self) -> bool {
        self.sent_success && self.proof_ok && self.channel_binding_ok
    }
}

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
}

impl Hash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => {
                let mut m = <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Hash::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Hash::Sha1 => {
                let mut out = vec![0u8; 20];
                pbkdf2::pbkdf2::<Hmac<Sha1>>(password, salt, iterations, &mut out).unwrap();
                out
            }
            Hash::Sha256 => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, &mut out).unwrap();
                out
            }
        }
    }
}

fn attr<'a>(msg: &'a str, key: &str) -> Option<&'a str> {
    msg.split(',')
        .find_map(|part| part.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn decode_text(e: &linnet_xmpp::Element) -> String {
    let text = e.text();
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return String::new();
    }
    String::from_utf8(B64.decode(text).expect("SASL payload is base64"))
        .expect("UTF-8 SASL payload")
}

const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";

pub(crate) async fn serve(s: &mut ServerConn, opts: ScramOptions) -> ScramTranscript {
    let mut t = ScramTranscript::default();
    let auth = s.expect("auth").await;
    assert_eq!(auth.ns(), NS_SASL);
    t.mechanism = auth.attr("mechanism").unwrap_or_default().to_string();
    let hash = match t.mechanism.as_str() {
        "SCRAM-SHA-1" | "SCRAM-SHA-1-PLUS" => Hash::Sha1,
        "SCRAM-SHA-256" | "SCRAM-SHA-256-PLUS" => Hash::Sha256,
        other => panic!("fake server: expected a SCRAM mechanism, got {other}"),
    };
    t.client_first = decode_text(&auth);

    // gs2-header = cbind-flag "," [authzid] ","
    let mut split = t.client_first.splitn(3, ',');
    let flag = split.next().unwrap_or_default();
    let authzid = split.next().unwrap_or_default();
    let client_first_bare = split.next().unwrap_or_default().to_string();
    t.gs2_header = format!("{flag},{authzid},");
    let user = attr(&client_first_bare, "n")
        .unwrap_or_default()
        .to_string();
    let client_nonce = attr(&client_first_bare, "r")
        .unwrap_or_default()
        .to_string();
    assert_eq!(user, s.shared.config.user, "SCRAM username");
    assert!(!client_nonce.is_empty(), "SCRAM client nonce");
    let is_plus = t.mechanism.ends_with("-PLUS");
    assert_eq!(
        is_plus,
        flag.starts_with("p="),
        "gs2 flag {flag} does not fit {}",
        t.mechanism
    );

    let nonce = match &opts.nonce {
        ServerNonce::Extend => format!("{client_nonce}FakeServerNonce0123"),
        ServerNonce::Replace(n) => n.clone(),
    };
    let server_first = format!(
        "r={nonce},s={},i={}",
        B64.encode(&opts.salt),
        opts.iterations
    );
    s.send(&format!(
        "<challenge xmlns='{NS_SASL}'>{}</challenge>",
        B64.encode(&server_first)
    ))
    .await;

    let Some(response) = s.next_or_closed().await else {
        return t; // The client refused our parameters and left.
    };
    assert!(
        response.is("response", NS_SASL),
        "expected <response/>, got <{}/>",
        response.name()
    );
    t.client_final_base64 = Some(response.text().trim().to_string());
    let client_final = decode_text(&response);
    t.client_final = Some(client_final.clone());
    let without_proof = client_final
        .rsplit_once(",p=")
        .map(|(w, _)| w.to_string())
        .unwrap_or_default();
    t.proof = attr(&client_final, "p").map(str::to_string);

    // Channel binding: c= is base64(gs2 header + channel-binding data).
    let mut cbind_input = t.gs2_header.clone().into_bytes();
    if let Some(cb_type) = flag.strip_prefix("p=") {
        assert_eq!(
            cb_type, "tls-exporter",
            "only tls-exporter is implemented here"
        );
        let data = s
            .tls
            .as_ref()
            .and_then(|tls| tls.exporter.clone())
            .expect("tls-exporter data on the server side");
        cbind_input.extend_from_slice(&data);
    }
    t.channel_binding_ok = attr(&client_final, "c") == Some(B64.encode(&cbind_input).as_str());
    let nonce_ok = attr(&client_final, "r") == Some(nonce.as_str());

    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let salted = hash.salted_password(
        s.shared.config.password.as_bytes(),
        &opts.salt,
        opts.iterations,
    );
    let client_key = hash.hmac(&salted, b"Client Key");
    let stored_key = hash.digest(&client_key);
    let client_signature = hash.hmac(&stored_key, auth_message.as_bytes());
    let proof = t
        .proof
        .as_deref()
        .and_then(|p| B64.decode(p).ok())
        .unwrap_or_default();
    if proof.len() == client_signature.len() {
        let recovered: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        t.proof_ok = nonce_ok && hash.digest(&recovered) == stored_key;
    }
    let server_key = hash.hmac(&salted, b"Server Key");
    let server_signature = hash.hmac(&server_key, auth_message.as_bytes());
    let verifier = format!("v={}", B64.encode(&server_signature));

    match opts.outcome {
        ScramOutcome::Failure(condition) => s.sasl_failure(condition).await,
        _ if !(t.proof_ok && t.channel_binding_ok) => s.sasl_failure("not-authorized").await,
        ScramOutcome::Success => {
            t.sent_success = true;
            s.sasl_success(Some(verifier.as_bytes())).await;
        }
        ScramOutcome::SuccessWithoutVerifier => {
            t.sent_success = true;
            s.sasl_success(None).await;
        }
        ScramOutcome::BadSignature => {
            t.sent_success = true;
            let forged = format!("v={}", B64.encode(hash.digest(b"not the server key")));
            s.sasl_success(Some(forged.as_bytes())).await;
        }
        ScramOutcome::VerifierInChallenge => {
            s.send(&format!(
                "<challenge xmlns='{NS_SASL}'>{}</challenge>",
                B64.encode(&verifier)
            ))
            .await;
            let empty = s.expect("response").await;
            assert_eq!(
                decode_text(&empty),
                "",
                "response to server-final must be empty"
            );
            t.sent_success = true;
            s.sasl_success(None).await;
        }
    }
    t
}
