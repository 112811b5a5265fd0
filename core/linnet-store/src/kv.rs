//! Per-account key/value session state (stream management, last MAM id, ...).
//! Values are opaque text; callers choose the encoding.

use rusqlite::{OptionalExtension, params};

use crate::{Store, StoreError};

impl Store {
    pub fn get_state(&self, account_id: i64, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("SELECT value FROM session_state WHERE account_id = ?1 AND key = ?2")?
            .query_row(params![account_id, key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_state(&self, account_id: i64, key: &str, value: &str) -> Result<(), StoreError> {
        put_state(&self.conn(), account_id, key, value)
    }

    /// Returns whether the key existed.
    pub fn delete_state(&self, account_id: i64, key: &str) -> Result<bool, StoreError> {
        let changed = self
            .conn()
            .prepare_cached("DELETE FROM session_state WHERE account_id = ?1 AND key = ?2")?
            .execute(params![account_id, key])?;
        Ok(changed == 1)
    }
}

/// `set_state` on a connection or inside a caller's transaction.
pub(crate) fn put_state(
    conn: &rusqlite::Connection,
    account_id: i64,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO session_state (account_id, key, value) VALUES (?1, ?2, ?3) \
         ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![account_id, key, value])?;
    Ok(())
}
