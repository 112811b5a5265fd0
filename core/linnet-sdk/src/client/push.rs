//! Push notifications (XEP-0357) with Linnet's own app server (issue 8).
//!
//! The platform gives three inputs: whether the user allows notifications, the device token
//! (with its provider) and the app server's JID. They are stored per account; push is enabled
//! only while all three are there. One reconciler brings the server in line with them, after
//! every new or resumed session and after every change of a setting while online:
//!
//! 1. A stored registration that is no longer wanted (permission withdrawn, token or app server
//!    changed, secret lost) is undone: `<disable/>` at our own server, then `unregister-push` at
//!    its app server (best effort), then forgotten.
//! 2. While wanted and not registered: the `register-push-apns|fcm` ad-hoc command at the app
//!    server, whose answer (jid, node, secret) is kept: the node in the store, the secret in the
//!    secret store.
//! 3. While wanted: `<enable/>` with the secret as publish-option, on every session (ejabberd
//!    keys the registration to the session).
//!
//! Without permission nothing goes to the app server at all (only the undoing of an earlier
//! registration). Tokens, nodes and secrets are registered with the redacting logger before
//! anything could log them. Failures are typed, kept for `push_status`, reported as
//! `ClientEvent::Push`, and never end the session.

use std::collections::BTreeMap;
use std::sync::Mutex;

use linnet_store::{PushPlatformKind, StoredPushRegistration, StoredPushSettings};
use linnet_xmpp::adhoc::{self, CommandStatus};
use linnet_xmpp::secret::Secret;
use linnet_xmpp::session::{IqError, SessionHandle};
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::xmpp_parsers::stanza_error::DefinedCondition;
use linnet_xmpp::{Element, Jid};

use super::{Client, ClientEvent, lock, now_ms};
use crate::account::normalise_jid;
use crate::error::LinnetError;
use crate::logging::register_secret;

/// The push provider a device token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushPlatform {
    /// Apple Push Notification service; `sandbox` for development builds.
    Apns { sandbox: bool },
    /// Firebase Cloud Messaging.
    Fcm,
}

impl PushPlatform {
    fn kind(self) -> PushPlatformKind {
        match self {
            PushPlatform::Apns { sandbox: false } => PushPlatformKind::Apns,
            PushPlatform::Apns { sandbox: true } => PushPlatformKind::ApnsSandbox,
            PushPlatform::Fcm => PushPlatformKind::Fcm,
        }
    }

    fn from_kind(kind: PushPlatformKind) -> Self {
        match kind {
            PushPlatformKind::Apns => PushPlatform::Apns { sandbox: false },
            PushPlatformKind::ApnsSandbox => PushPlatform::Apns { sandbox: true },
            PushPlatformKind::Fcm => PushPlatform::Fcm,
        }
    }

    /// The spelling of the CLI and the store: `apns`, `apns-sandbox`, `fcm`.
    pub fn as_str(self) -> &'static str {
        self.kind().as_str()
    }

    pub fn parse(s: &str) -> Option<Self> {
        PushPlatformKind::parse(s).map(Self::from_kind)
    }
}

/// What the platform says about push for an account.
#[derive(Clone, PartialEq, Eq)]
pub struct PushSettings {
    /// The user allows notifications (the system permission, and the app's own switch).
    pub permitted: bool,
    /// The device token from APNs or FCM.
    pub token: Option<String>,
    pub platform: PushPlatform,
    /// The app server's JID (a linnet-push component, e.g. `push.example.org`).
    pub app_server: Option<String>,
}

impl Default for PushSettings {
    fn default() -> Self {
        Self {
            permitted: false,
            token: None,
            platform: PushPlatform::Fcm,
            app_server: None,
        }
    }
}

impl std::fmt::Debug for PushSettings {
    // The token never reaches a log, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSettings")
            .field("permitted", &self.permitted)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("platform", &self.platform)
            .field("app_server", &self.app_server)
            .finish()
    }
}

/// Where push stands, for a settings screen and diagnostics. Holds no token, node or secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushStatus {
    pub permitted: bool,
    pub platform: PushPlatform,
    /// A device token is set (the token itself is not shown).
    pub has_token: bool,
    pub app_server: Option<String>,
    /// The app server gave this device a registration (kept across sessions).
    pub registered: bool,
    /// Push was enabled on the session that is connected now.
    pub enabled_on_current_session: bool,
    /// Why the last attempt failed; `None` after a success.
    pub last_error: Option<LinnetError>,
}

/// The push part of a client's state.
#[derive(Default)]
pub(super) struct PushState {
    /// One reconciliation at a time: their stanzas must not interleave.
    reconciling: tokio::sync::Mutex<()>,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    /// The session push was last enabled on.
    enabled_on: Option<SessionHandle>,
    last_error: Option<LinnetError>,
}

/// Where an account's push secret lives in the secret store (beside its password).
pub(crate) fn push_secret_key(jid: &str) -> String {
    format!("{jid}#push")
}

/// What the reconciler should aim for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// Follow the settings.
    Settings,
    /// Undo any registration whatever the settings (logout).
    Off,
}

impl Client {
    /// The account's push settings (defaults until the platform sets them).
    pub fn push_settings(&self) -> Result<PushSettings, LinnetError> {
        Ok(self
            .stored_push_settings()?
            .map(|s| PushSettings {
                permitted: s.permitted,
                token: s.token,
                platform: PushPlatform::from_kind(s.platform),
                app_server: s.app_server,
            })
            .unwrap_or_default())
    }

    /// Where push stands (no token, node or secret in it).
    pub fn push_status(&self) -> Result<PushStatus, LinnetError> {
        let settings = self.push_settings()?;
        let registered = self
            .inner
            .store
            .push_registration(self.inner.account.id)?
            .is_some();
        let progress = lock(&self.inner.push.progress);
        let current = self.session();
        let enabled_on_current_session = match (&progress.enabled_on, &current) {
            (Some(enabled), Some(current)) => enabled.same_session(current),
            _ => false,
        };
        Ok(PushStatus {
            permitted: settings.permitted,
            platform: settings.platform,
            has_token: settings.token.is_some(),
            app_server: settings.app_server,
            registered,
            enabled_on_current_session,
            last_error: progress.last_error.clone(),
        })
    }

    /// The user allowed (true) or withdrew (false) notifications. Online, push is enabled or
    /// disabled before this returns; the status says how that went.
    pub async fn set_push_permitted(&self, permitted: bool) -> Result<PushStatus, LinnetError> {
        let settings = PushSettings {
            permitted,
            ..self.push_settings()?
        };
        self.set_push(settings).await
    }

    /// The platform issued a device token (or withdrew it: `None`).
    pub async fn set_push_token(
        &self,
        platform: PushPlatform,
        token: Option<String>,
    ) -> Result<PushStatus, LinnetError> {
        let settings = PushSettings {
            platform,
            token,
            ..self.push_settings()?
        };
        self.set_push(settings).await
    }

    /// The app server to register with (a JID such as `push.example.org`), or none.
    pub async fn set_push_app_server(
        &self,
        app_server: Option<String>,
    ) -> Result<PushStatus, LinnetError> {
        let settings = PushSettings {
            app_server,
            ..self.push_settings()?
        };
        self.set_push(settings).await
    }

    /// Replaces all push settings at once, then reconciles if online.
    pub async fn set_push(&self, settings: PushSettings) -> Result<PushStatus, LinnetError> {
        let app_server = settings
            .app_server
            .as_deref()
            .map(|s| normalise_jid(s).map(|j| j.to_string()))
            .transpose()?;
        let token = settings
            .token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Some(t) = &token {
            register_secret(t);
        }
        let device_id = match self.stored_push_settings()? {
            Some(old) => old.device_id,
            None => new_device_id(),
        };
        self.inner.store.save_push_settings(
            self.inner.account.id,
            &StoredPushSettings {
                permitted: settings.permitted,
                platform: settings.platform.kind(),
                token,
                app_server,
                device_id,
            },
        )?;
        if self.session().is_some() {
            Ok(self.reconcile_push().await)
        } else {
            self.push_status()
        }
    }

    /// Signs this device out: push is disabled at the server and unregistered at the app
    /// server while the stream is still open (connecting first if a registration is left),
    /// then the client stops. The settings stay; the next connection would enable push again,
    /// so remove the account (or withdraw permission) afterwards.
    pub async fn logout(&self) -> Result<(), LinnetError> {
        let registered = self
            .inner
            .store
            .push_registration(self.inner.account.id)?
            .is_some();
        let mut outcome = Ok(());
        if registered {
            if self.session().is_none()
                && let Err(e) = self.connect().await
            {
                outcome = Err(e);
            }
            if self.session().is_some() {
                self.reconcile_push_to(Goal::Off).await;
            }
        }
        self.stop().await;
        outcome
    }

    /// Reconciles in the background (after a session came up).
    pub(super) fn spawn_push_reconcile(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            me.reconcile_push().await;
        });
    }

    /// Brings the server in line with the settings (see the module docs). Returns the status
    /// and reports it as an event.
    pub async fn reconcile_push(&self) -> PushStatus {
        self.reconcile_push_to(Goal::Settings).await
    }

    async fn reconcile_push_to(&self, goal: Goal) -> PushStatus {
        let outcome = {
            let _one_at_a_time = self.inner.push.reconciling.lock().await;
            self.reconcile_locked(goal).await
        };
        {
            let mut progress = lock(&self.inner.push.progress);
            match &outcome {
                Ok(enabled_on) => {
                    progress.enabled_on = enabled_on.clone();
                    progress.last_error = None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "push not in effect");
                    progress.enabled_on = None;
                    progress.last_error = Some(e.clone());
                }
            }
        }
        let status = self.push_status().unwrap_or_else(|e| PushStatus {
            permitted: false,
            platform: PushPlatform::Fcm,
            has_token: false,
            app_server: None,
            registered: false,
            enabled_on_current_session: false,
            last_error: Some(e),
        });
        self.emit(ClientEvent::Push(status.clone()));
        status
    }

    /// The reconciliation proper; returns the session push is now enabled on, if any.
    async fn reconcile_locked(&self, goal: Goal) -> Result<Option<SessionHandle>, LinnetError> {
        let handle = self.require_session()?;
        let account = self.inner.account.id;
        let settings = self.stored_push_settings()?;
        let wanted = match (goal, &settings) {
            (Goal::Settings, Some(s)) => wanted(s),
            _ => None,
        };
        let mut secret = None;
        if let Some(registration) = self.inner.store.push_registration(account)? {
            register_secret(&registration.node);
            register_secret(&registration.token);
            secret = self.stored_push_secret();
            let still_wanted = wanted.as_ref().is_some_and(|w| w.matches(&registration));
            if !still_wanted || secret.is_none() {
                let device_id = settings.as_ref().map(|s| s.device_id.as_str());
                self.undo_registration(&handle, &registration, device_id)
                    .await?;
                secret = None;
            }
        }
        let Some(wanted) = wanted else {
            return Ok(None);
        };
        let (registration, secret) = match (self.inner.store.push_registration(account)?, secret) {
            (Some(registration), Some(secret)) => (registration, secret),
            _ => self.register(&handle, &wanted).await?,
        };
        let service = parse_jid(&registration.service_jid)?;
        handle
            .iq(enable_iq(
                handle.new_id(),
                &service,
                &registration.node,
                secret.expose(),
            ))
            .await
            .map_err(|e| refused_by_own_server("enable", e))?;
        tracing::info!(
            node = %node_tag(&registration.node),
            app_server = %registration.app_server,
            "push enabled"
        );
        Ok(Some(handle))
    }

    /// Registers this device at the app server; stores and returns what it answered.
    async fn register(
        &self,
        handle: &SessionHandle,
        wanted: &Wanted,
    ) -> Result<(StoredPushRegistration, Secret), LinnetError> {
        let app_server = parse_jid(&wanted.app_server)?;
        let (command, environment) = match wanted.platform {
            PushPlatform::Apns { sandbox } => (
                "register-push-apns",
                Some(if sandbox { "sandbox" } else { "production" }),
            ),
            PushPlatform::Fcm => ("register-push-fcm", None),
        };
        let mut fields = vec![
            ("token", wanted.token.as_str()),
            ("device-id", wanted.device_id.as_str()),
        ];
        if let Some(environment) = environment {
            fields.push(("environment", environment));
        }
        let answer = handle
            .iq(command_iq(handle.new_id(), &app_server, command, &fields))
            .await
            .map_err(app_server_error)?;
        let mut result = command_result(answer.as_ref())?;
        let node = result
            .remove("node")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| refused("the app server's answer has no node"))?;
        let secret = result
            .remove("secret")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| refused("the app server's answer has no secret"))?;
        register_secret(&node);
        register_secret(&secret);
        let service_jid = match result.remove("jid").filter(|j| !j.is_empty()) {
            Some(jid) => parse_jid(&jid)?.to_string(),
            None => wanted.app_server.clone(),
        };
        let registration = StoredPushRegistration {
            app_server: wanted.app_server.clone(),
            service_jid,
            node,
            platform: wanted.platform.kind(),
            token: wanted.token.clone(),
            registered_at: now_ms(),
        };
        let secret = Secret::new(secret);
        self.inner
            .secrets
            .set(&push_secret_key(&self.inner.account.jid), &secret)?;
        self.inner
            .store
            .save_push_registration(self.inner.account.id, &registration)?;
        tracing::info!(
            node = %node_tag(&registration.node),
            app_server = %registration.app_server,
            "registered for push"
        );
        Ok((registration, secret))
    }

    /// Disables push for `registration` at our server, unregisters the device at its app
    /// server (best effort), and forgets it.
    async fn undo_registration(
        &self,
        handle: &SessionHandle,
        registration: &StoredPushRegistration,
        device_id: Option<&str>,
    ) -> Result<(), LinnetError> {
        let service = parse_jid(&registration.service_jid)?;
        match handle
            .iq(disable_iq(handle.new_id(), &service, &registration.node))
            .await
        {
            Ok(_) => {}
            // Not enabled on this session (ejabberd keys registrations to sessions): nothing
            // to disable there, and nothing else to do about it.
            Err(IqError::Error(e)) if e.defined_condition == DefinedCondition::ItemNotFound => {}
            Err(e) => return Err(refused_by_own_server("disable", e)),
        }
        if let Some(device_id) = device_id {
            let app_server = parse_jid(&registration.app_server)?;
            let unregister = handle
                .iq(command_iq(
                    handle.new_id(),
                    &app_server,
                    "unregister-push",
                    &[("device-id", device_id)],
                ))
                .await;
            match unregister.map_err(app_server_error) {
                Ok(answer) => {
                    if let Err(e) = command_result(answer.as_ref()) {
                        tracing::warn!(error = %e, "the app server did not unregister this device");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot unregister this device at the app server")
                }
            }
        }
        self.inner
            .store
            .delete_push_registration(self.inner.account.id)?;
        if let Err(e) = self
            .inner
            .secrets
            .delete(&push_secret_key(&self.inner.account.jid))
        {
            tracing::warn!(error = %e, "cannot delete the push secret");
        }
        tracing::info!(node = %node_tag(&registration.node), "push disabled");
        Ok(())
    }

    fn stored_push_settings(&self) -> Result<Option<StoredPushSettings>, LinnetError> {
        let settings = self.inner.store.push_settings(self.inner.account.id)?;
        if let Some(s) = &settings {
            if let Some(t) = &s.token {
                register_secret(t);
            }
            register_secret(&s.device_id);
        }
        Ok(settings)
    }

    fn stored_push_secret(&self) -> Option<Secret> {
        match self
            .inner
            .secrets
            .get(&push_secret_key(&self.inner.account.jid))
        {
            Ok(secret) => {
                if let Some(s) = &secret {
                    register_secret(s.expose());
                }
                secret
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the push secret; registering again");
                None
            }
        }
    }
}

/// A registration the settings call for.
struct Wanted {
    token: String,
    platform: PushPlatform,
    app_server: String,
    device_id: String,
}

impl Wanted {
    /// Whether `registration` was made for exactly this.
    fn matches(&self, registration: &StoredPushRegistration) -> bool {
        registration.token == self.token
            && registration.app_server == self.app_server
            && registration.platform == self.platform.kind()
    }
}

/// Push is wanted only with permission, a token and an app server.
fn wanted(settings: &StoredPushSettings) -> Option<Wanted> {
    if !settings.permitted {
        return None;
    }
    Some(Wanted {
        token: settings.token.clone()?,
        platform: PushPlatform::from_kind(settings.platform),
        app_server: settings.app_server.clone()?,
        device_id: settings.device_id.clone(),
    })
}

/// 128 random bits, hex: this install's name for the device at the app server.
fn new_device_id() -> String {
    use rand::Rng as _;
    let bits: u128 = rand::rng().random();
    format!("{bits:032x}")
}

/// What logs may show of a node: enough to tell two apart, nothing to use.
fn node_tag(node: &str) -> String {
    let hash = node.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{:06x}", hash >> 40)
}

fn parse_jid(s: &str) -> Result<Jid, LinnetError> {
    Jid::new(s).map_err(|_| LinnetError::InvalidAddress {
        input: s.to_string(),
    })
}

fn refused(reason: &str) -> LinnetError {
    LinnetError::PushRefused {
        reason: reason.to_string(),
    }
}

/// An error from the app server: unreachable (or not there) vs refusing.
fn app_server_error(e: IqError) -> LinnetError {
    match e {
        IqError::Error(err) => match err.defined_condition {
            DefinedCondition::ServiceUnavailable
            | DefinedCondition::RemoteServerNotFound
            | DefinedCondition::RemoteServerTimeout
            | DefinedCondition::RecipientUnavailable
            | DefinedCondition::ItemNotFound
            | DefinedCondition::InternalServerError
            | DefinedCondition::ResourceConstraint => LinnetError::PushAppServerUnavailable {
                reason: condition_name(&err.defined_condition),
            },
            other => LinnetError::PushRefused {
                reason: condition_name(&other),
            },
        },
        IqError::Timeout(d) => LinnetError::PushAppServerUnavailable {
            reason: format!("no answer within {d:?}"),
        },
        other => other.into(),
    }
}

/// An error from our own server to enable or disable.
fn refused_by_own_server(what: &str, e: IqError) -> LinnetError {
    match e {
        IqError::Error(err) => LinnetError::PushRefused {
            reason: format!(
                "the server refused to {what} push: {}",
                condition_name(&err.defined_condition)
            ),
        },
        other => other.into(),
    }
}

fn condition_name(condition: &DefinedCondition) -> String {
    // The element name (`service-unavailable`), as XMPP spells it.
    let element: Element = condition.clone().into();
    element.name().to_string()
}

// ---------------------------------------------------------------------------------------------
// The wire forms (linnet_xmpp::adhoc and linnet_xmpp::push) in IQs.

/// An ad-hoc command (XEP-0050) executed in one step with a submitted form.
fn command_iq(id: String, to: &Jid, node: &str, fields: &[(&str, &str)]) -> Iq {
    Iq::Set {
        from: None,
        to: Some(to.clone()),
        id,
        payload: adhoc::execute(node, fields),
    }
}

/// The fields of a completed command's result form.
fn command_result(payload: Option<&Element>) -> Result<BTreeMap<String, String>, LinnetError> {
    let payload = payload.ok_or_else(|| refused("the app server's answer is empty"))?;
    let response = adhoc::parse_response(payload).map_err(|e| LinnetError::PushRefused {
        reason: format!("the app server's answer: {e}"),
    })?;
    if response.status != CommandStatus::Completed {
        return Err(refused("the app server did not complete the command"));
    }
    Ok(response.fields)
}

/// `<enable/>` (XEP-0357) at our own account, with the secret as publish-option.
fn enable_iq(id: String, service: &Jid, node: &str, secret: &str) -> Iq {
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: linnet_xmpp::push::enable(service, node, secret),
    }
}

/// `<disable/>` of one node.
fn disable_iq(id: String, service: &Jid, node: &str) -> Iq {
    Iq::Set {
        from: None,
        to: None,
        id,
        payload: linnet_xmpp::push::disable(service, Some(node)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn platform_spellings_round_trip() {
        for p in [
            PushPlatform::Apns { sandbox: false },
            PushPlatform::Apns { sandbox: true },
            PushPlatform::Fcm,
        ] {
            assert_eq!(PushPlatform::parse(p.as_str()), Some(p));
        }
        assert_eq!(PushPlatform::parse("gcm"), None);
    }

    #[test]
    fn push_is_wanted_only_with_permission_token_and_app_server() {
        let full = StoredPushSettings {
            permitted: true,
            platform: PushPlatformKind::Fcm,
            token: Some("tok".into()),
            app_server: Some("push.example.org".into()),
            device_id: "d".into(),
        };
        assert!(wanted(&full).is_some());
        for partial in [
            StoredPushSettings {
                permitted: false,
                ..full.clone()
            },
            StoredPushSettings {
                token: None,
                ..full.clone()
            },
            StoredPushSettings {
                app_server: None,
                ..full.clone()
            },
        ] {
            assert!(wanted(&partial).is_none());
        }
    }

    #[test]
    fn a_registration_matches_only_the_same_token_server_and_platform() {
        let w = Wanted {
            token: "t1".into(),
            platform: PushPlatform::Apns { sandbox: true },
            app_server: "push.example.org".into(),
            device_id: "d".into(),
        };
        let r = StoredPushRegistration {
            app_server: "push.example.org".into(),
            service_jid: "push.example.org".into(),
            node: "n".into(),
            platform: PushPlatformKind::ApnsSandbox,
            token: "t1".into(),
            registered_at: 0,
        };
        assert!(w.matches(&r));
        assert!(!w.matches(&StoredPushRegistration {
            token: "t2".into(),
            ..r.clone()
        }));
        assert!(!w.matches(&StoredPushRegistration {
            app_server: "push2.example.org".into(),
            ..r.clone()
        }));
        assert!(!w.matches(&StoredPushRegistration {
            platform: PushPlatformKind::Apns,
            ..r
        }));
    }

    #[test]
    fn settings_debug_hides_the_token() {
        let s = PushSettings {
            token: Some("canary-token-1234".into()),
            ..PushSettings::default()
        };
        assert!(!format!("{s:?}").contains("canary"));
    }

    #[test]
    fn device_ids_are_128_bit_hex_and_differ() {
        let a = new_device_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_device_id());
    }

    #[test]
    fn node_tags_are_short_and_stable() {
        assert_eq!(node_tag("abc"), node_tag("abc"));
        assert_ne!(node_tag("abc"), node_tag("abd"));
        assert_eq!(node_tag("abc").len(), 6);
    }

    #[test]
    fn enable_carries_the_secret_as_publish_option() {
        let service = Jid::new("push.example.org").unwrap();
        let Iq::Set { to, payload, .. } = enable_iq("1".into(), &service, "n1", "s1") else {
            panic!("not a set");
        };
        assert_eq!(to, None);
        assert!(payload.is("enable", "urn:xmpp:push:0"));
        assert_eq!(payload.attr("jid"), Some("push.example.org"));
        assert_eq!(payload.attr("node"), Some("n1"));
        let text = String::from(&payload);
        assert!(text.contains("http://jabber.org/protocol/pubsub#publish-options"));
        assert!(text.contains("s1"));
    }

    #[test]
    fn command_results_give_their_fields() {
        let answer: Element = "<command xmlns='http://jabber.org/protocol/commands' \
             node='register-push-fcm' status='completed'><x xmlns='jabber:x:data' type='result'>\
             <field var='jid'><value>push.example.org</value></field>\
             <field var='node'><value>n1</value></field>\
             <field var='secret'><value>s1</value></field></x></command>"
            .parse()
            .unwrap();
        let fields = command_result(Some(&answer)).unwrap();
        assert_eq!(fields.get("node").map(String::as_str), Some("n1"));
        assert_eq!(fields.get("secret").map(String::as_str), Some("s1"));
        let executing: Element = "<command xmlns='http://jabber.org/protocol/commands' \
             node='x' status='executing'/>"
            .parse()
            .unwrap();
        assert!(matches!(
            command_result(Some(&executing)),
            Err(LinnetError::PushRefused { .. })
        ));
        assert!(command_result(None).is_err());
    }
}
