//! Raw bytes as one DER certificate: description, framing check and full parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::pki::{describe, pem};

fuzz_target!(|data: &[u8]| {
    let described = describe::describe(0, data, 0);
    let _ = pem::check_cert_der(data);
    let parse_error = pem::parse_cert_error(data);
    if described.is_ok() {
        // describe accepted it, so the full parse must not call it invalid DER.
        if let Some(e) = &parse_error {
            assert!(!e.to_string().starts_with("not valid DER"), "describe ok but {e}");
        }
    }
});
