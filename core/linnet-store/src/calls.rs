//! The call log: one row per call, from the first ring (or the stranger's silent attempt) to
//! its end and why.

use rusqlite::{OptionalExtension, Row, params};

use crate::{CallEndReason, CallRecord, NewCall, Store, StoreError};

const SELECT_CALL: &str = "SELECT id, account_id, session_id, peer, direction, phone_number, \
     started_at, answered_at, ended_at, end_reason, silent FROM calls";

fn call_from_row(row: &Row<'_>) -> rusqlite::Result<CallRecord> {
    Ok(CallRecord {
        id: row.get(0)?,
        account_id: row.get(1)?,
        session_id: row.get(2)?,
        peer: row.get(3)?,
        direction: row.get(4)?,
        phone_number: row.get(5)?,
        started_at: row.get(6)?,
        answered_at: row.get(7)?,
        ended_at: row.get(8)?,
        end_reason: row.get(9)?,
        silent: row.get(10)?,
    })
}

impl Store {
    /// Logs a call; the same session with the same peer is one call (a repeated propose, a
    /// carbon of our own) and returns the existing row's id.
    pub fn insert_call(&self, call: &NewCall) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO calls (account_id, session_id, peer, direction, phone_number, \
                 started_at, silent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account_id, session_id, peer) DO NOTHING",
            params![
                call.account_id,
                call.session_id,
                call.peer,
                call.direction,
                call.phone_number,
                call.started_at,
                call.silent
            ],
        )?;
        Ok(conn.query_row(
            "SELECT id FROM calls WHERE account_id = ?1 AND session_id = ?2 AND peer = ?3",
            params![call.account_id, call.session_id, call.peer],
            |r| r.get(0),
        )?)
    }

    /// The call was answered (here or, for the log, elsewhere). False: already answered or ended.
    pub fn call_answered(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "UPDATE calls SET answered_at = ?2 \
             WHERE id = ?1 AND answered_at IS NULL AND ended_at IS NULL",
            params![id, at],
        )? == 1)
    }

    /// Ends a call. The first end wins: false if it had ended already.
    pub fn end_call(&self, id: i64, reason: CallEndReason, at: i64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "UPDATE calls SET ended_at = ?2, end_reason = ?3 WHERE id = ?1 AND ended_at IS NULL",
            params![id, at, reason],
        )? == 1)
    }

    pub fn call(&self, id: i64) -> Result<Option<CallRecord>, StoreError> {
        Ok(self
            .conn()
            .query_row(&format!("{SELECT_CALL} WHERE id = ?1"), [id], call_from_row)
            .optional()?)
    }

    /// The newest `limit` calls of an account, newest first.
    pub fn calls(&self, account_id: i64, limit: u32) -> Result<Vec<CallRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_CALL} WHERE account_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![account_id, limit], call_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls left open when the app stopped end as `interrupted` (at startup, before any call
    /// runs). Returns how many.
    pub fn end_interrupted_calls(&self, account_id: i64, at: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "UPDATE calls SET ended_at = ?2, end_reason = ?3 \
             WHERE account_id = ?1 AND ended_at IS NULL",
            params![account_id, at, CallEndReason::Interrupted],
        )?)
    }
}
