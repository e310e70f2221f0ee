//! The `tlsprobe` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = tlsprobe::cli::Cli::parse();
    ExitCode::from(tlsprobe::app::run(cli))
}
