//! Conversations, messages, delivery states and the outbox.
//!
//! Deduplication is enforced by unique indexes (see `schema.rs`), not by
//! application checks, so it holds across connections and processes.

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::roster::ensure_account;
use crate::{
    ChatSummary, Conversation, Direction, InsertOutcome, LastMessage, Message, MessageState,
    NewMessage, OutboxCounts, Placement, Store, StoreError, now_ms,
};

macro_rules! conversation_columns {
    () => {
        "c.id, c.account_id, c.peer, c.last_activity, c.unread_count"
    };
}

fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: row.get(0)?,
        account_id: row.get(1)?,
        peer: row.get(2)?,
        last_activity: row.get(3)?,
        unread_count: row.get(4)?,
    })
}

/// Selects the columns read by [`message_from_row`]; append `WHERE ...`.
macro_rules! select_message {
    () => {
        "SELECT m.id, m.account_id, m.conversation_id, c.peer, m.direction, m.sender, \
         m.sender_resource, m.xmpp_id, m.origin_id, m.server_id, m.body, m.timestamp, \
         m.received_at, m.is_carbon, m.state, m.failure_reason, m.attempts, m.position, \
         a.message_id, a.direction, a.url, a.source_path, a.local_path, a.file_name, \
         a.media_type, a.size, a.width, a.height, a.state, a.failure_kind, a.failure_reason, \
         a.attempts, a.next_attempt_at \
         FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         LEFT JOIN attachments a ON a.message_id = m.id "
    };
}

pub(crate) use select_message;

/// An `UPDATE` of one outgoing message (`?1`) allowed only from some states.
macro_rules! transition {
    ($set:literal, $from:literal) => {
        concat!(
            "UPDATE messages SET ",
            $set,
            " WHERE id = ?1 AND direction = 'out' AND ",
            $from
        )
    };
}

pub(crate) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        account_id: row.get(1)?,
        conversation_id: row.get(2)?,
        peer: row.get(3)?,
        direction: row.get(4)?,
        sender: row.get(5)?,
        sender_resource: row.get(6)?,
        xmpp_id: row.get(7)?,
        origin_id: row.get(8)?,
        server_id: row.get(9)?,
        body: row.get(10)?,
        timestamp: row.get(11)?,
        received_at: row.get(12)?,
        is_carbon: row.get(13)?,
        state: row.get(14)?,
        failure_reason: row.get(15)?,
        attempts: row.get(16)?,
        position: row.get(17)?,
        attachment: crate::attachments::attachment_from_row(row, 18)?,
    })
}

/// Returns the conversation id, creating the conversation with
/// `last_activity = activity` if it does not exist.
fn conversation_id(
    conn: &Connection,
    account_id: i64,
    peer: &str,
    activity: i64,
) -> Result<i64, StoreError> {
    if peer.is_empty() {
        return Err(StoreError::Invalid("empty peer JID"));
    }
    Ok(conn
        .prepare_cached(
            "INSERT INTO conversations (account_id, peer, last_activity) VALUES (?1, ?2, ?3) \
             ON CONFLICT (account_id, peer) DO UPDATE SET peer = excluded.peer RETURNING id",
        )?
        .query_row(params![account_id, peer, activity], |r| r.get(0))?)
}

/// An empty id is no id: it must not make unrelated messages collide.
fn non_empty(id: &Option<String>) -> Option<&str> {
    id.as_deref().filter(|s| !s.is_empty())
}

/// The checks every stored message passes.
fn validate(new: &NewMessage) -> Result<(), StoreError> {
    if !new.state.fits(new.direction) {
        return Err(StoreError::Invalid(
            "message state does not fit its direction",
        ));
    }
    if new.state == MessageState::Failed {
        return Err(StoreError::Invalid("a message cannot be stored as failed"));
    }
    if new.sender.is_empty() {
        return Err(StoreError::Invalid("empty sender JID"));
    }
    Ok(())
}

/// Inserts one validated message in `tx` at `position`.
fn insert_one(
    tx: &rusqlite::Transaction<'_>,
    new: &NewMessage,
    position: i64,
) -> Result<InsertOutcome, StoreError> {
    let xmpp_id = non_empty(&new.xmpp_id);
    let origin_id = non_empty(&new.origin_id);
    let server_id = non_empty(&new.server_id);

    ensure_account(tx, new.account_id)?;
    let conv = conversation_id(tx, new.account_id, &new.peer, new.timestamp)?;
    let inserted: Option<i64> = tx
        .prepare_cached(
            "INSERT INTO messages (account_id, conversation_id, direction, sender, \
                 sender_resource, xmpp_id, origin_id, server_id, body, timestamp, received_at, \
                 is_carbon, state, position) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                 ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                new.account_id,
                conv,
                new.direction,
                new.sender,
                new.sender_resource,
                xmpp_id,
                origin_id,
                server_id,
                new.body,
                new.timestamp,
                now_ms(),
                new.is_carbon,
                new.state,
                position
            ],
            |r| r.get(0),
        )
        .optional()?;

    let outcome = if let Some(id) = inserted {
        let unread = new.direction == Direction::Incoming && new.state == MessageState::Received;
        tx.prepare_cached(
            "UPDATE conversations SET last_activity = max(last_activity, ?2), \
                 unread_count = unread_count + ?3 WHERE id = ?1",
        )?
        .execute(params![conv, new.timestamp, i64::from(unread)])?;
        if let Some(attachment) = &new.attachment {
            crate::attachments::insert(tx, id, attachment)?;
        }
        InsertOutcome::Inserted(id)
    } else {
        let by_server_id: Option<i64> = match server_id {
            Some(sid) => tx
                .prepare_cached(
                    "SELECT id FROM messages WHERE account_id = ?1 AND server_id = ?2 \
                     AND conversation_id = ?3 AND sender = ?4 AND body = ?5",
                )?
                .query_row(
                    params![new.account_id, sid, conv, new.sender, new.body],
                    |r| r.get(0),
                )
                .optional()?,
            None => None,
        };
        match by_server_id {
            Some(id) => InsertOutcome::Duplicate(id),
            None => {
                // The conflict was on the content index; the expression
                // matches the index so the lookup uses it.
                let id: i64 = tx
                    .prepare_cached(
                        "SELECT id FROM messages WHERE account_id = ?1 AND conversation_id = ?2 \
                             AND sender = ?3 AND coalesce(origin_id, xmpp_id) = ?4 AND body = ?5",
                    )?
                    .query_row(
                        params![
                            new.account_id,
                            conv,
                            new.sender,
                            origin_id.or(xmpp_id),
                            new.body
                        ],
                        |r| r.get(0),
                    )
                    .optional()?
                    .ok_or(StoreError::NotFound("conflicting message"))?;
                if let Some(sid) = server_id {
                    tx.execute(
                        "UPDATE messages SET server_id = ?2 WHERE id = ?1 AND server_id IS NULL",
                        params![id, sid],
                    )?;
                }
                InsertOutcome::Duplicate(id)
            }
        }
    };
    Ok(outcome)
}

impl Store {
    /// The conversation with `peer`, if any.
    pub fn conversation(
        &self,
        account_id: i64,
        peer: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations c WHERE c.account_id = ?1 AND c.peer = ?2"
            ))?
            .query_row(params![account_id, peer], conversation_from_row)
            .optional()?)
    }

    /// The conversation with `peer`, created (with `last_activity` = now) if
    /// needed. Opening an existing conversation does not reorder the chat list.
    pub fn get_or_create_conversation(
        &self,
        account_id: i64,
        peer: &str,
    ) -> Result<Conversation, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_account(&tx, account_id)?;
        let id = conversation_id(&tx, account_id, peer, now_ms())?;
        let conversation = tx.query_row(
            concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations c WHERE c.id = ?1"
            ),
            [id],
            conversation_from_row,
        )?;
        tx.commit()?;
        Ok(conversation)
    }

    /// The chat list: conversations by `last_activity`, newest first, each
    /// with the roster name of the peer and its newest message.
    pub fn chat_list(&self, account_id: i64) -> Result<Vec<ChatSummary>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            conversation_columns!(),
            ", k.name, m.id, m.direction, m.body, m.timestamp, m.state \
             FROM conversations c \
             LEFT JOIN contacts k ON k.account_id = c.account_id AND k.jid = c.peer \
             LEFT JOIN messages m ON m.id = (SELECT id FROM messages WHERE conversation_id = c.id \
                 ORDER BY timestamp DESC, position DESC LIMIT 1) \
             WHERE c.account_id = ?1 ORDER BY c.last_activity DESC, m.position DESC, c.id DESC"
        ))?;
        let rows = stmt.query_map([account_id], |r| {
            let last_id: Option<i64> = r.get(6)?;
            let last_message = match last_id {
                Some(id) => Some(LastMessage {
                    id,
                    direction: r.get(7)?,
                    body: r.get(8)?,
                    timestamp: r.get(9)?,
                    state: r.get(10)?,
                }),
                None => None,
            };
            Ok(ChatSummary {
                conversation: conversation_from_row(r)?,
                name: r.get(5)?,
                last_message,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores a message unless it is already stored.
    ///
    /// Duplicates are recognised by the database: by our server's archive id
    /// (`server_id`) with the same conversation, sender and body (ejabberd can give
    /// two messages one id), or by (conversation, sender, origin-id or id attribute,
    /// body) — never by a sender-chosen id alone, so nobody can suppress a
    /// message by reusing its id. Messages with no id at all are never
    /// considered duplicates unless they carry a `server_id`. When a
    /// duplicate brings a `server_id` the stored row lacks, it is filled in.
    ///
    /// A new incoming message in state `Received` increments the unread
    /// count; any new message moves `last_activity` forward to its timestamp.
    pub fn insert_message(&self, new: &NewMessage) -> Result<InsertOutcome, StoreError> {
        self.insert_messages(std::slice::from_ref(new), Placement::Live)?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("inserted message"))
    }

    /// `insert_message` for a batch, in one transaction (an archive page: one commit instead of
    /// one per message), placed by `placement` among messages of the same timestamp. Returns
    /// each message's outcome, in order.
    pub fn insert_messages(
        &self,
        batch: &[NewMessage],
        placement: Placement,
    ) -> Result<Vec<InsertOutcome>, StoreError> {
        for new in batch {
            validate(new)?;
        }
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (highest, lowest): (Option<i64>, Option<i64>) = tx.query_row(
            "SELECT max(position), min(position) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut next = match placement {
            Placement::Live | Placement::ArchiveNewer => highest.unwrap_or(0) + 1,
            Placement::ArchiveOlder => lowest.unwrap_or(0) - batch.len() as i64,
        };
        // Position of the page's previous row, for a newer page: a stored row that is already
        // after it keeps its place (live rows that arrived meanwhile may be newer than the page).
        let mut previous: Option<i64> = None;
        let mut outcomes = Vec::with_capacity(batch.len());
        for new in batch {
            let outcome = insert_one(&tx, new, next)?;
            let placed = match (outcome, placement) {
                (InsertOutcome::Inserted(_), _) => Some(next),
                (InsertOutcome::Duplicate(_), Placement::Live) => None,
                (InsertOutcome::Duplicate(id), archive) => {
                    let stored: i64 = tx
                        .prepare_cached("SELECT position FROM messages WHERE id = ?1")?
                        .query_row([id], |r| r.get(0))?;
                    let in_order =
                        archive == Placement::ArchiveNewer && previous.is_none_or(|p| stored > p);
                    let position = if in_order { stored } else { next };
                    // The archive's order and time win over the order and local time things
                    // arrived in: a live message stamped with the time it arrived (to the ms)
                    // would otherwise sort after an archived one stamped to the whole second.
                    tx.prepare_cached(
                        "UPDATE messages SET position = ?2, timestamp = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, position, new.timestamp])?;
                    previous = Some(position);
                    (!in_order).then_some(next)
                }
            };
            if let Some(used) = placed {
                previous = Some(used);
                next += 1;
            }
            outcomes.push(outcome);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    pub fn message(&self, message_id: i64) -> Result<Option<Message>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(concat!(select_message!(), "WHERE m.id = ?1"))?
            .query_row([message_id], message_from_row)
            .optional()?)
    }

    /// A page of the conversation with `peer`, **newest first**. Pass the id
    /// of the oldest message of the previous page as `before` to continue
    /// (an unknown `before` id yields an empty page). Ordered by
    /// (timestamp, position).
    pub fn history(
        &self,
        account_id: i64,
        peer: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<Message>, StoreError> {
        let conn = self.conn();
        // Two statements: with `before` as an optional term, SQLite could not seek the index to
        // it and walked from the newest message (slow far back in a long conversation).
        let rows = match before {
            None => conn
                .prepare_cached(concat!(
                    select_message!(),
                    "WHERE c.account_id = ?1 AND c.peer = ?2 \
                     ORDER BY m.timestamp DESC, m.position DESC LIMIT ?3"
                ))?
                .query_map(params![account_id, peer, limit], message_from_row)?
                .collect::<Result<_, _>>()?,
            Some(before) => conn
                .prepare_cached(concat!(
                    select_message!(),
                    "WHERE c.account_id = ?1 AND c.peer = ?2 AND (m.timestamp, m.position) < \
                     (SELECT timestamp, position FROM messages WHERE id = ?3) \
                     ORDER BY m.timestamp DESC, m.position DESC LIMIT ?4"
                ))?
                .query_map(params![account_id, peer, before, limit], message_from_row)?
                .collect::<Result<_, _>>()?,
        };
        Ok(rows)
    }

    /// Marks every incoming message of the conversation as displayed and
    /// zeroes its unread count. Returns the newest incoming message if
    /// anything was unread, so the caller can send one XEP-0333
    /// `<displayed/>` for it; `None` means there is nothing to announce.
    pub fn mark_read(&self, account_id: i64, peer: &str) -> Result<Option<Message>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let conv: Option<i64> = tx
            .query_row(
                "SELECT id FROM conversations WHERE account_id = ?1 AND peer = ?2",
                params![account_id, peer],
                |r| r.get(0),
            )
            .optional()?;
        let Some(conv) = conv else {
            return Ok(None);
        };
        let changed = tx.execute(
            "UPDATE messages SET state = 'displayed' \
             WHERE conversation_id = ?1 AND direction = 'in' AND state = 'received'",
            [conv],
        )?;
        tx.execute(
            "UPDATE conversations SET unread_count = 0 WHERE id = ?1",
            [conv],
        )?;
        let newest = if changed > 0 {
            tx.query_row(
                concat!(
                    select_message!(),
                    "WHERE m.conversation_id = ?1 AND m.direction = 'in' \
                     ORDER BY m.timestamp DESC, m.position DESC LIMIT 1"
                ),
                [conv],
                message_from_row,
            )
            .optional()?
        } else {
            None
        };
        tx.commit()?;
        Ok(newest)
    }

    /// Outgoing messages waiting to be sent, oldest first. Every outgoing
    /// message is inserted (as `Queued`) before it is sent, so this survives
    /// crashes and restarts. A message with a file waits until its upload is done.
    pub fn pending_outbox(&self, account_id: i64) -> Result<Vec<Message>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            select_message!(),
            "WHERE m.account_id = ?1 AND m.state = 'queued' \
             AND (a.message_id IS NULL OR a.direction = 'download' OR a.state = 'done') \
             ORDER BY m.id"
        ))?;
        let rows = stmt.query_map([account_id], message_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `Sent -> Queued` for every message the server never acknowledged, after a connection
    /// ended without resumption: they are sent again (with the same id and origin-id, so
    /// receivers deduplicate). Returns how many were put back.
    pub fn requeue_unacknowledged(&self, account_id: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "UPDATE messages SET state = 'queued' \
             WHERE account_id = ?1 AND direction = 'out' AND state = 'sent'",
            [account_id],
        )?)
    }

    /// `Queued -> Sent`, counting an attempt. Returns whether the state changed.
    pub fn mark_sent(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_one(
            transition!(
                "state = 'sent', attempts = attempts + 1",
                "state = 'queued'"
            ),
            params![message_id],
        )
    }

    /// The server acknowledged the stanza (XEP-0198). Moves `Queued` or `Sent`
    /// to `Acked`; later states are kept, and so is `Failed`: a server bounces a
    /// message it could not deliver before it acknowledges having received it,
    /// and the failure is what the user must see. Returns whether the state changed.
    pub fn mark_acked(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_one(
            transition!(
                "state = 'acked', failure_reason = NULL",
                "state IN ('queued', 'sent')"
            ),
            params![message_id],
        )
    }

    /// `mark_acked` for every message one stream-management ack covers, in one transaction.
    /// Returns the messages whose state changed, with their peer.
    pub fn mark_acked_many(&self, message_ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = Vec::new();
        {
            let mut update = tx.prepare_cached(transition!(
                "state = 'acked', failure_reason = NULL",
                "state IN ('queued', 'sent')"
            ))?;
            let mut peer = tx.prepare_cached(
                "SELECT c.peer FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.id = ?1",
            )?;
            for &id in message_ids {
                if update.execute(params![id])? == 1 {
                    let p: String = peer.query_row(params![id], |r| r.get(0))?;
                    changed.push((id, p));
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Sending failed (e.g. an error bounce). Allowed from `Queued`, `Sent`
    /// and `Acked`; a delivered or displayed message cannot fail.
    pub fn mark_failed(&self, message_id: i64, reason: &str) -> Result<bool, StoreError> {
        self.update_one(
            transition!(
                "state = 'failed', failure_reason = ?2",
                "state IN ('queued', 'sent', 'acked')"
            ),
            params![message_id, reason],
        )
    }

    /// `Failed -> Queued`: the message goes back into the outbox (keeping its
    /// ids, so the recipient can deduplicate a resend).
    pub fn retry(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_one(
            transition!(
                "state = 'queued', failure_reason = NULL",
                "state = 'failed'"
            ),
            params![message_id],
        )
    }

    /// `Sent -> Queued` for one message the session could not take after all (it closed
    /// between the claim and the hand-over): it waits for the next connection.
    pub fn unsend(&self, message_id: i64) -> Result<bool, StoreError> {
        self.update_one(
            transition!("state = 'queued'", "state = 'sent'"),
            params![message_id],
        )
    }

    fn update_one(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool, StoreError> {
        Ok(self.conn().prepare_cached(sql)?.execute(params)? == 1)
    }

    /// A XEP-0184 receipt from `peer` for our message with `id` attribute
    /// `xmpp_id`. Only messages in the conversation with `peer` match, so a
    /// third party cannot confirm our messages to someone else. Returns the
    /// message id if its state changed.
    pub fn mark_delivered(
        &self,
        account_id: i64,
        peer: &str,
        xmpp_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "UPDATE messages SET state = 'delivered', failure_reason = NULL \
                 WHERE id = (SELECT m.id FROM messages m JOIN conversations c \
                     ON c.id = m.conversation_id WHERE c.account_id = ?1 AND c.peer = ?2 \
                     AND m.direction = 'out' AND m.xmpp_id = ?3 ORDER BY m.id DESC LIMIT 1) \
                 AND state IN ('queued', 'sent', 'acked', 'failed') RETURNING id",
            )?
            .query_row(params![account_id, peer, xmpp_id], |r| r.get(0))
            .optional()?)
    }

    /// Our outgoing message to `peer` with the given `<message id>`, newest first: used when the
    /// peer's server bounces it with a `type='error'` reply.
    pub fn outgoing_by_xmpp_id(
        &self,
        account_id: i64,
        peer: &str,
        xmpp_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE c.account_id = ?1 AND c.peer = ?2 AND m.direction = 'out' AND m.xmpp_id = ?3 \
                 ORDER BY m.id DESC LIMIT 1",
            )?
            .query_row(params![account_id, peer, xmpp_id], |r| r.get(0))
            .optional()?)
    }

    /// A XEP-0333 `<displayed/>` marker from `peer` for our message
    /// `xmpp_id`. Marks that message and every earlier (by timestamp, position)
    /// outgoing message of the conversation that was sent as displayed.
    /// Returns the ids whose state changed.
    pub fn mark_displayed(
        &self,
        account_id: i64,
        peer: &str,
        xmpp_id: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let target: Option<(i64, i64, i64, i64)> = tx
            .query_row(
                "SELECT m.id, m.conversation_id, m.timestamp, m.position FROM messages m \
                 JOIN conversations c \
                 ON c.id = m.conversation_id WHERE c.account_id = ?1 AND c.peer = ?2 \
                 AND m.direction = 'out' AND m.xmpp_id = ?3 ORDER BY m.id DESC LIMIT 1",
                params![account_id, peer, xmpp_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((id, conv, timestamp, position)) = target else {
            return Ok(Vec::new());
        };
        // The target itself may still look queued or failed locally; the
        // marker proves it arrived. Earlier messages only if they were sent.
        let ids = tx
            .prepare(
                "UPDATE messages SET state = 'displayed', failure_reason = NULL \
                 WHERE conversation_id = ?1 AND direction = 'out' AND ( \
                   (id = ?2 AND state IN ('queued', 'sent', 'acked', 'delivered', 'failed')) \
                   OR ((timestamp, position) < (?3, ?4) AND state IN ('sent', 'acked', 'delivered'))) \
                 RETURNING id",
            )?
            .query_map(params![conv, id, timestamp, position], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        tx.commit()?;
        Ok(ids)
    }

    /// Outgoing messages of the account counted per state.
    pub fn outbox_counts(&self, account_id: i64) -> Result<OutboxCounts, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT state, count(*) FROM messages WHERE account_id = ?1 AND direction = 'out' \
             GROUP BY state",
        )?;
        let mut counts = OutboxCounts::default();
        for row in stmt.query_map([account_id], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (state, n): (MessageState, u32) = row?;
            let slot = match state {
                MessageState::Queued => &mut counts.queued,
                MessageState::Sent => &mut counts.sent,
                MessageState::Acked => &mut counts.acked,
                MessageState::Delivered => &mut counts.delivered,
                MessageState::Displayed => &mut counts.displayed,
                MessageState::Failed => &mut counts.failed,
                MessageState::Received => continue,
            };
            *slot = n;
        }
        Ok(counts)
    }
}
