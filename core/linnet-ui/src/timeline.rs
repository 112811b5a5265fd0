//! One conversation's timeline: paged from the store, local echo of outgoing messages with their
//! outbox state, date separators, receipts and markers applied.

use linnet_sdk::{Client, LinnetError, MessageState};

use crate::{ListListener, TaskHandle};

/// How many messages a new timeline shows before paginating.
pub const INITIAL_PAGE: u32 = 50;

/// A message as the timeline shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineMessage {
    /// The store's id: stable, use it as the row's identity.
    pub id: i64,
    pub outgoing: bool,
    /// Bare JID of the author.
    pub sender: String,
    pub body: String,
    /// ms since the epoch.
    pub timestamp: i64,
    pub state: MessageState,
    /// Why it failed, when `state` is `Failed`.
    pub failure_reason: Option<String>,
}

/// A row of the timeline, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub enum TimelineItem {
    /// Starts each local calendar day that has messages. `day` is `YYYY-MM-DD`.
    DateSeparator {
        day: String,
    },
    Message(TimelineMessage),
}

pub struct Timeline {
    #[allow(dead_code)]
    client: Client,
    peer: String,
}

impl Timeline {
    /// The timeline of the conversation with `peer` (a bare JID; normalised here).
    pub fn new(client: Client, peer: &str) -> Result<Self, LinnetError> {
        let peer = linnet_sdk::normalise_jid(peer)?.to_string();
        Ok(Self { client, peer })
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The items loaded now (the newest `INITIAL_PAGE` messages plus what pagination added).
    pub fn items(&self) -> Result<Vec<TimelineItem>, LinnetError> {
        unimplemented!("skeleton")
    }

    /// A `Reset` with the loaded items, then diffs: new messages (incoming, carbons, local echo of
    /// sends), state changes, older pages.
    pub fn subscribe(
        &self,
        _listener: ListListener<TimelineItem>,
    ) -> Result<TaskHandle, LinnetError> {
        unimplemented!("skeleton")
    }

    /// Loads up to `count` older messages into the timeline (subscribers get them as inserts at
    /// the top). Returns true when the start of the conversation is reached.
    pub fn paginate_backwards(&self, _count: u32) -> Result<bool, LinnetError> {
        unimplemented!("skeleton")
    }

    /// Sends a message; it appears at once as a local echo in state `Queued`, then advances.
    pub fn send(&self, _body: &str) -> Result<i64, LinnetError> {
        unimplemented!("skeleton")
    }

    /// Sends a failed message again.
    pub fn retry(&self, _message_id: i64) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    /// Marks the conversation read and sends the displayed marker (if the settings allow).
    pub fn mark_read(&self) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    /// Tells the peer we are typing (true) or stopped (false), if the settings allow.
    pub fn set_typing(&self, _typing: bool) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }
}
