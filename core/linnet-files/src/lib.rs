//! Linnet's HTTP file transfer engine: the XEP-0363 upload PUT and downloads over https only,
//! with the account's TLS trust, size caps enforced while streaming, generated storage names
//! and safe display names, and light file metadata (media type, image dimensions).

mod error;
mod http;
pub mod meta;
pub mod names;

pub use error::TransferError;
pub use http::{Downloaded, HeadInfo, HttpClient};
pub use tokio_util::sync::CancellationToken;
