//! What a beta tester shares: the doctor report and recent logs, redacted.

use linnet_sdk::{Client, ConnectionState, DoctorReport, LinnetError};

pub struct Diagnostics {
    client: Client,
}

impl Diagnostics {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// What the server offers and what Linnet chose (needs a connection).
    pub async fn doctor(&self) -> Result<DoctorReport, LinnetError> {
        self.client.doctor().await
    }

    /// The recent log lines kept in memory, already redacted (no passwords, tokens or message
    /// bodies), ready to attach to a bug report. A short header names the Linnet version, the
    /// account's domain (not its user name) and the connection state; the account's own address
    /// in the lines is shortened to `[me]@domain`.
    pub fn export_logs(&self) -> String {
        let jid = self.client.jid();
        let domain = jid.domain().as_str();
        let state = match self.client.connection_state() {
            ConnectionState::Offline => "offline".to_string(),
            ConnectionState::Connecting => "connecting".to_string(),
            ConnectionState::Online => "online".to_string(),
            ConnectionState::Disconnected { error, .. } => match error {
                Some(e) => format!("disconnected ({:?} error)", e.kind()),
                None => "disconnected".to_string(),
            },
        };
        let mut logs = linnet_sdk::logging::recent_logs();
        if let Some(local) = jid.node() {
            logs = logs.replace(
                &format!("{}@{domain}", local.as_str()),
                &format!("[me]@{domain}"),
            );
        }
        format!(
            "Linnet {} diagnostics\nserver: {domain}\nconnection: {state}\n--- recent logs ---\n{logs}",
            env!("CARGO_PKG_VERSION"),
        )
    }
}
