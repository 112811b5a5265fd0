//! Jingle (XEP-0166, `urn:xmpp:jingle:1`): the `<jingle/>` IQ payload of a call's signalling,
//! with the RTP session-info messages of XEP-0167 (ringing, hold, mute) and the BUNDLE group of
//! XEP-0338. The description, transport and fingerprint live in `jingle_rtp`, `jingle_ice_udp`
//! and `jingle_dtls`.
//!
//! Our own types instead of xmpp-parsers' (see the xmpp-rs notes): theirs cannot build ICE-UDP
//! transports, refuse mDNS candidates, `setup='holdconn'`, the current session-info and unknown
//! ssma semantics.
//!
//! Reading rules, the same in every Jingle module: unknown children and unknown attributes are
//! ignored; a missing required attribute or a value that does not parse is an error
//! ([`JingleError`]); counts and string lengths are capped (the `MAX_*` constants) so a hostile
//! peer cannot make us build a huge SDP. Who may send a given action (initiator, responder, a
//! stranger) is the session state machine's business, not this module's.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle_grouping::Group;
use crate::jingle_ice_udp::IceUdpTransport;
use crate::jingle_rtp::RtpDescription;
use crate::ns;

/// At most this many `<content/>` in one `<jingle/>`.
pub const MAX_CONTENTS: usize = 16;
/// Longest attribute value or text accepted, in bytes.
pub const MAX_STRING_LEN: usize = 1024;
/// Longest value quoted back in an error, in characters: it comes from the network.
const MAX_QUOTED_CHARS: usize = 64;

/// What was wrong with a Jingle (or JMI) element.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JingleError {
    /// The element is not the one expected (name or namespace).
    #[error("expected <{expected}/>, got <{got}/>")]
    WrongElement { expected: &'static str, got: String },
    #[error("<{element}/> lacks the required attribute '{attribute}'")]
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    /// The attribute's value does not parse or is out of range (the value is shortened).
    #[error("<{element}/> has an invalid '{attribute}': {value:?}")]
    InvalidAttribute {
        element: &'static str,
        attribute: &'static str,
        value: String,
    },
    #[error("<{element}/> lacks a required child ({child})")]
    MissingChild {
        element: &'static str,
        child: &'static str,
    },
    /// More than the cap of something (contents, payload types, candidates, ...).
    #[error("too many {what} (at most {max})")]
    TooMany { what: &'static str, max: usize },
    /// An attribute or a text longer than [`MAX_STRING_LEN`].
    #[error("{what} is longer than {MAX_STRING_LEN} bytes")]
    TooLong { what: &'static str },
}

pub(crate) fn check_element(
    el: &Element,
    name: &'static str,
    namespace: &str,
) -> Result<(), JingleError> {
    if el.is(name, namespace) {
        Ok(())
    } else {
        Err(JingleError::WrongElement {
            expected: name,
            got: shorten(el.name()),
        })
    }
}

pub(crate) fn shorten(value: &str) -> String {
    value.chars().take(MAX_QUOTED_CHARS).collect()
}

/// An optional attribute, refused when longer than [`MAX_STRING_LEN`].
pub(crate) fn optional_attr<'a>(
    el: &'a Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<&'a str>, JingleError> {
    // `element` names the element in errors of the callers; kept for symmetry.
    let _ = element;
    match el.attr(attribute) {
        Some(value) if value.len() > MAX_STRING_LEN => {
            Err(JingleError::TooLong { what: attribute })
        }
        other => Ok(other),
    }
}

/// A required attribute, refused when longer than [`MAX_STRING_LEN`].
pub(crate) fn required_attr<'a>(
    el: &'a Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, JingleError> {
    optional_attr(el, element, attribute)?
        .ok_or(JingleError::MissingAttribute { element, attribute })
}

pub(crate) fn invalid(element: &'static str, attribute: &'static str, value: &str) -> JingleError {
    JingleError::InvalidAttribute {
        element,
        attribute,
        value: shorten(value),
    }
}

/// An optional number attribute; present but unparsable is an error.
pub(crate) fn optional_number<T: std::str::FromStr>(
    el: &Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<Option<T>, JingleError> {
    optional_attr(el, element, attribute)?
        .map(|v| {
            v.trim()
                .parse::<T>()
                .map_err(|_| invalid(element, attribute, v))
        })
        .transpose()
}

pub(crate) fn required_number<T: std::str::FromStr>(
    el: &Element,
    element: &'static str,
    attribute: &'static str,
) -> Result<T, JingleError> {
    optional_number(el, element, attribute)?
        .ok_or(JingleError::MissingAttribute { element, attribute })
}

/// Text content, refused when longer than [`MAX_STRING_LEN`].
pub(crate) fn bounded_text(el: &Element, what: &'static str) -> Result<String, JingleError> {
    let text = el.text();
    if text.len() > MAX_STRING_LEN {
        return Err(JingleError::TooLong { what });
    }
    Ok(text)
}

/// Fails once a count passes its cap.
pub(crate) fn check_count(count: usize, what: &'static str, max: usize) -> Result<(), JingleError> {
    if count > max {
        Err(JingleError::TooMany { what, max })
    } else {
        Ok(())
    }
}

/// A Jingle action (XEP-0166 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SessionInitiate,
    SessionAccept,
    SessionTerminate,
    SessionInfo,
    TransportInfo,
    ContentAdd,
    ContentAccept,
    ContentReject,
    ContentRemove,
    ContentModify,
    DescriptionInfo,
    SecurityInfo,
    TransportAccept,
    TransportReject,
    TransportReplace,
}

impl Action {
    const ALL: [(Action, &'static str); 15] = [
        (Action::SessionInitiate, "session-initiate"),
        (Action::SessionAccept, "session-accept"),
        (Action::SessionTerminate, "session-terminate"),
        (Action::SessionInfo, "session-info"),
        (Action::TransportInfo, "transport-info"),
        (Action::ContentAdd, "content-add"),
        (Action::ContentAccept, "content-accept"),
        (Action::ContentReject, "content-reject"),
        (Action::ContentRemove, "content-remove"),
        (Action::ContentModify, "content-modify"),
        (Action::DescriptionInfo, "description-info"),
        (Action::SecurityInfo, "security-info"),
        (Action::TransportAccept, "transport-accept"),
        (Action::TransportReject, "transport-reject"),
        (Action::TransportReplace, "transport-replace"),
    ];

    /// The attribute value, e.g. `session-initiate`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map(|(_, s)| *s)
            .unwrap_or("session-info")
    }

    pub fn from_attr(value: &str) -> Option<Action> {
        Self::ALL.iter().find(|(_, s)| *s == value).map(|(a, _)| *a)
    }
}

/// Who created a content. XEP-0166: it stays the initiator in offer and answer for the contents
/// of a session-initiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creator {
    Initiator,
    Responder,
}

impl Creator {
    pub fn as_str(self) -> &'static str {
        match self {
            Creator::Initiator => "initiator",
            Creator::Responder => "responder",
        }
    }

    pub fn from_attr(value: &str) -> Option<Creator> {
        match value {
            "initiator" => Some(Creator::Initiator),
            "responder" => Some(Creator::Responder),
            _ => None,
        }
    }
}

/// Which parties send media in a content (absent means both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Senders {
    #[default]
    Both,
    Initiator,
    Responder,
    None,
}

impl Senders {
    pub fn as_str(self) -> &'static str {
        match self {
            Senders::Both => "both",
            Senders::Initiator => "initiator",
            Senders::Responder => "responder",
            Senders::None => "none",
        }
    }

    pub fn from_attr(value: &str) -> Option<Senders> {
        match value {
            "both" => Some(Senders::Both),
            "initiator" => Some(Senders::Initiator),
            "responder" => Some(Senders::Responder),
            "none" => Some(Senders::None),
            _ => None,
        }
    }
}

/// One `<content/>`: an RTP description and an ICE-UDP transport (either may be absent, e.g. in
/// a transport-info only the transport is there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub creator: Creator,
    pub name: String,
    pub senders: Senders,
    pub description: Option<RtpDescription>,
    pub transport: Option<IceUdpTransport>,
}

impl Content {
    pub fn new(creator: Creator, name: impl Into<String>) -> Content {
        Content {
            creator,
            name: name.into(),
            senders: Senders::Both,
            description: None,
            transport: None,
        }
    }

    pub fn parse(el: &Element) -> Result<Content, JingleError> {
        check_element(el, "content", ns::JINGLE)?;
        let creator = required_attr(el, "content", "creator")?;
        let creator =
            Creator::from_attr(creator).ok_or_else(|| invalid("content", "creator", creator))?;
        let name = required_attr(el, "content", "name")?.to_string();
        let senders = match optional_attr(el, "content", "senders")? {
            None => Senders::Both,
            Some(s) => Senders::from_attr(s).ok_or_else(|| invalid("content", "senders", s))?,
        };
        let description = el
            .get_child("description", ns::JINGLE_RTP)
            .map(RtpDescription::parse)
            .transpose()?;
        let transport = el
            .get_child("transport", ns::JINGLE_ICE_UDP)
            .map(IceUdpTransport::parse)
            .transpose()?;
        Ok(Content {
            creator,
            name,
            senders,
            description,
            transport,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("content", ns::JINGLE)
            .attr(n!("creator").into(), self.creator.as_str())
            .attr(n!("name").into(), self.name.as_str());
        // Absent means both; writing it anyway costs nothing and some peers like it explicit.
        b = b.attr(n!("senders").into(), self.senders.as_str());
        if let Some(description) = &self.description {
            b = b.append(description.to_element());
        }
        if let Some(transport) = &self.transport {
            b = b.append(transport.to_element());
        }
        b.build()
    }
}

/// Why a session (or a JMI proposal) ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub kind: ReasonKind,
    /// Human-readable, at most [`MAX_STRING_LEN`] bytes.
    pub text: Option<String>,
}

impl Reason {
    pub fn new(kind: ReasonKind) -> Reason {
        Reason { kind, text: None }
    }

    /// `<reason xmlns='urn:xmpp:jingle:1'>`: the first child naming a known condition wins;
    /// a reason without one is an error.
    pub fn parse(el: &Element) -> Result<Reason, JingleError> {
        check_element(el, "reason", ns::JINGLE)?;
        let kind = el
            .children()
            .filter(|c| c.ns() == ns::JINGLE)
            .find_map(|c| ReasonKind::from_name(c.name()))
            .ok_or(JingleError::MissingChild {
                element: "reason",
                child: "condition",
            })?;
        let text = el
            .get_child("text", ns::JINGLE)
            .map(|t| bounded_text(t, "reason text"))
            .transpose()?
            .filter(|t| !t.trim().is_empty());
        Ok(Reason { kind, text })
    }

    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("reason", ns::JINGLE)
            .append(Element::bare(self.kind.as_str(), ns::JINGLE));
        if let Some(text) = &self.text {
            b = b.append(
                Element::builder("text", ns::JINGLE)
                    .append(text.as_str())
                    .build(),
            );
        }
        b.build()
    }
}

/// The reason conditions of XEP-0166 §7.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    Success,
    Busy,
    Decline,
    Cancel,
    Expired,
    Timeout,
    Gone,
    ConnectivityError,
    FailedApplication,
    FailedTransport,
    GeneralError,
    IncompatibleParameters,
    MediaError,
    SecurityError,
    UnsupportedApplications,
    UnsupportedTransports,
    AlternativeSession,
}

impl ReasonKind {
    const ALL: [(ReasonKind, &'static str); 17] = [
        (ReasonKind::Success, "success"),
        (ReasonKind::Busy, "busy"),
        (ReasonKind::Decline, "decline"),
        (ReasonKind::Cancel, "cancel"),
        (ReasonKind::Expired, "expired"),
        (ReasonKind::Timeout, "timeout"),
        (ReasonKind::Gone, "gone"),
        (ReasonKind::ConnectivityError, "connectivity-error"),
        (ReasonKind::FailedApplication, "failed-application"),
        (ReasonKind::FailedTransport, "failed-transport"),
        (ReasonKind::GeneralError, "general-error"),
        (
            ReasonKind::IncompatibleParameters,
            "incompatible-parameters",
        ),
        (ReasonKind::MediaError, "media-error"),
        (ReasonKind::SecurityError, "security-error"),
        (
            ReasonKind::UnsupportedApplications,
            "unsupported-applications",
        ),
        (ReasonKind::UnsupportedTransports, "unsupported-transports"),
        (ReasonKind::AlternativeSession, "alternative-session"),
    ];

    /// The element name, e.g. `connectivity-error`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, s)| *s)
            .unwrap_or("general-error")
    }

    pub fn from_name(name: &str) -> Option<ReasonKind> {
        Self::ALL.iter().find(|(_, s)| *s == name).map(|(k, _)| *k)
    }
}

/// RTP session-info payloads (XEP-0167 §7, `urn:xmpp:jingle:apps:rtp:info:1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionInfo {
    Ringing,
    Active,
    Hold,
    Unhold,
    /// `name` is the content muted; `None` means all.
    Mute {
        name: Option<String>,
    },
    Unmute {
        name: Option<String>,
    },
}

impl SessionInfo {
    /// The first child of `jingle` in the RTP info namespace that we know; unknown ones are
    /// ignored (a session-info we do not understand is answered with an empty result by XEP-0166).
    fn find(jingle: &Element) -> Result<Option<SessionInfo>, JingleError> {
        for child in jingle.children().filter(|c| c.ns() == ns::JINGLE_RTP_INFO) {
            let info = match child.name() {
                "ringing" => SessionInfo::Ringing,
                "active" => SessionInfo::Active,
                "hold" => SessionInfo::Hold,
                "unhold" => SessionInfo::Unhold,
                "mute" => SessionInfo::Mute {
                    name: optional_attr(child, "mute", "name")?.map(str::to_string),
                },
                "unmute" => SessionInfo::Unmute {
                    name: optional_attr(child, "unmute", "name")?.map(str::to_string),
                },
                _ => continue,
            };
            return Ok(Some(info));
        }
        Ok(None)
    }

    /// `creator` is written on mute/unmute (XEP-0167 requires it there).
    pub fn to_element(&self, creator: Creator) -> Element {
        let (name, content) = match self {
            SessionInfo::Ringing => ("ringing", None),
            SessionInfo::Active => ("active", None),
            SessionInfo::Hold => ("hold", None),
            SessionInfo::Unhold => ("unhold", None),
            SessionInfo::Mute { name } => ("mute", Some(name)),
            SessionInfo::Unmute { name } => ("unmute", Some(name)),
        };
        let mut b = Element::builder(name, ns::JINGLE_RTP_INFO);
        if let Some(content) = content {
            b = b
                .attr(n!("creator").into(), creator.as_str())
                .attr(n!("name").into(), content.as_deref());
        }
        b.build()
    }
}

/// A `<jingle/>` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jingle {
    pub action: Action,
    pub sid: String,
    pub initiator: Option<String>,
    pub responder: Option<String>,
    pub contents: Vec<Content>,
    pub reason: Option<Reason>,
    pub group: Option<Group>,
    pub info: Option<SessionInfo>,
}

impl Jingle {
    pub fn new(action: Action, sid: impl Into<String>) -> Jingle {
        Jingle {
            action,
            sid: sid.into(),
            initiator: None,
            responder: None,
            contents: Vec::new(),
            reason: None,
            group: None,
            info: None,
        }
    }

    pub fn parse(el: &Element) -> Result<Jingle, JingleError> {
        check_element(el, "jingle", ns::JINGLE)?;
        let action = required_attr(el, "jingle", "action")?;
        let action =
            Action::from_attr(action).ok_or_else(|| invalid("jingle", "action", action))?;
        let sid = required_attr(el, "jingle", "sid")?;
        if sid.is_empty() {
            return Err(invalid("jingle", "sid", sid));
        }
        let mut contents = Vec::new();
        for child in el.children().filter(|c| c.is("content", ns::JINGLE)) {
            check_count(contents.len() + 1, "contents", MAX_CONTENTS)?;
            contents.push(Content::parse(child)?);
        }
        let reason = el
            .get_child("reason", ns::JINGLE)
            .map(Reason::parse)
            .transpose()?;
        let group = el
            .get_child("group", ns::JINGLE_GROUPING)
            .map(Group::parse)
            .transpose()?;
        let info = SessionInfo::find(el)?;
        Ok(Jingle {
            action,
            sid: sid.to_string(),
            initiator: optional_attr(el, "jingle", "initiator")?.map(str::to_string),
            responder: optional_attr(el, "jingle", "responder")?.map(str::to_string),
            contents,
            reason,
            group,
            info,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("jingle", ns::JINGLE)
            .attr(n!("action").into(), self.action.as_str())
            .attr(n!("sid").into(), self.sid.as_str())
            .attr(n!("initiator").into(), self.initiator.as_deref())
            .attr(n!("responder").into(), self.responder.as_deref());
        for content in &self.contents {
            b = b.append(content.to_element());
        }
        if let Some(group) = &self.group {
            b = b.append(group.to_element());
        }
        if let Some(reason) = &self.reason {
            b = b.append(reason.to_element());
        }
        if let Some(info) = &self.info {
            let creator = self
                .contents
                .first()
                .map(|c| c.creator)
                .unwrap_or(Creator::Initiator);
            b = b.append(info.to_element(creator));
        }
        b.build()
    }
}
