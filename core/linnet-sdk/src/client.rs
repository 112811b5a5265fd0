//! One account's client: connects, keeps the store in step with the server, sends through the
//! outbox, and reports what happens as `ClientEvent`s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linnet_store::{
    Account, Contact, Direction, Message, MessageState, NewMessage, RosterItem, Store, Subscription,
};
use linnet_xmpp::chat::{self, ChatEvent};
use linnet_xmpp::chatstates::ChatState;
use linnet_xmpp::negotiate::{self, ConnectOptions, Credentials, Resumption, SessionInfo};
use linnet_xmpp::presence::{self, PresenceUpdate};
use linnet_xmpp::roster::{self, RosterFetch};
use linnet_xmpp::session::{
    self, Disconnect, SessionConfig, SessionEvent, SessionHandle, Suspended,
};
use linnet_xmpp::tls::TlsSettings;
use linnet_xmpp::transport::{Connector, Target, TcpConnector, TlsMode};
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{BareJid, Element, carbons, csi, ns};
use tokio::sync::{Notify, broadcast, watch};

use crate::account::normalise_jid;
use crate::doctor::{self, DoctorReport};
use crate::error::LinnetError;
use crate::live::{COMPOSING_EXPIRES, ChatStates, PresenceCache, PresenceInfo};
use crate::secrets::SecretStore;

mod archive;
mod calls;
mod files;
mod push;
mod supervisor;
mod wake;

pub use archive::{ArchiveConfig, OlderPage, SyncPhase, SyncProgress, SyncReport, SyncState};
pub use calls::{AudioIo, CallDiagnostics, CallMediaEvent, CallState, CallUpdate, CallsConfig};
pub use files::{FilesConfig, TransferFailureKind, TransferUpdate};
pub(crate) use push::push_secret_key;
pub use push::{PushPlatform, PushSettings, PushStatus};
pub use wake::{
    MAX_NOTIFICATIONS, NotificationPreview, PREVIEW_CHARS, WakeCall, WakeNotification, WakeOptions,
    WakeReport, wake_and_close,
};

/// The `session_state` keys the preferences are stored under.
const PREF_SEND_TYPING: &str = "pref.send_typing";
const PREF_SEND_READ_MARKERS: &str = "pref.send_read_markers";
const PREF_AUTO_DOWNLOAD_MAX: &str = "pref.auto_download_max_bytes";
const PREF_RELAY_ONLY_CALLS: &str = "pref.relay_only_calls";
/// Since when (Unix ms) messages sent to us may be missing: a session was lost unresumed.
const HISTORY_GAP_SINCE: &str = "history_gap_since";

/// Tunables of a client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub session: SessionConfig,
    /// Overrides the negotiation step timeout (default 20 s).
    pub step_timeout: Option<Duration>,
    /// Resume a dropped session (XEP-0198) instead of starting a new one (default true; off
    /// only to measure or test the full reconnect).
    pub resume_sessions: bool,
    /// Message archive sync (XEP-0313).
    pub archive: ArchiveConfig,
    /// File transfer (XEP-0363 uploads, downloads of links).
    pub files: FilesConfig,
    /// Voice calls (Jingle).
    pub calls: CallsConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            session: SessionConfig::default(),
            step_timeout: None,
            resume_sessions: true,
            archive: ArchiveConfig::default(),
            files: FilesConfig::default(),
            calls: CallsConfig::default(),
        }
    }
}

/// Per-account preferences (stored; a settings screen edits them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    /// Send typing notifications (XEP-0085).
    pub send_typing: bool,
    /// Send displayed markers (XEP-0333) when a conversation is read.
    pub send_read_markers: bool,
    /// Files linked in messages from contacts are downloaded by themselves up to this size
    /// (0: never). Never from strangers: fetching a link tells its server our address.
    pub auto_download_max_bytes: u64,
    /// Calls go through the server's TURN relay only: peers, contacts too, never learn this
    /// device's addresses (at some cost in latency).
    pub relay_only_calls: bool,
    /// What notifications of new messages show (the wake-up path, `Client::wake`).
    pub notification_preview: NotificationPreview,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            send_typing: true,
            send_read_markers: true,
            auto_download_max_bytes: 10 * 1024 * 1024,
            relay_only_calls: false,
            notification_preview: NotificationPreview::default(),
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    Offline,
    Connecting,
    Online,
    /// The connection ended or failed: the reason in words, and the typed error when it ended
    /// from one (so a UI can tell a wrong password or a replaced session from a network drop).
    Disconnected {
        reason: String,
        error: Option<LinnetError>,
    },
}

/// What a client reports.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    Connection(ConnectionState),
    /// A new message was stored: incoming, sent from another of our devices (carbon), or sent
    /// from this device (the local echo, in state `Queued`, right after `send_message` stored
    /// it; its progress follows as `MessageState`). Filter on `direction` for incoming only.
    Message(Box<Message>),
    /// An outgoing message moved on (sent, acknowledged, delivered, displayed, failed).
    MessageState {
        id: i64,
        peer: String,
        state: MessageState,
        reason: Option<String>,
    },
    /// The peer is typing, paused, ... (XEP-0085). A "composing" with no news for 30 s is
    /// followed by a "paused" from the client itself; `Client::chat_state` has the latest.
    ChatState {
        peer: String,
        state: String,
    },
    Presence {
        from: String,
        available: bool,
        show: Option<String>,
        status: Option<String>,
    },
    SubscriptionRequest {
        from: String,
    },
    /// A contact approved, denied or cancelled a subscription.
    Subscription {
        from: String,
        kind: String,
    },
    RosterChanged,
    /// The conversation with `peer` was marked read: here (`mark_read`) or on another of our
    /// devices (its displayed marker arrived as a carbon).
    ConversationRead {
        peer: String,
    },
    /// The previous session was lost without resumption: messages sent to us since
    /// `since_ms` (Unix milliseconds) may not have reached this device until the archive
    /// catch-up (XEP-0313) that follows has run; `history_gap_since` is cleared when it has.
    HistoryGap {
        since_ms: i64,
    },
    /// Archive sync progress, then `Idle` when a run ends.
    Sync(SyncState),
    /// Messages from the archive were stored in these conversations (history: no `Message`
    /// event and no notification for them); views showing them reload.
    HistoryChanged {
        peers: Vec<String>,
    },
    /// A file transfer moved on: a new state, or (at most every `progress_interval`) more
    /// bytes.
    Transfer(TransferUpdate),
    /// A call moved on (its whole state; `Ended` once, with the reason).
    Call(CallUpdate),
    /// Something happened in a call's media: the first audio heard, a key the peer pressed.
    CallMedia {
        id: String,
        event: CallMediaEvent,
    },
    /// Push notifications were reconciled with the settings (after a session came up or a
    /// setting changed): where they stand now, with the error if they are not in effect.
    Push(PushStatus),
}

/// How the connections of a client went, since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// New sessions (login and bind).
    pub fresh_sessions: u64,
    /// Sessions continued after a drop (XEP-0198 resumption).
    pub resumes: u64,
    /// Resumptions the server refused (a new session followed).
    pub resumes_refused: u64,
    /// Stanzas sent again after a resumption (the unacknowledged tail).
    pub stanzas_resent: u64,
}

#[derive(Default)]
struct StatsCounters {
    fresh_sessions: AtomicU64,
    resumes: AtomicU64,
    resumes_refused: AtomicU64,
    stanzas_resent: AtomicU64,
}

/// How `connect_inner` brought the account online.
enum Established {
    Fresh,
    Resumed,
}

struct Inner {
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    account: Account,
    own: BareJid,
    connector: Option<Arc<dyn Connector>>,
    config: ClientConfig,
    session: Mutex<Option<SessionHandle>>,
    /// One connection attempt at a time (the supervisor, `connect`, `disconnect`).
    connecting: tokio::sync::Mutex<()>,
    state: watch::Sender<ConnectionState>,
    carbons: AtomicBool,
    events: broadcast::Sender<ClientEvent>,
    presence: Mutex<PresenceCache>,
    chat_states: Mutex<ChatStates>,
    /// The supervisor should keep the account connected (`start` / `reconnect_now` set it,
    /// `stop` / `disconnect` clear it).
    keep_online: watch::Sender<bool>,
    /// Wakes the supervisor to try at once (`reconnect_now`).
    wake: Arc<Notify>,
    supervisor: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The session whose connection dropped, kept for resumption by the next attempt.
    suspended: Mutex<Option<Suspended>>,
    /// Held while the outbox is flushed.
    flushing: Mutex<()>,
    /// When the last session was lost (Unix ms), until a new one reports the gap.
    lost_at: Mutex<Option<i64>>,
    stats: StatsCounters,
    /// One archive sync at a time.
    archive_sync: tokio::sync::Mutex<()>,
    sync_state: Mutex<SyncState>,
    unannounced: Mutex<archive::Unannounced>,
    transfers: Mutex<files::Transfers>,
    calls: Mutex<calls::Calls>,
    /// A wake (`Client::wake`) runs: stay lean (no downloads, transfers or backfill).
    waking: AtomicBool,
    push: push::PushState,
}

#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// Locks a mutex, recovering from poisoning (every critical section here leaves the data whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Client {
    pub(crate) fn new(
        store: Arc<Store>,
        secrets: Arc<dyn SecretStore>,
        account: Account,
        connector: Option<Arc<dyn Connector>>,
        config: ClientConfig,
    ) -> Result<Client, LinnetError> {
        let own = normalise_jid(&account.jid)?;
        let (events, _) = broadcast::channel(4096);
        let client = Client {
            inner: Arc::new(Inner {
                store,
                secrets,
                account,
                own,
                connector,
                config,
                session: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(()),
                state: watch::Sender::new(ConnectionState::Offline),
                carbons: AtomicBool::new(false),
                events,
                presence: Mutex::new(PresenceCache::default()),
                chat_states: Mutex::new(ChatStates::default()),
                keep_online: watch::Sender::new(false),
                wake: Arc::new(Notify::new()),
                supervisor: Mutex::new(None),
                suspended: Mutex::new(None),
                flushing: Mutex::new(()),
                lost_at: Mutex::new(None),
                stats: StatsCounters::default(),
                archive_sync: tokio::sync::Mutex::new(()),
                sync_state: Mutex::new(SyncState::Idle),
                unannounced: Mutex::new(archive::Unannounced::default()),
                transfers: Mutex::new(files::Transfers::default()),
                calls: Mutex::new(calls::Calls::default()),
                waking: AtomicBool::new(false),
                push: push::PushState::default(),
            }),
        };
        client.end_interrupted_calls();
        Ok(client)
    }

    pub fn account(&self) -> &Account {
        &self.inner.account
    }

    pub fn jid(&self) -> &BareJid {
        &self.inner.own
    }

    /// Events from now on. Subscribe before acting to miss nothing.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    pub fn connection_state(&self) -> ConnectionState {
        self.inner.state.borrow().clone()
    }

    fn set_state(&self, state: ConnectionState) {
        if matches!(
            state,
            ConnectionState::Offline | ConnectionState::Disconnected { .. }
        ) {
            // Everyone is offline (and nobody types) when we are.
            lock(&self.inner.presence).clear();
            lock(&self.inner.chat_states).clear();
        }
        self.inner.state.send_replace(state.clone());
        self.emit(ClientEvent::Connection(state));
    }

    /// A contact's presence (`jid` is a bare JID): the best of its available resources, or not
    /// available. Known only while connected.
    pub fn presence(&self, jid: &str) -> PresenceInfo {
        match normalise_jid(jid) {
            Ok(bare) => lock(&self.inner.presence).get(bare.as_str()),
            Err(_) => PresenceInfo::default(),
        }
    }

    /// The last chat state `peer` sent (XEP-0085), until a message from them ends it. A
    /// "composing" older than 30 s reads as "paused" (a `ChatState` event says so when it
    /// expires).
    pub fn chat_state(&self, peer: &str) -> Option<ChatState> {
        let peer = normalise_jid(peer).ok()?;
        lock(&self.inner.chat_states).get(peer.as_str())
    }

    /// A stored message by its id.
    pub fn message(&self, id: i64) -> Result<Option<Message>, LinnetError> {
        Ok(self.inner.store.message(id)?)
    }

    /// This account's preferences (defaults until set).
    pub fn preferences(&self) -> Result<Preferences, LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        let flag = |key: &str, default: bool| -> Result<bool, LinnetError> {
            Ok(match store.get_state(account, key)?.as_deref() {
                Some("true") => true,
                Some("false") => false,
                _ => default,
            })
        };
        let defaults = Preferences::default();
        Ok(Preferences {
            send_typing: flag(PREF_SEND_TYPING, defaults.send_typing)?,
            send_read_markers: flag(PREF_SEND_READ_MARKERS, defaults.send_read_markers)?,
            auto_download_max_bytes: store
                .get_state(account, PREF_AUTO_DOWNLOAD_MAX)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(defaults.auto_download_max_bytes),
            relay_only_calls: flag(PREF_RELAY_ONLY_CALLS, defaults.relay_only_calls)?,
            notification_preview: store
                .get_state(account, wake::PREF_NOTIFICATION_PREVIEW)?
                .as_deref()
                .and_then(NotificationPreview::parse)
                .unwrap_or(defaults.notification_preview),
        })
    }

    pub fn set_preferences(&self, preferences: Preferences) -> Result<(), LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        store.set_state(
            account,
            PREF_SEND_TYPING,
            &preferences.send_typing.to_string(),
        )?;
        store.set_state(
            account,
            PREF_SEND_READ_MARKERS,
            &preferences.send_read_markers.to_string(),
        )?;
        store.set_state(
            account,
            PREF_AUTO_DOWNLOAD_MAX,
            &preferences.auto_download_max_bytes.to_string(),
        )?;
        store.set_state(
            account,
            PREF_RELAY_ONLY_CALLS,
            &preferences.relay_only_calls.to_string(),
        )?;
        store.set_state(
            account,
            wake::PREF_NOTIFICATION_PREVIEW,
            preferences.notification_preview.as_str(),
        )?;
        Ok(())
    }

    fn emit(&self, event: ClientEvent) {
        let _ = self.inner.events.send(event);
    }

    fn session(&self) -> Option<SessionHandle> {
        self.inner
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|s| !s.is_closed())
    }

    fn require_session(&self) -> Result<SessionHandle, LinnetError> {
        self.session().ok_or(LinnetError::NotConnected)
    }

    /// What was negotiated on the current connection.
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.session().map(|s| (*s.info()).clone())
    }

    /// Since when (Unix ms) messages sent to this account may be missing here: a session was lost
    /// without resumption since then, and nothing has filled the gap yet (archive catch-up will).
    /// `None`: nothing known missing. Survives restarts.
    pub fn history_gap_since(&self) -> Result<Option<i64>, LinnetError> {
        Ok(self
            .inner
            .store
            .get_state(self.inner.account.id, HISTORY_GAP_SINCE)?
            .and_then(|v| v.parse().ok()))
    }

    /// How many sessions were started, resumed, and refused resumption.
    pub fn connection_stats(&self) -> ConnectionStats {
        let s = &self.inner.stats;
        ConnectionStats {
            fresh_sessions: s.fresh_sessions.load(Ordering::Relaxed),
            resumes: s.resumes.load(Ordering::Relaxed),
            resumes_refused: s.resumes_refused.load(Ordering::Relaxed),
            stanzas_resent: s.stanzas_resent.load(Ordering::Relaxed),
        }
    }

    fn connector(&self) -> Arc<dyn Connector> {
        if let Some(c) = &self.inner.connector {
            return c.clone();
        }
        let settings = &self.inner.account.settings;
        let target = settings.server_override.as_ref().map(|o| Target {
            host: o.host.clone(),
            port: o.port,
            mode: if settings.direct_tls {
                TlsMode::DirectTls
            } else {
                TlsMode::StartTls
            },
        });
        Arc::new(TcpConnector::new(target))
    }

    /// Connects and brings the session up: TLS, SASL, bind, roster, carbons, presence, then sends
    /// whatever waits in the outbox.
    pub async fn connect(&self) -> Result<(), LinnetError> {
        let _one_at_a_time = self.inner.connecting.lock().await;
        if self.session().is_some() {
            return Ok(());
        }
        self.set_state(ConnectionState::Connecting);
        match self.connect_inner().await {
            Ok(Established::Resumed) => {
                self.inner.stats.resumes.fetch_add(1, Ordering::Relaxed);
                // Nothing was missed: a later loss starts its own gap.
                lock(&self.inner.lost_at).take();
                self.set_state(ConnectionState::Online);
                // The session resent its own unacknowledged tail; what was queued while
                // offline goes out now.
                self.flush_outbox();
                self.wake_transfers();
                self.spawn_push_reconcile();
                // Nothing was missed on this session; an earlier catch-up may be unfinished.
                if self.has_archive_gap() {
                    self.spawn_archive_sync();
                }
                Ok(())
            }
            Ok(Established::Fresh) => {
                self.inner
                    .stats
                    .fresh_sessions
                    .fetch_add(1, Ordering::Relaxed);
                self.set_state(ConnectionState::Online);
                self.flush_outbox();
                self.forget_upload_service();
                self.wake_transfers();
                self.spawn_push_reconcile();
                if let Some(lost) = lock(&self.inner.lost_at).take() {
                    // The earliest open gap is the one to show (and to fill).
                    let since_ms = self.history_gap_since()?.map_or(lost, |g| g.min(lost));
                    self.inner.store.set_state(
                        self.inner.account.id,
                        HISTORY_GAP_SINCE,
                        &since_ms.to_string(),
                    )?;
                    self.emit(ClientEvent::HistoryGap { since_ms });
                }
                // After the initial presence: Prosody keeps offline messages from a session
                // that queried the archive before it was available.
                self.spawn_archive_sync();
                Ok(())
            }
            Err(e) => {
                self.set_state(ConnectionState::Disconnected {
                    reason: e.to_string(),
                    error: Some(e.clone()),
                });
                Err(e)
            }
        }
    }

    /// Keeps the FAST token the server just issued (or forgets the one it refused). The token
    /// leaves `info`, which is shared with the session and the doctor.
    fn store_fast_token(&self, key: &str, info: &mut SessionInfo) {
        let secrets = &self.inner.secrets;
        if let Some(new) = info.fast_token.take() {
            crate::logging::register_secret(new.token.expose());
            match secrets.set(key, &new.token) {
                Ok(()) => tracing::debug!(expiry = ?new.expiry, "stored a new FAST token"),
                Err(e) => tracing::warn!(error = %e, "cannot store the FAST token"),
            }
        } else if info.fast_token_rejected
            && let Err(e) = secrets.delete(key)
        {
            tracing::warn!(error = %e, "cannot delete the refused FAST token");
        }
    }

    async fn connect_inner(&self) -> Result<Established, LinnetError> {
        let inner = &self.inner;
        let account = &inner.account;
        let password = inner
            .secrets
            .get(&account.jid)?
            .ok_or_else(|| LinnetError::NoPassword {
                jid: account.jid.clone(),
            })?;
        crate::logging::register_secret(password.expose());
        // A FAST token (XEP-0484) from the last SASL2 login, if any: one round trip instead of
        // SCRAM. Loaded from the same secret store as the password, never logged.
        let fast_key = fast_token_key(&account.jid);
        let fast_token = match inner.secrets.get(&fast_key) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the stored FAST token; using the password");
                None
            }
        };
        if let Some(t) = &fast_token {
            crate::logging::register_secret(t.expose());
        }
        let creds = Credentials {
            jid: inner.own.clone(),
            password,
        };
        let mut opts = ConnectOptions {
            resource: account.resource.clone(),
            tls: TlsSettings {
                extra_ca_pem: account.settings.extra_ca_pem.clone(),
                only_extra_ca: false,
            },
            scram_seen: inner.store.scram_seen(account.id)?,
            fast_token,
            ..ConnectOptions::default()
        };
        if let Some(t) = inner.config.step_timeout {
            opts.step_timeout = t;
        }
        let mut suspended = lock(&inner.suspended).take();
        if !inner.config.resume_sessions
            && let Some(old) = suspended.take()
        {
            let _ = old.abandon(None);
        }
        opts.resume = suspended.as_ref().and_then(Suspended::request);
        let connector = self.connector();
        let (conn, mut info) = match negotiate::connect(connector.as_ref(), &creds, &opts).await {
            Ok(established) => established,
            Err(e) => {
                // Not refused, just not reached: the next attempt tries to resume again.
                *lock(&inner.suspended) = suspended;
                // A wrong password only comes after the token was refused (a FAST failure
                // falls back to the password): the token is dead too.
                if opts.fast_token.is_some()
                    && matches!(
                        e,
                        linnet_xmpp::error::ConnectError::Auth(
                            linnet_xmpp::error::AuthError::WrongCredentials
                        )
                    )
                {
                    let _ = inner.secrets.delete(&fast_key);
                }
                return Err(e.into());
            }
        };
        if info.used_scram() {
            inner.store.mark_scram_seen(account.id)?;
        }
        self.store_fast_token(&fast_key, &mut info);
        if let Some(old) = suspended {
            match info.resumption.clone() {
                Resumption::Resumed { h } => {
                    tracing::info!(
                        jid = %info.bound_jid,
                        unacknowledged = old.unacknowledged(),
                        server_received = h,
                        "session resumed"
                    );
                    inner
                        .stats
                        .stanzas_resent
                        .fetch_add(old.to_resend(h) as u64, Ordering::Relaxed);
                    old.resume(conn, info, h);
                    return Ok(Established::Resumed);
                }
                Resumption::Refused { h, .. } => {
                    inner.stats.resumes_refused.fetch_add(1, Ordering::Relaxed);
                    // What the server says it received is settled before the rest is resent.
                    self.on_acked(&old.abandon(h))?;
                }
                Resumption::NotAttempted => {
                    let _ = old.abandon(None);
                }
            }
        }
        // A new session: what the last one never confirmed goes out again (receivers
        // deduplicate on origin-id and body). Before the session is published, so that
        // nothing sent on it can be mistaken for unconfirmed, and these go out first.
        let requeued = inner.store.requeue_unacknowledged(account.id)?;
        if requeued > 0 {
            tracing::info!(requeued, "resending messages the server never acknowledged");
        }
        tracing::info!(
            jid = %info.bound_jid,
            tls = info.tls.version_name(),
            mechanism = info.authenticated_with(),
            sasl2 = info.sasl2,
            fast = info.fast,
            "connected"
        );
        let (handle, events) = session::start(conn, info, inner.config.session.clone());
        *inner.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle.clone());
        let me = self.clone();
        let served = handle.clone();
        tokio::spawn(async move { me.run_events(served, events).await });

        self.sync_roster(&handle).await?;
        let carbons_on = handle
            .iq(carbons::enable_request(handle.new_id()))
            .await
            .is_ok();
        inner.carbons.store(carbons_on, Ordering::SeqCst);
        handle.send(&presence::initial().into(), None)?;
        Ok(Established::Fresh)
    }

    async fn sync_roster(&self, handle: &SessionHandle) -> Result<(), LinnetError> {
        let inner = &self.inner;
        let cached = inner
            .store
            .account(inner.account.id)?
            .and_then(|a| a.roster_version);
        let payload = handle
            .iq(roster::fetch_request(handle.new_id(), cached.as_deref()))
            .await?;
        match roster::parse_fetch(payload) {
            Ok(RosterFetch::Full { version, items }) => {
                let items: Vec<RosterItem> = items.into_iter().map(store_item).collect();
                inner
                    .store
                    .replace_roster(inner.account.id, &items, version.as_deref())?;
                self.emit(ClientEvent::RosterChanged);
            }
            Ok(RosterFetch::Unchanged) => {}
            Err(e) => {
                return Err(LinnetError::Protocol {
                    reason: e.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Sends every queued message, oldest first. One flush at a time, so that messages leave
    /// in the order they were written, whoever triggers the flush.
    fn flush_outbox(&self) {
        if let Err(e) = self.flush_outbox_reporting(None) {
            tracing::warn!(error = %e, "cannot flush the outbox");
        }
    }

    /// `flush_outbox`, returning the local refusal of message `watched` (too large, ...).
    fn flush_outbox_reporting(&self, watched: Option<i64>) -> Result<(), LinnetError> {
        let _in_order = lock(&self.inner.flushing);
        let Some(handle) = self.session() else {
            return Ok(());
        };
        let mut refusal = Ok(());
        for m in self.inner.store.pending_outbox(self.inner.account.id)? {
            // A refused message is marked failed (with its reason) and the rest still go out.
            if let Err(e) = self.transmit(&handle, &m) {
                tracing::debug!(id = m.id, error = %e, "outbox message refused");
                if Some(m.id) == watched {
                    refusal = Err(e);
                }
            }
        }
        refusal
    }

    /// Sends one outbox message. A local refusal (too large, invalid address) marks it failed
    /// and is returned; a closed session leaves it queued for the next connection.
    fn transmit(&self, handle: &SessionHandle, m: &Message) -> Result<(), LinnetError> {
        let Ok(peer) = normalise_jid(&m.peer) else {
            self.fail(m.id, &m.peer, "invalid recipient address");
            return Err(LinnetError::InvalidAddress {
                input: m.peer.clone(),
            });
        };
        let id = m.xmpp_id.clone().unwrap_or_default();
        let stanza: Element = Self::attachment_stanza(&peer, &id, m)
            .unwrap_or_else(|| chat::message(&peer, &id, &m.body))
            .into();
        // Marked sent before the hand-over: on loopback a bounce can come back before `send`
        // returns, and it must find the message sent (then failed), not still queued.
        if !self.inner.store.mark_sent(m.id)? {
            return Ok(()); // no longer queued: handled elsewhere
        }
        self.emit(ClientEvent::MessageState {
            id: m.id,
            peer: m.peer.clone(),
            state: MessageState::Sent,
            reason: None,
        });
        match handle.send(&stanza, Some(m.id as u64)) {
            Ok(()) => Ok(()),
            Err(linnet_xmpp::session::SendError::Closed) => {
                // The session ended in between: back to the outbox for the next one.
                if self.inner.store.unsend(m.id)? {
                    self.emit(ClientEvent::MessageState {
                        id: m.id,
                        peer: m.peer.clone(),
                        state: MessageState::Queued,
                        reason: None,
                    });
                }
                Ok(())
            }
            Err(e) => {
                self.fail(m.id, &m.peer, &e.to_string());
                Err(e.into())
            }
        }
    }

    fn fail(&self, id: i64, peer: &str, reason: &str) {
        if self.inner.store.mark_failed(id, reason).unwrap_or(false) {
            self.emit(ClientEvent::MessageState {
                id,
                peer: peer.to_string(),
                state: MessageState::Failed,
                reason: Some(reason.to_string()),
            });
        }
    }

    /// Stores the message in the outbox, then sends it if connected. Returns the message's id;
    /// watch `MessageState` events (or `wait_for_state`) for its progress.
    pub fn send_message(&self, to: &str, body: &str) -> Result<i64, LinnetError> {
        let peer = normalise_jid(to)?;
        let body = body.trim();
        if body.is_empty() {
            return Err(LinnetError::EmptyMessage);
        }
        let xmpp_id =
            linnet_xmpp::negotiate::random_suffix() + &linnet_xmpp::negotiate::random_suffix();
        let new = NewMessage::outgoing(
            self.inner.account.id,
            &self.inner.account.jid,
            peer.as_str(),
            &xmpp_id,
            body,
            now_ms(),
        );
        let id = self.inner.store.insert_message(&new)?.id();
        let message = self.inner.store.message(id)?.ok_or(LinnetError::Storage {
            reason: "message vanished".into(),
        })?;
        // The local echo: a UI shows the message at once, then follows its state.
        self.emit(ClientEvent::Message(Box::new(message.clone())));
        // Through the outbox: anything older still queued (after a reconnect) goes first.
        self.flush_outbox_reporting(Some(id))?;
        Ok(id)
    }

    /// Puts a failed message back in the outbox and sends it if connected.
    pub fn retry(&self, id: i64) -> Result<(), LinnetError> {
        // An unknown id (or another account's message) is a mistake the caller must hear of.
        self.own_message(id)?;
        // A file whose upload failed or was cancelled: the upload goes again first.
        if self.retry_upload(id)? {
            return Ok(());
        }
        if self.inner.store.retry(id)? {
            self.flush_outbox();
        }
        Ok(())
    }

    /// Message `message_id` of this account.
    pub(crate) fn own_message(&self, message_id: i64) -> Result<Message, LinnetError> {
        self.inner
            .store
            .message(message_id)?
            .filter(|m| m.account_id == self.inner.account.id)
            .ok_or(LinnetError::NoSuchMessage { message_id })
    }

    /// Waits until message `id` reaches `state` or later (or fails).
    pub async fn wait_for_state(
        &self,
        id: i64,
        state: MessageState,
        timeout: Duration,
    ) -> Result<Message, LinnetError> {
        let mut events = self.subscribe();
        // Waiting for Failed means waiting for the failure itself (its rank says nothing).
        let reached = |m: &Message| {
            m.state == MessageState::Failed
                || (state != MessageState::Failed && rank(m.state) >= rank(state))
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = self.inner.store.message(id)?.ok_or(LinnetError::Storage {
                reason: format!("no message {id}"),
            })?;
            if reached(&m) {
                return Ok(m);
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => {
                    return Err(LinnetError::Timeout {
                        what: format!("message {id} to reach {}", state.as_str()),
                    });
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err(LinnetError::NotConnected);
                }
                Ok(_) => {}
            }
        }
    }

    pub fn chats(&self) -> Result<Vec<linnet_store::ChatSummary>, LinnetError> {
        Ok(self.inner.store.chat_list(self.inner.account.id)?)
    }

    /// Newest first.
    pub fn history(
        &self,
        with: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<Message>, LinnetError> {
        let peer = normalise_jid(with)?;
        Ok(self
            .inner
            .store
            .history(self.inner.account.id, peer.as_str(), limit, before)?)
    }

    pub fn roster(&self) -> Result<Vec<Contact>, LinnetError> {
        Ok(self.inner.store.contacts(self.inner.account.id)?)
    }

    pub fn subscription_requests(
        &self,
    ) -> Result<Vec<linnet_store::SubscriptionRequest>, LinnetError> {
        Ok(self
            .inner
            .store
            .subscription_requests(self.inner.account.id)?)
    }

    /// Adds a contact to the roster and asks to see their presence.
    pub async fn add_contact(&self, jid: &str, name: Option<&str>) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let jid = normalise_jid(jid)?;
        handle
            .iq(roster::set_request(
                handle.new_id(),
                jid.clone(),
                name.map(str::to_string),
                vec![],
            ))
            .await?;
        handle.send(&presence::subscribe(jid).into(), None)?;
        Ok(())
    }

    pub async fn remove_contact(&self, jid: &str) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let jid = normalise_jid(jid)?;
        handle
            .iq(roster::remove_request(handle.new_id(), jid.clone()))
            .await?;
        self.inner
            .store
            .remove_subscription_request(self.inner.account.id, jid.as_str())?;
        Ok(())
    }

    /// Approves a subscription request (they see our presence).
    pub fn approve(&self, jid: &str) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let jid = normalise_jid(jid)?;
        handle.send(&presence::approve(jid.clone()).into(), None)?;
        self.inner
            .store
            .remove_subscription_request(self.inner.account.id, jid.as_str())?;
        Ok(())
    }

    /// Denies a subscription request, or revokes one granted earlier.
    pub fn deny(&self, jid: &str) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let jid = normalise_jid(jid)?;
        handle.send(&presence::deny(jid.clone()).into(), None)?;
        self.inner
            .store
            .remove_subscription_request(self.inner.account.id, jid.as_str())?;
        Ok(())
    }

    /// Stops seeing a contact's presence (cancels our subscription).
    pub fn cancel_subscription(&self, jid: &str) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        handle.send(&presence::unsubscribe(normalise_jid(jid)?).into(), None)?;
        Ok(())
    }

    /// Marks the conversation read and tells the peer with a displayed marker (unless the
    /// preferences say not to).
    pub fn mark_read(&self, with: &str) -> Result<(), LinnetError> {
        let peer = normalise_jid(with)?;
        let newest = self
            .inner
            .store
            .mark_read(self.inner.account.id, peer.as_str())?;
        self.emit(ClientEvent::ConversationRead {
            peer: peer.to_string(),
        });
        if let (Some(m), Some(handle)) = (newest, self.session())
            && let Some(id) = m.xmpp_id.as_deref()
            && self.preferences()?.send_read_markers
        {
            handle.send(&chat::displayed(&peer, id, &handle.new_id()).into(), None)?;
        }
        Ok(())
    }

    /// Typing notifications (XEP-0085). Sends nothing (and succeeds) when the preferences turn
    /// them off.
    pub fn send_chat_state(&self, with: &str, state: ChatState) -> Result<(), LinnetError> {
        if !self.preferences()?.send_typing {
            return Ok(());
        }
        let handle = self.require_session()?;
        handle.send(&chat::chat_state(&normalise_jid(with)?, state).into(), None)?;
        Ok(())
    }

    /// Client state indication: the app is in the foreground (true) or background.
    pub fn set_active(&self, active: bool) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        if handle.info().csi_offered {
            handle.send_nonza(&if active {
                csi::active()
            } else {
                csi::inactive()
            })?;
        }
        Ok(())
    }

    pub async fn doctor(&self) -> Result<DoctorReport, LinnetError> {
        let handle = self.require_session()?;
        let facts = doctor::ClientFacts {
            carbons_enabled: self.inner.carbons.load(Ordering::SeqCst),
            stats: self.connection_stats(),
            history_gap_since: self.history_gap_since()?,
            archive_sync: self.archive_summary()?,
        };
        Ok(doctor::report(&handle, facts).await)
    }

    /// Sends unavailable presence and closes the stream. A supervisor started with `start` stays
    /// idle afterwards (until `start` or `reconnect_now`); an attempt under way finishes first.
    pub async fn disconnect(&self) {
        self.inner.keep_online.send_replace(false);
        let _one_at_a_time = self.inner.connecting.lock().await;
        let handle = self
            .inner
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        // A suspended session is not resumed after this (its unacknowledged messages stay in
        // the outbox for the next session), and nothing is left to close politely.
        let suspended = lock(&self.inner.suspended).take();
        if let Some(old) = suspended {
            let _ = old.abandon(None);
        } else if let Some(handle) = handle.filter(|h| !h.is_closed()) {
            let _ = handle.send(&presence::unavailable().into(), None);
            handle.close().await;
        }
        self.set_state(ConnectionState::Offline);
    }

    /// Handles the events of one session (`served`) until it ends.
    async fn run_events(
        self,
        served: SessionHandle,
        mut events: tokio::sync::mpsc::UnboundedReceiver<SessionEvent>,
    ) {
        while let Some(event) = events.recv().await {
            let result = match event {
                SessionEvent::Message(m) => self.on_message(&served, &m),
                SessionEvent::Presence(p) => self.on_presence(&p),
                SessionEvent::IqRequest(iq) => self.on_iq(&served, *iq),
                SessionEvent::Acked(tags) => self.on_acked(&tags),
                SessionEvent::Dropped { reason } => {
                    tracing::debug!(%reason, "dropped incoming stanza");
                    Ok(())
                }
                SessionEvent::Interrupted { reason, session } => {
                    tracing::info!(%reason, "connection lost; the session can be resumed");
                    lock(&self.inner.lost_at).get_or_insert_with(now_ms);
                    *lock(&self.inner.suspended) = Some(*session);
                    self.set_state(ConnectionState::Disconnected {
                        reason: reason.to_string(),
                        error: Some(LinnetError::Network {
                            reason: reason.to_string(),
                        }),
                    });
                    Ok(())
                }
                SessionEvent::Closed(reason) => {
                    tracing::info!(%reason, "disconnected");
                    let was_requested =
                        matches!(reason, linnet_xmpp::session::Disconnect::Requested);
                    // A session that was replaced already (by a newer one) changes nothing.
                    let was_current = {
                        let mut current = lock(&self.inner.session);
                        let same = current.as_ref().is_some_and(|h| h.same_session(&served));
                        if same {
                            *current = None;
                        }
                        same
                    };
                    if !was_requested && was_current {
                        lock(&self.inner.lost_at).get_or_insert_with(now_ms);
                        let error = match &reason {
                            Disconnect::Error(e) => LinnetError::from(e.clone()),
                            other => LinnetError::Network {
                                reason: other.to_string(),
                            },
                        };
                        self.set_state(ConnectionState::Disconnected {
                            reason: reason.to_string(),
                            error: Some(error),
                        });
                    }
                    break;
                }
            };
            match result {
                Ok(()) => {}
                // The session closed under us; its Closed event follows.
                Err(LinnetError::NotConnected) => {
                    tracing::debug!("stanza handled after the session closed")
                }
                Err(e) => tracing::warn!(error = %e, "handling an incoming stanza failed"),
            }
        }
    }

    fn on_acked(&self, tags: &[u64]) -> Result<(), LinnetError> {
        let ids: Vec<i64> = tags.iter().map(|&t| t as i64).collect();
        for (id, peer) in self.inner.store.mark_acked_many(&ids)? {
            self.emit(ClientEvent::MessageState {
                id,
                peer,
                state: MessageState::Acked,
                reason: None,
            });
        }
        Ok(())
    }

    /// Handles a message of session `handle`: also after that session was suspended or closed
    /// (the events it received before are still handled, in order; the server counted them as
    /// received, so dropping one here would lose it).
    fn on_message(
        &self,
        handle: &SessionHandle,
        message: &linnet_xmpp::xmpp_parsers::message::Message,
    ) -> Result<(), LinnetError> {
        let own = handle.info().bound_jid.clone();
        let event = match chat::classify(message, &own, self.inner.carbons.load(Ordering::SeqCst)) {
            Ok(e) => e,
            Err(reason) => {
                tracing::debug!(%reason, "message dropped");
                return Ok(());
            }
        };
        let account = self.inner.account.id;
        let peer = event.peer.to_string();
        if let Some(condition) = &event.error {
            if let Some(id) = event.id.as_deref()
                && let Some(row) = self.inner.store.outgoing_by_xmpp_id(account, &peer, id)?
            {
                self.fail(row, &peer, condition);
            }
            return Ok(());
        }
        if let Some(call_message) = event.jingle_message.clone() {
            return self.on_jingle_message(handle, &event, call_message);
        }
        self.apply_receipts_and_markers(&event)?;
        if event.direction == chat::Direction::Incoming {
            if let Some(state) = event.chat_state
                && event.body.is_none()
            {
                self.chat_state_arrived(&peer, state);
            } else if event.body.is_some() {
                // The message ends whatever they were doing (typing, mostly); its Message
                // event tells observers.
                lock(&self.inner.chat_states).message_arrived(&peer);
            }
        }
        if event.body.is_some() {
            self.store_chat_message(handle, &event)?;
        }
        Ok(())
    }

    /// What a message says about earlier ones: a receipt or a displayed marker from the peer
    /// moves our message on; our own displayed marker (from another device) means we read the
    /// conversation there.
    fn apply_receipts_and_markers(&self, event: &ChatEvent) -> Result<(), LinnetError> {
        let account = self.inner.account.id;
        let peer = event.peer.to_string();
        if event.direction == chat::Direction::Incoming {
            if let Some(id) = &event.receipt_for
                && let Some(row) = self.inner.store.mark_delivered(account, &peer, id)?
            {
                self.emit(ClientEvent::MessageState {
                    id: row,
                    peer: peer.clone(),
                    state: MessageState::Delivered,
                    reason: None,
                });
            }
            if let Some(id) = &event.displayed_for {
                for row in self.inner.store.mark_displayed(account, &peer, id)? {
                    self.emit(ClientEvent::MessageState {
                        id: row,
                        peer: peer.clone(),
                        state: MessageState::Displayed,
                        reason: None,
                    });
                }
            }
        } else if event.displayed_for.is_some() {
            self.inner.store.mark_read(account, &peer)?;
            self.emit(ClientEvent::ConversationRead { peer });
        }
        Ok(())
    }

    /// The row for a chat message with a body.
    fn new_message(&self, event: &ChatEvent, state: MessageState) -> NewMessage {
        NewMessage {
            account_id: self.inner.account.id,
            peer: event.peer.to_string(),
            direction: match event.direction {
                chat::Direction::Incoming => Direction::Incoming,
                chat::Direction::Outgoing => Direction::Outgoing,
            },
            sender: event.sender.to_bare().to_string(),
            sender_resource: event.sender.resource().map(|r| r.to_string()),
            xmpp_id: event.id.clone(),
            origin_id: event.origin_id.clone(),
            server_id: event.server_id.clone(),
            body: event.body.clone().unwrap_or_default(),
            timestamp: event.delay_ms.unwrap_or_else(now_ms),
            is_carbon: event.carbon,
            state,
            attachment: Self::attachment_for(event),
        }
    }

    fn store_chat_message(
        &self,
        handle: &SessionHandle,
        event: &ChatEvent,
    ) -> Result<(), LinnetError> {
        let account = self.inner.account.id;
        let peer = event.peer.to_string();
        let incoming = event.direction == chat::Direction::Incoming;
        let new = self.new_message(
            event,
            if incoming {
                MessageState::Received
            } else {
                MessageState::Acked
            },
        );
        let outcome = self.inner.store.insert_message(&new)?;
        // New here, or stored by the archive sync a moment before it arrived live.
        let announce =
            outcome.is_new() || (incoming && lock(&self.inner.unannounced).take(outcome.id()));
        if announce && let Some(m) = self.inner.store.message(outcome.id())? {
            self.apply_download_policy(&m)?;
            self.emit(ClientEvent::Message(Box::new(m)));
        }
        // Receipts reveal that we are online, so only contacts get them.
        if incoming
            && !event.carbon
            && event.receipt_requested
            && let Some(id) = &event.id
            && self.inner.store.contact(account, &peer)?.is_some()
        {
            handle.send(
                &chat::receipt(event.sender.clone(), id, &handle.new_id()).into(),
                None,
            )?;
        }
        Ok(())
    }

    /// Remembers a peer's chat state and reports it; "composing" expires after 30 s.
    fn chat_state_arrived(&self, peer: &str, state: ChatState) {
        let since = lock(&self.inner.chat_states).set(peer, state);
        self.emit(ClientEvent::ChatState {
            peer: peer.to_string(),
            state: state.name().to_string(),
        });
        if state == ChatState::Composing
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let peer = peer.to_string();
            runtime.spawn(async move {
                tokio::time::sleep(COMPOSING_EXPIRES).await;
                let Some(inner) = weak.upgrade() else { return };
                let expired = lock(&inner.chat_states).expire(&peer, since);
                if expired {
                    let _ = inner.events.send(ClientEvent::ChatState {
                        peer,
                        state: ChatState::Paused.name().to_string(),
                    });
                }
            });
        }
    }

    fn on_presence(
        &self,
        p: &linnet_xmpp::xmpp_parsers::presence::Presence,
    ) -> Result<(), LinnetError> {
        let Some(update) = presence::classify(p) else {
            return Ok(());
        };
        let account = self.inner.account.id;
        match update {
            PresenceUpdate::Available { from, show, status } => {
                lock(&self.inner.presence).available(
                    from.to_bare().as_str(),
                    from.resource().map(|r| r.as_str()).unwrap_or_default(),
                    show.clone(),
                    status.clone(),
                    p.priority.0,
                );
                self.emit(ClientEvent::Presence {
                    from: from.to_string(),
                    available: true,
                    show,
                    status,
                })
            }
            PresenceUpdate::Unavailable { from } => {
                lock(&self.inner.presence)
                    .unavailable(from.to_bare().as_str(), from.resource().map(|r| r.as_str()));
                self.emit(ClientEvent::Presence {
                    from: from.to_string(),
                    available: false,
                    show: None,
                    status: None,
                })
            }
            PresenceUpdate::SubscriptionRequest { from } => {
                if from == self.inner.own {
                    return Ok(());
                }
                if self
                    .inner
                    .store
                    .add_subscription_request(account, from.as_str())?
                {
                    self.emit(ClientEvent::SubscriptionRequest {
                        from: from.to_string(),
                    });
                }
            }
            PresenceUpdate::Subscribed { from } => self.emit(ClientEvent::Subscription {
                from: from.to_string(),
                kind: "approved".into(),
            }),
            PresenceUpdate::Unsubscribed { from } => self.emit(ClientEvent::Subscription {
                from: from.to_string(),
                kind: "denied".into(),
            }),
            PresenceUpdate::Unsubscribe { from } => {
                self.inner
                    .store
                    .remove_subscription_request(account, from.as_str())?;
                self.emit(ClientEvent::Subscription {
                    from: from.to_string(),
                    kind: "unsubscribed".into(),
                })
            }
            PresenceUpdate::Error { .. } => {}
        }
        Ok(())
    }

    fn on_iq(&self, handle: &SessionHandle, iq: Iq) -> Result<(), LinnetError> {
        let own = handle.info().bound_jid.clone();
        match roster::parse_push(&iq, &own) {
            Ok(Some(push)) => {
                self.inner.store.apply_roster_push(
                    self.inner.account.id,
                    &store_item(push.item),
                    push.version.as_deref(),
                )?;
                handle.send(
                    &Element::from(Iq::Result {
                        from: None,
                        to: None,
                        id: push.id,
                        payload: None,
                    }),
                    None,
                )?;
                self.emit(ClientEvent::RosterChanged);
                return Ok(());
            }
            Ok(None) => {}
            Err(e) => {
                // RFC 6121 §2.1.6: ignore a push that is not from our own account.
                tracing::warn!(error = %e, "roster push rejected");
                return Ok(());
            }
        }
        let answer = match &iq {
            Iq::Set {
                from, id, payload, ..
            } if payload.is("jingle", ns::JINGLE) => {
                self.on_jingle_iq(handle, from.clone(), id.clone(), payload)?
            }
            Iq::Get {
                from, id, payload, ..
            } if payload.is("query", ns::DISCO_INFO) => Iq::Result {
                from: None,
                to: from.clone(),
                id: id.clone(),
                payload: Some(linnet_xmpp::disco::client_info()),
            },
            Iq::Get { from, id, .. } | Iq::Set { from, id, .. } => Iq::Error {
                from: None,
                to: from.clone(),
                id: id.clone(),
                error: linnet_xmpp::xmpp_parsers::stanza_error::StanzaError::new(
                    linnet_xmpp::xmpp_parsers::stanza_error::ErrorType::Cancel,
                    linnet_xmpp::xmpp_parsers::stanza_error::DefinedCondition::ServiceUnavailable,
                    "en",
                    "not supported",
                ),
                payload: None,
            },
            _ => return Ok(()),
        };
        handle.send(&Element::from(answer), None)?;
        Ok(())
    }
}

fn store_item(item: linnet_xmpp::roster::RosterItem) -> RosterItem {
    RosterItem {
        jid: item.jid.to_string(),
        name: item.name,
        subscription: Subscription::parse(&item.subscription).unwrap_or(Subscription::None),
        ask: item.ask,
        groups: item.groups,
    }
}

/// Order of outgoing states, for "reached at least".
fn rank(state: MessageState) -> u8 {
    match state {
        MessageState::Queued => 0,
        MessageState::Sent => 1,
        MessageState::Acked => 2,
        MessageState::Delivered => 3,
        MessageState::Displayed => 4,
        MessageState::Failed | MessageState::Received => 0,
    }
}

/// Where an account's FAST token lives in the secret store (beside its password).
pub(crate) fn fast_token_key(jid: &str) -> String {
    format!("{jid}#fast")
}
