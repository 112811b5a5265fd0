//! The records and enums that cross the boundary, and their conversions from core types.

use linnet_sdk::store::Subscription;
use linnet_sdk::{ErrorKind, LinnetError, MessageState};
use linnet_ui::VecDiff;

/// Where an outgoing message stands (incoming ones are `Received`, then `Displayed` once read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeliveryState {
    /// Stored in the outbox; goes out when connected.
    Queued,
    Sent,
    /// The server confirmed it has the message (XEP-0198).
    Acknowledged,
    /// The recipient's device confirmed it (XEP-0184).
    Delivered,
    /// The recipient read it (XEP-0333).
    Displayed,
    Failed,
    Received,
}

impl From<MessageState> for DeliveryState {
    fn from(s: MessageState) -> Self {
        match s {
            MessageState::Queued => Self::Queued,
            MessageState::Sent => Self::Sent,
            MessageState::Acked => Self::Acknowledged,
            MessageState::Delivered => Self::Delivered,
            MessageState::Displayed => Self::Displayed,
            MessageState::Failed => Self::Failed,
            MessageState::Received => Self::Received,
        }
    }
}

impl From<DeliveryState> for MessageState {
    fn from(s: DeliveryState) -> Self {
        match s {
            DeliveryState::Queued => Self::Queued,
            DeliveryState::Sent => Self::Sent,
            DeliveryState::Acknowledged => Self::Acked,
            DeliveryState::Delivered => Self::Delivered,
            DeliveryState::Displayed => Self::Displayed,
            DeliveryState::Failed => Self::Failed,
            DeliveryState::Received => Self::Received,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Availability {
    Offline,
    Online,
    Away,
    ExtendedAway,
    DoNotDisturb,
}

impl From<linnet_ui::Availability> for Availability {
    fn from(a: linnet_ui::Availability) -> Self {
        match a {
            linnet_ui::Availability::Offline => Self::Offline,
            linnet_ui::Availability::Online => Self::Online,
            linnet_ui::Availability::Away => Self::Away,
            linnet_ui::Availability::ExtendedAway => Self::ExtendedAway,
            linnet_ui::Availability::DoNotDisturb => Self::DoNotDisturb,
        }
    }
}

/// Who sees whose presence (RFC 6121).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SubscriptionState {
    None,
    /// We see theirs.
    To,
    /// They see ours.
    From,
    Both,
}

impl From<Subscription> for SubscriptionState {
    fn from(s: Subscription) -> Self {
        match s {
            Subscription::To => Self::To,
            Subscription::From => Self::From,
            Subscription::Both => Self::Both,
            Subscription::None | Subscription::Remove => Self::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MessagePreview {
    pub message_id: i64,
    pub body: String,
    pub outgoing: bool,
    pub state: DeliveryState,
    /// ms since the epoch.
    pub timestamp: i64,
}

/// What an archive sync does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SyncPhase {
    /// Fetching what arrived while this device was away.
    CatchUp,
    /// The newest messages, on this device's first sync.
    Newest,
    /// Older history.
    Backfill,
}

impl From<linnet_sdk::SyncPhase> for SyncPhase {
    fn from(p: linnet_sdk::SyncPhase) -> Self {
        match p {
            linnet_sdk::SyncPhase::CatchUp => Self::CatchUp,
            linnet_sdk::SyncPhase::Newest => Self::Newest,
            linnet_sdk::SyncPhase::Backfill => Self::Backfill,
        }
    }
}

/// Whether the chat list is still syncing with the server archive, and how far it is.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SyncStatus {
    pub syncing: bool,
    pub phase: Option<SyncPhase>,
    /// Archive messages received so far in this run.
    pub fetched: u64,
    /// How many the catch-up brings in all, when the server says.
    pub total: Option<u64>,
    /// 0 to 1, when it can be told.
    pub progress: Option<f32>,
}

impl From<linnet_ui::SyncStatus> for SyncStatus {
    fn from(s: linnet_ui::SyncStatus) -> Self {
        Self {
            syncing: s.syncing,
            phase: s.phase.map(Into::into),
            fetched: s.fetched,
            total: s.total,
            progress: s.progress,
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatListItem {
    /// The peer's bare JID: the row's identity.
    pub peer: String,
    pub display_name: String,
    pub unread: u32,
    /// ms since the epoch; the list is sorted by this, newest first.
    pub last_activity: i64,
    pub preview: Option<MessagePreview>,
    pub typing: bool,
    pub presence: Availability,
}

impl From<linnet_ui::ChatListItem> for ChatListItem {
    fn from(i: linnet_ui::ChatListItem) -> Self {
        Self {
            peer: i.peer,
            display_name: i.display_name,
            unread: i.unread,
            last_activity: i.last_activity,
            preview: i.preview.map(|p| MessagePreview {
                message_id: p.message_id,
                body: p.body,
                outgoing: p.outgoing,
                state: p.state.into(),
                timestamp: p.timestamp,
            }),
            typing: i.typing,
            presence: i.presence.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TimelineMessage {
    /// Stable: use it as the row's identity, and for `retry`.
    pub id: i64,
    pub outgoing: bool,
    pub sender: String,
    pub body: String,
    /// ms since the epoch.
    pub timestamp: i64,
    pub state: DeliveryState,
    /// Why it failed, when `state` is `Failed`; `retry` sends it again.
    pub failure_reason: Option<String>,
    /// The file this message carries, if any.
    pub attachment: Option<TimelineAttachment>,
}

/// Which way a file travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TransferDirection {
    Upload,
    Download,
}

impl From<linnet_ui::TransferDirection> for TransferDirection {
    fn from(d: linnet_ui::TransferDirection) -> Self {
        match d {
            linnet_ui::TransferDirection::Upload => Self::Upload,
            linnet_ui::TransferDirection::Download => Self::Download,
        }
    }
}

/// Where a file transfer stands. Upload: `Queued -> Transferring -> Done` (back to `Queued`
/// while a transient failure waits out its backoff), or `Failed` / `Cancelled` (`retry` queues
/// it again). Download: `Offered` (waiting for `download`) or `Queued` (fetched by itself), then
/// the same (`download` fetches a failed or cancelled one again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TransferState {
    Offered,
    Queued,
    Transferring,
    Done,
    Failed,
    Cancelled,
}

impl From<linnet_ui::TransferState> for TransferState {
    fn from(s: linnet_ui::TransferState) -> Self {
        match s {
            linnet_ui::TransferState::Offered => Self::Offered,
            linnet_ui::TransferState::Queued => Self::Queued,
            linnet_ui::TransferState::Transferring => Self::Transferring,
            linnet_ui::TransferState::Done => Self::Done,
            linnet_ui::TransferState::Failed => Self::Failed,
            linnet_ui::TransferState::Cancelled => Self::Cancelled,
        }
    }
}

/// Why a transfer failed, for a UI to choose what to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TransferFailure {
    /// The network failed (retried automatically first).
    Network,
    /// The HTTP server answered with an error status.
    Http,
    /// The secure connection failed (certificate, handshake).
    Tls,
    /// Over the server's upload limit or the download limit.
    TooLarge,
    /// No space left on this device.
    DiskFull,
    Cancelled,
    /// The server offered a link or slot that is not https.
    NotHttps,
    /// The file to send is gone, unreadable, or changed since it was queued.
    FileMissing,
    /// The server refused the upload slot.
    ServerRefused,
    /// The server has no HTTP upload service.
    NoUploadService,
    /// Anything else local (a write failed, no download folder).
    Local,
}

impl From<linnet_ui::TransferFailureKind> for TransferFailure {
    fn from(k: linnet_ui::TransferFailureKind) -> Self {
        use linnet_ui::TransferFailureKind as K;
        match k {
            K::Network => Self::Network,
            K::Http => Self::Http,
            K::Tls => Self::Tls,
            K::TooLarge => Self::TooLarge,
            K::DiskFull => Self::DiskFull,
            K::Cancelled => Self::Cancelled,
            K::NotHttps => Self::NotHttps,
            K::FileMissing => Self::FileMissing,
            K::ServerRefused => Self::ServerRefused,
            K::NoUploadService => Self::NoUploadService,
            K::Local => Self::Local,
        }
    }
}

/// An image's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

/// A file attached to a message, with where its transfer stands.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TimelineAttachment {
    pub direction: TransferDirection,
    pub state: TransferState,
    /// For display only.
    pub file_name: String,
    pub media_type: Option<String>,
    /// In bytes, when known.
    pub size: Option<u64>,
    /// Of an image, when known.
    pub dimensions: Option<Dimensions>,
    /// The file on this device: an upload's source, a finished download.
    pub local_path: Option<String>,
    /// Bytes moved so far: live while `Transferring`, the size once `Done`, else 0.
    pub transferred: u64,
    /// What `transferred` counts towards, when known.
    pub total: Option<u64>,
    /// Why it failed or was cancelled, when it did.
    pub failure: Option<TransferFailure>,
    /// The same in words.
    pub failure_reason: Option<String>,
}

impl From<linnet_ui::TimelineAttachment> for TimelineAttachment {
    fn from(a: linnet_ui::TimelineAttachment) -> Self {
        Self {
            direction: a.direction.into(),
            state: a.state.into(),
            file_name: a.file_name,
            media_type: a.media_type,
            size: a.size,
            dimensions: a
                .dimensions
                .map(|(width, height)| Dimensions { width, height }),
            local_path: a.local_path,
            transferred: a.transferred,
            total: a.total,
            failure: a.failure_kind.map(Into::into),
            failure_reason: a.failure_reason,
        }
    }
}

// UniFFI passes enums by value (serialised) and has no `Box` for records: the Rust-side size
// of a variant only lives for one conversion.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum TimelineItem {
    /// Starts each local calendar day; `day` is `YYYY-MM-DD`.
    DateSeparator {
        day: String,
    },
    Message {
        message: TimelineMessage,
    },
}

impl From<linnet_ui::TimelineItem> for TimelineItem {
    fn from(i: linnet_ui::TimelineItem) -> Self {
        match i {
            linnet_ui::TimelineItem::DateSeparator { day } => Self::DateSeparator { day },
            linnet_ui::TimelineItem::Message(m) => Self::Message {
                message: TimelineMessage {
                    id: m.id,
                    outgoing: m.outgoing,
                    sender: m.sender,
                    body: m.body,
                    timestamp: m.timestamp,
                    state: m.state.into(),
                    failure_reason: m.failure_reason,
                    attachment: m.attachment.map(|a| (*a).into()),
                },
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ContactItem {
    /// Bare JID: the row's identity.
    pub jid: String,
    pub display_name: String,
    /// `None` for someone who only asked to subscribe.
    pub subscription: Option<SubscriptionState>,
    pub presence: Availability,
    pub status: Option<String>,
    /// They asked to see our presence: answer with `approve` or `deny`.
    pub pending_request: bool,
    /// We asked to see theirs and wait for their answer.
    pub awaiting_approval: bool,
}

impl From<linnet_ui::ContactItem> for ContactItem {
    fn from(c: linnet_ui::ContactItem) -> Self {
        Self {
            jid: c.jid,
            display_name: c.display_name,
            subscription: c.subscription.map(Into::into),
            presence: c.presence.into(),
            status: c.status,
            pending_request: c.pending_request,
            awaiting_approval: c.awaiting_approval,
        }
    }
}

/// What kind of failure ended a connection, for a UI to choose what to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FailureKind {
    /// Wrong password or refused sign-in: ask the user; no automatic retries.
    Auth,
    /// Certificate or TLS problem: show it, do not retry blindly.
    Security,
    /// Unreachable or dropped: retried automatically.
    Network,
    /// The server ended the session or misbehaved.
    Server,
    /// Local storage or configuration.
    Local,
}

impl From<&LinnetError> for FailureKind {
    fn from(e: &LinnetError) -> Self {
        match e.kind() {
            ErrorKind::Auth => Self::Auth,
            ErrorKind::Tls => Self::Security,
            ErrorKind::Network => Self::Network,
            ErrorKind::Server => Self::Server,
            ErrorKind::Usage | ErrorKind::Local => Self::Local,
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ConnectionState {
    Offline,
    Connecting,
    Online,
    /// The connection ended or failed; `reason` is a sentence for the user.
    Disconnected {
        reason: String,
        failure: Option<FailureKind>,
    },
}

impl From<linnet_sdk::ConnectionState> for ConnectionState {
    fn from(s: linnet_sdk::ConnectionState) -> Self {
        match s {
            linnet_sdk::ConnectionState::Offline => Self::Offline,
            linnet_sdk::ConnectionState::Connecting => Self::Connecting,
            linnet_sdk::ConnectionState::Online => Self::Online,
            linnet_sdk::ConnectionState::Disconnected { reason, error } => Self::Disconnected {
                reason,
                failure: error.as_ref().map(FailureKind::from),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Preferences {
    /// Send typing notifications.
    pub send_typing: bool,
    /// Tell contacts when their messages were read.
    pub send_read_markers: bool,
    /// Download files from contacts by themselves up to this size in bytes (0: never). Never
    /// from strangers.
    pub auto_download_max_bytes: u64,
    /// Calls only through the server's relay: nobody, contacts included, learns this device's
    /// addresses.
    pub relay_only_calls: bool,
    /// What notifications of new messages show (the push wake-up).
    pub notification_preview: crate::wake::NotificationPreview,
}

impl From<linnet_ui::settings::Preferences> for Preferences {
    fn from(p: linnet_ui::settings::Preferences) -> Self {
        Self {
            send_typing: p.send_typing,
            send_read_markers: p.send_read_markers,
            auto_download_max_bytes: p.auto_download_max_bytes,
            relay_only_calls: p.relay_only_calls,
            notification_preview: p.notification_preview.into(),
        }
    }
}

impl From<Preferences> for linnet_ui::settings::Preferences {
    fn from(p: Preferences) -> Self {
        Self {
            send_typing: p.send_typing,
            send_read_markers: p.send_read_markers,
            auto_download_max_bytes: p.auto_download_max_bytes,
            relay_only_calls: p.relay_only_calls,
            notification_preview: p.notification_preview.into(),
        }
    }
}

/// What the server offers and what Linnet chose: for bug reports. No secrets, no messages.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DoctorReport {
    pub bound_jid: String,
    pub server: String,
    pub connection: String,
    pub tls_version: String,
    pub tls_cipher: String,
    pub sasl_offered: Vec<String>,
    pub sasl_chosen: String,
    pub channel_binding: Option<String>,
    pub stream_management: String,
    /// New logins, resumptions and refused resumptions of this client so far.
    pub sessions: String,
    /// Since when (Unix ms) messages may be missing on this device, or null.
    pub history_gap_since: Option<i64>,
    /// Where archive sync stands on this device, in words.
    pub archive_sync: String,
    pub csi: bool,
    pub carbons: bool,
    pub mam: bool,
    pub upload_service: Option<String>,
    pub upload_max_file_size: Option<u64>,
    pub push: bool,
    pub external_services: bool,
    pub server_features: Vec<String>,
    /// The whole report as indented JSON, ready to paste.
    pub json: String,
}

impl From<linnet_sdk::DoctorReport> for DoctorReport {
    fn from(r: linnet_sdk::DoctorReport) -> Self {
        let json = r.to_json_pretty();
        Self {
            bound_jid: r.bound_jid,
            server: r.server,
            connection: r.connection,
            tls_version: r.tls_version,
            tls_cipher: r.tls_cipher,
            sasl_offered: r.sasl_offered,
            sasl_chosen: r.sasl_chosen,
            channel_binding: r.channel_binding,
            stream_management: r.stream_management,
            sessions: r.sessions,
            history_gap_since: r.history_gap_since,
            archive_sync: r.archive_sync,
            csi: r.csi,
            carbons: r.carbons,
            mam: r.mam,
            upload_service: r.upload.as_ref().map(|u| u.jid.clone()),
            upload_max_file_size: r.upload.and_then(|u| u.max_file_size),
            push: r.push,
            external_services: r.external_services,
            server_features: r.server_features,
            json,
        }
    }
}

/// An account as stored (the password lives in the platform's secret storage).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountInfo {
    pub jid: String,
    pub server_host: Option<String>,
    pub server_port: Option<u16>,
    pub direct_tls: bool,
}

impl From<linnet_sdk::store::Account> for AccountInfo {
    fn from(a: linnet_sdk::store::Account) -> Self {
        let server = a.settings.server_override;
        Self {
            jid: a.jid,
            server_host: server.as_ref().map(|s| s.host.clone()),
            server_port: server.map(|s| s.port),
            direct_tls: a.settings.direct_tls,
        }
    }
}

/// How to reach an account's server when DNS SRV is not the answer (self-hosted, tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct AccountOptions {
    #[uniffi(default = None)]
    pub server_host: Option<String>,
    #[uniffi(default = None)]
    pub server_port: Option<u16>,
    /// The server speaks TLS from the first byte (XEP-0368).
    #[uniffi(default = false)]
    pub direct_tls: bool,
    /// PEM text of an extra certificate authority to trust for this account.
    #[uniffi(default = None)]
    pub extra_ca_pem: Option<String>,
}

impl From<AccountOptions> for linnet_sdk::AccountSettings {
    fn from(o: AccountOptions) -> Self {
        Self {
            server: o
                .server_host
                .map(|host| (host, o.server_port.unwrap_or(5222))),
            direct_tls: o.direct_tls,
            ca_pem: o.extra_ca_pem,
        }
    }
}

/// One diff enum per observed list (UniFFI has no generics); apply a batch in order.
macro_rules! list_diff {
    ($(#[$doc:meta])* $name:ident, $item:ty, $core:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, uniffi::Enum)]
        pub enum $name {
            /// Replace the whole list (always the first batch).
            Reset { values: Vec<$item> },
            Insert { index: u32, value: $item },
            Set { index: u32, value: $item },
            Remove { index: u32 },
            /// Take the item at `from` out, then insert it at `to`.
            Move { from: u32, to: u32 },
        }

        impl From<VecDiff<$core>> for $name {
            fn from(d: VecDiff<$core>) -> Self {
                match d {
                    VecDiff::Reset { values } => Self::Reset {
                        values: values.into_iter().map(Into::into).collect(),
                    },
                    VecDiff::Insert { index, value } => Self::Insert {
                        index,
                        value: value.into(),
                    },
                    VecDiff::Set { index, value } => Self::Set {
                        index,
                        value: value.into(),
                    },
                    VecDiff::Remove { index } => Self::Remove { index },
                    VecDiff::Move { from, to } => Self::Move { from, to },
                }
            }
        }
    };
}

list_diff!(
    /// A change to the chat list.
    ChatListDiff,
    ChatListItem,
    linnet_ui::ChatListItem
);
list_diff!(
    /// A change to a timeline.
    TimelineDiff,
    TimelineItem,
    linnet_ui::TimelineItem
);
list_diff!(
    /// A change to the contacts list.
    ContactsDiff,
    ContactItem,
    linnet_ui::ContactItem
);
