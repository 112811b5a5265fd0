//! Service Discovery (XEP-0030): what the server and our account offer, for feature checks and
//! the doctor report.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::iq::Iq;

use crate::ns;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoInfo {
    pub identities: Vec<(String, String, Option<String>)>,
    pub features: Vec<String>,
}

impl DiscoInfo {
    pub fn has(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

pub fn info_request(id: String, to: Option<Jid>) -> Iq {
    let mut iq = Iq::from_get(id, xmpp_parsers::disco::DiscoInfoQuery { node: None });
    if let Iq::Get { to: t, .. } = &mut iq {
        *t = to;
    }
    iq
}

pub fn items_request(id: String, to: Option<Jid>) -> Iq {
    let mut iq = Iq::from_get(
        id,
        xmpp_parsers::disco::DiscoItemsQuery {
            node: None,
            rsm: None,
        },
    );
    if let Iq::Get { to: t, .. } = &mut iq {
        *t = to;
    }
    iq
}

/// Reads a disco#info result leniently: servers add odd extensions, and a doctor report must not
/// fail because of one.
pub fn parse_info(payload: Option<&Element>) -> DiscoInfo {
    let mut info = DiscoInfo::default();
    let Some(query) = payload.filter(|p| p.is("query", ns::DISCO_INFO)) else {
        return info;
    };
    for child in query.children() {
        match child.name() {
            "identity" => info.identities.push((
                child.attr("category").unwrap_or_default().to_string(),
                child.attr("type").unwrap_or_default().to_string(),
                child.attr("name").map(str::to_string),
            )),
            "feature" => {
                if let Some(var) = child.attr("var") {
                    info.features.push(var.to_string());
                }
            }
            _ => {}
        }
    }
    info
}

pub fn parse_items(payload: Option<&Element>) -> Vec<Jid> {
    let Some(query) = payload.filter(|p| p.is("query", ns::DISCO_ITEMS)) else {
        return Vec::new();
    };
    query
        .children()
        .filter(|c| c.name() == "item")
        .filter_map(|c| c.attr("jid"))
        .filter_map(|j| Jid::new(j).ok())
        .collect()
}

/// Features this client implements, answered to peers' disco#info queries.
pub const CLIENT_FEATURES: &[&str] = &[
    ns::DISCO_INFO,
    ns::RECEIPTS,
    ns::MARKERS,
    ns::CHATSTATES,
    ns::PING,
    ns::CARBONS,
    ns::OOB,
    // Voice calls (issue 7): Jingle RTP audio over ICE-UDP with DTLS-SRTP, BUNDLE, RTCP feedback,
    // started by Jingle Message Initiation.
    ns::JINGLE,
    ns::JINGLE_RTP,
    ns::JINGLE_RTP_AUDIO,
    ns::JINGLE_ICE_UDP,
    ns::JINGLE_DTLS,
    ns::JINGLE_GROUPING,
    ns::JINGLE_RTCP_FB,
    ns::JINGLE_MESSAGE,
];

/// Our own disco#info answer.
pub fn client_info() -> Element {
    let identity = Element::builder("identity", ns::DISCO_INFO)
        .attr(rxml::xml_ncname!("category").into(), "client")
        .attr(rxml::xml_ncname!("type").into(), "phone")
        .attr(rxml::xml_ncname!("name").into(), "Linnet")
        .build();
    let mut query = Element::builder("query", ns::DISCO_INFO).append(identity);
    for feature in CLIENT_FEATURES {
        query = query.append(
            Element::builder("feature", ns::DISCO_INFO)
                .attr(rxml::xml_ncname!("var").into(), *feature)
                .build(),
        );
    }
    query.build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn client_info_advertises_calls() {
        let info = parse_info(Some(&client_info()));
        for feature in [
            "urn:xmpp:jingle:1",
            "urn:xmpp:jingle:apps:rtp:1",
            "urn:xmpp:jingle:apps:rtp:audio",
            "urn:xmpp:jingle:transports:ice-udp:1",
            "urn:xmpp:jingle:apps:dtls:0",
            "urn:xmpp:jingle:apps:grouping:0",
            "urn:xmpp:jingle:apps:rtp:rtcp-fb:0",
            "urn:xmpp:jingle-message:0",
            "urn:xmpp:receipts",
        ] {
            assert!(info.has(feature), "{feature}");
        }
        assert_eq!(info.features.len(), CLIENT_FEATURES.len());
    }
}
