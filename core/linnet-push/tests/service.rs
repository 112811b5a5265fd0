//! The stanza handler without a connection: registrations, disco and the publish checks, with
//! the real SQLite store and a scripted in-process push provider.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use linnet_push::config::HashKey;
use linnet_push::provider::{ProviderError, PushProvider, Wakeup};
use linnet_push::server::{Providers, PushService};
use linnet_push::store::{Platform, RegistrationStore};
use linnet_push::store_sqlite::SqliteStore;
use linnet_xmpp::adhoc::{self, CommandStatus};
use linnet_xmpp::{Element, ns};

const COMPONENT: &str = "push.example.org";
const ACCOUNT: &str = "alice@a.example/phone";
const SERVER: &str = "a.example";

/// Answers by token: a token containing "gone" is dead, "busy" is a transient failure, "auth"
/// our credentials refused; everything else is delivered.
#[derive(Default)]
struct FakeProvider {
    sent: Mutex<Vec<Wakeup>>,
}

#[async_trait]
impl PushProvider for FakeProvider {
    async fn send(&self, wakeup: &Wakeup) -> Result<(), ProviderError> {
        if wakeup.token.contains("gone") {
            Err(ProviderError::TokenGone("Unregistered".into()))
        } else if wakeup.token.contains("busy") {
            Err(ProviderError::Transient("503".into()))
        } else if wakeup.token.contains("auth") {
            Err(ProviderError::Auth("403".into()))
        } else {
            self.sent.lock().unwrap().push(wakeup.clone());
            Ok(())
        }
    }
}

impl FakeProvider {
    fn sent(&self) -> Vec<Wakeup> {
        self.sent.lock().unwrap().clone()
    }
}

struct Setup {
    service: PushService,
    store: Arc<SqliteStore>,
    fcm: Arc<FakeProvider>,
    apns: Arc<FakeProvider>,
    _dir: tempfile::TempDir,
}

fn setup_with(interval: Duration, with_apns: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("reg.db")).unwrap());
    let fcm = Arc::new(FakeProvider::default());
    let apns = Arc::new(FakeProvider::default());
    let providers = Providers {
        apns: with_apns.then(|| apns.clone() as Arc<dyn PushProvider>),
        fcm: Some(fcm.clone()),
    };
    let service = PushService::new(
        COMPONENT,
        store.clone(),
        providers,
        HashKey(vec![7; 32]),
        interval,
    );
    Setup {
        service,
        store,
        fcm,
        apns,
        _dir: dir,
    }
}

fn setup() -> Setup {
    setup_with(Duration::from_secs(2), true)
}

fn iq(kind: &str, from: &str, payload: Element) -> Element {
    let mut iq: Element = format!(
        "<iq xmlns='jabber:component:accept' type='{kind}' id='q1' from='{from}' to='{COMPONENT}'/>"
    )
    .parse()
    .unwrap();
    iq.append_child(payload);
    iq
}

fn parse(xml: &str) -> Element {
    xml.parse().unwrap()
}

/// (type, condition) of an error answer; panics on a result.
fn error_of(answer: &Element) -> (String, String) {
    assert_eq!(
        answer.attr("type"),
        Some("error"),
        "{}",
        String::from(answer)
    );
    let error = answer.get_child("error", ns::CLIENT).unwrap();
    let condition = error
        .children()
        .find(|c| c.ns() == ns::STANZAS && c.name() != "text")
        .unwrap();
    (
        error.attr("type").unwrap().to_string(),
        condition.name().to_string(),
    )
}

fn assert_result(answer: &Element) {
    assert_eq!(
        answer.attr("type"),
        Some("result"),
        "{}",
        String::from(answer)
    );
    assert_eq!(answer.attr("id"), Some("q1"));
    assert!(answer.attr("to").is_some());
    assert_eq!(answer.attr("from"), Some(COMPONENT));
}

struct Registered {
    node: String,
    secret: String,
}

async fn register_as(s: &Setup, from: &str, command: &str, fields: &[(&str, &str)]) -> Element {
    s.service
        .handle(&iq("set", from, adhoc::execute(command, fields)))
        .await
        .unwrap()
}

async fn register(s: &Setup, token: &str, device: &str) -> Registered {
    let answer = register_as(
        s,
        ACCOUNT,
        "register-push-fcm",
        &[("token", token), ("device-id", device)],
    )
    .await;
    assert_result(&answer);
    let response =
        adhoc::parse_response(answer.get_child("command", ns::COMMANDS).unwrap()).unwrap();
    assert_eq!(response.status, CommandStatus::Completed);
    assert_eq!(response.fields["jid"], COMPONENT);
    Registered {
        node: response.fields["node"].clone(),
        secret: response.fields["secret"].clone(),
    }
}

fn publish_payload(node: &str, secret: Option<&str>) -> Element {
    let options = secret
        .map(|s| {
            format!(
                "<publish-options><x xmlns='jabber:x:data' type='submit'>\
                 <field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
                 <field var='secret'><value>{s}</value></field></x></publish-options>"
            )
        })
        .unwrap_or_default();
    parse(&format!(
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{node}'><item>\
         <notification xmlns='urn:xmpp:push:0'><x xmlns='jabber:x:data' type='submit'>\
         <field var='FORM_TYPE'><value>urn:xmpp:push:summary</value></field>\
         <field var='message-count'><value>1</value></field>\
         <field var='last-message-body'><value>New Message!</value></field></x>\
         </notification></item></publish>{options}</pubsub>"
    ))
}

async fn publish_from(s: &Setup, from: &str, node: &str, secret: Option<&str>) -> Element {
    s.service
        .handle(&iq("set", from, publish_payload(node, secret)))
        .await
        .unwrap()
}

async fn publish(s: &Setup, r: &Registered) -> Element {
    publish_from(s, SERVER, &r.node, Some(&r.secret)).await
}

#[tokio::test]
async fn disco_ping_and_unknown_payloads() {
    let s = setup();
    let answer = s
        .service
        .handle(&iq(
            "get",
            ACCOUNT,
            parse("<query xmlns='http://jabber.org/protocol/disco#info'/>"),
        ))
        .await
        .unwrap();
    assert_result(&answer);
    let info = linnet_xmpp::disco::parse_info(answer.get_child("query", ns::DISCO_INFO));
    assert!(
        info.identities
            .iter()
            .any(|(c, t, _)| c == "pubsub" && t == "push")
    );
    assert!(info.has(ns::PUSH) && info.has(ns::COMMANDS));

    let answer = s
        .service
        .handle(&iq(
            "get",
            ACCOUNT,
            parse("<query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/>"),
        ))
        .await
        .unwrap();
    let nodes: Vec<_> = answer
        .get_child("query", ns::DISCO_ITEMS)
        .unwrap()
        .children()
        .filter_map(|i| i.attr("node").map(str::to_string))
        .collect();
    assert_eq!(
        nodes,
        ["register-push-apns", "register-push-fcm", "unregister-push"]
    );

    let answer = s
        .service
        .handle(&iq("get", SERVER, parse("<ping xmlns='urn:xmpp:ping'/>")))
        .await
        .unwrap();
    assert_result(&answer);

    // Unknown payloads, get or set, and an empty IQ: always an answer.
    for (kind, payload) in [
        ("get", "<vCard xmlns='vcard-temp'/>"),
        ("set", "<query xmlns='jabber:iq:register'/>"),
    ] {
        let answer = s
            .service
            .handle(&iq(kind, ACCOUNT, parse(payload)))
            .await
            .unwrap();
        assert_eq!(
            error_of(&answer),
            ("cancel".into(), "service-unavailable".into())
        );
    }
    let empty = parse(&format!(
        "<iq xmlns='jabber:component:accept' type='get' id='q1' from='{ACCOUNT}' to='{COMPONENT}'/>"
    ));
    assert!(s.service.handle(&empty).await.is_some());
    // Answers and other stanzas get none.
    let result = parse(&format!(
        "<iq xmlns='jabber:component:accept' type='result' id='q1' from='{SERVER}' to='{COMPONENT}'/>"
    ));
    assert!(s.service.handle(&result).await.is_none());
    let message = parse(&format!(
        "<message xmlns='jabber:component:accept' from='{ACCOUNT}' to='{COMPONENT}'><body>hi</body></message>"
    ));
    assert!(s.service.handle(&message).await.is_none());
}

#[tokio::test]
async fn registration_stores_no_jid_and_a_new_registration_replaces_the_old() {
    let s = setup();
    let first = register(&s, "fcm-token-first", "device-1").await;
    assert_eq!(first.node.len(), 32);
    assert_eq!(first.secret.len(), 32);
    let stored = s.store.by_node(&first.node).await.unwrap().unwrap();
    assert_eq!(stored.domain, SERVER);
    assert_eq!(stored.platform, Platform::Fcm);
    assert_eq!(stored.token, "fcm-token-first");
    assert_ne!(stored.secret_hash, first.secret);
    assert!(!stored.device_hash.contains("alice"));

    // The same device again (new token): the old node is gone.
    let second = register(&s, "fcm-token-second", "device-1").await;
    assert_ne!(second.node, first.node);
    assert!(s.store.by_node(&first.node).await.unwrap().is_none());
    assert_eq!(s.store.count().await.unwrap(), 1);
    // From another resource of the same account: the same device.
    let answer = register_as(
        &s,
        "alice@a.example/laptop",
        "register-push-apns",
        &[
            ("token", "abcdef0123456789"),
            ("device-id", "device-1"),
            ("environment", "sandbox"),
        ],
    )
    .await;
    assert_result(&answer);
    assert_eq!(s.store.count().await.unwrap(), 1);
    let node = adhoc::parse_response(answer.get_child("command", ns::COMMANDS).unwrap())
        .unwrap()
        .fields["node"]
        .clone();
    let stored = s.store.by_node(&node).await.unwrap().unwrap();
    assert_eq!(stored.platform, Platform::Apns { sandbox: true });

    // Unregister removes it.
    let answer = register_as(&s, ACCOUNT, "unregister-push", &[("device-id", "device-1")]).await;
    assert_result(&answer);
    assert_eq!(s.store.count().await.unwrap(), 0);
    assert_eq!(s.service.stats().snapshot().registered, 3);
}

#[tokio::test]
async fn registration_errors() {
    let s = setup_with(Duration::from_secs(2), false);
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        (&'a str, &'a str),
    );
    let cases: [Case<'_>; 6] = [
        (
            ACCOUNT,
            "register-push-fcm",
            vec![("device-id", "d")],
            ("modify", "bad-request"),
        ),
        (
            ACCOUNT,
            "register-push-fcm",
            vec![("token", "fcm-token-1")],
            ("modify", "bad-request"),
        ),
        (
            ACCOUNT,
            "register-push-fcm",
            vec![("token", "has space inside"), ("device-id", "d")],
            ("modify", "bad-request"),
        ),
        // APNs is not configured on this server.
        (
            ACCOUNT,
            "register-push-apns",
            vec![("token", "abcdef0123456789"), ("device-id", "d")],
            ("cancel", "feature-not-implemented"),
        ),
        // A server, not an account.
        (
            SERVER,
            "register-push-fcm",
            vec![("token", "fcm-token-1"), ("device-id", "d")],
            ("auth", "forbidden"),
        ),
        (
            ACCOUNT,
            "register-push-carrier-pigeon",
            vec![],
            ("cancel", "item-not-found"),
        ),
    ];
    for (from, command, fields, expected) in cases {
        let answer = register_as(&s, from, command, &fields).await;
        assert_eq!(
            error_of(&answer),
            (expected.0.to_string(), expected.1.to_string()),
            "{command} {fields:?}"
        );
    }
    assert_eq!(s.store.count().await.unwrap(), 0);
}

#[tokio::test]
async fn right_secret_forwards_a_content_free_wakeup() {
    let s = setup();
    let r = register(&s, "fcm-token-ok", "d").await;
    assert_result(&publish(&s, &r).await);
    let sent = s.fcm.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].token, "fcm-token-ok");
    assert_eq!(sent[0].node, r.node);
    assert_eq!(sent[0].platform, Platform::Fcm);
    assert!(s.apns.sent().is_empty());
    assert_eq!(s.service.stats().snapshot().forwarded, 1);
}

#[tokio::test]
async fn ejabberd_empty_notification_is_forwarded_too() {
    let s = setup();
    let r = register(&s, "fcm-token-ok", "d").await;
    let payload = parse(&format!(
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{}'><item>\
         <notification xmlns='urn:xmpp:push:0'/></item></publish>\
         <publish-options><x xmlns='jabber:x:data' type='submit'>\
         <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
         <field var='secret'><value>{}</value></field></x></publish-options></pubsub>",
        r.node, r.secret
    ));
    assert_result(&s.service.handle(&iq("set", SERVER, payload)).await.unwrap());
    assert_eq!(s.fcm.sent().len(), 1);
}

#[tokio::test]
async fn wrong_or_missing_secret_is_forbidden_and_nothing_is_forwarded() {
    let s = setup();
    let r = register(&s, "fcm-token-ok", "d").await;
    let wrong = "0".repeat(32);
    for secret in [Some(wrong.as_str()), None, Some("")] {
        let answer = publish_from(&s, SERVER, &r.node, secret).await;
        assert_eq!(error_of(&answer), ("auth".into(), "forbidden".into()));
    }
    assert!(s.fcm.sent().is_empty());
    assert_eq!(s.service.stats().snapshot().refused, 3);
    // The registration survives.
    assert!(s.store.by_node(&r.node).await.unwrap().is_some());
}

#[tokio::test]
async fn wrong_domain_or_a_user_publishing_is_forbidden() {
    let s = setup();
    let r = register(&s, "fcm-token-ok", "d").await;
    for from in [
        "b.example",
        "alice@a.example",
        "alice@a.example/phone",
        "a.example/x",
    ] {
        let answer = publish_from(&s, from, &r.node, Some(&r.secret)).await;
        assert_eq!(
            error_of(&answer),
            ("auth".into(), "forbidden".into()),
            "{from}"
        );
    }
    assert!(s.fcm.sent().is_empty());
}

#[tokio::test]
async fn unknown_node_is_item_not_found() {
    let s = setup();
    let answer = publish_from(&s, SERVER, "no-such-node", Some("x")).await;
    assert_eq!(
        error_of(&answer),
        ("cancel".into(), "item-not-found".into())
    );
    let malformed = s
        .service
        .handle(&iq(
            "set",
            SERVER,
            parse("<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish/></pubsub>"),
        ))
        .await
        .unwrap();
    assert_eq!(
        error_of(&malformed),
        ("modify".into(), "bad-request".into())
    );
}

#[tokio::test]
async fn token_gone_deletes_the_registration() {
    let s = setup();
    let r = register(&s, "fcm-token-gone", "d").await;
    let answer = publish(&s, &r).await;
    assert_eq!(
        error_of(&answer),
        ("cancel".into(), "item-not-found".into())
    );
    assert!(s.store.by_node(&r.node).await.unwrap().is_none());
    assert_eq!(s.service.stats().snapshot().token_gone, 1);
    // The next publish for it: unknown.
    let answer = publish(&s, &r).await;
    assert_eq!(
        error_of(&answer),
        ("cancel".into(), "item-not-found".into())
    );
}

#[tokio::test]
async fn provider_trouble_is_wait_and_keeps_the_registration() {
    let s = setup();
    let busy = register(&s, "fcm-token-busy", "d1").await;
    let answer = publish(&s, &busy).await;
    assert_eq!(
        error_of(&answer),
        ("wait".into(), "resource-constraint".into())
    );
    let auth = register(&s, "fcm-token-auth", "d2").await;
    let answer = publish(&s, &auth).await;
    assert_eq!(
        error_of(&answer),
        ("wait".into(), "internal-server-error".into())
    );
    assert_eq!(s.store.count().await.unwrap(), 2);
    assert_eq!(s.service.stats().snapshot().errors, 2);
}

#[tokio::test]
async fn a_burst_forwards_now_then_once_more_after_the_interval() {
    let s = setup_with(Duration::from_millis(400), true);
    let r = register(&s, "fcm-token-ok", "d").await;
    let started = std::time::Instant::now();
    // Now, After, Coalesced, Coalesced: every publish is answered with a result.
    for _ in 0..4 {
        assert_result(&publish(&s, &r).await);
    }
    assert_eq!(s.fcm.sent().len(), 1);
    let stats = s.service.stats().snapshot();
    assert_eq!((stats.deferred, stats.coalesced), (1, 2));
    assert_eq!(s.service.deferred().pending(), 1);
    // The queued push goes out at the end of the interval.
    s.service.deferred().idle().await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let sent = s.fcm.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].node, r.node);
    assert_eq!(s.service.stats().snapshot().forwarded, 2);
}

#[tokio::test]
async fn a_queued_push_for_a_device_that_unregistered_is_dropped() {
    let s = setup_with(Duration::from_millis(300), true);
    let r = register(&s, "fcm-token-ok", "d").await;
    assert_result(&publish(&s, &r).await);
    assert_result(&publish(&s, &r).await);
    assert_eq!(s.service.deferred().pending(), 1);
    let answer = register_as(&s, ACCOUNT, "unregister-push", &[("device-id", "d")]).await;
    assert_result(&answer);
    s.service.deferred().idle().await;
    assert_eq!(s.fcm.sent().len(), 1);
}
