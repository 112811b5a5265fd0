//! One suite for both registration stores: every generic test below runs on a SQLite file and
//! on the test PostgreSQL (`LINNET_POSTGRES_URL`, from `bash tests/servers/servers.sh start`),
//! each PostgreSQL test in a fresh schema of its own so they run in parallel.
#![allow(
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use linnet_push::store::{Admission, Platform, Registration, RegistrationStore};
use linnet_push::store_postgres::PostgresStore;
use linnet_push::store_sqlite::SqliteStore;

const INTERVAL_MS: i64 = 1_000;
const T0: i64 = 1_800_000_000_000;

type Store = Arc<dyn RegistrationStore>;

fn registration(device: u32, node: &str, platform: Platform) -> Registration {
    Registration {
        node: node.to_owned(),
        secret_hash: format!("5ec7e7a5{device:08x}"),
        device_hash: format!("de71ce{device:08x}"),
        domain: "prosody.test".to_owned(),
        platform,
        token: format!("TOKEN-{device}-do-not-log"),
        created_at_ms: T0 + i64::from(device),
    }
}

// ---------------------------------------------------------------------------------------------
// The generic suite

async fn upsert_lookup_and_delete(store: Store) {
    let apns = registration(1, "a1b2c3", Platform::Apns { sandbox: true });
    let apns_production = registration(2, "d4e5f6", Platform::Apns { sandbox: false });
    let fcm = registration(3, "0789ab", Platform::Fcm);
    for reg in [&apns, &apns_production, &fcm] {
        store.upsert(reg).await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 3);
    assert_eq!(store.by_node("a1b2c3").await.unwrap(), Some(apns.clone()));
    assert_eq!(
        store.by_node("d4e5f6").await.unwrap(),
        Some(apns_production.clone())
    );
    assert_eq!(store.by_node("0789ab").await.unwrap(), Some(fcm.clone()));
    assert_eq!(store.by_node("ffffff").await.unwrap(), None);

    assert!(store.delete_node("a1b2c3").await.unwrap());
    assert!(!store.delete_node("a1b2c3").await.unwrap());
    assert_eq!(store.by_node("a1b2c3").await.unwrap(), None);

    assert!(store.delete_device(&fcm.device_hash).await.unwrap());
    assert!(!store.delete_device(&fcm.device_hash).await.unwrap());
    assert_eq!(store.by_node("0789ab").await.unwrap(), None);

    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(
        store.by_node("d4e5f6").await.unwrap(),
        Some(apns_production)
    );
}

async fn reregistration_replaces_the_old_node(store: Store) {
    let first = registration(7, "01d0de", Platform::Apns { sandbox: true });
    store.upsert(&first).await.unwrap();
    // The device's queue is full under the old node...
    assert_eq!(
        store.admit("01d0de", T0, INTERVAL_MS).await.unwrap(),
        Admission::Now
    );
    assert_eq!(
        store.admit("01d0de", T0, INTERVAL_MS).await.unwrap(),
        Admission::After {
            delay_ms: INTERVAL_MS
        }
    );

    // ...and it registers again (same device hash) with a new node, secret, token, platform.
    let mut second = registration(7, "2e3d0de", Platform::Fcm);
    second.secret_hash = "5ec7e7a5-new".to_owned();
    second.token = "TOKEN-new-do-not-log".to_owned();
    second.created_at_ms = T0 + 5;
    store.upsert(&second).await.unwrap();

    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.by_node("01d0de").await.unwrap(), None);
    assert_eq!(store.by_node("2e3d0de").await.unwrap(), Some(second));
    assert_eq!(
        store.admit("01d0de", T0, INTERVAL_MS).await.unwrap(),
        Admission::UnknownNode
    );
    assert_eq!(
        store.admit("2e3d0de", T0, INTERVAL_MS).await.unwrap(),
        Admission::Now
    );
    assert!(!store.delete_node("01d0de").await.unwrap());
}

async fn a_node_another_device_holds_is_refused(store: Store) {
    let holder = registration(1, "c0111de", Platform::Fcm);
    store.upsert(&holder).await.unwrap();
    let intruder = registration(2, "c0111de", Platform::Apns { sandbox: false });
    let error = store.upsert(&intruder).await.unwrap_err();

    let text = format!("{error} {error:?}");
    assert!(text.to_lowercase().contains("unique"), "{text}");
    for secret in [
        &intruder.token,
        &intruder.secret_hash,
        &intruder.device_hash,
        &intruder.node,
    ] {
        assert!(!text.contains(secret.as_str()), "{text}");
    }
    // Nothing changed.
    assert_eq!(store.count().await.unwrap(), 1);
    assert_eq!(store.by_node("c0111de").await.unwrap(), Some(holder));
    assert!(!store.delete_device(&intruder.device_hash).await.unwrap());
}

async fn admit_sequence(store: Store) {
    store
        .upsert(&registration(1, "5107", Platform::Fcm))
        .await
        .unwrap();
    let admit = |now: i64| {
        let store = Arc::clone(&store);
        async move { store.admit("5107", now, INTERVAL_MS).await.unwrap() }
    };
    // The first push goes now, the second waits for the window, the rest of the burst rides
    // on that queued one.
    assert_eq!(admit(T0).await, Admission::Now);
    assert_eq!(
        admit(T0).await,
        Admission::After {
            delay_ms: INTERVAL_MS
        }
    );
    assert_eq!(admit(T0 + 1).await, Admission::Coalesced);
    assert_eq!(admit(T0 + 999).await, Admission::Coalesced);
    // The queued push goes out at T0 + 1000: one more may queue behind it.
    assert_eq!(
        admit(T0 + 1_000).await,
        Admission::After {
            delay_ms: INTERVAL_MS
        }
    );
    assert_eq!(admit(T0 + 1_500).await, Admission::Coalesced);
    // Once the queue has drained, the window is open again.
    assert_eq!(admit(T0 + 3_000).await, Admission::Now);
    assert_eq!(admit(T0 + 3_400).await, Admission::After { delay_ms: 600 });
    assert_eq!(admit(T0 + 60_000).await, Admission::Now);

    assert_eq!(
        store.admit("unknown", T0, INTERVAL_MS).await.unwrap(),
        Admission::UnknownNode
    );
    assert!(store.delete_node("5107").await.unwrap());
    assert_eq!(admit(T0 + 120_000).await, Admission::UnknownNode);
    // Nonsense arguments are an error, not a decision.
    assert!(store.admit("5107", T0, -1).await.is_err());
    assert!(store.admit("5107", i64::MAX, INTERVAL_MS).await.is_err());
}

/// Decisions of `count` concurrent admits for one node at one instant, tallied as
/// (Now, After, Coalesced).
async fn concurrent_admits(stores: &[Store], node: &str, count: usize) -> (usize, usize, usize) {
    let tasks: Vec<_> = (0..count)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            let node = node.to_owned();
            tokio::spawn(async move { store.admit(&node, T0, INTERVAL_MS).await })
        })
        .collect();
    let (mut now, mut after, mut coalesced) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Admission::Now => now += 1,
            Admission::After { delay_ms } => {
                assert_eq!(delay_ms, INTERVAL_MS);
                after += 1;
            }
            Admission::Coalesced => coalesced += 1,
            Admission::UnknownNode => panic!("the node exists"),
        }
    }
    (now, after, coalesced)
}

async fn fifty_concurrent_admits_give_one_now_and_one_after(store: Store) {
    store
        .upsert(&registration(1, "b0057", Platform::Fcm))
        .await
        .unwrap();
    assert_eq!(concurrent_admits(&[store], "b0057", 50).await, (1, 1, 48));
}

async fn concurrent_upserts_and_lookups(store: Store) {
    let tasks: Vec<_> = (0..40u32)
        .map(|device| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let reg = registration(device, &format!("c0c0{device:04}"), Platform::Fcm);
                store.upsert(&reg).await.unwrap();
                assert_eq!(store.by_node(&reg.node).await.unwrap(), Some(reg));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.count().await.unwrap(), 40);
}

async fn secrets_stay_out_of_debug_output(store: Store) {
    let reg = registration(9, "de6b9", Platform::Apns { sandbox: true });
    store.upsert(&reg).await.unwrap();
    let found = store.by_node("de6b9").await.unwrap().unwrap();
    let debug = format!("{found:?} {:?}", Some(&found));
    for secret in [&reg.token, &reg.secret_hash, &reg.device_hash] {
        assert!(!debug.contains(secret.as_str()), "{debug}");
    }
}

/// Runs every generic test above on both stores.
macro_rules! store_suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = super::SqliteDb::new();
                    super::$test(db.store()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let db = super::PostgresDb::new().await;
                    super::$test(db.store().await).await;
                    db.drop_schema().await;
                }
            )*
        }
    };
}

store_suite!(
    upsert_lookup_and_delete,
    reregistration_replaces_the_old_node,
    a_node_another_device_holds_is_refused,
    admit_sequence,
    fifty_concurrent_admits_give_one_now_and_one_after,
    concurrent_upserts_and_lookups,
    secrets_stay_out_of_debug_output,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

struct SqliteDb {
    dir: tempfile::TempDir,
}

impl SqliteDb {
    fn new() -> SqliteDb {
        SqliteDb {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("push.sqlite3")
    }

    fn store(&self) -> Store {
        Arc::new(SqliteStore::open(&self.path()).unwrap())
    }
}

/// A schema of its own in the test database; the stores reach it through `search_path`.
struct PostgresDb {
    admin: tokio_postgres::Client,
    schema: String,
    url: String,
}

fn postgres_base_url() -> String {
    if let Ok(url) = std::env::var("LINNET_POSTGRES_URL") {
        return url;
    }
    let state = std::env::var("LINNET_TEST_STATE")
        .unwrap_or_else(|_| "/tmp/linnet-test-servers".to_owned());
    let path = format!("{state}/servers.env");
    let env = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "LINNET_POSTGRES_URL is not set and {path} is not readable ({error}): start the \
             test servers with `bash tests/servers/servers.sh start`"
        )
    });
    env.lines()
        .find_map(|line| line.strip_prefix("LINNET_POSTGRES_URL="))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!(
                "{path} has no LINNET_POSTGRES_URL: restart the test servers with \
                 `bash tests/servers/servers.sh start` (PostgreSQL is one of them)"
            )
        })
}

impl PostgresDb {
    async fn new() -> PostgresDb {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = postgres_base_url();
        let (admin, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|error| {
                panic!("cannot reach the test PostgreSQL ({error}): `bash tests/servers/servers.sh start`")
            });
        tokio::spawn(connection);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "test_{}_{}_{}",
            std::process::id(),
            nanos,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        PostgresDb { admin, schema, url }
    }

    /// A new store (a new pool: what another linnet-push instance would have).
    async fn store(&self) -> Store {
        Arc::new(self.connect().await)
    }

    async fn connect(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).await.unwrap()
    }

    async fn drop_schema(self) {
        self.admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .await
            .unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// What only one of the stores has

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_registrations_across_reopening() {
    let db = SqliteDb::new();
    let reg = registration(1, "9e09e9", Platform::Apns { sandbox: false });
    {
        let store = db.store();
        store.upsert(&reg).await.unwrap();
        assert_eq!(
            store.admit("9e09e9", T0, INTERVAL_MS).await.unwrap(),
            Admission::Now
        );
    }
    // Opening again runs no migration twice and keeps both the row and its rate limit.
    let store = db.store();
    assert_eq!(store.by_node("9e09e9").await.unwrap(), Some(reg));
    assert_eq!(
        store.admit("9e09e9", T0, INTERVAL_MS).await.unwrap(),
        Admission::After {
            delay_ms: INTERVAL_MS
        }
    );
    let version: i64 = rusqlite::Connection::open(db.path())
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_refuses_a_newer_schema() {
    let db = SqliteDb::new();
    drop(db.store());
    rusqlite::Connection::open(db.path())
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let error = SqliteStore::open(&db.path()).unwrap_err();
    assert!(error.to_string().contains("newer"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_instances_share_registrations_and_the_rate_limit() {
    let db = PostgresDb::new().await;
    // Two instances starting together on an empty schema: the migration runs once.
    let (first, second) = tokio::join!(db.connect(), db.connect());
    let (first, second): (Store, Store) = (Arc::new(first), Arc::new(second));

    let reg = registration(1, "5a12ed", Platform::Fcm);
    first.upsert(&reg).await.unwrap();
    assert_eq!(second.by_node("5a12ed").await.unwrap(), Some(reg.clone()));
    assert_eq!(second.count().await.unwrap(), 1);

    assert_eq!(
        first.admit("5a12ed", T0, INTERVAL_MS).await.unwrap(),
        Admission::Now
    );
    assert_eq!(
        second.admit("5a12ed", T0, INTERVAL_MS).await.unwrap(),
        Admission::After {
            delay_ms: INTERVAL_MS
        }
    );
    assert_eq!(
        first.admit("5a12ed", T0, INTERVAL_MS).await.unwrap(),
        Admission::Coalesced
    );

    // Fifty publishes at once, spread over both instances.
    let other = registration(2, "5a12ee", Platform::Apns { sandbox: true });
    second.upsert(&other).await.unwrap();
    assert_eq!(
        concurrent_admits(&[Arc::clone(&first), Arc::clone(&second)], "5a12ee", 50).await,
        (1, 1, 48)
    );

    // An unregistration through one instance is seen by the other at once.
    assert!(second.delete_device(&reg.device_hash).await.unwrap());
    assert_eq!(first.by_node("5a12ed").await.unwrap(), None);
    assert_eq!(
        first
            .admit("5a12ed", T0 + 60_000, INTERVAL_MS)
            .await
            .unwrap(),
        Admission::UnknownNode
    );

    // A third instance later finds the schema up to date and the data there.
    let third = db.connect().await;
    assert_eq!(third.count().await.unwrap(), 1);
    let version: i32 = db
        .admin
        .query_one(
            &format!("SELECT version FROM {}.linnet_push_schema", db.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 1);
    drop((first, second, third));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_connection_errors_do_not_show_the_password() {
    // Port 1 on loopback: refused at once.
    let error = PostgresStore::connect("postgres://linnet:hunter2-secret@127.0.0.1:1/linnet_push")
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2-secret"), "{text}");

    let error = PostgresStore::connect("postgres://linnet:hunter2-secret@127.0.0.1:notaport/db")
        .await
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert!(!text.contains("hunter2-secret"), "{text}");

    let db = PostgresDb::new().await;
    let store = db.connect().await;
    assert!(!format!("{store:?}").contains("search_path"));
    drop(store);
    db.drop_schema().await;
}
