//! TLS for XMPP: mandatory, validated against the XMPP domain (never the SRV target), with the
//! platform's roots plus an optional extra CA per account.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::{ConnectError, TlsFailure};
use crate::sasl::{ChannelBindingType, TlsVersion};
use crate::transport::ByteStream;

/// ALPN protocol id for direct TLS (XEP-0368).
const ALPN_XMPP_CLIENT: &[u8] = b"xmpp-client";

/// Trust settings for one account.
#[derive(Clone, Default)]
pub struct TlsSettings {
    /// PEM text of an extra CA to trust in addition to the platform's roots (self-hosted
    /// servers, tests). Never a way to switch validation off.
    pub extra_ca_pem: Option<String>,
    /// Trust only the extra CA, not the platform roots. For tests that must prove the
    /// platform store rejects a throwaway CA.
    pub only_extra_ca: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("extra_ca", &self.extra_ca_pem.is_some())
            .field("only_extra_ca", &self.only_extra_ca)
            .finish()
    }
}

/// What was negotiated, for SASL channel binding and for the doctor report.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    pub version: TlsVersion,
    pub cipher_suite: String,
    pub alpn: Option<String>,
    /// RFC 9266 tls-exporter channel binding data.
    pub exporter: Option<Vec<u8>>,
}

impl TlsInfo {
    pub fn available_channel_bindings(&self) -> Vec<ChannelBindingType> {
        if self.exporter.is_some() {
            vec![ChannelBindingType::TlsExporter]
        } else {
            Vec::new()
        }
    }

    pub fn channel_binding_data(&self, kind: ChannelBindingType) -> Option<Vec<u8>> {
        match kind {
            ChannelBindingType::TlsExporter => self.exporter.clone(),
            _ => None,
        }
    }

    pub fn version_name(&self) -> &'static str {
        match self.version {
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }
}

/// The platform's trusted roots, loaded once per process: reading the system store costs
/// milliseconds on every connect otherwise (measured: a quarter of connect CPU).
fn platform_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        #[cfg(any(target_os = "android", target_os = "ios"))]
        {
            // rustls-native-certs finds nothing on mobile: use the bundled Mozilla roots there.
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        #[cfg(not(any(target_os = "android", target_os = "ios")))]
        {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "platform root store");
            }
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                // A desktop without a CA bundle: the bundled roots are better than none.
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
        }
        store
    })
}

/// Builds the rustls client configuration for one account.
pub fn client_config(
    settings: &TlsSettings,
    alpn: bool,
) -> Result<Arc<ClientConfig>, ConnectError> {
    let mut roots = if settings.only_extra_ca {
        RootCertStore::empty()
    } else {
        platform_roots().clone()
    };
    if let Some(pem) = &settings.extra_ca_pem {
        let mut count = 0;
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| ConnectError::Tls(TlsFailure::BadCaFile(e.to_string())))?;
            roots
                .add(cert)
                .map_err(|e| ConnectError::Tls(TlsFailure::BadCaFile(e.to_string())))?;
            count += 1;
        }
        if count == 0 {
            return Err(ConnectError::Tls(TlsFailure::BadCaFile(
                "no certificate in the PEM text".into(),
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls(TlsFailure::Handshake(e.to_string())))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    if alpn {
        config.alpn_protocols = vec![ALPN_XMPP_CLIENT.to_vec()];
    }
    Ok(Arc::new(config))
}

/// Performs the TLS handshake, validating the certificate against the XMPP `domain`.
pub async fn handshake(
    stream: Box<dyn ByteStream>,
    domain: &str,
    settings: &TlsSettings,
    direct_tls: bool,
) -> Result<(TlsStream<Box<dyn ByteStream>>, TlsInfo), ConnectError> {
    let config = client_config(settings, direct_tls)?;
    let server_name = ServerName::try_from(domain.to_string()).map_err(|_| {
        ConnectError::Tls(TlsFailure::Handshake(format!(
            "'{domain}' is not a valid TLS server name"
        )))
    })?;
    let tls = TlsConnector::from(config)
        .connect(server_name, stream)
        .await
        .map_err(classify_tls_error)?;
    let info = tls_info(&tls);
    Ok((tls, info))
}

fn tls_info(tls: &TlsStream<Box<dyn ByteStream>>) -> TlsInfo {
    let (_, conn) = tls.get_ref();
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => TlsVersion::Tls12,
        _ => TlsVersion::Tls13,
    };
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    let alpn = conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let exporter = conn
        .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", None)
        .ok()
        .map(|k| k.to_vec());
    TlsInfo {
        version,
        cipher_suite,
        alpn,
        exporter,
    }
}

fn classify_tls_error(e: std::io::Error) -> ConnectError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match inner {
            rustls::Error::InvalidCertificate(why) => {
                ConnectError::Tls(TlsFailure::Certificate(format!("{why:?}")))
            }
            other => ConnectError::Tls(TlsFailure::Handshake(other.to_string())),
        };
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
            ConnectError::Tls(TlsFailure::Handshake(format!(
                "connection closed during TLS handshake: {e}"
            )))
        }
        _ => ConnectError::Tls(TlsFailure::Handshake(e.to_string())),
    }
}
