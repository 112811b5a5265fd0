//! `wake`: the push wake-up path of the SDK (`Client::wake`), as an iOS Notification Service
//! Extension or an Android push receiver runs it: connect, fetch and store what arrived, print
//! what to show, disconnect. Also what the wake-up benchmark measures.

use std::time::Duration;

use linnet_sdk::{Linnet, WakeOptions};

use crate::cli::WakeArgs;
use crate::error::CliError;
use crate::output::{self, Printer};

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: WakeArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let options = WakeOptions {
        deadline: Duration::from_secs(args.timeout),
        notify_requests: args.requests,
    };
    let report = client.wake(options).await?;
    if !report.complete {
        printer.warn("the catch-up did not finish in time: the next sync fetches the rest");
    }
    printer.print(&output::wake(&report, &super::view_for(&client)))
}
