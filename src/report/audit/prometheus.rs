//! `audit --format prometheus`: a textfile-collector exposition of every target (the
//! probe families of `report::prometheus` with a `target` label, and a `node` label for
//! each discovered node) and `tlsprobe_bundle_ok` per bundle.

use std::io::{self, Write};

use crate::report::audit::{AuditMeta, BundleResult, Sink, Summary, TargetResult};
use crate::report::{prometheus, Verdict};

/// `--format prometheus`: the probe families of [`crate::report::prometheus`] with a
/// `target` label, and `tlsprobe_bundle_ok{bundle}`. Prometheus' format groups series by
/// family, so the series are kept until the end.
pub(super) struct PromSink {
    out: Box<dyn Write + Send>,
    exp: prometheus::Exposition,
}

const BUNDLE_OK: prometheus::FamilyDef = prometheus::FamilyDef {
    name: "tlsprobe_bundle_ok",
    kind: prometheus::Kind::Gauge,
    help: "1 when the bundle has no error finding",
};

impl PromSink {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Self {
        let mut exp = prometheus::Exposition::new(prometheus::FAMILIES);
        exp.declare(BUNDLE_OK);
        PromSink { out, exp }
    }
}

impl Sink for PromSink {
    fn begin(&mut self, _meta: &AuditMeta) -> io::Result<()> {
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        prometheus::add_probe(&mut self.exp, &[("target", r.id.clone())], r);
        if let Some(t) = &r.topology {
            // The deployment's own steps (cluster-health, discover) on the target.
            prometheus::add_steps(&mut self.exp, &[("target", r.id.clone())], &t.checks);
        }
        // verify --discover in audit: each node's series with a `node` label.
        for (node, row) in crate::report::audit::rows(r).iter().skip(1) {
            let labels = [
                ("target", r.id.clone()),
                ("node", node.clone().unwrap_or_default()),
            ];
            prometheus::add_probe(&mut self.exp, &labels, row);
        }
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        let ok = if b.verdict == Verdict::Pass { 1.0 } else { 0.0 };
        self.exp
            .add(BUNDLE_OK.name, "", &[("bundle", b.id.clone())], ok);
        Ok(())
    }

    fn finish(&mut self, _meta: &AuditMeta, _s: &Summary) -> io::Result<()> {
        self.out.write_all(self.exp.render().as_bytes())?;
        self.out.flush()
    }
}
