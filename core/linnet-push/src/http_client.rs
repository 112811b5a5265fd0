//! What the APNs and FCM senders share: the HTTP client (rustls 0.23 on ring, the project's
//! crypto), setup errors, and the log tag of a node.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use crate::provider::ProviderError;

/// Why a push provider could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
pub enum ProviderSetupError {
    /// The signing key (APNs .p8, or the service account's RSA key) is unusable.
    #[error("bad signing key: {0}")]
    BadKey(String),
    /// The FCM service-account JSON lacks a field or is not JSON.
    #[error("bad service account: {0}")]
    BadServiceAccount(String),
    /// The extra CA file has no usable certificate.
    #[error("bad CA certificate: {0}")]
    BadCa(String),
    /// A base URL is not an absolute http(s) URL.
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Which HTTP versions a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpVersion {
    /// APNs: HTTP/2 only, negotiated through ALPN `h2`.
    Http2Only,
    /// FCM and Google's token endpoint: whatever the server offers.
    Any,
}

/// An HTTP client trusting the bundled Mozilla roots plus `extra_ca_pem` (tests, private
/// deployments). Requests time out after `timeout`.
pub(crate) fn http_client(
    extra_ca_pem: Option<&str>,
    timeout: Duration,
    version: HttpVersion,
) -> Result<reqwest::Client, ProviderSetupError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| ProviderSetupError::BadCa(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| ProviderSetupError::BadCa(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ProviderSetupError::BadCa(
                "no certificate in the PEM text".into(),
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProviderSetupError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("linnet-push/", env!("CARGO_PKG_VERSION")));
    let builder = match version {
        HttpVersion::Http2Only => {
            // reqwest leaves a preconfigured TLS config's ALPN alone: offer h2 and nothing
            // else, as APNs requires.
            tls.alpn_protocols = vec![b"h2".to_vec()];
            builder.http2_prior_knowledge()
        }
        HttpVersion::Any => {
            tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            builder
        }
    };
    builder
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|e| ProviderSetupError::Client(e.without_url().to_string()))
}

/// Checks that `url` is an absolute http(s) URL and drops a trailing slash.
pub(crate) fn base_url(url: &str) -> Result<String, ProviderSetupError> {
    let parsed = url::Url::parse(url).map_err(|e| ProviderSetupError::BadUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ProviderSetupError::BadUrl(format!(
            "{url}: not an http(s) URL"
        )));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A network-level failure as a `Transient` error. The URL is dropped from the message: it
/// carries the device token (APNs) and the message would reach logs.
pub(crate) fn transport_error(err: reqwest::Error) -> ProviderError {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "response body"
    } else {
        "request"
    };
    // The causes (connection refused, an untrusted certificate, ...) carry no URL.
    let err = err.without_url();
    let mut message = format!("{kind}: {err}");
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    ProviderError::Transient(message)
}

/// What logs may say about a node: the first 6 hex characters of its SHA-256.
pub(crate) fn node_tag(node: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, node.as_bytes());
    digest
        .as_ref()
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seconds since the Unix epoch (JWT `iat`).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
