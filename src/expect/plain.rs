//! The plaintext SQL round trip for a TLS-off expectation: a login and `SELECT 1` without
//! TLS on a fresh connection, judged by the same `auth` and `ping` steps as over TLS. The
//! probes are generic over the stream, so this is only the plaintext opening (no
//! SSLRequest; a MySQL login without the SSL capability).
//!
//! The password is sent in clear, as any client of a server with TLS off would send it:
//! the user said TLS is off. It is never printed.

use crate::step::Step;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::check::session;
use crate::connect::tcp;
use crate::evidence::{IoFailure, SqlEvidence, TlsEvidence};
use crate::finding::Status;
use crate::plan::VerifyPlan;
use crate::probe::{mysql, postgres};
use crate::report::{PingInfo, VerifyReport};
use crate::target::Scheme;

/// The report of a SQL target expected to serve plaintext: `tls_report` (the TLS attempt)
/// with its TLS steps skipped when TLS was refused, and `auth` / `ping` from a plaintext
/// session. Returns whether the round trip succeeded and how, for `expect-tls`.
pub(crate) async fn sql_report(
    plan: &VerifyPlan,
    tls_report: &VerifyReport,
    tls_refused: bool,
) -> (VerifyReport, (bool, String)) {
    let mut r = tls_report.clone();
    if !tls_refused {
        return (r, (false, "not tried: TLS is on".into()));
    }
    r.tls = None;
    r.checks
        .retain(|c| !matches!(c.check, Step::Auth | Step::Ping));
    super::run::skip_tls_steps(&mut r.checks, "TLS is expected off: see expect-tls");
    let sql = session_without_tls(plan).await;
    let none = TlsEvidence::default();
    let auth = session::sql_auth(&sql, &none, None, plan.password.is_some());
    let ping = session::sql_ping(&sql, &none);
    let ok = matches!(ping.status, Status::Pass | Status::Warn);
    let how = format!("plaintext {}", ping.message);
    if let Some(Ok(v)) = &sql.query {
        r.ping = Some(PingInfo {
            reply: v.clone(),
            ms: (sql.query_ms * 100.0).round() / 100.0,
        });
    }
    r.checks.push(auth);
    r.checks.push(ping);
    (r, (ok, how))
}

/// Connects (honouring `--resolve`) and runs the protocol's session without TLS.
async fn session_without_tls(plan: &VerifyPlan) -> SqlEvidence {
    let deadline = Instant::now() + plan.timeout;
    let failed = |why: &dyn std::fmt::Display| SqlEvidence {
        failure: Some(IoFailure::Other(why.to_string())),
        ..SqlEvidence::default()
    };
    let addrs = match tcp::resolve_planned(
        &plan.target.host,
        plan.target.port,
        plan.resolve.as_ref(),
        deadline,
    )
    .await
    {
        Ok((a, _)) => a,
        Err(e) => return failed(&e),
    };
    let mut s: TcpStream = match tcp::connect(&addrs, deadline).await {
        Ok((s, _)) => s,
        Err(e) => return failed(&e),
    };
    let login = plan.sql_login(true);
    match plan.target.scheme {
        Scheme::Postgres => postgres::session(&mut s, &login, deadline).await,
        _ => match mysql::read_greeting(&mut s, deadline).await {
            Ok(Ok(g)) => mysql::session(&mut s, &g, &login, false, deadline).await,
            Ok(Err(e)) => failed(&format!(
                "the server refused the connection before any login: {}",
                e.quote()
            )),
            Err(f) => failed(&format!("no MySQL greeting: {}", f.describe())),
        },
    }
}
