//! `roster` (list) and `roster add | remove | approve | deny`.

use linnet_sdk::{Linnet, normalise_jid};

use crate::cli::{RosterAction, RosterArgs};
use crate::error::CliError;
use crate::output::{self, Printer, RosterDone};

pub async fn run(
    linnet: &Linnet,
    account: Option<&str>,
    args: RosterArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let client = linnet.client(account)?;
    let Some(action) = args.action else {
        if args.refresh {
            // Connecting fetches the roster (and any pending requests arrive with it).
            super::connected(&client, |_| async { Ok(()) }).await?;
        }
        let view = super::view_for(&client);
        return printer.print(&output::roster(
            &client.roster()?,
            &client.subscription_requests()?,
            &view,
        ));
    };
    // Check the address before going online for it.
    let (jid, done) = match &action {
        RosterAction::Add { jid, .. } => (jid, RosterDone::Added),
        RosterAction::Remove { jid } => (jid, RosterDone::Removed),
        RosterAction::Approve { jid } => (jid, RosterDone::Approved),
        RosterAction::Deny { jid } => (jid, RosterDone::Denied),
    };
    let jid = normalise_jid(jid)?.to_string();
    let target = jid.clone();
    super::connected(&client, |c| async move {
        match action {
            RosterAction::Add { name, .. } => c.add_contact(&target, name.as_deref()).await?,
            RosterAction::Remove { .. } => c.remove_contact(&target).await?,
            RosterAction::Approve { .. } => c.approve(&target)?,
            RosterAction::Deny { .. } => c.deny(&target)?,
        }
        Ok(())
    })
    .await?;
    printer.print(&output::roster_done(done, &jid))
}
