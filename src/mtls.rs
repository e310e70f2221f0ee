//! The server's client-certificate rules, simulated (placeholder until implemented).

use crate::cli::MtlsArgs;

/// `tlsprobe mtls`.
pub fn run(_args: &MtlsArgs) -> u8 {
    eprintln!("error: tlsprobe mtls is not implemented yet");
    crate::finding::exit::INPUT
}
