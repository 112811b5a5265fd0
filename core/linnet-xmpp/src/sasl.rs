//! SASL: mechanism policy, SCRAM and PLAIN clients.
//!
//! Our own implementation rather than the `sasl` crate: tokio-xmpp's client never checked the
//! server signature, had no downgrade protection and sent PLAIN on TLS 1.3 when no -PLUS
//! mechanism was offered (see `xmpp-rs.md`). This module is transport-agnostic: the session
//! layer feeds it the server's mechanism list and the (base64-decoded) SASL payloads.
//!
//! # Policy ([`select`])
//!
//! Strongest first: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN.
//! Nothing else is ever chosen (no DIGEST-MD5, CRAM-MD5, ANONYMOUS, X-OAUTH2, ...).
//!
//! * A -PLUS mechanism only when the server advertised its channel-binding types (XEP-0440) and
//!   one of them is a type our TLS stack can produce and is sound on the negotiated TLS version.
//!   Without XEP-0440 we never guess: ejabberd 23.01 advertises -PLUS on TLS 1.3 and then rejects
//!   both tls-exporter and tls-server-end-point (`test-servers.md`).
//! * PLAIN only if the caller allows it (only over TLS) and SCRAM has never worked for this
//!   account (downgrade protection: a server that suddenly offers only PLAIN is refused).
//!
//! # SCRAM ([`ScramClient`], RFC 5802 / RFC 7677)
//!
//! The server nonce must extend ours, the iteration count must be at least 4096 (and at most
//! [`MAX_ITERATIONS`], so a hostile server cannot make us spin for minutes), mandatory extensions
//! (`m=`) are refused, and the server signature is compared in constant time. A missing or wrong
//! server signature is an authentication failure even if the server says `<success/>`.
//!
//! Username and password are prepared with SASLprep (RFC 4013, via the `stringprep` crate that
//! `jid` already uses: mapping, NFKC, prohibited characters, bidi rules); a string SASLprep
//! rejects is an error rather than sent unprepared. The prepared username is then escaped as
//! RFC 5802 requires (`=` as `=3D`, `,` as `=2C`). No authorization identity is sent with SCRAM.
//!
//! # Secrets
//!
//! The password lives in a [`Secret`] whose `Debug` prints `[redacted]`; errors never quote the
//! password or parts of it.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Lowest SCRAM iteration count we accept (RFC 5802 recommends at least 4096).
pub const MIN_ITERATIONS: u32 = 4096;
/// Highest SCRAM iteration count we accept. Well above what servers use (Prosody 10000,
/// ejabberd 4096, OWASP's 600000 for SHA-256 / 1300000 for SHA-1), but bounded: a hostile server
/// could otherwise keep the client hashing for an hour per attempt.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// Random bytes in our SCRAM nonce (base64-encoded on the wire).
const NONCE_BYTES: usize = 24;

/// Longest server error text (`e=`) kept in [`SaslError::ServerError`].
const MAX_SERVER_ERROR_LEN: usize = 200;

/// A value that must never appear in logs: `Debug` prints `[redacted]`, there is no `Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    /// Wrap a secret.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that has to use it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwrap the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// Errors of mechanism selection and the SASL clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// None of the offered mechanisms is acceptable under our policy.
    #[error("no acceptable SASL mechanism among {offered:?}")]
    NoAcceptableMechanism {
        /// What the server offered.
        offered: Vec<String>,
    },
    /// The server's message does not follow the SCRAM grammar.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The server nonce does not extend ours.
    #[error("server nonce does not extend the client nonce")]
    NonceMismatch,
    /// The iteration count is below [`MIN_ITERATIONS`].
    #[error("SCRAM iteration count {0} is too low")]
    IterationCountTooLow(u32),
    /// The iteration count is above [`MAX_ITERATIONS`].
    #[error("SCRAM iteration count {0} is too high")]
    IterationCountTooHigh(u32),
    /// The server demanded an extension we do not know (`m=`).
    #[error("server requires an unsupported SCRAM extension")]
    UnsupportedExtension,
    /// The server's signature is wrong: the server does not know the password (or a man in the
    /// middle answered). Treat as a failed authentication, never as success.
    #[error("SCRAM server signature does not match")]
    BadServerSignature,
    /// The server reported an error in its final message (`e=`).
    #[error("server reported SCRAM error: {0}")]
    ServerError(String),
    /// Username or password cannot be used (rejected by SASLprep, or a NUL for PLAIN). The text
    /// never contains the offending value.
    #[error("unusable credentials: {0}")]
    InvalidCredentials(&'static str),
    /// A client method was called in the wrong order, or after a failure.
    #[error("SASL exchange step out of order")]
    OutOfOrder,
}

/// The SASL mechanisms we implement, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// SCRAM-SHA-256-PLUS (RFC 7677, with channel binding).
    ScramSha256Plus,
    /// SCRAM-SHA-1-PLUS (RFC 5802, with channel binding).
    ScramSha1Plus,
    /// SCRAM-SHA-256 (RFC 7677).
    ScramSha256,
    /// SCRAM-SHA-1 (RFC 5802).
    ScramSha1,
    /// PLAIN (RFC 4616), only over TLS and only before SCRAM has ever worked for the account.
    Plain,
}

impl Mechanism {
    /// All mechanisms, strongest first.
    pub const PREFERENCE: [Mechanism; 5] = [
        Mechanism::ScramSha256Plus,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha1,
        Mechanism::Plain,
    ];

    /// The IANA name, as in `<mechanism/>`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Self::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha1 => "SCRAM-SHA-1",
            Self::Plain => "PLAIN",
        }
    }

    /// The mechanism with this IANA name, if we implement it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|m| m.name() == name)
    }

    /// The SCRAM hash, `None` for PLAIN.
    pub fn scram_hash(self) -> Option<ScramHash> {
        match self {
            Self::ScramSha256Plus | Self::ScramSha256 => Some(ScramHash::Sha256),
            Self::ScramSha1Plus | Self::ScramSha1 => Some(ScramHash::Sha1),
            Self::Plain => None,
        }
    }

    /// Whether this is a channel-binding (-PLUS) mechanism.
    pub fn is_plus(self) -> bool {
        matches!(self, Self::ScramSha256Plus | Self::ScramSha1Plus)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The negotiated TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// Channel-binding types (RFC 5929, RFC 9266), named as in XEP-0440.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelBindingType {
    /// `tls-exporter` (RFC 9266).
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929): a hash of the server certificate.
    TlsServerEndPoint,
    /// `tls-unique` (RFC 5929): TLS 1.2 only.
    TlsUnique,
}

impl ChannelBindingType {
    /// Our order of preference.
    pub const PREFERENCE: [ChannelBindingType; 3] = [
        ChannelBindingType::TlsExporter,
        ChannelBindingType::TlsServerEndPoint,
        ChannelBindingType::TlsUnique,
    ];

    /// The XEP-0440 / RFC 5056 name.
    pub fn name(self) -> &'static str {
        match self {
            Self::TlsExporter => "tls-exporter",
            Self::TlsServerEndPoint => "tls-server-end-point",
            Self::TlsUnique => "tls-unique",
        }
    }

    /// The type with this name, if we know it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::PREFERENCE.into_iter().find(|t| t.name() == name)
    }

    /// Whether the type is sound on this TLS version. `tls-unique` is undefined on TLS 1.3.
    /// `tls-exporter` on TLS 1.2 needs the extended master secret (RFC 9266 section 3); rustls
    /// always negotiates it, so it is allowed on both.
    pub fn valid_for(self, tls: TlsVersion) -> bool {
        match self {
            Self::TlsExporter | Self::TlsServerEndPoint => true,
            Self::TlsUnique => tls == TlsVersion::Tls12,
        }
    }
}

impl fmt::Display for ChannelBindingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`select`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct SelectionInput<'a> {
    /// The server's `<mechanism/>` names.
    pub offered: &'a [String],
    /// The negotiated TLS version.
    pub tls_version: TlsVersion,
    /// The XEP-0440 `<sasl-channel-binding/>` types; `None` if the feature is absent.
    pub server_cb_types: Option<&'a [String]>,
    /// What our TLS stack can produce on this connection.
    pub available_cb: &'a [ChannelBindingType],
    /// SCRAM has worked for this account before (remembered in the store).
    pub scram_seen: bool,
    /// PLAIN may be used at all (the caller passes true only over TLS).
    pub allow_plain: bool,
}

impl SelectionInput<'_> {
    /// Whether the server offered any -PLUS mechanism: pass this to [`ScramClient::new`] as
    /// `server_offered_plus` (it decides the gs2 channel-binding flag).
    pub fn server_offers_plus(&self) -> bool {
        self.offered.iter().any(|m| m.trim().ends_with("-PLUS"))
    }

    fn offers(&self, mech: Mechanism) -> bool {
        self.offered.iter().any(|m| m.trim() == mech.name())
    }

    /// The channel-binding type to use for a -PLUS mechanism, if any is acceptable.
    fn channel_binding(&self) -> Option<ChannelBindingType> {
        let advertised = self.server_cb_types?;
        ChannelBindingType::PREFERENCE.into_iter().find(|t| {
            t.valid_for(self.tls_version)
                && self.available_cb.contains(t)
                && advertised.iter().any(|a| a.trim() == t.name())
        })
    }
}

/// The outcome of [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// The mechanism to use.
    pub mechanism: Mechanism,
    /// The channel-binding type, set exactly for -PLUS mechanisms.
    pub channel_binding: Option<ChannelBindingType>,
}

/// Choose the SASL mechanism according to our policy (see the module documentation).
pub fn select(input: &SelectionInput<'_>) -> Result<Selection, SaslError> {
    let cb = input.channel_binding();
    for mechanism in Mechanism::PREFERENCE {
        if !input.offers(mechanism) {
            continue;
        }
        let acceptable = match mechanism {
            Mechanism::ScramSha256Plus | Mechanism::ScramSha1Plus => cb.is_some(),
            Mechanism::ScramSha256 | Mechanism::ScramSha1 => true,
            Mechanism::Plain => input.allow_plain && !input.scram_seen,
        };
        if acceptable {
            return Ok(Selection {
                mechanism,
                channel_binding: if mechanism.is_plus() { cb } else { None },
            });
        }
    }
    Err(SaslError::NoAcceptableMechanism {
        offered: input.offered.to_vec(),
    })
}

/// The PLAIN initial response (RFC 4616): `authzid NUL username NUL password`.
///
/// Not SASLprep'd: RFC 4616 leaves preparation to the server, which has to do it anyway. A NUL
/// in any part cannot be encoded and is an error. The result holds the password: keep it wrapped
/// until it is written to the socket.
pub fn plain_initial(
    authzid: Option<&str>,
    username: &str,
    password: &str,
) -> Result<Secret<Vec<u8>>, SaslError> {
    let authzid = authzid.unwrap_or("");
    if [authzid, username, password]
        .iter()
        .any(|s| s.contains('\0'))
    {
        return Err(SaslError::InvalidCredentials("NUL character"));
    }
    let mut out = Vec::with_capacity(authzid.len() + username.len() + password.len() + 2);
    out.extend_from_slice(authzid.as_bytes());
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    Ok(Secret::new(out))
}

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SHA-1 (SCRAM-SHA-1).
    Sha1,
    /// SHA-256 (SCRAM-SHA-256).
    Sha256,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[&[u8]]) -> Result<Vec<u8>, SaslError> {
        fn run<M: Mac + hmac::digest::KeyInit>(
            key: &[u8],
            data: &[&[u8]],
        ) -> Result<Vec<u8>, SaslError> {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .map_err(|_| SaslError::Malformed("HMAC key"))?;
            for d in data {
                mac.update(d);
            }
            Ok(mac.finalize().into_bytes().to_vec())
        }
        match self {
            Self::Sha1 => run::<Hmac<Sha1>>(key, data),
            Self::Sha256 => run::<Hmac<Sha256>>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => Sha1::digest(data).to_vec(),
            Self::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// `Hi()` of RFC 5802: PBKDF2 with HMAC.
    fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Result<Vec<u8>, SaslError> {
        let (out, result) = match self {
            Self::Sha1 => {
                let mut out = vec![0u8; 20];
                let r = pbkdf2::pbkdf2::<Hmac<Sha1>>(password, salt, iterations, &mut out);
                (out, r)
            }
            Self::Sha256 => {
                let mut out = vec![0u8; 32];
                let r = pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, &mut out);
                (out, r)
            }
        };
        result.map_err(|_| SaslError::Malformed("PBKDF2 key"))?;
        Ok(out)
    }
}

/// Where a [`ScramClient`] is in the exchange.
enum ScramState {
    /// `client_first` not yet called (or called: it can be repeated until the server answers).
    Initial,
    /// Client-final sent; the server signature we expect.
    FinalSent { server_signature: Vec<u8> },
    /// Server signature verified.
    Done,
    /// An error happened; nothing more is accepted.
    Failed,
}

impl fmt::Debug for ScramState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Initial => "Initial",
            Self::FinalSent { .. } => "FinalSent",
            Self::Done => "Done",
            Self::Failed => "Failed",
        })
    }
}

/// A SCRAM client (RFC 5802, RFC 7677), with optional channel binding.
///
/// Exchange: [`client_first`](Self::client_first) goes in `<auth/>`, the server's challenge goes
/// to [`handle_server_first`](Self::handle_server_first) whose result is the `<response/>`, and
/// the additional data of `<success/>` goes to
/// [`verify_server_final`](Self::verify_server_final). Authentication has succeeded only if that
/// returns `Ok`; a `<success/>` without server-final data is a failure.
#[derive(Debug)]
pub struct ScramClient {
    hash: ScramHash,
    password: Secret,
    /// Channel-binding type, if used (then the mechanism is -PLUS).
    cb_type: Option<ChannelBindingType>,
    /// gs2 header followed by the channel-binding data: what goes base64-encoded in `c=`.
    cbind_input: Vec<u8>,
    gs2_header: String,
    client_nonce: String,
    client_first_bare: String,
    state: ScramState,
}

impl ScramClient {
    /// A new exchange.
    ///
    /// `cb` is the channel-binding type and its data for this TLS connection when a -PLUS
    /// mechanism was selected. `server_offered_plus` is whether the server offered any -PLUS
    /// mechanism ([`SelectionInput::server_offers_plus`]); it decides the gs2 flag when no
    /// channel binding is used.
    ///
    /// Fails if SASLprep rejects the username or password.
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        cb: Option<(ChannelBindingType, Vec<u8>)>,
        server_offered_plus: bool,
    ) -> Result<Self, SaslError> {
        let mut raw = [0u8; NONCE_BYTES];
        // ThreadRng: ChaCha12 seeded and periodically reseeded from the OS, a CSPRNG.
        rand::rng().fill_bytes(&mut raw);
        Self::with_nonce(
            hash,
            username,
            password,
            cb,
            server_offered_plus,
            B64.encode(raw),
        )
    }

    fn with_nonce(
        hash: ScramHash,
        username: &str,
        password: &str,
        cb: Option<(ChannelBindingType, Vec<u8>)>,
        server_offered_plus: bool,
        client_nonce: String,
    ) -> Result<Self, SaslError> {
        let username = stringprep::saslprep(username)
            .map_err(|_| SaslError::InvalidCredentials("username rejected by SASLprep"))?;
        let password = stringprep::saslprep(password)
            .map_err(|_| SaslError::InvalidCredentials("password rejected by SASLprep"))?;
        let password = Secret::new(password.into_owned());

        // The gs2 channel-binding flag (RFC 5802 section 6 and 7):
        // * "p=<type>": we use channel binding.
        // * "y": we support channel binding but believe the server does not. A server that does
        //   support it MUST then fail the authentication: this detects a man in the middle who
        //   stripped the -PLUS mechanisms from the list. So "y" only when no -PLUS was offered.
        // * "n": we do not use channel binding. When the server did offer -PLUS and we decline
        //   (no XEP-0440 information, or no type that is sound on this TLS version), "y" would
        //   make the server fail us as a supposed downgrade (ejabberd on TLS 1.3 does exactly
        //   that), so we must send "n".
        let cb_type = cb.as_ref().map(|(t, _)| *t);
        let gs2_header = match cb_type {
            Some(t) => format!("p={},,", t.name()),
            None if server_offered_plus => "n,,".to_owned(),
            None => "y,,".to_owned(),
        };
        let mut cbind_input = gs2_header.clone().into_bytes();
        if let Some((_, data)) = cb {
            cbind_input.extend_from_slice(&data);
        }
        let client_first_bare = format!("n={},r={}", escape_username(&username), client_nonce);
        Ok(Self {
            hash,
            password,
            cb_type,
            cbind_input,
            gs2_header,
            client_nonce,
            client_first_bare,
            state: ScramState::Initial,
        })
    }

    /// The mechanism this client speaks.
    pub fn mechanism(&self) -> Mechanism {
        match (self.hash, self.cb_type.is_some()) {
            (ScramHash::Sha256, true) => Mechanism::ScramSha256Plus,
            (ScramHash::Sha1, true) => Mechanism::ScramSha1Plus,
            (ScramHash::Sha256, false) => Mechanism::ScramSha256,
            (ScramHash::Sha1, false) => Mechanism::ScramSha1,
        }
    }

    /// The client-first message (the initial response in `<auth/>`).
    pub fn client_first(&self) -> Vec<u8> {
        let mut out = self.gs2_header.clone().into_bytes();
        out.extend_from_slice(self.client_first_bare.as_bytes());
        out
    }

    /// Process the server-first message (the challenge) and return the client-final message.
    pub fn handle_server_first(&mut self, server_first: &[u8]) -> Result<Vec<u8>, SaslError> {
        if !matches!(self.state, ScramState::Initial) {
            self.state = ScramState::Failed;
            return Err(SaslError::OutOfOrder);
        }
        match self.compute_final(server_first) {
            Ok((client_final, server_signature)) => {
                self.state = ScramState::FinalSent { server_signature };
                // The password is no longer needed.
                self.password = Secret::default();
                Ok(client_final)
            }
            Err(e) => {
                self.state = ScramState::Failed;
                Err(e)
            }
        }
    }

    fn compute_final(&self, server_first: &[u8]) -> Result<(Vec<u8>, Vec<u8>), SaslError> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| SaslError::Malformed("server-first is not UTF-8"))?;
        if server_first.starts_with("m=") {
            return Err(SaslError::UnsupportedExtension);
        }
        let mut attrs = server_first.split(',');
        let nonce = attr(attrs.next(), 'r')?;
        let salt = attr(attrs.next(), 's')?;
        let iterations = attr(attrs.next(), 'i')?;
        // Further attributes are extensions, which we may ignore (RFC 5802 section 5.1).

        if !nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(SaslError::Malformed("nonce has invalid characters"));
        }
        if nonce.len() <= self.client_nonce.len() || !nonce.starts_with(&self.client_nonce) {
            return Err(SaslError::NonceMismatch);
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| SaslError::Malformed("salt is not base64"))?;
        if salt.is_empty() {
            return Err(SaslError::Malformed("empty salt"));
        }
        if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SaslError::Malformed("iteration count is not a number"));
        }
        let iterations: u32 = iterations.parse().unwrap_or(u32::MAX);
        if iterations < MIN_ITERATIONS {
            return Err(SaslError::IterationCountTooLow(iterations));
        }
        if iterations > MAX_ITERATIONS {
            return Err(SaslError::IterationCountTooHigh(iterations));
        }

        let client_final_without_proof = format!("c={},r={}", B64.encode(&self.cbind_input), nonce);
        let auth_message = [
            self.client_first_bare.as_bytes(),
            b",",
            server_first.as_bytes(),
            b",",
            client_final_without_proof.as_bytes(),
        ];

        let h = self.hash;
        let salted = Secret::new(h.hi(self.password.expose().as_bytes(), &salt, iterations)?);
        let client_key = h.hmac(salted.expose(), &[b"Client Key"])?;
        let stored_key = h.hash(&client_key);
        let client_signature = h.hmac(&stored_key, &auth_message)?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(client_signature.iter())
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = h.hmac(salted.expose(), &[b"Server Key"])?;
        let server_signature = h.hmac(&server_key, &auth_message)?;

        let client_final = format!("{client_final_without_proof},p={}", B64.encode(proof));
        Ok((client_final.into_bytes(), server_signature))
    }

    /// Verify the server-final message (the additional data of `<success/>`). Only `Ok` means
    /// the server proved it knows the password.
    pub fn verify_server_final(&mut self, server_final: &[u8]) -> Result<(), SaslError> {
        let ScramState::FinalSent { server_signature } = &self.state else {
            self.state = ScramState::Failed;
            return Err(SaslError::OutOfOrder);
        };
        let result = check_server_final(server_final, server_signature);
        self.state = if result.is_ok() {
            ScramState::Done
        } else {
            ScramState::Failed
        };
        result
    }
}

fn check_server_final(server_final: &[u8], expected: &[u8]) -> Result<(), SaslError> {
    let server_final = std::str::from_utf8(server_final)
        .map_err(|_| SaslError::Malformed("server-final is not UTF-8"))?;
    let first = server_final.split(',').next().unwrap_or("");
    if let Some(err) = first.strip_prefix("e=") {
        let text: String = err
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_SERVER_ERROR_LEN)
            .collect();
        return Err(SaslError::ServerError(text));
    }
    let Some(v) = first.strip_prefix("v=") else {
        return Err(SaslError::Malformed("server-final has no verifier"));
    };
    let got = B64
        .decode(v)
        .map_err(|_| SaslError::Malformed("verifier is not base64"))?;
    if bool::from(got.as_slice().ct_eq(expected)) {
        Ok(())
    } else {
        Err(SaslError::BadServerSignature)
    }
}

/// The value of a SCRAM attribute `<name>=<value>`.
fn attr(part: Option<&str>, name: char) -> Result<&str, SaslError> {
    let part = part.ok_or(SaslError::Malformed("missing attribute"))?;
    let mut chars = part.chars();
    if chars.next() != Some(name) || chars.next() != Some('=') {
        return Err(SaslError::Malformed("unexpected attribute"));
    }
    Ok(chars.as_str())
}

/// RFC 5802 `saslname`: `=` becomes `=3D` and `,` becomes `=2C`.
fn escape_username(username: &str) -> Cow<'_, str> {
    if !username.contains([',', '=']) {
        return Cow::Borrowed(username);
    }
    let mut out = String::with_capacity(username.len() + 8);
    for c in username.chars() {
        match c {
            '=' => out.push_str("=3D"),
            ',' => out.push_str("=2C"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    struct Case<'a> {
        offered: &'a [&'a str],
        tls: TlsVersion,
        server_cb: Option<&'a [&'a str]>,
        available: &'a [ChannelBindingType],
        scram_seen: bool,
        allow_plain: bool,
    }

    const RUSTLS_CB: &[ChannelBindingType] = &[
        ChannelBindingType::TlsExporter,
        ChannelBindingType::TlsServerEndPoint,
    ];
    const ALL_CB: &[ChannelBindingType] = &[
        ChannelBindingType::TlsExporter,
        ChannelBindingType::TlsServerEndPoint,
        ChannelBindingType::TlsUnique,
    ];

    fn run(c: &Case<'_>) -> Result<Selection, SaslError> {
        let offered = strings(c.offered);
        let server_cb = c.server_cb.map(strings);
        select(&SelectionInput {
            offered: &offered,
            tls_version: c.tls,
            server_cb_types: server_cb.as_deref(),
            available_cb: c.available,
            scram_seen: c.scram_seen,
            allow_plain: c.allow_plain,
        })
    }

    fn fresh<'a>(offered: &'a [&'a str]) -> Case<'a> {
        Case {
            offered,
            tls: TlsVersion::Tls13,
            server_cb: None,
            available: RUSTLS_CB,
            scram_seen: false,
            allow_plain: true,
        }
    }

    fn plain_sel(mechanism: Mechanism) -> Selection {
        Selection {
            mechanism,
            channel_binding: None,
        }
    }

    #[test]
    fn ejabberd_on_tls13_without_xep0440_gets_scram_sha256() {
        let c = fresh(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha256)));
    }

    #[test]
    fn prosody_gets_scram_sha1() {
        let c = fresh(&["SCRAM-SHA-1", "PLAIN"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha1)));
    }

    #[test]
    fn plain_only() {
        let mut c = fresh(&["PLAIN"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::Plain)));
        c.scram_seen = true;
        assert_eq!(
            run(&c),
            Err(SaslError::NoAcceptableMechanism {
                offered: strings(&["PLAIN"])
            })
        );
        c.scram_seen = false;
        c.allow_plain = false;
        assert!(run(&c).is_err());
    }

    #[test]
    fn xep0440_tls_exporter_on_tls13_gets_plus() {
        let mut c = fresh(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
        c.server_cb = Some(&["tls-server-end-point", "tls-exporter"]);
        assert_eq!(
            run(&c),
            Ok(Selection {
                mechanism: Mechanism::ScramSha256Plus,
                channel_binding: Some(ChannelBindingType::TlsExporter),
            })
        );
    }

    #[test]
    fn tls_unique_on_tls13_is_not_plus() {
        let mut c = fresh(&["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"]);
        c.server_cb = Some(&["tls-unique"]);
        c.available = ALL_CB;
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha1)));
        // ... but it is on TLS 1.2 when the stack can produce it.
        c.tls = TlsVersion::Tls12;
        assert_eq!(
            run(&c),
            Ok(Selection {
                mechanism: Mechanism::ScramSha1Plus,
                channel_binding: Some(ChannelBindingType::TlsUnique),
            })
        );
        // rustls cannot: no -PLUS then.
        c.available = RUSTLS_CB;
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha1)));
    }

    #[test]
    fn more_selection_rules() {
        // tls-exporter is fine on TLS 1.2 (rustls always uses extended master secret).
        let mut c = fresh(&["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]);
        c.tls = TlsVersion::Tls12;
        c.server_cb = Some(&["tls-exporter"]);
        assert_eq!(
            run(&c).unwrap().channel_binding,
            Some(ChannelBindingType::TlsExporter)
        );
        // tls-server-end-point when that is all the server has.
        c.server_cb = Some(&["tls-server-end-point"]);
        assert_eq!(
            run(&c),
            Ok(Selection {
                mechanism: Mechanism::ScramSha256Plus,
                channel_binding: Some(ChannelBindingType::TlsServerEndPoint),
            })
        );
        // An empty XEP-0440 list, or unknown types: no -PLUS.
        c.server_cb = Some(&[]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha256)));
        c.server_cb = Some(&["tls-frobnicate"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha256)));
        // Only -PLUS offered and no usable binding: nothing.
        let mut c = fresh(&["SCRAM-SHA-256-PLUS"]);
        assert!(run(&c).is_err());
        c.server_cb = Some(&["tls-exporter"]);
        c.available = &[];
        assert!(run(&c).is_err());
        // SHA-1-PLUS beats SHA-256 without binding; SHA-256 beats SHA-1.
        let mut c = fresh(&["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha256)));
        c.server_cb = Some(&["tls-exporter"]);
        assert_eq!(run(&c).unwrap().mechanism, Mechanism::ScramSha1Plus);
        // SCRAM is taken even when PLAIN is allowed, and even with scram_seen.
        let mut c = fresh(&["PLAIN", "SCRAM-SHA-1"]);
        c.scram_seen = true;
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha1)));
        // Never anything else.
        let c = fresh(&[
            "DIGEST-MD5",
            "CRAM-MD5",
            "ANONYMOUS",
            "X-OAUTH2",
            "EXTERNAL",
        ]);
        assert!(matches!(
            run(&c),
            Err(SaslError::NoAcceptableMechanism { offered }) if offered.len() == 5
        ));
        // Names are exact (after trimming whitespace around them).
        let c = fresh(&["scram-sha-1", " SCRAM-SHA-256\n"]);
        assert_eq!(run(&c), Ok(plain_sel(Mechanism::ScramSha256)));
    }

    #[test]
    fn names() {
        for m in Mechanism::PREFERENCE {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
        }
        assert_eq!(Mechanism::ScramSha256Plus.name(), "SCRAM-SHA-256-PLUS");
        assert_eq!(Mechanism::from_name("DIGEST-MD5"), None);
        for t in ChannelBindingType::PREFERENCE {
            assert_eq!(ChannelBindingType::from_name(t.name()), Some(t));
        }
        assert_eq!(ChannelBindingType::TlsExporter.name(), "tls-exporter");
        assert_eq!(
            ChannelBindingType::TlsServerEndPoint.name(),
            "tls-server-end-point"
        );
        assert_eq!(ChannelBindingType::TlsUnique.name(), "tls-unique");
    }

    fn vector_client(hash: ScramHash, nonce: &str) -> ScramClient {
        // The RFC examples use "n,,": no channel binding, as when the server offered -PLUS.
        ScramClient::with_nonce(hash, "user", "pencil", None, true, nonce.into()).unwrap()
    }

    #[test]
    fn rfc5802_scram_sha1_vector() {
        let mut c = vector_client(ScramHash::Sha1, "fyko+d2lbbFgONRv9qkxdawL");
        assert_eq!(c.mechanism(), Mechanism::ScramSha1);
        assert_eq!(c.client_first(), b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let client_final = c
            .handle_server_first(
                b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(client_final).unwrap(),
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        c.verify_server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")
            .unwrap();
    }

    const SHA256_NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SHA256_SERVER_FIRST: &[u8] =
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    #[test]
    fn rfc7677_scram_sha256_vector() {
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        assert_eq!(c.client_first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let client_final = c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        assert_eq!(
            String::from_utf8(client_final).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        // Done: nothing more.
        assert_eq!(
            c.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(SaslError::OutOfOrder)
        );
    }

    #[test]
    fn bad_server_signature_rejected() {
        for bad in [
            &b"v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="[..],
            b"v=AAAA",
            b"v=",
        ] {
            let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
            c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
            assert_eq!(
                c.verify_server_final(bad),
                Err(SaslError::BadServerSignature)
            );
        }
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        assert_eq!(
            c.verify_server_final(b""),
            Err(SaslError::Malformed("server-final has no verifier"))
        );
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        assert_eq!(
            c.verify_server_final(b"v=not base64!"),
            Err(SaslError::Malformed("verifier is not base64"))
        );
        // Verifying before the exchange is a failure, not a success.
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        assert_eq!(
            c.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(SaslError::OutOfOrder)
        );
    }

    #[test]
    fn server_error_reported() {
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        assert_eq!(
            c.verify_server_final(b"e=channel-bindings-dont-match"),
            Err(SaslError::ServerError("channel-bindings-dont-match".into()))
        );
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        let long = format!("e={}\u{1b}[2J", "x".repeat(10_000));
        let Err(SaslError::ServerError(text)) = c.verify_server_final(long.as_bytes()) else {
            panic!()
        };
        assert_eq!(text.len(), MAX_SERVER_ERROR_LEN);
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn low_and_high_iteration_counts_rejected() {
        let server_first = |i: &str| {
            format!(
                "r={SHA256_NONCE}%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i={i}"
            )
        };
        for (i, want) in [
            ("1000", SaslError::IterationCountTooLow(1000)),
            ("4095", SaslError::IterationCountTooLow(4095)),
            ("0", SaslError::IterationCountTooLow(0)),
            ("10000001", SaslError::IterationCountTooHigh(10_000_001)),
            ("99999999999999", SaslError::IterationCountTooHigh(u32::MAX)),
            (
                "-1",
                SaslError::Malformed("iteration count is not a number"),
            ),
            ("", SaslError::Malformed("iteration count is not a number")),
            (
                "+4096",
                SaslError::Malformed("iteration count is not a number"),
            ),
        ] {
            let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
            assert_eq!(
                c.handle_server_first(server_first(i).as_bytes()),
                Err(want),
                "i={i}"
            );
            // A failed client stays failed.
            assert_eq!(
                c.handle_server_first(SHA256_SERVER_FIRST),
                Err(SaslError::OutOfOrder)
            );
        }
    }

    #[test]
    fn foreign_nonce_and_malformed_server_first_rejected() {
        let cases: &[(&[u8], SaslError)] = &[
            (
                b"r=someoneelse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                SaslError::NonceMismatch,
            ),
            // Exactly our nonce: the server added nothing.
            (
                b"r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                SaslError::NonceMismatch,
            ),
            // A prefix of our nonce.
            (
                b"r=rOprNGfwEb,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                SaslError::NonceMismatch,
            ),
            (
                b"m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                SaslError::UnsupportedExtension,
            ),
            (
                b"r=rOprNGfwEbeRWgbNEkqOxyz,s=not*base64,i=4096",
                SaslError::Malformed("salt is not base64"),
            ),
            (
                b"r=rOprNGfwEbeRWgbNEkqOxyz,s=,i=4096",
                SaslError::Malformed("empty salt"),
            ),
            (
                b"r=rOprNGfwEbeRWgbNEkqOxyz,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
                SaslError::Malformed("unexpected attribute"),
            ),
            (
                b"r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==",
                SaslError::Malformed("missing attribute"),
            ),
            (
                b"r=rOprNGfwEbeRWgbNEkqO x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
                SaslError::Malformed("nonce has invalid characters"),
            ),
            (b"\xff", SaslError::Malformed("server-first is not UTF-8")),
            (b"", SaslError::Malformed("unexpected attribute")),
        ];
        for (input, want) in cases {
            let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
            assert_eq!(
                c.handle_server_first(input).as_ref(),
                Err(want),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        // Extensions after the iteration count are allowed.
        let mut c = vector_client(ScramHash::Sha256, SHA256_NONCE);
        let mut sf = SHA256_SERVER_FIRST.to_vec();
        sf.extend_from_slice(b",x=future");
        assert!(c.handle_server_first(&sf).is_ok());
    }

    #[test]
    fn gs2_flags_and_channel_binding_data() {
        // Server offered no -PLUS: "y" so a server that does support binding can detect the
        // stripping of -PLUS.
        let c = ScramClient::new(ScramHash::Sha256, "user", "pencil", None, false).unwrap();
        assert!(c.client_first().starts_with(b"y,,n=user,r="));
        // Server offered -PLUS but we do not bind: "n".
        let c = ScramClient::new(ScramHash::Sha256, "user", "pencil", None, true).unwrap();
        assert!(c.client_first().starts_with(b"n,,n=user,r="));
        // Binding.
        let cb_data = vec![0xde, 0xad, 0xbe, 0xef];
        let mut c = ScramClient::with_nonce(
            ScramHash::Sha256,
            "user",
            "pencil",
            Some((ChannelBindingType::TlsExporter, cb_data.clone())),
            true,
            SHA256_NONCE.into(),
        )
        .unwrap();
        assert_eq!(c.mechanism(), Mechanism::ScramSha256Plus);
        assert_eq!(
            c.client_first(),
            b"p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        let client_final =
            String::from_utf8(c.handle_server_first(SHA256_SERVER_FIRST).unwrap()).unwrap();
        let mut cbind = b"p=tls-exporter,,".to_vec();
        cbind.extend_from_slice(&cb_data);
        assert!(
            client_final.starts_with(&format!("c={},r=", B64.encode(&cbind))),
            "{client_final}"
        );
        // The proof differs from the unbound one (the binding is in the AuthMessage).
        assert!(!client_final.ends_with("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
        // A "y" client-final carries "eSws" (base64 of "y,,").
        let mut c = ScramClient::with_nonce(
            ScramHash::Sha256,
            "user",
            "pencil",
            None,
            false,
            SHA256_NONCE.into(),
        )
        .unwrap();
        let client_final = c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        assert!(client_final.starts_with(b"c=eSws,r="));
    }

    #[test]
    fn random_nonces() {
        let a = ScramClient::new(ScramHash::Sha1, "u", "p", None, false).unwrap();
        let b = ScramClient::new(ScramHash::Sha1, "u", "p", None, false).unwrap();
        assert_ne!(a.client_nonce, b.client_nonce);
        assert_eq!(a.client_nonce.len(), 32);
        assert!(
            a.client_nonce
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
        );
    }

    #[test]
    fn username_escaping_and_saslprep() {
        let c =
            ScramClient::with_nonce(ScramHash::Sha1, "a,b=c", "p", None, true, "N".into()).unwrap();
        assert_eq!(c.client_first(), b"n,,n=a=2Cb=3Dc,r=N");
        // RFC 4013 examples: soft hyphen mapped to nothing, NFKC of U+2168 and U+00AA.
        let c = ScramClient::with_nonce(ScramHash::Sha1, "I\u{ad}X", "p", None, true, "N".into())
            .unwrap();
        assert_eq!(c.client_first(), b"n,,n=IX,r=N");
        let c = ScramClient::with_nonce(ScramHash::Sha1, "\u{2168}", "p", None, true, "N".into())
            .unwrap();
        assert_eq!(c.client_first(), b"n,,n=IX,r=N");
        // Prohibited characters: an error that does not quote the value.
        let err = ScramClient::new(ScramHash::Sha1, "user", "canary\u{7}", None, true).unwrap_err();
        assert_eq!(
            err,
            SaslError::InvalidCredentials("password rejected by SASLprep")
        );
        assert!(!err.to_string().contains("canary"));
        assert!(!format!("{err:?}").contains("canary"));
        assert!(ScramClient::new(ScramHash::Sha1, "us\u{0}er", "p", None, true).is_err());
        // A non-ASCII space in the password is mapped to a space: same result as with a space.
        let run = |pw: &str| {
            let mut c =
                ScramClient::with_nonce(ScramHash::Sha1, "user", pw, None, true, "N".into())
                    .unwrap();
            c.handle_server_first(b"r=NX,s=QSXCR+Q6sek8bf92,i=4096")
                .unwrap()
        };
        assert_eq!(run("pen\u{a0}cil"), run("pen cil"));
        assert_ne!(run("pencil"), run("pen cil"));
    }

    #[test]
    fn secrets_never_in_debug() {
        let mut c = ScramClient::with_nonce(
            ScramHash::Sha256,
            "user",
            "canary-password",
            None,
            true,
            SHA256_NONCE.into(),
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("canary"), "{dbg}");
        assert!(dbg.contains("[redacted]"), "{dbg}");
        let _ = c.handle_server_first(SHA256_SERVER_FIRST).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("canary"), "{dbg}");
        assert_eq!(format!("{:?}", Secret::from("canary")), "[redacted]");
        let plain = plain_initial(None, "user", "canary").unwrap();
        assert_eq!(format!("{plain:?}"), "[redacted]");
    }

    #[test]
    fn plain_messages() {
        assert_eq!(
            plain_initial(None, "user", "pencil").unwrap().expose(),
            b"\0user\0pencil"
        );
        assert_eq!(
            plain_initial(Some("admin@example.test"), "user", "pencil")
                .unwrap()
                .into_inner(),
            b"admin@example.test\0user\0pencil"
        );
        for (a, u, p) in [
            (None, "us\0er", "p"),
            (None, "user", "pa\0ss"),
            (Some("a\0"), "user", "pass"),
        ] {
            assert_eq!(
                plain_initial(a, u, p).unwrap_err(),
                SaslError::InvalidCredentials("NUL character")
            );
        }
    }
}
