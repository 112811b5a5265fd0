//! `send`: connect, send, wait until the server has the message, disconnect.

use std::time::Duration;

use linnet_sdk::{Linnet, LinnetError, MessageState, normalise_jid};

use crate::cli::{SendArgs, WaitFor};
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
    let view = super::view_for(&client);
    let later_stages: &[MessageState] = match args.wait {
        WaitFor::Acked => &[],
        WaitFor::Delivered => &[MessageState::Delivered],
        WaitFor::Read => &[MessageState::Delivered, MessageState::Displayed],
    };

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
        printer.print(&output::sent(&message, acks, &view))?;
        // Then follow it to the recipient: delivered (receipt), read (marker).
        let mut message = message;
        for &stage in later_stages {
            message = c
                .wait_for_state(id, stage, timeout)
                .await
                .map_err(|e| match e {
                    LinnetError::Timeout { .. } => CliError::timeout(format!(
                        "message {id} was not {} within {} s",
                        if stage == MessageState::Delivered {
                            "delivered"
                        } else {
                            "read"
                        },
                        timeout.as_secs()
                    )),
                    other => other.into(),
                })?;
            // Name each step reached, even when the next one came in the same instant (a
            // receipt and a read marker often arrive together).
            let reached = if message.state == MessageState::Failed {
                MessageState::Failed
            } else {
                stage
            };
            printer.print(&output::event(
                &linnet_sdk::ClientEvent::MessageState {
                    id,
                    peer: to.clone(),
                    state: reached,
                    reason: message.failure_reason.clone(),
                },
                &view,
            ))?;
            if reached == MessageState::Failed {
                break;
            }
        }
        Ok((message, acks))
    })
    .await?;
    let _ = (message, acknowledged);
    Ok(())
}
