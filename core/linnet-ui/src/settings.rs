//! Per-account preferences a settings screen edits.

use linnet_sdk::{Client, LinnetError};

pub use linnet_sdk::client::Preferences;

pub struct Settings {
    #[allow(dead_code)]
    client: Client,
}

impl Settings {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn get(&self) -> Result<Preferences, LinnetError> {
        unimplemented!("skeleton")
    }

    pub fn set(&self, _preferences: Preferences) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }
}
