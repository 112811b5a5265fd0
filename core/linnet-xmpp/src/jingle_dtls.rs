//! DTLS-SRTP in Jingle (XEP-0320, `urn:xmpp:jingle:apps:dtls:0`): the certificate fingerprint
//! and the DTLS role (`setup`), carried inside the ICE-UDP transport.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle::{JingleError, check_element, invalid, optional_attr, required_attr};
use crate::ns;

/// `<fingerprint hash='sha-256' setup='actpass'>AB:CD:…</fingerprint>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The hash function's name as in SDP, e.g. `sha-256`.
    pub hash: String,
    pub setup: Option<Setup>,
    /// Colon-separated hex, trimmed.
    pub value: String,
}

/// The DTLS role (RFC 4145 / RFC 5763 `a=setup`). The initiator offers `actpass`; the responder
/// picks `active` or `passive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Actpass,
    Active,
    Passive,
    Holdconn,
}

impl Setup {
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Actpass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Holdconn => "holdconn",
        }
    }

    pub fn from_attr(value: &str) -> Option<Setup> {
        match value {
            "actpass" => Some(Setup::Actpass),
            "active" => Some(Setup::Active),
            "passive" => Some(Setup::Passive),
            "holdconn" => Some(Setup::Holdconn),
            _ => None,
        }
    }
}

impl Fingerprint {
    pub fn parse(el: &Element) -> Result<Fingerprint, JingleError> {
        check_element(el, "fingerprint", ns::JINGLE_DTLS)?;
        let hash = required_attr(el, "fingerprint", "hash")?;
        if hash.trim().is_empty() {
            return Err(invalid("fingerprint", "hash", hash));
        }
        let setup = optional_attr(el, "fingerprint", "setup")?
            .map(|s| Setup::from_attr(s).ok_or_else(|| invalid("fingerprint", "setup", s)))
            .transpose()?;
        let value = crate::jingle::bounded_text(el, "fingerprint")?;
        let value = value.trim();
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(JingleError::MissingChild {
                element: "fingerprint",
                child: "the fingerprint text",
            });
        }
        Ok(Fingerprint {
            hash: hash.trim().to_string(),
            setup,
            value: value.to_string(),
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("fingerprint", ns::JINGLE_DTLS)
            .attr(n!("hash").into(), self.hash.as_str())
            .attr(n!("setup").into(), self.setup.map(Setup::as_str))
            .append(self.value.as_str())
            .build()
    }
}
