//! `audit --format html`: the compliance report as one self-contained page.
//!
//! The page has no external resource (inline CSS, inline SVG, one small inline script that
//! sorts the target table) and a Content-Security-Policy that forbids any fetch and runs
//! only the script carrying this report's random nonce, so a string from an inventory or
//! a certificate that slipped past the escaping still could not run or phone home.
//!
//! Totals come first in the layout, so the sink keeps one small row per target (and one
//! mark per certificate seen) until `finish`; the full verify reports are dropped as soon
//! as they have been summarised.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use crate::check::policy::{Policy, TlsVersionReq};
use crate::clock::{self, UnixSeconds};
use crate::finding::Severity;
use crate::pki::describe::CertInfo;
use crate::report::audit::{failing_steps, AuditMeta, BundleResult, Sink, Summary, TargetResult};
use crate::report::Verdict;

const DAY: i64 = 86_400;
/// The timeline never spans more than this many days: a 20-year root would otherwise
/// squeeze every leaf that matters into the first pixels. Later marks sit in a "later" gutter.
const AXIS_CAP_DAYS: i64 = 3 * 365;
/// ... and never less, so the thresholds are visible even when everything expires soon.
const AXIS_MIN_DAYS: i64 = 90;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// One target, as much as the table needs.
struct Row {
    id: String,
    verdict: Verdict,
    tls: String,
    anchor: String,
    days: Option<i64>,
    failing: String,
    warning: String,
    policy: String,
    /// Passed with a warning: the "warn" cell (decided with the result).
    warned: bool,
}

/// One bundle, as much as its table needs.
struct BundleRow {
    id: String,
    verdict: Verdict,
    certificates: usize,
    problems: String,
}

/// Which lane of the timeline a certificate is drawn in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Leaf,
    Chain,
    Bundle,
}

impl Lane {
    const ALL: [Lane; 3] = [Lane::Leaf, Lane::Chain, Lane::Bundle];

    fn label(self) -> &'static str {
        match self {
            Lane::Leaf => "target leaves",
            Lane::Chain => "target chains",
            Lane::Bundle => "bundle members",
        }
    }
}

/// One certificate seen, as a mark on the timeline.
struct Mark {
    lane: Lane,
    not_after: UnixSeconds,
    days: i64,
    /// Hover text: owner, role, subject, date.
    title: String,
}

/// One finding, for the by-rule section.
struct FindingRow {
    rule: &'static str,
    severity: Severity,
    owner: String,
    message: String,
}

/// The HTML sink: collects rows in `target`/`bundle`, writes the page in `finish`.
pub(crate) struct HtmlSink {
    out: Box<dyn Write + Send>,
    now: UnixSeconds,
    warn_days: i64,
    fail_days: i64,
    rows: Vec<Row>,
    bundles: Vec<BundleRow>,
    marks: Vec<Mark>,
    findings: Vec<FindingRow>,
}

impl HtmlSink {
    pub(crate) fn new(out: Box<dyn Write + Send>) -> Self {
        HtmlSink {
            out,
            now: 0,
            warn_days: 30,
            fail_days: 0,
            rows: Vec::new(),
            bundles: Vec::new(),
            marks: Vec::new(),
            findings: Vec::new(),
        }
    }

    fn mark(&mut self, lane: Lane, owner: &str, c: &CertInfo) {
        let title = format!(
            "{owner} · {}: {}\nnotAfter {} ({} days)",
            c.role.as_str(),
            c.subject,
            c.not_after,
            c.days_left
        );
        self.marks.push(Mark {
            lane,
            not_after: c.raw.not_after,
            days: c.days_left,
            title,
        });
    }
}

impl Sink for HtmlSink {
    fn begin(&mut self, meta: &AuditMeta) -> io::Result<()> {
        self.now = meta.evaluated;
        self.warn_days = meta.policy.warn_days;
        self.fail_days = meta.policy.fail_days;
        Ok(())
    }

    fn target(&mut self, r: &TargetResult) -> io::Result<()> {
        let rep = &r.report;
        for (i, c) in rep.chain.iter().enumerate() {
            let lane = if i == 0 { Lane::Leaf } else { Lane::Chain };
            self.mark(lane, &r.id, c);
        }
        let warning = crate::report::audit::warning_steps(r);
        for f in &r.findings {
            self.findings.push(FindingRow {
                rule: f.rule,
                severity: f.severity,
                owner: r.id.clone(),
                message: f.message.clone(),
            });
        }
        let policy: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
        self.rows.push(Row {
            id: r.id.clone(),
            verdict: r.verdict,
            tls: tls_cell(rep),
            anchor: rep
                .anchor
                .as_ref()
                .map(|a| a.subject.clone())
                .unwrap_or_default(),
            days: rep.chain.first().map(|c| c.days_left),
            failing: failing_steps(r).join(", "),
            warning: warning.join(", "),
            policy: policy.join(", "),
            warned: r.warned,
        });
        Ok(())
    }

    fn bundle(&mut self, b: &BundleResult) -> io::Result<()> {
        for c in &b.file.certificates {
            self.mark(Lane::Bundle, &b.id, c);
        }
        for f in &b.file.findings {
            self.findings.push(FindingRow {
                rule: f.rule,
                severity: f.severity,
                owner: b.id.clone(),
                message: f.message.clone(),
            });
        }
        let problems = b.problems();
        self.bundles.push(BundleRow {
            id: b.id.clone(),
            verdict: b.verdict,
            certificates: b.file.certificates.len(),
            problems: problems.join(", "),
        });
        Ok(())
    }

    fn finish(&mut self, meta: &AuditMeta, summary: &Summary) -> io::Result<()> {
        let nonce = nonce();
        // Straight to the output: the page is never held whole in memory.
        let mut page = IoFmt {
            w: io::BufWriter::new(&mut self.out),
            err: None,
        };
        head(&mut page, &nonce, &meta.inventory);
        header(&mut page, meta, summary);
        timeline(
            &mut page,
            &self.marks,
            self.now,
            self.warn_days,
            self.fail_days,
        );
        target_table(&mut page, &self.rows);
        bundle_table(&mut page, &self.bundles);
        findings_by_rule(&mut page, &mut self.findings);
        tail(&mut page, &nonce);
        if let Some(e) = page.err {
            return Err(e);
        }
        page.w.flush()
    }
}

/// `fmt::Write` over an `io::Write`, keeping the first I/O error (a `fmt::Error` carries
/// none); after an error every later write is skipped.
struct IoFmt<W: Write> {
    w: W,
    err: Option<io::Error>,
}

impl<W: Write> std::fmt::Write for IoFmt<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.err.is_some() {
            return Err(std::fmt::Error);
        }
        self.w.write_all(s.as_bytes()).map_err(|e| {
            self.err = Some(e);
            std::fmt::Error
        })
    }
}

fn tls_cell(r: &crate::report::VerifyReport) -> String {
    match &r.tls {
        None => "none".into(),
        Some(t) => t.version.clone().unwrap_or_else(|| "-".into()),
    }
}

/// A fresh random CSP nonce (hex). If the system RNG fails the nonce is a fixed string:
/// the page still works, and escaping remains the first line of defence.
fn nonce() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut b = [0u8; 16];
    if SystemRandom::new().fill(&mut b).is_err() {
        return "tlsprobe-report".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const CSS: &str = r#"
:root{--fg:#1d2430;--muted:#5b6675;--line:#d5dbe3;--pass:#1a7f37;--warn:#b26a00;--fail:#c62828;--bg:#fff;--soft:#f5f7fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:14px;margin:14px 0 4px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.meta{color:var(--muted);margin:0 0 12px}.meta code{color:var(--fg)}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px;background:var(--soft)}
.tile b{display:block;font-size:26px;line-height:1.1}.tile.pass b{color:var(--pass)}.tile.warn b{color:var(--warn)}.tile.fail b{color:var(--fail)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--soft);cursor:pointer;user-select:none;white-space:nowrap}
th[data-dir=asc]::after{content:" \25B2"}th[data-dir=desc]::after{content:" \25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.id,td.steps{font-family:ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
td.id{min-width:18ch}td.tls{white-space:nowrap}th.num{text-align:right}
.v{font-weight:600;text-transform:uppercase;font-size:12px}.v.pass{color:var(--pass)}.v.warn{color:var(--warn)}.v.fail{color:var(--fail)}
.sev-error{color:var(--fail);font-weight:600}.sev-warn{color:var(--warn);font-weight:600}.sev-info{color:var(--muted)}
ul.findings{margin:0;padding-left:18px}
svg{width:100%;height:auto;display:block}
svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:var(--muted)}
svg .lane{fill:var(--soft);stroke:var(--line)}svg .axis{stroke:var(--muted)}svg .tick{stroke:var(--line)}
svg .thr-warn{stroke:var(--warn);stroke-dasharray:5 3;stroke-width:1.5}svg .thr-fail{stroke:var(--fail);stroke-dasharray:5 3;stroke-width:1.5}
svg .now{stroke:var(--fg);stroke-width:1.5}
svg .ok{fill:#2f6fbf;fill-opacity:.75}svg .soon{fill:var(--warn);stroke:#6b3f00;stroke-width:1}
svg .fail,svg .expired{fill:var(--fail);stroke:#5c0d0d;stroke-width:1}
svg .gutter{fill:#fdecea}svg .later{fill:#eef2f7}
.note{color:var(--muted);font-size:12px}
@media print{body{padding:0;max-width:none;font-size:11px}th{cursor:auto;white-space:normal}h2{break-after:avoid}tr,.tile,svg{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"#;

/// Sorts a table by the clicked column: numeric when both cells are numbers, else text.
const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],up=th.dataset.dir!=='asc';
th.closest('tr').querySelectorAll('th').forEach(function(h){delete h.dataset.dir});th.dataset.dir=up?'asc':'desc';
function k(r){var c=r.cells[i];return c.dataset.sort!==undefined?c.dataset.sort:c.textContent}
Array.prototype.slice.call(tb.rows).sort(function(a,b){var x=k(a),y=k(b),n=parseFloat(x)-parseFloat(y);
return (up?1:-1)*(isNaN(n)?x.localeCompare(y):n)}).forEach(function(r){tb.appendChild(r)})})});
"#;

fn head(p: &mut impl std::fmt::Write, nonce: &str, inventory: &str) {
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; script-src 'nonce-{nonce}'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>TLS compliance report: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(inventory)
    );
}

fn policy_line(p: &Policy) -> String {
    let tls = if p.min_tls_version == TlsVersionReq::V1_3 {
        "1.3"
    } else {
        "1.2"
    };
    let yes_no = |b: bool, y: &'static str, n: &'static str| if b { y } else { n };
    let mut s = format!(
        "min TLS {tls}; warn under {} days, fail under {} days; RSA ≥ {}, EC ≥ {} bits; SHA-1 {}; client auth {}; plaintext refusal {}",
        p.warn_days,
        p.fail_days,
        p.min_rsa_bits,
        p.min_ec_bits,
        yes_no(p.forbid_sha1, "forbidden", "allowed"),
        yes_no(p.require_client_auth, "required", "not required"),
        yes_no(p.require_plaintext_refused, "required", "not required"),
    );
    if let Some(c) = &p.allowed_cipher_suites {
        let _ = write!(s, "; cipher suites {}", c.join(" "));
    }
    s
}

fn header(p: &mut impl std::fmt::Write, meta: &AuditMeta, s: &Summary) {
    let (clean, warned) = (s.passed_clean, s.passed_with_warnings);
    let _ = write!(
        p,
        "<header>\n<h1>TLS compliance report</h1>\n<p class=\"meta\">Inventory <code>{}</code> · \
         evaluated at {} · generated {} by {}</p>\n<p class=\"meta\">Policy: {}</p>\n\
         <div class=\"tiles\">\n<div class=\"tile\"><b>{}</b>targets</div>\n\
         <div class=\"tile pass\" id=\"total-pass\"><b>{clean}</b>pass</div>\n\
         <div class=\"tile warn\" id=\"total-warn\"><b>{warned}</b>pass with warnings</div>\n\
         <div class=\"tile fail\" id=\"total-fail\"><b>{}</b>fail</div>\n\
         <div class=\"tile\"><b>{}</b>bundles ({} failed)</div>\n</div>\n</header>\n",
        esc(&meta.inventory),
        esc(&meta.evaluated_at),
        esc(&meta.started),
        esc(&meta.tool),
        esc(&policy_line(&meta.policy)),
        s.targets,
        s.failed,
        s.bundles,
        s.bundles_failed,
    );
}

/// The time axis: x for a time, with an "expired" gutter left of now and a "later"
/// gutter right of the cap.
struct Axis {
    now: UnixSeconds,
    end: UnixSeconds,
    x0: f64,
    x1: f64,
}

const SVG_W: f64 = 1000.0;
const LABEL_W: f64 = 110.0;
const GUTTER: f64 = 46.0;
const LANE_H: f64 = 64.0;
const TOP: f64 = 22.0;
const DOT: f64 = 7.0;

impl Axis {
    fn new(now: UnixSeconds, marks: &[Mark], warn_days: i64) -> Self {
        let furthest = marks.iter().map(|m| m.not_after).max().unwrap_or(now);
        let span = (furthest.saturating_sub(now) / DAY).clamp(
            AXIS_MIN_DAYS.max(warn_days.saturating_mul(2)),
            AXIS_CAP_DAYS,
        );
        Axis {
            now,
            end: now.saturating_add(span.saturating_mul(DAY)),
            x0: LABEL_W + GUTTER,
            x1: SVG_W - GUTTER,
        }
    }

    /// x of a time inside [now, end]; None outside (the gutters).
    fn x(&self, t: UnixSeconds) -> Option<f64> {
        if t < self.now || t > self.end {
            return None;
        }
        let f = (t - self.now) as f64 / (self.end - self.now).max(1) as f64;
        Some(self.x0 + f * (self.x1 - self.x0))
    }

    /// x of a mark: expired ones spread in the left gutter, later ones in the right.
    fn mark_x(&self, t: UnixSeconds) -> f64 {
        self.x(t).unwrap_or(if t < self.now {
            LABEL_W + GUTTER / 2.0
        } else {
            SVG_W - GUTTER / 2.0
        })
    }
}

/// The expiry timeline: one lane per kind of certificate, one circle per certificate,
/// circles in the same pixel column stacked upward so that none hides another (until a
/// lane is full).
fn timeline(
    s: &mut impl std::fmt::Write,
    marks: &[Mark],
    now: UnixSeconds,
    warn_days: i64,
    fail_days: i64,
) {
    let axis = Axis::new(now, marks, warn_days);
    let h = TOP + LANE_H * Lane::ALL.len() as f64 + 64.0;
    let _ = write!(
        s,
        "<section id=\"timeline\">\n<h2>Certificate expiry timeline</h2>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {SVG_W} {h}\" role=\"img\" \
         aria-label=\"certificate expiry timeline\">\n"
    );
    let bottom = TOP + LANE_H * Lane::ALL.len() as f64;
    let _ = write!(
        s,
        "<rect class=\"gutter\" x=\"{LABEL_W}\" y=\"{TOP}\" width=\"{GUTTER}\" height=\"{}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">expired</text>\n\
         <rect class=\"later\" x=\"{}\" y=\"{TOP}\" width=\"{GUTTER}\" height=\"{}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">later</text>\n",
        bottom - TOP,
        LABEL_W + GUTTER / 2.0,
        TOP - 6.0,
        axis.x1,
        bottom - TOP,
        axis.x1 + GUTTER / 2.0,
        TOP - 6.0,
    );
    for (i, lane) in Lane::ALL.iter().enumerate() {
        let y = TOP + LANE_H * i as f64;
        let _ = writeln!(
            s,
            "<rect class=\"lane\" x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{LANE_H}\"/>\
             <text x=\"4\" y=\"{}\">{}</text>",
            axis.x0,
            axis.x1 - axis.x0,
            y + LANE_H / 2.0 + 4.0,
            lane.label()
        );
    }
    ticks(s, &axis, bottom);
    thresholds(s, &axis, bottom, warn_days, fail_days);
    dots(s, &axis, marks, warn_days, fail_days);
    legend(s, bottom + 28.0, warn_days, fail_days);
    let _ = s.write_str("</svg>\n");
    let _ = write!(
        s,
        "<p class=\"note\">{} certificates. Axis from the evaluation time to the furthest \
         notAfter, at most {} days; later ones sit in the right gutter, expired ones in the \
         left. Hover a mark for its target and subject.</p>\n</section>\n",
        marks.len(),
        AXIS_CAP_DAYS
    );
}

fn ticks(s: &mut impl std::fmt::Write, axis: &Axis, bottom: f64) {
    const N: i64 = 6;
    for k in 0..=N {
        let t = axis.now + (axis.end - axis.now) / N * k;
        let Some(x) = axis.x(t) else { continue };
        let date = clock::rfc3339(t);
        let label = date.get(..10).unwrap_or(&date);
        let _ = writeln!(
            s,
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{bottom}\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            bottom + 14.0
        );
    }
    let _ = writeln!(
        s,
        "<line class=\"axis\" x1=\"{}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\"/>",
        axis.x0, axis.x1
    );
}

fn thresholds(
    s: &mut impl std::fmt::Write,
    axis: &Axis,
    bottom: f64,
    warn_days: i64,
    fail_days: i64,
) {
    let lines = [
        ("now", 0, "now".to_string()),
        ("thr-fail", fail_days, format!("fail &lt; {fail_days} d")),
        ("thr-warn", warn_days, format!("warn &lt; {warn_days} d")),
    ];
    for (i, (class, days, label)) in lines.iter().enumerate() {
        if i > 0 && *days <= 0 {
            continue; // a threshold at or before now is the now line itself
        }
        let Some(x) = axis.x(axis.now.saturating_add(days.saturating_mul(DAY))) else {
            continue;
        };
        let _ = writeln!(
            s,
            "<line class=\"{class}\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\"/>\
             <text x=\"{:.1}\" y=\"{}\">{label}</text>",
            TOP - 2.0,
            x + 3.0,
            // One row per label: the three lines are often a few pixels apart.
            bottom + 28.0 + 11.0 * i as f64
        );
    }
}

/// The colour key, right-aligned under the axis (plain circles: not `.mark`).
fn legend(s: &mut impl std::fmt::Write, y: f64, warn_days: i64, fail_days: i64) {
    let items = [
        ("expired", "expired".to_string()),
        ("fail", format!("under {fail_days} days")),
        ("soon", format!("under {warn_days} days")),
        ("ok", "later".to_string()),
    ];
    let mut x = SVG_W - 4.0 * 105.0;
    for (class, label) in items {
        let _ = writeln!(
            s,
            "<circle class=\"{class}\" cx=\"{x}\" cy=\"{}\" r=\"4\"/><text x=\"{}\" y=\"{y}\">{label}</text>",
            y - 4.0,
            x + 8.0
        );
        x += 105.0;
    }
}

fn dots(s: &mut impl std::fmt::Write, axis: &Axis, marks: &[Mark], warn_days: i64, fail_days: i64) {
    let per_lane = ((LANE_H - 4.0) / DOT).floor() as usize;
    let mut stacks: std::collections::HashMap<(usize, i64), usize> = Default::default();
    for m in marks {
        let lane = Lane::ALL.iter().position(|l| *l == m.lane).unwrap_or(0);
        let x = axis.mark_x(m.not_after);
        let col = (x / DOT).round() as i64;
        let n = stacks.entry((lane, col)).or_default();
        let level = (*n).min(per_lane.saturating_sub(1));
        *n += 1;
        let y = TOP + LANE_H * (lane as f64 + 1.0) - DOT / 2.0 - 2.0 - level as f64 * DOT;
        let class = if m.days < 0 {
            "expired"
        } else if m.days < fail_days {
            "fail"
        } else if m.days < warn_days {
            "soon"
        } else {
            "ok"
        };
        let r = if class == "ok" { 3.0 } else { 3.4 };
        let _ = writeln!(
            s,
            "<circle class=\"mark {class}\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"{r}\"><title>{}</title></circle>",
            col as f64 * DOT,
            esc(&m.title)
        );
    }
}

fn verdict_cell(v: Verdict, warned: bool) -> (&'static str, &'static str) {
    match (v, warned) {
        (Verdict::Fail, _) => ("fail", "fail"),
        (Verdict::Pass, true) => ("warn", "warn"),
        (Verdict::Pass, false) => ("pass", "pass"),
    }
}

fn target_table(p: &mut impl std::fmt::Write, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let _ = p.write_str(
        "<section id=\"targets\">\n<h2>Targets</h2>\n<table class=\"sortable\">\n<thead><tr>\
         <th>target</th><th>verdict</th><th>TLS</th><th>anchor</th><th class=\"num\">days left (leaf)</th>\
         <th>failing steps</th><th>warnings</th><th>policy findings</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let (class, word) = verdict_cell(r.verdict, r.warned);
        // Failures sort first, then warnings, then passes.
        let rank = match class {
            "fail" => 0,
            "warn" => 1,
            _ => 2,
        };
        let (days_sort, days) = match r.days {
            Some(d) => (d.to_string(), d.to_string()),
            None => (i64::MAX.to_string(), "-".into()),
        };
        let _ = writeln!(
            p,
            "<tr><td class=\"id\">{}</td><td class=\"v {class}\" data-sort=\"{rank}\">{word}</td>\
             <td class=\"tls\">{}</td><td>{}</td><td class=\"num\" data-sort=\"{days_sort}\">{days}</td>\
             <td class=\"steps\">{}</td><td class=\"steps\">{}</td><td class=\"steps\">{}</td></tr>",
            esc(&r.id),
            esc(&r.tls),
            esc(&r.anchor),
            esc(&r.failing),
            esc(&r.warning),
            esc(&r.policy),
        );
    }
    let _ = p.write_str("</tbody>\n</table>\n</section>\n");
}

fn bundle_table(p: &mut impl std::fmt::Write, rows: &[BundleRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = p.write_str(
        "<section id=\"bundles\">\n<h2>Bundles</h2>\n<table class=\"sortable\">\n<thead><tr>\
         <th>bundle</th><th>verdict</th><th class=\"num\">certificates</th><th>errors</th></tr></thead>\n<tbody>\n",
    );
    for b in rows {
        let (class, word) = verdict_cell(b.verdict, false);
        let _ = writeln!(
            p,
            "<tr><td class=\"id\">{}</td><td class=\"v {class}\">{word}</td>\
             <td class=\"num\">{}</td><td class=\"steps\">{}</td></tr>",
            esc(&b.id),
            b.certificates,
            esc(&b.problems),
        );
    }
    let _ = p.write_str("</tbody>\n</table>\n</section>\n");
}

fn findings_by_rule(p: &mut impl std::fmt::Write, findings: &mut [FindingRow]) {
    if findings.is_empty() {
        return;
    }
    // Worst first within a rule; rules alphabetical; stable, so inventory order otherwise.
    findings.sort_by(|a, b| a.rule.cmp(b.rule).then(b.severity.cmp(&a.severity)));
    let _ = p.write_str("<section id=\"findings\">\n<h2>Findings by rule</h2>\n");
    for group in findings.chunk_by(|a, b| a.rule == b.rule) {
        let _ = write!(
            p,
            "<h3 class=\"rule\">{} ({})</h3>\n<ul class=\"findings\">\n",
            esc(group[0].rule),
            group.len()
        );
        for f in group {
            let sev = f.severity.as_str();
            let _ = writeln!(
                p,
                "<li><span class=\"sev-{sev}\">{sev}</span> <code>{}</code>: {}</li>",
                esc(&f.owner),
                esc(&f.message)
            );
        }
        let _ = p.write_str("</ul>\n");
    }
    let _ = p.write_str("</section>\n");
}

fn tail(p: &mut impl std::fmt::Write, nonce: &str) {
    let _ = write!(
        p,
        "<script nonce=\"{nonce}\">{SCRIPT}</script>\n</body>\n</html>\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert!(matches!(esc("plain"), Cow::Borrowed(_)));
    }

    /// A writer that accepts `room` bytes, then fails.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = b.len().min(self.room);
            self.room -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_is_returned_not_swallowed() {
        let meta = AuditMeta {
            tool: "tlsprobe test".into(),
            started: clock::rfc3339(0),
            evaluated_at: clock::rfc3339(0),
            evaluated: 0,
            inventory: "inv.toml".into(),
            policy: Policy::default(),
            targets: 0,
            bundles: 0,
        };
        for room in [0, 100, 5000] {
            let mut sink = HtmlSink::new(Box::new(Full { room }));
            sink.begin(&meta).unwrap();
            let err = sink.finish(&meta, &Summary::default()).unwrap_err();
            assert_eq!(err.to_string(), "disk full", "room {room}");
        }
        let mut ok = HtmlSink::new(Box::new(Full { room: 1 << 20 }));
        ok.begin(&meta).unwrap();
        ok.finish(&meta, &Summary::default()).unwrap();
    }

    #[test]
    fn axis_is_capped_and_gutters_hold_the_rest() {
        let now = 1_700_000_000;
        let mark = |days: i64| Mark {
            lane: Lane::Leaf,
            not_after: now + days * DAY,
            days,
            title: String::new(),
        };
        let marks = [mark(-5), mark(10), mark(40 * 365)];
        let axis = Axis::new(now, &marks, 30);
        assert_eq!(axis.end, now + AXIS_CAP_DAYS * DAY);
        assert!(axis.mark_x(now - DAY) < axis.x0);
        assert!(axis.mark_x(now + 40 * 365 * DAY) > axis.x1);
        let x = axis.x(now + 10 * DAY).unwrap();
        assert!(x > axis.x0 && x < axis.x1);
        // Everything soon: the axis still shows at least AXIS_MIN_DAYS.
        let short = Axis::new(now, &marks[..2], 30);
        assert_eq!(short.end, now + AXIS_MIN_DAYS * DAY);
    }
}
