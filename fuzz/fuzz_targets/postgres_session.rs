//! PostgreSQL client exchanges against a peer that sends the fuzz bytes (and ignores what
//! it is sent): the SSLRequest answer, a login with a password and `SELECT 1`, and the
//! plaintext startup probe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::evidence::Login;
use tlsprobe::probe::postgres;
use tlsprobe::target::Secret;
use tlsprobe_fuzz::{far_deadline, peer, runtime};

fuzz_target!(|data: &[u8]| {
    let login = Login {
        user: "u".into(),
        password: Some(Secret::new("p")),
        database: None,
    };
    runtime().block_on(async {
        let deadline = far_deadline();
        // The SSLRequest answer, then (as after a real 'S') the session on what follows.
        let mut s = peer(data);
        let _ = postgres::request_ssl(&mut s, deadline).await;
        let _ = postgres::session(&mut s, &login, deadline).await;
        // The session and the plaintext probe, each from the first byte.
        let _ = postgres::session(&mut peer(data), &login, deadline).await;
        let _ = postgres::plaintext_probe(&mut peer(data), "u", deadline).await;
    });
});
