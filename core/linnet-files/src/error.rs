//! What a transfer can fail with.

use std::io;

/// Why an upload or download failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The URL (or a redirect target) is not https.
    #[error("not an https URL: {url}")]
    NotHttps { url: String },
    #[error("invalid URL: {url}")]
    InvalidUrl { url: String },
    /// A request header (from the upload slot) or the content type is not a valid HTTP
    /// header: a CR/LF or another forbidden byte. Nothing was sent.
    #[error("invalid HTTP header: {name}")]
    InvalidHeader { name: String },
    #[error("HTTP status {status}")]
    Http { status: u16 },
    /// Certificate validation or the TLS handshake failed.
    #[error("TLS: {reason}")]
    Tls { reason: String },
    /// Connection refused or reset, DNS failure, timeout, stall.
    #[error("network: {reason}")]
    Network { reason: String },
    #[error("larger than the limit of {max} bytes")]
    TooLarge { max: u64 },
    #[error("no space left on the device")]
    DiskFull,
    /// The upload source is gone or unreadable.
    #[error("file missing or unreadable: {path}")]
    FileMissing { path: String },
    /// The upload source does not have the announced size (it changed under us).
    #[error("the file changed size during the upload")]
    FileChanged,
    #[error("I/O: {reason}")]
    Io { reason: String },
    #[error("cancelled")]
    Cancelled,
}

impl TransferError {
    /// Whether trying again later may succeed: network trouble, server errors (5xx), request
    /// timeout (408) and rate limiting (429).
    pub fn is_transient(&self) -> bool {
        match self {
            TransferError::Network { .. } => true,
            TransferError::Http { status } => *status >= 500 || *status == 408 || *status == 429,
            _ => false,
        }
    }

    /// Maps a local file I/O error (writing a download, reading an upload mid-way).
    /// ENOSPC and quota errors become [`TransferError::DiskFull`].
    pub fn from_io(e: &io::Error) -> TransferError {
        match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => TransferError::DiskFull,
            _ => TransferError::Io {
                reason: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_mapping() {
        assert_eq!(
            TransferError::from_io(&io::Error::from(io::ErrorKind::StorageFull)),
            TransferError::DiskFull
        );
        assert_eq!(
            TransferError::from_io(&io::Error::from(io::ErrorKind::QuotaExceeded)),
            TransferError::DiskFull
        );
        // ENOSPC as the OS reports it.
        #[cfg(target_os = "linux")]
        assert_eq!(
            TransferError::from_io(&io::Error::from_raw_os_error(28)),
            TransferError::DiskFull
        );
        assert!(matches!(
            TransferError::from_io(&io::Error::from(io::ErrorKind::PermissionDenied)),
            TransferError::Io { .. }
        ));
    }

    #[test]
    fn transient() {
        assert!(TransferError::Network { reason: "x".into() }.is_transient());
        assert!(TransferError::Http { status: 503 }.is_transient());
        assert!(TransferError::Http { status: 500 }.is_transient());
        assert!(TransferError::Http { status: 408 }.is_transient());
        assert!(TransferError::Http { status: 429 }.is_transient());
        assert!(!TransferError::Http { status: 404 }.is_transient());
        assert!(!TransferError::Http { status: 413 }.is_transient());
        assert!(!TransferError::Tls { reason: "x".into() }.is_transient());
        assert!(!TransferError::TooLarge { max: 1 }.is_transient());
        assert!(!TransferError::Cancelled.is_transient());
        assert!(!TransferError::DiskFull.is_transient());
    }
}
