//! `verify --discover`: whole-deployment verification against real TLS Redis Clusters
//! (3 primaries + 3 replicas, created with `redis-cli --cluster create --tls`), TLS
//! Sentinels and replicas, all on loopback with the testdata PKI. Each cluster is started
//! once per test binary (OnceLock); destructive cases get their own small cluster.

mod support;

use std::sync::OnceLock;

use serde_json::Value;
use support::cluster::{cli, Cluster, NodeOpts, SentinelSetup, MASTER_NAME};
use support::{message, run_text, status, steps, testdata, tlsprobe};

const PASSWORD: &str = "cluster-secret-pw-7731";

/// Healthy: every node serves server-chain.pem; all announce hostname `localhost`; node 5
/// (a replica) prefers hostname endpoints, the others IP endpoints.
fn good() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let mut opts = vec![
            NodeOpts {
                hostname: Some("localhost"),
                ..NodeOpts::default()
            };
            6
        ];
        opts[5].preferred_endpoint = Some("hostname");
        Cluster::start(&opts, 1)
    })
}

/// Faulty: primary 2 serves a certificate without the IP, replica 4 one from another CA;
/// a password on every node; node 5 prefers hostname endpoints.
fn faulty() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let mut opts = vec![
            NodeOpts {
                hostname: Some("localhost"),
                password: Some(PASSWORD),
                ..NodeOpts::default()
            };
            6
        ];
        opts[2].cert = Some(("cluster/node-noip-chain.pem", "cluster/node-noip.key"));
        opts[4].cert = Some(("cluster/node-other-ca.pem", "cluster/node-other-ca.key"));
        opts[5].preferred_endpoint = Some("hostname");
        Cluster::start(&opts, 1)
    })
}

fn sentinel_ok() -> &'static SentinelSetup {
    static S: OnceLock<SentinelSetup> = OnceLock::new();
    S.get_or_init(|| SentinelSetup::start(("server-chain.pem", "server.key"), 2))
}

fn client_args() -> Vec<String> {
    let mut v = vec!["--cacert".to_string(), testdata("serving-root.pem")];
    v.extend(identity());
    v
}

fn identity() -> Vec<String> {
    vec![
        "--cert".into(),
        testdata("client-chain.pem"),
        "--key".into(),
        testdata("client.key"),
    ]
}

/// `verify --format json` with the client identity, `extra` flags and `target`.
fn discover(extra: &[&str], target: &str, password: Option<&str>) -> (Value, i32, String) {
    let mut c = tlsprobe();
    c.args(["verify", "--format", "json"]);
    if extra.contains(&"--cacert") {
        c.args(identity());
    } else {
        c.args(client_args());
    }
    c.args(extra).arg(target);
    if let Some(pw) = password {
        c.env("REDISCLI_AUTH", pw);
    }
    let o = c.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (v, o.status.code().unwrap(), format!("{out}{err}"))
}

fn nodes(v: &Value) -> &Vec<Value> {
    v["topology"]["nodes"].as_array().unwrap()
}

fn node_at(v: &Value, port: u16) -> &Value {
    nodes(v)
        .iter()
        .find(|n| n["port"] == port)
        .unwrap_or_else(|| panic!("no node at port {port}: {}", v["topology"]))
}

fn topo_status<'a>(v: &'a Value, step: &str) -> &'a str {
    v["topology"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == step)
        .map(|c| c["status"].as_str().unwrap())
        .unwrap_or("absent")
}

fn topo_message(v: &Value, step: &str) -> String {
    v["topology"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == step)
        .map(|c| c["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn every_cluster_node_passes_at_its_announced_ip() {
    let c = good();
    let (v, code, _) = discover(&["--discover", "cluster"], &c.url(0), None);
    assert_eq!(code, 0, "{}", v["topology"]);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["topology"]["kind"], "cluster");
    assert_eq!(topo_status(&v, "discover"), "pass");
    assert_eq!(
        topo_status(&v, "cluster-health"),
        "pass",
        "{}",
        topo_message(&v, "cluster-health")
    );
    let n = nodes(&v);
    assert_eq!(n.len(), 6);
    assert_eq!(n.iter().filter(|x| x["role"] == "primary").count(), 3);
    assert_eq!(n.iter().filter(|x| x["role"] == "replica").count(), 3);
    let mut slots = 0;
    for node in n {
        assert_eq!(node["endpoint"], "127.0.0.1");
        assert_eq!(node["id"].as_str().unwrap().len(), 40);
        let r = &node["report"];
        assert_eq!(r["verdict"], "pass", "{}", steps(r));
        assert_eq!(r["target"], format!("rediss://127.0.0.1:{}", node["port"]));
        assert_eq!(
            message(r, "server-name"),
            "certificate is valid for 127.0.0.1"
        );
        // An IP endpoint: no SNI, as a client following MOVED sends none.
        assert_eq!(r["tls"]["sni"], Value::Null);
        for s in node["slots"].as_array().unwrap() {
            slots += s[1].as_u64().unwrap() - s[0].as_u64().unwrap() + 1;
        }
    }
    assert_eq!(slots, 16384);
    for node in &c.nodes {
        assert!(
            n.iter().any(|x| x["port"] == node.port),
            "node {} missing",
            node.port
        );
    }
}

#[test]
fn human_output_has_one_line_per_node_and_an_overall_verdict() {
    let c = good();
    let mut args = vec!["verify".to_string()];
    args.extend(client_args());
    args.extend(["--discover".into(), "cluster".into(), c.url(0)]);
    let r = run_text(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("topology cluster: 6 nodes"),
        "{}",
        r.stdout
    );
    for node in &c.nodes {
        let line = format!("127.0.0.1:{}", node.port);
        assert_eq!(
            r.stdout
                .lines()
                .filter(|l| l.contains(&line) && l.contains(" pass"))
                .count(),
            1,
            "{}",
            r.stdout
        );
    }
    assert!(r.stdout.contains("pass  cluster-health"), "{}", r.stdout);
    assert!(
        r.stdout.contains("\noverall  PASS seed and 6 nodes"),
        "{}",
        r.stdout
    );
}

#[test]
fn hostname_endpoints_pass_with_the_name_as_sni() {
    let c = good();
    let (v, code, _) = discover(&["--discover", "cluster"], &c.url(5), None);
    assert_eq!(code, 0, "{}", v["topology"]);
    for node in nodes(&v) {
        assert_eq!(node["endpoint"], "localhost");
        let r = &node["report"];
        assert_eq!(r["verdict"], "pass", "{}", steps(r));
        assert_eq!(
            message(r, "server-name"),
            "certificate is valid for localhost"
        );
        assert_eq!(r["tls"]["sni"], "localhost");
    }
}

#[test]
fn cluster_bus_of_every_node_speaks_tls_and_requires_a_client_certificate() {
    let c = good();
    let (v, code, _) = discover(&["--discover", "cluster", "--cluster-bus"], &c.url(0), None);
    assert_eq!(code, 0, "{}", v["topology"]);
    for node in nodes(&v) {
        let bus = &node["bus"];
        let port = node["port"].as_u64().unwrap();
        assert_eq!(bus["target"], format!("tls://127.0.0.1:{}", port + 10000));
        assert_eq!(bus["verdict"], "pass", "{}", steps(bus));
        assert_eq!(status(bus, "server-name"), "pass");
        assert_eq!(status(bus, "bus-client-auth"), "pass", "{}", steps(bus));
        assert!(
            message(bus, "bus-client-auth").contains("without a client certificate was refused")
        );
    }
}

#[test]
fn a_bus_that_serves_clients_without_certificates_fails() {
    // The node announces, as its bus, a TLS server that asks for no client certificate.
    let dir = tempfile::tempdir().unwrap();
    let fake = support::OpensslServer::serving(
        "server.pem",
        "server.key",
        "intermediate.pem",
        &dir.path().join("got"),
    );
    let c = Cluster::single(NodeOpts {
        announce_bus_port: Some(fake.port),
        ..NodeOpts::default()
    });
    let (v, code, _) = discover(&["--discover", "cluster", "--cluster-bus"], &c.url(0), None);
    assert_eq!(code, 1);
    let node = &nodes(&v)[0];
    assert_eq!(
        node["report"]["verdict"],
        "pass",
        "{}",
        steps(&node["report"])
    );
    let bus = &node["bus"];
    // A lone node never learnt its own IP: its endpoint is `?`, the seed's host.
    assert_eq!(node["endpoint"], "localhost");
    assert_eq!(bus["target"], format!("tls://localhost:{}", fake.port));
    assert_eq!(status(bus, "bus-client-auth"), "fail", "{}", steps(bus));
    assert!(message(bus, "bus-client-auth")
        .contains("served a TLS session without a client certificate"));
    assert_eq!(v["verdict"], "fail");
}

#[test]
fn a_node_without_the_announced_ip_fails_server_name_alone_and_says_moved() {
    let c = faulty();
    let (v, code, out) = discover(&["--discover", "cluster"], &c.url(0), Some(PASSWORD));
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "fail");
    let noip = &node_at(&v, c.nodes[2].port)["report"];
    assert_eq!(status(noip, "server-name"), "fail", "{}", steps(noip));
    let m = message(noip, "server-name");
    assert!(m.contains("MOVED/ASK"), "{m}");
    assert!(
        m.contains("cluster-announce-hostname")
            && m.contains("cluster-preferred-endpoint-type hostname"),
        "{m}"
    );
    assert!(m.contains("IP:127.0.0.1"), "{m}");
    for step in ["chain-trust", "expiry", "tls-handshake"] {
        assert_eq!(status(noip, step), "pass", "{}", steps(noip));
    }
    // Credentials are never sent to a node whose certificate failed.
    assert_eq!(status(noip, "auth"), "skip");
    assert!(
        message(noip, "auth").contains("withheld"),
        "{}",
        steps(noip)
    );
    // The other-CA replica fails trust; every other node passes with AUTH.
    let other = &node_at(&v, c.nodes[4].port)["report"];
    assert_eq!(status(other, "chain-trust"), "fail", "{}", steps(other));
    assert!(message(other, "auth").contains("withheld"));
    for i in [0, 1, 3, 5] {
        let r = &node_at(&v, c.nodes[i].port)["report"];
        assert_eq!(r["verdict"], "pass", "node {i}: {}", steps(r));
        assert_eq!(status(r, "auth"), "pass");
    }
    assert_eq!(topo_status(&v, "cluster-health"), "pass");
    assert!(
        !out.contains(PASSWORD),
        "the password leaked into the output"
    );
}

#[test]
fn hostname_endpoints_fix_the_missing_ip_but_not_the_other_ca() {
    let c = faulty();
    let (v, code, _) = discover(&["--discover", "cluster"], &c.url(5), Some(PASSWORD));
    assert_eq!(code, 1);
    let noip = &node_at(&v, c.nodes[2].port)["report"];
    assert_eq!(noip["verdict"], "pass", "{}", steps(noip));
    let other = &node_at(&v, c.nodes[4].port);
    assert_eq!(other["role"], "replica");
    assert_eq!(status(&other["report"], "chain-trust"), "fail");
    assert_eq!(status(&other["report"], "server-name"), "pass");
}

#[test]
fn a_killed_primary_fails_cluster_health_and_the_rest_is_still_reported() {
    let mut c = Cluster::start(&vec![NodeOpts::default(); 3], 0);
    let dead = c.nodes[2].port;
    c.nodes[2].stop();
    let (v, code, _) = discover(&["--discover", "cluster"], &c.url(0), None);
    assert_eq!(code, 1);
    assert_eq!(topo_status(&v, "cluster-health"), "fail");
    let m = topo_message(&v, "cluster-health");
    assert!(
        m.contains(&format!("primary 127.0.0.1:{dead}")) && m.contains("not reachable"),
        "{m}"
    );
    assert_eq!(status(&node_at(&v, dead)["report"], "tcp"), "fail");
    for i in [0, 1] {
        let r = &node_at(&v, c.nodes[i].port)["report"];
        assert_eq!(r["verdict"], "pass", "{}", steps(r));
    }
    // Once the others agree it failed (pfail, then fail), the flag is reported too.
    support::cluster::wait_until(
        "the dead primary to be flagged fail",
        std::time::Duration::from_secs(20),
        || {
            cli(c.nodes[0].port, None, &["CLUSTER", "NODES"])
                .lines()
                .any(|l| {
                    l.split_whitespace()
                        .nth(2)
                        .is_some_and(|f| f.split(',').any(|x| x == "fail"))
                })
        },
    );
    let (v, _, _) = discover(&["--discover", "cluster"], &c.url(0), None);
    assert!(
        topo_message(&v, "cluster-health").contains("in fail state"),
        "{}",
        topo_message(&v, "cluster-health")
    );
}

#[test]
fn the_seed_failing_means_no_discovery_command_is_sent() {
    let c = good();
    let (v, code, _) = discover(
        &[
            "--discover",
            "cluster",
            "--cacert",
            &testdata("other-root.pem"),
        ],
        &c.url(0),
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(status(&v, "chain-trust"), "fail");
    assert_eq!(topo_status(&v, "discover"), "skip");
    assert!(nodes(&v).is_empty());
}

#[test]
fn a_server_without_cluster_support_fails_discover() {
    let s = sentinel_ok();
    let (v, code, _) = discover(
        &["--discover", "cluster"],
        &format!("rediss://localhost:{}", s.master.port),
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] == "fail")
            .count(),
        0
    );
    assert_eq!(topo_status(&v, "discover"), "fail");
    assert!(
        topo_message(&v, "discover").contains("cluster support disabled"),
        "{}",
        topo_message(&v, "discover")
    );
}

#[test]
fn sentinel_master_replica_and_other_sentinel_pass() {
    let s = sentinel_ok();
    let seed = format!("rediss://localhost:{}", s.sentinels[0].port);
    let (v, code, _) = discover(
        &["--discover", "sentinel", "--sentinel-master", MASTER_NAME],
        &seed,
        None,
    );
    assert_eq!(code, 0, "{}", v["topology"]);
    assert_eq!(v["topology"]["kind"], "sentinel");
    let master = node_at(&v, s.master.port);
    assert_eq!(
        (master["role"].as_str(), master["id"].as_str()),
        (Some("primary"), Some(MASTER_NAME))
    );
    assert_eq!(node_at(&v, s.replica.port)["role"], "replica");
    let other = node_at(&v, s.sentinels[1].port);
    assert_eq!(other["role"], "sentinel");
    for n in nodes(&v) {
        assert_eq!(n["report"]["verdict"], "pass", "{}", steps(&n["report"]));
        assert_eq!(n["endpoint"], "127.0.0.1");
    }
    assert_eq!(nodes(&v).len(), 3);
}

#[test]
fn a_sentinel_replica_without_the_announced_address_fails_server_name() {
    let s = SentinelSetup::start(("cluster/node-noip-chain.pem", "cluster/node-noip.key"), 1);
    let seed = format!("rediss://localhost:{}", s.sentinels[0].port);
    let (v, code, _) = discover(
        &["--discover", "sentinel", "--sentinel-master", MASTER_NAME],
        &seed,
        None,
    );
    assert_eq!(code, 1);
    let r = &node_at(&v, s.replica.port)["report"];
    assert_eq!(status(r, "server-name"), "fail", "{}", steps(r));
    assert!(
        message(r, "server-name").contains("clients that ask Sentinel for this replica"),
        "{}",
        steps(r)
    );
    assert_eq!(node_at(&v, s.master.port)["report"]["verdict"], "pass");
    // The same replica found through INFO replication of the master.
    let (v, code, _) = discover(
        &["--discover", "replicas"],
        &format!("rediss://localhost:{}", s.master.port),
        None,
    );
    assert_eq!(code, 1);
    let r = &node_at(&v, s.replica.port)["report"];
    assert!(
        message(r, "server-name").contains("INFO replication lists this replica"),
        "{}",
        steps(r)
    );
}

#[test]
fn an_unknown_sentinel_master_fails_discover() {
    let s = sentinel_ok();
    let seed = format!("rediss://localhost:{}", s.sentinels[0].port);
    let (v, code, _) = discover(
        &["--discover", "sentinel", "--sentinel-master", "nosuch"],
        &seed,
        None,
    );
    assert_eq!(code, 1);
    assert!(
        topo_message(&v, "discover").contains("no master named \"nosuch\""),
        "{}",
        v["topology"]
    );
}

#[test]
fn replicas_of_a_primary_are_discovered_and_verified() {
    let s = sentinel_ok();
    let (v, code, _) = discover(
        &["--discover", "replicas"],
        &format!("rediss://localhost:{}", s.master.port),
        None,
    );
    assert_eq!(code, 0, "{}", v["topology"]);
    assert_eq!(v["topology"]["kind"], "replicas");
    let n = nodes(&v);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0]["port"], s.replica.port);
    assert_eq!(n[0]["flags"][0], "online");
    assert_eq!(n[0]["report"]["verdict"], "pass");
}

#[test]
fn bad_discovery_flags_are_input_errors() {
    for (args, want) in [
        (
            vec!["--discover", "sentinel", "rediss://localhost:1"],
            "error: --discover sentinel: needs --sentinel-master NAME",
        ),
        (
            vec!["--cluster-bus", "rediss://localhost:1"],
            "error: --cluster-bus: needs --discover cluster",
        ),
        (
            vec!["--sentinel-master", "m", "rediss://localhost:1"],
            "error: --sentinel-master: needs --discover sentinel",
        ),
        (
            vec!["--discover", "cluster", "redis://localhost:1"],
            "error: --discover: needs a TLS Redis target",
        ),
        (
            vec!["--discover", "cluster", "postgres://localhost:1"],
            "error: --discover: needs a TLS Redis target",
        ),
        (
            vec![
                "--discover",
                "sentinel",
                "--sentinel-master",
                "a b",
                "rediss://localhost:1",
            ],
            "error: --sentinel-master: \"a b\" is not a master name",
        ),
        (
            vec!["--discover", "galaxy", "rediss://localhost:1"],
            "error: invalid value 'galaxy'",
        ),
    ] {
        let mut all = vec!["verify"];
        all.extend(args);
        let r = run_text(&all);
        assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
        assert!(r.stderr.starts_with(want), "{all:?}: {}", r.stderr);
        assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

fn inventory(dir: &std::path::Path, target: &str) -> String {
    let text = format!(
        "[defaults]\ncacert = {:?}\ncert = {:?}\nkey = {:?}\n\n{target}",
        testdata("serving-root.pem"),
        testdata("client-chain.pem"),
        testdata("client.key")
    );
    support::write_file(dir, "inv.toml", text)
}

#[test]
fn audit_shows_one_row_per_node_and_labels_prometheus_series_by_node() {
    let c = good();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(
        dir.path(),
        &format!(
            "[[target]]\nid = \"shop\"\nurl = \"{}\"\ndiscover = \"cluster\"\ncluster_bus = true\n",
            c.url(0)
        ),
    );
    let junit = dir.path().join("a.xml").display().to_string();
    let md = dir.path().join("a.md").display().to_string();
    let prom = dir.path().join("a.prom").display().to_string();
    let r = run_text(&[
        "audit",
        "-q",
        "--format",
        "json",
        "--report",
        &format!("junit={junit}"),
        "--report",
        &format!("markdown={md}"),
        "--report",
        &format!("prometheus={prom}"),
        &inv,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &v["targets"][0];
    assert_eq!(t["topology"]["nodes"].as_array().unwrap().len(), 6);
    assert_eq!(v["summary"]["targets"], 1);
    let junit = std::fs::read_to_string(junit).unwrap();
    let md = std::fs::read_to_string(md).unwrap();
    let prom = std::fs::read_to_string(prom).unwrap();
    assert!(junit.contains("tests=\"7\""), "{junit}");
    for node in &c.nodes {
        let row = format!("shop/127.0.0.1:{}", node.port);
        assert!(junit.contains(&format!("name=\"{row}\"")), "{junit}");
        assert!(md.contains(&format!("| {row} | pass |")), "{md}");
        assert!(
            prom.contains(&format!(
                "probe_success{{target=\"shop\",node=\"127.0.0.1:{}\"}} 1",
                node.port
            )),
            "{prom}"
        );
    }
    assert!(
        prom.contains("tlsprobe_step_success{target=\"shop\",step=\"cluster-health\"} 1"),
        "{prom}"
    );
    assert!(
        prom.contains(",node=\"127.0.0.1:") && prom.contains("step=\"cluster-bus\"} 1"),
        "{prom}"
    );
}

#[test]
fn audit_rows_fail_for_the_failing_nodes_only() {
    let c = faulty();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(
        dir.path(),
        &format!("[[target]]\nid = \"dcs\"\nurl = \"{}\"\ndiscover = \"cluster\"\npass_env = \"CLUSTER_PW\"\n", c.url(0)),
    );
    let o = tlsprobe()
        .args(["audit", "-q", "--format", "markdown", &inv])
        .env("CLUSTER_PW", PASSWORD)
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{md}");
    assert!(md.contains("| dcs | pass |"), "{md}");
    assert!(
        md.contains(&format!(
            "| dcs/127.0.0.1:{} | **FAIL** | TLS 1.3 | 35",
            c.nodes[2].port
        )),
        "{md}"
    );
    assert!(md.contains("server-name |"), "{md}");
    assert!(
        md.contains(&format!("| dcs/127.0.0.1:{} | **FAIL** |", c.nodes[4].port)),
        "{md}"
    );
    assert_eq!(md.matches("| pass |").count(), 5, "{md}");
    assert!(!md.contains(PASSWORD));
}

#[test]
fn bad_discovery_inventory_keys_are_input_errors_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    for (entry, want) in [
        ("discover = \"galaxy\"", "inv.toml:8: key `discover`: \"galaxy\": expected \"cluster\", \"sentinel\" or \"replicas\""),
        ("discover = \"sentinel\"", "key `discover`: needs --sentinel-master NAME"),
        ("cluster_bus = true", "key `cluster_bus`: needs --discover cluster"),
    ] {
        let inv = inventory(dir.path(), &format!("[[target]]\nurl = \"rediss://localhost:1\"\n{entry}\n"));
        let r = run_text(&["audit", "-q", &inv]);
        assert_eq!(r.code, 2, "{entry}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: ") && r.stderr.contains(want), "{entry}: {}", r.stderr);
        assert_eq!(r.stderr.trim_end().lines().count(), 1, "{}", r.stderr);
    }
}

#[test]
fn the_seed_announced_at_its_own_target_is_not_verified_twice() {
    // A lone node never learnt its IP: it is announced at the seed's host, so its row is
    // the seed's own verification (same target, SNI and name), not a second connection.
    let c = Cluster::single(NodeOpts::default());
    let port = c.nodes[0].port;
    let sessions = || {
        cli(port, None, &["INFO", "stats"])
            .lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .expect("total_connections_received")
    };
    let before = sessions();
    let (v, code, _) = discover(&["--discover", "cluster"], &c.url(0), None);
    let after = sessions();
    assert_eq!(code, 0, "{}", v["topology"]);
    let node = &nodes(&v)[0];
    assert_eq!(node["endpoint"], "localhost");
    assert_eq!(node["report"]["checks"], v["checks"]);
    // The seed's session and the INFO that counted `after`.
    assert_eq!(after - before, 2, "sessions opened on the node");
}
