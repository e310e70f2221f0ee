//! One RESP reply read from a peer that sends the fuzz bytes and then closes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::probe::redis;
use tlsprobe_fuzz::runtime;

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let _ = redis::read_reply(&mut &data[..]).await;
    });
});
