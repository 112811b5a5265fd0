//! Where the account's archive sync (XEP-0313) stands: the catch-up cursor and the gaps, ranges
//! of the server archive not fetched yet. Both are written in the same transaction as the move
//! they record, so an interrupted sync resumes where it stopped.

use rusqlite::{OptionalExtension, params};

use crate::roster::ensure_account;
use crate::{ArchiveGap, Store, StoreError, now_ms};

/// The `session_state` key of the catch-up cursor.
const CURSOR: &str = "archive.cursor";

/// Where the next catch-up starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveCursor {
    /// This device never synced: the first sync fetches the newest page first.
    NeverSynced,
    /// After this archive id (`None`: from the start of the archive, which was empty).
    After(Option<String>),
}

impl Store {
    pub fn archive_cursor(&self, account_id: i64) -> Result<ArchiveCursor, StoreError> {
        Ok(match self.get_state(account_id, CURSOR)? {
            None => ArchiveCursor::NeverSynced,
            Some(id) if id.is_empty() => ArchiveCursor::After(None),
            Some(id) => ArchiveCursor::After(Some(id)),
        })
    }

    /// Where the next catch-up starts (`None`: at the start of the archive).
    pub fn set_archive_cursor(
        &self,
        account_id: i64,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        crate::kv::put_state(&self.conn(), account_id, CURSOR, cursor.unwrap_or(""))
    }

    /// The gaps of the account's archive, oldest first.
    pub fn archive_gaps(&self, account_id: i64) -> Result<Vec<ArchiveGap>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, after_id, before_id, created_at FROM archive_gaps \
             WHERE account_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok(ArchiveGap {
                id: r.get(0)?,
                after_id: r.get(1)?,
                before_id: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a gap (`after_id`, `before_id`), and with `cursor` moves the catch-up cursor, in
    /// one transaction. Returns the gap.
    pub fn open_archive_gap(
        &self,
        account_id: i64,
        after_id: Option<&str>,
        before_id: Option<&str>,
        cursor: Option<Option<&str>>,
    ) -> Result<ArchiveGap, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_account(&tx, account_id)?;
        let created_at = now_ms();
        let id = tx.query_row(
            "INSERT INTO archive_gaps (account_id, after_id, before_id, created_at) \
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
            params![account_id, after_id, before_id, created_at],
            |r| r.get(0),
        )?;
        if let Some(cursor) = cursor {
            set_cursor(&tx, account_id, cursor)?;
        }
        tx.commit()?;
        Ok(ArchiveGap {
            id,
            after_id: after_id.map(str::to_string),
            before_id: before_id.map(str::to_string),
            created_at,
        })
    }

    /// The part of gap `gap_id` up to `after_id` was fetched (a page forward): the gap now starts
    /// there, and so does the next catch-up when `move_cursor`.
    pub fn archive_gap_fetched_after(
        &self,
        account_id: i64,
        gap_id: i64,
        after_id: &str,
        move_cursor: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE archive_gaps SET after_id = ?3 WHERE id = ?2 AND account_id = ?1",
            params![account_id, gap_id, after_id],
        )?;
        if move_cursor {
            set_cursor(&tx, account_id, Some(after_id))?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The part of gap `gap_id` from `before_id` on was fetched (a page backward).
    pub fn archive_gap_fetched_before(
        &self,
        account_id: i64,
        gap_id: i64,
        before_id: &str,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE archive_gaps SET before_id = ?3 WHERE id = ?2 AND account_id = ?1",
            )?
            .execute(params![account_id, gap_id, before_id])?;
        Ok(())
    }

    /// Gap `gap_id` is filled. Returns whether it existed.
    pub fn close_archive_gap(&self, account_id: i64, gap_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached("DELETE FROM archive_gaps WHERE id = ?2 AND account_id = ?1")?
            .execute(params![account_id, gap_id])?
            == 1)
    }

    /// The conversation with `peer` holds its whole history (the archive said so), or not.
    pub fn set_history_complete(
        &self,
        account_id: i64,
        peer: &str,
        complete: bool,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE conversations SET history_complete = ?3 \
                 WHERE account_id = ?1 AND peer = ?2",
            )?
            .execute(params![account_id, peer, complete])?;
        Ok(())
    }

    pub fn history_complete(&self, account_id: i64, peer: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT history_complete FROM conversations WHERE account_id = ?1 AND peer = ?2",
            )?
            .query_row(params![account_id, peer], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    /// The oldest archive id stored in the conversation with `peer` (by time), where paging back
    /// through its history continues.
    pub fn oldest_archive_id(
        &self,
        account_id: i64,
        peer: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT m.server_id FROM messages m JOIN conversations c \
                 ON c.id = m.conversation_id WHERE c.account_id = ?1 AND c.peer = ?2 \
                 AND m.server_id IS NOT NULL ORDER BY m.timestamp, m.position LIMIT 1",
            )?
            .query_row(params![account_id, peer], |r| r.get(0))
            .optional()?)
    }

    /// When the message with archive id `server_id` was sent, if it is stored.
    pub fn archived_at(&self, account_id: i64, server_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT timestamp FROM messages WHERE account_id = ?1 AND server_id = ?2",
            )?
            .query_row(params![account_id, server_id], |r| r.get(0))
            .optional()?)
    }
}

fn set_cursor(
    tx: &rusqlite::Transaction<'_>,
    account_id: i64,
    cursor: Option<&str>,
) -> Result<(), StoreError> {
    crate::kv::put_state(tx, account_id, CURSOR, cursor.unwrap_or(""))
}
