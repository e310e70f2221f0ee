//! One function per subcommand: resolve -> collect -> check -> report.

use std::io::Write;

use crate::cli::{ChainArgs, Cli, Command, InspectArgs, MtlsArgs, VerifyArgs};
use crate::clock;
use crate::domain::Format;
use crate::error::InputError;
use crate::finding::exit;
use crate::pki::pem;
use crate::plan::Console;
use crate::report::{self, FileReport, InspectReport, Style};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    // The terminal and NO_COLOR are asked once, here.
    let console = Console::detect();
    match cli.command {
        Command::Inspect(args) => inspect(&args, console),
        Command::Verify(args) => verify(&args, console),
        Command::Mtls(args) => mtls(&args, console),
        Command::Chain(args) => chain(&args, console),
        Command::Audit(args) => crate::audit::run(&args, console),
        Command::Exporter(args) => crate::exporter::run(&args),
        Command::Completions(args) => crate::packaging::completions(&args),
        Command::Man(args) => crate::packaging::man(&args),
        Command::Schema(args) => crate::report::schema::print(args.kind),
    }
}

fn print_error(e: &dyn std::fmt::Display) {
    eprintln!("error: {e}");
}

fn emit(s: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// `tlsprobe inspect`.
pub fn inspect(args: &InspectArgs, console: Console) -> u8 {
    let now = args.at.unwrap_or_else(clock::now);
    let mut input_error = false;
    let mut files = Vec::new();
    for path in &args.files {
        let file = match pem::read_file(path) {
            Ok(f) => f,
            Err(e) => {
                print_error(&e);
                input_error = true;
                continue;
            }
        };
        let (report, errors) =
            crate::inspect::inspect_file(&file, now, args.warn_days, args.check_signatures);
        for e in file.errors.iter().chain(&errors) {
            print_error(e);
            input_error = true;
        }
        files.push(report);
    }
    let report = InspectReport { files };
    match args.format {
        Format::Json => emit(&report::json::render(&report)),
        Format::Human => emit(&report::human::inspect(
            &report,
            args.warn_days,
            style(console),
        )),
    }
    if input_error {
        exit::INPUT
    } else if report
        .files
        .iter()
        .filter_map(FileReport::worst)
        .any(|s| args.fail_on.fails(s))
    {
        exit::FAIL
    } else {
        exit::PASS
    }
}

/// How human output is styled on this console.
fn style(console: Console) -> Style {
    Style {
        color: console.color,
    }
}

/// Prints a report in the chosen format and returns the exit code for its outcome.
pub fn render<T: serde::Serialize>(
    report: &T,
    format: Format,
    console: Console,
    human: impl FnOnce(&T, Style) -> String,
    passed: bool,
) -> u8 {
    let text = match format {
        Format::Json => report::json::render(report),
        Format::Human => human(report, style(console)),
    };
    emit(&text);
    if passed {
        exit::PASS
    } else {
        exit::FAIL
    }
}

/// Prints an input error and returns exit code 2.
pub fn input_error(e: &InputError) -> u8 {
    print_error(e);
    exit::INPUT
}

/// `tlsprobe verify`.
pub fn verify(args: &VerifyArgs, console: Console) -> u8 {
    let (plan, expect, baseline) = match verify_inputs(args) {
        Ok(p) => p,
        Err(e) => return input_error(&e),
    };
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    // Discovery verifies many nodes at once: their handshakes and checks use every core.
    let mut builder = if args.discover.is_some() {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4),
        );
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => return input_error(&InputError::new("runtime", format!("cannot start: {e}"))),
    };
    let discover = match crate::discover::options(
        args.discover,
        args.sentinel_master.as_deref(),
        args.cluster_bus,
        &plan,
        args.name.is_some(),
        args.sni.is_some(),
    ) {
        Ok(d) => d,
        Err(e) => return input_error(&e),
    };
    if let Some(opts) = discover {
        // Whole-deployment verification: the seed, then every node (src/discover/).
        let r = runtime.block_on(crate::discover::run(&plan, &opts));
        let passed = r.verdict() == report::Verdict::Pass;
        return render(
            &r,
            args.format,
            console,
            |r, st| report::topology::human(r, plan.warn_days, st),
            passed,
        );
    }
    let progress = crate::wait_progress::WaitProgress::new(plan.wait, console);
    let mut r = match &expect {
        Some(ex) => runtime.block_on(crate::expect::run::verify_target(&plan, ex)),
        None => runtime.block_on(crate::engine::verify_target_observed(&plan, |r, left| {
            progress.retry(r, left)
        })),
    };
    progress.finish();
    if let Some(b) = &baseline {
        crate::baseline::apply(&mut r, b, None, args.change.fail_on_change);
    }
    let passed = r.verdict == report::Verdict::Pass;
    render(
        &r,
        args.format,
        console,
        |r, st| report::human::verify(r, plan.warn_days, st),
        passed,
    )
}

/// The plan of `verify`, with the `--expect` object (which may name the target) and the
/// `--baseline` report (which must be of the same target) read first.
fn verify_inputs(
    args: &VerifyArgs,
) -> Result<
    (
        crate::plan::VerifyPlan,
        Option<crate::expect::Expectations>,
        Option<crate::baseline::Baseline>,
    ),
    InputError,
> {
    let expect = match &args.change.expect {
        Some(p) => Some(crate::expect::load(p, args.change.expect_format)?),
        None => None,
    };
    let mut raw = args.raw(std::env::var("REDISCLI_AUTH").ok());
    if let (Some(ex), None) = (&expect, &raw.target) {
        raw.target = Some(crate::expect::run::target_from(ex)?);
    }
    let mut plan = crate::plan::verify_plan(&raw, crate::plan::Loaded::default())?;
    if let Some(ex) = &expect {
        crate::expect::run::shape_plan(&mut plan, ex, &raw)?;
    }
    let baseline = match &args.change.baseline {
        Some(p) => {
            let b = crate::baseline::load(p, false)?;
            crate::baseline::check_target(&b, &plan.target.display())?;
            Some(b)
        }
        None => None,
    };
    Ok((plan, expect, baseline))
}

/// `tlsprobe mtls`.
pub fn mtls(args: &MtlsArgs, console: Console) -> u8 {
    match crate::mtls::report(&args.request(), args.at.unwrap_or_else(clock::now)) {
        Ok(r) => render(&r, args.format, console, report::mtls::human, r.accepted),
        Err(e) => input_error(&e),
    }
}

/// `tlsprobe chain`.
pub fn chain(args: &ChainArgs, console: Console) -> u8 {
    match crate::pki::chain::report(&args.request(), args.at.unwrap_or_else(clock::now)) {
        Ok(r) => render(&r, args.format, console, report::chain::human, r.valid),
        Err(e) => input_error(&e),
    }
}
