//! `tlsprobe exporter` against real parts: TLS redis-servers, a black hole, and a real
//! Prometheus server scraping the exporter with the multi-target relabelling pattern;
//! `promtool check metrics` on the output; bad requests, overload, reload, drain, secrets;
//! and `promtool test rules` on examples/prometheus/alerts.yml.

mod support;

use std::process::Command;
use std::time::Duration;

use support::prometheus::{get, request, Answer, BlackHole, Exporter, PrometheusServer};
use support::{run_text, testdata, RedisOpts, RedisServer};

fn good_redis() -> RedisServer {
    RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        ..RedisOpts::default()
    })
}

/// One module, `redis`, trusting the test root; `extra` is appended to its table (with a
/// 5 s timeout unless `extra` sets one).
fn config(extra: &str) -> String {
    let timeout = if extra.contains("timeout") {
        ""
    } else {
        "timeout = \"5s\"\n"
    };
    format!(
        "[module.redis]\ncacert = \"{}\"\n{timeout}{extra}",
        testdata("serving-root.pem")
    )
}

/// The value of the sample `name` (exact line prefix up to the value) in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn promtool_check(text: &str) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (scripts/install-deps.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value Prometheus holds for `metric{instance="localhost:PORT",extra}`.
fn value(p: &PrometheusServer, metric: &str, port: u16, extra: &str) -> Option<f64> {
    let sel = format!("{metric}{{instance=\"localhost:{port}\"{extra}}}");
    let r = p.query(&sel);
    assert!(r.len() <= 1, "{sel}: {r:?}");
    r.first().map(|(_, v)| *v)
}

#[test]
fn prometheus_scrapes_pass_mtls_rejected_expired_and_black_hole() {
    let good = good_redis();
    let mtls = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        ..RedisOpts::default()
    });
    let expired = RedisServer::start(RedisOpts {
        tls: Some(("server-expired-chain.pem", "server-expired.key")),
        ..RedisOpts::default()
    });
    let hole = BlackHole::start();
    let exporter = Exporter::start(&config(""), &[]);
    let targets: Vec<String> = [good.port, mtls.port, expired.port, hole.port]
        .iter()
        .map(|p| format!("'localhost:{p}'"))
        .collect();
    let scrape = format!(
        "  - job_name: tlsprobe\n    metrics_path: /probe\n    params:\n      module: [redis]\n    static_configs:\n      - targets: [{}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: '{}'\n  - job_name: tlsprobe_exporter\n    static_configs:\n      - targets: ['{}']\n",
        targets.join(", "),
        exporter.addr,
        exporter.addr
    );
    let prom = PrometheusServer::start("2s", "2s", &scrape);
    prom.wait_for(
        "probe_success{job=\"tlsprobe\"}",
        4,
        Duration::from_secs(90),
    );
    // The black hole came back within the scrape timeout: a scrape that timed out would be
    // up == 0 with no probe_success at all.
    prom.wait_for(
        &format!("up{{instance=\"localhost:{}\"}} == 1", hole.port),
        1,
        Duration::from_secs(30),
    );

    let step = |port, s: &str| {
        value(
            &prom,
            "tlsprobe_step_success",
            port,
            &format!(",step=\"{s}\""),
        )
    };
    let success = |port| value(&prom, "probe_success", port, "");
    let diag = |port| prom.query(&format!("{{instance=\"localhost:{port}\"}}"));

    assert_eq!(success(good.port), Some(1.0), "{:?}", diag(good.port));
    assert_eq!(step(good.port, "ping"), Some(1.0));
    assert_eq!(step(good.port, "chain-trust"), Some(1.0));
    assert_eq!(
        value(
            &prom,
            "probe_tls_version_info",
            good.port,
            ",version=\"TLS 1.3\""
        ),
        Some(1.0)
    );

    assert_eq!(success(mtls.port), Some(0.0), "{:?}", diag(mtls.port));
    assert_eq!(step(mtls.port, "client-cert"), Some(0.0));
    assert_eq!(step(mtls.port, "chain-trust"), Some(1.0));
    assert_eq!(
        value(&prom, "tlsprobe_client_auth_required", mtls.port, ""),
        Some(1.0)
    );

    assert_eq!(success(expired.port), Some(0.0), "{:?}", diag(expired.port));
    assert_eq!(step(expired.port, "expiry"), Some(0.0));
    // Certificate facts although expiry failed: the expired leaf's notAfter (2025-01-01).
    assert_eq!(
        value(&prom, "probe_ssl_earliest_cert_expiry", expired.port, ""),
        Some(1735689600.0)
    );

    assert_eq!(success(hole.port), Some(0.0), "{:?}", diag(hole.port));
    assert_eq!(step(hole.port, "tcp"), Some(1.0));
    assert_eq!(step(hole.port, "tls-handshake"), Some(0.0));
    assert_eq!(step(hole.port, "ping"), None, "skipped steps are absent");

    // The exporter's own metrics, scraped too.
    let probes = prom.wait_for(
        "tlsprobe_exporter_probes_total{job=\"tlsprobe_exporter\",module=\"redis\"}",
        2,
        Duration::from_secs(30),
    );
    assert!(
        probes
            .iter()
            .any(|(m, v)| m["result"] == "success" && *v >= 1.0),
        "{probes:?}"
    );
}

#[test]
fn promtool_accepts_probe_and_metrics_output() {
    let good = good_redis();
    let mtls = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        auth_clients: Some("yes"),
        ..RedisOpts::default()
    });
    let exporter = Exporter::start(
        &format!(
            "{}\n[module.mutual]\ncacert = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\nexpect_plaintext = \"refused\"\n[module.mutual.policy]\nrequire_client_auth = true\n[module.untrusted]\ncacert = \"{}\"\n",
            config(""),
            testdata("serving-root.pem"),
            testdata("client-chain.pem"),
            testdata("client.key"),
            testdata("other-root.pem")
        ),
        &[],
    );
    let a = exporter.probe(&format!("target=localhost:{}&module=redis", good.port));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
    promtool_check(&a.body);

    let a = exporter.probe(&format!("target=localhost:{}&module=mutual", mtls.port));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
    // The client certificate's notAfter (2124-01-01), the port's plaintext refused, and
    // the server shown to refuse a client without a certificate.
    assert_eq!(
        sample(&a.body, "tlsprobe_client_cert_expiry_timestamp_seconds"),
        Some(4859740800.0),
        "{}",
        a.body
    );
    assert_eq!(
        sample(
            &a.body,
            &format!("tlsprobe_plaintext_refused{{port=\"{}\"}}", mtls.port)
        ),
        Some(1.0),
        "{}",
        a.body
    );
    assert_eq!(
        sample(&a.body, "tlsprobe_client_auth_required"),
        Some(1.0),
        "{}",
        a.body
    );
    assert!(a.body.contains("tlsprobe_anchor_info{file="), "{}", a.body);
    promtool_check(&a.body);

    // An untrusted chain: nothing verified, so no verified-path expiry, but the presented
    // chain's facts are there.
    let a = exporter.probe(&format!("target=localhost:{}&module=untrusted", good.port));
    assert_eq!(sample(&a.body, "probe_success"), Some(0.0), "{}", a.body);
    assert_eq!(
        sample(&a.body, "tlsprobe_step_success{step=\"chain-trust\"}"),
        Some(0.0),
        "{}",
        a.body
    );
    assert_eq!(
        sample(&a.body, "probe_ssl_last_chain_expiry_timestamp_seconds"),
        None,
        "{}",
        a.body
    );
    assert_eq!(
        sample(&a.body, "probe_ssl_earliest_cert_expiry"),
        Some(4859740800.0),
        "{}",
        a.body
    );
    assert!(a.body.contains("probe_ssl_last_chain_info{"), "{}", a.body);
    promtool_check(&a.body);

    let m = get(exporter.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m
        .body
        .contains("tlsprobe_exporter_probes_total{module=\"redis\",result=\"success\"} 1"));
    assert_eq!(
        sample(&m.body, "tlsprobe_exporter_config_last_reload_successful"),
        Some(1.0)
    );
    promtool_check(&m.body);

    // debug=true: the human verify report instead of metrics.
    let d = exporter.probe(&format!(
        "target=localhost:{}&module=redis&debug=true",
        good.port
    ));
    assert_eq!(d.status, 200);
    assert!(
        d.body.contains("tlsprobe verify rediss://localhost:"),
        "{}",
        d.body
    );
    assert!(d.body.contains("chain-trust"), "{}", d.body);
}

#[test]
fn bad_requests_get_their_status_and_the_exporter_keeps_serving() {
    let good = good_redis();
    let exporter = Exporter::start(
        &format!(
            "allow = [\"localhost\", \"127.0.0.0/8\"]\n{}\n[module.other]\n",
            config("")
        ),
        &[],
    );
    let t = format!("localhost:{}", good.port);
    let cases: Vec<(String, u16, &str)> = vec![
        ("module=redis".into(), 400, "missing parameter `target`"),
        ("target=".into(), 400, "missing parameter `target`"),
        (format!("target={t}"), 400, "missing parameter `module`"),
        (
            format!("target={t}&module=nope"),
            400,
            "unknown module \"nope\" (modules: other, redis)",
        ),
        (
            format!("target=rediss://u:hunter2@{t}&module=redis"),
            400,
            "the target holds a password",
        ),
        (
            format!("target=rediss://:hunter2@{t}&module=redis"),
            400,
            "the target holds a password",
        ),
        (
            "target=rediss://u:hunter2@localhost:notaport&module=redis".into(),
            400,
            "error: target",
        ),
        (
            "target=localhost:99999&module=redis".into(),
            400,
            "error: target",
        ),
        (
            "target=db.example.net:6379&module=redis".into(),
            403,
            "not in the allow list",
        ),
        (
            "target=10.1.2.3:6379&module=redis".into(),
            403,
            "not in the allow list",
        ),
    ];
    for (q, status, says) in &cases {
        let a = exporter.probe(q);
        assert_eq!(a.status, *status, "{q}: {}", a.body);
        assert!(a.body.contains(says), "{q}: {}", a.body);
        assert_eq!(a.body.lines().count(), 1, "{q}: {}", a.body);
        assert!(!a.body.contains("hunter2"), "{q}: {}", a.body);
    }
    let other = |method: &str, path: &str| {
        request(exporter.addr, method, path, &[], Duration::from_secs(10))
            .unwrap()
            .status
    };
    assert_eq!(other("GET", "/nope"), 404);
    assert_eq!(other("POST", "/probe"), 405);
    assert_eq!(other("GET", "/-/reload"), 405);
    assert_eq!(other("GET", "/-/healthy"), 200);
    // Still serving, and every refusal counted.
    let a = exporter.probe(&format!("target={t}&module=redis"));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
    let m = get(exporter.addr, "/metrics").body;
    assert_eq!(
        sample(&m, "tlsprobe_exporter_requests_refused_total{code=\"400\"}"),
        Some(8.0),
        "{m}"
    );
    assert_eq!(
        sample(&m, "tlsprobe_exporter_requests_refused_total{code=\"403\"}"),
        Some(2.0),
        "{m}"
    );
    assert!(!exporter.log().contains("hunter2"), "{}", exporter.log());
}

/// Sends `n` concurrent `/probe` requests and returns each status (0: no answer).
fn burst(addr: std::net::SocketAddr, path: &str, n: usize) -> Vec<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let path = path.to_string();
            tasks.push(tokio::spawn(async move {
                let once = async {
                    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
                    let req =
                        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    s.write_all(req.as_bytes()).await.ok()?;
                    let mut buf = Vec::new();
                    s.read_to_end(&mut buf).await.ok()?;
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    text.split_whitespace().nth(1)?.parse::<u16>().ok()
                };
                tokio::time::timeout(Duration::from_secs(60), once)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(0)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or(0));
        }
        out
    })
}

#[test]
fn a_thousand_requests_beyond_the_limit_get_503_and_the_exporter_keeps_serving() {
    let hole = BlackHole::start();
    let good = good_redis();
    let exporter = Exporter::start(&config("timeout = \"3s\"\n"), &["--max-concurrent", "2"]);
    let statuses = burst(
        exporter.addr,
        &format!("/probe?target=127.0.0.1:{}&module=redis", hole.port),
        1000,
    );
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + busy, 1000, "other statuses: {:?}", {
        let mut o: Vec<_> = statuses
            .iter()
            .filter(|s| **s != 200 && **s != 503)
            .collect();
        o.dedup();
        o
    });
    assert!(ok >= 1 && busy >= 1, "200: {ok}, 503: {busy}");
    let m = get(exporter.addr, "/metrics").body;
    assert_eq!(
        sample(&m, "tlsprobe_exporter_requests_refused_total{code=\"503\"}"),
        Some(busy as f64),
        "{m}"
    );
    assert_eq!(
        sample(&m, "tlsprobe_exporter_max_concurrent_probes"),
        Some(2.0)
    );
    let a = exporter.probe(&format!("target=localhost:{}&module=redis", good.port));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
}

#[test]
fn the_scrape_timeout_header_bounds_a_black_hole() {
    let hole = BlackHole::start();
    // A module timeout far beyond the request's own 60 s guard: only the header can make
    // the handshake step give up in time.
    let exporter = Exporter::start(
        &format!(
            "{}\n[module.plain]\ntimeout = \"600s\"\nexpect_plaintext = \"refused\"\n",
            config("timeout = \"600s\"\n")
        ),
        &[],
    );
    let a = request(
        exporter.addr,
        "GET",
        &format!("/probe?target=127.0.0.1:{}&module=redis", hole.port),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
        Duration::from_secs(60),
    )
    .expect("an answer bounded by the scrape timeout header");
    assert_eq!(a.status, 200);
    assert_eq!(sample(&a.body, "probe_success"), Some(0.0), "{}", a.body);
    // The handshake step failed at its own deadline (three quarters of 1.5 s), so the
    // answer says which step hung instead of being cut off.
    assert_eq!(
        sample(&a.body, "tlsprobe_step_success{step=\"tls-handshake\"}"),
        Some(0.0),
        "{}",
        a.body
    );
    assert_eq!(
        sample(&a.body, "tlsprobe_step_success{step=\"tcp\"}"),
        Some(1.0),
        "{}",
        a.body
    );

    // With plaintext-refused too, the steps together outlast the budget (1.125 s for the
    // handshake, as much again for the plaintext PING): the probe is cut off at the
    // deadline and answers probe_success 0 alone, counted as a timeout.
    let a = request(
        exporter.addr,
        "GET",
        &format!("/probe?target=127.0.0.1:{}&module=plain", hole.port),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "2")],
        Duration::from_secs(60),
    )
    .expect("an answer bounded by the scrape timeout header");
    assert_eq!(a.status, 200);
    assert_eq!(sample(&a.body, "probe_success"), Some(0.0), "{}", a.body);
    assert!(!a.body.contains("tlsprobe_step_success"), "{}", a.body);
    promtool_check(&a.body);
    let m = get(exporter.addr, "/metrics").body;
    assert_eq!(
        sample(
            &m,
            "tlsprobe_exporter_probes_total{module=\"plain\",result=\"timeout\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[test]
fn reload_swaps_the_config_atomically_and_keeps_the_old_one_when_bad() {
    let good = good_redis();
    let mut exporter = Exporter::start(&config(""), &[]);
    let q = |m: &str| format!("target=localhost:{}&module={m}", good.port);
    assert_eq!(exporter.probe(&q("second")).status, 400);

    std::fs::write(
        &exporter.config,
        format!(
            "{}\n[module.second]\ncacert = \"{}\"\n",
            config(""),
            testdata("serving-root.pem")
        ),
    )
    .unwrap();
    let r = request(
        exporter.addr,
        "POST",
        "/-/reload",
        &[],
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let a = exporter.probe(&q("second"));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);

    // A bad file: refused by POST (500 with the reason) and by SIGHUP (logged), the
    // previous configuration stays.
    std::fs::write(&exporter.config, "[module.second]\ntls_version = \"1.1\"\n").unwrap();
    let r = request(
        exporter.addr,
        "POST",
        "/-/reload",
        &[],
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(r.status, 500);
    assert!(r.body.contains(":2: key `tls_version`"), "{}", r.body);
    exporter.signal("HUP");
    let start = std::time::Instant::now();
    while exporter.log().matches("reload refused").count() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            exporter.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = get(exporter.addr, "/metrics").body;
    assert_eq!(
        sample(&m, "tlsprobe_exporter_config_last_reload_successful"),
        Some(0.0)
    );
    let a = exporter.probe(&q("second"));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);

    // SIGHUP with a good file again.
    std::fs::write(&exporter.config, config("")).unwrap();
    exporter.signal("HUP");
    let start = std::time::Instant::now();
    while !exporter
        .log()
        .contains("configuration reloaded (1 modules)")
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            exporter.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(exporter.probe(&q("second")).status, 400);
    assert_eq!(exporter.wait_exit(Duration::from_millis(1)), None);
}

#[test]
fn sigterm_lets_the_in_flight_probe_answer_then_exits() {
    let hole = BlackHole::start();
    let mut exporter = Exporter::start(&config("timeout = \"2s\"\n"), &[]);
    let addr = exporter.addr;
    let path = format!("/probe?target=127.0.0.1:{}&module=redis", hole.port);
    let in_flight = std::thread::spawn(move || {
        request(addr, "GET", &path, &[], Duration::from_secs(60)).unwrap()
    });
    let start = std::time::Instant::now();
    loop {
        let m = get(exporter.addr, "/metrics").body;
        if sample(&m, "tlsprobe_exporter_probes_in_flight") == Some(1.0) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{m}");
        std::thread::sleep(Duration::from_millis(20));
    }
    exporter.signal("TERM");
    let a: Answer = in_flight.join().unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(sample(&a.body, "probe_success"), Some(0.0), "{}", a.body);
    assert_eq!(
        exporter.wait_exit(Duration::from_secs(30)),
        Some(0),
        "{}",
        exporter.log()
    );
    assert!(
        exporter.log().contains("draining 1 in-flight probes"),
        "{}",
        exporter.log()
    );
}

#[test]
fn secrets_never_appear_in_probe_output_debug_metrics_or_logs() {
    const PW: &str = "exporter-s3cret-pw";
    let redis = RedisServer::start(RedisOpts {
        tls: Some(("server-chain.pem", "server.key")),
        requirepass: Some(PW),
        ..RedisOpts::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let pass_file = dir.path().join("pw");
    std::fs::write(&pass_file, format!("{PW}\n")).unwrap();
    let cfg = format!(
        "{}\n[module.from_env]\ncacert = \"{ca}\"\npass_env = \"TLSPROBE_EXPORTER_TEST_PW\"\n[module.from_file]\ncacert = \"{ca}\"\npass_file = \"{}\"\n",
        config(""),
        pass_file.display(),
        ca = testdata("serving-root.pem")
    );
    let exporter = Exporter::start_env(&cfg, &[], &[("TLSPROBE_EXPORTER_TEST_PW", PW)]);
    let mut seen = String::new();
    for module in ["from_env", "from_file"] {
        let a = exporter.probe(&format!("target=localhost:{}&module={module}", redis.port));
        assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
        assert_eq!(
            sample(&a.body, "tlsprobe_step_success{step=\"auth\"}"),
            Some(1.0)
        );
        seen.push_str(&a.body);
        let d = exporter.probe(&format!(
            "target=localhost:{}&module={module}&debug=true",
            redis.port
        ));
        seen.push_str(&d.body);
    }
    // Without the password the AUTH step fails: the password really was used above.
    let a = exporter.probe(&format!("target=localhost:{}&module=redis", redis.port));
    assert_eq!(sample(&a.body, "probe_success"), Some(0.0), "{}", a.body);
    seen.push_str(&a.body);
    let a = exporter.probe(&format!(
        "target=rediss://default:{PW}@localhost:{}&module=redis&debug=true",
        redis.port
    ));
    assert_eq!(a.status, 400);
    seen.push_str(&a.body);
    seen.push_str(&get(exporter.addr, "/metrics").body);
    seen.push_str(&exporter.log());
    assert!(!seen.contains(PW), "the password leaked:\n{seen}");
}

#[test]
fn bad_configurations_stop_the_start_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[module.a]\npassword = \"hunter2\"\n", ":2: key `password`"),
        ("[module.a]\nurl = \"rediss://h:1\"\n", "key `module.a`"),
        ("allow = [\"10.0.0.0/99\"]\n[module.a]\n", ":1: key `allow`"),
        (
            "[module.a]\ncert = \"/nonexistent/cert.pem\"\n",
            "module \"a\"",
        ),
        (
            "[module.a.policy]\nmin_tls_version = \"1.1\"\n",
            "key `min_tls_version`",
        ),
        ("[nope]\n", "unknown field `nope`"),
        ("", "no [module.NAME] table"),
    ];
    for (text, says) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let r = run_text(&[
            "exporter",
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ]);
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{text}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{text}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(!r.stderr.contains("hunter2"));
    }
    let path = dir.path().join("ok.toml");
    std::fs::write(&path, config("")).unwrap();
    for (flag, value, says) in [
        (
            "--listen",
            "nowhere",
            "--listen nowhere: expected ADDR:PORT",
        ),
        (
            "--max-concurrent",
            "0",
            "--max-concurrent: must be at least 1",
        ),
    ] {
        let r = run_text(&["exporter", "--config", path.to_str().unwrap(), flag, value]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(says), "{}", r.stderr);
    }
}

#[test]
fn example_alert_rules_pass_their_promtool_unit_tests() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus");
    let out = Command::new("promtool")
        .args(["test", "rules", "alerts.test.yml"])
        .current_dir(&dir)
        .output()
        .expect("promtool (scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "promtool test rules: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("promtool")
        .args(["check", "config", "prometheus.yml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check config: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn postgres_through_the_exporter_and_warnings_as_their_own_series() {
    use support::postgres::{PgOpts, PostgresServer};
    const PW: &str = "exporter-pg-pw";
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        password: Some(PW),
        ..PgOpts::default()
    });
    let good = good_redis();
    let cfg = format!(
        "{}\n[module.pg]\ncacert = \"{ca}\"\nprotocol = \"postgres\"\nuser = \"app\"\npass_env = \"TLSPROBE_EXPORTER_PG_PW\"\nexpect_plaintext = \"refused\"\n\
         [module.soon]\ncacert = \"{ca}\"\n[module.soon.policy]\nwarn_days = 40000\n",
        config(""),
        ca = testdata("serving-root.pem")
    );
    let exporter = Exporter::start_env(&cfg, &[], &[("TLSPROBE_EXPORTER_PG_PW", PW)]);
    let a = exporter.probe(&format!(
        "target=postgres://localhost:{}/app&module=pg",
        pg.port
    ));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
    for step in ["tls-handshake", "auth", "ping", "plaintext-refused"] {
        let series = format!("tlsprobe_step_success{{step=\"{step}\"}}");
        assert_eq!(sample(&a.body, &series), Some(1.0), "{step}\n{}", a.body);
    }
    assert_eq!(
        sample(
            &a.body,
            &format!("tlsprobe_plaintext_refused{{port=\"{}\"}}", pg.port)
        ),
        Some(1.0),
        "{}",
        a.body
    );
    assert!(!a.body.contains(PW));
    promtool_check(&a.body);

    // warn_days beyond the certificates' remaining ~98 years: `expiry` warns, which
    // passes the step and the probe, and shows as its own series.
    let a = exporter.probe(&format!("target=localhost:{}&module=soon", good.port));
    assert_eq!(sample(&a.body, "probe_success"), Some(1.0), "{}", a.body);
    assert_eq!(
        sample(&a.body, "tlsprobe_step_success{step=\"expiry\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&a.body, "tlsprobe_step_warning{step=\"expiry\"}"),
        Some(1.0),
        "{}",
        a.body
    );
    assert_eq!(
        sample(&a.body, "tlsprobe_step_warning{step=\"chain-trust\"}"),
        Some(0.0)
    );
}
