//! View-model services: what a chat app's screens show, observed as "current state first, then
//! diffs" (ARCHITECTURE.md rule 2). Native UIs apply the diffs and hold no business state.
//!
//! Every `subscribe` takes a listener, spawns a task on the current tokio runtime (call it from
//! inside one) and returns a [`TaskHandle`]: cancelling or dropping it stops the callbacks.
//! Listeners are never called while a lock is held.

pub mod chat_list;
pub mod connection;
pub mod contacts;
pub mod diagnostics;
pub mod diff;
pub mod handle;
pub mod presence;
pub mod settings;
pub mod timeline;

pub use chat_list::{ChatList, ChatListItem, Preview};
pub use connection::ConnectionService;
pub use contacts::{ContactItem, Contacts};
pub use diagnostics::Diagnostics;
pub use diff::{VecDiff, diff_by_key};
pub use handle::TaskHandle;
pub use presence::Availability;
pub use settings::Settings;
pub use timeline::{Timeline, TimelineItem, TimelineMessage};

pub use linnet_sdk::{
    Client, ConnectionState, DoctorReport, ErrorKind, LinnetError, MessageState,
    store::Subscription,
};

/// A listener for a list: receives a batch of diffs (the first batch is a single `Reset`).
pub type ListListener<T> = Box<dyn Fn(Vec<VecDiff<T>>) + Send + Sync + 'static>;
