//! The FCM sender: HTTP v1 `messages:send` with an OAuth2 access token obtained from a
//! service account (RS256 JWT assertion, RFC 7523).
//!
//! gcp_auth is not used: its token cache cannot drop a token FCM refused, so a 401 could not be
//! answered with one renewal, and its HTTP client has its own trust roots. Signing with ring and
//! posting with reqwest is short (docs/decisions/0006-push.md, "FCM").

use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;

use crate::http_client::{
    HttpVersion, ProviderSetupError, base_url, http_client, node_tag, transport_error, unix_now,
};
use crate::jwt::Rs256Signer;
use crate::provider::{ProviderError, PushProvider, Wakeup};
use crate::store::Platform;

pub const FCM_URL: &str = "https://fcm.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// An access token is replaced this long before Google says it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// How long FCM keeps a wake-up for an offline device: a day, as APNs' expiration.
const TTL: &str = "86400s";

/// Credentials and endpoint for FCM HTTP v1.
#[derive(Clone)]
pub struct FcmConfig {
    /// The service account's JSON key file, as Google hands it out.
    pub service_account_json: String,
    /// Default `https://fcm.googleapis.com`.
    pub base_url: Option<String>,
    /// A PEM CA trusted in addition to the bundled roots (tests).
    pub extra_ca_pem: Option<String>,
    /// The whole request, connection included (token fetches too).
    pub timeout: Duration,
}

impl std::fmt::Debug for FcmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmConfig")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The fields of the key file we use.
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
    token_uri: String,
}

struct AccessToken {
    value: String,
    /// When to stop using it (its expiry less `EXPIRY_MARGIN`).
    use_until: Instant,
}

pub struct FcmProvider {
    client: reqwest::Client,
    signer: Rs256Signer,
    client_email: String,
    token_uri: String,
    send_url: String,
    /// Held across a fetch so that concurrent pushes wait for one fetch instead of each
    /// fetching a token.
    token: tokio::sync::Mutex<Option<AccessToken>>,
}

/// What one request to FCM came to.
enum Outcome {
    Sent,
    /// Our access token was refused (401, or FcmError THIRD_PARTY_AUTH_ERROR).
    TokenRefused(String),
    Failed(ProviderError),
}

impl FcmProvider {
    pub fn new(cfg: FcmConfig) -> Result<Self, ProviderSetupError> {
        let account: ServiceAccount = serde_json::from_str(&cfg.service_account_json)
            .map_err(|e| ProviderSetupError::BadServiceAccount(e.to_string()))?;
        if account.project_id.is_empty()
            || !account.project_id.bytes().all(|b| {
                b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b':'
            })
        {
            return Err(ProviderSetupError::BadServiceAccount(
                "project_id is empty or has unexpected characters".into(),
            ));
        }
        let signer = Rs256Signer::from_pem(&account.private_key)?;
        let token_uri = base_url(&account.token_uri)?;
        let base = base_url(cfg.base_url.as_deref().unwrap_or(FCM_URL))?;
        let client = http_client(cfg.extra_ca_pem.as_deref(), cfg.timeout, HttpVersion::Any)?;
        Ok(Self {
            client,
            signer,
            client_email: account.client_email,
            token_uri,
            send_url: format!("{base}/v1/projects/{}/messages:send", account.project_id),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The cached access token, or a fresh one from the token endpoint.
    async fn access_token(&self) -> Result<String, ProviderError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.use_until
        {
            return Ok(token.value.clone());
        }
        let fresh = self.fetch_access_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn drop_access_token(&self, refused: &str) {
        let mut cached = self.token.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == refused) {
            *cached = None;
        }
    }

    async fn fetch_access_token(&self) -> Result<AccessToken, ProviderError> {
        let iat = unix_now();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + 3600,
        });
        let assertion = self
            .signer
            .sign(&header, &claims)
            .map_err(|e| ProviderError::Auth(e.to_string()))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", JWT_BEARER_GRANT)
            .append_pair("assertion", &assertion)
            .finish();
        let asked = Instant::now();
        let response = self
            .client
            .post(&self.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport_error)?;
        if status != 200 {
            // Google answers {"error": "invalid_grant", "error_description": ...}.
            let error = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(short_code))
                .unwrap_or_default();
            let message = format!("token endpoint: {status} {error}");
            tracing::warn!(%status, %error, "FCM: access token refused");
            return Err(match status {
                429 | 500..=599 => ProviderError::Transient(message),
                _ => ProviderError::Auth(message),
            });
        }
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: u64,
        }
        let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            ProviderError::Transient(format!("token endpoint: unreadable answer: {e}"))
        })?;
        tracing::debug!(expires_in = token.expires_in, "FCM: new access token");
        let lifetime = Duration::from_secs(token.expires_in).saturating_sub(EXPIRY_MARGIN);
        Ok(AccessToken {
            value: token.access_token,
            use_until: asked + lifetime,
        })
    }

    async fn post(&self, access_token: &str, body: &[u8]) -> Outcome {
        let request = self
            .client
            .post(&self.send_url)
            .bearer_auth(access_token)
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
        let body = response.bytes().await.unwrap_or_default();
        let error = FcmErrorBody::parse(&body);
        match classify(status, &error) {
            Classified::TokenRefused(reason) => Outcome::TokenRefused(reason),
            Classified::Error(e) => Outcome::Failed(e),
        }
    }
}

/// What an FCM error answer says, read leniently (any part may be missing).
#[derive(Debug, Default)]
struct FcmErrorBody {
    /// `error.status`, e.g. NOT_FOUND, INVALID_ARGUMENT.
    status: String,
    /// `error.details[].errorCode` of the FcmError detail, e.g. UNREGISTERED.
    error_code: String,
    /// Whether a BadRequest detail or the message names the registration token.
    names_token: bool,
}

impl FcmErrorBody {
    fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
        let Some(error) = value.get("error") else {
            return Self::default();
        };
        let text = |v: &serde_json::Value, key: &str| {
            v.get(key)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let details = error
            .get("details")
            .and_then(serde_json::Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let error_code = details
            .iter()
            .find_map(|d| text(d, "errorCode"))
            .map(|c| short_code(&c))
            .unwrap_or_default();
        let field_names_token = details.iter().any(|d| {
            d.get("fieldViolations")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|violations| {
                    violations
                        .iter()
                        .any(|v| text(v, "field").as_deref() == Some("message.token"))
                })
        });
        let message_names_token = text(error, "message")
            .is_some_and(|m| m.to_ascii_lowercase().contains("registration token"));
        Self {
            status: text(error, "status")
                .map(|s| short_code(&s))
                .unwrap_or_default(),
            error_code,
            names_token: field_names_token || message_names_token,
        }
    }
}

/// Keeps an error code only if it looks like one (it is logged).
fn short_code(code: &str) -> String {
    if code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        code.to_string()
    } else {
        String::new()
    }
}

enum Classified {
    TokenRefused(String),
    Error(ProviderError),
}

/// The FcmError code decides first; the HTTP status when there is none.
fn classify(status: u16, error: &FcmErrorBody) -> Classified {
    let described = format!("{status} {} {}", error.status, error.error_code);
    let described = described.trim().to_string();
    let invalid_argument =
        error.error_code == "INVALID_ARGUMENT" || error.status == "INVALID_ARGUMENT";
    let failed = match error.error_code.as_str() {
        "UNREGISTERED" | "SENDER_ID_MISMATCH" => ProviderError::TokenGone(described),
        "INVALID_ARGUMENT" if error.names_token => ProviderError::TokenGone(described),
        "QUOTA_EXCEEDED" => ProviderError::RateLimited,
        "UNAVAILABLE" | "INTERNAL" => ProviderError::Transient(described),
        "THIRD_PARTY_AUTH_ERROR" => return Classified::TokenRefused(described),
        _ => match status {
            400 if invalid_argument && error.names_token => ProviderError::TokenGone(described),
            401 => return Classified::TokenRefused(described),
            // The service account lacks the permission to send for this project.
            403 => ProviderError::Auth(described),
            429 => ProviderError::RateLimited,
            500..=599 => ProviderError::Transient(described),
            _ => ProviderError::Rejected(described),
        },
    };
    Classified::Error(failed)
}

/// FCM registration tokens are opaque but made of URL-safe characters (`[A-Za-z0-9_:-]`, about
/// 150-300 of them); anything else is not a token FCM issued.
fn valid_registration_token(token: &str) -> bool {
    (1..=4096).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
}

/// A data-only, high-priority message: the app's messaging service wakes and syncs. No
/// `notification` key, nothing about the message or its sender.
fn message(token: &str, node: &str) -> Vec<u8> {
    serde_json::json!({
        "message": {
            "token": token,
            "data": {"node": node},
            "android": {"priority": "HIGH", "ttl": TTL},
        }
    })
    .to_string()
    .into_bytes()
}

#[async_trait]
impl PushProvider for FcmProvider {
    async fn send(&self, wakeup: &Wakeup) -> Result<(), ProviderError> {
        if wakeup.platform != Platform::Fcm {
            return Err(ProviderError::NotConfigured);
        }
        let node = node_tag(&wakeup.node);
        if !valid_registration_token(&wakeup.token) {
            tracing::info!(%node, "FCM: malformed registration token, not sent");
            return Err(ProviderError::TokenGone(
                "malformed registration token".into(),
            ));
        }
        let body = message(&wakeup.token, &wakeup.node);
        let mut renewed = false;
        loop {
            let access_token = self.access_token().await?;
            match self.post(&access_token, &body).await {
                Outcome::Sent => {
                    tracing::debug!(%node, "FCM: sent");
                    return Ok(());
                }
                Outcome::TokenRefused(reason) if !renewed => {
                    tracing::info!(%node, %reason, "FCM: access token refused, renewing");
                    self.drop_access_token(&access_token).await;
                    renewed = true;
                }
                Outcome::TokenRefused(reason) => {
                    tracing::warn!(%node, %reason, "FCM: renewed access token refused too");
                    return Err(ProviderError::Auth(reason));
                }
                Outcome::Failed(err) => {
                    tracing::info!(%node, error = %err, "FCM: not sent");
                    return Err(err);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_body(status: u16, body: &str) -> Classified {
        classify(status, &FcmErrorBody::parse(body.as_bytes()))
    }

    fn fcm_error(status: u16, grpc: &str, code: &str) -> String {
        format!(
            r#"{{"error":{{"code":{status},"message":"m","status":"{grpc}","details":[{{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"{code}"}}]}}}}"#
        )
    }

    #[test]
    fn error_codes_decide_before_the_status() {
        let gone = |c: Classified| matches!(c, Classified::Error(ProviderError::TokenGone(_)));
        assert!(gone(classify_body(
            404,
            &fcm_error(404, "NOT_FOUND", "UNREGISTERED")
        )));
        assert!(gone(classify_body(
            403,
            &fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")
        )));
        assert!(matches!(
            classify_body(400, &fcm_error(400, "INVALID_ARGUMENT", "QUOTA_EXCEEDED")),
            Classified::Error(ProviderError::RateLimited)
        ));
        assert!(matches!(
            classify_body(500, &fcm_error(500, "INTERNAL", "INTERNAL")),
            Classified::Error(ProviderError::Transient(_))
        ));
        assert!(matches!(
            classify_body(
                401,
                &fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")
            ),
            Classified::TokenRefused(_)
        ));
    }

    #[test]
    fn invalid_argument_is_token_gone_only_when_it_names_the_token() {
        let naming = r#"{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert!(matches!(
            classify_body(400, naming),
            Classified::Error(ProviderError::TokenGone(_))
        ));
        let field = r#"{"error":{"code":400,"message":"Invalid value","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"bad"}]}]}}"#;
        assert!(matches!(
            classify_body(400, field),
            Classified::Error(ProviderError::TokenGone(_))
        ));
        let other = r#"{"error":{"code":400,"message":"Invalid value at 'message.android.ttl'","status":"INVALID_ARGUMENT"}}"#;
        assert!(matches!(
            classify_body(400, other),
            Classified::Error(ProviderError::Rejected(_))
        ));
    }

    #[test]
    fn statuses_decide_without_a_code() {
        assert!(matches!(
            classify_body(401, ""),
            Classified::TokenRefused(_)
        ));
        assert!(matches!(
            classify_body(429, "not json"),
            Classified::Error(ProviderError::RateLimited)
        ));
        assert!(matches!(
            classify_body(503, "{}"),
            Classified::Error(ProviderError::Transient(_))
        ));
        assert!(matches!(
            classify_body(404, "{}"),
            Classified::Error(ProviderError::Rejected(_))
        ));
    }

    #[test]
    fn registration_tokens_are_url_safe() {
        assert!(valid_registration_token("fX1y:APA91bH-k_9"));
        assert!(!valid_registration_token(""));
        assert!(!valid_registration_token("a b"));
        assert!(!valid_registration_token("a\"b"));
        assert!(!valid_registration_token(&"a".repeat(4097)));
    }

    #[test]
    fn message_is_data_only_and_high_priority() {
        let v: serde_json::Value = serde_json::from_slice(&message("t", "n")).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"message": {"token": "t", "data": {"node": "n"},
                "android": {"priority": "HIGH", "ttl": "86400s"}}})
        );
    }
}
