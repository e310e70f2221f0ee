//! The verification pipeline for one target: connect -> evidence -> checks -> report.
//!
//! One pipeline serves `verify` and `audit` for every protocol: [`verify_target`] runs it
//! once or, with `--wait`, until it passes or the deadline passes. The steps are the same
//! for Redis, PostgreSQL, MySQL and plain TLS; only how TLS starts (directly, or inside the
//! database protocol) and the application round trip differ. Certificate checks are judged
//! right after the handshake, because credentials are only sent to a server whose
//! certificate passed them.

use std::net::SocketAddr;
use std::time::{Duration, Instant as StdInstant};

use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::check::session::{self, RoundTrip};
use crate::check::trust;
use crate::clock;
use crate::connect::{tcp, tls};
use crate::evidence::{AppEvidence, IoFailure, PlaintextEvidence, Reply, SqlEvidence, TlsEvidence};
use crate::finding::{Check, Status};
use crate::plan::VerifyPlan;
use crate::probe::{mysql, postgres, redis as resp};
use crate::report::{self, PingInfo, PlaintextInfo, TlsFacts, VerifyReport};
use crate::target::Scheme;

/// The order in which TLS steps are reported.
const TLS_STEPS: &[&str] = &[
    "tls-handshake",
    "chain-trust",
    "anchor",
    "server-name",
    "expiry",
    "client-cert",
];

/// Verifies one target, retrying on fresh connections while `--wait` allows.
pub async fn verify_target(plan: &VerifyPlan) -> VerifyReport {
    let give_up = plan.wait.map(|w| Instant::now() + w);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut report = verify_once(plan).await;
        report.attempts = attempts;
        let again = report.verdict == report::Verdict::Fail
            && give_up.is_some_and(|g| Instant::now() + plan.interval < g);
        if !again {
            return report;
        }
        tokio::time::sleep(plan.interval).await;
    }
}

fn ms_since(t: StdInstant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// What the application round trip observed, per protocol.
enum App {
    Redis(AppEvidence),
    Sql(SqlEvidence),
    /// `tls://`: no protocol; the failure seen while waiting briefly for an alert.
    Tls(Option<IoFailure>),
    /// The handshake did not complete: no round trip was possible.
    NotReached,
}

/// Steps of one attempt, in the order they are reported.
struct Steps<'a> {
    plan: &'a VerifyPlan,
    checks: Vec<Check>,
}

impl Steps<'_> {
    fn push(&mut self, c: Check) {
        self.checks.push(c);
    }

    /// Every step not yet judged becomes `skip` with `reason` (except plaintext-refused,
    /// which runs on its own connection).
    fn skip_rest(&mut self, reason: &str) {
        for step in steps_for(self.plan) {
            if step != "plaintext-refused" && !self.checks.iter().any(|c| c.check == step) {
                self.checks
                    .push(Check::new(step, Status::Skip, reason.to_string()));
            }
        }
    }
}

/// One attempt on fresh connections.
pub async fn verify_once(plan: &VerifyPlan) -> VerifyReport {
    let now = plan.at.unwrap_or_else(clock::now);
    let scheme = plan.target.scheme;
    let mut out = VerifyReport {
        target: plan.target.display(),
        verdict: report::Verdict::Fail,
        checks: vec![],
        tls: None,
        chain: vec![],
        anchor: None,
        ping: None,
        attempts: 1,
        changes: None,
        verified_path: vec![],
        plaintext: vec![],
    };
    if scheme.uses_tls() {
        // Non-null for every TLS target, even when the handshake was never reached.
        out.tls = Some(TlsFacts {
            sni: plan.sni.clone(),
            ..TlsFacts::default()
        });
    }
    let mut steps = Steps {
        plan,
        checks: Vec::new(),
    };

    // client-policy: the server's rules applied to --cert before any connection.
    if let Some(policy) = &plan.client_policy {
        let chain = plan
            .client
            .as_ref()
            .map(|c| c.chain.as_slice())
            .unwrap_or(&[]);
        steps.push(crate::mtls::client_policy_check(policy, chain, now));
    }

    // resolve
    let t = StdInstant::now();
    let addrs = match tcp::resolve_planned(
        &plan.target.host,
        plan.target.port,
        plan.resolve.as_ref(),
        Instant::now() + plan.timeout,
    )
    .await
    {
        Ok((a, overridden)) => {
            let mut shown = a
                .iter()
                .map(|s| s.ip().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            if let Some(why) = overridden {
                shown = format!("{shown} ({why})");
            }
            steps.push(Check::new("resolve", Status::Pass, shown).with_ms(ms_since(t)));
            a
        }
        Err(e) => {
            steps.push(Check::new("resolve", Status::Fail, e).with_ms(ms_since(t)));
            steps.skip_rest("not reached: resolve failed");
            return finish(out, steps);
        }
    };

    // tcp
    let t = StdInstant::now();
    let (stream, addr) = match tcp::connect(&addrs, Instant::now() + plan.timeout).await {
        Ok(s) => {
            steps.push(
                Check::new("tcp", Status::Pass, format!("connected to {}", s.1))
                    .with_ms(ms_since(t)),
            );
            s
        }
        Err(e) => {
            steps.push(Check::new("tcp", Status::Fail, e).with_ms(ms_since(t)));
            steps.skip_rest("not reached: tcp failed");
            out.plaintext =
                plaintext_step(plan, &addrs, &mut steps, !plan.plaintext_implicit).await;
            return finish(out, steps);
        }
    };

    let mut tls_ev = TlsEvidence::default();
    let mut withheld: Option<String> = None;
    let app = if !scheme.uses_tls() {
        for step in TLS_STEPS {
            steps.push(Check::new(step, Status::Skip, "plaintext target"));
        }
        let mut s = stream;
        let mut app = AppEvidence::default();
        // Plaintext: a PING first, so that the password only goes to a server that proved
        // it is a plaintext Redis (PONG or an error reply), never to a TLS port or another
        // service. A plaintext target sends credentials in clear by definition.
        let first = resp::command(&mut s, &resp::ping_cmd(), Instant::now() + plan.timeout).await;
        let is_redis = first.outcome.is_ok();
        app.ping = Some(first);
        if is_redis && (plan.password.is_some() || plan.target.db.is_some()) {
            redis_round_trip(&mut s, plan, true, &mut app).await;
        }
        let closed = |x: &Option<crate::evidence::Exchange>| {
            x.as_ref().is_some_and(|p| {
                matches!(
                    p.outcome,
                    Err(IoFailure::Closed | IoFailure::Reset | IoFailure::NotTls(_))
                )
            })
        };
        if closed(&app.ping) || closed(&app.auth) {
            app.speaks_tls = speaks_tls(addr, plan).await;
        }
        App::Redis(app)
    } else {
        let (ev, stream, greeting) = start_tls(stream, addr, plan).await;
        tls_ev = ev;
        steps.push(session::tls_handshake(&tls_ev));
        let facts = out.tls.get_or_insert_with(TlsFacts::default);
        facts.version = tls_ev.version.clone();
        facts.cipher_suite = tls_ev.cipher_suite.clone();
        facts.client_cert_requested = tls_ev.record.client_cert_requested;
        facts.acceptable_ca_names = tls_ev.record.acceptable_ca_names.clone();
        if tls_ev.record.presented.is_empty() && tls_ev.failure.is_some() {
            for step in ["chain-trust", "anchor", "server-name", "expiry"] {
                steps.push(Check::new(
                    step,
                    Status::Skip,
                    "no certificate received: tls-handshake failed",
                ));
            }
            if tls_ev
                .failure
                .as_ref()
                .is_some_and(|f| !session::is_client_cert_rejection(f, &tls_ev))
            {
                steps.skip_rest("not reached: tls-handshake failed");
                let own = !(plan.plaintext_implicit
                    && matches!(tls_ev.failure, Some(IoFailure::Timeout)));
                out.plaintext = plaintext_step(plan, &addrs, &mut steps, own).await;
                return finish(out, steps);
            }
        }
        let judged = trust::judge_chain(
            &tls_ev.record.presented,
            &plan.trust,
            &plan.expected_name,
            now,
            plan.warn_days,
        );
        out.chain = judged.chain.clone();
        out.anchor = judged.anchor.clone();
        out.verified_path = judged.verified_path.clone();
        if !tls_ev.record.presented.is_empty() {
            steps.checks.extend(judged.checks.iter().cloned());
        }
        withheld = (plan.password.is_some() && !judged.trusted).then(|| {
            let failed: Vec<&str> = judged
                .checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| c.check)
                .collect();
            format!(
                "credentials withheld: the server certificate failed {}",
                failed.join(", ")
            )
        });
        match stream {
            None => App::NotReached,
            Some(mut s) => app_round_trip(&mut s, plan, greeting.as_ref(), withheld.clone()).await,
        }
    };

    // Judge the round trip.
    if scheme.uses_tls() {
        let client = plan.client.as_ref().and_then(|c| {
            let info = crate::pki::describe::describe(0, &c.chain[0], now).ok()?;
            Some(session::ClientSummary {
                needs_issuer: !info.self_signed,
                subject: info.subject,
                issuer: info.issuer,
                chain_len: c.chain.len(),
            })
        });
        let rt = match &app {
            App::Redis(a) => RoundTrip::from_redis(a),
            App::Sql(sql) => RoundTrip::from_sql(sql),
            App::Tls(f) => RoundTrip {
                first_failure: f.clone(),
                completed: f.is_none() && tls_ev.failure.is_none(),
                cert_refusal: None,
            },
            App::NotReached => RoundTrip::default(),
        };
        steps.push(session::client_cert(&tls_ev, &rt, client.as_ref()));
    }
    match &app {
        App::Redis(a) => {
            steps.push(session::auth(a, &tls_ev, plan.password.is_some()));
            steps.push(session::ping(a, &tls_ev));
            if let Some(p) = &a.ping {
                if let Ok(r) = &p.outcome {
                    let reply = match r {
                        Reply::Ok(s) => s.clone(),
                        Reply::Error(e) => format!("-{e}"),
                    };
                    out.ping = Some(PingInfo {
                        reply,
                        ms: (p.ms * 100.0).round() / 100.0,
                    });
                }
            }
        }
        App::Sql(sql) => {
            steps.push(session::sql_auth(
                sql,
                &tls_ev,
                withheld.as_deref(),
                plan.password.is_some(),
            ));
            steps.push(session::sql_ping(sql, &tls_ev));
            if let Some(Ok(v)) = &sql.query {
                out.ping = Some(PingInfo {
                    reply: v.clone(),
                    ms: (sql.query_ms * 100.0).round() / 100.0,
                });
            }
        }
        App::NotReached => {
            let rejected = tls_ev
                .failure
                .as_ref()
                .is_some_and(|f| session::is_client_cert_rejection(f, &tls_ev));
            for step in ["auth", "ping"] {
                steps.push(if rejected {
                    session::closed_by_rejection(step)
                } else {
                    Check::new(step, Status::Skip, "not reached: tls-handshake failed")
                });
            }
        }
        App::Tls(f) => {
            steps.push(Check::new(
                "auth",
                Status::Skip,
                "tls:// target: no application protocol",
            ));
            let msg = match f {
                None if tls_ev.failure.is_none() => Check::new("ping", Status::Skip, "tls:// target: no application round trip; no alert arrived after the handshake"),
                None => Check::new("ping", Status::Skip, "not reached: tls-handshake failed"),
                Some(f) if session::is_client_cert_rejection(f, &tls_ev) => session::closed_by_rejection("ping"),
                Some(IoFailure::Closed) => Check::new("ping", Status::Skip, "tls:// target: no application round trip; the server closed the idle connection"),
                Some(f) => Check::new("ping", Status::Fail, format!("after the handshake: {}", f.describe())),
            };
            steps.push(msg);
        }
    }
    out.plaintext = plaintext_step(plan, &addrs, &mut steps, true).await;
    finish(out, steps)
}

fn steps_for(plan: &VerifyPlan) -> Vec<&'static str> {
    let mut v = if plan.client_policy.is_some() {
        vec!["client-policy"]
    } else {
        vec![]
    };
    v.extend(["resolve", "tcp"]);
    v.extend_from_slice(TLS_STEPS);
    v.extend(["auth", "ping"]);
    if plan.expect_plaintext.is_some() {
        v.push("plaintext-refused");
    }
    v
}

/// Puts the steps in their documented order and sets the verdict.
fn finish(mut out: VerifyReport, steps: Steps<'_>) -> VerifyReport {
    let order = steps_for(steps.plan);
    let mut checks = steps.checks;
    checks.sort_by_key(|c| {
        order
            .iter()
            .position(|s| *s == c.check)
            .unwrap_or(usize::MAX)
    });
    out.verdict = VerifyReport::verdict_of(&checks);
    out.checks = checks;
    out
}

/// Starts TLS the way the protocol does: directly (Redis, tls://) or after the database's
/// own negotiation (PostgreSQL SSLRequest, MySQL greeting and SSL request). Returns the
/// MySQL greeting, which the login needs.
async fn start_tls(
    mut stream: TcpStream,
    addr: SocketAddr,
    plan: &VerifyPlan,
) -> (
    TlsEvidence,
    Option<TlsStream<TcpStream>>,
    Option<mysql::Greeting>,
) {
    let deadline = Instant::now() + plan.timeout;
    let refused = |why: String, ms: f64| TlsEvidence {
        sni: plan.sni.clone(),
        failure: Some(IoFailure::Other(why.clone())),
        starttls_refusal: Some(why),
        ms,
        ..TlsEvidence::default()
    };
    let t = StdInstant::now();
    match plan.target.scheme {
        Scheme::Postgres => match postgres::request_ssl(&mut stream, deadline).await {
            Ok(postgres::SslAnswer::Accepted) => {}
            Ok(postgres::SslAnswer::Refused) => {
                return (refused("the server answered N to SSLRequest: SSL is off on this PostgreSQL server (ssl = off)".into(), ms_since(t)), None, None)
            }
            Ok(postgres::SslAnswer::Unexpected(what)) => return (refused(format!("no PostgreSQL answer to SSLRequest: {what}"), ms_since(t)), None, None),
            Err(f) => return (refused(format!("SSLRequest not answered: {}", f.describe()), ms_since(t)), None, None),
        },
        Scheme::Mysql => match mysql::read_greeting(&mut stream, deadline).await {
            Ok(Ok(g)) if g.supports_ssl() => {
                let sent = tokio::time::timeout_at(deadline, mysql::request_ssl(&mut stream, &g)).await.unwrap_or(Err(IoFailure::Timeout));
                if let Err(f) = sent {
                    return (refused(format!("SSL request not sent: {}", f.describe()), ms_since(t)), None, None);
                }
                let (ev, s) = tls::handshake(stream, &tls_params(plan), deadline).await;
                return (ev, s, Some(g));
            }
            Ok(Ok(g)) => {
                return (
                    refused(format!("the server ({}) does not offer SSL: no CLIENT_SSL capability in its greeting (have_ssl is DISABLED)", g.server_version), ms_since(t)),
                    None,
                    None,
                )
            }
            Ok(Err(e)) => return (refused(format!("the server refused the connection before TLS: {}", e.quote()), ms_since(t)), None, None),
            Err(f) => return (refused(format!("no MySQL greeting: {}", f.describe()), ms_since(t)), None, None),
        },
        Scheme::Rediss => {
            let (mut ev, s) = handshake_or_sniff(stream, addr, plan).await;
            explain_not_tls(&mut ev, addr, deadline).await;
            return (ev, s, None);
        }
        Scheme::Tls | Scheme::Redis => {}
    }
    let (mut ev, s) = tls::handshake(stream, &tls_params(plan), deadline).await;
    explain_not_tls(&mut ev, addr, deadline).await;
    (ev, s, None)
}

/// When the peer answered a ClientHello with something that is not TLS, say what it
/// sends: its unprompted banner (SSH, SMTP, a MySQL greeting...) or its answer to a bare
/// line, read on a fresh connection.
async fn explain_not_tls(ev: &mut TlsEvidence, addr: SocketAddr, deadline: Instant) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(IoFailure::NotTls(what)) = &ev.failure else {
        return;
    };
    if ev.plaintext_redis_reply.is_some() {
        return;
    }
    let short = (Instant::now() + Duration::from_millis(800)).min(deadline);
    let Ok(Ok(mut s)) = tokio::time::timeout_at(short, TcpStream::connect(addr)).await else {
        return;
    };
    let mut buf = [0u8; 64];
    let mut n = match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
        Ok(Ok(n)) => n,
        _ => 0,
    };
    if n == 0 && s.write_all(b"\r\n").await.is_ok() {
        n = match tokio::time::timeout_at(short, s.read(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => 0,
        };
    }
    if n > 0 {
        ev.failure = Some(IoFailure::NotTls(format!(
            "{what}; the server sends {}",
            resp::preview(&buf[..n])
        )));
    }
}

/// What the handshake needs from the plan.
fn tls_params(plan: &VerifyPlan) -> tls::TlsParams {
    tls::TlsParams {
        sni: plan.sni.clone(),
        fallback_name: plan.expected_name.clone(),
        version: plan.tls_version,
        client_key: plan.client.as_ref().map(|c| c.key.clone()),
    }
}

/// The application round trip over TLS.
async fn app_round_trip(
    s: &mut TlsStream<TcpStream>,
    plan: &VerifyPlan,
    greeting: Option<&mysql::Greeting>,
    withheld: Option<String>,
) -> App {
    let deadline = Instant::now() + plan.timeout;
    match plan.target.scheme {
        Scheme::Rediss | Scheme::Redis => {
            let mut app = AppEvidence {
                auth_withheld: withheld.clone(),
                ..AppEvidence::default()
            };
            redis_round_trip(s, plan, withheld.is_none(), &mut app).await;
            App::Redis(app)
        }
        Scheme::Postgres => {
            App::Sql(postgres::session(s, &plan.sql_login(withheld.is_none()), deadline).await)
        }
        Scheme::Mysql => match greeting {
            Some(g) => App::Sql(
                mysql::session(s, g, &plan.sql_login(withheld.is_none()), true, deadline).await,
            ),
            None => App::Sql(SqlEvidence {
                failure: Some(IoFailure::Other("no greeting".into())),
                ..SqlEvidence::default()
            }),
        },
        Scheme::Tls => App::Tls(idle_alert(s, plan).await),
    }
}

/// For `tls://`: wait briefly for a TLS 1.3 client-certificate rejection, which arrives as
/// an alert after the handshake.
async fn idle_alert(s: &mut TlsStream<TcpStream>, plan: &VerifyPlan) -> Option<IoFailure> {
    use tokio::io::AsyncReadExt;
    let wait = plan.timeout.min(Duration::from_millis(500));
    let mut buf = [0u8; 1];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Err(_) | Ok(Ok(1..)) => None,
        Ok(Ok(_)) => Some(IoFailure::Closed),
        Ok(Err(e)) => Some(crate::connect::classify_io(&e)),
    }
}

/// The TLS handshake for Redis; if the server stays silent for a moment (Redis 7 never
/// answers a ClientHello on a plaintext port) or answers with non-TLS bytes, a plaintext
/// PING on a fresh connection tells "plaintext Redis" from "no answer".
async fn handshake_or_sniff(
    stream: TcpStream,
    addr: SocketAddr,
    plan: &VerifyPlan,
) -> (TlsEvidence, Option<TlsStream<TcpStream>>) {
    let params = tls_params(plan);
    let deadline = Instant::now() + plan.timeout;
    let sniff_after = (plan.timeout / 4).min(Duration::from_millis(750));
    let hs = tls::handshake(stream, &params, deadline);
    tokio::pin!(hs);
    let sniff = async {
        tokio::time::sleep(sniff_after).await;
        plaintext_redis_reply(addr, deadline).await
    };
    let (mut ev, stream) = tokio::select! {
        r = &mut hs => r,
        Some(reply) = sniff => {
            let ev = TlsEvidence {
                sni: params.sni.clone(),
                failure: Some(IoFailure::NotTls("plaintext Redis".into())),
                plaintext_redis_reply: Some(reply),
                ms: sniff_after.as_secs_f64() * 1000.0,
                ..TlsEvidence::default()
            };
            (ev, None)
        }
    };
    if ev.plaintext_redis_reply.is_none()
        && matches!(ev.failure, Some(IoFailure::NotTls(_) | IoFailure::Closed))
        && ev.record.presented.is_empty()
    {
        let short = (Instant::now() + Duration::from_secs(2)).min(deadline);
        ev.plaintext_redis_reply = plaintext_redis_reply(addr, short).await;
    }
    (ev, stream)
}

/// A plaintext PING on a fresh connection: the reply if a Redis answered in RESP.
async fn plaintext_redis_reply(addr: SocketAddr, deadline: Instant) -> Option<String> {
    let mut s = tokio::time::timeout_at(deadline, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    match resp::command(&mut s, &resp::ping_cmd(), deadline)
        .await
        .outcome
    {
        Ok(Reply::Ok(r)) => Some(format!("+{r}")),
        Ok(Reply::Error(e)) => Some(format!("-{e}")),
        Err(_) => None,
    }
}

/// Whether a TLS handshake succeeds (or gets as far as a certificate) on a fresh connection.
async fn speaks_tls(addr: SocketAddr, plan: &VerifyPlan) -> bool {
    let deadline = Instant::now() + plan.timeout.min(Duration::from_secs(3));
    let Ok(Ok(s)) = tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await else {
        return false;
    };
    let params = tls_params(plan);
    let (ev, _) = tls::handshake(s, &params, deadline).await;
    !ev.record.presented.is_empty()
}

/// AUTH (when allowed), SELECT (when a db is given), PING; each bounded by the timeout.
async fn redis_round_trip<S>(
    s: &mut S,
    plan: &VerifyPlan,
    send_credentials: bool,
    app: &mut AppEvidence,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    if let (Some(pw), true) = (&plan.password, send_credentials) {
        let ex = resp::command(
            s,
            &resp::auth_cmd(plan.user.as_deref(), pw),
            Instant::now() + plan.timeout,
        )
        .await;
        let ok = matches!(ex.outcome, Ok(Reply::Ok(_)));
        app.auth = Some(ex);
        if !ok {
            return;
        }
    }
    // SELECT and PING are one step (`ping`): they share its deadline.
    let ping_deadline = Instant::now() + plan.timeout;
    if let Some(db) = plan
        .target
        .db
        .as_deref()
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| *d != 0)
    {
        let ex = resp::command(s, &resp::select_cmd(db), ping_deadline).await;
        let ok = matches!(ex.outcome, Ok(Reply::Ok(_)));
        app.select = Some(ex);
        if !ok {
            return;
        }
    }
    app.ping = Some(resp::command(s, &resp::ping_cmd(), ping_deadline).await);
}

/// `plaintext-refused`: the protocol's plaintext opening on fresh connections (never
/// with the real password), to the target's port when `own_port` and to every
/// `--plaintext-port`. Returns what each port answered, for the report.
async fn plaintext_step(
    plan: &VerifyPlan,
    addrs: &[SocketAddr],
    steps: &mut Steps<'_>,
    own_port: bool,
) -> Vec<PlaintextInfo> {
    let Some(expect) = plan.expect_plaintext else {
        return vec![];
    };
    if plan.target.scheme == Scheme::Tls {
        steps.push(Check::new(
            "plaintext-refused",
            Status::Skip,
            "tls:// targets have no plaintext protocol to try",
        ));
        return vec![];
    }
    let mut ports: Vec<u16> = Vec::new();
    if own_port {
        ports.push(plan.target.port);
    }
    for p in &plan.plaintext_ports {
        if !ports.contains(p) {
            ports.push(*p);
        }
    }
    if ports.is_empty() {
        steps.push(Check::new(
            "plaintext-refused",
            Status::Skip,
            "not run: the TLS port did not answer",
        ));
        return vec![];
    }
    let mut probes = Vec::new();
    for port in ports {
        let at: Vec<SocketAddr> = addrs
            .iter()
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect();
        probes.push((port, plaintext_probe(plan, &at).await));
    }
    steps.push(session::plaintext_refused(
        &probes,
        plan.target.port,
        expect,
    ));
    probes
        .iter()
        .map(|(port, ev)| PlaintextInfo::from_evidence(*port, ev))
        .collect()
}

/// One plaintext attempt on a fresh connection to `addrs`.
async fn plaintext_probe(plan: &VerifyPlan, addrs: &[SocketAddr]) -> PlaintextEvidence {
    let t = StdInstant::now();
    let deadline = Instant::now() + plan.timeout;
    let outcome = match tcp::connect(addrs, deadline).await {
        Err(e) => Err(IoFailure::Other(format!(
            "plaintext connection not accepted: {e}"
        ))),
        Ok((mut s, _)) => match plan.target.scheme {
            Scheme::Postgres => {
                postgres::plaintext_probe(&mut s, &plan.sql_login(false).user, deadline).await
            }
            Scheme::Mysql => mysql::plaintext_probe(&mut s, deadline).await,
            _ => resp::command(&mut s, &resp::ping_cmd(), deadline)
                .await
                .outcome
                .map(|r| session::redis_plain_answer(&r)),
        },
    };
    PlaintextEvidence {
        outcome,
        ms: ms_since(t),
    }
}
