//! Message Archive Management (XEP-0313, `urn:xmpp:mam:2`) with Result Set Management paging
//! (XEP-0059): one page of the account's own archive per call.
//!
//! Who may say this: a result is accepted only for a query that is open on this session (its
//! `queryid`) and only from the account's own archive (no `from`, or our own bare JID). Anything
//! else that looks like a result is left to `chat::classify`, which drops it.
//!
//! What the servers do (see the test-server notes): Prosody clamps pages to 50, says
//! `complete='true'` only when true and gives no `count`; ejabberd clamps to 250, always says
//! `complete` and gives a `count`. Ids are opaque on both. Callers page until `complete` and never
//! rely on `count`.

use std::time::Duration;

use jid::BareJid;
use minidom::Element;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;

use crate::ns;
use crate::session::{Collect, IqError, SessionHandle};

const RSM: &str = "http://jabber.org/protocol/rsm";
const DATA: &str = "jabber:x:data";

/// Where a page starts, in archive ids (RSM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// The page after this id, oldest first; `None`: the first page of the archive.
    After(Option<String>),
    /// The page before this id; `None`: the newest page.
    Before(Option<String>),
}

/// One page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Only the conversation with this JID.
    pub with: Option<BareJid>,
    /// Only messages archived at or after this time (ms since the epoch): used when an id we
    /// hold is no longer in the archive.
    pub start_ms: Option<i64>,
    pub page: Page,
    /// Page size asked for (servers clamp it silently).
    pub max: u32,
}

/// The end of a page (`<fin/>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fin {
    /// The server says there is nothing more in the paging direction.
    pub complete: bool,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Total size of the result set, when the server says (ejabberd does, Prosody does not).
    pub count: Option<u64>,
}

/// One archived message.
#[derive(Debug, Clone, PartialEq)]
pub struct Archived {
    /// The archive id (the same as the live `<stanza-id/>` our server stamped).
    pub archive_id: String,
    /// When the server archived it (ms since the epoch).
    pub stamp_ms: Option<i64>,
    /// The message as it was sent or received.
    pub message: Message,
}

/// A page of results, oldest first within the page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArchivePage {
    pub fin: Fin,
    pub results: Vec<Archived>,
    /// Results of this query that were malformed and skipped.
    pub malformed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum MamError {
    #[error("{0}")]
    Iq(#[from] IqError),
    #[error("the archive answered without a <fin/>")]
    NoFin,
    #[error("cannot build the query: {0}")]
    Build(String),
}

impl MamError {
    /// The server does not know the RSM id we paged from (it left the archive).
    pub fn is_unknown_id(&self) -> bool {
        self.condition() == Some(xmpp_parsers::stanza_error::DefinedCondition::ItemNotFound)
    }

    /// The server has no archive for us.
    pub fn is_unsupported(&self) -> bool {
        use xmpp_parsers::stanza_error::DefinedCondition as C;
        matches!(
            self.condition(),
            Some(C::FeatureNotImplemented | C::ServiceUnavailable)
        )
    }

    fn condition(&self) -> Option<xmpp_parsers::stanza_error::DefinedCondition> {
        match self {
            MamError::Iq(IqError::Error(e)) => Some(e.defined_condition.clone()),
            _ => None,
        }
    }
}

fn text_element(name: &str, namespace: &str, text: &str) -> Element {
    Element::builder(name, namespace).append(text).build()
}

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", DATA)
        .attr(rxml::xml_ncname!("var").into(), var)
        .append(text_element("value", DATA, value))
        .build()
}

fn iso8601(ms: i64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp_millis(ms)?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// The `<iq type='set'>` for one page.
pub fn request(iq_id: String, query_id: &str, query: &Query) -> Result<Iq, MamError> {
    let mut form = Element::builder("x", DATA)
        .attr(rxml::xml_ncname!("type").into(), "submit")
        .append(field("FORM_TYPE", ns::MAM));
    if let Some(with) = &query.with {
        form = form.append(field("with", with.as_str()));
    }
    if let Some(start) = query.start_ms.and_then(iso8601) {
        form = form.append(field("start", &start));
    }
    let mut set =
        Element::builder("set", RSM).append(text_element("max", RSM, &query.max.to_string()));
    set = match &query.page {
        Page::After(Some(id)) => set.append(text_element("after", RSM, id)),
        Page::After(None) => set,
        Page::Before(id) => set.append(text_element("before", RSM, id.as_deref().unwrap_or(""))),
    };
    let payload = Element::builder("query", ns::MAM)
        .attr(rxml::xml_ncname!("queryid").into(), query_id)
        .append(form.build())
        .append(set.build())
        .build();
    let iq = Element::builder("iq", ns::CLIENT)
        .attr(rxml::xml_ncname!("type").into(), "set")
        .attr(rxml::xml_ncname!("id").into(), iq_id.as_str())
        .append(payload)
        .build();
    Iq::try_from(iq).map_err(|e| MamError::Build(e.to_string()))
}

/// The `<result/>` of `message`, if it is one for query `query_id` from `own`'s archive.
fn result_for<'a>(message: &'a Message, query_id: &str, own: &BareJid) -> Option<&'a Element> {
    let from_own_archive = message
        .from
        .as_ref()
        .is_none_or(|f| f.resource().is_none() && f.to_bare() == *own);
    if !from_own_archive {
        return None;
    }
    message
        .payloads
        .iter()
        .find(|p| p.is("result", ns::MAM) && p.attr("queryid") == Some(query_id))
}

/// Which messages belong to query `query_id`: results from `own`'s archive, at most `max`.
pub fn collect(query_id: String, own: BareJid, max: u32) -> Collect {
    Collect {
        accepts: Box::new(move |m| result_for(m, &query_id, &own).is_some()),
        limit: max as usize,
    }
}

/// An archived message from a collected result (`None`: malformed).
pub fn parse_result(message: &Message, query_id: &str, own: &BareJid) -> Option<Archived> {
    let result = result_for(message, query_id, own)?;
    let archive_id = result.attr("id").filter(|id| !id.is_empty())?.to_string();
    let forwarded = result.get_child("forwarded", ns::FORWARD)?;
    let inner = Message::try_from(forwarded.get_child("message", ns::CLIENT)?.clone()).ok()?;
    let stamp_ms = forwarded
        .get_child("delay", ns::DELAY)
        .and_then(|d| xmpp_parsers::delay::Delay::try_from(d.clone()).ok())
        .map(|d| d.stamp.0.timestamp_millis());
    Some(Archived {
        archive_id,
        stamp_ms,
        message: inner,
    })
}

/// Reads a `<fin/>`.
pub fn parse_fin(payload: Option<&Element>) -> Result<Fin, MamError> {
    let fin = payload
        .filter(|p| p.is("fin", ns::MAM))
        .ok_or(MamError::NoFin)?;
    let set = fin.get_child("set", RSM);
    let child = |name: &str| {
        set.and_then(|s| s.get_child(name, RSM))
            .map(|e| e.text())
            .filter(|t| !t.is_empty())
    };
    Ok(Fin {
        complete: matches!(fin.attr("complete"), Some("true" | "1")),
        first: child("first"),
        last: child("last"),
        count: child("count").and_then(|c| c.trim().parse().ok()),
    })
}

/// Fetches one page of the account's archive.
pub async fn query(
    handle: &SessionHandle,
    query: &Query,
    timeout: Duration,
) -> Result<ArchivePage, MamError> {
    let own = handle.info().bound_jid.to_bare();
    let query_id = handle.new_id();
    let answer = handle
        .iq_collecting(
            request(handle.new_id(), &query_id, query)?,
            timeout,
            collect(query_id.clone(), own.clone(), query.max),
        )
        .await?;
    let fin = parse_fin(answer.payload.as_ref())?;
    let mut page = ArchivePage {
        fin,
        ..ArchivePage::default()
    };
    for m in &answer.collected {
        match parse_result(m, &query_id, &own) {
            Some(a) => page.results.push(a),
            None => page.malformed += 1,
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn own() -> BareJid {
        BareJid::new("alice@example.org").unwrap()
    }

    fn result(from: Option<&str>, query_id: &str, id: &str) -> Message {
        let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
        let xml = format!(
            "<message xmlns='jabber:client'{from} to='alice@example.org/phone'>\
             <result xmlns='urn:xmpp:mam:2' queryid='{query_id}' id='{id}'>\
             <forwarded xmlns='urn:xmpp:forward:0'>\
             <delay xmlns='urn:xmpp:delay' stamp='2026-11-26T03:00:00.250Z'/>\
             <message xmlns='jabber:client' from='bob@example.org/x' to='alice@example.org' \
             type='chat' id='m1'><body>hi</body></message></forwarded></result></message>"
        );
        Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
    }

    #[test]
    fn results_are_accepted_only_for_the_open_query_from_the_own_archive() {
        let c = collect("q1".into(), own(), 10);
        assert!((c.accepts)(&result(None, "q1", "a")));
        assert!((c.accepts)(&result(Some("alice@example.org"), "q1", "a")));
        assert!(!(c.accepts)(&result(Some("alice@example.org"), "q2", "a")));
        assert!(!(c.accepts)(&result(
            Some("mallory@example.org"),
            "q1",
            "a"
        )));
        assert!(!(c.accepts)(&result(
            Some("alice@example.org/laptop"),
            "q1",
            "a"
        )));
        assert!(!(c.accepts)(&result(Some("example.org"), "q1", "a")));
    }

    #[test]
    fn a_result_gives_its_archive_id_stamp_and_message() {
        let a = parse_result(&result(None, "q1", "arch-7"), "q1", &own()).unwrap();
        assert_eq!(a.archive_id, "arch-7");
        assert_eq!(
            a.stamp_ms,
            Some(
                chrono::DateTime::parse_from_rfc3339("2026-11-26T03:00:00.250Z")
                    .unwrap()
                    .timestamp_millis()
            )
        );
        assert_eq!(a.message.bodies[""], "hi");
        assert!(parse_result(&result(None, "q1", ""), "q1", &own()).is_none());
    }

    #[test]
    fn fin_reads_both_servers_shapes() {
        let prosody: Element =
            "<fin xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>\
             <first>x1</first><last>x9</last></set></fin>"
                .parse()
                .unwrap();
        let fin = parse_fin(Some(&prosody)).unwrap();
        assert!(!fin.complete);
        assert_eq!(fin.last.as_deref(), Some("x9"));
        assert_eq!(fin.count, None);
        let ejabberd: Element = "<fin xmlns='urn:xmpp:mam:2' complete='true'>\
             <set xmlns='http://jabber.org/protocol/rsm'><count>12</count></set></fin>"
            .parse()
            .unwrap();
        let fin = parse_fin(Some(&ejabberd)).unwrap();
        assert!(fin.complete);
        assert_eq!((fin.first, fin.last, fin.count), (None, None, Some(12)));
        assert!(parse_fin(None).is_err());
    }

    #[test]
    fn requests_page_forward_backward_and_by_conversation() {
        let q = Query {
            with: Some(BareJid::new("bob@example.org").unwrap()),
            start_ms: Some(0),
            page: Page::Before(None),
            max: 50,
        };
        let xml = String::from(&Element::from(request("i1".into(), "q1", &q).unwrap()));
        assert!(xml.contains("queryid='q1'"), "{xml}");
        assert!(xml.contains("<value>bob@example.org</value>"), "{xml}");
        assert!(
            xml.contains("<value>1970-01-01T00:00:00.000Z</value>"),
            "{xml}"
        );
        assert!(
            xml.contains("<before/>") || xml.contains("<before></before>"),
            "{xml}"
        );
        let q = Query {
            with: None,
            start_ms: None,
            page: Page::After(Some("x9".into())),
            max: 250,
        };
        let xml = String::from(&Element::from(request("i2".into(), "q2", &q).unwrap()));
        assert!(xml.contains("<after>x9</after>"), "{xml}");
        assert!(xml.contains("<max>250</max>"), "{xml}");
        assert!(!xml.contains("with"), "{xml}");
    }
}
