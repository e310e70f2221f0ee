//! The connection judged: `tls-handshake`, `client-cert`, `auth`, `ping`, `plaintext-refused`.

use super::PlaintextExpectation as ExpectPlaintext;
use crate::evidence::{
    AppEvidence, Exchange, IoFailure, PlainSqlAnswer, PlaintextEvidence, Reply, SqlEvidence,
    TlsEvidence,
};
use crate::finding::{Check, Status};
use crate::step::Step;

use rustls::AlertDescription as A;

/// Alerts a server sends when it rejects (or wants) a client certificate.
const CLIENT_CERT_ALERTS: &[A] = &[
    A::CertificateRequired,
    A::BadCertificate,
    A::UnknownCA,
    A::UnsupportedCertificate,
    A::CertificateRevoked,
    A::CertificateExpired,
    A::CertificateUnknown,
    A::AccessDenied,
    A::HandshakeFailure,
    A::DecryptError,
];

/// Whether a failure is the server refusing our client certificate (or its absence).
pub fn is_client_cert_rejection(f: &IoFailure, tls: &TlsEvidence) -> bool {
    match f {
        IoFailure::Alert(a) => {
            (tls.record.client_cert_requested && CLIENT_CERT_ALERTS.contains(a))
                || *a == A::CertificateRequired
        }
        IoFailure::Closed | IoFailure::Reset => tls.record.client_cert_requested,
        _ => false,
    }
}

/// A step that could not run because the server rejected the client certificate.
pub fn closed_by_rejection(step: Step) -> Check {
    Check::new(
        step,
        Status::Skip,
        "connection closed by the server's client-certificate rejection (see client-cert)",
    )
}

/// `tls-handshake`.
pub fn tls_handshake(tls: &TlsEvidence) -> Check {
    let ms = tls.ms;
    if let Some(why) = &tls.starttls_refusal {
        return Check::new(Step::TlsHandshake, Status::Fail, why.clone()).with_ms(ms);
    }
    if let Some(reply) = &tls.plaintext_redis_reply {
        return Check::new(
            Step::TlsHandshake,
            Status::Fail,
            format!("the server speaks plaintext Redis, not TLS (a plaintext PING got {reply}): use redis:// or enable TLS on this port"),
        )
        .with_ms(ms);
    }
    match &tls.failure {
        None => {
            let v = tls
                .version
                .map(crate::evidence::version_name)
                .unwrap_or_else(|| "?".into());
            let cs = tls
                .cipher_suite
                .map(crate::evidence::suite_name)
                .unwrap_or_else(|| "?".into());
            Check::new(Step::TlsHandshake, Status::Pass, format!("{v}, {cs}")).with_ms(ms)
        }
        Some(f) if is_client_cert_rejection(f, tls) => Check::new(
            Step::TlsHandshake,
            Status::Warn,
            format!("the server aborted the handshake after asking for a client certificate ({}): see client-cert", f.describe()),
        )
        .with_ms(ms),
        Some(IoFailure::Timeout) => Check::new(
            Step::TlsHandshake,
            Status::Fail,
            "no TLS answer before the deadline: the server accepted TCP but never completed a handshake (not a TLS port, or overloaded)",
        )
        .with_ms(ms),
        Some(IoFailure::Closed) => Check::new(
            Step::TlsHandshake,
            Status::Fail,
            "the server closed the connection during the handshake (not a TLS port, or it rejected our TLS parameters)",
        )
        .with_ms(ms),
        Some(f) => Check::new(Step::TlsHandshake, Status::Fail, format!("handshake failed: {}", f.describe())).with_ms(ms),
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
    /// The leaf's notAfter (for metrics).
    pub not_after: crate::clock::UnixSeconds,
}

/// The application round trip reduced to what the client-certificate judgement needs.
#[derive(Debug, Clone, Default)]
pub struct RoundTrip {
    /// The first I/O failure after the handshake (a TLS alert here is a TLS 1.3 rejection).
    pub first_failure: Option<IoFailure>,
    /// The server answered something at the application level over TLS.
    pub completed: bool,
    /// The server refused the connection in its own protocol for want of a certificate.
    pub cert_refusal: Option<String>,
}

impl RoundTrip {
    /// From a Redis exchange.
    pub fn from_redis(app: &AppEvidence) -> Self {
        let first_failure = [&app.auth, &app.select, &app.ping]
            .into_iter()
            .flatten()
            .find_map(|x| x.outcome.as_ref().err())
            .cloned();
        let completed = [&app.auth, &app.select, &app.ping]
            .into_iter()
            .flatten()
            .any(|x| x.outcome.is_ok());
        RoundTrip {
            first_failure,
            completed,
            cert_refusal: None,
        }
    }

    /// From a SQL session.
    pub fn from_sql(sql: &SqlEvidence) -> Self {
        let cert_refusal = sql
            .refused
            .as_ref()
            .filter(|e| is_cert_refusal(&e.message))
            .map(|e| e.quote());
        let completed = sql.auth.is_some()
            || sql.query.is_some()
            || sql.auth_method.is_some()
            || sql.refused.is_some();
        RoundTrip {
            first_failure: sql.failure.clone(),
            completed,
            cert_refusal,
        }
    }
}

/// PostgreSQL and MySQL word their client-certificate refusals like this.
fn is_cert_refusal(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("certificate")
        && (m.contains("requires") || m.contains("valid") || m.contains("verify"))
}

/// `client-cert`.
pub fn client_cert(tls: &TlsEvidence, rt: &RoundTrip, client: Option<&ClientSummary>) -> Check {
    let handshake_rejection = tls
        .failure
        .as_ref()
        .filter(|f| is_client_cert_rejection(f, tls));
    let after = rt
        .first_failure
        .as_ref()
        .filter(|f| is_client_cert_rejection(f, tls));
    let rejection = handshake_rejection.or(after);
    let cas = if tls.record.acceptable_ca_names.is_empty() {
        String::new()
    } else {
        format!(
            "\nthe server accepts certificates issued by: {}",
            tls.record.acceptable_ca_names.join("; ")
        )
    };
    if let Some(words) = &rt.cert_refusal {
        let msg = match client {
            None => format!("the server requires a client certificate and none was given: {words}\nhint: pass --cert and --key{cas}"),
            Some(c) => format!("the server refused the client certificate {} (issued by {}): {words}{cas}", c.subject, c.issuer),
        };
        return Check::new(Step::ClientCert, Status::Fail, msg);
    }
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
                let hint = if c.chain_len == 1 && c.needs_issuer && matches!(f, IoFailure::Alert(A::UnknownCA)) {
                    "\nhint: --cert holds only the leaf; if the server trusts the root, send the chain (leaf, then intermediates) in --cert"
                } else {
                    ""
                };
                format!("the server rejected the client certificate {} (issued by {}) {when} ({}){hint}{cas}", c.subject, c.issuer, f.describe())
            }
        };
        return Check::new(Step::ClientCert, Status::Fail, msg);
    }
    if tls.failure.is_some() {
        return Check::new(Step::ClientCert, Status::Skip, "handshake did not complete");
    }
    match (tls.record.client_cert_requested, client) {
        (false, None) => Check::new(Step::ClientCert, Status::Pass, "the server did not ask for a client certificate"),
        (false, Some(_)) => Check::new(
            Step::ClientCert,
            Status::Warn,
            "the server did not ask for a client certificate, so --cert was not sent: mutual TLS is not enforced on this endpoint",
        ),
        (true, Some(c)) if rt.completed => Check::new(Step::ClientCert, Status::Pass, format!("the server asked for a client certificate and accepted {}", c.subject)),
        (true, None) if rt.completed => Check::new(
            Step::ClientCert,
            Status::Pass,
            format!("the server asked for a client certificate optionally: none was sent and it served the connection{cas}"),
        ),
        (true, _) => Check::new(Step::ClientCert, Status::Skip, "the server asked for a client certificate; no round trip completed to prove it was accepted"),
    }
}

/// `auth` for a SQL session.
pub fn sql_auth(
    sql: &SqlEvidence,
    tls: &TlsEvidence,
    withheld: Option<&str>,
    had_password: bool,
) -> Check {
    let rt = RoundTrip::from_sql(sql);
    if let Some(why) = withheld {
        return Check::new(Step::Auth, Status::Skip, why.to_string());
    }
    if rt.cert_refusal.is_some()
        || sql
            .failure
            .as_ref()
            .is_some_and(|f| is_client_cert_rejection(f, tls))
    {
        return Check::new(
            Step::Auth,
            Status::Skip,
            "the server refused the connection for its client-certificate rule (see client-cert)",
        );
    }
    let method = sql
        .auth_method
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    match (&sql.auth, &sql.refused) {
        (Some(Ok(())), _) => {
            Check::new(Step::Auth, Status::Pass, format!("logged in{method}")).with_ms(sql.auth_ms)
        }
        (Some(Err(e)), _) => {
            let hint = if e.code == "28P01" && tls.record.client_cert_sent {
                "\nhint: under clientcert=verify-full PostgreSQL also answers this when the client certificate's CN does not match the user name"
            } else {
                ""
            };
            Check::new(
                Step::Auth,
                Status::Fail,
                format!("login refused: {}{hint}", e.quote()),
            )
            .with_ms(sql.auth_ms)
        }
        (None, Some(e)) => Check::new(
            Step::Auth,
            Status::Fail,
            format!("the server refused the connection: {}", e.quote()),
        )
        .with_ms(sql.auth_ms),
        (None, None) => match &sql.failure {
            Some(f) => Check::new(
                Step::Auth,
                Status::Fail,
                format!(
                    "no answer: {} (last step reached: {})",
                    f.describe(),
                    sql.reached
                ),
            ),
            None if !had_password => Check::new(
                Step::Auth,
                Status::Skip,
                format!(
                    "no credentials given{}",
                    sql.auth_method
                        .as_deref()
                        .map(|m| format!("; the server asks for {m}"))
                        .unwrap_or_default()
                ),
            ),
            None => Check::new(
                Step::Auth,
                Status::Skip,
                format!("not reached (last step reached: {})", sql.reached),
            ),
        },
    }
}

/// `ping` for a SQL session: `SELECT 1`, or how far the protocol went without a login.
pub fn sql_ping(sql: &SqlEvidence, tls: &TlsEvidence) -> Check {
    if let Some(f) = &sql.failure {
        if is_client_cert_rejection(f, tls) {
            return closed_by_rejection(Step::Ping);
        }
        if sql.query.is_none() {
            return Check::new(
                Step::Ping,
                Status::Fail,
                format!(
                    "no reply: {} (last step reached: {})",
                    f.describe(),
                    sql.reached
                ),
            );
        }
    }
    match &sql.query {
        Some(Ok(v)) => Check::new(Step::Ping, Status::Pass, format!("SELECT 1 answered {v}"))
            .with_ms(sql.query_ms),
        Some(Err(e)) => Check::new(
            Step::Ping,
            Status::Fail,
            format!("SELECT 1 failed: {}", e.quote()),
        )
        .with_ms(sql.query_ms),
        // The credentials were accepted, then the server ended the session (unknown
        // database, no CONNECT privilege, too many connections, shutting down): the
        // database does not serve this login, so the round trip failed.
        None if matches!(sql.auth, Some(Ok(()))) => Check::new(
            Step::Ping,
            Status::Fail,
            match &sql.refused {
                Some(e) => format!(
                    "the login was accepted, then the server refused the session: {}",
                    e.quote()
                ),
                None => format!(
                    "the login was accepted, but no query was answered (last step reached: {})",
                    sql.reached
                ),
            },
        ),
        None if sql.refused.is_some() || matches!(sql.auth, Some(Err(_))) => Check::new(
            Step::Ping,
            Status::Skip,
            "not reached: the login was refused (see auth)",
        ),
        None if sql.auth.is_none() && !sql.reached.is_empty() => Check::new(
            Step::Ping,
            Status::Pass,
            format!(
                "the server answered over TLS; without credentials the session stopped at: {}",
                sql.reached
            ),
        ),
        None => Check::new(
            Step::Ping,
            Status::Skip,
            format!("not reached (last step reached: {})", sql.reached),
        ),
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

/// An ACL refusal (`-NOPERM ...`): the server read the command over the session and
/// answered as Redis, so the round trip worked; the user may just not run this command.
fn is_acl_refusal(e: &str) -> bool {
    e.starts_with("NOPERM")
}

fn acl_message(command: &str, e: &str) -> String {
    format!("{command} refused by the server's ACL (-{e}): the round trip over the session worked; this user may not run {command}")
}

/// `auth`.
pub fn auth(app: &AppEvidence, tls: &TlsEvidence, had_credentials: bool) -> Check {
    if let Some(why) = &app.auth_withheld {
        return Check::new(Step::Auth, Status::Skip, why.clone());
    }
    match &app.auth {
        Some(Exchange {
            outcome: Ok(Reply::Ok(_)),
            ms,
        }) => Check::new(Step::Auth, Status::Pass, "AUTH accepted").with_ms(*ms),
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
            Check::new(
                Step::Auth,
                Status::Fail,
                format!("AUTH refused: -{e}{hint}"),
            )
            .with_ms(*ms)
        }
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) if is_client_cert_rejection(f, tls) => closed_by_rejection(Step::Auth).with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) => Check::new(
            Step::Auth,
            Status::Fail,
            format!("no reply to AUTH: {}", f.describe()),
        )
        .with_ms(*ms),
        None => match &app.ping {
            Some(Exchange { outcome: Ok(r), .. }) if is_noauth(r) => Check::new(
                Step::Auth,
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
            _ if !had_credentials => Check::new(Step::Auth, Status::Skip, "no credentials given"),
            _ => Check::new(Step::Auth, Status::Skip, "not reached"),
        },
    }
}

/// `ping`.
pub fn ping(app: &AppEvidence, tls: &TlsEvidence) -> Check {
    if app.speaks_tls {
        return Check::new(
            Step::Ping,
            Status::Fail,
            "the server closed the connection on a plaintext PING and answers TLS on this port: use rediss://",
        );
    }
    if let Some(Exchange {
        outcome: Ok(Reply::Error(e)),
        ms,
    }) = &app.select
    {
        if is_acl_refusal(e) {
            return Check::new(Step::Ping, Status::Warn, acl_message("SELECT", e)).with_ms(*ms);
        }
        return Check::new(Step::Ping, Status::Fail, format!("SELECT refused: -{e}")).with_ms(*ms);
    }
    match &app.ping {
        None => Check::new(Step::Ping, Status::Skip, "not reached"),
        Some(Exchange {
            outcome: Ok(Reply::Ok(s)),
            ms,
        }) if s == "PONG" => Check::new(Step::Ping, Status::Pass, "PONG").with_ms(*ms),
        Some(Exchange { outcome: Ok(r), ms }) if is_noauth(r) => {
            Check::new(Step::Ping, Status::Skip, format!("{} (see auth)", quote(r))).with_ms(*ms)
        }
        Some(Exchange {
            outcome: Ok(Reply::Error(e)),
            ms,
        }) if is_acl_refusal(e) => {
            Check::new(Step::Ping, Status::Warn, acl_message("PING", e)).with_ms(*ms)
        }
        Some(Exchange { outcome: Ok(r), ms }) => Check::new(
            Step::Ping,
            Status::Fail,
            format!("PING answered {} instead of +PONG", quote(r)),
        )
        .with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) if is_client_cert_rejection(f, tls) => closed_by_rejection(Step::Ping).with_ms(*ms),
        Some(Exchange {
            outcome: Err(f),
            ms,
        }) => Check::new(
            Step::Ping,
            Status::Fail,
            format!("no reply to PING: {}", f.describe()),
        )
        .with_ms(*ms),
    }
}

/// One probed port, judged: (status, message).
fn plaintext_port(ev: &PlaintextEvidence, expect: ExpectPlaintext) -> (Status, String) {
    let (served, words) = match &ev.outcome {
        Ok(PlainSqlAnswer::Served(w)) => (true, w.clone()),
        Ok(PlainSqlAnswer::Refused(w)) => (false, w.clone()),
        Ok(PlainSqlAnswer::Inconclusive(w)) => {
            let msg = format!(
                "cannot tell from outside: {w}; the server answers a plaintext login for an unknown user the same way whether or not it requires TLS\nhint: check `SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'` on the server"
            );
            return (Status::Warn, msg);
        }
        Err(IoFailure::Timeout) => (false, "no answer before the deadline".into()),
        Err(f) => (false, f.describe()),
    };
    match (expect, served) {
        (ExpectPlaintext::Refused, false) => {
            (Status::Pass, format!("plaintext not served: {words}"))
        }
        (ExpectPlaintext::Refused, true) => (
            Status::Fail,
            format!("plaintext was served ({words}): TLS is not enforced on this port"),
        ),
        (ExpectPlaintext::Allowed, true) => (
            Status::Pass,
            format!("plaintext allowed as expected ({words})"),
        ),
        (ExpectPlaintext::Allowed, false) => (
            Status::Fail,
            format!("plaintext was expected to be allowed, but: {words}"),
        ),
    }
}

/// `plaintext-refused`: plaintext attempts on the target's port and on every other port
/// asked for must (or may) not be served. `probes` pairs each port with what it answered;
/// `own_port` is the target's port (its line carries no port prefix when it is alone).
pub fn plaintext_refused(
    probes: &[(u16, PlaintextEvidence)],
    own_port: u16,
    expect: ExpectPlaintext,
) -> Check {
    let judged: Vec<(u16, Status, String)> = probes
        .iter()
        .map(|(port, ev)| {
            let (st, msg) = plaintext_port(ev, expect);
            (*port, st, msg)
        })
        .collect();
    let ms: f64 = probes.iter().map(|(_, e)| e.ms).sum();
    let status = judged
        .iter()
        .map(|j| j.1)
        .max_by_key(|s| match s {
            Status::Fail => 3,
            Status::Warn => 2,
            Status::Pass => 1,
            Status::Skip => 0,
        })
        .unwrap_or(Status::Skip);
    let message = match judged.as_slice() {
        [] => "no port probed".to_string(),
        [(port, _, msg)] if *port == own_port => msg.clone(),
        many => many
            .iter()
            .map(|(port, _, msg)| {
                let mine = if *port == own_port {
                    " (the TLS port)"
                } else {
                    ""
                };
                format!("port {port}{mine}: {}", msg.replace('\n', "\n  "))
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    Check::new(Step::PlaintextRefused, status, message).with_ms(ms)
}

/// Classifies a Redis reply to a plaintext PING: every reply means the plaintext command
/// was served.
pub fn redis_plain_answer(reply: &Reply) -> PlainSqlAnswer {
    // Any RESP reply, an error included (-NOAUTH, -NOPERM, -DENIED), proves the plaintext
    // command was read. Only a close, a reset, a TLS alert or silence is a refusal.
    match reply {
        Reply::Ok(s) => PlainSqlAnswer::Served(format!("+{s}")),
        r => PlainSqlAnswer::Served(format!("{} (the plaintext command was read)", quote(r))),
    }
}
