//! The verification pipeline for one target: connect -> evidence -> checks -> report.
//!
//! One pipeline serves `verify` (and later `audit`): [`verify_target`] runs it once or,
//! with `--wait`, until it passes or the deadline passes. Certificate checks are judged
//! right after the handshake, because credentials are only sent to a server whose
//! certificate passed them.

use std::time::{Duration, Instant as StdInstant};

use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::check::{session, trust};
use crate::cli::{Format, VerifyArgs};
use crate::clock;
use crate::connect::{tcp, tls};
use crate::evidence::{AppEvidence, IoFailure, PlaintextEvidence, Reply, TlsEvidence};
use crate::finding::{exit, Check, Status};
use crate::plan::{self, VerifyPlan};
use crate::probe::redis as resp;
use crate::report::{self, PingInfo, Style, TlsFacts, VerifyReport};

/// The order in which steps are reported.
const TLS_STEPS: &[&str] = &[
    "tls-handshake",
    "chain-trust",
    "anchor",
    "server-name",
    "expiry",
    "client-cert",
];

/// `tlsprobe verify`: plan, run, render, exit code.
pub fn run_verify_command(args: &VerifyArgs) -> u8 {
    let env_password = std::env::var("REDISCLI_AUTH").ok();
    let plan = match plan::verify_plan(args, env_password, None) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::INPUT;
        }
    };
    let report = runtime.block_on(verify_target(&plan));
    let text = match args.format {
        Format::Json => report::json::render(&report),
        Format::Human => report::human::verify(&report, plan.warn_days, Style::for_stdout()),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    match report.verdict {
        report::Verdict::Pass => exit::PASS,
        report::Verdict::Fail => exit::FAIL,
    }
}

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

/// One attempt on fresh connections.
pub async fn verify_once(plan: &VerifyPlan) -> VerifyReport {
    let now = plan.at.unwrap_or_else(clock::now);
    let uses_tls = plan.target.scheme.uses_tls();
    let mut checks: Vec<Check> = Vec::new();
    let mut out = VerifyReport {
        target: plan.target.display(),
        verdict: report::Verdict::Fail,
        checks: vec![],
        tls: None,
        chain: vec![],
        anchor: None,
        ping: None,
        attempts: 1,
        verified_path: vec![],
    };
    if uses_tls {
        // Non-null for every TLS target, even when the handshake was never reached.
        out.tls = Some(TlsFacts {
            sni: plan.sni.clone(),
            ..TlsFacts::default()
        });
    }
    let remaining = |after: &str, checks: &mut Vec<Check>, reason: &str| {
        for step in steps_for(plan) {
            if !checks.iter().any(|c| c.check == step)
                && step != after
                && step != "plaintext-refused"
            {
                checks.push(Check::new(step, Status::Skip, reason.to_string()));
            }
        }
    };

    // client-policy: the server's rules applied to --cert before any connection.
    if let Some(policy) = &plan.client_policy {
        let chain = plan
            .client
            .as_ref()
            .map(|c| c.chain.as_slice())
            .unwrap_or(&[]);
        checks.push(crate::mtls::client_policy_check(policy, chain, now));
    }

    // resolve
    let t = StdInstant::now();
    let addrs = match tcp::resolve(
        &plan.target.host,
        plan.target.port,
        Instant::now() + plan.timeout,
    )
    .await
    {
        Ok(a) => {
            let shown: Vec<String> = a.iter().map(|s| s.ip().to_string()).collect();
            checks.push(Check::new("resolve", Status::Pass, shown.join(", ")).with_ms(ms_since(t)));
            a
        }
        Err(e) => {
            checks.push(Check::new("resolve", Status::Fail, e).with_ms(ms_since(t)));
            remaining("", &mut checks, "not reached: resolve failed");
            return finish(out, checks, plan);
        }
    };

    // tcp
    let t = StdInstant::now();
    let (stream, addr) = match tcp::connect(&addrs, Instant::now() + plan.timeout).await {
        Ok(s) => {
            checks.push(
                Check::new("tcp", Status::Pass, format!("connected to {}", s.1))
                    .with_ms(ms_since(t)),
            );
            s
        }
        Err(e) => {
            checks.push(Check::new("tcp", Status::Fail, e).with_ms(ms_since(t)));
            remaining("", &mut checks, "not reached: tcp failed");
            plaintext_step(plan, &addrs, &mut checks).await;
            return finish(out, checks, plan);
        }
    };

    let mut app = AppEvidence::default();
    let mut tls_ev = TlsEvidence::default();
    if uses_tls {
        let (ev, stream) = handshake_or_sniff(stream, addr, plan).await;
        tls_ev = ev;
        checks.push(session::tls_handshake(&tls_ev));
        out.tls = Some(TlsFacts {
            version: tls_ev.version.clone(),
            cipher_suite: tls_ev.cipher_suite.clone(),
            sni: tls_ev.sni.clone(),
            client_cert_requested: tls_ev.record.client_cert_requested,
            acceptable_ca_names: tls_ev.record.acceptable_ca_names.clone(),
        });
        if tls_ev.record.presented.is_empty() && tls_ev.failure.is_some() {
            for step in ["chain-trust", "anchor", "server-name", "expiry"] {
                checks.push(Check::new(
                    step,
                    Status::Skip,
                    "no certificate received: tls-handshake failed",
                ));
            }
            plaintext_step(plan, &addrs, &mut checks).await;
            remaining("", &mut checks, "not reached: tls-handshake failed");
            return finish(out, checks, plan);
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
        checks.extend(judged.checks.iter().cloned());
        if let Some(mut s) = stream {
            let send_credentials = judged.trusted;
            if plan.password.is_some() && !send_credentials {
                let failed: Vec<&str> = judged
                    .checks
                    .iter()
                    .filter(|c| c.status == Status::Fail)
                    .map(|c| c.check)
                    .collect();
                app.auth_withheld = Some(format!(
                    "credentials withheld: the server certificate failed {}",
                    failed.join(", ")
                ));
            }
            round_trip(&mut s, plan, send_credentials, &mut app).await;
        }
    } else {
        for step in TLS_STEPS {
            checks.push(Check::new(step, Status::Skip, "plaintext target"));
        }
        let mut s = stream;
        round_trip(&mut s, plan, true, &mut app).await;
        if app.ping.as_ref().is_some_and(|p| {
            matches!(
                p.outcome,
                Err(IoFailure::Closed | IoFailure::Reset | IoFailure::NotTls(_))
            )
        }) || app.auth.as_ref().is_some_and(|p| {
            matches!(
                p.outcome,
                Err(IoFailure::Closed | IoFailure::Reset | IoFailure::NotTls(_))
            )
        }) {
            app.speaks_tls = speaks_tls(addr, plan).await;
        }
    }

    if uses_tls {
        let client = plan.client.as_ref().and_then(|c| {
            let info = crate::pki::describe::describe(0, &c.chain[0], now).ok()?;
            Some(session::ClientSummary {
                needs_issuer: !info.self_signed,
                subject: info.subject,
                issuer: info.issuer,
                chain_len: c.chain.len(),
            })
        });
        let cc = session::client_cert(&tls_ev, &app, client.as_ref());
        if let Some(slot) = checks.iter_mut().find(|c| c.check == "client-cert") {
            *slot = cc;
        } else {
            checks.push(cc);
        }
    }
    checks.push(session::auth(&app, &tls_ev, plan.password.is_some()));
    checks.push(session::ping(&app, &tls_ev));
    if let Some(p) = &app.ping {
        if let Ok(r) = &p.outcome {
            out.ping = Some(PingInfo {
                reply: match r {
                    Reply::Ok(s) => s.clone(),
                    Reply::Error(e) => format!("-{e}"),
                },
                ms: (p.ms * 100.0).round() / 100.0,
            });
        }
    }
    plaintext_step(plan, &addrs, &mut checks).await;
    finish(out, checks, plan)
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
fn finish(mut out: VerifyReport, mut checks: Vec<Check>, plan: &VerifyPlan) -> VerifyReport {
    let order = steps_for(plan);
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

/// The TLS handshake; if the server stays silent for a moment (Redis 7 never answers a
/// ClientHello on a plaintext port) or answers with non-TLS bytes, a plaintext PING on a
/// fresh connection tells "plaintext Redis" from "no answer".
async fn handshake_or_sniff(
    stream: TcpStream,
    addr: std::net::SocketAddr,
    plan: &VerifyPlan,
) -> (
    TlsEvidence,
    Option<tokio_rustls::client::TlsStream<TcpStream>>,
) {
    let params = tls::TlsParams::from_plan(plan);
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
async fn plaintext_redis_reply(addr: std::net::SocketAddr, deadline: Instant) -> Option<String> {
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
async fn speaks_tls(addr: std::net::SocketAddr, plan: &VerifyPlan) -> bool {
    let deadline = Instant::now() + plan.timeout.min(Duration::from_secs(3));
    let Ok(Ok(s)) = tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await else {
        return false;
    };
    let params = tls::TlsParams::from_plan(plan);
    let (ev, _) = tls::handshake(s, &params, deadline).await;
    !ev.record.presented.is_empty()
}

/// AUTH (when allowed), SELECT (when a db is given), PING; each bounded by the timeout.
async fn round_trip<S>(s: &mut S, plan: &VerifyPlan, send_credentials: bool, app: &mut AppEvidence)
where
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
    if let Some(db) = plan.target.db.filter(|d| *d != 0) {
        let ex = resp::command(s, &resp::select_cmd(db), Instant::now() + plan.timeout).await;
        let ok = matches!(ex.outcome, Ok(Reply::Ok(_)));
        app.select = Some(ex);
        if !ok {
            return;
        }
    }
    app.ping = Some(resp::command(s, &resp::ping_cmd(), Instant::now() + plan.timeout).await);
}

/// `plaintext-refused`, when asked for.
async fn plaintext_step(
    plan: &VerifyPlan,
    addrs: &[std::net::SocketAddr],
    checks: &mut Vec<Check>,
) {
    let Some(expect) = plan.expect_plaintext else {
        return;
    };
    let t = StdInstant::now();
    let deadline = Instant::now() + plan.timeout;
    let outcome = match tcp::connect(addrs, deadline).await {
        Err(e) => Err(IoFailure::Other(format!(
            "plaintext connection not accepted: {e}"
        ))),
        Ok((mut s, _)) => {
            resp::command(&mut s, &resp::ping_cmd(), deadline)
                .await
                .outcome
        }
    };
    checks.push(session::plaintext_refused(
        &PlaintextEvidence {
            outcome,
            ms: ms_since(t),
        },
        expect,
    ));
}
