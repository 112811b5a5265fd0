//! HTTP File Upload (XEP-0363, `urn:xmpp:http:upload:0`): find the upload service, ask it for a
//! slot (a PUT URL, its headers and the GET URL to share). The HTTP transfer itself is the SDK's.
//!
//! Who may say this: the slot comes as the IQ answer from the service we asked (the session
//! checks the sender). Its content is still input: both URLs must be `https://` with a host
//! (security notes, item 12), and only the headers the XEP allows are kept (Authorization,
//! Cookie, Expires; a client MUST ignore any other), without CR or LF, bounded in number and
//! size. The slot is parsed by hand because xmpp-parsers' `SlotResult` refuses a whole slot for
//! one unknown header.
//!
//! What the servers do (see the test-server notes): Prosody's slots carry an Authorization header
//! the PUT must send, ejabberd's none; both answer a too large file with `<file-too-large/>` and
//! its `<max-file-size/>`.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::stanza_error::{DefinedCondition, StanzaError};

use crate::session::{IqError, SendError, SessionHandle};
use crate::{disco, ns, oob};

/// At most this many slot headers are kept.
pub const MAX_HEADERS: usize = 8;
/// A slot header whose value is longer than this (bytes) is dropped.
pub const MAX_HEADER_VALUE_LEN: usize = 8 * 1024;
/// At most this many disco#items of the domain are asked whether they are the upload service.
pub const MAX_ITEMS_PROBED: usize = 32;
/// The headers a client may pass on to the PUT (XEP-0363 §4), as they are sent.
const ALLOWED_HEADERS: [&str; 3] = ["Authorization", "Cookie", "Expires"];
/// Longest error text or URL kept in an error, in characters: they come from the network.
const MAX_ERROR_TEXT_CHARS: usize = 200;

/// The account's upload service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadService {
    pub jid: Jid,
    /// The largest file the service accepts, in bytes, when it says.
    pub max_file_size: Option<u64>,
}

/// What to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRequest {
    pub filename: String,
    pub size: u64,
    pub content_type: Option<String>,
}

/// A granted slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// `https://`, with a host; exactly as the service gave it (ejabberd wants the PUT at that
    /// exact host).
    pub put_url: String,
    /// `https://`, with a host: the URL to share.
    pub get_url: String,
    /// Headers the PUT must carry: only Authorization, Cookie and Expires (in that spelling),
    /// no CR or LF, at most [`MAX_HEADERS`].
    pub put_headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UploadError {
    /// No answer (timeout), or the session ended or could not send the request.
    #[error("{0}")]
    Session(IqError),
    #[error("the file is too large for the upload service (max {max:?} bytes)")]
    FileTooLarge { max: Option<u64> },
    /// The service refused for now (quota, resource-constraint); retry after `retry_at_ms` (ms
    /// since the epoch) when it says.
    #[error("the upload service is over quota (retry at {retry_at_ms:?})")]
    Quota { retry_at_ms: Option<i64> },
    /// The slot's PUT or GET URL is not https (shortened to 200 characters).
    #[error("the upload slot's URL is not https: {url}")]
    NotHttps { url: String },
    #[error("malformed upload slot: {reason}")]
    Malformed { reason: String },
    /// Another error condition (RFC 6120 name, e.g. `not-allowed`), with the server's text.
    #[error("the upload service refused ({condition}{})", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Refused {
        condition: String,
        text: Option<String>,
    },
}

impl UploadError {
    /// Whether trying again later may succeed: a lost or slow session, a quota, a server's
    /// internal error or resource constraint. A stanza too large or unserialisable to send is
    /// not (it would fail the same way each time), nor a refusal, a too large file or a bad slot.
    pub fn is_transient(&self) -> bool {
        match self {
            UploadError::Session(IqError::Send(SendError::TooLarge { .. }))
            | UploadError::Session(IqError::Send(SendError::Serialise(_))) => false,
            UploadError::Session(_) | UploadError::Quota { .. } => true,
            UploadError::Refused { condition, .. } => {
                matches!(
                    condition.as_str(),
                    "internal-server-error" | "resource-constraint"
                )
            }
            UploadError::FileTooLarge { .. }
            | UploadError::NotHttps { .. }
            | UploadError::Malformed { .. } => false,
        }
    }
}

impl From<IqError> for UploadError {
    /// An IQ error reply becomes what the service meant; anything else is a session error.
    fn from(e: IqError) -> Self {
        match e {
            IqError::Error(error) => of_stanza_error(&error),
            other => UploadError::Session(other),
        }
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(MAX_ERROR_TEXT_CHARS).collect()
}

fn of_stanza_error(error: &StanzaError) -> UploadError {
    let upload_child = |name: &str| error.other.as_ref().filter(|o| o.is(name, ns::HTTP_UPLOAD));
    if let Some(too_large) = upload_child("file-too-large") {
        let max = too_large
            .get_child("max-file-size", ns::HTTP_UPLOAD)
            .and_then(|m| m.text().trim().parse().ok());
        return UploadError::FileTooLarge { max };
    }
    if let Some(retry) = upload_child("retry") {
        let retry_at_ms = retry
            .attr("stamp")
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| t.timestamp_millis());
        return UploadError::Quota { retry_at_ms };
    }
    if error.defined_condition == DefinedCondition::ResourceConstraint {
        return UploadError::Quota { retry_at_ms: None };
    }
    let text = error
        .texts
        .get("en")
        .or_else(|| error.texts.get(""))
        .or_else(|| error.texts.values().next())
        .map(|t| shorten(t.trim()))
        .filter(|t| !t.is_empty());
    UploadError::Refused {
        condition: condition_name(&error.defined_condition).to_string(),
        text,
    }
}

/// The RFC 6120 element name of a condition.
fn condition_name(c: &DefinedCondition) -> &'static str {
    use DefinedCondition as C;
    match c {
        C::BadRequest => "bad-request",
        C::Conflict => "conflict",
        C::FeatureNotImplemented => "feature-not-implemented",
        C::Forbidden => "forbidden",
        C::Gone { .. } => "gone",
        C::InternalServerError => "internal-server-error",
        C::ItemNotFound => "item-not-found",
        C::JidMalformed => "jid-malformed",
        C::NotAcceptable => "not-acceptable",
        C::NotAllowed => "not-allowed",
        C::NotAuthorized => "not-authorized",
        C::PolicyViolation => "policy-violation",
        C::RecipientUnavailable => "recipient-unavailable",
        C::Redirect { .. } => "redirect",
        C::RegistrationRequired => "registration-required",
        C::RemoteServerNotFound => "remote-server-not-found",
        C::RemoteServerTimeout => "remote-server-timeout",
        C::ResourceConstraint => "resource-constraint",
        C::ServiceUnavailable => "service-unavailable",
        C::SubscriptionRequired => "subscription-required",
        C::UndefinedCondition => "undefined-condition",
        C::UnexpectedRequest => "unexpected-request",
    }
}

/// XEP-0363 §2: the `max-file-size` field of the service's extended disco#info (a
/// `jabber:x:data` form with FORM_TYPE `urn:xmpp:http:upload:0`; a form without FORM_TYPE is
/// accepted too, one for another FORM_TYPE, such as the legacy namespace's, is not).
pub fn max_file_size(info: &Element) -> Option<u64> {
    let field_value = |form: &Element, var: &str| {
        form.children()
            .find(|f| f.is("field", ns::DATA_FORMS) && f.attr("var") == Some(var))
            .and_then(|f| f.get_child("value", ns::DATA_FORMS))
            .map(|v| v.text().trim().to_string())
    };
    let forms = || info.children().filter(|c| c.is("x", ns::DATA_FORMS));
    let typed = forms().find(|f| field_value(f, "FORM_TYPE").as_deref() == Some(ns::HTTP_UPLOAD));
    let form = typed.or_else(|| forms().find(|f| field_value(f, "FORM_TYPE").is_none()))?;
    field_value(form, "max-file-size")?.parse().ok()
}

/// The upload service `jid` is, from its disco#info answer, if it offers the feature.
pub fn service_of(jid: Jid, info: Option<&Element>) -> Option<UploadService> {
    if !disco::parse_info(info).has(ns::HTTP_UPLOAD) {
        return None;
    }
    Some(UploadService {
        jid,
        max_file_size: info.and_then(max_file_size),
    })
}

/// Finds the upload service: the first disco#items entry of `domain` (at most
/// [`MAX_ITEMS_PROBED`]) offering `urn:xmpp:http:upload:0`, else `domain` itself if it does.
///
/// An entry that answers with an error is skipped. `Ok(None)` means no service was found with
/// every answer in; if an entry did not answer in time and nothing was found, the timeout is
/// returned instead so that "no upload here" is not concluded from a slow component.
pub async fn discover(
    handle: &SessionHandle,
    domain: Jid,
) -> Result<Option<UploadService>, UploadError> {
    let items = match handle
        .iq(disco::items_request(handle.new_id(), Some(domain.clone())))
        .await
    {
        Ok(payload) => disco::parse_items(payload.as_ref()),
        Err(IqError::Error(_)) => Vec::new(),
        Err(e) => return Err(UploadError::Session(e)),
    };
    let mut candidates: Vec<Jid> = items
        .into_iter()
        .filter(|i| *i != domain)
        .take(MAX_ITEMS_PROBED)
        .collect();
    candidates.push(domain);
    let mut timed_out = None;
    for item in candidates {
        match handle
            .iq(disco::info_request(handle.new_id(), Some(item.clone())))
            .await
        {
            Ok(payload) => {
                if let Some(service) = service_of(item, payload.as_ref()) {
                    return Ok(Some(service));
                }
            }
            Err(IqError::Error(_)) => {}
            Err(e @ IqError::Timeout(_)) => timed_out = Some(e),
            Err(e) => return Err(UploadError::Session(e)),
        }
    }
    match timed_out {
        Some(e) => Err(UploadError::Session(e)),
        None => Ok(None),
    }
}

/// The slot request: `<iq type='get' to=service><request xmlns='urn:xmpp:http:upload:0'
/// filename=… size=… content-type=…/></iq>`.
pub fn slot_request(id: String, service: Jid, req: &SlotRequest) -> Iq {
    let mut request = Element::builder("request", ns::HTTP_UPLOAD)
        .attr(rxml::xml_ncname!("filename").into(), req.filename.as_str())
        .attr(rxml::xml_ncname!("size").into(), req.size.to_string());
    if let Some(content_type) = &req.content_type {
        request = request.attr(
            rxml::xml_ncname!("content-type").into(),
            content_type.as_str(),
        );
    }
    Iq::Get {
        from: None,
        to: Some(service),
        id,
        payload: request.build(),
    }
}

fn malformed(reason: &str) -> UploadError {
    UploadError::Malformed {
        reason: reason.to_string(),
    }
}

/// The URL of the `which` child (`put` or `get`) of a slot, checked.
fn slot_url(slot: &Element, which: &str) -> Result<String, UploadError> {
    let url = slot
        .get_child(which, ns::HTTP_UPLOAD)
        .ok_or_else(|| malformed(&format!("no <{which}/>")))?
        .attr("url")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| malformed(&format!("<{which}/> without a url")))?;
    if !oob::has_https_scheme(url) {
        return Err(UploadError::NotHttps { url: shorten(url) });
    }
    if !oob::https_url_with_host(url) {
        return Err(malformed(&format!(
            "the {which} URL is not a URL with a host"
        )));
    }
    Ok(url.to_string())
}

fn without_cr_lf(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// Reads a slot answer (see the module notes for what is kept).
pub fn parse_slot(payload: Option<Element>) -> Result<Slot, UploadError> {
    let slot = payload
        .filter(|p| p.is("slot", ns::HTTP_UPLOAD))
        .ok_or_else(|| malformed("the answer is not a <slot/>"))?;
    let put_url = slot_url(&slot, "put")?;
    let get_url = slot_url(&slot, "get")?;
    let mut put_headers = Vec::new();
    if let Some(put) = slot.get_child("put", ns::HTTP_UPLOAD) {
        for header in put.children().filter(|h| h.is("header", ns::HTTP_UPLOAD)) {
            if put_headers.len() >= MAX_HEADERS {
                break;
            }
            let name = without_cr_lf(header.attr("name").unwrap_or_default());
            let name = name.trim();
            let Some(canonical) = ALLOWED_HEADERS
                .iter()
                .find(|a| !name.is_empty() && a.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let value = without_cr_lf(&header.text());
            let value = value.trim();
            if value.len() > MAX_HEADER_VALUE_LEN {
                continue;
            }
            put_headers.push(((*canonical).to_string(), value.to_string()));
        }
    }
    Ok(Slot {
        put_url,
        get_url,
        put_headers,
    })
}

/// Asks `service` for a slot for `req`.
pub async fn request_slot(
    handle: &SessionHandle,
    service: &Jid,
    req: &SlotRequest,
) -> Result<Slot, UploadError> {
    let payload = handle
        .iq(slot_request(handle.new_id(), service.clone(), req))
        .await?;
    parse_slot(payload)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn el(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    fn slot(put: &str, get: &str, headers: &str) -> Option<Element> {
        Some(el(&format!(
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='{put}'>{headers}</put>\
             <get url='{get}'/></slot>"
        )))
    }

    fn error(xml: &str) -> UploadError {
        let error = StanzaError::try_from(el(xml)).unwrap();
        UploadError::from(IqError::Error(Box::new(error)))
    }

    #[test]
    fn prosody_slot_keeps_its_authorization_header() {
        let s = parse_slot(slot(
            "https://upload.example.test:5281/file_share/0a1b/cat.jpg",
            "https://upload.example.test:5281/file_share/0a1b/cat.jpg",
            "<header name='Authorization'>Bearer eyJhbGciOi.x.y</header>",
        ))
        .unwrap();
        assert_eq!(
            s.put_url,
            "https://upload.example.test:5281/file_share/0a1b/cat.jpg"
        );
        assert_eq!(s.get_url, s.put_url);
        assert_eq!(
            s.put_headers,
            vec![("Authorization".into(), "Bearer eyJhbGciOi.x.y".into())]
        );
    }

    #[test]
    fn ejabberd_slot_has_no_headers() {
        let s = parse_slot(slot(
            "https://example.test:5443/upload/3f2a/cat.jpg",
            "https://example.test:5443/upload/3f2a/cat.jpg",
            "",
        ))
        .unwrap();
        assert!(s.put_headers.is_empty());
        assert_eq!(s.get_url, "https://example.test:5443/upload/3f2a/cat.jpg");
    }

    #[test]
    fn unknown_headers_are_ignored_and_known_ones_canonicalised() {
        let s = parse_slot(slot(
            "https://u.example/p",
            "https://u.example/g",
            "<header name='X-Evil'>1</header><header name='cookie'>a=b</header>\
             <header name='Host'>evil.example</header><header name=''>x</header>\
             <header>x</header><header name='EXPIRES'>Tue, 01 Dec 2026 00:00:00 GMT</header>",
        ))
        .unwrap();
        assert_eq!(
            s.put_headers,
            vec![
                ("Cookie".into(), "a=b".into()),
                ("Expires".into(), "Tue, 01 Dec 2026 00:00:00 GMT".into())
            ]
        );
    }

    #[test]
    fn cr_and_lf_are_stripped_from_names_and_values() {
        let s = parse_slot(slot(
            "https://u.example/p",
            "https://u.example/g",
            "<header name='Author&#13;&#10;ization'>Basic a&#13;&#10;Host: evil.example</header>",
        ))
        .unwrap();
        assert_eq!(
            s.put_headers,
            vec![("Authorization".into(), "Basic aHost: evil.example".into())]
        );
    }

    #[test]
    fn headers_are_bounded() {
        let many = "<header name='Cookie'>c</header>".repeat(20);
        let s = parse_slot(slot("https://u.example/p", "https://u.example/g", &many)).unwrap();
        assert_eq!(s.put_headers.len(), MAX_HEADERS);
        let huge = format!(
            "<header name='Cookie'>{}</header><header name='Authorization'>ok</header>",
            "c".repeat(MAX_HEADER_VALUE_LEN + 1)
        );
        let s = parse_slot(slot("https://u.example/p", "https://u.example/g", &huge)).unwrap();
        assert_eq!(s.put_headers, vec![("Authorization".into(), "ok".into())]);
    }

    #[test]
    fn urls_must_be_https_with_a_host() {
        let err = parse_slot(slot("http://u.example/p", "https://u.example/g", "")).unwrap_err();
        assert_eq!(
            err,
            UploadError::NotHttps {
                url: "http://u.example/p".into()
            }
        );
        let err = parse_slot(slot("https://u.example/p", "http://u.example/g", "")).unwrap_err();
        assert_eq!(
            err,
            UploadError::NotHttps {
                url: "http://u.example/g".into()
            }
        );
        assert!(parse_slot(slot("HTTPS://U.example/p", "hTTps://u.example/g", "")).is_ok());
        for bad in ["https://", "https://exa mple/p"] {
            assert!(
                matches!(
                    parse_slot(slot(bad, "https://u.example/g", "")),
                    Err(UploadError::Malformed { .. })
                ),
                "{bad}"
            );
        }
        assert!(!err.is_transient());
    }

    #[test]
    fn a_slot_without_get_or_put_is_malformed() {
        let no_get =
            el("<slot xmlns='urn:xmpp:http:upload:0'><put url='https://u.example/p'/></slot>");
        assert!(matches!(
            parse_slot(Some(no_get)),
            Err(UploadError::Malformed { .. })
        ));
        let no_put =
            el("<slot xmlns='urn:xmpp:http:upload:0'><get url='https://u.example/g'/></slot>");
        assert!(matches!(
            parse_slot(Some(no_put)),
            Err(UploadError::Malformed { .. })
        ));
        let empty_get = el(
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://u.example/p'/><get url=''/></slot>",
        );
        assert!(matches!(
            parse_slot(Some(empty_get)),
            Err(UploadError::Malformed { .. })
        ));
        assert!(matches!(
            parse_slot(None),
            Err(UploadError::Malformed { .. })
        ));
        let wrong_ns = el(
            "<slot xmlns='urn:xmpp:http:upload'><put url='https://u.example/p'/>\
             <get url='https://u.example/g'/></slot>",
        );
        assert!(matches!(
            parse_slot(Some(wrong_ns)),
            Err(UploadError::Malformed { .. })
        ));
    }

    #[test]
    fn file_too_large_with_and_without_max() {
        let with_max = error(
            "<error xmlns='jabber:client' type='modify'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large</text>\
             <file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>20000</max-file-size>\
             </file-too-large></error>",
        );
        assert_eq!(with_max, UploadError::FileTooLarge { max: Some(20000) });
        assert!(!with_max.is_transient());
        let without = error(
            "<error xmlns='jabber:client' type='modify'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <file-too-large xmlns='urn:xmpp:http:upload:0'/></error>",
        );
        assert_eq!(without, UploadError::FileTooLarge { max: None });
    }

    #[test]
    fn retry_stamp_is_a_transient_quota() {
        let e = error(
            "<error xmlns='jabber:client' type='wait'>\
             <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Quota reached</text>\
             <retry xmlns='urn:xmpp:http:upload:0' stamp='2017-12-03T23:42:05Z'/></error>",
        );
        assert_eq!(
            e,
            UploadError::Quota {
                retry_at_ms: Some(1_512_344_525_000)
            }
        );
        assert!(e.is_transient());
        let no_stamp = error(
            "<error xmlns='jabber:client' type='wait'>\
             <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert_eq!(no_stamp, UploadError::Quota { retry_at_ms: None });
    }

    #[test]
    fn other_conditions_are_refusals() {
        let e = error(
            "<error xmlns='jabber:client' type='modify'>\
             <bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Invalid filename</text></error>",
        );
        assert_eq!(
            e,
            UploadError::Refused {
                condition: "bad-request".into(),
                text: Some("Invalid filename".into())
            }
        );
        assert!(!e.is_transient());
        let e = error(
            "<error xmlns='jabber:client' type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert!(!e.is_transient());
        let e = error(
            "<error xmlns='jabber:client' type='wait'>\
             <internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>",
        );
        assert!(e.is_transient());
    }

    #[test]
    fn session_failures_are_transient_unless_the_request_cannot_be_sent() {
        let timeout = UploadError::from(IqError::Timeout(std::time::Duration::from_secs(30)));
        assert!(matches!(timeout, UploadError::Session(IqError::Timeout(_))));
        assert!(timeout.is_transient());
        assert!(UploadError::from(IqError::Disconnected).is_transient());
        assert!(UploadError::from(IqError::Send(SendError::Closed)).is_transient());
        let too_large = UploadError::from(IqError::Send(SendError::TooLarge {
            size: 300_000,
            limit: 262_144,
        }));
        assert!(!too_large.is_transient());
    }

    #[test]
    fn request_element_is_exact() {
        let iq = slot_request(
            "up1".into(),
            Jid::new("upload.example.test").unwrap(),
            &SlotRequest {
                filename: "très cool.jpg".into(),
                size: 23456,
                content_type: Some("image/jpeg".into()),
            },
        );
        let Iq::Get {
            to, id, payload, ..
        } = &iq
        else {
            panic!("not a get: {iq:?}");
        };
        assert_eq!(to.as_ref().unwrap().as_str(), "upload.example.test");
        assert_eq!(id, "up1");
        assert!(payload.is("request", "urn:xmpp:http:upload:0"));
        assert_eq!(payload.attr("filename"), Some("très cool.jpg"));
        assert_eq!(payload.attr("size"), Some("23456"));
        assert_eq!(payload.attr("content-type"), Some("image/jpeg"));
        assert_eq!(payload.attrs().into_iter().count(), 3);
        assert_eq!(payload.children().count(), 0);
        assert_eq!(
            String::from(&Element::from(iq)),
            "<iq xmlns='jabber:client' id='up1' to='upload.example.test' type='get'>\
             <request xmlns='urn:xmpp:http:upload:0' content-type='image/jpeg' \
             filename='très cool.jpg' size='23456'/></iq>"
        );
        let iq = slot_request(
            "up2".into(),
            Jid::new("upload.example.test").unwrap(),
            &SlotRequest {
                filename: "a".into(),
                size: 0,
                content_type: None,
            },
        );
        let Iq::Get { payload, .. } = iq else {
            panic!("not a get");
        };
        assert_eq!(payload.attr("content-type"), None);
        assert_eq!(payload.attr("size"), Some("0"));
    }

    #[test]
    fn max_file_size_comes_from_the_upload_form() {
        let info = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='store' type='file' name='HTTP File Upload'/>\
             <feature var='urn:xmpp:http:upload:0'/>\
             <x type='result' xmlns='jabber:x:data'>\
             <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload</value></field>\
             <field var='max-file-size'><value>1</value></field></x>\
             <x type='result' xmlns='jabber:x:data'>\
             <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>\
             <field var='max-file-size'><value> 104857600 </value></field></x></query>");
        assert_eq!(max_file_size(&info), Some(104_857_600));
        let service = service_of(Jid::new("upload.example.test").unwrap(), Some(&info)).unwrap();
        assert_eq!(service.max_file_size, Some(104_857_600));
        let untyped = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
             <feature var='urn:xmpp:http:upload:0'/><x type='result' xmlns='jabber:x:data'>\
             <field var='max-file-size'><value>5</value></field></x></query>");
        assert_eq!(max_file_size(&untyped), Some(5));
        let no_form = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
             <feature var='urn:xmpp:http:upload:0'/></query>");
        let service = service_of(Jid::new("example.test").unwrap(), Some(&no_form)).unwrap();
        assert_eq!(service.max_file_size, None);
        let not_upload = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
             <feature var='http://jabber.org/protocol/muc'/></query>");
        assert_eq!(
            service_of(
                Jid::new("conference.example.test").unwrap(),
                Some(&not_upload)
            ),
            None
        );
    }
}
