//! The CLI's error: a class that decides the exit code, and a message in plain words.

use linnet_sdk::{ErrorKind, LinnetError};

/// Broad classes of failure, one exit code each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else: local storage, I/O on this machine.
    Local,
    /// The command line or its input was wrong (bad address, empty message, no account...).
    Usage,
    /// Wrong credentials or no sign-in method we accept.
    Auth,
    /// The server could not be reached, or something timed out.
    Network,
    /// The secure connection or the server's certificate failed.
    Tls,
    /// The server refused, or broke the protocol / ended the stream.
    Server,
}

impl Kind {
    /// The process exit code for this class (0 is success).
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Local => 1,
            Kind::Usage => 2,
            Kind::Auth => 3,
            Kind::Network => 4,
            Kind::Tls => 5,
            Kind::Server => 6,
        }
    }

    /// The spelling in JSON error lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Local => "local",
            Kind::Usage => "usage",
            Kind::Auth => "auth",
            Kind::Network => "network",
            Kind::Tls => "tls",
            Kind::Server => "server",
        }
    }
}

impl From<ErrorKind> for Kind {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::Auth => Kind::Auth,
            ErrorKind::Network => Kind::Network,
            ErrorKind::Tls => Kind::Tls,
            ErrorKind::Server => Kind::Server,
            ErrorKind::Usage => Kind::Usage,
            ErrorKind::Local => Kind::Local,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    kind: Kind,
    message: String,
    /// Standard output was closed by the reader (`linnet listen | head -1`): stop quietly.
    stdout_closed: bool,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            stdout_closed: false,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }

    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Kind::Local, message)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(Kind::Network, message)
    }

    /// Whoever read our standard output went away; not worth a message or a failure.
    pub fn stdout_closed() -> Self {
        Self {
            kind: Kind::Local,
            message: "standard output was closed".into(),
            stdout_closed: true,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn is_stdout_closed(&self) -> bool {
        self.stdout_closed
    }

    /// The exit code: the class's, or 0 when only our reader went away.
    pub fn exit_code(&self) -> u8 {
        if self.stdout_closed {
            0
        } else {
            self.kind.exit_code()
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<LinnetError> for CliError {
    fn from(e: LinnetError) -> Self {
        let message = match &e {
            LinnetError::AmbiguousAccount { .. } => format!("{e} with --account JID"),
            LinnetError::NoAccount => {
                "no account yet: add one with 'linnet account add JID'".to_string()
            }
            _ => e.to_string(),
        };
        CliError::new(e.kind().into(), message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(Kind::Local.exit_code(), 1);
        assert_eq!(Kind::Usage.exit_code(), 2);
        assert_eq!(Kind::Auth.exit_code(), 3);
        assert_eq!(Kind::Network.exit_code(), 4);
        assert_eq!(Kind::Tls.exit_code(), 5);
        assert_eq!(Kind::Server.exit_code(), 6);
    }

    #[test]
    fn sdk_errors_map_to_their_exit_codes() {
        let cases = [
            (LinnetError::WrongCredentials, 3),
            (
                LinnetError::NoAcceptableMechanism {
                    offered: "PLAIN".into(),
                },
                3,
            ),
            (LinnetError::AuthFailed { reason: "x".into() }, 3),
            (LinnetError::NoPassword { jid: "a@b".into() }, 3),
            (LinnetError::Network { reason: "x".into() }, 4),
            (LinnetError::Timeout { what: "x".into() }, 4),
            (LinnetError::NotConnected, 4),
            (LinnetError::Certificate { reason: "x".into() }, 5),
            (LinnetError::Tls { reason: "x".into() }, 5),
            (
                LinnetError::StreamError {
                    condition: "conflict".into(),
                    text: None,
                },
                6,
            ),
            (LinnetError::Protocol { reason: "x".into() }, 6),
            (LinnetError::Refused { reason: "x".into() }, 6),
            (LinnetError::InvalidAddress { input: "x".into() }, 2),
            (LinnetError::EmptyMessage, 2),
            (LinnetError::TooLarge { size: 2, limit: 1 }, 2),
            (LinnetError::NoSuchAccount { jid: "a@b".into() }, 2),
            (LinnetError::NoAccount, 2),
            (
                LinnetError::AmbiguousAccount {
                    accounts: "a@b, c@d".into(),
                },
                2,
            ),
            (LinnetError::AccountExists { jid: "a@b".into() }, 2),
            (LinnetError::Storage { reason: "x".into() }, 1),
            (LinnetError::SecretStore { reason: "x".into() }, 1),
        ];
        for (error, code) in cases {
            let shown = error.to_string();
            let cli = CliError::from(error);
            assert_eq!(cli.exit_code(), code, "{shown}");
        }
    }

    #[test]
    fn messages_point_at_the_fix() {
        let e = CliError::from(LinnetError::NoAccount);
        assert!(e.message().contains("linnet account add"), "{e}");
        let e = CliError::from(LinnetError::AmbiguousAccount {
            accounts: "a@b, c@d".into(),
        });
        assert!(e.message().contains("--account"), "{e}");
        assert!(e.message().contains("a@b, c@d"), "{e}");
    }

    #[test]
    fn a_closed_stdout_is_not_a_failure() {
        let e = CliError::stdout_closed();
        assert!(e.is_stdout_closed());
        assert_eq!(e.exit_code(), 0);
        assert_eq!(CliError::timeout("x").exit_code(), 4);
        assert_eq!(CliError::usage("x").kind().as_str(), "usage");
    }
}
