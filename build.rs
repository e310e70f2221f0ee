//! Build script: records the rustls version locked in Cargo.lock, for `tlsprobe --version`
//! (the TLS stack a user reports in a bug is the one actually compiled in).

use std::fs;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read_to_string("Cargo.lock").unwrap_or_default();
    println!(
        "cargo:rustc-env=TLSPROBE_RUSTLS_VERSION={}",
        locked_version(&lock, "rustls").unwrap_or("unknown")
    );
}

/// The `version` of the `[[package]]` named `name` in a Cargo.lock.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return v.strip_suffix('"');
        }
    }
    None
}
