//! `doctor`: connect and report what was negotiated and what the server offers.

use linnet_sdk::Linnet;

use crate::error::CliError;
use crate::output::{self, Printer};

pub async fn run(linnet: &Linnet, account: Option<&str>, printer: Printer) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let report = super::connected(&client, |c| async move { Ok(c.doctor().await?) }).await?;
    printer.print(&output::doctor(&report))
}
