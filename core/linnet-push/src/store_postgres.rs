//! The shared registration store: PostgreSQL, for several linnet-push instances behind one
//! component name. Every method is one statement (or one transaction), so instances and tasks
//! need no coordination besides the database.
//!
//! Plain TCP (NoTls): the database is expected on loopback or a private link. TLS to the
//! database is not implemented yet.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::store::{Admission, Registration, RegistrationStore, StoreError};
use crate::store_sqlite::{
    admission_from_next_slot, latest_admitted_slot, platform_from_text, platform_to_text,
};

/// Connections per instance: enough for a burst of publishes, small enough that several
/// instances fit in PostgreSQL's default `max_connections` (100).
const POOL_SIZE: usize = 8;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a task waits for a free connection before the publish gets a `wait` error.
const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serializes migrations between instances starting together (`pg_advisory_xact_lock` key:
/// "linnet-push" in ASCII, an arbitrary constant no other program of ours uses).
const MIGRATION_LOCK_KEY: i64 = 0x6c69_6e6e_6574_2d70;

/// `MIGRATIONS[n]` upgrades the schema from version n to n+1 (table `linnet_push_schema`).
/// Never edit a shipped one: append.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE registrations (
        node TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        device_hash TEXT NOT NULL,
        domain TEXT NOT NULL,
        platform TEXT NOT NULL
            CHECK (platform IN ('apns-sandbox', 'apns-production', 'fcm')),
        token TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        -- The rate limit: the earliest time (ms) the next push may go out.
        next_slot_at_ms BIGINT NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX registrations_node ON registrations (node);
    CREATE UNIQUE INDEX registrations_device_hash ON registrations (device_hash);
"];

/// A registration store in a PostgreSQL database, with a small connection pool.
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    // The pool's configuration holds the connection URL, which may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, libpq's key=value form works too)
    /// and brings the schema up to date. Safe when several instances start at once.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        // The parse error never repeats the URL (which may hold a password).
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("postgres: invalid URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres: pool: {e}")))?;
        let store = PostgresStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => backend("connect")(e),
            other => StoreError::Backend(format!("postgres connect: {other}")),
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        let tx = conn.transaction().await.map_err(backend("migrate"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await
            .map_err(backend("migration lock"))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS linnet_push_schema (version INTEGER NOT NULL)",
        )
        .await
        .map_err(backend("migrate"))?;
        let row = tx
            .query_opt("SELECT version FROM linnet_push_schema", &[])
            .await
            .map_err(backend("read schema version"))?;
        let found: i32 = match row {
            Some(row) => row.try_get(0).map_err(backend("read schema version"))?,
            None => {
                tx.execute("INSERT INTO linnet_push_schema (version) VALUES (0)", &[])
                    .await
                    .map_err(backend("write schema version"))?;
                0
            }
        };
        let start =
            crate::store::first_pending_migration("postgres", i64::from(found), MIGRATIONS.len())?;
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            let next = i32::try_from(version + 1)
                .map_err(|_| StoreError::Backend("postgres: too many migrations".into()))?;
            tx.batch_execute(sql).await.map_err(backend("migrate"))?;
            tx.execute("UPDATE linnet_push_schema SET version = $1", &[&next])
                .await
                .map_err(backend("write schema version"))?;
        }
        tx.commit().await.map_err(backend("commit migration"))
    }
}

/// Maps a tokio-postgres error to a `StoreError`. A server error is reduced to its SQLSTATE,
/// message and constraint: its DETAIL may quote row values (a unique violation shows the key).
fn backend(operation: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| match e.as_db_error() {
        Some(db) => {
            let constraint = db
                .constraint()
                .map(|c| format!(" (constraint {c})"))
                .unwrap_or_default();
            StoreError::Backend(format!(
                "postgres {operation}: {} [{}]{constraint}",
                db.message(),
                db.code().code()
            ))
        }
        // Connection and protocol errors: no row values in them.
        None => StoreError::Backend(format!("postgres {operation}: {e}")),
    }
}

fn registration_from_row(row: &tokio_postgres::Row) -> Result<Registration, StoreError> {
    let get = backend("read registration");
    let platform: String = row.try_get("platform").map_err(&get)?;
    Ok(Registration {
        node: row.try_get("node").map_err(&get)?,
        secret_hash: row.try_get("secret_hash").map_err(&get)?,
        device_hash: row.try_get("device_hash").map_err(&get)?,
        domain: row.try_get("domain").map_err(&get)?,
        platform: platform_from_text(&platform)?,
        token: row.try_get("token").map_err(&get)?,
        created_at_ms: row.try_get("created_at_ms").map_err(&get)?,
    })
}

#[async_trait]
impl RegistrationStore for PostgresStore {
    async fn upsert(&self, reg: &Registration) -> Result<(), StoreError> {
        let conn = self.connection().await?;
        // One statement: a device registering again gets its new node, secret and token (its
        // old node stops working at once); a node another device holds is a unique violation.
        conn.execute(
            "INSERT INTO registrations
                 (node, secret_hash, device_hash, domain, platform, token, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (device_hash) DO UPDATE SET
                 node = EXCLUDED.node,
                 secret_hash = EXCLUDED.secret_hash,
                 domain = EXCLUDED.domain,
                 platform = EXCLUDED.platform,
                 token = EXCLUDED.token,
                 created_at_ms = EXCLUDED.created_at_ms,
                 next_slot_at_ms = 0",
            &[
                &reg.node,
                &reg.secret_hash,
                &reg.device_hash,
                &reg.domain,
                &platform_to_text(reg.platform),
                &reg.token,
                &reg.created_at_ms,
            ],
        )
        .await
        .map_err(backend("upsert"))?;
        Ok(())
    }

    async fn by_node(&self, node: &str) -> Result<Option<Registration>, StoreError> {
        let conn = self.connection().await?;
        let row = conn
            .query_opt(
                "SELECT node, secret_hash, device_hash, domain, platform, token, created_at_ms
                 FROM registrations WHERE node = $1",
                &[&node],
            )
            .await
            .map_err(backend("by_node"))?;
        row.as_ref().map(registration_from_row).transpose()
    }

    async fn delete_node(&self, node: &str) -> Result<bool, StoreError> {
        let conn = self.connection().await?;
        let deleted = conn
            .execute("DELETE FROM registrations WHERE node = $1", &[&node])
            .await
            .map_err(backend("delete_node"))?;
        Ok(deleted > 0)
    }

    async fn delete_device(&self, device_hash: &str) -> Result<bool, StoreError> {
        let conn = self.connection().await?;
        let deleted = conn
            .execute(
                "DELETE FROM registrations WHERE device_hash = $1",
                &[&device_hash],
            )
            .await
            .map_err(backend("delete_device"))?;
        Ok(deleted > 0)
    }

    async fn admit(
        &self,
        node: &str,
        now_ms: i64,
        interval_ms: i64,
    ) -> Result<Admission, StoreError> {
        let latest_slot_ms = latest_admitted_slot(now_ms, interval_ms)?;
        let conn = self.connection().await?;
        // slot = max(now, next_slot_at); admitted when slot <= now + interval (at most one push
        // waits behind the current one), and then next_slot_at = slot + interval. Concurrent
        // updates of the row queue on its lock and re-check the WHERE against the new row
        // (READ COMMITTED), so one statement is atomic across instances.
        let row = conn
            .query_opt(
                "UPDATE registrations
                 SET next_slot_at_ms = GREATEST($2::BIGINT, next_slot_at_ms) + $3::BIGINT
                 WHERE node = $1 AND next_slot_at_ms <= $4::BIGINT
                 RETURNING next_slot_at_ms",
                &[&node, &now_ms, &interval_ms, &latest_slot_ms],
            )
            .await
            .map_err(backend("admit"))?;
        if let Some(row) = row {
            let next_slot_at: i64 = row.try_get(0).map_err(backend("admit"))?;
            return Ok(admission_from_next_slot(next_slot_at, now_ms, interval_ms));
        }
        // Not admitted: a push is already queued, or there is no such node. (A node deleted
        // between the two statements reads as unknown, which is also a true answer.)
        let exists = conn
            .query_opt("SELECT 1 FROM registrations WHERE node = $1", &[&node])
            .await
            .map_err(backend("admit"))?
            .is_some();
        Ok(if exists {
            Admission::Coalesced
        } else {
            Admission::UnknownNode
        })
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let conn = self.connection().await?;
        let row = conn
            .query_one("SELECT count(*) FROM registrations", &[])
            .await
            .map_err(backend("count"))?;
        let count: i64 = row.try_get(0).map_err(backend("count"))?;
        u64::try_from(count)
            .map_err(|_| StoreError::Backend("postgres count: negative count".into()))
    }
}
