//! The push wake-up path (linnet-sdk `Client::wake`) for an iOS Notification Service Extension
//! (`wake_account`: opens the data directory, wakes, closes it) and an Android push receiver in
//! the app's process (`LinnetClient::wake`). Conversions only.
//!
//! For the extension: call `init_platform` with `lightweight: true` first (one worker thread,
//! small stacks: the extension is killed above 24 MB).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use linnet_sdk::Linnet;

use crate::errors::ConnectError;
use crate::platform::{ForeignSecrets, SecretStorage};
use crate::runtime::on_runtime;
use crate::services::LinnetClient;

/// What a notification of a new message may show (a preference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NotificationPreview {
    /// The sender and the beginning of the message.
    Full,
    /// The sender and "New message".
    SenderOnly,
    /// "New message" only.
    Hidden,
}

impl From<linnet_sdk::NotificationPreview> for NotificationPreview {
    fn from(p: linnet_sdk::NotificationPreview) -> Self {
        match p {
            linnet_sdk::NotificationPreview::Full => Self::Full,
            linnet_sdk::NotificationPreview::SenderOnly => Self::SenderOnly,
            linnet_sdk::NotificationPreview::Hidden => Self::Hidden,
        }
    }
}

impl From<NotificationPreview> for linnet_sdk::NotificationPreview {
    fn from(p: NotificationPreview) -> Self {
        match p {
            NotificationPreview::Full => Self::Full,
            NotificationPreview::SenderOnly => Self::SenderOnly,
            NotificationPreview::Hidden => Self::Hidden,
        }
    }
}

/// How a wake runs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WakeOptions {
    /// Milliseconds until the wake returns what was stored so far (the iOS extension has about
    /// 30 s in all).
    #[uniffi(default = 20000)]
    pub deadline_ms: u64,
    /// Messages from strangers notify too (flagged `from_stranger`); otherwise only counted.
    #[uniffi(default = false)]
    pub notify_requests: bool,
}

impl From<WakeOptions> for linnet_sdk::WakeOptions {
    fn from(o: WakeOptions) -> Self {
        Self {
            deadline: Duration::from_millis(o.deadline_ms),
            notify_requests: o.notify_requests,
        }
    }
}

/// One new message to show.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WakeNotification {
    pub message_id: i64,
    /// The peer's bare JID: the conversation to open on tap (not for display).
    pub conversation: String,
    /// Roster name or JID; null when the preference hides the sender.
    pub sender_name: Option<String>,
    /// The message's beginning, or "New message", per the preference.
    pub preview: String,
    pub timestamp_ms: i64,
    pub from_stranger: bool,
}

/// A call that still rings (not retracted, within the ring timeout).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WakeCall {
    pub call_id: String,
    pub peer: String,
    /// Roster name or JID; null when the preference hides the sender.
    pub caller_name: Option<String>,
}

/// What a wake brought.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WakeReport {
    /// Oldest first.
    pub notifications: Vec<WakeNotification>,
    pub calls: Vec<WakeCall>,
    /// New incoming messages stored (strangers' included).
    pub new_messages: u64,
    /// Of those, from strangers.
    pub requests: u64,
    /// Unread messages in all conversations (the badge).
    pub unread_total: u64,
    /// False: the deadline came first; the app's next sync fetches the rest.
    pub complete: bool,
}

impl From<linnet_sdk::WakeReport> for WakeReport {
    fn from(r: linnet_sdk::WakeReport) -> Self {
        Self {
            notifications: r
                .notifications
                .into_iter()
                .map(|n| WakeNotification {
                    message_id: n.message_id,
                    conversation: n.conversation,
                    sender_name: n.sender_name,
                    preview: n.preview,
                    timestamp_ms: n.timestamp_ms,
                    from_stranger: n.from_stranger,
                })
                .collect(),
            calls: r
                .calls
                .into_iter()
                .map(|c| WakeCall {
                    call_id: c.call_id,
                    peer: c.peer,
                    caller_name: c.caller_name,
                })
                .collect(),
            new_messages: r.new_messages,
            requests: r.requests,
            unread_total: r.unread_total,
            complete: r.complete,
        }
    }
}

/// The Notification Service Extension's call: opens `data_dir` (the app group container shared
/// with the app), wakes the account `jid` (the only one when null), and returns once the
/// database is closed again.
#[uniffi::export]
pub async fn wake_account(
    data_dir: String,
    secrets: Arc<dyn SecretStorage>,
    jid: Option<String>,
    options: WakeOptions,
) -> Result<WakeReport, ConnectError> {
    on_runtime(async move {
        let linnet =
            Linnet::open_with_secrets(Path::new(&data_dir), Arc::new(ForeignSecrets(secrets)))?;
        let report =
            linnet_sdk::client::wake_and_close(linnet, jid.as_deref(), options.into()).await?;
        Ok(report.into())
    })
    .await
}

#[uniffi::export]
impl LinnetClient {
    /// A push arrived while the app's process runs (an Android push receiver): fetch, store and
    /// return what to show. Leaves the connection as it was (online stays online).
    pub async fn wake(&self, options: WakeOptions) -> Result<WakeReport, ConnectError> {
        let client = self.core().clone();
        on_runtime(async move { Ok(client.wake(options.into()).await?.into()) }).await
    }
}
