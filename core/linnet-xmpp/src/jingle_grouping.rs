//! Grouping framework in Jingle (XEP-0338, `urn:xmpp:jingle:apps:grouping:0`): the SDP
//! `a=group:BUNDLE 0 1` line, as a child of `<jingle/>`.

use minidom::Element;
use rxml::xml_ncname as n;

use crate::jingle::{
    JingleError, MAX_CONTENTS, check_count, check_element, invalid, required_attr,
};
use crate::ns;

/// `<group semantics='BUNDLE'><content name='0'/></group>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// E.g. `BUNDLE`, `LS`.
    pub semantics: String,
    /// Content names, in order.
    pub contents: Vec<String>,
}

impl Group {
    pub fn bundle(contents: Vec<String>) -> Group {
        Group {
            semantics: "BUNDLE".to_string(),
            contents,
        }
    }

    pub fn parse(el: &Element) -> Result<Group, JingleError> {
        check_element(el, "group", ns::JINGLE_GROUPING)?;
        let semantics = required_attr(el, "group", "semantics")?;
        if semantics.is_empty() || semantics.contains(char::is_whitespace) {
            return Err(invalid("group", "semantics", semantics));
        }
        let mut contents = Vec::new();
        for child in el
            .children()
            .filter(|c| c.is("content", ns::JINGLE_GROUPING))
        {
            check_count(contents.len() + 1, "group contents", MAX_CONTENTS)?;
            let name = required_attr(child, "content", "name")?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(invalid("content", "name", name));
            }
            contents.push(name.to_string());
        }
        Ok(Group {
            semantics: semantics.to_string(),
            contents,
        })
    }

    pub fn to_element(&self) -> Element {
        Element::builder("group", ns::JINGLE_GROUPING)
            .attr(n!("semantics").into(), self.semantics.as_str())
            .append_all(self.contents.iter().map(|name| {
                Element::builder("content", ns::JINGLE_GROUPING)
                    .attr(n!("name").into(), name.as_str())
                    .build()
            }))
            .build()
    }
}
