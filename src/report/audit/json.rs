//! `audit --format json`: one JSON document, streamed: the targets array is written as
//! results arrive, then the bundles, the policy findings, the summary and the run's meta.
//! Only the policy findings are kept until the end (their array follows the targets).
//!
//! The target and bundle objects are shared with `--format jsonl` ([`target_json`],
//! [`bundle_json`]); their schema is in `report::schema`.

use std::io::{self, Write};

use serde::Serialize;

use crate::check::policy::PolicyFinding;
use crate::report::audit::{io_err, AuditMeta, BundleResult, Sink, Summary, TargetResult};
use crate::report::{FileReport, Verdict, VerifyReport};

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
pub(super) fn target_json(r: &TargetResult, versioned: bool) -> serde_json::Result<String> {
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
pub(super) fn bundle_json(b: &BundleResult, versioned: bool) -> serde_json::Result<String> {
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

pub(super) struct JsonSink {
    out: Box<dyn Write + Send>,
    in_targets: bool,
    first: bool,
    bundles_open: bool,
    findings: Vec<PolicyFinding>,
}

impl JsonSink {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Self {
        JsonSink {
            out,
            in_targets: false,
            first: true,
            bundles_open: false,
            findings: vec![],
        }
    }
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
