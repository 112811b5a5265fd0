//! The XEP-0114 connection against the real test servers (`tests/servers/servers.sh start`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use linnet_xmpp::Element;
use linnet_xmpp::component::{self, ComponentConfig, ComponentError};

struct PushServer {
    jids: Vec<String>,
    host: String,
    port: u16,
    secret: String,
}

fn push_server(server: &str) -> PushServer {
    let text = std::fs::read_to_string("/tmp/linnet-test-servers/servers.json")
        .expect("test servers running (bash tests/servers/servers.sh start)");
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let push = &all[server]["push"];
    PushServer {
        jids: push["jids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j.as_str().unwrap().to_string())
            .collect(),
        host: push["host"].as_str().unwrap().to_string(),
        port: u16::try_from(push["port"].as_u64().unwrap()).unwrap(),
        secret: push["secret"].as_str().unwrap().to_string(),
    }
}

/// The tests of this file share `jids[1]` (the app-server tests use `jids[0]`), and Prosody
/// refuses a second connection while one is up: wait for the other test to let go.
async fn connect_when_free(
    config: &ComponentConfig,
) -> (component::ComponentStream, component::ComponentSender) {
    for _ in 0..100 {
        match component::connect(config).await {
            Ok(c) => return c,
            Err(ComponentError::Conflict) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the component address stayed busy for 10 s");
}

/// Connects, then pings the server and waits for its answer: the link carries stanzas both ways.
async fn connects_and_talks(server: &str, jid_index: usize) {
    let s = push_server(server);
    let jid = &s.jids[jid_index];
    let (mut stream, sender) =
        connect_when_free(&ComponentConfig::new(jid, &s.host, s.port, &s.secret)).await;
    let domain = jid.split_once('.').unwrap().1;
    let ping: Element = format!(
        "<iq xmlns='jabber:client' type='get' id='t1' from='{jid}' to='{domain}'><ping xmlns='urn:xmpp:ping'/></iq>"
    )
    .parse()
    .unwrap();
    sender.send(&ping).await.unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer.name(), "iq");
    assert_eq!(answer.attr("id"), Some("t1"));
    assert_eq!(answer.attr("type"), Some("result"), "{answer:?}");
}

async fn wrong_secret_is_refused(server: &str) {
    let s = push_server(server);
    let err = component::connect(&ComponentConfig::new(&s.jids[1], &s.host, s.port, "wrong"))
        .await
        .unwrap_err();
    assert_eq!(err, ComponentError::NotAuthorized);
}

#[tokio::test]
async fn prosody_component_connects_and_talks() {
    connects_and_talks("prosody", 1).await;
}

#[tokio::test]
async fn ejabberd_component_connects_and_talks() {
    connects_and_talks("ejabberd", 1).await;
}

#[tokio::test]
async fn prosody_refuses_a_wrong_secret() {
    wrong_secret_is_refused("prosody").await;
}

#[tokio::test]
async fn ejabberd_refuses_a_wrong_secret() {
    wrong_secret_is_refused("ejabberd").await;
}

/// Prosody serves one connection per component address: a second one gets `conflict` while
/// the first is up, and connects once the first is gone.
#[tokio::test]
async fn prosody_second_connection_gets_conflict() {
    let s = push_server("prosody");
    let config = ComponentConfig::new(&s.jids[1], &s.host, s.port, &s.secret);
    let first = connect_when_free(&config).await;
    assert_eq!(
        component::connect(&config).await.unwrap_err(),
        ComponentError::Conflict
    );
    drop(first);
}
