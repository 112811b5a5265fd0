//! The chat list: conversations by last activity, with unread counts, previews, typing and presence.

use linnet_sdk::{Client, LinnetError, MessageState};

use crate::presence::Availability;
use crate::{ListListener, TaskHandle};

/// The last message of a conversation, as the chat list previews it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub message_id: i64,
    pub body: String,
    pub outgoing: bool,
    pub state: MessageState,
    /// ms since the epoch.
    pub timestamp: i64,
}

/// One row of the chat list.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatListItem {
    /// The peer's bare JID: the row's identity.
    pub peer: String,
    /// Roster name, or the JID's local part, or the JID.
    pub display_name: String,
    pub unread: u32,
    /// ms since the epoch; the list is sorted by this, newest first.
    pub last_activity: i64,
    pub preview: Option<Preview>,
    /// The peer is composing a message right now.
    pub typing: bool,
    pub presence: Availability,
}

pub struct ChatList {
    #[allow(dead_code)]
    client: Client,
}

impl ChatList {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The list as it is now.
    pub fn items(&self) -> Result<Vec<ChatListItem>, LinnetError> {
        unimplemented!("skeleton")
    }

    /// A `Reset` with the current list, then diffs as messages arrive, states change, peers
    /// type, presence changes or conversations are read (here or on another device).
    pub fn subscribe(
        &self,
        _listener: ListListener<ChatListItem>,
    ) -> Result<TaskHandle, LinnetError> {
        unimplemented!("skeleton")
    }
}
