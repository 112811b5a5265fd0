//! An XML stream over a byte stream: feeds incoming bytes through the limit-enforcing reader and
//! writes serialised stanzas. Used during negotiation; the running session has its own loop.

use std::collections::VecDeque;
use std::time::Duration;

use minidom::Element;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::ConnectError;
use crate::transport::ByteStream;
use crate::xml::{Limits, StreamEvent, StreamReader};

pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// How many elements a server may send ahead of the answer negotiation waits for.
const MAX_EARLY_ELEMENTS: usize = 10_000;

pub struct XmlConnection {
    pub(crate) stream: Box<dyn ByteStream>,
    pub(crate) reader: StreamReader,
    pub(crate) pending: VecDeque<StreamEvent>,
    pub(crate) limits: Limits,
    /// How many of the first `pending` stanzas arrived before stream management was enabled:
    /// XEP-0198 does not count them in `h`.
    pub(crate) uncounted: usize,
}

impl XmlConnection {
    pub fn new(stream: Box<dyn ByteStream>, limits: Limits) -> Self {
        Self {
            stream,
            reader: StreamReader::new(limits),
            pending: VecDeque::new(),
            limits,
            uncounted: 0,
        }
    }

    pub async fn send_str(&mut self, data: &str) -> Result<(), ConnectError> {
        log_wire("SEND", data.as_bytes());
        self.stream.write_all(data.as_bytes()).await?;
        self.stream.flush().await?;
        Ok(())
    }

    pub async fn send_element(&mut self, element: &Element) -> Result<(), ConnectError> {
        let text = crate::xml::element_to_string(element)?;
        self.send_str(&text).await
    }

    /// Opens (or reopens, after TLS or SASL) the stream and waits for the server's header.
    pub async fn open_stream(
        &mut self,
        domain: &str,
        timeout: Duration,
    ) -> Result<(), ConnectError> {
        self.open_stream_from(domain, None, timeout).await
    }

    /// [`open_stream`](Self::open_stream) with a `from` (our bare JID; RFC 6120 §4.7.1 has it on
    /// TLS-protected streams only, and XEP-0484 FAST needs it there).
    pub async fn open_stream_from(
        &mut self,
        domain: &str,
        from: Option<&str>,
        timeout: Duration,
    ) -> Result<(), ConnectError> {
        self.reader.restart();
        self.pending.clear();
        self.send_str(&crate::xml::stream_header(domain, from, "en"))
            .await?;
        match self.next_event(timeout, "stream header").await? {
            StreamEvent::Header(_) => Ok(()),
            StreamEvent::Stanza(e) => Err(ConnectError::Protocol(format!(
                "expected a stream header, got <{}>",
                e.name()
            ))),
            StreamEvent::End => Err(ConnectError::Io("the server closed the stream".into())),
        }
    }

    /// Next event from the server within `timeout`.
    pub async fn next_event(
        &mut self,
        timeout: Duration,
        stage: &'static str,
    ) -> Result<StreamEvent, ConnectError> {
        tokio::time::timeout(timeout, self.read_event())
            .await
            .map_err(|_| ConnectError::Timeout(stage))?
    }

    /// Next top-level element; a stream error or the end of the stream becomes an error.
    pub async fn next_element(
        &mut self,
        timeout: Duration,
        stage: &'static str,
    ) -> Result<Element, ConnectError> {
        match self.next_event(timeout, stage).await? {
            StreamEvent::Stanza(e) => {
                if let Some(err) = stream_error(&e) {
                    return Err(err);
                }
                Ok(e)
            }
            StreamEvent::Header(_) => Err(ConnectError::Protocol(
                "unexpected second stream header".into(),
            )),
            StreamEvent::End => Err(ConnectError::Io("the server closed the stream".into())),
        }
    }

    async fn read_event(&mut self) -> Result<StreamEvent, ConnectError> {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Err(ConnectError::Io("the server closed the connection".into()));
            }
            let chunk = buf.get(..n).unwrap_or_default();
            let events = self.reader.feed(chunk)?;
            log_received(&events);
            self.pending.extend(events);
        }
    }

    /// True when bytes are already buffered that the server sent before we changed layers
    /// (after `<proceed/>`): a sign of STARTTLS command injection. Counts complete elements and
    /// the start of an incomplete one alike.
    pub(crate) fn has_buffered_events(&self) -> bool {
        !self.pending.is_empty() || self.reader.pending_bytes() > 0
    }

    /// Reads until an element `answers` (within `t` in all), keeping what came before it for the
    /// session, in order (a server may send stanzas ahead of a negotiation answer: replayed by a
    /// resumption, or the unacknowledged ones of an earlier session). Returns the answer and how
    /// many elements were kept.
    pub(crate) async fn answer_after_early(
        &mut self,
        t: Duration,
        what: &'static str,
        answers: impl Fn(&Element) -> bool,
    ) -> Result<(Element, usize), ConnectError> {
        let mut early = Vec::new();
        let answer = tokio::time::timeout(t, async {
            loop {
                let e = self.next_element(t, what).await?;
                if answers(&e) {
                    return Ok(e);
                }
                if early.len() >= MAX_EARLY_ELEMENTS {
                    return Err(ConnectError::Protocol(format!(
                        "too many elements before the {what}"
                    )));
                }
                early.push(e);
            }
        })
        .await
        .map_err(|_| ConnectError::Timeout(what))??;
        let kept = early.len();
        self.unread(early);
        Ok((answer, kept))
    }

    /// Puts elements back at the front of the queue, in order: the next reads return them first
    /// (stanzas that arrived during negotiation belong to the session).
    pub(crate) fn unread(&mut self, elements: Vec<Element>) {
        for e in elements.into_iter().rev() {
            self.pending.push_front(StreamEvent::Stanza(e));
        }
    }

    pub fn into_stream(self) -> Box<dyn ByteStream> {
        self.stream
    }
}

/// Wire-level trace logging (target `linnet::wire`). Every line passes the SDK's redaction layer,
/// which blanks SASL payloads and known secrets.
pub(crate) fn log_wire(direction: &str, data: &[u8]) {
    if tracing::enabled!(target: "linnet::wire", tracing::Level::TRACE) {
        tracing::trace!(target: "linnet::wire", "{direction} {}", String::from_utf8_lossy(data));
    }
}

/// Logs what was received as whole elements, never as raw chunks: a read can end inside a
/// `<body>`, and redaction can only blank an element it sees whole.
pub(crate) fn log_received(events: &[StreamEvent]) {
    if !tracing::enabled!(target: "linnet::wire", tracing::Level::TRACE) {
        return;
    }
    for event in events {
        match event {
            StreamEvent::Stanza(e) => match crate::xml::element_to_string(e) {
                Ok(text) => tracing::trace!(target: "linnet::wire", "RECV {text}"),
                Err(_) => {
                    tracing::trace!(target: "linnet::wire", "RECV <{}> (not serialisable)", e.name())
                }
            },
            StreamEvent::Header(h) => {
                tracing::trace!(target: "linnet::wire", "RECV stream header {h:?}")
            }
            StreamEvent::End => tracing::trace!(target: "linnet::wire", "RECV </stream:stream>"),
        }
    }
}

/// A `<stream:error/>` turned into a typed error.
pub fn stream_error(e: &Element) -> Option<ConnectError> {
    if !e.is("error", crate::ns::STREAM) {
        return None;
    }
    let mut condition = String::from("undefined-condition");
    let mut text = None;
    for child in e.children() {
        if child.ns() == crate::ns::STREAM_ERRORS {
            if child.name() == "text" {
                text = Some(child.text());
            } else {
                condition = child.name().to_string();
            }
        }
    }
    Some(ConnectError::StreamError { condition, text })
}
