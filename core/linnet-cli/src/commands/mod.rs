//! One module per command. Each takes the opened `Linnet`, its arguments and the printer.

mod account;
mod call;
mod doctor;
mod files;
mod listen;
mod local;
mod push;
mod roster;
mod send;
mod sync;
mod wake;

use std::future::Future;

use linnet_sdk::{ArchiveConfig, Client, ClientConfig, Linnet};

use crate::cli::{AccountCommand, Cli, Command};
use crate::error::CliError;
use crate::output::{Printer, View};

pub async fn run(cli: Cli, printer: Printer) -> Result<(), CliError> {
    let Cli { global, command } = cli;
    let dir = crate::cli::data_dir(
        global.data_dir,
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME"),
    )
    .ok_or_else(|| {
        CliError::usage("cannot tell where to keep data: use --data-dir or set LINNET_DATA_DIR")
    })?;
    // `listen` stays online and syncs the archive in the background; the other commands
    // connect briefly (`sync` runs it in the foreground with a progress bar).
    let config = ClientConfig {
        archive: ArchiveConfig {
            auto_sync: matches!(command, Command::Listen(_)),
            ..ArchiveConfig::default()
        },
        ..ClientConfig::default()
    };
    let linnet = Linnet::open(&dir)?.with_config(config);
    let account = global.account.as_deref();
    match command {
        Command::Account(AccountCommand::Add(args)) => account::add(&linnet, args, printer).await,
        Command::Account(AccountCommand::List) => account::list(&linnet, printer),
        Command::Account(AccountCommand::Remove { jid }) => {
            account::remove(&linnet, &jid, printer).await
        }
        Command::Send(args) => send::run(&linnet, account, args, printer).await,
        Command::Listen(args) => listen::run(&linnet, account, args, printer).await,
        Command::Chats => local::chats(&linnet, account, printer),
        Command::History(args) => local::history(&linnet, account, args, printer),
        Command::Sync(args) => sync::run(&linnet, account, args, printer).await,
        Command::SendFile(args) => files::send(&linnet, account, args, printer).await,
        Command::Download(args) => files::download(&linnet, account, args, printer).await,
        Command::Call(args) => call::run(&linnet, account, args, printer).await,
        Command::Roster(args) => roster::run(&linnet, account, args, printer).await,
        Command::Doctor => doctor::run(&linnet, account, printer).await,
        // Dispatched in main: it opens no data dir.
        Command::PushServer(_) => Err(CliError::usage("push-server runs on its own")),
        Command::Wake(args) => wake::run(&linnet, account, args, printer).await,
        Command::Push(command) => push::run(&linnet, account, command, printer).await,
    }
}

/// A view for rendering what concerns `client`'s account.
fn view_for(client: &Client) -> View {
    View::new(client.jid().to_string())
}

/// Connects, runs `f`, then disconnects cleanly whatever `f` returned.
async fn connected<T, F, Fut>(client: &Client, f: F) -> Result<T, CliError>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, CliError>>,
{
    client.connect().await?;
    let result = f(client.clone()).await;
    client.disconnect().await;
    result
}
