//! Unique and Stable Stanza IDs (XEP-0359). Only a `<stanza-id/>` added by our own server (`by` =
//! our bare JID) is trusted: servers strip foreign ones claiming their name, so any other can be
//! forged by the sender.

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::message::Message;

use crate::ns;

pub fn origin_id(id: &str) -> Element {
    Element::builder("origin-id", ns::SID)
        .attr(rxml::xml_ncname!("id").into(), id)
        .build()
}

pub fn origin_id_of(message: &Message) -> Option<String> {
    message
        .payloads
        .iter()
        .find(|p| p.is("origin-id", ns::SID))
        .and_then(|p| p.attr("id"))
        .map(str::to_string)
}

/// The archive id our own server gave this message, if any.
pub fn trusted_stanza_id(message: &Message, own: &BareJid) -> Option<String> {
    message
        .payloads
        .iter()
        .filter(|p| p.is("stanza-id", ns::SID))
        .find(|p| p.attr("by").and_then(|b| BareJid::new(b).ok()).as_ref() == Some(own))
        .and_then(|p| p.attr("id"))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}
