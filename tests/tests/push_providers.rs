//! linnet-push's APNs and FCM senders against the fake endpoints (tests/src/fake_push.rs):
//! what reaches the push services, how their errors map, token caching and renewal, and that
//! device tokens never reach logs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use linnet_push::apns::ApnsProvider;
use linnet_push::fcm::FcmProvider;
use linnet_push::provider::{ProviderError, PushProvider, Wakeup};
use linnet_push::store::Platform;
use linnet_tests::fake_push::{
    ApnsAnswer, FakeApns, FakeFcm, FcmAnswer, TEST_PROJECT, TEST_TOPIC, service_account_json,
};
use serde_json::json;

/// A 64-hex-character APNs token ending in `suffix`.
fn apns_token(suffix: &str) -> String {
    let prefix = "5ca1ab1e".repeat(8);
    format!("{}{suffix}", &prefix[..64 - suffix.len()])
}

fn apns_wakeup(token: &str, sandbox: bool) -> Wakeup {
    Wakeup {
        platform: Platform::Apns { sandbox },
        token: token.to_string(),
        node: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".to_string(),
    }
}

fn fcm_wakeup(token: &str) -> Wakeup {
    Wakeup {
        platform: Platform::Fcm,
        token: token.to_string(),
        node: "a1b2c3d4e5f60718293a4b5c6d7e8f90".to_string(),
    }
}

#[tokio::test]
async fn apns_wakeup_carries_the_headers_the_provider_token_and_the_fixed_body_only() {
    let fake = FakeApns::start().await;
    let provider = ApnsProvider::new(fake.config()).unwrap();
    let token = apns_token("");
    let wakeup = apns_wakeup(&token, false);
    provider.send(&wakeup).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.verdict, Ok(()));
    assert_eq!(r.status, 200);
    assert_eq!(r.token, token);
    assert!(!r.sandbox);
    assert_eq!(r.header("apns-topic"), Some(TEST_TOPIC));
    assert_eq!(r.header("apns-push-type"), Some("alert"));
    assert_eq!(r.header("apns-priority"), Some("10"));
    let expiration: i64 = r.header("apns-expiration").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((expiration - (now + 86_400)).abs() < 60, "{expiration}");
    assert_eq!(r.header("apns-collapse-id").map(str::len), Some(32));
    assert!(r.header("authorization").unwrap().starts_with("bearer "));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"aps": {"alert": {"title": "Linnet", "body": "New activity"},
            "mutable-content": 1, "sound": "default"}, "node": wakeup.node})
    );

    // A sandbox registration goes to the sandbox endpoint.
    provider.send(&apns_wakeup(&token, true)).await.unwrap();
    let requests = fake.requests();
    assert!(requests[1].sandbox);
    assert_eq!(requests[1].verdict, Ok(()));
}

#[tokio::test]
async fn apns_errors_map_to_provider_errors() {
    let fake = FakeApns::start().await;
    let provider = ApnsProvider::new(fake.config()).unwrap();
    let send = |token: String| {
        let provider = &provider;
        async move { provider.send(&apns_wakeup(&token, false)).await }
    };
    assert!(
        matches!(send(apns_token("0410")).await, Err(ProviderError::TokenGone(r)) if r == "Unregistered")
    );
    assert!(
        matches!(send(apns_token("0400")).await, Err(ProviderError::TokenGone(r)) if r == "BadDeviceToken")
    );
    assert!(matches!(
        send(apns_token("0429")).await,
        Err(ProviderError::RateLimited)
    ));
    // …0500: a 500 first, then 200.
    assert!(matches!(
        send(apns_token("0500")).await,
        Err(ProviderError::Transient(_))
    ));
    send(apns_token("0500")).await.unwrap();

    let scripted = [
        (ApnsAnswer::error(400, "DeviceTokenNotForTopic"), "gone"),
        (ApnsAnswer::error(400, "BadTopic"), "rejected"),
        (ApnsAnswer::error(413, "PayloadTooLarge"), "rejected"),
        (ApnsAnswer::error(503, "ServiceUnavailable"), "transient"),
        (
            ApnsAnswer::error(403, "TooManyProviderTokenUpdates"),
            "auth",
        ),
        (ApnsAnswer::error(403, "BadCertificate"), "auth"),
    ];
    for (i, (answer, expected)) in scripted.into_iter().enumerate() {
        let token = apns_token(&format!("abc{i}"));
        fake.script(&token, [answer.clone()]);
        let before = fake.requests().len();
        let got = send(token).await;
        let kind = match &got {
            Err(ProviderError::TokenGone(_)) => "gone",
            Err(ProviderError::Rejected(_)) => "rejected",
            Err(ProviderError::Transient(_)) => "transient",
            Err(ProviderError::Auth(_)) => "auth",
            other => panic!("{answer:?}: {other:?}"),
        };
        assert_eq!(kind, expected, "{answer:?}");
        // None of these is retried.
        assert_eq!(fake.requests().len(), before + 1, "{answer:?}");
    }
    // Every request the fake saw was well-formed: the errors were the scripted ones.
    assert!(fake.requests().iter().all(|r| r.verdict.is_ok()));
}

#[tokio::test]
async fn apns_provider_token_is_reused_and_renewed_once_after_a_refusal() {
    let fake = FakeApns::start().await;
    let provider = ApnsProvider::new(fake.config()).unwrap();
    for _ in 0..5 {
        provider
            .send(&apns_wakeup(&apns_token(""), false))
            .await
            .unwrap();
    }
    assert_eq!(fake.distinct_provider_tokens(), 1);

    // Apple says the token expired: one new token, the push retried and delivered.
    fake.revoke_provider_tokens();
    provider
        .send(&apns_wakeup(&apns_token(""), false))
        .await
        .unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 7);
    assert_eq!(requests[5].status, 403);
    assert_eq!(requests[6].status, 200);
    assert_ne!(requests[5].jwt, requests[6].jwt);
    assert_eq!(fake.distinct_provider_tokens(), 2);
    // And the new token is kept.
    provider
        .send(&apns_wakeup(&apns_token(""), false))
        .await
        .unwrap();
    assert_eq!(fake.distinct_provider_tokens(), 2);

    // Refused again after the renewal: Auth, after exactly two requests.
    let token = apns_token("beef");
    fake.script(
        &token,
        [
            ApnsAnswer::error(403, "InvalidProviderToken"),
            ApnsAnswer::error(403, "InvalidProviderToken"),
        ],
    );
    let before = fake.requests().len();
    let got = provider.send(&apns_wakeup(&token, false)).await;
    assert!(matches!(got, Err(ProviderError::Auth(r)) if r == "InvalidProviderToken"));
    assert_eq!(fake.requests().len(), before + 2);
}

#[tokio::test]
async fn apns_malformed_tokens_never_leave_the_process() {
    let fake = FakeApns::start().await;
    let provider = ApnsProvider::new(fake.config()).unwrap();
    for token in [
        String::new(),
        "abc".to_string(),
        "zz".repeat(32),
        format!("{}/../../x", "ab".repeat(32)),
        "ab".repeat(101),
    ] {
        let got = provider.send(&apns_wakeup(&token, false)).await;
        assert!(matches!(got, Err(ProviderError::TokenGone(_))), "{token:?}");
    }
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn apns_failures_to_reach_the_service_are_transient() {
    // A server whose certificate we do not trust.
    let fake = FakeApns::start().await;
    let other = FakeApns::start().await;
    let mut config = fake.config();
    config.extra_ca_pem = Some(other.ca_pem().to_string());
    let provider = ApnsProvider::new(config).unwrap();
    let token = apns_token("");
    let got = provider.send(&apns_wakeup(&token, false)).await;
    match &got {
        Err(ProviderError::Transient(why)) => {
            // The cause is named, the URL (it holds the device token) is not.
            assert!(why.contains("invalid peer certificate"), "{why}");
            assert!(!why.contains(&token), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.request_count(), 0);

    // Nothing listening.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = fake.config();
    config.base_url = Some(format!("https://127.0.0.1:{closed}"));
    let provider = ApnsProvider::new(config).unwrap();
    let got = provider.send(&apns_wakeup(&apns_token(""), false)).await;
    assert!(matches!(got, Err(ProviderError::Transient(_))), "{got:?}");
}

#[tokio::test]
async fn apns_provider_token_signed_with_another_key_is_refused_as_auth() {
    let fake = FakeApns::start().await;
    let mut config = fake.config();
    config.key_pem = linnet_tests::fake_push::ApnsTestKey::generate().key_pem;
    let provider = ApnsProvider::new(config).unwrap();
    let got = provider.send(&apns_wakeup(&apns_token(""), false)).await;
    assert!(
        matches!(&got, Err(ProviderError::Auth(r)) if r == "InvalidProviderToken"),
        "{got:?}"
    );
    // Refused, renewed once, refused again.
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.verdict == Err("bad signature".to_string()))
    );
}

#[tokio::test]
async fn apns_setup_refuses_bad_keys_and_urls() {
    let fake = FakeApns::start().await;
    let mut config = fake.config();
    config.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into();
    assert!(ApnsProvider::new(config).is_err());
    let mut config = fake.config();
    config.base_url = Some("ftp://example.org".into());
    assert!(ApnsProvider::new(config).is_err());
    let mut config = fake.config();
    config.extra_ca_pem = Some("not a certificate".into());
    assert!(ApnsProvider::new(config).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_many_concurrent_pushes_share_one_provider_token() {
    let fake = FakeApns::start().await;
    let provider = Arc::new(ApnsProvider::new(fake.config()).unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move {
                provider
                    .send(&apns_wakeup(&apns_token(&format!("{i:04}a")), false))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 200);
    assert!(requests.iter().all(|r| r.verdict.is_ok()));
    assert_eq!(fake.distinct_provider_tokens(), 1);
}

#[tokio::test]
async fn fcm_wakeup_is_a_data_only_high_priority_message() {
    let fake = FakeFcm::start().await;
    let provider = FcmProvider::new(fake.config()).unwrap();
    let wakeup = fcm_wakeup("fcm-token-1");
    provider.send(&wakeup).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.verdict, Ok(()));
    assert_eq!(r.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"message": {"token": "fcm-token-1", "data": {"node": wakeup.node},
            "android": {"priority": "HIGH", "ttl": "86400s"}}})
    );
    assert_eq!(fake.token_fetches(), 1);
    assert!(fake.token_refusals().is_empty());
}

#[tokio::test]
async fn fcm_access_token_is_fetched_once_for_many_pushes_and_renewed_when_refused() {
    let fake = FakeFcm::start().await;
    let provider = FcmProvider::new(fake.config()).unwrap();
    for i in 0..10 {
        provider.send(&fcm_wakeup(&format!("t{i}"))).await.unwrap();
    }
    assert_eq!(fake.token_fetches(), 1);

    // A 401: one new token, the push retried and delivered.
    fake.revoke_access_tokens();
    provider.send(&fcm_wakeup("t-after")).await.unwrap();
    assert_eq!(fake.token_fetches(), 2);
    let requests = fake.requests();
    assert_eq!(requests[10].status, 401);
    assert_eq!(requests[11].status, 200);
    provider.send(&fcm_wakeup("t-after")).await.unwrap();
    assert_eq!(fake.token_fetches(), 2);

    // THIRD_PARTY_AUTH_ERROR twice: renewed once, then Auth.
    fake.script(
        "t-3p",
        [
            FcmAnswer::ThirdPartyAuthError,
            FcmAnswer::ThirdPartyAuthError,
        ],
    );
    let got = provider.send(&fcm_wakeup("t-3p")).await;
    assert!(matches!(got, Err(ProviderError::Auth(_))), "{got:?}");
    assert_eq!(fake.token_fetches(), 3);
}

#[tokio::test]
async fn fcm_access_token_is_renewed_before_it_expires() {
    let fake = FakeFcm::start().await;
    // Tokens that live less than the 60 s margin are never reused.
    fake.set_token_lifetime(30);
    let provider = FcmProvider::new(fake.config()).unwrap();
    for _ in 0..3 {
        provider.send(&fcm_wakeup("t")).await.unwrap();
    }
    assert_eq!(fake.token_fetches(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_concurrent_pushes_fetch_one_token() {
    let fake = FakeFcm::start().await;
    let provider = Arc::new(FcmProvider::new(fake.config()).unwrap());
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.send(&fcm_wakeup(&format!("c{i}"))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(fake.requests().len(), 100);
    assert_eq!(fake.token_fetches(), 1);
}

#[tokio::test]
async fn fcm_errors_map_to_provider_errors() {
    let fake = FakeFcm::start().await;
    let provider = FcmProvider::new(fake.config()).unwrap();
    let send = |token: &'static str| {
        let provider = &provider;
        async move { provider.send(&fcm_wakeup(token)).await }
    };
    assert!(matches!(
        send("a-unregistered").await,
        Err(ProviderError::TokenGone(_))
    ));
    assert!(matches!(
        send("a-invalid").await,
        Err(ProviderError::TokenGone(_))
    ));
    assert!(matches!(
        send("a-mismatch").await,
        Err(ProviderError::TokenGone(_))
    ));
    assert!(matches!(
        send("a-quota").await,
        Err(ProviderError::RateLimited)
    ));
    assert!(matches!(
        send("a-unavailable").await,
        Err(ProviderError::Transient(_))
    ));
    fake.script("b", [FcmAnswer::Unavailable, FcmAnswer::Ok]);
    assert!(matches!(send("b").await, Err(ProviderError::Transient(_))));
    send("b").await.unwrap();
    assert_eq!(fake.requests().len(), 7);
    assert!(fake.requests().iter().all(|r| r.verdict.is_ok()));
    // Malformed tokens never leave the process.
    assert!(matches!(send("").await, Err(ProviderError::TokenGone(_))));
    assert!(matches!(
        send("a\"}, \"x").await,
        Err(ProviderError::TokenGone(_))
    ));
    assert_eq!(fake.requests().len(), 7);
}

#[tokio::test]
async fn fcm_token_endpoint_failures() {
    let fake = FakeFcm::start().await;
    // A key the token endpoint does not know: Auth, and nothing is sent.
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .unwrap();
    let wrong_key = String::from_utf8(out.stdout).unwrap();
    let mut config = fake.config();
    config.service_account_json = service_account_json(
        TEST_PROJECT,
        &format!("{}/token", fake.base_url()),
        &wrong_key,
    );
    let provider = FcmProvider::new(config).unwrap();
    let got = provider.send(&fcm_wakeup("t")).await;
    assert!(matches!(got, Err(ProviderError::Auth(_))), "{got:?}");
    assert_eq!(fake.token_refusals(), vec!["bad signature".to_string()]);
    assert!(fake.requests().is_empty());

    // A token endpoint that cannot be reached: Transient.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut config = fake.config();
    config.service_account_json = service_account_json(
        TEST_PROJECT,
        &format!("http://127.0.0.1:{closed}/token"),
        linnet_tests::fake_push::test_rsa_key_pem(),
    );
    let provider = FcmProvider::new(config).unwrap();
    let got = provider.send(&fcm_wakeup("t")).await;
    assert!(matches!(got, Err(ProviderError::Transient(_))), "{got:?}");

    // A key file that is not one.
    let mut config = fake.config();
    config.service_account_json = "{\"type\":\"service_account\"}".into();
    assert!(FcmProvider::new(config).is_err());
}

/// Captures every log line of this thread (the current-thread runtime runs the providers, the
/// fakes and the HTTP stacks under them here).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_contain_tokens_nodes_or_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let apns = FakeApns::start().await;
    let fcm = FakeFcm::start().await;
    let apns_provider = ApnsProvider::new(apns.config()).unwrap();
    let fcm_provider = FcmProvider::new(fcm.config()).unwrap();
    let canary_apns = "ca7a7ca7".repeat(8);
    let canary_gone = format!("{}0410", &"ca7b7ca7".repeat(8)[..60]);
    let canary_fcm = "canary-fcm-token-7f3e9d";
    let node = "canarynode5e1f0c";
    let send_apns = |token: &str| Wakeup {
        platform: Platform::Apns { sandbox: false },
        token: token.to_string(),
        node: node.to_string(),
    };
    let send_fcm = |token: &str| Wakeup {
        platform: Platform::Fcm,
        token: token.to_string(),
        node: node.to_string(),
    };
    apns_provider.send(&send_apns(&canary_apns)).await.unwrap();
    assert!(apns_provider.send(&send_apns(&canary_gone)).await.is_err());
    assert!(
        apns_provider
            .send(&send_apns("canary-not-hex"))
            .await
            .is_err()
    );
    apns.revoke_provider_tokens();
    apns_provider.send(&send_apns(&canary_apns)).await.unwrap();
    fcm_provider.send(&send_fcm(canary_fcm)).await.unwrap();
    let gone = format!("{canary_fcm}-unregistered");
    assert!(fcm_provider.send(&send_fcm(&gone)).await.is_err());
    fcm.revoke_access_tokens();
    fcm_provider.send(&send_fcm(canary_fcm)).await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("APNs: sent"), "the capture works");
    assert!(logs.contains("FCM: sent"), "the capture works");
    let mut secrets = vec![
        canary_apns.clone(),
        canary_gone,
        "canary-not-hex".to_string(),
        canary_fcm.to_string(),
        node.to_string(),
    ];
    secrets.extend(apns.requests().iter().map(|r| r.jwt.clone()));
    secrets.extend(fcm.requests().iter().map(|r| r.access_token.clone()));
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!logs.contains(&secret), "{secret} logged:\n{logs}");
    }
    let _ = std::io::stdout().flush();
}
