//! Test support: a real PostgreSQL server on a free loopback port.
//!
//! `PostgresServer::start` runs `initdb` into a fresh temporary directory, creates the
//! role and database `app` in single-user mode, writes a `pg_hba.conf` for the chosen
//! [`Hba`], and starts `postgres` with the testdata PKI (`server-chain.pem`, `server.key`,
//! client certificates checked against `serving-root.pem`). PostgreSQL refuses to run as
//! root, so under root every PostgreSQL program runs as the `postgres` system user (or a
//! `tlsprobe-test` user created for the purpose) through `setpriv`, which execs rather than
//! forks: the child we hold is the postmaster itself, so Drop can stop it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{free_port, testdata};

/// The role that matches the CN of `testdata/client.pem`: `clientcert=verify-full` only
/// lets that certificate log in as this role. It has the same password as `app`.
pub const CERT_USER: &str = "redis_user";

/// Which `pg_hba.conf` the server gets (loopback TCP only; the Unix socket is trusted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hba {
    /// `host all all 127.0.0.1/32 scram-sha-256`: plaintext and TLS.
    HostAny,
    /// `hostssl ... scram-sha-256`: a plaintext startup is refused ("no pg_hba.conf entry
    /// ... no encryption").
    #[default]
    HostSslOnly,
    /// `hostssl ... scram-sha-256 clientcert=verify-full`.
    ClientCertRequired,
    /// `hostssl ... trust`.
    Trust,
}

impl Hba {
    fn lines(self) -> String {
        let (kind, method) = match self {
            Hba::HostAny => ("host", "scram-sha-256"),
            Hba::HostSslOnly => ("hostssl", "scram-sha-256"),
            Hba::ClientCertRequired => ("hostssl", "scram-sha-256 clientcert=verify-full"),
            Hba::Trust => ("hostssl", "trust"),
        };
        format!(
            "local all all trust\n\
             {kind} all all 127.0.0.1/32 {method}\n\
             {kind} all all ::1/128 {method}\n"
        )
    }
}

/// How a test PostgreSQL is set up.
#[derive(Clone, Default)]
pub struct PgOpts {
    /// `ssl = on` with testdata `server-chain.pem` / `server.key`, `ssl_ca_file =
    /// serving-root.pem` (client certificates are requested, and checked when sent).
    pub ssl: bool,
    pub hba: Hba,
    /// Password of the roles `app` and [`CERT_USER`] (stored as SCRAM-SHA-256); `None`:
    /// they have none. The database is `app`.
    pub password: Option<&'static str>,
}

/// A running PostgreSQL; stopped and removed on drop.
pub struct PostgresServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// Where the PostgreSQL programs are, and as whom they run.
struct Install {
    bin: PathBuf,
    /// `Some((uid, gid))` when tests run as root.
    run_as: Option<(u32, u32)>,
}

fn install() -> &'static Install {
    static INSTALL: OnceLock<Install> = OnceLock::new();
    INSTALL.get_or_init(|| Install {
        bin: bin_dir(),
        run_as: if current_uid() == 0 {
            Some(unprivileged_user())
        } else {
            None
        },
    })
}

/// The newest `/usr/lib/postgresql/N/bin` holding `initdb`, else the `PATH` entry that does.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|p| p.join("initdb").exists() && p.join("postgres").exists())
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL not found (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH): \
                 run scripts/test.sh, which installs it"
            )
        })
}

fn current_uid() -> u32 {
    id(&["-u"]).expect("id -u")
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// The `postgres` system user (Debian's package creates it), else `tlsprobe-test`,
/// created here if needed.
fn unprivileged_user() -> (u32, u32) {
    for name in ["postgres", "tlsprobe-test"] {
        if let (Some(u), Some(g)) = (id(&["-u", name]), id(&["-g", name])) {
            return (u, g);
        }
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "tlsprobe-test",
        ])
        .status();
    match (id(&["-u", "tlsprobe-test"]), id(&["-g", "tlsprobe-test"])) {
        (Some(u), Some(g)) => (u, g),
        _ => panic!("no unprivileged user to run PostgreSQL as (useradd: {status:?})"),
    }
}

/// A PostgreSQL program, run as the unprivileged user when we are root.
fn pg_command(program: &str) -> Command {
    let inst = install();
    let path = inst.bin.join(program);
    let mut c = match inst.run_as {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid",
                &uid.to_string(),
                "--regid",
                &gid.to_string(),
                "--clear-groups",
                "--",
            ])
            .arg(path);
            c
        }
        None => Command::new(path),
    };
    // English server messages whatever the host's locale.
    c.env("LC_ALL", "C").env_remove("PGDATA");
    c
}

/// Gives `path` to the unprivileged user (when we are root) with `mode`.
fn hand_over(path: &Path, mode: u32) {
    if let Some((uid, gid)) = install().run_as {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl PostgresServer {
    pub fn start(opts: PgOpts) -> PostgresServer {
        let dir = tempfile::Builder::new()
            .prefix("tlsprobe-pg-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        hand_over(&root, 0o700);
        for (name, mode) in [
            ("server-chain.pem", 0o644),
            ("server.key", 0o600),
            ("serving-root.pem", 0o644),
        ] {
            let to = root.join(name);
            fs::copy(testdata(name), &to).unwrap();
            hand_over(&to, mode);
        }
        let data = root.join("data");

        let out = pg_command("initdb")
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .current_dir(&root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb: {e}"));
        if !out.status.success() {
            panic!(
                "initdb failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let password = opts
            .password
            .map(|p| format!(" PASSWORD {}", sql_literal(p)))
            .unwrap_or_default();
        let setup = root.join("setup.sql");
        fs::write(
            &setup,
            format!(
                "CREATE ROLE app LOGIN{password};\n\
                 CREATE ROLE {CERT_USER} LOGIN{password};\n\
                 CREATE DATABASE app OWNER app;\n"
            ),
        )
        .unwrap();
        let out = pg_command("postgres")
            .args(["--single", "-D"])
            .arg(&data)
            .args(["-c", "fsync=off", "postgres"])
            .stdin(fs::File::open(&setup).unwrap())
            .current_dir(&root)
            .output()
            .unwrap_or_else(|e| panic!("cannot run postgres --single: {e}"));
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() || said.contains("ERROR:") {
            panic!("creating role and database app failed:\n{said}");
        }

        let hba = root.join("pg_hba.conf");
        fs::write(&hba, opts.hba.lines()).unwrap();
        hand_over(&hba, 0o644);

        let mut last_log = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log_path = root.join(format!("postgres-{port}.log"));
            let log = fs::File::create(&log_path).unwrap();
            let mut cmd = pg_command("postgres");
            cmd.arg("-D").arg(&data).args(["-p", &port.to_string()]);
            let mut set = |k: &str, v: String| {
                cmd.args(["-c", &format!("{k}={v}")]);
            };
            set("listen_addresses", "127.0.0.1,::1".into());
            set("unix_socket_directories", root.display().to_string());
            set("hba_file", hba.display().to_string());
            set("fsync", "off".into());
            set("synchronous_commit", "off".into());
            set("full_page_writes", "off".into());
            set("shared_buffers", "16MB".into());
            set("max_connections", "20".into());
            set("log_connections", "on".into());
            set("ssl", if opts.ssl { "on" } else { "off" }.into());
            if opts.ssl {
                set(
                    "ssl_cert_file",
                    root.join("server-chain.pem").display().to_string(),
                );
                set(
                    "ssl_key_file",
                    root.join("server.key").display().to_string(),
                );
                set(
                    "ssl_ca_file",
                    root.join("serving-root.pem").display().to_string(),
                );
            }
            let mut child = cmd
                .current_dir(&root)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start postgres: {e}"));
            let ready = wait_ready(&mut child, port, &log_path, Duration::from_secs(20));
            last_log = fs::read_to_string(&log_path).unwrap_or_default();
            // Another process may have taken 127.0.0.1:port while postgres bound ::1 only.
            if ready && !last_log.contains("could not bind IPv4") {
                return PostgresServer { child, port, dir };
            }
            stop(&mut child);
            if !last_log.contains("could not bind") {
                break;
            }
        }
        panic!("postgres did not start:\n{last_log}");
    }

    /// The server log so far (connections are logged), for diagnostics.
    pub fn log(&self) -> String {
        let mut out = String::new();
        if let Ok(entries) = fs::read_dir(self.dir.path()) {
            let mut logs: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            logs.sort();
            for p in logs {
                out.push_str(&fs::read_to_string(p).unwrap_or_default());
            }
        }
        out
    }
}

/// Ready when the postmaster logged so and `pg_isready` agrees over TCP.
fn wait_ready(child: &mut Child, port: u16, log: &Path, within: Duration) -> bool {
    let start = Instant::now();
    let pg_isready = install().bin.join("pg_isready");
    while start.elapsed() < within {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let logged = fs::read_to_string(log)
            .map(|l| l.contains("ready to accept connections"))
            .unwrap_or(false);
        if logged {
            if !pg_isready.exists() {
                return true;
            }
            let ok = Command::new(&pg_isready)
                .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
                .args(["-t", "2", "-d", "app"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Fast shutdown (SIGINT: backends are told to exit, no waiting for clients), then
/// SIGKILL if the postmaster is still there after 10 s.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}
