//! Per-account preferences a settings screen edits.

use linnet_sdk::{Client, LinnetError};

pub use linnet_sdk::client::Preferences;

pub struct Settings {
    client: Client,
}

impl Settings {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn get(&self) -> Result<Preferences, LinnetError> {
        self.client.preferences()
    }

    pub fn set(&self, preferences: Preferences) -> Result<(), LinnetError> {
        self.client.set_preferences(preferences)
    }
}
