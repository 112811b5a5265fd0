//! What a beta tester shares: the doctor report and recent logs, redacted.

use linnet_sdk::{Client, DoctorReport, LinnetError};

pub struct Diagnostics {
    #[allow(dead_code)]
    client: Client,
}

impl Diagnostics {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// What the server offers and what Linnet chose (needs a connection).
    pub async fn doctor(&self) -> Result<DoctorReport, LinnetError> {
        unimplemented!("skeleton")
    }

    /// The recent log lines kept in memory, already redacted (no passwords, tokens or message
    /// bodies), ready to attach to a bug report.
    pub fn export_logs(&self) -> String {
        unimplemented!("skeleton")
    }
}
