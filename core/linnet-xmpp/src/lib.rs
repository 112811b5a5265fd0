//! Linnet's XMPP protocol layer.
//!
//! The session layer is our own (see `docs/decisions/0001-session-layer.md`): it owns the XML stream
//! (with depth and size limits enforced before any tree is built), TLS, SASL policy, resource binding,
//! IQ tracking with timeouts, and stanza validation. Each XEP lives in its own module and carries
//! its own "who may say this" checks.

pub mod connection;
pub mod error;
pub mod negotiate;
pub mod ns;
pub mod sasl;
pub mod sasl2;
pub mod secret;
pub mod session;
pub mod tls;
pub mod transport;
pub mod xml;

// One module per protocol extension.
pub mod adhoc;
pub mod bind2;
pub mod carbons;
pub mod chat;
pub mod chatstates;
pub mod component;
pub mod csi;
pub mod delay;
pub mod disco;
pub mod external_services;
pub mod fast;
pub mod gateway;
pub mod jingle;
pub mod jingle_dtls;
pub mod jingle_grouping;
pub mod jingle_ice_udp;
pub mod jingle_message;
pub mod jingle_rtp;
pub mod mam;
pub mod markers;
pub mod oob;
pub mod presence;
pub mod push;
pub mod receipts;
pub mod roster;
pub mod stanza_id;
pub mod upload;

pub use jid::{BareJid, FullJid, Jid};
pub use minidom::Element;
pub use xmpp_parsers;
