//! `audit --format junit`: one `<testcase>` per target and per bundle, a `<failure>` for
//! each failing one. The `<testsuite>` element carries the totals, so the cases are kept
//! as text until the end.

use std::io::{self, Write};

use crate::finding::{Severity, Status};
use crate::report::audit::{failing_steps, AuditMeta, BundleResult, Sink, Summary, TargetResult};
use crate::report::Verdict;

pub(super) struct JunitSink {
    out: Box<dyn Write + Send>,
    cases: String,
    tests: usize,
    failures: usize,
}

fn xml(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

impl JunitSink {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Self {
        JunitSink {
            out,
            cases: String::new(),
            tests: 0,
            failures: 0,
        }
    }
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
