//! Reports: the values every renderer reads, and the renderers (one per format).
//!
//! Renderers only read; they never judge. Human output is coloured as the [`Style`] they
//! are given says (`plan::Console` decides it once per run: a terminal, no `NO_COLOR`).

pub mod audit;
pub mod chain;
pub mod human;
pub mod json;
pub mod mtls;
pub(crate) mod prometheus;
pub(crate) mod schema;
pub(crate) mod topology;

use serde::Serialize;

use crate::finding::{Check, Finding, Severity, Status};
use crate::pki::describe::CertInfo;

/// The result of `tlsprobe inspect`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InspectReport {
    pub files: Vec<FileReport>,
}

/// One file as inspected.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FileReport {
    pub path: String,
    pub certificates: Vec<CertInfo>,
    pub other_blocks: Vec<OtherBlockInfo>,
    pub findings: Vec<Finding>,
}

/// A non-certificate PEM block: its position and label only (never its contents).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OtherBlockInfo {
    pub index: usize,
    pub label: String,
}

/// One fact that differs from a `--baseline` (or appeared, or went away); computed by
/// `baseline`, carried by the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// What changed, e.g. `leaf.sha256`, `anchor`, `plaintext.6379`.
    pub fact: String,
    /// `None`: the fact is new.
    pub before: Option<String>,
    /// `None`: the fact went away.
    pub after: Option<String>,
}

/// The result of `tlsprobe verify` for one target.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct VerifyReport {
    pub target: String,
    pub verdict: Verdict,
    pub checks: Vec<Check>,
    pub tls: Option<TlsFacts>,
    pub chain: Vec<CertInfo>,
    pub anchor: Option<AnchorInfo>,
    pub ping: Option<PingInfo>,
    /// One entry per port probed for plaintext (the target's own and `--plaintext-port`s).
    pub plaintext: Vec<PlaintextInfo>,
    pub attempts: u32,
    /// `--baseline`: what changed since the earlier report (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    /// Not printed: the verified path's certificates (leaf first), for policies and metrics.
    #[serde(skip)]
    pub verified_path: Vec<CertInfo>,
    /// Not printed: the negotiated parameters, typed (`None`: a plaintext target).
    #[serde(skip)]
    pub negotiated: Option<crate::check::policy::TlsFacts>,
    /// Not printed: the server answered a command with NOAUTH.
    #[serde(skip)]
    pub asked_for_auth: bool,
    /// Not printed (the JSON has no client section): notAfter of the configured client
    /// certificate's leaf, Unix seconds, for metrics.
    #[serde(skip)]
    pub client_not_after: Option<crate::clock::UnixSeconds>,
}

impl VerifyReport {
    /// A report of only `checks` for `target`: nothing was observed beyond them (a node
    /// that could not be verified at all).
    pub fn of_checks(target: String, verdict: Verdict, checks: Vec<Check>) -> Self {
        VerifyReport {
            target,
            verdict,
            checks,
            tls: None,
            chain: vec![],
            anchor: None,
            ping: None,
            plaintext: vec![],
            changes: None,
            attempts: 1,
            verified_path: vec![],
            negotiated: None,
            asked_for_auth: false,
            client_not_after: None,
        }
    }

    /// Verdict from the steps: any failure fails the target.
    pub fn verdict_of(checks: &[Check]) -> Verdict {
        if checks.iter().any(|c| c.status == Status::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// The typed facts the audit policy judges.
    pub fn policy_facts(&self) -> crate::check::policy::TargetFacts<'_> {
        crate::check::policy::TargetFacts {
            tls: self.negotiated,
            certs: if self.verified_path.is_empty() {
                &self.chain
            } else {
                &self.verified_path
            },
            checks: &self.checks,
            asked_for_auth: self.asked_for_auth,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// What the handshake showed, judged or not.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct TlsFacts {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub sni: Option<String>,
    pub client_cert_requested: bool,
    pub acceptable_ca_names: Vec<String>,
}

pub use crate::pki::trust::AnchorInfo;

/// What one port answered to a plaintext attempt.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlaintextInfo {
    pub port: u16,
    /// `served`, `refused`, or `inconclusive` (the answer does not tell).
    pub answer: &'static str,
    /// The server's words, or how the connection ended.
    pub detail: String,
    pub ms: f64,
}

impl PlaintextInfo {
    pub fn from_evidence(port: u16, ev: &crate::evidence::PlaintextEvidence) -> Self {
        use crate::evidence::PlainSqlAnswer as A;
        let (answer, detail) = match &ev.outcome {
            Ok(A::Served(w)) => ("served", w.clone()),
            Ok(A::Refused(w)) => ("refused", w.clone()),
            Ok(A::Inconclusive(w)) => ("inconclusive", w.clone()),
            Err(f) => ("refused", f.describe()),
        };
        PlaintextInfo {
            port,
            answer,
            detail,
            ms: (ev.ms * 100.0).round() / 100.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PingInfo {
    pub reply: String,
    pub ms: f64,
}

impl FileReport {
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Terminal styling: ANSI colour when enabled, plain text otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn plain() -> Self {
        Style { color: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }

    pub fn severity(&self, sev: Severity, s: &str) -> String {
        match sev {
            Severity::Error => self.paint("1;31", s),
            Severity::Warn => self.paint("33", s),
            Severity::Info => self.paint("36", s),
        }
    }

    pub fn status(&self, st: Status, s: &str) -> String {
        match st {
            Status::Pass => self.paint("32", s),
            Status::Warn => self.paint("33", s),
            Status::Fail => self.paint("1;31", s),
            Status::Skip => self.paint("2", s),
        }
    }

    /// Days left: red when expired, yellow under `warn_days`, green otherwise.
    pub fn days(&self, days: i64, warn_days: i64, s: &str) -> String {
        if days < 0 {
            self.paint("1;31", s)
        } else if days < warn_days {
            self.paint("33", s)
        } else {
            self.paint("32", s)
        }
    }
}
