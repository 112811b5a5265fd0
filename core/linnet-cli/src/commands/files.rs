//! `send-file` and `download`: one transfer with a progress bar, waiting until it is done.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use linnet_sdk::{
    Client, ClientEvent, Linnet, LinnetError, MessageState, TransferState, TransferUpdate,
    normalise_jid,
};
use tokio::sync::broadcast;

use crate::cli::{DownloadArgs, SendFileArgs};
use crate::error::{CliError, Kind};
use crate::output::{self, Printer};

pub async fn send(
    linnet: &Linnet,
    account: Option<&str>,
    args: SendFileArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let to = normalise_jid(&args.to)?.to_string();
    let client = linnet.client(account)?;
    let view = super::view_for(&client);
    let timeout = Duration::from_secs(args.timeout);
    let path = args.path;
    super::connected(&client, |c| async move {
        let mut events = c.subscribe();
        let id = c.send_file(&to, &path)?;
        let bar = Bar::new(&printer);
        let outcome = tokio::time::timeout(timeout, follow_upload(&c, id, &mut events, &bar, &printer))
            .await
            .unwrap_or_else(|_| {
                Err(CliError::timeout(format!(
                    "the file was not sent within {} s; it stays queued and goes out with the next connection ('linnet listen')",
                    timeout.as_secs()
                )))
            });
        bar.finish();
        let message = outcome?;
        printer.print(&output::sent(&message, true, &view))
    })
    .await
}

/// Waits until message `id` (a file) is acknowledged by the server, or fails.
async fn follow_upload(
    client: &Client,
    id: i64,
    events: &mut broadcast::Receiver<ClientEvent>,
    bar: &Bar,
    printer: &Printer,
) -> Result<linnet_sdk::Message, CliError> {
    loop {
        let m = client
            .message(id)?
            .ok_or_else(|| CliError::new(Kind::Local, format!("message {id} vanished")))?;
        match m.state {
            MessageState::Failed => {
                return Err(CliError::new(
                    Kind::Server,
                    format!(
                        "sending the file failed: {}",
                        m.failure_reason.as_deref().unwrap_or("no reason given")
                    ),
                ));
            }
            MessageState::Acked | MessageState::Delivered | MessageState::Displayed => {
                return Ok(m);
            }
            _ => {}
        }
        next_transfer_event(events, id, bar, printer).await?;
    }
}

pub async fn download(
    linnet: &Linnet,
    account: Option<&str>,
    args: DownloadArgs,
    printer: Printer,
) -> Result<(), CliError> {
    // Downloads need no XMPP session: the link is fetched over HTTPS directly.
    let client = linnet.client(account)?;
    let view = super::view_for(&client);
    let id = args.message_id;
    let mut events = client.subscribe();
    client.download(id)?;
    let bar = Bar::new(&printer);
    let timeout = Duration::from_secs(args.timeout);
    let outcome = tokio::time::timeout(timeout, async {
        loop {
            let attachment = client
                .message(id)?
                .and_then(|m| m.attachment)
                .ok_or(LinnetError::NoAttachment { message_id: id })?;
            match attachment.state {
                TransferState::Done => return Ok(attachment),
                TransferState::Failed | TransferState::Cancelled => {
                    return Err(CliError::new(
                        Kind::Server,
                        format!(
                            "the download failed: {}",
                            attachment
                                .failure_reason
                                .as_deref()
                                .unwrap_or("no reason given")
                        ),
                    ));
                }
                _ => {}
            }
            next_transfer_event(&mut events, id, &bar, &printer).await?;
        }
    })
    .await
    .unwrap_or_else(|_| {
        Err(CliError::timeout(format!(
            "the download did not finish within {} s",
            timeout.as_secs()
        )))
    });
    bar.finish();
    if outcome.is_err() {
        // Leave nothing running behind: a later 'download' starts it again.
        let _ = client.cancel_transfer(id);
    }
    let attachment = outcome?;
    printer.print(&output::downloaded(id, &attachment, &view))
}

/// Waits for the next event and shows it when it concerns the transfer of message `id`.
async fn next_transfer_event(
    events: &mut broadcast::Receiver<ClientEvent>,
    id: i64,
    bar: &Bar,
    printer: &Printer,
) -> Result<(), CliError> {
    match events.recv().await {
        Ok(ClientEvent::Transfer(t)) if t.message_id == id => {
            bar.show(&t);
            if t.state == TransferState::Queued && t.failure_reason.is_some() {
                printer.warn(&output::transfer_retry_note(&t));
            }
            Ok(())
        }
        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => Ok(()),
        Err(broadcast::error::RecvError::Closed) => Err(LinnetError::NotConnected.into()),
    }
}

/// A byte progress bar for people at a terminal (indicatif draws nothing elsewhere).
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(printer: &Printer) -> Self {
        Self((!printer.is_json()).then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        }))
    }

    fn show(&self, t: &TransferUpdate) {
        let Some(bar) = &self.0 else { return };
        if let Some(total) = t.total {
            bar.set_length(total);
        }
        bar.set_position(t.transferred);
        bar.set_message(output::transfer_state_label(t));
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
