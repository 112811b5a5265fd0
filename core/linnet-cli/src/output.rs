//! Everything the CLI prints, in both shapes: a line (or table) for people, and JSON objects (one
//! per line, each with a `"type"`) for scripts. The functions here are pure; `Printer` writes.

use std::io::Write as _;
use std::time::Duration;

use chrono::{DateTime, Local, SecondsFormat, Utc};
use linnet_sdk::doctor::DoctorReport;
use linnet_sdk::store::{Account, Direction, LastMessage, Subscription, SubscriptionRequest};
use linnet_sdk::{
    Attachment, CallEndReason, CallMediaEvent, CallState, CallUpdate, ChatSummary, ClientEvent,
    ConnectionState, Contact, Message, MessageState, PushStatus, SyncPhase, SyncProgress,
    SyncReport, SyncState, TransferDirection, TransferState, TransferUpdate,
};
use serde_json::{Value, json};

use crate::error::CliError;

/// How times are shown to people (JSON always carries UTC and epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    /// Tests pin the zone so their expectations hold anywhere.
    #[cfg_attr(not(test), allow(dead_code))]
    Utc,
}

/// What rendering needs to know besides the thing rendered.
#[derive(Debug, Clone)]
pub struct View {
    pub zone: Zone,
    /// Now, in ms since the epoch: events without a time of their own are stamped with it, and
    /// message times from today are shown without the date.
    pub now_ms: i64,
    /// Our account's bare address: the "to" of incoming messages, the "from" of outgoing ones.
    pub own: String,
}

impl View {
    pub fn new(own: impl Into<String>) -> Self {
        Self {
            zone: Zone::Local,
            now_ms: now_ms(),
            own: own.into(),
        }
    }

    /// Moves `now` to the current time.
    pub fn tick(&mut self) {
        self.now_ms = now_ms();
    }
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// One thing to print: the human text (possibly several lines; `None` prints nothing) and the
/// JSON objects, each printed on its own line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Out {
    pub human: Option<String>,
    pub json: Vec<Value>,
}

impl Out {
    fn one(human: impl Into<String>, json: Value) -> Self {
        Self {
            human: Some(human.into()),
            json: vec![json],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn format_time(ms: i64, zone: Zone, fmt: &str) -> String {
    let Some(utc) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return "????-??-?? ??:??".into();
    };
    match zone {
        Zone::Utc => utc.format(fmt).to_string(),
        Zone::Local => utc.with_timezone(&Local).format(fmt).to_string(),
    }
}

fn same_day(a: i64, b: i64, zone: Zone) -> bool {
    format_time(a, zone, "%Y-%m-%d") == format_time(b, zone, "%Y-%m-%d")
}

/// `12:03:04` today, `2024-05-01 12:03:04` otherwise.
fn stamp(ms: i64, v: &View) -> String {
    if same_day(ms, v.now_ms, v.zone) {
        format_time(ms, v.zone, "%H:%M:%S")
    } else {
        format_time(ms, v.zone, "%Y-%m-%d %H:%M:%S")
    }
}

/// RFC 3339 in UTC with milliseconds, for JSON.
fn iso(ms: i64) -> Value {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| Value::String(d.to_rfc3339_opts(SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// Text from the network made safe for a terminal: control characters (escape sequences) and
/// bidirectional overrides become U+FFFD; newlines and tabs stay.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if (c.is_control() && c != '\n' && c != '\t') || bidi {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// `clean`, on one line.
fn one_line(text: &str) -> String {
    let cleaned = clean(text);
    let mut lines = cleaned.lines().map(str::trim_end).filter(|l| !l.is_empty());
    let mut out = lines.next().unwrap_or_default().to_string();
    for l in lines {
        out.push_str(" ↵ ");
        out.push_str(l.trim_start());
    }
    out.replace('\t', " ")
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `prefix` then `body`, continuation lines indented under the first.
fn with_body(prefix: &str, body: &str) -> String {
    let indent = " ".repeat(prefix.chars().count());
    let body = clean(body);
    let mut out = prefix.to_string();
    for (i, line) in body.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&indent);
        }
        out.push_str(line);
    }
    out
}

/// Columns padded to the widest cell, two spaces apart, no trailing blanks.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    let width = widths.get(i).copied().unwrap_or(0);
                    line.push_str(&" ".repeat(width.saturating_sub(cell.chars().count())));
                }
            }
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

// ---------------------------------------------------------------------------------------------
// Messages and their states

/// How a delivery state reads for people.
pub fn state_label(state: MessageState, reason: Option<&str>) -> String {
    match state {
        MessageState::Queued => "… queued".into(),
        MessageState::Sent => "→ sent".into(),
        MessageState::Acked => "⇒ acknowledged by the server".into(),
        MessageState::Delivered => "✓ delivered".into(),
        MessageState::Displayed => "✓✓ read".into(),
        MessageState::Failed => match reason {
            Some(r) if !r.is_empty() => format!("✗ failed: {}", one_line(r)),
            _ => "✗ failed".into(),
        },
        MessageState::Received => "received".into(),
    }
}

fn direction_str(d: Direction) -> &'static str {
    d.as_str()
}

/// A message as JSON: `from`, `to`, `body` and `id` always.
pub fn message_json(m: &Message, own: &str) -> Value {
    let incoming = m.direction == Direction::Incoming;
    let from = if !m.sender.is_empty() {
        m.sender.as_str()
    } else if incoming {
        m.peer.as_str()
    } else {
        own
    };
    let to = if incoming { own } else { m.peer.as_str() };
    json!({
        "type": "message",
        "id": m.id,
        "from": from,
        "to": to,
        "peer": m.peer,
        "body": m.body,
        "direction": direction_str(m.direction),
        "state": m.state.as_str(),
        "reason": m.failure_reason,
        "timestamp": m.timestamp,
        "time": iso(m.timestamp),
        "carbon": m.is_carbon,
        "resource": m.sender_resource,
        "xmpp_id": m.xmpp_id,
        "attachment": m.attachment.as_ref().map(attachment_json),
    })
}

fn attachment_json(a: &Attachment) -> Value {
    json!({
        "direction": a.direction.as_str(),
        "state": a.state.as_str(),
        "file_name": a.file_name,
        "media_type": a.media_type,
        "size": a.size,
        "width": a.dimensions.map(|d| d.0),
        "height": a.dimensions.map(|d| d.1),
        "url": a.url,
        "local_path": a.local_path,
        "failure_kind": a.failure_kind,
        "failure_reason": a.failure_reason,
    })
}

/// `📎 name (size)` and where the file stands, for a message line.
fn attachment_human(id: i64, a: &Attachment) -> String {
    let mut s = format!("📎 {}", clean(&a.file_name));
    if let Some(size) = a.size {
        s.push_str(&format!(" ({})", human_size(size)));
    }
    match (a.direction, a.state) {
        (TransferDirection::Download, TransferState::Done) => {
            if let Some(p) = &a.local_path {
                s.push_str(&format!(" saved to {}", clean(p)));
            }
        }
        (TransferDirection::Download, TransferState::Offered) => {
            s.push_str(&format!(" (not downloaded: 'linnet download {id}')"))
        }
        (_, TransferState::Failed) => s.push_str(&format!(
            " (failed: {})",
            one_line(a.failure_reason.as_deref().unwrap_or("no reason given"))
        )),
        _ => {}
    }
    s
}

/// A message's text: the file it carries (instead of its URL body), or the body.
fn shown_body(m: &Message) -> String {
    match &m.attachment {
        Some(a) => attachment_human(m.id, a),
        None => m.body.clone(),
    }
}

/// A message as it arrives in `listen`: `[12:03:04] bob@example.test: hello`.
pub fn message(m: &Message, v: &View) -> Out {
    let when = stamp(m.timestamp, v);
    let human = match m.direction {
        Direction::Incoming => with_body(&format!("[{when}] {}: ", clean(&m.peer)), &shown_body(m)),
        Direction::Outgoing => {
            let mut line = with_body(
                &format!("[{when}] me → {}: ", clean(&m.peer)),
                &shown_body(m),
            );
            if m.is_carbon {
                line.push_str("  (sent from another device)");
            }
            line
        }
    };
    Out::one(human, message_json(m, &v.own))
}

/// One conversation, oldest first: direction, time and (for what we sent) the delivery state.
pub fn history(messages: &[Message], with: &str, v: &View) -> Out {
    if messages.is_empty() {
        return Out {
            human: Some(format!("no messages with {}", clean(with))),
            json: vec![],
        };
    }
    let lines: Vec<String> = messages
        .iter()
        .map(|m| {
            let when = format_time(m.timestamp, v.zone, "%Y-%m-%d %H:%M");
            match m.direction {
                Direction::Incoming => {
                    with_body(&format!("[{when}] {}: ", clean(&m.peer)), &shown_body(m))
                }
                Direction::Outgoing => {
                    let mut line = with_body(
                        &format!("[{when}] me → {}: ", clean(&m.peer)),
                        &shown_body(m),
                    );
                    line.push_str("  ");
                    line.push_str(&state_label(m.state, m.failure_reason.as_deref()));
                    line
                }
            }
        })
        .collect();
    Out {
        human: Some(lines.join("\n")),
        json: messages.iter().map(|m| message_json(m, &v.own)).collect(),
    }
}

/// What `send` reports once the server has the message.
pub fn sent(m: &Message, acknowledged: bool, v: &View) -> Out {
    let mut json = message_json(m, &v.own);
    if let Some(obj) = json.as_object_mut() {
        obj.insert("type".into(), "sent".into());
        obj.insert("acknowledged".into(), acknowledged.into());
    }
    let outcome = match m.state {
        MessageState::Delivered => "delivered",
        MessageState::Displayed => "read",
        _ if acknowledged => "acknowledged by the server",
        _ => "written to the server, which does not confirm receipt (no stream management)",
    };
    Out::one(
        format!("sent to {} (id {}), {outcome}", clean(&m.peer), m.id),
        json,
    )
}

// ---------------------------------------------------------------------------------------------
// Client events

fn connection_json(state: &ConnectionState) -> Value {
    match state {
        ConnectionState::Offline => json!({"type": "connection", "state": "offline"}),
        ConnectionState::Connecting => json!({"type": "connection", "state": "connecting"}),
        ConnectionState::Online => json!({"type": "connection", "state": "online"}),
        ConnectionState::Disconnected { reason, .. } => {
            json!({"type": "connection", "state": "disconnected", "reason": reason})
        }
    }
}

fn connection_human(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Offline => "offline".into(),
        ConnectionState::Connecting => "connecting…".into(),
        ConnectionState::Online => "online".into(),
        ConnectionState::Disconnected { reason, .. } => {
            format!("disconnected: {}", one_line(reason))
        }
    }
}

fn chat_state_human(state: &str) -> String {
    match state {
        "composing" => "is typing…".into(),
        "paused" => "stopped typing".into(),
        "active" => "is active in the conversation".into(),
        "inactive" => "is not looking at the conversation".into(),
        "gone" => "left the conversation".into(),
        other => format!("chat state: {}", one_line(other)),
    }
}

fn presence_human(available: bool, show: Option<&str>, status: Option<&str>) -> String {
    let base = if !available {
        "went offline".to_string()
    } else {
        match show {
            Some("away") => "is away".into(),
            Some("xa") => "is away for a while".into(),
            Some("dnd") => "is busy (do not disturb)".into(),
            Some("chat") => "is online and free to chat".into(),
            None => "is online".into(),
            Some(other) => format!("is online ({})", one_line(other)),
        }
    };
    match status.map(one_line).filter(|s| !s.is_empty()) {
        Some(s) => format!("{base}: \"{s}\""),
        None => base,
    }
}

fn subscription_human(from: &str, kind: &str) -> String {
    match kind {
        "approved" => format!("{from} accepted your request to see their presence"),
        "denied" => format!("{from} refused (or revoked) your request to see their presence"),
        "unsubscribed" => format!("{from} no longer wants to see your presence"),
        other => format!("{from}: subscription {}", one_line(other)),
    }
}

/// Any client event, for `listen`.
pub fn event(ev: &ClientEvent, v: &View) -> Out {
    let at = format!("[{}]", stamp(v.now_ms, v));
    match ev {
        ClientEvent::Message(m) => message(m, v),
        ClientEvent::Connection(state) => Out::one(
            format!("{at} {}", connection_human(state)),
            connection_json(state),
        ),
        ClientEvent::MessageState {
            id,
            peer,
            state,
            reason,
        } => Out::one(
            format!(
                "{at} message {id} to {}: {}",
                clean(peer),
                state_label(*state, reason.as_deref())
            ),
            json!({
                "type": "state",
                "id": id,
                "to": peer,
                "state": state.as_str(),
                "reason": reason,
            }),
        ),
        ClientEvent::ChatState { peer, state } => Out::one(
            format!("{at} {} {}", clean(peer), chat_state_human(state)),
            json!({"type": "typing", "from": peer, "state": state}),
        ),
        ClientEvent::Presence {
            from,
            available,
            show,
            status,
        } => Out::one(
            format!(
                "{at} {} {}",
                clean(from),
                presence_human(*available, show.as_deref(), status.as_deref())
            ),
            json!({
                "type": "presence",
                "from": from,
                "available": available,
                "show": show,
                "status": status,
            }),
        ),
        ClientEvent::SubscriptionRequest { from } => {
            let who = clean(from);
            Out::one(
                format!(
                    "{at} {who} asks to see your presence: 'linnet roster approve {who}' or \
                     'linnet roster deny {who}'"
                ),
                json!({"type": "subscription_request", "from": from}),
            )
        }
        ClientEvent::Subscription { from, kind } => Out::one(
            format!("{at} {}", subscription_human(&clean(from), kind)),
            json!({"type": "subscription", "from": from, "kind": kind}),
        ),
        ClientEvent::RosterChanged => Out::one(
            format!("{at} roster updated"),
            json!({"type": "roster_changed"}),
        ),
        ClientEvent::ConversationRead { peer } => Out::one(
            format!("{at} conversation with {} read", clean(peer)),
            json!({"type": "read", "peer": peer}),
        ),
        ClientEvent::HistoryGap { since_ms } => Out::one(
            format!(
                "{at} the connection was lost since {}: messages sent to you meanwhile may be missing here",
                stamp(*since_ms, v)
            ),
            json!({"type": "history_gap", "since_ms": since_ms}),
        ),
        ClientEvent::Sync(SyncState::Idle) => Out::one(
            format!("{at} history synced with the server archive"),
            json!({"type": "sync", "state": "idle"}),
        ),
        // Progress is for scripts; people see it as a bar in `linnet sync`.
        ClientEvent::Sync(SyncState::Syncing(p)) => Out {
            human: None,
            json: vec![sync_progress_json(p)],
        },
        ClientEvent::HistoryChanged { peers } => Out::one(
            format!(
                "{at} history from the archive stored for {}",
                peers
                    .iter()
                    .map(|p| clean(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            json!({"type": "history", "peers": peers}),
        ),
        ClientEvent::Transfer(t) => transfer(t, &at),
        ClientEvent::Call(update) => call_update(update, &at),
        ClientEvent::CallMedia { id, event } => call_media(id, event, &at),
        ClientEvent::Push(status) => {
            let mut out = push_status(&v.own, status);
            out.human = out.human.map(|h| format!("{at} {h}"));
            out
        }
    }
}

/// Why a call ended, in words.
pub fn call_end_human(reason: CallEndReason) -> &'static str {
    match reason {
        CallEndReason::HungUp => "you hung up",
        CallEndReason::RemoteHungUp => "they hung up",
        CallEndReason::Cancelled => "cancelled",
        CallEndReason::Declined => "you declined",
        CallEndReason::RemoteDeclined => "declined",
        CallEndReason::Busy => "busy",
        CallEndReason::NoAnswer => "no answer",
        CallEndReason::Missed => "missed",
        CallEndReason::AnsweredElsewhere => "answered on another device",
        CallEndReason::DeclinedElsewhere => "declined on another device",
        CallEndReason::ConnectivityFailed => "could not connect the audio",
        CallEndReason::NetworkLost => "the connection was lost",
        CallEndReason::Failed => "failed",
        CallEndReason::Stranger => "from a stranger (did not ring)",
        CallEndReason::Interrupted => "interrupted",
    }
}

fn call_state_word(state: &CallState) -> &'static str {
    match state {
        CallState::Calling => "calling",
        CallState::Ringing => "ringing",
        CallState::Incoming => "incoming",
        CallState::Connecting => "connecting",
        CallState::Connected { .. } => "connected",
        CallState::Ended { .. } => "ended",
    }
}

/// A call's new state.
pub fn call_update(u: &CallUpdate, at: &str) -> Out {
    let who = clean(u.phone_number.as_deref().unwrap_or(&u.peer));
    let human = match &u.state {
        CallState::Calling => format!("{at} calling {who}"),
        CallState::Ringing => format!("{at} {who} is ringing"),
        CallState::Incoming => format!("{at} call from {who} (call {})", u.id),
        CallState::Connecting => format!("{at} call with {who}: connecting"),
        CallState::Connected { .. } if !u.digits_sent.is_empty() => {
            format!("{at} call with {who}: digits sent {}", u.digits_sent)
        }
        CallState::Connected { .. } if u.muted => format!("{at} call with {who}: muted"),
        CallState::Connected { .. } => format!("{at} call with {who}: connected"),
        CallState::Ended { reason } => {
            format!("{at} call with {who} ended: {}", call_end_human(*reason))
        }
    };
    let reason = match &u.state {
        CallState::Ended { reason } => Some(reason.as_str()),
        _ => None,
    };
    Out::one(
        human,
        json!({
            "type": "call",
            "id": u.id,
            "peer": u.peer,
            "phone_number": u.phone_number,
            "direction": u.direction.as_str(),
            "state": call_state_word(&u.state),
            "reason": reason,
            "muted": u.muted,
            "digits_sent": u.digits_sent,
        }),
    )
}

/// `listen --answer-calls` answered a call.
pub fn call_answered(id: &str, recording: &std::path::Path, v: &View) -> Out {
    let at = format!("[{}]", stamp(v.now_ms, v));
    Out::one(
        format!(
            "{at} answered call {id}, recording to {}",
            recording.display()
        ),
        json!({"type": "call_answered", "id": id, "recording": recording.display().to_string()}),
    )
}

/// Audio heard, or a key the peer pressed.
pub fn call_media(id: &str, event: &CallMediaEvent, at: &str) -> Out {
    match event {
        CallMediaEvent::FirstAudio => Out::one(
            format!("{at} call {id}: audio from the other side"),
            json!({"type": "call_audio", "id": id}),
        ),
        CallMediaEvent::Dtmf(digit) => Out::one(
            format!("{at} call {id}: the other side pressed {digit}"),
            json!({"type": "dtmf", "id": id, "digit": digit.to_string()}),
        ),
    }
}

/// A transfer's state in a few words (the progress bar's message).
pub fn transfer_state_label(t: &TransferUpdate) -> String {
    let verb = match t.direction {
        TransferDirection::Upload => "upload",
        TransferDirection::Download => "download",
    };
    match t.state {
        TransferState::Offered => "offered".into(),
        TransferState::Queued if t.failure_reason.is_some() => format!("{verb} will be retried"),
        TransferState::Queued => "queued".into(),
        TransferState::Transferring => format!("{verb}ing"),
        TransferState::Done => "done".into(),
        TransferState::Failed => "failed".into(),
        TransferState::Cancelled => "cancelled".into(),
    }
}

/// Why a transfer waits for another attempt.
pub fn transfer_retry_note(t: &TransferUpdate) -> String {
    format!(
        "transfer of message {} failed ({}); trying again shortly",
        t.message_id,
        one_line(t.failure_reason.as_deref().unwrap_or("no reason given"))
    )
}

fn transfer_json(t: &TransferUpdate) -> Value {
    json!({
        "type": "transfer",
        "id": t.message_id,
        "peer": t.peer,
        "direction": t.direction.as_str(),
        "state": t.state.as_str(),
        "transferred": t.transferred,
        "total": t.total,
        "failure_kind": t.failure_kind.map(|k| k.as_str()),
        "failure_reason": t.failure_reason,
    })
}

/// Transfer events: people see where a file stands, not each chunk (that is the bar's job).
fn transfer(t: &TransferUpdate, at: &str) -> Out {
    let id = t.message_id;
    let peer = clean(&t.peer);
    let human = match (t.direction, t.state) {
        (_, TransferState::Transferring) => None,
        (_, TransferState::Queued) if t.failure_reason.is_none() => None,
        (TransferDirection::Download, TransferState::Offered) => Some(match t.total {
            Some(size) => format!(
                "{at} file in message {id} from {peer} ({}) not downloaded: 'linnet download {id}'",
                human_size(size)
            ),
            None => format!(
                "{at} file in message {id} from {peer} not downloaded: 'linnet download {id}'"
            ),
        }),
        (TransferDirection::Upload, TransferState::Offered) => None,
        (_, TransferState::Queued) => Some(format!("{at} {}", transfer_retry_note(t))),
        (TransferDirection::Upload, TransferState::Done) => {
            Some(format!("{at} file for message {id} to {peer} uploaded"))
        }
        // `listen` and `download` say where the file is (`downloaded`).
        (TransferDirection::Download, TransferState::Done) => None,
        (_, TransferState::Failed) => Some(format!(
            "{at} file transfer for message {id} failed: {}",
            one_line(t.failure_reason.as_deref().unwrap_or("no reason given"))
        )),
        (_, TransferState::Cancelled) => {
            Some(format!("{at} file transfer for message {id} cancelled"))
        }
    };
    Out {
        human,
        json: vec![transfer_json(t)],
    }
}

/// What `download` reports: where the file is now.
pub fn downloaded(id: i64, a: &Attachment, _v: &View) -> Out {
    let path = a.local_path.clone().unwrap_or_default();
    Out::one(
        format!(
            "file of message {id} ({}, {}) saved to {}",
            clean(&a.file_name),
            human_size(a.size.unwrap_or(0)),
            clean(&path)
        ),
        json!({
            "type": "downloaded",
            "id": id,
            "path": path,
            "file_name": a.file_name,
            "size": a.size,
            "media_type": a.media_type,
        }),
    )
}

/// What `sync` did.
pub struct SyncSummary {
    pub report: SyncReport,
    /// The conversation paged back through: (peer, fetched, stored).
    pub older: Option<(String, u64, u64)>,
    /// Gaps of the archive left for later.
    pub gaps: usize,
}

pub fn sync_summary(s: &SyncSummary) -> Out {
    let r = &s.report;
    let mut human = format!(
        "synced: {} new message{} stored ({} from the archive in {} page{})",
        r.stored,
        if r.stored == 1 { "" } else { "s" },
        r.fetched,
        r.pages,
        if r.pages == 1 { "" } else { "s" },
    );
    if let Some((peer, fetched, stored)) = &s.older {
        human.push_str(&format!(
            "\nolder history with {}: {stored} new of {fetched} from the archive",
            clean(peer)
        ));
    }
    if !r.complete {
        human.push_str(&format!(
            "\nnot all history is here yet ({} gap{} left): the next sync goes on",
            s.gaps,
            if s.gaps == 1 { "" } else { "s" }
        ));
    }
    Out::one(
        human,
        json!({
            "type": "synced",
            "fetched": r.fetched,
            "stored": r.stored,
            "pages": r.pages,
            "complete": r.complete,
            "gaps": s.gaps,
            "older": s.older.as_ref().map(|(peer, fetched, stored)| json!({
                "with": peer, "fetched": fetched, "stored": stored,
            })),
        }),
    )
}

/// The words beside the progress bar.
pub fn sync_progress_human(p: &SyncProgress) -> String {
    let what = match p.phase {
        SyncPhase::CatchUp => "catching up",
        SyncPhase::Newest => "newest messages",
        SyncPhase::Backfill => "older history",
    };
    match p.total {
        Some(total) => format!("{what}: {} of {total}", p.fetched),
        None => format!("{what}: {} messages", p.fetched),
    }
}

/// One archive sync progress report as JSON (`listen --json`, `sync --json`).
pub fn sync_progress_json(p: &SyncProgress) -> Value {
    json!({
        "type": "sync",
        "state": "syncing",
        "phase": match p.phase {
            SyncPhase::CatchUp => "catch_up",
            SyncPhase::Newest => "newest",
            SyncPhase::Backfill => "backfill",
        },
        "fetched": p.fetched,
        "stored": p.stored,
        "total": p.total,
    })
}

/// `listen` is online and will print what comes: scripts wait for this line.
pub fn ready(account: &str, bound: Option<&str>, v: &View) -> Out {
    let who = bound.unwrap_or(account);
    Out::one(
        format!(
            "[{}] listening as {} (Ctrl-C to stop)",
            stamp(v.now_ms, v),
            clean(who)
        ),
        json!({"type": "ready", "account": account, "jid": who}),
    )
}

/// `listen` lost the connection and will try again.
pub fn reconnecting(attempt: u32, delay: Duration, v: &View) -> Out {
    Out::one(
        format!(
            "[{}] reconnecting in {:.1} s (attempt {attempt})",
            stamp(v.now_ms, v),
            delay.as_secs_f64()
        ),
        json!({
            "type": "reconnecting",
            "attempt": attempt,
            "delay_ms": u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// Lists

fn last_message_json(l: &LastMessage) -> Value {
    json!({
        "id": l.id,
        "direction": direction_str(l.direction),
        "body": l.body,
        "state": l.state.as_str(),
        "timestamp": l.timestamp,
        "time": iso(l.timestamp),
    })
}

pub fn chats(list: &[ChatSummary], v: &View) -> Out {
    if list.is_empty() {
        return Out {
            human: Some("no conversations yet".into()),
            json: vec![],
        };
    }
    let mut rows = Vec::with_capacity(list.len());
    let mut json = Vec::with_capacity(list.len());
    for chat in list {
        let c = &chat.conversation;
        let who = match chat.name.as_deref().map(one_line).filter(|n| !n.is_empty()) {
            Some(name) => format!("{name} <{}>", clean(&c.peer)),
            None => clean(&c.peer),
        };
        let unread = match c.unread_count {
            0 => String::new(),
            n => format!("{n} unread"),
        };
        let when_ms = chat
            .last_message
            .as_ref()
            .map_or(c.last_activity, |l| l.timestamp);
        let when = if same_day(when_ms, v.now_ms, v.zone) {
            format_time(when_ms, v.zone, "%H:%M")
        } else {
            format_time(when_ms, v.zone, "%Y-%m-%d")
        };
        let preview = match &chat.last_message {
            None => "(no messages)".to_string(),
            Some(l) if l.direction == Direction::Outgoing => format!(
                "me: {}  {}",
                truncate(&one_line(&l.body), 60),
                state_label(l.state, None)
            ),
            Some(l) => truncate(&one_line(&l.body), 60),
        };
        rows.push(vec![who, unread, when, preview]);
        json.push(json!({
            "type": "chat",
            "peer": c.peer,
            "name": chat.name,
            "unread": c.unread_count,
            "last_activity": c.last_activity,
            "time": iso(when_ms),
            "last": chat.last_message.as_ref().map(last_message_json),
        }));
    }
    Out {
        human: Some(table(&rows)),
        json,
    }
}

fn subscription_human_short(s: Subscription, ask: bool) -> String {
    let base = match s {
        Subscription::Both => "both ways",
        Subscription::To => "you see them",
        Subscription::From => "they see you",
        Subscription::None | Subscription::Remove => "none",
    };
    if ask {
        format!("{base}, request sent")
    } else {
        base.to_string()
    }
}

pub fn roster(contacts: &[Contact], requests: &[SubscriptionRequest], v: &View) -> Out {
    let mut parts = Vec::new();
    if contacts.is_empty() {
        parts.push("no contacts".to_string());
    } else {
        let rows: Vec<Vec<String>> = contacts
            .iter()
            .map(|c| {
                vec![
                    clean(&c.jid),
                    c.name.as_deref().map(one_line).unwrap_or_default(),
                    subscription_human_short(c.subscription, c.ask),
                    c.groups
                        .iter()
                        .map(|g| one_line(g))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        parts.push(table(&rows));
    }
    if !requests.is_empty() {
        let mut lines =
            vec!["waiting for your answer (linnet roster approve|deny JID):".to_string()];
        for r in requests {
            lines.push(format!(
                "  {} asks to see your presence (since {})",
                clean(&r.jid),
                stamp(r.received_at, v)
            ));
        }
        parts.push(lines.join("\n"));
    }
    let mut json: Vec<Value> = contacts
        .iter()
        .map(|c| {
            json!({
                "type": "contact",
                "jid": c.jid,
                "name": c.name,
                "subscription": c.subscription.as_str(),
                "ask": c.ask,
                "groups": c.groups,
            })
        })
        .collect();
    json.extend(requests.iter().map(|r| {
        json!({
            "type": "subscription_request",
            "from": r.jid,
            "received_at": r.received_at,
            "time": iso(r.received_at),
        })
    }));
    Out {
        human: Some(parts.join("\n\n")),
        json,
    }
}

/// What a roster command did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterDone {
    Added,
    Removed,
    Approved,
    Denied,
}

pub fn roster_done(done: RosterDone, jid: &str) -> Out {
    let (action, human) = match done {
        RosterDone::Added => (
            "added",
            format!("added {jid} and asked to see their presence"),
        ),
        RosterDone::Removed => ("removed", format!("removed {jid} from the roster")),
        RosterDone::Approved => ("approved", format!("{jid} may now see your presence")),
        RosterDone::Denied => ("denied", format!("{jid} may not see your presence")),
    };
    Out::one(
        human,
        json!({"type": "roster", "action": action, "jid": jid}),
    )
}

fn account_json(a: &Account) -> Value {
    let server = a.settings.server_override.as_ref().map(|o| {
        if o.host.contains(':') {
            format!("[{}]:{}", o.host, o.port)
        } else {
            format!("{}:{}", o.host, o.port)
        }
    });
    json!({
        "type": "account",
        "jid": a.jid,
        "resource": a.resource,
        "server": server,
        "direct_tls": a.settings.direct_tls,
        "custom_ca": a.settings.extra_ca_pem.is_some(),
    })
}

pub fn accounts(list: &[Account]) -> Out {
    if list.is_empty() {
        return Out {
            human: Some("no accounts: add one with 'linnet account add JID'".into()),
            json: vec![],
        };
    }
    let json: Vec<Value> = list.iter().map(account_json).collect();
    let rows: Vec<Vec<String>> = list
        .iter()
        .zip(&json)
        .map(|(a, j)| {
            let how = match j.get("server").and_then(Value::as_str) {
                Some(server) if a.settings.direct_tls => format!("{server}, direct TLS"),
                Some(server) => format!("{server}, STARTTLS"),
                None => "server from DNS".into(),
            };
            let ca = if a.settings.extra_ca_pem.is_some() {
                "custom CA"
            } else {
                ""
            };
            vec![clean(&a.jid), how, ca.to_string()]
        })
        .collect();
    Out {
        human: Some(table(&rows)),
        json,
    }
}

/// `bound` is the full address the server gave when the account was verified.
pub fn account_added(jid: &str, bound: Option<&str>) -> Out {
    let human = match bound {
        Some(b) => format!("added {jid}: signed in as {}", clean(b)),
        None => format!("added {jid} (not verified)"),
    };
    Out::one(
        human,
        json!({"type": "account_added", "jid": jid, "verified": bound.is_some(), "bound_jid": bound}),
    )
}

pub fn account_removed(jid: &str) -> Out {
    Out::one(
        format!("removed {jid} with its messages and password"),
        json!({"type": "account_removed", "jid": jid}),
    )
}

// ---------------------------------------------------------------------------------------------
// Push

/// Where push stands (never the token, node or secret).
pub fn push_status(account: &str, s: &PushStatus) -> Out {
    let state = if s.enabled_on_current_session {
        "enabled"
    } else if s.registered {
        "registered, not enabled on this session"
    } else if s.permitted {
        "not registered"
    } else {
        "off (not permitted)"
    };
    let mut human = format!(
        "push for {account}: {state}\n  permitted: {}\n  platform: {}\n  token: {}\n  app server: {}",
        yes_no(s.permitted),
        s.platform.as_str(),
        if s.has_token { "set" } else { "none" },
        s.app_server
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "none".into()),
    );
    if let Some(e) = &s.last_error {
        human.push_str(&format!("\n  last error: {}", clean(&e.to_string())));
    }
    Out::one(
        human,
        json!({
            "type": "push",
            "account": account,
            "permitted": s.permitted,
            "platform": s.platform.as_str(),
            "has_token": s.has_token,
            "app_server": s.app_server,
            "registered": s.registered,
            "enabled": s.enabled_on_current_session,
            "error": s.last_error.as_ref().map(|e| e.to_string()),
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// Doctor

pub fn doctor(r: &DoctorReport) -> Out {
    let mut json = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
    if let Some(obj) = json.as_object_mut() {
        obj.insert("type".into(), "doctor".into());
    }
    let sasl = if r.sasl_offered.is_empty() {
        r.sasl_chosen.clone()
    } else {
        format!("{} (offered: {})", r.sasl_chosen, r.sasl_offered.join(", "))
    };
    let upload = match &r.upload {
        None => "no".to_string(),
        Some(u) => match u.max_file_size {
            Some(max) => format!("{} (max {})", u.jid, human_size(max)),
            None => u.jid.clone(),
        },
    };
    let features = if r.server_features.is_empty() {
        "(none)".to_string()
    } else {
        r.server_features.join("\n")
    };
    let rows: Vec<(&str, String)> = vec![
        ("account", r.bound_jid.clone()),
        ("server", r.server.clone()),
        ("connection", r.connection.clone()),
        ("tls", format!("{} ({})", r.tls_version, r.tls_cipher)),
        ("sasl", sasl),
        ("authentication", r.authentication.clone()),
        (
            "channel binding",
            r.channel_binding.clone().unwrap_or_else(|| "none".into()),
        ),
        ("stream management", r.stream_management.clone()),
        ("sessions", r.sessions.clone()),
        (
            "history gap",
            r.history_gap_since
                .map(|ms| {
                    let since = format_time(ms, Zone::Local, "%Y-%m-%d %H:%M:%S");
                    format!("messages since {since} may be missing")
                })
                .unwrap_or_else(|| "none".into()),
        ),
        ("archive sync", r.archive_sync.clone()),
        ("client state (csi)", yes_no(r.csi).into()),
        ("carbons", yes_no(r.carbons).into()),
        ("archive (mam)", yes_no(r.mam).into()),
        ("http upload", upload),
        ("push", yes_no(r.push).into()),
        ("external services", yes_no(r.external_services).into()),
        ("server features", features),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let human = rows
        .iter()
        .map(|(k, val)| {
            let prefix = format!("{k:<width$}  ");
            with_body(&prefix, val)
        })
        .collect::<Vec<_>>()
        .join("\n");
    Out::one(human, json)
}

fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = "KiB";
    for u in UNITS.iter().skip(1) {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// What `wake` found: one line per notification and per ringing call (the JSON object carries
/// the whole report).
pub fn wake(r: &linnet_sdk::WakeReport, v: &View) -> Out {
    let mut lines: Vec<String> = r
        .notifications
        .iter()
        .map(|n| {
            let request = if n.from_stranger { " (request)" } else { "" };
            match &n.sender_name {
                Some(name) => format!(
                    "{} {}{request}: {}",
                    stamp(n.timestamp_ms, v),
                    clean(name),
                    one_line(&clean(&n.preview))
                ),
                None => format!("{} {}", stamp(n.timestamp_ms, v), clean(&n.preview)),
            }
        })
        .collect();
    for c in &r.calls {
        lines.push(match &c.caller_name {
            Some(name) => format!("incoming call from {} (ringing)", clean(name)),
            None => "incoming call (ringing)".to_string(),
        });
    }
    if lines.is_empty() {
        lines.push("nothing new".to_string());
    }
    let notifications: Vec<Value> = r
        .notifications
        .iter()
        .map(|n| {
            json!({
                "message_id": n.message_id,
                "conversation": n.conversation,
                "sender_name": n.sender_name,
                "preview": n.preview,
                "timestamp": iso(n.timestamp_ms),
                "from_stranger": n.from_stranger,
            })
        })
        .collect();
    let calls: Vec<Value> = r
        .calls
        .iter()
        .map(|c| json!({"call_id": c.call_id, "peer": c.peer, "caller_name": c.caller_name}))
        .collect();
    Out::one(
        lines.join("\n"),
        json!({
            "type": "wake",
            "notifications": notifications,
            "calls": calls,
            "new_messages": r.new_messages,
            "requests": r.requests,
            "unread_total": r.unread_total,
            "complete": r.complete,
        }),
    )
}

pub fn error_json(e: &CliError) -> Value {
    json!({"type": "error", "kind": e.kind().as_str(), "message": e.message(), "exit_code": e.exit_code()})
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Writes `Out`s to standard output in the chosen shape; warnings and errors go to standard error.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    json: bool,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// The lines `out` prints in this mode.
    pub fn lines(&self, out: &Out) -> Vec<String> {
        if self.json {
            out.json
                .iter()
                .map(|v| serde_json::to_string(v).unwrap_or_else(|_| "{}".into()))
                .collect()
        } else {
            out.human.iter().cloned().collect()
        }
    }

    pub fn print(&self, out: &Out) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        for line in self.lines(out) {
            writeln!(stdout, "{line}").map_err(stdout_error)?;
        }
        stdout.flush().map_err(stdout_error)
    }

    /// A note for the user on standard error; never fails.
    pub fn warn(&self, message: &str) {
        let _ = writeln!(std::io::stderr(), "linnet: warning: {}", one_line(message));
    }

    /// Reports a failure: `linnet: <message>` on standard error and, in JSON mode, an error
    /// object on standard output.
    pub fn report(&self, e: &CliError) {
        if e.is_stdout_closed() {
            return;
        }
        let _ = writeln!(std::io::stderr(), "linnet: {}", clean(e.message()));
        if self.json {
            let _ = writeln!(std::io::stdout(), "{}", error_json(e));
        }
    }
}

fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::stdout_closed()
    } else {
        CliError::local(format!("cannot write to standard output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use linnet_sdk::doctor::UploadService;
    use linnet_sdk::store::{ConnectionSettings, Conversation, ServerOverride};

    /// 2024-05-01 12:03:04 UTC
    const T: i64 = 1_714_564_984_000;

    fn view() -> View {
        View {
            zone: Zone::Utc,
            now_ms: T + 60_000,
            own: "alice@example.test".into(),
        }
    }

    fn msg(direction: Direction, body: &str) -> Message {
        let incoming = direction == Direction::Incoming;
        Message {
            id: 12,
            account_id: 1,
            conversation_id: 3,
            peer: "bob@example.test".into(),
            direction,
            sender: if incoming {
                "bob@example.test".into()
            } else {
                "alice@example.test".into()
            },
            sender_resource: incoming.then(|| "phone".to_string()),
            xmpp_id: Some("x1".into()),
            origin_id: None,
            server_id: None,
            body: body.into(),
            timestamp: T,
            received_at: T,
            is_carbon: false,
            state: if incoming {
                MessageState::Received
            } else {
                MessageState::Acked
            },
            failure_reason: None,
            attempts: 1,
            position: 12,
            attachment: None,
        }
    }

    fn human(out: &Out) -> String {
        out.human.clone().unwrap()
    }

    fn only_json(out: &Out) -> &Value {
        assert_eq!(out.json.len(), 1, "{out:?}");
        &out.json[0]
    }

    #[test]
    fn incoming_message() {
        let out = message(&msg(Direction::Incoming, "hello"), &view());
        assert_eq!(human(&out), "[12:03:04] bob@example.test: hello");
        let j = only_json(&out);
        assert_eq!(j["type"], "message");
        assert_eq!(j["from"], "bob@example.test");
        assert_eq!(j["to"], "alice@example.test");
        assert_eq!(j["body"], "hello");
        assert_eq!(j["id"], 12);
        assert_eq!(j["direction"], "in");
        assert_eq!(j["resource"], "phone");
        assert_eq!(j["time"], "2024-05-01T12:03:04.000Z");
        assert_eq!(j["timestamp"], T);
    }

    #[test]
    fn carbon_of_our_own_message() {
        let mut m = msg(Direction::Outgoing, "on my way");
        m.is_carbon = true;
        let out = message(&m, &view());
        assert_eq!(
            human(&out),
            "[12:03:04] me → bob@example.test: on my way  (sent from another device)"
        );
        let j = only_json(&out);
        assert_eq!(j["from"], "alice@example.test");
        assert_eq!(j["to"], "bob@example.test");
        assert_eq!(j["direction"], "out");
        assert_eq!(j["carbon"], true);
    }

    #[test]
    fn older_messages_show_their_date_and_long_bodies_are_indented() {
        let mut m = msg(Direction::Incoming, "line one\nline two");
        m.timestamp = T - 3 * 86_400_000;
        let out = message(&m, &view());
        let prefix = "[2024-04-28 12:03:04] bob@example.test: ";
        assert_eq!(
            human(&out),
            format!("{prefix}line one\n{}line two", " ".repeat(prefix.len()))
        );
    }

    #[test]
    fn terminal_escapes_from_the_network_are_neutralised() {
        let out = message(
            &msg(Direction::Incoming, "\u{1b}[2Jgotcha\u{202E}txt.exe"),
            &view(),
        );
        let h = human(&out);
        assert!(!h.contains('\u{1b}') && !h.contains('\u{202E}'), "{h:?}");
        assert!(h.contains("\u{FFFD}[2Jgotcha"));
        // JSON keeps the body as it is (escaped by the serialiser).
        let line = Printer::new(true).lines(&out).remove(0);
        assert!(line.contains("\\u001b[2J"), "{line}");
    }

    #[test]
    fn state_changes() {
        let v = view();
        let state = |s, r: Option<&str>| {
            event(
                &ClientEvent::MessageState {
                    id: 12,
                    peer: "bob@example.test".into(),
                    state: s,
                    reason: r.map(str::to_string),
                },
                &v,
            )
        };
        let out = state(MessageState::Delivered, None);
        assert_eq!(
            human(&out),
            "[12:04:04] message 12 to bob@example.test: ✓ delivered"
        );
        assert_eq!(
            only_json(&out),
            &json!({"type": "state", "id": 12, "to": "bob@example.test", "state": "delivered", "reason": null})
        );
        assert!(human(&state(MessageState::Displayed, None)).ends_with("✓✓ read"));
        assert!(human(&state(MessageState::Acked, None)).ends_with("acknowledged by the server"));
        let failed = state(MessageState::Failed, Some("service-unavailable"));
        assert!(human(&failed).ends_with("✗ failed: service-unavailable"));
        assert_eq!(only_json(&failed)["reason"], "service-unavailable");
        assert_eq!(only_json(&failed)["state"], "failed");
    }

    #[test]
    fn typing() {
        let out = event(
            &ClientEvent::ChatState {
                peer: "bob@example.test".into(),
                state: "composing".into(),
            },
            &view(),
        );
        assert_eq!(human(&out), "[12:04:04] bob@example.test is typing…");
        assert_eq!(
            only_json(&out),
            &json!({"type": "typing", "from": "bob@example.test", "state": "composing"})
        );
        let paused = event(
            &ClientEvent::ChatState {
                peer: "bob@example.test".into(),
                state: "paused".into(),
            },
            &view(),
        );
        assert!(human(&paused).ends_with("stopped typing"));
    }

    #[test]
    fn presence() {
        let out = event(
            &ClientEvent::Presence {
                from: "bob@example.test/phone".into(),
                available: true,
                show: Some("away".into()),
                status: Some("lunch".into()),
            },
            &view(),
        );
        assert_eq!(
            human(&out),
            "[12:04:04] bob@example.test/phone is away: \"lunch\""
        );
        assert_eq!(
            only_json(&out),
            &json!({"type": "presence", "from": "bob@example.test/phone", "available": true, "show": "away", "status": "lunch"})
        );
        let gone = event(
            &ClientEvent::Presence {
                from: "bob@example.test/phone".into(),
                available: false,
                show: None,
                status: None,
            },
            &view(),
        );
        assert_eq!(
            human(&gone),
            "[12:04:04] bob@example.test/phone went offline"
        );
        assert_eq!(only_json(&gone)["available"], false);
    }

    #[test]
    fn subscriptions_and_roster() {
        let v = view();
        let req = event(
            &ClientEvent::SubscriptionRequest {
                from: "carol@example.test".into(),
            },
            &v,
        );
        assert!(human(&req).contains("carol@example.test asks to see your presence"));
        assert!(human(&req).contains("linnet roster approve carol@example.test"));
        assert_eq!(
            only_json(&req),
            &json!({"type": "subscription_request", "from": "carol@example.test"})
        );
        let sub = event(
            &ClientEvent::Subscription {
                from: "bob@example.test".into(),
                kind: "approved".into(),
            },
            &v,
        );
        assert!(human(&sub).contains("bob@example.test accepted"));
        assert_eq!(
            only_json(&sub),
            &json!({"type": "subscription", "from": "bob@example.test", "kind": "approved"})
        );
        let changed = event(&ClientEvent::RosterChanged, &v);
        assert_eq!(human(&changed), "[12:04:04] roster updated");
        assert_eq!(only_json(&changed), &json!({"type": "roster_changed"}));
    }

    #[test]
    fn connection_states() {
        let v = view();
        let conn = |s| event(&ClientEvent::Connection(s), &v);
        assert_eq!(
            human(&conn(ConnectionState::Connecting)),
            "[12:04:04] connecting…"
        );
        assert_eq!(
            only_json(&conn(ConnectionState::Online)),
            &json!({"type": "connection", "state": "online"})
        );
        let dropped = conn(ConnectionState::Disconnected {
            reason: "connection reset".into(),
            error: None,
        });
        assert_eq!(human(&dropped), "[12:04:04] disconnected: connection reset");
        assert_eq!(
            only_json(&dropped),
            &json!({"type": "connection", "state": "disconnected", "reason": "connection reset"})
        );
        assert_eq!(
            only_json(&conn(ConnectionState::Offline))["state"],
            "offline"
        );
    }

    #[test]
    fn ready_and_reconnecting() {
        let v = view();
        let out = ready(
            "alice@example.test",
            Some("alice@example.test/linnet.x"),
            &v,
        );
        assert_eq!(
            human(&out),
            "[12:04:04] listening as alice@example.test/linnet.x (Ctrl-C to stop)"
        );
        assert_eq!(
            only_json(&out),
            &json!({"type": "ready", "account": "alice@example.test", "jid": "alice@example.test/linnet.x"})
        );
        let out = reconnecting(3, Duration::from_millis(4200), &v);
        assert_eq!(human(&out), "[12:04:04] reconnecting in 4.2 s (attempt 3)");
        assert_eq!(
            only_json(&out),
            &json!({"type": "reconnecting", "attempt": 3, "delay_ms": 4200})
        );
    }

    #[test]
    fn sent_outcome() {
        let m = msg(Direction::Outgoing, "hi");
        let out = sent(&m, true, &view());
        assert_eq!(
            human(&out),
            "sent to bob@example.test (id 12), acknowledged by the server"
        );
        let j = only_json(&out);
        assert_eq!(j["type"], "sent");
        assert_eq!(
            (&j["from"], &j["to"], &j["body"], &j["id"]),
            (
                &json!("alice@example.test"),
                &json!("bob@example.test"),
                &json!("hi"),
                &json!(12)
            )
        );
        assert_eq!(j["state"], "acked");
        assert_eq!(j["acknowledged"], true);
        let mut unacked = m.clone();
        unacked.state = MessageState::Sent;
        let out = sent(&unacked, false, &view());
        assert!(human(&out).contains("does not confirm receipt"));
        assert_eq!(only_json(&out)["acknowledged"], false);
    }

    #[test]
    fn history_reads_oldest_first_with_states() {
        let mut first = msg(Direction::Incoming, "hi alice");
        first.id = 1;
        let mut second = msg(Direction::Outgoing, "hi bob");
        second.id = 2;
        second.timestamp = T + 5000;
        second.state = MessageState::Displayed;
        let mut third = msg(Direction::Outgoing, "still there?");
        third.id = 3;
        third.state = MessageState::Failed;
        third.failure_reason = Some("recipient-unavailable".into());
        let out = history(&[first, second, third], "bob@example.test", &view());
        assert_eq!(
            human(&out),
            "[2024-05-01 12:03] bob@example.test: hi alice\n\
             [2024-05-01 12:03] me → bob@example.test: hi bob  ✓✓ read\n\
             [2024-05-01 12:03] me → bob@example.test: still there?  ✗ failed: recipient-unavailable"
        );
        assert_eq!(out.json.len(), 3);
        assert_eq!(out.json[0]["type"], "message");
        assert_eq!(out.json[1]["state"], "displayed");
        assert_eq!(out.json[2]["reason"], "recipient-unavailable");
        let empty = history(&[], "bob@example.test", &view());
        assert_eq!(human(&empty), "no messages with bob@example.test");
        assert!(empty.json.is_empty());
    }

    fn summary(
        peer: &str,
        name: Option<&str>,
        unread: u32,
        last: Option<LastMessage>,
    ) -> ChatSummary {
        ChatSummary {
            conversation: Conversation {
                id: 1,
                account_id: 1,
                peer: peer.into(),
                last_activity: T,
                unread_count: unread,
            },
            name: name.map(str::to_string),
            last_message: last,
        }
    }

    #[test]
    fn chat_list() {
        let last_in = LastMessage {
            id: 7,
            direction: Direction::Incoming,
            body: "see you\ntomorrow".into(),
            timestamp: T,
            state: MessageState::Received,
        };
        let last_out = LastMessage {
            id: 8,
            direction: Direction::Outgoing,
            body: "ok".into(),
            timestamp: T - 2 * 86_400_000,
            state: MessageState::Delivered,
        };
        let list = [
            summary("bob@example.test", Some("Bob"), 2, Some(last_in)),
            summary("carol@example.test", None, 0, Some(last_out)),
            summary("dave@example.test", None, 0, None),
        ];
        let out = chats(&list, &view());
        assert_eq!(
            human(&out),
            "Bob <bob@example.test>  2 unread  12:03       see you ↵ tomorrow\n\
             carol@example.test                2024-04-29  me: ok  ✓ delivered\n\
             dave@example.test                 12:03       (no messages)"
        );
        assert_eq!(out.json.len(), 3);
        assert_eq!(out.json[0]["type"], "chat");
        assert_eq!(out.json[0]["peer"], "bob@example.test");
        assert_eq!(out.json[0]["name"], "Bob");
        assert_eq!(out.json[0]["unread"], 2);
        assert_eq!(out.json[0]["last"]["body"], "see you\ntomorrow");
        assert_eq!(out.json[1]["last"]["direction"], "out");
        assert_eq!(out.json[2]["last"], Value::Null);
        assert_eq!(human(&chats(&[], &view())), "no conversations yet");
    }

    #[test]
    fn long_previews_are_cut() {
        let body = "x".repeat(100);
        let last = LastMessage {
            id: 1,
            direction: Direction::Incoming,
            body,
            timestamp: T,
            state: MessageState::Received,
        };
        let out = chats(&[summary("bob@x", None, 0, Some(last))], &view());
        let h = human(&out);
        assert!(h.ends_with(&format!("  {}…", "x".repeat(59))), "{h}");
    }

    #[test]
    fn roster_list_with_requests() {
        let contacts = [
            Contact {
                account_id: 1,
                jid: "bob@example.test".into(),
                name: Some("Bob".into()),
                subscription: Subscription::Both,
                ask: false,
                groups: vec!["Friends".into(), "Work".into()],
            },
            Contact {
                account_id: 1,
                jid: "dave@example.test".into(),
                name: None,
                subscription: Subscription::None,
                ask: true,
                groups: vec![],
            },
        ];
        let requests = [SubscriptionRequest {
            jid: "carol@example.test".into(),
            received_at: T,
        }];
        let out = roster(&contacts, &requests, &view());
        assert_eq!(
            human(&out),
            "bob@example.test   Bob  both ways           Friends, Work\n\
             dave@example.test       none, request sent\n\
             \n\
             waiting for your answer (linnet roster approve|deny JID):\n\
             \x20 carol@example.test asks to see your presence (since 12:03:04)"
        );
        assert_eq!(out.json.len(), 3);
        assert_eq!(
            out.json[0],
            json!({"type": "contact", "jid": "bob@example.test", "name": "Bob", "subscription": "both", "ask": false, "groups": ["Friends", "Work"]})
        );
        assert_eq!(out.json[1]["ask"], true);
        assert_eq!(out.json[2]["type"], "subscription_request");
        assert_eq!(out.json[2]["from"], "carol@example.test");
        assert_eq!(human(&roster(&[], &[], &view())), "no contacts");
    }

    #[test]
    fn roster_actions() {
        let out = roster_done(RosterDone::Approved, "carol@example.test");
        assert_eq!(human(&out), "carol@example.test may now see your presence");
        assert_eq!(
            only_json(&out),
            &json!({"type": "roster", "action": "approved", "jid": "carol@example.test"})
        );
        for (done, action) in [
            (RosterDone::Added, "added"),
            (RosterDone::Removed, "removed"),
            (RosterDone::Denied, "denied"),
        ] {
            assert_eq!(only_json(&roster_done(done, "x@y"))["action"], action);
        }
    }

    fn account(jid: &str, server: Option<(&str, u16)>, direct_tls: bool, ca: bool) -> Account {
        Account {
            id: 1,
            jid: jid.into(),
            resource: "linnet.abc".into(),
            settings: ConnectionSettings {
                server_override: server.map(|(host, port)| ServerOverride {
                    host: host.into(),
                    port,
                }),
                direct_tls,
                extra_ca_pem: ca.then(|| "PEM".to_string()),
            },
            scram_seen: false,
            roster_version: None,
            created_at: T,
        }
    }

    #[test]
    fn account_list() {
        let list = [
            account("alice@example.test", None, false, false),
            account("bob@localhost", Some(("127.0.0.1", 5223)), true, true),
            account("carol@localhost", Some(("::1", 5222)), false, false),
        ];
        let out = accounts(&list);
        assert_eq!(
            human(&out),
            "alice@example.test  server from DNS\n\
             bob@localhost       127.0.0.1:5223, direct TLS  custom CA\n\
             carol@localhost     [::1]:5222, STARTTLS"
        );
        assert_eq!(
            out.json[1],
            json!({"type": "account", "jid": "bob@localhost", "resource": "linnet.abc", "server": "127.0.0.1:5223", "direct_tls": true, "custom_ca": true})
        );
        assert_eq!(out.json[0]["server"], Value::Null);
        assert!(human(&accounts(&[])).contains("linnet account add"));
    }

    #[test]
    fn account_added_and_removed() {
        let out = account_added("alice@example.test", Some("alice@example.test/linnet.x"));
        assert_eq!(
            human(&out),
            "added alice@example.test: signed in as alice@example.test/linnet.x"
        );
        assert_eq!(only_json(&out)["verified"], true);
        let out = account_added("alice@example.test", None);
        assert!(human(&out).contains("not verified"));
        assert_eq!(
            only_json(&out),
            &json!({"type": "account_added", "jid": "alice@example.test", "verified": false, "bound_jid": null})
        );
        assert_eq!(
            only_json(&account_removed("a@b")),
            &json!({"type": "account_removed", "jid": "a@b"})
        );
    }

    fn report() -> DoctorReport {
        DoctorReport {
            bound_jid: "alice@example.test/linnet.x".into(),
            server: "xmpp.example.test:5222".into(),
            connection: "StartTls".into(),
            tls_version: "TLSv1.3".into(),
            tls_cipher: "TLS13_AES_128_GCM_SHA256".into(),
            sasl_offered: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-1".into()],
            sasl_chosen: "SCRAM-SHA-256-PLUS".into(),
            channel_binding: Some("TlsExporter".into()),
            authentication: "SASL2 (XEP-0388), Bind2 (XEP-0386)".into(),
            sasl2: true,
            fast: false,
            stream_management: "enabled, resumable".into(),
            sessions: "1 new, 2 resumed, 0 resumptions refused".into(),
            history_gap_since: None,
            archive_sync: "synced".into(),
            csi: true,
            carbons: true,
            mam: false,
            upload: Some(UploadService {
                jid: "upload.example.test".into(),
                max_file_size: Some(100 * 1024 * 1024),
            }),
            push: false,
            external_services: false,
            server_features: vec!["urn:xmpp:ping".into(), "vcard-temp".into()],
        }
    }

    #[test]
    fn doctor_report() {
        let out = doctor(&report());
        let h = human(&out);
        let lines: Vec<&str> = h.lines().collect();
        assert_eq!(lines[0], "account             alice@example.test/linnet.x");
        assert!(lines.contains(&"tls                 TLSv1.3 (TLS13_AES_128_GCM_SHA256)"));
        assert!(lines.contains(
            &"sasl                SCRAM-SHA-256-PLUS (offered: SCRAM-SHA-256-PLUS, SCRAM-SHA-1)"
        ));
        assert!(lines.contains(&"http upload         upload.example.test (max 100 MiB)"));
        assert!(lines.contains(&"authentication      SASL2 (XEP-0388), Bind2 (XEP-0386)"));
        assert!(lines.contains(&"archive (mam)       no"));
        assert_eq!(lines[lines.len() - 2], "server features     urn:xmpp:ping");
        assert_eq!(lines[lines.len() - 1], "                    vcard-temp");
        let j = only_json(&out);
        assert_eq!(j["type"], "doctor");
        assert_eq!(j["bound_jid"], "alice@example.test/linnet.x");
        assert_eq!(j["upload"]["max_file_size"], 100 * 1024 * 1024);
        assert_eq!(j["sasl_offered"][1], "SCRAM-SHA-1");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(100 * 1024 * 1024), "100 MiB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5 GiB");
    }

    #[test]
    fn errors_as_json() {
        let e = CliError::from(linnet_sdk::LinnetError::WrongCredentials);
        assert_eq!(
            error_json(&e),
            json!({"type": "error", "kind": "auth", "message": "wrong address or password", "exit_code": 3})
        );
    }

    #[test]
    fn printer_chooses_the_shape() {
        let out = event(&ClientEvent::RosterChanged, &view());
        assert_eq!(
            Printer::new(false).lines(&out),
            ["[12:04:04] roster updated"]
        );
        assert_eq!(
            Printer::new(true).lines(&out),
            [r#"{"type":"roster_changed"}"#]
        );
        // Every JSON line is one line, even with newlines in the data.
        let out = message(&msg(Direction::Incoming, "a\nb"), &view());
        let lines = Printer::new(true).lines(&out);
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\n'));
    }

    #[test]
    fn every_json_object_has_a_type() {
        let v = view();
        let mut all = vec![
            message(&msg(Direction::Incoming, "x"), &v),
            sent(&msg(Direction::Outgoing, "x"), true, &v),
            ready("a@b", None, &v),
            reconnecting(1, Duration::from_secs(1), &v),
            doctor(&report()),
            account_added("a@b", None),
            account_removed("a@b"),
            accounts(&[account("a@b", None, false, false)]),
            roster_done(RosterDone::Added, "a@b"),
        ];
        for ev in [
            ClientEvent::Connection(ConnectionState::Online),
            ClientEvent::RosterChanged,
            ClientEvent::SubscriptionRequest { from: "x@y".into() },
            ClientEvent::ConversationRead { peer: "x@y".into() },
        ] {
            all.push(event(&ev, &v));
        }
        for out in all {
            for j in out.json {
                assert!(j["type"].is_string(), "{j}");
            }
        }
    }

    fn offered_file(m: &mut Message) -> Attachment {
        let a = Attachment {
            message_id: m.id,
            direction: TransferDirection::Download,
            url: Some("https://up.example.test/a/holiday%20photo.jpg".into()),
            source_path: None,
            local_path: None,
            file_name: "holiday photo.jpg".into(),
            media_type: None,
            size: Some(300 * 1024),
            dimensions: None,
            state: TransferState::Offered,
            failure_kind: None,
            failure_reason: None,
            attempts: 0,
            next_attempt_at: None,
        };
        m.body = a.url.clone().unwrap();
        m.attachment = Some(a.clone());
        a
    }

    #[test]
    fn a_message_with_a_file_shows_the_file_and_how_to_fetch_it() {
        let mut m = msg(Direction::Incoming, "");
        offered_file(&mut m);
        let out = message(&m, &view());
        let line = out.human.unwrap();
        assert!(
            line.ends_with(
                "bob@example.test: 📎 holiday photo.jpg (300 KiB) (not downloaded: 'linnet download 12')"
            ),
            "{line}"
        );
        let j = &out.json[0];
        assert_eq!(j["body"], "https://up.example.test/a/holiday%20photo.jpg");
        assert_eq!(j["attachment"]["state"], "offered");
        assert_eq!(j["attachment"]["size"], 300 * 1024);
    }

    #[test]
    fn transfer_events_say_where_a_file_stands_and_progress_is_json_only() {
        let update = |state, failure: Option<&str>| TransferUpdate {
            message_id: 7,
            peer: "bob@example.test".into(),
            direction: TransferDirection::Upload,
            state,
            transferred: 512,
            total: Some(1024),
            failure_kind: failure.map(|_| linnet_sdk::TransferFailureKind::Network),
            failure_reason: failure.map(str::to_string),
        };
        let v = view();
        let running = event(
            &ClientEvent::Transfer(update(TransferState::Transferring, None)),
            &v,
        );
        assert!(running.human.is_none());
        assert_eq!(running.json[0]["transferred"], 512);
        assert_eq!(running.json[0]["direction"], "upload");
        let retry = event(
            &ClientEvent::Transfer(update(TransferState::Queued, Some("connection reset"))),
            &v,
        );
        assert!(
            retry
                .human
                .unwrap()
                .contains("failed (connection reset); trying again shortly")
        );
        assert_eq!(retry.json[0]["failure_kind"], "network");
        let failed = event(
            &ClientEvent::Transfer(update(TransferState::Failed, Some("too large"))),
            &v,
        );
        assert!(
            failed
                .human
                .unwrap()
                .ends_with("file transfer for message 7 failed: too large")
        );
        let done = event(
            &ClientEvent::Transfer(update(TransferState::Done, None)),
            &v,
        );
        assert!(
            done.human
                .unwrap()
                .ends_with("file for message 7 to bob@example.test uploaded")
        );
    }

    #[test]
    fn a_download_reports_its_path() {
        let mut m = msg(Direction::Incoming, "");
        let mut a = offered_file(&mut m);
        a.state = TransferState::Done;
        a.local_path = Some("/data/files/0c7d.jpg".into());
        let out = downloaded(12, &a, &view());
        assert_eq!(
            out.human.unwrap(),
            "file of message 12 (holiday photo.jpg, 300 KiB) saved to /data/files/0c7d.jpg"
        );
        assert_eq!(out.json[0]["path"], "/data/files/0c7d.jpg");
    }
}
