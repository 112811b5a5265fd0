//! Logging through one redaction path. Every formatted log line passes `redact` before it reaches
//! any writer: SASL payloads and password elements are blanked by shape, and every secret the SDK
//! has loaded (passwords, tokens) is blanked by value. Secrets also never enter log fields in the
//! first place (`Secret`'s Debug is a placeholder); this layer is the safety net that a test with
//! canary secrets checks on a release build.

use std::io::Write;
use std::sync::{LazyLock, RwLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

const REDACTED: &str = "[redacted]";

/// Elements whose text content is secret: SASL exchanges (RFC 6120 §6) and password fields
/// (XEP-0077 registration and password change, data forms).
const SECRET_ELEMENTS: &[&str] = &["auth", "response", "challenge", "success", "password"];

/// Secrets shorter than this are not blanked by value (they would blank ordinary words); they are
/// still protected by the element rules above.
const MIN_SECRET_LEN: usize = 4;

static SECRETS: LazyLock<RwLock<Vec<String>>> = LazyLock::new(|| RwLock::new(Vec::new()));

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
    let mut out = blank_secret_elements(line);
    let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

fn blank_secret_elements(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    'scan: while let Some(lt) = rest.find('<') {
        let (before, tag) = rest.split_at(lt);
        out.push_str(before);
        for name in SECRET_ELEMENTS {
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

/// Installs the global subscriber: `filter` in `RUST_LOG` syntax, to stderr, redacted.
/// Returns false if a subscriber was already installed.
pub fn init(filter: &str, json: bool) -> bool {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let writer = RedactingMakeWriter::new(std::io::stderr);
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init()
            .is_ok()
    } else {
        // Colour codes only on a terminal: they would litter a log file a tester shares.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        tracing_subscriber::fmt()
            .with_ansi(ansi)
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init()
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn similar_element_names_are_left_alone() {
        let out = redact("<authority>kept</authority><responses>kept</responses>");
        assert_eq!(
            out,
            "<authority>kept</authority><responses>kept</responses>"
        );
    }
}
