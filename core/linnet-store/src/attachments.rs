//! Files attached to messages: the upload queue, downloads and their states.
//!
//! Progress within a transfer is not stored (a transfer interrupted by a restart starts over:
//! an upload slot cannot be resumed, XEP-0363); states, reasons and the backoff are.

use rusqlite::{OptionalExtension, Row, Transaction, params};

use crate::messages::select_message;
use crate::{
    Attachment, Message, NewAttachment, Store, StoreError, TransferDirection, TransferState, now_ms,
};

/// Reads the attachment columns starting at `first` (all NULL from a LEFT JOIN: no attachment).
pub(crate) fn attachment_from_row(
    row: &Row<'_>,
    first: usize,
) -> rusqlite::Result<Option<Attachment>> {
    let Some(message_id) = row.get::<_, Option<i64>>(first)? else {
        return Ok(None);
    };
    let size: Option<i64> = row.get(first + 7)?;
    let width: Option<i64> = row.get(first + 8)?;
    let height: Option<i64> = row.get(first + 9)?;
    Ok(Some(Attachment {
        message_id,
        direction: row.get(first + 1)?,
        url: row.get(first + 2)?,
        source_path: row.get(first + 3)?,
        local_path: row.get(first + 4)?,
        file_name: row.get(first + 5)?,
        media_type: row.get(first + 6)?,
        size: size.and_then(|s| u64::try_from(s).ok()),
        dimensions: width
            .zip(height)
            .and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))),
        state: row.get(first + 10)?,
        failure_kind: row.get(first + 11)?,
        failure_reason: row.get(first + 12)?,
        attempts: row.get(first + 13)?,
        next_attempt_at: row.get(first + 14)?,
    }))
}

/// Stores the attachment of message `message_id` (just inserted, in the same transaction).
pub(crate) fn insert(
    tx: &Transaction<'_>,
    message_id: i64,
    a: &NewAttachment,
) -> Result<(), StoreError> {
    match a.direction {
        TransferDirection::Upload if a.source_path.is_none() => {
            return Err(StoreError::Invalid("an upload needs a source file"));
        }
        TransferDirection::Download if a.url.is_none() => {
            return Err(StoreError::Invalid("a download needs a URL"));
        }
        _ => {}
    }
    let size = a.size.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
    let local_path = match a.direction {
        TransferDirection::Upload => a.source_path.as_deref(),
        TransferDirection::Download => None,
    };
    tx.prepare_cached(
        "INSERT INTO attachments (message_id, direction, url, source_path, local_path, \
             file_name, media_type, size, width, height, state, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        message_id,
        a.direction,
        a.url,
        a.source_path,
        local_path,
        a.file_name,
        a.media_type,
        size,
        a.dimensions.map(|d| d.0),
        a.dimensions.map(|d| d.1),
        a.state,
        now_ms(),
    ])?;
    Ok(())
}

/// Selects messages with their attachment; append `WHERE ...` on `a.` and `m.` columns.
macro_rules! waiting_transfers {
    ($direction:literal) => {
        concat!(
            select_message!(),
            "WHERE m.account_id = ?1 AND a.direction = '",
            $direction,
            "' AND a.state = 'queued' ORDER BY coalesce(a.next_attempt_at, 0), m.id"
        )
    };
}

impl Store {
    /// The attachment of message `message_id`, if it has one.
    pub fn attachment(&self, message_id: i64) -> Result<Option<Attachment>, StoreError> {
        Ok(self.message(message_id)?.and_then(|m| m.attachment))
    }

    /// Uploads waiting to run (also those waiting out a backoff: see `next_attempt_at`), in
    /// the order they were queued.
    pub fn queued_uploads(&self, account_id: i64) -> Result<Vec<Message>, StoreError> {
        self.messages_where(waiting_transfers!("upload"), account_id)
    }

    /// Downloads the policy or the user asked for, waiting to run.
    pub fn queued_downloads(&self, account_id: i64) -> Result<Vec<Message>, StoreError> {
        self.messages_where(waiting_transfers!("download"), account_id)
    }

    fn messages_where(&self, sql: &str, account_id: i64) -> Result<Vec<Message>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([account_id], crate::messages::message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Transfers that were running when the app stopped go back to the queue (at startup,
    /// before any transfer runs). Returns how many. Only the first call per account on this
    /// `Store` does anything: later clients of the account find the transfers of the first
    /// running, not interrupted. (Two processes on one database are not told apart: the
    /// second would restart the first one's running transfers.)
    pub fn requeue_interrupted_transfers(&self, account_id: i64) -> Result<usize, StoreError> {
        if !self
            .transfers_requeued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(account_id)
        {
            return Ok(0);
        }
        Ok(self.conn().execute(
            "UPDATE attachments SET state = 'queued', next_attempt_at = NULL, updated_at = ?2 \
             WHERE state = 'transferring' AND message_id IN \
                 (SELECT id FROM messages WHERE account_id = ?1)",
            params![account_id, now_ms()],
        )?)
    }

    /// `Queued -> Transferring`, counting an attempt. False: not queued (any more).
    pub fn start_transfer(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_attachment(
            "UPDATE attachments SET state = 'transferring', attempts = attempts + 1, \
                 failure_kind = NULL, failure_reason = NULL, updated_at = ?2 \
             WHERE message_id = ?1 AND state = 'queued'",
            params![message_id, now_ms()],
        )
    }

    /// A finished upload: the file is at `url`, which becomes the message's body (what the
    /// wire, the archive and carbons carry, so that their copies deduplicate against this row).
    /// The message can leave the outbox now.
    pub fn finish_upload(&self, message_id: i64, url: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE attachments SET state = 'done', url = ?2, updated_at = ?3 \
             WHERE message_id = ?1 AND direction = 'upload' AND state = 'transferring'",
            params![message_id, url, now_ms()],
        )? == 1;
        if changed {
            tx.execute(
                "UPDATE messages SET body = ?2 WHERE id = ?1",
                params![message_id, url],
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// A finished download, stored at `local_path` (a generated name in the app's storage).
    pub fn finish_download(
        &self,
        message_id: i64,
        local_path: &str,
        size: u64,
        media_type: Option<&str>,
        dimensions: Option<(u32, u32)>,
    ) -> Result<bool, StoreError> {
        self.update_attachment(
            "UPDATE attachments SET state = 'done', local_path = ?2, size = ?3, \
                 media_type = coalesce(?4, media_type), width = ?5, height = ?6, updated_at = ?7 \
             WHERE message_id = ?1 AND direction = 'download' AND state = 'transferring'",
            params![
                message_id,
                local_path,
                i64::try_from(size).unwrap_or(i64::MAX),
                media_type,
                dimensions.map(|d| d.0),
                dimensions.map(|d| d.1),
                now_ms()
            ],
        )
    }

    /// What a HEAD request (or the first response) said about a download.
    pub fn set_download_info(
        &self,
        message_id: i64,
        size: Option<u64>,
        media_type: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.update_attachment(
            "UPDATE attachments SET size = coalesce(?2, size), \
                 media_type = coalesce(?3, media_type), updated_at = ?4 \
             WHERE message_id = ?1 AND direction = 'download'",
            params![
                message_id,
                size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
                media_type,
                now_ms()
            ],
        )
    }

    /// A failed attempt. With `retry_at`, the transfer waits in the queue until then (a
    /// transient failure); without, it is `Failed` until someone retries it.
    pub fn fail_transfer(
        &self,
        message_id: i64,
        kind: &str,
        reason: &str,
        retry_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let state = if retry_at.is_some() {
            TransferState::Queued
        } else {
            TransferState::Failed
        };
        self.update_attachment(
            "UPDATE attachments SET state = ?2, failure_kind = ?3, failure_reason = ?4, \
                 next_attempt_at = ?5, updated_at = ?6 \
             WHERE message_id = ?1 AND state IN ('queued', 'transferring')",
            params![message_id, state, kind, reason, retry_at, now_ms()],
        )
    }

    /// Cancels a transfer that has not finished. False: nothing to cancel.
    pub fn cancel_transfer(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_attachment(
            "UPDATE attachments SET state = 'cancelled', failure_kind = 'cancelled', \
                 failure_reason = 'cancelled', next_attempt_at = NULL, updated_at = ?2 \
             WHERE message_id = ?1 AND state IN ('offered', 'queued', 'transferring')",
            params![message_id, now_ms()],
        )
    }

    /// Queues a transfer: a download the user asked for (offered), or a retry after a failure
    /// or a cancel. For an upload the message goes back to the outbox too (it waits there
    /// until the upload is done). False: nothing to queue (running or done).
    pub fn queue_transfer(&self, message_id: i64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = tx.execute(
            "UPDATE attachments SET state = 'queued', next_attempt_at = NULL, updated_at = ?2 \
             WHERE message_id = ?1 AND state IN ('offered', 'failed', 'cancelled')",
            params![message_id, now_ms()],
        )? == 1;
        if changed {
            tx.execute(
                "UPDATE messages SET state = 'queued', failure_reason = NULL \
                 WHERE id = ?1 AND direction = 'out' AND state = 'failed'",
                [message_id],
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    fn update_attachment(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<bool, StoreError> {
        Ok(self.conn().prepare_cached(sql)?.execute(params)? == 1)
    }

    /// The account a message belongs to, for checks at the API edge.
    pub fn message_account(&self, message_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT account_id FROM messages WHERE id = ?1",
                [message_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}
