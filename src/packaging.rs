//! The conventions of a packaged CLI: the version string with the TLS stack, shell
//! completions (clap_complete) and man pages (clap_mangen), all derived from the clap
//! definitions in `cli`, so they cannot drift from `--help`.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::InputError;
use crate::finding::exit;

/// `tlsprobe --version`: the crate version and the TLS stack compiled in (the rustls
/// version comes from Cargo.lock through build.rs; the provider is always ring).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (rustls ",
    env!("TLSPROBE_RUSTLS_VERSION"),
    ", crypto provider ring)"
);

/// `tlsprobe completions SHELL`.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "tlsprobe", &mut buf);
    write_stdout(&buf)
}

/// `tlsprobe man [SUBCOMMAND] [--dir DIR]`.
pub fn man(args: &ManArgs) -> u8 {
    match man_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit::INPUT
        }
    }
}

/// The command tree as clap_mangen's `generate_to` prepares it: built, so that each
/// subcommand's display name is `tlsprobe-NAME`, and without the `help` pseudo-subcommand.
fn built_command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn man_inner(args: &ManArgs) -> Result<u8, InputError> {
    let cmd = built_command();
    if let Some(dir) = &args.dir {
        let what = || format!("--dir {}", dir.display());
        std::fs::create_dir_all(dir).map_err(|e| InputError::new(what(), e.to_string()))?;
        clap_mangen::generate_to(Cli::command(), dir)
            .map_err(|e| InputError::new(what(), e.to_string()))?;
        return Ok(exit::PASS);
    }
    let page = match &args.subcommand {
        None => cmd,
        Some(name) => cmd.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
            InputError::new(
                format!("man {name}"),
                format!("no such subcommand (one of: {})", names.join(", ")),
            )
        })?,
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .map_err(|e| InputError::new("man", e.to_string()))?;
    Ok(write_stdout(&buf))
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> u8 {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
    exit::PASS
}
