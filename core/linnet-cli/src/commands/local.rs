//! Commands that only read the local store: `chats` and `history`.

use linnet_sdk::{Linnet, normalise_jid};

use crate::cli::HistoryArgs;
use crate::error::CliError;
use crate::output::{self, Printer};

pub fn chats(linnet: &Linnet, account: Option<&str>, printer: Printer) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    printer.print(&output::chats(&client.chats()?, &super::view_for(&client)))
}

pub fn history(
    linnet: &Linnet,
    account: Option<&str>,
    args: HistoryArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let with = normalise_jid(&args.with)?.to_string();
    // The store pages newest first; people read oldest first.
    let mut messages = client.history(&with, args.limit, args.before)?;
    messages.reverse();
    printer.print(&output::history(
        &messages,
        &with,
        &super::view_for(&client),
    ))
}
