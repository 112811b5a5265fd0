//! Linnet for Kotlin and Swift. This crate only wraps `core/` objects and converts types
//! (ARCHITECTURE.md rule 1): every decision is made in linnet-sdk or linnet-ui.
//!
//! Entry points: [`init_platform`] once at start, then [`LinnetSdk`] for accounts and
//! [`LinnetClient`] for one account's services (chat list, timelines, contacts, connection,
//! settings, diagnostics, calls, push). Observers take a listener and return a [`TaskHandle`].

mod calls;
mod errors;
mod platform;
mod push;
mod runtime;
mod sdk;
mod services;
mod types;
mod wake;

pub use calls::*;
pub use errors::*;
pub use platform::*;
pub use push::*;
pub use runtime::*;
pub use sdk::*;
pub use services::*;
pub use types::*;
pub use wake::*;

uniffi::setup_scaffolding!("linnet");
