//! Chat Markers (XEP-0333): markable messages and displayed markers.

use minidom::Element;
use xmpp_parsers::message::Message;

use crate::ns;

pub fn markable() -> Element {
    Element::builder("markable", ns::MARKERS).build()
}

pub fn is_markable(message: &Message) -> bool {
    message
        .payloads
        .iter()
        .any(|p| p.is("markable", ns::MARKERS))
}

pub fn displayed(id: &str) -> Element {
    Element::builder("displayed", ns::MARKERS)
        .attr(rxml::xml_ncname!("id").into(), id)
        .build()
}

/// The id a displayed marker refers to (earlier messages count as displayed too).
pub fn displayed_id(message: &Message) -> Option<String> {
    message
        .payloads
        .iter()
        .find(|p| p.is("displayed", ns::MARKERS))
        .and_then(|p| p.attr("id"))
        .map(str::to_string)
}
