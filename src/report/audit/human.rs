//! `audit --format human`: a line per target (verdict, TLS version, leaf days left,
//! failing steps) as results arrive, warnings under their target, then the findings
//! grouped by rule and the totals. Only the findings are kept until the end.

use std::io::{self, Write};

use crate::check::policy::PolicyFinding;
use crate::finding::{Finding, Status};
use crate::report::audit::{
    failing_steps, leaf_days, tls_version, AuditMeta, BundleResult, Sink, Summary, TargetResult,
};
use crate::report::Verdict;

pub(super) struct HumanSink {
    out: Box<dyn Write + Send>,
    color: bool,
    findings: Vec<PolicyFinding>,
    bundle_findings: Vec<(String, Finding)>,
    header_done: bool,
}

impl HumanSink {
    pub(super) fn new(out: Box<dyn Write + Send>, color: bool) -> Self {
        HumanSink {
            out,
            color,
            findings: vec![],
            bundle_findings: vec![],
            header_done: false,
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let st = crate::report::Style { color: self.color };
        match v {
            Verdict::Pass => st.status(Status::Pass, "pass"),
            Verdict::Fail => st.status(Status::Fail, "FAIL"),
        }
    }
}

impl Sink for HumanSink {
    fn begin(&mut self, meta: &AuditMeta) -> io::Result<()> {
        writeln!(
            self.out,
            "tlsprobe audit {} ({} targets, {} bundles)",
            meta.inventory, meta.targets, meta.bundles
        )?;
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        if !self.header_done {
            writeln!(
                self.out,
                "\n{:<7} {:<28} {:<8} {:>9}  failing",
                "verdict", "target", "tls", "days left"
            )?;
            self.header_done = true;
        }
        self.findings.extend(r.findings.iter().cloned());
        let v = self.verdict(r.verdict);
        writeln!(
            self.out,
            "{v:<7} {:<28} {:<8} {:>9}  {}",
            r.id,
            tls_version(&r.report),
            leaf_days(&r.report),
            failing_steps(r).join(", ")
        )?;
        // Each warning step under its target, so that a warning on every target is seen.
        for c in r.report.checks.iter().filter(|c| c.status == Status::Warn) {
            writeln!(
                self.out,
                "{:<7} {:<28} warn {}: {}",
                "",
                "",
                c.check,
                c.message.lines().next().unwrap_or("")
            )?;
        }
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        let v = self.verdict(b.verdict);
        let errors = b.problems();
        writeln!(
            self.out,
            "{v:<7} bundle {:<21} {} certificates  {}",
            b.id,
            b.file.certificates.len(),
            errors.join(", ")
        )?;
        self.bundle_findings
            .extend(b.file.findings.iter().map(|f| (b.id.clone(), f.clone())));
        Ok(())
    }

    fn finish(&mut self, _meta: &AuditMeta, s: &Summary) -> io::Result<()> {
        let mut rules: Vec<&'static str> = self
            .findings
            .iter()
            .map(|f| f.rule)
            .chain(self.bundle_findings.iter().map(|(_, f)| f.rule))
            .collect();
        rules.sort_unstable();
        rules.dedup();
        if !rules.is_empty() {
            writeln!(self.out, "\nfindings by rule")?;
        }
        for rule in rules {
            writeln!(self.out, "  {rule}")?;
            for f in self.findings.iter().filter(|f| f.rule == rule) {
                writeln!(
                    self.out,
                    "    {:<5} {}: {}",
                    f.severity.as_str(),
                    f.target,
                    f.message
                )?;
            }
            for (id, f) in self.bundle_findings.iter().filter(|(_, f)| f.rule == rule) {
                writeln!(
                    self.out,
                    "    {:<5} {id}: {}",
                    f.severity.as_str(),
                    f.message
                )?;
            }
        }
        writeln!(
            self.out,
            "\n{} targets: {} passed, {} failed; {} bundles: {} failed",
            s.targets, s.passed, s.failed, s.bundles, s.bundles_failed
        )?;
        self.out.flush()
    }
}
