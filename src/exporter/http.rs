//! The exporter's HTTP endpoints: `/probe`, `/metrics`, `/-/healthy`, `/-/reload`.
//!
//! Every refusal is a status and a one-line reason that never echoes a password: 400 for a
//! bad request, 403 for a target outside the allow list, 503 beyond `--max-concurrent`
//! (at once, so Prometheus records a failed scrape instead of a queue growing without
//! bound), 404 and 405 for other paths and methods.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{header, Method, Request, Response, StatusCode};

use super::metrics::ProbeResult;
use super::State;
use crate::inventory::TargetSpec;
use crate::report::audit::TargetResult;
use crate::report::prometheus::{self, Exposition, FAMILIES};
use crate::report::{Style, Verdict};

/// Time kept from the scrape timeout for the answer to travel back (blackbox's default).
const SCRAPE_MARGIN: Duration = Duration::from_millis(500);

/// The response body type.
pub(crate) type Body = Full<Bytes>;

fn text(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn plain(status: StatusCode, line: impl Into<String>) -> Response<Body> {
    let mut body = line.into();
    body.push('\n');
    text(status, "text/plain; charset=utf-8", body)
}

/// Routes one request.
pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let r = match (path.as_str(), get) {
        ("/probe", true) => probe(&state, &req).await,
        ("/metrics", true) => text(
            StatusCode::OK,
            prometheus::CONTENT_TYPE,
            state
                .metrics
                .render(state.in_flight(), state.max_concurrent),
        ),
        ("/-/healthy", true) => plain(StatusCode::OK, "Healthy"),
        ("/-/reload", _) if *req.method() == Method::POST => match state.reload() {
            Ok(()) => plain(StatusCode::OK, "configuration reloaded"),
            Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("error: {e}")),
        },
        ("/-/reload", _) => plain(StatusCode::METHOD_NOT_ALLOWED, "use POST /-/reload"),
        ("/probe" | "/metrics" | "/-/healthy", false) => {
            plain(StatusCode::METHOD_NOT_ALLOWED, "use GET")
        }
        ("/", true) => plain(
            StatusCode::OK,
            "tlsprobe exporter: /probe?target=HOST:PORT&module=NAME, /metrics, /-/healthy, POST /-/reload",
        ),
        _ => plain(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(r)
}

/// The query parameters of `/probe`.
struct ProbeQuery {
    target: Option<String>,
    module: Option<String>,
    debug: bool,
}

fn query(req: &Request<Incoming>) -> ProbeQuery {
    let mut q = ProbeQuery {
        target: None,
        module: None,
        debug: false,
    };
    let raw = req.uri().query().unwrap_or("");
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        match k.as_ref() {
            "target" => q.target = Some(v.into_owned()),
            "module" => q.module = Some(v.into_owned()),
            "debug" => q.debug = v == "true",
            _ => {}
        }
    }
    q
}

/// The time a probe may take: the scrape timeout Prometheus sends, less a margin.
fn budget(req: &Request<Incoming>) -> Option<Duration> {
    let secs: f64 = req
        .headers()
        .get("x-prometheus-scrape-timeout-seconds")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)?;
    let total = Duration::from_secs_f64(secs.min(3600.0));
    // Half of a very short timeout rather than nothing at all.
    Some(total.saturating_sub(SCRAPE_MARGIN).max(total / 2))
}

/// A refusal: counted, and answered with one line.
fn refuse(state: &State, status: StatusCode, line: String) -> Response<Body> {
    state.metrics.refused(status.as_u16());
    plain(status, line)
}

async fn probe(state: &State, req: &Request<Incoming>) -> Response<Body> {
    let q = query(req);
    let config = state.config();
    let Some(target) = q.target.filter(|t| !t.trim().is_empty()) else {
        return refuse(
            state,
            StatusCode::BAD_REQUEST,
            "missing parameter `target`".into(),
        );
    };
    let module = match q.module.as_deref() {
        Some(name) => match config.modules.get(name) {
            Some(m) => m,
            None => {
                let known: Vec<&str> = config.modules.keys().map(String::as_str).collect();
                let shown = if name.len() <= 64 && name.bytes().all(|b| b.is_ascii_graphic()) {
                    format!("{name:?}")
                } else {
                    "given".into()
                };
                let line = format!("unknown module {shown} (modules: {})", known.join(", "));
                return refuse(state, StatusCode::BAD_REQUEST, line);
            }
        },
        None if config.modules.len() == 1 => config
            .modules
            .values()
            .next()
            .unwrap_or_else(|| unreachable!()),
        None => {
            return refuse(
                state,
                StatusCode::BAD_REQUEST,
                "missing parameter `module`".into(),
            )
        }
    };
    let parsed = match crate::target::parse(&target) {
        Ok(t) => t,
        // The message names the target with any password redacted.
        Err(e) => return refuse(state, StatusCode::BAD_REQUEST, format!("error: {e}")),
    };
    if parsed.password.is_some() {
        let line = "the target holds a password: the exporter never takes one in a request; use pass_env or pass_file in the module";
        return refuse(state, StatusCode::BAD_REQUEST, line.into());
    }
    if let Some(allow) = &config.allow {
        if !allow.allows(&parsed.host) {
            let line = format!("target host {} is not in the allow list", parsed.host);
            return refuse(state, StatusCode::FORBIDDEN, line);
        }
    }
    let Ok(permit) = state.gate.clone().try_acquire_owned() else {
        let line = format!(
            "{} probes in flight (--max-concurrent): try again later",
            state.max_concurrent
        );
        return refuse(state, StatusCode::SERVICE_UNAVAILABLE, line);
    };
    let budget = budget(req);
    // Steps get three quarters of the budget, so that a black hole fails its step and is
    // reported with the step that hung, before the whole probe is cut off.
    let step_timeout = budget.map_or(module.timeout(), |b| module.timeout().min(b * 3 / 4));
    let plan = match module.plan(&target, step_timeout) {
        Ok(p) => p,
        Err(e) => return refuse(state, StatusCode::BAD_REQUEST, format!("error: {e}")),
    };
    let started = Instant::now();
    let spec = TargetSpec {
        id: plan.target.display(),
        plan,
        credentials_error: None,
        discover: None,
        expect: None,
    };
    let run = crate::audit::verify_one(spec, &module.policy, None, None);
    let result = match budget {
        Some(b) => tokio::time::timeout(b, run).await.ok(),
        None => Some(run.await),
    };
    drop(permit);
    let seconds = started.elapsed().as_secs_f64();
    let outcome = match &result {
        None => ProbeResult::Timeout,
        Some(r) if r.verdict == Verdict::Pass => ProbeResult::Success,
        Some(_) => ProbeResult::Failure,
    };
    state.metrics.probe(&module.name, outcome, seconds);
    let metrics = exposition(result.as_ref(), seconds);
    if q.debug {
        return text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            debug_text(result.as_ref(), module.policy.warn_days, &metrics),
        );
    }
    text(StatusCode::OK, prometheus::CONTENT_TYPE, metrics)
}

/// The probe's metrics; after a timeout only `probe_success 0` and the duration.
fn exposition(result: Option<&TargetResult>, seconds: f64) -> String {
    let mut e = Exposition::new(FAMILIES);
    match result {
        Some(r) => prometheus::add_probe(&mut e, &[], r),
        None => {
            e.add("probe_success", "", &[], 0.0);
            e.add("probe_duration_seconds", "", &[], seconds);
        }
    }
    e.render()
}

/// `debug=true`: the human verify report, the policy findings, then the metrics.
fn debug_text(result: Option<&TargetResult>, warn_days: i64, metrics: &str) -> String {
    let mut out = match result {
        Some(r) => {
            let mut s = crate::report::human::verify(&r.report, warn_days, Style::plain());
            for f in &r.findings {
                s.push_str(&format!("policy {} {}: {}\n", f.severity.as_str(), f.rule, f.message));
            }
            s
        }
        None => "the probe did not finish before the scrape deadline (X-Prometheus-Scrape-Timeout-Seconds less 0.5 s)\n".into(),
    };
    out.push_str("\nmetrics:\n");
    out.push_str(metrics);
    out
}
