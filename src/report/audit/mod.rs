//! Audit reports: the values every audit sink is fed ([`TargetResult`], [`BundleResult`],
//! [`AuditMeta`], [`Summary`]), the [`Sink`] trait, and the choice of sink per format.
//!
//! One file per format: `human`, `json`, `jsonl`, `junit`, `markdown`, `prometheus`,
//! `html`; `per_node` gives row-per-target formats one row per discovered node. All are
//! fed the same results in inventory order, one at a time, and keep only what their
//! format needs (JUnit, Markdown and HTML need totals before their rows; Prometheus
//! groups series by family; the others write as they go). Every verdict and count they
//! show was decided before (src/audit.rs); they render it.

mod html;
mod human;
mod json;
mod jsonl;
mod junit;
mod markdown;
mod per_node;
mod prometheus;

pub(crate) use json::{BundleJson, TargetJson};
pub(crate) use per_node::rows;

use std::io::{self, Write};

use serde::Serialize;

use crate::check::policy::Policy;
use crate::check::policy::PolicyFinding;
use crate::clock::{self, UnixSeconds};
use crate::domain::AuditFormat;
use crate::finding::{Check, Severity, Status};
use crate::report::{FileReport, Verdict, VerifyReport};

/// One target's result: the verify report (its verdict includes the policy) and the
/// policy findings. Everything decided here was decided in src/audit.rs.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub id: String,
    pub report: VerifyReport,
    pub findings: Vec<PolicyFinding>,
    pub verdict: Verdict,
    /// A step warned or a policy finding is a warning (HTML: "pass with warnings").
    pub warned: bool,
    /// Wall time of the verification (and of the client-auth probe, when the policy asks).
    pub duration_seconds: f64,
    /// Whether the server refuses clients without a certificate, when that is known.
    pub client_auth_required: Option<bool>,
    /// With `discover`: the deployment's steps and nodes (one row per node in the sinks).
    pub topology: Option<crate::report::topology::Topology>,
    /// With `discover`: the outcome of each row the sinks show for this target.
    pub rows: Option<RowVerdicts>,
}

/// The rows of a `discover` target (see `per_node`), decided in src/audit.rs.
#[derive(Debug, Clone)]
pub struct RowVerdicts {
    /// The target's own row: the seed, its own policy findings and the deployment steps.
    pub seed: RowVerdict,
    /// One per node of the topology, in its order: the node, its bus and its findings.
    pub nodes: Vec<RowVerdict>,
}

/// What was decided for one row.
#[derive(Debug, Clone)]
pub struct RowVerdict {
    pub verdict: Verdict,
    /// See [`TargetResult::warned`].
    pub warned: bool,
    /// With `--cluster-bus`: the node's bus, judged as one step of the node's row.
    pub bus: Option<Check>,
}

/// One bundle's result.
#[derive(Debug, Clone)]
pub struct BundleResult {
    pub id: String,
    pub file: FileReport,
    pub errors: Vec<String>,
    pub verdict: Verdict,
}

impl BundleResult {
    /// What failed the bundle, for the sinks that list it: the rules of its error
    /// findings, then its read errors.
    pub fn problems(&self) -> Vec<String> {
        self.file
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.rule.to_string())
            .chain(self.errors.iter().cloned())
            .collect()
    }
}

/// Facts about the run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditMeta {
    pub tool: String,
    pub started: String,
    pub evaluated_at: String,
    pub inventory: String,
    pub policy: Policy,
    pub targets: usize,
    pub bundles: usize,
    /// Not printed: `evaluated_at` as Unix seconds, for the renderers that draw time.
    #[serde(skip)]
    pub evaluated: UnixSeconds,
}

impl AuditMeta {
    /// The run's facts. The caller reads the clock: `started` is when the run began,
    /// `evaluated` the time every check is judged at (`--at`, or `started`).
    /// `counts`: how many targets and bundles the inventory holds.
    pub fn new(
        inventory: &str,
        policy: &Policy,
        counts: (usize, usize),
        started: UnixSeconds,
        evaluated: UnixSeconds,
    ) -> Self {
        AuditMeta {
            tool: format!("tlsprobe {}", env!("CARGO_PKG_VERSION")),
            started: clock::rfc3339(started),
            evaluated_at: clock::rfc3339(evaluated),
            evaluated,
            inventory: inventory.to_string(),
            policy: policy.clone(),
            targets: counts.0,
            bundles: counts.1,
        }
    }
}

/// Totals, counted in src/audit.rs as the results arrive.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub targets: usize,
    pub passed: usize,
    pub failed: usize,
    pub bundles: usize,
    pub bundles_failed: usize,
    /// Not in the JSON: targets that passed with no warning.
    #[serde(skip)]
    pub passed_clean: usize,
    /// Not in the JSON: targets that passed with a warning.
    #[serde(skip)]
    pub passed_with_warnings: usize,
    /// Not in the JSON: bundles without an error.
    #[serde(skip)]
    pub bundles_passed: usize,
}

/// A report being written.
pub trait Sink: Send {
    fn begin(&mut self, meta: &AuditMeta) -> io::Result<()>;
    fn target(&mut self, r: &TargetResult) -> io::Result<()>;
    fn bundle(&mut self, b: &BundleResult) -> io::Result<()>;
    fn finish(&mut self, meta: &AuditMeta, summary: &Summary) -> io::Result<()>;
}

/// The sink for `format`, writing to `out`.
pub fn sink(format: AuditFormat, out: Box<dyn Write + Send>, color: bool) -> Box<dyn Sink> {
    let sink = row_sink(format, out, color);
    match format {
        // One row per discovered node, under its target.
        AuditFormat::Human | AuditFormat::Junit | AuditFormat::Markdown => {
            Box::new(per_node::PerNode(sink))
        }
        _ => sink,
    }
}

fn row_sink(format: AuditFormat, out: Box<dyn Write + Send>, color: bool) -> Box<dyn Sink> {
    match format {
        AuditFormat::Human => Box::new(human::HumanSink::new(out, color)),
        AuditFormat::Json => Box::new(json::JsonSink::new(out)),
        AuditFormat::Jsonl => Box::new(jsonl::JsonlSink::new(out)),
        AuditFormat::Junit => Box::new(junit::JunitSink::new(out)),
        AuditFormat::Markdown => Box::new(markdown::MarkdownSink::new(out)),
        AuditFormat::Prometheus => Box::new(prometheus::PromSink::new(out)),
        AuditFormat::Html => Box::new(html::HtmlSink::new(out)),
    }
}

/// A serialization error as the sinks' I/O error.
fn io_err(e: serde_json::Error) -> io::Error {
    io::Error::other(e)
}

/// Failing steps and error policy rules (`policy:RULE`) of one target.
pub(crate) fn failing_steps(r: &TargetResult) -> Vec<String> {
    let mut v: Vec<String> = r
        .report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.check.to_string())
        .collect();
    v.extend(
        r.findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.target == r.id)
            .map(|f| format!("policy:{}", f.rule)),
    );
    if let Some(t) = &r.topology {
        v.extend(
            t.checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .map(|c| c.check.to_string()),
        );
    }
    v
}

/// Steps that warned and policy findings of warning severity: shown next to each target,
/// so a warning present on every target (the bundle anchor, say) is seen.
pub(crate) fn warning_steps(r: &TargetResult) -> Vec<String> {
    let mut v: Vec<String> = r
        .report
        .checks
        .iter()
        .filter(|c| c.status == Status::Warn)
        .map(|c| c.check.to_string())
        .collect();
    v.extend(
        r.findings
            .iter()
            .filter(|f| f.severity == Severity::Warn)
            .map(|f| format!("policy:{}", f.rule)),
    );
    v
}

/// The leaf's days left, `-` without a chain.
fn leaf_days(r: &VerifyReport) -> String {
    r.chain
        .first()
        .map(|c| c.days_left.to_string())
        .unwrap_or_else(|| "-".into())
}

/// The negotiated TLS version: `none` for a plaintext target, `-` when unknown.
fn tls_version(r: &VerifyReport) -> String {
    r.tls
        .as_ref()
        .and_then(|t| t.version.clone())
        .unwrap_or_else(|| {
            if r.tls.is_none() {
                "none".into()
            } else {
                "-".into()
            }
        })
}
