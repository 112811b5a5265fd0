//! `StreamReader` fed arbitrary bytes in arbitrary chunk splits.
//!
//! Input layout (so that mutations of the first bytes explore limits and fragmentation):
//!
//! * byte 0: `max_depth` (1..=40),
//! * byte 1: `max_stanza_bytes` (one of a few sizes, from tiny to the 256 KiB default),
//! * byte 2: `max_header_bytes` (likewise),
//! * byte 3: low 4 bits = number of explicit split points `n`; bit 4 = feed the rest one byte at a
//!   time; bit 5 = feed a trailing `</stream:stream>` after everything,
//! * bytes 4..4+n: chunk lengths (0 = call `restart()` here, as after SASL success),
//! * the rest: the stream itself.
//!
//! Checked on every input, besides "never panics":
//!
//! * after an error, every later `feed` (and after `restart`) returns that same error, and
//!   `error()` reports it;
//! * no stanza is deeper than `max_depth`, and no stanza carries more name/attribute/text bytes
//!   than `max_stanza_bytes` (decoded XML is never longer than its encoding);
//! * `pending_bytes()` never exceeds the limit in force;
//! * events come in order: at most one header per (re)start, stanzas only after a header,
//!   nothing after the end of the stream;
//! * fragmentation does not matter: when no restart is involved, the split feed gives the same
//!   events as one feed of the whole input, and fails when that fails (the error itself may
//!   differ: which problem rxml sees first can depend on where a chunk ends; and an error may be
//!   deferred while a token is unfinished, so a reader that has not failed at the end of the input
//!   must still be holding pending bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use linnet_xmpp::Element;
use linnet_xmpp::xml::{Limits, StreamEvent, StreamReader, XmlError};

const STANZA_SIZES: [usize; 6] = [1, 64, 512, 4096, 65536, 256 * 1024];
const HEADER_SIZES: [usize; 4] = [16, 256, 1024, 8 * 1024];

/// Depth of the tree and the bytes of names, attribute names and values and text in it,
/// without recursion.
fn measure(el: &Element) -> (usize, usize) {
    let mut max_depth = 0;
    let mut bytes = 0;
    let mut todo = vec![(el, 1usize)];
    while let Some((e, depth)) = todo.pop() {
        max_depth = max_depth.max(depth);
        bytes += e.name().len();
        for ((_, key), value) in e.attrs() {
            bytes += key.len() + value.len();
        }
        for t in e.texts() {
            bytes += t.len();
        }
        for c in e.children() {
            todo.push((c, depth + 1));
        }
    }
    (max_depth, bytes)
}

/// Tracks the order of events for one reader.
#[derive(Default)]
struct Order {
    header_seen: bool,
    ended: bool,
}

impl Order {
    fn restart(&mut self) {
        *self = Self::default();
    }

    fn check(&mut self, ev: &StreamEvent, limits: &Limits) {
        assert!(!self.ended, "event after the end of the stream: {ev:?}");
        match ev {
            StreamEvent::Header(_) => {
                assert!(!self.header_seen, "second header without a restart");
                self.header_seen = true;
            }
            StreamEvent::Stanza(el) => {
                assert!(self.header_seen, "stanza before the header");
                let (depth, bytes) = measure(el);
                assert!(
                    depth <= limits.max_depth,
                    "stanza of depth {depth} > {}",
                    limits.max_depth
                );
                assert!(
                    bytes <= limits.max_stanza_bytes,
                    "stanza with {bytes} content bytes > {}",
                    limits.max_stanza_bytes
                );
            }
            StreamEvent::End => {
                assert!(self.header_seen, "end before the header");
                self.ended = true;
            }
        }
    }
}

fn check_pending(r: &StreamReader) {
    let l = r.limits();
    let max = l.max_stanza_bytes.max(l.max_header_bytes);
    assert!(
        r.pending_bytes() <= max,
        "{} pending bytes > {max}",
        r.pending_bytes()
    );
}

/// Feeds `bytes` and checks the invariants; returns the events, or the error.
fn feed(
    r: &mut StreamReader,
    order: &mut Order,
    dead: &mut Option<XmlError>,
    bytes: &[u8],
) -> Option<Vec<StreamEvent>> {
    let res = r.feed(bytes);
    if let Some(e) = dead {
        assert_eq!(
            res.as_ref(),
            Err(&*e),
            "a dead reader must return its error again"
        );
        return None;
    }
    match res {
        Ok(evs) => {
            let limits = *r.limits();
            for ev in &evs {
                order.check(ev, &limits);
            }
            assert!(r.error().is_none());
            check_pending(r);
            Some(evs)
        }
        Err(e) => {
            assert_eq!(r.error(), Some(&e), "error() must report the fatal error");
            *dead = Some(e);
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [b_depth, b_stanza, b_header, b_mode, rest @ ..] = data else {
        return;
    };
    let limits = Limits {
        max_depth: 1 + usize::from(*b_depth) % 40,
        max_stanza_bytes: STANZA_SIZES[usize::from(*b_stanza) % STANZA_SIZES.len()],
        max_header_bytes: HEADER_SIZES[usize::from(*b_header) % HEADER_SIZES.len()],
    };
    let n_splits = usize::from(b_mode & 0x0f).min(rest.len());
    let bytewise = b_mode & 0x10 != 0;
    let close = b_mode & 0x20 != 0;
    let (splits, stream) = rest.split_at(n_splits);

    let mut r = StreamReader::new(limits);
    let mut order = Order::default();
    let mut dead: Option<XmlError> = None;
    let mut events = Vec::new();
    let mut restarted = false;

    let mut pos = 0;
    for &len in splits {
        if len == 0 {
            r.restart();
            order.restart();
            restarted = true;
            assert_eq!(r.pending_bytes(), 0);
            continue;
        }
        let end = (pos + usize::from(len)).min(stream.len());
        if let Some(evs) = feed(&mut r, &mut order, &mut dead, &stream[pos..end]) {
            events.extend(evs);
        }
        pos = end;
    }
    let tail = &stream[pos..];
    if bytewise {
        for b in tail {
            if let Some(evs) = feed(&mut r, &mut order, &mut dead, std::slice::from_ref(b)) {
                events.extend(evs);
            }
        }
    } else if let Some(evs) = feed(&mut r, &mut order, &mut dead, tail) {
        events.extend(evs);
    }
    if close && let Some(evs) = feed(&mut r, &mut order, &mut dead, b"</stream:stream>") {
        events.extend(evs);
    }

    // Dead for good: feeding more, or restarting, changes nothing.
    if let Some(e) = &dead {
        assert_eq!(r.feed(b"<presence/>").as_ref(), Err(e));
        r.restart();
        assert_eq!(r.feed(b"").as_ref(), Err(e));
        assert_eq!(r.error(), Some(e));
    }

    // Fragmentation independence: the same bytes in one piece.
    if !restarted {
        let mut whole = StreamReader::new(limits);
        let mut all = stream.to_vec();
        if close {
            all.extend_from_slice(b"</stream:stream>");
        }
        match (whole.feed(&all), &dead) {
            (Ok(evs), None) => assert_eq!(evs, events, "split and whole feed disagree"),
            // Which error is reported first may depend on the split: rxml decides some things
            // (the type of a token, a UTF-8 sequence) only once it sees the next bytes, e.g.
            // "a" then NUL is an invalid code point, "a\0" in one piece is text before the root.
            (Err(_), Some(_)) => {}
            // rxml may defer an error until a token ends: at the end of the input, the reader
            // that has not failed yet must at least still be waiting for the rest of a token.
            (Ok(_), Some(d)) => assert!(
                whole.pending_bytes() > 0,
                "only the split feed failed: {d:?}"
            ),
            (Err(e), None) => assert!(r.pending_bytes() > 0, "only the whole feed failed: {e:?}"),
        }
    }
});
