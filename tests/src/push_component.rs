//! A tiny push app server for the SDK's push tests: external components (XEP-0114) on a test
//! server's `push.<domain>` and `push2.<domain>` that answer the registration commands with a
//! fresh node and secret, answer every publish with a result, and record everything they
//! receive (with the address it was sent to) so that tests can assert on what the *server* did
//! (see tests/tests/push_client.rs).
//!
//! ejabberd gives every connection of its component listener all the listener's hosts, so a
//! stanza for `push2` may arrive on the connection made as `push`: both connections feed one
//! record, each stanza is answered from the address it was sent to, and tests look at that
//! address rather than at the connection.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use linnet_xmpp::Element;
use linnet_xmpp::component::{self, ComponentConfig, ComponentError, ComponentSender};
use tokio::sync::mpsc;

use crate::TestServer;

/// What the components received, and at which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The component address the stanza was sent to.
    pub to: String,
    pub what: Received,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// An ad-hoc command (`register-push-fcm`, `unregister-push`, ...) with its submitted fields,
    /// and what the component answered (`node`, `secret` for a registration).
    Command {
        from: String,
        node: String,
        fields: BTreeMap<String, String>,
        answered: BTreeMap<String, String>,
    },
    /// A pubsub publish from a user's server (XEP-0357).
    Publish {
        from: String,
        node: String,
        secret: Option<String>,
    },
    /// Anything else addressed to the component (answered with an error), as XML.
    Other { stanza: String },
}

/// The running test components of one server.
pub struct PushComponents {
    /// `push.<domain>` and `push2.<domain>`.
    pub jids: [String; 2],
    received: mpsc::UnboundedReceiver<Arrival>,
    /// Publishes that arrived while a command was awaited.
    publishes: Vec<Arrival>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for PushComponents {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The push component addresses `servers.sh` configured on `server` (`push.<domain>` and
/// `push2.<domain>`), with the host, port and secret to connect.
fn push_config(server: &TestServer, index: usize) -> ComponentConfig {
    let path = crate::state_dir().join("servers.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let push = &json[server.name]["push"];
    let jid = push["jids"][index].as_str().unwrap_or_else(|| {
        panic!(
            "{} has no push component {index} in {}: restart the servers with this servers.sh",
            server.name,
            path.display()
        )
    });
    ComponentConfig::new(
        jid,
        push["host"].as_str().unwrap(),
        u16::try_from(push["port"].as_u64().unwrap()).unwrap(),
        push["secret"].as_str().unwrap(),
    )
}

/// Connects one component address. Prosody allows one connection per address: while another
/// test holds it, this waits (up to 60 s).
async fn connect(config: &ComponentConfig) -> (component::ComponentStream, ComponentSender) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match component::connect(config).await {
            Ok(c) => return c,
            Err(ComponentError::Conflict) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{}: cannot connect the push component: {e}", config.jid),
        }
    }
}

/// A command as received: its node, the submitted fields, and what the component answered
/// (`jid`, `node`, `secret` for a registration).
pub type Command = (String, BTreeMap<String, String>, BTreeMap<String, String>);

impl PushComponents {
    /// Connects as `push.<domain>` and `push2.<domain>`.
    pub async fn start(server: &TestServer) -> PushComponents {
        let (tx, received) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        let mut jids = Vec::new();
        for index in 0..2 {
            let config = push_config(server, index);
            let (stream, sender) = connect(&config).await;
            jids.push(config.jid.clone());
            tasks.push((stream, sender));
        }
        let issued = Arc::new(Mutex::new(HashSet::new()));
        let tasks = tasks
            .into_iter()
            .map(|(stream, sender)| {
                let ours = Ours {
                    jids: jids.clone(),
                    issued: issued.clone(),
                };
                tokio::spawn(serve(stream, sender, ours, tx.clone()))
            })
            .collect();
        PushComponents {
            jids: [jids[0].clone(), jids[1].clone()],
            received,
            publishes: Vec::new(),
            tasks,
        }
    }

    /// The next command, which must be at `to` (publishes seen meanwhile are kept aside).
    pub async fn next_command(&mut self, to: &str, what: &str) -> Command {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.received.recv()).await {
                Ok(Some(Arrival {
                    to: at,
                    what:
                        Received::Command {
                            node,
                            fields,
                            answered,
                            ..
                        },
                })) => {
                    assert_eq!(at, to, "{what}: the command went to {at}");
                    return (node, fields, answered);
                }
                Ok(Some(other)) => self.publishes.push(other),
                Ok(None) => panic!("the push components stopped waiting for {what}"),
                Err(_) => panic!("{to}: timed out waiting for {what}"),
            }
        }
    }

    /// Forgets the publishes received so far (before the next message is sent).
    pub fn forget_publishes(&mut self) {
        while let Ok(arrival) = self.received.try_recv() {
            assert!(
                !matches!(arrival.what, Received::Command { .. }),
                "an unexpected command: {arrival:?}"
            );
        }
        self.publishes.clear();
    }

    /// Waits for a publish at `to` for `node` (with this secret, from `domain`); a publish for
    /// any other node fails. (A server may publish a node more than once: ejabberd publishes
    /// again for a message it queues offline again when a session closes without acknowledging
    /// it. `expect_nothing` takes an `allowed` node for that.)
    pub async fn expect_publish(&mut self, to: &str, node: &str, secret: &str, domain: &str) {
        let arrival = match self.publishes.pop() {
            Some(a) => a,
            None => match tokio::time::timeout(Duration::from_secs(20), self.received.recv()).await
            {
                Ok(Some(a)) => a,
                Ok(None) => panic!("the push components stopped"),
                Err(_) => panic!("{to}: timed out waiting for a publish for {node}"),
            },
        };
        let Received::Publish {
            from,
            node: published,
            secret: with,
        } = arrival.what
        else {
            panic!("{to}: waiting for a publish: got {arrival:?}");
        };
        assert_eq!(arrival.to, to, "a publish went to the wrong app server");
        assert_eq!(published, node, "a publish for another node");
        assert_eq!(with.as_deref(), Some(secret), "the publish's secret");
        assert_eq!(from, domain, "the publisher");
    }

    /// Asserts that no publish (except for `allowed`, the node in effect) and no command
    /// arrives for `window` (a bounded negative wait).
    pub async fn expect_nothing(&mut self, window: Duration, allowed: Option<&str>, what: &str) {
        let deadline = tokio::time::Instant::now() + window;
        let mut pending = std::mem::take(&mut self.publishes);
        loop {
            let arrival = match pending.pop() {
                Some(a) => a,
                None => match tokio::time::timeout_at(deadline, self.received.recv()).await {
                    Ok(Some(a)) => a,
                    _ => return,
                },
            };
            match &arrival.what {
                Received::Publish { node, .. } if Some(node.as_str()) == allowed => {}
                _ => panic!("expected nothing ({what}), got {arrival:?}"),
            }
        }
    }
}

/// The addresses served, and the nodes handed out, by one set of test components.
struct Ours {
    jids: Vec<String>,
    issued: Arc<Mutex<HashSet<String>>>,
}

/// 128 random bits in hex.
fn random_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn iq_answer(to: &str, from: &str, id: &str, kind: &str, payload: Option<Element>) -> Element {
    let mut text = format!(
        "<iq xmlns='jabber:client' type='{kind}' to='{}' from='{}' id='{}'/>",
        escape(to),
        escape(from),
        escape(id)
    );
    if kind == "error" {
        text = format!(
            "<iq xmlns='jabber:client' type='error' to='{}' from='{}' id='{}'><error type='cancel'>\
             <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            escape(to),
            escape(from),
            escape(id)
        );
    }
    let mut iq: Element = text.parse().unwrap();
    if let Some(p) = payload {
        iq.append_child(p);
    }
    iq
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('\'', "&apos;")
        .replace('<', "&lt;")
}

async fn serve(
    mut stream: component::ComponentStream,
    sender: ComponentSender,
    ours: Ours,
    tx: mpsc::UnboundedSender<Arrival>,
) {
    while let Ok(stanza) = stream.next().await {
        // Answered from the address it was sent to (see the module docs).
        let jid = stanza.attr("to").unwrap_or_default().to_string();
        // ejabberd also routes its other components' traffic (the phone gateway's) here: that is
        // answered, not recorded.
        let record = |what: Received| {
            if !ours.jids.contains(&jid) {
                return;
            }
            let _ = tx.send(Arrival {
                to: jid.clone(),
                what,
            });
        };
        if stanza.name() != "iq" {
            continue;
        }
        let kind = stanza.attr("type").unwrap_or_default().to_string();
        if kind != "get" && kind != "set" {
            continue;
        }
        let from = stanza.attr("from").unwrap_or_default().to_string();
        let id = stanza.attr("id").unwrap_or_default().to_string();
        let payload = stanza.children().next().cloned();
        let answer = match payload {
            Some(p) if kind == "set" && p.is("command", linnet_xmpp::ns::COMMANDS) => {
                let Ok(request) = linnet_xmpp::adhoc::parse_request(&p) else {
                    let _ = sender
                        .send(&iq_answer(&from, &jid, &id, "error", None))
                        .await;
                    continue;
                };
                let answered: BTreeMap<String, String> = if request.node.starts_with("register-") {
                    let node = random_hex();
                    ours.issued.lock().unwrap().insert(node.clone());
                    [
                        ("jid".to_string(), jid.clone()),
                        ("node".to_string(), node),
                        ("secret".to_string(), random_hex()),
                    ]
                    .into()
                } else {
                    BTreeMap::new()
                };
                let fields: Vec<(&str, &str)> = answered
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let reply = linnet_xmpp::adhoc::completed(&request, &fields);
                record(Received::Command {
                    from: from.clone(),
                    node: request.node.clone(),
                    fields: request.fields.clone(),
                    answered: answered.clone(),
                });
                iq_answer(&from, &jid, &id, "result", Some(reply))
            }
            Some(p) if kind == "set" && p.is("pubsub", linnet_xmpp::ns::PUBSUB) => {
                match linnet_xmpp::push::parse_publish(&p) {
                    // Registrations left by earlier runs (ejabberd's keepalive pushes to
                    // sessions awaiting resumption): refused, so the server drops them.
                    Ok(publish) if !ours.issued.lock().unwrap().contains(&publish.node) => {
                        iq_answer(&from, &jid, &id, "error", None)
                    }
                    Ok(publish) => {
                        record(Received::Publish {
                            from: from.clone(),
                            node: publish.node.clone(),
                            secret: publish.secret.clone(),
                        });
                        iq_answer(&from, &jid, &id, "result", None)
                    }
                    Err(_) => {
                        record(Received::Other {
                            stanza: String::from(&stanza),
                        });
                        iq_answer(&from, &jid, &id, "error", None)
                    }
                }
            }
            _ => {
                // Queries (the doctor's disco of the server's items) are no news.
                if kind == "set" {
                    record(Received::Other {
                        stanza: String::from(&stanza),
                    });
                }
                iq_answer(&from, &jid, &id, "error", None)
            }
        };
        if sender.send(&answer).await.is_err() {
            break;
        }
    }
}
