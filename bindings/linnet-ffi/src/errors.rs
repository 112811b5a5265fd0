//! The public error tier of the bindings: one small enum per area, each with the cases a UI can
//! act on (ARCHITECTURE.md rule 3). Kotlin sees `FooException` subclasses, Swift `FooError` cases.
//! Whatever an area does not expect arrives as its `Internal` case with the reason in words.

use linnet_sdk::LinnetError;

/// A task of the library ended without an answer (it panicked or the runtime shut down).
#[derive(Debug)]
pub(crate) struct TaskFailed(pub(crate) String);

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    #[error("cannot start the runtime: {reason}")]
    Runtime { reason: String },
}

/// Opening the data directory and managing accounts.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum AccountError {
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("the account {jid} already exists")]
    AccountExists { jid: String },
    #[error("no account {jid}")]
    NoSuchAccount { jid: String },
    #[error("no account yet")]
    NoAccount,
    #[error("several accounts exist ({accounts}): choose one")]
    AmbiguousAccount { accounts: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("secret storage error: {reason}")]
    SecretStorage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Connecting and signing in.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ConnectError {
    #[error("wrong address or password")]
    WrongCredentials,
    /// The server offers no trusted mechanism, refused channel binding, or failed otherwise.
    #[error("sign-in failed: {reason}")]
    AuthFailed { reason: String },
    #[error("no password stored for this account")]
    NoPassword,
    #[error("the server's certificate is not trusted: {reason}")]
    Certificate { reason: String },
    #[error("secure connection failed: {reason}")]
    Tls { reason: String },
    #[error("cannot reach the server: {reason}")]
    Network { reason: String },
    /// The server ended the stream or misbehaved.
    #[error("server error: {reason}")]
    Server { reason: String },
    #[error("timed out: {what}")]
    Timeout { what: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Sending, retrying and reading messages, and their files.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ChatError {
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message is too large ({size} bytes, the limit is {limit})")]
    TooLarge { size: u64, limit: u64 },
    #[error("not connected")]
    NotConnected,
    /// The file to send is missing, unreadable or not a regular file.
    #[error("cannot read {path}: {reason}")]
    FileUnreadable { path: String, reason: String },
    /// Over the server's upload limit (known once the server was asked).
    #[error("the file is too large ({size} bytes, the server accepts up to {max})")]
    FileTooLarge { size: u64, max: u64 },
    #[error("no message {message_id}")]
    NoSuchMessage { message_id: i64 },
    /// `download` or `cancelTransfer` of a message without a file (or `download` of an upload).
    #[error("message {message_id} carries no file")]
    NoAttachment { message_id: i64 },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Roster and subscriptions.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ContactError {
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("not connected")]
    NotConnected,
    #[error("the server refused: {reason}")]
    Refused { reason: String },
    #[error("timed out: {what}")]
    Timeout { what: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Settings and diagnostics.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DiagnosticsError {
    #[error("not connected")]
    NotConnected,
    #[error("timed out: {what}")]
    Timeout { what: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// Voice calls.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallError {
    #[error("'{input}' is not a valid address")]
    InvalidAddress { input: String },
    #[error("not connected")]
    NotConnected,
    #[error("no call {id}")]
    NoSuchCall { id: String },
    /// `answer` or `decline` of a call that is not ringing here (any more).
    #[error("call {id} is not ringing")]
    CallNotRinging { id: String },
    /// `sendDtmf` before the media connected.
    #[error("call {id} has no media yet")]
    CallNotConnected { id: String },
    /// One call at a time.
    #[error("another call is in progress")]
    CallInProgress,
    /// A phone number was called, and the account has no phone gateway.
    #[error("no phone gateway: the server lists none and none is in the roster")]
    NoPhoneGateway,
    /// Relay-only calls are on, and the server offers no TURN server.
    #[error("relay-only calls need a TURN server, and the server offers none")]
    NoTurnServer,
    /// The media engine could not start or negotiate.
    #[error("call media failed: {reason}")]
    Media { reason: String },
    #[error("invalid DTMF digits: {reason}")]
    InvalidDigits { reason: String },
    #[error("the server refused: {reason}")]
    Refused { reason: String },
    #[error("timed out: {what}")]
    Timeout { what: String },
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// What a platform's secret storage (Keychain, Keystore) reports when it cannot answer.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SecretStorageError {
    #[error("secret storage unavailable: {reason}")]
    Unavailable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for SecretStorageError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Unavailable { reason: e.reason }
    }
}

fn internal(e: &LinnetError) -> String {
    e.to_string()
}

/// Each area's `Internal` case, from a failed task.
macro_rules! internal_from_task_failed {
    ($($area:ident),+) => {$(
        impl From<TaskFailed> for $area {
            fn from(e: TaskFailed) -> Self {
                Self::Internal { reason: e.0 }
            }
        }
    )+};
}
internal_from_task_failed!(
    AccountError,
    ConnectError,
    ChatError,
    ContactError,
    DiagnosticsError,
    CallError
);

impl From<LinnetError> for AccountError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::InvalidAddress { input } => Self::InvalidAddress { input },
            LinnetError::AccountExists { jid } => Self::AccountExists { jid },
            LinnetError::NoSuchAccount { jid } => Self::NoSuchAccount { jid },
            LinnetError::NoAccount => Self::NoAccount,
            LinnetError::AmbiguousAccount { accounts } => Self::AmbiguousAccount { accounts },
            LinnetError::Storage { reason } => Self::Storage { reason },
            LinnetError::SecretStore { reason } => Self::SecretStorage { reason },
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::NotConnected
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::Refused { .. }
            | LinnetError::Timeout { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}

impl From<LinnetError> for ConnectError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::WrongCredentials => Self::WrongCredentials,
            LinnetError::NoAcceptableMechanism { .. } | LinnetError::AuthFailed { .. } => {
                Self::AuthFailed {
                    reason: e.to_string(),
                }
            }
            LinnetError::NoPassword { .. } => Self::NoPassword,
            LinnetError::Certificate { reason } => Self::Certificate { reason },
            LinnetError::Tls { reason } => Self::Tls { reason },
            LinnetError::Network { reason } => Self::Network { reason },
            LinnetError::NotConnected => Self::Network {
                reason: e.to_string(),
            },
            LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::Refused { .. } => Self::Server {
                reason: e.to_string(),
            },
            LinnetError::Timeout { what } => Self::Timeout { what },
            LinnetError::Storage { reason } | LinnetError::SecretStore { reason } => {
                Self::Storage { reason }
            }
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::InvalidAddress { .. }
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}

impl From<LinnetError> for ChatError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::InvalidAddress { input } => Self::InvalidAddress { input },
            LinnetError::EmptyMessage => Self::EmptyMessage,
            LinnetError::TooLarge { size, limit } => Self::TooLarge {
                size: size as u64,
                limit: limit as u64,
            },
            LinnetError::NotConnected => Self::NotConnected,
            LinnetError::FileUnreadable { path, reason } => Self::FileUnreadable { path, reason },
            LinnetError::FileTooLarge { size, max } => Self::FileTooLarge { size, max },
            LinnetError::NoSuchMessage { message_id } => Self::NoSuchMessage { message_id },
            LinnetError::NoAttachment { message_id } => Self::NoAttachment { message_id },
            LinnetError::Storage { reason } => Self::Storage { reason },
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::Refused { .. }
            | LinnetError::Timeout { .. }
            | LinnetError::SecretStore { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}

impl From<LinnetError> for ContactError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::InvalidAddress { input } => Self::InvalidAddress { input },
            LinnetError::NotConnected => Self::NotConnected,
            LinnetError::Refused { reason } => Self::Refused { reason },
            LinnetError::Timeout { what } => Self::Timeout { what },
            LinnetError::Storage { reason } => Self::Storage { reason },
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::SecretStore { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}

impl From<LinnetError> for DiagnosticsError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::NotConnected => Self::NotConnected,
            LinnetError::Timeout { what } => Self::Timeout { what },
            LinnetError::Storage { reason } => Self::Storage { reason },
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::InvalidAddress { .. }
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::Refused { .. }
            | LinnetError::SecretStore { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }
            | LinnetError::NoSuchCall { .. }
            | LinnetError::CallNotRinging { .. }
            | LinnetError::CallNotConnected { .. }
            | LinnetError::CallInProgress
            | LinnetError::NoPhoneGateway
            | LinnetError::NoTurnServer
            | LinnetError::CallMedia { .. }
            | LinnetError::InvalidDigits { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}

impl From<LinnetError> for CallError {
    fn from(e: LinnetError) -> Self {
        match e {
            LinnetError::InvalidAddress { input } => Self::InvalidAddress { input },
            LinnetError::NotConnected => Self::NotConnected,
            LinnetError::NoSuchCall { id } => Self::NoSuchCall { id },
            LinnetError::CallNotRinging { id } => Self::CallNotRinging { id },
            LinnetError::CallNotConnected { id } => Self::CallNotConnected { id },
            LinnetError::CallInProgress => Self::CallInProgress,
            LinnetError::NoPhoneGateway => Self::NoPhoneGateway,
            LinnetError::NoTurnServer => Self::NoTurnServer,
            LinnetError::CallMedia { reason } => Self::Media { reason },
            LinnetError::InvalidDigits { reason } => Self::InvalidDigits { reason },
            LinnetError::Refused { reason } => Self::Refused { reason },
            LinnetError::Timeout { what } => Self::Timeout { what },
            LinnetError::Storage { reason } => Self::Storage { reason },
            // Not expected here: listed one by one, so a new LinnetError variant must be
            // placed deliberately (no wildcard).
            e @ (LinnetError::WrongCredentials
            | LinnetError::NoAcceptableMechanism { .. }
            | LinnetError::AuthFailed { .. }
            | LinnetError::Certificate { .. }
            | LinnetError::Tls { .. }
            | LinnetError::Network { .. }
            | LinnetError::StreamError { .. }
            | LinnetError::Protocol { .. }
            | LinnetError::EmptyMessage
            | LinnetError::TooLarge { .. }
            | LinnetError::NoSuchAccount { .. }
            | LinnetError::NoAccount
            | LinnetError::AmbiguousAccount { .. }
            | LinnetError::AccountExists { .. }
            | LinnetError::NoPassword { .. }
            | LinnetError::SecretStore { .. }
            | LinnetError::PushAppServerUnavailable { .. }
            | LinnetError::PushRefused { .. }
            | LinnetError::FileUnreadable { .. }
            | LinnetError::FileTooLarge { .. }
            | LinnetError::NoSuchMessage { .. }
            | LinnetError::NoAttachment { .. }) => Self::Internal {
                reason: internal(&e),
            },
        }
    }
}
