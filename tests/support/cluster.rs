//! Test support for whole-deployment verification: TLS Redis Cluster nodes, clusters
//! created with `redis-cli --cluster create --tls`, and TLS Sentinels watching a TLS master
//! and its replica, all on free loopback ports with the testdata PKI.
//!
//! Each redis-server runs under a tiny `sh` watchdog that kills it when its stdin closes:
//! on [`Node::stop`], on drop, and when the test binary exits, so a cluster kept in a
//! `OnceLock` for the whole binary is cleaned up too.

use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, testdata};

/// Client-side TLS flags for redis-cli (the nodes require client certificates).
fn cli_tls() -> Vec<String> {
    vec![
        "--tls".into(),
        // Both roots: redis-cli must reach the node with the other CA's certificate too.
        "--cacert".into(),
        testdata("cluster/both-roots.pem"),
        "--cert".into(),
        testdata("client-chain.pem"),
        "--key".into(),
        testdata("client.key"),
    ]
}

/// `redis-cli` against `port` with the test client identity; stdout.
pub fn cli(port: u16, password: Option<&str>, args: &[&str]) -> String {
    let mut c = Command::new("redis-cli");
    c.args(cli_tls())
        .args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if let Some(pw) = password {
        c.env("REDISCLI_AUTH", pw);
    }
    let o = c.args(args).output().expect("run redis-cli");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One redis-server (data node or Sentinel) under its watchdog.
pub struct Node {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Node {
    /// Starts `redis-server ARGS` (a config file first for a Sentinel) and waits for the port.
    fn start(port: u16, dir: tempfile::TempDir, args: &[String]) -> Node {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"redis-server "$@" & p=$!; read _ignored; kill "$p" 2>/dev/null; wait "$p""#)
            .arg("sh")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server under sh");
        let stdin = child.stdin.take();
        let node = Node {
            child,
            stdin,
            port,
            dir,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return node;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(node.dir.path().join("redis.log")).unwrap_or_default();
        panic!("redis-server on port {port} did not start: {log}");
    }

    /// Stops the server and waits until it has exited.
    pub fn stop(&mut self) {
        if let Some(mut s) = self.stdin.take() {
            let _ = s.write_all(b"\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How one node is set up.
#[derive(Clone, Default)]
pub struct NodeOpts {
    /// Server certificate chain and key (testdata names); default server-chain.pem / server.key.
    pub cert: Option<(&'static str, &'static str)>,
    pub cluster: bool,
    /// `cluster-announce-hostname`.
    pub hostname: Option<&'static str>,
    /// `cluster-preferred-endpoint-type`.
    pub preferred_endpoint: Option<&'static str>,
    /// `cluster-announce-bus-port`.
    pub announce_bus_port: Option<u16>,
    pub password: Option<&'static str>,
    /// `--replicaof 127.0.0.1 PORT`.
    pub replica_of: Option<u16>,
}

fn common_tls(cert: (&str, &str)) -> Vec<String> {
    [
        "--tls-cert-file",
        &testdata(cert.0),
        "--tls-key-file",
        &testdata(cert.1),
        "--tls-client-cert-file",
        &testdata("client-chain.pem"),
        "--tls-client-key-file",
        &testdata("client.key"),
        // The servers trust both roots, so a node with a certificate from the other CA still
        // joins; clients (tlsprobe) trust only serving-root.pem.
        "--tls-ca-cert-file",
        &testdata("cluster/both-roots.pem"),
        "--tls-auth-clients",
        "yes",
        "--tls-replication",
        "yes",
    ]
    .map(String::from)
    .to_vec()
}

/// A free port for a cluster node: at most 55535 (redis-server refuses a higher one, as
/// its bus port is port + 10000) with its bus port free too.
pub fn cluster_port() -> u16 {
    loop {
        let p = free_port();
        if p <= 55535 && std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

/// Starts one TLS data node on a free port (TLS only).
pub fn start_node(o: &NodeOpts) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let port = if o.cluster {
        cluster_port()
    } else {
        free_port()
    };
    let d = dir.path().display().to_string();
    let mut args: Vec<String> = [
        "--port",
        "0",
        "--tls-port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &d,
        "--logfile",
        &format!("{d}/redis.log"),
    ]
    .map(String::from)
    .to_vec();
    args.extend(common_tls(
        o.cert.unwrap_or(("server-chain.pem", "server.key")),
    ));
    if o.cluster {
        args.extend(
            [
                "--cluster-enabled",
                "yes",
                "--tls-cluster",
                "yes",
                "--cluster-config-file",
                &format!("{d}/nodes.conf"),
                "--cluster-node-timeout",
                "2000",
                // Destructive tests must not see a replica take over mid-test.
                "--cluster-replica-no-failover",
                "yes",
            ]
            .map(String::from),
        );
    }
    for (flag, v) in [
        ("--cluster-announce-hostname", o.hostname),
        ("--cluster-preferred-endpoint-type", o.preferred_endpoint),
        ("--requirepass", o.password),
        ("--masterauth", o.password),
    ] {
        if let Some(v) = v {
            args.extend([flag.to_string(), v.to_string()]);
        }
    }
    if let Some(p) = o.announce_bus_port {
        args.extend(["--cluster-announce-bus-port".into(), p.to_string()]);
    }
    if let Some(p) = o.replica_of {
        args.extend(["--replicaof".into(), "127.0.0.1".into(), p.to_string()]);
    }
    Node::start(port, dir, &args)
}

/// Waits until `probe` returns true, or panics with `what`.
pub fn wait_until(what: &str, within: Duration, mut probe: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < within {
        if probe() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// A running cluster; `nodes[i]` in creation order (the first `primaries` are primaries).
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub password: Option<&'static str>,
}

impl Cluster {
    /// Starts `opts.len()` nodes and creates the cluster with `replicas` replicas per
    /// primary; waits until every node sees `cluster_state:ok` and every node online (and,
    /// with hostnames, every hostname gossiped).
    pub fn start(opts: &[NodeOpts], replicas: usize) -> Cluster {
        let nodes: Vec<Node> = opts
            .iter()
            .map(|o| {
                start_node(&NodeOpts {
                    cluster: true,
                    ..o.clone()
                })
            })
            .collect();
        let password = opts[0].password;
        let mut c = Command::new("redis-cli");
        c.args(cli_tls()).arg("--cluster").arg("create");
        c.args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        c.args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]);
        if let Some(pw) = password {
            c.env("REDISCLI_AUTH", pw);
        }
        let o = c.output().expect("redis-cli --cluster create");
        assert!(
            o.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let cluster = Cluster { nodes, password };
        cluster.wait_healthy(opts.iter().filter(|o| o.hostname.is_some()).count());
        cluster
    }

    /// A one-node cluster holding every slot (cheap, for single-node cases).
    pub fn single(o: NodeOpts) -> Cluster {
        let node = start_node(&NodeOpts { cluster: true, ..o });
        let password = o.password;
        cli(
            node.port,
            password,
            &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"],
        );
        let cluster = Cluster {
            nodes: vec![node],
            password,
        };
        cluster.wait_healthy(0);
        cluster
    }

    fn wait_healthy(&self, hostnames: usize) {
        let n = self.nodes.len();
        wait_until(
            "the cluster to be ok with every node online",
            Duration::from_secs(30),
            || {
                self.nodes.iter().all(|node| {
                    let info = cli(node.port, self.password, &["CLUSTER", "INFO"]);
                    let nodes = cli(node.port, self.password, &["CLUSTER", "NODES"]);
                    let shards = cli(node.port, self.password, &["CLUSTER", "SHARDS"]);
                    info.contains("cluster_state:ok")
                        && nodes.lines().filter(|l| l.contains("connected")).count() == n
                        && !nodes.contains(",fail")
                        && shards.matches("online").count() == n
                        && nodes.matches(",localhost").count() >= hostnames
                })
            },
        );
    }

    /// `rediss://localhost:PORT` of node `i`.
    pub fn url(&self, i: usize) -> String {
        format!("rediss://localhost:{}", self.nodes[i].port)
    }
}

/// A TLS master, one TLS replica and `sentinels` TLS Sentinels monitoring `mymaster`.
pub struct SentinelSetup {
    pub master: Node,
    pub replica: Node,
    pub sentinels: Vec<Node>,
}

/// The master name the Sentinels monitor.
pub const MASTER_NAME: &str = "mymaster";

impl SentinelSetup {
    pub fn start(replica_cert: (&'static str, &'static str), sentinels: usize) -> SentinelSetup {
        let master = start_node(&NodeOpts::default());
        let replica = start_node(&NodeOpts {
            cert: Some(replica_cert),
            replica_of: Some(master.port),
            ..NodeOpts::default()
        });
        wait_until("the replica to sync", Duration::from_secs(20), || {
            cli(master.port, None, &["INFO", "replication"]).contains("state=online")
        });
        let sentinels: Vec<Node> = (0..sentinels)
            .map(|_| start_sentinel(master.port))
            .collect();
        let others = sentinels.len() - 1;
        wait_until(
            "the Sentinels to see the replica and each other",
            Duration::from_secs(30),
            || {
                sentinels.iter().all(|s| {
                    let r = cli(s.port, None, &["SENTINEL", "replicas", MASTER_NAME]);
                    let o = cli(s.port, None, &["SENTINEL", "sentinels", MASTER_NAME]);
                    r.contains(&replica.port.to_string())
                        && o.matches("sentinel\n").count() >= others
                })
            },
        );
        SentinelSetup {
            master,
            replica,
            sentinels,
        }
    }
}

fn start_sentinel(master_port: u16) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path();
    let tls = common_tls(("server-chain.pem", "server.key"));
    let mut conf = format!(
        "port 0\ntls-port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n",
        d.display(),
        d.join("redis.log").display()
    );
    for kv in tls.chunks(2) {
        conf.push_str(&format!(
            "{} \"{}\"\n",
            kv[0].trim_start_matches("--"),
            kv[1]
        ));
    }
    conf.push_str(&format!(
        "sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 1\nsentinel down-after-milliseconds {MASTER_NAME} 2000\n"
    ));
    let file = d.join("sentinel.conf");
    std::fs::write(&file, conf).unwrap();
    let args = [file.display().to_string(), "--sentinel".into()];
    Node::start(port, dir, &args)
}
