//! PEM (or DER) file bytes -> blocks -> described certificates -> bundle analysis.
//! Nothing may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::pki::{describe, pem};

fuzz_target!(|data: &[u8]| {
    let Ok(file) = pem::parse_bytes("fuzz", data) else {
        return;
    };
    for (i, cert) in file.certs.iter().enumerate() {
        assert_eq!(cert.index, i, "certificate indices are positions");
        let _ = describe::describe(i, &cert.der, 0);
    }
    let _ = file.private_keys().count();
    let _ = tlsprobe::inspect::inspect_file(&file, 0, 30, true);
});
