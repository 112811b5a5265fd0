//! XEP-0386 Bind 2: resource binding inside the SASL2 `<authenticate>` (see `crate::sasl2`),
//! with stream management (XEP-0198) enabled inline. The server picks the resource from our
//! `<tag>` (and the user agent id); the full JID comes back as the SASL2
//! `<authorization-identifier>`.

use minidom::Element;

use crate::negotiate::StreamManagementInfo;
use crate::ns;

pub const NS: &str = "urn:xmpp:bind:0";

/// What the server offers inside Bind2 (`<bind xmlns='urn:xmpp:bind:0'><inline>…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// The `var`s of the inline features (e.g. `urn:xmpp:sm:3`), deduplicated.
    pub inline_features: Vec<String>,
}

impl Offer {
    pub fn inline(&self, var: &str) -> bool {
        self.inline_features.iter().any(|f| f == var)
    }
}

/// Bind2 as offered in a SASL2 `<inline>` element.
pub fn offer(sasl2_inline: &Element) -> Option<Offer> {
    let bind = sasl2_inline.get_child("bind", NS)?;
    let mut inline_features: Vec<String> = Vec::new();
    for f in bind
        .get_child("inline", NS)
        .into_iter()
        .flat_map(|i| i.children())
        .filter(|c| c.is("feature", NS))
        .filter_map(|c| c.attr("var"))
    {
        if !inline_features.iter().any(|g| g == f) {
            inline_features.push(f.to_string());
        }
    }
    Some(Offer { inline_features })
}

/// `<bind xmlns='urn:xmpp:bind:0'><tag>…</tag>[<enable xmlns='urn:xmpp:sm:3' resume='true'/>]</bind>`.
pub fn request(tag: &str, enable_stream_management: bool) -> Element {
    let mut b =
        Element::builder("bind", NS).append(Element::builder("tag", NS).append(tag).build());
    if enable_stream_management {
        b = b.append(
            Element::builder("enable", ns::SM)
                .attr(rxml::xml_ncname!("resume").into(), "true")
                .build(),
        );
    }
    b.build()
}

/// The server's `<bound/>`.
#[derive(Debug, Clone, Default)]
pub struct Bound {
    /// Stream management enabled inline (`<enabled/>` inside `<bound/>`).
    pub stream_management: Option<StreamManagementInfo>,
}

pub fn parse_bound(bound: &Element) -> Bound {
    Bound {
        stream_management: bound
            .get_child("enabled", ns::SM)
            .map(crate::negotiate::parse_enabled),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_carries_the_tag_and_sm() {
        let e = request("Linnet", true);
        let text = crate::xml::element_to_string(&e).unwrap();
        assert!(text.contains("<tag>Linnet</tag>"), "{text}");
        let enable = e.get_child("enable", ns::SM).unwrap();
        assert_eq!(enable.attr("resume"), Some("true"));
        assert!(
            request("Linnet", false)
                .get_child("enable", ns::SM)
                .is_none()
        );
    }

    #[test]
    fn offer_and_bound_are_parsed() {
        let inline: Element = "<inline xmlns='urn:xmpp:sasl:2'><bind xmlns='urn:xmpp:bind:0'>\
             <inline><feature var='urn:xmpp:sm:3'/><feature var='urn:xmpp:carbons:2'/>\
             <feature var='urn:xmpp:sm:3'/></inline></bind></inline>"
            .parse()
            .unwrap();
        let o = offer(&inline).unwrap();
        assert_eq!(
            o.inline_features,
            vec!["urn:xmpp:sm:3", "urn:xmpp:carbons:2"]
        );
        assert!(o.inline(ns::SM));
        let bound: Element = "<bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' \
             max='600' resume='1' id='DaeWAwSzRJBf'/></bound>"
            .parse()
            .unwrap();
        let sm = parse_bound(&bound).stream_management.unwrap();
        assert_eq!(sm.id.as_deref(), Some("DaeWAwSzRJBf"));
        assert!(sm.resume);
        assert_eq!(sm.max, Some(600));
        let empty: Element = "<bound xmlns='urn:xmpp:bind:0'/>".parse().unwrap();
        assert!(parse_bound(&empty).stream_management.is_none());
    }
}
