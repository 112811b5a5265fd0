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

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::Printer;

fn main() -> ExitCode {
    // Usage errors exit 2 here, --help and --version 0.
    let cli = Cli::parse();
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
