//! The `kiln` binary: parses the command line, sets up logging, runs one command and maps
//! its outcome to an exit code (0 ok, 1 invalid proof, 2 bad input, 3 internal failure).

/// The `tracing` target of the command line's events: `RUST_LOG=kiln::cli=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::cli";

use std::process::ExitCode;

mod cli;

use clap::Parser;
use cli::{run, Cli, Outcome};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, cli::Command::Serve(_));
    let default = match cli.verbose {
        0 if serving => "info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    match run(cli.command) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", cli::render_error(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
