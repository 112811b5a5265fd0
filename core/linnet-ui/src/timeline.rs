//! One conversation's timeline: paged from the store, local echo of outgoing messages with their
//! outbox state, date separators, receipts and markers applied.

use std::sync::{Arc, Mutex};

use chrono::TimeZone as _;
use linnet_sdk::store::Direction;
use linnet_sdk::{ChatState, Client, ClientEvent, LinnetError, Message, MessageState};
use tokio::sync::watch;

use crate::observe::observe_list;
use crate::{ListListener, TaskHandle, lock};

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

/// Which messages the timeline holds: the newest ones down to a bound that pagination moves
/// back. Everything newer than the bound is read from the store each time (the store is the
/// truth), so new messages, state changes and reads show up by themselves.
#[derive(Debug, Default)]
struct Window {
    loaded: bool,
    /// (timestamp, position) of the oldest message loaded; `None` once the start is reached.
    oldest: Option<(i64, i64)>,
}

/// How many messages one store query reads while collecting the window.
const READ_PAGE: u32 = 200;

pub struct Timeline {
    client: Client,
    peer: String,
    window: Arc<Mutex<Window>>,
    /// Bumped when a page was loaded, so subscribers recompute.
    pages: watch::Sender<u64>,
}

impl Timeline {
    /// The timeline of the conversation with `peer` (a bare JID; normalised here).
    pub fn new(client: Client, peer: &str) -> Result<Self, LinnetError> {
        let peer = linnet_sdk::normalise_jid(peer)?.to_string();
        Ok(Self {
            client,
            peer,
            window: Arc::new(Mutex::new(Window::default())),
            pages: watch::Sender::new(0),
        })
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The items loaded now (the newest `INITIAL_PAGE` messages plus what pagination added).
    pub fn items(&self) -> Result<Vec<TimelineItem>, LinnetError> {
        load(&self.client, &self.peer, &self.window)
    }

    /// A `Reset` with the loaded items, then diffs: new messages (incoming, carbons, local echo of
    /// sends), state changes, older pages.
    pub fn subscribe(
        &self,
        listener: ListListener<TimelineItem>,
    ) -> Result<TaskHandle, LinnetError> {
        let (client, peer, window) = (self.client.clone(), self.peer.clone(), self.window.clone());
        let ours = self.peer.clone();
        observe_list(
            &self.client,
            move || load(&client, &peer, &window),
            move |event: &ClientEvent| match event {
                ClientEvent::Message(m) => m.peer == ours,
                ClientEvent::MessageState { peer, .. } | ClientEvent::ConversationRead { peer } => {
                    *peer == ours
                }
                ClientEvent::HistoryChanged { peers } => peers.contains(&ours),
                _ => false,
            },
            key,
            Some(self.pages.subscribe()),
            listener,
        )
    }

    /// Loads up to `count` older messages into the timeline (subscribers get them as inserts at
    /// the top). Returns true when the start of the conversation is reached.
    pub fn paginate_backwards(&self, count: u32) -> Result<bool, LinnetError> {
        let reached = {
            let mut window = lock(&self.window);
            ensure_loaded(&self.client, &self.peer, &mut window)?;
            let Some((_, oldest_id)) = window.oldest else {
                return Ok(true);
            };
            let page = self.client.history(&self.peer, count, Some(oldest_id))?;
            let reached = page.len() < count as usize;
            window.oldest = if reached {
                None
            } else {
                page.last()
                    .map(|m| (m.timestamp, m.position))
                    .or(window.oldest)
            };
            reached
        };
        self.pages.send_modify(|n| *n = n.wrapping_add(1));
        Ok(reached)
    }

    /// `paginate_backwards`, and once the stored history is exhausted, older history from the
    /// server archive (subscribers get it as inserts at the top). Returns true when the start of
    /// the conversation is reached. Offline, what the store has is all there is for now: false.
    pub async fn load_older(&self, count: u32) -> Result<bool, LinnetError> {
        if !self.paginate_backwards(count)? {
            return Ok(false);
        }
        match self.client.load_older(&self.peer, count).await {
            // The window reaches the start of what is stored, so the new rows are in it.
            Ok(page) => {
                self.pages.send_modify(|n| *n = n.wrapping_add(1));
                Ok(page.complete)
            }
            Err(LinnetError::NotConnected) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sends a message; it appears at once as a local echo in state `Queued`, then advances.
    pub fn send(&self, body: &str) -> Result<i64, LinnetError> {
        self.client.send_message(&self.peer, body)
    }

    /// Sends a failed message again.
    pub fn retry(&self, message_id: i64) -> Result<(), LinnetError> {
        self.client.retry(message_id)
    }

    /// Marks the conversation read and sends the displayed marker (if the settings allow).
    pub fn mark_read(&self) -> Result<(), LinnetError> {
        self.client.mark_read(&self.peer)
    }

    /// Tells the peer we are typing (true) or stopped (false), if the settings allow.
    pub fn set_typing(&self, typing: bool) -> Result<(), LinnetError> {
        let state = if typing {
            ChatState::Composing
        } else {
            ChatState::Active
        };
        self.client.send_chat_state(&self.peer, state)
    }
}

/// A row's identity for diffs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Day(String),
    Message(i64),
}

fn key(item: &TimelineItem) -> Key {
    match item {
        TimelineItem::DateSeparator { day } => Key::Day(day.clone()),
        TimelineItem::Message(m) => Key::Message(m.id),
    }
}

/// Loads the newest page the first time.
fn ensure_loaded(client: &Client, peer: &str, window: &mut Window) -> Result<(), LinnetError> {
    if !window.loaded {
        let page = client.history(peer, INITIAL_PAGE, None)?;
        window.oldest = if page.len() < INITIAL_PAGE as usize {
            None
        } else {
            page.last().map(|m| (m.timestamp, m.position))
        };
        window.loaded = true;
    }
    Ok(())
}

/// The window's messages from the store, rendered.
fn load(
    client: &Client,
    peer: &str,
    window: &Mutex<Window>,
) -> Result<Vec<TimelineItem>, LinnetError> {
    let oldest = {
        let mut window = lock(window);
        ensure_loaded(client, peer, &mut window)?;
        window.oldest
    };
    // Newest first, down to the bound.
    let mut messages: Vec<Message> = Vec::new();
    let mut before = None;
    'read: loop {
        let page = client.history(peer, READ_PAGE, before)?;
        let full = page.len() == READ_PAGE as usize;
        before = page.last().map(|m| m.id);
        for m in page {
            if oldest.is_some_and(|bound| (m.timestamp, m.position) < bound) {
                break 'read;
            }
            messages.push(m);
        }
        if !full {
            break;
        }
    }
    Ok(render(messages.iter().rev(), local_day))
}

/// The local calendar day of a time stamp (ms), `YYYY-MM-DD`.
fn local_day(timestamp: i64) -> String {
    chrono::Local
        .timestamp_millis_opt(timestamp)
        .earliest()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Messages (oldest first) as rows, with a date separator before each day's first message.
fn render<'a>(
    messages: impl Iterator<Item = &'a Message>,
    day: impl Fn(i64) -> String,
) -> Vec<TimelineItem> {
    let mut items = Vec::new();
    let mut current: Option<String> = None;
    for m in messages {
        let d = day(m.timestamp);
        if current.as_ref() != Some(&d) {
            items.push(TimelineItem::DateSeparator { day: d.clone() });
            current = Some(d);
        }
        items.push(TimelineItem::Message(TimelineMessage {
            id: m.id,
            outgoing: m.direction == Direction::Outgoing,
            sender: m.sender.clone(),
            body: m.body.clone(),
            timestamp: m.timestamp,
            state: m.state,
            failure_reason: m.failure_reason.clone(),
        }));
    }
    items
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn message(id: i64, timestamp: i64) -> Message {
        Message {
            id,
            account_id: 1,
            conversation_id: 1,
            peer: "bob@x.test".into(),
            direction: Direction::Incoming,
            sender: "bob@x.test".into(),
            sender_resource: None,
            xmpp_id: None,
            origin_id: None,
            server_id: None,
            body: format!("m{id}"),
            timestamp,
            received_at: timestamp,
            is_carbon: false,
            state: MessageState::Received,
            failure_reason: None,
            attempts: 0,
            position: id,
            attachment: None,
        }
    }

    fn utc_day(timestamp: i64) -> String {
        chrono::Utc
            .timestamp_millis_opt(timestamp)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    }

    /// 2026-11-24 00:00:00 UTC in ms.
    const NOV_24: i64 = 1_795_478_400_000;
    const HOUR: i64 = 3_600_000;

    fn shape(items: &[TimelineItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                TimelineItem::DateSeparator { day } => day.clone(),
                TimelineItem::Message(m) => m.body.clone(),
            })
            .collect()
    }

    #[test]
    fn a_separator_starts_each_day() {
        let messages = [
            message(1, NOV_24 + 9 * HOUR),
            message(2, NOV_24 + 23 * HOUR),
            message(3, NOV_24 + 24 * HOUR),
            message(4, NOV_24 + 24 * HOUR + 1),
            message(5, NOV_24 + 72 * HOUR),
        ];
        let items = render(messages.iter(), utc_day);
        assert_eq!(
            shape(&items),
            [
                "2026-11-24",
                "m1",
                "m2",
                "2026-11-25",
                "m3",
                "m4",
                "2026-11-27",
                "m5"
            ]
        );
        assert!(render([].iter(), utc_day).is_empty());
    }

    #[test]
    fn local_days_are_formatted_as_iso_dates() {
        let day = local_day(NOV_24 + 12 * HOUR);
        assert_eq!(day.len(), 10, "{day}");
        assert!(day.starts_with("2026-11-2"), "{day}");
    }

    #[test]
    fn an_older_page_is_inserted_at_the_top_under_the_right_separators() {
        let newer = [
            message(3, NOV_24 + 30 * HOUR),
            message(4, NOV_24 + 31 * HOUR),
        ];
        let all = [
            message(1, NOV_24 + HOUR),
            message(2, NOV_24 + 26 * HOUR),
            message(3, NOV_24 + 30 * HOUR),
            message(4, NOV_24 + 31 * HOUR),
        ];
        let old = render(newer.iter(), utc_day);
        let new = render(all.iter(), utc_day);
        let diffs = crate::diff::diff_by_key(&old, &new, key);
        assert!(
            diffs
                .iter()
                .all(|d| matches!(d, crate::VecDiff::Insert { .. })),
            "{diffs:?}"
        );
        let mut list = old.clone();
        crate::diff::apply(&mut list, &diffs);
        assert_eq!(
            shape(&list),
            ["2026-11-24", "m1", "2026-11-25", "m2", "m3", "m4"]
        );
    }
}
