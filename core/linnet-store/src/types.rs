//! Plain data types crossing the store boundary.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// An enum stored as a short TEXT value (readable in the database, checked by
/// a `CHECK` constraint there and by `FromSql` here).
macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $var,)+ }

        impl $name {
            /// The stored spelling (for roster subscriptions also the wire spelling).
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$var => $s,)+ }
            }

            /// Parses the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(Self::$var),)+ _ => None }
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                Self::parse(s).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} {s:?}", stringify!($name)).into())
                })
            }
        }
    };
}

text_enum! {
    /// Roster subscription state (RFC 6121 §2.1.2.5).
    Subscription {
        None = "none",
        To = "to",
        From = "from",
        Both = "both",
        /// Only in roster pushes: delete the item. Never stored.
        Remove = "remove",
    }
}

text_enum! {
    /// Which way a message travelled, seen from this account.
    Direction {
        Incoming = "in",
        Outgoing = "out",
    }
}

text_enum! {
    /// Delivery state of a message.
    ///
    /// Outgoing: `Queued -> Sent -> Acked (XEP-0198) -> Delivered (XEP-0184)
    /// -> Displayed (XEP-0333)`, or `Failed`. Incoming: `Received -> Displayed`.
    /// The store only ever moves a message forward along this order; the one
    /// way back is an explicit retry (`Failed -> Queued`).
    MessageState {
        Queued = "queued",
        Sent = "sent",
        Acked = "acked",
        Delivered = "delivered",
        Displayed = "displayed",
        Failed = "failed",
        Received = "received",
    }
}

text_enum! {
    /// Which way a file travels.
    TransferDirection {
        Upload = "upload",
        Download = "download",
    }
}

text_enum! {
    /// Where a file transfer stands.
    ///
    /// Upload: `Queued -> Transferring -> Done`, back to `Queued` (with a backoff time) after a
    /// transient failure, or `Failed` / `Cancelled`. Download: `Offered` (waiting for the
    /// user) or `Queued` (the policy chose to fetch it), then the same. A retry puts a failed
    /// or cancelled transfer back to `Queued`.
    TransferState {
        Offered = "offered",
        Queued = "queued",
        Transferring = "transferring",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

text_enum! {
    /// Why a call ended: every end has one.
    CallEndReason {
        /// We hung up a connected call.
        HungUp = "hung_up",
        /// The other side hung up a connected call.
        RemoteHungUp = "remote_hung_up",
        /// We cancelled our call before it was answered.
        Cancelled = "cancelled",
        /// We declined an incoming call.
        Declined = "declined",
        /// The callee declined our call.
        RemoteDeclined = "remote_declined",
        /// The callee was busy (in another call).
        Busy = "busy",
        /// Nobody answered our call in time.
        NoAnswer = "no_answer",
        /// An incoming call we did not answer (the caller gave up, or it timed out).
        Missed = "missed",
        /// Another of our devices answered.
        AnsweredElsewhere = "answered_elsewhere",
        /// Another of our devices declined.
        DeclinedElsewhere = "declined_elsewhere",
        /// The media never connected (ICE or DTLS failed).
        ConnectivityFailed = "connectivity_failed",
        /// The media connection was lost during the call.
        NetworkLost = "network_lost",
        /// The peer could not run the call (no common codec, a protocol error).
        Failed = "failed",
        /// A call from someone not in the roster: it never rang.
        Stranger = "stranger",
        /// The app stopped during the call.
        Interrupted = "interrupted",
    }
}

impl MessageState {
    /// Whether a message travelling in `direction` may be in this state.
    pub fn fits(self, direction: Direction) -> bool {
        match self {
            Self::Displayed => true,
            Self::Received => direction == Direction::Incoming,
            _ => direction == Direction::Outgoing,
        }
    }
}

/// Where to connect instead of resolving SRV records for the JID's domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOverride {
    pub host: String,
    pub port: u16,
}

/// How to reach the server. There is deliberately no password here: secrets
/// live in the platform keystore, never in this database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionSettings {
    pub server_override: Option<ServerOverride>,
    /// Use direct TLS (XEP-0368) rather than STARTTLS.
    pub direct_tls: bool,
    /// Additional trust anchors, PEM encoded (self-hosted servers).
    pub extra_ca_pem: Option<String>,
}

/// A new account, as supplied by the caller (who has already normalised the
/// JID and generated the `linnet.<random>` resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub jid: String,
    pub resource: String,
    pub settings: ConnectionSettings,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub jid: String,
    pub resource: String,
    pub settings: ConnectionSettings,
    /// SCRAM has succeeded at least once: from now on PLAIN must be refused
    /// (downgrade protection).
    pub scram_seen: bool,
    /// RFC 6121 roster versioning token, if the server supports it.
    pub roster_version: Option<String>,
    pub created_at: i64,
}

/// A roster item as received from the server (full fetch or push).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    pub jid: String,
    pub name: Option<String>,
    pub subscription: Subscription,
    /// An outgoing subscription request is pending (`ask='subscribe'`).
    pub ask: bool,
    pub groups: Vec<String>,
}

/// A stored roster entry. `subscription` is never `Remove`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub account_id: i64,
    pub jid: String,
    pub name: Option<String>,
    pub subscription: Subscription,
    pub ask: bool,
    pub groups: Vec<String>,
}

/// An incoming presence subscription request awaiting the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub jid: String,
    pub received_at: i64,
}

/// A one-to-one conversation with a bare JID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: i64,
    pub account_id: i64,
    pub peer: String,
    /// ms since the epoch; the chat list is sorted by this.
    pub last_activity: i64,
    pub unread_count: u32,
}

/// One line of the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSummary {
    pub conversation: Conversation,
    /// The roster name of the peer, if any.
    pub name: Option<String>,
    pub last_message: Option<LastMessage>,
}

/// The preview shown in the chat list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMessage {
    pub id: i64,
    pub direction: Direction,
    pub body: String,
    pub timestamp: i64,
    pub state: MessageState,
}

/// A file attached to a message, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub direction: TransferDirection,
    /// Download: the https URL. Upload: unknown until the upload is done.
    pub url: Option<String>,
    /// Upload: the local file to send.
    pub source_path: Option<String>,
    /// For display only (sanitised by the caller).
    pub file_name: String,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub dimensions: Option<(u32, u32)>,
    pub state: TransferState,
}

/// A stored attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub message_id: i64,
    pub direction: TransferDirection,
    pub url: Option<String>,
    pub source_path: Option<String>,
    /// The file on this device: the upload's source, or the finished download (a generated
    /// name inside the app's storage).
    pub local_path: Option<String>,
    pub file_name: String,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub dimensions: Option<(u32, u32)>,
    pub state: TransferState,
    /// Why it failed (or was cancelled): a short kind a UI can act on (`http`, `tls`,
    /// `too_large`, `disk_full`, ...) and the reason in words.
    pub failure_kind: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: u32,
    /// A queued transfer waits until then (backoff after a transient failure).
    pub next_attempt_at: Option<i64>,
}

/// A message to store. Use [`NewMessage::outgoing`] / [`NewMessage::incoming`]
/// and fill in the optional ids with struct update syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub account_id: i64,
    /// Bare JID of the other party; the conversation is created if needed.
    pub peer: String,
    pub direction: Direction,
    /// Bare JID of the author: the peer for incoming, our own JID for outgoing.
    pub sender: String,
    pub sender_resource: Option<String>,
    /// The `id` attribute of the `<message/>` (chosen by the sender).
    pub xmpp_id: Option<String>,
    /// XEP-0359 `<origin-id/>` (chosen by the sender).
    pub origin_id: Option<String>,
    /// XEP-0359 `<stanza-id/>` stamped by *our own* server (`by` = our bare
    /// JID). The caller must check `by` before filling this in: it is trusted
    /// for deduplication.
    pub server_id: Option<String>,
    pub body: String,
    /// When the message was sent (XEP-0203 delay if present), ms.
    pub timestamp: i64,
    /// Arrived as a XEP-0280 carbon copy.
    pub is_carbon: bool,
    pub state: MessageState,
    /// A file this message carries, stored with it (in the same transaction).
    pub attachment: Option<NewAttachment>,
}

impl NewMessage {
    /// A message we are about to send from this device: state `Queued`.
    pub fn outgoing(
        account_id: i64,
        own_jid: &str,
        peer: &str,
        xmpp_id: &str,
        body: &str,
        timestamp: i64,
    ) -> Self {
        Self {
            account_id,
            peer: peer.to_owned(),
            direction: Direction::Outgoing,
            sender: own_jid.to_owned(),
            sender_resource: None,
            xmpp_id: Some(xmpp_id.to_owned()),
            origin_id: Some(xmpp_id.to_owned()),
            server_id: None,
            body: body.to_owned(),
            timestamp,
            is_carbon: false,
            state: MessageState::Queued,
            attachment: None,
        }
    }

    /// A message received from `peer`: state `Received`.
    pub fn incoming(account_id: i64, peer: &str, body: &str, timestamp: i64) -> Self {
        Self {
            account_id,
            peer: peer.to_owned(),
            direction: Direction::Incoming,
            sender: peer.to_owned(),
            sender_resource: None,
            xmpp_id: None,
            origin_id: None,
            server_id: None,
            body: body.to_owned(),
            timestamp,
            is_carbon: false,
            state: MessageState::Received,
            attachment: None,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub account_id: i64,
    pub conversation_id: i64,
    pub peer: String,
    pub direction: Direction,
    pub sender: String,
    pub sender_resource: Option<String>,
    pub xmpp_id: Option<String>,
    pub origin_id: Option<String>,
    pub server_id: Option<String>,
    pub body: String,
    pub timestamp: i64,
    pub received_at: i64,
    pub is_carbon: bool,
    pub state: MessageState,
    pub failure_reason: Option<String>,
    /// How many times this device handed the message to the network.
    pub attempts: u32,
    /// Orders messages of the same timestamp (conversations read by (timestamp, position)).
    pub position: i64,
    /// The file this message carries, if any.
    pub attachment: Option<Attachment>,
}

/// Result of [`crate::Store::insert_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted(i64),
    /// Already stored; carries the id of the existing row.
    Duplicate(i64),
}

impl InsertOutcome {
    /// The message's row id, new or existing.
    pub fn id(self) -> i64 {
        match self {
            Self::Inserted(id) | Self::Duplicate(id) => id,
        }
    }

    pub fn is_new(self) -> bool {
        matches!(self, Self::Inserted(_))
    }
}

/// Outgoing messages of an account, counted per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub queued: u32,
    pub sent: u32,
    pub acked: u32,
    pub delivered: u32,
    pub displayed: u32,
    pub failed: u32,
}

/// Where a batch of messages goes among stored messages of the same timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Live messages: after them; a duplicate keeps its place.
    Live,
    /// An archive page newer than what archive pages stored before (catch-up, the newest
    /// page): after them, duplicates moved along, in the page's order.
    ArchiveNewer,
    /// An archive page older than everything stored (older history): before them, duplicates
    /// moved along, in the page's order.
    ArchiveOlder,
}

/// A call to log. `peer` is a bare JID (for a phone call the number's JID at the gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    pub account_id: i64,
    pub session_id: String,
    pub peer: String,
    pub direction: Direction,
    pub phone_number: Option<String>,
    pub started_at: i64,
    /// A call that never rang (a stranger's).
    pub silent: bool,
}

/// An entry of the call log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub id: i64,
    pub account_id: i64,
    pub session_id: String,
    pub peer: String,
    pub direction: Direction,
    pub phone_number: Option<String>,
    pub started_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub end_reason: Option<CallEndReason>,
    pub silent: bool,
}

/// A range of the server archive not fetched yet (exclusive bounds, archive ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveGap {
    pub id: i64,
    /// `None`: from the start of the archive.
    pub after_id: Option<String>,
    /// `None`: up to now (a catch-up under way or interrupted).
    pub before_id: Option<String>,
    pub created_at: i64,
}
