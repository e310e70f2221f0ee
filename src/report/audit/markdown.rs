//! `audit --format markdown`: the compliance report as Markdown: the run and its policy,
//! the totals, the target and bundle tables, the findings. The totals come first, so the
//! table rows are kept as text until the end.

use std::io::{self, Write};

use crate::report::audit::{
    failing_steps, leaf_days, tls_version, warning_steps, AuditMeta, BundleResult, Sink, Summary,
    TargetResult,
};
use crate::report::Verdict;

pub(super) struct MarkdownSink {
    out: Box<dyn Write + Send>,
    rows: String,
    bundle_rows: String,
    findings: Vec<(String, String, String, String)>,
}

/// Escapes a Markdown table cell.
fn md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

impl MarkdownSink {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Self {
        MarkdownSink {
            out,
            rows: String::new(),
            bundle_rows: String::new(),
            findings: vec![],
        }
    }
}

impl Sink for MarkdownSink {
    fn begin(&mut self, _meta: &AuditMeta) -> io::Result<()> {
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        let verdict = if r.verdict == Verdict::Pass {
            "pass"
        } else {
            "**FAIL**"
        };
        self.rows.push_str(&format!(
            "| {} | {verdict} | {} | {} | {} | {} |\n",
            md(&r.id),
            md(&tls_version(&r.report)),
            leaf_days(&r.report),
            md(&failing_steps(r).join(", ")),
            md(&warning_steps(r).join(", "))
        ));
        for f in &r.findings {
            self.findings.push((
                f.rule.to_string(),
                f.severity.as_str().to_string(),
                r.id.clone(),
                f.message.clone(),
            ));
        }
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        let verdict = if b.verdict == Verdict::Pass {
            "pass"
        } else {
            "**FAIL**"
        };
        let bad = b.problems();
        self.bundle_rows.push_str(&format!(
            "| {} | {verdict} | {} | {} |\n",
            md(&b.id),
            b.file.certificates.len(),
            md(&bad.join(", "))
        ));
        for f in &b.file.findings {
            self.findings.push((
                f.rule.to_string(),
                f.severity.as_str().to_string(),
                b.id.clone(),
                f.message.clone(),
            ));
        }
        Ok(())
    }

    fn finish(&mut self, meta: &AuditMeta, s: &Summary) -> io::Result<()> {
        let p = &meta.policy;
        writeln!(self.out, "# TLS compliance report\n")?;
        writeln!(self.out, "- Generated: {} by {}", meta.started, meta.tool)?;
        writeln!(self.out, "- Evaluated at: {}", meta.evaluated_at)?;
        writeln!(self.out, "- Inventory: `{}`", meta.inventory)?;
        writeln!(
            self.out,
            "- Policy: min TLS {}, warn {} days, fail {} days, RSA >= {}, EC >= {}, SHA-1 {}, client auth {}, plaintext refused {}{}",
            if p.min_tls_version == crate::check::policy::TlsVersionReq::V1_3 { "1.3" } else { "1.2" },
            p.warn_days,
            p.fail_days,
            p.min_rsa_bits,
            p.min_ec_bits,
            if p.forbid_sha1 { "forbidden" } else { "allowed" },
            if p.require_client_auth { "required" } else { "not required" },
            if p.require_plaintext_refused { "required" } else { "not required" },
            p.allowed_cipher_suites.as_ref().map(|c| format!(", cipher suites {}", c.join(" "))).unwrap_or_default()
        )?;
        writeln!(self.out, "\n## Totals\n")?;
        writeln!(self.out, "| | total | passed | failed |\n|---|---|---|---|")?;
        writeln!(
            self.out,
            "| targets | {} | {} | {} |",
            s.targets, s.passed, s.failed
        )?;
        writeln!(
            self.out,
            "| bundles | {} | {} | {} |",
            s.bundles, s.bundles_passed, s.bundles_failed
        )?;
        if s.targets > 0 {
            writeln!(self.out, "\n## Targets\n\n| target | verdict | TLS | days left (leaf) | failing | warnings |\n|---|---|---|---|---|---|")?;
            self.out.write_all(self.rows.as_bytes())?;
        }
        if s.bundles > 0 {
            writeln!(
                self.out,
                "\n## Bundles\n\n| bundle | verdict | certificates | errors |\n|---|---|---|---|"
            )?;
            self.out.write_all(self.bundle_rows.as_bytes())?;
        }
        if !self.findings.is_empty() {
            self.findings.sort();
            writeln!(
                self.out,
                "\n## Findings\n\n| rule | severity | subject | message |\n|---|---|---|---|"
            )?;
            for (rule, sev, id, msg) in &self.findings {
                writeln!(
                    self.out,
                    "| {} | {sev} | {} | {} |",
                    md(rule),
                    md(id),
                    md(msg)
                )?;
            }
        }
        self.out.flush()
    }
}
