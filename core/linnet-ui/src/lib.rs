//! View-model services: what a chat app's screens show, observed as "current state first, then
//! diffs" (ARCHITECTURE.md rule 2). Native UIs apply the diffs and hold no business state.
//!
//! Every `subscribe` takes a listener, spawns a task on the current tokio runtime (call it from
//! inside one) and returns a [`TaskHandle`]: cancelling or dropping it stops the callbacks.
//! Listeners are never called while a lock is held.

pub mod call_screen;
pub mod chat_list;
pub mod connection;
pub mod contacts;
pub mod diagnostics;
pub mod diff;
pub mod handle;
mod observe;
pub mod presence;
pub mod settings;
pub mod timeline;

pub use call_screen::{CallPhase, CallScreen, CallScreenState};
pub use chat_list::{ChatList, ChatListItem, Preview, SyncStatus};
pub use connection::ConnectionService;
pub use contacts::{ContactItem, Contacts};
pub use diagnostics::Diagnostics;
pub use diff::{VecDiff, diff_by_key};
pub use handle::TaskHandle;
pub use presence::Availability;
pub use settings::Settings;
pub use timeline::{Timeline, TimelineAttachment, TimelineItem, TimelineMessage};

pub use linnet_sdk::{
    Client, ConnectionState, DoctorReport, ErrorKind, LinnetError, MessageState, TransferDirection,
    TransferFailureKind, TransferState, store::Subscription,
};

/// A listener for a list: receives a batch of diffs (the first batch is a single `Reset`).
pub type ListListener<T> = Box<dyn Fn(Vec<VecDiff<T>>) + Send + Sync + 'static>;

/// The name to show for `jid`: its roster name, else the JID's local part, else the JID.
pub(crate) fn display_name(name: Option<&str>, jid: &str) -> String {
    if let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    match jid.split_once('@') {
        Some((local, _)) if !local.is_empty() => local.to_string(),
        _ => jid.to_string(),
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Locks a mutex, recovering from poisoning (the data here is always left whole).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(display_name(Some("Bob"), "bob@x.test"), "Bob");
        assert_eq!(display_name(Some("  "), "bob@x.test"), "bob");
        assert_eq!(display_name(None, "x.test"), "x.test");
    }
}
