//! Everything the server sends after the stream header, through the reader and then through every
//! protocol handler, the way the session and the SDK use them.
//!
//! Input: byte 0 holds flags (bit 0: carbons enabled, bit 1: use a second own JID whose node needs
//! normalisation), the rest is the stream content after a fixed, valid stream header (`jabber:client`
//! default namespace, default limits). Each stanza produced goes through:
//!
//! * `connection::stream_error`, then by name: `Message::try_from` → `chat::classify` (carbons on
//!   and off), `carbons::unwrap`, the receipt/marker/chat-state/stanza-id/delay readers;
//!   `Presence::try_from` → `presence::classify`; `Iq::try_from` → `roster::parse_push`, and on
//!   results `roster::parse_fetch`, `disco::parse_info`, `disco::parse_items`;
//! * the lenient readers (`disco::parse_info`, `disco::parse_items`, `roster::parse_fetch`) on the
//!   stanza itself and each child, whatever it is;
//! * `xml::element_to_string`, and when that succeeds, parsing the string again must give the
//!   same element (what we serialise is what the peer reads: no injection through a value that
//!   came from the network, such as the id of a ping we answer).
//!
//! Nothing may panic, and every result is formatted (Debug and Display) to run those impls too.
//! The "who may say this" rules are checked on what the handlers accept: a carbon only from our
//! own bare JID and only with carbons enabled, a sent carbon only of a message from us, a received
//! one only of a message to us, an outgoing chat event only from a sent carbon, a roster push only
//! without `from` or from our own bare JID.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linnet_xmpp::carbons::CarbonKind;
use linnet_xmpp::chat::Direction;
use linnet_xmpp::xml::{Limits, StreamEvent, StreamReader, element_to_string};
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::xmpp_parsers::message::Message;
use linnet_xmpp::xmpp_parsers::presence::Presence;
use linnet_xmpp::{
    Element, FullJid, Jid, carbons, chat, chatstates, connection, delay, disco, markers, ns,
    presence, receipts, roster, stanza_id,
};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.test' \
    id='fuzz-1' version='1.0' xml:lang='en' to='romeo@example.test'>";

fn sink<T: std::fmt::Debug>(v: T) {
    std::hint::black_box(format!("{v:?}"));
}

/// Our own account: the bare JID, without a resource (the server speaking for us).
fn is_own_account(j: &Jid, own: &FullJid) -> bool {
    j.resource().is_none() && j.to_bare() == own.to_bare()
}

fn handle_message(msg: &Message, own: &FullJid, carbons_enabled: bool) {
    for enabled in [carbons_enabled, !carbons_enabled] {
        match chat::classify(msg, own, enabled) {
            Ok(ev) => {
                // Who may say this (CVE-2017-5589 and its wave): a carbon only from our own
                // account, and only once carbons are enabled; "outgoing" only from a sent carbon.
                if ev.carbon {
                    assert!(enabled, "carbon accepted while carbons are off");
                    assert!(
                        msg.from.as_ref().is_some_and(|f| is_own_account(f, own)),
                        "carbon accepted from {:?}",
                        msg.from
                    );
                }
                if ev.direction == Direction::Outgoing {
                    assert!(ev.carbon, "outgoing message that is not a sent carbon");
                }
                sink(ev);
            }
            Err(e) => sink(e.to_string()),
        }
        match carbons::unwrap(msg, own, enabled) {
            Ok(Some((kind, inner))) => {
                assert!(enabled, "carbon unwrapped while carbons are off");
                assert!(msg.from.as_ref().is_some_and(|f| is_own_account(f, own)));
                match kind {
                    CarbonKind::Sent => assert_eq!(
                        inner.from.as_ref().map(Jid::to_bare),
                        Some(own.to_bare()),
                        "sent carbon of a message not from us"
                    ),
                    CarbonKind::Received => assert_eq!(
                        inner.to.as_ref().map(Jid::to_bare),
                        Some(own.to_bare()),
                        "received carbon of a message not to us"
                    ),
                }
                // The unwrapped message goes through the same readers.
                sink(chat::classify(&inner, own, enabled));
            }
            Ok(None) => {}
            Err(e) => sink(e.to_string()),
        }
    }
    sink(receipts::is_requested(msg));
    sink(receipts::received_id(msg));
    sink(markers::is_markable(msg));
    sink(markers::displayed_id(msg));
    sink(chatstates::of(msg));
    sink(stanza_id::origin_id_of(msg));
    sink(stanza_id::trusted_stanza_id(msg, &own.to_bare()));
    sink(delay::stamp_ms(msg));
}

fn handle_iq(iq: &Iq, own: &FullJid) {
    match roster::parse_push(iq, own) {
        Ok(push) => {
            // Only our own account may push (CVE-2014-0364 and its family).
            if push.is_some() {
                let Iq::Set { from, .. } = iq else {
                    panic!("roster push from an IQ that is not a set");
                };
                assert!(
                    from.as_ref().is_none_or(|f| is_own_account(f, own)),
                    "roster push accepted from {from:?}"
                );
            }
            sink(push)
        }
        Err(e) => sink(e.to_string()),
    }
    match iq {
        Iq::Result { payload, .. } => {
            sink(roster::parse_fetch(payload.clone()));
            sink(disco::parse_info(payload.as_ref()));
            sink(disco::parse_items(payload.as_ref()));
        }
        Iq::Get { payload, .. } | Iq::Set { payload, .. } => {
            sink(disco::parse_info(Some(payload)));
            sink(payload.is("ping", ns::PING));
        }
        Iq::Error { error, .. } => sink(error),
    }
}

fn lenient_readers(e: &Element) {
    sink(disco::parse_info(Some(e)));
    sink(disco::parse_items(Some(e)));
    for child in e.children() {
        sink(disco::parse_info(Some(child)));
        sink(disco::parse_items(Some(child)));
        sink(roster::parse_fetch(Some(child.clone())));
    }
}

fn round_trip(e: &Element) {
    let Ok(s) = element_to_string(e) else {
        return;
    };
    let mut r = StreamReader::new(Limits {
        // What we serialise may be larger than what we received (escaping, declarations).
        max_stanza_bytes: usize::MAX,
        ..Limits::default()
    });
    let evs = r
        .feed(format!("{HEADER}{s}").as_bytes())
        .unwrap_or_else(|err| panic!("our own serialisation does not parse: {err}\n{s}"));
    match evs.as_slice() {
        [StreamEvent::Header(_), StreamEvent::Stanza(back)] => {
            assert_eq!(back, e, "serialisation changed the element:\n{s}");
        }
        other => panic!("serialisation gave other events: {other:?}\n{s}"),
    }
}

fn handle(e: Element, own: &FullJid, carbons_enabled: bool) {
    if let Some(err) = connection::stream_error(&e) {
        sink(err.to_string());
        sink(err.is_transient());
    }
    lenient_readers(&e);
    round_trip(&e);
    if e.ns() != ns::CLIENT {
        return;
    }
    match e.name() {
        "message" => match Message::try_from(e) {
            Ok(m) => handle_message(&m, own, carbons_enabled),
            Err(err) => sink(err.to_string()),
        },
        "presence" => match Presence::try_from(e) {
            Ok(p) => sink(presence::classify(&p)),
            Err(err) => sink(err.to_string()),
        },
        "iq" => match Iq::try_from(e) {
            Ok(iq) => handle_iq(&iq, own),
            Err(err) => sink(err.to_string()),
        },
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, stream @ ..] = data else {
        return;
    };
    let own = if flags & 2 == 0 {
        FullJid::new("romeo@example.test/orchard")
    } else {
        FullJid::new("Romeo@Example.Test/Orchard Phone")
    };
    let Ok(own) = own else {
        return;
    };
    let carbons_enabled = flags & 1 != 0;

    let mut r = StreamReader::new(Limits::default());
    let Ok(evs) = r.feed(HEADER.as_bytes()) else {
        panic!("the fixed header must parse");
    };
    assert_eq!(evs.len(), 1);
    // The reader drops the events of a call that fails, as a session drops the connection. Feed
    // in pieces ending after each '>' (each stanza completes in its own call) so that the stanzas
    // before a fatal error still reach the handlers, as they would in a session.
    for piece in stream.split_inclusive(|&b| b == b'>') {
        let Ok(evs) = r.feed(piece) else {
            return;
        };
        for ev in evs {
            if let StreamEvent::Stanza(e) = ev {
                handle(e, &own, carbons_enabled);
            }
        }
    }
});
