//! Numbered schema migrations.
//!
//! `MIGRATIONS[n]` upgrades a database from `user_version` n to n+1. Once a
//! migration has shipped it must never be edited: append a new one instead.
//! Every migration runs in its own `BEGIN IMMEDIATE` transaction together with
//! the `user_version` bump, so a crash leaves the schema at a whole version.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// The ordered list of migrations; its length is the schema version this build
/// writes.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    r#"
    CREATE TABLE accounts (
        id              INTEGER PRIMARY KEY,
        jid             TEXT NOT NULL UNIQUE,
        resource        TEXT NOT NULL,
        server_host     TEXT,
        server_port     INTEGER CHECK (server_port BETWEEN 1 AND 65535),
        direct_tls      INTEGER NOT NULL DEFAULT 0 CHECK (direct_tls IN (0, 1)),
        extra_ca_pem    TEXT,
        scram_seen      INTEGER NOT NULL DEFAULT 0 CHECK (scram_seen IN (0, 1)),
        roster_version  TEXT,
        created_at      INTEGER NOT NULL,
        CHECK ((server_host IS NULL) = (server_port IS NULL))
    ) STRICT;

    CREATE TABLE contacts (
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        jid             TEXT NOT NULL,
        name            TEXT,
        subscription    TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
        ask             INTEGER NOT NULL DEFAULT 0 CHECK (ask IN (0, 1)),
        groups          TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (account_id, jid)
    ) STRICT;

    CREATE TABLE subscription_requests (
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        jid             TEXT NOT NULL,
        received_at     INTEGER NOT NULL,
        PRIMARY KEY (account_id, jid)
    ) STRICT;

    CREATE TABLE conversations (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        peer            TEXT NOT NULL,
        last_activity   INTEGER NOT NULL,
        unread_count    INTEGER NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
        UNIQUE (account_id, peer)
    ) STRICT;
    CREATE INDEX conversations_by_activity ON conversations(account_id, last_activity DESC);

    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        sender          TEXT NOT NULL,
        sender_resource TEXT,
        xmpp_id         TEXT,
        origin_id       TEXT,
        server_id       TEXT,
        body            TEXT NOT NULL,
        timestamp       INTEGER NOT NULL,
        received_at     INTEGER NOT NULL,
        is_carbon       INTEGER NOT NULL DEFAULT 0 CHECK (is_carbon IN (0, 1)),
        state           TEXT NOT NULL CHECK (state IN
                            ('queued', 'sent', 'acked', 'delivered', 'displayed', 'failed', 'received')),
        failure_reason  TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    -- Dedupe on the archive id our own server stamped (XEP-0359, by = own bare JID).
    CREATE UNIQUE INDEX messages_dedupe_server_id
        ON messages(account_id, server_id) WHERE server_id IS NOT NULL;
    -- Dedupe without a trusted id: the sender-chosen id alone is not enough,
    -- it must come with the same conversation, sender and body.
    CREATE UNIQUE INDEX messages_dedupe_content
        ON messages(account_id, conversation_id, sender, coalesce(origin_id, xmpp_id), body)
        WHERE coalesce(origin_id, xmpp_id) IS NOT NULL;
    CREATE INDEX messages_by_time ON messages(conversation_id, timestamp, id);
    CREATE INDEX messages_by_xmpp_id ON messages(conversation_id, xmpp_id);
    CREATE INDEX messages_outbox ON messages(account_id, id) WHERE state = 'queued';

    CREATE TABLE session_state (
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key             TEXT NOT NULL,
        value           TEXT NOT NULL,
        PRIMARY KEY (account_id, key)
    ) STRICT;
    "#,
    // 2: archive sync (XEP-0313). A gap is a range of the server archive not yet fetched, by
    // archive ids (exclusive bounds): `after_id` NULL is the start of the archive, `before_id`
    // NULL is "up to now" (a catch-up under way or interrupted). A conversation whose older
    // history was fetched back to the start of the archive is `history_complete`.
    r#"
    CREATE TABLE archive_gaps (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        after_id        TEXT,
        before_id       TEXT,
        created_at      INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX archive_gaps_by_account ON archive_gaps(account_id, id);
    ALTER TABLE conversations ADD COLUMN history_complete INTEGER NOT NULL DEFAULT 0
        CHECK (history_complete IN (0, 1));
    -- Orders messages of the same timestamp (archives stamp whole seconds): the archive's order
    -- where a page covered the message, else the order of arrival. Unlike the id it can move:
    -- an archive page puts the rows it covers, duplicates too, in its order.
    ALTER TABLE messages ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
    UPDATE messages SET position = id;
    DROP INDEX messages_by_time;
    CREATE INDEX messages_by_time ON messages(conversation_id, timestamp, position);
    CREATE INDEX messages_by_position ON messages(position);
    -- ejabberd gives two messages archived in the same microsecond the same archive id: the id
    -- alone does not make a duplicate, the id with the conversation, sender and body does.
    DROP INDEX messages_dedupe_server_id;
    CREATE UNIQUE INDEX messages_dedupe_server_id
        ON messages(account_id, server_id, conversation_id, sender, body)
        WHERE server_id IS NOT NULL;
    "#,
    // 3: file transfer (XEP-0363 upload, XEP-0066 links). One attachment per message. Uploads
    // wait as `queued` (with a backoff time) until a slot and the PUT succeed; the message
    // leaves the outbox only then, with the download URL as its body. Downloads start as
    // `offered` (the user decides) or `queued` (the policy did). `file_name` is for display
    // only (sanitised); files on disk always have generated names.
    r#"
    CREATE TABLE attachments (
        message_id      INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        direction       TEXT NOT NULL CHECK (direction IN ('upload', 'download')),
        url             TEXT,
        source_path     TEXT,
        local_path      TEXT,
        file_name       TEXT NOT NULL,
        media_type      TEXT,
        size            INTEGER CHECK (size >= 0),
        width           INTEGER,
        height          INTEGER,
        state           TEXT NOT NULL CHECK (state IN
                            ('offered', 'queued', 'transferring', 'done', 'failed', 'cancelled')),
        failure_kind    TEXT,
        failure_reason  TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        updated_at      INTEGER NOT NULL,
        CHECK (direction = 'download' OR source_path IS NOT NULL),
        CHECK (direction = 'upload' OR url IS NOT NULL)
    ) STRICT;
    CREATE INDEX attachments_waiting ON attachments(direction, state)
        WHERE state IN ('queued', 'transferring');
    "#,
    // 4: the call log (issue 7). One row per call session (the JMI / Jingle session id) and
    // peer. A call still open when the app stopped is ended as `interrupted` at the next start.
    // `silent`: a call that never rang (a stranger's), shown as a missed call at most.
    r#"
    CREATE TABLE calls (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        session_id      TEXT NOT NULL,
        peer            TEXT NOT NULL,
        direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        phone_number    TEXT,
        started_at      INTEGER NOT NULL,
        answered_at     INTEGER,
        ended_at        INTEGER,
        end_reason      TEXT,
        silent          INTEGER NOT NULL DEFAULT 0 CHECK (silent IN (0, 1)),
        CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
        UNIQUE (account_id, session_id, peer)
    ) STRICT;
    CREATE INDEX calls_by_time ON calls(account_id, started_at);
    "#,
    // 5: push notifications (XEP-0357, issue 8). `push_settings`: what the platform said (the
    // user's permission, the device token, the app server) and this install's random device id
    // for the app server. `push_registrations`: what the app server gave us for that token (its
    // node; the secret is in the secret store, never here), so that a change of token, app
    // server or permission can undo it.
    r#"
    CREATE TABLE push_settings (
        account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        permitted       INTEGER NOT NULL DEFAULT 0 CHECK (permitted IN (0, 1)),
        platform        TEXT NOT NULL CHECK (platform IN ('apns', 'apns-sandbox', 'fcm')),
        token           TEXT,
        app_server      TEXT,
        device_id       TEXT NOT NULL,
        updated_at      INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE push_registrations (
        account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        app_server      TEXT NOT NULL,
        service_jid     TEXT NOT NULL,
        node            TEXT NOT NULL,
        platform        TEXT NOT NULL CHECK (platform IN ('apns', 'apns-sandbox', 'fcm')),
        token           TEXT NOT NULL,
        registered_at   INTEGER NOT NULL
    ) STRICT;
    "#,
];

/// Schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`].
///
/// The version is re-read inside each write transaction, so two processes
/// opening the same fresh file cannot both apply the same migration.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if !(0..=SCHEMA_VERSION).contains(&found) {
            return Err(StoreError::UnsupportedSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let Some(sql) = usize::try_from(found).ok().and_then(|i| MIGRATIONS.get(i)) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", found + 1)?;
        tx.commit()?;
        tracing::info!(version = found + 1, "applied store migration");
    }
}
