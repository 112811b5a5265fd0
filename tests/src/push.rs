//! The push app server as the tests run it: linnet-push, started from a configuration file like
//! an operator's, connected as `push.<domain>` (or `push2.<domain>`) to a real test server,
//! keeping registrations in SQLite or in the test PostgreSQL, and forwarding to the fake APNs and
//! FCM endpoints of `fake_push`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use linnet_push::config::Config;
use linnet_push::store::RegistrationStore;
use linnet_push::store_postgres::PostgresStore;
use linnet_push::store_sqlite::SqliteStore;
use linnet_push::{LinkState, PushServer, StatsSnapshot};
use serde_json::Value;

use crate::fake_push::{FakeApns, FakeFcm};
use crate::{TestServer, state_dir};

/// Where the app server keeps its registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

/// The push components `servers.sh` configured on a server (servers.json `push`).
pub struct PushComponents {
    /// `push.<domain>`, `push2.<domain>`
    pub jids: Vec<String>,
    pub host: String,
    pub port: u16,
    pub secret: String,
}

pub fn push_components(server: &TestServer) -> PushComponents {
    let path = state_dir().join("servers.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}. Start the servers", path.display()));
    let json: Value = serde_json::from_str(&text).unwrap();
    let p = &json[server.name]["push"];
    assert!(
        p.is_object(),
        "{} has no push components in {}: restart the servers with this servers.sh",
        server.name,
        path.display()
    );
    PushComponents {
        jids: p["jids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j.as_str().unwrap().to_string())
            .collect(),
        host: p["host"].as_str().unwrap().to_string(),
        port: u16::try_from(p["port"].as_u64().unwrap()).unwrap(),
        secret: p["secret"].as_str().unwrap().to_string(),
    }
}

/// The test PostgreSQL's URL (servers.env), for a schema of the caller's.
fn postgres_base_url() -> String {
    if let Ok(url) = std::env::var("LINNET_POSTGRES_URL") {
        return url;
    }
    let path = state_dir().join("servers.env");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}. Start the servers", path.display()))
        .lines()
        .find_map(|l| l.strip_prefix("LINNET_POSTGRES_URL=").map(str::to_string))
        .unwrap_or_else(|| panic!("no LINNET_POSTGRES_URL in {}", path.display()))
}

/// A schema of its own in the test PostgreSQL, so that tests running at once do not see each
/// other's registrations. Returns the URL that selects it.
pub async fn postgres_schema() -> String {
    let base = postgres_base_url();
    let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("the test PostgreSQL: {e}"));
    tokio::spawn(connection);
    let schema = crate::unique_name("push_test_");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Where a store lives: the SQLite file, or the PostgreSQL URL (several app servers may share
/// it, with one hash key).
#[derive(Debug, Clone)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres { url: String, hash_key: PathBuf },
}

impl StoreLocation {
    /// A new, empty store of `kind` in `dir`.
    pub async fn new(kind: StoreKind, dir: &Path) -> Self {
        match kind {
            StoreKind::Sqlite => StoreLocation::Sqlite(dir.join("registrations.db")),
            StoreKind::Postgres => StoreLocation::Postgres {
                url: postgres_schema().await,
                hash_key: dir.join("hash.key"),
            },
        }
    }

    /// Another handle on the same store, for assertions.
    pub async fn open(&self) -> Arc<dyn RegistrationStore> {
        match self {
            StoreLocation::Sqlite(path) => Arc::new(SqliteStore::open(path).unwrap()),
            StoreLocation::Postgres { url, .. } => {
                Arc::new(PostgresStore::connect(url).await.unwrap())
            }
        }
    }

    fn toml(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => format!("sqlite = {:?}\n", path.display().to_string()),
            StoreLocation::Postgres { url, hash_key } => format!(
                "postgres = {url:?}\nhash_key_file = {:?}\n",
                hash_key.display().to_string()
            ),
        }
    }
}

/// One running linnet-push with its fake push services.
pub struct AppServer {
    /// The component address devices register with.
    pub jid: String,
    pub apns: Arc<FakeApns>,
    pub fcm: Arc<FakeFcm>,
    pub server: Arc<PushServer>,
    pub store: StoreLocation,
    /// The configuration file it was started from.
    pub config_path: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// How long the app server may take to connect (a standby waits for the address).
const CONNECT_WAIT: Duration = Duration::from_secs(20);

impl AppServer {
    /// linnet-push on `push.<domain>` with a new store of `kind` and new fakes, connected.
    pub async fn start(server: &TestServer, kind: StoreKind) -> AppServer {
        let dir = tempfile::tempdir().unwrap();
        let store = StoreLocation::new(kind, dir.path()).await;
        let apns = Arc::new(FakeApns::start().await);
        let fcm = Arc::new(FakeFcm::start().await);
        let app = Self::launch(server, 0, store, apns, fcm, dir).await;
        app.connected().await;
        app
    }

    /// Another instance beside `other`: the same component address, store and fakes (what an
    /// operator runs for capacity or failover). Not waited for: on Prosody it stands by.
    pub async fn beside(server: &TestServer, other: &AppServer) -> AppServer {
        let dir = tempfile::tempdir().unwrap();
        let index = push_components(server)
            .jids
            .iter()
            .position(|j| *j == other.jid)
            .unwrap();
        Self::launch(
            server,
            index,
            other.store.clone(),
            other.apns.clone(),
            other.fcm.clone(),
            dir,
        )
        .await
    }

    async fn launch(
        server: &TestServer,
        jid_index: usize,
        store: StoreLocation,
        apns: Arc<FakeApns>,
        fcm: Arc<FakeFcm>,
        dir: tempfile::TempDir,
    ) -> AppServer {
        let components = push_components(server);
        let jid = components.jids[jid_index].clone();
        let d = dir.path();
        let apns_config = apns.config();
        std::fs::write(d.join("apns.p8"), &apns_config.key_pem).unwrap();
        std::fs::write(
            d.join("apns-ca.pem"),
            apns_config.extra_ca_pem.as_deref().unwrap(),
        )
        .unwrap();
        std::fs::write(d.join("fcm.json"), fcm.service_account_json()).unwrap();
        let config = format!(
            "[component]\njid = {jid:?}\nhost = {:?}\nport = {}\nsecret = {:?}\n\n\
             [store]\n{}\n\
             [apns]\nkey_file = \"apns.p8\"\nkey_id = {:?}\nteam_id = {:?}\ntopic = {:?}\n\
             base_url = {:?}\nsandbox_base_url = {:?}\nca_file = \"apns-ca.pem\"\n\n\
             [fcm]\nservice_account_file = \"fcm.json\"\nbase_url = {:?}\n\n\
             [limits]\nmin_interval_ms = 200\n",
            components.host,
            components.port,
            components.secret,
            store.toml(),
            apns_config.key_id,
            apns_config.team_id,
            apns_config.topic,
            apns_config.base_url.as_deref().unwrap(),
            apns_config.sandbox_base_url.as_deref().unwrap(),
            fcm.base_url(),
        );
        let config_path = d.join("linnet-push.toml");
        std::fs::write(&config_path, config).unwrap();
        let server = Arc::new(
            PushServer::from_config(Config::from_file(&config_path).unwrap())
                .await
                .unwrap(),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = server.clone();
        let task = tokio::spawn(async move {
            let _ = serving
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await;
        });
        AppServer {
            jid,
            apns,
            fcm,
            server,
            store,
            config_path,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Waits until the component is connected (a standby: until it took over).
    pub async fn connected(&self) {
        let mut link = self.server.link_state();
        tokio::time::timeout(CONNECT_WAIT, link.wait_for(|l| *l == LinkState::Connected))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "linnet-push did not connect as {} (another instance holding it?)",
                    self.jid
                )
            })
            .unwrap();
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.server.service().stats().snapshot()
    }

    /// Stops it and waits until its component connection is closed.
    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

impl Drop for AppServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
