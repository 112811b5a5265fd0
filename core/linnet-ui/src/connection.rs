//! The connection as a screen shows it, and the controls a platform drives it with.

use linnet_sdk::{Client, ClientEvent, ConnectionState, LinnetError};

use crate::TaskHandle;
use crate::observe::{self, Observed};

pub struct ConnectionService {
    client: Client,
}

impl ConnectionService {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn state(&self) -> ConnectionState {
        self.client.connection_state()
    }

    /// Since when (Unix ms) messages sent to the account may be missing on this device (a
    /// connection was lost without resumption); `None` when nothing is known missing. A screen
    /// can say so until archive sync fills the gap.
    pub fn history_gap_since(&self) -> Result<Option<i64>, LinnetError> {
        self.client.history_gap_since()
    }

    /// The current state first, then every change.
    pub fn subscribe(
        &self,
        listener: Box<dyn Fn(ConnectionState) + Send + Sync + 'static>,
    ) -> Result<TaskHandle, LinnetError> {
        let events = self.client.subscribe();
        let first = self.client.connection_state();
        let changes = Changes {
            client: self.client.clone(),
            last: first.clone(),
            pending: Vec::new(),
        };
        Ok(observe::spawn(
            events,
            vec![first],
            changes,
            None,
            move |states: Vec<ConnectionState>| {
                for state in states {
                    listener(state);
                }
            },
        ))
    }

    /// Connects now and keeps the account connected (reconnecting with backoff) until `stop`.
    /// Returns the first attempt's outcome; later attempts report through the state.
    pub async fn start(&self) -> Result<(), LinnetError> {
        self.client.start().await
    }

    /// Skips the backoff wait: the next attempt starts now (also after a fatal error such as a
    /// wrong password, once the user has fixed it).
    pub fn reconnect_now(&self) {
        self.client.reconnect_now();
    }

    /// The platform says the network changed: a started client reconnects at once if it is
    /// available (a stopped one stays stopped).
    pub fn network_changed(&self, available: bool) {
        if available {
            self.client.hint_reconnect();
        }
    }

    /// The app came to the foreground (true) or went to the background: CSI, and an immediate
    /// reconnect when coming to the foreground offline.
    pub fn set_foreground(&self, foreground: bool) {
        match self.client.set_active(foreground) {
            Ok(()) | Err(LinnetError::NotConnected) => {}
            Err(e) => tracing::warn!(error = %e, "cannot tell the server we are (in)active"),
        }
        if foreground {
            self.client.hint_reconnect();
        }
    }

    /// Disconnects and stops reconnecting.
    pub async fn stop(&self) {
        self.client.stop().await;
    }
}

/// Connection states not yet delivered.
struct Changes {
    client: Client,
    last: ConnectionState,
    pending: Vec<ConnectionState>,
}

impl Observed for Changes {
    type Batch = Vec<ConnectionState>;

    fn note(&mut self, event: &ClientEvent) -> bool {
        match event {
            ClientEvent::Connection(state) => {
                self.pending.push(state.clone());
                true
            }
            _ => false,
        }
    }

    fn lagged(&mut self) -> bool {
        self.pending.push(self.client.connection_state());
        true
    }

    fn next_batch(&mut self) -> Option<Vec<ConnectionState>> {
        let mut batch = Vec::new();
        for state in self.pending.drain(..) {
            if state != self.last {
                self.last = state.clone();
                batch.push(state);
            }
        }
        (!batch.is_empty()).then_some(batch)
    }
}
