//! `account add | list | remove`.

use std::path::Path;

use linnet_sdk::{AccountSettings, Linnet, normalise_jid};

use crate::cli::AccountAddArgs;
use crate::error::CliError;
use crate::input;
use crate::output::{self, Printer};

pub async fn add(linnet: &Linnet, args: AccountAddArgs, printer: Printer) -> Result<(), CliError> {
    let jid = normalise_jid(&args.jid)?;
    if jid.node().is_none() {
        return Err(CliError::usage(format!(
            "'{jid}' is a server, not an account: write name@{jid}"
        )));
    }
    let jid = jid.to_string();
    // Refuse before asking for a password.
    if linnet.accounts()?.iter().any(|a| a.jid == jid) {
        return Err(linnet_sdk::LinnetError::AccountExists { jid }.into());
    }
    let ca_pem = args.ca_file.as_deref().map(read_ca).transpose()?;
    let password = input::password(&jid)?;
    let settings = AccountSettings {
        server: args
            .server
            .as_ref()
            .map(|s| (s.host.clone(), s.port_or_default(args.direct_tls))),
        direct_tls: args.direct_tls,
        ca_pem,
    };
    let account = linnet.add_account(&jid, password, settings)?;
    if args.no_verify {
        return printer.print(&output::account_added(&account.jid, None));
    }

    let client = linnet.client(Some(&account.jid))?;
    match client.connect().await {
        Ok(()) => {
            let bound = client.session_info().map(|i| i.bound_jid.to_string());
            client.disconnect().await;
            printer.print(&output::account_added(
                &account.jid,
                Some(bound.as_deref().unwrap_or(&account.jid)),
            ))
        }
        Err(e) => {
            drop(client);
            if let Err(cleanup) = linnet.remove_account(&account.jid) {
                printer.warn(&format!(
                    "could not remove the unverified account again: {cleanup}"
                ));
            }
            let cli = CliError::from(e);
            Err(CliError::new(
                cli.kind(),
                format!(
                    "{}; the account was not added (--no-verify keeps it without signing in)",
                    cli.message()
                ),
            ))
        }
    }
}

/// Reads a PEM file of CA certificates.
fn read_ca(path: &Path) -> Result<String, CliError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(CliError::usage(format!(
            "{} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(pem)
}

pub fn list(linnet: &Linnet, printer: Printer) -> Result<(), CliError> {
    printer.print(&output::accounts(&linnet.accounts()?))
}

pub async fn remove(linnet: &Linnet, jid: &str, printer: Printer) -> Result<(), CliError> {
    let jid = normalise_jid(jid)?.to_string();
    // A push registration is undone first, while a stream is open (logout connects for it):
    // otherwise the app server would keep waking a device that no longer has the account.
    let client = linnet.client(Some(&jid))?;
    if client.push_status()?.registered
        && let Err(e) = client.logout().await
    {
        printer.warn(&format!("could not disable push notifications: {e}"));
    }
    drop(client);
    linnet.remove_account(&jid)?;
    printer.print(&output::account_removed(&jid))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ca_files_must_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("linnet-cli-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.pem");
        std::fs::write(
            &good,
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "not a certificate").unwrap();
        assert!(read_ca(&good).unwrap().contains("MIIB"));
        assert_eq!(read_ca(&bad).unwrap_err().exit_code(), 2);
        assert_eq!(
            read_ca(&dir.join("missing.pem")).unwrap_err().exit_code(),
            2
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
