//! The APNs sender: HTTP/2 requests to Apple's provider API with an ES256 provider token.
//!
//! Linnet sends these requests itself instead of using the a2 crate: a2 0.10 can only reach
//! Apple's two hosts and trusts only its compiled-in roots, so no local fake could test it
//! (docs/decisions/0006-push.md, "APNs").

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::http_client::{
    HttpVersion, ProviderSetupError, base_url, http_client, node_tag, transport_error, unix_now,
};
use crate::jwt::Es256Signer;
use crate::provider::{ProviderError, PushProvider, Wakeup};
use crate::store::Platform;

pub const APNS_PRODUCTION_URL: &str = "https://api.push.apple.com";
pub const APNS_SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// A provider token is renewed after this long: Apple refuses one older than an hour and
/// answers TooManyProviderTokenUpdates to renewals more often than every 20 minutes.
const TOKEN_RENEWAL: Duration = Duration::from_secs(50 * 60);

/// How long APNs keeps trying to deliver a wake-up to an offline device (`apns-expiration`):
/// a day, as FCM's ttl. Apple keeps only the newest push per device anyway.
const EXPIRATION_SECS: u64 = 24 * 60 * 60;

/// Credentials and endpoints for APNs (token-based authentication).
#[derive(Clone)]
pub struct ApnsConfig {
    /// The contents of the .p8 file Apple hands out (a PKCS#8 PEM P-256 key).
    pub key_pem: String,
    /// The key's 10-character id (JWT `kid`).
    pub key_id: String,
    /// The Apple developer team id (JWT `iss`).
    pub team_id: String,
    /// The app's bundle id (`apns-topic`).
    pub topic: String,
    /// Production endpoint; default `https://api.push.apple.com`.
    pub base_url: Option<String>,
    /// Sandbox (development builds) endpoint; default `https://api.sandbox.push.apple.com`.
    pub sandbox_base_url: Option<String>,
    /// A PEM CA trusted in addition to the bundled roots (tests).
    pub extra_ca_pem: Option<String>,
    /// The whole request, connection included.
    pub timeout: Duration,
}

impl std::fmt::Debug for ApnsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsConfig")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("topic", &self.topic)
            .field("base_url", &self.base_url)
            .field("sandbox_base_url", &self.sandbox_base_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The provider token in use and when to replace it.
struct CachedToken {
    jwt: String,
    renew_at: Instant,
}

pub struct ApnsProvider {
    client: reqwest::Client,
    signer: Es256Signer,
    key_id: String,
    team_id: String,
    topic: String,
    production_url: String,
    sandbox_url: String,
    token: Mutex<Option<CachedToken>>,
}

/// What one request to APNs came to.
enum Outcome {
    Sent,
    /// The provider token was refused (403 ExpiredProviderToken / InvalidProviderToken).
    TokenRefused(String),
    Failed(ProviderError),
}

impl ApnsProvider {
    pub fn new(cfg: ApnsConfig) -> Result<Self, ProviderSetupError> {
        let signer = Es256Signer::from_pem(&cfg.key_pem)?;
        let client = http_client(
            cfg.extra_ca_pem.as_deref(),
            cfg.timeout,
            HttpVersion::Http2Only,
        )?;
        let production_url = base_url(cfg.base_url.as_deref().unwrap_or(APNS_PRODUCTION_URL))?;
        let sandbox_url = base_url(cfg.sandbox_base_url.as_deref().unwrap_or(APNS_SANDBOX_URL))?;
        let provider = Self {
            client,
            signer,
            key_id: cfg.key_id,
            team_id: cfg.team_id,
            topic: cfg.topic,
            production_url,
            sandbox_url,
            token: Mutex::new(None),
        };
        // Sign once now, so that a key ring cannot use fails at startup, not at the first push.
        provider.provider_token()?;
        Ok(provider)
    }

    /// The cached provider token, or a new one when it is older than `TOKEN_RENEWAL`.
    fn provider_token(&self) -> Result<String, ProviderSetupError> {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.jwt.clone());
        }
        let header = serde_json::json!({"alg": "ES256", "kid": self.key_id});
        let claims = serde_json::json!({"iss": self.team_id, "iat": unix_now()});
        let jwt = self.signer.sign(&header, &claims)?;
        *cached = Some(CachedToken {
            jwt: jwt.clone(),
            renew_at: Instant::now() + TOKEN_RENEWAL,
        });
        tracing::debug!("new APNs provider token");
        Ok(jwt)
    }

    /// Forgets `refused` so that the next request signs a new token. Concurrent requests
    /// refused with the same token renew it once, not once each.
    fn drop_provider_token(&self, refused: &str) {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|t| t.jwt == refused) {
            *cached = None;
        }
    }

    async fn post(&self, url: &str, wakeup: &Wakeup, jwt: &str, body: &[u8]) -> Outcome {
        let expiration = unix_now() + EXPIRATION_SECS;
        let request = self
            .client
            .post(url)
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", expiration.to_string())
            // Several wake-ups waiting for an offline device collapse into one per account.
            .header("apns-collapse-id", collapse_id(&wakeup.node))
            .header("content-type", "application/json")
            .body(body.to_vec());
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(transport_error(e)),
        };
        let status = response.status().as_u16();
        if status == 200 {
            return Outcome::Sent;
        }
        // A body that cannot be read still has a status worth mapping.
        let body = response.bytes().await.unwrap_or_default();
        let reason = apns_reason(&body);
        match status {
            403 if matches!(
                reason.as_str(),
                "ExpiredProviderToken" | "InvalidProviderToken"
            ) =>
            {
                Outcome::TokenRefused(reason)
            }
            _ => Outcome::Failed(map_error(status, reason)),
        }
    }
}

/// The error for a non-200 answer from APNs, with Apple's `reason`.
fn map_error(status: u16, reason: String) -> ProviderError {
    match (status, reason.as_str()) {
        (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
            ProviderError::TokenGone(reason)
        }
        (429, _) => ProviderError::RateLimited,
        (403, _) => ProviderError::Auth(reason),
        (500..=599, _) => ProviderError::Transient(format!("{status} {reason}")),
        _ => ProviderError::Rejected(format!("{status} {reason}")),
    }
}

/// Apple's `{"reason": "..."}`, read leniently: a body that is not JSON, or has no reason, gives
/// an empty string. Only reasons that look like Apple's names are kept (they reach logs).
fn apns_reason(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .filter(|r| r.len() <= 64 && r.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_default()
}

/// APNs device tokens are hex; Apple's are 64 characters today, and it says they may grow.
fn valid_device_token(token: &str) -> bool {
    (64..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `apns-collapse-id` (at most 64 bytes): derived from the node, which is in the payload anyway.
fn collapse_id(node: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, node.as_bytes());
    digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The notification: a fixed alert that the app's notification service extension replaces
/// after fetching, and the node so the app knows which account to sync. Nothing else.
fn payload(node: &str) -> Vec<u8> {
    serde_json::json!({
        "aps": {
            "alert": {"title": "Linnet", "body": "New activity"},
            "mutable-content": 1,
            "sound": "default",
        },
        "node": node,
    })
    .to_string()
    .into_bytes()
}

#[async_trait]
impl PushProvider for ApnsProvider {
    async fn send(&self, wakeup: &Wakeup) -> Result<(), ProviderError> {
        let Platform::Apns { sandbox } = wakeup.platform else {
            return Err(ProviderError::NotConfigured);
        };
        let node = node_tag(&wakeup.node);
        if !valid_device_token(&wakeup.token) {
            tracing::info!(%node, "APNs: malformed device token, not sent");
            return Err(ProviderError::TokenGone("malformed device token".into()));
        }
        let base = if sandbox {
            &self.sandbox_url
        } else {
            &self.production_url
        };
        let url = format!("{base}/3/device/{}", wakeup.token);
        let body = payload(&wakeup.node);
        let mut renewed = false;
        loop {
            let jwt = self
                .provider_token()
                .map_err(|e| ProviderError::Auth(e.to_string()))?;
            match self.post(&url, wakeup, &jwt, &body).await {
                Outcome::Sent => {
                    tracing::debug!(%node, sandbox, "APNs: sent");
                    return Ok(());
                }
                Outcome::TokenRefused(reason) if !renewed => {
                    tracing::info!(%node, %reason, "APNs: provider token refused, renewing");
                    self.drop_provider_token(&jwt);
                    renewed = true;
                }
                Outcome::TokenRefused(reason) => {
                    tracing::warn!(%node, %reason, "APNs: renewed provider token refused too");
                    return Err(ProviderError::Auth(reason));
                }
                Outcome::Failed(err) => {
                    tracing::info!(%node, sandbox, error = %err, "APNs: not sent");
                    return Err(err);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn test_provider() -> ApnsProvider {
        use base64::Engine as _;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
        let key_pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
        ApnsProvider::new(ApnsConfig {
            key_pem,
            key_id: "KEY".into(),
            team_id: "TEAM".into(),
            topic: "org.linnet.test".into(),
            base_url: None,
            sandbox_base_url: None,
            extra_ca_pem: None,
            timeout: Duration::from_secs(1),
        })
        .unwrap()
    }

    #[test]
    fn provider_token_is_kept_until_its_renewal_time() {
        let provider = test_provider();
        let first = provider.provider_token().unwrap_or_default();
        assert!(!first.is_empty());
        assert_eq!(provider.provider_token().unwrap_or_default(), first);
        // Its renewal time has come: a new one (ECDSA signatures differ even for equal claims).
        if let Some(t) = provider
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            t.renew_at = Instant::now();
        }
        let second = provider.provider_token().unwrap_or_default();
        assert_ne!(second, first);
        assert_eq!(provider.provider_token().unwrap_or_default(), second);
        // Dropping a token that is no longer the cached one changes nothing.
        provider.drop_provider_token(&first);
        assert_eq!(provider.provider_token().unwrap_or_default(), second);
        provider.drop_provider_token(&second);
        assert_ne!(provider.provider_token().unwrap_or_default(), second);
    }

    #[test]
    fn device_tokens_must_be_hex_of_sane_length() {
        assert!(valid_device_token(&"ab".repeat(32)));
        assert!(valid_device_token(&"AB".repeat(100)));
        assert!(!valid_device_token(&"ab".repeat(31)));
        assert!(!valid_device_token(&"a".repeat(201)));
        assert!(!valid_device_token(&format!("{}/x", "ab".repeat(32))));
        assert!(!valid_device_token(""));
    }

    #[test]
    fn errors_map_like_apples_reasons() {
        assert!(matches!(
            map_error(410, "Unregistered".into()),
            ProviderError::TokenGone(_)
        ));
        assert!(matches!(
            map_error(400, "BadDeviceToken".into()),
            ProviderError::TokenGone(_)
        ));
        assert!(matches!(
            map_error(400, "DeviceTokenNotForTopic".into()),
            ProviderError::TokenGone(_)
        ));
        assert!(matches!(
            map_error(400, "BadTopic".into()),
            ProviderError::Rejected(_)
        ));
        assert!(matches!(
            map_error(429, "TooManyRequests".into()),
            ProviderError::RateLimited
        ));
        assert!(matches!(
            map_error(403, "TooManyProviderTokenUpdates".into()),
            ProviderError::Auth(_)
        ));
        assert!(matches!(
            map_error(503, "ServiceUnavailable".into()),
            ProviderError::Transient(_)
        ));
        assert!(matches!(
            map_error(413, "PayloadTooLarge".into()),
            ProviderError::Rejected(_)
        ));
    }

    #[test]
    fn reasons_are_read_leniently() {
        assert_eq!(
            apns_reason(br#"{"reason":"Unregistered","timestamp":1}"#),
            "Unregistered"
        );
        assert_eq!(apns_reason(b"<html>busy</html>"), "");
        assert_eq!(apns_reason(br#"{"reason":42}"#), "");
        assert_eq!(apns_reason(br#"{"reason":"has spaces and /path"}"#), "");
    }

    #[test]
    fn payload_carries_only_the_fixed_alert_and_the_node() {
        let v: serde_json::Value = serde_json::from_slice(&payload("n1")).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"aps": {"alert": {"title": "Linnet", "body": "New activity"},
                "mutable-content": 1, "sound": "default"}, "node": "n1"})
        );
    }
}
