//! `tlsprobe exporter`: a Prometheus multi-target exporter in the style of
//! blackbox_exporter. Prometheus schedules, shards and stores; each `/probe` runs one
//! verification (the same engine and steps as `verify`, judged against the module's
//! policy as `audit` does) and answers the metric families of
//! [`crate::report::prometheus`].
//!
//! # Layout
//!
//! - `config`: the TOML file (`[module.NAME]`, `allow`), parsed with the inventory's code.
//! - `allow`: the allow list (host globs, IPs, CIDRs).
//! - `http`: the endpoints and their refusals.
//! - `metrics`: the exporter's own `/metrics`.
//!
//! Life cycle: the configuration is loaded before listening (a bad one is exit 2);
//! SIGHUP and `POST /-/reload` swap in a new one atomically or keep the old one and log
//! why; SIGTERM (and Ctrl-C) stop accepting, let in-flight probes answer, and exit 0.

mod allow;
mod config;
mod http;
mod metrics;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Semaphore;

use crate::cli::ExporterArgs;
use crate::error::InputError;
use crate::finding::exit;

/// How long a client may take to send a request's headers.
const HEADER_READ_LIMIT: Duration = Duration::from_secs(10);

/// How long SIGTERM waits for in-flight probes before exiting anyway.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// What every request shares.
pub(crate) struct State {
    config_path: PathBuf,
    config: RwLock<Arc<config::Config>>,
    gate: Arc<Semaphore>,
    max_concurrent: usize,
    metrics: metrics::Metrics,
}

impl State {
    /// The configuration in force (a reload never changes it under a running probe).
    fn config(&self) -> Arc<config::Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn in_flight(&self) -> usize {
        self.max_concurrent - self.gate.available_permits()
    }

    /// Reads the configuration file again; on error the old configuration stays.
    fn reload(&self) -> Result<(), InputError> {
        match config::load(&self.config_path) {
            Ok(c) => {
                for w in &c.warnings {
                    eprintln!("warning: {w}");
                }
                let n = c.modules.len();
                *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
                self.metrics.reloaded(true);
                eprintln!("tlsprobe exporter: configuration reloaded ({n} modules)");
                Ok(())
            }
            Err(e) => {
                self.metrics.reloaded(false);
                eprintln!("error: {e} (reload refused; keeping the previous configuration)");
                Err(e)
            }
        }
    }
}

/// `tlsprobe exporter`.
pub(crate) fn run(args: &ExporterArgs) -> u8 {
    match start(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            exit::INPUT
        }
    }
}

fn start(args: &ExporterArgs) -> Result<u8, InputError> {
    if args.max_concurrent == 0 {
        return Err(InputError::new("--max-concurrent", "must be at least 1"));
    }
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        InputError::new(
            format!("--listen {}", args.listen),
            "expected ADDR:PORT, e.g. 127.0.0.1:9612 or 0.0.0.0:9612",
        )
    })?;
    let config = config::load(&args.config)?;
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    let state = Arc::new(State {
        config_path: args.config.clone(),
        config: RwLock::new(Arc::new(config)),
        gate: Arc::new(Semaphore::new(args.max_concurrent)),
        max_concurrent: args.max_concurrent,
        metrics: metrics::Metrics::default(),
    });
    state.metrics.reloaded(true);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| InputError::new("runtime", format!("cannot start: {e}")))?;
    runtime.block_on(serve(addr, state))
}

async fn serve(addr: SocketAddr, state: Arc<State>) -> Result<u8, InputError> {
    let signal_err = |e: std::io::Error| InputError::new("signals", e.to_string());
    let mut term = signal(SignalKind::terminate()).map_err(signal_err)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signal_err)?;
    let mut hup = signal(SignalKind::hangup()).map_err(signal_err)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| InputError::new(format!("--listen {addr}"), format!("cannot listen: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| InputError::new(format!("--listen {addr}"), e.to_string()))?;
    eprintln!("tlsprobe exporter: listening on http://{local}");
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let state = state.clone();
                    let svc = service_fn(move |req| http::handle(state.clone(), req));
                    // A client that connects and sends nothing (or a header a byte at a
                    // time) is dropped instead of holding its connection forever.
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEADER_READ_LIMIT)
                        .serve_connection(TokioIo::new(stream), svc);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        // A client that goes away mid-request is its own business.
                        let _ = conn.await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors, most likely: back off instead of spinning.
                    eprintln!("error: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = hup.recv() => {
                let _ = state.reload();
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    drop(listener);
    eprintln!(
        "tlsprobe exporter: shutting down, draining {} in-flight probes",
        state.in_flight()
    );
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_LIMIT) => {
            eprintln!("error: in-flight probes still running after {}s; exiting", DRAIN_LIMIT.as_secs());
        }
    }
    Ok(exit::PASS)
}
