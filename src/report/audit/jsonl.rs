//! `audit --format jsonl`: one JSON object per line, each carrying `schema_version`: a
//! line per target as its result arrives, then a line per bundle. Nothing is kept.

use std::io::{self, Write};

use crate::report::audit::json::{bundle_json, target_json};
use crate::report::audit::{io_err, AuditMeta, BundleResult, Sink, Summary, TargetResult};

pub(super) struct JsonlSink {
    out: Box<dyn Write + Send>,
}

impl JsonlSink {
    pub(super) fn new(out: Box<dyn Write + Send>) -> Self {
        JsonlSink { out }
    }
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
