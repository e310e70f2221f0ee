//! The connection judged: `tls-handshake`, `client-cert`, `auth`, `ping`, `plaintext-refused`.

use crate::cli::ExpectPlaintext;
use crate::evidence::{AppEvidence, Exchange, IoFailure, PlaintextEvidence, Reply, TlsEvidence};
use crate::finding::{Check, Status};

/// Alerts a server sends when it rejects (or wants) a client certificate.
const CLIENT_CERT_ALERTS: &[&str] = &[
    "certificate_required",
    "bad_certificate",
    "unknown_ca",
    "unsupported_certificate",
    "certificate_revoked",
    "certificate_expired",
    "certificate_unknown",
    "access_denied",
    "handshake_failure",
    "decrypt_error",
];

/// Whether a failure is the server refusing our client certificate (or its absence).
pub fn is_client_cert_rejection(f: &IoFailure, tls: &TlsEvidence) -> bool {
    match f {
        IoFailure::Alert(a) => {
            (tls.record.client_cert_requested && CLIENT_CERT_ALERTS.contains(&a.as_str()))
                || a == "certificate_required"
        }
        IoFailure::Closed | IoFailure::Reset => tls.record.client_cert_requested,
        _ => false,
    }
}

/// The first failure of the application round trip, if it was the client-cert rejection.
pub fn app_rejection<'a>(app: &'a AppEvidence, tls: &TlsEvidence) -> Option<&'a IoFailure> {
    let first = [&app.auth, &app.select, &app.ping]
        .into_iter()
        .flatten()
        .find_map(|x| x.outcome.as_ref().err())?;
    is_client_cert_rejection(first, tls).then_some(first)
}

/// `tls-handshake`.
pub fn tls_handshake(tls: &TlsEvidence) -> Check {
    let ms = tls.ms;
    if let Some(reply) = &tls.plaintext_redis_reply {
        return Check::new(
            "tls-handshake",
            Status::Fail,
            format!("the server speaks plaintext Redis, not TLS (a plaintext PING got {reply}): use redis:// or enable TLS on this port"),
        )
        .with_ms(ms);
    }
    match &tls.failure {
        None => {
            let v = tls.version.as_deref().unwrap_or("?");
            let cs = tls.cipher_suite.as_deref().unwrap_or("?");
            Check::new("tls-handshake", Status::Pass, format!("{v}, {cs}")).with_ms(ms)
        }
        Some(f) if is_client_cert_rejection(f, tls) => Check::new(
            "tls-handshake",
            Status::Warn,
            format!("the server aborted the handshake after asking for a client certificate ({}): see client-cert", f.describe()),
        )
        .with_ms(ms),
        Some(IoFailure::Timeout) => Check::new(
            "tls-handshake",
            Status::Fail,
            "no TLS answer before the deadline: the server accepted TCP but never completed a handshake (not a TLS port, or overloaded)",
        )
        .with_ms(ms),
        Some(IoFailure::Closed) => Check::new(
            "tls-handshake",
            Status::Fail,
            "the server closed the connection during the handshake (not a TLS port, or it rejected our TLS parameters)",
        )
        .with_ms(ms),
        Some(f) => Check::new("tls-handshake", Status::Fail, format!("handshake failed: {}", f.describe())).with_ms(ms),
    }
}

/// Summary of the client identity offered, for messages.
#[derive(Debug, Clone)]
pub struct ClientSummary {
    pub subject: String,
    pub issuer: String,
    /// Certificates in `--cert` (leaf first).
    pub chain_len: usize,
    /// The leaf is not self-signed, so the server needs its issuer.
    pub needs_issuer: bool,
}

/// `client-cert`.
pub fn client_cert(tls: &TlsEvidence, app: &AppEvidence, client: Option<&ClientSummary>) -> Check {
    let handshake_rejection = tls
        .failure
        .as_ref()
        .filter(|f| is_client_cert_rejection(f, tls));
    let rejection = handshake_rejection.or_else(|| app_rejection(app, tls));
    let cas = if tls.record.acceptable_ca_names.is_empty() {
        String::new()
    } else {
        format!(
            "\nthe server accepts certificates issued by: {}",
            tls.record.acceptable_ca_names.join("; ")
        )
    };
    if let Some(f) = rejection {
        let when = if handshake_rejection.is_some() {
            "during the handshake"
        } else {
            "after the handshake, on the first read"
        };
        let msg = match client {
            None => format!(
                "the server requires a client certificate and none was given: it rejected the connection {when} ({})\nhint: pass --cert and --key{cas}",
                f.describe()
            ),
            Some(c) => {
                let hint = if c.chain_len == 1 && c.needs_issuer && matches!(f, IoFailure::Alert(a) if a == "unknown_ca") {
                    "\nhint: --cert holds only the leaf; if the server trusts the root, send the chain (leaf, then intermediates) in --cert"
                } else {
                    ""
                };
                format!(
                    "the server rejected the client certificate {} (issued by {}) {when} ({}){hint}{cas}",
                    c.subject,
                    c.issuer,
                    f.describe()
                )
            }
        };
        return Check::new("client-cert", Status::Fail, msg);
    }
    if tls.failure.is_some() {
        return Check::new("client-cert", Status::Skip, "handshake did not complete");
    }
    let completed = app.ping.as_ref().is_some_and(|p| p.outcome.is_ok())
        || app.auth.as_ref().is_some_and(|a| a.outcome.is_ok());
    match (tls.record.client_cert_requested, client) {
        (false, None) => Check::new("client-cert", Status::Pass, "the server did not ask for a client certificate"),
        (false, Some(_)) => Check::new(
            "client-cert",
            Status::Warn,
            "the server did not ask for a client certificate, so --cert was not sent: mutual TLS is not enforced on this endpoint",
        ),
        (true, Some(c)) if completed => Check::new("client-cert", Status::Pass, format!("the server asked for a client certificate and accepted {}", c.subject)),
        (true, None) if completed => Check::new(
            "client-cert",
            Status::Pass,
            format!("the server asked for a client certificate optionally: none was sent and it served the connection{cas}"),
        ),
        (true, _) => Check::new("client-cert", Status::Skip, "the server asked for a client certificate; no round trip completed to prove it was accepted"),
    }
}

fn quote(reply: &Reply) -> String {
    match reply {
        Reply::Ok(s) => format!("+{s}"),
        Reply::Error(s) => format!("-{s}"),
    }
}

fn is_noauth(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(e) if e.starts_with("NOAUTH"))
}

/// `auth`.
pub fn auth(app: &AppEvidence, tls: &TlsEvidence, had_credentials: bool) -> Check {
    if let Some(why) = &app.auth_withheld {
        return Check::new("auth", Status::Skip, why.clone());
    }
    match &app.auth {
        Some(Exchange {
            outcome: Ok(Reply::Ok(_)),
            ms,
        }) => Check::new("auth", Status::Pass, "AUTH accepted").with_ms(*ms),
        Some(Exchange {
            outcome: Ok(Reply::Error(e)),
            ms,
        }) => {
            let hint = if e.starts_with("WRONGPASS") {
                ": wrong password, unknown user or disabled user"
            } else if e.contains("without any password configured") {
                ": the server has no password set; drop the password"
            } else {
                ""
            };
            Check::new("auth", Status::Fail, format!("AUTH refused: -{e}{hint}")).with_ms(*ms)
        }
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) if is_client_cert_rejection(f, tls) => Check::new(
            "auth",
            Status::Skip,
            "connection closed by the server's client-certificate rejection (see client-cert)",
        )
        .with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) => Check::new(
            "auth",
            Status::Fail,
            format!("no reply to AUTH: {}", f.describe()),
        )
        .with_ms(*ms),
        None => match &app.ping {
            Some(Exchange { outcome: Ok(r), .. }) if is_noauth(r) => Check::new(
                "auth",
                Status::Fail,
                format!(
                    "the server requires authentication ({}){}",
                    quote(r),
                    if had_credentials {
                        ""
                    } else {
                        ": give a password in the URL, with --pass-file or in REDISCLI_AUTH"
                    }
                ),
            ),
            _ if !had_credentials => Check::new("auth", Status::Skip, "no credentials given"),
            _ => Check::new("auth", Status::Skip, "not reached"),
        },
    }
}

/// `ping`.
pub fn ping(app: &AppEvidence, tls: &TlsEvidence) -> Check {
    if app.speaks_tls {
        return Check::new(
            "ping",
            Status::Fail,
            "the server closed the connection on a plaintext PING and answers TLS on this port: use rediss://",
        );
    }
    if let Some(Exchange {
        outcome: Ok(Reply::Error(e)),
        ms,
    }) = &app.select
    {
        return Check::new("ping", Status::Fail, format!("SELECT refused: -{e}")).with_ms(*ms);
    }
    match &app.ping {
        None => Check::new("ping", Status::Skip, "not reached"),
        Some(Exchange {
            outcome: Ok(Reply::Ok(s)),
            ms,
        }) if s == "PONG" => Check::new("ping", Status::Pass, "PONG").with_ms(*ms),
        Some(Exchange { outcome: Ok(r), ms }) if is_noauth(r) => {
            Check::new("ping", Status::Skip, format!("{} (see auth)", quote(r))).with_ms(*ms)
        }
        Some(Exchange { outcome: Ok(r), ms }) => Check::new(
            "ping",
            Status::Fail,
            format!("PING answered {} instead of +PONG", quote(r)),
        )
        .with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) if is_client_cert_rejection(f, tls) => Check::new(
            "ping",
            Status::Skip,
            "connection closed by the server's client-certificate rejection (see client-cert)",
        )
        .with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) => Check::new(
            "ping",
            Status::Fail,
            format!("no reply to PING: {}", f.describe()),
        )
        .with_ms(*ms),
    }
}

/// `plaintext-refused`: a plaintext PING to the same port must (or may) not be served.
pub fn plaintext_refused(ev: &PlaintextEvidence, expect: ExpectPlaintext) -> Check {
    let served = match &ev.outcome {
        Ok(Reply::Ok(s)) => Some(format!("+{s}")),
        Ok(r) if is_noauth(r) => Some(format!("{} (the plaintext command was read)", quote(r))),
        _ => None,
    };
    let refused_how = match &ev.outcome {
        Ok(r) => quote(r),
        Err(IoFailure::Timeout) => "no answer before the deadline".into(),
        Err(f) => f.describe(),
    };
    let (status, msg) = match (expect, served) {
        (ExpectPlaintext::Refused, None) => (
            Status::Pass,
            format!("plaintext PING not served: {refused_how}"),
        ),
        (ExpectPlaintext::Refused, Some(r)) => (
            Status::Fail,
            format!("plaintext PING was served ({r}): TLS is not enforced on this port"),
        ),
        (ExpectPlaintext::Allowed, Some(r)) => {
            (Status::Pass, format!("plaintext allowed as expected ({r})"))
        }
        (ExpectPlaintext::Allowed, None) => (
            Status::Fail,
            format!("plaintext was expected to be allowed, but: {refused_how}"),
        ),
    };
    Check::new("plaintext-refused", status, msg).with_ms(ev.ms)
}
