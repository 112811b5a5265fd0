//! Logging through one redaction path. Every formatted log line passes `redact` before it reaches
//! any writer: SASL payloads and password elements are blanked by shape, and every secret the SDK
//! has loaded (passwords, tokens) is blanked by value. Secrets also never enter log fields in the
//! first place (`Secret`'s Debug is a placeholder); this layer is the safety net that a test with
//! canary secrets checks on a release build.
//!
//! Whatever `init` / `init_with` installs also keeps the newest lines in memory (a ring of
//! [`RING_MAX_LINES`] lines or [`RING_MAX_BYTES`] bytes) for a tester to share: `recent_logs`.
//! Those lines are redacted on the same path, and message bodies are blanked there too (the
//! wire trace shows whole stanzas).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{LazyLock, Mutex, RwLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

const REDACTED: &str = "[redacted]";

/// Elements whose text content is secret: SASL exchanges (RFC 6120 §6) and password fields
/// (XEP-0077 registration and password change, data forms).
/// SASL2 (XEP-0388) adds `initial-response` and `additional-data` (and its `<success>` holds FAST
/// tokens, XEP-0484).
const SECRET_ELEMENTS: &[&str] = &[
    "auth",
    "response",
    "challenge",
    "success",
    "password",
    "initial-response",
    "additional-data",
];

/// Stanzas whose form values are secret: push registration (ad-hoc commands carry the device
/// token, and the app server's answer the node and secret before the SDK could register them as
/// secrets), `<enable/>` and publishes (the secret as publish-option). Their `<value>`s are
/// blanked by shape.
const SECRET_FORM_MARKERS: &[&str] = &[
    "http://jabber.org/protocol/commands",
    "urn:xmpp:push:0",
    "http://jabber.org/protocol/pubsub#publish-options",
];

/// Secrets shorter than this are not blanked by value (they would blank ordinary words); they are
/// still protected by the element rules above.
const MIN_SECRET_LEN: usize = 4;

/// Elements whose text content is private but not secret: kept in a developer's stderr trace,
/// blanked in the shareable ring.
const PRIVATE_ELEMENTS: &[&str] = &["body"];

/// The ring keeps at most this many lines...
pub const RING_MAX_LINES: usize = 2000;
/// ...and at most this many bytes of them.
pub const RING_MAX_BYTES: usize = 512 * 1024;

static SECRETS: LazyLock<RwLock<Vec<String>>> = LazyLock::new(|| RwLock::new(Vec::new()));

static RING: LazyLock<Mutex<Ring>> = LazyLock::new(|| Mutex::new(Ring::default()));

/// Remembers a secret value so that it is blanked wherever it would appear in a log line.
pub fn register_secret(value: &str) {
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first, so a secret containing another is blanked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Blanks secret element contents and registered secret values.
pub fn redact(line: &str) -> String {
    let mut out = blank_elements(line, SECRET_ELEMENTS);
    if SECRET_FORM_MARKERS.iter().any(|m| out.contains(m)) {
        out = blank_elements(&out, &["value"]);
    }
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

fn blank_elements(line: &str, names: &[&str]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'scan: while let Some(lt) = rest.find('<') {
        let (before, tag) = rest.split_at(lt);
        out.push_str(before);
        for name in names {
            let Some(after_name) = tag.strip_prefix('<').and_then(|t| t.strip_prefix(name)) else {
                continue;
            };
            if !after_name.starts_with([' ', '>', '/', '\t', '\n', '\r']) {
                continue;
            }
            let Some(gt) = after_name.find('>') else {
                continue;
            };
            let open_end = 1 + name.len() + gt + 1;
            let (open, content) = tag.split_at(open_end);
            out.push_str(open);
            if open.ends_with("/>") {
                rest = content;
                continue 'scan;
            }
            let close = format!("</{name}");
            match content.find(&close) {
                Some(end) => {
                    out.push_str(REDACTED);
                    rest = content.get(end..).unwrap_or_default();
                }
                None => {
                    // Cut off mid-element: blank everything after the opening tag.
                    out.push_str(REDACTED);
                    rest = "";
                }
            }
            continue 'scan;
        }
        out.push('<');
        rest = tag.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// A writer that redacts each formatted line before passing it on.
pub struct RedactingWriter<W: Write> {
    inner: W,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Wraps any `MakeWriter` so that everything it writes is redacted.
pub struct RedactingMakeWriter<M> {
    inner: M,
}

impl<M> RedactingMakeWriter<M> {
    pub fn new(inner: M) -> Self {
        Self { inner }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
        }
    }
}

/// The newest log lines, oldest first.
#[derive(Default)]
struct Ring {
    lines: VecDeque<String>,
    bytes: usize,
}

impl Ring {
    fn push(&mut self, line: String) {
        self.bytes += line.len();
        self.lines.push_back(line);
        while self.lines.len() > RING_MAX_LINES || self.bytes > RING_MAX_BYTES {
            match self.lines.pop_front() {
                Some(old) => self.bytes -= old.len(),
                None => break,
            }
        }
    }
}

/// Removes terminal colour codes (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Keeps already redacted text in the ring, with message bodies blanked too.
fn remember(redacted: &str) {
    let text = blank_elements(&strip_ansi(redacted), PRIVATE_ELEMENTS);
    let mut ring = RING.lock().unwrap_or_else(|p| p.into_inner());
    for line in text.lines().filter(|l| !l.is_empty()) {
        ring.push(line.to_string());
    }
}

/// The recent log lines kept in memory (see the module docs), oldest first, one per line.
/// Redacted: no secrets, no message bodies.
pub fn recent_logs() -> String {
    let ring = RING.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = String::with_capacity(ring.bytes + ring.lines.len());
    for line in &ring.lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Where `init_with` sends log lines: always the in-memory ring, and stderr if asked. Wrap it
/// in a [`RedactingMakeWriter`] (as `init_with` does): it expects redacted text.
#[derive(Debug, Clone, Copy)]
pub struct LogSinks {
    pub to_stderr: bool,
}

impl<'a> MakeWriter<'a> for LogSinks {
    type Writer = LogSinks;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

impl Write for LogSinks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        remember(&String::from_utf8_lossy(buf));
        if self.to_stderr {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.to_stderr {
            std::io::stderr().flush()?;
        }
        Ok(())
    }
}

/// Installs the global subscriber: `filter` in `RUST_LOG` syntax, to stderr and the in-memory
/// ring, redacted. Returns false if a subscriber was already installed.
pub fn init(filter: &str, json: bool) -> bool {
    init_with(filter, json, true)
}

/// Like `init`, choosing whether lines also go to stderr (a mobile app logs only to the ring).
pub fn init_with(filter: &str, json: bool, to_stderr: bool) -> bool {
    let filter = EnvFilter::try_new(with_quiet_media_stack(filter))
        .unwrap_or_else(|_| EnvFilter::new(with_quiet_media_stack("warn")));
    let writer = RedactingMakeWriter::new(LogSinks { to_stderr });
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init()
            .is_ok()
    } else {
        // Colour codes only on a terminal: they would litter a log file a tester shares.
        let ansi = to_stderr && std::io::IsTerminal::is_terminal(&std::io::stderr());
        tracing_subscriber::fmt()
            .with_ansi(ansi)
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init()
            .is_ok()
    }
}

/// The webrtc crates (`webrtc`, `rtc_*`) warn about ordinary moments of a call (checks before
/// the answer, a TCP TURN URL skipped): their logs show at `error` unless the filter names them
/// (e.g. `warn,rtc_ice=debug`).
fn with_quiet_media_stack(filter: &str) -> String {
    let mut filter = filter.trim().to_string();
    for target in ["webrtc", "rtc"] {
        let named = filter
            .split(',')
            .any(|d| d.trim().starts_with(target) && d.contains('='));
        if !named {
            if !filter.is_empty() {
                filter.push(',');
            }
            filter.push_str(target);
            filter.push_str("=error");
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_form_values_are_blanked_by_shape() {
        let line = "RECV <iq from='push.example.org' type='result'><command \
                    xmlns='http://jabber.org/protocol/commands' status='completed'><x \
                    xmlns='jabber:x:data' type='result'><field var='node'><value>node-canary-1\
                    </value></field><field var='secret'><value>secret-canary-1</value></field>\
                    </x></command></iq>";
        let out = redact(line);
        assert!(!out.contains("node-canary-1"), "{out}");
        assert!(!out.contains("secret-canary-1"), "{out}");
        assert!(out.contains("var='secret'"));
        // Other forms (a MAM query) keep their values.
        let mam = "SEND <query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data'><field \
                   var='with'><value>bob@example.org</value></field></x></query>";
        assert_eq!(redact(mam), mam);
    }

    #[test]
    fn the_media_stack_is_quiet_unless_named() {
        assert_eq!(
            with_quiet_media_stack("warn"),
            "warn,webrtc=error,rtc=error"
        );
        assert_eq!(with_quiet_media_stack(""), "webrtc=error,rtc=error");
        assert_eq!(
            with_quiet_media_stack("debug,rtc_ice=trace"),
            "debug,rtc_ice=trace,webrtc=error"
        );
    }

    #[test]
    fn sasl_payloads_and_passwords_are_blanked() {
        let line = "SEND <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAGh1bnRlcjI=</auth> then \
                    <response xmlns='x'>Yz1iaXdz</response><success xmlns='x'>dj1zZWNyZXQ=</success>\
                    <query><password>canary-pw</password></query><challenge/>";
        let out = redact(line);
        for secret in [
            "AGFsaWNlAGh1bnRlcjI=",
            "Yz1iaXdz",
            "dj1zZWNyZXQ=",
            "canary-pw",
        ] {
            assert!(!out.contains(secret), "{secret} leaked in {out}");
        }
        assert!(out.contains("mechanism='PLAIN'"));
        assert!(out.contains("<challenge/>"));
    }

    #[test]
    fn sasl2_payloads_and_fast_tokens_are_blanked() {
        let line = "SEND <authenticate xmlns='urn:xmpp:sasl:2' mechanism='HT-SHA-256-NONE'>\
                    <initial-response>YWxpY2UAn6j9IJCf</initial-response><user-agent id='u'/>\
                    </authenticate> RECV <success xmlns='urn:xmpp:sasl:2'><additional-data>\
                    DpHViV6v</additional-data><token xmlns='urn:xmpp:fast:0' \
                    token='secret-token:fast-canary'/></success> <x><additional-data>\
                    dj1zZWNy</additional-data></x>";
        let out = redact(line);
        for secret in ["YWxpY2UAn6j9IJCf", "DpHViV6v", "fast-canary", "dj1zZWNy"] {
            assert!(!out.contains(secret), "{secret} leaked in {out}");
        }
        assert!(out.contains("mechanism='HT-SHA-256-NONE'"));
    }

    #[test]
    fn truncated_secret_element_is_blanked_to_the_end() {
        let out = redact("<response xmlns='x'>c2VjcmV0");
        assert!(!out.contains("c2VjcmV0"));
    }

    #[test]
    fn registered_secrets_are_blanked_anywhere() {
        register_secret("Canary-Value-0192");
        let out =
            redact("error: password Canary-Value-0192 was wrong; <body>Canary-Value-0192</body>");
        assert!(!out.contains("Canary-Value-0192"));
    }

    #[test]
    fn the_ring_keeps_redacted_lines_without_bodies() {
        let secret = "Ring-Canary-Secret-5d21";
        register_secret(secret);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(true)
            .with_writer(RedactingMakeWriter::new(LogSinks { to_stderr: false }))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "linnet::wire", "SEND <auth mechanism='PLAIN'>{secret}</auth><message><body>ring private words</body></message> ring-marker-1");
            tracing::warn!(password = secret, "ring-marker-2");
        });
        let logs = recent_logs();
        assert!(logs.contains("ring-marker-1"), "{logs}");
        assert!(logs.contains("ring-marker-2"), "{logs}");
        assert!(logs.contains("<body>[redacted]</body>"), "{logs}");
        assert!(!logs.contains(secret), "{logs}");
        assert!(!logs.contains("ring private words"), "{logs}");
        assert!(!logs.contains('\u{1b}'), "colour codes stripped: {logs:?}");
    }

    #[test]
    fn the_ring_drops_the_oldest_lines() {
        let mut ring = Ring::default();
        for i in 0..RING_MAX_LINES + 10 {
            ring.push(format!("line {i}"));
        }
        assert_eq!(ring.lines.len(), RING_MAX_LINES);
        assert_eq!(ring.lines.front().map(String::as_str), Some("line 10"));
        let big = "x".repeat(RING_MAX_BYTES / 2 + 1);
        ring.push(big.clone());
        ring.push(big);
        assert_eq!(ring.lines.len(), 1);
        assert!(ring.bytes <= RING_MAX_BYTES);
    }

    #[test]
    fn similar_element_names_are_left_alone() {
        let out = redact("<authority>kept</authority><responses>kept</responses>");
        assert_eq!(
            out,
            "<authority>kept</authority><responses>kept</responses>"
        );
    }
}
