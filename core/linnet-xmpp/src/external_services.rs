//! External Service Discovery (XEP-0215, `urn:xmpp:extdisco:2`): the STUN/TURN servers (and
//! their short-lived credentials) the account's server announces, turned into ICE server URLs.
//!
//! Prosody (mod_turn_external) and ejabberd (mod_stun_disco) both answer a `<services/>` get to
//! the domain. Entries are read leniently: one malformed `<service/>` is skipped, not the whole
//! list (the others still work). Restricted means credentials are needed: Prosody writes
//! `restricted='1'`, ejabberd `restricted='true'`.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::ns;

/// At most this many services are kept.
pub const MAX_SERVICES: usize = 32;
/// Longest attribute value kept, in bytes; a service with a longer one is skipped.
pub const MAX_VALUE_LEN: usize = 1024;

/// One `<service/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalService {
    /// `stun`, `turn`, `turns` (or anything else the server says; [`ice_url`] ignores those).
    pub kind: String,
    pub host: String,
    pub port: Option<u16>,
    /// `udp`, `tcp`.
    pub transport: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// As the server wrote it (an XEP-0082 date-time).
    pub expires: Option<String>,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalServicesError {
    #[error("the answer is not <services xmlns='urn:xmpp:extdisco:2'/>")]
    NotServices,
}

/// The `<services xmlns='urn:xmpp:extdisco:2'/>` payload of the IQ get, sent to `to` (the
/// account's domain; the IQ itself, with `to`, is the caller's, the payload does not name it).
pub fn request(to: &str) -> Element {
    let _ = to;
    Element::bare("services", ns::EXTDISCO)
}

/// The services of an answer's payload. Each `<service/>` needs `type` and `host`; one without,
/// with an unparsable port or with an overlong or multi-line value is skipped.
pub fn parse(payload: &Element) -> Result<Vec<ExternalService>, ExternalServicesError> {
    if !payload.is("services", ns::EXTDISCO) {
        return Err(ExternalServicesError::NotServices);
    }
    Ok(payload
        .children()
        .filter(|c| c.is("service", ns::EXTDISCO))
        .filter_map(parse_service)
        .take(MAX_SERVICES)
        .collect())
}

fn parse_service(el: &Element) -> Option<ExternalService> {
    let mut bad = false;
    let mut attr = |name: &str| -> Option<String> {
        let value = el.attr(name)?;
        if value.len() > MAX_VALUE_LEN || value.contains(['\r', '\n']) {
            bad = true;
            return None;
        }
        Some(value.to_string())
    };
    let kind = attr("type").filter(|k| !k.is_empty() && !k.contains(char::is_whitespace))?;
    let host = attr("host").filter(|h| !h.is_empty() && !h.contains(char::is_whitespace))?;
    let port = match attr("port") {
        None => None,
        Some(p) => Some(p.trim().parse::<u16>().ok().filter(|p| *p != 0)?),
    };
    let transport = attr("transport");
    let username = attr("username");
    let password = attr("password");
    let expires = attr("expires");
    let restricted = matches!(attr("restricted").as_deref(), Some("1" | "true"));
    if bad {
        return None;
    }
    Some(ExternalService {
        kind: kind.to_ascii_lowercase(),
        host,
        port,
        transport: transport.map(|t| t.to_ascii_lowercase()),
        username,
        password,
        expires,
        restricted,
    })
}

/// "stun:host:port", "turn:host:port?transport=udp", "turns:..." (IPv6 hosts bracketed), or
/// `None` for a service that is not STUN or TURN.
pub fn ice_url(service: &ExternalService) -> Option<String> {
    let scheme = match service.kind.as_str() {
        "stun" | "stuns" | "turn" | "turns" => service.kind.as_str(),
        _ => return None,
    };
    let host = if service.host.contains(':') && !service.host.starts_with('[') {
        format!("[{}]", service.host)
    } else {
        service.host.clone()
    };
    let mut url = format!("{scheme}:{host}");
    if let Some(port) = service.port {
        url.push_str(&format!(":{port}"));
    }
    if scheme.starts_with("turn")
        && let Some(transport) = &service.transport
    {
        url.push_str(&format!("?transport={transport}"));
    }
    Some(url)
}

/// The `<service/>` element, for tests and fake servers.
pub fn service_element(service: &ExternalService) -> Element {
    Element::builder("service", ns::EXTDISCO)
        .attr(n!("type").into(), service.kind.as_str())
        .attr(n!("host").into(), service.host.as_str())
        .attr(n!("port").into(), service.port)
        .attr(n!("transport").into(), service.transport.as_deref())
        .attr(n!("username").into(), service.username.as_deref())
        .attr(n!("password").into(), service.password.as_deref())
        .attr(n!("expires").into(), service.expires.as_deref())
        .attr(n!("restricted").into(), service.restricted.then_some("1"))
        .build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn parse_xml(xml: &str) -> Result<Vec<ExternalService>, ExternalServicesError> {
        parse(&xml.parse::<Element>().unwrap())
    }

    #[test]
    fn request_payload() {
        assert_eq!(
            String::from(&request("prosody.test")),
            "<services xmlns='urn:xmpp:extdisco:2'/>"
        );
    }

    #[test]
    fn prosody_and_ejabberd_answers() {
        // Prosody (mod_turn_external): restricted='1'.
        let prosody = parse_xml(
            "<services xmlns='urn:xmpp:extdisco:2'>\
             <service type='stun' host='turn.prosody.test' port='3478' transport='udp'/>\
             <service type='turn' host='turn.prosody.test' port='3478' transport='udp' username='1764150000:alice' password='c2VjcmV0' expires='2026-11-27T09:00:00Z' restricted='1'/>\
             </services>",
        )
        .unwrap();
        assert_eq!(prosody.len(), 2);
        assert!(!prosody[0].restricted);
        assert!(prosody[1].restricted);
        assert_eq!(prosody[1].username.as_deref(), Some("1764150000:alice"));
        assert_eq!(
            ice_url(&prosody[0]).as_deref(),
            Some("stun:turn.prosody.test:3478")
        );
        assert_eq!(
            ice_url(&prosody[1]).as_deref(),
            Some("turn:turn.prosody.test:3478?transport=udp")
        );
        // ejabberd (mod_stun_disco): restricted='true', IPv6 addresses, a name attribute.
        let ejabberd = parse_xml(
            "<services xmlns='urn:xmpp:extdisco:2'>\
             <service type='turns' host='::1' port='5349' transport='tcp' restricted='true' username='u' password='p' name='ejabberd'/>\
             <service type='ftp' host='x.example'/>\
             </services>",
        )
        .unwrap();
        assert!(ejabberd[0].restricted);
        assert_eq!(
            ice_url(&ejabberd[0]).as_deref(),
            Some("turns:[::1]:5349?transport=tcp")
        );
        assert_eq!(ice_url(&ejabberd[1]), None);
        assert_eq!(
            parse_xml(
                &String::from(&service_element(&ejabberd[0]))
                    .replace(
                        "<service ",
                        "<services xmlns='urn:xmpp:extdisco:2'><service "
                    )
                    .replace("/>", "/></services>")
            )
            .unwrap()[0],
            ExternalService {
                restricted: true,
                ..ejabberd[0].clone()
            }
        );
    }

    #[test]
    fn malformed_services_are_skipped() {
        let long = "h".repeat(MAX_VALUE_LEN + 1);
        let services = parse_xml(&format!(
            "<services xmlns='urn:xmpp:extdisco:2'>\
             <service host='no-type.example'/>\
             <service type='stun'/>\
             <service type='stun' host='a.example' port='0'/>\
             <service type='stun' host='a.example' port='99999'/>\
             <service type='stun' host='{long}'/>\
             <service type='turn' host='a.example' username='a&#10;b'/>\
             <service type='stun' host='ok.example'/>\
             </services>"
        ))
        .unwrap();
        assert_eq!(services.len(), 1);
        assert_eq!(ice_url(&services[0]).as_deref(), Some("stun:ok.example"));
        assert_eq!(
            parse_xml("<query xmlns='urn:xmpp:extdisco:2'/>"),
            Err(ExternalServicesError::NotServices)
        );
        let many = "<service type='stun' host='a.example'/>".repeat(MAX_SERVICES + 5);
        assert_eq!(
            parse_xml(&format!(
                "<services xmlns='urn:xmpp:extdisco:2'>{many}</services>"
            ))
            .unwrap()
            .len(),
            MAX_SERVICES
        );
    }
}
