//! Authorized subjects (RFC 4514 strings) and Redis Enterprise `--config` JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::mtls::{config, subject};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(entry) = subject::parse_dn("fuzz", text) {
            let _ = entry.display();
        }
    }
    let _ = config::parse_config("fuzz", data);
});
