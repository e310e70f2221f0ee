//! Checks: pure judgements of recorded evidence at a given time. No I/O here.
//!
//! [`judge`] turns one attempt's [`Evidence`] and the [`Expectations`] into the steps of
//! `verify`, in report order: every step gets exactly one verdict, and a step that could
//! not run says which earlier step stopped it.

pub mod policy;
pub mod session;
pub mod strict;
pub mod trust;

use rustls_pki_types::{CertificateDer, ServerName};

use crate::clock::UnixSeconds;
use crate::evidence::{App, Evidence, IoFailure};
use crate::finding::{Check, Status};
use crate::mtls::MtlsPolicy;
use crate::step::Step;
use crate::target::Scheme;

pub use session::ClientSummary;
pub use trust::ChainJudgement;

/// What plaintext probes must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaintextExpectation {
    /// Plaintext must not be served (TLS is enforced).
    Refused,
    /// Plaintext must be served (e.g. a change turned TLS off).
    Allowed,
}

/// What the target is judged against: the trust store, the name, the thresholds, what
/// the user gave. Built from the plan by its caller.
pub struct Expectations<'a> {
    pub scheme: Scheme,
    /// TLS is spoken (false for `redis://` and `sslmode=disable`).
    pub uses_tls: bool,
    pub port: u16,
    pub trust: &'a crate::pki::trust::TrustStore,
    pub expected_name: &'a ServerName<'static>,
    pub warn_days: i64,
    /// A password was given.
    pub had_password: bool,
    /// The client certificate offered, for messages.
    pub client: Option<ClientSummary>,
    /// The server's client-certificate rules and the chain to pre-check against them.
    pub client_policy: Option<(&'a MtlsPolicy, &'a [CertificateDer<'static>])>,
    /// `None`: plaintext is not probed.
    pub plaintext: Option<PlaintextExpectation>,
    /// `--strict`: the profile rules on the verified path (step `strict`).
    pub strict: bool,
}

/// The judgement of one attempt.
#[derive(Debug, Clone)]
pub struct Judged {
    /// Every step, in report order.
    pub checks: Vec<Check>,
    /// The presented chain judged; `None` when no certificate was received.
    pub chain: Option<ChainJudgement>,
}

impl Judged {
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }
}

/// The steps `verify` reports for these expectations, in order.
fn steps_for(exp: &Expectations<'_>) -> Vec<Step> {
    let mut v = Vec::new();
    if exp.client_policy.is_some() {
        v.push(Step::ClientPolicy);
    }
    v.extend([
        Step::Resolve,
        Step::Tcp,
        Step::TlsHandshake,
        Step::ChainTrust,
        Step::Anchor,
        Step::ServerName,
        Step::Expiry,
        Step::ClientCert,
        Step::Auth,
        Step::Ping,
    ]);
    if exp.strict {
        v.push(Step::Strict);
    }
    if exp.plaintext.is_some() {
        v.push(Step::PlaintextRefused);
    }
    v
}

/// Steps judged so far.
struct Steps {
    order: Vec<Step>,
    checks: Vec<Check>,
}

impl Steps {
    /// Records a step's verdict; a step these expectations do not report (`strict`
    /// without `--strict`) is left out here, once, rather than at each call.
    fn push(&mut self, c: Check) {
        if self.order.contains(&c.check) {
            self.checks.push(c);
        }
    }

    fn has(&self, step: Step) -> bool {
        self.checks.iter().any(|c| c.check == step)
    }

    /// Every step not judged yet becomes `skip` with `reason` (except plaintext-refused,
    /// which runs on its own connections).
    fn skip_rest(&mut self, reason: &str) {
        for step in self.order.clone() {
            if step != Step::PlaintextRefused && !self.has(step) {
                self.checks.push(Check::new(step, Status::Skip, reason));
            }
        }
    }

    fn finish(mut self, chain: Option<ChainJudgement>) -> Judged {
        self.checks.sort_by_key(|c| c.check);
        Judged {
            checks: self.checks,
            chain,
        }
    }
}

/// Judges one attempt. `prejudged`: the chain judgement already made of the same presented chain (at the
/// credentials gate) with the same trust store, name, time and threshold: it is a pure
/// function of those, and path building is the costly part of a verification.
pub fn judge(
    ev: &Evidence,
    exp: &Expectations<'_>,
    now: UnixSeconds,
    prejudged: Option<ChainJudgement>,
) -> Judged {
    let mut steps = Steps {
        order: steps_for(exp),
        checks: Vec::new(),
    };
    if let Some((policy, chain)) = exp.client_policy {
        steps.push(crate::mtls::client_policy_check(policy, chain, now));
    }
    match &ev.resolve.value {
        Ok(addrs) => {
            let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            let mut shown = shown.join(", ");
            if let Some(why) = &ev.resolve_override {
                shown = format!("{shown} ({why})");
            }
            steps.push(Check::new(Step::Resolve, Status::Pass, shown).with_ms(ev.resolve.ms));
        }
        Err(e) => {
            steps.push(
                Check::new(Step::Resolve, Status::Fail, e.to_string()).with_ms(ev.resolve.ms),
            );
            steps.skip_rest("not reached: resolve failed");
            return steps.finish(None);
        }
    }
    match &ev.tcp {
        Some(t) => match &t.value {
            Ok(addr) => steps.push(
                Check::new(Step::Tcp, Status::Pass, format!("connected to {addr}")).with_ms(t.ms),
            ),
            Err(e) => {
                steps.push(Check::new(Step::Tcp, Status::Fail, e.to_string()).with_ms(t.ms));
                steps.skip_rest("not reached: tcp failed");
                plaintext(&mut steps, ev, exp);
                return steps.finish(None);
            }
        },
        None => {
            steps.skip_rest("not reached");
            return steps.finish(None);
        }
    }

    let mut chain = None;
    let default_tls = crate::evidence::TlsEvidence::default();
    let tls = ev.tls.as_ref().unwrap_or(&default_tls);
    if exp.uses_tls {
        steps.push(session::tls_handshake(tls));
        let rejected = tls
            .failure
            .as_ref()
            .is_some_and(|f| session::is_client_cert_rejection(f, tls));
        if tls.record.presented.is_empty() && tls.failure.is_some() {
            for step in Step::CERTIFICATE {
                steps.push(Check::new(
                    step,
                    Status::Skip,
                    "no certificate received: tls-handshake failed",
                ));
            }
            steps.push(Check::new(
                Step::Strict,
                Status::Skip,
                "no certificate judged",
            ));
            if !rejected {
                steps.skip_rest("not reached: tls-handshake failed");
                plaintext(&mut steps, ev, exp);
                return steps.finish(None);
            }
        } else {
            let judged = prejudged.unwrap_or_else(|| {
                trust::judge_chain(
                    &tls.record.presented,
                    exp.trust,
                    exp.expected_name,
                    now,
                    exp.warn_days,
                )
            });
            for c in &judged.checks {
                steps.push(c.clone());
            }
            if exp.strict {
                steps.push(strict::step(&judged, now));
            }
            chain = Some(judged);
        }
        let round_trip = match &ev.app {
            App::Redis(a) => session::RoundTrip::from_redis(a),
            App::Sql(sql) => session::RoundTrip::from_sql(sql),
            App::Tls(f) => session::RoundTrip {
                first_failure: f.clone(),
                completed: f.is_none() && tls.failure.is_none(),
                cert_refusal: None,
            },
            App::NotReached => session::RoundTrip::default(),
        };
        steps.push(session::client_cert(tls, &round_trip, exp.client.as_ref()));
    } else {
        for step in [
            Step::TlsHandshake,
            Step::ChainTrust,
            Step::Anchor,
            Step::ServerName,
            Step::Expiry,
            Step::Strict,
            Step::ClientCert,
        ] {
            steps.push(Check::new(step, Status::Skip, "plaintext target"));
        }
    }

    let withheld = ev
        .credentials_withheld
        .then(|| withheld_message(&steps.checks));
    round_trip_steps(&mut steps, ev, tls, exp, withheld.as_deref());
    plaintext(&mut steps, ev, exp);
    steps.finish(chain)
}

/// "credentials withheld: the server certificate failed chain-trust, expiry".
fn withheld_message(checks: &[Check]) -> String {
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| Step::CERTIFICATE.contains(&c.check) || c.check == Step::Strict)
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.check.as_str())
        .collect();
    format!(
        "credentials withheld: the server certificate failed {}",
        failed.join(", ")
    )
}

/// `auth` and `ping`, per protocol.
fn round_trip_steps(
    steps: &mut Steps,
    ev: &Evidence,
    tls: &crate::evidence::TlsEvidence,
    exp: &Expectations<'_>,
    withheld: Option<&str>,
) {
    match &ev.app {
        App::Redis(a) => {
            let mut a = a.clone();
            if let Some(w) = withheld {
                a.auth_withheld = Some(w.to_string());
            }
            steps.push(session::auth(&a, tls, exp.had_password));
            steps.push(session::ping(&a, tls));
        }
        App::Sql(sql) => {
            steps.push(session::sql_auth(sql, tls, withheld, exp.had_password));
            steps.push(session::sql_ping(sql, tls));
        }
        App::NotReached => {
            let rejected = tls
                .failure
                .as_ref()
                .is_some_and(|f| session::is_client_cert_rejection(f, tls));
            for step in [Step::Auth, Step::Ping] {
                steps.push(if rejected {
                    session::closed_by_rejection(step)
                } else {
                    Check::new(step, Status::Skip, "not reached: tls-handshake failed")
                });
            }
        }
        App::Tls(f) => {
            steps.push(Check::new(
                Step::Auth,
                Status::Skip,
                "tls:// target: no application protocol",
            ));
            steps.push(tls_idle(f.as_ref(), tls));
        }
    }
}

/// `ping` of a `tls://` target: what happened while waiting briefly after the handshake.
fn tls_idle(f: Option<&IoFailure>, tls: &crate::evidence::TlsEvidence) -> Check {
    match f {
        None if tls.failure.is_none() => Check::new(
            Step::Ping,
            Status::Skip,
            "tls:// target: no application round trip; no alert arrived after the handshake",
        ),
        None => Check::new(
            Step::Ping,
            Status::Skip,
            "not reached: tls-handshake failed",
        ),
        Some(f) if session::is_client_cert_rejection(f, tls) => {
            session::closed_by_rejection(Step::Ping)
        }
        Some(IoFailure::Closed) => Check::new(
            Step::Ping,
            Status::Skip,
            "tls:// target: no application round trip; the server closed the idle connection",
        ),
        Some(f) => Check::new(
            Step::Ping,
            Status::Fail,
            format!("after the handshake: {}", f.describe()),
        ),
    }
}

/// `plaintext-refused`, when expected.
fn plaintext(steps: &mut Steps, ev: &Evidence, exp: &Expectations<'_>) {
    let (Some(expect), Some(p)) = (exp.plaintext, &ev.plaintext) else {
        return;
    };
    if let Some(why) = p.not_run {
        steps.push(Check::new(Step::PlaintextRefused, Status::Skip, why));
        return;
    }
    steps.push(session::plaintext_refused(&p.probes, exp.port, expect));
}

#[cfg(test)]
mod tests;
