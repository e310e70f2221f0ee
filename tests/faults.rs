//! The misbehaving-peer fault matrix: `tlsprobe verify` and `audit` against peers that
//! close, reset, stall, speak another protocol or break the Redis round trip.
//!
//! Every case asserts the exit code, the step that fails first, that its message names
//! what happened, that the run ends within a bound of the timeout (a hang bound, not a
//! performance test) and that nothing panicked.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::faults::{many_dns_names, Fault, FaultyPeer, Plaintext, ServerCert};
use support::*;

/// The `--timeout` of every case.
const TIMEOUT: &str = "2s";
const TIMEOUT_S: u64 = 2;

/// Longest a run may take: 2 × timeout + 3 s. Bounds a hang; not a performance test.
fn bound() -> Duration {
    Duration::from_secs(2 * TIMEOUT_S + 3)
}

/// One `verify --format json --timeout 2s` run.
struct Outcome {
    args: Vec<String>,
    v: Value,
    code: i32,
    stderr: String,
    elapsed: Duration,
}

fn verify(args: &[&str]) -> Outcome {
    let mut all = vec!["verify", "--format", "json", "--timeout", TIMEOUT];
    all.extend_from_slice(args);
    let started = Instant::now();
    let r = run_text(&all);
    let elapsed = started.elapsed();
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "{all:?}: not JSON ({e}): {}\nstderr: {}",
            r.stdout, r.stderr
        )
    });
    let o = Outcome {
        args: all.iter().map(|s| s.to_string()).collect(),
        v,
        code: r.code,
        stderr: r.stderr,
        elapsed,
    };
    // Shown with --nocapture: what each case printed and how long it took.
    eprintln!("{}", o.context());
    o
}

/// `verify` of a peer's `rediss://127.0.0.1:PORT`, trusting the testdata root.
fn verify_peer(peer: &FaultyPeer) -> Outcome {
    verify(&["--cacert", &testdata("serving-root.pem"), &peer.url()])
}

/// The first step whose status is `fail`.
fn first_failure(v: &Value) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "fail")
        .map(|c| c["check"].as_str().unwrap().to_string())
        .unwrap_or_else(|| "none".into())
}

impl Outcome {
    fn context(&self) -> String {
        format!(
            "{:?}\nexit {} after {:?}\nsteps:\n{}\nstderr: {}",
            self.args,
            self.code,
            self.elapsed,
            steps(&self.v),
            self.stderr
        )
    }

    /// The run ended in time and did not panic.
    #[track_caller]
    fn assert_sane(&self) {
        assert!(
            self.elapsed < bound(),
            "took {:?} (bound {:?}): {}",
            self.elapsed,
            bound(),
            self.context()
        );
        assert!(
            !self.stderr.contains("panicked"),
            "panic: {}",
            self.context()
        );
    }

    /// Exit 1, `step` is the first failing step, and its message contains one of `needles`
    /// (case-insensitively) and is more than a generic "error".
    #[track_caller]
    fn assert_fails_at(&self, step: &str, needles: &[&str]) {
        self.assert_sane();
        assert_eq!(self.code, 1, "exit code: {}", self.context());
        assert_eq!(self.v["verdict"], "fail", "{}", self.context());
        assert_eq!(
            first_failure(&self.v),
            step,
            "first failing step: {}",
            self.context()
        );
        let m = message(&self.v, step).to_lowercase();
        assert!(
            needles.iter().any(|n| m.contains(&n.to_lowercase())),
            "message of {step} should contain one of {needles:?}: {}",
            self.context()
        );
        assert!(
            m.trim() != "error" && m.len() > 20,
            "generic message for {step}: {}",
            self.context()
        );
    }

    /// Exit 0 and a `pass` verdict.
    #[track_caller]
    fn assert_passes(&self) {
        self.assert_sane();
        assert_eq!(self.code, 0, "exit code: {}", self.context());
        assert_eq!(self.v["verdict"], "pass", "{}", self.context());
    }

    #[track_caller]
    fn assert_step(&self, step: &str, want: &str) {
        assert_eq!(
            status(&self.v, step),
            want,
            "step {step}: {}",
            self.context()
        );
    }
}

/// Steps before a failure at `tls-handshake` must have passed.
#[track_caller]
fn assert_connected(o: &Outcome) {
    o.assert_step("resolve", "pass");
    o.assert_step("tcp", "pass");
}

/// Steps before a failure at `ping`: the TLS session and the certificate were fine.
#[track_caller]
fn assert_tls_fine(o: &Outcome) {
    assert_connected(o);
    for step in ["tls-handshake", "chain-trust", "server-name", "expiry"] {
        o.assert_step(step, "pass");
    }
}

// ---- faults before or during the handshake: tls-handshake fails ----

#[test]
fn peer_that_closes_at_once_fails_the_handshake() {
    let peer = FaultyPeer::start(Fault::Close);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["closed the connection"]);
    assert_connected(&o);
    o.assert_step("ping", "skip");
}

#[test]
fn peer_that_resets_fails_the_handshake() {
    let peer = FaultyPeer::start(Fault::Reset);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["reset"]);
    assert_connected(&o);
}

#[test]
fn peer_that_never_speaks_fails_the_handshake_at_the_deadline() {
    let peer = FaultyPeer::start(Fault::Silent);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["deadline"]);
    assert_connected(&o);
    // It waited for the deadline, not for ever.
    assert!(o.elapsed >= Duration::from_millis(1900), "{}", o.context());
}

#[test]
fn ssh_banner_fails_the_handshake_as_not_tls() {
    let peer = FaultyPeer::start(Fault::Banner);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["not speak TLS", "not TLS"]);
    assert_connected(&o);
}

#[test]
fn ssh_banner_is_quoted_in_the_handshake_failure() {
    // "Say what was expected and what was found": the banner tells the user which service
    // listens on the port.
    let peer = FaultyPeer::start(Fault::Banner);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["SSH-2.0-OpenSSH_9.2"]);
}

#[test]
fn random_bytes_instead_of_a_server_hello_fail_the_handshake() {
    let peer = FaultyPeer::start(Fault::RandomBytes);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["not speak TLS", "not TLS"]);
    assert_connected(&o);
}

#[test]
fn stall_after_the_server_hello_fails_the_handshake_at_the_deadline() {
    let peer = FaultyPeer::start(Fault::StallAfterServerHello);
    let o = verify_peer(&peer);
    o.assert_fails_at("tls-handshake", &["deadline"]);
    assert_connected(&o);
}

// ---- faults after the handshake: ping fails ----

#[test]
fn close_before_the_ping_reply_fails_ping() {
    let peer = FaultyPeer::start(Fault::CloseBeforeReply);
    let o = verify_peer(&peer);
    o.assert_fails_at("ping", &["closed the connection"]);
    assert_tls_fine(&o);
}

#[test]
fn malformed_resp_reply_fails_ping() {
    let peer = FaultyPeer::start(Fault::MalformedReply);
    let o = verify_peer(&peer);
    o.assert_fails_at("ping", &["malformed", "not a RESP reply"]);
    assert_tls_fine(&o);
    // It did not wait for more bytes of a frame that can never parse.
    assert!(o.elapsed < Duration::from_millis(1900), "{}", o.context());
}

#[test]
fn slowloris_pong_fails_ping_at_the_deadline() {
    let peer = FaultyPeer::start(Fault::Trickle);
    let o = verify_peer(&peer);
    o.assert_fails_at("ping", &["deadline"]);
    assert_tls_fine(&o);
}

/// Peak resident set of a finished child, in KiB: `/usr/bin/time -f %M` when installed,
/// else the last `VmHWM` seen while polling `/proc/<pid>/status`.
fn run_measuring_peak_rss(args: &[&str]) -> (std::process::Output, u64, Duration) {
    let bin = env!("CARGO_BIN_EXE_tlsprobe");
    let time = std::path::Path::new("/usr/bin/time");
    let started = Instant::now();
    if time.exists() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("rss");
        let out = std::process::Command::new(time)
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(bin)
            .args(args)
            .env_remove("REDISCLI_AUTH")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let text = std::fs::read_to_string(&report).unwrap();
        let kib = text
            .lines()
            .filter_map(|l| l.trim().parse::<u64>().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no peak RSS in {text:?}"));
        return (out, kib, elapsed);
    }
    let mut child = tlsprobe()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    // Pipes are drained after exit: the outputs of verify are small.
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().unwrap();
    (out, peak, started.elapsed())
}

#[test]
fn hundred_megabyte_bulk_reply_fails_ping_in_bounded_memory() {
    let peer = FaultyPeer::start(Fault::HugeBulk);
    let root = testdata("serving-root.pem");
    let url = peer.url();
    let args = [
        "verify",
        "--format",
        "json",
        "--timeout",
        TIMEOUT,
        "--cacert",
        &root,
        &url,
    ];
    let (out, peak_kib, elapsed) = run_measuring_peak_rss(&args);
    let o = Outcome {
        args: args.iter().map(|s| s.to_string()).collect(),
        v: serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        }),
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
    };
    eprintln!("peak RSS {peak_kib} KiB\n{}", o.context());
    o.assert_fails_at("ping", &["larger than 65536 bytes"]);
    assert_tls_fine(&o);
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB (limit 64 MiB): {}",
        o.context()
    );
}

// ---- certificates at the edges of the limits ----

#[test]
fn fifty_certificate_chain_fails_chain_trust_as_too_long() {
    // Leaf, 48 intermediates, root: all 50 served; the root is trusted.
    let cert = ServerCert::generated(49, vec!["localhost".into(), "127.0.0.1".into()]);
    assert_eq!(cert.chain.len(), 50);
    let dir = tempfile::tempdir().unwrap();
    let root = write_file(dir.path(), "root.pem", cert.root_pem.clone().unwrap());
    let peer = FaultyPeer::start_with(Fault::Healthy, cert, Plaintext::Close);
    let o = verify(&["--cacert", &root, &peer.url()]);
    o.assert_fails_at("chain-trust", &["too long", "path length", "depth"]);
    o.assert_step("tls-handshake", "pass");
    assert_eq!(
        o.v["chain"].as_array().map(Vec::len),
        Some(50),
        "the presented chain is reported: {}",
        o.context()
    );
}

#[test]
fn fifty_certificate_chain_passes_when_a_near_intermediate_is_trusted() {
    // Trusting the CA two above the leaf makes a short path inside the long chain.
    let cert = ServerCert::generated(49, vec!["localhost".into(), "127.0.0.1".into()]);
    let dir = tempfile::tempdir().unwrap();
    let near = write_file(dir.path(), "near.pem", &cert.ca_pems[47]);
    let peer = FaultyPeer::start_with(Fault::Healthy, cert, Plaintext::Close);
    let o = verify(&["--cacert", &near, &peer.url()]);
    o.assert_passes();
    o.assert_step("chain-trust", "pass");
    o.assert_step("ping", "pass");
}

/// SAN entries of about 23 bytes each: this many keep the leaf under 64 KiB.
const NAMES_UNDER_64K: usize = 2600;
/// And this many (about 69 KiB of SAN) push the certificate message past TLS's 64 KiB.
const NAMES_OVER_64K: usize = 3000;

#[test]
fn leaf_with_a_60k_san_list_is_matched_by_its_last_entry() {
    let mut sans = many_dns_names(NAMES_UNDER_64K);
    sans.push("127.0.0.1".into());
    let cert = ServerCert::generated(1, sans);
    assert!(cert.chain[0].len() > 55_000 && cert.chain[0].len() < 65_000);
    let dir = tempfile::tempdir().unwrap();
    let root = write_file(dir.path(), "root.pem", cert.root_pem.clone().unwrap());
    let peer = FaultyPeer::start_with(Fault::Healthy, cert, Plaintext::Close);
    let o = verify(&["--cacert", &root, &peer.url()]);
    o.assert_passes();
    o.assert_step("server-name", "pass");
}

#[test]
fn leaf_with_a_60k_san_list_fails_server_name_with_a_bounded_message() {
    let cert = ServerCert::generated(1, many_dns_names(NAMES_UNDER_64K));
    let dir = tempfile::tempdir().unwrap();
    let root = write_file(dir.path(), "root.pem", cert.root_pem.clone().unwrap());
    let peer = FaultyPeer::start_with(Fault::Healthy, cert, Plaintext::Close);
    let o = verify(&["--cacert", &root, &peer.url()]);
    o.assert_fails_at("server-name", &["not valid for 127.0.0.1"]);
    let m = message(&o.v, "server-name");
    // A person reads this line: it names some entries and how many there are, not all 2600.
    assert!(
        m.len() < 4096,
        "server-name message is {} bytes long: {}...",
        m.len(),
        &m[..300.min(m.len())]
    );
    assert!(m.contains("2600"), "the count of names is given: {m:.300}");
}

#[test]
fn leaf_with_a_64k_san_list_fails_the_handshake_naming_the_size() {
    let mut sans = many_dns_names(NAMES_OVER_64K);
    sans.push("127.0.0.1".into());
    let cert = ServerCert::generated(1, sans);
    assert!(cert.chain[0].len() > 65_535);
    let dir = tempfile::tempdir().unwrap();
    let root = write_file(dir.path(), "root.pem", cert.root_pem.clone().unwrap());
    let peer = FaultyPeer::start_with(Fault::Healthy, cert, Plaintext::Close);
    let o = verify(&["--cacert", &root, &peer.url()]);
    // rustls refuses handshake messages over 64 KiB, so no name can be judged; the message
    // must say that (the server does speak TLS: its ServerHello was fine).
    o.assert_fails_at(
        "tls-handshake",
        &["too large", "larger than", "64 KiB", "65535", "65536"],
    );
    let m = message(&o.v, "tls-handshake");
    assert!(!m.contains("does not speak TLS"), "{}", o.context());
}

// ---- names and addresses ----

#[test]
fn unresolvable_host_fails_resolve() {
    let o = verify(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "rediss://no-such-host.invalid:6379",
    ]);
    o.assert_fails_at("resolve", &["no-such-host.invalid"]);
    o.assert_step("tcp", "skip");
    o.assert_step("tls-handshake", "skip");
}

#[test]
fn ipv6_loopback_target_passes() {
    let r = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..Default::default()
    });
    let url = format!("rediss://[::1]:{}", r.port);
    let o = verify(&["--cacert", &testdata("serving-root.pem"), &url]);
    o.assert_passes();
    o.assert_step("server-name", "pass");
    assert!(
        message(&o.v, "tcp").contains("[::1]"),
        "connected over IPv6: {}",
        o.context()
    );
}

// ---- plaintext on the same port: --expect-plaintext refused ----

#[test]
fn tls_port_that_closes_plaintext_passes_expect_plaintext_refused() {
    let peer = FaultyPeer::start_with(Fault::Healthy, ServerCert::testdata(), Plaintext::Close);
    let o = verify(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "--expect-plaintext",
        "refused",
        &peer.url(),
    ]);
    o.assert_passes();
    o.assert_step("plaintext-refused", "pass");
    o.assert_step("ping", "pass");
}

#[test]
fn tls_port_that_answers_plaintext_fails_expect_plaintext_refused() {
    let peer = FaultyPeer::start_with(Fault::Healthy, ServerCert::testdata(), Plaintext::Pong);
    let o = verify(&[
        "--cacert",
        &testdata("serving-root.pem"),
        "--expect-plaintext",
        "refused",
        &peer.url(),
    ]);
    o.assert_fails_at("plaintext-refused", &["+PONG"]);
    o.assert_step("ping", "pass");
}

#[test]
fn plaintext_server_that_closes_on_ping_passes_plaintext_refused_but_fails_ping() {
    // A redis:// target whose server drops every plaintext command: nothing is served.
    let peer = FaultyPeer::start(Fault::Close);
    let url = format!("redis://127.0.0.1:{}", peer.port);
    let o = verify(&["--expect-plaintext", "refused", &url]);
    o.assert_fails_at("ping", &["closed the connection"]);
    o.assert_step("plaintext-refused", "pass");
}

#[test]
fn plaintext_server_that_answers_ping_fails_plaintext_refused() {
    let peer = FaultyPeer::start_with(Fault::Healthy, ServerCert::testdata(), Plaintext::Pong);
    let url = format!("redis://127.0.0.1:{}", peer.port);
    let o = verify(&["--expect-plaintext", "refused", &url]);
    o.assert_fails_at("plaintext-refused", &["+PONG", "not enforced"]);
    o.assert_step("ping", "pass");
}

// ---- audit: healthy and faulty peers in one inventory ----

#[test]
fn audit_of_healthy_and_faulty_peers_is_complete_and_bounded() {
    let healthy: Vec<RedisServer> = (0..3)
        .map(|_| {
            RedisServer::start(RedisOpts {
                tls: Some(("server-chain.pem", "server.key")),
                ..Default::default()
            })
        })
        .collect();
    let faulty: Vec<(&str, FaultyPeer, &str)> = vec![
        ("close", FaultyPeer::start(Fault::Close), "tls-handshake"),
        ("reset", FaultyPeer::start(Fault::Reset), "tls-handshake"),
        ("silent", FaultyPeer::start(Fault::Silent), "tls-handshake"),
        ("banner", FaultyPeer::start(Fault::Banner), "tls-handshake"),
        (
            "stall",
            FaultyPeer::start(Fault::StallAfterServerHello),
            "tls-handshake",
        ),
        (
            "close-before-reply",
            FaultyPeer::start(Fault::CloseBeforeReply),
            "ping",
        ),
        (
            "malformed",
            FaultyPeer::start(Fault::MalformedReply),
            "ping",
        ),
        ("huge", FaultyPeer::start(Fault::HugeBulk), "ping"),
        ("trickle", FaultyPeer::start(Fault::Trickle), "ping"),
    ];
    let td = testdata("");
    let mut text =
        format!("[defaults]\ncacert = \"{td}/serving-root.pem\"\ntimeout = \"{TIMEOUT}\"\n");
    let mut ids: Vec<String> = Vec::new();
    for (i, r) in healthy.iter().enumerate() {
        let id = format!("healthy-{i}");
        text += &format!("\n[[target]]\nid = \"{id}\"\nurl = \"{}\"\n", r.url());
        ids.push(id);
    }
    for (id, peer, _) in &faulty {
        text += &format!("\n[[target]]\nid = \"{id}\"\nurl = \"{}\"\n", peer.url());
        ids.push(id.to_string());
    }
    text += "\n[[target]]\nid = \"unresolvable\"\nurl = \"rediss://no-such-host.invalid:6379\"\n";
    ids.push("unresolvable".into());
    let dir = tempfile::tempdir().unwrap();
    let inv = write_file(dir.path(), "inventory.toml", &text);

    let started = Instant::now();
    let r = run_text(&["audit", "-q", "--format", "json", &inv]);
    let elapsed = started.elapsed();
    let ctx = format!(
        "exit {} after {elapsed:?}\nstdout: {}\nstderr: {}",
        r.code, r.stdout, r.stderr
    );
    eprintln!(
        "audit of {} targets: exit {} after {elapsed:?}",
        ids.len(),
        r.code
    );
    assert!(!r.stderr.contains("panicked"), "{ctx}");
    assert_eq!(r.code, 1, "{ctx}");
    // The targets run side by side: the slowest costs about its timeout, plus slack.
    let limit = Duration::from_secs(TIMEOUT_S + 5);
    assert!(elapsed < limit, "audit took {elapsed:?} (limit {limit:?})");
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {ctx}"));

    let targets = v["targets"].as_array().unwrap();
    let got: Vec<&str> = targets.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids, "every target is reported, in inventory order");
    let find = |id: &str| targets.iter().find(|t| t["id"] == id).unwrap();
    for i in 0..3 {
        let t = find(&format!("healthy-{i}"));
        assert_eq!(t["verdict"], "pass", "healthy-{i}:\n{}", steps(t));
    }
    for (id, _, step) in &faulty {
        let t = find(id);
        assert_eq!(t["verdict"], "fail", "{id}:\n{}", steps(t));
        assert_eq!(first_failure(t), *step, "{id}:\n{}", steps(t));
        assert!(message(t, step).len() > 20, "{id}:\n{}", steps(t));
    }
    assert_eq!(first_failure(find("unresolvable")), "resolve");
    assert_eq!(v["summary"]["targets"], ids.len());
    assert_eq!(v["summary"]["passed"], 3);
    assert_eq!(v["summary"]["failed"], ids.len() - 3);
}
