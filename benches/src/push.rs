//! The push app server's throughput (issue 8): pushes forwarded per second to the fake APNs
//! endpoint (HTTP/2 over TLS, ES256 checks on every request).
//!
//! Two figures from one run:
//! - `provider`: the APNs sender alone driving the fake (no XMPP): the ceiling of the HTTP/2 leg.
//! - `app server`: linnet-push started from its config file (connected as `push.<domain>` to the
//!   real server), with its SQLite or PostgreSQL store, handed the stanzas directly: `--devices`
//!   registrations (the ad-hoc command of an account `user<i>@bench.example`), then one publish
//!   to each node as `bench.example`'s server would send it (XEP-0357), `--window` in flight.
//!   Every publish is parsed, checked (domain, secret in constant time), rate-limited in the
//!   store and forwarded: one APNs request each. The XMPP server's routing is not in the figure:
//!   a component cannot publish in the name of a user's domain.
//!
//! Usage: linnet-push-bench [--server prosody|ejabberd] [--devices N] [--window W]

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::Instant;

use linnet_push::apns::ApnsProvider;
use linnet_push::provider::{PushProvider as _, Wakeup};
use linnet_push::store::Platform;
use linnet_tests::fake_push::FakeApns;
use linnet_tests::push::{AppServer, StoreKind};
use linnet_xmpp::Element;
use linnet_xmpp::adhoc;
use tokio::sync::Semaphore;

struct Args {
    server: &'static str,
    devices: usize,
    window: usize,
}

fn args() -> Args {
    let mut a = Args {
        server: "prosody",
        devices: 2000,
        window: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--server" if value == "prosody" => a.server = "prosody",
            "--server" if value == "ejabberd" => a.server = "ejabberd",
            "--devices" => a.devices = value.parse().unwrap(),
            "--window" => a.window = value.parse().unwrap(),
            _ => panic!("unknown argument {flag} {value}"),
        }
    }
    a
}

fn token(i: usize) -> String {
    // 64 hex digits, never one of the fake's scripted suffixes (…0410 and so on).
    format!("{:060x}beef", i + 1)
}

/// The provider alone: `count` wake-ups, `window` at a time.
async fn provider_rate(apns: &FakeApns, count: usize, window: usize) -> f64 {
    let provider = Arc::new(ApnsProvider::new(apns.config()).unwrap());
    let permits = Arc::new(Semaphore::new(window));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let provider = provider.clone();
        tasks.push(tokio::spawn(async move {
            let wakeup = Wakeup {
                platform: Platform::Apns { sandbox: false },
                token: token(i),
                node: format!("bench{i}"),
            };
            provider.send(&wakeup).await.unwrap();
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn iq(from: &str, to: &str, id: usize, payload: Element) -> Element {
    let mut iq: Element = format!(
        "<iq xmlns='jabber:component:accept' type='set' id='b{id}' from='{from}' to='{to}'/>"
    )
    .parse()
    .unwrap();
    iq.append_child(payload);
    iq
}

fn publish(node: &str, secret: &str) -> Element {
    format!(
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='{node}'><item>\
         <notification xmlns='urn:xmpp:push:0'/></item></publish><publish-options>\
         <x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>\
         <value>http://jabber.org/protocol/pubsub#publish-options</value></field>\
         <field var='secret'><value>{secret}</value></field></x></publish-options></pubsub>"
    )
    .parse()
    .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = args();
    let server = linnet_tests::server(args.server);

    let apns = FakeApns::start().await;
    let ceiling = provider_rate(&apns, args.devices, args.window).await;
    println!(
        "push provider: {} wake-ups to the fake APNs, window {}: {ceiling:.0} pushes/s",
        args.devices, args.window
    );

    for store in [StoreKind::Sqlite, StoreKind::Postgres] {
        let app = AppServer::start(&server, store).await;
        app_server_rate(&app, &args, store).await;
        app.stop().await;
    }
}

async fn app_server_rate(app: &AppServer, args: &Args, store: StoreKind) {
    let service = app.server.service().clone();
    let started = Instant::now();
    let mut registrations = Vec::with_capacity(args.devices);
    for i in 0..args.devices {
        let token = token(i);
        let device = format!("device{i}");
        let register = adhoc::execute(
            "register-push-apns",
            &[
                ("token", token.as_str()),
                ("device-id", device.as_str()),
                ("environment", "production"),
            ],
        );
        let from = format!("user{i}@bench.example/phone");
        let answer = service
            .handle(&iq(&from, &app.jid, i, register))
            .await
            .expect("an answer");
        let response = answer
            .children()
            .find_map(|c| adhoc::parse_response(c).ok())
            .unwrap_or_else(|| panic!("registration refused: {}", String::from(&answer)));
        registrations.push((
            response.fields["node"].clone(),
            response.fields["secret"].clone(),
        ));
    }
    let registering = started.elapsed();
    println!(
        "push registration ({store:?}): {} devices one at a time in {:.2} s ({:.0}/s)",
        args.devices,
        registering.as_secs_f64(),
        args.devices as f64 / registering.as_secs_f64()
    );

    let permits = Arc::new(Semaphore::new(args.window));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.devices);
    for (i, (node, secret)) in registrations.into_iter().enumerate() {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let service = service.clone();
        let to = app.jid.clone();
        tasks.push(tokio::spawn(async move {
            let answer = service
                .handle(&iq("bench.example", &to, i, publish(&node, &secret)))
                .await
                .expect("an answer");
            assert_eq!(answer.attr("type"), Some("result"), "{answer:?}");
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let took = started.elapsed();
    let forwarded = app.apns.request_count();
    println!(
        "push app server ({store:?}): {} publishes, window {}, {forwarded} forwarded in {:.2} s: \
         {:.0} pushes/s; stats {:?}",
        args.devices,
        args.window,
        took.as_secs_f64(),
        args.devices as f64 / took.as_secs_f64(),
        app.stats()
    );
    assert_eq!(
        forwarded, args.devices,
        "every publish became one APNs request"
    );
    assert!(app.apns.requests().iter().all(|r| r.verdict.is_ok()));
}
