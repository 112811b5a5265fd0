//! The chat list: conversations by last activity, with unread counts, previews, typing and presence.

use linnet_sdk::store::{ChatSummary, Direction};
use linnet_sdk::{ChatState, Client, ClientEvent, LinnetError, MessageState};

use crate::observe::observe_list;
use crate::presence::Availability;
use crate::{ListListener, TaskHandle, display_name};

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
    client: Client,
}

impl ChatList {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The list as it is now.
    pub fn items(&self) -> Result<Vec<ChatListItem>, LinnetError> {
        items(&self.client)
    }

    /// A `Reset` with the current list, then diffs as messages arrive, states change, peers
    /// type, presence changes or conversations are read (here or on another device).
    pub fn subscribe(
        &self,
        listener: ListListener<ChatListItem>,
    ) -> Result<TaskHandle, LinnetError> {
        let client = self.client.clone();
        observe_list(
            &self.client,
            move || items(&client),
            relevant,
            |item: &ChatListItem| item.peer.clone(),
            None,
            listener,
        )
    }
}

fn relevant(event: &ClientEvent) -> bool {
    matches!(
        event,
        ClientEvent::Message(_)
            | ClientEvent::MessageState { .. }
            | ClientEvent::ChatState { .. }
            | ClientEvent::Presence { .. }
            | ClientEvent::RosterChanged
            | ClientEvent::ConversationRead { .. }
            | ClientEvent::Connection(_)
    )
}

fn items(client: &Client) -> Result<Vec<ChatListItem>, LinnetError> {
    let mut items: Vec<ChatListItem> = client
        .chats()?
        .into_iter()
        .map(|summary| item(client, summary))
        .collect();
    // Stable: equal times keep the store's order.
    items.sort_by_key(|item| std::cmp::Reverse(item.last_activity));
    Ok(items)
}

fn item(client: &Client, summary: ChatSummary) -> ChatListItem {
    let peer = summary.conversation.peer;
    ChatListItem {
        display_name: display_name(summary.name.as_deref(), &peer),
        unread: summary.conversation.unread_count,
        last_activity: summary.conversation.last_activity,
        preview: summary.last_message.map(|m| Preview {
            message_id: m.id,
            body: m.body,
            outgoing: m.direction == Direction::Outgoing,
            state: m.state,
            timestamp: m.timestamp,
        }),
        typing: client.chat_state(&peer) == Some(ChatState::Composing),
        presence: Availability::from_presence(&client.presence(&peer)),
        peer,
    }
}
