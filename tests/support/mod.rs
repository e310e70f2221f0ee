//! Test support: real peers on loopback ports, and the tlsprobe binary.
//!
//! `RedisServer` starts a real `redis-server` (Debian's is built with TLS) with the
//! testdata PKI on a free port, waits until it accepts connections, and kills it on drop.

#![allow(dead_code)]

pub mod cluster;
pub mod faults;
pub mod mysql;
pub mod postgres;
pub mod prometheus;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The testdata directory.
pub fn testdata(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
        .display()
        .to_string()
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The tlsprobe binary with a clean environment for tests.
pub fn tlsprobe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tlsprobe"));
    c.env_remove("REDISCLI_AUTH").env("NO_COLOR", "1");
    c
}

/// Runs tlsprobe with `args`.
pub fn run(args: &[&str]) -> Output {
    tlsprobe().args(args).output().expect("run tlsprobe")
}

/// stdout, stderr and exit code of a run.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

pub fn run_text(args: &[&str]) -> Run {
    let o = run(args);
    Run {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    }
}

/// `verify --format json` parsed, with the exit code.
pub fn verify_json(args: &[&str]) -> (serde_json::Value, i32, String) {
    let mut all = vec!["verify", "--format", "json"];
    all.extend_from_slice(args);
    let r = run_text(&all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", r.stdout, r.stderr));
    (v, r.code, r.stderr)
}

/// The status of one step in a verify JSON report.
pub fn status<'a>(v: &'a serde_json::Value, step: &str) -> &'a str {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == step)
        .map(|c| c["status"].as_str().unwrap())
        .unwrap_or("absent")
}

/// Every step as `check=status (message)`, one per line: context for a failed assertion.
pub fn steps(v: &serde_json::Value) -> String {
    v["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    format!(
                        "  {}={} ({})",
                        c["check"].as_str().unwrap_or("?"),
                        c["status"].as_str().unwrap_or("?"),
                        c["message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The message of one step.
pub fn message(v: &serde_json::Value, step: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == step)
        .map(|c| c["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// How a test Redis is set up.
#[derive(Clone, Default)]
pub struct RedisOpts {
    /// TLS port with this certificate chain and key (testdata names); `None`: plaintext only.
    pub tls: Option<(&'static str, &'static str)>,
    /// `--tls-auth-clients`: "no", "yes", "optional".
    pub auth_clients: Option<&'static str>,
    /// CA file the server trusts for client certificates.
    pub client_ca: Option<&'static str>,
    /// `--tls-protocols`, e.g. "TLSv1.2".
    pub protocols: Option<&'static str>,
    pub requirepass: Option<&'static str>,
    /// ACL `user` directives, e.g. "alice on >pw ~* &* +@all".
    pub users: Vec<&'static str>,
    /// Also listen in plaintext on the same server (a second port).
    pub plaintext_too: bool,
}

/// A running redis-server; killed on drop.
pub struct RedisServer {
    child: Child,
    /// The TLS port, or the plaintext port for a plaintext-only server.
    pub port: u16,
    /// The plaintext port when `plaintext_too` (or plaintext-only).
    pub plain_port: Option<u16>,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    pub fn start(opts: RedisOpts) -> RedisServer {
        Self::start_with(None, opts)
    }

    /// Like [`RedisServer::start`], but the TLS port (or the plaintext port of a
    /// plaintext-only server) is `port`: no retry on another port.
    pub fn start_on(port: u16, opts: RedisOpts) -> RedisServer {
        Self::start_with(Some(port), opts)
    }

    fn start_with(fixed_port: Option<u16>, opts: RedisOpts) -> RedisServer {
        let mut dir = tempfile::tempdir().unwrap();
        let mut last_err = String::new();
        let tries = if fixed_port.is_some() { 1 } else { 5 };
        for _ in 0..tries {
            let port = fixed_port.unwrap_or_else(free_port);
            let mut args: Vec<String> = vec![
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "no".into(),
                "--bind".into(),
                "127.0.0.1 ::1".into(),
                "--dir".into(),
                dir.path().display().to_string(),
                "--logfile".into(),
                dir.path().join("redis.log").display().to_string(),
            ];
            let mut plain_port = None;
            match opts.tls {
                Some((cert, key)) => {
                    let pp = if opts.plaintext_too { free_port() } else { 0 };
                    if pp != 0 {
                        plain_port = Some(pp);
                    }
                    args.extend([
                        "--port".into(),
                        pp.to_string(),
                        "--tls-port".into(),
                        port.to_string(),
                    ]);
                    args.extend([
                        "--tls-cert-file".into(),
                        testdata(cert),
                        "--tls-key-file".into(),
                        testdata(key),
                    ]);
                    args.extend([
                        "--tls-ca-cert-file".into(),
                        testdata(opts.client_ca.unwrap_or("serving-root.pem")),
                    ]);
                    args.extend([
                        "--tls-auth-clients".into(),
                        opts.auth_clients.unwrap_or("no").into(),
                    ]);
                    if let Some(p) = opts.protocols {
                        args.extend(["--tls-protocols".into(), p.into()]);
                    }
                }
                None => {
                    args.extend(["--port".into(), port.to_string()]);
                    plain_port = Some(port);
                }
            }
            if let Some(pw) = opts.requirepass {
                args.extend(["--requirepass".into(), pw.into()]);
            }
            for u in &opts.users {
                // One argument per word: redis-server quotes each command-line argument,
                // so a whole directive in one argument would be read as a user name
                // ("Spaces not allowed in ACL usernames") and the server would exit.
                args.push("--user".into());
                args.extend(u.split_whitespace().map(String::from));
            }
            let child = Command::new("redis-server")
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start redis-server ({e}): run scripts/test.sh, which installs it"
                    )
                });
            let mut server = RedisServer {
                child,
                port,
                plain_port,
                _dir: dir,
            };
            dir = tempfile::tempdir().unwrap();
            if server.wait_ready(Duration::from_secs(10)) {
                return server;
            }
            last_err =
                std::fs::read_to_string(server._dir.path().join("redis.log")).unwrap_or_default();
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
        panic!("redis-server did not start: {last_err}");
    }

    fn wait_ready(&mut self, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `rediss://localhost:PORT` (or `redis://` for a plaintext-only server).
    pub fn url(&self) -> String {
        format!("rediss://localhost:{}", self.port)
    }

    pub fn plain_url(&self) -> String {
        format!(
            "redis://localhost:{}",
            self.plain_port.expect("no plaintext port")
        )
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP listener on loopback that accepts and never answers (a black hole).
pub struct SilentListener {
    pub port: u16,
    _thread: std::thread::JoinHandle<()>,
}

impl SilentListener {
    pub fn start() -> SilentListener {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                held.push(s);
                if held.len() > 64 {
                    break;
                }
            }
        });
        SilentListener { port, _thread: t }
    }
}

/// A listener that answers every connection with fixed bytes, then closes.
pub fn banner_listener(reply: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply);
        }
    });
    port
}

/// `openssl s_server` (TLS, no Redis) serving `server.pem` + `intermediate.pem` that asks
/// for a client certificate and lists the subjects of `client_ca` (a testdata name) as
/// acceptable CA names, which redis-server 7.0 does not send. Killed on drop.
pub struct OpensslServer {
    child: Child,
    pub port: u16,
}

impl OpensslServer {
    pub fn start_requesting_client_cert(client_ca: &str) -> OpensslServer {
        let args = [
            "-cert",
            &testdata("server.pem"),
            "-key",
            &testdata("server.key"),
            "-cert_chain",
            &testdata("intermediate.pem"),
            "-CAfile",
            &testdata(client_ca),
            "-verify",
            "1",
        ]
        .map(String::from);
        Self::start(&args, Stdio::null())
    }

    /// Serves `cert`/`key` with the extra `chain` certificates (testdata names) and writes
    /// whatever a client sends to `received` (openssl s_server -quiet echoes it).
    pub fn serving(
        cert: &str,
        key: &str,
        chain: &str,
        received: &std::path::Path,
    ) -> OpensslServer {
        let args = [
            "-cert",
            &testdata(cert),
            "-key",
            &testdata(key),
            "-cert_chain",
            &testdata(chain),
        ]
        .map(String::from);
        Self::start(&args, Stdio::from(std::fs::File::create(received).unwrap()))
    }

    fn start(args: &[String], stdout: Stdio) -> OpensslServer {
        let mut stdout = Some(stdout);
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("openssl")
                .args([
                    "s_server",
                    "-quiet",
                    "-accept",
                    &format!("127.0.0.1:{port}"),
                ])
                .args(args)
                .stdin(Stdio::piped())
                .stdout(stdout.take().unwrap_or(Stdio::null()))
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start openssl s_server: {e}"));
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(st)) = child.try_wait() {
                    last_err = format!("openssl s_server exited: {st}");
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return OpensslServer { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("openssl s_server did not start: {last_err}");
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority generated with rcgen, for tests that need a PKI of their own
/// (multi-OU subjects, CRLs). `pem` is its certificate.
pub struct GenCa {
    pub pem: String,
    pub issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

/// Long-lived validity (2024-01-01 .. 2124-01-01), like the fixtures.
pub fn long_lived(p: &mut rcgen::CertificateParams) {
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2124, 1, 1);
}

/// A CA named `cn`: self-signed, or issued by `parent`.
pub fn gen_ca(cn: &str, parent: Option<&GenCa>) -> GenCa {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = parent.is_some();
    long_lived(&mut p);
    let key = KeyPair::generate().unwrap();
    let issuer = match parent {
        Some(par) => rcgen::CertifiedIssuer::signed_by(p, key, &par.issuer).unwrap(),
        None => rcgen::CertifiedIssuer::self_signed(p, key).unwrap(),
    };
    GenCa {
        pem: issuer.pem(),
        issuer,
    }
}

/// A leaf issued by `ca`: long-lived, clientAuth, AKI; `tweak` sets the subject and the rest.
/// Returns the certificate PEM.
pub fn gen_leaf(ca: &GenCa, tweak: impl FnOnce(&mut rcgen::CertificateParams)) -> String {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose};
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.use_authority_key_identifier_extension = true;
    long_lived(&mut p);
    tweak(&mut p);
    let key = KeyPair::generate().unwrap();
    p.signed_by(&key, &ca.issuer).unwrap().pem()
}

/// Writes `contents` to `dir/name` and returns the path as a string.
pub fn write_file(dir: &std::path::Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.display().to_string()
}
