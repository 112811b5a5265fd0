//! `linnet-push --config FILE`: runs the push app server (the same as `linnet push-server`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "linnet-push",
    version,
    about = "Linnet's push app server (XEP-0357)"
)]
struct Args {
    /// The configuration file (TOML).
    #[arg(long, short = 'c', env = "LINNET_PUSH_CONFIG")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Logs never carry tokens, secrets, nodes or JIDs (see server.rs); RUST_LOG picks the level.
    tracing_subscriber::fmt()
        .with_env_filter(linnet_push::tracing_filter())
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("linnet-push: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(linnet_push::cli_main(&args.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linnet-push: {e}");
            ExitCode::FAILURE
        }
    }
}
