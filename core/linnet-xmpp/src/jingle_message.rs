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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::jingle::ReasonKind;

    fn find(xml: &str) -> Option<Result<JingleMessage, JingleError>> {
        JingleMessage::find(&xml.parse::<Element>().unwrap())
    }

    #[test]
    fn xep_examples_parse() {
        // XEP-0353 example 1, as Conversations and Monal send it.
        let m = find(
            "<message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@capulet.example' type='chat'>\
             <propose xmlns='urn:xmpp:jingle-message:0' id='ca3cf894-5325-482f-a412-a6e9f832298d'>\
              <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>\
              <description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'/>\
             </propose><store xmlns='urn:xmpp:hints'/></message>",
        );
        assert_eq!(
            m,
            Some(Ok(JingleMessage::Propose {
                id: "ca3cf894-5325-482f-a412-a6e9f832298d".into(),
                media: vec!["audio".into(), "video".into()]
            }))
        );
        let m = find(
            "<message xmlns='jabber:client'><body>x</body>\
             <reject xmlns='urn:xmpp:jingle-message:0' id='a'>\
              <reason xmlns='urn:xmpp:jingle:1'><expired/><text>Tie-Break</text></reason><tie-break/>\
             </reject></message>",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            m,
            JingleMessage::Reject {
                id: "a".into(),
                reason: Some(Reason {
                    kind: ReasonKind::Expired,
                    text: Some("Tie-Break".into())
                }),
                tie_break: true
            }
        );
        let m = find(
            "<message xmlns='jabber:client'><finish xmlns='urn:xmpp:jingle-message:0' id='old'>\
             <reason xmlns='urn:xmpp:jingle:1'><expired/></reason><migrated to='new'/></finish></message>",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            m,
            JingleMessage::Finish {
                id: "old".into(),
                reason: Some(Reason::new(ReasonKind::Expired)),
                migrated: Some("new".into())
            }
        );
        for (xml, expected) in [
            ("ringing", JingleMessage::Ringing { id: "r".into() }),
            ("proceed", JingleMessage::Proceed { id: "r".into() }),
            ("accept", JingleMessage::Accept { id: "r".into() }),
        ] {
            let got = find(&format!(
                "<message xmlns='jabber:client'><{xml} xmlns='urn:xmpp:jingle-message:0' id='r'/></message>"
            ));
            assert_eq!(got, Some(Ok(expected)));
        }
    }

    #[test]
    fn no_jmi_child_or_a_broken_one() {
        assert_eq!(
            find("<message xmlns='jabber:client'><body>hi</body></message>"),
            None
        );
        // The old namespace (urn:xmpp:jingle-message:1 never existed; :0 is current) is not ours.
        assert_eq!(
            find(
                "<message xmlns='jabber:client'><propose xmlns='urn:xmpp:jingle-message:1' id='a'/></message>"
            ),
            None
        );
        assert!(matches!(
            find(
                "<message xmlns='jabber:client'><propose xmlns='urn:xmpp:jingle-message:0'/></message>"
            ),
            Some(Err(JingleError::MissingAttribute { .. }))
        ));
        assert!(matches!(
            find(
                "<message xmlns='jabber:client'><retract xmlns='urn:xmpp:jingle-message:0' id='a'><reason xmlns='urn:xmpp:jingle:1'/></retract></message>"
            ),
            Some(Err(JingleError::MissingChild { .. }))
        ));
    }

    #[test]
    fn every_action_round_trips_through_a_message() {
        let to: Jid = "juliet@capulet.example".parse().unwrap();
        for m in [
            JingleMessage::Propose {
                id: "p".into(),
                media: vec!["audio".into()],
            },
            JingleMessage::Ringing { id: "p".into() },
            JingleMessage::Proceed { id: "p".into() },
            JingleMessage::Accept { id: "p".into() },
            JingleMessage::Reject {
                id: "p".into(),
                reason: Some(Reason::new(ReasonKind::Busy)),
                tie_break: false,
            },
            JingleMessage::Retract {
                id: "p".into(),
                reason: Some(Reason::new(ReasonKind::Expired)),
                tie_break: true,
            },
            JingleMessage::Finish {
                id: "p".into(),
                reason: Some(Reason::new(ReasonKind::Success)),
                migrated: None,
            },
        ] {
            let message = m.to_message(&to, "stanza1");
            assert_eq!(message.attr("type"), Some("chat"));
            assert_eq!(message.attr("to"), Some("juliet@capulet.example"));
            assert_eq!(message.attr("id"), Some("stanza1"));
            assert!(message.get_child("store", ns::HINTS).is_some());
            assert_eq!(JingleMessage::find(&message), Some(Ok(m.clone())));
            assert_eq!(m.id(), "p");
        }
        let xml = String::from(
            &JingleMessage::Propose {
                id: "p".into(),
                media: vec!["audio".into()],
            }
            .to_element(),
        );
        assert_eq!(
            xml,
            "<propose xmlns='urn:xmpp:jingle-message:0' id='p'><description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose>"
        );
    }
}
