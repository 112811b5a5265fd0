//! The embedded registration store: one SQLite file, for a single linnet-push instance.
//!
//! rusqlite blocks, so every call runs on tokio's blocking pool and takes the one connection
//! behind a mutex: calls are serialized, which also makes each of them atomic.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{Admission, Platform, Registration, RegistrationStore, StoreError};

/// `MIGRATIONS[n]` upgrades the schema from `user_version` n to n+1. Never edit a shipped one:
/// append.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE registrations (
        node TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        device_hash TEXT NOT NULL,
        domain TEXT NOT NULL,
        platform TEXT NOT NULL,
        token TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        -- The rate limit: the earliest time (ms) the next push may go out.
        next_slot_at_ms INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE UNIQUE INDEX registrations_node ON registrations (node);
    CREATE UNIQUE INDEX registrations_device_hash ON registrations (device_hash);
"];

/// A registration store in one SQLite file (WAL).
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path).map_err(backend("open"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(backend("enable WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "sqlite: journal mode is {mode}, not WAL"
            )));
        }
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend("set busy timeout"))?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` on the blocking pool with the connection held.
    async fn with_conn<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("sqlite: connection lock poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite: blocking task failed: {e}")))?
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(backend("begin migration"))?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend("read schema version"))?;
    let start = crate::store::first_pending_migration("sqlite", found, MIGRATIONS.len())?;
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(sql).map_err(backend("migrate"))?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(backend("write schema version"))?;
    }
    tx.commit().map_err(backend("commit migration"))
}

/// Maps a rusqlite error to a `StoreError`. rusqlite's messages name tables and constraints,
/// never the bound values, so no token or secret can leak through them.
fn backend(operation: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Backend(format!("sqlite {operation}: {e}"))
}

pub(crate) fn platform_to_text(platform: Platform) -> &'static str {
    match platform {
        Platform::Apns { sandbox: true } => "apns-sandbox",
        Platform::Apns { sandbox: false } => "apns-production",
        Platform::Fcm => "fcm",
    }
}

pub(crate) fn platform_from_text(text: &str) -> Result<Platform, StoreError> {
    match text {
        "apns-sandbox" => Ok(Platform::Apns { sandbox: true }),
        "apns-production" => Ok(Platform::Apns { sandbox: false }),
        "fcm" => Ok(Platform::Fcm),
        _ => Err(StoreError::Backend("store: unknown platform value".into())),
    }
}

/// The latest slot `admit` may still grant, `now + interval`. Checked here, together with the
/// largest value `next_slot_at` can then take (`now + 2 * interval`), so that the database's
/// arithmetic never overflows.
pub(crate) fn latest_admitted_slot(now_ms: i64, interval_ms: i64) -> Result<i64, StoreError> {
    if interval_ms < 0 {
        return Err(StoreError::Backend("rate limit: negative interval".into()));
    }
    interval_ms
        .checked_mul(2)
        .and_then(|twice| now_ms.checked_add(twice))
        .and_then(|_| now_ms.checked_add(interval_ms))
        .ok_or_else(|| StoreError::Backend("rate limit: time out of range".into()))
}

/// Turns the new `next_slot_at` an admitting UPDATE returned into the decision.
pub(crate) fn admission_from_next_slot(
    next_slot_at_ms: i64,
    now_ms: i64,
    interval_ms: i64,
) -> Admission {
    let delay_ms = next_slot_at_ms - interval_ms - now_ms;
    if delay_ms <= 0 {
        Admission::Now
    } else {
        Admission::After { delay_ms }
    }
}

/// Reads one row; the outer error is SQLite's, the inner one a platform value this build does
/// not know.
fn registration_from_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<Registration, StoreError>> {
    let platform: String = row.get("platform")?;
    let platform = match platform_from_text(&platform) {
        Ok(platform) => platform,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Registration {
        node: row.get("node")?,
        secret_hash: row.get("secret_hash")?,
        device_hash: row.get("device_hash")?,
        domain: row.get("domain")?,
        platform,
        token: row.get("token")?,
        created_at_ms: row.get("created_at_ms")?,
    }))
}

#[async_trait]
impl RegistrationStore for SqliteStore {
    async fn upsert(&self, reg: &Registration) -> Result<(), StoreError> {
        let reg = reg.clone();
        self.with_conn(move |conn| {
            // One statement: a device registering again gets its new node, secret and token
            // (its old node stops working at once); a node another device holds is a
            // unique-constraint error.
            conn.execute(
                "INSERT INTO registrations
                     (node, secret_hash, device_hash, domain, platform, token, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (device_hash) DO UPDATE SET
                     node = excluded.node,
                     secret_hash = excluded.secret_hash,
                     domain = excluded.domain,
                     platform = excluded.platform,
                     token = excluded.token,
                     created_at_ms = excluded.created_at_ms,
                     next_slot_at_ms = 0",
                params![
                    reg.node,
                    reg.secret_hash,
                    reg.device_hash,
                    reg.domain,
                    platform_to_text(reg.platform),
                    reg.token,
                    reg.created_at_ms,
                ],
            )
            .map_err(backend("upsert"))?;
            Ok(())
        })
        .await
    }

    async fn by_node(&self, node: &str) -> Result<Option<Registration>, StoreError> {
        let node = node.to_owned();
        self.with_conn(move |conn| {
            let found = conn
                .query_row(
                    "SELECT node, secret_hash, device_hash, domain, platform, token, created_at_ms
                     FROM registrations WHERE node = ?1",
                    params![node],
                    registration_from_row,
                )
                .optional()
                .map_err(backend("by_node"))?;
            found.transpose()
        })
        .await
    }

    async fn delete_node(&self, node: &str) -> Result<bool, StoreError> {
        let node = node.to_owned();
        self.with_conn(move |conn| {
            let deleted = conn
                .execute("DELETE FROM registrations WHERE node = ?1", params![node])
                .map_err(backend("delete_node"))?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn delete_device(&self, device_hash: &str) -> Result<bool, StoreError> {
        let device_hash = device_hash.to_owned();
        self.with_conn(move |conn| {
            let deleted = conn
                .execute(
                    "DELETE FROM registrations WHERE device_hash = ?1",
                    params![device_hash],
                )
                .map_err(backend("delete_device"))?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn admit(
        &self,
        node: &str,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<Admission, StoreError> {
        let latest_slot_ms = latest_admitted_slot(now_ms, interval_ms)?;
        let node = node.to_owned();
        self.with_conn(move |conn| {
            // slot = max(now, next_slot_at); admitted when slot <= now + interval (at most one
            // push waits behind the current one), and then next_slot_at = slot + interval.
            let next_slot_at: Option<i64> = conn
                .query_row(
                    "UPDATE registrations
                     SET next_slot_at_ms = MAX(?2, next_slot_at_ms) + ?3
                     WHERE node = ?1 AND next_slot_at_ms <= ?4
                     RETURNING next_slot_at_ms",
                    params![node, now_ms, interval_ms, latest_slot_ms],
                    |row| row.get(0),
                )
                .optional()
                .map_err(backend("admit"))?;
            if let Some(next_slot_at) = next_slot_at {
                return Ok(admission_from_next_slot(next_slot_at, now_ms, interval_ms));
            }
            // The connection is held, so nothing changed in between.
            let exists = conn
                .query_row(
                    "SELECT 1 FROM registrations WHERE node = ?1",
                    params![node],
                    |_| Ok(()),
                )
                .optional()
                .map_err(backend("admit"))?
                .is_some();
            Ok(if exists {
                Admission::Coalesced
            } else {
                Admission::UnknownNode
            })
        })
        .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.with_conn(|conn| {
            let count: i64 = conn
                .query_row("SELECT count(*) FROM registrations", [], |row| row.get(0))
                .map_err(backend("count"))?;
            u64::try_from(count)
                .map_err(|_| StoreError::Backend("sqlite count: negative count".into()))
        })
        .await
    }
}
