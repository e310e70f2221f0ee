//! `tlsprobe audit`: every target of an inventory verified concurrently on one runtime,
//! judged against the policy, and streamed to one or more report sinks in inventory order.
//!
//! Memory stays flat in the number of targets: a result is written as soon as every
//! earlier target's result has been written, and then dropped.

use crate::step::Step;
use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::check::policy;
use crate::cli::AuditArgs;
use crate::clock;
use crate::engine;
use crate::error::InputError;
use crate::finding::{exit, Severity};
use crate::finding::{Check, Status};
use crate::inventory::{self, Inventory};
use crate::plan::Console;
use crate::report::audit::{
    AuditMeta, BundleResult, RowVerdict, RowVerdicts, Sink, Summary, TargetResult,
};
use crate::report::topology::Topology;
use crate::report::{FileReport, Verdict, VerifyReport};

/// `tlsprobe audit`.
pub fn run(args: &AuditArgs, console: Console) -> u8 {
    match run_inner(args, console) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit::INPUT
        }
    }
}

fn run_inner(args: &AuditArgs, console: Console) -> Result<u8, InputError> {
    let inv = inventory::load(&args.inventory, args.policy.as_deref())?;
    let missing_secrets: Vec<String> = inv
        .targets
        .credential_errors
        .iter()
        .map(|(id, e)| format!("{e} (target {id:?})"))
        .collect();
    for w in &inv.warnings {
        eprintln!("warning: {w}");
    }
    let mut sinks = open_sinks(args, console)?;
    // The one clock read of the run: the sinks and the bundles are given it.
    let started = clock::now();
    let evaluated = args.at.unwrap_or(started);
    let meta = AuditMeta::new(
        &inv.path,
        &inv.policy,
        (inv.targets.len(), inv.bundles.len()),
        started,
        evaluated,
    );
    for s in sinks.iter_mut() {
        s.begin(&meta)
            .or_else(ignore_closed_pipe)
            .map_err(|e| InputError::new("report", e.to_string()))?;
    }
    let baseline = match &args.baseline {
        Some(p) => Some(Arc::new(crate::baseline::load(p, true)?)),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4),
        )
        .enable_all()
        .build()
        .map_err(|e| InputError::new("runtime", e.to_string()))?;
    let (summary, write_error, inputs_changed) =
        runtime.block_on(execute(inv, args, evaluated, console, baseline, &mut sinks));
    if let Some(e) = write_error {
        return Err(InputError::new("report", format!("cannot write: {e}")));
    }
    for s in sinks.iter_mut() {
        s.finish(&meta, &summary)
            .or_else(ignore_closed_pipe)
            .map_err(|e| InputError::new("report", e.to_string()))?;
    }
    // A missing secret is an input error: reported once the fleet has run.
    for m in &missing_secrets {
        eprintln!("error: {m}");
    }
    Ok(if !missing_secrets.is_empty() || inputs_changed {
        exit::INPUT
    } else if summary.failed + summary.bundles_failed > 0 {
        exit::FAIL
    } else {
        exit::PASS
    })
}

/// A reader that went away (`| head`) is not an error worth reporting.
fn ignore_closed_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

fn open_sinks(args: &AuditArgs, console: Console) -> Result<Vec<Box<dyn Sink>>, InputError> {
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    let main: Box<dyn std::io::Write + Send> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| InputError::new(format!("--output {}", p.display()), e.to_string()),
        )?)),
        None => Box::new(std::io::stdout()),
    };
    let color = args.output.is_none() && console.color;
    sinks.push(crate::report::audit::sink(args.format, main, color));
    for spec in &args.report {
        let (fmt, path) = spec.split_once('=').ok_or_else(|| {
            InputError::new(
                format!("--report {spec}"),
                "expected FORMAT=FILE, e.g. junit=audit.xml",
            )
        })?;
        let format = crate::cli::audit_format(fmt).ok_or_else(|| {
            InputError::new(
                format!("--report {spec}"),
                format!(
                    "unknown format {fmt:?} ({})",
                    crate::cli::audit_format_names()
                ),
            )
        })?;
        let file = std::fs::File::create(path)
            .map_err(|e| InputError::new(format!("--report {path}"), e.to_string()))?;
        sinks.push(crate::report::audit::sink(
            format,
            Box::new(std::io::BufWriter::new(file)),
            false,
        ));
    }
    Ok(sinks)
}

async fn execute(
    inv: Inventory,
    args: &AuditArgs,
    evaluated: clock::UnixSeconds,
    console: Console,
    baseline: Option<Arc<crate::baseline::Baseline>>,
    sinks: &mut [Box<dyn Sink>],
) -> (Summary, Option<std::io::Error>, bool) {
    let total = inv.targets.len();
    let concurrency = args.concurrency.max(1);
    let progress = progress_bar(total as u64, args.quiet || !console.progress);
    let policy = Arc::new(inv.policy.clone());
    let at = args.at;
    let fail_on_change = args.fail_on_change;
    let base = baseline.clone();
    // Each result travels with its permit, released only once the result is written: the
    // reorder buffer below never holds more than `concurrency` results.
    let (tx, mut rx) = mpsc::channel::<(usize, TargetResult, OwnedSemaphorePermit)>(concurrency);
    let gate = Arc::new(Semaphore::new(concurrency));

    let targets = inv.targets;
    let changed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let input_changed = changed.clone();
    let producer = tokio::spawn(async move {
        for i in 0..targets.len() {
            let Ok(permit) = gate.clone().acquire_owned().await else {
                break;
            };
            // Resolved at load already: resolving again only fails if a file changed
            // in between, which stops the audit like an input error would have.
            let spec = match targets.resolve(i) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    changed.store(true, std::sync::atomic::Ordering::Relaxed);
                    break;
                }
            };
            let tx = tx.clone();
            let policy = policy.clone();
            let base = base.clone();
            tokio::spawn(async move {
                let change = base.as_deref().map(|b| (b, fail_on_change));
                let result = verify_one(spec, &policy, at, change).await;
                let _ = tx.send((i, result, permit)).await;
            });
        }
    });

    let mut summary = Summary::default();
    let mut pending: BTreeMap<usize, (TargetResult, OwnedSemaphorePermit)> = BTreeMap::new();
    let mut next = 0;
    let mut write_error: Option<std::io::Error> = None;
    while let Some((i, result, permit)) = rx.recv().await {
        progress.inc(1);
        count_target(&mut summary, &result);
        progress.set_message(format!("{} failed", summary.failed));
        pending.insert(i, (result, permit));
        while let Some((r, permit)) = pending.remove(&next) {
            for s in sinks.iter_mut() {
                keep_first_error(&mut write_error, s.target(&r));
            }
            drop(permit);
            next += 1;
        }
    }
    let _ = producer.await;
    progress.finish_and_clear();

    for b in inv.bundles {
        let mut result = inspect_bundle(&b, evaluated, inv.policy.warn_days);
        if let Some(base) = &baseline {
            bundle_baseline(&mut result, base, args.fail_on_change);
        }
        count_bundle(&mut summary, &result);
        for s in sinks.iter_mut() {
            keep_first_error(&mut write_error, s.bundle(&result));
        }
    }
    let changed = input_changed.load(std::sync::atomic::Ordering::Relaxed);
    (summary, write_error, changed)
}

/// One target in the totals.
fn count_target(s: &mut Summary, r: &TargetResult) {
    s.targets += 1;
    match (r.verdict, r.warned) {
        (Verdict::Pass, false) => s.passed_clean += 1,
        (Verdict::Pass, true) => s.passed_with_warnings += 1,
        (Verdict::Fail, _) => s.failed += 1,
    }
    if r.verdict == Verdict::Pass {
        s.passed += 1;
    }
}

/// One bundle in the totals.
fn count_bundle(s: &mut Summary, b: &BundleResult) {
    s.bundles += 1;
    match b.verdict {
        Verdict::Pass => s.bundles_passed += 1,
        Verdict::Fail => s.bundles_failed += 1,
    }
}

/// Remembers the first report write error (a closed pipe is not one).
fn keep_first_error(slot: &mut Option<std::io::Error>, r: std::io::Result<()>) {
    if let Err(e) = r.or_else(ignore_closed_pipe) {
        slot.get_or_insert(e);
    }
}

/// Verifies one target and judges it against the policy (also one `/probe` of
/// `tlsprobe exporter`).
pub(crate) async fn verify_one(
    spec: inventory::TargetSpec,
    policy: &inventory::Policy,
    at: Option<clock::UnixSeconds>,
    baseline: Option<(&crate::baseline::Baseline, bool)>,
) -> TargetResult {
    let started = std::time::Instant::now();
    let mut plan = spec.plan;
    plan.at = at;
    // `discover`: the seed and every node (src/discover/); `expect`: the provider's
    // description checked as steps (src/expect/).
    let (mut report, topology) = match (&spec.discover, &spec.expect) {
        (Some(opts), _) => {
            let d = crate::discover::run(&plan, opts).await;
            (d.seed, Some(d.topology))
        }
        (None, Some(ex)) => (crate::expect::run::verify_target(&plan, ex).await, None),
        (None, None) => (engine::verify_target(&plan).await, None),
    };
    if let Some((b, fail_on_change)) = baseline {
        crate::baseline::apply(&mut report, b, Some(&spec.id), fail_on_change);
    }
    if let Some(why) = &spec.credentials_error {
        report.checks.insert(
            0,
            crate::finding::Check::new(
                Step::Credentials,
                crate::finding::Status::Fail,
                why.clone(),
            ),
        );
        report.verdict = Verdict::Fail;
    }
    let handshake_ok = report.checks.iter().any(|c| {
        c.check == crate::step::Step::TlsHandshake && c.status == crate::finding::Status::Pass
    });
    let probe = if policy.require_client_auth && handshake_ok {
        Some(engine::probe_without_client_cert(&plan).await)
    } else {
        None
    };
    let mut findings = policy::judge(
        &spec.id,
        &report.policy_facts(),
        policy,
        probe.as_ref().map(|p| p.policy_facts()).as_ref(),
    );
    // The policy applies to every node too (not the client-auth probe, which is the seed's).
    for n in topology.iter().flat_map(|t| &t.nodes) {
        let id = format!("{}/{}", spec.id, n.label());
        findings.extend(policy::judge(&id, &n.report.policy_facts(), policy, None));
    }
    let deployment_failed = topology
        .as_ref()
        .is_some_and(|t| t.verdict() == Verdict::Fail);
    let verdict = fail_if(
        report.verdict == Verdict::Fail
            || deployment_failed
            || findings.iter().any(|f| f.severity == Severity::Error),
    );
    let client_auth_required = client_auth_required(&report, probe.as_ref(), plan.client.is_some());
    let rows = topology
        .as_ref()
        .map(|t| row_verdicts(&spec.id, &report, t, &findings));
    TargetResult {
        id: spec.id,
        warned: warned(&report.checks, &findings),
        report,
        findings,
        verdict,
        rows,
        duration_seconds: started.elapsed().as_secs_f64(),
        client_auth_required,
        topology,
    }
}

fn fail_if(failed: bool) -> Verdict {
    if failed {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// A step warned or a policy finding is a warning.
fn warned<'a>(
    checks: &[Check],
    findings: impl IntoIterator<Item = &'a policy::PolicyFinding>,
) -> bool {
    checks.iter().any(|c| c.status == Status::Warn)
        || findings.into_iter().any(|f| f.severity == Severity::Warn)
}

/// With `discover`: the outcome of each audit row. The target's own row answers for the
/// seed, its own policy findings and the deployment steps; a node's row (named
/// `target/endpoint:port`, as its findings are) for the node, its bus and its findings.
fn row_verdicts(
    id: &str,
    seed: &VerifyReport,
    t: &Topology,
    findings: &[policy::PolicyFinding],
) -> RowVerdicts {
    let own = |row: &str| {
        let row = row.to_string();
        findings.iter().filter(move |f| f.target == row)
    };
    let errors = |row: &str| own(row).any(|f| f.severity == Severity::Error);
    let seed_row = RowVerdict {
        verdict: fail_if(
            seed.verdict == Verdict::Fail
                || t.checks.iter().any(|c| c.status == Status::Fail)
                || errors(id),
        ),
        warned: warned(&seed.checks, own(id)),
        bus: None,
    };
    let nodes = t
        .nodes
        .iter()
        .map(|n| {
            let row = format!("{id}/{}", n.label());
            RowVerdict {
                verdict: fail_if(n.verdict() == Verdict::Fail || errors(&row)),
                warned: warned(&n.report.checks, own(&row)),
                bus: n.bus.as_ref().map(bus_step),
            }
        })
        .collect();
    RowVerdicts {
        seed: seed_row,
        nodes,
    }
}

/// A node's cluster bus as one step of its audit row: failed with every failing bus step.
fn bus_step(bus: &VerifyReport) -> Check {
    let why: Vec<String> = bus
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| format!("{}: {}", c.check, c.message))
        .collect();
    if why.is_empty() {
        Check::new(
            Step::ClusterBus,
            Status::Pass,
            format!("{} passed", bus.target),
        )
    } else {
        Check::new(Step::ClusterBus, Status::Fail, why.join("\n"))
    }
}

/// Whether the server refuses a client without a certificate, when the evidence shows it:
/// the probe without a certificate (when the policy asked for one), a server that never
/// requested a certificate, or a verification that presented none.
fn client_auth_required(
    report: &crate::report::VerifyReport,
    without_cert: Option<&crate::report::VerifyReport>,
    had_cert: bool,
) -> Option<bool> {
    use crate::check::policy::{without_client_cert_outcome, WithoutClientCert};
    use crate::finding::Status;
    use crate::step::Step;
    let status = |r: &crate::report::VerifyReport, step: Step| {
        r.checks.iter().find(|c| c.check == step).map(|c| c.status)
    };
    // The same judgement as the policy's `client-auth-not-required`.
    let known =
        |r: &crate::report::VerifyReport| match without_client_cert_outcome(&r.policy_facts()) {
            WithoutClientCert::Refused => Some(true),
            WithoutClientCert::Served => Some(false),
            WithoutClientCert::Unclear(_) => None,
        };
    if let Some(k) = without_cert.and_then(known) {
        return Some(k);
    }
    let handshake_ok = status(report, Step::TlsHandshake) == Some(Status::Pass);
    let requested = report.tls.as_ref().is_some_and(|t| t.client_cert_requested);
    if handshake_ok && !requested {
        // A server that never asks for a certificate cannot require one.
        return Some(false);
    }
    if !had_cert {
        return known(report);
    }
    None
}

/// `--baseline` for a bundle: a finding listing the certificates that changed.
fn bundle_baseline(
    result: &mut BundleResult,
    base: &crate::baseline::Baseline,
    fail_on_change: bool,
) {
    let Some(changes) = crate::baseline::bundle_changes(base, &result.id, &result.file) else {
        return;
    };
    if changes.is_empty() {
        return;
    }
    let step = crate::baseline::step(&base.file, &changes, fail_on_change);
    result.file.findings.push(crate::finding::Finding {
        rule: "baseline-changed",
        severity: if fail_on_change {
            Severity::Error
        } else {
            Severity::Warn
        },
        cert: None,
        message: step.message,
    });
    if fail_on_change {
        result.verdict = Verdict::Fail;
    }
}

fn inspect_bundle(
    b: &inventory::BundleSpec,
    now: clock::UnixSeconds,
    warn_days: i64,
) -> BundleResult {
    match crate::pki::pem::read_file(&b.path) {
        Err(e) => unreadable_bundle(&b.id, &b.path.display().to_string(), &e.to_string()),
        Ok(file) => {
            let (report, errors) = crate::inspect::inspect_file(&file, now, warn_days, false);
            let mut errs: Vec<String> = file.errors.iter().map(|e| e.to_string()).collect();
            errs.extend(errors.iter().map(|e| e.to_string()));
            bundle_result(&b.id, report, errs)
        }
    }
}

/// A bundle fails with a read error or an error finding.
fn bundle_result(id: &str, file: FileReport, errors: Vec<String>) -> BundleResult {
    let bad = !errors.is_empty() || file.findings.iter().any(|f| f.severity == Severity::Error);
    BundleResult {
        id: id.to_string(),
        file,
        errors,
        verdict: fail_if(bad),
    }
}

/// A bundle that could not be read: failed, with the reason as its error.
fn unreadable_bundle(id: &str, path: &str, error: &str) -> BundleResult {
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

/// The progress bar on stderr; `hidden`: `--quiet`, or stderr is no terminal.
fn progress_bar(total: u64, hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} targets, {msg}, {per_sec}")
    {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    //! The audit's own decisions (bundle verdicts, row verdicts, warnings), from fixed
    //! results: the sinks only render these.
    use super::*;
    use crate::report::topology::{NodeReport, NodeRole, TopologyKind};

    fn report(verdict: Verdict, steps: &[(Step, Status)]) -> VerifyReport {
        let checks = steps
            .iter()
            .map(|(s, st)| Check::new(*s, *st, format!("{} said so", s.as_str())))
            .collect();
        VerifyReport::of_checks("rediss://127.0.0.1:7000".into(), verdict, checks)
    }

    fn finding(target: &str, severity: Severity) -> policy::PolicyFinding {
        policy::PolicyFinding {
            rule: "min-tls-version",
            severity,
            target: target.into(),
            message: "TLS 1.2".into(),
        }
    }

    fn node(port: u16, report: VerifyReport, bus: Option<VerifyReport>) -> NodeReport {
        NodeReport {
            id: format!("n{port}"),
            role: NodeRole::Primary,
            endpoint: "127.0.0.1".into(),
            port,
            slots: vec![],
            flags: vec![],
            report,
            bus,
        }
    }

    fn file(findings: Vec<crate::finding::Finding>) -> FileReport {
        FileReport {
            path: "ca.pem".into(),
            certificates: vec![],
            other_blocks: vec![],
            findings,
        }
    }

    #[test]
    fn a_bundle_fails_with_an_error_finding_or_a_read_error_only() {
        let f = |severity| crate::finding::Finding {
            rule: "expired",
            severity,
            cert: None,
            message: String::new(),
        };
        assert_eq!(
            bundle_result("b", file(vec![]), vec![]).verdict,
            Verdict::Pass
        );
        let warned = bundle_result("b", file(vec![f(Severity::Warn)]), vec![]);
        assert_eq!(warned.verdict, Verdict::Pass);
        let bad = bundle_result("b", file(vec![f(Severity::Error)]), vec![]);
        assert_eq!(bad.verdict, Verdict::Fail);
        let unread = bundle_result("b", file(vec![]), vec!["block 2: bad base64".into()]);
        assert_eq!(unread.verdict, Verdict::Fail);
        let missing = unreadable_bundle("b", "gone.pem", "No such file");
        assert_eq!((missing.verdict, missing.errors.len()), (Verdict::Fail, 1));
    }

    #[test]
    fn a_warning_step_or_warning_finding_warns() {
        let pass = [(Step::Tcp, Status::Pass)];
        let warn = [(Step::Tcp, Status::Pass), (Step::Expiry, Status::Warn)];
        assert!(!warned(&report(Verdict::Pass, &pass).checks, &[]));
        assert!(warned(&report(Verdict::Pass, &warn).checks, &[]));
        let info = [finding("t", Severity::Info), finding("t", Severity::Error)];
        assert!(!warned(&report(Verdict::Pass, &pass).checks, &info));
        assert!(warned(
            &report(Verdict::Pass, &pass).checks,
            &[finding("t", Severity::Warn)]
        ));
    }

    #[test]
    fn each_row_answers_for_its_own_node_bus_and_findings() {
        let ok = || report(Verdict::Pass, &[(Step::TlsHandshake, Status::Pass)]);
        let failing = report(Verdict::Fail, &[(Step::TlsHandshake, Status::Fail)]);
        let bus_bad = report(Verdict::Fail, &[(Step::ChainTrust, Status::Fail)]);
        let t = Topology {
            kind: TopologyKind::Cluster,
            checks: vec![Check::new(Step::Discover, Status::Pass, "3 nodes")],
            nodes: vec![
                node(7000, ok(), Some(ok())),
                node(7001, failing, None),
                node(7002, ok(), Some(bus_bad)),
                node(7003, ok(), None),
            ],
        };
        let findings = [
            finding("t/127.0.0.1:7003", Severity::Error),
            finding("t", Severity::Warn),
        ];
        let rows = row_verdicts("t", &ok(), &t, &findings);
        // The seed passes: node failures and node findings are the nodes' rows.
        assert_eq!(rows.seed.verdict, Verdict::Pass);
        assert!(rows.seed.warned, "the seed's own warning finding");
        let verdicts: Vec<Verdict> = rows.nodes.iter().map(|r| r.verdict).collect();
        use Verdict::{Fail, Pass};
        assert_eq!(verdicts, [Pass, Fail, Fail, Fail]);
        assert!(rows.nodes.iter().all(|r| !r.warned));
        let bus: Vec<Option<Status>> = rows
            .nodes
            .iter()
            .map(|r| r.bus.as_ref().map(|c| c.status))
            .collect();
        assert_eq!(bus, [Some(Status::Pass), None, Some(Status::Fail), None]);
        let why = &rows.nodes[2].bus.as_ref().unwrap().message;
        assert_eq!(why, "chain-trust: chain-trust said so");
    }

    #[test]
    fn a_failing_deployment_step_fails_the_seed_row() {
        let ok = report(Verdict::Pass, &[(Step::TlsHandshake, Status::Pass)]);
        let t = Topology {
            kind: TopologyKind::Cluster,
            checks: vec![Check::new(Step::ClusterHealth, Status::Fail, "slots")],
            nodes: vec![],
        };
        assert_eq!(row_verdicts("t", &ok, &t, &[]).seed.verdict, Verdict::Fail);
        let t = Topology {
            checks: vec![],
            ..t
        };
        let errs = [finding("t", Severity::Error)];
        assert_eq!(
            row_verdicts("t", &ok, &t, &errs).seed.verdict,
            Verdict::Fail
        );
        assert_eq!(row_verdicts("t", &ok, &t, &[]).seed.verdict, Verdict::Pass);
    }

    #[test]
    fn totals_count_clean_passes_warned_passes_and_failures_apart() {
        let result = |verdict, warned| TargetResult {
            id: "t".into(),
            report: report(verdict, &[]),
            findings: vec![],
            verdict,
            warned,
            duration_seconds: 0.0,
            client_auth_required: None,
            topology: None,
            rows: None,
        };
        let mut s = Summary::default();
        for (v, w) in [
            (Verdict::Pass, false),
            (Verdict::Pass, true),
            (Verdict::Pass, true),
            (Verdict::Fail, true),
        ] {
            count_target(&mut s, &result(v, w));
        }
        count_bundle(&mut s, &bundle_result("b", file(vec![]), vec![]));
        count_bundle(&mut s, &unreadable_bundle("c", "c.pem", "gone"));
        let got = (
            s.targets,
            s.passed,
            s.passed_clean,
            s.passed_with_warnings,
            s.failed,
        );
        assert_eq!(got, (4, 3, 1, 2, 1));
        assert_eq!((s.bundles, s.bundles_passed, s.bundles_failed), (2, 1, 1));
    }
}
