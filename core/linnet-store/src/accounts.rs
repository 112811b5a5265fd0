//! Accounts: who we are and how to reach our server.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Account, ConnectionSettings, NewAccount, ServerOverride, Store, StoreError, now_ms};

/// Columns read by [`account_from_row`], in order.
macro_rules! account_columns {
    () => {
        "id, jid, resource, server_host, server_port, direct_tls, extra_ca_pem, scram_seen, \
         roster_version, created_at"
    };
}

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let host: Option<String> = row.get(3)?;
    let port: Option<u16> = row.get(4)?;
    Ok(Account {
        id: row.get(0)?,
        jid: row.get(1)?,
        resource: row.get(2)?,
        settings: ConnectionSettings {
            server_override: host
                .zip(port)
                .map(|(host, port)| ServerOverride { host, port }),
            direct_tls: row.get(5)?,
            extra_ca_pem: row.get(6)?,
        },
        scram_seen: row.get(7)?,
        roster_version: row.get(8)?,
        created_at: row.get(9)?,
    })
}

fn check_settings(settings: &ConnectionSettings) -> Result<(), StoreError> {
    match &settings.server_override {
        Some(o) if o.host.is_empty() || o.port == 0 => Err(StoreError::Invalid(
            "server override needs a host and a non-zero port",
        )),
        _ => Ok(()),
    }
}

impl Store {
    /// Stores a new account. Fails with a constraint error if the JID exists.
    pub fn create_account(&self, new: &NewAccount) -> Result<Account, StoreError> {
        if new.jid.is_empty() || new.resource.is_empty() {
            return Err(StoreError::Invalid("account needs a JID and a resource"));
        }
        check_settings(&new.settings)?;
        let o = new.settings.server_override.as_ref();
        let conn = self.conn();
        let account = conn.query_row(
            concat!(
                "INSERT INTO accounts (jid, resource, server_host, server_port, direct_tls, \
                 extra_ca_pem, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING ",
                account_columns!()
            ),
            params![
                new.jid,
                new.resource,
                o.map(|o| &o.host),
                o.map(|o| o.port),
                new.settings.direct_tls,
                new.settings.extra_ca_pem,
                now_ms()
            ],
            account_from_row,
        )?;
        Ok(account)
    }

    pub fn account(&self, id: i64) -> Result<Option<Account>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = ?1"
        ))?;
        Ok(stmt.query_row([id], account_from_row).optional()?)
    }

    pub fn account_by_jid(&self, jid: &str) -> Result<Option<Account>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE jid = ?1"
        ))?;
        Ok(stmt.query_row([jid], account_from_row).optional()?)
    }

    /// All accounts, oldest first.
    pub fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts ORDER BY id"
        ))?;
        let rows = stmt.query_map([], account_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update_connection_settings(
        &self,
        account_id: i64,
        settings: &ConnectionSettings,
    ) -> Result<(), StoreError> {
        check_settings(settings)?;
        let o = settings.server_override.as_ref();
        let changed = self.conn().execute(
            "UPDATE accounts SET server_host = ?2, server_port = ?3, direct_tls = ?4, \
             extra_ca_pem = ?5 WHERE id = ?1",
            params![
                account_id,
                o.map(|o| &o.host),
                o.map(|o| o.port),
                settings.direct_tls,
                settings.extra_ca_pem
            ],
        )?;
        found(changed, "account")
    }

    /// Records that SCRAM authentication succeeded. Irreversible by design:
    /// once set, the caller must refuse PLAIN for this account.
    pub fn mark_scram_seen(&self, account_id: i64) -> Result<(), StoreError> {
        let changed = self.conn().execute(
            "UPDATE accounts SET scram_seen = 1 WHERE id = ?1",
            [account_id],
        )?;
        found(changed, "account")
    }

    /// Whether SCRAM ever succeeded for this account.
    pub fn scram_seen(&self, account_id: i64) -> Result<bool, StoreError> {
        self.conn()
            .query_row(
                "SELECT scram_seen FROM accounts WHERE id = ?1",
                [account_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound("account"))
    }

    /// Deletes an account and everything belonging to it.
    pub fn delete_account(&self, account_id: i64) -> Result<(), StoreError> {
        let changed = self
            .conn()
            .execute("DELETE FROM accounts WHERE id = ?1", [account_id])?;
        found(changed, "account")
    }
}

/// Maps "no row changed" to [`StoreError::NotFound`].
pub(crate) fn found(changed: usize, what: &'static str) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}
