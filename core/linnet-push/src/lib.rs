//! linnet-push: the push app server of XEP-0357. It connects to an XMPP server as a component
//! (XEP-0114); devices register through an ad-hoc command (XEP-0050) and get a node and a
//! secret; users' servers publish to that node when a message waits, and linnet-push forwards a
//! wake-up without content or sender to APNs or FCM.
//!
//! Run it with `linnet-push --config FILE` or `linnet push-server --config FILE` (both call
//! [`cli_main`]); the file's format is documented in [`config`].

use std::path::Path;

pub mod apns;
pub mod config;
pub mod fcm;
mod http_client;
mod jwt;
pub mod provider;
pub mod ratelimit;
pub mod server;
pub mod store;
pub mod store_postgres;
pub mod store_sqlite;

pub use http_client::ProviderSetupError;
pub use server::{LinkState, PushServer, PushService, ServerError, Stats, StatsSnapshot, run};

/// Reads the configuration and serves until Ctrl-C or SIGTERM, or until the XMPP server refuses
/// the component's secret. Logging is the caller's (the binaries set up `tracing`).
pub async fn cli_main(config_path: &Path) -> Result<(), ServerError> {
    let config = config::Config::from_file(config_path)?;
    let server = PushServer::from_config(config).await?;
    server.serve_until(shutdown_signal()).await?;
    tracing::info!("shutting down");
    Ok(())
}

/// The log filter of the binaries: `RUST_LOG` (default `info`), with the HTTP, TLS and database
/// stacks held at `info` whatever it says: at debug and trace they print request targets and
/// bodies, and an APNs request target carries the device token (security.md item 22).
pub fn tracing_filter() -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    for quiet in [
        "h2=info",
        "hyper=info",
        "hyper_util=info",
        "reqwest=info",
        "rustls=info",
        "tokio_postgres=info",
        "deadpool_postgres=info",
        "rusqlite=info",
    ] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
