//! The interface between the publish handler and the push services (APNs, FCM).

use async_trait::async_trait;

use crate::store::Platform;

/// One content-free wake-up for one device.
#[derive(Clone, PartialEq, Eq)]
pub struct Wakeup {
    pub platform: Platform,
    pub token: String,
    /// The registration's node: the app maps it back to the account to sync. Nothing else
    /// about the account, the sender or the message travels.
    pub node: String,
}

impl std::fmt::Debug for Wakeup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wakeup")
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

/// Why a push service did not take a wake-up. The publish handler answers the user's server
/// from this: `TokenGone` deletes the registration (cancel/item-not-found); everything else
/// answers `wait`, so that servers keep the registration (ejabberd drops one at the first
/// non-wait error).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The token is dead for good (APNs 410 Unregistered, 400 BadDeviceToken; FCM UNREGISTERED,
    /// SENDER_ID_MISMATCH).
    #[error("the device token is no longer valid: {0}")]
    TokenGone(String),
    /// The service asks us to slow down (APNs 429, FCM QUOTA_EXCEEDED).
    #[error("rate-limited by the push service")]
    RateLimited,
    /// Try later: 5xx, timeouts, network.
    #[error("push service unavailable: {0}")]
    Transient(String),
    /// Our credentials or configuration were refused (APNs 403, FCM 401/THIRD_PARTY_AUTH_ERROR).
    #[error("push service refused our credentials: {0}")]
    Auth(String),
    /// The service refused this request for another reason (a bug on our side).
    #[error("push service rejected the request: {0}")]
    Rejected(String),
    /// This server has no credentials for the registration's platform.
    #[error("no push service configured for this platform")]
    NotConfigured,
}

#[async_trait]
pub trait PushProvider: Send + Sync {
    async fn send(&self, wakeup: &Wakeup) -> Result<(), ProviderError>;
}
