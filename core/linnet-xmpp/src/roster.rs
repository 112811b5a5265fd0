//! Roster management (RFC 6121 §2) with versioning, and validation of roster pushes: only our own
//! account may push (CVE-2014-0364 and its family).

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::roster::{Ask, Item, Roster, Subscription};

/// One contact as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterItem {
    pub jid: BareJid,
    pub name: Option<String>,
    pub subscription: String,
    pub ask: bool,
    pub groups: Vec<String>,
}

impl From<Item> for RosterItem {
    fn from(item: Item) -> Self {
        RosterItem {
            jid: item.jid,
            name: item.name.filter(|n| !n.trim().is_empty()),
            subscription: subscription_name(&item.subscription).to_string(),
            ask: matches!(item.ask, Ask::Subscribe),
            groups: item.groups.into_iter().map(|g| g.0).collect(),
        }
    }
}

fn subscription_name(s: &Subscription) -> &'static str {
    match s {
        Subscription::None => "none",
        Subscription::From => "from",
        Subscription::To => "to",
        Subscription::Both => "both",
        Subscription::Remove => "remove",
    }
}

/// What a roster get returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterFetch {
    /// The whole roster (and its version, if the server does versioning).
    Full {
        version: Option<String>,
        items: Vec<RosterItem>,
    },
    /// Our cached version is current (RFC 6121 §2.6.3: empty result); pushes may follow.
    Unchanged,
}

pub fn fetch_request(id: String, cached_version: Option<&str>) -> Iq {
    let query = Roster {
        ver: cached_version.map(str::to_string),
        items: vec![],
    };
    Iq::from_get(id, query)
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RosterError {
    #[error("roster push from someone other than our own account ({0})")]
    NotFromOwnAccount(String),
    #[error("invalid roster payload: {0}")]
    Invalid(String),
}

pub fn parse_fetch(payload: Option<Element>) -> Result<RosterFetch, RosterError> {
    let Some(payload) = payload else {
        return Ok(RosterFetch::Unchanged);
    };
    let roster = Roster::try_from(payload).map_err(|e| RosterError::Invalid(e.to_string()))?;
    Ok(RosterFetch::Full {
        version: roster.ver,
        items: dedupe(roster.items.into_iter().map(RosterItem::from)),
    })
}

/// Contacts are unique by normalised bare JID; a server that lists one twice keeps the last.
fn dedupe(items: impl Iterator<Item = RosterItem>) -> Vec<RosterItem> {
    let mut out: Vec<RosterItem> = Vec::new();
    for item in items {
        if let Some(existing) = out.iter_mut().find(|i| i.jid == item.jid) {
            *existing = item;
        } else {
            out.push(item);
        }
    }
    out
}

/// A validated roster push: one item (subscription "remove" means deleted) plus the new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterPush {
    pub id: String,
    pub version: Option<String>,
    pub item: RosterItem,
}

/// Validates an IQ set in the roster namespace. Only pushes without `from` or from our own bare
/// JID are accepted (RFC 6121 §2.1.6).
pub fn parse_push(iq: &Iq, own: &FullJid) -> Result<Option<RosterPush>, RosterError> {
    let Iq::Set {
        from, id, payload, ..
    } = iq
    else {
        return Ok(None);
    };
    if !payload.is("query", crate::ns::ROSTER) {
        return Ok(None);
    }
    if let Some(from) = from
        && !is_own_account(from, own)
    {
        return Err(RosterError::NotFromOwnAccount(from.to_string()));
    }
    let roster =
        Roster::try_from(payload.clone()).map_err(|e| RosterError::Invalid(e.to_string()))?;
    let mut items = roster.items.into_iter();
    let (Some(item), None) = (items.next(), items.next()) else {
        return Err(RosterError::Invalid(
            "a roster push must carry exactly one item".into(),
        ));
    };
    Ok(Some(RosterPush {
        id: id.clone(),
        version: roster.ver,
        item: item.into(),
    }))
}

fn is_own_account(from: &Jid, own: &FullJid) -> bool {
    from.resource().is_none() && from.to_bare() == own.to_bare()
}

/// Adds or updates a contact (name and groups).
pub fn set_request(id: String, jid: BareJid, name: Option<String>, groups: Vec<String>) -> Iq {
    let item = Item {
        jid,
        name,
        subscription: Subscription::None,
        ask: Ask::None,
        groups: groups
            .into_iter()
            .map(xmpp_parsers::roster::Group)
            .collect(),
        approved: None,
    };
    Iq::from_set(
        id,
        Roster {
            ver: None,
            items: vec![item],
        },
    )
}

/// Removes a contact (and cancels subscriptions both ways, RFC 6121 §2.5).
pub fn remove_request(id: String, jid: BareJid) -> Iq {
    let item = Item {
        jid,
        name: None,
        subscription: Subscription::Remove,
        ask: Ask::None,
        groups: vec![],
        approved: None,
    };
    Iq::from_set(
        id,
        Roster {
            ver: None,
            items: vec![item],
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn own() -> FullJid {
        FullJid::new("alice@example.org/linnet.abc").unwrap()
    }

    fn push(from: Option<&str>) -> Iq {
        let xml = format!(
            "<iq xmlns='jabber:client' type='set' id='p1'{}><query xmlns='jabber:iq:roster' ver='v2'><item jid='Bob@Example.org' subscription='both'/></query></iq>",
            from.map(|f| format!(" from='{f}'")).unwrap_or_default()
        );
        Iq::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn push_from_nobody_or_own_bare_jid_is_accepted_and_normalised() {
        for from in [None, Some("alice@example.org")] {
            let p = parse_push(&push(from), &own()).unwrap().unwrap();
            assert_eq!(p.item.jid.as_str(), "bob@example.org");
            assert_eq!(p.version.as_deref(), Some("v2"));
        }
    }

    #[test]
    fn push_from_a_stranger_or_own_full_jid_is_rejected() {
        for from in [
            "mallory@evil.example",
            "alice@example.org/other",
            "example.org",
        ] {
            assert!(
                matches!(
                    parse_push(&push(Some(from)), &own()),
                    Err(RosterError::NotFromOwnAccount(_))
                ),
                "{from}"
            );
        }
    }

    #[test]
    fn empty_result_means_unchanged_and_duplicates_collapse() {
        assert_eq!(parse_fetch(None).unwrap(), RosterFetch::Unchanged);
        let q: Element = "<query xmlns='jabber:iq:roster' ver='7'><item jid='bob@example.org' name='B'/><item jid='BOB@example.org' name='Bob'/></query>".parse().unwrap();
        let RosterFetch::Full { version, items } = parse_fetch(Some(q)).unwrap() else {
            panic!()
        };
        assert_eq!(version.as_deref(), Some("7"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].name.as_deref(), Some("Bob"));
    }
}
