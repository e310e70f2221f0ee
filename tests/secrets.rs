//! Secrets never leave tlsprobe: a known password and known private keys, through every
//! subcommand and failure path, must not appear in stdout, stderr or any report file.
//! Also: the ssh-like warning for key and password files readable by other users.

mod support;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::*;

const SECRET: &str = "S3cr3t-pw-for-tests";
const TIMEOUT: &str = "2s";

/// 40-character windows of the base64 body of every private key in `files`.
///
/// The last body line is skipped (it encodes the public point, which a tool may print
/// in other forms), and so is any window found in more than one key (the PKCS#8 header
/// all P-256 keys share): what is left is material that exists only in one private key.
fn key_windows(files: &[&str]) -> Vec<String> {
    // The base64 body lines of each distinct key (the same key in several files counts once).
    let mut bodies: Vec<Vec<String>> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(testdata(f)).unwrap();
        let mut body: Option<Vec<String>> = None;
        for line in text.lines() {
            if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
                body = Some(Vec::new());
            } else if line.starts_with("-----END") {
                if let Some(lines) = body.take() {
                    if !bodies.contains(&lines) {
                        bodies.push(lines);
                    }
                }
            } else if let Some(lines) = body.as_mut() {
                lines.push(line.to_string());
            }
        }
    }
    let per_key: Vec<Vec<String>> = bodies
        .iter()
        .map(|lines| {
            let mut w = Vec::new();
            for l in &lines[..lines.len().saturating_sub(1)] {
                let mut i = 0;
                while i + 40 <= l.len() {
                    w.push(l[i..i + 40].to_string());
                    i += 8;
                }
            }
            w
        })
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for w in per_key.iter().flatten() {
        *count.entry(w.as_str()).or_default() += 1;
    }
    let unique: Vec<String> = per_key
        .iter()
        .flatten()
        .filter(|w| count[w.as_str()] == 1)
        .cloned()
        .collect();
    assert!(
        bodies.len() >= 2 && unique.len() >= 3 * bodies.len(),
        "too little key material to look for: {unique:?}"
    );
    unique
}

/// Every private key the tests hand to tlsprobe.
fn all_key_windows() -> Vec<String> {
    key_windows(&[
        "client.key",
        "server.key",
        "client-with-key.pem",
        "mixed-blocks.pem",
        "keys-only.pem",
    ])
}

/// Asserts that `text` holds neither the password nor any key window.
#[track_caller]
fn assert_clean(what: &str, text: &str, keys: &[String]) {
    assert!(
        !text.contains(SECRET),
        "{what}: the password appears in:\n{text}"
    );
    if let Some(k) = keys.iter().find(|k| text.contains(k.as_str())) {
        panic!("{what}: private key material {k:?} appears in:\n{text}");
    }
}

/// Runs tlsprobe with `args` (and `env`), asserts stdout and stderr are clean, returns the run.
#[track_caller]
fn run_clean(args: &[&str], env: &[(&str, &str)], keys: &[String]) -> Run {
    let mut c = tlsprobe();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run tlsprobe");
    let r = Run {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        code: o.status.code().unwrap_or(-1),
    };
    let what = format!("{args:?} (exit {})", r.code);
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    assert_clean(&format!("{what} stdout"), &r.stdout, keys);
    assert_clean(&format!("{what} stderr"), &r.stderr, keys);
    r
}

/// A file holding the password, with `mode`.
fn pass_file(dir: &Path, name: &str, mode: u32) -> String {
    let p = write_file(dir, name, format!("{SECRET}\n"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A copy of a testdata file with `mode`.
fn copy_with_mode(dir: &Path, name: &str, mode: u32) -> String {
    let p = dir.join(name);
    std::fs::copy(testdata(name), &p).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.display().to_string()
}

fn tls_redis(requirepass: Option<&'static str>) -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass,
        ..Default::default()
    })
}

#[test]
fn verify_failure_paths_never_show_the_password_or_the_key() {
    let keys = all_key_windows();
    let other_pw = tls_redis(Some("another-password"));
    let right_pw = tls_redis(Some(SECRET));
    let plain = RedisServer::start(RedisOpts::default());
    let refused = free_port();
    let root = testdata("serving-root.pem");
    let other_root = testdata("other-root.pem");
    let with_pw = |port: u16| format!("rediss://u:{SECRET}@localhost:{port}");
    let anon_pw = |port: u16| format!("rediss://:{SECRET}@localhost:{port}");
    // (arguments after the client identity, exit code expected)
    let cases: Vec<(Vec<String>, i32)> = vec![
        // Wrong password (the server has another one).
        (
            vec!["--cacert".into(), root.clone(), anon_pw(other_pw.port)],
            1,
        ),
        // The right password: even a pass shows none of it.
        (
            vec!["--cacert".into(), root.clone(), anon_pw(right_pw.port)],
            0,
        ),
        // Wrong CA: the password is withheld.
        (
            vec![
                "--cacert".into(),
                other_root.clone(),
                anon_pw(right_pw.port),
            ],
            1,
        ),
        // Nobody listens.
        (vec!["--cacert".into(), root.clone(), with_pw(refused)], 1),
        // A plaintext Redis behind rediss://.
        (
            vec!["--cacert".into(), root.clone(), with_pw(plain.port)],
            1,
        ),
        // A plaintext Redis behind redis://: the password is sent and refused.
        (
            vec![format!("redis://:{SECRET}@localhost:{}", plain.port)],
            1,
        ),
        // Input errors with the password in the URL.
        (vec![format!("rediss://u:{SECRET}@localhost:1/notadb")], 2),
        (vec![format!("http://u:{SECRET}@localhost:1")], 2),
        (vec![format!("rediss://u:{SECRET}@localhost:99999")], 2),
        (vec![format!("rediss://u:{SECRET}@local host:1")], 2),
        (vec![format!("rediss://u:{SECRET}@[::1:1")], 2),
    ];
    let cert = testdata("client.pem");
    let key = testdata("client.key");
    for (args, want) in &cases {
        for format in ["human", "json"] {
            let mut all: Vec<&str> = vec![
                "verify",
                "--format",
                format,
                "--timeout",
                TIMEOUT,
                "--cert",
                &cert,
                "--key",
                &key,
            ];
            all.extend(args.iter().map(String::as_str));
            let r = run_clean(&all, &[], &keys);
            assert_eq!(
                r.code, *want,
                "{all:?}\nstdout: {}\nstderr: {}",
                r.stdout, r.stderr
            );
        }
    }
}

#[test]
fn mismatched_and_embedded_keys_never_show_key_material() {
    let keys = all_key_windows();
    let r = tls_redis(None);
    let root = testdata("serving-root.pem");
    let url = format!("rediss://:{SECRET}@localhost:{}", r.port);
    // The key of another certificate: an input error that names files, not their contents.
    for format in ["human", "json"] {
        let out = run_clean(
            &[
                "verify",
                "--format",
                format,
                "--cert",
                &testdata("client.pem"),
                "--key",
                &testdata("server.key"),
                "--cacert",
                &root,
                &url,
            ],
            &[],
            &keys,
        );
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        // A file of keys only, given as the certificate.
        let out = run_clean(
            &[
                "verify",
                "--format",
                format,
                "--cert",
                &testdata("keys-only.pem"),
                "--cacert",
                &root,
                &url,
            ],
            &[],
            &keys,
        );
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        // The key inside --cert: a real connection that sends it.
        let out = run_clean(
            &[
                "verify",
                "--format",
                format,
                "--timeout",
                TIMEOUT,
                "--cert",
                &testdata("client-with-key.pem"),
                "--cacert",
                &root,
                &r.url(),
            ],
            &[],
            &keys,
        );
        assert_ne!(out.code, 2, "{}{}", out.stdout, out.stderr);
    }
}

#[test]
fn password_from_pass_file_and_rediscli_auth_is_never_shown() {
    let keys = all_key_windows();
    let right = tls_redis(Some(SECRET));
    let wrong = tls_redis(Some("another-password"));
    let dir = tempfile::tempdir().unwrap();
    let pw = pass_file(dir.path(), "pw", 0o600);
    let root = testdata("serving-root.pem");
    for format in ["human", "json"] {
        for (server, want) in [(&right, 0), (&wrong, 1)] {
            let url = server.url();
            let base = ["verify", "--format", format, "--timeout", TIMEOUT];
            let mut args = base.to_vec();
            args.extend(["--cacert", &root, "--pass-file", &pw, &url]);
            let r = run_clean(&args, &[], &keys);
            assert_eq!(r.code, want, "{args:?}\n{}{}", r.stdout, r.stderr);
            let mut args = base.to_vec();
            args.extend(["--cacert", &root, &url]);
            let r = run_clean(&args, &[("REDISCLI_AUTH", SECRET)], &keys);
            assert_eq!(r.code, want, "{args:?}\n{}{}", r.stdout, r.stderr);
            // Untrusted: withheld, whatever the source.
            let other = testdata("other-root.pem");
            let mut args = base.to_vec();
            args.extend(["--cacert", &other, "--pass-file", &pw, &url]);
            let r = run_clean(&args, &[], &keys);
            assert_eq!(r.code, 1, "{args:?}\n{}{}", r.stdout, r.stderr);
        }
    }
    // --user with the password from the environment, and a pass file that is missing.
    let r = run_clean(
        &[
            "verify",
            "--timeout",
            TIMEOUT,
            "--cacert",
            &root,
            "--user",
            "alice",
            &wrong.url(),
        ],
        &[("REDISCLI_AUTH", SECRET)],
        &keys,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}

#[test]
fn inspect_mtls_and_chain_never_show_key_material() {
    let keys = all_key_windows();
    let root = testdata("serving-root.pem");
    let inter = testdata("intermediate.pem");
    let with_key = testdata("client-with-key.pem");
    for format in ["human", "json"] {
        for file in [
            "client-with-key.pem",
            "mixed-blocks.pem",
            "keys-only.pem",
            "client.key",
        ] {
            let path = testdata(file);
            let r = run_clean(&["inspect", "--format", format, &path], &[], &keys);
            assert!(
                r.code == 0 || r.code == 1 || r.code == 2,
                "{file}: {}",
                r.code
            );
        }
        let r = run_clean(
            &[
                "mtls",
                "--format",
                format,
                "--trusted",
                &root,
                "--trusted",
                &inter,
                "--cert",
                &with_key,
            ],
            &[],
            &keys,
        );
        assert!(r.code == 0 || r.code == 1, "mtls: {}{}", r.stdout, r.stderr);
        let r = run_clean(
            &[
                "chain",
                "--format",
                format,
                "--purpose",
                "client",
                "--cacert",
                &root,
                "--untrusted",
                &inter,
                &with_key,
            ],
            &[],
            &keys,
        );
        assert_eq!(r.code, 0, "chain: {}{}", r.stdout, r.stderr);
        // A key given where a certificate belongs.
        let r = run_clean(
            &[
                "chain",
                "--format",
                format,
                "--cacert",
                &root,
                &testdata("client.key"),
            ],
            &[],
            &keys,
        );
        assert_ne!(r.code, 0, "chain of a key: {}{}", r.stdout, r.stderr);
    }
}

#[test]
fn audit_reports_in_every_format_never_show_secrets() {
    let keys = all_key_windows();
    let right = tls_redis(Some(SECRET));
    let wrong = tls_redis(Some("another-password"));
    let plain = RedisServer::start(RedisOpts::default());
    let dead = free_port();
    let dir = tempfile::tempdir().unwrap();
    let pw = pass_file(dir.path(), "pw", 0o600);
    let td = testdata("");
    let inv = write_file(
        dir.path(),
        "inventory.toml",
        format!(
            r#"
[defaults]
cacert = "{td}/serving-root.pem"
cert = "{td}/client.pem"
key = "{td}/client.key"
timeout = "{TIMEOUT}"
pass_env = "SECRETS_TEST_PW"

[[target]]
id = "right"
url = "rediss://localhost:{}"

[[target]]
id = "wrong"
url = "rediss://localhost:{}"

[[target]]
id = "untrusted"
url = "rediss://localhost:{}"
cacert = "{td}/other-root.pem"

[[target]]
id = "dead"
url = "rediss://localhost:{dead}"

[[target]]
id = "plaintext"
url = "redis://localhost:{}"

[[target]]
id = "from-file"
url = "rediss://localhost:{}"
pass_file = "{pw}"

[[bundle]]
id = "mixed"
path = "{td}/mixed-blocks.pem"

[[bundle]]
id = "with-key"
path = "{td}/client-with-key.pem"
"#,
            right.port, wrong.port, right.port, plain.port, wrong.port,
        ),
    );
    let formats = [
        "json",
        "jsonl",
        "junit",
        "markdown",
        "prometheus",
        "human",
        "html",
    ];
    let reports: Vec<(String, std::path::PathBuf)> = formats
        .iter()
        .map(|f| (f.to_string(), dir.path().join(format!("report.{f}"))))
        .collect();
    for main in ["human", "json"] {
        let mut args: Vec<String> =
            vec!["audit".into(), "-q".into(), "--format".into(), main.into()];
        for (f, p) in &reports {
            args.push("--report".into());
            args.push(format!("{f}={}", p.display()));
        }
        args.push(inv.clone());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_clean(&argv, &[("SECRETS_TEST_PW", SECRET)], &keys);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        for (f, p) in &reports {
            let text = std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("--report {f}: {} not written: {e}", p.display()));
            assert!(!text.is_empty(), "--report {f} is empty");
            assert_clean(&format!("--report {f}"), &text, &keys);
        }
        // The run used the password: `right` passed AUTH.
        if main == "json" {
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            let right = v["targets"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == "right")
                .unwrap();
            assert_eq!(status(right, "auth"), "pass", "{right:#}");
        }
    }
    // An inventory with the password inline is refused without echoing it.
    let bad = write_file(
        dir.path(),
        "bad.toml",
        format!("[[target]]\nid = \"x\"\nurl = \"rediss://u:{SECRET}@localhost:1\"\n"),
    );
    let r = run_clean(&["audit", &bad], &[], &keys);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let bad = write_file(
        dir.path(),
        "bad2.toml",
        format!(
            "[[target]]\nid = \"x\"\nurl = \"rediss://localhost:1\"\npassword = \"{SECRET}\"\n"
        ),
    );
    let r = run_clean(&["audit", &bad], &[], &keys);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

// ---- files with secrets readable by other users ----

/// The stderr lines that warn about a file readable by other users.
fn permission_warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("readable by other users"))
        .collect()
}

/// `verify` against a closed port (fast) with extra arguments.
fn verify_refused(extra: &[&str]) -> Run {
    let url = format!("rediss://localhost:{}", free_port());
    let mut args = vec!["verify", "--timeout", TIMEOUT];
    args.extend_from_slice(extra);
    args.push(&url);
    run_clean(&args, &[], &all_key_windows())
}

#[test]
fn key_file_readable_by_others_is_warned_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = copy_with_mode(dir.path(), "client.key", 0o644);
    let cert = testdata("client.pem");
    let r = verify_refused(&["--cert", &cert, "--key", &key]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let w = permission_warnings(&r.stderr);
    assert_eq!(w.len(), 1, "one warning line expected: {:?}", r.stderr);
    assert!(w[0].contains(&key), "the path is named: {}", w[0]);
    assert!(w[0].starts_with("warning:"), "{}", w[0]);
}

#[test]
fn key_file_private_to_its_owner_is_not_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let key = copy_with_mode(dir.path(), "client.key", 0o600);
    let r = verify_refused(&["--cert", &testdata("client.pem"), "--key", &key]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(permission_warnings(&r.stderr), Vec::<&str>::new());
}

#[test]
fn key_inside_a_cert_file_readable_by_others_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cert = copy_with_mode(dir.path(), "client-with-key.pem", 0o644);
    let r = verify_refused(&["--cert", &cert]);
    let w = permission_warnings(&r.stderr);
    assert_eq!(w.len(), 1, "one warning line expected: {:?}", r.stderr);
    assert!(w[0].contains(&cert), "the path is named: {}", w[0]);
}

#[test]
fn pass_file_readable_by_others_is_warned_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let pw = pass_file(dir.path(), "pw", 0o644);
    let r = verify_refused(&["--pass-file", &pw]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let w = permission_warnings(&r.stderr);
    assert_eq!(w.len(), 1, "one warning line expected: {:?}", r.stderr);
    assert!(w[0].contains(&pw), "the path is named: {}", w[0]);
    assert!(w[0].starts_with("warning:"), "{}", w[0]);
}

#[test]
fn pass_file_private_to_its_owner_is_not_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let pw = pass_file(dir.path(), "pw", 0o600);
    let r = verify_refused(&["--pass-file", &pw]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(permission_warnings(&r.stderr), Vec::<&str>::new());
}

#[test]
fn audit_pass_file_readable_by_others_is_warned_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let pw = pass_file(dir.path(), "pw", 0o644);
    let dead = free_port();
    // Two targets share the file: one warning.
    let inv = write_file(
        dir.path(),
        "inventory.toml",
        format!(
            "[defaults]\npass_file = \"{pw}\"\ntimeout = \"{TIMEOUT}\"\n\n[[target]]\nid = \"a\"\nurl = \"rediss://localhost:{dead}\"\n\n[[target]]\nid = \"b\"\nurl = \"rediss://127.0.0.1:{dead}\"\n"
        ),
    );
    let r = run_clean(&["audit", "-q", &inv], &[], &all_key_windows());
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let w = permission_warnings(&r.stderr);
    assert_eq!(w.len(), 1, "one warning line expected: {:?}", r.stderr);
    assert!(w[0].contains(&pw), "the path is named: {}", w[0]);
}

#[test]
fn the_detector_finds_the_password_and_every_key() {
    // A control: the needles do occur in the files they come from.
    let keys = all_key_windows();
    for f in ["client.key", "server.key", "keys-only.pem"] {
        let text = std::fs::read_to_string(testdata(f)).unwrap();
        assert!(
            keys.iter().any(|k| text.contains(k.as_str())),
            "no needle from {f}"
        );
    }
    let caught =
        std::panic::catch_unwind(|| assert_clean("control", &format!("x{SECRET}x"), &keys));
    assert!(caught.is_err(), "the password is caught");
}
