//! Prometheus text exposition: the metric families of one probe, defined once and shared
//! by `tlsprobe exporter` (`/probe`, one target, no `target` label) and
//! `audit --format prometheus` (every target, with a `target` label).
//!
//! The blackbox-compatible families (`probe_*`) keep blackbox_exporter's names and labels
//! so that existing dashboards and alerts work; the `tlsprobe_*` families carry what only
//! tlsprobe observes. Series come out in the order they were added (inventory order for
//! audit), families in the order of [`FAMILIES`]: the output is deterministic.
//!
//! Labels hold only certificate facts, step ids, versions, ports and file names, each
//! bounded in length: never a password, a key, or a step's free-text message.

use std::fmt::Write as _;

use crate::finding::Status;
use crate::report::audit::TargetResult;
use crate::report::Verdict;

/// The longest label value written; longer values (a certificate with thousands of
/// names) are cut at a character boundary and end in `...`.
const MAX_LABEL_CHARS: usize = 512;

/// How a family is declared in `# TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Gauge,
    Counter,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// A family's name, type and help text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FamilyDef {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

const fn gauge(name: &'static str, help: &'static str) -> FamilyDef {
    FamilyDef {
        name,
        kind: Kind::Gauge,
        help,
    }
}

/// The families of one probe, in output order. The names are a contract (README,
/// examples/prometheus/alerts.yml): keep them.
pub(crate) const FAMILIES: &[FamilyDef] = &[
    gauge("probe_success", "1 when every step and the module's policy passed"),
    gauge("probe_duration_seconds", "How long the probe took"),
    gauge(
        "probe_ssl_earliest_cert_expiry",
        "Earliest notAfter of the presented certificate chain, Unix seconds",
    ),
    gauge(
        "probe_ssl_last_chain_expiry_timestamp_seconds",
        "Earliest notAfter of the verified path, Unix seconds (absent when nothing verified)",
    ),
    gauge(
        "probe_ssl_last_chain_info",
        "The presented leaf certificate: fingerprint, subject, issuer, names, serial",
    ),
    gauge("probe_tls_version_info", "The negotiated TLS version"),
    gauge("probe_tls_cipher_info", "The negotiated cipher suite"),
    gauge(
        "tlsprobe_step_success",
        "1 when the step passed or warned, 0 when it failed (absent when skipped)",
    ),
    gauge(
        "tlsprobe_step_warning",
        "1 when the step warned, 0 otherwise (absent when skipped)",
    ),
    gauge(
        "tlsprobe_client_cert_expiry_timestamp_seconds",
        "notAfter of the configured client certificate, Unix seconds",
    ),
    gauge(
        "tlsprobe_anchor_info",
        "The trusted certificate that anchored the verified path",
    ),
    gauge(
        "tlsprobe_plaintext_refused",
        "1 when a plaintext connection to the port was refused, 0 when it was served",
    ),
    gauge(
        "tlsprobe_client_auth_required",
        "1 when the server refuses clients without a certificate, 0 when it serves them (absent when unknown)",
    ),
];

/// Label pairs of one series.
pub(crate) type Labels = Vec<(&'static str, String)>;

/// Families being filled, then written in one go.
#[derive(Debug, Default)]
pub(crate) struct Exposition {
    families: Vec<(FamilyDef, Vec<String>)>,
}

impl Exposition {
    /// An exposition whose families come out in the order of `defs`.
    pub(crate) fn new(defs: &[FamilyDef]) -> Self {
        Exposition {
            families: defs.iter().map(|d| (*d, Vec::new())).collect(),
        }
    }

    /// Adds a family at the end (declared even before it has a series).
    pub(crate) fn declare(&mut self, def: FamilyDef) {
        if !self.families.iter().any(|(d, _)| d.name == def.name) {
            self.families.push((def, Vec::new()));
        }
    }

    /// Adds a series to the family `name`; `suffix` is appended to the metric name
    /// (`_bucket`, `_sum`, `_count` of a histogram, or empty).
    pub(crate) fn add(&mut self, name: &str, suffix: &str, labels: &[(&str, String)], value: f64) {
        let Some((_, series)) = self.families.iter_mut().find(|(d, _)| d.name == name) else {
            debug_assert!(false, "undeclared family {name}");
            return;
        };
        let mut line = format!("{name}{suffix}");
        if !labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{k}=\"{}\"", escape_label(v));
            }
            line.push('}');
        }
        let _ = write!(line, " {}", format_value(value));
        series.push(line);
    }

    /// The text exposition format (version 0.0.4): families with no series are left out.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (def, series) in &self.families {
            if series.is_empty() {
                continue;
            }
            let _ = writeln!(out, "# HELP {} {}", def.name, escape_help(def.help));
            let _ = writeln!(out, "# TYPE {} {}", def.name, def.kind.as_str());
            for s in series {
                out.push_str(s);
                out.push('\n');
            }
        }
        out
    }
}

/// `Content-Type` of [`Exposition::render`].
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A label value escaped for the text format, cut to [`MAX_LABEL_CHARS`].
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len().min(MAX_LABEL_CHARS) + 8);
    for (i, c) in v.chars().enumerate() {
        if i == MAX_LABEL_CHARS {
            out.push_str("...");
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn bool_value(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Adds one probe's series. `base` is prepended to every series' labels (audit's
/// `target`; empty for the exporter).
/// `tlsprobe_step_success` and `tlsprobe_step_warning` for each step that ran.
pub(crate) fn add_steps(
    exp: &mut Exposition,
    base: &[(&'static str, String)],
    checks: &[crate::finding::Check],
) {
    for c in checks.iter().filter(|c| c.status != Status::Skip) {
        let labels: Labels = base
            .iter()
            .cloned()
            .chain([("step", c.check.to_string())])
            .collect();
        exp.add(
            "tlsprobe_step_success",
            "",
            &labels,
            bool_value(c.status != Status::Fail),
        );
        exp.add(
            "tlsprobe_step_warning",
            "",
            &labels,
            bool_value(c.status == Status::Warn),
        );
    }
}

pub(crate) fn add_probe(exp: &mut Exposition, base: &[(&'static str, String)], r: &TargetResult) {
    let with = |extra: &[(&'static str, String)]| -> Labels {
        base.iter().cloned().chain(extra.iter().cloned()).collect()
    };
    let rep = &r.report;
    exp.add(
        "probe_success",
        "",
        base,
        bool_value(r.verdict == Verdict::Pass),
    );
    exp.add("probe_duration_seconds", "", base, r.duration_seconds);
    if let Some(c) = rep.chain.iter().min_by_key(|c| c.raw.not_after) {
        let v = c.raw.not_after as f64;
        exp.add("probe_ssl_earliest_cert_expiry", "", base, v);
    }
    if let Some(c) = rep.verified_path.iter().min_by_key(|c| c.raw.not_after) {
        let v = c.raw.not_after as f64;
        exp.add("probe_ssl_last_chain_expiry_timestamp_seconds", "", base, v);
    }
    if let Some(leaf) = rep.chain.first() {
        let names: Vec<&str> = leaf
            .sans
            .dns
            .iter()
            .chain(&leaf.sans.ip)
            .map(String::as_str)
            .collect();
        let labels = with(&[
            (
                "fingerprint_sha256",
                leaf.sha256.replace(':', "").to_lowercase(),
            ),
            ("subject", leaf.subject.clone()),
            ("issuer", leaf.issuer.clone()),
            ("subjectalternative", names.join(",")),
            ("serialnumber", leaf.serial.replace(':', "").to_lowercase()),
        ]);
        exp.add("probe_ssl_last_chain_info", "", &labels, 1.0);
    }
    if let Some(tls) = &rep.tls {
        if let Some(v) = &tls.version {
            exp.add(
                "probe_tls_version_info",
                "",
                &with(&[("version", v.clone())]),
                1.0,
            );
        }
        if let Some(c) = &tls.cipher_suite {
            exp.add(
                "probe_tls_cipher_info",
                "",
                &with(&[("cipher", c.clone())]),
                1.0,
            );
        }
    }
    add_steps(exp, base, &rep.checks);
    if let Some(t) = rep.client_not_after {
        exp.add(
            "tlsprobe_client_cert_expiry_timestamp_seconds",
            "",
            base,
            t as f64,
        );
    }
    if let Some(a) = &rep.anchor {
        let labels = with(&[
            ("file", a.file.clone()),
            ("index", a.index.to_string()),
            ("subject", a.subject.clone()),
        ]);
        exp.add("tlsprobe_anchor_info", "", &labels, 1.0);
    }
    // One series per probed port; an answer that does not tell has none.
    for p in &rep.plaintext {
        let refused = match p.answer {
            "refused" => true,
            "served" => false,
            _ => continue,
        };
        let labels = with(&[("port", p.port.to_string())]);
        exp.add(
            "tlsprobe_plaintext_refused",
            "",
            &labels,
            bool_value(refused),
        );
    }
    if let Some(required) = r.client_auth_required {
        exp.add(
            "tlsprobe_client_auth_required",
            "",
            base,
            bool_value(required),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_bounded() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let long = "x".repeat(MAX_LABEL_CHARS + 10);
        let cut = escape_label(&long);
        assert_eq!(cut.len(), MAX_LABEL_CHARS + 3);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn values_are_written_like_prometheus_does() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(1735689600.0), "1735689600");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
    }

    #[test]
    fn empty_families_are_left_out_and_order_is_kept() {
        let mut e = Exposition::new(FAMILIES);
        e.add("tlsprobe_step_success", "", &[("step", "tcp".into())], 1.0);
        e.add("probe_success", "", &[], 0.0);
        let text = e.render();
        let success = text.find("probe_success 0").unwrap();
        let step = text.find("tlsprobe_step_success{step=\"tcp\"} 1").unwrap();
        assert!(success < step, "{text}");
        assert!(!text.contains("probe_tls_version_info"), "{text}");
    }
}
