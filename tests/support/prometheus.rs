//! Test support for `tlsprobe exporter`: a real Prometheus server (Debian's `prometheus`)
//! with a generated prometheus.yml on a free loopback port, the exporter process itself,
//! and a minimal HTTP/1.1 client over std's TcpStream (loopback only).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::free_port;

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// One request on a fresh connection (`Connection: close`), bounded by `within`.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    within: Duration,
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect_timeout(&addr, within)?;
    s.set_read_timeout(Some(within))?;
    s.set_write_timeout(Some(within))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {head:?}")))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Answer { status, body })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `GET path` with a 30 s bound.
pub fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[], Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// A running `tlsprobe exporter`; killed on drop. Its stderr is collected.
pub struct Exporter {
    child: Child,
    pub addr: SocketAddr,
    pub config: std::path::PathBuf,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Exporter {
    /// Starts the exporter with `config` (TOML text) on a port chosen by the OS.
    pub fn start(config: &str, extra: &[&str]) -> Exporter {
        Self::start_env(config, extra, &[])
    }

    /// Like [`Exporter::start`], with environment variables.
    pub fn start_env(config: &str, extra: &[&str], env: &[(&str, &str)]) -> Exporter {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exporter.toml");
        std::fs::write(&path, config).unwrap();
        let mut cmd = super::tlsprobe();
        cmd.args(["exporter", "--config"])
            .arg(&path)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start tlsprobe exporter");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(a) = line.strip_prefix("tlsprobe exporter: listening on http://") {
                    let _ = tx.send(a.parse::<SocketAddr>().ok());
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(a)) => a,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("exporter did not start: {}", log.lock().unwrap());
            }
        };
        Exporter {
            child,
            addr,
            config: path,
            log,
            _dir: dir,
        }
    }

    /// Everything the exporter wrote on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`HUP`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits (bounded) for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// `/probe?...` with the given query.
    pub fn probe(&self, query: &str) -> Answer {
        get(self.addr, &format!("/probe?{query}"))
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running Prometheus server; killed on drop.
pub struct PrometheusServer {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts `prometheus` with `scrape_configs` (YAML list items, indented by two spaces)
    /// and the given global scrape interval and timeout.
    pub fn start(interval: &str, timeout: &str, scrape_configs: &str) -> PrometheusServer {
        let mut dir = tempfile::tempdir().unwrap();
        let yml = format!(
            "global:\n  scrape_interval: {interval}\n  scrape_timeout: {timeout}\n  evaluation_interval: {interval}\nscrape_configs:\n{scrape_configs}"
        );
        std::fs::write(dir.path().join("prometheus.yml"), &yml).unwrap();
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
            let child = Command::new("prometheus")
                .arg(format!(
                    "--config.file={}",
                    dir.path().join("prometheus.yml").display()
                ))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start prometheus ({e}): run scripts/install-deps.sh")
                });
            let mut p = PrometheusServer {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir,
            };
            if p.wait_ready(Duration::from_secs(30)) {
                return p;
            }
            last = p.log();
            let _ = p.child.kill();
            let _ = p.child.wait();
            dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("prometheus.yml"), &yml).unwrap();
        }
        panic!("prometheus did not start: {last}");
    }

    fn wait_ready(&mut self, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if request(self.addr, "GET", "/-/ready", &[], Duration::from_secs(2))
                .is_ok_and(|a| a.status == 200)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The data directory (inside a temporary directory).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `/api/v1/query?query=expr`: each series' labels and value.
    pub fn query(&self, expr: &str) -> Vec<(serde_json::Value, f64)> {
        let q: String = url::form_urlencoded::byte_serialize(expr.as_bytes()).collect();
        let a = get(self.addr, &format!("/api/v1/query?query={q}"));
        let v: serde_json::Value = serde_json::from_str(&a.body)
            .unwrap_or_else(|e| panic!("query {expr}: not JSON ({e}): {}", a.body));
        assert_eq!(v["status"], "success", "query {expr}: {}", a.body);
        v["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let value = s["value"][1].as_str().unwrap().parse().unwrap_or(f64::NAN);
                (s["metric"].clone(), value)
            })
            .collect()
    }

    /// Queries until `expr` returns at least `n` series, at most `within`.
    pub fn wait_for(
        &self,
        expr: &str,
        n: usize,
        within: Duration,
    ) -> Vec<(serde_json::Value, f64)> {
        let start = Instant::now();
        loop {
            let r = self.query(expr);
            if r.len() >= n {
                return r;
            }
            if start.elapsed() > within {
                panic!(
                    "{expr}: {} series after {within:?} (wanted {n}): {r:?}\n{}",
                    r.len(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback listener that accepts connections and never answers (a black hole),
/// holding every connection until dropped.
pub struct BlackHole {
    pub port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => held.push(s),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        BlackHole { port, stop }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
