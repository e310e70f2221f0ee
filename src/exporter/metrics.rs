//! The exporter's own metrics (`GET /metrics`): probes by module and result, a probe
//! duration histogram, probes in flight, requests refused, the last reload, build info.
//! Written with the same exposition code as the probe families.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::report::prometheus::{Exposition, FamilyDef, Kind};

/// Upper bounds of the probe duration histogram, seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const FAMILIES: &[FamilyDef] = &[
    FamilyDef {
        name: "tlsprobe_exporter_probes_total",
        kind: Kind::Counter,
        help: "Probes run, by module and result (success, failure, timeout)",
    },
    FamilyDef {
        name: "tlsprobe_exporter_probe_duration_seconds",
        kind: Kind::Histogram,
        help: "How long probes took, by module",
    },
    FamilyDef {
        name: "tlsprobe_exporter_probes_in_flight",
        kind: Kind::Gauge,
        help: "Probes running now",
    },
    FamilyDef {
        name: "tlsprobe_exporter_max_concurrent_probes",
        kind: Kind::Gauge,
        help: "--max-concurrent: probes beyond it are answered 503",
    },
    FamilyDef {
        name: "tlsprobe_exporter_requests_refused_total",
        kind: Kind::Counter,
        help: "/probe requests refused, by status code (400, 403, 503)",
    },
    FamilyDef {
        name: "tlsprobe_exporter_config_last_reload_successful",
        kind: Kind::Gauge,
        help: "1 when the last configuration load succeeded",
    },
    FamilyDef {
        name: "tlsprobe_exporter_config_last_reload_success_timestamp_seconds",
        kind: Kind::Gauge,
        help: "When the configuration was last loaded successfully, Unix seconds",
    },
    FamilyDef {
        name: "tlsprobe_exporter_build_info",
        kind: Kind::Gauge,
        help: "The tlsprobe version serving",
    },
];

/// How a probe ended, for `probes_total{result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ProbeResult {
    Success,
    Failure,
    /// The scrape deadline passed before the verification finished.
    Timeout,
}

impl ProbeResult {
    fn as_str(self) -> &'static str {
        match self {
            ProbeResult::Success => "success",
            ProbeResult::Failure => "failure",
            ProbeResult::Timeout => "timeout",
        }
    }
}

#[derive(Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    probes: BTreeMap<(String, ProbeResult), u64>,
    durations: BTreeMap<String, Histogram>,
    refused: BTreeMap<u16, u64>,
    reload_ok: bool,
    reload_at: f64,
}

/// The exporter's counters, shared by every request.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        // A panic elsewhere never leaves these counters half-written: keep serving them.
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Counts one finished probe.
    pub(crate) fn probe(&self, module: &str, result: ProbeResult, seconds: f64) {
        self.with(|m| {
            *m.probes.entry((module.to_string(), result)).or_default() += 1;
            let h = m.durations.entry(module.to_string()).or_default();
            if h.counts.is_empty() {
                h.counts = vec![0; BUCKETS.len()];
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        });
    }

    /// Counts one refused request.
    pub(crate) fn refused(&self, status: u16) {
        self.with(|m| *m.refused.entry(status).or_default() += 1);
    }

    /// Records a configuration load.
    pub(crate) fn reloaded(&self, ok: bool) {
        self.with(|m| {
            m.reload_ok = ok;
            if ok {
                m.reload_at = crate::clock::now() as f64;
            }
        });
    }

    /// The text exposition.
    pub(crate) fn render(&self, in_flight: usize, max: usize) -> String {
        let mut e = Exposition::new(FAMILIES);
        self.with(|m| {
            for ((module, result), n) in &m.probes {
                let l = [
                    ("module", module.clone()),
                    ("result", result.as_str().into()),
                ];
                e.add("tlsprobe_exporter_probes_total", "", &l, *n as f64);
            }
            for (module, h) in &m.durations {
                let name = "tlsprobe_exporter_probe_duration_seconds";
                for (b, n) in BUCKETS.iter().zip(&h.counts) {
                    let l = [("module", module.clone()), ("le", b.to_string())];
                    e.add(name, "_bucket", &l, *n as f64);
                }
                let inf = [("module", module.clone()), ("le", "+Inf".into())];
                e.add(name, "_bucket", &inf, h.count as f64);
                e.add(name, "_sum", &[("module", module.clone())], h.sum);
                e.add(
                    name,
                    "_count",
                    &[("module", module.clone())],
                    h.count as f64,
                );
            }
            for (status, n) in &m.refused {
                let l = [("code", status.to_string())];
                e.add(
                    "tlsprobe_exporter_requests_refused_total",
                    "",
                    &l,
                    *n as f64,
                );
            }
            let ok = if m.reload_ok { 1.0 } else { 0.0 };
            e.add(
                "tlsprobe_exporter_config_last_reload_successful",
                "",
                &[],
                ok,
            );
            e.add(
                "tlsprobe_exporter_config_last_reload_success_timestamp_seconds",
                "",
                &[],
                m.reload_at,
            );
        });
        e.add(
            "tlsprobe_exporter_probes_in_flight",
            "",
            &[],
            in_flight as f64,
        );
        e.add(
            "tlsprobe_exporter_max_concurrent_probes",
            "",
            &[],
            max as f64,
        );
        let v = [("version", env!("CARGO_PKG_VERSION").to_string())];
        e.add("tlsprobe_exporter_build_info", "", &v, 1.0);
        e.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.probe("redis", ProbeResult::Success, 0.02);
        m.probe("redis", ProbeResult::Failure, 3.0);
        let text = m.render(1, 4);
        for line in [
            "tlsprobe_exporter_probe_duration_seconds_bucket{module=\"redis\",le=\"0.025\"} 1",
            "tlsprobe_exporter_probe_duration_seconds_bucket{module=\"redis\",le=\"5\"} 2",
            "tlsprobe_exporter_probe_duration_seconds_bucket{module=\"redis\",le=\"+Inf\"} 2",
            "tlsprobe_exporter_probe_duration_seconds_count{module=\"redis\"} 2",
            "tlsprobe_exporter_probes_total{module=\"redis\",result=\"failure\"} 1",
            "tlsprobe_exporter_probes_in_flight 1",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
    }
}
