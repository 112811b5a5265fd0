//! A look into an account's server archive (XEP-0313) that does not go through Linnet's archive
//! sync: for tests that check what the server holds (seeding, a message missing from a store)
//! independently of the code under test. A minimal query over the protocol layer (own resource,
//! no store).

use linnet_xmpp::session::SessionEvent;
use linnet_xmpp::xmpp_parsers::iq::Iq;
use linnet_xmpp::{Element, ns};

use crate::TestServer;
use crate::seed::{RawSession, login};

const RSM: &str = "http://jabber.org/protocol/rsm";
const FORWARD: &str = "urn:xmpp:forward:0";

fn field(var: &str, value: &str) -> Element {
    Element::builder("field", "jabber:x:data")
        .attr(rxml::xml_ncname!("var").into(), var)
        .append(
            Element::builder("value", "jabber:x:data")
                .append(value)
                .build(),
        )
        .build()
}

/// The bodies of the messages from `with` in `jid`'s archive, oldest first.
pub async fn archived_bodies(
    server: &TestServer,
    jid: &str,
    password: &str,
    with: &str,
) -> Vec<String> {
    let RawSession {
        handle, mut events, ..
    } = login(server, jid, password, "archive", true).await;
    let mut bodies = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let form = Element::builder("x", "jabber:x:data")
            .attr(rxml::xml_ncname!("type").into(), "submit")
            .append(field("FORM_TYPE", ns::MAM))
            .append(field("with", with))
            .build();
        let mut set =
            Element::builder("set", RSM).append(Element::builder("max", RSM).append("250").build());
        if let Some(last) = &after {
            set = set.append(Element::builder("after", RSM).append(last.as_str()).build());
        }
        let query = Element::builder("query", ns::MAM)
            .append(form)
            .append(set.build())
            .build();
        let iq = Element::builder("iq", ns::CLIENT)
            .attr(rxml::xml_ncname!("type").into(), "set")
            .attr(rxml::xml_ncname!("id").into(), handle.new_id())
            .append(query)
            .build();
        let fin = handle
            .iq(Iq::try_from(iq).unwrap())
            .await
            .unwrap()
            .expect("a <fin/>");
        // The results came as messages before the answer, in order.
        while let Ok(event) = events.try_recv() {
            let SessionEvent::Message(m) = event else {
                continue;
            };
            let inner = m
                .payloads
                .iter()
                .find(|p| p.is("result", ns::MAM))
                .and_then(|r| r.get_child("forwarded", FORWARD))
                .and_then(|f| f.get_child("message", ns::CLIENT));
            if let Some(body) = inner.and_then(|m| m.get_child("body", ns::CLIENT)) {
                bodies.push(body.text());
            }
        }
        let complete = matches!(fin.attr("complete"), Some("true") | Some("1"));
        after = fin
            .get_child("set", RSM)
            .and_then(|s| s.get_child("last", RSM))
            .map(|l| l.text());
        if complete || after.is_none() {
            break;
        }
    }
    handle.close().await;
    bodies
}
