//! Namespaces used by hand-built elements (typed ones come from xmpp-parsers).

pub const CLIENT: &str = "jabber:client";
pub const STREAM: &str = "http://etherx.jabber.org/streams";
pub const STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
pub const TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
pub const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
pub const SM: &str = "urn:xmpp:sm:3";
pub const CSI: &str = "urn:xmpp:csi:0";
pub const PING: &str = "urn:xmpp:ping";
pub const ROSTER: &str = "jabber:iq:roster";
pub const CARBONS: &str = "urn:xmpp:carbons:2";
pub const FORWARD: &str = "urn:xmpp:forward:0";
pub const RECEIPTS: &str = "urn:xmpp:receipts";
pub const MARKERS: &str = "urn:xmpp:chat-markers:0";
pub const CHATSTATES: &str = "http://jabber.org/protocol/chatstates";
pub const SID: &str = "urn:xmpp:sid:0";
pub const HINTS: &str = "urn:xmpp:hints";
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
pub const MAM: &str = "urn:xmpp:mam:2";
pub const HTTP_UPLOAD: &str = "urn:xmpp:http:upload:0";
pub const PUSH: &str = "urn:xmpp:push:0";
pub const EXTDISCO: &str = "urn:xmpp:extdisco:2";
pub const STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
pub const DELAY: &str = "urn:xmpp:delay";
