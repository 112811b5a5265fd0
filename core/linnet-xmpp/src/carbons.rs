//! Message Carbons (XEP-0280): enabling, and unwrapping copies only when they really come from our
//! own account and only once carbons were enabled (CVE-2017-5589 and its wave).

use jid::FullJid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;

use crate::ns;

pub fn enable_request(id: String) -> Iq {
    Iq::from_set(id, xmpp_parsers::carbons::Enable)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarbonKind {
    /// A message another of our devices received.
    Received,
    /// A message another of our devices sent.
    Sent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CarbonError {
    #[error("carbon copy from someone other than our own account")]
    ForgedSender,
    #[error("carbon copy while carbons are not enabled")]
    NotEnabled,
    #[error("malformed carbon copy: {0}")]
    Malformed(&'static str),
}

/// Finds a carbon wrapper in `message`. `Ok(None)`: not a carbon. `Err`: a carbon to drop.
pub fn unwrap(
    message: &Message,
    own: &FullJid,
    enabled: bool,
) -> Result<Option<(CarbonKind, Message)>, CarbonError> {
    let Some((kind, wrapper)) = message.payloads.iter().find_map(|p| {
        if p.is("received", ns::CARBONS) {
            Some((CarbonKind::Received, p))
        } else if p.is("sent", ns::CARBONS) {
            Some((CarbonKind::Sent, p))
        } else {
            None
        }
    }) else {
        return Ok(None);
    };
    // Who may say this: only our own bare JID (the server on our behalf).
    match &message.from {
        Some(from) if from.resource().is_none() && from.to_bare() == own.to_bare() => {}
        _ => return Err(CarbonError::ForgedSender),
    }
    if !enabled {
        return Err(CarbonError::NotEnabled);
    }
    let inner = forwarded_message(wrapper)?;
    // One level only: a carbon inside a carbon is not unwrapped again.
    if inner.payloads.iter().any(|p| p.ns() == ns::CARBONS) {
        return Err(CarbonError::Malformed("nested carbon"));
    }
    if inner.from.is_none() {
        return Err(CarbonError::Malformed("forwarded message without a sender"));
    }
    if kind == CarbonKind::Sent && inner.from.as_ref().map(|f| f.to_bare()) != Some(own.to_bare()) {
        return Err(CarbonError::Malformed(
            "sent carbon of a message not sent by us",
        ));
    }
    if kind == CarbonKind::Received && inner.to.as_ref().map(|t| t.to_bare()) != Some(own.to_bare())
    {
        return Err(CarbonError::Malformed(
            "received carbon of a message not addressed to us",
        ));
    }
    Ok(Some((kind, inner)))
}

fn forwarded_message(wrapper: &Element) -> Result<Message, CarbonError> {
    let forwarded = wrapper
        .get_child("forwarded", ns::FORWARD)
        .ok_or(CarbonError::Malformed("no forwarded element"))?;
    let inner = forwarded
        .get_child("message", ns::CLIENT)
        .ok_or(CarbonError::Malformed("no forwarded message"))?;
    Message::try_from(inner.clone())
        .map_err(|_| CarbonError::Malformed("invalid forwarded message"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn own() -> FullJid {
        FullJid::new("alice@example.org/phone").unwrap()
    }

    fn carbon(outer_from: &str, kind: &str, inner_from: &str, inner_to: &str) -> Message {
        let xml = format!(
            "<message xmlns='jabber:client' from='{outer_from}' to='alice@example.org/phone' type='chat'>\
             <{kind} xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='{inner_from}' to='{inner_to}' type='chat' id='m1'><body>hi</body></message>\
             </forwarded></{kind}></message>"
        );
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn legitimate_received_and_sent_carbons_are_unwrapped() {
        let (k, m) = unwrap(
            &carbon(
                "alice@example.org",
                "received",
                "bob@example.org/x",
                "alice@example.org/laptop",
            ),
            &own(),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(k, CarbonKind::Received);
        assert_eq!(m.from.unwrap().as_str(), "bob@example.org/x");
        let (k, _) = unwrap(
            &carbon(
                "alice@example.org",
                "sent",
                "alice@example.org/laptop",
                "bob@example.org",
            ),
            &own(),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(k, CarbonKind::Sent);
    }

    #[test]
    fn forged_carbons_are_rejected() {
        let forged = carbon(
            "mallory@evil.example",
            "sent",
            "alice@example.org/laptop",
            "bob@example.org",
        );
        assert_eq!(
            unwrap(&forged, &own(), true),
            Err(CarbonError::ForgedSender)
        );
        let from_full = carbon(
            "alice@example.org/laptop",
            "received",
            "bob@example.org/x",
            "alice@example.org",
        );
        assert_eq!(
            unwrap(&from_full, &own(), true),
            Err(CarbonError::ForgedSender)
        );
        let not_enabled = carbon(
            "alice@example.org",
            "received",
            "bob@example.org/x",
            "alice@example.org",
        );
        assert_eq!(
            unwrap(&not_enabled, &own(), false),
            Err(CarbonError::NotEnabled)
        );
    }
}
