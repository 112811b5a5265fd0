//! ICE-UDP transport in Jingle (XEP-0176, `urn:xmpp:jingle:transports:ice-udp:1`): ICE
//! credentials, the DTLS fingerprint (XEP-0320) and candidates.
//!
//! `ip` is a string, not an `IpAddr`: browsers send mDNS names (`….local`). Candidates are
//! checked where a bad value would hurt (port 0, priority outside RFC 8445's 1..2^31-1, component
//! 0); `generation` and `id`, required by the XEP's schema, default to 0 and "" when a peer omits
//! them: we never need them from a peer, and refusing the whole transport over them would drop a
//! call that can work.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle::{
    JingleError, check_count, check_element, invalid, optional_attr, optional_number,
    required_attr, required_number,
};
use crate::jingle_dtls::Fingerprint;
use crate::ns;

/// At most this many candidates in one transport.
pub const MAX_CANDIDATES: usize = 64;
/// Highest ICE priority (RFC 8445 §5.1.2: 1 to 2^31 - 1).
pub const MAX_PRIORITY: u32 = (1 << 31) - 1;

/// `<transport ufrag='…' pwd='…'>` with a fingerprint and candidates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IceUdpTransport {
    pub ufrag: Option<String>,
    pub pwd: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    pub candidates: Vec<Candidate>,
}

/// One ICE candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// 1 for RTP; 2 for RTCP (never needed with rtcp-mux).
    pub component: u8,
    pub foundation: String,
    pub generation: u32,
    pub id: String,
    /// An IPv4 or IPv6 address, or an mDNS name.
    pub ip: String,
    /// Never 0.
    pub port: u16,
    /// 1 ..= [`MAX_PRIORITY`].
    pub priority: u32,
    /// `udp` (or `tcp`), lower case as read.
    pub protocol: String,
    pub kind: CandidateType,
    pub network: u32,
    pub rel_addr: Option<String>,
    pub rel_port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateType {
    Host,
    Prflx,
    Srflx,
    Relay,
}

impl CandidateType {
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateType::Host => "host",
            CandidateType::Prflx => "prflx",
            CandidateType::Srflx => "srflx",
            CandidateType::Relay => "relay",
        }
    }

    pub fn from_attr(value: &str) -> Option<CandidateType> {
        match value {
            "host" => Some(CandidateType::Host),
            "prflx" => Some(CandidateType::Prflx),
            "srflx" => Some(CandidateType::Srflx),
            "relay" => Some(CandidateType::Relay),
            _ => None,
        }
    }
}

/// A fresh candidate id (10 random alphanumerics), for candidates that come without one (webrtc's
/// candidate strings have none).
pub fn new_candidate_id() -> String {
    use rand::Rng as _;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(10)
        .map(char::from)
        .collect()
}

/// No whitespace (the value goes into an SDP line) and not empty.
fn token<'a>(
    value: &'a str,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, JingleError> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        Err(invalid(element, attribute, value))
    } else {
        Ok(value)
    }
}

impl Candidate {
    pub fn parse(el: &Element) -> Result<Candidate, JingleError> {
        check_element(el, "candidate", ns::JINGLE_ICE_UDP)?;
        const E: &str = "candidate";
        let component: u8 = required_number(el, E, "component")?;
        if component == 0 {
            return Err(invalid(E, "component", "0"));
        }
        let foundation = token(required_attr(el, E, "foundation")?, E, "foundation")?;
        let ip = token(required_attr(el, E, "ip")?, E, "ip")?;
        let port: u16 = required_number(el, E, "port")?;
        if port == 0 {
            return Err(invalid(E, "port", "0"));
        }
        let priority: u32 = required_number(el, E, "priority")?;
        if priority == 0 || priority > MAX_PRIORITY {
            return Err(invalid(E, "priority", &priority.to_string()));
        }
        let protocol = token(required_attr(el, E, "protocol")?, E, "protocol")?;
        let kind = required_attr(el, E, "type")?;
        let kind = CandidateType::from_attr(kind).ok_or_else(|| invalid(E, "type", kind))?;
        let id = match optional_attr(el, E, "id")? {
            Some(id) if !id.is_empty() => token(id, E, "id")?.to_string(),
            _ => String::new(),
        };
        let rel_addr = optional_attr(el, E, "rel-addr")?
            .map(|a| token(a, E, "rel-addr").map(str::to_string))
            .transpose()?;
        Ok(Candidate {
            component,
            foundation: foundation.to_string(),
            generation: optional_number(el, E, "generation")?.unwrap_or(0),
            id,
            ip: ip.to_string(),
            port,
            priority,
            protocol: protocol.to_ascii_lowercase(),
            kind,
            network: optional_number(el, E, "network")?.unwrap_or(0),
            rel_addr,
            rel_port: optional_number(el, E, "rel-port")?,
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("candidate", ns::JINGLE_ICE_UDP)
            .attr(n!("component").into(), self.component)
            .attr(n!("foundation").into(), self.foundation.as_str())
            .attr(n!("generation").into(), self.generation)
            .attr(n!("id").into(), self.id.as_str())
            .attr(n!("ip").into(), self.ip.as_str())
            .attr(n!("network").into(), self.network)
            .attr(n!("port").into(), self.port)
            .attr(n!("priority").into(), self.priority)
            .attr(n!("protocol").into(), self.protocol.as_str())
            .attr(n!("type").into(), self.kind.as_str())
            .attr(n!("rel-addr").into(), self.rel_addr.as_deref())
            .attr(n!("rel-port").into(), self.rel_port)
            .build()
    }
}

impl IceUdpTransport {
    pub fn parse(el: &Element) -> Result<IceUdpTransport, JingleError> {
        check_element(el, "transport", ns::JINGLE_ICE_UDP)?;
        let credential = |attribute| -> Result<Option<String>, JingleError> {
            optional_attr(el, "transport", attribute)?
                .map(|v| token(v, "transport", attribute).map(str::to_string))
                .transpose()
        };
        let ufrag = credential("ufrag")?;
        let pwd = credential("pwd")?;
        // Several fingerprints (one per hash) may come: sha-256 is the one every stack checks.
        let fingerprints: Vec<&Element> = el
            .children()
            .filter(|c| c.is("fingerprint", ns::JINGLE_DTLS))
            .collect();
        let fingerprint = fingerprints
            .iter()
            .find(|f| {
                f.attr("hash")
                    .is_some_and(|h| h.eq_ignore_ascii_case("sha-256"))
            })
            .or(fingerprints.first())
            .map(|f| Fingerprint::parse(f))
            .transpose()?;
        let mut candidates = Vec::new();
        for child in el
            .children()
            .filter(|c| c.is("candidate", ns::JINGLE_ICE_UDP))
        {
            check_count(candidates.len() + 1, "candidates", MAX_CANDIDATES)?;
            candidates.push(Candidate::parse(child)?);
        }
        Ok(IceUdpTransport {
            ufrag,
            pwd,
            fingerprint,
            candidates,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("transport", ns::JINGLE_ICE_UDP)
            .attr(n!("ufrag").into(), self.ufrag.as_deref())
            .attr(n!("pwd").into(), self.pwd.as_deref());
        if let Some(fingerprint) = &self.fingerprint {
            b = b.append(fingerprint.to_element());
        }
        b.append_all(self.candidates.iter().map(Candidate::to_element))
            .build()
    }
}
