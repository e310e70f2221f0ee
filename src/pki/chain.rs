//! Offline path validation (placeholder until implemented).

use crate::cli::ChainArgs;

/// `tlsprobe chain`.
pub fn run(_args: &ChainArgs) -> u8 {
    eprintln!("error: tlsprobe chain is not implemented yet");
    crate::finding::exit::INPUT
}
