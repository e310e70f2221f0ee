//! Audit reports: one streaming sink per format, all fed the same results in inventory
//! order. A sink keeps only what its format needs (JUnit and Markdown need totals before
//! their rows; Prometheus keeps one gauge per series; the others write as they go).

use std::io::{self, Write};

use serde::Serialize;

use crate::check::policy::PolicyFinding;
use crate::clock::{self, UnixSeconds};
use crate::domain::AuditFormat;
use crate::finding::{Finding, Severity, Status};
use crate::inventory::{Inventory, Policy};
use crate::report::{prometheus, FileReport, Verdict, VerifyReport};

/// One target's result: the verify report (its verdict includes the policy) and the
/// policy findings.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub id: String,
    pub report: VerifyReport,
    pub findings: Vec<PolicyFinding>,
    pub verdict: Verdict,
    /// Wall time of the verification (and of the client-auth probe, when the policy asks).
    pub duration_seconds: f64,
    /// Whether the server refuses clients without a certificate, when that is known.
    pub client_auth_required: Option<bool>,
    /// With `discover`: the deployment's steps and nodes (one row per node in the sinks).
    pub topology: Option<crate::report::topology::Topology>,
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
    pub fn new(id: &str, file: FileReport, errors: Vec<String>) -> Self {
        let bad = !errors.is_empty() || file.findings.iter().any(|f| f.severity == Severity::Error);
        BundleResult {
            id: id.to_string(),
            file,
            errors,
            verdict: if bad { Verdict::Fail } else { Verdict::Pass },
        }
    }

    pub fn unreadable(id: &str, path: &str, error: &str) -> Self {
        let file = FileReport {
            path: path.to_string(),
            certificates: vec![],
            other_blocks: vec![],
            findings: vec![],
        };
        BundleResult {
            id: id.to_string(),
            file,
            errors: vec![error.to_string()],
            verdict: Verdict::Fail,
        }
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
}

impl AuditMeta {
    pub fn new(inv: &Inventory, at: Option<UnixSeconds>) -> Self {
        let now = clock::now();
        AuditMeta {
            tool: format!("tlsprobe {}", env!("CARGO_PKG_VERSION")),
            started: clock::rfc3339(now),
            evaluated_at: clock::rfc3339(at.unwrap_or(now)),
            inventory: inv.path.clone(),
            policy: inv.policy.clone(),
            targets: inv.targets.len(),
            bundles: inv.bundles.len(),
        }
    }
}

/// Totals.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Summary {
    pub targets: usize,
    pub passed: usize,
    pub failed: usize,
    pub bundles: usize,
    pub bundles_failed: usize,
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
            Box::new(crate::report::topology::PerNode(sink))
        }
        _ => sink,
    }
}

fn row_sink(format: AuditFormat, out: Box<dyn Write + Send>, color: bool) -> Box<dyn Sink> {
    match format {
        AuditFormat::Human => Box::new(HumanSink {
            out,
            color,
            findings: vec![],
            bundle_findings: vec![],
            header_done: false,
        }),
        AuditFormat::Json => Box::new(JsonSink {
            out,
            in_targets: false,
            first: true,
            bundles_open: false,
            findings: vec![],
        }),
        AuditFormat::Jsonl => Box::new(JsonlSink { out }),
        AuditFormat::Junit => Box::new(JunitSink {
            out,
            cases: String::new(),
            tests: 0,
            failures: 0,
        }),
        AuditFormat::Markdown => Box::new(MarkdownSink {
            out,
            rows: String::new(),
            bundle_rows: String::new(),
            findings: vec![],
        }),
        AuditFormat::Prometheus => Box::new(PromSink::new(out)),
        AuditFormat::Html => Box::new(crate::report::html::HtmlSink::new(out)),
    }
}

/// `{"id", ...verify object}` with the audit verdict.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct TargetJson<'a> {
    id: &'a str,
    #[serde(flatten)]
    report: &'a VerifyReport,
    policy_findings: &'a [PolicyFinding],
    #[serde(skip_serializing_if = "Option::is_none")]
    topology: Option<&'a crate::report::topology::Topology>,
}

/// A target's JSON object; `versioned` (a JSON line) adds `schema_version`.
fn target_json(r: &TargetResult, versioned: bool) -> serde_json::Result<String> {
    let mut report = r.report.clone();
    report.verdict = r.verdict;
    let t = TargetJson {
        id: &r.id,
        report: &report,
        policy_findings: &r.findings,
        topology: r.topology.as_ref(),
    };
    if versioned {
        serde_json::to_string(&crate::report::schema::Versioned::new(&t))
    } else {
        serde_json::to_string(&t)
    }
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct BundleJson<'a> {
    id: &'a str,
    verdict: Verdict,
    #[serde(flatten)]
    file: &'a FileReport,
    errors: &'a [String],
}

/// A bundle's JSON object; `versioned` (a JSON line) adds `schema_version`.
fn bundle_json(b: &BundleResult, versioned: bool) -> serde_json::Result<String> {
    let j = BundleJson {
        id: &b.id,
        verdict: b.verdict,
        file: &b.file,
        errors: &b.errors,
    };
    if versioned {
        serde_json::to_string(&crate::report::schema::Versioned::new(&j))
    } else {
        serde_json::to_string(&j)
    }
}

fn io_err(e: serde_json::Error) -> io::Error {
    io::Error::other(e)
}

struct JsonSink {
    out: Box<dyn Write + Send>,
    in_targets: bool,
    first: bool,
    bundles_open: bool,
    findings: Vec<PolicyFinding>,
}

impl Sink for JsonSink {
    fn begin(&mut self, _meta: &AuditMeta) -> io::Result<()> {
        self.in_targets = true;
        write!(
            self.out,
            "{{\"schema_version\":{},\"targets\":[",
            crate::report::schema::SCHEMA_VERSION
        )
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.findings.extend(r.findings.iter().cloned());
        self.out.write_all(b"\n")?;
        self.out
            .write_all(target_json(r, false).map_err(io_err)?.as_bytes())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        if !self.bundles_open {
            self.out.write_all(b"],\"bundles\":[")?;
            self.bundles_open = true;
            self.first = true;
        }
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        self.out.write_all(b"\n")?;
        self.out
            .write_all(bundle_json(b, false).map_err(io_err)?.as_bytes())
    }

    fn finish(&mut self, meta: &AuditMeta, summary: &Summary) -> io::Result<()> {
        if !self.bundles_open {
            self.out.write_all(b"],\"bundles\":[")?;
        }
        self.out.write_all(b"],\n\"policy_findings\":")?;
        self.out.write_all(
            serde_json::to_string(&self.findings)
                .map_err(io_err)?
                .as_bytes(),
        )?;
        self.out.write_all(b",\n\"summary\":")?;
        self.out
            .write_all(serde_json::to_string(summary).map_err(io_err)?.as_bytes())?;
        self.out.write_all(b",\n\"meta\":")?;
        self.out
            .write_all(serde_json::to_string(meta).map_err(io_err)?.as_bytes())?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

struct JsonlSink {
    out: Box<dyn Write + Send>,
}

impl Sink for JsonlSink {
    fn begin(&mut self, _meta: &AuditMeta) -> io::Result<()> {
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        writeln!(self.out, "{}", target_json(r, true).map_err(io_err)?)
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        writeln!(self.out, "{}", bundle_json(b, true).map_err(io_err)?)
    }

    fn finish(&mut self, _meta: &AuditMeta, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
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

fn leaf_days(r: &VerifyReport) -> String {
    r.chain
        .first()
        .map(|c| c.days_left.to_string())
        .unwrap_or_else(|| "-".into())
}

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

struct HumanSink {
    out: Box<dyn Write + Send>,
    color: bool,
    findings: Vec<PolicyFinding>,
    bundle_findings: Vec<(String, Finding)>,
    header_done: bool,
}

impl HumanSink {
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
        let warnings = warning_steps(r);
        if !warnings.is_empty() {
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
        }
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        let v = self.verdict(b.verdict);
        let errors: Vec<String> = b
            .file
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.rule.to_string())
            .chain(b.errors.iter().cloned())
            .collect();
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

struct JunitSink {
    out: Box<dyn Write + Send>,
    cases: String,
    tests: usize,
    failures: usize,
}

fn xml(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

impl Sink for JunitSink {
    fn begin(&mut self, _meta: &AuditMeta) -> io::Result<()> {
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        self.tests += 1;
        let secs: f64 = r.report.checks.iter().map(|c| c.ms).sum::<f64>() / 1000.0;
        self.cases.push_str(&format!(
            "  <testcase classname=\"tlsprobe.target\" name=\"{}\" time=\"{secs:.3}\">\n",
            xml(&r.id)
        ));
        if r.verdict == Verdict::Fail {
            self.failures += 1;
            let mut body = String::new();
            for c in r.report.checks.iter().filter(|c| c.status == Status::Fail) {
                body.push_str(&format!("{}: {}\n", c.check, c.message));
            }
            for f in r.findings.iter().filter(|f| f.severity == Severity::Error) {
                body.push_str(&format!("policy {}: {}\n", f.rule, f.message));
            }
            let first = failing_steps(r).join(", ");
            self.cases.push_str(&format!(
                "    <failure message=\"{}\" type=\"tlsprobe\">{}</failure>\n",
                xml(&first),
                xml(&body)
            ));
        }
        self.cases.push_str(&format!(
            "    <system-out>{}</system-out>\n  </testcase>\n",
            xml(&r.report.target)
        ));
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        self.tests += 1;
        self.cases.push_str(&format!(
            "  <testcase classname=\"tlsprobe.bundle\" name=\"{}\" time=\"0\">\n",
            xml(&b.id)
        ));
        if b.verdict == Verdict::Fail {
            self.failures += 1;
            let mut body = String::new();
            for e in &b.errors {
                body.push_str(&format!("{e}\n"));
            }
            for f in b
                .file
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
            {
                body.push_str(&format!("{}: {}\n", f.rule, f.message));
            }
            self.cases.push_str(&format!(
                "    <failure message=\"bundle checks failed\" type=\"tlsprobe\">{}</failure>\n",
                xml(&body)
            ));
        }
        self.cases.push_str("  </testcase>\n");
        Ok(())
    }

    fn finish(&mut self, meta: &AuditMeta, _s: &Summary) -> io::Result<()> {
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            self.out,
            "<testsuites name=\"tlsprobe audit\" tests=\"{}\" failures=\"{}\">",
            self.tests, self.failures
        )?;
        writeln!(
            self.out,
            "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" timestamp=\"{}\">",
            xml(&meta.inventory),
            self.tests,
            self.failures,
            xml(&meta.started)
        )?;
        self.out.write_all(self.cases.as_bytes())?;
        writeln!(self.out, "</testsuite>\n</testsuites>")?;
        self.out.flush()
    }
}

struct MarkdownSink {
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
        let bad: Vec<String> = b
            .file
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.rule.to_string())
            .chain(b.errors.iter().cloned())
            .collect();
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
            if p.min_tls_version == crate::inventory::TlsVersionReq::V1_3 { "1.3" } else { "1.2" },
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
            s.bundles,
            s.bundles - s.bundles_failed,
            s.bundles_failed
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

/// `--format prometheus`: the probe families of [`crate::report::prometheus`] with a
/// `target` label, and `tlsprobe_bundle_ok{bundle}`. Prometheus' format groups series by
/// family, so the series are kept until the end.
struct PromSink {
    out: Box<dyn Write + Send>,
    exp: prometheus::Exposition,
}

const BUNDLE_OK: prometheus::FamilyDef = prometheus::FamilyDef {
    name: "tlsprobe_bundle_ok",
    kind: prometheus::Kind::Gauge,
    help: "1 when the bundle has no error finding",
};

impl PromSink {
    fn new(out: Box<dyn Write + Send>) -> Self {
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
        for (node, row) in crate::report::topology::rows(r).iter().skip(1) {
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
