//! The entry point: opens the store and the secret store, manages accounts, hands out clients.

use std::path::Path;
use std::sync::Arc;

use linnet_store::{Account, ConnectionSettings, NewAccount, ServerOverride, Store};
use linnet_xmpp::BareJid;
use linnet_xmpp::secret::Secret;
use linnet_xmpp::transport::Connector;

use crate::client::{Client, ClientConfig};
use crate::error::LinnetError;
use crate::secrets::{FileSecretStore, SecretStore};

/// How to reach an account's server, when DNS is not the answer.
#[derive(Debug, Clone, Default)]
pub struct AccountSettings {
    /// Explicit host and port (self-hosted servers, tests): skips DNS SRV.
    pub server: Option<(String, u16)>,
    /// The explicit server speaks TLS from the first byte (XEP-0368).
    pub direct_tls: bool,
    /// PEM text of an extra CA to trust for this account.
    pub ca_pem: Option<String>,
}

/// Normalises a user-typed address to a bare JID (case-folded, stringprep'd).
pub fn normalise_jid(input: &str) -> Result<BareJid, LinnetError> {
    let trimmed = input.trim();
    BareJid::new(trimmed).map_err(|_| LinnetError::InvalidAddress {
        input: trimmed.to_string(),
    })
}

pub struct Linnet {
    /// The data directory, when opened from one: downloads go to its `files` folder.
    data_dir: Option<std::path::PathBuf>,
    store: Arc<Store>,
    secrets: Arc<dyn SecretStore>,
    connector: Option<Arc<dyn Connector>>,
    config: ClientConfig,
}

impl Linnet {
    /// Opens (creating) a data directory: `linnet.db` and, for the CLI, a 0600 `secrets.json`.
    pub fn open(data_dir: &Path) -> Result<Linnet, LinnetError> {
        create_private_dir(data_dir)?;
        let store = Store::open(&data_dir.join("linnet.db"))?;
        let secrets = FileSecretStore::new(data_dir.join("secrets.json"));
        Ok(Self::with_parts(Arc::new(store), Arc::new(secrets)).in_dir(data_dir))
    }

    /// Opens (creating) a data directory with the platform's secret store (Keychain, Keystore).
    pub fn open_with_secrets(
        data_dir: &Path,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Linnet, LinnetError> {
        create_private_dir(data_dir)?;
        let store = Store::open(&data_dir.join("linnet.db"))?;
        Ok(Self::with_parts(Arc::new(store), secrets).in_dir(data_dir))
    }

    pub fn with_parts(store: Arc<Store>, secrets: Arc<dyn SecretStore>) -> Linnet {
        Linnet {
            data_dir: None,
            store,
            secrets,
            connector: None,
            config: ClientConfig::default(),
        }
    }

    fn in_dir(mut self, data_dir: &Path) -> Self {
        self.data_dir = Some(data_dir.to_path_buf());
        self
    }

    /// Replaces the network connector (a scripted fake server in tests).
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> Self {
        self.connector = Some(connector);
        self
    }

    pub fn with_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The data directory, when opened from one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// Adds an account (the password goes to the secret store, never the database).
    pub fn add_account(
        &self,
        jid: &str,
        password: Secret,
        settings: AccountSettings,
    ) -> Result<Account, LinnetError> {
        let jid = normalise_jid(jid)?;
        if jid.node().is_none() {
            return Err(LinnetError::InvalidAddress {
                input: jid.to_string(),
            });
        }
        let jid = jid.to_string();
        if self.store.account_by_jid(&jid)?.is_some() {
            return Err(LinnetError::AccountExists { jid });
        }
        let new = NewAccount {
            jid: jid.clone(),
            resource: format!("linnet.{}", linnet_xmpp::negotiate::random_suffix()),
            settings: ConnectionSettings {
                server_override: settings
                    .server
                    .map(|(host, port)| ServerOverride { host, port }),
                direct_tls: settings.direct_tls,
                extra_ca_pem: settings.ca_pem,
            },
        };
        self.secrets.set(&jid, &password)?;
        match self.store.create_account(&new) {
            Ok(account) => Ok(account),
            Err(e) => {
                let _ = self.secrets.delete(&jid);
                Err(e.into())
            }
        }
    }

    pub fn accounts(&self) -> Result<Vec<Account>, LinnetError> {
        Ok(self.store.accounts()?)
    }

    pub fn remove_account(&self, jid: &str) -> Result<(), LinnetError> {
        let account = self.resolve_account(Some(jid))?;
        self.store.delete_account(account.id)?;
        let _ = self
            .secrets
            .delete(&crate::client::fast_token_key(&account.jid));
        let _ = self
            .secrets
            .delete(&crate::client::push_secret_key(&account.jid));
        self.secrets.delete(&account.jid)
    }

    /// The named account, or the only one when no name is given.
    pub fn resolve_account(&self, jid: Option<&str>) -> Result<Account, LinnetError> {
        match jid {
            Some(jid) => {
                let jid = normalise_jid(jid)?.to_string();
                self.store
                    .account_by_jid(&jid)?
                    .ok_or(LinnetError::NoSuchAccount { jid })
            }
            None => {
                let mut all = self.store.accounts()?;
                match all.len() {
                    0 => Err(LinnetError::NoAccount),
                    1 => all.pop().ok_or(LinnetError::NoAccount),
                    _ => Err(LinnetError::AmbiguousAccount {
                        accounts: all
                            .iter()
                            .map(|a| a.jid.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
        }
    }

    /// A client for an account (not yet connected).
    pub fn client(&self, jid: Option<&str>) -> Result<Client, LinnetError> {
        let account = self.resolve_account(jid)?;
        let mut config = self.config.clone();
        if config.files.download_dir.is_none() {
            config.files.download_dir = self.data_dir.as_ref().map(|d| d.join("files"));
        }
        Client::new(
            self.store.clone(),
            self.secrets.clone(),
            account,
            self.connector.clone(),
            config,
        )
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<(), LinnetError> {
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| LinnetError::Storage {
            reason: format!("{}: {e}", dir.display()),
        })
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<(), LinnetError> {
    std::fs::create_dir_all(dir).map_err(|e| LinnetError::Storage {
        reason: format!("{}: {e}", dir.display()),
    })
}
