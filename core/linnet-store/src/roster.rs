//! Roster (RFC 6121) and pending incoming subscription requests.

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{Contact, RosterItem, Store, StoreError, Subscription, SubscriptionRequest, now_ms};

macro_rules! contact_columns {
    () => {
        "account_id, jid, name, subscription, ask, groups"
    };
}

fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Contact> {
    let groups: String = row.get(5)?;
    let groups = serde_json::from_str(&groups)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, Type::Text, Box::new(e)))?;
    Ok(Contact {
        account_id: row.get(0)?,
        jid: row.get(1)?,
        name: row.get(2)?,
        subscription: row.get(3)?,
        ask: row.get(4)?,
        groups,
    })
}

/// Inserts or replaces one (non-`Remove`) item.
fn upsert(conn: &Connection, account_id: i64, item: &RosterItem) -> Result<(), StoreError> {
    if item.jid.is_empty() {
        return Err(StoreError::Invalid("roster item without JID"));
    }
    let groups = serde_json::to_string(&item.groups)
        .map_err(|_| StoreError::Invalid("unserialisable roster groups"))?;
    conn.prepare_cached(
        "INSERT INTO contacts (account_id, jid, name, subscription, ask, groups) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (account_id, jid) DO UPDATE SET name = excluded.name, \
         subscription = excluded.subscription, ask = excluded.ask, groups = excluded.groups",
    )?
    .execute(params![
        account_id,
        item.jid,
        item.name,
        item.subscription,
        item.ask,
        groups
    ])?;
    Ok(())
}

/// Fails with `NotFound` unless the account exists.
pub(crate) fn ensure_account(conn: &Connection, account_id: i64) -> Result<(), StoreError> {
    conn.query_row("SELECT 1 FROM accounts WHERE id = ?1", [account_id], |_| {
        Ok(())
    })
    .optional()?
    .ok_or(StoreError::NotFound("account"))
}

impl Store {
    /// Replaces the whole roster and its version in one transaction (full
    /// roster fetch). `Remove` items are skipped; `version` `None` means the
    /// server does not do roster versioning. When the server answers a
    /// versioned request with an empty result (cache still valid), do not
    /// call this.
    pub fn replace_roster(
        &self,
        account_id: i64,
        items: &[RosterItem],
        version: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_account(&tx, account_id)?;
        tx.execute("DELETE FROM contacts WHERE account_id = ?1", [account_id])?;
        for item in items
            .iter()
            .filter(|i| i.subscription != Subscription::Remove)
        {
            upsert(&tx, account_id, item)?;
        }
        tx.execute(
            "UPDATE accounts SET roster_version = ?2 WHERE id = ?1",
            params![account_id, version],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Applies one roster push: upsert, or delete when the subscription is
    /// `Remove`. The stored version is updated only when `version` is `Some`.
    pub fn apply_roster_push(
        &self,
        account_id: i64,
        item: &RosterItem,
        version: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        ensure_account(&tx, account_id)?;
        if item.subscription == Subscription::Remove {
            tx.execute(
                "DELETE FROM contacts WHERE account_id = ?1 AND jid = ?2",
                params![account_id, item.jid],
            )?;
        } else {
            upsert(&tx, account_id, item)?;
        }
        if let Some(version) = version {
            tx.execute(
                "UPDATE accounts SET roster_version = ?2 WHERE id = ?1",
                params![account_id, version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The roster, sorted by JID.
    pub fn contacts(&self, account_id: i64) -> Result<Vec<Contact>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE account_id = ?1 ORDER BY jid"
        ))?;
        let rows = stmt.query_map([account_id], contact_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn contact(&self, account_id: i64, jid: &str) -> Result<Option<Contact>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM contacts WHERE account_id = ?1 AND jid = ?2"
        ))?;
        Ok(stmt
            .query_row(params![account_id, jid], contact_from_row)
            .optional()?)
    }

    /// Records an incoming subscription request unless one is already
    /// pending (the first arrival time is kept). Returns whether it was new.
    pub fn add_subscription_request(&self, account_id: i64, jid: &str) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "INSERT INTO subscription_requests (account_id, jid, received_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (account_id, jid) DO NOTHING",
            params![account_id, jid, now_ms()],
        )?;
        Ok(changed == 1)
    }

    /// Forgets a request (answered, or withdrawn by the requester). Returns
    /// whether one was pending.
    pub fn remove_subscription_request(
        &self,
        account_id: i64,
        jid: &str,
    ) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "DELETE FROM subscription_requests WHERE account_id = ?1 AND jid = ?2",
            params![account_id, jid],
        )?;
        Ok(changed == 1)
    }

    /// Pending requests, oldest first.
    pub fn subscription_requests(
        &self,
        account_id: i64,
    ) -> Result<Vec<SubscriptionRequest>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT jid, received_at FROM subscription_requests WHERE account_id = ?1 \
             ORDER BY received_at, jid",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok(SubscriptionRequest {
                jid: r.get(0)?,
                received_at: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
