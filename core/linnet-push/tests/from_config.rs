//! `PushServer::from_config` opens the store the file names: SQLite, and the test PostgreSQL
//! (`servers.sh start` runs it); the handler then answers through that store.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_push::PushServer;
use linnet_push::config::Config;
use linnet_xmpp::{Element, ns};

async fn unknown_node_answer(config: Config) -> Element {
    let server = PushServer::from_config(config).await.unwrap();
    let publish: Element = "<iq xmlns='jabber:component:accept' type='set' id='p' from='a.example' to='push.example.org'>\
        <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='no-such-node-anywhere'/></pubsub></iq>"
        .parse()
        .unwrap();
    server.service().handle(&publish).await.unwrap()
}

fn assert_item_not_found(answer: &Element) {
    let error = answer.get_child("error", ns::CLIENT).unwrap();
    assert_eq!(error.attr("type"), Some("cancel"));
    assert!(error.get_child("item-not-found", ns::STANZAS).is_some());
}

const COMPONENT: &str =
    "[component]\njid = 'push.example.org'\nhost = '127.0.0.1'\nport = 5347\nsecret = 's'\n";

#[tokio::test]
async fn sqlite_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml(
        &format!("{COMPONENT}[store]\nsqlite = 'r.db'\n"),
        dir.path(),
    )
    .unwrap();
    assert_item_not_found(&unknown_node_answer(config).await);
    assert!(dir.path().join("r.db").exists());
}

#[tokio::test]
async fn postgres_from_config() {
    let text = std::fs::read_to_string("/tmp/linnet-test-servers/servers.json")
        .expect("test servers running (bash tests/servers/servers.sh start)");
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    let url = state["postgres"]["url"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml(
        &format!("{COMPONENT}[store]\npostgres = '{url}'\nhash_key_file = 'hash.key'\n"),
        dir.path(),
    )
    .unwrap();
    assert_item_not_found(&unknown_node_answer(config).await);
}
