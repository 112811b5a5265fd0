//! The connection as a screen shows it, and the controls a platform drives it with.

use linnet_sdk::{Client, ConnectionState, LinnetError};

use crate::TaskHandle;

pub struct ConnectionService {
    #[allow(dead_code)]
    client: Client,
}

impl ConnectionService {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn state(&self) -> ConnectionState {
        unimplemented!("skeleton")
    }

    /// The current state first, then every change.
    pub fn subscribe(
        &self,
        _listener: Box<dyn Fn(ConnectionState) + Send + Sync + 'static>,
    ) -> Result<TaskHandle, LinnetError> {
        unimplemented!("skeleton")
    }

    /// Connects now and keeps the account connected (reconnecting with backoff) until `stop`.
    /// Returns the first attempt's outcome; later attempts report through the state.
    pub async fn start(&self) -> Result<(), LinnetError> {
        unimplemented!("skeleton")
    }

    /// Skips the backoff wait: the next attempt starts now (also after a fatal error such as a
    /// wrong password, once the user has fixed it).
    pub fn reconnect_now(&self) {
        unimplemented!("skeleton")
    }

    /// The platform says the network changed: reconnect at once if it is available.
    pub fn network_changed(&self, _available: bool) {
        unimplemented!("skeleton")
    }

    /// The app came to the foreground (true) or went to the background: CSI, and an immediate
    /// reconnect when coming to the foreground offline.
    pub fn set_foreground(&self, _foreground: bool) {
        unimplemented!("skeleton")
    }

    /// Disconnects and stops reconnecting.
    pub async fn stop(&self) {
        unimplemented!("skeleton")
    }
}
