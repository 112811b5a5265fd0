//! File transfer: uploads through the server's HTTP upload service (XEP-0363) and downloads of
//! links that arrive with messages (XEP-0066).
//!
//! The store holds the queue (`attachments`): an upload is a queued outgoing message whose file
//! must reach a slot before the message may leave the outbox, with the download URL as its
//! body and an OOB element. One upload runs at a time, in the order they were queued, so files
//! arrive in the order they were sent; one download runs at a time beside it. A transient
//! failure waits out a backoff in the queue; a permanent one (too large, refused, not https)
//! fails the transfer with its reason until the user retries. Transfers interrupted by a
//! restart start over (a slot cannot be resumed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use linnet_files::{CancellationToken, HttpClient, TransferError, meta, names};
use linnet_store::{
    Attachment, Message, MessageState, NewAttachment, NewMessage, TransferDirection, TransferState,
};
use linnet_xmpp::chat::{self, ChatEvent};
use linnet_xmpp::upload::{self, SlotRequest, UploadError, UploadService};
use linnet_xmpp::{BareJid, Jid};
use tokio::sync::Notify;

use super::{Client, ClientEvent, Inner, lock, now_ms};
use crate::account::normalise_jid;
use crate::backoff::Backoff;
use crate::error::LinnetError;

/// Tunables of file transfer.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// Where downloaded files go, under generated names. `Linnet::open` sets
    /// `<data dir>/files`; without it downloads fail with a clear error.
    pub download_dir: Option<PathBuf>,
    /// No download, manual or automatic, may be larger than this (enforced while streaming).
    pub max_download_bytes: u64,
    /// Transient failures retried automatically before a transfer is marked failed.
    pub max_attempts: u32,
    /// The first wait after a transient failure (doubling up to `retry_max_delay`).
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// Progress events come at most this often per transfer.
    pub progress_interval: Duration,
    /// An HTTP transfer that moves no byte for this long fails (transiently).
    pub stall_timeout: Duration,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            download_dir: None,
            max_download_bytes: 512 * 1024 * 1024,
            max_attempts: 5,
            retry_base_delay: Duration::from_secs(2),
            retry_max_delay: Duration::from_secs(300),
            progress_interval: Duration::from_millis(100),
            stall_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a transfer failed, for a UI to act on (stored as `Attachment::failure_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferFailureKind {
    /// The network failed (retried automatically first).
    Network,
    /// The HTTP server answered with an error status.
    Http,
    /// The secure connection failed (certificate, handshake).
    Tls,
    /// Over the server's upload limit or the download limit.
    TooLarge,
    /// No space left on this device.
    DiskFull,
    Cancelled,
    /// The server offered a link or slot that is not https.
    NotHttps,
    /// The file to send is gone, unreadable, or changed since it was queued.
    FileMissing,
    /// The server refused the upload slot.
    ServerRefused,
    /// The server has no HTTP upload service.
    NoUploadService,
    /// Anything else local (a write failed, no download folder).
    Local,
}

impl TransferFailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Network => "network",
            Self::Http => "http",
            Self::Tls => "tls",
            Self::TooLarge => "too_large",
            Self::DiskFull => "disk_full",
            Self::Cancelled => "cancelled",
            Self::NotHttps => "not_https",
            Self::FileMissing => "file_missing",
            Self::ServerRefused => "server_refused",
            Self::NoUploadService => "no_upload_service",
            Self::Local => "local",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Network,
            Self::Http,
            Self::Tls,
            Self::TooLarge,
            Self::DiskFull,
            Self::Cancelled,
            Self::NotHttps,
            Self::FileMissing,
            Self::ServerRefused,
            Self::NoUploadService,
            Self::Local,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A failed attempt: what kind, in words, and whether trying again later may work.
#[derive(Debug, Clone)]
struct Failure {
    kind: TransferFailureKind,
    reason: String,
    transient: bool,
}

impl Failure {
    fn permanent(kind: TransferFailureKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
            transient: false,
        }
    }
}

impl From<TransferError> for Failure {
    fn from(e: TransferError) -> Self {
        use TransferFailureKind as K;
        // A local I/O failure other than a full disk or a vanished file (the runtime shutting
        // down under a transfer, a passing error) is worth a few more attempts.
        let transient = e.is_transient() || matches!(e, TransferError::Io { .. });
        let kind = match &e {
            TransferError::NotHttps { .. } => K::NotHttps,
            TransferError::InvalidUrl { .. } => K::NotHttps,
            // The slot's headers are the server's: it gave a slot that cannot be used.
            TransferError::InvalidHeader { .. } => K::ServerRefused,
            TransferError::Http { .. } => K::Http,
            TransferError::Tls { .. } => K::Tls,
            TransferError::Network { .. } => K::Network,
            TransferError::TooLarge { .. } => K::TooLarge,
            TransferError::DiskFull => K::DiskFull,
            TransferError::FileMissing { .. } | TransferError::FileChanged => K::FileMissing,
            TransferError::Io { .. } => K::Local,
            TransferError::Cancelled => K::Cancelled,
        };
        Self {
            kind,
            reason: e.to_string(),
            transient,
        }
    }
}

impl From<UploadError> for Failure {
    fn from(e: UploadError) -> Self {
        use TransferFailureKind as K;
        let transient = e.is_transient();
        let kind = match &e {
            UploadError::FileTooLarge { .. } => K::TooLarge,
            UploadError::NotHttps { .. } => K::NotHttps,
            _ if transient => K::Network,
            _ => K::ServerRefused,
        };
        Self {
            kind,
            reason: e.to_string(),
            transient,
        }
    }
}

/// A transfer moved on: its state changed, or (coalesced) more bytes went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferUpdate {
    pub message_id: i64,
    pub peer: String,
    pub direction: TransferDirection,
    pub state: TransferState,
    pub transferred: u64,
    /// The size, when known.
    pub total: Option<u64>,
    pub failure_kind: Option<TransferFailureKind>,
    pub failure_reason: Option<String>,
}

/// What the file transfer of a client keeps in memory.
#[derive(Default)]
pub(super) struct Transfers {
    /// Wake the upload and the download worker: something was queued, the session came up,
    /// a retry is due.
    wake_uploads: Arc<Notify>,
    wake_downloads: Arc<Notify>,
    workers_started: bool,
    /// Running transfers, to cancel them.
    running: HashMap<i64, CancellationToken>,
    /// Bytes moved so far by running transfers (and the size, when known).
    progress: HashMap<i64, (u64, Option<u64>)>,
    /// The server's upload service, once discovered (`Some(None)`: it has none). Forgotten
    /// when a new session starts.
    service: Option<Option<UploadService>>,
    http: Option<HttpClient>,
}

impl Client {
    /// Sends a file: stores the message (its local echo, a `Message` event, shows the file
    /// with its progress) and queues the upload. When the upload is done the message goes out
    /// with the file's URL as its body and an OOB element (XEP-0066). Follow it through
    /// `ClientEvent::Transfer` and `MessageState`. A file over the server's known limit is
    /// refused here, before anything is stored or asked.
    pub fn send_file(&self, to: &str, path: &Path) -> Result<i64, LinnetError> {
        let peer = normalise_jid(to)?;
        let file = std::fs::metadata(path).map_err(|e| LinnetError::FileUnreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        if !file.is_file() {
            return Err(LinnetError::FileUnreadable {
                path: path.display().to_string(),
                reason: "not a regular file".into(),
            });
        }
        let size = file.len();
        if let Some(max) = self.known_upload_limit()
            && size > max
        {
            return Err(LinnetError::FileTooLarge { size, max });
        }
        let source = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let file_name = names::sanitise_display_name(
            &source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        let media_type = meta::media_type_for_name(&file_name);
        let dimensions = if media_type.starts_with("image/") {
            meta::image_dimensions(&source)
        } else {
            None
        };
        let xmpp_id =
            linnet_xmpp::negotiate::random_suffix() + &linnet_xmpp::negotiate::random_suffix();
        let new = NewMessage {
            attachment: Some(NewAttachment {
                direction: TransferDirection::Upload,
                url: None,
                source_path: Some(source.to_string_lossy().into_owned()),
                file_name: file_name.clone(),
                media_type: Some(media_type),
                size: Some(size),
                dimensions,
                state: TransferState::Queued,
            }),
            // Until the upload is done the body names the file (the chat list shows it).
            ..NewMessage::outgoing(
                self.inner.account.id,
                &self.inner.account.jid,
                peer.as_str(),
                &xmpp_id,
                &file_name,
                now_ms(),
            )
        };
        let id = self.inner.store.insert_message(&new)?.id();
        if let Some(m) = self.inner.store.message(id)? {
            self.emit(ClientEvent::Message(Box::new(m)));
        }
        self.emit_transfer(id, None);
        self.wake_transfers();
        Ok(id)
    }

    /// Downloads the file of an incoming (or carbon) message: one offered to the user, or one
    /// that failed or was cancelled. Follow it through `ClientEvent::Transfer`.
    pub fn download(&self, message_id: i64) -> Result<(), LinnetError> {
        let attachment = self.own_attachment(message_id)?;
        if attachment.direction != TransferDirection::Download {
            return Err(LinnetError::NoAttachment { message_id });
        }
        if self.inner.store.queue_transfer(message_id)? {
            self.emit_transfer(message_id, None);
            self.wake_transfers();
        }
        Ok(())
    }

    /// Cancels a transfer that has not finished (queued, offered or running). A cancelled
    /// upload fails its message ("cancelled"); `retry` queues it again.
    pub fn cancel_transfer(&self, message_id: i64) -> Result<(), LinnetError> {
        let attachment = self.own_attachment(message_id)?;
        if !self.inner.store.cancel_transfer(message_id)? {
            return Ok(());
        }
        if let Some(token) = lock(&self.inner.transfers).running.get(&message_id) {
            token.cancel();
        }
        if attachment.direction == TransferDirection::Upload {
            self.fail_message(message_id, "cancelled");
        }
        self.emit_transfer(message_id, None);
        Ok(())
    }

    /// Bytes moved so far by a running transfer, and its size when known.
    pub fn transfer_progress(&self, message_id: i64) -> Option<(u64, Option<u64>)> {
        lock(&self.inner.transfers)
            .progress
            .get(&message_id)
            .copied()
    }

    /// Queues a failed or cancelled upload again (for `retry`). False: no such upload.
    pub(super) fn retry_upload(&self, message_id: i64) -> Result<bool, LinnetError> {
        let Some(a) = self.inner.store.attachment(message_id)? else {
            return Ok(false);
        };
        if a.direction != TransferDirection::Upload || a.state == TransferState::Done {
            return Ok(false);
        }
        if self.inner.store.queue_transfer(message_id)? {
            if let Some(m) = self.inner.store.message(message_id)? {
                self.emit(ClientEvent::MessageState {
                    id: message_id,
                    peer: m.peer,
                    state: MessageState::Queued,
                    reason: None,
                });
            }
            self.emit_transfer(message_id, None);
            self.wake_transfers();
        }
        Ok(true)
    }

    fn own_attachment(&self, message_id: i64) -> Result<Attachment, LinnetError> {
        let m = self.own_message(message_id)?;
        m.attachment.ok_or(LinnetError::NoAttachment { message_id })
    }

    fn known_upload_limit(&self) -> Option<u64> {
        match &lock(&self.inner.transfers).service {
            Some(Some(service)) => service.max_file_size,
            _ => None,
        }
    }

    /// A new session: the upload service is discovered again (the server may have changed).
    pub(super) fn forget_upload_service(&self) {
        lock(&self.inner.transfers).service = None;
    }

    /// The attachment for a message that arrived with a downloadable link: offered (the user
    /// or the policy decides; see `after_stored`).
    pub(super) fn attachment_for(event: &ChatEvent) -> Option<NewAttachment> {
        let url = event.oob_url.as_deref()?;
        Some(NewAttachment {
            direction: TransferDirection::Download,
            url: Some(url.to_string()),
            source_path: None,
            file_name: names::display_name_from_url(url),
            media_type: None,
            size: None,
            dimensions: None,
            state: TransferState::Offered,
        })
    }

    /// The download policy, for a live message just stored with a link: automatic from
    /// contacts (and our own other devices) below the size set in the preferences, after a
    /// HEAD request says how large it is; never automatic from strangers, whose server would
    /// learn our address.
    pub(super) fn apply_download_policy(&self, message: &Message) -> Result<(), LinnetError> {
        let Some(a) = &message.attachment else {
            return Ok(());
        };
        if a.direction != TransferDirection::Download || a.state != TransferState::Offered {
            return Ok(());
        }
        let limit = self.preferences()?.auto_download_max_bytes;
        // No downloads during a push wake-up: the app fetches them when it runs.
        if limit == 0 || self.is_waking() {
            return Ok(());
        }
        let from_us = message.sender == self.inner.account.jid;
        let from_contact = self
            .inner
            .store
            .contact(self.inner.account.id, &message.peer)?
            .is_some();
        if !(from_us || from_contact) {
            return Ok(());
        }
        let Some(url) = a.url.clone() else {
            return Ok(());
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let me = self.clone();
        let id = message.id;
        runtime.spawn(async move {
            let head = match me.http() {
                Ok(http) => http.head(&url).await,
                Err(e) => {
                    tracing::debug!(error = %e, "no HTTP client for the download policy");
                    return;
                }
            };
            match head {
                Ok(info) => {
                    let media_type = info.media_type.as_deref().and_then(meta::clean_media_type);
                    let _ = me
                        .inner
                        .store
                        .set_download_info(id, info.size, media_type.as_deref());
                    match info.size {
                        Some(size) if size <= limit => {
                            if me.inner.store.queue_transfer(id).unwrap_or(false) {
                                me.emit_transfer(id, None);
                                me.wake_transfers();
                            }
                        }
                        // Too large or of unknown size: it stays offered, now with its size.
                        _ => me.emit_transfer(id, None),
                    }
                }
                Err(e) => tracing::debug!(error = %e, "HEAD for the download policy failed"),
            }
        });
        Ok(())
    }

    pub(super) fn wake_transfers(&self) {
        // Not during a push wake-up: the app resumes them (memory is short there).
        if self.is_waking() {
            return;
        }
        self.ensure_transfer_workers();
        let t = lock(&self.inner.transfers);
        t.wake_uploads.notify_one();
        t.wake_downloads.notify_one();
    }

    /// Starts the upload and download workers once (they hold only a weak reference: dropping
    /// every `Client` ends them). Transfers a previous run left half done are queued again.
    pub(super) fn ensure_transfer_workers(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (wake_uploads, wake_downloads) = {
            let mut t = lock(&self.inner.transfers);
            if t.workers_started {
                return;
            }
            t.workers_started = true;
            (t.wake_uploads.clone(), t.wake_downloads.clone())
        };
        match self
            .inner
            .store
            .requeue_interrupted_transfers(self.inner.account.id)
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(transfers = n, "queued interrupted transfers again"),
            Err(e) => tracing::warn!(error = %e, "cannot requeue interrupted transfers"),
        }
        for (direction, wake) in [
            (TransferDirection::Upload, wake_uploads),
            (TransferDirection::Download, wake_downloads),
        ] {
            let weak = Arc::downgrade(&self.inner);
            runtime.spawn(async move { transfer_worker(weak, wake, direction).await });
        }
    }

    fn http(&self) -> Result<HttpClient, LinnetError> {
        let mut t = lock(&self.inner.transfers);
        if let Some(http) = &t.http {
            return Ok(http.clone());
        }
        let tls = linnet_xmpp::tls::client_config(
            &linnet_xmpp::tls::TlsSettings {
                extra_ca_pem: self.inner.account.settings.extra_ca_pem.clone(),
                only_extra_ca: false,
            },
            false,
        )
        .map_err(|e| LinnetError::Tls {
            reason: e.to_string(),
        })?;
        let http = HttpClient::new(tls, concat!("Linnet/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| LinnetError::Network {
                reason: e.to_string(),
            })?
            .with_stall_timeout(self.inner.config.files.stall_timeout);
        t.http = Some(http.clone());
        Ok(http)
    }

    /// Reports a transfer's state (from the store) with the bytes moved so far.
    fn emit_transfer(&self, message_id: i64, moved: Option<(u64, Option<u64>)>) {
        let Ok(Some(m)) = self.inner.store.message(message_id) else {
            return;
        };
        let Some(a) = m.attachment else { return };
        let (transferred, total) = moved.unwrap_or(match a.state {
            TransferState::Done => (a.size.unwrap_or(0), a.size),
            _ => (0, a.size),
        });
        self.emit(ClientEvent::Transfer(TransferUpdate {
            message_id,
            peer: m.peer,
            direction: a.direction,
            state: a.state,
            transferred,
            total,
            failure_kind: a
                .failure_kind
                .as_deref()
                .and_then(TransferFailureKind::parse),
            failure_reason: a.failure_reason,
        }));
    }

    fn fail_message(&self, message_id: i64, reason: &str) {
        if let Ok(Some(m)) = self.inner.store.message(message_id) {
            self.fail(message_id, &m.peer, reason);
        }
    }

    /// The next queued transfer of `direction` that is due, or when the next one will be.
    fn next_due(&self, direction: TransferDirection) -> Result<Due, LinnetError> {
        let account = self.inner.account.id;
        let queued = match direction {
            TransferDirection::Upload => self.inner.store.queued_uploads(account)?,
            TransferDirection::Download => self.inner.store.queued_downloads(account)?,
        };
        let now = now_ms();
        let mut soonest: Option<i64> = None;
        for m in queued {
            let at = m
                .attachment
                .as_ref()
                .and_then(|a| a.next_attempt_at)
                .unwrap_or(0);
            if at <= now {
                return Ok(Due::Now(Box::new(m)));
            }
            soonest = Some(soonest.map_or(at, |s| s.min(at)));
        }
        Ok(match soonest {
            Some(at) => Due::Later(Duration::from_millis((at - now).max(0) as u64)),
            None => Due::Nothing,
        })
    }

    /// Runs one transfer to its end (done, failed, waiting for a retry, or cancelled).
    async fn run_transfer(&self, message: Message) {
        let id = message.id;
        let Some(attachment) = message.attachment.clone() else {
            return;
        };
        match self.inner.store.start_transfer(id) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot start a transfer");
                return;
            }
        }
        let token = CancellationToken::new();
        {
            let mut t = lock(&self.inner.transfers);
            t.running.insert(id, token.clone());
            t.progress.insert(id, (0, attachment.size));
        }
        self.emit_transfer(id, None);
        let outcome = match attachment.direction {
            TransferDirection::Upload => self.upload(&message, &attachment, &token).await,
            TransferDirection::Download => self.fetch(&message, &attachment, &token).await,
        };
        {
            let mut t = lock(&self.inner.transfers);
            t.running.remove(&id);
            t.progress.remove(&id);
        }
        match outcome {
            Ok(()) => {
                self.emit_transfer(id, None);
                if attachment.direction == TransferDirection::Upload {
                    // The message can go now, after anything queued before it.
                    self.flush_outbox();
                }
            }
            Err(failure) => self.transfer_failed(&message, &attachment, failure),
        }
    }

    fn transfer_failed(&self, message: &Message, attachment: &Attachment, failure: Failure) {
        let id = message.id;
        let store = &self.inner.store;
        if failure.kind == TransferFailureKind::Cancelled {
            // `cancel_transfer` set the state and told everyone.
            return;
        }
        let files = &self.inner.config.files;
        let attempts = attachment.attempts.saturating_add(1);
        let retry_at = (failure.transient && attempts < files.max_attempts).then(|| {
            let mut backoff = Backoff::new(files.retry_base_delay, files.retry_max_delay);
            let mut delay = Duration::ZERO;
            for _ in 0..attempts {
                delay = backoff.next_delay(rand::random::<f64>());
            }
            now_ms() + delay.as_millis() as i64
        });
        tracing::info!(
            message = id,
            kind = failure.kind.as_str(),
            reason = %failure.reason,
            retry = retry_at.is_some(),
            "transfer failed"
        );
        match store.fail_transfer(id, failure.kind.as_str(), &failure.reason, retry_at) {
            Ok(true) => {}
            Ok(false) => return, // cancelled meanwhile
            Err(e) => {
                tracing::warn!(error = %e, "cannot store a transfer failure");
                return;
            }
        }
        if retry_at.is_none() && attachment.direction == TransferDirection::Upload {
            self.fail_message(id, &failure.reason);
        }
        self.emit_transfer(id, None);
        if retry_at.is_some() {
            self.wake_transfers();
        }
    }

    /// A progress reporter for transfer `id`: keeps the count for `transfer_progress` and emits
    /// an update at most every `progress_interval`.
    fn progress_reporter(&self, id: i64) -> impl Fn(u64, Option<u64>) + Send + Sync + use<> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let interval = self.inner.config.files.progress_interval;
        let last = Mutex::new(None::<Instant>);
        move |moved: u64, total: Option<u64>| {
            let Some(inner) = weak.upgrade() else { return };
            lock(&inner.transfers).progress.insert(id, (moved, total));
            let mut last = lock(&last);
            let finished = total == Some(moved);
            if last.is_some_and(|t| t.elapsed() < interval) && !finished {
                return;
            }
            *last = Some(Instant::now());
            drop(last);
            Client { inner }.emit_transfer(id, Some((moved, total)));
        }
    }

    async fn upload_service(&self) -> Result<UploadService, Failure> {
        if let Some(known) = &lock(&self.inner.transfers).service {
            return known.clone().ok_or_else(no_upload_service);
        }
        let session = self.session().ok_or_else(not_connected)?;
        let domain = Jid::from(BareJid::from_parts(None, self.inner.own.domain()));
        let found = upload::discover(&session, domain).await?;
        lock(&self.inner.transfers).service = Some(found.clone());
        found.ok_or_else(no_upload_service)
    }

    async fn upload(
        &self,
        message: &Message,
        attachment: &Attachment,
        cancel: &CancellationToken,
    ) -> Result<(), Failure> {
        let source = attachment.source_path.as_deref().unwrap_or_default();
        let size = match std::fs::metadata(source) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) | Err(_) => {
                return Err(Failure::permanent(
                    TransferFailureKind::FileMissing,
                    format!("the file {source} is gone or unreadable"),
                ));
            }
        };
        if attachment.size.is_some_and(|s| s != size) {
            return Err(Failure::permanent(
                TransferFailureKind::FileMissing,
                format!("the file {source} changed since it was queued"),
            ));
        }
        let service = self.upload_service().await?;
        if let Some(max) = service.max_file_size
            && size > max
        {
            return Err(Failure::permanent(
                TransferFailureKind::TooLarge,
                format!("the file is {size} bytes, the server accepts up to {max}"),
            ));
        }
        let session = self.session().ok_or_else(not_connected)?;
        let content_type = attachment
            .media_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        let request = SlotRequest {
            filename: attachment.file_name.clone(),
            size,
            content_type: Some(content_type.clone()),
        };
        let slot = upload::request_slot(&session, &service.jid, &request).await?;
        let http = self
            .http()
            .map_err(|e| Failure::permanent(TransferFailureKind::Tls, e.to_string()))?;
        let report = self.progress_reporter(message.id);
        let progress = move |sent: u64| report(sent, Some(size));
        http.put_file(
            &slot.put_url,
            &slot.put_headers,
            Path::new(source),
            size,
            &content_type,
            &progress,
            cancel,
        )
        .await?;
        match self.inner.store.finish_upload(message.id, &slot.get_url) {
            Ok(true) => Ok(()),
            // Cancelled while the last bytes went out: the cancel stands.
            Ok(false) => Err(Failure::permanent(
                TransferFailureKind::Cancelled,
                "cancelled",
            )),
            Err(e) => Err(Failure::permanent(
                TransferFailureKind::Local,
                e.to_string(),
            )),
        }
    }

    async fn fetch(
        &self,
        message: &Message,
        attachment: &Attachment,
        cancel: &CancellationToken,
    ) -> Result<(), Failure> {
        let files = &self.inner.config.files;
        let Some(dir) = files.download_dir.clone() else {
            return Err(Failure::permanent(
                TransferFailureKind::Local,
                "no download folder is configured",
            ));
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return Err(Failure::permanent(
                TransferFailureKind::Local,
                format!("cannot create {}: {e}", dir.display()),
            ));
        }
        let url = attachment.url.clone().unwrap_or_default();
        // The size the sender or a HEAD announced caps the body too: a server that said small
        // and sends more is cut off, not trusted.
        let cap = attachment.size.map_or(files.max_download_bytes, |s| {
            s.min(files.max_download_bytes)
        });
        let http = self
            .http()
            .map_err(|e| Failure::permanent(TransferFailureKind::Tls, e.to_string()))?;
        let report = self.progress_reporter(message.id);
        let progress = move |received: u64, total: Option<u64>| report(received, total);
        let done = http
            .download(&url, &dir, &attachment.file_name, cap, &progress, cancel)
            .await?;
        let media_type = done
            .media_type
            .as_deref()
            .and_then(meta::clean_media_type)
            .or_else(|| attachment.media_type.clone())
            .unwrap_or_else(|| meta::media_type_for_name(&attachment.file_name));
        let dimensions = if media_type.starts_with("image/") {
            meta::image_dimensions(&done.path)
        } else {
            None
        };
        let path = done.path.to_string_lossy().into_owned();
        match self.inner.store.finish_download(
            message.id,
            &path,
            done.size,
            Some(&media_type),
            dimensions,
        ) {
            Ok(true) => Ok(()),
            Ok(false) => {
                // Cancelled at the last moment: the file goes too.
                let _ = std::fs::remove_file(&done.path);
                Err(Failure::permanent(
                    TransferFailureKind::Cancelled,
                    "cancelled",
                ))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&done.path);
                Err(Failure::permanent(
                    TransferFailureKind::Local,
                    e.to_string(),
                ))
            }
        }
    }

    /// The stanza for an outgoing message with a finished upload: the URL as body plus OOB.
    pub(super) fn attachment_stanza(
        peer: &BareJid,
        id: &str,
        message: &Message,
    ) -> Option<linnet_xmpp::xmpp_parsers::message::Message> {
        let a = message.attachment.as_ref()?;
        if a.direction != TransferDirection::Upload || a.state != TransferState::Done {
            return None;
        }
        let url = a.url.as_deref()?;
        Some(chat::message_with_attachment(peer, id, url))
    }
}

fn not_connected() -> Failure {
    Failure {
        kind: TransferFailureKind::Network,
        reason: "not connected".into(),
        transient: true,
    }
}

fn no_upload_service() -> Failure {
    Failure::permanent(
        TransferFailureKind::NoUploadService,
        "the server offers no file upload (XEP-0363)",
    )
}

enum Due {
    Now(Box<Message>),
    Later(Duration),
    Nothing,
}

/// One worker per direction: runs the due transfers one after the other, waits for a wake-up
/// or the next retry time otherwise. Uploads run only while online (they need a slot).
async fn transfer_worker(weak: Weak<Inner>, wake: Arc<Notify>, direction: TransferDirection) {
    /// Looks again this often even without a wake-up (the session may have come up).
    const IDLE_CHECK: Duration = Duration::from_secs(30);
    loop {
        let wait = {
            let Some(inner) = weak.upgrade() else { return };
            let client = Client { inner };
            let online = client.session().is_some();
            if direction == TransferDirection::Upload && !online {
                IDLE_CHECK
            } else {
                match client.next_due(direction) {
                    Ok(Due::Now(message)) => {
                        client.run_transfer(*message).await;
                        continue;
                    }
                    Ok(Due::Later(after)) => after.min(IDLE_CHECK),
                    Ok(Due::Nothing) => IDLE_CHECK,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the transfer queue");
                        IDLE_CHECK
                    }
                }
            }
        };
        let _ = tokio::time::timeout(wait, wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn failure_kinds_round_trip_through_their_stored_names() {
        for kind in [
            TransferFailureKind::Network,
            TransferFailureKind::Http,
            TransferFailureKind::Tls,
            TransferFailureKind::TooLarge,
            TransferFailureKind::DiskFull,
            TransferFailureKind::Cancelled,
            TransferFailureKind::NotHttps,
            TransferFailureKind::FileMissing,
            TransferFailureKind::ServerRefused,
            TransferFailureKind::NoUploadService,
            TransferFailureKind::Local,
        ] {
            assert_eq!(TransferFailureKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TransferFailureKind::parse("nonsense"), None);
    }

    #[test]
    fn what_is_retried_by_itself() {
        let transient = |e: TransferError| Failure::from(e).transient;
        assert!(transient(TransferError::Network {
            reason: "reset".into()
        }));
        assert!(transient(TransferError::Http { status: 503 }));
        assert!(transient(TransferError::Io {
            reason: "task was cancelled".into()
        }));
        assert!(!transient(TransferError::Http { status: 404 }));
        assert!(!transient(TransferError::TooLarge { max: 10 }));
        assert!(!transient(TransferError::DiskFull));
        assert!(!transient(TransferError::NotHttps {
            url: "http://x".into()
        }));
        let slot = |e: UploadError| {
            let f = Failure::from(e);
            (f.kind, f.transient)
        };
        assert_eq!(
            slot(UploadError::FileTooLarge { max: Some(5) }),
            (TransferFailureKind::TooLarge, false)
        );
        assert_eq!(
            slot(UploadError::NotHttps {
                url: "http://x".into()
            }),
            (TransferFailureKind::NotHttps, false)
        );
        assert_eq!(
            slot(UploadError::Refused {
                condition: "not-allowed".into(),
                text: None
            }),
            (TransferFailureKind::ServerRefused, false)
        );
        assert_eq!(
            slot(UploadError::Quota { retry_at_ms: None }),
            (TransferFailureKind::Network, true)
        );
    }
}
