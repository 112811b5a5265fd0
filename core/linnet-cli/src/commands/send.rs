//! `send`: connect, send, wait until the server has the message, disconnect.

use std::time::Duration;

use linnet_sdk::{Linnet, LinnetError, MessageState, normalise_jid};

use crate::cli::SendArgs;
use crate::error::{CliError, Kind};
use crate::input;
use crate::output::{self, Printer};

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: SendArgs,
    printer: Printer,
) -> Result<(), CliError> {
    // Everything that can be wrong locally is checked before going online.
    let to = normalise_jid(&args.to)?.to_string();
    let body = input::body(&args.text)?;
    let client = linnet.client(account)?;
    let timeout = Duration::from_secs(args.timeout);

    let (message, acknowledged) = super::connected(&client, |c| async move {
        let id = c.send_message(&to, &body)?;
        // Without stream management (XEP-0198) the server never acknowledges anything: the
        // best we can know is that the message was written to it.
        let acks = c
            .session_info()
            .is_some_and(|i| i.stream_management.is_some());
        let wanted = if acks {
            MessageState::Acked
        } else {
            MessageState::Sent
        };
        let message = c
            .wait_for_state(id, wanted, timeout)
            .await
            .map_err(|e| match e {
                LinnetError::Timeout { .. } => CliError::timeout(format!(
                    "the server did not acknowledge message {id} within {} s",
                    timeout.as_secs()
                )),
                other => other.into(),
            })?;
        if message.state == MessageState::Failed {
            let reason = message
                .failure_reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            return Err(CliError::new(
                Kind::Server,
                format!("message {id} to {to} failed: {reason}"),
            ));
        }
        Ok((message, acks))
    })
    .await?;
    printer.print(&output::sent(
        &message,
        acknowledged,
        &super::view_for(&client),
    ))
}
