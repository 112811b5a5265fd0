//! The public error tier: a small enum a UI can act on. Internal errors (protocol, store) are
//! mapped here with their details kept as words.

use linnet_xmpp::error::{AuthError, ConnectError, TlsFailure};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LinnetError {
    #[error("wrong address or password")]
    WrongCredentials,
    #[error("the server offers no sign-in method Linnet trusts (offered: {offered})")]
    NoAcceptableMechanism { offered: String },
    #[error("sign-in failed: {reason}")]
    AuthFailed { reason: String },
    #[error("the server's certificate is not trusted: {reason}")]
    Certificate { reason: String },
    #[error("secure connection failed: {reason}")]
    Tls { reason: String },
    #[error("cannot reach the server: {reason}")]
    Network { reason: String },
    #[error("the server ended the connection: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    StreamError {
        condition: String,
        text: Option<String>,
    },
    #[error("the server did not behave as expected: {reason}")]
    Protocol { reason: String },
    #[error("not connected")]
    NotConnected,
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message is too large ({size} bytes, the limit is {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("no account {jid}")]
    NoSuchAccount { jid: String },
    #[error("no account yet: add one with 'account add'")]
    NoAccount,
    #[error("several accounts exist ({accounts}): choose one")]
    AmbiguousAccount { accounts: String },
    #[error("the account {jid} already exists")]
    AccountExists { jid: String },
    #[error("no password stored for {jid}")]
    NoPassword { jid: String },
    #[error("the server refused: {reason}")]
    Refused { reason: String },
    #[error("timed out: {what}")]
    Timeout { what: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("secret storage error: {reason}")]
    SecretStore { reason: String },
    #[error("cannot read {path}: {reason}")]
    FileUnreadable { path: String, reason: String },
    #[error("the file is too large ({size} bytes, the server accepts up to {max})")]
    FileTooLarge { size: u64, max: u64 },
    #[error("no message {message_id}")]
    NoSuchMessage { message_id: i64 },
    #[error("message {message_id} carries no file")]
    NoAttachment { message_id: i64 },
    #[error("no call {id}")]
    NoSuchCall { id: String },
    #[error("call {id} is not ringing")]
    CallNotRinging { id: String },
    #[error("call {id} has no media yet")]
    CallNotConnected { id: String },
    #[error("another call is in progress")]
    CallInProgress,
    #[error("no phone gateway: the server lists none and none is in the roster")]
    NoPhoneGateway,
    #[error("relay-only calls need a TURN server, and the server offers none")]
    NoTurnServer,
    #[error("call media failed: {reason}")]
    CallMedia { reason: String },
    #[error("invalid DTMF digits: {reason}")]
    InvalidDigits { reason: String },
    /// The push app server did not answer (offline, unknown to the server, timed out): push
    /// stays off until the next session or setting change tries again.
    #[error("the push app server is unavailable: {reason}")]
    PushAppServerUnavailable { reason: String },
    /// The app server refused the registration, or our server refused to enable push.
    #[error("push was refused: {reason}")]
    PushRefused { reason: String },
}

/// Broad classes, for exit codes and UI decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Auth,
    Network,
    Tls,
    Server,
    Usage,
    Local,
}

impl LinnetError {
    pub fn kind(&self) -> ErrorKind {
        use LinnetError::*;
        match self {
            WrongCredentials
            | NoAcceptableMechanism { .. }
            | AuthFailed { .. }
            | NoPassword { .. } => ErrorKind::Auth,
            Network { .. } | Timeout { .. } | NotConnected => ErrorKind::Network,
            Certificate { .. } | Tls { .. } => ErrorKind::Tls,
            StreamError { .. } | Protocol { .. } | Refused { .. } => ErrorKind::Server,
            InvalidAddress { .. }
            | EmptyMessage
            | TooLarge { .. }
            | NoSuchAccount { .. }
            | NoAccount
            | AmbiguousAccount { .. }
            | AccountExists { .. }
            | FileUnreadable { .. }
            | FileTooLarge { .. }
            | NoSuchMessage { .. }
            | NoAttachment { .. }
            | NoSuchCall { .. }
            | CallNotRinging { .. }
            | CallNotConnected { .. }
            | CallInProgress
            | InvalidDigits { .. } => ErrorKind::Usage,
            NoPhoneGateway | NoTurnServer => ErrorKind::Server,
            PushAppServerUnavailable { .. } | PushRefused { .. } => ErrorKind::Server,
            CallMedia { .. } => ErrorKind::Local,
            Storage { .. } | SecretStore { .. } => ErrorKind::Local,
        }
    }
}

impl LinnetError {
    /// Whether reconnecting by itself cannot help: the credentials are wrong (the user must fix
    /// them) or the server replaced this session with another (reconnecting would fight it).
    pub fn stops_reconnecting(&self) -> bool {
        self.kind() == ErrorKind::Auth
            || matches!(self, LinnetError::StreamError { condition, .. }
                if condition == "conflict" || condition == "not-authorized")
    }
}

impl From<ConnectError> for LinnetError {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::NetworkUnreachable { attempts } => LinnetError::Network {
                reason: attempts.join("; "),
            },
            ConnectError::Io(reason) => LinnetError::Network { reason },
            ConnectError::Timeout(stage) => LinnetError::Timeout {
                what: stage.to_string(),
            },
            ConnectError::Tls(TlsFailure::Certificate(reason)) => {
                LinnetError::Certificate { reason }
            }
            ConnectError::Tls(other) => LinnetError::Tls {
                reason: other.to_string(),
            },
            ConnectError::Auth(AuthError::WrongCredentials) => LinnetError::WrongCredentials,
            ConnectError::Auth(AuthError::NoAcceptableMechanism { offered }) => {
                LinnetError::NoAcceptableMechanism {
                    offered: offered.join(", "),
                }
            }
            ConnectError::Auth(other) => LinnetError::AuthFailed {
                reason: other.to_string(),
            },
            ConnectError::StreamError { condition, text } => {
                LinnetError::StreamError { condition, text }
            }
            ConnectError::Protocol(reason) | ConnectError::Bind(reason) => {
                LinnetError::Protocol { reason }
            }
            ConnectError::Xml(x) => LinnetError::Protocol {
                reason: x.to_string(),
            },
        }
    }
}

impl From<linnet_store::StoreError> for LinnetError {
    fn from(e: linnet_store::StoreError) -> Self {
        LinnetError::Storage {
            reason: e.to_string(),
        }
    }
}

impl From<linnet_xmpp::session::SendError> for LinnetError {
    fn from(e: linnet_xmpp::session::SendError) -> Self {
        use linnet_xmpp::session::SendError;
        match e {
            SendError::TooLarge { size, limit } => LinnetError::TooLarge { size, limit },
            SendError::Closed => LinnetError::NotConnected,
            SendError::Serialise(reason) => LinnetError::Protocol { reason },
        }
    }
}

impl From<linnet_xmpp::session::IqError> for LinnetError {
    fn from(e: linnet_xmpp::session::IqError) -> Self {
        use linnet_xmpp::session::IqError;
        match e {
            IqError::Timeout(d) => LinnetError::Timeout {
                what: format!("no answer within {d:?}"),
            },
            IqError::Error(err) => LinnetError::Refused {
                reason: format!("{:?}", err.defined_condition),
            },
            IqError::Disconnected => LinnetError::NotConnected,
            IqError::Send(s) => s.into(),
        }
    }
}
