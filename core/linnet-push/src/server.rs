//! The app server: the component connection with its reconnect loop, and the stanza handler
//! ([`PushService`]) that registers devices and forwards publishes.
//!
//! # Answers to publishes
//! Users' servers drop a registration after non-`wait` errors (ejabberd at the first, Prosody
//! after 16), so the mapping matters:
//! - `result`: forwarded, queued behind the rate limit, or coalesced with a queued push;
//! - `wait/resource-constraint`: the push service is busy or unreachable (Transient,
//!   RateLimited), or we are saturated;
//! - `wait/internal-server-error`: our side failed (store error, provider Auth, Rejected,
//!   NotConfigured): the registration must survive our own mistakes;
//! - `cancel/item-not-found`: unknown node, or the push service said the token is gone (the
//!   registration is deleted first);
//! - `auth/forbidden`: wrong or missing secret, or a publisher other than the registration's
//!   domain (the RFC 6120 type of `forbidden`; both servers treat it as any non-wait error).
//!
//! Every IQ get or set addressed to the component gets an answer; unknown payloads get
//! `cancel/service-unavailable`.
//!
//! # Logs
//! Never a token, a secret, a node or a JID: a node appears as the first 6 hex characters of its
//! SHA-256 (`node_tag`).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use linnet_xmpp::adhoc::{self, CommandAction, CommandRequest};
use linnet_xmpp::component::{self, ComponentConfig, ComponentError, ComponentSender};
use linnet_xmpp::push;
use linnet_xmpp::{BareJid, Element, Jid, ns};
use rxml::xml_ncname as n;
use subtle::ConstantTimeEq as _;
use tokio::sync::{Semaphore, watch};

use crate::config::{Config, HashKey, StoreConfig};
use crate::http_client::node_tag;
use crate::provider::{ProviderError, PushProvider, Wakeup};
use crate::ratelimit::Deferred;
use crate::store::{Admission, Platform, Registration, RegistrationStore, StoreError};

pub const NODE_REGISTER_APNS: &str = "register-push-apns";
pub const NODE_REGISTER_FCM: &str = "register-push-fcm";
pub const NODE_UNREGISTER: &str = "unregister-push";
/// p2's names of the unregister command, accepted too.
const NODE_UNREGISTER_ALIASES: [&str; 2] = ["unregister-push-apns", "unregister-push-fcm"];

/// Longest token or device id accepted at registration.
const MAX_TOKEN_BYTES: usize = 4096;
const MAX_DEVICE_ID_BYTES: usize = 256;

const RECONNECT_MIN: Duration = Duration::from_millis(500);
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// How often a standby instance tries to take over the component address.
const STANDBY_POLL: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("registration store: {0}")]
    Store(#[from] StoreError),
    #[error("push provider setup: {0}")]
    Provider(#[from] crate::ProviderSetupError),
    #[error("component: {0}")]
    Component(#[from] ComponentError),
}

/// Counters for operators and the benchmark.
#[derive(Debug, Default)]
pub struct Stats {
    /// Wake-ups the push services accepted.
    pub forwarded: AtomicU64,
    /// Publishes answered without a push because one was already queued.
    pub coalesced: AtomicU64,
    /// Publishes queued behind the rate limit (sent later).
    pub deferred: AtomicU64,
    /// Registrations deleted because the push service said the token is gone.
    pub token_gone: AtomicU64,
    /// Publishes answered with `wait` (push service or store trouble).
    pub errors: AtomicU64,
    /// Publishes refused: unknown node, wrong secret, wrong domain, malformed.
    pub refused: AtomicU64,
    /// Successful registrations.
    pub registered: AtomicU64,
    /// Stanzas answered `wait/resource-constraint` because too many were in flight.
    pub busy: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub forwarded: u64,
    pub coalesced: u64,
    pub deferred: u64,
    pub token_gone: u64,
    pub errors: u64,
    pub refused: u64,
    pub registered: u64,
    pub busy: u64,
}

impl Stats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            forwarded: get(&self.forwarded),
            coalesced: get(&self.coalesced),
            deferred: get(&self.deferred),
            token_gone: get(&self.token_gone),
            errors: get(&self.errors),
            refused: get(&self.refused),
            registered: get(&self.registered),
            busy: get(&self.busy),
        }
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The push services configured on this server.
#[derive(Clone, Default)]
pub struct Providers {
    pub apns: Option<Arc<dyn PushProvider>>,
    pub fcm: Option<Arc<dyn PushProvider>>,
}

impl Providers {
    fn for_platform(&self, platform: Platform) -> Option<&Arc<dyn PushProvider>> {
        match platform {
            Platform::Apns { .. } => self.apns.as_ref(),
            Platform::Fcm => self.fcm.as_ref(),
        }
    }
}

/// An XMPP stanza error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StanzaError {
    kind: &'static str,
    condition: &'static str,
    text: Option<&'static str>,
}

const fn stanza_error(kind: &'static str, condition: &'static str) -> StanzaError {
    StanzaError {
        kind,
        condition,
        text: None,
    }
}

impl StanzaError {
    const fn with_text(mut self, text: &'static str) -> Self {
        self.text = Some(text);
        self
    }
}

const FORBIDDEN: StanzaError = stanza_error("auth", "forbidden");
const ITEM_NOT_FOUND: StanzaError = stanza_error("cancel", "item-not-found");
const BAD_REQUEST: StanzaError = stanza_error("modify", "bad-request");
const SERVICE_UNAVAILABLE: StanzaError = stanza_error("cancel", "service-unavailable");
const WAIT_BUSY: StanzaError = stanza_error("wait", "resource-constraint");
const WAIT_INTERNAL: StanzaError = stanza_error("wait", "internal-server-error");

/// The stanza handler: everything but the connection.
pub struct PushService {
    jid: String,
    store: Arc<dyn RegistrationStore>,
    providers: Providers,
    hash_key: HashKey,
    min_interval_ms: i64,
    stats: Arc<Stats>,
    deferred: Deferred,
}

impl std::fmt::Debug for PushService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushService")
            .field("jid", &self.jid)
            .field("min_interval_ms", &self.min_interval_ms)
            .finish_non_exhaustive()
    }
}

impl PushService {
    /// `jid`: the component's address, answered in registrations.
    pub fn new(
        jid: &str,
        store: Arc<dyn RegistrationStore>,
        providers: Providers,
        hash_key: HashKey,
        min_interval: Duration,
    ) -> Self {
        Self {
            jid: jid.to_string(),
            store,
            providers,
            hash_key,
            min_interval_ms: i64::try_from(min_interval.as_millis()).unwrap_or(i64::MAX),
            stats: Arc::new(Stats::default()),
            deferred: Deferred::new(),
        }
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    /// The pushes queued behind the rate limit.
    pub fn deferred(&self) -> &Deferred {
        &self.deferred
    }

    /// Handles one stanza addressed to the component; returns the answer to send, if any
    /// (IQ get and set always get one; results, errors, messages and presences none).
    pub async fn handle(&self, stanza: &Element) -> Option<Element> {
        if stanza.name() != "iq" {
            return None;
        }
        let kind = stanza.attr("type").unwrap_or_default();
        if kind != "get" && kind != "set" {
            return None;
        }
        let Some(from) = stanza.attr("from") else {
            tracing::debug!("an IQ without a sender: nobody to answer");
            return None;
        };
        let payload = stanza.children().next();
        let outcome = match (kind, payload) {
            ("get", Some(p)) if p.is("query", ns::DISCO_INFO) => self.disco_info(p),
            ("get", Some(p)) if p.is("query", ns::DISCO_ITEMS) => self.disco_items(p),
            ("get", Some(p)) if p.is("ping", ns::PING) => Ok(None),
            ("set", Some(p)) if p.is("pubsub", ns::PUBSUB) => {
                self.publish(from, p).await.map(|()| None)
            }
            ("set", Some(p)) if p.is("command", ns::COMMANDS) => {
                self.command(from, p).await.map(Some)
            }
            _ => Err(SERVICE_UNAVAILABLE),
        };
        Some(match outcome {
            Ok(payload) => result_reply(stanza, payload),
            Err(e) => error_reply(stanza, e),
        })
    }

    fn disco_info(&self, query: &Element) -> Result<Option<Element>, StanzaError> {
        let mut out = Element::builder("query", ns::DISCO_INFO);
        let node = query.attr("node");
        if let Some(node) = node {
            out = out.attr(n!("node").into(), node);
        }
        let (identity, features): ((&str, &str, &str), &[&str]) = match node {
            None => (
                ("pubsub", "push", "Linnet push"),
                &[ns::DISCO_INFO, ns::DISCO_ITEMS, ns::PUSH, ns::COMMANDS],
            ),
            Some(ns::COMMANDS) => (
                ("automation", "command-list", "Commands"),
                &[ns::DISCO_INFO, ns::DISCO_ITEMS],
            ),
            Some(n) if command_name(n).is_some() => (
                (
                    "automation",
                    "command-node",
                    command_name(n).unwrap_or_default(),
                ),
                &[ns::COMMANDS, ns::DATA_FORMS],
            ),
            Some(_) => return Err(ITEM_NOT_FOUND),
        };
        out = out.append(
            Element::builder("identity", ns::DISCO_INFO)
                .attr(n!("category").into(), identity.0)
                .attr(n!("type").into(), identity.1)
                .attr(n!("name").into(), identity.2)
                .build(),
        );
        for feature in features {
            out = out.append(
                Element::builder("feature", ns::DISCO_INFO)
                    .attr(n!("var").into(), *feature)
                    .build(),
            );
        }
        Ok(Some(out.build()))
    }

    fn disco_items(&self, query: &Element) -> Result<Option<Element>, StanzaError> {
        let mut out = Element::builder("query", ns::DISCO_ITEMS);
        match query.attr("node") {
            None => {}
            Some(ns::COMMANDS) => {
                out = out.attr(n!("node").into(), ns::COMMANDS);
                for node in [NODE_REGISTER_APNS, NODE_REGISTER_FCM, NODE_UNREGISTER] {
                    out = out.append(
                        Element::builder("item", ns::DISCO_ITEMS)
                            .attr(n!("jid").into(), self.jid.as_str())
                            .attr(n!("node").into(), node)
                            .attr(n!("name").into(), command_name(node).unwrap_or_default())
                            .build(),
                    );
                }
            }
            Some(_) => return Err(ITEM_NOT_FOUND),
        }
        Ok(Some(out.build()))
    }

    async fn publish(&self, from: &str, pubsub: &Element) -> Result<(), StanzaError> {
        let outcome = self.publish_inner(from, pubsub).await;
        if let Err(e) = outcome {
            if e.kind == "wait" {
                Stats::bump(&self.stats.errors);
            } else {
                Stats::bump(&self.stats.refused);
            }
        }
        outcome
    }

    async fn publish_inner(&self, from: &str, pubsub: &Element) -> Result<(), StanzaError> {
        let publish = push::parse_publish(pubsub).map_err(|e| {
            tracing::debug!(error = %e, "malformed publish");
            BAD_REQUEST
        })?;
        let tag = node_tag(&publish.node);
        // Both servers publish from their bare domain: anything else is not a user's server.
        let publisher = Jid::new(from)
            .ok()
            .filter(|j| j.node().is_none() && j.resource().is_none())
            .ok_or(FORBIDDEN.with_text("publishes come from the account's server"))?;
        let registration = match self.store.by_node(&publish.node).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                tracing::debug!(node = %tag, "publish for an unknown node");
                return Err(ITEM_NOT_FOUND);
            }
            Err(e) => {
                tracing::warn!(node = %tag, error = %e, "store lookup failed");
                return Err(WAIT_INTERNAL);
            }
        };
        if publisher.domain().as_str() != registration.domain {
            tracing::info!(node = %tag, "publish from another domain refused");
            return Err(FORBIDDEN.with_text("publishes come from the account's server"));
        }
        let given = publish
            .secret
            .as_deref()
            .map(secret_hash)
            .unwrap_or_default();
        let secret_ok: bool = given
            .as_bytes()
            .ct_eq(registration.secret_hash.as_bytes())
            .into();
        if !secret_ok {
            tracing::info!(node = %tag, "publish with a wrong or missing secret refused");
            return Err(FORBIDDEN.with_text("wrong secret"));
        }

        let admission = self
            .store
            .admit(&publish.node, now_ms(), self.min_interval_ms)
            .await
            .map_err(|e| {
                tracing::warn!(node = %tag, error = %e, "rate limit check failed");
                WAIT_INTERNAL
            })?;
        match admission {
            Admission::Now => {
                forward(
                    self.store.as_ref(),
                    &self.providers,
                    &self.stats,
                    &registration,
                )
                .await
            }
            Admission::After { delay_ms } => {
                Stats::bump(&self.stats.deferred);
                let delay = Duration::from_millis(u64::try_from(delay_ms).unwrap_or(0));
                tracing::debug!(node = %tag, delay_ms, "push queued behind the rate limit");
                let store = self.store.clone();
                let providers = self.providers.clone();
                let stats = self.stats.clone();
                let node = publish.node.clone();
                self.deferred.schedule(delay, async move {
                    // Read again: the device may have re-registered or been deleted meanwhile.
                    match store.by_node(&node).await {
                        Ok(Some(current)) => {
                            let _ = forward(store.as_ref(), &providers, &stats, &current).await;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            Stats::bump(&stats.errors);
                            tracing::warn!(node = %node_tag(&node), error = %e, "store lookup failed for a queued push");
                        }
                    }
                });
                Ok(())
            }
            Admission::Coalesced => {
                Stats::bump(&self.stats.coalesced);
                Ok(())
            }
            // Deleted between the lookup and the rate limit.
            Admission::UnknownNode => Err(ITEM_NOT_FOUND),
        }
    }

    async fn command(&self, from: &str, command: &Element) -> Result<Element, StanzaError> {
        let request = adhoc::parse_request(command).map_err(|e| {
            tracing::debug!(error = %e, "malformed command");
            BAD_REQUEST
        })?;
        if command_name(&request.node).is_none() {
            return Err(ITEM_NOT_FOUND);
        }
        match request.action {
            CommandAction::Execute | CommandAction::Complete => {}
            CommandAction::Cancel => return Ok(canceled(&request)),
            CommandAction::Next | CommandAction::Prev => {
                return Err(BAD_REQUEST.with_text("single-stage command"));
            }
        }
        let account = Jid::new(from)
            .ok()
            .filter(|j| j.node().is_some())
            .map(|j| j.to_bare())
            .ok_or(FORBIDDEN.with_text("commands are for accounts"))?;
        let device_id = request
            .fields
            .get("device-id")
            .or_else(|| request.fields.get("android-id"))
            .map(|d| d.trim())
            .filter(|d| !d.is_empty() && d.len() <= MAX_DEVICE_ID_BYTES)
            .ok_or(BAD_REQUEST.with_text("device-id is missing or too long"))?;
        let device_hash = device_hash(&self.hash_key, &account, device_id);

        if request.node == NODE_UNREGISTER
            || NODE_UNREGISTER_ALIASES.contains(&request.node.as_str())
        {
            let existed = self.store.delete_device(&device_hash).await.map_err(|e| {
                tracing::warn!(error = %e, "unregister failed");
                WAIT_INTERNAL
            })?;
            tracing::info!(existed, "device unregistered");
            return Ok(adhoc::completed(&request, &[]));
        }

        let platform = registration_platform(&request)?;
        if self.providers.for_platform(platform).is_none() {
            return Err(stanza_error("cancel", "feature-not-implemented")
                .with_text("this push service is not configured on this server"));
        }
        let token = request
            .fields
            .get("token")
            .map(|t| t.trim())
            .filter(|t| valid_token(t))
            .ok_or(BAD_REQUEST.with_text("token is missing or malformed"))?;

        let node = crate::hex(&rand::random::<[u8; 16]>());
        let secret = crate::hex(&rand::random::<[u8; 16]>());
        let registration = Registration {
            node: node.clone(),
            secret_hash: secret_hash(&secret),
            device_hash,
            domain: account.domain().as_str().to_string(),
            platform,
            token: token.to_string(),
            created_at_ms: now_ms(),
        };
        self.store.upsert(&registration).await.map_err(|e| {
            tracing::warn!(error = %e, "registration failed");
            WAIT_INTERNAL
        })?;
        Stats::bump(&self.stats.registered);
        tracing::info!(node = %node_tag(&node), ?platform, "device registered");
        Ok(adhoc::completed(
            &request,
            &[
                ("jid", self.jid.as_str()),
                ("node", node.as_str()),
                ("secret", secret.as_str()),
            ],
        ))
    }
}

/// Sends one wake-up and turns the outcome into the publish's answer. Shared by immediate and
/// queued pushes (a queued one has nobody to answer, but deletes a dead token all the same).
async fn forward(
    store: &dyn RegistrationStore,
    providers: &Providers,
    stats: &Stats,
    registration: &Registration,
) -> Result<(), StanzaError> {
    let tag = node_tag(&registration.node);
    let result = match providers.for_platform(registration.platform) {
        Some(provider) => {
            provider
                .send(&Wakeup {
                    platform: registration.platform,
                    token: registration.token.clone(),
                    node: registration.node.clone(),
                })
                .await
        }
        None => Err(ProviderError::NotConfigured),
    };
    match result {
        Ok(()) => {
            Stats::bump(&stats.forwarded);
            Ok(())
        }
        Err(ProviderError::TokenGone(reason)) => {
            tracing::info!(node = %tag, %reason, "token gone: registration deleted");
            Stats::bump(&stats.token_gone);
            if let Err(e) = store.delete_node(&registration.node).await {
                // Keep the registration answerable: the next publish tries again.
                tracing::warn!(node = %tag, error = %e, "deleting a dead registration failed");
                return Err(WAIT_INTERNAL);
            }
            Err(ITEM_NOT_FOUND)
        }
        Err(e @ (ProviderError::RateLimited | ProviderError::Transient(_))) => {
            tracing::info!(node = %tag, error = %e, "push service unavailable");
            Err(WAIT_BUSY)
        }
        Err(
            e
            @ (ProviderError::Auth(_) | ProviderError::Rejected(_) | ProviderError::NotConfigured),
        ) => {
            tracing::warn!(node = %tag, error = %e, "push not sent");
            Err(WAIT_INTERNAL)
        }
    }
}

fn registration_platform(request: &CommandRequest) -> Result<Platform, StanzaError> {
    if request.node == NODE_REGISTER_FCM {
        return Ok(Platform::Fcm);
    }
    // Lenient: our clients send the environment; others may not know it (production then).
    match request.fields.get("environment").map(|e| e.trim()) {
        None | Some("") | Some("production") => Ok(Platform::Apns { sandbox: false }),
        Some("sandbox") | Some("development") => Ok(Platform::Apns { sandbox: true }),
        Some(_) => Err(BAD_REQUEST.with_text("environment is sandbox or production")),
    }
}

fn command_name(node: &str) -> Option<&'static str> {
    match node {
        NODE_REGISTER_APNS => Some("Register an iOS device (APNs)"),
        NODE_REGISTER_FCM => Some("Register an Android device (FCM)"),
        n if n == NODE_UNREGISTER || NODE_UNREGISTER_ALIASES.contains(&n) => {
            Some("Unregister a device")
        }
        _ => None,
    }
}

/// Printable ASCII without spaces: APNs tokens are hex, FCM tokens base64url with ':' and '-'.
/// The push services judge the rest (a token they refuse deletes the registration).
fn valid_token(token: &str) -> bool {
    (8..=MAX_TOKEN_BYTES).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

fn canceled(request: &CommandRequest) -> Element {
    let session = request
        .session_id
        .clone()
        .unwrap_or_else(|| crate::hex(&rand::random::<[u8; 8]>()));
    Element::builder("command", ns::COMMANDS)
        .attr(n!("node").into(), request.node.as_str())
        .attr(n!("sessionid").into(), session)
        .attr(n!("status").into(), "canceled")
        .build()
}

/// SHA-256 of the secret, hex: what the store keeps.
fn secret_hash(secret: &str) -> String {
    crate::hex(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

/// HMAC-SHA256(server key, bare JID + "\n" + device id), hex.
fn device_hash(key: &HashKey, account: &BareJid, device_id: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key.0);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(account.as_str().as_bytes());
    ctx.update(b"\n");
    ctx.update(device_id.as_bytes());
    crate::hex(ctx.sign().as_ref())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An IQ answer to `request` (addresses swapped, same id). Built in `jabber:client`, so it goes
/// out without an xmlns and inherits the component stream's namespace.
fn reply_base(request: &Element, kind: &str) -> minidom::ElementBuilder {
    let mut iq = Element::builder("iq", ns::CLIENT).attr(n!("type").into(), kind);
    if let Some(id) = request.attr("id") {
        iq = iq.attr(n!("id").into(), id);
    }
    if let Some(to) = request.attr("to") {
        iq = iq.attr(n!("from").into(), to);
    }
    if let Some(from) = request.attr("from") {
        iq = iq.attr(n!("to").into(), from);
    }
    iq
}

fn result_reply(request: &Element, payload: Option<Element>) -> Element {
    let mut iq = reply_base(request, "result");
    if let Some(payload) = payload {
        iq = iq.append(payload);
    }
    iq.build()
}

fn error_reply(request: &Element, error: StanzaError) -> Element {
    let mut err = Element::builder("error", ns::CLIENT)
        .attr(n!("type").into(), error.kind)
        .append(Element::builder(error.condition, ns::STANZAS).build());
    if let Some(text) = error.text {
        err = err.append(Element::builder("text", ns::STANZAS).append(text).build());
    }
    reply_base(request, "error").append(err.build()).build()
}

/// Where the component link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Not connected: starting, or reconnecting after a failure.
    Disconnected,
    Connected,
    /// Another connection holds the address (Prosody allows one): waiting to take over.
    Standby,
}

/// The component connection around a [`PushService`]: connects, reconnects with backoff, and
/// waits as a standby while another instance holds the address (Prosody allows one).
pub struct PushServer {
    component: ComponentConfig,
    service: Arc<PushService>,
    max_in_flight: usize,
    link: watch::Sender<LinkState>,
}

impl std::fmt::Debug for PushServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushServer")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl PushServer {
    pub fn new(
        component: ComponentConfig,
        service: Arc<PushService>,
        max_in_flight: usize,
    ) -> Self {
        Self {
            component,
            service,
            max_in_flight: max_in_flight.max(1),
            link: watch::Sender::new(LinkState::Disconnected),
        }
    }

    /// Opens the store and builds the providers the configuration names.
    pub async fn from_config(config: Config) -> Result<Self, ServerError> {
        let store: Arc<dyn RegistrationStore> = match &config.store {
            StoreConfig::Sqlite(path) => {
                let path = path.clone();
                Arc::new(
                    tokio::task::spawn_blocking(move || {
                        crate::store_sqlite::SqliteStore::open(&path)
                    })
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))??,
                )
            }
            StoreConfig::Postgres(url) => {
                Arc::new(crate::store_postgres::PostgresStore::connect(url).await?)
            }
        };
        let mut providers = Providers::default();
        if let Some(apns) = config.apns {
            providers.apns = Some(Arc::new(crate::apns::ApnsProvider::new(apns)?));
        }
        if let Some(fcm) = config.fcm {
            providers.fcm = Some(Arc::new(crate::fcm::FcmProvider::new(fcm)?));
        }
        let service = PushService::new(
            &config.component.jid,
            store,
            providers,
            config.hash_key,
            config.limits.min_interval,
        );
        Ok(Self::new(
            config.component,
            Arc::new(service),
            config.limits.max_in_flight,
        ))
    }

    pub fn service(&self) -> &Arc<PushService> {
        &self.service
    }

    /// The state of the component link; changes as the link comes and goes.
    pub fn link_state(&self) -> watch::Receiver<LinkState> {
        self.link.subscribe()
    }

    /// Serves until `shutdown` completes, or until the server refuses our credentials.
    pub async fn serve_until(&self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        tokio::select! {
            result = self.serve() => result,
            () = shutdown => {
                self.link.send_replace(LinkState::Disconnected);
                Ok(())
            }
        }
    }

    /// Serves for ever; returns only when the server refuses our credentials.
    pub async fn serve(&self) -> Result<(), ServerError> {
        let mut backoff = RECONNECT_MIN;
        let mut standby_logged = false;
        loop {
            match component::connect(&self.component).await {
                Ok((stream, sender)) => {
                    tracing::info!(jid = %self.component.jid, "component connected");
                    standby_logged = false;
                    backoff = RECONNECT_MIN;
                    self.link.send_replace(LinkState::Connected);
                    let error = self.dispatch(stream, sender).await;
                    self.link.send_replace(LinkState::Disconnected);
                    tracing::warn!(error = %error, "component link lost, reconnecting");
                    tokio::time::sleep(RECONNECT_MIN).await;
                }
                Err(ComponentError::NotAuthorized) => {
                    tracing::error!(jid = %self.component.jid, "the server refused the component secret");
                    return Err(ComponentError::NotAuthorized.into());
                }
                Err(ComponentError::Conflict) => {
                    self.link.send_replace(LinkState::Standby);
                    if !standby_logged {
                        tracing::info!(jid = %self.component.jid, "another instance serves this address; standing by");
                        standby_logged = true;
                    }
                    tokio::time::sleep(STANDBY_POLL).await;
                }
                Err(e) => {
                    self.link.send_replace(LinkState::Disconnected);
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis(), "cannot connect the component");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                }
            }
        }
    }

    /// Reads stanzas and handles each on its own task, with at most `max_in_flight` at once.
    async fn dispatch(
        &self,
        mut stream: component::ComponentStream,
        sender: ComponentSender,
    ) -> ComponentError {
        let permits = Arc::new(Semaphore::new(self.max_in_flight));
        loop {
            let stanza = match stream.next().await {
                Ok(stanza) => stanza,
                Err(e) => return e,
            };
            match permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let service = self.service.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        if let Some(answer) = service.handle(&stanza).await {
                            // A lost link loses the answer; the user's server retries later.
                            let _ = sender.send(&answer).await;
                        }
                        drop(permit);
                    });
                }
                Err(_) => {
                    if is_request(&stanza) {
                        Stats::bump(&self.service.stats.busy);
                        let _ = sender.send(&error_reply(&stanza, WAIT_BUSY)).await;
                    }
                }
            }
        }
    }
}

fn is_request(stanza: &Element) -> bool {
    stanza.name() == "iq"
        && matches!(stanza.attr("type"), Some("get") | Some("set"))
        && stanza.attr("from").is_some()
}

/// Opens the store, builds the providers and serves for ever (see [`PushServer::serve`]).
pub async fn run(config: Config) -> Result<(), ServerError> {
    PushServer::from_config(config).await?.serve().await
}
