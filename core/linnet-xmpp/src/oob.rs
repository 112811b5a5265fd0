//! Out of Band Data (XEP-0066, `jabber:x:oob` in messages): the link to a file, as Conversations
//! and most clients send it beside a body holding the same URL after an HTTP upload (XEP-0363).
//!
//! Reading is lenient (peers send odd shapes) but bounded: a URL longer than
//! [`MAX_URL_LEN`] is ignored. Whether a link may be fetched at all is [`is_downloadable`]'s
//! call: only `https://` with a host (security notes, item 13). Fetching it, and when (never
//! automatically from strangers: it leaks the IP address), is the SDK's business.

use minidom::Element;
use xmpp_parsers::message::Message;

use crate::ns;

/// Longest URL text accepted, in bytes; a longer one is ignored.
pub const MAX_URL_LEN: usize = 4 * 1024;
/// Longest description kept, in characters; a longer one is shortened.
pub const MAX_DESC_CHARS: usize = 1024;

/// The link of an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OobData {
    /// Trimmed, non-empty, at most [`MAX_URL_LEN`] bytes. Not checked further: see
    /// [`is_downloadable`].
    pub url: String,
    /// Trimmed; `None` when absent or blank.
    pub desc: Option<String>,
}

/// `<x xmlns='jabber:x:oob'><url>…</url><desc>…</desc></x>`.
pub fn element(url: &str, desc: Option<&str>) -> Element {
    let mut x =
        Element::builder("x", ns::OOB).append(Element::builder("url", ns::OOB).append(url).build());
    if let Some(desc) = desc {
        x = x.append(Element::builder("desc", ns::OOB).append(desc).build());
    }
    x.build()
}

/// The first `jabber:x:oob` payload of `message` with a usable `<url>` (non-empty once trimmed,
/// not longer than [`MAX_URL_LEN`]).
pub fn parse(message: &Message) -> Option<OobData> {
    message
        .payloads
        .iter()
        .filter(|p| p.is("x", ns::OOB))
        .find_map(parse_x)
}

fn parse_x(x: &Element) -> Option<OobData> {
    let url = x.get_child("url", ns::OOB)?.text();
    let url = url.trim();
    if url.is_empty() || url.len() > MAX_URL_LEN {
        return None;
    }
    let desc = x
        .get_child("desc", ns::OOB)
        .map(|d| {
            d.text()
                .trim()
                .chars()
                .take(MAX_DESC_CHARS)
                .collect::<String>()
        })
        .map(|d| d.trim_end().to_string())
        .filter(|d| !d.is_empty());
    Some(OobData {
        url: url.to_string(),
        desc,
    })
}

/// Whether Linnet may fetch `url`: only `https://` (scheme compared case-insensitively) that
/// parses as a URL with a host.
///
/// `aesgcm://` links (OMEMO-encrypted files, XEP-0454: https with the key in the fragment) are out
/// of scope for now: they are not downloadable until OMEMO media sharing is implemented, and then
/// only mapped to https.
pub fn is_downloadable(url: &str) -> bool {
    has_https_scheme(url) && https_url_with_host(url)
}

/// `url` starts with `https://`, in any case.
pub(crate) fn has_https_scheme(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// `url` parses as an `https` URL with a non-empty host.
pub(crate) fn https_url_with_host(url: &str) -> bool {
    // The parser forgives what an HTTP client forgives too (surrounding spaces); refuse them so
    // that the URL checked is the URL used.
    if url.trim() != url {
        return false;
    }
    url::Url::parse(url)
        .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn message(payloads: &str) -> Message {
        let xml = format!(
            "<message xmlns='jabber:client' from='bob@example.org/x' type='chat'>\
             <body>https://up.example.org/f/a.jpg</body>{payloads}</message>"
        );
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn element_round_trips() {
        let m = {
            let mut m = message("");
            m.payloads
                .push(element("https://up.example.org/f/a.jpg", Some("a cat")));
            m
        };
        let xml = String::from(&element("https://a.example/x", None));
        assert_eq!(
            xml,
            "<x xmlns='jabber:x:oob'><url>https://a.example/x</url></x>"
        );
        assert_eq!(
            parse(&m),
            Some(OobData {
                url: "https://up.example.org/f/a.jpg".into(),
                desc: Some("a cat".into())
            })
        );
    }

    #[test]
    fn parse_is_lenient_and_takes_the_first_usable_url() {
        let m = message(
            "<x xmlns='jabber:x:oob'><url>   </url></x>\
             <x xmlns='jabber:x:oob'><desc>no url</desc></x>\
             <x xmlns='urn:other'><url>https://wrong.example/ns</url></x>\
             <x xmlns='jabber:x:oob'><url>\n https://up.example.org/f/b.png \n</url><desc> </desc></x>\
             <x xmlns='jabber:x:oob'><url>https://up.example.org/f/c.png</url></x>",
        );
        assert_eq!(
            parse(&m),
            Some(OobData {
                url: "https://up.example.org/f/b.png".into(),
                desc: None
            })
        );
        assert_eq!(parse(&message("")), None);
    }

    #[test]
    fn overlong_urls_are_ignored() {
        let long = format!("https://up.example.org/{}", "a".repeat(MAX_URL_LEN));
        let m = message(&format!("<x xmlns='jabber:x:oob'><url>{long}</url></x>"));
        assert_eq!(parse(&m), None);
        let m = message(&format!(
            "<x xmlns='jabber:x:oob'><url>{long}</url></x>\
             <x xmlns='jabber:x:oob'><url>https://up.example.org/ok</url></x>"
        ));
        assert_eq!(parse(&m).unwrap().url, "https://up.example.org/ok");
        let desc = "d".repeat(5000);
        let m = message(&format!(
            "<x xmlns='jabber:x:oob'><url>https://a.example/</url><desc>{desc}</desc></x>"
        ));
        assert_eq!(parse(&m).unwrap().desc.unwrap().len(), MAX_DESC_CHARS);
    }

    #[test]
    fn only_https_with_a_host_is_downloadable() {
        assert!(is_downloadable("https://up.example.org/f/a.jpg"));
        assert!(is_downloadable(
            "HTTPS://Up.Example.org:5443/f/a%20b.jpg?x=1"
        ));
        assert!(is_downloadable("https://[::1]/f"));
        for bad in [
            "http://up.example.org/f/a.jpg",
            "aesgcm://up.example.org/f/a.jpg#0011",
            "ftp://up.example.org/f",
            "file:///etc/passwd",
            "https://",
            "https:/up.example.org/f",
            "https:up.example.org/f",
            "https://exa mple.org/",
            " https://up.example.org/f",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!is_downloadable(bad), "{bad}");
        }
    }
}
