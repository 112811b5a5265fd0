//! Delayed Delivery (XEP-0203): when an offline or archived message was really sent.

use xmpp_parsers::message::Message;

use crate::ns;

/// The original send time in ms since the epoch, if the message carries a valid delay stamp.
pub fn stamp_ms(message: &Message) -> Option<i64> {
    let delay = message.payloads.iter().find(|p| p.is("delay", ns::DELAY))?;
    let parsed = xmpp_parsers::delay::Delay::try_from(delay.clone()).ok()?;
    Some(parsed.stamp.0.timestamp_millis())
}
