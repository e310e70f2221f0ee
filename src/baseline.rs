//! `--baseline FILE`: what changed since an earlier `--format json` output of the same
//! command (verify: one report; audit: targets and bundles matched by id).
//!
//! Both sides are reduced to the same non-volatile facts (read from JSON: the earlier file
//! as it is, the current report after serialising), then compared: leaf and chain
//! fingerprints, the leaf's issuer, SANs and notAfter, the anchor's file and index, the TLS
//! version and cipher suite, whether a client certificate was requested, what each port
//! answered to plaintext, and a bundle's certificates. Times, `ms`, `days_left` and
//! `attempts` are never compared. The result is the report's `changes` list and the
//! `baseline` step.

use crate::step::Step;
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::InputError;
use crate::finding::{Check, Status};

/// The largest baseline file read.
const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a baseline cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BaselineError {
    #[error("not valid JSON: line {line} column {column}")]
    Syntax { line: usize, column: usize },
    #[error("is not a tlsprobe {0} --format json output: {1}")]
    NotReport(&'static str, String),
    #[error("is the report of {found}, not of {wanted}")]
    OtherTarget { found: String, wanted: String },
}

pub use crate::report::Change;

/// The facts compared, by name.
pub(crate) type Facts = BTreeMap<String, String>;

/// A read baseline: one verify report's facts, or an audit's per id.
#[derive(Debug, Clone)]
pub(crate) struct Baseline {
    pub file: String,
    /// `target` of each report, and of each audit target by id.
    pub targets: BTreeMap<String, (String, Facts)>,
    /// Bundles by id (audit only).
    pub bundles: BTreeMap<String, Facts>,
}

/// The key a single verify report is filed under.
const VERIFY_KEY: &str = "";

/// Reads a baseline file; `audit` says which command's output it must be.
pub(crate) fn load(path: &Path, audit: bool) -> Result<Baseline, InputError> {
    let name = path.display().to_string();
    let subject = format!("--baseline {name}");
    let bytes = crate::files::read_bounded(path, MAX_BASELINE_BYTES, &subject, "a JSON report")?;
    parse(&name, &bytes, audit).map_err(|e| InputError::new(subject, e.to_string()))
}

/// Parses baseline text (pure).
pub(crate) fn parse(name: &str, bytes: &[u8], audit: bool) -> Result<Baseline, BaselineError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| BaselineError::Syntax {
        line: e.line(),
        column: e.column(),
    })?;
    let mut out = Baseline {
        file: name.to_string(),
        targets: BTreeMap::new(),
        bundles: BTreeMap::new(),
    };
    if !audit {
        let target = target_of(&v, "verify")?;
        out.targets
            .insert(VERIFY_KEY.into(), (target, report_facts(&v)));
        return Ok(out);
    }
    let targets = v["targets"]
        .as_array()
        .ok_or_else(|| BaselineError::NotReport("audit", "no \"targets\" array".into()))?;
    for (i, t) in targets.iter().enumerate() {
        let id = t["id"].as_str().ok_or_else(|| {
            BaselineError::NotReport("audit", format!("targets[{i}] has no \"id\""))
        })?;
        out.targets
            .insert(id.to_string(), (target_of(t, "audit")?, report_facts(t)));
    }
    for (i, b) in v["bundles"].as_array().into_iter().flatten().enumerate() {
        let id = b["id"].as_str().ok_or_else(|| {
            BaselineError::NotReport("audit", format!("bundles[{i}] has no \"id\""))
        })?;
        out.bundles.insert(id.to_string(), bundle_facts(b));
    }
    Ok(out)
}

fn target_of(v: &Value, cmd: &'static str) -> Result<String, BaselineError> {
    if !v["checks"].is_array() {
        return Err(BaselineError::NotReport(cmd, "no \"checks\" array".into()));
    }
    v["target"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| BaselineError::NotReport(cmd, "no \"target\"".into()))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The non-volatile facts of one verify report (JSON form).
pub(crate) fn report_facts(v: &Value) -> Facts {
    let mut f = Facts::new();
    let mut put = |k: String, val: Option<String>| {
        if let Some(val) = val {
            f.insert(k, val);
        }
    };
    let chain = v["chain"].as_array().cloned().unwrap_or_default();
    if let Some(leaf) = chain.first() {
        put("leaf.sha256".into(), text(&leaf["sha256"]));
        put("leaf.subject".into(), text(&leaf["subject"]));
        put("leaf.issuer".into(), text(&leaf["issuer"]));
        put("leaf.sans".into(), text(&leaf["sans"]));
        put("leaf.not_after".into(), text(&leaf["not_after"]));
    }
    if chain.len() > 1 {
        let rest: Vec<String> = chain[1..]
            .iter()
            .filter_map(|c| text(&c["sha256"]))
            .collect();
        put("chain.sha256".into(), Some(rest.join(", ")));
    }
    if let Some(a) = v["anchor"].as_object() {
        put(
            "anchor".into(),
            Some(format!(
                "{} #{}",
                a.get("file").and_then(text).unwrap_or_default(),
                a.get("index").and_then(text).unwrap_or_default()
            )),
        );
    }
    let tls = &v["tls"];
    put("tls.version".into(), text(&tls["version"]));
    put("tls.cipher_suite".into(), text(&tls["cipher_suite"]));
    put(
        "tls.client_cert_requested".into(),
        text(&tls["client_cert_requested"]),
    );
    for p in v["plaintext"].as_array().into_iter().flatten() {
        if let (Some(port), Some(answer)) = (text(&p["port"]), text(&p["answer"])) {
            put(format!("plaintext.{port}"), Some(answer));
        }
    }
    f
}

/// A bundle's certificates, by position.
fn bundle_facts(v: &Value) -> Facts {
    let mut f = Facts::new();
    for (i, c) in v["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(fp) = text(&c["sha256"]) {
            f.insert(format!("certificate.{i}.sha256"), fp);
        }
    }
    f
}

/// The facts that differ, in name order.
pub(crate) fn compare(before: &Facts, after: &Facts) -> Vec<Change> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| Change {
            fact: k.clone(),
            before: before.get(k).cloned(),
            after: after.get(k).cloned(),
        })
        .collect()
}

/// The `baseline` step for a list of changes.
pub(crate) fn step(file: &str, changes: &[Change], fail_on_change: bool) -> Check {
    if changes.is_empty() {
        return Check::new(
            Step::Baseline,
            Status::Pass,
            format!("unchanged since {file}"),
        );
    }
    let lines: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{}: {} -> {}",
                c.fact,
                c.before.as_deref().unwrap_or("(none)"),
                c.after.as_deref().unwrap_or("(none)")
            )
        })
        .collect();
    Check::new(
        Step::Baseline,
        if fail_on_change {
            Status::Fail
        } else {
            Status::Warn
        },
        format!(
            "{} change{} since {file}:\n{}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            lines.join("\n")
        ),
    )
}

/// Adds `changes` and the `baseline` step to a report, comparing it with the baseline's
/// report filed under `id` (`None`: the single verify report).
pub(crate) fn apply(
    report: &mut crate::report::VerifyReport,
    base: &Baseline,
    id: Option<&str>,
    fail_on_change: bool,
) {
    let key = id.unwrap_or(VERIFY_KEY);
    let now = serde_json::to_value(&*report)
        .map(|v| report_facts(&v))
        .unwrap_or_default();
    let step = match base.targets.get(key) {
        Some((_, before)) => {
            let changes = compare(before, &now);
            let s = step(&base.file, &changes, fail_on_change);
            report.changes = Some(changes);
            s
        }
        None => {
            report.changes = Some(vec![]);
            Check::new(
                Step::Baseline,
                if fail_on_change {
                    Status::Fail
                } else {
                    Status::Warn
                },
                format!("new since {}: it has no target with id {key:?}", base.file),
            )
        }
    };
    report.checks.push(step);
    report.verdict = crate::report::VerifyReport::verdict_of(&report.checks);
}

/// A verify baseline must be of the same target (the password never appears in either).
pub(crate) fn check_target(base: &Baseline, target: &str) -> Result<(), InputError> {
    match base.targets.get(VERIFY_KEY) {
        Some((t, _)) if t == target => Ok(()),
        Some((t, _)) => Err(InputError::new(
            format!("--baseline {}", base.file),
            BaselineError::OtherTarget {
                found: t.clone(),
                wanted: target.to_string(),
            }
            .to_string(),
        )),
        None => Ok(()),
    }
}

/// The changes of one bundle, compared with the baseline's bundle of the same id.
pub(crate) fn bundle_changes(
    base: &Baseline,
    id: &str,
    file: &crate::report::FileReport,
) -> Option<Vec<Change>> {
    let before = base.bundles.get(id)?;
    let now = serde_json::to_value(file)
        .map(|v| bundle_facts(&v))
        .unwrap_or_default();
    Some(compare(before, &now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"target":"rediss://localhost:1","verdict":"pass","attempts":1,
        "checks":[{"check":"tcp","status":"pass","message":"x","ms":1.5}],
        "tls":{"version":"TLS 1.3","cipher_suite":"A","sni":"localhost","client_cert_requested":false,"acceptable_ca_names":[]},
        "chain":[{"sha256":"AA","subject":"CN=l","issuer":"CN=i","sans":{"dns":["localhost"]},"not_after":"2124","days_left":5},{"sha256":"BB"}],
        "anchor":{"file":"ca.pem","index":0,"subject":"CN=r","pinned":false,"via":[]},
        "plaintext":[{"port":1,"answer":"refused","detail":"d","ms":2.0}]}"#;

    fn facts(text: &str) -> Facts {
        report_facts(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn volatile_fields_are_not_compared() {
        let a = facts(REPORT);
        let b = facts(
            &REPORT
                .replace("\"days_left\":5", "\"days_left\":4")
                .replace("\"ms\":1.5", "\"ms\":9.0")
                .replace("\"attempts\":1", "\"attempts\":3"),
        );
        assert!(compare(&a, &b).is_empty());
        assert_eq!(a.get("anchor").map(String::as_str), Some("ca.pem #0"));
    }

    #[test]
    fn changes_are_listed() {
        let a = facts(REPORT);
        let b = facts(
            &REPORT
                .replace("\"AA\"", "\"CC\"")
                .replace("\"index\":0", "\"index\":3")
                .replace("\"refused\"", "\"served\""),
        );
        let c = compare(&a, &b);
        let names: Vec<&str> = c.iter().map(|c| c.fact.as_str()).collect();
        assert_eq!(names, ["anchor", "leaf.sha256", "plaintext.1"]);
        assert_eq!(c[1].before.as_deref(), Some("AA"));
        assert_eq!(c[1].after.as_deref(), Some("CC"));
        let s = step("b.json", &c, false);
        assert_eq!(s.status, Status::Warn);
        assert!(s.message.contains("leaf.sha256: AA -> CC"), "{}", s.message);
        assert_eq!(step("b.json", &c, true).status, Status::Fail);
        assert_eq!(step("b.json", &[], true).status, Status::Pass);
    }

    #[test]
    fn malformed_and_other_targets() {
        assert!(matches!(
            parse("b", b"{", false),
            Err(BaselineError::Syntax { .. })
        ));
        assert!(matches!(
            parse("b", b"{\"files\":[]}", false),
            Err(BaselineError::NotReport(..))
        ));
        assert!(matches!(
            parse("b", b"{\"targets\":3}", true),
            Err(BaselineError::NotReport(..))
        ));
        let b = parse("b", REPORT.as_bytes(), false).unwrap();
        assert!(check_target(&b, "rediss://localhost:1").is_ok());
        let e = check_target(&b, "rediss://localhost:2").unwrap_err();
        assert!(e.message.contains("not of rediss://localhost:2"), "{e}");
    }
}
