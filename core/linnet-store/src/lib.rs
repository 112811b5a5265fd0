//! Linnet's SQLite store: the single source of truth for accounts, roster,
//! conversations, messages and the outbox.
//!
//! # Connection model
//!
//! One [`rusqlite::Connection`] behind a [`Mutex`] serves both reads and
//! writes. Every operation is a short indexed query, so contention is
//! negligible for a messenger, and a single connection means callers never
//! see a read that lags behind their own write. [`Store`] is `Send + Sync`;
//! share it with `Arc`. It is synchronous: async callers call it directly for
//! these short operations.
//!
//! The database runs in WAL mode with `synchronous = NORMAL`: an application
//! crash never loses a committed transaction; a power loss may roll back the
//! last few, never corrupts.
//!
//! # Timestamps
//!
//! All times are `i64` milliseconds since the Unix epoch.

mod accounts;
mod archive;
mod attachments;
mod calls;
mod kv;
mod messages;
mod push;
mod roster;
mod schema;
mod types;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub use archive::ArchiveCursor;
pub use push::{PushPlatformKind, StoredPushRegistration, StoredPushSettings};
pub use schema::SCHEMA_VERSION;
pub use types::*;

/// How long a statement waits for another connection's lock before failing
/// with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer Linnet (or is not ours): refuse to touch it.
    #[error(
        "database schema version {found} is not supported (this build knows up to {supported})"
    )]
    UnsupportedSchema { found: i64, supported: i64 },
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}

/// The store. See the crate docs for the connection model.
pub struct Store {
    conn: Mutex<Connection>,
    /// Accounts whose interrupted transfers were queued again by this instance: only once,
    /// or a second client of the same account would restart the first one's transfers.
    transfers_requeued: Mutex<std::collections::HashSet<i64>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::setup(Connection::open(path)?)
    }

    /// A private in-memory database (tests, previews). Not WAL: SQLite keeps
    /// in-memory journals in memory.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            tracing::warn!(%mode, "SQLite refused WAL journal mode");
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            transfers_requeued: Mutex::default(),
            conn: Mutex::new(conn),
        })
    }

    /// The schema version of the open database (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Locks the connection. A poisoned lock is recovered: the only way to
    /// poison it is a panic inside an operation, and any open transaction
    /// rolled back when its guard unwound, so the connection is consistent.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Current wall-clock time in ms since the epoch (0 if the clock is before 1970).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
