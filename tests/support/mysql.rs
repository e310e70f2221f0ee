//! Test support: a real MariaDB server on a free loopback port.
//!
//! Each [`MariaDbServer`] gets its own temporary data directory (`mariadb-install-db`,
//! about a second with a 4 MiB redo log), the testdata PKI when `ssl`, a database `app`
//! and a user `'app'@'%'` (`mysql_native_password`). It is ready when the port answers
//! with a MySQL greeting, which the server sends only after running its init file. The
//! server is killed and its directory removed on drop.

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, testdata};

/// How a test MariaDB is set up.
#[derive(Clone, Default)]
pub struct MyOpts {
    /// TLS with `server-chain.pem` / `server.key`, client CA `serving-root.pem`.
    /// Off: MariaDB 10.11 has no certificate, and its greeting lacks `CLIENT_SSL`.
    pub ssl: bool,
    /// `--require-secure-transport=ON`.
    pub require_secure_transport: bool,
    /// Password of `'app'@'%'` (`mysql_native_password`); `None`: no password.
    pub password: Option<&'static str>,
}

/// A running `mariadbd`; killed on drop.
pub struct MariaDbServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// Runs as root (then the server needs `--user=root`).
fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn sql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

impl MariaDbServer {
    pub fn start(opts: MyOpts) -> MariaDbServer {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // A private tmpdir: a starting mariadbd deletes `#sql*` files in its tmpdir,
        // which would pull temporary tables from under a parallel test's bootstrap.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let mut install = Command::new("mariadb-install-db");
        install.env("TMPDIR", &tmp);
        install.args([
            "--no-defaults",
            &format!("--datadir={}", data.display()),
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--innodb-log-file-size=4M",
            "--innodb-buffer-pool-size=8M",
        ]);
        if is_root() {
            install.arg("--user=root");
        }
        let out = install.output().unwrap_or_else(|e| {
            panic!("cannot run mariadb-install-db ({e}): run scripts/test.sh, which installs it")
        });
        if !out.status.success() {
            panic!(
                "mariadb-install-db failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let identified = match opts.password {
            Some(pw) => format!(
                "IDENTIFIED VIA mysql_native_password USING PASSWORD({})",
                sql_quote(pw)
            ),
            None => "IDENTIFIED VIA mysql_native_password USING ''".into(),
        };
        let init = dir.path().join("init.sql");
        std::fs::write(
            &init,
            format!(
                "CREATE DATABASE IF NOT EXISTS app;\n\
                 CREATE USER IF NOT EXISTS 'app'@'%' {identified};\n\
                 GRANT ALL ON app.* TO 'app'@'%';\n"
            ),
        )
        .unwrap();

        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            let log = dir.path().join("error.log");
            let _ = std::fs::remove_file(&log);
            let mut args: Vec<String> = vec![
                "--no-defaults".into(),
                format!("--datadir={}", data.display()),
                format!("--socket={}", dir.path().join("sock").display()),
                format!("--tmpdir={}", tmp.display()),
                format!("--pid-file={}", dir.path().join("mariadbd.pid").display()),
                format!("--log-error={}", log.display()),
                format!("--port={port}"),
                "--bind-address=127.0.0.1".into(),
                "--skip-name-resolve".into(),
                "--skip-networking=0".into(),
                "--innodb-buffer-pool-size=8M".into(),
                "--innodb-log-file-size=4M".into(),
                "--skip-log-bin".into(),
                // Readiness polls and probes that stop after the greeting are "connect
                // errors"; at the default of 100 the server would block 127.0.0.1.
                "--max-connect-errors=1000000".into(),
                format!("--init-file={}", init.display()),
            ];
            if is_root() {
                args.push("--user=root".into());
            }
            if opts.ssl {
                args.extend([
                    format!("--ssl-cert={}", testdata("server-chain.pem")),
                    format!("--ssl-key={}", testdata("server.key")),
                    format!("--ssl-ca={}", testdata("serving-root.pem")),
                ]);
            }
            if opts.require_secure_transport {
                args.push("--require-secure-transport=ON".into());
            }
            let child = Command::new("mariadbd")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .or_else(|_| {
                    Command::new("/usr/sbin/mariadbd")
                        .args(&args)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                })
                .unwrap_or_else(|e| {
                    panic!("cannot start mariadbd ({e}): run scripts/test.sh, which installs it")
                });
            let mut child = child;
            if wait_ready(&mut child, port, Duration::from_secs(30)) {
                return MariaDbServer { child, port, dir };
            }
            last_err = std::fs::read_to_string(&log).unwrap_or_default();
            let _ = child.kill();
            let _ = child.wait();
            // Another process took the port between free_port() and the bind: try another.
            let port_taken = last_err.contains("Bind on TCP/IP port")
                || last_err.contains("Address already in use");
            if !port_taken {
                break;
            }
        }
        panic!("mariadbd did not become ready within 30 s; its error log:\n{last_err}");
    }

    /// The data directory's parent (holds `sock`, `error.log`, `init.sql`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// Runs SQL as root over the Unix socket with the `mariadb` client; returns stdout.
    pub fn sql(&self, statements: &str) -> String {
        let out = Command::new("mariadb")
            .args([
                "--no-defaults",
                "-uroot",
                &format!("--socket={}", self.dir.path().join("sock").display()),
                "--batch",
                "--skip-column-names",
                "-e",
                statements,
            ])
            .output()
            .expect("run the mariadb client");
        assert!(
            out.status.success(),
            "mariadb -e {statements:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `mysql://localhost:PORT/app` with `user[:password]@` when given.
    pub fn url(&self, userinfo: Option<&str>) -> String {
        match userinfo {
            Some(u) => format!("mysql://{u}@localhost:{}/app", self.port),
            None => format!("mysql://localhost:{}/app", self.port),
        }
    }
}

/// Ready: the port answers with a protocol-10 greeting (sent only after the init file ran).
fn wait_ready(child: &mut Child, port: u16, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = [0u8; 5];
            if s.read_exact(&mut head).is_ok() && head[4] == 10 {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
