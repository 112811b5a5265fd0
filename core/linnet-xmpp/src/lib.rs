//! Linnet's XMPP protocol layer.
//!
//! The session layer is our own (see `docs/decisions/0001-session-layer.md`): it owns the XML stream
//! (with depth and size limits enforced before any tree is built), TLS, SASL policy, resource binding,
//! IQ tracking with timeouts, and stanza validation. Each XEP lives in its own module.

pub mod sasl;
pub mod xml;
