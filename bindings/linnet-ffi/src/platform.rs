//! Platform services the host implements (ARCHITECTURE.md rule 8): the core asks, the platform
//! answers.

use std::sync::{Arc, Weak};

use linnet_sdk::secrets::SecretStore;
use linnet_sdk::{LinnetError, Secret};

use crate::errors::SecretStorageError;
use crate::sdk::LinnetSdk;

/// Keychain (Apple) or Keystore-backed storage (Android) for account passwords.
#[uniffi::export(with_foreign)]
pub trait SecretStorage: Send + Sync {
    fn get(&self, account: String) -> Result<Option<String>, SecretStorageError>;
    fn set(&self, account: String, secret: String) -> Result<(), SecretStorageError>;
    fn delete(&self, account: String) -> Result<(), SecretStorageError>;
}

/// Adapts the host's `SecretStorage` to the core's trait.
pub(crate) struct ForeignSecrets(pub(crate) Arc<dyn SecretStorage>);

fn secret_error(e: SecretStorageError) -> LinnetError {
    LinnetError::SecretStore {
        reason: e.to_string(),
    }
}

impl SecretStore for ForeignSecrets {
    fn get(&self, account: &str) -> Result<Option<Secret>, LinnetError> {
        self.0
            .get(account.to_string())
            .map(|s| s.map(Secret::new))
            .map_err(secret_error)
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), LinnetError> {
        self.0
            .set(account.to_string(), secret.expose().clone())
            .map_err(secret_error)
    }

    fn delete(&self, account: &str) -> Result<(), LinnetError> {
        self.0.delete(account.to_string()).map_err(secret_error)
    }
}

/// The host's network reachability watcher (NWPathMonitor, ConnectivityManager). Linnet calls
/// `start` once with an observer; the host calls `observer.networkChanged(...)` on each change
/// until `stop`.
#[uniffi::export(with_foreign)]
pub trait NetworkMonitor: Send + Sync {
    fn start(&self, observer: Arc<NetworkObserver>);
    fn stop(&self);
}

/// Given to a `NetworkMonitor`: report every change of reachability here.
#[derive(uniffi::Object)]
pub struct NetworkObserver {
    pub(crate) sdk: Weak<LinnetSdk>,
}

#[uniffi::export]
impl NetworkObserver {
    /// The network changed; `available` says whether any route exists now. Every client
    /// reconnects at once when it becomes available, skipping its backoff.
    pub fn network_changed(&self, available: bool) {
        if let Some(sdk) = self.sdk.upgrade() {
            sdk.network_changed(available);
        }
    }
}
