//! One conversation's timeline: paged from the store, local echo of outgoing messages with their
//! outbox state, date separators, receipts and markers applied, files with their transfer state
//! and progress.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::TimeZone as _;
use linnet_sdk::store::Direction;
use linnet_sdk::{
    Attachment, ChatState, Client, ClientEvent, LinnetError, Message, MessageState,
    TransferDirection, TransferFailureKind, TransferState,
};
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
    /// The file this message carries, if any (boxed: most messages carry none).
    pub attachment: Option<Box<TimelineAttachment>>,
}

/// A file attached to a message, with where its transfer stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineAttachment {
    pub direction: TransferDirection,
    pub state: TransferState,
    /// For display only.
    pub file_name: String,
    pub media_type: Option<String>,
    /// In bytes, when known (a download's size may be unknown until it is fetched).
    pub size: Option<u64>,
    /// (width, height) of an image, when known.
    pub dimensions: Option<(u32, u32)>,
    /// The file on this device: an upload's source, a finished download.
    pub local_path: Option<String>,
    /// Bytes moved so far: live while `Transferring`, the size once `Done`, else 0.
    pub transferred: u64,
    /// What `transferred` counts towards, when known.
    pub total: Option<u64>,
    /// Why it failed or was cancelled, for a UI to act on, and in words.
    pub failure_kind: Option<TransferFailureKind>,
    pub failure_reason: Option<String>,
}

impl TimelineAttachment {
    /// The stored attachment, with `progress` (bytes, total) of a running transfer.
    fn new(a: &Attachment, progress: Option<(u64, Option<u64>)>) -> Self {
        let (transferred, total) = match (a.state, progress) {
            (TransferState::Transferring, Some((moved, total))) => (moved, total.or(a.size)),
            (TransferState::Done, _) => (a.size.unwrap_or(0), a.size),
            _ => (0, a.size),
        };
        Self {
            direction: a.direction,
            state: a.state,
            file_name: a.file_name.clone(),
            media_type: a.media_type.clone(),
            size: a.size,
            dimensions: a.dimensions,
            local_path: a.local_path.clone(),
            transferred,
            total,
            failure_kind: a
                .failure_kind
                .as_deref()
                .and_then(TransferFailureKind::parse),
            failure_reason: a.failure_reason.clone(),
        }
    }
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
    /// sends), state changes, file transfers moving (as `Set`s of their row), older pages.
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
                ClientEvent::Transfer(t) => t.peer == ours,
                _ => false,
            },
            key,
            Some(self.pages.subscribe()),
            listener,
        )
    }

    /// Whether the peer is typing now (XEP-0085 composing).
    pub fn peer_typing(&self) -> bool {
        is_typing(&self.client, &self.peer)
    }

    /// Whether the peer is typing: the current value first, then every change. Unlike the chat
    /// list's row, this works before the conversation has its first message.
    pub fn subscribe_typing(
        &self,
        listener: Box<dyn Fn(bool) + Send + Sync + 'static>,
    ) -> Result<TaskHandle, LinnetError> {
        let events = self.client.subscribe();
        let first = self.peer_typing();
        let typing = Typing {
            client: self.client.clone(),
            peer: self.peer.clone(),
            last: first,
        };
        Ok(crate::observe::spawn(events, first, typing, None, listener))
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

    /// Sends a file: it appears at once as a local echo with its upload `Queued`, then shows the
    /// upload's progress, then the message's delivery states. Returns the message's id.
    pub fn send_file(&self, path: &Path) -> Result<i64, LinnetError> {
        self.client.send_file(&self.peer, path)
    }

    /// Downloads the file of an incoming message (offered, failed or cancelled).
    pub fn download(&self, message_id: i64) -> Result<(), LinnetError> {
        self.client.download(message_id)
    }

    /// Cancels a transfer that has not finished. A cancelled upload fails its message; `retry`
    /// queues it again, `download` fetches a cancelled download.
    pub fn cancel_transfer(&self, message_id: i64) -> Result<(), LinnetError> {
        self.client.cancel_transfer(message_id)
    }

    /// Sends a failed message again (a failed or cancelled upload is queued again first).
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
    Ok(render(messages.iter().rev(), local_day, |id| {
        client.transfer_progress(id)
    }))
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
/// `progress` gives the bytes moved by a running transfer.
fn render<'a>(
    messages: impl Iterator<Item = &'a Message>,
    day: impl Fn(i64) -> String,
    progress: impl Fn(i64) -> Option<(u64, Option<u64>)>,
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
            attachment: m.attachment.as_ref().map(|a| {
                let running = a.state == TransferState::Transferring;
                Box::new(TimelineAttachment::new(
                    a,
                    running.then(|| progress(m.id)).flatten(),
                ))
            }),
        }));
    }
    items
}

/// Whether `peer` is typing to us now (XEP-0085 composing).
pub(crate) fn is_typing(client: &Client, peer: &str) -> bool {
    client.chat_state(peer) == Some(ChatState::Composing)
}

/// The peer's typing state, for `subscribe_typing`.
struct Typing {
    client: Client,
    peer: String,
    last: bool,
}

impl crate::observe::Observed for Typing {
    type Batch = bool;

    fn note(&mut self, event: &ClientEvent) -> bool {
        matches!(event, ClientEvent::ChatState { peer, .. } if *peer == self.peer)
    }

    fn next_batch(&mut self) -> Option<bool> {
        let typing = is_typing(&self.client, &self.peer);
        (typing != self.last).then(|| {
            self.last = typing;
            typing
        })
    }
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

    fn no_progress(_: i64) -> Option<(u64, Option<u64>)> {
        None
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
        let items = render(messages.iter(), utc_day, no_progress);
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
        assert!(render([].iter(), utc_day, no_progress).is_empty());
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
        let old = render(newer.iter(), utc_day, no_progress);
        let new = render(all.iter(), utc_day, no_progress);
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

    fn with_file(id: i64, state: TransferState, kind: Option<&str>) -> Message {
        Message {
            attachment: Some(Attachment {
                message_id: id,
                direction: TransferDirection::Upload,
                url: None,
                source_path: Some("/tmp/a.png".into()),
                local_path: Some("/tmp/a.png".into()),
                file_name: "a.png".into(),
                media_type: Some("image/png".into()),
                size: Some(1000),
                dimensions: Some((64, 32)),
                state,
                failure_kind: kind.map(Into::into),
                failure_reason: kind.map(|k| format!("because {k}")),
                attempts: 1,
                next_attempt_at: None,
            }),
            ..message(id, NOV_24 + id * HOUR)
        }
    }

    #[test]
    fn attachments_show_their_state_and_the_progress_of_running_transfers() {
        let messages = [
            message(1, NOV_24),
            with_file(2, TransferState::Queued, None),
            with_file(3, TransferState::Transferring, None),
            with_file(4, TransferState::Done, None),
            with_file(5, TransferState::Failed, Some("too_large")),
            with_file(6, TransferState::Failed, Some("something new")),
        ];
        // Progress is known for 2 and 3; only the running one shows it.
        let items = render(messages.iter(), utc_day, |id| {
            (id == 2 || id == 3).then_some((400, Some(1000)))
        });
        let files: Vec<_> = items
            .iter()
            .filter_map(|i| match i {
                TimelineItem::Message(m) => Some((m.id, m.attachment.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(files[0], (1, None));
        let a = |n: usize| files[n].1.clone().unwrap();
        assert_eq!((a(1).transferred, a(1).total), (0, Some(1000)));
        assert_eq!(a(1).state, TransferState::Queued);
        assert_eq!((a(2).transferred, a(2).total), (400, Some(1000)));
        assert_eq!((a(3).transferred, a(3).total), (1000, Some(1000)));
        assert_eq!(a(3).dimensions, Some((64, 32)));
        assert_eq!(a(3).local_path.as_deref(), Some("/tmp/a.png"));
        assert_eq!(a(4).failure_kind, Some(TransferFailureKind::TooLarge));
        assert_eq!(a(4).failure_reason.as_deref(), Some("because too_large"));
        assert_eq!(a(5).failure_kind, None, "an unknown kind is left out");
        assert_eq!(
            a(5).failure_reason.as_deref(),
            Some("because something new")
        );
    }
}
