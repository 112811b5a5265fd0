//! Push notifications (XEP-0357): the client's `<enable/>` / `<disable/>`, and the app server's
//! reading of the pubsub publish a user's server sends.
//!
//! The publish parser accepts what the servers we test against really send (research note 1.4,
//! 1.5): Prosody's mod_cloud_notify (summary with `message-count` 1 and a dummy body), ejabberd's
//! mod_push (a dummy body only, or an empty `<notification/>` from keepalive wake-ups). Only the
//! node and the secret matter for forwarding; the summary is reduced to a count and "had a body"
//! and is never printed in debug output (an admin may have turned on real bodies).

use std::fmt;

use jid::Jid;
use minidom::Element;
use rxml::xml_ncname as n;

use crate::adhoc::{self, AdhocError};
use crate::ns;

/// At most this many bytes in a node (ours are 32 hex characters).
pub const MAX_NODE_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("not a pubsub element")]
    NotPubsub,
    #[error("the pubsub element has no publish")]
    NoPublish,
    #[error("the publish has no node")]
    MissingNode,
    #[error("the node is longer than {MAX_NODE_BYTES} bytes")]
    NodeTooLong,
    #[error("bad data form: {0}")]
    Form(#[from] AdhocError),
}

/// What the user's server told us about the pending activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub message_count: Option<u32>,
    /// A non-empty `last-message-body` (on default settings a constant dummy text).
    pub has_body: bool,
}

/// A publish to the push service.
#[derive(Clone, PartialEq, Eq)]
pub struct PushPublish {
    pub node: String,
    /// The `secret` publish option, as the client passed it in its enable.
    pub secret: Option<String>,
    /// `None` when the notification carried no summary form (ejabberd without a body).
    pub summary: Option<Summary>,
}

impl fmt::Debug for PushPublish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushPublish")
            .field("node", &"<redacted>")
            .field("has_secret", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

/// `<enable xmlns='urn:xmpp:push:0' jid=… node=…>` with the publish-options form carrying
/// `secret` (the payload of an IQ set to the account's own bare JID).
pub fn enable(app_server: &Jid, node: &str, secret: &str) -> Element {
    Element::builder("enable", ns::PUSH)
        .attr(n!("jid").into(), app_server.to_string())
        .attr(n!("node").into(), node)
        .append(adhoc::form(
            "submit",
            &[
                ("FORM_TYPE", ns::PUBSUB_PUBLISH_OPTIONS),
                ("secret", secret),
            ],
        ))
        .build()
}

/// `<disable xmlns='urn:xmpp:push:0' jid=… [node=…]/>`; without a node, every node of that app
/// server is disabled.
pub fn disable(app_server: &Jid, node: Option<&str>) -> Element {
    Element::builder("disable", ns::PUSH)
        .attr(n!("jid").into(), app_server.to_string())
        .attr(n!("node").into(), node)
        .build()
}

/// Reads the `<pubsub>` payload of a publish IQ. Lenient about what the servers add or leave
/// out (item, notification, summary, other publish options); strict about the node.
pub fn parse_publish(pubsub: &Element) -> Result<PushPublish, PushError> {
    if !pubsub.is("pubsub", ns::PUBSUB) {
        return Err(PushError::NotPubsub);
    }
    let publish = pubsub
        .get_child("publish", ns::PUBSUB)
        .ok_or(PushError::NoPublish)?;
    let node = publish
        .attr("node")
        .filter(|n| !n.is_empty())
        .ok_or(PushError::MissingNode)?;
    if node.len() > MAX_NODE_BYTES {
        return Err(PushError::NodeTooLong);
    }

    let notification = publish
        .get_child("item", ns::PUBSUB)
        .and_then(|item| item.get_child("notification", ns::PUSH));
    let mut summary = None;
    if let Some(notification) = notification {
        for x in notification
            .children()
            .filter(|c| c.is("x", ns::DATA_FORMS))
        {
            let fields = adhoc::read_form(x)?;
            if fields.get("FORM_TYPE").map(String::as_str) != Some(ns::PUSH_SUMMARY) {
                continue;
            }
            summary = Some(Summary {
                message_count: fields
                    .get("message-count")
                    .and_then(|c| c.trim().parse().ok()),
                has_body: fields
                    .get("last-message-body")
                    .is_some_and(|b| !b.trim().is_empty()),
            });
            break;
        }
    }

    let mut secret = None;
    if let Some(options) = pubsub.get_child("publish-options", ns::PUBSUB) {
        for x in options.children().filter(|c| c.is("x", ns::DATA_FORMS)) {
            let fields = adhoc::read_form(x)?;
            // Lenient: a form without FORM_TYPE is read too; only another FORM_TYPE is skipped.
            if fields
                .get("FORM_TYPE")
                .is_some_and(|t| t != ns::PUBSUB_PUBLISH_OPTIONS)
            {
                continue;
            }
            if let Some(s) = fields.get("secret") {
                secret = Some(s.clone());
                break;
            }
        }
    }

    Ok(PushPublish {
        node: node.to_string(),
        secret,
        summary,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn pubsub_of(iq: &str) -> Element {
        let iq: Element = iq.parse().unwrap();
        iq.get_child("pubsub", ns::PUBSUB).unwrap().clone()
    }

    /// What Prosody 0.12's mod_cloud_notify sends with its defaults: message-count 1, the dummy
    /// body for an important message, the stored publish-options appended.
    const PROSODY: &str = "<iq xmlns='jabber:component:accept' type='set' from='prosody.test' \
        to='push.prosody.test' id='b0a5c8e4d0b1f'>\
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>\
          <publish node='4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99'><item>\
            <notification xmlns='urn:xmpp:push:0'>\
              <x xmlns='jabber:x:data' type='submit'>\
                <field var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>\
                <field var='message-count'><value>1</value></field>\
                <field var='last-message-body'><value>New Message!</value></field>\
              </x>\
            </notification></item></publish>\
          <publish-options><x xmlns='jabber:x:data' type='submit'>\
            <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
            <field var='secret'><value>0011223344556677</value></field>\
          </x></publish-options>\
        </pubsub></iq>";

    /// ejabberd 23.01 mod_push with defaults, for a chat message with a body.
    const EJABBERD_BODY: &str = "<iq xmlns='jabber:component:accept' type='set' from='ejabberd.test' \
        to='push.ejabberd.test' id='6f1d'>\
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>\
          <publish node='node-e'><item>\
            <notification xmlns='urn:xmpp:push:0'>\
              <x xmlns='jabber:x:data' type='submit'>\
                <field type='hidden' var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>\
                <field type='text-single' var='last-message-body'><value>New message</value></field>\
              </x>\
            </notification></item></publish>\
          <publish-options><x xmlns='jabber:x:data' type='submit'>\
            <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
            <field var='secret'><value>s-e</value></field>\
          </x></publish-options>\
        </pubsub></iq>";

    /// ejabberd's keepalive wake-up: an empty notification.
    const EJABBERD_EMPTY: &str = "<iq xmlns='jabber:component:accept' type='set' from='ejabberd.test' \
        to='push.ejabberd.test' id='6f1e'>\
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>\
          <publish node='node-e'><item><notification xmlns='urn:xmpp:push:0'/></item></publish>\
          <publish-options><x xmlns='jabber:x:data' type='submit'>\
            <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
            <field var='secret'><value>s-e</value></field>\
          </x></publish-options>\
        </pubsub></iq>";

    #[test]
    fn prosody_publish() {
        let p = parse_publish(&pubsub_of(PROSODY)).unwrap();
        assert_eq!(p.node, "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99");
        assert_eq!(p.secret.as_deref(), Some("0011223344556677"));
        assert_eq!(
            p.summary,
            Some(Summary {
                message_count: Some(1),
                has_body: true
            })
        );
        let debug = format!("{p:?}");
        assert!(!debug.contains("0011223344556677") && !debug.contains("4f3c2a1b"));
    }

    #[test]
    fn ejabberd_publish_with_body_and_empty() {
        let p = parse_publish(&pubsub_of(EJABBERD_BODY)).unwrap();
        assert_eq!(p.node, "node-e");
        assert_eq!(p.secret.as_deref(), Some("s-e"));
        assert_eq!(
            p.summary,
            Some(Summary {
                message_count: None,
                has_body: true
            })
        );
        let p = parse_publish(&pubsub_of(EJABBERD_EMPTY)).unwrap();
        assert_eq!(p.secret.as_deref(), Some("s-e"));
        assert_eq!(p.summary, None);
    }

    #[test]
    fn publish_without_options_or_item() {
        let el: Element =
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub>"
                .parse()
                .unwrap();
        let p = parse_publish(&el).unwrap();
        assert_eq!(p.secret, None);
        assert_eq!(p.summary, None);
    }

    #[test]
    fn publish_errors() {
        let cases = [
            (
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'/>",
                PushError::NoPublish,
            ),
            (
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish/></pubsub>",
                PushError::MissingNode,
            ),
            (
                "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node=''/></pubsub>",
                PushError::MissingNode,
            ),
            ("<pubsub xmlns='urn:other'/>", PushError::NotPubsub),
        ];
        for (xml, expected) in cases {
            let el: Element = xml.parse().unwrap();
            assert_eq!(parse_publish(&el), Err(expected), "{xml}");
        }
        let long = format!(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{}'/></pubsub>",
            "a".repeat(MAX_NODE_BYTES + 1)
        );
        assert_eq!(
            parse_publish(&long.parse().unwrap()),
            Err(PushError::NodeTooLong)
        );
    }

    #[test]
    fn enable_and_disable() {
        let app: Jid = "push.example".parse().unwrap();
        let el = enable(&app, "node1", "sec1");
        assert!(el.is("enable", ns::PUSH));
        assert_eq!(el.attr("jid"), Some("push.example"));
        assert_eq!(el.attr("node"), Some("node1"));
        let fields = adhoc::read_form(el.get_child("x", ns::DATA_FORMS).unwrap()).unwrap();
        assert_eq!(
            fields.get("FORM_TYPE").map(String::as_str),
            Some(ns::PUBSUB_PUBLISH_OPTIONS)
        );
        assert_eq!(fields.get("secret").map(String::as_str), Some("sec1"));
        // What the server will later send back as publish-options parses as our secret.
        let publish = Element::builder("pubsub", ns::PUBSUB)
            .append(
                Element::builder("publish", ns::PUBSUB)
                    .attr(n!("node").into(), "node1")
                    .build(),
            )
            .append(
                Element::builder("publish-options", ns::PUBSUB)
                    .append(el.get_child("x", ns::DATA_FORMS).unwrap().clone())
                    .build(),
            )
            .build();
        assert_eq!(
            parse_publish(&publish).unwrap().secret.as_deref(),
            Some("sec1")
        );

        let d = disable(&app, Some("node1"));
        assert_eq!(d.attr("node"), Some("node1"));
        let all = disable(&app, None);
        assert!(all.is("disable", ns::PUSH));
        assert_eq!(all.attr("node"), None);
    }
}
