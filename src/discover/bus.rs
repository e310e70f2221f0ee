//! `--cluster-bus`: a cluster node's bus port (`cport`, by default port + 10000) must speak
//! TLS with a valid certificate for the node's endpoint, and must refuse a connection that
//! brings no client certificate (nodes authenticate each other there with `tls-cluster yes`).
//! Two `tls://` verifications with the same engine: with `--cert`, then without.

use crate::engine;
use crate::finding::{Check, Status};
use crate::plan::VerifyPlan;
use crate::report::VerifyReport;
use crate::step::Step;
use crate::target::Scheme;

/// The bus step id.
pub(crate) const BUS_CLIENT_AUTH: Step = Step::BusClientAuth;

/// Verifies the bus of the node `node` (its per-node plan) at `port`.
pub(crate) async fn verify_bus(node: &VerifyPlan, port: u16) -> VerifyReport {
    let mut p = node.clone();
    p.target.scheme = Scheme::Tls;
    p.target.port = port;
    p.target.db = None;
    p.target.user = None;
    p.target.password = None;
    // The bus speaks no Redis: no credentials, no plaintext probe, one attempt.
    p.password = None;
    p.user = None;
    p.expect_plaintext = None;
    p.client_policy = None;
    p.wait = None;
    let mut anonymous = p.clone();
    anonymous.client = None;
    let (mut report, bare) =
        tokio::join!(engine::verify_target(&p), engine::verify_once(&anonymous));
    report
        .checks
        .push(bus_client_auth(&report, &bare, &p.target.host_port()));
    report.verdict = if report
        .checks
        .iter()
        .any(|c| c.status == crate::finding::Status::Fail)
    {
        crate::report::Verdict::Fail
    } else {
        crate::report::Verdict::Pass
    };
    report
}

fn status<'a>(r: &'a VerifyReport, step: &str) -> Option<&'a Check> {
    r.checks.iter().find(|c| c.check == step)
}

fn first_line(c: &Check) -> &str {
    c.message.lines().next().unwrap_or("")
}

/// Judges the connection made without a client certificate (`bare`), knowing what the one
/// with `--cert` (`with`) saw.
pub(crate) fn bus_client_auth(with: &VerifyReport, bare: &VerifyReport, at: &str) -> Check {
    let passed = |r: &VerifyReport, s: &str| status(r, s).is_some_and(|c| c.status == Status::Pass);
    if !passed(bare, "tcp") {
        return Check::new(
            BUS_CLIENT_AUTH,
            Status::Skip,
            format!(
                "not judged: no TCP connection to the bus at {at} without a client certificate"
            ),
        );
    }
    if let Some(c) = status(bare, "client-cert").filter(|c| c.status == Status::Fail) {
        return Check::new(
            BUS_CLIENT_AUTH,
            Status::Pass,
            format!(
                "a connection without a client certificate was refused: {}",
                first_line(c)
            ),
        );
    }
    if let Some(c) = status(bare, "tls-handshake").filter(|c| c.status == Status::Fail) {
        return if passed(with, "tls-handshake") {
            Check::new(
                BUS_CLIENT_AUTH,
                Status::Pass,
                format!("a connection without a client certificate was refused during the handshake: {}", first_line(c)),
            )
        } else {
            Check::new(
                BUS_CLIENT_AUTH,
                Status::Skip,
                "not judged: the TLS handshake failed with and without a client certificate",
            )
        };
    }
    Check::new(
        BUS_CLIENT_AUTH,
        Status::Fail,
        format!(
            "the cluster bus at {at} served a TLS session without a client certificate: any host that reaches this port can speak the cluster bus protocol\n\
             fix: serve the bus from redis-server with tls-cluster yes (it requires a client certificate there), and check what listens on the announced bus port (cluster-announce-bus-port)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Verdict;

    fn report(steps: &[(Step, Status, &str)]) -> VerifyReport {
        let checks = steps
            .iter()
            .map(|(s, st, m)| Check::new(*s, *st, *m))
            .collect();
        VerifyReport::of_checks("tls://127.0.0.1:17000".into(), Verdict::Pass, checks)
    }

    #[test]
    fn refused_without_a_client_certificate_passes() {
        let with = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Pass, ""),
        ]);
        let bare = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Pass, ""),
            (
                Step::ClientCert,
                Status::Fail,
                "the server requires a client certificate\nhint",
            ),
        ]);
        let c = bus_client_auth(&with, &bare, "127.0.0.1:17000");
        assert_eq!(c.status, Status::Pass, "{}", c.message);
        assert!(!c.message.contains("hint"));
        let bare = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Fail, "alert"),
        ]);
        assert_eq!(bus_client_auth(&with, &bare, "x").status, Status::Pass);
    }

    #[test]
    fn served_without_a_client_certificate_fails() {
        let with = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Pass, ""),
        ]);
        let bare = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Pass, ""),
            (
                Step::ClientCert,
                Status::Pass,
                "the server did not ask for a client certificate",
            ),
        ]);
        let c = bus_client_auth(&with, &bare, "127.0.0.1:17000");
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("127.0.0.1:17000"), "{}", c.message);
    }

    #[test]
    fn nothing_to_judge_is_a_skip() {
        let down = report(&[(Step::Tcp, Status::Fail, "refused")]);
        assert_eq!(bus_client_auth(&down, &down, "x").status, Status::Skip);
        let bad = report(&[
            (Step::Tcp, Status::Pass, ""),
            (Step::TlsHandshake, Status::Fail, "not TLS"),
        ]);
        assert_eq!(bus_client_auth(&bad, &bad, "x").status, Status::Skip);
    }
}
