//! Linnet's public Rust API. `Linnet` opens the data directory and manages accounts; `Client`
//! connects one account, keeps the store in step with the server and reports `ClientEvent`s.
//! The store is the truth: every message is in SQLite before anything else happens to it.

pub mod account;
pub mod backoff;
pub mod client;
pub mod doctor;
pub mod error;
pub mod live;
pub mod logging;
pub mod secrets;

pub use account::{AccountSettings, Linnet, normalise_jid};
pub use client::{
    ArchiveConfig, AudioIo, CallDiagnostics, CallMediaEvent, CallState, CallUpdate, CallsConfig,
    Client, ClientConfig, ClientEvent, ConnectionState, ConnectionStats, FilesConfig, OlderPage,
    Preferences, PushPlatform, PushSettings, PushStatus, SyncPhase, SyncProgress, SyncReport,
    SyncState, TransferFailureKind, TransferUpdate,
};
/// The wake-up path (a push arrived): `Client::wake`.
pub use client::{NotificationPreview, WakeCall, WakeNotification, WakeOptions, WakeReport};
pub use doctor::DoctorReport;
pub use error::{ErrorKind, LinnetError};
/// Audio devices, DTMF and codecs of calls.
pub use linnet_calls::{audio, dtmf};
pub use linnet_store::{
    self as store, Attachment, CallEndReason, CallRecord, ChatSummary, Contact, Message,
    MessageState, TransferDirection, TransferState,
};
pub use linnet_xmpp::chatstates::ChatState;
pub use linnet_xmpp::secret::Secret;
pub use live::PresenceInfo;
