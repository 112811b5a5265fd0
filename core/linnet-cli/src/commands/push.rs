//! `push status | set | permit | revoke`: the account's push notifications (XEP-0357). The
//! changing commands connect, reconcile and report where push stands.

use linnet_sdk::{Client, Linnet, PushPlatform, PushSettings, PushStatus};

use crate::cli::{PushCommand, PushSetArgs};
use crate::error::CliError;
use crate::output::{self, Printer};

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    command: PushCommand,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let status = match command {
        PushCommand::Status => {
            super::connected(&client, |c| async move { Ok(reconciled(&c).await) }).await?
        }
        PushCommand::Set(args) => {
            let settings = changed(client.push_settings()?, args)?;
            super::connected(&client, |c| async move { Ok(c.set_push(settings).await?) }).await?
        }
        PushCommand::Permit => {
            super::connected(
                &client,
                |c| async move { Ok(c.set_push_permitted(true).await?) },
            )
            .await?
        }
        PushCommand::Revoke => {
            super::connected(&client, |c| async move {
                Ok(c.set_push_permitted(false).await?)
            })
            .await?
        }
    };
    printer.print(&output::push_status(client.jid().as_str(), &status))?;
    match status.last_error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Reconciles now (the reconciliation `connect` starts may still be running: this one waits
/// for it, then finds nothing left to do but the enable).
async fn reconciled(client: &Client) -> PushStatus {
    client.reconcile_push().await
}

fn changed(mut settings: PushSettings, args: PushSetArgs) -> Result<PushSettings, CliError> {
    if let Some(app_server) = args.app_server {
        settings.app_server = Some(app_server).filter(|s| !s.trim().is_empty());
    }
    if let Some(token) = args.token {
        settings.token = Some(token).filter(|t| !t.trim().is_empty());
    }
    if let Some(platform) = args.platform {
        settings.platform = PushPlatform::parse(&platform)
            .ok_or_else(|| CliError::usage(format!("unknown push platform '{platform}'")))?;
    }
    Ok(settings)
}
