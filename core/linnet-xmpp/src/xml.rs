//! The incoming XML stream reader with limits, and stream writing helpers.
//!
//! # Why our own reader
//!
//! `xso`/`minidom` build element trees by recursing once per nesting level, with no depth limit,
//! and nothing in the stack limits the size of a stanza: a deeply nested or huge stanza from the
//! network can abort the process or exhaust memory (see `security.md` items 14-16). So every byte
//! from the server goes through [`StreamReader`] first, which
//!
//! * drives `rxml`'s push parser (restricted XML: no DOCTYPE, no entity declarations, no custom
//!   entity references, no processing instructions, no comments, UTF-8 only),
//! * counts the bytes of the stanza under construction *as they are consumed* (before the element
//!   head is even complete, so an endless attribute list or text node is caught too) and rejects a
//!   stanza over [`Limits::max_stanza_bytes`],
//! * counts the nesting depth and rejects a stanza deeper than [`Limits::max_depth`],
//! * builds the `minidom::Element` itself with an explicit stack (never recursion),
//! * treats every error as fatal: the reader stays dead and returns the same error again, it never
//!   resynchronises (stanza smuggling relies on parsers that recover).
//!
//! Only complete stanzas that passed these checks are handed out; converting them into
//! `xmpp_parsers` types (which recurses) is then bounded by the depth limit.
//!
//! # Namespaces
//!
//! `rxml` resolves namespaces itself: a stanza without its own `xmlns` inherits the default
//! namespace declared on the stream header (`jabber:client`, or `jabber:component:accept` on a
//! component stream), and `stream:features` / `stream:error` come out in [`NS_STREAMS`]. `rxml`
//! does not expose the namespace *declarations* of the header, so [`StreamHeader`] does not carry
//! the default namespace; it shows up as the namespace of every unprefixed stanza, which is what
//! the `xmpp_parsers` conversions check.

use std::fmt;

use minidom::Element;
use rxml::error::{EndOrError, Error as RxmlError};
use rxml::writer::{Encoder, Item};
use rxml::{Event, Namespace, NcNameStr, Parse as _, Parser};

/// The namespace of the stream element and of `stream:features` / `stream:error`.
pub const NS_STREAMS: &str = "http://etherx.jabber.org/streams";
/// The default namespace of a client-to-server stream.
pub const NS_CLIENT: &str = "jabber:client";
/// What we send to close our stream.
pub const STREAM_CLOSE: &str = "</stream:stream>";

/// Bytes handed to the parser per call, so the size limit is checked at least this often even
/// when a caller feeds a large buffer at once.
const FEED_CHUNK: usize = 4096;

/// Limits enforced on incoming XML before any tree is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of one stanza (or nonza) in bytes as received, including any whitespace that
    /// precedes it. Default 256 KiB, the limit Prosody and ejabberd use.
    pub max_stanza_bytes: usize,
    /// Maximum nesting depth, counted from the stanza element (the stanza itself is depth 1).
    /// Default 32. This also bounds the recursion of later tree walks (`xmpp_parsers`
    /// conversions, dropping the tree), so keep it small.
    pub max_depth: usize,
    /// Maximum size of the stream header, including the XML declaration. Default 8 KiB.
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_stanza_bytes: 256 * 1024,
            max_depth: 32,
            max_header_bytes: 8 * 1024,
        }
    }
}

/// The attributes of a received `<stream:stream>` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHeader {
    /// `from`: the server's domain.
    pub from: Option<String>,
    /// `to`: our JID, as the server saw it.
    pub to: Option<String>,
    /// `id`: the stream id.
    pub id: Option<String>,
    /// `version`: "1.0" for a modern server.
    pub version: Option<String>,
    /// `xml:lang`: the default language of the stream.
    pub lang: Option<String>,
}

/// What [`StreamReader::feed`] produces.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The server's stream header (once at the start and once after each restart).
    Header(StreamHeader),
    /// A complete top-level element: a stanza or a nonza (features, SASL, SM, ...).
    Stanza(Element),
    /// The server closed its stream (`</stream:stream>`).
    End,
}

/// A fatal problem with the incoming stream. After one of these the stream is dead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed or namespace-well-formed XML, or XML the stream does not allow here.
    #[error("XML syntax error: {0}")]
    Syntax(String),
    /// A stanza grew past [`Limits::max_stanza_bytes`].
    #[error("stanza larger than {limit} bytes")]
    StanzaTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The stream header grew past [`Limits::max_header_bytes`].
    #[error("stream header larger than {limit} bytes")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A stanza nested deeper than [`Limits::max_depth`].
    #[error("stanza nested deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A construct XMPP forbids (RFC 6120 section 11.1): DOCTYPE and other markup declarations,
    /// entity references other than the predefined five, processing instructions, comments.
    #[error("forbidden XML construct: {0}")]
    Forbidden(&'static str),
    /// The bytes are not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// A second `<stream:stream>` header inside the stream.
    #[error("stream header inside the stream")]
    UnexpectedHeader,
    /// The first element is not `stream` in `http://etherx.jabber.org/streams`.
    #[error("not an XMPP stream")]
    NotAStream,
    /// An outgoing stanza is larger than the limit (checked locally, before sending).
    #[error("outgoing stanza of {size} bytes is larger than {limit} bytes")]
    OutgoingTooLarge {
        /// Size of the serialised stanza.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// An element could not be serialised (invalid name or character, reserved namespace, ...).
    #[error("cannot serialise element: {0}")]
    Serialize(String),
}

impl From<RxmlError> for XmlError {
    fn from(e: RxmlError) -> Self {
        match e {
            RxmlError::InvalidUtf8Byte(_) => Self::InvalidUtf8,
            RxmlError::RestrictedXml("comments") => Self::Forbidden("comment"),
            RxmlError::RestrictedXml("processing instructions") => {
                Self::Forbidden("processing instruction")
            }
            RxmlError::UndeclaredEntity => Self::Forbidden("entity reference"),
            // rxml's lexer only knows `<!--` and `<![CDATA[` after `<!`; anything else
            // (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT`, `<!ATTLIST`) ends up here.
            RxmlError::InvalidSyntax("malformed cdata or comment section start") => {
                Self::Forbidden("DOCTYPE or markup declaration")
            }
            other => Self::Syntax(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the `<stream:stream>` start tag (XML declaration allowed).
    Header,
    /// Inside the stream: stanzas and whitespace.
    Stream,
    /// After `</stream:stream>`.
    Closed,
}

/// Incremental reader for an incoming XMPP stream. See the module documentation.
pub struct StreamReader {
    limits: Limits,
    parser: Parser,
    phase: Phase,
    /// The stanza under construction: `stack[0]` is the stanza element, the last entry the
    /// innermost open element. Its length is the current depth inside the stanza.
    stack: Vec<Element>,
    /// Bytes the parser has consumed since the last (re)start.
    consumed: usize,
    /// Value of `consumed` at the end of the last complete unit (header, stanza, whitespace):
    /// `consumed - mark` is the size of what is being received now.
    mark: usize,
    /// Set on the first error; every later call returns it again.
    error: Option<XmlError>,
}

impl fmt::Debug for StreamReader {
    // Manual: the partial stanza may hold message text, which has no place in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("limits", &self.limits)
            .field("phase", &self.phase)
            .field("depth", &self.stack.len())
            .field("pending_bytes", &self.pending_bytes())
            .field("error", &self.error)
            .finish()
    }
}

fn new_parser() -> Parser {
    // The default options reject comments. Text buffering is off so that text (in particular a
    // whitespace keep-alive between stanzas) comes out as soon as it arrives instead of waiting
    // for the next `<`; otherwise keep-alives would add up towards the stanza size limit.
    let mut parser = Parser::new();
    parser.set_text_buffering(false);
    parser
}

fn is_xml_whitespace(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

impl StreamReader {
    /// A reader expecting a stream header.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            parser: new_parser(),
            phase: Phase::Header,
            stack: Vec::new(),
            consumed: 0,
            mark: 0,
            error: None,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The error that killed this stream, if any.
    pub fn error(&self) -> Option<&XmlError> {
        self.error.as_ref()
    }

    /// Bytes received that are not yet part of a complete event (a partial stanza or header,
    /// pending whitespace). Zero right after a complete stanza unless more bytes followed it in
    /// the same chunk. A session can use it to refuse data pipelined after `<proceed/>` (STARTTLS
    /// injection): [`restart`](Self::restart) discards such bytes.
    pub fn pending_bytes(&self) -> usize {
        self.consumed.saturating_sub(self.mark)
    }

    /// Stream restart after STARTTLS or SASL success: a fresh parser expecting a new header.
    /// Anything buffered from the old stream is discarded. A dead reader stays dead: the error is
    /// kept (the connection has to go).
    pub fn restart(&mut self) {
        self.parser = new_parser();
        self.phase = Phase::Header;
        self.stack.clear();
        self.consumed = 0;
        self.mark = 0;
    }

    /// Feed bytes as they arrive (any fragmentation, even one byte at a time, even split inside a
    /// UTF-8 sequence); returns the complete events.
    ///
    /// On an error, events decoded from the same call are dropped (the stream is dead anyway),
    /// and every later call returns the same error.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<StreamEvent>, XmlError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut out = Vec::new();
        match self.feed_inner(bytes, &mut out) {
            Ok(()) => Ok(out),
            Err(e) => {
                self.error = Some(e.clone());
                self.stack.clear();
                // Free the parser's buffers too.
                self.parser = new_parser();
                Err(e)
            }
        }
    }

    fn feed_inner(&mut self, bytes: &[u8], out: &mut Vec<StreamEvent>) -> Result<(), XmlError> {
        for chunk in bytes.chunks(FEED_CHUNK) {
            let mut buf = chunk;
            loop {
                let before = buf.len();
                let result = self.parser.parse(&mut buf, false);
                let used = before.saturating_sub(buf.len());
                self.consumed = self.consumed.saturating_add(used);
                // Check before handling the event: a completed stanza resets the count.
                self.check_window()?;
                match result {
                    Ok(Some(ev)) => self.handle(ev, out)?,
                    // End of document; with `at_eof == false` rxml reports this only after the
                    // root element, where we are `Closed` already.
                    Ok(None) => break,
                    Err(EndOrError::NeedMoreData) => {
                        if buf.is_empty() {
                            break;
                        }
                        if used == 0 {
                            return Err(XmlError::Syntax("parser made no progress".into()));
                        }
                        continue;
                    }
                    Err(EndOrError::Error(e)) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    fn check_window(&self) -> Result<(), XmlError> {
        let window = self.pending_bytes();
        match self.phase {
            Phase::Header if window > self.limits.max_header_bytes => {
                Err(XmlError::HeaderTooLarge {
                    limit: self.limits.max_header_bytes,
                })
            }
            Phase::Stream if window > self.limits.max_stanza_bytes => {
                Err(XmlError::StanzaTooLarge {
                    limit: self.limits.max_stanza_bytes,
                })
            }
            _ => Ok(()),
        }
    }

    fn handle(&mut self, ev: Event, out: &mut Vec<StreamEvent>) -> Result<(), XmlError> {
        match self.phase {
            Phase::Header => match ev {
                Event::XmlDeclaration(..) => Ok(()),
                Event::StartElement(_, (ns, name), attrs) => {
                    if ns.as_str() != NS_STREAMS || name.as_str() != "stream" {
                        return Err(XmlError::NotAStream);
                    }
                    let get = |key: &str| attrs.get(Namespace::none(), key).cloned();
                    let header = StreamHeader {
                        from: get("from"),
                        to: get("to"),
                        id: get("id"),
                        version: get("version"),
                        lang: attrs.get(Namespace::xml(), "lang").cloned(),
                    };
                    out.push(StreamEvent::Header(header));
                    self.phase = Phase::Stream;
                    self.mark = self.consumed;
                    Ok(())
                }
                // Anything before the stream header is refused, whitespace and a byte-order
                // mark included (XML would allow them without a declaration; no server sends
                // them, and refusing keeps the header the first thing we act on).
                Event::Text(..) | Event::EndElement(..) => {
                    Err(XmlError::Syntax("content before the stream header".into()))
                }
            },
            Phase::Stream => match ev {
                Event::StartElement(_, (ns, name), attrs) => {
                    if self.stack.is_empty() && ns.as_str() == NS_STREAMS && name == "stream" {
                        return Err(XmlError::UnexpectedHeader);
                    }
                    let depth = self.stack.len().saturating_add(1);
                    if depth > self.limits.max_depth {
                        return Err(XmlError::TooDeep {
                            limit: self.limits.max_depth,
                        });
                    }
                    let mut el = Element::bare(name.as_str(), String::from(ns));
                    *el.attrs_mut() = attrs;
                    self.stack.push(el);
                    Ok(())
                }
                Event::Text(_, text) => {
                    if let Some(top) = self.stack.last_mut() {
                        top.append_text(text);
                        Ok(())
                    } else if is_xml_whitespace(&text) {
                        // Whitespace keep-alive between stanzas.
                        self.mark = self.consumed;
                        Ok(())
                    } else {
                        Err(XmlError::Syntax("text between stanzas".into()))
                    }
                }
                Event::EndElement(_) => {
                    match self.stack.pop() {
                        None => {
                            self.phase = Phase::Closed;
                            self.mark = self.consumed;
                            out.push(StreamEvent::End);
                        }
                        Some(el) => match self.stack.last_mut() {
                            Some(parent) => {
                                parent.append_child(el);
                            }
                            None => {
                                self.mark = self.consumed;
                                out.push(StreamEvent::Stanza(el));
                            }
                        },
                    }
                    Ok(())
                }
                // rxml only accepts `<?xml` at the very start and reports a later one as a
                // processing instruction; map it here should that ever change.
                Event::XmlDeclaration(..) => Err(XmlError::UnexpectedHeader),
            },
            Phase::Closed => Err(XmlError::Syntax("data after the end of the stream".into())),
        }
    }
}

/// Escape a string for an attribute value delimited by `'`. Characters XML 1.0 does not allow
/// (C0 controls other than tab, LF and CR) become U+FFFD.
fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Our stream header for a client-to-server stream: XML declaration, `jabber:client` default
/// namespace, `version='1.0'`. `to` is the server's domain, `from` our bare JID (RFC 6120 4.7.1:
/// send it once TLS protects the stream), `lang` our `xml:lang`. Values are escaped; callers pass
/// validated JIDs.
pub fn stream_header(to: &str, from: Option<&str>, lang: &str) -> String {
    let mut s = String::with_capacity(200);
    s.push_str("<?xml version='1.0'?><stream:stream xmlns='");
    s.push_str(NS_CLIENT);
    s.push_str("' xmlns:stream='");
    s.push_str(NS_STREAMS);
    s.push_str("' to='");
    s.push_str(&escape_attr(to));
    s.push('\'');
    if let Some(from) = from {
        s.push_str(" from='");
        s.push_str(&escape_attr(from));
        s.push('\'');
    }
    s.push_str(" version='1.0' xml:lang='");
    s.push_str(&escape_attr(lang));
    s.push_str("'>");
    s
}

fn ser_err(e: impl fmt::Display) -> XmlError {
    XmlError::Serialize(e.to_string())
}

/// Serialise a stanza for sending on a `jabber:client` stream.
///
/// The encoder is primed as if inside our stream, so an element in `jabber:client` gets no
/// redundant `xmlns`; other namespaces are declared where they start. Iterative (no recursion),
/// and every problem is an error rather than a panic: invalid names, characters XML cannot carry,
/// elements in the reserved `xmlns` namespace, and `xmlns` attributes (minidom keeps namespace
/// declarations separately; one smuggled in as an attribute could redefine the namespace).
pub fn element_to_string(el: &Element) -> Result<String, XmlError> {
    enum Step<'a> {
        Open(&'a Element),
        Text(&'a str),
        Close,
    }

    let mut enc = Encoder::new();
    let mut scratch: Vec<u8> = Vec::new();
    let stream_name: &NcNameStr = "stream".try_into().map_err(ser_err)?;
    enc.encode(
        Item::ElementHeadStart(Namespace::from_str(NS_CLIENT), stream_name),
        &mut scratch,
    )
    .map_err(ser_err)?;
    enc.encode(Item::ElementHeadEnd, &mut scratch)
        .map_err(ser_err)?;

    let mut out: Vec<u8> = Vec::new();
    let mut steps = vec![Step::Open(el)];
    while let Some(step) = steps.pop() {
        match step {
            Step::Open(e) => {
                let ns = e.ns();
                if ns == rxml::XMLNS_XMLNS || ns == rxml::XMLNS_XML {
                    return Err(XmlError::Serialize(format!(
                        "element {} in reserved namespace {ns}",
                        e.name()
                    )));
                }
                let name: &NcNameStr = e.name().try_into().map_err(ser_err)?;
                enc.encode(Item::ElementHeadStart(Namespace::from(ns), name), &mut out)
                    .map_err(ser_err)?;
                for ((attr_ns, key), value) in e.attrs() {
                    if *attr_ns == rxml::XMLNS_XMLNS || (attr_ns.is_none() && key == "xmlns") {
                        return Err(XmlError::Serialize(
                            "namespace declaration as attribute".into(),
                        ));
                    }
                    enc.encode(Item::Attribute(attr_ns.borrow(), key, value), &mut out)
                        .map_err(ser_err)?;
                }
                if e.nodes().len() == 0 {
                    enc.encode(Item::ElementFoot, &mut out).map_err(ser_err)?;
                } else {
                    enc.encode(Item::ElementHeadEnd, &mut out)
                        .map_err(ser_err)?;
                    steps.push(Step::Close);
                    for node in e.nodes().rev() {
                        steps.push(match node {
                            minidom::Node::Element(child) => Step::Open(child),
                            minidom::Node::Text(text) => Step::Text(text),
                        });
                    }
                }
            }
            Step::Text(text) => {
                enc.encode(Item::Text(text), &mut out).map_err(ser_err)?;
            }
            Step::Close => {
                enc.encode(Item::ElementFoot, &mut out).map_err(ser_err)?;
            }
        }
    }
    String::from_utf8(out).map_err(ser_err)
}

/// Refuse to send something larger than the stanza limit: the server would kill the stream, and
/// a retry after reconnecting would do the same again.
pub fn check_outgoing_size(s: &str, limits: &Limits) -> Result<(), XmlError> {
    if s.len() > limits.max_stanza_bytes {
        return Err(XmlError::OutgoingTooLarge {
            size: s.len(),
            limit: limits.max_stanza_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' from='example.test' \
        id='abc123' version='1.0' xml:lang='en'>";

    fn transcript() -> String {
        let mut s = String::from(HEADER);
        s.push_str(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>\
             </stream:features>",
        );
        s.push_str(
            "<message from='juliet@example.test/balcony' to='romeo@example.test' type='chat' \
             id='m1' xml:lang='de'><body>Grüße, Ромео! 日本語 🐦 &amp; &lt;3 &#x1F426;</body>\
             <active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        );
        s.push_str("\n  \r\n\t");
        s.push_str(
            "<presence from='juliet@example.test/balcony'><show>away</show>\
             <status>é</status><priority>5</priority></presence>",
        );
        s.push(' ');
        s.push_str("<iq type='get' id='q1' from='example.test'><ping xmlns='urn:xmpp:ping'/></iq>");
        s.push_str("\n</stream:stream>");
        s
    }

    fn reader() -> StreamReader {
        StreamReader::new(Limits::default())
    }

    fn feed_all(r: &mut StreamReader, pieces: &[&[u8]]) -> Result<Vec<StreamEvent>, XmlError> {
        let mut out = Vec::new();
        for p in pieces {
            out.extend(r.feed(p)?);
        }
        Ok(out)
    }

    fn stanza(ev: &StreamEvent) -> &Element {
        match ev {
            StreamEvent::Stanza(el) => el,
            other => panic!("expected a stanza, got {other:?}"),
        }
    }

    /// Header, then `body`, fed in one piece; returns the result of feeding `body`.
    fn after_header(body: &[u8]) -> (StreamReader, Result<Vec<StreamEvent>, XmlError>) {
        let mut r = reader();
        let evs = r.feed(HEADER.as_bytes()).unwrap();
        assert!(matches!(evs.as_slice(), [StreamEvent::Header(_)]));
        let res = r.feed(body);
        (r, res)
    }

    fn nested(depth: usize) -> String {
        // `depth` levels including the <message/> stanza element itself.
        let inner = depth - 1;
        let mut s = String::from("<message>");
        s.push_str(&"<a>".repeat(inner));
        s.push('x');
        s.push_str(&"</a>".repeat(inner));
        s.push_str("</message>");
        s
    }

    #[test]
    fn transcript_events() {
        let t = transcript();
        let mut r = reader();
        let evs = r.feed(t.as_bytes()).unwrap();
        assert_eq!(evs.len(), 6, "{evs:?}");
        assert_eq!(
            evs[0],
            StreamEvent::Header(StreamHeader {
                from: Some("example.test".into()),
                to: None,
                id: Some("abc123".into()),
                version: Some("1.0".into()),
                lang: Some("en".into()),
            })
        );
        let features = stanza(&evs[1]);
        assert!(features.is("features", NS_STREAMS));
        let mechs = features
            .get_child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")
            .unwrap();
        let names: Vec<String> = mechs.children().map(|c| c.text()).collect();
        assert_eq!(names, ["SCRAM-SHA-1", "PLAIN"]);

        let msg = stanza(&evs[2]);
        assert!(msg.is("message", NS_CLIENT));
        assert_eq!(msg.attr("type"), Some("chat"));
        assert_eq!(msg.attr_ns(rxml::XMLNS_XML, "lang"), Some("de"));
        let body = msg.get_child("body", NS_CLIENT).unwrap();
        assert_eq!(body.text(), "Grüße, Ромео! 日本語 🐦 & <3 🐦");
        assert!(msg.has_child("active", "http://jabber.org/protocol/chatstates"));

        assert!(stanza(&evs[3]).is("presence", NS_CLIENT));
        assert!(stanza(&evs[4]).is("iq", NS_CLIENT));
        assert_eq!(evs[5], StreamEvent::End);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn fragmentation_at_every_offset_gives_the_same_events() {
        let t = transcript();
        let bytes = t.as_bytes();
        let reference = reader().feed(bytes).unwrap();
        assert_eq!(reference.len(), 6);

        for i in 0..=bytes.len() {
            let mut r = reader();
            let evs = feed_all(&mut r, &[&bytes[..i], &bytes[i..]])
                .unwrap_or_else(|e| panic!("split at {i}: {e}"));
            assert_eq!(evs, reference, "split at {i}");
        }

        // One byte at a time: splits inside every UTF-8 sequence too.
        let mut r = reader();
        let mut evs = Vec::new();
        for b in bytes {
            evs.extend(r.feed(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(evs, reference);

        // Three pieces at a spread of offsets.
        for i in (0..bytes.len()).step_by(7) {
            for j in (i..=bytes.len()).step_by(13) {
                let mut r = reader();
                let evs = feed_all(&mut r, &[&bytes[..i], &bytes[i..j], &bytes[j..]]).unwrap();
                assert_eq!(evs, reference, "split at {i} and {j}");
            }
        }
    }

    #[test]
    fn depth_32_accepted_33_rejected() {
        let (_, res) = after_header(nested(32).as_bytes());
        let evs = res.unwrap();
        assert_eq!(evs.len(), 1);
        let mut el = stanza(&evs[0]);
        let mut depth = 1;
        while let Some(child) = el.children().next() {
            el = child;
            depth += 1;
        }
        assert_eq!(depth, 32);
        assert_eq!(el.text(), "x");

        let (mut r, res) = after_header(nested(33).as_bytes());
        assert_eq!(res, Err(XmlError::TooDeep { limit: 32 }));
        assert_eq!(r.feed(b"<presence/>"), Err(XmlError::TooDeep { limit: 32 }));
    }

    #[test]
    fn depth_100000_rejected_quickly_on_a_small_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut input = String::from(HEADER);
                input.push_str("<message>");
                input.push_str(&"<a>".repeat(100_000));
                let limits = Limits {
                    max_stanza_bytes: 16 * 1024 * 1024,
                    ..Limits::default()
                };
                let mut r = StreamReader::new(limits);
                let res = r.feed(input.as_bytes());
                assert_eq!(res, Err(XmlError::TooDeep { limit: 32 }));
                // Also with a limit high enough to let the whole thing be parsed: the reader
                // must not recurse anywhere.
                let limits = Limits {
                    max_stanza_bytes: 16 * 1024 * 1024,
                    max_depth: 200_000,
                    ..Limits::default()
                };
                let mut r = StreamReader::new(limits);
                assert_eq!(r.feed(input.as_bytes()).unwrap().len(), 1);
                drop(r);
            })
            .unwrap();
        // The point is the small stack: a recursive reader would overflow it and abort.
        handle.join().expect("no stack overflow");
    }

    #[test]
    fn oversized_text_rejected_while_arriving_slowly() {
        let limit = 256 * 1024;
        let mut r = reader();
        r.feed(HEADER.as_bytes()).unwrap();
        r.feed(b"<message><body>").unwrap();
        let piece = [b'a'; 100];
        let mut fed = 0usize;
        let err = loop {
            match r.feed(&piece) {
                Ok(evs) => assert!(evs.is_empty()),
                Err(e) => break e,
            }
            fed += piece.len();
            assert!(fed < 2 * limit, "never rejected");
        };
        assert_eq!(err, XmlError::StanzaTooLarge { limit });
        // Rejected as soon as the limit was crossed, not at the end of the text.
        assert!(fed <= limit, "fed {fed}");
        assert_eq!(r.feed(b"</body></message>"), Err(err));
    }

    #[test]
    fn oversized_stanza_in_one_feed_rejected() {
        let mut s = String::from("<message><body>");
        s.push_str(&"é".repeat(200 * 1024));
        s.push_str("</body></message>");
        let (_, res) = after_header(s.as_bytes());
        assert_eq!(res, Err(XmlError::StanzaTooLarge { limit: 256 * 1024 }));
    }

    #[test]
    fn endless_element_head_rejected() {
        // Never closes its start tag: no event would ever come out of the parser.
        let mut r = reader();
        r.feed(HEADER.as_bytes()).unwrap();
        r.feed(b"<message").unwrap();
        let mut i = 0u32;
        let err = loop {
            match r.feed(format!(" a{i}='xxxxxxxxxx'").as_bytes()) {
                Ok(evs) => assert!(evs.is_empty()),
                Err(e) => break e,
            }
            i += 1;
            assert!(i < 100_000, "never rejected");
        };
        assert_eq!(err, XmlError::StanzaTooLarge { limit: 256 * 1024 });
    }

    #[test]
    fn stanza_size_limit_is_exact() {
        let st = "<message><body>hello</body></message>";
        for (limit, ok) in [(st.len(), true), (st.len() - 1, false)] {
            let mut r = StreamReader::new(Limits {
                max_stanza_bytes: limit,
                ..Limits::default()
            });
            r.feed(HEADER.as_bytes()).unwrap();
            let res = r.feed(st.as_bytes());
            assert_eq!(res.is_ok(), ok, "limit {limit}: {res:?}");
            if ok {
                // Many stanzas and keep-alives in a row: the count restarts for each.
                for _ in 0..1000 {
                    assert_eq!(r.feed(st.as_bytes()).unwrap().len(), 1);
                    assert_eq!(r.feed(b" ").unwrap().len(), 0);
                }
                assert_eq!(r.feed(b"</stream:stream>").unwrap(), [StreamEvent::End]);
            }
        }
    }

    #[test]
    fn whitespace_keepalives_never_add_up() {
        let mut r = StreamReader::new(Limits {
            max_stanza_bytes: 64,
            ..Limits::default()
        });
        r.feed(HEADER.as_bytes()).unwrap();
        for _ in 0..10_000 {
            assert!(r.feed(b" ").unwrap().is_empty());
        }
        assert_eq!(r.feed(b"<presence/>").unwrap().len(), 1);
    }

    #[test]
    fn header_too_large() {
        let mut r = reader();
        let mut h = String::from("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'");
        for i in 0..1000 {
            h.push_str(&format!(" a{i}='v'"));
        }
        assert_eq!(
            r.feed(h.as_bytes()),
            Err(XmlError::HeaderTooLarge { limit: 8 * 1024 })
        );
    }

    #[test]
    fn forbidden_constructs() {
        let cases: &[(&str, &[u8], XmlError)] = &[
            (
                "doctype before the header",
                b"<?xml version='1.0'?><!DOCTYPE stream>",
                XmlError::Forbidden("DOCTYPE or markup declaration"),
            ),
            (
                "entity declaration",
                b"<?xml version='1.0'?><!DOCTYPE s [<!ENTITY x 'y'>]>",
                XmlError::Forbidden("DOCTYPE or markup declaration"),
            ),
            (
                "comment before the header",
                b"<!-- hi --><stream:stream/>",
                XmlError::Forbidden("comment"),
            ),
            (
                "processing instruction before the header",
                b"<?php echo 1 ?><stream:stream/>",
                XmlError::Forbidden("processing instruction"),
            ),
        ];
        for (what, input, want) in cases {
            let mut r = reader();
            assert_eq!(r.feed(input).as_ref(), Err(want), "{what}");
        }

        let cases: &[(&str, &[u8], XmlError)] = &[
            (
                "doctype in the stream",
                b"<!DOCTYPE message>",
                XmlError::Forbidden("DOCTYPE or markup declaration"),
            ),
            (
                "entity declaration in the stream",
                b"<!ENTITY lol 'lol'>",
                XmlError::Forbidden("DOCTYPE or markup declaration"),
            ),
            (
                "custom entity reference",
                b"<message><body>&lol;</body></message>",
                XmlError::Forbidden("entity reference"),
            ),
            (
                "external entity reference in an attribute",
                b"<message to='&xxe;'/>",
                XmlError::Forbidden("entity reference"),
            ),
            (
                "processing instruction between stanzas",
                b"<?foo bar?>",
                XmlError::Forbidden("processing instruction"),
            ),
            (
                "processing instruction in a stanza",
                b"<message><?foo bar?></message>",
                XmlError::Forbidden("processing instruction"),
            ),
            (
                "comment between stanzas",
                b"<!-- keepalive -->",
                XmlError::Forbidden("comment"),
            ),
            (
                "comment in a stanza",
                b"<message><body>a<!-- b -->c</body></message>",
                XmlError::Forbidden("comment"),
            ),
            (
                "second header",
                b"<stream:stream xmlns='jabber:client' \
                  xmlns:stream='http://etherx.jabber.org/streams'>",
                XmlError::UnexpectedHeader,
            ),
            (
                "second header with its own prefix declaration",
                b"<s:stream xmlns:s='http://etherx.jabber.org/streams'>",
                XmlError::UnexpectedHeader,
            ),
            (
                "text between stanzas",
                b"hello<presence/>",
                XmlError::Syntax("text between stanzas".into()),
            ),
        ];
        for (what, input, want) in cases {
            let (mut r, res) = after_header(input);
            assert_eq!(res.as_ref(), Err(want), "{what}");
            // Dead for good, whatever comes next.
            assert_eq!(r.feed(b"<presence/>").as_ref(), Err(want), "{what}");
            r.restart();
            assert_eq!(r.feed(HEADER.as_bytes()).as_ref(), Err(want), "{what}");
        }
    }

    #[test]
    fn second_xml_declaration_is_fatal() {
        let (_, res) = after_header(b"<?xml version='1.0'?><stream:stream>");
        assert_eq!(res, Err(XmlError::Forbidden("processing instruction")));
    }

    #[test]
    fn predefined_entities_and_cdata_are_fine() {
        let (_, res) = after_header(
            b"<message><body>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;<![CDATA[<x>&]]></body></message>",
        );
        let evs = res.unwrap();
        let body = stanza(&evs[0]).get_child("body", NS_CLIENT).unwrap();
        assert_eq!(body.text(), "<>&'\"AB<x>&");
    }

    #[test]
    fn invalid_utf8_is_fatal() {
        let cases: &[(&str, &[u8])] = &[
            ("0xff in text", b"<message><body>a\xffb</body></message>"),
            (
                "overlong slash",
                b"<message><body>\xc0\xaf</body></message>",
            ),
            ("surrogate", b"<message><body>\xed\xa0\x80</body></message>"),
            (
                "truncated sequence",
                b"<message><body>\xe6\x97</body></message>",
            ),
            ("lone continuation", b"<message><body>\x80</body></message>"),
            ("in an attribute", b"<message to='\xfe'/>"),
            ("between stanzas", b"\xff<presence/>"),
        ];
        for (what, input) in cases {
            let (mut r, res) = after_header(input);
            assert_eq!(res, Err(XmlError::InvalidUtf8), "{what}");
            assert_eq!(r.feed(b"<presence/>"), Err(XmlError::InvalidUtf8), "{what}");
        }
        // Split byte by byte it is caught the same way.
        let mut r = reader();
        r.feed(HEADER.as_bytes()).unwrap();
        let mut res = Ok(Vec::new());
        for b in b"<message><body>\xe6\x97</body>" {
            res = r.feed(std::slice::from_ref(b));
            if res.is_err() {
                break;
            }
        }
        assert_eq!(res, Err(XmlError::InvalidUtf8));
    }

    #[test]
    fn not_a_stream() {
        for input in [
            &b"<foo/>"[..],
            b"<stream xmlns='jabber:client'>",
            b"<stream:stream xmlns:stream='urn:wrong'>",
            b"<?xml version='1.0'?><html>",
        ] {
            assert_eq!(reader().feed(input), Err(XmlError::NotAStream));
        }
    }

    #[test]
    fn real_server_headers() {
        let headers = [
            // Prosody 0.12
            "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' \
             xml:lang='en' id='0f5e1d2c' from='example.test' version='1.0' \
             xmlns='jabber:client'>",
            // ejabberd 23.01 declares the xml prefix explicitly
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' \
             xmlns:xml='http://www.w3.org/XML/1998/namespace' id='1234567890' \
             from='example.test' version='1.0' xml:lang='en'>",
            // Double quotes, an encoding declaration, a newline after the declaration
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<stream:stream \
             xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\" \
             from=\"example.test\" version=\"1.0\">",
            // No XML declaration at all
            "<stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='example.test'>",
        ];
        for h in headers {
            let mut r = reader();
            let evs = r
                .feed(format!("{h}<message><body>x</body></message>").as_bytes())
                .unwrap_or_else(|e| panic!("{h}: {e}"));
            let StreamEvent::Header(hdr) = &evs[0] else {
                panic!("{h}")
            };
            assert_eq!(hdr.from.as_deref(), Some("example.test"), "{h}");
            assert!(stanza(&evs[1]).is("message", NS_CLIENT), "{h}");
        }
    }

    #[test]
    fn long_attribute_values_hit_rxml_token_limit() {
        // rxml caps names and attribute values at 8 KiB (text is split, not capped).
        let (_, res) = after_header(format!("<message id='{}'/>", "x".repeat(8192)).as_bytes());
        assert!(res.is_ok());
        let (_, res) = after_header(format!("<message id='{}'/>", "x".repeat(8193)).as_bytes());
        assert!(matches!(res, Err(XmlError::Syntax(_))), "{res:?}");
    }

    #[test]
    fn restart_expects_a_new_header() {
        let mut r = reader();
        let evs = r
            .feed(format!("{HEADER}<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>").as_bytes())
            .unwrap();
        assert_eq!(evs.len(), 2);
        r.restart();
        // A new header (with an XML declaration again) and stanzas.
        let evs = r
            .feed(format!("{HEADER}<stream:features/>").as_bytes())
            .unwrap();
        assert!(matches!(evs[0], StreamEvent::Header(_)));
        assert!(stanza(&evs[1]).is("features", NS_STREAMS));
    }

    #[test]
    fn pending_bytes_reveal_data_after_proceed() {
        let mut r = reader();
        r.feed(HEADER.as_bytes()).unwrap();
        let evs = r
            .feed(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .unwrap();
        assert_eq!(evs.len(), 1);
        assert_eq!(r.pending_bytes(), 0);
        // A man in the middle appends plaintext after <proceed/>.
        r.feed(b"<message><body>injected").unwrap();
        assert!(r.pending_bytes() > 0);
        r.restart();
        assert_eq!(r.pending_bytes(), 0);
        assert_eq!(r.feed(HEADER.as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn stream_end_and_self_closed_stream() {
        let mut r = reader();
        let evs = r
            .feed(b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'/>")
            .unwrap();
        assert!(matches!(
            evs.as_slice(),
            [StreamEvent::Header(_), StreamEvent::End]
        ));
        assert!(r.feed(b"  \n").unwrap().is_empty());
        assert!(r.feed(b"<presence/>").is_err());
    }

    #[test]
    fn stream_error_is_a_stanza_in_the_streams_namespace() {
        let (_, res) = after_header(
            b"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
              </stream:error></stream:stream>",
        );
        let evs = res.unwrap();
        assert!(stanza(&evs[0]).is("error", NS_STREAMS));
        assert_eq!(evs[1], StreamEvent::End);
    }

    #[test]
    fn component_stream_namespace_is_inherited() {
        let mut r = reader();
        let evs = r
            .feed(
                b"<stream:stream xmlns='jabber:component:accept' \
                  xmlns:stream='http://etherx.jabber.org/streams' from='c.example'>\
                  <message/>",
            )
            .unwrap();
        assert!(stanza(&evs[1]).is("message", "jabber:component:accept"));
    }

    #[test]
    fn stanzas_convert_to_xmpp_parsers_types() {
        use xmpp_parsers::iq::Iq;
        use xmpp_parsers::message::Message;
        use xmpp_parsers::presence::{Presence, Show};

        let t = transcript();
        let evs = reader().feed(t.as_bytes()).unwrap();
        let msg = Message::try_from(stanza(&evs[2]).clone()).unwrap();
        assert_eq!(
            msg.bodies.get("de").map(|b| b.as_str()),
            Some("Grüße, Ромео! 日本語 🐦 & <3 🐦")
        );
        let pres = Presence::try_from(stanza(&evs[3]).clone()).unwrap();
        assert_eq!(pres.show, Some(Show::Away));
        assert_eq!(pres.priority, xmpp_parsers::presence::Priority(5));
        let iq = Iq::try_from(stanza(&evs[4]).clone()).unwrap();
        assert!(matches!(iq, Iq::Get { .. }));
    }

    #[test]
    fn element_to_string_round_trips() {
        let t = transcript();
        let evs = reader().feed(t.as_bytes()).unwrap();
        for ev in &evs[1..5] {
            let el = stanza(ev);
            let s = element_to_string(el).unwrap();
            if el.ns() == NS_CLIENT {
                assert!(!s.contains("jabber:client"), "{s}");
            }
            let (_, res) = after_header(s.as_bytes());
            let back = res.unwrap();
            assert_eq!(stanza(&back[0]), el, "{s}");
        }
    }

    #[test]
    fn element_to_string_escapes_and_declares() {
        let body = Element::builder("body", NS_CLIENT)
            .append("<script>&'\"]]>")
            .build();
        let el = Element::builder("message", NS_CLIENT)
            .attr("to".try_into().unwrap(), "a'b\"c<d>&")
            .append(body)
            .append(Element::bare("x", ""))
            .append(Element::bare("y", "urn:example:y"))
            .build();
        let s = element_to_string(&el).unwrap();
        assert_eq!(
            s,
            "<message to='a&#39;b&#34;c&lt;d&gt;&amp;'><body>&lt;script&gt;&amp;'\"]]&gt;</body>\
             <x xmlns=''/><y xmlns='urn:example:y'/></message>"
        );
        let (_, res) = after_header(s.as_bytes());
        assert_eq!(stanza(&res.unwrap()[0]), &el);

        // And an xmpp_parsers type built by the application.
        let msg = xmpp_parsers::message::Message::chat(None).with_body("en".into(), "hi".into());
        let s = element_to_string(&msg.into()).unwrap();
        assert!(s.starts_with("<message "), "{s}");
        assert!(s.contains("<body xml:lang='en'>hi</body>"), "{s}");
    }

    #[test]
    fn element_to_string_refuses_what_xml_cannot_carry() {
        let el = Element::builder("message", NS_CLIENT)
            .append("bell \u{7}")
            .build();
        assert!(matches!(
            element_to_string(&el),
            Err(XmlError::Serialize(_))
        ));
        let el = Element::builder("message", NS_CLIENT)
            .attr("xmlns".try_into().unwrap(), "jabber:server")
            .build();
        assert!(matches!(
            element_to_string(&el),
            Err(XmlError::Serialize(_))
        ));
        let el = Element::bare("not a name", NS_CLIENT);
        assert!(matches!(
            element_to_string(&el),
            Err(XmlError::Serialize(_))
        ));
    }

    #[test]
    fn element_to_string_deep_tree_without_recursion() {
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                // Built bottom-up so that the tree is never walked recursively here; leaked at
                // the end because minidom drops it recursively.
                let mut el = Element::bare("a", NS_CLIENT);
                for _ in 0..20_000 {
                    el = Element::builder("a", NS_CLIENT).append(el).build();
                }
                let s = element_to_string(&el).unwrap();
                std::mem::forget(el);
                s.len()
            })
            .unwrap();
        assert!(handle.join().expect("no stack overflow") > 20_000 * 7);
    }

    #[test]
    fn our_stream_header_parses() {
        let h = stream_header("example.test", Some("romeo@example.test"), "en");
        assert_eq!(
            h,
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' to='example.test' \
             from='romeo@example.test' version='1.0' xml:lang='en'>"
        );
        let evs = reader().feed(h.as_bytes()).unwrap();
        assert_eq!(
            evs,
            [StreamEvent::Header(StreamHeader {
                from: Some("romeo@example.test".into()),
                to: Some("example.test".into()),
                id: None,
                version: Some("1.0".into()),
                lang: Some("en".into()),
            })]
        );
        let h = stream_header("x' evil='1", None, "en\u{0}");
        let evs = reader().feed(h.as_bytes()).unwrap();
        let StreamEvent::Header(hdr) = &evs[0] else {
            panic!()
        };
        assert_eq!(hdr.to.as_deref(), Some("x' evil='1"));
        assert_eq!(hdr.from, None);
        assert_eq!(hdr.lang.as_deref(), Some("en\u{fffd}"));
        assert!(format!("{h}{STREAM_CLOSE}").ends_with("</stream:stream>"));
    }

    #[test]
    fn outgoing_size_check() {
        let limits = Limits {
            max_stanza_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(check_outgoing_size("0123456789", &limits), Ok(()));
        assert_eq!(
            check_outgoing_size("0123456789A", &limits),
            Err(XmlError::OutgoingTooLarge {
                size: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn debug_does_not_show_stanza_content() {
        let (r, _) = after_header(b"<message><body>secret canary");
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("canary"), "{dbg}");
    }
}
