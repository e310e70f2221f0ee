//! MySQL client exchanges against a peer that sends the fuzz bytes (and ignores what it is
//! sent): the greeting, a login (with a password over "TLS", without one over plaintext)
//! with `SELECT 1`, and the plaintext login probe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::evidence::Login;
use tlsprobe::probe::mysql;
use tlsprobe::target::Secret;
use tlsprobe_fuzz::{far_deadline, peer, runtime, unsent};

fuzz_target!(|data: &[u8]| {
    let with_password = Login {
        user: "u".into(),
        password: Some(Secret::new("p")),
        database: Some("db".into()),
    };
    let without_password = Login {
        user: "u".into(),
        password: None,
        database: None,
    };
    runtime().block_on(async {
        let deadline = far_deadline();
        let mut s = peer(data);
        if let Ok(Ok(greeting)) = mysql::read_greeting(&mut s, deadline).await {
            let _ = greeting.supports_ssl();
            let _ = mysql::request_ssl(&mut tokio::io::sink(), &greeting).await;
            // The same server answers, once as if after TLS and once over plaintext.
            let rest = &data[data.len() - unsent(&s)..];
            let _ = mysql::session(&mut s, &greeting, &with_password, true, deadline).await;
            let _ = mysql::session(
                &mut peer(rest),
                &greeting,
                &without_password,
                false,
                deadline,
            )
            .await;
        }
        let _ = mysql::plaintext_login(&mut peer(data), deadline).await;
    });
});
