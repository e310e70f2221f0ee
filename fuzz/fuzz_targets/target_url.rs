//! Target strings (`host:port`, `rediss://user:pass@host:port/db`, ...): parsing never
//! panics, and what is displayed never shows the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsprobe::target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = target::redact(text);
    let Ok(t) = target::parse(text) else {
        return;
    };
    let shown = t.display();
    let _ = t.host_port();
    if let Some(pw) = &t.password {
        let pw = pw.expose();
        // A password that is also part of everything else shown (empty, "*", a substring of
        // the user or host) cannot be told apart; only a password shown in its own right
        // would be a leak.
        let shown_without_password = format!(
            "{}://{}:***@{}:{}{}",
            t.scheme.name(),
            t.user.as_deref().unwrap_or(""),
            t.host,
            t.port,
            t.db.as_deref().map(|d| format!("/{d}")).unwrap_or_default()
        );
        if !pw.is_empty() && !shown_without_password.contains(pw) {
            assert!(
                !shown.contains(pw),
                "display {shown:?} shows the password of {:?}",
                target::redact(text)
            );
        }
    }
});
