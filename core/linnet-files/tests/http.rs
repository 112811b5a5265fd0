//! The transfer engine against a tiny HTTPS server on 127.0.0.1 with a throwaway CA.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_files::{CancellationToken, Downloaded, HeadInfo, HttpClient, TransferError};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

// ---------------------------------------------------------------------------------------------
// PKI

struct Pki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

fn make_pki() -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Linnet files test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    }
}

fn client_for(ca_pem: &str) -> HttpClient {
    let settings = linnet_xmpp::tls::TlsSettings {
        extra_ca_pem: Some(ca_pem.to_string()),
        only_extra_ca: true,
    };
    let tls = linnet_xmpp::tls::client_config(&settings, false).unwrap();
    HttpClient::new(tls, "Linnet-test/1").unwrap()
}

// ---------------------------------------------------------------------------------------------
// The server

#[derive(Debug, Clone, Default)]
struct Recorded {
    method: String,
    path: String,
    /// (lowercased name, value) in wire order.
    headers: Vec<(String, String)>,
    raw_head: Vec<u8>,
    body: Vec<u8>,
    body_reads: usize,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone)]
enum Action {
    /// Status, extra headers, body (sent with a correct Content-Length).
    Respond(u16, Vec<(String, String)>, Vec<u8>),
    /// Content-Length says `declared`, `actual` bytes follow.
    Lying { declared: u64, actual: usize },
    /// No Content-Length: the body ends when the connection closes.
    CloseDelimited(usize),
    /// Chunked transfer encoding, `total` bytes in 16 KiB chunks.
    Chunked(usize),
    /// Head with Content-Length `declared`, `first` bytes, then nothing more (connection kept).
    StallAfter { declared: u64, first: usize },
    /// Upload: never read the body, never answer.
    IgnoreBody,
    /// Upload: read the body, then never answer.
    NoResponse,
}

type Handler = Arc<dyn Fn(&Recorded) -> Action + Send + Sync>;

struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve(tls: Arc<rustls::ServerConfig>, handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let acceptor = TlsAcceptor::from(tls);
    let (conns, reqs) = (Arc::clone(&connections), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            conns.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let handler = Arc::clone(&handler);
            let reqs = Arc::clone(&reqs);
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = handle(stream, handler, reqs).await;
            });
        }
    });
    Server {
        port,
        connections,
        requests,
    }
}

async fn handle<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    handler: Handler,
    reqs: Arc<Mutex<Vec<Recorded>>>,
) -> std::io::Result<()> {
    // The head.
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut tmp).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let mut rec = Recorded {
        raw_head: buf[..head_end].to_vec(),
        ..Recorded::default()
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    rec.method = first.next().unwrap_or("").to_string();
    rec.path = first.next().unwrap_or("").to_string();
    for line in lines.filter(|l| !l.is_empty()) {
        if let Some((n, v)) = line.split_once(':') {
            rec.headers
                .push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let action = handler(&rec);
    if matches!(action, Action::IgnoreBody) {
        reqs.lock().unwrap().push(rec);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(());
    }
    // The body, by Content-Length.
    let len: usize = rec
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    rec.body = buf[head_end..].to_vec();
    let mut big = vec![0u8; 64 * 1024];
    while rec.body.len() < len {
        let n = s.read(&mut big).await?;
        if n == 0 {
            break;
        }
        rec.body_reads += 1;
        rec.body.extend_from_slice(&big[..n]);
    }
    let is_head = rec.method == "HEAD";
    reqs.lock().unwrap().push(rec);

    match action {
        Action::Respond(status, headers, body) => {
            let mut out = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n");
            if !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            {
                out.push_str(&format!("Content-Length: {}\r\n", body.len()));
            }
            for (n, v) in headers {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
            out.push_str("\r\n");
            s.write_all(out.as_bytes()).await?;
            if !is_head {
                s.write_all(&body).await?;
            }
        }
        Action::Lying { declared, actual } => {
            let out = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n");
            s.write_all(out.as_bytes()).await?;
            write_blocks(&mut s, b'x', actual).await?;
        }
        Action::CloseDelimited(total) => {
            s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                .await?;
            write_blocks(&mut s, b'y', total).await?;
        }
        Action::Chunked(total) => {
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let chunk = vec![b'z'; 16 * 1024];
            let mut sent = 0;
            while sent < total {
                s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                s.write_all(&chunk).await?;
                s.write_all(b"\r\n").await?;
                sent += chunk.len();
            }
            s.write_all(b"0\r\n\r\n").await?;
        }
        Action::StallAfter { declared, first } => {
            let out = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n");
            s.write_all(out.as_bytes()).await?;
            s.write_all(&vec![b's'; first]).await?;
            s.flush().await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Action::NoResponse => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Action::IgnoreBody => {}
    }
    s.flush().await?;
    s.shutdown().await?;
    Ok(())
}

/// Writes 64 KiB blocks of `byte` until at least `total` bytes are out.
async fn write_blocks<S: tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    byte: u8,
    total: usize,
) -> std::io::Result<()> {
    let chunk = vec![byte; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        s.write_all(&chunk).await?;
        sent += chunk.len();
    }
    Ok(())
}

fn ok_with(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Handler {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let body = body.to_vec();
    Arc::new(move |_| Action::Respond(status, headers.clone(), body.clone()))
}

fn action(a: Action) -> Handler {
    Arc::new(move |_| a.clone())
}

const OCTETS: &str = "application/octet-stream";

/// Declares `declared` bytes, sends `first`, then goes quiet.
fn stall_after(declared: u64, first: usize) -> Handler {
    action(Action::StallAfter { declared, first })
}

fn no_progress(_: u64) {}
fn no_dl_progress(_: u64, _: Option<u64>) {}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

// ---------------------------------------------------------------------------------------------
// The fixture

/// One test's world: a server running a handler, a client trusting its CA, a temp dir.
struct Fixture {
    pki: Pki,
    server: Server,
    client: HttpClient,
    tmp: tempfile::TempDir,
}

impl Fixture {
    async fn new(handler: Handler) -> Fixture {
        let pki = make_pki();
        let server = serve(pki.server.clone(), handler).await;
        let client = client_for(&pki.ca_pem);
        let tmp = tempfile::tempdir().unwrap();
        Fixture {
            pki,
            server,
            client,
            tmp,
        }
    }

    /// Replaces the server with one running `handler`, under the same CA; client and dir stay.
    async fn serve(&mut self, handler: Handler) {
        self.server = serve(self.pki.server.clone(), handler).await;
    }

    fn with_stall_timeout(mut self, timeout: Duration) -> Fixture {
        self.client = self.client.with_stall_timeout(timeout);
        self
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn entries(&self) -> Vec<String> {
        dir_entries(self.dir())
    }

    fn connections(&self) -> usize {
        self.server.connections.load(Ordering::SeqCst)
    }

    /// Writes `data` to `name` in the temp dir.
    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.dir().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// GET `url` into the temp dir, with no progress callback and nothing cancelling it.
    async fn download(&self, url: &str, name: &str, max: u64) -> Result<Downloaded, TransferError> {
        let cancel = CancellationToken::new();
        self.download_with(url, name, max, &no_dl_progress, &cancel)
            .await
    }

    async fn download_with(
        &self,
        url: &str,
        name: &str,
        max: u64,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Downloaded, TransferError> {
        self.client
            .download(url, self.dir(), name, max, progress, cancel)
            .await
    }

    /// PUT `file` to `url` with no extra headers, no progress callback and nothing cancelling it.
    async fn put(
        &self,
        url: &str,
        file: &Path,
        size: u64,
        content_type: &str,
    ) -> Result<(), TransferError> {
        let cancel = CancellationToken::new();
        self.put_with(url, &[], file, size, content_type, &no_progress, &cancel)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn put_with(
        &self,
        url: &str,
        headers: &[(String, String)],
        file: &Path,
        size: u64,
        content_type: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<(), TransferError> {
        self.client
            .put_file(url, headers, file, size, content_type, progress, cancel)
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// PUT

#[tokio::test]
async fn put_streams_exact_bytes_with_given_headers_only() {
    let f = Fixture::new(ok_with(201, &[], b"")).await;
    let data = pattern(300_000);
    let path = f.file("photo.jpg", &data);
    let seen = Mutex::new(Vec::new());
    let progress = |n: u64| seen.lock().unwrap().push(n);
    let headers = vec![
        ("Authorization".to_string(), "Basic dGVzdA==".to_string()),
        ("Cookie".to_string(), "a=b".to_string()),
        // Framing headers are the engine's: a slot cannot override them.
        ("Content-Length".to_string(), "1".to_string()),
        ("Transfer-Encoding".to_string(), "chunked".to_string()),
    ];
    let url = f.url("/upload/abc/photo.jpg");
    let cancel = CancellationToken::new();
    f.put_with(
        &url,
        &headers,
        &path,
        data.len() as u64,
        "image/jpeg",
        &progress,
        &cancel,
    )
    .await
    .unwrap();
    let reqs = f.server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path, "/upload/abc/photo.jpg");
    assert_eq!(r.body, data);
    assert_eq!(r.header("content-length"), Some("300000"));
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(r.header("authorization"), Some("Basic dGVzdA=="));
    assert_eq!(r.header("cookie"), Some("a=b"));
    assert_eq!(r.header("user-agent"), Some("Linnet-test/1"));
    let mut names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "cookie",
            "host",
            "user-agent"
        ],
        "{}",
        String::from_utf8_lossy(&r.raw_head)
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.last().copied(), Some(300_000));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn put_zero_bytes() {
    let f = Fixture::new(ok_with(200, &[], b"")).await;
    let path = f.file("empty.txt", b"");
    f.put(&f.url("/u/empty.txt"), &path, 0, "text/plain")
        .await
        .unwrap();
    let reqs = f.server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("content-length"), Some("0"));
    assert!(reqs[0].body.is_empty());
}

#[tokio::test]
async fn put_header_with_crlf_is_refused_before_sending() {
    let f = Fixture::new(ok_with(200, &[], b"")).await;
    let path = f.file("a.txt", b"hello");
    let url = f.url("/u/a.txt");
    let cancel = CancellationToken::new();
    for headers in [
        vec![("Authorization".to_string(), "x\r\nX-Evil: 1".to_string())],
        vec![("X-Evil\r\nHost".to_string(), "x".to_string())],
        vec![("Cookie".to_string(), "a\nb".to_string())],
        vec![("Cookie".to_string(), "a\0b".to_string())],
        vec![(String::new(), "x".to_string())],
    ] {
        let err = f
            .put_with(
                &url,
                &headers,
                &path,
                5,
                "text/plain",
                &no_progress,
                &cancel,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransferError::InvalidHeader { .. }),
            "{err:?}"
        );
    }
    let err = f
        .put(&url, &path, 5, "text/plain\r\nX-Evil: 1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TransferError::InvalidHeader { .. }),
        "{err:?}"
    );
    assert_eq!(f.connections(), 0);
}

#[tokio::test]
async fn put_20_mb_streams() {
    let f = Fixture::new(ok_with(201, &[], b"")).await;
    let size = 20 * 1024 * 1024;
    let data = pattern(size);
    let path = f.file("big.bin", &data);
    let calls = AtomicUsize::new(0);
    let last = Mutex::new(0u64);
    let progress = |n: u64| {
        calls.fetch_add(1, Ordering::SeqCst);
        *last.lock().unwrap() = n;
    };
    let url = f.url("/u/big.bin");
    let cancel = CancellationToken::new();
    f.put_with(&url, &[], &path, size as u64, OCTETS, &progress, &cancel)
        .await
        .unwrap();
    let reqs = f.server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("content-length"), Some("20971520"));
    assert!(reqs[0].header("transfer-encoding").is_none());
    assert!(reqs[0].body == data, "body differs");
    // It arrived over many reads, as a stream.
    assert!(reqs[0].body_reads > 100, "{}", reqs[0].body_reads);
    assert_eq!(*last.lock().unwrap(), size as u64);
    // Progress is coalesced (the latest count when the caller gets to run), never past the size.
    assert!(calls.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn put_file_missing_or_changed() {
    let f = Fixture::new(ok_with(200, &[], b"")).await;
    let path = f.file("a.txt", b"hello");
    let url = f.url("/u");
    let err = f
        .put(&url, &f.dir().join("gone.txt"), 5, "text/plain")
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::FileMissing { .. }), "{err:?}");
    for size in [4, 6] {
        let err = f.put(&url, &path, size, "text/plain").await.unwrap_err();
        assert_eq!(err, TransferError::FileChanged);
    }
    // A directory is not an upload source.
    let err = f.put(&url, f.dir(), 0, "text/plain").await.unwrap_err();
    assert!(matches!(err, TransferError::FileMissing { .. }), "{err:?}");
    assert_eq!(f.connections(), 0);
}

/// The source shrinks or grows while it is being sent: FileChanged, not a short or long body.
#[tokio::test]
async fn put_file_changing_during_upload() {
    let f = Fixture::new(ok_with(201, &[], b"")).await;
    let size = 32 * 1024 * 1024;
    let url = f.url("/u/big.bin");
    for grow in [false, true] {
        let path = f.file("big.bin", &pattern(size));
        let changed = std::sync::atomic::AtomicBool::new(false);
        let progress = |n: u64| {
            if n > 0 && !changed.swap(true, Ordering::SeqCst) {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                if grow {
                    f.set_len(size as u64 + 1000).unwrap();
                } else {
                    f.set_len(1000).unwrap();
                }
            }
        };
        let cancel = CancellationToken::new();
        let err = f
            .put_with(&url, &[], &path, size as u64, OCTETS, &progress, &cancel)
            .await
            .unwrap_err();
        assert_eq!(err, TransferError::FileChanged, "grow: {grow}");
        assert!(changed.load(Ordering::SeqCst));
    }
}

#[tokio::test]
async fn put_error_status_and_no_redirect() {
    let mut f = Fixture::new(ok_with(200, &[], b"")).await;
    let path = f.file("a.txt", b"hello");
    for (status, headers) in [
        (401, vec![]),
        (413, vec![]),
        (503, vec![]),
        (307, vec![("Location", "/elsewhere")]),
    ] {
        f.serve(ok_with(status, &headers, b"")).await;
        let err = f
            .put(&f.url("/u/a.txt"), &path, 5, "text/plain")
            .await
            .unwrap_err();
        assert_eq!(err, TransferError::Http { status });
        assert_eq!(f.server.requests().len(), 1, "no redirect followed");
    }
}

#[tokio::test]
async fn put_http_url_refused_without_connection() {
    let f = Fixture::new(ok_with(200, &[], b"")).await;
    let path = f.file("a.txt", b"hello");
    let url = format!("http://127.0.0.1:{}/u/a.txt", f.server.port);
    let err = f.put(&url, &path, 5, "text/plain").await.unwrap_err();
    assert_eq!(err, TransferError::NotHttps { url });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(f.connections(), 0);
}

#[tokio::test]
async fn put_stalls_when_server_stops_reading() {
    let f = Fixture::new(action(Action::IgnoreBody))
        .await
        .with_stall_timeout(Duration::from_millis(500));
    let size = 32 * 1024 * 1024;
    let path = f.file("big.bin", &pattern(size));
    let started = std::time::Instant::now();
    let err = f
        .put(&f.url("/u/big.bin"), &path, size as u64, OCTETS)
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn put_stalls_when_no_response_comes() {
    let f = Fixture::new(action(Action::NoResponse))
        .await
        .with_stall_timeout(Duration::from_millis(300));
    let path = f.file("a.txt", b"hello");
    let err = f
        .put(&f.url("/u/a.txt"), &path, 5, "text/plain")
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::Network { .. }), "{err:?}");
    assert_eq!(f.server.requests()[0].body, b"hello");
}

#[tokio::test]
async fn put_cancelled() {
    let f = Fixture::new(action(Action::IgnoreBody)).await;
    let size = 32 * 1024 * 1024;
    let path = f.file("big.bin", &pattern(size));
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let progress = move |n: u64| {
        if n > 0 {
            c2.cancel();
        }
    };
    let url = f.url("/u/big.bin");
    let err = f
        .put_with(&url, &[], &path, size as u64, OCTETS, &progress, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err, TransferError::Cancelled);
}

// ---------------------------------------------------------------------------------------------
// GET and HEAD

#[tokio::test]
async fn get_round_trip_into_generated_name() {
    let data = pattern(200_000);
    let f = Fixture::new(ok_with(200, &[("Content-Type", "Image/JPEG; q=1")], &data)).await;
    let seen = Mutex::new(Vec::new());
    let progress = |n: u64, total: Option<u64>| seen.lock().unwrap().push((n, total));
    let url = f.url("/x/..%2F..%2Fetc%2Fpasswd.jpg");
    let cancel = CancellationToken::new();
    let got = f
        .download_with(&url, "../../etc/passwd.jpg", 1_000_000, &progress, &cancel)
        .await
        .unwrap();
    assert_eq!(got.size, 200_000);
    assert_eq!(got.media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(got.path.parent(), Some(f.dir()));
    let name = got.path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(".jpg") && name.len() == 36, "{name}");
    assert_eq!(std::fs::read(&got.path).unwrap(), data);
    assert_eq!(f.entries(), vec![name]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.last().copied(), Some((200_000, Some(200_000))));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(f.server.requests()[0].method, "GET");
}

#[tokio::test]
async fn get_cap_enforced_when_length_lies() {
    // Content-Length says 10, 10 MB follow: only the 10 declared bytes are ever taken (HTTP/1.1
    // framing), the rest never reaches the disk.
    let f = Fixture::new(action(Action::Lying {
        declared: 10,
        actual: 10 * 1024 * 1024,
    }))
    .await;
    let got = f
        .download(&f.url("/f"), "f.bin", 1024 * 1024)
        .await
        .unwrap();
    assert_eq!(got.size, 10);
    assert_eq!(std::fs::metadata(&got.path).unwrap().len(), 10);
    assert_eq!(f.entries().len(), 1);
}

#[tokio::test]
async fn get_cap_enforced_without_length() {
    for act in [
        Action::CloseDelimited(10 * 1024 * 1024),
        Action::Chunked(10 * 1024 * 1024),
    ] {
        let f = Fixture::new(action(act)).await;
        let max_seen = Mutex::new(0u64);
        let progress = |n: u64, total: Option<u64>| {
            assert_eq!(total, None);
            *max_seen.lock().unwrap() = n;
        };
        let cancel = CancellationToken::new();
        let err = f
            .download_with(&f.url("/f"), "f.bin", 1024 * 1024, &progress, &cancel)
            .await
            .unwrap_err();
        assert_eq!(err, TransferError::TooLarge { max: 1024 * 1024 });
        assert!(*max_seen.lock().unwrap() <= 1024 * 1024);
        assert!(f.entries().is_empty(), "partial file left");
    }
}

#[tokio::test]
async fn get_refused_early_when_length_too_large() {
    let f = Fixture::new(stall_after(100 * 1024 * 1024, 0)).await;
    let url = f.url("/f");
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        f.download(&url, "f.bin", 1024 * 1024),
    )
    .await
    .expect("refused without waiting for the body")
    .unwrap_err();
    assert_eq!(err, TransferError::TooLarge { max: 1024 * 1024 });
    assert!(f.entries().is_empty());
}

#[tokio::test]
async fn get_404() {
    let f = Fixture::new(ok_with(404, &[], b"not here")).await;
    let err = f.download(&f.url("/f"), "f.bin", 1024).await.unwrap_err();
    assert_eq!(err, TransferError::Http { status: 404 });
    assert!(!err.is_transient());
    assert!(f.entries().is_empty());
}

#[tokio::test]
async fn get_cert_from_another_ca_is_tls_error() {
    let mut f = Fixture::new(ok_with(200, &[], b"x")).await;
    let other = make_pki();
    f.client = client_for(&other.ca_pem);
    let err = f.download(&f.url("/f"), "f.bin", 1024).await.unwrap_err();
    assert!(matches!(err, TransferError::Tls { .. }), "{err:?}");
    assert!(!err.is_transient());
    let err = f.client.head(&f.url("/f")).await.unwrap_err();
    assert!(matches!(err, TransferError::Tls { .. }), "{err:?}");
    assert!(f.entries().is_empty());
}

#[tokio::test]
async fn connection_refused_is_network() {
    // The fixture's own server is never asked: the URL names a port nobody listens on.
    let f = Fixture::new(ok_with(200, &[], b"x")).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("https://127.0.0.1:{port}/f");
    let err = f.download(&url, "f.bin", 1024).await.unwrap_err();
    assert!(matches!(err, TransferError::Network { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn http_and_invalid_urls_refused_without_connection() {
    let f = Fixture::new(ok_with(200, &[], b"x")).await;
    let url = format!("http://127.0.0.1:{}/f", f.server.port);
    let err = f.download(&url, "f", 1024).await.unwrap_err();
    assert_eq!(err, TransferError::NotHttps { url: url.clone() });
    assert_eq!(
        f.client.head(&url).await.unwrap_err(),
        TransferError::NotHttps { url }
    );
    for bad in ["ftp://x/y", "file:///etc/passwd", "aesgcm://h.test/f#k"] {
        let err = f.client.head(bad).await.unwrap_err();
        assert!(matches!(err, TransferError::NotHttps { .. }), "{err:?}");
    }
    for bad in ["", "not a url", "https://", "https://:443/x"] {
        let err = f.client.head(bad).await.unwrap_err();
        assert!(
            matches!(err, TransferError::InvalidUrl { .. }),
            "{bad}: {err:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(f.connections(), 0);
    assert!(f.entries().is_empty());
}

#[tokio::test]
async fn redirect_to_http_is_not_https() {
    let f = Fixture::new(ok_with(302, &[("Location", "http://127.0.0.1:1/f")], b"")).await;
    let err = f.download(&f.url("/f"), "f", 1024).await.unwrap_err();
    assert!(
        matches!(&err, TransferError::NotHttps { url } if url.starts_with("http://127.0.0.1:1/")),
        "{err:?}"
    );
    assert!(f.entries().is_empty());
}

#[tokio::test]
async fn redirects_https_at_most_three() {
    // /r<n> redirects to /r<n-1>; /r0 serves the file.
    let handler: Handler = Arc::new(|rec: &Recorded| {
        let n: u32 = rec.path.trim_start_matches("/r").parse().unwrap_or(0);
        if n == 0 {
            Action::Respond(200, vec![], b"done".to_vec())
        } else {
            Action::Respond(
                302,
                vec![("Location".to_string(), format!("/r{}", n - 1))],
                vec![],
            )
        }
    });
    let f = Fixture::new(handler).await;
    let got = f.download(&f.url("/r3"), "f.txt", 1024).await.unwrap();
    assert_eq!(std::fs::read(&got.path).unwrap(), b"done");
    let err = f.download(&f.url("/r4"), "f.txt", 1024).await.unwrap_err();
    assert_eq!(err, TransferError::Http { status: 302 });
    assert_eq!(f.entries().len(), 1);
}

#[tokio::test]
async fn cancel_mid_download_removes_partial() {
    let f = Fixture::new(stall_after(1024 * 1024, 100_000)).await;
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let saw_part = Mutex::new(false);
    let progress = |n: u64, _| {
        if n > 0 {
            // The partial file exists while streaming.
            let entries = f.entries();
            *saw_part.lock().unwrap() = entries.len() == 1 && entries[0].ends_with(".bin.part");
            c2.cancel();
        }
    };
    let err = f
        .download_with(&f.url("/f"), "f.bin", 10 * 1024 * 1024, &progress, &cancel)
        .await
        .unwrap_err();
    assert_eq!(err, TransferError::Cancelled);
    assert!(*saw_part.lock().unwrap());
    assert!(f.entries().is_empty(), "partial file left");
}

#[tokio::test]
async fn dropped_download_removes_partial() {
    let f = Fixture::new(stall_after(1024 * 1024, 1000)).await;
    let url = f.url("/f");
    let res = tokio::time::timeout(
        Duration::from_millis(500),
        f.download(&url, "f.bin", 10 * 1024 * 1024),
    )
    .await;
    assert!(res.is_err(), "still running when dropped");
    assert!(f.entries().is_empty(), "partial file left");
}

#[tokio::test]
async fn download_stall_timeout() {
    let mut f = Fixture::new(stall_after(1024 * 1024, 5000))
        .await
        .with_stall_timeout(Duration::from_millis(300));
    let err = f
        .download(&f.url("/f"), "f.bin", 10 * 1024 * 1024)
        .await
        .unwrap_err();
    assert!(matches!(err, TransferError::Network { .. }), "{err:?}");
    assert!(f.entries().is_empty());

    // A server that never answers at all stalls too.
    f.serve(action(Action::NoResponse)).await;
    let err = f.client.head(&f.url("/f")).await.unwrap_err();
    assert!(matches!(err, TransferError::Network { .. }), "{err:?}");
}

#[tokio::test]
async fn head_reports_length_and_type() {
    let mut f = Fixture::new(ok_with(
        200,
        &[("Content-Type", "image/PNG"), ("Content-Length", "1234")],
        b"",
    ))
    .await;
    let info = f.client.head(&f.url("/f.png")).await.unwrap();
    assert_eq!(
        info,
        HeadInfo {
            size: Some(1234),
            media_type: Some("image/png".into())
        }
    );
    assert_eq!(f.server.requests()[0].method, "HEAD");

    f.serve(ok_with(200, &[("Content-Type", "bad type")], b""))
        .await;
    let info = f.client.head(&f.url("/f")).await.unwrap();
    assert_eq!(info.media_type, None);
    f.serve(ok_with(403, &[], b"")).await;
    assert_eq!(
        f.client.head(&f.url("/f")).await.unwrap_err(),
        TransferError::Http { status: 403 }
    );
}
