//! linnet-push: the push app server of XEP-0357. It connects to an XMPP server as a component
//! (XEP-0114); devices register through an ad-hoc command (XEP-0050) and get a node and a
//! secret; users' servers publish to that node when a message waits, and linnet-push forwards a
//! wake-up without content or sender to APNs or FCM.

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
