//! Push notifications (XEP-0357): the platform reports the user's permission, the device token
//! and the app server; the core registers, enables and disables by itself (linnet-sdk's
//! `client::push`). Conversions only.

use std::sync::Arc;

use linnet_sdk::LinnetError;

use crate::errors::TaskFailed;
use crate::runtime::on_runtime;

/// The push provider a device token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PushPlatform {
    /// Apple Push Notification service; `sandbox` for development builds.
    Apns { sandbox: bool },
    /// Firebase Cloud Messaging.
    Fcm,
}

impl From<PushPlatform> for linnet_sdk::PushPlatform {
    fn from(p: PushPlatform) -> Self {
        match p {
            PushPlatform::Apns { sandbox } => Self::Apns { sandbox },
            PushPlatform::Fcm => Self::Fcm,
        }
    }
}

impl From<linnet_sdk::PushPlatform> for PushPlatform {
    fn from(p: linnet_sdk::PushPlatform) -> Self {
        match p {
            linnet_sdk::PushPlatform::Apns { sandbox } => Self::Apns { sandbox },
            linnet_sdk::PushPlatform::Fcm => Self::Fcm,
        }
    }
}

/// Where push stands, for a settings screen and diagnostics. Holds no token, node or secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushStatus {
    pub permitted: bool,
    pub platform: PushPlatform,
    /// A device token is set (the token itself is not shown).
    pub has_token: bool,
    pub app_server: Option<String>,
    /// The app server registered this device.
    pub registered: bool,
    /// Push is enabled on the session connected now.
    pub enabled_on_current_session: bool,
    /// Why the last attempt failed, in words; null after a success.
    pub last_error: Option<String>,
}

impl From<linnet_sdk::PushStatus> for PushStatus {
    fn from(s: linnet_sdk::PushStatus) -> Self {
        Self {
            permitted: s.permitted,
            platform: s.platform.into(),
            has_token: s.has_token,
            app_server: s.app_server,
            registered: s.registered,
            enabled_on_current_session: s.enabled_on_current_session,
            last_error: s.last_error.map(|e| e.to_string()),
        }
    }
}

/// Push notifications.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PushError {
    /// The app server's address is not a valid JID.
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("the push app server is unavailable: {reason}")]
    AppServerUnavailable { reason: String },
    #[error("push was refused: {reason}")]
    Refused { reason: String },
    #[error("not connected")]
    NotConnected,
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<TaskFailed> for PushError {
    fn from(e: TaskFailed) -> Self {
        Self::Internal { reason: e.0 }
    }
}

impl From<LinnetError> for PushError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::InvalidAddress { input } => Self::InvalidAddress { input },
            LinnetError::PushAppServerUnavailable { reason } => {
                Self::AppServerUnavailable { reason }
            }
            LinnetError::PushRefused { reason } => Self::Refused { reason },
            LinnetError::NotConnected => Self::NotConnected,
            LinnetError::Storage { reason } | LinnetError::SecretStore { reason } => {
                Self::Storage { reason }
            }
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::Refused { .. }
            | LinnetError::Timeout { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }) => Self::Internal {
                reason: e.to_string(),
            },
        }
    }
}

/// Push notifications of one account. Call the setters whenever the platform's answer changes
/// (at every start is fine): online, each returns after push was enabled or disabled
/// accordingly; offline, the next connection does it. Failures of the push itself (the app
/// server unreachable or refusing) are in the returned status, not thrown.
#[derive(uniffi::Object)]
pub struct PushService(pub(crate) linnet_sdk::Client);

impl PushService {
    pub(crate) fn new(client: linnet_sdk::Client) -> Arc<Self> {
        Arc::new(Self(client))
    }
}

#[uniffi::export]
impl PushService {
    pub fn status(&self) -> Result<PushStatus, PushError> {
        Ok(self.0.push_status()?.into())
    }

    /// The user allowed (true) or withdrew (false) notifications.
    pub async fn set_permitted(&self, permitted: bool) -> Result<PushStatus, PushError> {
        let client = self.0.clone();
        on_runtime(async move { Ok(client.set_push_permitted(permitted).await?.into()) }).await
    }

    /// The platform issued a device token (or withdrew it: null).
    pub async fn set_token(
        &self,
        platform: PushPlatform,
        token: Option<String>,
    ) -> Result<PushStatus, PushError> {
        let client = self.0.clone();
        on_runtime(async move { Ok(client.set_push_token(platform.into(), token).await?.into()) })
            .await
    }

    /// The app server's JID (e.g. "push.example.org"), or null for none.
    pub async fn set_app_server(
        &self,
        app_server: Option<String>,
    ) -> Result<PushStatus, PushError> {
        let client = self.0.clone();
        on_runtime(async move { Ok(client.set_push_app_server(app_server).await?.into()) }).await
    }

    /// Signs this device out before the account is removed: push is disabled and unregistered
    /// while a stream is open (connecting if needed), then the client stops.
    pub async fn logout(&self) -> Result<(), PushError> {
        let client = self.0.clone();
        on_runtime(async move { Ok(client.logout().await?) }).await
    }
}
