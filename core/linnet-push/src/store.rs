//! What linnet-push keeps about a registered device, and the interface of the stores that keep
//! it (SQLite embedded, PostgreSQL shared by several instances).

use async_trait::async_trait;

/// Which push service reaches the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Apple's service, with the environment the app was built for.
    Apns { sandbox: bool },
    /// Firebase Cloud Messaging (HTTP v1).
    Fcm,
}

/// One device of one account. Only what forwarding needs: no JID, no message, no sender.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    /// The pubsub node the user's server publishes to (random, public-ish: it travels in
    /// payloads and logs are redacted anyway).
    pub node: String,
    /// SHA-256 of the per-registration secret (hex): a publish must carry the secret itself.
    pub secret_hash: String,
    /// HMAC of (account bare JID, device id) under the server's key (hex): lets a device
    /// re-register (new token) without the server storing who it is.
    pub device_hash: String,
    /// The domain of the account's server: publishes for this node must come from it.
    pub domain: String,
    pub platform: Platform,
    /// The APNs device token or FCM registration token.
    pub token: String,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

impl std::fmt::Debug for Registration {
    // Tokens and secrets never reach logs, not even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("node", &"<redacted>")
            .field("domain", &self.domain)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

/// What the rate limit decided for one publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Forward now.
    Now,
    /// Forward after this many milliseconds (one trailing push per window, so the device still
    /// wakes after the last message of a burst).
    After { delay_ms: i64 },
    /// A push is already queued for this device: answer the publish, forward nothing.
    Coalesced,
    /// No such node.
    UnknownNode,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store backend: {0}")]
    Backend(String),
}

/// A store of registrations. Every method is one atomic step, so several linnet-push instances
/// can share one PostgreSQL database.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Inserts or replaces the registration of `reg.device_hash` (a device registering again,
    /// e.g. with a new token, replaces its old node).
    async fn upsert(&self, reg: &Registration) -> Result<(), StoreError>;
    async fn by_node(&self, node: &str) -> Result<Option<Registration>, StoreError>;
    /// Returns whether a registration was deleted.
    async fn delete_node(&self, node: &str) -> Result<bool, StoreError>;
    /// Deletes the registration of a device (unregister command). Returns whether one existed.
    async fn delete_device(&self, device_hash: &str) -> Result<bool, StoreError>;
    /// The rate limit, atomically: at most one push per `interval_ms` per node, and at most one
    /// queued behind it (see `Admission`).
    async fn admit(
        &self,
        node: &str,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<Admission, StoreError>;
    async fn count(&self) -> Result<u64, StoreError>;
}

/// The index of the first migration a store still has to apply, given the schema version it
/// found (`backend` names the store in the error). A version newer than this build's is refused:
/// an older linnet-push must not write to a schema it does not know.
pub(crate) fn first_pending_migration(
    backend: &str,
    found: i64,
    known: usize,
) -> Result<usize, StoreError> {
    let Ok(start) = usize::try_from(found) else {
        return Err(StoreError::Backend(format!(
            "{backend}: invalid schema version {found}"
        )));
    };
    if start > known {
        return Err(StoreError::Backend(format!(
            "{backend}: schema version {found} is newer than this build's {known}"
        )));
    }
    Ok(start)
}
