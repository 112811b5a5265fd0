//! Secret storage. Passwords never go into the database: each platform implements `SecretStore`
//! (Keychain, Android Keystore); the CLI uses a 0600 file in its data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use linnet_xmpp::secret::Secret;

use crate::error::LinnetError;

pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<Secret>, LinnetError>;
    fn set(&self, account: &str, secret: &Secret) -> Result<(), LinnetError>;
    fn delete(&self, account: &str) -> Result<(), LinnetError>;
}

/// A JSON file readable only by its owner (mode 0600), for the command-line client.
pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecretStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> Result<BTreeMap<String, String>, LinnetError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| err(&self.path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(err(&self.path, e)),
        }
    }

    fn write(&self, map: &BTreeMap<String, String>) -> Result<(), LinnetError> {
        let text = serde_json::to_string(map).map_err(|e| err(&self.path, e))?;
        let tmp = self.path.with_extension("tmp");
        write_private(&tmp, text.as_bytes()).map_err(|e| err(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| err(&self.path, e))
    }
}

fn err(path: &Path, e: impl std::fmt::Display) -> LinnetError {
    LinnetError::SecretStore {
        reason: format!("{}: {e}", path.display()),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

impl SecretStore for FileSecretStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, LinnetError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read()?.get(account).cloned().map(Secret::new))
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), LinnetError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        map.insert(account.to_string(), secret.expose().to_string());
        self.write(&map)
    }

    fn delete(&self, account: &str) -> Result<(), LinnetError> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        if map.remove(account).is_some() {
            self.write(&map)?;
        }
        Ok(())
    }
}

/// Keeps secrets in memory only (tests, and apps that ask for the password each time).
#[derive(Default)]
pub struct MemorySecretStore {
    map: Mutex<BTreeMap<String, Secret>>,
}

impl SecretStore for MemorySecretStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, LinnetError> {
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .cloned())
    }

    fn set(&self, account: &str, secret: &Secret) -> Result<(), LinnetError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.to_string(), secret.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), LinnetError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn file_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileSecretStore::new(dir.path().join("secrets.json"));
        store.set("a@example.org", &Secret::from("pw1")).unwrap();
        store.set("b@example.org", &Secret::from("pw2")).unwrap();
        assert_eq!(store.get("a@example.org").unwrap().unwrap().expose(), "pw1");
        store.delete("a@example.org").unwrap();
        assert!(store.get("a@example.org").unwrap().is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
