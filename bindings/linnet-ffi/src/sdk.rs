//! The entry object: the data directory, accounts, and the clients handed out for them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use linnet_sdk::{Linnet, Secret};

use crate::errors::AccountError;
use crate::platform::{ForeignSecrets, NetworkMonitor, NetworkObserver, SecretStorage};
use crate::runtime::runtime;
use crate::services::LinnetClient;
use crate::types::{AccountInfo, AccountOptions};

/// Opens Linnet's data directory; manages accounts and hands out one client per account.
#[derive(uniffi::Object)]
pub struct LinnetSdk {
    linnet: Linnet,
    clients: Mutex<HashMap<String, Arc<LinnetClient>>>,
    monitor: Mutex<Option<Arc<dyn NetworkMonitor>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[uniffi::export]
impl LinnetSdk {
    /// Opens (creating) `data_dir`, e.g. the app's private files directory (or an app group
    /// container shared with a notification extension). Passwords go to `secrets`.
    #[uniffi::constructor]
    pub fn new(
        data_dir: String,
        secrets: Arc<dyn SecretStorage>,
    ) -> Result<Arc<Self>, AccountError> {
        let linnet =
            Linnet::open_with_secrets(Path::new(&data_dir), Arc::new(ForeignSecrets(secrets)))?;
        Ok(Arc::new(Self {
            linnet,
            clients: Mutex::new(HashMap::new()),
            monitor: Mutex::new(None),
        }))
    }

    /// Adds an account; the password goes to the secret storage, never the database.
    pub fn add_account(
        &self,
        jid: String,
        password: String,
        options: AccountOptions,
    ) -> Result<AccountInfo, AccountError> {
        Ok(self
            .linnet
            .add_account(&jid, Secret::new(password), options.into())?
            .into())
    }

    pub fn accounts(&self) -> Result<Vec<AccountInfo>, AccountError> {
        Ok(self
            .linnet
            .accounts()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Removes the account, its messages and its password; its client signs out and stops
    /// reconnecting (in the background).
    pub fn remove_account(&self, jid: String) -> Result<(), AccountError> {
        let account = self.linnet.resolve_account(Some(&jid))?;
        let removed = lock(&self.clients).remove(&account.jid);
        if let Some(client) = removed {
            let core = client.core().clone();
            runtime()?.spawn(async move { core.stop().await });
        }
        Ok(self.linnet.remove_account(&account.jid)?)
    }

    /// The client of an account (the only one when `jid` is null). The same object each time.
    pub fn client(&self, jid: Option<String>) -> Result<Arc<LinnetClient>, AccountError> {
        let account = self.linnet.resolve_account(jid.as_deref())?;
        let mut clients = lock(&self.clients);
        if let Some(client) = clients.get(&account.jid) {
            return Ok(client.clone());
        }
        let client = LinnetClient::new(self.linnet.client(Some(&account.jid))?);
        clients.insert(account.jid, client.clone());
        Ok(client)
    }

    /// Installs the platform's network monitor; every client reconnects at once when the
    /// network comes back. Replaces (and stops) a previous monitor.
    pub fn set_network_monitor(self: Arc<Self>, monitor: Arc<dyn NetworkMonitor>) {
        let previous = lock(&self.monitor).replace(monitor.clone());
        // Foreign calls happen outside the lock.
        if let Some(previous) = previous {
            previous.stop();
        }
        monitor.start(Arc::new(NetworkObserver {
            sdk: Arc::downgrade(&self),
        }));
    }

    /// The app came to the foreground (true) or went to the background, for every client.
    pub fn set_foreground(&self, foreground: bool) {
        for client in self.all_clients() {
            client.connection_service().set_foreground(foreground);
        }
    }
}

impl LinnetSdk {
    fn all_clients(&self) -> Vec<Arc<LinnetClient>> {
        lock(&self.clients).values().cloned().collect()
    }

    pub(crate) fn network_changed(&self, available: bool) {
        for client in self.all_clients() {
            client.connection_service().network_changed(available);
        }
    }
}
