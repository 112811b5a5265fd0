//! The HTTP client: https only, the account's TLS trust, streaming both ways, stall timeout.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, Url, redirect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::error::TransferError;
use crate::meta::clean_media_type;
use crate::names::storage_file_name;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);
const CHUNK: usize = 64 * 1024;
const TLS_RECORD_PLAINTEXT: usize = 8 * 1024;
const MAX_GET_REDIRECTS: usize = 3;

/// Headers the engine sets itself or that control the connection; a slot cannot override them.
const RESERVED_HEADERS: &[&str] = &[
    "content-length",
    "content-type",
    "host",
    "transfer-encoding",
    "connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// What a HEAD request told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadInfo {
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// Inside the requested directory, under a generated name.
    pub path: PathBuf,
    pub size: u64,
    pub media_type: Option<String>,
}

/// A redirect to something other than https, refused by the GET redirect policy.
#[derive(Debug)]
struct RedirectNotHttps(String);

impl std::fmt::Display for RedirectNotHttps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to a non-https URL")
    }
}

impl StdError for RedirectNotHttps {}

/// HTTP for file transfers. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    /// GET and HEAD: at most 3 redirects, https to https only.
    get: reqwest::Client,
    /// PUT: no redirects.
    put: reqwest::Client,
    stall_timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("stall_timeout", &self.stall_timeout)
            .finish_non_exhaustive()
    }
}

fn build_client(
    tls: &rustls::ClientConfig,
    user_agent: &str,
    policy: redirect::Policy,
) -> Result<reqwest::Client, TransferError> {
    let mut tls = tls.clone();
    // HTTP/1.1 only (the http2 feature is off); ALPN from an XMPP config would be wrong here.
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Records of 8 KiB of plaintext, not 16: Prosody reads 8 KiB per wake-up and, when a read
    // leaves bytes of a record in its TLS buffer, waits for a 1 ms timer before reading on.
    // With 16 KiB records that wait came after every record and held uploads to 2-4 MB/s; with
    // 8 KiB records a read takes a whole record, once the reads line up with the records (see
    // docs/benchmarks.md, "File upload"). rustls counts the 5-byte record header in the limit.
    tls.max_fragment_size = Some(TLS_RECORD_PLAINTEXT + 5);
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .https_only(true)
        .redirect(policy)
        .referer(false)
        .no_proxy()
        .user_agent(user_agent)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| TransferError::Io {
            reason: format!("HTTP client setup: {e}"),
        })
}

fn get_redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        if attempt.url().scheme() != "https" {
            let url = attempt.url().to_string();
            attempt.error(RedirectNotHttps(url))
        } else if attempt.previous().len() > MAX_GET_REDIRECTS {
            // Hand back the redirect response itself: Http{3xx}.
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Parses `url` and insists on https with a host.
fn https_url(url: &str) -> Result<Url, TransferError> {
    let parsed = Url::parse(url).map_err(|_| TransferError::InvalidUrl {
        url: url.to_string(),
    })?;
    if parsed.scheme() != "https" {
        return Err(TransferError::NotHttps {
            url: url.to_string(),
        });
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(TransferError::InvalidUrl {
            url: url.to_string(),
        });
    }
    Ok(parsed)
}

/// Classifies a reqwest error: TLS when a rustls error is anywhere in its source chain.
fn map_reqwest_error(e: &reqwest::Error) -> TransferError {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<RedirectNotHttps>() {
            return TransferError::NotHttps { url: r.0.clone() };
        }
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return TransferError::Tls {
                reason: t.to_string(),
            };
        }
        // io::Error::source() skips the error it wraps: step into it instead.
        cur = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
    }
    if e.is_builder() {
        return TransferError::InvalidUrl {
            url: e.url().map(Url::to_string).unwrap_or_default(),
        };
    }
    let mut reason = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        reason.push_str(": ");
        reason.push_str(&err.to_string());
        cur = err.source();
    }
    TransferError::Network { reason }
}

fn stalled() -> TransferError {
    TransferError::Network {
        reason: "stalled: no data moved within the stall timeout".into(),
    }
}

fn header_u64(headers: &HeaderMap, name: HeaderName) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
}

fn header_media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(clean_media_type)
}

/// The extra headers of an upload slot, checked by reqwest's own header types (CR, LF, NUL
/// and other forbidden bytes are refused, nothing is sent).
fn slot_headers(headers: &[(String, String)]) -> Result<HeaderMap, TransferError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let printable: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        let invalid = || TransferError::InvalidHeader {
            name: printable.clone(),
        };
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let header_value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        if RESERVED_HEADERS.contains(&header_name.as_str()) {
            tracing::debug!(header = %header_name, "upload slot header ignored");
            continue;
        }
        map.append(header_name, header_value);
    }
    Ok(map)
}

/// Removes the partial download file unless disarmed (also when the future is dropped).
struct PartialFile {
    path: PathBuf,
    armed: bool,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if self.armed
            && let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, "could not remove a partial download");
        }
    }
}

/// The upload body's reader: see `put_file`.
struct BodyState {
    file: tokio::fs::File,
    size: u64,
    sent: u64,
    done: bool,
    sent_tx: watch::Sender<u64>,
    /// Why the body failed, for `put_file` to report (reqwest only carries a message).
    error: Arc<Mutex<Option<TransferError>>>,
}

impl BodyState {
    fn fail(&mut self, err: TransferError) -> std::io::Error {
        self.done = true;
        let msg = err.to_string();
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(err);
        }
        std::io::Error::other(msg)
    }

    async fn next_chunk(mut self) -> Option<(Result<Vec<u8>, std::io::Error>, BodyState)> {
        if self.done {
            return None;
        }
        let left = self.size.saturating_sub(self.sent);
        // A 0-byte body still checks that the file is empty.
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let mut buf = vec![0u8; want];
        let n = if want == 0 {
            0
        } else {
            match self.file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => return Some((Err(self.fail(TransferError::from_io(&e))), self)),
            }
        };
        if n == 0 && want > 0 {
            // Shrank.
            return Some((Err(self.fail(TransferError::FileChanged)), self));
        }
        buf.truncate(n);
        self.sent = self.sent.saturating_add(n as u64);
        if self.sent == self.size {
            let mut one = [0u8; 1];
            match self.file.read(&mut one).await {
                Ok(0) => self.done = true,
                Ok(_) => return Some((Err(self.fail(TransferError::FileChanged)), self)),
                Err(e) => return Some((Err(self.fail(TransferError::from_io(&e))), self)),
            }
            if n == 0 {
                return None;
            }
        }
        self.sent_tx.send_replace(self.sent);
        Some((Ok(buf), self))
    }
}

impl HttpClient {
    /// A client with the account's TLS configuration (platform roots plus an optional extra
    /// CA; see `linnet_xmpp::tls::client_config`). Only https URLs are ever requested;
    /// redirects: none for PUT, at most 3 https->https for GET and HEAD.
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        user_agent: &str,
    ) -> Result<HttpClient, TransferError> {
        Ok(HttpClient {
            get: build_client(&tls, user_agent, get_redirect_policy())?,
            put: build_client(&tls, user_agent, redirect::Policy::none())?,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
        })
    }

    /// Sets how long a transfer may go without moving a byte (default 60 s) before it fails
    /// with [`TransferError::Network`].
    pub fn with_stall_timeout(mut self, stall_timeout: Duration) -> HttpClient {
        self.stall_timeout = stall_timeout;
        self
    }

    /// Waits for `fut` unless cancelled or no byte moves for the stall timeout.
    async fn guarded<F: Future>(
        &self,
        fut: F,
        cancel: &CancellationToken,
    ) -> Result<F::Output, TransferError> {
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(TransferError::Cancelled),
            out = fut => Ok(out),
            () = tokio::time::sleep(self.stall_timeout) => Err(stalled()),
        }
    }

    /// Sends `request` (guarded like any wait) and returns a successful response; any other
    /// status is [`TransferError::Http`].
    async fn fetch(
        &self,
        request: reqwest::RequestBuilder,
        cancel: &CancellationToken,
    ) -> Result<Response, TransferError> {
        let response = self
            .guarded(request.send(), cancel)
            .await?
            .map_err(|e| map_reqwest_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TransferError::Http {
                status: status.as_u16(),
            });
        }
        Ok(response)
    }

    /// Streams `path` (exactly `size` bytes; the file changing size under us is an error) to
    /// `url` with Content-Length and Content-Type and only the given extra headers, in 64 KiB
    /// chunks. `progress(sent_bytes)` is called as bytes go out. 2xx is success; any other
    /// status is [`TransferError::Http`].
    #[allow(clippy::too_many_arguments)]
    pub async fn put_file(
        &self,
        url: &str,
        headers: &[(String, String)],
        path: &Path,
        size: u64,
        content_type: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<(), TransferError> {
        let parsed = https_url(url)?;
        let mut extra = slot_headers(headers)?;
        let content_type =
            HeaderValue::from_str(content_type).map_err(|_| TransferError::InvalidHeader {
                name: "content-type".into(),
            })?;
        if cancel.is_cancelled() {
            return Err(TransferError::Cancelled);
        }
        let missing = || TransferError::FileMissing {
            path: path.display().to_string(),
        };
        let file = tokio::fs::File::open(path).await.map_err(|_| missing())?;
        let meta = file.metadata().await.map_err(|_| missing())?;
        if !meta.is_file() {
            return Err(missing());
        }
        if meta.len() != size {
            return Err(TransferError::FileChanged);
        }

        // The body, read in chunks of at most 64 KiB. The file must hold exactly `size`
        // bytes: one that shrank ends early; one that grew is noticed by reading one byte
        // more together with the last chunk (hyper stops polling at Content-Length). Either
        // fails the request.
        let (sent_tx, mut sent_rx) = watch::channel(0u64);
        let body_error: Arc<Mutex<Option<TransferError>>> = Arc::new(Mutex::new(None));
        let state = BodyState {
            file,
            size,
            sent: 0,
            done: false,
            sent_tx,
            error: Arc::clone(&body_error),
        };
        let body_stream = futures_util::stream::unfold(state, BodyState::next_chunk);
        let body = reqwest::Body::wrap_stream(body_stream);

        extra.insert(CONTENT_TYPE, content_type);
        extra.insert(CONTENT_LENGTH, HeaderValue::from(size));
        let send = self.put.put(parsed).headers(extra).body(body).send();
        tokio::pin!(send);

        let mut deadline = Instant::now() + self.stall_timeout;
        let mut watching = true;
        let mut reported = 0u64;
        let result = loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(TransferError::Cancelled),
                r = &mut send => break r,
                changed = sent_rx.changed(), if watching => match changed {
                    Ok(()) => {
                        reported = *sent_rx.borrow_and_update();
                        progress(reported);
                        deadline = Instant::now() + self.stall_timeout;
                    }
                    Err(_) => {
                        // The body is done: now only the response is awaited.
                        watching = false;
                        deadline = Instant::now() + self.stall_timeout;
                    }
                },
                () = sleep_until(deadline) => return Err(stalled()),
            }
        };
        let taken = body_error.lock().ok().and_then(|mut slot| slot.take());
        if let Some(err) = taken {
            return Err(err);
        }
        let response = result.map_err(|e| map_reqwest_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(TransferError::Http {
                status: status.as_u16(),
            });
        }
        // The response can win the race against the last progress notification.
        let sent = *sent_rx.borrow();
        if sent != reported {
            progress(sent);
        }
        Ok(())
    }

    /// HEAD: the Content-Length and Content-Type when given. For the automatic-download
    /// policy only: the download enforces its cap itself.
    pub async fn head(&self, url: &str) -> Result<HeadInfo, TransferError> {
        let parsed = https_url(url)?;
        let never = CancellationToken::new();
        let response = self.fetch(self.get.head(parsed), &never).await?;
        Ok(HeadInfo {
            size: header_u64(response.headers(), CONTENT_LENGTH),
            media_type: header_media_type(response.headers()),
        })
    }

    /// Streams the body into a new file inside `dir` under a generated name (never a name
    /// from the network; only `display_name`'s extension when it is plain): writes
    /// `<generated>.part`, renames it on success and deletes it on any failure. `max_bytes`
    /// is enforced while streaming; a Content-Length already over it is refused before the
    /// body is read. `progress(received, total_hint)`.
    pub async fn download(
        &self,
        url: &str,
        dir: &Path,
        display_name: &str,
        max_bytes: u64,
        progress: &(dyn Fn(u64, Option<u64>) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<Downloaded, TransferError> {
        let parsed = https_url(url)?;
        if cancel.is_cancelled() {
            return Err(TransferError::Cancelled);
        }
        let response = self.fetch(self.get.get(parsed), cancel).await?;
        let total_hint = header_u64(response.headers(), CONTENT_LENGTH);
        if total_hint.is_some_and(|n| n > max_bytes) {
            return Err(TransferError::TooLarge { max: max_bytes });
        }
        let media_type = header_media_type(response.headers());

        let final_path = dir.join(storage_file_name(display_name));
        let mut part_name = final_path.clone().into_os_string();
        part_name.push(".part");
        let part_path = PathBuf::from(part_name);
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&part_path)
            .await
            .map_err(|e| TransferError::from_io(&e))?;
        let mut guard = PartialFile {
            path: part_path.clone(),
            armed: true,
        };

        let mut received: u64 = 0;
        let mut response = response;
        progress(0, total_hint);
        loop {
            let chunk = self
                .guarded(response.chunk(), cancel)
                .await?
                .map_err(|e| map_reqwest_error(&e))?;
            let Some(chunk) = chunk else { break };
            let new_total = received.saturating_add(chunk.len() as u64);
            if new_total > max_bytes {
                return Err(TransferError::TooLarge { max: max_bytes });
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| TransferError::from_io(&e))?;
            received = new_total;
            progress(received, total_hint);
        }
        file.flush().await.map_err(|e| TransferError::from_io(&e))?;
        file.sync_all()
            .await
            .map_err(|e| TransferError::from_io(&e))?;
        drop(file);
        tokio::fs::rename(&part_path, &final_path)
            .await
            .map_err(|e| TransferError::from_io(&e))?;
        guard.armed = false;
        Ok(Downloaded {
            path: final_path,
            size: received,
            media_type,
        })
    }
}
