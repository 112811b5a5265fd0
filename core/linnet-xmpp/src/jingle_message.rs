//! Jingle Message Initiation (XEP-0353, `urn:xmpp:jingle-message:0`): ringing all of a contact's
//! devices with a `<propose/>` in a message, before any Jingle IQ (which would reveal presence
//! and needs a full JID).
//!
//! The current version of the XEP: `<ringing/>` and `<finish/>` (with `<migrated to=…/>`) exist,
//! `<reject/>` and `<retract/>` may carry a `<tie-break/>`. Who may say this: a propose from a
//! stranger rings nothing (security notes, item 9); that decision is the SDK's.

use jid::Jid;
use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle::{JingleError, MAX_CONTENTS, Reason, check_count, invalid, required_attr};
use crate::ns;

/// One JMI action; `id` is the future Jingle session id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JingleMessage {
    /// `media` lists the descriptions' media, e.g. `["audio"]` (only RTP descriptions are read).
    Propose {
        id: String,
        media: Vec<String>,
    },
    Ringing {
        id: String,
    },
    Proceed {
        id: String,
    },
    /// Sent to our own other devices (via carbons) when one of them took the call.
    Accept {
        id: String,
    },
    Reject {
        id: String,
        reason: Option<Reason>,
        tie_break: bool,
    },
    Retract {
        id: String,
        reason: Option<Reason>,
        tie_break: bool,
    },
    /// `migrated` is the id of the session that replaces this one.
    Finish {
        id: String,
        reason: Option<Reason>,
        migrated: Option<String>,
    },
}

const NAMES: [&str; 7] = [
    "propose", "ringing", "proceed", "accept", "reject", "retract", "finish",
];

impl JingleMessage {
    pub fn id(&self) -> &str {
        match self {
            JingleMessage::Propose { id, .. }
            | JingleMessage::Ringing { id }
            | JingleMessage::Proceed { id }
            | JingleMessage::Accept { id }
            | JingleMessage::Reject { id, .. }
            | JingleMessage::Retract { id, .. }
            | JingleMessage::Finish { id, .. } => id,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            JingleMessage::Propose { .. } => "propose",
            JingleMessage::Ringing { .. } => "ringing",
            JingleMessage::Proceed { .. } => "proceed",
            JingleMessage::Accept { .. } => "accept",
            JingleMessage::Reject { .. } => "reject",
            JingleMessage::Retract { .. } => "retract",
            JingleMessage::Finish { .. } => "finish",
        }
    }

    /// The JMI child of a message stanza (any of its children), if there is one.
    pub fn find(message: &Element) -> Option<Result<JingleMessage, JingleError>> {
        message
            .children()
            .find(|c| c.ns() == ns::JINGLE_MESSAGE && NAMES.contains(&c.name()))
            .map(JingleMessage::parse)
    }

    /// One JMI element (`<propose/>`, `<finish/>`, ...).
    pub fn parse(el: &Element) -> Result<JingleMessage, JingleError> {
        if el.ns() != ns::JINGLE_MESSAGE || !NAMES.contains(&el.name()) {
            return Err(JingleError::WrongElement {
                expected: "propose",
                got: crate::jingle::shorten(el.name()),
            });
        }
        let id = required_attr(el, "jingle-message", "id")?;
        if id.is_empty() {
            return Err(invalid("jingle-message", "id", id));
        }
        let id = id.to_string();
        let reason = || {
            el.get_child("reason", ns::JINGLE)
                .map(Reason::parse)
                .transpose()
        };
        let tie_break = el.get_child("tie-break", ns::JINGLE_MESSAGE).is_some();
        Ok(match el.name() {
            "propose" => {
                let mut media = Vec::new();
                for d in el
                    .children()
                    .filter(|c| c.is("description", ns::JINGLE_RTP))
                {
                    check_count(media.len() + 1, "descriptions", MAX_CONTENTS)?;
                    media.push(required_attr(d, "description", "media")?.to_string());
                }
                JingleMessage::Propose { id, media }
            }
            "ringing" => JingleMessage::Ringing { id },
            "proceed" => JingleMessage::Proceed { id },
            "accept" => JingleMessage::Accept { id },
            "reject" => JingleMessage::Reject {
                id,
                reason: reason()?,
                tie_break,
            },
            "retract" => JingleMessage::Retract {
                id,
                reason: reason()?,
                tie_break,
            },
            _ => JingleMessage::Finish {
                id,
                reason: reason()?,
                migrated: el
                    .get_child("migrated", ns::JINGLE_MESSAGE)
                    .map(|m| required_attr(m, "migrated", "to").map(str::to_string))
                    .transpose()?,
            },
        })
    }

    pub fn to_element(&self) -> Element {
        let mut b =
            Element::builder(self.name(), ns::JINGLE_MESSAGE).attr(n!("id").into(), self.id());
        match self {
            JingleMessage::Propose { media, .. } => {
                b = b.append_all(media.iter().map(|m| {
                    Element::builder("description", ns::JINGLE_RTP)
                        .attr(n!("media").into(), m.as_str())
                        .build()
                }));
            }
            JingleMessage::Reject {
                reason, tie_break, ..
            }
            | JingleMessage::Retract {
                reason, tie_break, ..
            } => {
                if let Some(reason) = reason {
                    b = b.append(reason.to_element());
                }
                if *tie_break {
                    b = b.append(Element::bare("tie-break", ns::JINGLE_MESSAGE));
                }
            }
            JingleMessage::Finish {
                reason, migrated, ..
            } => {
                if let Some(reason) = reason {
                    b = b.append(reason.to_element());
                }
                if let Some(to) = migrated {
                    b = b.append(
                        Element::builder("migrated", ns::JINGLE_MESSAGE)
                            .attr(n!("to").into(), to.as_str())
                            .build(),
                    );
                }
            }
            JingleMessage::Ringing { .. }
            | JingleMessage::Proceed { .. }
            | JingleMessage::Accept { .. } => {}
        }
        b.build()
    }

    /// A complete `<message type='chat' to=.. id=..>` with the element and a
    /// `<store xmlns='urn:xmpp:hints'/>` (so MAM keeps it: other devices and a later catch-up see
    /// the call).
    pub fn to_message(&self, to: &Jid, stanza_id: &str) -> Element {
        Element::builder("message", ns::CLIENT)
            .attr(n!("type").into(), "chat")
            .attr(n!("to").into(), to.to_string())
            .attr(n!("id").into(), stanza_id)
            .append(self.to_element())
            .append(Element::bare("store", ns::HINTS))
            .build()
    }
}
