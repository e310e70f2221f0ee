//! Audit rows for `discover` targets: the target's own row, then one row per discovered
//! node (named `target/endpoint:port`), for the row-per-target formats (human, JUnit,
//! Markdown) through [`PerNode`], and for the Prometheus sink's `node` series.

use crate::finding::{Check, Status};
use crate::report::audit::{AuditMeta, BundleResult, Sink, Summary, TargetResult};
use crate::report::Verdict;
use crate::step::Step;

fn failed(checks: &[Check]) -> impl Iterator<Item = &Check> {
    checks.iter().filter(|c| c.status == Status::Fail)
}

/// The rows of an audit result: the target itself (with its own policy findings), then one
/// per discovered node, `(node label, row)`; the node rows are named `target/endpoint:port`.
pub fn rows(r: &TargetResult) -> Vec<(Option<String>, TargetResult)> {
    let Some(t) = &r.topology else {
        return vec![(None, r.clone())];
    };
    let own = |id: &str| {
        r.findings
            .iter()
            .filter(|f| f.target == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    // The target's own row: the seed, its findings and the deployment steps; each node
    // answers for itself in its row.
    let findings = own(&r.id);
    let seed_failed = r.report.verdict == Verdict::Fail
        || failed(&t.checks).next().is_some()
        || findings
            .iter()
            .any(|f| f.severity == crate::finding::Severity::Error);
    let mut out = vec![(
        None,
        TargetResult {
            findings,
            verdict: if seed_failed {
                Verdict::Fail
            } else {
                Verdict::Pass
            },
            ..r.clone()
        },
    )];
    for n in &t.nodes {
        let id = format!("{}/{}", r.id, n.label());
        let mut report = n.report.clone();
        // The bus as one step of the node's row.
        if let Some(bus) = &n.bus {
            let why: Vec<String> = failed(&bus.checks)
                .map(|c| format!("{}: {}", c.check, c.message))
                .collect();
            report.checks.push(if why.is_empty() {
                Check::new(
                    Step::ClusterBus,
                    Status::Pass,
                    format!("{} passed", bus.target),
                )
            } else {
                Check::new(Step::ClusterBus, Status::Fail, why.join("\n"))
            });
        }
        let findings = own(&id);
        let policy_failed = findings
            .iter()
            .any(|f| f.severity == crate::finding::Severity::Error);
        let verdict = if n.verdict() == Verdict::Fail || policy_failed {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        out.push((
            Some(n.label()),
            TargetResult {
                id,
                report,
                findings,
                verdict,
                topology: None,
                duration_seconds: r.duration_seconds,
                client_auth_required: None,
            },
        ));
    }
    out
}

/// Wraps a row-per-target sink (human, JUnit, Markdown): each target, then its nodes.
pub struct PerNode(pub Box<dyn Sink>);

impl Sink for PerNode {
    fn begin(&mut self, meta: &AuditMeta) -> std::io::Result<()> {
        self.0.begin(meta)
    }

    fn target(&mut self, r: &TargetResult) -> std::io::Result<()> {
        for (_, row) in rows(r) {
            self.0.target(&row)?;
        }
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> std::io::Result<()> {
        self.0.bundle(b)
    }

    fn finish(&mut self, meta: &AuditMeta, summary: &Summary) -> std::io::Result<()> {
        self.0.finish(meta, summary)
    }
}
