//! The configuration file (TOML). Every error names the key it is about; unknown keys are
//! errors, so that a typo does not silently fall back to a default.
//!
//! ```toml
//! [component]
//! jid = "push.example.org"       # the component's address on the XMPP server
//! host = "127.0.0.1"             # the server's component port (XEP-0114)
//! port = 5347
//! secret_file = "component.secret" # or: secret = "…"
//!
//! [store]
//! sqlite = "/var/lib/linnet-push/registrations.db"   # or: postgres = "postgres://…"
//! hash_key_file = "/var/lib/linnet-push/hash.key"    # default: <sqlite>.key; required with postgres
//!
//! [apns]                          # optional: without it, APNs registrations are refused
//! key_file = "AuthKey_ABCDE12345.p8"
//! key_id = "ABCDE12345"
//! team_id = "TEAM123456"
//! topic = "org.example.app"       # the app's bundle id
//! # base_url, sandbox_base_url, ca_file, timeout_ms: for tests and private deployments
//!
//! [fcm]                           # optional
//! service_account_file = "service-account.json"
//! # base_url, ca_file, timeout_ms
//!
//! [limits]                        # optional
//! min_interval_ms = 2000          # at most one push per device per interval (one more queued)
//! max_in_flight = 256             # stanzas handled at once; beyond: wait/resource-constraint
//! ```
//!
//! Relative paths are relative to the configuration file's directory.
//!
//! The hash key (32 random bytes, hex) turns (account, device id) into the stored device hash.
//! It is created (mode 0600) on the first start when missing. Instances sharing a PostgreSQL
//! store must share the key file too, or a device re-registering through another instance would
//! not replace its old registration.

use std::path::{Path, PathBuf};
use std::time::Duration;

use linnet_xmpp::component::ComponentConfig;
use serde::Deserialize;

use crate::apns::ApnsConfig;
use crate::fcm::FcmConfig;

/// Default of `limits.min_interval_ms`.
pub const DEFAULT_MIN_INTERVAL_MS: u64 = 2000;
/// Default of `limits.max_in_flight`.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default of `apns.timeout_ms` / `fcm.timeout_ms`.
pub const DEFAULT_PROVIDER_TIMEOUT_MS: u64 = 10_000;
const HASH_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {what} {path}: {reason}")]
    Read {
        /// The key that named the file, or "configuration file".
        what: String,
        path: PathBuf,
        reason: String,
    },
    /// TOML syntax, a wrong type, a missing or unknown key (the message names it).
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// Where registrations are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (several instances may share it).
    Postgres(String),
}

/// The key of the device hash (HMAC-SHA256).
#[derive(Clone, PartialEq, Eq)]
pub struct HashKey(pub Vec<u8>);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    pub min_interval: Duration,
    pub max_in_flight: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_millis(DEFAULT_MIN_INTERVAL_MS),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// The whole configuration, with files read and values checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub component: ComponentConfig,
    pub store: StoreConfig,
    pub hash_key: HashKey,
    pub apns: Option<ApnsConfig>,
    pub fcm: Option<FcmConfig>,
    pub limits: LimitsConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    component: RawComponent,
    store: RawStore,
    apns: Option<RawApns>,
    fcm: Option<RawFcm>,
    limits: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    jid: String,
    host: String,
    port: u16,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    sqlite: Option<PathBuf>,
    postgres: Option<String>,
    hash_key_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApns {
    key_file: PathBuf,
    key_id: String,
    team_id: String,
    topic: String,
    base_url: Option<String>,
    sandbox_base_url: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFcm {
    service_account_file: PathBuf,
    base_url: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    min_interval_ms: Option<u64>,
    max_in_flight: Option<usize>,
}

impl Config {
    /// Reads and checks the file, reads the files it names, and creates the hash key file when
    /// it does not exist yet.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            what: "configuration file".into(),
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// As [`Config::from_file`], for text already read; relative paths are taken from `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<config>"),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };

        let c = raw.component;
        if linnet_xmpp::BareJid::new(&c.jid)
            .ok()
            .filter(|j| j.node().is_none())
            .is_none()
        {
            return Err(invalid(
                "component.jid",
                "must be a domain, e.g. push.example.org",
            ));
        }
        if c.host.is_empty() {
            return Err(invalid("component.host", "must not be empty"));
        }
        if c.port == 0 {
            return Err(invalid("component.port", "must not be 0"));
        }
        let secret = match (c.secret, c.secret_file) {
            (Some(s), None) => s,
            (None, Some(file)) => read_file("component.secret_file", &resolve(&file))?
                .trim()
                .to_string(),
            _ => {
                return Err(invalid(
                    "component.secret",
                    "give exactly one of component.secret and component.secret_file",
                ));
            }
        };
        if secret.is_empty() {
            return Err(invalid("component.secret", "must not be empty"));
        }
        let component = ComponentConfig::new(&c.jid, &c.host, c.port, &secret);

        let (store, default_key_file) = match (raw.store.sqlite, raw.store.postgres) {
            (Some(path), None) => {
                let path = resolve(&path);
                let mut key = path.clone().into_os_string();
                key.push(".key");
                (StoreConfig::Sqlite(path), Some(PathBuf::from(key)))
            }
            (None, Some(url)) if !url.is_empty() => (StoreConfig::Postgres(url), None),
            _ => {
                return Err(invalid(
                    "store",
                    "give exactly one of store.sqlite (a path) and store.postgres (a URL)",
                ));
            }
        };
        let key_file = match raw.store.hash_key_file {
            Some(p) => resolve(&p),
            None => default_key_file.ok_or_else(|| {
                invalid(
                    "store.hash_key_file",
                    "required with store.postgres (every instance must use the same key)",
                )
            })?,
        };
        let hash_key = load_or_create_hash_key(&key_file)?;

        let apns = match raw.apns {
            None => None,
            Some(a) => {
                for (key, value) in [
                    ("apns.key_id", &a.key_id),
                    ("apns.team_id", &a.team_id),
                    ("apns.topic", &a.topic),
                ] {
                    if value.is_empty() {
                        return Err(invalid(key, "must not be empty"));
                    }
                }
                Some(ApnsConfig {
                    key_pem: read_file("apns.key_file", &resolve(&a.key_file))?,
                    key_id: a.key_id,
                    team_id: a.team_id,
                    topic: a.topic,
                    base_url: a.base_url,
                    sandbox_base_url: a.sandbox_base_url,
                    extra_ca_pem: a
                        .ca_file
                        .map(|f| read_file("apns.ca_file", &resolve(&f)))
                        .transpose()?,
                    timeout: timeout("apns.timeout_ms", a.timeout_ms)?,
                })
            }
        };
        let fcm = match raw.fcm {
            None => None,
            Some(f) => Some(FcmConfig {
                service_account_json: read_file(
                    "fcm.service_account_file",
                    &resolve(&f.service_account_file),
                )?,
                base_url: f.base_url,
                extra_ca_pem: f
                    .ca_file
                    .map(|p| read_file("fcm.ca_file", &resolve(&p)))
                    .transpose()?,
                timeout: timeout("fcm.timeout_ms", f.timeout_ms)?,
            }),
        };

        let mut limits = LimitsConfig::default();
        if let Some(l) = raw.limits {
            if let Some(ms) = l.min_interval_ms {
                if !(1..=86_400_000).contains(&ms) {
                    return Err(invalid(
                        "limits.min_interval_ms",
                        "must be between 1 and 86400000",
                    ));
                }
                limits.min_interval = Duration::from_millis(ms);
            }
            if let Some(n) = l.max_in_flight {
                if !(1..=100_000).contains(&n) {
                    return Err(invalid(
                        "limits.max_in_flight",
                        "must be between 1 and 100000",
                    ));
                }
                limits.max_in_flight = n;
            }
        }

        Ok(Config {
            component,
            store,
            hash_key,
            apns,
            fcm,
            limits,
        })
    }
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

fn timeout(key: &'static str, ms: Option<u64>) -> Result<Duration, ConfigError> {
    let ms = ms.unwrap_or(DEFAULT_PROVIDER_TIMEOUT_MS);
    if !(1..=300_000).contains(&ms) {
        return Err(invalid(key, "must be between 1 and 300000"));
    }
    Ok(Duration::from_millis(ms))
}

fn read_file(key: &str, path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        what: key.to_string(),
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Reads the hex key, or writes a new random one (readable by the owner only).
fn load_or_create_hash_key(path: &Path) -> Result<HashKey, ConfigError> {
    const KEY: &str = "store.hash_key_file";
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = decode_hex(text.trim())
                .ok_or_else(|| invalid(KEY, "the key file does not hold hex digits"))?;
            if key.len() < HASH_KEY_BYTES {
                return Err(invalid(KEY, "the key in the file is shorter than 32 bytes"));
            }
            Ok(HashKey(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; HASH_KEY_BYTES] = rand::random();
            write_private(path, format!("{}\n", crate::hex(&key)).as_bytes()).map_err(|e| {
                ConfigError::Read {
                    what: format!("{KEY} (creating it)"),
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                }
            })?;
            tracing::info!(path = %path.display(), "created a new hash key");
            Ok(HashKey(key.to_vec()))
        }
        Err(e) => Err(ConfigError::Read {
            what: KEY.to_string(),
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    const MINIMAL: &str = "[component]\njid = 'push.example.org'\nhost = '127.0.0.1'\nport = 5347\nsecret = 's3'\n\n[store]\nsqlite = 'reg.db'\n";

    #[test]
    fn minimal_config_with_defaults_and_a_new_key() {
        let d = dir();
        let c = Config::from_toml(MINIMAL, d.path()).unwrap();
        assert_eq!(c.component.jid, "push.example.org");
        assert_eq!(c.component.secret, "s3");
        assert_eq!(c.store, StoreConfig::Sqlite(d.path().join("reg.db")));
        assert_eq!(c.limits, LimitsConfig::default());
        assert!(c.apns.is_none() && c.fcm.is_none());
        let key_file = d.path().join("reg.db.key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The second start reads the same key.
        let again = Config::from_toml(MINIMAL, d.path()).unwrap();
        assert_eq!(again.hash_key, c.hash_key);
        assert_eq!(c.hash_key.0.len(), 32);
        assert!(!format!("{c:?}").contains("s3\""));
    }

    #[test]
    fn full_config() {
        let d = dir();
        std::fs::write(d.path().join("key.p8"), "PEM").unwrap();
        std::fs::write(d.path().join("sa.json"), "{}").unwrap();
        std::fs::write(d.path().join("secret"), "from-file\n").unwrap();
        let text = "[component]\njid = 'push.example.org'\nhost = 'h'\nport = 1\nsecret_file = 'secret'\n\
            [store]\npostgres = 'postgres://x/y'\nhash_key_file = 'hk'\n\
            [apns]\nkey_file = 'key.p8'\nkey_id = 'K'\nteam_id = 'T'\ntopic = 'org.x'\nbase_url = 'https://127.0.0.1:1'\ntimeout_ms = 500\n\
            [fcm]\nservice_account_file = 'sa.json'\n\
            [limits]\nmin_interval_ms = 100\nmax_in_flight = 8\n";
        let c = Config::from_toml(text, d.path()).unwrap();
        assert_eq!(c.component.secret, "from-file");
        assert_eq!(c.store, StoreConfig::Postgres("postgres://x/y".into()));
        let apns = c.apns.unwrap();
        assert_eq!(apns.key_pem, "PEM");
        assert_eq!(apns.timeout, Duration::from_millis(500));
        assert_eq!(c.fcm.unwrap().service_account_json, "{}");
        assert_eq!(c.limits.min_interval, Duration::from_millis(100));
        assert_eq!(c.limits.max_in_flight, 8);
        assert!(d.path().join("hk").exists());
    }

    #[test]
    fn errors_name_the_key() {
        let d = dir();
        let cases = [
            (
                MINIMAL.replace("secret = 's3'", "secret = 's3'\nsecrte = 'x'"),
                "secrte",
            ),
            (MINIMAL.replace("port = 5347", "port = 'x'"), "port"),
            (MINIMAL.replace("jid = 'push.example.org'\n", ""), "jid"),
            (
                MINIMAL.replace("jid = 'push.example.org'", "jid = 'a@b'"),
                "component.jid",
            ),
            (MINIMAL.replace("secret = 's3'", ""), "component.secret"),
            (
                MINIMAL.replace("sqlite = 'reg.db'", "postgres = 'postgres://x'"),
                "store.hash_key_file",
            ),
            (MINIMAL.replace("sqlite = 'reg.db'", ""), "store"),
            (
                format!("{MINIMAL}[limits]\nmin_interval_ms = 0\n"),
                "limits.min_interval_ms",
            ),
            (
                format!(
                    "{MINIMAL}[apns]\nkey_file = 'nope.p8'\nkey_id = 'K'\nteam_id = 'T'\ntopic = 't'\n"
                ),
                "apns.key_file",
            ),
            (
                format!("{MINIMAL}[fcm]\nservice_account_file = 'nope.json'\n"),
                "fcm.service_account_file",
            ),
            (format!("{MINIMAL}[extra]\n"), "extra"),
        ];
        for (text, key) in cases {
            let err = Config::from_toml(&text, d.path()).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn a_bad_key_file_is_refused() {
        let d = dir();
        std::fs::write(d.path().join("reg.db.key"), "zz\n").unwrap();
        let err = Config::from_toml(MINIMAL, d.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("store.hash_key_file"), "{err}");
        std::fs::write(d.path().join("reg.db.key"), "00ff\n").unwrap();
        let err = Config::from_toml(MINIMAL, d.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("shorter"), "{err}");
    }
}
