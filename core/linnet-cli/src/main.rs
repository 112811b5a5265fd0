//! `linnet`: the command-line client. Parse, set up logging and the runtime, run the command,
//! turn the outcome into an exit code.

mod cli;
mod commands;
mod error;
mod input;
mod output;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Printer;

fn main() -> ExitCode {
    // Usage errors exit 2 here, --help and --version 0.
    let cli = Cli::parse();
    if let Command::PushServer(args) = &cli.command {
        return push_server(&args.config);
    }
    let filter = match cli.global.log.trim() {
        "" => "warn",
        f => f,
    };
    linnet_sdk::logging::init(filter, cli.global.json);
    let printer = Printer::new(cli.global.json);

    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::local(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| {
            let result = runtime.block_on(commands::run(cli, printer));
            runtime.shutdown_timeout(Duration::from_secs(1));
            result
        });

    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            printer.report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `linnet push-server`: the app server needs no data dir and no account, and logs through its
/// own filter (the HTTP stacks' debug output would carry device tokens).
fn push_server(config: &std::path::Path) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(linnet_push::tracing_filter())
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("linnet push-server: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(linnet_push::cli_main(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linnet push-server: {e}");
            ExitCode::from(1)
        }
    }
}
