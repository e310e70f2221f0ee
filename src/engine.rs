//! The verification pipeline for one target: collect -> evidence -> judge -> report.
//!
//! One pipeline serves `verify` and `audit` for every protocol: [`verify_target`] runs it
//! once or, with `--wait`, until it passes or the deadline passes. [`collect`] does all the
//! I/O and returns an [`Evidence`] value; [`crate::check::judge`] judges it; the report is
//! built from both. The steps are the same for Redis, PostgreSQL, MySQL and plain TLS; only
//! how TLS starts (directly, or inside the database protocol) and the application round
//! trip differ. Credentials are only sent to a server whose certificate passed the
//! certificate checks, so collection asks the same pure judgement before it sends them.

use std::net::SocketAddr;
use std::time::{Duration, Instant as StdInstant};

use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;

use crate::check::{self, session, trust};
use crate::clock::{self, UnixSeconds};
use crate::connect::{tcp, tls};
use crate::evidence::{
    App, AppEvidence, Evidence, IoFailure, PlaintextEvidence, PlaintextProbes, Reply, SqlEvidence,
    Timed, TlsEvidence,
};
use crate::plan::VerifyPlan;
use crate::probe::{ms_since, mysql, postgres, redis as resp};
use crate::report::{self, PingInfo, PlaintextInfo, TlsFacts, VerifyReport};
use crate::target::Scheme;

/// Verifies one target, retrying on fresh connections while `--wait` allows.
pub async fn verify_target(plan: &VerifyPlan) -> VerifyReport {
    verify_target_observed(plan, |_, _| {}).await
}

/// A verified and authenticated Redis connection (TLS, AUTH and PING passed), for
/// discovery commands (src/discover/): they go only over a connection whose certificate
/// was verified and whose AUTH succeeded.
pub type RedisStream = TlsStream<TcpStream>;

/// [`verify_target`] that also returns the Redis stream of the last attempt when its
/// verdict is pass (`rediss://` only; `None` otherwise).
pub async fn verify_target_keeping_stream(
    plan: &VerifyPlan,
) -> (VerifyReport, Option<RedisStream>) {
    retry(plan, |_, _| {}).await
}

/// [`verify_target`], telling `on_retry` about each failed attempt that will be retried
/// (the report, and the time left before `--wait` gives up), e.g. for a progress line.
pub async fn verify_target_observed(
    plan: &VerifyPlan,
    on_retry: impl FnMut(&VerifyReport, Duration),
) -> VerifyReport {
    retry(plan, on_retry).await.0
}

/// Attempts on fresh connections while `--wait` allows; the last attempt's report and,
/// when it passed, its Redis stream.
async fn retry(
    plan: &VerifyPlan,
    mut on_retry: impl FnMut(&VerifyReport, Duration),
) -> (VerifyReport, Option<RedisStream>) {
    let give_up = plan.wait.map(|w| Instant::now() + w);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (mut report, stream) = verify_once_keeping_stream(plan).await;
        report.attempts = attempts;
        let again = report.verdict == report::Verdict::Fail
            && give_up.is_some_and(|g| Instant::now() + plan.interval < g);
        if !again {
            return (report, stream);
        }
        if let Some(g) = give_up {
            on_retry(&report, g.saturating_duration_since(Instant::now()));
        }
        tokio::time::sleep(plan.interval).await;
    }
}

/// One attempt on fresh connections: collect, judge, report.
pub async fn verify_once(plan: &VerifyPlan) -> VerifyReport {
    verify_once_keeping_stream(plan).await.0
}

/// [`verify_once`] that also returns the Redis stream when the verdict is pass.
pub async fn verify_once_keeping_stream(plan: &VerifyPlan) -> (VerifyReport, Option<RedisStream>) {
    let now = plan.at.unwrap_or_else(clock::now);
    let mut kept = None;
    let mut gate = None;
    let evidence = collect(plan, now, &mut kept, &mut gate).await;
    let expectations = plan.expectations(now);
    let client_not_after = expectations.client.as_ref().map(|c| c.not_after);
    let judged = check::judge(&evidence, &expectations, now, gate);
    let report = build_report(plan, &evidence, judged, client_not_after);
    let usable = report.verdict == report::Verdict::Pass && plan.target.scheme == Scheme::Rediss;
    (report, kept.filter(|_| usable))
}

/// One attempt like `plan` but without the client certificate and without credentials:
/// does the server serve a client that presents none?
pub(crate) async fn probe_without_client_cert(plan: &VerifyPlan) -> VerifyReport {
    let mut bare = plan.clone();
    bare.client = None;
    bare.client_policy = None;
    bare.password = None;
    bare.user = None;
    bare.expect_plaintext = None;
    bare.plaintext_ports.clear();
    verify_once(&bare).await
}

/// Every observation of one attempt, in the order the protocol allows them.
/// `kept` receives the TLS stream once the round trip is done (for discovery); `gate`, the
/// chain judgement asked before credentials are sent (the judge reuses it).
pub async fn collect(
    plan: &VerifyPlan,
    now: UnixSeconds,
    kept: &mut Option<RedisStream>,
    gate: &mut Option<check::ChainJudgement>,
) -> Evidence {
    let t = StdInstant::now();
    let resolved = tcp::resolve_planned(
        &plan.target.host,
        plan.target.port,
        plan.resolve.as_ref(),
        Instant::now() + plan.timeout,
    )
    .await;
    let (resolved, resolve_override) = match resolved {
        Ok((a, over)) => (Ok(a), over),
        Err(e) => (Err(e), None),
    };
    let mut ev = Evidence {
        resolve: Timed {
            value: resolved,
            ms: ms_since(t),
        },
        resolve_override,
        tcp: None,
        tls: None,
        credentials_withheld: false,
        app: App::NotReached,
        plaintext: None,
    };
    let Ok(addrs) = ev.resolve.value.clone() else {
        return ev;
    };

    let t = StdInstant::now();
    let connected = tcp::connect(&addrs, Instant::now() + plan.timeout).await;
    let (stream, addr) = match connected {
        Ok((s, a)) => {
            ev.tcp = Some(Timed {
                value: Ok(a),
                ms: ms_since(t),
            });
            (s, a)
        }
        Err(e) => {
            ev.tcp = Some(Timed {
                value: Err(e),
                ms: ms_since(t),
            });
            ev.plaintext = plaintext_probes(plan, &addrs, !plan.plaintext_implicit).await;
            return ev;
        }
    };

    if !plan.target.uses_tls() {
        ev.app = match plan.target.scheme {
            Scheme::Postgres | Scheme::Mysql => plaintext_sql(stream, plan).await,
            _ => App::Redis(plaintext_redis(stream, addr, plan).await),
        };
    } else {
        let (tls_ev, stream, greeting) = start_tls(stream, addr, plan).await;
        let rejected = tls_ev
            .failure
            .as_ref()
            .is_some_and(|f| session::is_client_cert_rejection(f, &tls_ev));
        if tls_ev.record.presented.is_empty() && tls_ev.failure.is_some() && !rejected {
            let own =
                !(plan.plaintext_implicit && matches!(tls_ev.failure, Some(IoFailure::Timeout)));
            ev.tls = Some(tls_ev);
            ev.plaintext = plaintext_probes(plan, &addrs, own).await;
            return ev;
        }
        // The credentials gate: the same judgements `check` reports, asked now. A failed
        // --strict withholds credentials like any other certificate check.
        let trusted = !tls_ev.record.presented.is_empty() && {
            let judged = trust::judge_chain(
                &tls_ev.record.presented,
                &plan.trust,
                &plan.expected_name,
                now,
                plan.warn_days,
            );
            let ok = judged.trusted
                && !(plan.strict
                    && check::strict::step(&judged, now).status == crate::finding::Status::Fail);
            *gate = Some(judged);
            ok
        };
        ev.credentials_withheld = plan.password.is_some() && !trusted;
        ev.app = match stream {
            None => App::NotReached,
            Some(mut s) => {
                let app =
                    app_round_trip(&mut s, plan, greeting.as_ref(), !ev.credentials_withheld).await;
                *kept = Some(s);
                app
            }
        };
        ev.tls = Some(tls_ev);
    }
    ev.plaintext = plaintext_probes(plan, &addrs, true).await;
    ev
}

/// A `redis://` target: a PING first, so that the password only goes to a server that
/// proved it is a plaintext Redis (PONG or an error reply), never to a TLS port or
/// another service. A plaintext target sends credentials in clear by definition.
async fn plaintext_redis(mut s: TcpStream, addr: SocketAddr, plan: &VerifyPlan) -> AppEvidence {
    let mut app = AppEvidence::default();
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
    app
}

/// `sslmode=disable` / `ssl-mode=DISABLED`: the SQL session in plaintext, as the user
/// asked (the password is sent only when the server asks for it, as any client would).
async fn plaintext_sql(mut s: TcpStream, plan: &VerifyPlan) -> App {
    let deadline = Instant::now() + plan.timeout;
    let login = plan.sql_login(true);
    match plan.target.scheme {
        Scheme::Mysql => match mysql::read_greeting(&mut s, deadline).await {
            Ok(Ok(g)) => App::Sql(mysql::session(&mut s, &g, &login, false, deadline).await),
            Ok(Err(e)) => App::Sql(SqlEvidence {
                refused: Some(e),
                ..SqlEvidence::default()
            }),
            Err(f) => App::Sql(SqlEvidence {
                failure: Some(f),
                ..SqlEvidence::default()
            }),
        },
        _ => App::Sql(postgres::session(&mut s, &login, deadline).await),
    }
}

/// The report: what was observed, the steps as judged, the verdict.
fn build_report(
    plan: &VerifyPlan,
    ev: &Evidence,
    judged: check::Judged,
    client_not_after: Option<UnixSeconds>,
) -> VerifyReport {
    let tls = plan.target.uses_tls().then(|| {
        // Non-null for every TLS target, even when the handshake was never reached.
        let t = ev.tls.clone().unwrap_or_default();
        TlsFacts {
            version: t.version.map(tls::version_name),
            cipher_suite: t.cipher_suite.map(tls::suite_name),
            sni: plan.sni.clone(),
            client_cert_requested: t.record.client_cert_requested,
            acceptable_ca_names: t.record.acceptable_ca_names,
        }
    });
    let ping = match &ev.app {
        App::Redis(a) => a.ping.as_ref().and_then(|p| {
            let reply = match p.outcome.as_ref().ok()? {
                Reply::Ok(s) => s.clone(),
                Reply::Error(e) => format!("-{e}"),
            };
            Some(PingInfo {
                reply,
                ms: (p.ms * 100.0).round() / 100.0,
            })
        }),
        App::Sql(sql) => match &sql.query {
            Some(Ok(v)) => Some(PingInfo {
                reply: v.clone(),
                ms: (sql.query_ms * 100.0).round() / 100.0,
            }),
            _ => None,
        },
        _ => None,
    };
    let plaintext = ev
        .plaintext
        .as_ref()
        .map(|p| {
            p.probes
                .iter()
                .map(|(port, e)| PlaintextInfo::from_evidence(*port, e))
                .collect()
        })
        .unwrap_or_default();
    let verdict = if judged.passed() {
        report::Verdict::Pass
    } else {
        report::Verdict::Fail
    };
    let (chain, anchor, verified_path) = match judged.chain {
        Some(c) => (c.chain, c.anchor, c.verified_path),
        None => (vec![], None, vec![]),
    };
    let negotiated = plan.target.uses_tls().then(|| {
        let t = ev.tls.as_ref();
        check::policy::TlsFacts {
            version: t.and_then(|t| t.version),
            suite: t.and_then(|t| t.cipher_suite),
        }
    });
    let asked_for_auth = match &ev.app {
        App::Redis(a) => [&a.auth, &a.ping]
            .into_iter()
            .flatten()
            .any(|x| matches!(&x.outcome, Ok(Reply::Error(e)) if e.starts_with("NOAUTH"))),
        _ => false,
    };
    VerifyReport {
        changes: None,
        client_not_after,
        negotiated,
        asked_for_auth,
        target: plan.target.display(),
        verdict,
        checks: judged.checks,
        tls,
        chain,
        anchor,
        ping,
        plaintext,
        attempts: 1,
        verified_path,
    }
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
        failure: Some(IoFailure::StartTlsRefused(why.clone())),
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
    send_credentials: bool,
) -> App {
    let deadline = Instant::now() + plan.timeout;
    match plan.target.scheme {
        Scheme::Rediss | Scheme::Redis => {
            let mut app = AppEvidence::default();
            redis_round_trip(s, plan, send_credentials, &mut app).await;
            App::Redis(app)
        }
        Scheme::Postgres => {
            App::Sql(postgres::session(s, &plan.sql_login(send_credentials), deadline).await)
        }
        Scheme::Mysql => match greeting {
            Some(g) => App::Sql(
                mysql::session(s, g, &plan.sql_login(send_credentials), true, deadline).await,
            ),
            None => App::Sql(SqlEvidence {
                failure: Some(IoFailure::NoGreeting),
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

/// One plaintext attempt on a fresh connection to `addrs`.
async fn plaintext_probe(plan: &VerifyPlan, addrs: &[SocketAddr]) -> PlaintextEvidence {
    let t = StdInstant::now();
    let deadline = Instant::now() + plan.timeout;
    let outcome = match tcp::connect(addrs, deadline).await {
        Err(e) => Err(IoFailure::NotAccepted(e)),
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

/// The plaintext probes this plan asks for: the target's port when `own_port`, and every
/// `--plaintext-port`. `None` when no plaintext expectation is set.
async fn plaintext_probes(
    plan: &VerifyPlan,
    addrs: &[SocketAddr],
    own_port: bool,
) -> Option<PlaintextProbes> {
    plan.expect_plaintext?;
    if plan.target.scheme == Scheme::Tls {
        return Some(PlaintextProbes {
            probes: vec![],
            not_run: Some("tls:// targets have no plaintext protocol to try"),
        });
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
        return Some(PlaintextProbes {
            probes: vec![],
            not_run: Some("not run: the TLS port did not answer"),
        });
    }
    let mut probes = Vec::new();
    for port in ports {
        let at: Vec<SocketAddr> = addrs
            .iter()
            .map(|a| SocketAddr::new(a.ip(), port))
            .collect();
        probes.push((port, plaintext_probe(plan, &at).await));
    }
    Some(PlaintextProbes {
        probes,
        not_run: None,
    })
}
