//! One-to-one chat (RFC 6121 §5) with the XEPs that ride on it: origin and stanza ids, receipts,
//! markers, chat states and carbons. Builds outgoing stanzas and turns incoming ones into a
//! validated `ChatEvent`.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::message::{Message, MessageType};

use crate::carbons::{self, CarbonError, CarbonKind};
use crate::chatstates::{self, ChatState};
use crate::jingle_message::JingleMessage;
use crate::{markers, ns, oob, receipts, stanza_id};

/// Who sent the message relative to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Incoming,
    /// Sent by another of our devices (a sent carbon).
    Outgoing,
}

/// A validated one-to-one message event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEvent {
    pub direction: Direction,
    /// The other party (bare JID, normalised).
    pub peer: BareJid,
    /// The full sender address.
    pub sender: Jid,
    pub id: Option<String>,
    pub origin_id: Option<String>,
    /// Archive id from our own server, the trusted deduplication key.
    pub server_id: Option<String>,
    /// Trimmed; `None` when there is no body or only whitespace.
    pub body: Option<String>,
    pub receipt_requested: bool,
    pub markable: bool,
    pub receipt_for: Option<String>,
    pub displayed_for: Option<String>,
    pub chat_state: Option<ChatState>,
    pub carbon: bool,
    /// For `type='error'`: the condition, and the id is the one of our failed message.
    pub error: Option<String>,
    /// XEP-0203 send time (offline delivery), ms since the epoch.
    pub delay_ms: Option<i64>,
    /// The attached file's URL (XEP-0066 `jabber:x:oob`), only when it is downloadable
    /// (`oob::is_downloadable`: https with a host). Fetching it is a separate decision.
    pub oob_url: Option<String>,
    /// A call signal (XEP-0353 Jingle Message Initiation). A malformed one is dropped (logged).
    pub jingle_message: Option<JingleMessage>,
}

/// Why a message was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    #[error("{0}")]
    Carbon(#[from] CarbonError),
    #[error("message without a sender")]
    NoSender,
    #[error("message type not handled here")]
    NotChat,
    #[error("archive result outside an open query of ours")]
    StrayArchiveResult,
}

/// Validates and classifies an incoming `<message/>`.
pub fn classify(
    message: &Message,
    own: &FullJid,
    carbons_enabled: bool,
) -> Result<ChatEvent, DropReason> {
    // An archive result outside an open query of ours (those never reach here): forged.
    if message.payloads.iter().any(|p| p.is("result", ns::MAM)) {
        return Err(DropReason::StrayArchiveResult);
    }
    let own_bare = own.to_bare();
    let (inner, carbon_kind) = match carbons::unwrap(message, own, carbons_enabled)? {
        Some((kind, inner)) => (inner, Some(kind)),
        None => (message.clone(), None),
    };
    let sender = inner.from.clone().ok_or(DropReason::NoSender)?;
    let (direction, peer) = match carbon_kind {
        Some(CarbonKind::Sent) => {
            let to = inner.to.as_ref().ok_or(DropReason::NoSender)?;
            (Direction::Outgoing, to.to_bare())
        }
        _ => (Direction::Incoming, sender.to_bare()),
    };
    let mut event = event_of(&inner, sender, direction, peer, &own_bare)?;
    event.carbon = carbon_kind.is_some();
    if event.server_id.is_none() {
        event.server_id = stanza_id::trusted_stanza_id(message, &own_bare);
    }
    Ok(event)
}

/// Classifies a message from the account's own archive (XEP-0313): ours when we sent it, theirs
/// otherwise. `archive_id` is the archive's own id (trusted: the result came for our query from
/// our archive) and `stamp_ms` the archive time.
pub fn classify_archived(
    message: &Message,
    own: &BareJid,
    archive_id: &str,
    stamp_ms: Option<i64>,
) -> Result<ChatEvent, DropReason> {
    let sender = message.from.clone().ok_or(DropReason::NoSender)?;
    let (direction, peer) = if sender.to_bare() == *own {
        let to = message.to.as_ref().ok_or(DropReason::NoSender)?;
        (Direction::Outgoing, to.to_bare())
    } else {
        (Direction::Incoming, sender.to_bare())
    };
    let mut event = event_of(message, sender, direction, peer, own)?;
    event.server_id = Some(archive_id.to_string());
    event.delay_ms = stamp_ms.or(event.delay_ms);
    Ok(event)
}

fn event_of(
    inner: &Message,
    sender: Jid,
    direction: Direction,
    peer: BareJid,
    own_bare: &BareJid,
) -> Result<ChatEvent, DropReason> {
    let error = if inner.type_ == MessageType::Error {
        Some(error_condition(inner))
    } else {
        None
    };
    if !matches!(
        inner.type_,
        MessageType::Chat | MessageType::Normal | MessageType::Error
    ) {
        return Err(DropReason::NotChat);
    }
    let body = inner
        .bodies
        .get("")
        .or_else(|| inner.bodies.values().next())
        .map(|b| b.trim().to_string())
        .filter(|b| !b.is_empty());
    Ok(ChatEvent {
        direction,
        peer,
        sender,
        id: inner.id.as_ref().map(|i| i.0.clone()),
        origin_id: stanza_id::origin_id_of(inner),
        server_id: stanza_id::trusted_stanza_id(inner, own_bare),
        body: if error.is_some() { None } else { body },
        receipt_requested: receipts::is_requested(inner),
        markable: markers::is_markable(inner),
        receipt_for: receipts::received_id(inner),
        displayed_for: markers::displayed_id(inner),
        chat_state: chatstates::of(inner),
        carbon: false,
        jingle_message: if error.is_some() {
            None
        } else {
            jingle_message_of(inner)
        },
        oob_url: if error.is_some() {
            None
        } else {
            oob::parse(inner)
                .map(|o| o.url)
                .filter(|u| oob::is_downloadable(u))
        },
        error,
        delay_ms: crate::delay::stamp_ms(inner),
    })
}

/// Why a message bounced, in words a person can act on, then the server's condition (and its
/// text, shortened: it comes from the network).
fn error_condition(message: &Message) -> String {
    let error = message.payloads.iter().find(|p| p.name() == "error");
    let condition = error
        .and_then(|e| {
            e.children()
                .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
        })
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| "undefined-condition".into());
    let text: Option<String> = error
        .and_then(|e| e.children().find(|c| c.name() == "text"))
        .map(|t| t.text().chars().take(200).collect());
    let meaning = match condition.as_str() {
        "service-unavailable" | "recipient-unavailable" | "item-not-found" | "gone" => {
            "the recipient is unavailable"
        }
        "remote-server-not-found" | "remote-server-timeout" => {
            "the recipient's server cannot be reached"
        }
        "policy-violation" => "the server refused it by policy",
        "forbidden" | "not-allowed" | "not-authorized" | "subscription-required" => {
            "not allowed to message this recipient"
        }
        "not-acceptable" | "resource-constraint" | "bad-request" => {
            "the server did not accept it (too large or malformed)"
        }
        _ => "the server could not deliver it",
    };
    match text {
        Some(t) if !t.trim().is_empty() => format!("{meaning} ({condition}: {})", t.trim()),
        _ => format!("{meaning} ({condition})"),
    }
}

/// An outgoing chat message: the id doubles as origin-id, a receipt is requested, and the message
/// is markable.
pub fn message(to: &BareJid, id: &str, body: &str) -> Message {
    outgoing(to, id, body, None)
}

/// An outgoing file share, as Conversations and others send it: the body is the (uploaded)
/// file's URL, and an XEP-0066 `jabber:x:oob` element carries it too, so that clients show the
/// file instead of a link. Otherwise like [`message`].
pub fn message_with_attachment(to: &BareJid, id: &str, url: &str) -> Message {
    outgoing(to, id, url, Some(oob::element(url, None)))
}

fn outgoing(to: &BareJid, id: &str, body: &str, extra: Option<Element>) -> Message {
    let mut m = Message::chat(Some(Jid::from(to.clone())));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.bodies.insert(Default::default(), body.to_string());
    m.payloads = vec![
        stanza_id::origin_id(id),
        receipts::request(),
        markers::markable(),
        ChatState::Active.element(),
    ];
    m.payloads.extend(extra);
    m
}

pub fn receipt(to: Jid, for_id: &str, id: &str) -> Message {
    let mut m = Message::chat(Some(to));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads = vec![receipts::received(for_id), store_hint()];
    m
}

pub fn displayed(to: &BareJid, for_id: &str, id: &str) -> Message {
    let mut m = Message::chat(Some(Jid::from(to.clone())));
    m.id = Some(xmpp_parsers::message::Id(id.to_string()));
    m.payloads = vec![markers::displayed(for_id), store_hint()];
    m
}

pub fn chat_state(to: &BareJid, state: ChatState) -> Message {
    let mut m = Message::chat(Some(Jid::from(to.clone())));
    m.payloads = vec![
        state.element(),
        Element::builder("no-store", ns::HINTS).build(),
    ];
    m
}

/// Receipts and markers must reach the archive so other devices learn the state too (XEP-0334).
fn store_hint() -> Element {
    Element::builder("store", ns::HINTS).build()
}

/// The message's JMI element, if it carries a well-formed one.
fn jingle_message_of(message: &Message) -> Option<JingleMessage> {
    let child = message
        .payloads
        .iter()
        .find(|p| p.ns() == ns::JINGLE_MESSAGE)?;
    match JingleMessage::parse(child) {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::debug!(error = %e, "malformed call signal dropped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn own() -> FullJid {
        FullJid::new("alice@example.org/phone").unwrap()
    }

    fn parse(xml: &str) -> Message {
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn incoming_message_is_trimmed_and_only_own_stanza_id_trusted() {
        let m = parse(
            "<message xmlns='jabber:client' from='Bob@example.org/x' to='alice@example.org/phone' type='chat' id='m1'>\
             <body>  hello \n</body><request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>\
             <stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.org' id='forged'/>\
             <stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='real'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>",
        );
        let e = classify(&m, &own(), true).unwrap();
        assert_eq!(e.body.as_deref(), Some("hello"));
        assert_eq!(e.peer.as_str(), "bob@example.org");
        assert_eq!(e.server_id.as_deref(), Some("real"));
        assert_eq!(e.origin_id.as_deref(), Some("o1"));
        assert!(e.receipt_requested && e.markable);
    }

    #[test]
    fn whitespace_only_body_is_no_body() {
        let m = parse(
            "<message xmlns='jabber:client' from='bob@example.org/x' type='chat'><body> \t </body><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        let e = classify(&m, &own(), true).unwrap();
        assert_eq!(e.body, None);
        assert_eq!(e.chat_state, Some(ChatState::Composing));
    }

    #[test]
    fn sent_carbon_is_outgoing_to_the_peer() {
        let m = parse(
            "<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/phone'><sent xmlns='urn:xmpp:carbons:2'>\
             <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@example.org/laptop' to='bob@example.org' type='chat' id='x'><body>yo</body></message></forwarded></sent></message>",
        );
        let e = classify(&m, &own(), true).unwrap();
        assert_eq!(e.direction, Direction::Outgoing);
        assert_eq!(e.peer.as_str(), "bob@example.org");
        assert!(e.carbon);
    }

    #[test]
    fn error_message_names_the_condition() {
        let m = parse(
            "<message xmlns='jabber:client' from='bob@example.org' type='error' id='m9'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        );
        let e = classify(&m, &own(), true).unwrap();
        assert_eq!(
            e.error.as_deref(),
            Some("the recipient is unavailable (service-unavailable)")
        );
        assert_eq!(e.id.as_deref(), Some("m9"));
    }
    #[test]
    fn error_text_is_kept_shortened() {
        let m = parse(&format!(
            "<message xmlns='jabber:client' from='bob@example.org' type='error' id='m9'><error type='cancel'>\
             <policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>{}</text></error></message>",
            "no links ".repeat(50)
        ));
        let e = classify(&m, &own(), true).unwrap();
        let reason = e.error.unwrap();
        assert!(
            reason.starts_with("the server refused it by policy (policy-violation: no links"),
            "{reason}"
        );
        assert!(reason.len() < 300, "{reason}");
    }

    #[test]
    fn archived_messages_are_ours_or_theirs_with_the_archive_id() {
        let own = own().to_bare();
        let theirs = parse(
            "<message xmlns='jabber:client' from='bob@example.org/x' to='alice@example.org' \
             type='chat' id='b1'><body>hello</body>\
             <stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.org' id='other'/></message>",
        );
        let e = classify_archived(&theirs, &own, "arch-1", Some(5)).unwrap();
        assert_eq!(e.direction, Direction::Incoming);
        assert_eq!(e.peer.as_str(), "bob@example.org");
        assert_eq!(e.server_id.as_deref(), Some("arch-1"));
        assert_eq!(e.delay_ms, Some(5));
        let ours = parse(
            "<message xmlns='jabber:client' from='alice@example.org/laptop' to='bob@example.org' \
             type='chat' id='a1'><body>hi</body></message>",
        );
        let e = classify_archived(&ours, &own, "arch-2", None).unwrap();
        assert_eq!(e.direction, Direction::Outgoing);
        assert_eq!(e.peer.as_str(), "bob@example.org");
        assert!(!e.carbon);
    }

    #[test]
    fn outgoing_message_carries_the_usual_payloads() {
        let to = BareJid::new("bob@example.org").unwrap();
        let m = message(&to, "m1", "hi");
        assert_eq!(m.bodies[""], "hi");
        assert_eq!(m.id.as_ref().unwrap().0, "m1");
        assert_eq!(m.type_, MessageType::Chat);
        assert!(stanza_id::origin_id_of(&m).as_deref() == Some("m1"));
        assert!(receipts::is_requested(&m) && markers::is_markable(&m));
        assert_eq!(chatstates::of(&m), Some(ChatState::Active));
        assert!(oob::parse(&m).is_none());
        assert_eq!(m.payloads.len(), 4);
    }

    #[test]
    fn attachment_message_is_a_message_with_the_url_as_body_and_oob() {
        let to = BareJid::new("bob@example.org").unwrap();
        let url = "https://upload.example.org/f/abc/cat.jpg";
        let m = message_with_attachment(&to, "m2", url);
        let plain = message(&to, "m2", url);
        assert_eq!(m.bodies, plain.bodies);
        assert_eq!(m.to, plain.to);
        assert_eq!(m.payloads[..4], plain.payloads[..]);
        assert_eq!(m.payloads.len(), 5);
        assert_eq!(oob::parse(&m).unwrap().url, url);
        let xml = String::from(&Element::from(m));
        assert!(
            xml.contains(&format!("<x xmlns='jabber:x:oob'><url>{url}</url></x>")),
            "{xml}"
        );
    }

    #[test]
    fn oob_url_is_filled_for_live_carbon_and_archived_messages_when_https() {
        let oob = "<x xmlns='jabber:x:oob'><url>https://up.example.org/f/a.jpg</url></x>";
        let live = parse(&format!(
            "<message xmlns='jabber:client' from='bob@example.org/x' type='chat' id='m1'>\
             <body>https://up.example.org/f/a.jpg</body>{oob}</message>"
        ));
        let e = classify(&live, &own(), true).unwrap();
        assert_eq!(e.oob_url.as_deref(), Some("https://up.example.org/f/a.jpg"));
        let carbon = parse(&format!(
            "<message xmlns='jabber:client' from='alice@example.org' to='alice@example.org/phone'>\
             <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='bob@example.org/x' to='alice@example.org/laptop' \
             type='chat' id='m2'><body>file</body>{oob}</message></forwarded></received></message>"
        ));
        let e = classify(&carbon, &own(), true).unwrap();
        assert!(e.carbon);
        assert_eq!(e.oob_url.as_deref(), Some("https://up.example.org/f/a.jpg"));
        let archived = parse(&format!(
            "<message xmlns='jabber:client' from='alice@example.org/laptop' to='bob@example.org' \
             type='chat' id='a1'><body>file</body>{oob}</message>"
        ));
        let e = classify_archived(&archived, &own().to_bare(), "arch-1", None).unwrap();
        assert_eq!(e.oob_url.as_deref(), Some("https://up.example.org/f/a.jpg"));
        let insecure = parse(
            "<message xmlns='jabber:client' from='bob@example.org/x' type='chat'><body>f</body>\
             <x xmlns='jabber:x:oob'><url>http://up.example.org/f/a.jpg</url></x></message>",
        );
        let e = classify(&insecure, &own(), true).unwrap();
        assert_eq!(e.oob_url, None);
        assert_eq!(e.body.as_deref(), Some("f"));
    }

    #[test]
    fn archive_results_outside_a_query_are_dropped() {
        let forged = parse(
            "<message xmlns='jabber:client' from='mallory@evil.example/x' to='alice@example.org/phone'>\
             <result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='bob@example.org/x' to='alice@example.org' \
             type='chat'><body>forged</body></message></forwarded></result><body>also</body></message>",
        );
        assert_eq!(
            classify(&forged, &own(), true),
            Err(DropReason::StrayArchiveResult)
        );
    }
}
