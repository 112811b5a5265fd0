//! Fake APNs and FCM endpoints for linnet-push's tests and benchmarks.
//!
//! `FakeApns` speaks HTTP/2 over TLS (ALPN `h2` only, a throwaway CA made per fake) and checks
//! each request the way Apple would, plus Linnet's own rules: a content-free wake-up, nothing
//! else. `FakeFcm` speaks plain HTTP/1.1: a Google-like OAuth2 token endpoint and FCM HTTP v1's
//! `messages:send`. Both record every request with their verdict, answer scripted errors by
//! token, and serve many concurrent requests.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use linnet_push::apns::ApnsConfig;
use linnet_push::fcm::FcmConfig;
use ring::signature::{self, KeyPair as _};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

/// The topic (bundle id) FakeApns expects.
pub const TEST_TOPIC: &str = "org.linnet.test";
/// The text of the fixed alert linnet-push sends.
const ALERT: (&str, &str) = ("Linnet", "New activity");
/// APNs refuses bodies over 4 KiB; the fakes read at most this much of any body.
const APNS_MAX_PAYLOAD: usize = 4096;
const READ_LIMIT: usize = 64 * 1024;

type Handler = Arc<dyn Fn(HttpRequest) -> Response<Full<Bytes>> + Send + Sync>;

/// A request as the fakes' handlers see it: everything read, the body limited to `READ_LIMIT`.
struct HttpRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Result<Bytes, String>,
}

impl HttpRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn read_request(req: Request<Incoming>) -> HttpRequest {
    let (parts, body) = req.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = Limited::new(body, READ_LIMIT)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string());
    HttpRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        headers,
        body,
    }
}

fn json_response(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Accepts connections on `listener` until aborted; each connection is served on its own task.
fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handler: Handler,
) -> AbortHandle {
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let handler = handler.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move {
                        let req = read_request(req).await;
                        Ok::<_, Infallible>(handler(req))
                    }
                });
                match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        // APNs speaks HTTP/2 only: a client that did not negotiate h2 is
                        // turned away, as Apple does.
                        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                            return;
                        }
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .max_concurrent_streams(1000)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                    None => {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(tcp), service)
                            .await;
                    }
                }
            });
        }
    })
    .abort_handle()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A decoded compact JWS whose signature `verify` accepted.
struct Jwt {
    header: Value,
    claims: Value,
}

fn verify_jwt(
    jwt: &str,
    alg: &'static dyn signature::VerificationAlgorithm,
    public_key: &[u8],
) -> Result<Jwt, String> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS".into());
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .map_err(|e| format!("base64url: {e}"))
    };
    let signature = decode(s)?;
    signature::UnparsedPublicKey::new(alg, public_key)
        .verify(format!("{h}.{c}").as_bytes(), &signature)
        .map_err(|_| "bad signature".to_string())?;
    let header = serde_json::from_slice(&decode(h)?).map_err(|e| format!("header: {e}"))?;
    let claims = serde_json::from_slice(&decode(c)?).map_err(|e| format!("claims: {e}"))?;
    Ok(Jwt { header, claims })
}

// ------------------------------------------------------------------------------------------
// APNs

/// An APNs signing key as Apple hands it out: a P-256 PKCS#8 PEM (.p8), its key id, the team id.
#[derive(Clone)]
pub struct ApnsTestKey {
    pub key_pem: String,
    pub key_id: String,
    pub team_id: String,
    /// The uncompressed public point, to verify provider tokens.
    pub public_key: Vec<u8>,
}

impl ApnsTestKey {
    pub fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        Self {
            key_pem: pem("PRIVATE KEY", pkcs8.as_ref()),
            key_id: "LINNETKEY1".into(),
            team_id: "LINNETTEAM".into(),
            public_key: pair.public_key().as_ref().to_vec(),
        }
    }
}

/// How FakeApns answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApnsAnswer {
    Ok,
    /// A status with Apple's `{"reason": ...}` body.
    Error {
        status: u16,
        reason: String,
    },
}

impl ApnsAnswer {
    pub fn error(status: u16, reason: &str) -> Self {
        Self::Error {
            status,
            reason: reason.to_string(),
        }
    }
}

/// One request FakeApns received.
#[derive(Debug, Clone)]
pub struct ApnsRequest {
    /// The device token from the path.
    pub token: String,
    /// Sent to the sandbox base URL (`FakeApns::config` points it at `/sandbox`).
    pub sandbox: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The provider token (JWT) it carried.
    pub jwt: String,
    /// What FakeApns answered.
    pub status: u16,
    /// `Err` names the first rule the request broke (its answer is then an error too).
    pub verdict: Result<(), String>,
}

impl ApnsRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct ApnsState {
    requests: Vec<ApnsRequest>,
    scripts: HashMap<String, VecDeque<ApnsAnswer>>,
    failed_once: HashSet<String>,
    revoked_jwts: HashSet<String>,
    seen_jwts: HashSet<String>,
}

struct ApnsShared {
    key: ApnsTestKey,
    topic: String,
    state: Mutex<ApnsState>,
    arrived: Notify,
}

pub struct FakeApns {
    base_url: String,
    ca_pem: String,
    shared: Arc<ApnsShared>,
    server: AbortHandle,
}

impl Drop for FakeApns {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeApns {
    /// Starts a fake with a new CA, a new signing key and the topic `TEST_TOPIC`.
    pub async fn start() -> Self {
        Self::start_with_key(ApnsTestKey::generate()).await
    }

    pub async fn start_with_key(key: ApnsTestKey) -> Self {
        let (ca_pem, tls) = apns_tls();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let shared = Arc::new(ApnsShared {
            key,
            topic: TEST_TOPIC.to_string(),
            state: Mutex::new(ApnsState::default()),
            arrived: Notify::new(),
        });
        let handler_shared = shared.clone();
        let handler: Handler = Arc::new(move |req| apns_handle(&handler_shared, req));
        let server = serve(
            listener,
            Some(tokio_rustls::TlsAcceptor::from(tls)),
            handler,
        );
        Self {
            base_url: format!("https://127.0.0.1:{}", addr.port()),
            ca_pem,
            shared,
            server,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The CA that signed the fake's certificate (for 127.0.0.1).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn key(&self) -> &ApnsTestKey {
        &self.shared.key
    }

    /// A linnet-push configuration that reaches this fake: production at `base_url`, sandbox
    /// at `base_url/sandbox`.
    pub fn config(&self) -> ApnsConfig {
        ApnsConfig {
            key_pem: self.shared.key.key_pem.clone(),
            key_id: self.shared.key.key_id.clone(),
            team_id: self.shared.key.team_id.clone(),
            topic: self.shared.topic.clone(),
            base_url: Some(self.base_url.clone()),
            sandbox_base_url: Some(format!("{}/sandbox", self.base_url)),
            extra_ca_pem: Some(self.ca_pem.clone()),
            timeout: Duration::from_secs(10),
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<ApnsRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests arrived (cheaper than `requests().len()` under load).
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Waits (up to 10 s) until at least `count` requests arrived; returns them all.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<ApnsRequest> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.shared.arrived.notified();
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("FakeApns: {} of {count} requests arrived", requests.len());
            }
        }
    }

    /// The answers for the next requests to `token`, in order; afterwards the suffix rules
    /// apply again (…0410 Unregistered, …0400 BadDeviceToken, …0429, …0500 once, else 200).
    pub fn script(&self, token: &str, answers: impl IntoIterator<Item = ApnsAnswer>) {
        self.shared
            .lock()
            .scripts
            .entry(token.to_string())
            .or_default()
            .extend(answers);
    }

    /// Every provider token seen so far is answered 403 ExpiredProviderToken from now on.
    pub fn revoke_provider_tokens(&self) {
        let mut state = self.shared.lock();
        let seen: Vec<String> = state.seen_jwts.iter().cloned().collect();
        state.revoked_jwts.extend(seen);
    }

    /// How many different provider tokens have been used.
    pub fn distinct_provider_tokens(&self) -> usize {
        self.shared.lock().seen_jwts.len()
    }
}

impl ApnsShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, ApnsState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn apns_error(status: u16, reason: &str) -> Response<Full<Bytes>> {
    let body = if status == 410 {
        json!({"reason": reason, "timestamp": unix_now() * 1000})
    } else {
        json!({"reason": reason})
    };
    json_response(status, &body)
}

fn apns_handle(shared: &ApnsShared, req: HttpRequest) -> Response<Full<Bytes>> {
    let (token, sandbox) = match req.path.strip_prefix("/sandbox") {
        Some(rest) => (rest.strip_prefix("/3/device/"), true),
        None => (req.path.strip_prefix("/3/device/"), false),
    };
    let token = token.unwrap_or_default().to_string();
    let jwt = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("bearer "))
        .unwrap_or_default()
        .to_string();
    let body = req.body.clone().unwrap_or_default().to_vec();
    let mut state = shared.lock();
    if !jwt.is_empty() {
        state.seen_jwts.insert(jwt.clone());
    }
    let checked = apns_check(
        shared,
        &req,
        &token,
        &jwt,
        state.revoked_jwts.contains(&jwt),
    );
    let answer = match &checked {
        Err((status, reason, _)) => ApnsAnswer::error(*status, reason),
        Ok(()) => apns_scripted(&mut state, &token),
    };
    let status = match &answer {
        ApnsAnswer::Ok => 200,
        ApnsAnswer::Error { status, .. } => *status,
    };
    state.requests.push(ApnsRequest {
        token,
        sandbox,
        headers: req.headers.clone(),
        body,
        jwt,
        status,
        verdict: checked.map_err(|(_, _, why)| why),
    });
    let id = state.requests.len();
    drop(state);
    shared.arrived.notify_waiters();
    match answer {
        ApnsAnswer::Ok => {
            let mut response = Response::new(Full::new(Bytes::new()));
            if let Ok(v) = format!("00000000-0000-0000-0000-{id:012}").parse() {
                response.headers_mut().insert("apns-id", v);
            }
            response
        }
        ApnsAnswer::Error { status, reason } => apns_error(status, &reason),
    }
}

fn apns_scripted(state: &mut ApnsState, token: &str) -> ApnsAnswer {
    if let Some(answer) = state.scripts.get_mut(token).and_then(VecDeque::pop_front) {
        return answer;
    }
    if token.ends_with("0410") {
        ApnsAnswer::error(410, "Unregistered")
    } else if token.ends_with("0400") {
        ApnsAnswer::error(400, "BadDeviceToken")
    } else if token.ends_with("0429") {
        ApnsAnswer::error(429, "TooManyRequests")
    } else if token.ends_with("0500") && state.failed_once.insert(token.to_string()) {
        ApnsAnswer::error(500, "InternalServerError")
    } else {
        ApnsAnswer::Ok
    }
}

/// Apple's checks and Linnet's payload rules (push-research.md 7.2). `Err` is (status, Apple's
/// reason, what exactly was wrong).
fn apns_check(
    shared: &ApnsShared,
    req: &HttpRequest,
    token: &str,
    jwt: &str,
    revoked: bool,
) -> Result<(), (u16, &'static str, String)> {
    let fail = |status, reason, why: String| Err((status, reason, why));
    if req.method != "POST" {
        return fail(405, "MethodNotAllowed", format!("method {}", req.method));
    }
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return fail(400, "BadDeviceToken", "path is not /3/device/<hex>".into());
    }
    match req.header("apns-topic") {
        None => return fail(400, "MissingTopic", "no apns-topic".into()),
        Some(t) if t != shared.topic => return fail(400, "BadTopic", format!("topic {t}")),
        Some(_) => {}
    }
    if req.header("apns-push-type") != Some("alert") {
        return fail(400, "InvalidPushType", "apns-push-type is not alert".into());
    }
    if req.header("apns-priority") != Some("10") {
        return fail(400, "BadPriority", "apns-priority is not 10".into());
    }
    if let Some(e) = req.header("apns-expiration")
        && e.parse::<u64>().is_err()
    {
        return fail(400, "BadExpirationDate", format!("apns-expiration {e}"));
    }
    if let Some(c) = req.header("apns-collapse-id")
        && c.len() > 64
    {
        return fail(
            400,
            "BadCollapseId",
            "apns-collapse-id over 64 bytes".into(),
        );
    }
    if jwt.is_empty() {
        return fail(403, "MissingProviderToken", "no bearer token".into());
    }
    if revoked {
        return fail(403, "ExpiredProviderToken", "revoked by the test".into());
    }
    let token_jwt = verify_jwt(
        jwt,
        &signature::ECDSA_P256_SHA256_FIXED,
        &shared.key.public_key,
    )
    .map_err(|why| (403, "InvalidProviderToken", why))?;
    if token_jwt.header["alg"] != "ES256" || token_jwt.header["kid"] != shared.key.key_id.as_str() {
        return fail(
            403,
            "InvalidProviderToken",
            format!("header {}", token_jwt.header),
        );
    }
    if token_jwt.claims["iss"] != shared.key.team_id.as_str() {
        return fail(403, "InvalidProviderToken", "iss is not the team id".into());
    }
    let iat = token_jwt.claims["iat"].as_i64().unwrap_or(0);
    let now = unix_now();
    if iat > now + 60 {
        return fail(403, "InvalidProviderToken", "iat in the future".into());
    }
    if iat < now - 3600 {
        return fail(403, "ExpiredProviderToken", "iat over an hour ago".into());
    }
    let body = match &req.body {
        Ok(b) if b.len() <= APNS_MAX_PAYLOAD => b,
        _ => return fail(413, "PayloadTooLarge", "body over 4096 bytes".into()),
    };
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| (400, "BadPayload", format!("not JSON: {e}")))?;
    let expected_keys = |v: &Value, keys: &[&str]| {
        v.as_object()
            .is_some_and(|o| o.len() == keys.len() && keys.iter().all(|k| o.contains_key(*k)))
    };
    if !expected_keys(&payload, &["aps", "node"]) || !payload["node"].is_string() {
        return fail(
            400,
            "BadPayload",
            "top level is not exactly aps and node".into(),
        );
    }
    let aps = &payload["aps"];
    if !expected_keys(aps, &["alert", "mutable-content", "sound"]) {
        return fail(400, "BadPayload", "aps has other keys".into());
    }
    if aps["mutable-content"] != 1 {
        return fail(400, "BadPayload", "aps.mutable-content is not 1".into());
    }
    if aps["alert"] != json!({"title": ALERT.0, "body": ALERT.1}) {
        return fail(400, "BadPayload", "aps.alert is not the fixed text".into());
    }
    Ok(())
}

/// The fake's TLS: a new CA, a certificate for 127.0.0.1 and localhost, ALPN h2 only.
fn apns_tls() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Linnet fake APNs CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    (ca_cert.pem(), Arc::new(tls))
}

// ------------------------------------------------------------------------------------------
// FCM

/// A 2048-bit RSA key (PKCS#8 PEM), made once per test process with `openssl genpkey`: ring
/// cannot generate RSA keys, and a fresh key per fake buys nothing.
pub fn test_rsa_key_pem() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| {
        let out = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .expect("openssl genpkey (the openssl command is needed by the push tests)");
        assert!(out.status.success(), "openssl genpkey failed");
        String::from_utf8(out.stdout).unwrap()
    })
}

/// A Google service-account key file whose `token_uri` is `token_uri`.
pub fn service_account_json(project_id: &str, token_uri: &str, key_pem: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": "0123456789abcdef",
        "private_key": key_pem,
        "client_email": format!("linnet-push@{project_id}.iam.gserviceaccount.com"),
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    })
    .to_string()
}

pub const TEST_PROJECT: &str = "linnet-test";

/// How FakeFcm answers one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FcmAnswer {
    Ok,
    /// 404 NOT_FOUND, FcmError UNREGISTERED.
    Unregistered,
    /// 400 INVALID_ARGUMENT naming the registration token.
    InvalidToken,
    /// 403 PERMISSION_DENIED, FcmError SENDER_ID_MISMATCH.
    SenderIdMismatch,
    /// 429 RESOURCE_EXHAUSTED, FcmError QUOTA_EXCEEDED.
    QuotaExceeded,
    /// 503 UNAVAILABLE, FcmError UNAVAILABLE.
    Unavailable,
    /// 401 UNAUTHENTICATED, FcmError THIRD_PARTY_AUTH_ERROR.
    ThirdPartyAuthError,
}

/// One `messages:send` FakeFcm received.
#[derive(Debug, Clone)]
pub struct FcmRequest {
    /// `message.token`.
    pub token: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The access token it carried.
    pub access_token: String,
    pub status: u16,
    pub verdict: Result<(), String>,
}

#[derive(Default)]
struct FcmState {
    requests: Vec<FcmRequest>,
    scripts: HashMap<String, VecDeque<FcmAnswer>>,
    token_fetches: usize,
    /// Why the token endpoint refused assertions.
    token_refusals: Vec<String>,
    valid_access_tokens: HashSet<String>,
    token_lifetime_secs: u64,
}

struct FcmShared {
    public_key: Vec<u8>,
    client_email: String,
    token_uri: String,
    state: Mutex<FcmState>,
    arrived: Notify,
}

impl FcmShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, FcmState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct FakeFcm {
    base_url: String,
    account_json: String,
    shared: Arc<FcmShared>,
    server: AbortHandle,
}

impl Drop for FakeFcm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeFcm {
    /// Starts the fake: `/token` and `/v1/projects/linnet-test/messages:send` on 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base_url = format!("http://127.0.0.1:{}", addr.port());
        let token_uri = format!("{base_url}/token");
        let key_pem = test_rsa_key_pem();
        let der = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let pair = signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        let account_json = service_account_json(TEST_PROJECT, &token_uri, key_pem);
        let shared = Arc::new(FcmShared {
            public_key: pair.public().as_ref().to_vec(),
            client_email: format!("linnet-push@{TEST_PROJECT}.iam.gserviceaccount.com"),
            token_uri,
            state: Mutex::new(FcmState {
                token_lifetime_secs: 3600,
                ..FcmState::default()
            }),
            arrived: Notify::new(),
        });
        let handler_shared = shared.clone();
        let handler: Handler = Arc::new(move |req| fcm_handle(&handler_shared, req));
        let server = serve(listener, None, handler);
        Self {
            base_url,
            account_json,
            shared,
            server,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A service-account key file whose token_uri is this fake's `/token`.
    pub fn service_account_json(&self) -> &str {
        &self.account_json
    }

    pub fn config(&self) -> FcmConfig {
        FcmConfig {
            service_account_json: self.account_json.clone(),
            base_url: Some(self.base_url.clone()),
            extra_ca_pem: None,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn requests(&self) -> Vec<FcmRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many sends arrived (cheaper than `requests().len()` under load).
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Waits (up to 10 s) until at least `count` sends arrived; returns them all.
    pub async fn wait_for_requests(&self, count: usize) -> Vec<FcmRequest> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.shared.arrived.notified();
            let requests = self.requests();
            if requests.len() >= count {
                return requests;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("FakeFcm: {} of {count} sends arrived", requests.len());
            }
        }
    }

    /// How many access tokens `/token` handed out.
    pub fn token_fetches(&self) -> usize {
        self.shared.lock().token_fetches
    }

    /// Why `/token` refused assertions, if it did.
    pub fn token_refusals(&self) -> Vec<String> {
        self.shared.lock().token_refusals.clone()
    }

    /// The answers for the next sends to `token`, in order; afterwards the suffix rules apply
    /// (…-unregistered, …-invalid, …-mismatch, …-quota, …-unavailable, else 200).
    pub fn script(&self, token: &str, answers: impl IntoIterator<Item = FcmAnswer>) {
        self.shared
            .lock()
            .scripts
            .entry(token.to_string())
            .or_default()
            .extend(answers);
    }

    /// Every access token handed out so far is refused (401) from now on.
    pub fn revoke_access_tokens(&self) {
        self.shared.lock().valid_access_tokens.clear();
    }

    /// The `expires_in` of the next access tokens (default 3600).
    pub fn set_token_lifetime(&self, secs: u64) {
        self.shared.lock().token_lifetime_secs = secs;
    }
}

fn fcm_handle(shared: &FcmShared, req: HttpRequest) -> Response<Full<Bytes>> {
    if req.path == "/token" {
        return fcm_token(shared, &req);
    }
    if req.path == format!("/v1/projects/{TEST_PROJECT}/messages:send") {
        return fcm_send(shared, &req);
    }
    fcm_error(404, "NOT_FOUND", None, "no such method")
}

fn fcm_error(status: u16, grpc: &str, code: Option<&str>, message: &str) -> Response<Full<Bytes>> {
    let details: Vec<Value> = code
        .map(|c| {
            json!({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": c})
        })
        .into_iter()
        .collect();
    json_response(
        status,
        &json!({"error": {"code": status, "message": message, "status": grpc, "details": details}}),
    )
}

fn fcm_token(shared: &FcmShared, req: &HttpRequest) -> Response<Full<Bytes>> {
    let checked = fcm_check_assertion(shared, req);
    let mut state = shared.lock();
    match checked {
        Err(why) => {
            state.token_refusals.push(why.clone());
            json_response(
                400,
                &json!({"error": "invalid_grant", "error_description": why}),
            )
        }
        Ok(()) => {
            state.token_fetches += 1;
            let token = format!("ya29.fake-{}", state.token_fetches);
            state.valid_access_tokens.insert(token.clone());
            json_response(
                200,
                &json!({"access_token": token, "expires_in": state.token_lifetime_secs,
                    "token_type": "Bearer"}),
            )
        }
    }
}

/// RFC 7523 as Google applies it: the grant type, an RS256 assertion signed with the service
/// account's key, iss = client_email, aud = token_uri, the FCM scope, at most an hour long.
fn fcm_check_assertion(shared: &FcmShared, req: &HttpRequest) -> Result<(), String> {
    if req.method != "POST" {
        return Err(format!("method {}", req.method));
    }
    if req.header("content-type") != Some("application/x-www-form-urlencoded") {
        return Err("not a form".into());
    }
    let body = req.body.clone().unwrap_or_default();
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return Err("grant_type".into());
    }
    let assertion = form.get("assertion").ok_or("no assertion")?;
    let jwt = verify_jwt(
        assertion,
        &signature::RSA_PKCS1_2048_8192_SHA256,
        &shared.public_key,
    )?;
    if jwt.header["alg"] != "RS256" {
        return Err(format!("header {}", jwt.header));
    }
    let claims = &jwt.claims;
    if claims["iss"] != shared.client_email.as_str() {
        return Err("iss".into());
    }
    if claims["aud"] != shared.token_uri.as_str() {
        return Err("aud".into());
    }
    let scopes = claims["scope"].as_str().unwrap_or_default();
    if !scopes
        .split(' ')
        .any(|s| s == "https://www.googleapis.com/auth/firebase.messaging")
    {
        return Err("scope".into());
    }
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    let now = unix_now();
    if (iat - now).abs() > 300 || exp <= iat || exp - iat > 3600 {
        return Err(format!("iat {iat} exp {exp} now {now}"));
    }
    Ok(())
}

fn fcm_send(shared: &FcmShared, req: &HttpRequest) -> Response<Full<Bytes>> {
    let access_token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let body = req.body.clone().unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let token = parsed
        .as_ref()
        .and_then(|v| v["message"]["token"].as_str())
        .unwrap_or_default()
        .to_string();
    let mut state = shared.lock();
    let authorized = state.valid_access_tokens.contains(&access_token);
    let verdict = if req.method != "POST" {
        Err(format!("method {}", req.method))
    } else if !authorized {
        Err("access token not valid".to_string())
    } else {
        fcm_check_message(parsed.as_ref())
    };
    let answer = match &verdict {
        Ok(()) => fcm_scripted(&mut state, &token),
        Err(_) => FcmAnswer::Ok,
    };
    let response = if !authorized {
        fcm_error(
            401,
            "UNAUTHENTICATED",
            None,
            "Request had invalid authentication credentials.",
        )
    } else if let Err(why) = &verdict {
        fcm_error(400, "INVALID_ARGUMENT", None, why)
    } else {
        match answer {
            FcmAnswer::Ok => json_response(
                200,
                &json!({"name": format!("projects/{TEST_PROJECT}/messages/{}", state.requests.len() + 1)}),
            ),
            FcmAnswer::Unregistered => fcm_error(
                404,
                "NOT_FOUND",
                Some("UNREGISTERED"),
                "Requested entity was not found.",
            ),
            FcmAnswer::InvalidToken => fcm_error(
                400,
                "INVALID_ARGUMENT",
                Some("INVALID_ARGUMENT"),
                "The registration token is not a valid FCM registration token",
            ),
            FcmAnswer::SenderIdMismatch => fcm_error(
                403,
                "PERMISSION_DENIED",
                Some("SENDER_ID_MISMATCH"),
                "SenderId mismatch",
            ),
            FcmAnswer::QuotaExceeded => fcm_error(
                429,
                "RESOURCE_EXHAUSTED",
                Some("QUOTA_EXCEEDED"),
                "Quota exceeded.",
            ),
            FcmAnswer::Unavailable => fcm_error(
                503,
                "UNAVAILABLE",
                Some("UNAVAILABLE"),
                "The service is currently unavailable.",
            ),
            FcmAnswer::ThirdPartyAuthError => fcm_error(
                401,
                "UNAUTHENTICATED",
                Some("THIRD_PARTY_AUTH_ERROR"),
                "Auth error from APNS or Web Push Service",
            ),
        }
    };
    state.requests.push(FcmRequest {
        token,
        headers: req.headers.clone(),
        body: body.to_vec(),
        access_token,
        status: response.status().as_u16(),
        verdict,
    });
    drop(state);
    shared.arrived.notify_waiters();
    response
}

fn fcm_scripted(state: &mut FcmState, token: &str) -> FcmAnswer {
    if let Some(answer) = state.scripts.get_mut(token).and_then(VecDeque::pop_front) {
        return answer;
    }
    let suffixes = [
        ("-unregistered", FcmAnswer::Unregistered),
        ("-invalid", FcmAnswer::InvalidToken),
        ("-mismatch", FcmAnswer::SenderIdMismatch),
        ("-quota", FcmAnswer::QuotaExceeded),
        ("-unavailable", FcmAnswer::Unavailable),
    ];
    suffixes
        .iter()
        .find(|(s, _)| token.ends_with(s))
        .map(|(_, a)| *a)
        .unwrap_or(FcmAnswer::Ok)
}

/// FCM HTTP v1's shape plus Linnet's rules (push-research.md 7.3): a token, no notification,
/// data of string values carrying only the node, HIGH priority.
fn fcm_check_message(body: Option<&Value>) -> Result<(), String> {
    let body = body.ok_or("not JSON")?;
    let top = body.as_object().ok_or("not an object")?;
    if top.len() != 1 || !top.contains_key("message") {
        return Err("top level is not exactly message".into());
    }
    let message = &body["message"];
    if message["token"].as_str().is_none_or(str::is_empty) {
        return Err("message.token missing".into());
    }
    if message.get("notification").is_some() {
        return Err("message.notification present".into());
    }
    let data = message["data"].as_object().ok_or("message.data missing")?;
    if !data.values().all(Value::is_string) {
        return Err("message.data has a non-string value".into());
    }
    if data.len() != 1 || !data.contains_key("node") {
        return Err("message.data is not exactly the node".into());
    }
    if message["android"]["priority"] != "HIGH" {
        return Err("message.android.priority is not HIGH".into());
    }
    let allowed = ["token", "data", "android"];
    if let Some(k) = message
        .as_object()
        .and_then(|m| m.keys().find(|k| !allowed.contains(&k.as_str())))
    {
        return Err(format!("message.{k} present"));
    }
    Ok(())
}
