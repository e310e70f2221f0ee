//! Integration tests of `tlsprobe inspect`: the JSON contract, findings, exit codes,
//! input errors and human output, run against the fixtures of `testdata/`.
//!
//! Fixtures are regenerated with new keys by `testdata/gen.sh`, so fingerprints are
//! computed at test time (with `openssl` or from the files), never hard-coded.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The evaluation time used by most tests: every long-lived fixture is valid then.
const AT: &str = "2026-01-01T00:00:00Z";
/// `AT` as Unix seconds.
const AT_UNIX: &str = "1767225600";

const EXIT_PASS: i32 = 0;
const EXIT_FAIL: i32 = 1;
const EXIT_INPUT: i32 = 2;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// No panic, whatever happened.
    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked"),
            "tlsprobe panicked:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "tlsprobe panicked:\n{}",
            self.stderr
        );
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
    }
}

fn run_env<I, S>(args: I, env: &[(&str, &str)]) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tlsprobe"));
    cmd.args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tlsprobe");
    let run = Run {
        code: out.status.code().expect("tlsprobe was killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.assert_no_panic();
    run
}

fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_env(args, &[])
}

/// `tlsprobe inspect --format json --at AT <extra...> FILE`.
fn inspect_json(file: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<String> = vec![
        "inspect".into(),
        "--format".into(),
        "json".into(),
        "--at".into(),
        AT.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(path_str(file));
    run(args)
}

/// The only file report of a JSON run.
fn only_file(v: &Value) -> &Value {
    let files = v["files"].as_array().expect("files[]");
    assert_eq!(files.len(), 1, "{v:#}");
    &files[0]
}

fn certs(file: &Value) -> &Vec<Value> {
    file["certificates"].as_array().expect("certificates[]")
}

fn findings(file: &Value) -> &Vec<Value> {
    file["findings"].as_array().expect("findings[]")
}

fn findings_with_rule<'a>(file: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(file)
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The single finding `rule`, checked for severity and certificate index.
fn one_finding<'a>(file: &'a Value, rule: &str, severity: &str, cert: usize) -> &'a Value {
    let found = findings_with_rule(file, rule);
    assert_eq!(found.len(), 1, "expected one {rule} finding in {file:#}");
    let f = found[0];
    assert_eq!(f["severity"], severity, "{f:#}");
    assert_eq!(f["cert"], cert, "{f:#}");
    assert!(
        f["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{f:#}"
    );
    f
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// The PEM blocks (BEGIN..END, inclusive) with the given label, in file order.
fn pem_blocks(text: &str, label: &str) -> Vec<String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line.trim() == begin {
            cur = Some(String::new());
        }
        if let Some(c) = cur.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line.trim() == end {
            out.extend(cur.take());
        }
    }
    out
}

/// The base64 body lines of a PEM block.
fn pem_body_lines(block: &str) -> Vec<String> {
    block
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

/// `openssl <args>` with `input` on stdin; stdout as bytes.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl must be installed to run these tests");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The SHA-256 fingerprint of one PEM certificate as openssl prints it, lowercased:
/// `ab:cd:...`.
fn openssl_fingerprint(pem: &str) -> String {
    let out = openssl(
        &["x509", "-noout", "-fingerprint", "-sha256"],
        pem.as_bytes(),
    );
    let line = String::from_utf8(out).unwrap();
    let (_, fp) = line
        .trim()
        .split_once('=')
        .unwrap_or_else(|| panic!("unexpected openssl output {line:?}"));
    fp.to_ascii_lowercase()
}

/// The DER of one PEM certificate, by openssl.
fn openssl_der(pem: &str) -> Vec<u8> {
    openssl(&["x509", "-outform", "DER"], pem.as_bytes())
}

fn read(name: &str) -> String {
    std::fs::read_to_string(testdata(name)).unwrap()
}

/// Standard base64 with padding and 64-character lines, for writing PEM blocks.
fn base64_lines(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    let mut out = String::new();
    for line in s.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out
}

/// Deterministic pseudo-random bytes (xorshift64), none of them `\n` so that no line
/// can look like a PEM BEGIN line by chance.
fn junk_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for b in x.to_le_bytes() {
            if out.len() < len && b != b'\n' {
                out.push(b);
            }
        }
    }
    out
}

/// Runs `inspect` on `path` and checks the input-error contract: exit 2, exactly one
/// stderr line `error: <path>...` containing every `needles` entry.
fn assert_one_input_error(path: &Path, extra: &[&str], needles: &[&str]) -> Run {
    let mut args: Vec<String> = vec!["inspect".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(path_str(path));
    let r = run(args);
    r.assert_code(EXIT_INPUT);
    let lines = r.stderr_lines();
    assert_eq!(lines.len(), 1, "expected one stderr line:\n{}", r.stderr);
    let line = lines[0];
    let prefix = format!("error: {}", path_str(path));
    assert!(
        line.starts_with(&prefix),
        "stderr should start with {prefix:?}: {line:?}"
    );
    for n in needles {
        assert!(line.contains(n), "stderr should mention {n:?}: {line:?}");
    }
    r
}

// ---------------------------------------------------------------------------
// JSON contract
// ---------------------------------------------------------------------------

#[test]
fn redis_ca_json_contract() {
    let file_path = testdata("redis_ca.pem");
    let r = inspect_json(&file_path, &[]);
    r.assert_code(EXIT_PASS);
    assert_eq!(r.stderr, "", "no stderr expected");
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(file["path"], path_str(&file_path));
    assert_eq!(file["other_blocks"], serde_json::json!([]));

    let cs = certs(file);
    assert_eq!(cs.len(), 4, "{file:#}");
    let indices: Vec<u64> = cs.iter().map(|c| c["index"].as_u64().unwrap()).collect();
    assert_eq!(indices, [0, 1, 2, 3]);
    let roles: Vec<&str> = cs.iter().map(|c| c["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["root", "root", "intermediate", "root"]);
    assert_eq!(cs[2]["issued_by"], 1);
    for i in [0, 1, 3] {
        assert!(cs[i]["issued_by"].is_null(), "root #{i}: {:#}", cs[i]);
        assert_eq!(cs[i]["self_signed"], true);
        assert_eq!(cs[i]["is_ca"], true);
    }
    assert_eq!(cs[2]["self_signed"], false);
    assert_eq!(cs[2]["path_len"], 0);
    assert_eq!(
        cs[0]["subject"],
        "CN=Example Fixed Plan Root CA, O=Example Cloud"
    );
    assert_eq!(
        cs[3]["subject"],
        "CN=tlsprobe Test Root CA, O=tlsprobe tests"
    );
    assert_eq!(cs[2]["issuer"], cs[1]["subject"]);

    // The multiple-anchors finding is about #0 and names its subject.
    let f = one_finding(file, "multiple-anchors", "warn", 0);
    let subject0 = cs[0]["subject"].as_str().unwrap();
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("#0 {subject0}")),
        "multiple-anchors should name #0 {subject0}: {msg}"
    );
    // No error findings: the default --fail-on error passes.
    assert!(
        findings(file).iter().all(|f| f["severity"] != "error"),
        "{file:#}"
    );

    // Fingerprints equal openssl's, certificate by certificate.
    let pems = pem_blocks(&read("redis_ca.pem"), "CERTIFICATE");
    assert_eq!(pems.len(), 4);
    for (c, pem) in cs.iter().zip(&pems) {
        assert_eq!(c["sha256"].as_str().unwrap(), openssl_fingerprint(pem));
    }

    // --fail-on warn turns the warning into exit 1; never passes.
    inspect_json(&file_path, &["--fail-on", "warn"]).assert_code(EXIT_FAIL);
    inspect_json(&file_path, &["--fail-on", "never"]).assert_code(EXIT_PASS);
}

#[test]
fn certificate_object_has_every_field() {
    let r = inspect_json(&testdata("redis_ca.pem"), &[]);
    let v = r.json();
    let file = only_file(&v);
    let keys = [
        "index",
        "subject",
        "issuer",
        "subject_attributes",
        "serial",
        "not_before",
        "not_after",
        "days_left",
        "sans",
        "is_ca",
        "path_len",
        "self_signed",
        "role",
        "key",
        "signature_algorithm",
        "key_usage",
        "extended_key_usage",
        "sha256",
        "issued_by",
    ];
    for c in certs(file) {
        let obj = c.as_object().expect("certificate object");
        for k in keys {
            assert!(obj.contains_key(k), "missing field {k:?} in {c:#}");
        }
        let sans = c["sans"].as_object().expect("sans object");
        for k in ["dns", "ip", "email", "uri"] {
            assert!(
                sans.get(k).is_some_and(Value::is_array),
                "sans.{k} in {c:#}"
            );
        }
        let key = c["key"].as_object().expect("key object");
        for k in ["algorithm", "bits", "curve"] {
            assert!(key.contains_key(k), "key.{k} in {c:#}");
        }
        assert!(c["index"].is_u64());
        assert!(c["days_left"].is_i64());
        assert!(c["is_ca"].is_boolean() && c["self_signed"].is_boolean());
        assert!(c["subject_attributes"].is_array());
        assert!(c["key_usage"].is_array() && c["extended_key_usage"].is_array());
        assert_eq!(c["not_before"], "2024-01-01T00:00:00Z");
        assert_eq!(c["not_after"], "2124-01-01T00:00:00Z");
        let sha = c["sha256"].as_str().unwrap();
        assert_eq!(sha.len(), 32 * 3 - 1, "{sha}");
        assert!(
            sha.chars()
                .all(|ch| ch == ':' || ch.is_ascii_digit() || ('a'..='f').contains(&ch)),
            "sha256 must be lowercase colon-separated hex: {sha}"
        );
        let serial = c["serial"].as_str().unwrap();
        assert!(!serial.is_empty());
    }
    // Spot-check key descriptions against the fixture table.
    let cs = certs(file);
    assert_eq!(
        cs[0]["key"],
        serde_json::json!({"algorithm": "EC", "bits": 256, "curve": "P-256"})
    );
    assert_eq!(
        cs[1]["key"],
        serde_json::json!({"algorithm": "RSA", "bits": 2048, "curve": null})
    );
    assert_eq!(strings(&cs[0]["key_usage"]), ["keyCertSign", "cRLSign"]);
}

#[test]
fn client_subject_order_and_eku() {
    let r = inspect_json(&testdata("client.pem"), &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    let cs = certs(file);
    assert_eq!(cs.len(), 1);
    let c = &cs[0];
    assert_eq!(
        c["subject_attributes"],
        serde_json::json!([
            {"type": "CN", "value": "redis_user"},
            {"type": "O", "value": "Acme"},
            {"type": "OU", "value": "Ops"},
            {"type": "OU", "value": "Dev"},
        ])
    );
    assert_eq!(c["subject"], "CN=redis_user, O=Acme, OU=Ops, OU=Dev");
    assert_eq!(c["role"], "leaf");
    assert!(
        strings(&c["extended_key_usage"])
            .iter()
            .any(|e| e == "clientAuth"),
        "{c:#}"
    );
    assert!(
        findings_with_rule(file, "leaf-without-san").is_empty(),
        "a client-only certificate needs no SAN: {file:#}"
    );
    assert_eq!(
        c["sha256"].as_str().unwrap(),
        openssl_fingerprint(&read("client.pem"))
    );
}

#[test]
fn server_sans_and_der_input() {
    let r = inspect_json(&testdata("server.pem"), &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let c = &certs(only_file(&v))[0];
    assert_eq!(strings(&c["sans"]["dns"]), ["localhost"]);
    let ips = strings(&c["sans"]["ip"]);
    assert!(ips.iter().any(|i| i == "127.0.0.1"), "{ips:?}");
    assert!(ips.iter().any(|i| i == "::1"), "{ips:?}");
    assert!(findings(only_file(&v)).is_empty(), "{v:#}");
    let pem_sha = c["sha256"].as_str().unwrap().to_string();
    assert_eq!(pem_sha, openssl_fingerprint(&read("server.pem")));

    let r = inspect_json(&testdata("server.der"), &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    let cs = certs(file);
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0]["sha256"].as_str().unwrap(), pem_sha);
    assert_eq!(cs[0]["subject"], c["subject"]);
    assert_eq!(file["other_blocks"], serde_json::json!([]));
}

// ---------------------------------------------------------------------------
// Time-dependent findings (always with a fixed --at)
// ---------------------------------------------------------------------------

#[test]
fn expired_certificate() {
    let r = inspect_json(&testdata("server-expired.pem"), &[]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    let f = one_finding(file, "expired", "error", 0);
    assert!(
        f["message"].as_str().unwrap().contains("2025-01-01"),
        "{f:#}"
    );
    assert!(certs(file)[0]["days_left"].as_i64().unwrap() < 0);
    // --fail-on never: the finding is still reported, the run passes.
    let r = inspect_json(&testdata("server-expired.pem"), &["--fail-on", "never"]);
    r.assert_code(EXIT_PASS);
    one_finding(only_file(&r.json()), "expired", "error", 0);
}

#[test]
fn not_yet_valid_certificate() {
    let r = inspect_json(&testdata("server-notyet.pem"), &[]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    let f = one_finding(file, "not-yet-valid", "error", 0);
    assert!(
        f["message"].as_str().unwrap().contains("2100-01-01"),
        "{f:#}"
    );
    assert!(findings_with_rule(file, "expired").is_empty());
}

#[test]
fn expiring_soon_and_warn_days() {
    let server = path_str(&testdata("server.pem"));
    let at = "2123-12-15T00:00:00Z";
    let base = ["inspect", "--format", "json", "--at", at];

    let r = run(base.iter().copied().chain([server.as_str()]));
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(certs(file)[0]["days_left"], 17);
    let f = one_finding(file, "expiring-soon", "warn", 0);
    assert!(
        f["message"].as_str().unwrap().contains("17 days left"),
        "{f:#}"
    );

    let r = run(base
        .iter()
        .copied()
        .chain(["--fail-on", "warn", server.as_str()]));
    r.assert_code(EXIT_FAIL);
    one_finding(only_file(&r.json()), "expiring-soon", "warn", 0);

    let r =
        run(base
            .iter()
            .copied()
            .chain(["--warn-days", "5", "--fail-on", "warn", server.as_str()]));
    r.assert_code(EXIT_PASS);
    assert!(
        findings_with_rule(only_file(&r.json()), "expiring-soon").is_empty(),
        "{}",
        r.stdout
    );
}

#[test]
fn at_accepts_unix_seconds() {
    let path = path_str(&testdata("server-expired.pem"));
    let unix = run(["inspect", "--format", "json", "--at", AT_UNIX, &path]);
    unix.assert_code(EXIT_FAIL);
    let rfc = run(["inspect", "--format", "json", "--at", AT, &path]);
    rfc.assert_code(EXIT_FAIL);
    assert_eq!(unix.json(), rfc.json());
    one_finding(only_file(&unix.json()), "expired", "error", 0);

    // And on a valid certificate: same days_left both ways.
    let path = path_str(&testdata("server.pem"));
    let unix = run(["inspect", "--format", "json", "--at", AT_UNIX, &path]);
    unix.assert_code(EXIT_PASS);
    let rfc = run(["inspect", "--format", "json", "--at", AT, &path]);
    assert_eq!(
        certs(only_file(&unix.json()))[0]["days_left"],
        certs(only_file(&rfc.json()))[0]["days_left"]
    );
}

// ---------------------------------------------------------------------------
// Key, signature and profile findings
// ---------------------------------------------------------------------------

#[test]
fn weak_rsa_key() {
    let r = inspect_json(&testdata("rsa1024.pem"), &[]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(certs(file)[0]["key"]["bits"], 1024);
    let f = one_finding(file, "weak-key", "error", 0);
    assert!(f["message"].as_str().unwrap().contains("RSA 1024"), "{f:#}");
}

#[test]
fn weak_sha1_signature() {
    let r = inspect_json(&testdata("sha1.pem"), &[]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(
        certs(file)[0]["signature_algorithm"],
        "sha1WithRSAEncryption"
    );
    one_finding(file, "weak-signature", "error", 0);
}

#[test]
fn leaf_without_san() {
    let r = inspect_json(&testdata("server-nosan.pem"), &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    one_finding(file, "leaf-without-san", "warn", 0);
    inspect_json(&testdata("server-nosan.pem"), &["--fail-on", "warn"]).assert_code(EXIT_FAIL);
}

#[test]
fn ca_without_basic_constraints() {
    let r = inspect_json(&testdata("ca-no-basic-constraints.pem"), &[]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(certs(file)[0]["is_ca"], false);
    one_finding(file, "ca-without-basic-constraints", "error", 0);
}

#[test]
fn duplicate_in_bundle() {
    let r = inspect_json(&testdata("bundle-duplicates.pem"), &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    let cs = certs(file);
    assert_eq!(cs.len(), 3);
    assert_eq!(cs[0]["sha256"], cs[2]["sha256"]);
    assert_eq!(cs[1]["issued_by"], 0);
    let f = one_finding(file, "duplicate", "warn", 2);
    assert!(f["message"].as_str().unwrap().contains("#0"), "{f:#}");
    // The duplicate root is one anchor, not two.
    assert!(
        findings_with_rule(file, "multiple-anchors").is_empty(),
        "{file:#}"
    );
}

#[test]
fn check_signatures_on_good_bundle() {
    let r = inspect_json(&testdata("redis_ca.pem"), &["--check-signatures"]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    assert!(
        findings_with_rule(file, "bad-self-signature").is_empty(),
        "{file:#}"
    );
    one_finding(file, "multiple-anchors", "warn", 0);
}

#[test]
fn tampered_root_self_signature() {
    let mut der = openssl_der(&read("serving-root.pem"));
    // serving-root is RSA 2048: its last 256 bytes are the signature value.
    let n = der.len();
    assert!(n > 300);
    der[n - 10] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tampered-root.der");
    std::fs::write(&path, &der).unwrap();

    let r = inspect_json(&path, &["--check-signatures"]);
    r.assert_code(EXIT_FAIL);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(certs(file)[0]["role"], "root");
    one_finding(file, "bad-self-signature", "error", 0);

    let r = inspect_json(&path, &[]);
    r.assert_code(EXIT_PASS);
    assert!(
        findings_with_rule(only_file(&r.json()), "bad-self-signature").is_empty(),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------
// Non-certificate blocks
// ---------------------------------------------------------------------------

/// Every base64 line of every private key in `names`.
fn private_key_lines(names: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    for name in names {
        let text = read(name);
        let blocks = pem_blocks(&text, "PRIVATE KEY");
        assert!(!blocks.is_empty(), "{name} has no PRIVATE KEY block");
        for b in blocks {
            lines.extend(pem_body_lines(&b));
        }
    }
    lines
}

fn assert_no_key_material(r: &Run, key_lines: &[String]) {
    let joined: String = key_lines.concat();
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains(&joined), "private key printed:\n{out}");
        for l in key_lines {
            // Lines are 64 characters (the last may be shorter but is still long).
            if l.len() >= 16 {
                assert!(
                    !out.contains(l.as_str()),
                    "private key line {l:?} printed:\n{out}"
                );
            }
        }
        assert!(!out.contains("BEGIN PRIVATE KEY"), "{out}");
    }
}

#[test]
fn mixed_blocks_lists_key_without_printing_it() {
    let path = testdata("mixed-blocks.pem");
    let key_lines = private_key_lines(&["client.key", "mixed-blocks.pem"]);
    // The key in mixed-blocks.pem is client.key.
    assert_eq!(
        pem_body_lines(&pem_blocks(&read("client.key"), "PRIVATE KEY")[0]),
        pem_body_lines(&pem_blocks(&read("mixed-blocks.pem"), "PRIVATE KEY")[0])
    );

    let r = inspect_json(&path, &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(
        file["other_blocks"],
        serde_json::json!([{"index": 0, "label": "PRIVATE KEY"}])
    );
    let cs = certs(file);
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0]["subject"], "CN=redis_user, O=Acme, OU=Ops, OU=Dev");
    assert_eq!(cs[1]["role"], "intermediate");
    assert_eq!(cs[0]["issued_by"], 1);
    assert_no_key_material(&r, &key_lines);

    let r = run(["inspect", "--at", AT, &path_str(&path)]);
    r.assert_code(EXIT_PASS);
    assert!(r.stdout.contains("block 0  PRIVATE KEY"), "{}", r.stdout);
    assert!(
        r.stdout.contains("2 certificates, 1 other block"),
        "{}",
        r.stdout
    );
    assert_no_key_material(&r, &key_lines);
}

#[test]
fn keys_only_file() {
    let path = testdata("keys-only.pem");
    let key_lines = private_key_lines(&["keys-only.pem", "server.key", "client.key"]);
    let r = inspect_json(&path, &[]);
    r.assert_code(EXIT_PASS);
    assert_eq!(r.stderr, "");
    let v = r.json();
    let file = only_file(&v);
    assert!(certs(file).is_empty(), "{file:#}");
    assert_eq!(
        file["other_blocks"],
        serde_json::json!([
            {"index": 0, "label": "PRIVATE KEY"},
            {"index": 1, "label": "PRIVATE KEY"},
        ])
    );
    assert_no_key_material(&r, &key_lines);

    let r = run(["inspect", "--at", AT, &path_str(&path)]);
    r.assert_code(EXIT_PASS);
    assert!(
        r.stdout.contains("0 certificates, 2 other blocks"),
        "{}",
        r.stdout
    );
    assert_no_key_material(&r, &key_lines);
}

// ---------------------------------------------------------------------------
// Bad input: exit 2, one `error: PATH: ...` line, never a panic
// ---------------------------------------------------------------------------

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("does-not-exist.pem");
    let r = assert_one_input_error(&path, &[], &["no such file"]);
    assert_eq!(r.stdout, "");
}

#[test]
fn directory_instead_of_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_one_input_error(dir.path(), &[], &["directory"]);
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pem");
    std::fs::write(&path, b"").unwrap();
    assert_one_input_error(&path, &[], &["empty"]);
    // Whitespace only counts as empty too.
    std::fs::write(&path, b"  \n\n\t\n").unwrap();
    assert_one_input_error(&path, &[], &["empty"]);
}

#[test]
fn text_without_pem_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"this is not a certificate\njust some notes\n").unwrap();
    assert_one_input_error(&path, &[], &["no PEM block"]);
}

#[test]
fn bad_base64_names_its_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-base64.pem");
    let mut text = read("server.pem");
    text.push_str("-----BEGIN CERTIFICATE-----\n!!!not*base64!!!\n-----END CERTIFICATE-----\n");
    std::fs::write(&path, text).unwrap();
    let r = assert_one_input_error(&path, &[], &["PEM block 2", "base64"]);
    // Block 1 is still reported.
    assert!(
        r.stdout.contains("CN=localhost, O=tlsprobe tests"),
        "{}",
        r.stdout
    );

    let r = assert_one_input_error(&path, &["--format", "json"], &["PEM block 2", "base64"]);
    assert_eq!(certs(only_file(&r.json())).len(), 1);
}

#[test]
fn truncated_der_in_second_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truncated.pem");
    let inter = openssl_der(&read("intermediate.pem"));
    let half = &inter[..inter.len() / 2];
    let mut text = read("server.pem");
    text.push_str("-----BEGIN CERTIFICATE-----\n");
    text.push_str(&base64_lines(half));
    text.push_str("-----END CERTIFICATE-----\n");
    std::fs::write(&path, text).unwrap();

    let r = assert_one_input_error(
        &path,
        &["--format", "json", "--at", AT],
        &["PEM block 2", "CERTIFICATE"],
    );
    let v = r.json();
    let cs = certs(only_file(&v));
    assert_eq!(
        cs.len(),
        1,
        "block 1's certificate is still reported: {v:#}"
    );
    assert_eq!(
        cs[0]["sha256"].as_str().unwrap(),
        openssl_fingerprint(&read("server.pem"))
    );

    let r = assert_one_input_error(&path, &["--at", AT], &["PEM block 2"]);
    assert!(r.stdout.contains("1 certificate"), "{}", r.stdout);
    assert!(
        r.stdout.contains("CN=localhost, O=tlsprobe tests"),
        "{}",
        r.stdout
    );
}

#[test]
fn unknown_pem_label() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unknown.pem");
    std::fs::write(
        &path,
        "-----BEGIN FOO BAR-----\nAAAA\n-----END FOO BAR-----\n",
    )
    .unwrap();
    assert_one_input_error(&path, &[], &["PEM block 1", "FOO BAR", "unknown PEM label"]);
}

#[test]
fn binary_garbage_not_der() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.bin");
    let mut bytes = junk_bytes(4096, 0x1234_5678);
    bytes[0] = 0x01;
    std::fs::write(&path, &bytes).unwrap();
    assert_one_input_error(&path, &[], &["not a DER certificate"]);
}

#[test]
fn binary_garbage_starting_like_der() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("seq-random.bin", {
            let mut b = junk_bytes(4096, 0xdead_beef);
            b[0] = 0x30;
            b
        }),
        // A SEQUENCE claiming a 2 GB length.
        (
            "seq-huge-len.bin",
            vec![0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00],
        ),
        // Nested indefinite lengths.
        ("seq-nested.bin", [0x30u8, 0x80].repeat(50_000)),
        // Just the tag.
        ("seq-tag-only.bin", vec![0x30]),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        assert_one_input_error(&path, &[], &["DER certificate"]);
    }
}

#[test]
fn file_over_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    std::fs::write(&path, junk_bytes(20 * 1024 * 1024, 42)).unwrap();
    assert_one_input_error(&path, &[], &["limit"]);
}

#[test]
fn large_text_under_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    let line = "junk text that is not a certificate, repeated many times\n";
    let text = line.repeat(10 * 1024 * 1024 / line.len());
    std::fs::write(&path, text).unwrap();
    assert_one_input_error(&path, &[], &["no PEM block"]);
}

#[test]
fn encrypted_private_key() {
    let path = testdata("encrypted.key");
    let r = assert_one_input_error(&path, &[], &["PEM block 1", "encrypted"]);
    assert!(!r.stdout.contains("BEGIN"), "{}", r.stdout);
}

#[test]
fn bad_file_twice_with_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = path_str(&dir.path().join("missing.pem"));
    let good = path_str(&testdata("server.pem"));
    let r = run([
        "inspect", "--format", "json", "--at", AT, &missing, &good, &missing,
    ]);
    r.assert_code(EXIT_INPUT);
    let lines = r.stderr_lines();
    assert_eq!(lines.len(), 2, "one error per bad argument:\n{}", r.stderr);
    for l in lines {
        assert!(l.starts_with(&format!("error: {missing}")), "{l:?}");
    }
    let v = r.json();
    let file = only_file(&v);
    assert_eq!(file["path"], good);
    assert_eq!(certs(file).len(), 1);

    // Human output too.
    let r = run(["inspect", "--at", AT, &missing, &good, &missing]);
    r.assert_code(EXIT_INPUT);
    assert_eq!(r.stderr_lines().len(), 2, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("{good}: 1 certificate")),
        "{}",
        r.stdout
    );
}

#[test]
fn valid_file_twice() {
    let good = path_str(&testdata("server.pem"));
    let r = run(["inspect", "--format", "json", "--at", AT, &good, &good]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0], files[1]);
}

// ---------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------

fn assert_usage_error(args: &[&str], needle: &str) {
    let r = run(args);
    r.assert_code(EXIT_INPUT);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(needle),
        "stderr should mention {needle:?}:\n{}",
        r.stderr
    );
    assert_eq!(r.stdout, "");
}

#[test]
fn usage_errors() {
    let good = path_str(&testdata("server.pem"));
    assert_usage_error(&["inspect", "--bogus", &good], "--bogus");
    assert_usage_error(&["inspect", "--at", "yesterday", &good], "yesterday");
    assert_usage_error(&["inspect", "--format", "xml", &good], "xml");
    assert_usage_error(&["inspect", "--fail-on", "sometimes", &good], "sometimes");
    assert_usage_error(&["inspect", "--warn-days", "many", &good], "many");
    assert_usage_error(&["inspect"], "<FILE>");
    assert_usage_error(&["inspect", "--format", "json"], "<FILE>");
}

// ---------------------------------------------------------------------------
// Human output
// ---------------------------------------------------------------------------

#[test]
fn human_output() {
    let path = path_str(&testdata("redis_ca.pem"));
    let r = run(["inspect", "--at", AT, &path]);
    r.assert_code(EXIT_PASS);
    let out = &r.stdout;
    assert!(
        out.starts_with(&format!("{path}: 4 certificates\n")),
        "{out}"
    );
    assert!(out.contains("days left"), "{out}");
    for s in [
        "#0 root         CN=Example Fixed Plan Root CA, O=Example Cloud",
        "#1 root         CN=Example Flexible Plan Root CA, O=Example Cloud",
        "#2 intermediate CN=Example Flexible Plan Intermediate CA, O=Example Cloud",
        "#3 root         CN=tlsprobe Test Root CA, O=tlsprobe tests",
        "(#1 in this file)",
        "  findings:\n",
        "multiple-anchors",
    ] {
        assert!(out.contains(s), "human output should contain {s:?}:\n{out}");
    }
    // Fingerprints appear as computed by openssl.
    for pem in pem_blocks(&read("redis_ca.pem"), "CERTIFICATE") {
        assert!(out.contains(&openssl_fingerprint(&pem)), "{out}");
    }
    assert!(!out.contains("\x1b["), "no colour on a pipe:\n{out:?}");

    let r = run_env(["inspect", "--at", AT, &path], &[("NO_COLOR", "1")]);
    r.assert_code(EXIT_PASS);
    assert!(!r.stdout.contains("\x1b["), "{:?}", r.stdout);
    assert!(!r.stderr.contains("\x1b["), "{:?}", r.stderr);
    assert_eq!(r.stdout, *out);
}

#[test]
fn human_output_expired_and_findings() {
    let path = path_str(&testdata("server-expired.pem"));
    let r = run_env(["inspect", "--at", AT, &path], &[("NO_COLOR", "1")]);
    r.assert_code(EXIT_FAIL);
    assert!(r.stdout.contains("EXPIRED"), "{}", r.stdout);
    assert!(r.stdout.contains("days ago"), "{}", r.stdout);
    assert!(r.stdout.contains("  findings:\n"), "{}", r.stdout);
    assert!(r.stdout.contains("error  expired"), "{}", r.stdout);
    assert!(!r.stdout.contains("\x1b["), "{:?}", r.stdout);
}

// ---------------------------------------------------------------------------
// Regressions (bugs found and fixed)
// ---------------------------------------------------------------------------

#[test]
fn pem_with_utf8_bom() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.pem");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(read("server.pem").as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    // openssl accepts it.
    let fp = openssl_fingerprint(std::str::from_utf8(&bytes).unwrap());
    assert_eq!(fp, openssl_fingerprint(&read("server.pem")));

    let r = inspect_json(&path, &[]);
    r.assert_code(EXIT_PASS);
    let v = r.json();
    let cs = certs(only_file(&v));
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0]["sha256"].as_str().unwrap(), fp);
}
