//! What users bring: encrypted client keys (`--key-pass-file`), `mtls --config` without
//! `--trusted`, and the wording of input mistakes. Servers are real redis-servers; each
//! case is compared with what openssl says on the same files.

mod support;

use std::process::{Command, Stdio};

use support::{run_text, status, steps, testdata, verify_json, write_file, RedisOpts, RedisServer};

/// The passphrase of the `client-encrypted*.key` fixtures.
fn passphrase() -> String {
    std::fs::read_to_string(testdata("client-encrypted.pass"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// Every piece of the passphrase long enough to betray it.
fn assert_no_passphrase(text: &str) {
    let pass = passphrase();
    for piece in std::iter::once(pass.as_str()).chain(pass.split(' ').filter(|p| p.len() >= 6)) {
        assert!(!text.contains(piece), "printed {piece:?}:\n{text}");
    }
}

fn mtls_server() -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        ..RedisOpts::default()
    })
}

/// `openssl s_client` with the encrypted key and its passphrase, sending PING: what
/// OpenSSL makes of the same key on the same server.
fn openssl_ping(port: u16, key: &str) -> String {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-no_ign_eof",
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["-CAfile", &testdata("serving-root.pem")])
        .args([
            "-cert_chain",
            &testdata("intermediate.pem"),
            "-cert",
            &testdata("client.pem"),
            "-key",
            &testdata(key),
        ])
        .args([
            "-pass",
            &format!("file:{}", testdata("client-encrypted.pass")),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"PING\r\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn encrypted_pkcs8_keys_are_decrypted_and_accepted_by_an_mtls_server() {
    let s = mtls_server();
    let (cacert, cert, pass) = (
        testdata("serving-root.pem"),
        testdata("client-chain.pem"),
        testdata("client-encrypted.pass"),
    );
    for key in ["client-encrypted.key", "client-encrypted-scrypt.key"] {
        assert_eq!(openssl_ping(s.port, key), "+PONG", "{key}");
        let (k, url) = (testdata(key), s.url());
        let all = [
            "--cacert",
            &cacert,
            "--cert",
            &cert,
            "--key",
            &k,
            "--key-pass-file",
            &pass,
            &url,
        ];
        let (v, code, stderr) = verify_json(&all);
        assert_eq!(code, 0, "{key}\n{}", steps(&v));
        assert_eq!(status(&v, "client-cert"), "pass", "{}", steps(&v));
        assert_no_passphrase(&format!("{v}{stderr}"));
        let mut human = vec!["verify"];
        human.extend_from_slice(&all);
        let r = run_text(&human);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_no_passphrase(&(r.stdout + &r.stderr));
    }
}

#[test]
fn encrypted_key_errors_say_what_to_do_and_never_show_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = write_file(dir.path(), "wrong.pass", "not the passphrase\n");
    let cert = testdata("client-chain.pem");
    let enc = testdata("client-encrypted.key");
    let pass = testdata("client-encrypted.pass");
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--cert", &cert, "--key", &enc],
            vec!["--key", "client-encrypted.key", "--key-pass-file"],
        ),
        (
            vec!["--cert", &cert, "--key", &enc, "--key-pass-file", &wrong],
            vec!["wrong passphrase"],
        ),
        (
            vec!["--key-pass-file", &pass],
            vec!["--key-pass-file", "without --cert"],
        ),
    ];
    for (args, wanted) in cases {
        let mut all = vec!["verify"];
        all.extend(args);
        all.push("localhost:1");
        let r = run_text(&all);
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        let line = r.stderr.lines().last().unwrap_or("");
        assert!(line.starts_with("error: "), "{}", r.stderr);
        for w in wanted {
            assert!(line.contains(w), "{w:?} not in {line}");
        }
        assert_no_passphrase(&(r.stdout + &r.stderr));
    }
    // The legacy form: one line saying how to convert it with openssl.
    let legacy = testdata("client-legacy-encrypted.key");
    let r = run_text(&[
        "verify",
        "--cert",
        &cert,
        "--key",
        &legacy,
        "--key-pass-file",
        &pass,
        "localhost:1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(
        errors[0].contains("Proc-Type: 4,ENCRYPTED"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("openssl pkcs8 -topk8"), "{}", errors[0]);
    assert_no_passphrase(&r.stderr);
    // What the hint says works: openssl converts it, and tlsprobe reads the result.
    let p8 = dir.path().join("key.p8");
    let pass2 = write_file(dir.path(), "copy.pass", format!("{}\n", passphrase()));
    let st = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", &legacy])
        .args([
            "-passin",
            &format!("file:{pass}"),
            // openssl reads two lines when -passin and -passout name the same file.
            "-passout",
            &format!("file:{pass2}"),
        ])
        .args(["-out", p8.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let s = mtls_server();
    let cacert = testdata("serving-root.pem");
    let (v, code, _) = verify_json(&[
        "--cacert",
        &cacert,
        "--cert",
        &cert,
        "--key",
        p8.to_str().unwrap(),
        "--key-pass-file",
        &pass,
        &s.url(),
    ]);
    assert_eq!(code, 0, "{}", steps(&v));
}

#[test]
fn inventory_key_pass_file_decrypts_the_key() {
    let s = mtls_server();
    let dir = tempfile::tempdir().unwrap();
    let inv = write_file(
        dir.path(),
        "inv.toml",
        format!(
            "[[target]]\nid = \"enc\"\nurl = \"{}\"\ncacert = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\nkey_pass_file = \"{}\"\n",
            s.url(),
            testdata("serving-root.pem"),
            testdata("client-chain.pem"),
            testdata("client-encrypted.key"),
            testdata("client-encrypted.pass"),
        ),
    );
    let r = run_text(&["audit", "-q", "--format", "json", &inv]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_no_passphrase(&(r.stdout + &r.stderr));
}

#[test]
fn mtls_config_client_certs_stand_in_for_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let ca = std::fs::read_to_string(testdata("intermediate.pem")).unwrap();
    let cfg = write_file(
        dir.path(),
        "bdb.json",
        serde_json::json!({"authentication_ssl_client_certs": [{"client_cert": ca}]}).to_string(),
    );
    let r = run_text(&[
        "mtls",
        "--config",
        &cfg,
        "--cert",
        &testdata("client-chain.pem"),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("ACCEPTED"), "{}", r.stdout);
    // The list is really used: a client from another CA is rejected.
    let r = run_text(&[
        "mtls",
        "--config",
        &cfg,
        "--cert",
        &testdata("client-other-ca.pem"),
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    // Without either, one input error naming --trusted.
    let empty = write_file(dir.path(), "empty.json", "{}");
    for args in [
        vec!["mtls", "--cert", "x.pem"],
        vec!["mtls", "--config", empty.as_str(), "--cert", "x.pem"],
    ] {
        let r = run_text(&args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.starts_with("error: --trusted"), "{}", r.stderr);
    }
}

#[test]
fn key_inside_cert_file_is_warned_about_as_cert() {
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.pem");
    std::fs::copy(testdata("client-with-key.pem"), &both).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&both, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let r = run_text(&["verify", "--cert", both.to_str().unwrap(), "localhost:1"]);
    let warning = r
        .stderr
        .lines()
        .find(|l| l.contains("readable by other users"))
        .unwrap_or_else(|| panic!("no warning: {}", r.stderr));
    assert!(
        warning.contains(&format!("--cert {}", both.display())),
        "{warning}"
    );
    assert!(!warning.contains("--key"), "{warning}");
}

#[test]
fn garbage_key_file_is_described_as_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write_file(dir.path(), "key.pem", "this is not a key\n");
    let r = run_text(&[
        "verify",
        "--cert",
        &testdata("client.pem"),
        "--key",
        &junk,
        "localhost:1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--key"), "{}", r.stderr);
    assert!(r.stderr.contains("private key"), "{}", r.stderr);
    assert!(!r.stderr.contains("certificate"), "{}", r.stderr);
}

#[test]
fn unbracketed_ipv6_target_suggests_brackets() {
    let r = run_text(&["verify", "::1:6379"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("[::1]:6379"), "{}", r.stderr);
    // The suggestion works against a real server on ::1 (redis-server binds 127.0.0.1 and ::1).
    let s = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..RedisOpts::default()
    });
    let target = format!("[::1]:{}", s.port);
    let (v, code, _) = verify_json(&["--cacert", &testdata("serving-root.pem"), &target]);
    assert_eq!(code, 0, "{}", steps(&v));
}

#[test]
fn inspect_of_a_file_without_certificates_warns_no_certificates() {
    let path = testdata("keys-only.pem");
    let r = run_text(&["inspect", "--format", "json", &path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = v["files"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "no-certificates" && f["severity"] == "warn"),
        "{findings:?}"
    );
    let r = run_text(&["inspect", "--fail-on", "warn", &path]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // A certificate file has no such finding.
    let r = run_text(&["inspect", "--format", "json", &testdata("server.pem")]);
    assert!(!r.stdout.contains("no-certificates"), "{}", r.stdout);
}
