//! The expect steps: one attempt of [`crate::engine::verify_once`] (or two, or three) on the
//! forms of the target the expectations call for, then one step per expectation.
//!
//! - TLS on: today's verification of the TLS form (`rediss://`, `postgres://`, ...) with
//!   plaintext expected refused; `expect-tls` passes when the handshake did.
//! - TLS off (or Redis Enterprise `replica_ssl`): a plaintext round trip (the `redis://`
//!   form, or a SQL login and `SELECT 1` without TLS) must succeed and a TLS handshake on
//!   the same port must be refused (no certificate presented).
//! - Client authentication required: a second attempt without client certificate (the
//!   audit's `require_client_auth` probe) must be refused, and the one with `--cert`
//!   accepted; not required: one without must be accepted.
//!
//! With `--wait` the whole set is retried on fresh connections until every step holds.

use crate::step::Step;
use tokio::time::Instant;

use super::{ClientAuth, Expectations, Plaintext, TlsExpect};
use crate::check::policy::{without_client_cert_outcome, WithoutClientCert};
use crate::domain::TlsVersion;
use crate::error::InputError;
use crate::finding::{Check, Status};
use crate::plan::VerifyPlan;
use crate::report::{Verdict, VerifyReport};
use crate::target::{Host, Scheme};

/// The TLS steps of the engine, replaced when TLS is expected off.
const TLS_STEPS: [Step; 6] = [
    Step::TlsHandshake,
    Step::ChainTrust,
    Step::Anchor,
    Step::ServerName,
    Step::Expiry,
    Step::ClientCert,
];

/// Verifies until every expectation holds or `plan.wait` has passed.
pub(crate) async fn verify_target(plan: &VerifyPlan, ex: &Expectations) -> VerifyReport {
    let give_up = plan.wait.map(|w| Instant::now() + w);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut report = verify_once(plan, ex).await;
        report.attempts = attempts;
        let again = report.verdict == Verdict::Fail
            && give_up.is_some_and(|g| Instant::now() + plan.interval < g);
        if !again {
            return report;
        }
        tokio::time::sleep(plan.interval).await;
    }
}

/// One attempt of every expectation.
pub(crate) async fn verify_once(plan: &VerifyPlan, ex: &Expectations) -> VerifyReport {
    let off = ex.tls.as_ref().is_some_and(|t| !t.value.for_clients());
    let mut report = if off {
        tls_off(plan, ex).await
    } else {
        tls_on(plan, ex).await
    };
    if let Some(e) = &ex.endpoint {
        report.checks.push(endpoint_step(plan, e));
    }
    if let Some(s) = &ex.state {
        report.checks.push(if s.value == "active" {
            Check::new(
                Step::ExpectState,
                Status::Pass,
                format!("{} ({})", s.field, ex.source),
            )
        } else {
            Check::new(
                Step::ExpectState,
                Status::Fail,
                format!(
                    "{} ({}): the database is not active (expected \"active\")",
                    s.field, ex.source
                ),
            )
        });
    }
    report.verdict = VerifyReport::verdict_of(&report.checks);
    report
}

fn status_of(r: &VerifyReport, step: &str) -> Option<Status> {
    r.checks.iter().find(|c| c.check == step).map(|c| c.status)
}

fn message_of(r: &VerifyReport, step: &str) -> String {
    r.checks
        .iter()
        .find(|c| c.check == step)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// TLS expected on (or not said): the TLS form, plaintext refused unless the object allows it.
async fn tls_on(plan: &VerifyPlan, ex: &Expectations) -> VerifyReport {
    let mut p = plan.clone();
    if p.target.scheme == Scheme::Redis {
        p.target.scheme = Scheme::Rediss;
    }
    match ex.plaintext.as_ref().map(|x| x.value) {
        Some(Plaintext::Refused) if p.target.scheme != Scheme::Tls => {
            p.expect_plaintext = Some(crate::domain::ExpectPlaintext::Refused);
        }
        Some(Plaintext::Allowed) => {
            p.expect_plaintext = Some(crate::domain::ExpectPlaintext::Allowed)
        }
        _ => {}
    }
    let mut r = crate::engine::verify_once(&p).await;
    let handshake = status_of(&r, "tls-handshake") == Some(Status::Pass);
    if ex.tls.is_some() || ex.min_tls_version.is_some() {
        let step = tls_on_step(&r, ex, handshake);
        r.checks.push(step);
    }
    if let Some(pt) = &ex.plaintext {
        let step = match status_of(&r, "plaintext-refused") {
            Some(st @ (Status::Pass | Status::Fail | Status::Warn)) => Check::new(
                Step::ExpectPlaintext,
                st,
                format!(
                    "{} ({}): {}",
                    pt.field,
                    ex.source,
                    message_of(&r, "plaintext-refused")
                ),
            ),
            _ => Check::new(
                Step::ExpectPlaintext,
                Status::Skip,
                format!(
                    "{} ({}): not probed: {}",
                    pt.field,
                    ex.source,
                    message_of(&r, "plaintext-refused")
                ),
            ),
        };
        r.checks.push(step);
    }
    if let Some(ca) = &ex.client_auth {
        let step = client_auth_step(&p, &r, ex, ca.value, &ca.field, handshake).await;
        r.checks.push(step);
    }
    r
}

fn tls_on_step(r: &VerifyReport, ex: &Expectations, handshake: bool) -> Check {
    let field = ex
        .tls
        .as_ref()
        .map(|t| t.field.clone())
        .or_else(|| ex.min_tls_version.as_ref().map(|m| m.field.clone()))
        .unwrap_or_default();
    if !handshake {
        return Check::new(
            Step::ExpectTls,
            Status::Fail,
            format!(
                "{field} ({}) but the TLS handshake failed: {}",
                ex.source,
                message_of(r, "tls-handshake")
            ),
        );
    }
    let version = r
        .tls
        .as_ref()
        .and_then(|t| t.version.clone())
        .unwrap_or_default();
    if let Some(min) = &ex.min_tls_version {
        let have = if version == "TLS 1.3" {
            TlsVersion::V1_3
        } else {
            TlsVersion::V1_2
        };
        if min.value == TlsVersion::V1_3 && have == TlsVersion::V1_2 {
            return Check::new(
                Step::ExpectTls,
                Status::Fail,
                format!("{} ({}) but {version} was negotiated", min.field, ex.source),
            );
        }
    }
    Check::new(
        Step::ExpectTls,
        Status::Pass,
        format!(
            "{field} ({}): the TLS handshake succeeded ({version})",
            ex.source
        ),
    )
}

/// `expect-client-auth` for a TLS endpoint.
async fn client_auth_step(
    p: &VerifyPlan,
    main: &VerifyReport,
    ex: &Expectations,
    want: ClientAuth,
    field: &str,
    handshake: bool,
) -> Check {
    let said = format!("{field} ({})", ex.source);
    let cert_rejected = status_of(main, "client-cert") == Some(Status::Fail);
    if !handshake && !cert_rejected {
        return Check::new(
            Step::ExpectClientAuth,
            Status::Skip,
            format!("{said}: not reached: tls-handshake failed"),
        );
    }
    // The attempt without a client certificate: the main one when no --cert was given.
    let bare_owned;
    let bare = if p.client.is_none() {
        main
    } else {
        bare_owned = crate::engine::probe_without_client_cert(p).await;
        &bare_owned
    };
    let outcome = without_client_cert_outcome(&bare.policy_facts());
    match (want, outcome) {
        (ClientAuth::Required, WithoutClientCert::Refused) => match &p.client {
            None => Check::new(Step::ExpectClientAuth, Status::Pass, format!("{said}: a connection without a client certificate was refused (no --cert given: acceptance with one not tried)")),
            Some(c) if status_of(main, "client-cert") == Some(Status::Pass) => Check::new(
                Step::ExpectClientAuth,
                Status::Pass,
                format!("{said}: refused without a client certificate, accepted with {}", c.file),
            ),
            Some(c) => Check::new(
                Step::ExpectClientAuth,
                Status::Fail,
                format!("{said}: refused without a client certificate, but also with {}: {}", c.file, message_of(main, "client-cert")),
            ),
        },
        (ClientAuth::Required, WithoutClientCert::Served) => Check::new(
            Step::ExpectClientAuth,
            Status::Fail,
            format!("{said} but a connection without a client certificate was served: mutual TLS is not enforced"),
        ),
        (_, WithoutClientCert::Unclear(step)) => Check::new(
            Step::ExpectClientAuth,
            Status::Fail,
            format!("{said}: could not tell whether a connection without a client certificate is served ({step})"),
        ),
        (_, WithoutClientCert::Refused) => Check::new(
            Step::ExpectClientAuth,
            Status::Fail,
            format!("{said} but a connection without a client certificate was refused: the server requires one"),
        ),
        (_, WithoutClientCert::Served) => Check::new(
            Step::ExpectClientAuth,
            Status::Pass,
            format!("{said}: a connection without a client certificate was served"),
        ),
    }
}

/// TLS expected off: a plaintext round trip must succeed and a TLS handshake be refused.
async fn tls_off(plan: &VerifyPlan, ex: &Expectations) -> VerifyReport {
    let Some(tls) = ex.tls.as_ref() else {
        unreachable!("tls_off is only called with a TLS expectation")
    };
    let said = format!("{} ({})", tls.field, ex.source);
    let replica = if tls.value == TlsExpect::ReplicaOnly {
        " (TLS is for database-to-database links, Replica Of and Active-Active, only: clients are expected on plaintext)"
    } else {
        ""
    };
    // The TLS form, without credentials: only whether a handshake happens matters.
    let mut tp = plan.clone();
    if tp.target.scheme == Scheme::Redis {
        tp.target.scheme = Scheme::Rediss;
    }
    tp.password = None;
    tp.user = None;
    tp.expect_plaintext = None;
    tp.plaintext_ports.clear();
    tp.client_policy = None;
    let tls_report = crate::engine::verify_once(&tp).await;
    let refused = status_of(&tls_report, "tls-handshake") != Some(Status::Pass)
        && tls_report.chain.is_empty();
    let (mut r, round_trip) = if tp.target.scheme.is_sql() {
        super::plain::sql_report(plan, &tls_report, refused).await
    } else {
        let mut pp = plan.clone();
        pp.target.scheme = Scheme::Redis;
        pp.expect_plaintext = None;
        pp.plaintext_ports.clear();
        pp.client_policy = None;
        let r = crate::engine::verify_once(&pp).await;
        let ok = matches!(status_of(&r, "ping"), Some(Status::Pass | Status::Warn));
        let how = format!("plaintext {}", message_of(&r, "ping"));
        (r, (ok, how))
    };
    let (ok, how) = round_trip;
    let tls_words = message_of(&tls_report, "tls-handshake");
    let step = match (ok, refused) {
        (true, true) => Check::new(
            Step::ExpectTls,
            Status::Pass,
            format!("{said}{replica}: {how}; TLS refused ({tls_words})"),
        ),
        (_, false) => Check::new(
            Step::ExpectTls,
            Status::Fail,
            format!("{said}{replica} but the endpoint completed a TLS handshake: TLS is still on"),
        ),
        (false, true) => Check::new(
            Step::ExpectTls,
            Status::Fail,
            format!("{said}{replica} but the plaintext round trip failed: {how}"),
        ),
    };
    r.checks.push(step);
    if let Some(pt) = &ex.plaintext {
        r.checks.push(Check::new(
            Step::ExpectPlaintext,
            if ok { Status::Pass } else { Status::Fail },
            format!("{} ({}): {how}", pt.field, ex.source),
        ));
    }
    if let Some(ca) = &ex.client_auth {
        r.checks.push(Check::new(
            Step::ExpectClientAuth,
            Status::Skip,
            format!(
                "{} ({}): TLS is off, so no client certificate can be asked for",
                ca.field, ex.source
            ),
        ));
    }
    r
}

/// `expect-endpoint`: the target's host and port are the object's.
fn endpoint_step(plan: &VerifyPlan, e: &super::Endpoint) -> Check {
    let host = match &plan.target.host {
        Host::Dns(d) => d.clone(),
        Host::Ip(_) => plan.target.host.to_string(),
    };
    let host_ok = e.hosts.is_empty() || e.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
    let port_ok = e.port.is_none_or(|p| p == plan.target.port);
    let wanted = format!(
        "{}:{}",
        if e.hosts.is_empty() {
            "*".to_string()
        } else {
            e.hosts.join(" or ")
        },
        e.port.map_or("*".to_string(), |p| p.to_string())
    );
    let target = format!("{host}:{}", plan.target.port);
    if host_ok && port_ok {
        Check::new(
            Step::ExpectEndpoint,
            Status::Pass,
            format!("target {target} is the object's endpoint ({})", e.field),
        )
    } else {
        Check::new(
            Step::ExpectEndpoint,
            Status::Fail,
            format!(
                "target {target} is not the object's endpoint {wanted} ({})",
                e.field
            ),
        )
    }
}

/// The target a `--expect` object names, when no TARGET is given.
pub(crate) fn target_from(ex: &Expectations) -> Result<String, InputError> {
    let subject = format!("--expect {}", ex.source);
    let e = ex
        .endpoint
        .as_ref()
        .filter(|e| !e.hosts.is_empty())
        .ok_or_else(|| InputError::new(&subject, "names no endpoint: give a TARGET"))?;
    let scheme = ex.protocol.ok_or_else(|| {
        InputError::new(&subject, "does not say the protocol (a Huawei RDS body has no engine): give a postgres:// or mysql:// TARGET")
    })?;
    let off = ex.tls.as_ref().is_some_and(|t| !t.value.for_clients());
    let scheme = if scheme == Scheme::Rediss && off {
        Scheme::Redis
    } else {
        scheme
    };
    let port = e
        .port
        .or(scheme.default_port())
        .ok_or_else(|| InputError::new(&subject, "names no port: give a TARGET"))?;
    Ok(format!("{}://{}:{port}", scheme.name(), e.hosts[0]))
}

/// Applies what the object implies to the plan before any connection: the target's
/// protocol must be the provider's, and Redis Enterprise's client-certificate rules feed
/// `client-policy` unless given as flags.
pub(crate) fn shape_plan(
    plan: &mut VerifyPlan,
    ex: &Expectations,
    args: &crate::options::RawVerify,
) -> Result<(), InputError> {
    let subject = format!("--expect {}", ex.source);
    match ex.protocol {
        None if ex.format == Some(crate::domain::ExpectFormat::Rds)
            && !plan.target.scheme.is_sql() =>
        {
            return Err(InputError::new(&subject, "a Huawei RDS body is for MySQL or PostgreSQL: give a postgres:// or mysql:// TARGET"));
        }
        Some(Scheme::Rediss) if !matches!(plan.target.scheme, Scheme::Rediss | Scheme::Redis) => {
            return Err(InputError::new(
                &subject,
                format!(
                    "describes a Redis database, but the target is {}://",
                    plan.target.scheme.name()
                ),
            ));
        }
        _ => {}
    }
    let rules = &args.rules;
    let flags = rules.validation.is_some()
        || !rules.authorized_subjects.is_empty()
        || rules.config.is_some();
    if let (Some(cfg), false) = (&ex.mtls, flags) {
        let mut policy =
            crate::mtls::policy_from_settings(rules, args.allow_outdated, Some(cfg.clone()))?;
        policy.warn_days = Some(args.warn_days);
        plan.client_policy = Some(policy);
    }
    Ok(())
}

/// Replaces the TLS steps of a report by `skip` when TLS was expected off and refused.
pub(crate) fn skip_tls_steps(checks: &mut Vec<Check>, why: &str) {
    checks.retain(|c| !TLS_STEPS.contains(&c.check));
    for step in TLS_STEPS {
        checks.push(Check::new(step, Status::Skip, why.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::parse;

    fn plan_for(target: &str) -> VerifyPlan {
        let raw = crate::options::RawVerify::new(target);
        crate::plan::verify_plan(&raw, Default::default()).unwrap()
    }

    #[test]
    fn target_from_the_object() {
        let up = parse(
            "u",
            br#"{"database_id":"a","tls":true,"endpoint":"slug-1","port":6380}"#,
            None,
        )
        .unwrap();
        assert_eq!(target_from(&up).unwrap(), "rediss://slug-1.upstash.io:6380");
        let off = parse(
            "u",
            br#"{"database_id":"a","tls":false,"endpoint":"slug-1","port":6380}"#,
            None,
        )
        .unwrap();
        assert_eq!(target_from(&off).unwrap(), "redis://slug-1.upstash.io:6380");
        let own = parse(
            "o",
            br#"{"tls":true,"host":"db","protocol":"postgres"}"#,
            None,
        )
        .unwrap();
        assert_eq!(target_from(&own).unwrap(), "postgres://db:5432");
        let rds = parse("r", br#"{"ssl_option":true}"#, None).unwrap();
        assert!(target_from(&rds).is_err());
    }

    #[test]
    fn endpoint_comparison() {
        let ex = parse(
            "u",
            br#"{"database_id":"a","tls":true,"endpoint":"slug-1","port":6380}"#,
            None,
        )
        .unwrap();
        let e = ex.endpoint.unwrap();
        assert_eq!(
            endpoint_step(&plan_for("rediss://SLUG-1.upstash.io:6380"), &e).status,
            Status::Pass
        );
        let wrong_port = endpoint_step(&plan_for("rediss://slug-1.upstash.io:6379"), &e);
        assert_eq!(wrong_port.status, Status::Fail);
        assert!(
            wrong_port.message.contains("slug-1.upstash.io:6380"),
            "{}",
            wrong_port.message
        );
        assert_eq!(
            endpoint_step(&plan_for("rediss://localhost:6380"), &e).status,
            Status::Fail
        );
    }
}
