//! The chat list: conversations by last activity, with unread counts, previews, typing and presence.

use linnet_sdk::store::{ChatSummary, Direction};
use linnet_sdk::{Client, ClientEvent, LinnetError, MessageState, SyncPhase, SyncState};

use crate::observe::{self, Observed, observe_list};
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

/// Whether the chat list is still catching up with the server archive, and how far it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    pub syncing: bool,
    /// What the sync does now (while `syncing`).
    pub phase: Option<SyncPhase>,
    /// Archive messages received so far in this run.
    pub fetched: u64,
    /// How many the catch-up brings in all, when the server says.
    pub total: Option<u64>,
    /// 0 to 1 when it can be told (by count, or by archive time reached).
    pub progress: Option<f32>,
}

impl SyncStatus {
    fn of(state: &SyncState) -> Self {
        match state {
            SyncState::Idle => SyncStatus {
                syncing: false,
                phase: None,
                fetched: 0,
                total: None,
                progress: None,
            },
            SyncState::Syncing(p) => SyncStatus {
                syncing: true,
                phase: Some(p.phase),
                fetched: p.fetched,
                total: p.total,
                progress: p.fraction_now(),
            },
        }
    }
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

impl ChatList {
    /// The archive sync status now.
    pub fn sync_status(&self) -> SyncStatus {
        SyncStatus::of(&self.client.sync_state())
    }

    /// The sync status now, then its changes (coalesced: a listener that falls behind gets
    /// the latest only).
    pub fn subscribe_sync(
        &self,
        listener: Box<dyn Fn(SyncStatus) + Send + Sync + 'static>,
    ) -> TaskHandle {
        let events = self.client.subscribe();
        let first = self.sync_status();
        let source = SyncChanges {
            client: self.client.clone(),
            last: first.clone(),
            latest: None,
        };
        observe::spawn(events, first, source, None, listener)
    }
}

/// The newest sync status not yet delivered.
struct SyncChanges {
    client: Client,
    last: SyncStatus,
    latest: Option<SyncStatus>,
}

impl Observed for SyncChanges {
    type Batch = SyncStatus;

    fn note(&mut self, event: &ClientEvent) -> bool {
        match event {
            ClientEvent::Sync(state) => {
                self.latest = Some(SyncStatus::of(state));
                true
            }
            _ => false,
        }
    }

    fn lagged(&mut self) -> bool {
        self.latest = Some(SyncStatus::of(&self.client.sync_state()));
        true
    }

    fn next_batch(&mut self) -> Option<SyncStatus> {
        let latest = self.latest.take()?;
        (latest != self.last).then(|| {
            self.last = latest.clone();
            latest
        })
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
            | ClientEvent::HistoryChanged { .. }
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
        typing: crate::timeline::is_typing(client, &peer),
        presence: Availability::from_presence(&client.presence(&peer)),
        peer,
    }
}
