//! The wake-up path: what an iOS Notification Service Extension or an Android push receiver
//! runs when a push arrives (XEP-0357 pushes carry no content: the device fetches it itself).
//!
//! `Client::wake` connects, lets the catch-up finish (offline messages after the initial
//! presence, then the archive from the last synced id), stores everything, and returns what to
//! show: one notification per new incoming message, calls that still ring, and counts. It then
//! closes the stream cleanly (the server keeps no half-dead session to deliver into) unless the
//! client was online before or kept online by `start`, in which case it stays as it was.
//!
//! Lean on purpose (the iOS extension is killed above 24 MB): while waking, no file is
//! downloaded, no transfer resumes, no older history is paged in, and calls only ring (no media
//! is set up before an answer, and nobody answers here).
//!
//! Stream resumption: the previous session's XEP-0198 state lives in the memory of the process
//! that owned it (docs/decisions/0002), so a wake in a fresh process logs in anew; within one
//! process (an Android receiver in the app), a client whose connection dropped resumes it.
//!
//! Calls: a proposal (XEP-0353 `<propose>`, with a `<store/>` hint) sent while the device was
//! away reaches the wake through offline storage, followed by its `<retract>` if the caller gave
//! up; the usual call handling then rings it (and sends `<ringing/>`) or ends it as missed, and
//! one older than the ring timeout never rings. Prosody 0.12 and ejabberd 23.01 both store and
//! deliver them offline, and both also archive them (MAM); the archive copy is not read (the
//! catch-up stores messages with a body), so a proposal that reached only the archive (offline
//! storage full or off) does not ring here.
//!
//! Which messages notify:
//! - incoming rows this wake stored, still unread (a displayed marker from another of our
//!   devices that arrived in the same catch-up silences them);
//! - not history: a device's first sync stores the newest archive page as read, and rows stored
//!   before the wake (the last sync) are never new;
//! - not our own (sent from another device, carbons, the archive's copies);
//! - from contacts (anyone in the roster). Messages from strangers are stored and counted
//!   (`WakeReport::requests`); they notify only when `WakeOptions::notify_requests` is set (an
//!   app that shows message requests), flagged `from_stranger`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use linnet_store::{Direction, MessageState, Store};
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{Element, ns};

use super::{CallState, Client, now_ms};
use crate::account::Linnet;
use crate::error::LinnetError;

/// The `session_state` key the preview preference is stored under.
pub(super) const PREF_NOTIFICATION_PREVIEW: &str = "pref.notification_preview";

/// What a notification may show (a preference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotificationPreview {
    /// The sender and the beginning of the message.
    #[default]
    Full,
    /// The sender and "New message".
    SenderOnly,
    /// "New message" only: no sender, no content.
    Hidden,
}

impl NotificationPreview {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationPreview::Full => "full",
            NotificationPreview::SenderOnly => "sender-only",
            NotificationPreview::Hidden => "hidden",
        }
    }

    /// The stored form read back (`None`: unknown, the default applies).
    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "full" => Some(NotificationPreview::Full),
            "sender-only" => Some(NotificationPreview::SenderOnly),
            "hidden" => Some(NotificationPreview::Hidden),
            _ => None,
        }
    }
}

/// How a wake runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeOptions {
    /// When the wake stops waiting and returns what was stored so far (the iOS extension has
    /// about 30 s in all).
    pub deadline: Duration,
    /// Messages from strangers (not in the roster) notify too, flagged `from_stranger`: for an
    /// app that shows message requests. Off: they are stored and only counted.
    pub notify_requests: bool,
}

impl Default for WakeOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(20),
            notify_requests: false,
        }
    }
}

/// One new message to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeNotification {
    /// The stored message (`Client::message`).
    pub message_id: i64,
    /// The peer's bare JID: the conversation to open when the notification is tapped. Not for
    /// display (with `Hidden` previews it is the only trace of the sender).
    pub conversation: String,
    /// The roster name, else the bare JID; `None` when the preference hides the sender.
    pub sender_name: Option<String>,
    /// The body (at most `PREVIEW_CHARS` characters) or "New message", per the preference.
    pub preview: String,
    /// When it was sent (server time, Unix ms).
    pub timestamp_ms: i64,
    /// From someone not in the roster (only with `WakeOptions::notify_requests`).
    pub from_stranger: bool,
}

/// A call that still rings: a proposal (XEP-0353) from a contact, not retracted, younger than
/// the ring timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeCall {
    /// The call's id (`Client::answer_call` once the app runs).
    pub call_id: String,
    /// The caller's bare JID.
    pub peer: String,
    /// The roster name, else the bare JID; `None` when the preference hides the sender.
    pub caller_name: Option<String>,
}

/// What a wake brought.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WakeReport {
    /// What to show, oldest first (at most `MAX_NOTIFICATIONS`, the newest).
    pub notifications: Vec<WakeNotification>,
    /// Calls still ringing.
    pub calls: Vec<WakeCall>,
    /// New incoming messages stored by this wake (strangers' included).
    pub new_messages: u64,
    /// Of those, from strangers.
    pub requests: u64,
    /// Unread messages in all conversations (the badge).
    pub unread_total: u64,
    /// The catch-up ran to its end before the deadline (false: something may still be on the
    /// server; the app's next sync gets it).
    pub complete: bool,
}

/// Preview length in characters.
pub const PREVIEW_CHARS: usize = 200;
/// At most this many notifications per wake (the counts tell the rest).
pub const MAX_NOTIFICATIONS: usize = 100;
/// Rows read back per conversation with unread messages, looking for this wake's.
const SCAN_PER_CONVERSATION: u32 = 200;
/// How long the stream close may take at the end (beyond the deadline if need be).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `wake_and_close` waits for the session's last task to let go of the database.
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

const NEW_MESSAGE: &str = "New message";

/// Clears the lean mode when a wake ends, however it ends.
struct LeanMode<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for LeanMode<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Client {
    /// Handles a push: connects (resuming when this process holds a resumable session), lets
    /// the catch-up run to its end, stores everything, and returns what to show. Disconnects
    /// cleanly afterwards unless the client was online before or its supervisor (`start`) keeps
    /// it online. Stops waiting at
    /// `options.deadline` and returns what was stored by then (`complete: false`).
    ///
    /// Errors: the login failed (wrong password, no network, ...). Anything after a successful
    /// login only makes the report incomplete.
    pub async fn wake(&self, options: WakeOptions) -> Result<WakeReport, LinnetError> {
        // Rows this wake stores carry a later `received_at` than `started_ms`, and rows stored
        // before it (a message that arrived live a moment ago) do not: start on a new
        // millisecond. (A wall clock set back meanwhile would hide new rows from the report;
        // they are stored all the same.)
        let started_ms = now_ms();
        while now_ms() <= started_ms {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let deadline = tokio::time::Instant::now() + options.deadline;
        // Online, or kept online by the app's supervisor (an Android receiver in the app's
        // process): the connection stays as the app wants it.
        let leave_connected = self.session().is_some() || *self.inner.keep_online.borrow();
        self.inner.waking.store(true, Ordering::SeqCst);
        let _lean = LeanMode(&self.inner.waking);

        let caught_up = match tokio::time::timeout_at(deadline, self.connect()).await {
            Ok(Ok(())) => match tokio::time::timeout_at(deadline, self.catch_up_for_wake()).await {
                Ok(Ok(())) => true,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the wake's catch-up stopped");
                    false
                }
                Err(_) => {
                    tracing::info!("the wake reached its deadline during the catch-up");
                    false
                }
            },
            Ok(Err(e)) => {
                self.disconnect_within(CLOSE_TIMEOUT).await;
                return Err(e);
            }
            Err(_) => {
                tracing::info!("the wake reached its deadline while connecting");
                false
            }
        };
        // Read before the stream closes: the call list is this connection's.
        let ringing: Vec<(String, String)> = self
            .active_calls()
            .into_iter()
            .filter(|c| c.direction == Direction::Incoming && c.state == CallState::Incoming)
            .map(|c| (c.id, c.peer))
            .collect();
        if !leave_connected {
            self.disconnect_within(CLOSE_TIMEOUT).await;
        }
        let mut report = self.wake_report(started_ms, &options, ringing)?;
        report.complete = caught_up;
        tracing::info!(
            new = report.new_messages,
            requests = report.requests,
            calls = report.calls.len(),
            complete = report.complete,
            "wake done"
        );
        Ok(report)
    }

    /// Whether a wake runs (lean mode: no downloads, no transfers, no backfill).
    pub(super) fn is_waking(&self) -> bool {
        self.inner.waking.load(Ordering::SeqCst)
    }

    async fn disconnect_within(&self, limit: Duration) {
        if tokio::time::timeout(limit, self.disconnect())
            .await
            .is_err()
        {
            tracing::warn!("the stream did not close in time; leaving it");
        }
    }

    /// The archive catch-up, then a round trip through our own event handling, so that every
    /// stanza the server sent before (offline messages, call proposals and retractions) has
    /// been handled and stored when it returns.
    async fn catch_up_for_wake(&self) -> Result<(), LinnetError> {
        if let Err(e) = self.sync_archive().await {
            // Without an archive, offline delivery still brings what was sent.
            tracing::warn!(error = %e, "the wake's archive catch-up failed");
        }
        self.settle().await
    }

    /// Asks our own full JID for its disco#info: the server routes the request back to us
    /// behind everything it sent before, and the answer comes only after our event handler
    /// (which handles stanzas in order) has answered the request.
    async fn settle(&self) -> Result<(), LinnetError> {
        let handle = self.require_session()?;
        let own = handle.info().bound_jid.clone();
        let request = Iq::Get {
            from: None,
            to: Some(own.into()),
            id: handle.new_id(),
            payload: Element::builder("query", ns::DISCO_INFO).build(),
        };
        handle.iq(request).await?;
        Ok(())
    }

    /// Builds the report from the store: this wake's new unread incoming rows.
    fn wake_report(
        &self,
        started_ms: i64,
        options: &WakeOptions,
        ringing: Vec<(String, String)>,
    ) -> Result<WakeReport, LinnetError> {
        let store = &self.inner.store;
        let account = self.inner.account.id;
        let preview = self.preferences()?.notification_preview;
        let mut report = WakeReport::default();
        let mut shown = Vec::new();
        for chat in store.chat_list(account)? {
            report.unread_total += u64::from(chat.conversation.unread_count);
            if chat.conversation.unread_count == 0 {
                continue;
            }
            let peer = &chat.conversation.peer;
            let from_stranger = store.contact(account, peer)?.is_none();
            let name = chat.name.clone().unwrap_or_else(|| peer.clone());
            for m in store.history(account, peer, SCAN_PER_CONVERSATION, None)? {
                let new = m.direction == Direction::Incoming
                    && m.state == MessageState::Received
                    && m.received_at > started_ms;
                if !new {
                    continue;
                }
                report.new_messages += 1;
                if from_stranger {
                    report.requests += 1;
                    if !options.notify_requests {
                        continue;
                    }
                }
                shown.push(WakeNotification {
                    message_id: m.id,
                    conversation: peer.clone(),
                    sender_name: (preview != NotificationPreview::Hidden).then(|| name.clone()),
                    preview: match preview {
                        NotificationPreview::Full => preview_text(&m),
                        NotificationPreview::SenderOnly | NotificationPreview::Hidden => {
                            NEW_MESSAGE.to_string()
                        }
                    },
                    timestamp_ms: m.timestamp,
                    from_stranger,
                });
            }
        }
        shown.sort_by_key(|n| (n.timestamp_ms, n.message_id));
        let excess = shown.len().saturating_sub(MAX_NOTIFICATIONS);
        report.notifications = shown.split_off(excess);
        for (call_id, peer) in ringing {
            let caller_name = match preview {
                NotificationPreview::Hidden => None,
                _ => Some(
                    store
                        .contact(account, &peer)?
                        .and_then(|c| c.name)
                        .unwrap_or_else(|| peer.clone()),
                ),
            };
            report.calls.push(WakeCall {
                call_id,
                peer,
                caller_name,
            });
        }
        Ok(report)
    }
}

/// A message's preview: its text, or the file it carries; at most `PREVIEW_CHARS` characters,
/// whitespace runs folded (a notification has one or two lines).
fn preview_text(m: &linnet_store::Message) -> String {
    let text = match &m.attachment {
        Some(a) => format!("File: {}", a.file_name),
        None => m.body.clone(),
    };
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= PREVIEW_CHARS {
        return folded;
    }
    let mut cut: String = folded.chars().take(PREVIEW_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The extension's whole job in one call: a client for `jid` (the only account when `None`),
/// `Client::wake`, then everything is dropped and this returns once the database is closed
/// (the app may open it next; SQLite's WAL and busy timeout let both run at once meanwhile).
pub async fn wake_and_close(
    linnet: Linnet,
    jid: Option<&str>,
    options: WakeOptions,
) -> Result<WakeReport, LinnetError> {
    let store: std::sync::Weak<Store> = Arc::downgrade(linnet.store());
    let result = match linnet.client(jid) {
        Ok(client) => client.wake(options).await,
        Err(e) => Err(e),
    };
    drop(linnet);
    // The session's event task lets go of its client (and so of the store) a moment after the
    // stream closed: wait for it, briefly.
    let waited = tokio::time::timeout(RELEASE_TIMEOUT, async {
        while store.strong_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    if waited.is_err() {
        tracing::warn!("the database is still in use after the wake");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> linnet_store::Message {
        linnet_store::Message {
            id: 1,
            account_id: 1,
            conversation_id: 1,
            peer: "bob@example.test".into(),
            direction: Direction::Incoming,
            sender: "bob@example.test".into(),
            sender_resource: None,
            xmpp_id: None,
            origin_id: None,
            server_id: None,
            body: body.into(),
            timestamp: 0,
            received_at: 0,
            is_carbon: false,
            state: MessageState::Received,
            failure_reason: None,
            attempts: 0,
            position: 0,
            attachment: None,
        }
    }

    #[test]
    fn previews_fold_whitespace_and_stop_at_the_limit() {
        assert_eq!(preview_text(&message("  hi\n\nthere  ")), "hi there");
        let long = "é".repeat(PREVIEW_CHARS + 50);
        let cut = preview_text(&message(&long));
        assert_eq!(cut.chars().count(), PREVIEW_CHARS);
        assert!(cut.ends_with('…'));
        let exact = "a".repeat(PREVIEW_CHARS);
        assert_eq!(preview_text(&message(&exact)), exact);
    }

    #[test]
    fn the_preview_preference_round_trips_through_its_stored_form() {
        for p in [
            NotificationPreview::Full,
            NotificationPreview::SenderOnly,
            NotificationPreview::Hidden,
        ] {
            assert_eq!(NotificationPreview::parse(p.as_str()), Some(p));
        }
        assert_eq!(NotificationPreview::parse("loud"), None);
    }
}
