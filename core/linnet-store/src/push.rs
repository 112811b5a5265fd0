//! Push notifications (XEP-0357): the platform's inputs per account and the registration the
//! app server handed out. The registration's secret is not stored here (the SDK keeps it in the
//! secret store); the device token is not secret to the device that owns it.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreError, now_ms};

/// The push provider the token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushPlatformKind {
    /// Apple's production APNs environment.
    Apns,
    /// Apple's sandbox (development builds).
    ApnsSandbox,
    /// Firebase Cloud Messaging.
    Fcm,
}

impl PushPlatformKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apns => "apns",
            Self::ApnsSandbox => "apns-sandbox",
            Self::Fcm => "fcm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "apns" => Some(Self::Apns),
            "apns-sandbox" => Some(Self::ApnsSandbox),
            "fcm" => Some(Self::Fcm),
            _ => None,
        }
    }
}

impl ToSql for PushPlatformKind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for PushPlatformKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        Self::parse(s)
            .ok_or_else(|| FromSqlError::Other(format!("unknown push platform {s:?}").into()))
    }
}

/// What the platform told us, per account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPushSettings {
    /// The user allows notifications.
    pub permitted: bool,
    pub platform: PushPlatformKind,
    /// The device token (APNs hex, FCM registration token).
    pub token: Option<String>,
    /// The app server's JID (the linnet-push component).
    pub app_server: Option<String>,
    /// Random, made once per account on this install: the app server's key for this device.
    pub device_id: String,
}

/// A registration made with an app server (its answer to the register command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPushRegistration {
    /// Where the register command went (the configured app server).
    pub app_server: String,
    /// The push service JID the app server answered with (the `jid` of `<enable/>`).
    pub service_jid: String,
    pub node: String,
    pub platform: PushPlatformKind,
    /// The token registered (a new token from the platform means a new registration).
    pub token: String,
    pub registered_at: i64,
}

fn settings_from_row(row: &Row<'_>) -> rusqlite::Result<StoredPushSettings> {
    Ok(StoredPushSettings {
        permitted: row.get(0)?,
        platform: row.get(1)?,
        token: row.get(2)?,
        app_server: row.get(3)?,
        device_id: row.get(4)?,
    })
}

fn registration_from_row(row: &Row<'_>) -> rusqlite::Result<StoredPushRegistration> {
    Ok(StoredPushRegistration {
        app_server: row.get(0)?,
        service_jid: row.get(1)?,
        node: row.get(2)?,
        platform: row.get(3)?,
        token: row.get(4)?,
        registered_at: row.get(5)?,
    })
}

impl Store {
    /// The account's push settings, if any were ever saved.
    pub fn push_settings(&self, account_id: i64) -> Result<Option<StoredPushSettings>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT permitted, platform, token, app_server, device_id FROM push_settings \
                 WHERE account_id = ?1",
                [account_id],
                settings_from_row,
            )
            .optional()?)
    }

    /// Saves (replacing) the account's push settings.
    pub fn save_push_settings(
        &self,
        account_id: i64,
        settings: &StoredPushSettings,
    ) -> Result<(), StoreError> {
        if settings.device_id.is_empty() {
            return Err(StoreError::Invalid("empty push device id"));
        }
        self.conn().execute(
            "INSERT INTO push_settings \
                 (account_id, permitted, platform, token, app_server, device_id, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account_id) DO UPDATE SET permitted = excluded.permitted, \
                 platform = excluded.platform, token = excluded.token, \
                 app_server = excluded.app_server, device_id = excluded.device_id, \
                 updated_at = excluded.updated_at",
            params![
                account_id,
                settings.permitted,
                settings.platform,
                settings.token,
                settings.app_server,
                settings.device_id,
                now_ms()
            ],
        )?;
        Ok(())
    }

    /// The registration made with an app server, if any.
    pub fn push_registration(
        &self,
        account_id: i64,
    ) -> Result<Option<StoredPushRegistration>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT app_server, service_jid, node, platform, token, registered_at \
                 FROM push_registrations WHERE account_id = ?1",
                [account_id],
                registration_from_row,
            )
            .optional()?)
    }

    /// Records (replacing) the account's registration.
    pub fn save_push_registration(
        &self,
        account_id: i64,
        registration: &StoredPushRegistration,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO push_registrations \
                 (account_id, app_server, service_jid, node, platform, token, registered_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account_id) DO UPDATE SET app_server = excluded.app_server, \
                 service_jid = excluded.service_jid, node = excluded.node, \
                 platform = excluded.platform, token = excluded.token, \
                 registered_at = excluded.registered_at",
            params![
                account_id,
                registration.app_server,
                registration.service_jid,
                registration.node,
                registration.platform,
                registration.token,
                registration.registered_at
            ],
        )?;
        Ok(())
    }

    /// Forgets the account's registration; returns whether there was one.
    pub fn delete_push_registration(&self, account_id: i64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM push_registrations WHERE account_id = ?1",
            [account_id],
        )? == 1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{ConnectionSettings, NewAccount};

    fn store_with_account() -> (Store, i64) {
        let store = Store::open_in_memory().unwrap();
        let account = store
            .create_account(&NewAccount {
                jid: "alice@example.org".into(),
                resource: "r".into(),
                settings: ConnectionSettings::default(),
            })
            .unwrap();
        (store, account.id)
    }

    fn settings() -> StoredPushSettings {
        StoredPushSettings {
            permitted: true,
            platform: PushPlatformKind::ApnsSandbox,
            token: Some("ab12".into()),
            app_server: Some("push.example.org".into()),
            device_id: "d1".into(),
        }
    }

    fn registration() -> StoredPushRegistration {
        StoredPushRegistration {
            app_server: "push.example.org".into(),
            service_jid: "push.example.org".into(),
            node: "n1".into(),
            platform: PushPlatformKind::Fcm,
            token: "ab12".into(),
            registered_at: 5,
        }
    }

    #[test]
    fn settings_round_trip_and_replace() {
        let (store, account) = store_with_account();
        assert_eq!(store.push_settings(account).unwrap(), None);
        store.save_push_settings(account, &settings()).unwrap();
        assert_eq!(store.push_settings(account).unwrap(), Some(settings()));
        let revoked = StoredPushSettings {
            permitted: false,
            token: None,
            ..settings()
        };
        store.save_push_settings(account, &revoked).unwrap();
        assert_eq!(store.push_settings(account).unwrap(), Some(revoked));
    }

    #[test]
    fn an_empty_device_id_is_refused() {
        let (store, account) = store_with_account();
        let bad = StoredPushSettings {
            device_id: String::new(),
            ..settings()
        };
        assert!(matches!(
            store.save_push_settings(account, &bad),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn registration_round_trip_and_delete() {
        let (store, account) = store_with_account();
        assert_eq!(store.push_registration(account).unwrap(), None);
        store
            .save_push_registration(account, &registration())
            .unwrap();
        assert_eq!(
            store.push_registration(account).unwrap(),
            Some(registration())
        );
        assert!(store.delete_push_registration(account).unwrap());
        assert!(!store.delete_push_registration(account).unwrap());
        assert_eq!(store.push_registration(account).unwrap(), None);
    }

    #[test]
    fn removing_the_account_removes_its_push_rows() {
        let (store, account) = store_with_account();
        store.save_push_settings(account, &settings()).unwrap();
        store
            .save_push_registration(account, &registration())
            .unwrap();
        store.delete_account(account).unwrap();
        assert_eq!(store.push_settings(account).unwrap(), None);
        assert_eq!(store.push_registration(account).unwrap(), None);
    }
}
