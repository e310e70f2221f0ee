//! Audit rows for `discover` targets: the target's own row, then one row per discovered
//! node (named `target/endpoint:port`), for the row-per-target formats (human, JUnit,
//! Markdown) through [`PerNode`], and for the Prometheus sink's `node` series.

use crate::report::audit::{AuditMeta, BundleResult, Sink, Summary, TargetResult};

/// The rows of an audit result: the target itself (with its own policy findings), then one
/// per discovered node, `(node label, row)`; the node rows are named `target/endpoint:port`.
/// Each row's verdict was decided with the result ([`TargetResult::rows`]).
pub fn rows(r: &TargetResult) -> Vec<(Option<String>, TargetResult)> {
    let (Some(t), Some(decided)) = (&r.topology, &r.rows) else {
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
    let mut out = vec![(
        None,
        TargetResult {
            findings: own(&r.id),
            verdict: decided.seed.verdict,
            warned: decided.seed.warned,
            ..r.clone()
        },
    )];
    for (n, row) in t.nodes.iter().zip(&decided.nodes) {
        let id = format!("{}/{}", r.id, n.label());
        let mut report = n.report.clone();
        report.checks.extend(row.bus.iter().cloned());
        out.push((
            Some(n.label()),
            TargetResult {
                findings: own(&id),
                id,
                report,
                verdict: row.verdict,
                warned: row.warned,
                topology: None,
                rows: None,
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
