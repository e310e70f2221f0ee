//! Inventory TOML text. Relative certificate paths resolve against a directory that does not
//! exist, so any file they name is simply missing.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tlsprobe::inventory;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = inventory::parse_str("fuzz.toml", text, Path::new("/nonexistent-dir"), None);
});
