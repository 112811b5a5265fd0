//! Message Delivery Receipts (XEP-0184).

use minidom::Element;
use xmpp_parsers::message::Message;

use crate::ns;

pub fn request() -> Element {
    Element::builder("request", ns::RECEIPTS).build()
}

pub fn is_requested(message: &Message) -> bool {
    message
        .payloads
        .iter()
        .any(|p| p.is("request", ns::RECEIPTS))
}

/// The id of the message this one acknowledges, if it is a receipt.
pub fn received_id(message: &Message) -> Option<String> {
    message
        .payloads
        .iter()
        .find(|p| p.is("received", ns::RECEIPTS))
        .and_then(|p| p.attr("id"))
        .map(str::to_string)
}

pub fn received(id: &str) -> Element {
    Element::builder("received", ns::RECEIPTS)
        .attr(rxml::xml_ncname!("id").into(), id)
        .build()
}
