//! Typed errors of the protocol layer. Each failure a person can hit has its own variant so the
//! UI can say what happened and what to do.

use crate::sasl::SaslError;
use crate::xml::XmlError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum TlsFailure {
    #[error("the server's certificate is not valid for this domain: {0}")]
    Certificate(String),
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    #[error("the extra CA file cannot be used: {0}")]
    BadCaFile(String),
    #[error(
        "the server does not offer TLS (STARTTLS missing); refusing to continue without encryption"
    )]
    NotOffered,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("wrong username or password")]
    WrongCredentials,
    #[error("the server offers no authentication mechanism Linnet accepts (offered: {offered:?})")]
    NoAcceptableMechanism { offered: Vec<String> },
    #[error("the server rejected channel binding (not a password problem)")]
    ChannelBindingRejected,
    #[error("the account is disabled or temporarily unable to log in: {0}")]
    Temporary(String),
    #[error("authentication protocol error: {0}")]
    Protocol(#[from] SaslError),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach the server: {}", attempts.join("; "))]
    NetworkUnreachable { attempts: Vec<String> },
    #[error("{0}")]
    Tls(TlsFailure),
    #[error("authentication failed: {0}")]
    Auth(AuthError),
    #[error("the server closed the stream with an error: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    StreamError {
        condition: String,
        text: Option<String>,
    },
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error("invalid XML from the server: {0}")]
    Xml(#[from] XmlError),
    #[error("connection lost: {0}")]
    Io(String),
    #[error("the server did not answer in time ({0})")]
    Timeout(&'static str),
    #[error("resource binding failed: {0}")]
    Bind(String),
}

impl ConnectError {
    /// Whether trying again later could help (network, timeouts), as opposed to errors that need the
    /// user (password, certificate, configuration).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ConnectError::NetworkUnreachable { .. }
                | ConnectError::Io(_)
                | ConnectError::Timeout(_)
                | ConnectError::StreamError { .. }
                | ConnectError::Auth(AuthError::Temporary(_))
        )
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        ConnectError::Io(e.to_string())
    }
}
