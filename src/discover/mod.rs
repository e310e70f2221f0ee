//! Whole-deployment verification (`verify --discover cluster|sentinel|replicas`).
//!
//! The seed target is verified first with every step. Only when it passes, over that same
//! verified and authenticated connection (the engine hands it back), discovery asks the
//! deployment for its nodes: `CLUSTER SHARDS` / `CLUSTER NODES`, the `SENTINEL` commands,
//! or `INFO replication`. Every node is then verified by the same engine at the endpoint
//! clients are sent to, concurrently (at most [`NODE_CONCURRENCY`] at a time), each with
//! its own deadline, so one node's failure never hides another's result. The engine
//! withholds credentials from any node whose certificate fails, as for any target.
//!
//! # Layout
//! - `resp`: one command, one bounded RESP value; accessors for reply shapes.
//! - `cluster`: CLUSTER SHARDS / CLUSTER NODES parsed into typed nodes.
//! - `sentinel`, `replicas`: the Sentinel and INFO replication replies.
//! - `health`: the pure `cluster-health` judgement.
//! - `bus`: the `--cluster-bus` verification of a node's bus port.
//! - `verdict`: the node, topology and deployment verdicts the reports show.

mod bus;
mod cluster;
mod health;
mod replicas;
mod resp;
mod sentinel;
mod verdict;

use crate::step::Step;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::time::Instant;

use crate::domain::DiscoverKind;
use crate::engine::{self, RedisStream};
use crate::error::{InputError, Subject};
use crate::finding::{Check, Status};
use crate::plan::VerifyPlan;
use crate::report::topology::{DeploymentReport, NodeReport, NodeRole, Topology, TopologyKind};
use crate::report::{Verdict, VerifyReport};
use crate::target::{Host, Scheme};
use cluster::{ClusterNode, ClusterRole};
use resp::DiscoverError;

/// Nodes verified at the same time.
pub const NODE_CONCURRENCY: usize = 16;

/// What to discover, resolved from the flags (or inventory keys).
#[derive(Debug, Clone)]
pub struct DiscoverOpts {
    pub kind: DiscoverKind,
    pub sentinel_master: Option<String>,
    pub cluster_bus: bool,
    /// `--name` was given: it stays the expected name of every node.
    pub name_given: bool,
    /// `--sni` was given: it is sent to every node.
    pub sni_given: bool,
}

/// Checks the discovery flags against each other and against the target; `None` when
/// no discovery was asked for. `flag` names how the user spells them (`--discover`, or
/// an inventory key).
pub fn options(
    kind: Option<DiscoverKind>,
    sentinel_master: Option<&str>,
    cluster_bus: bool,
    plan: &VerifyPlan,
    name_given: bool,
    sni_given: bool,
) -> Result<Option<DiscoverOpts>, InputError> {
    if sentinel_master.is_some() && kind != Some(DiscoverKind::Sentinel) {
        return Err(InputError::new(
            Subject::flag("--sentinel-master"),
            "needs --discover sentinel",
        ));
    }
    if cluster_bus && kind != Some(DiscoverKind::Cluster) {
        return Err(InputError::new(
            Subject::flag("--cluster-bus"),
            "needs --discover cluster",
        ));
    }
    let Some(kind) = kind else {
        return Ok(None);
    };
    if plan.target.scheme != Scheme::Rediss {
        return Err(InputError::new(
            Subject::flag("--discover"),
            format!(
                "needs a TLS Redis target (rediss:// or host:port), not a {}:// target",
                plan.target.scheme.name()
            ),
        ));
    }
    let master = match (kind, sentinel_master) {
        (DiscoverKind::Sentinel, None) => {
            return Err(InputError::new(
                Subject::Flag {
                    flag: "--discover",
                    value: Some("sentinel"),
                },
                "needs --sentinel-master NAME (the master name the Sentinel monitors)",
            ))
        }
        (_, Some(m)) if m.is_empty() || m.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            return Err(InputError::new(
                Subject::flag("--sentinel-master"),
                format!("{m:?} is not a master name (empty, or with spaces or control characters)"),
            ))
        }
        (_, m) => m.map(String::from),
    };
    Ok(Some(DiscoverOpts {
        kind,
        sentinel_master: master,
        cluster_bus,
        name_given,
        sni_given,
    }))
}

/// A node as the deployment announces it, before verification.
#[derive(Debug, Clone)]
struct Announced {
    id: String,
    role: NodeRole,
    endpoint: String,
    port: u16,
    slots: Vec<[u16; 2]>,
    flags: Vec<String>,
    cport: Option<u16>,
}

/// What discovery found.
struct Found {
    nodes: Vec<Announced>,
    /// The cluster view, for `cluster-health` (same order as `nodes`).
    cluster: Vec<ClusterNode>,
    check: Check,
}

/// Verifies the seed, discovers the deployment over the seed's connection, and verifies
/// every node.
pub async fn run(plan: &VerifyPlan, opts: &DiscoverOpts) -> DeploymentReport {
    let kind = match opts.kind {
        DiscoverKind::Cluster => TopologyKind::Cluster,
        DiscoverKind::Sentinel => TopologyKind::Sentinel,
        DiscoverKind::Replicas => TopologyKind::Replicas,
    };
    let (seed, stream) = engine::verify_target_keeping_stream(plan).await;
    let Some(mut stream) = stream else {
        let skipped = Check::new(
            Step::Discover,
            Status::Skip,
            "not run: the seed failed verification, and discovery commands are only sent over a connection that passed every step",
        );
        return without_topology(seed, kind, skipped);
    };
    let deadline = Instant::now() + plan.timeout;
    let started = std::time::Instant::now();
    let found = match opts.kind {
        DiscoverKind::Cluster => discover_cluster(&mut stream, plan, deadline).await,
        DiscoverKind::Sentinel => {
            let master = opts.sentinel_master.as_deref().unwrap_or_default();
            discover_sentinel(&mut stream, master, deadline).await
        }
        DiscoverKind::Replicas => discover_replicas(&mut stream, deadline).await,
    };
    drop(stream);
    let ms = crate::probe::ms_since(started);
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            let failed = Check::new(Step::Discover, Status::Fail, e.to_string()).with_ms(ms);
            return without_topology(seed, kind, failed);
        }
    };
    let mut checks = vec![found.check.clone().with_ms(ms)];
    let nodes = verify_all(plan, &seed, opts, &found.nodes).await;
    if kind == TopologyKind::Cluster {
        let inputs: Vec<health::NodeHealth<'_>> = found
            .cluster
            .iter()
            .zip(&nodes)
            .map(|(c, n)| health::NodeHealth {
                node: c,
                label: n.label(),
                reachable: reachable(&n.report),
            })
            .collect();
        checks.push(health::cluster_health(&inputs));
    }
    DeploymentReport {
        seed,
        topology: Topology {
            kind,
            checks,
            nodes,
        },
    }
}

/// The seed's report and no nodes: `discover` as judged, and (for a cluster) a skipped
/// `cluster-health`.
fn without_topology(seed: VerifyReport, kind: TopologyKind, discover: Check) -> DeploymentReport {
    let mut checks = vec![discover];
    if kind == TopologyKind::Cluster {
        checks.push(Check::new(
            Step::ClusterHealth,
            Status::Skip,
            "not judged: no topology",
        ));
    }
    DeploymentReport {
        seed,
        topology: Topology {
            kind,
            checks,
            nodes: vec![],
        },
    }
}

/// tlsprobe reached the node: TCP connected and the TLS handshake completed.
fn reachable(r: &VerifyReport) -> bool {
    ["tcp", "tls-handshake"].iter().all(|s| {
        r.checks
            .iter()
            .any(|c| c.check == *s && c.status == Status::Pass)
    })
}

/// The host clients reuse for an unknown endpoint (`?`): the seed's.
fn seed_host(plan: &VerifyPlan) -> String {
    match &plan.target.host {
        Host::Dns(d) => d.clone(),
        Host::Ip(ip) => ip.to_string(),
    }
}

async fn discover_cluster(
    s: &mut RedisStream,
    plan: &VerifyPlan,
    deadline: Instant,
) -> Result<Found, DiscoverError> {
    let shards = resp::query(s, &["CLUSTER", "SHARDS"], deadline).await;
    let nodes = resp::query(s, &["CLUSTER", "NODES"], deadline)
        .await
        .and_then(|v| {
            let text = resp::text(&v)
                .ok_or_else(|| DiscoverError::shape("CLUSTER NODES", "not a string"))?;
            cluster::parse_nodes(&text)
        });
    let (mut view, source) = match (shards, nodes) {
        (Ok(v), nodes) => {
            let parsed = cluster::parse_shards(&v)?;
            match nodes {
                Ok(n) => (
                    cluster::merge(parsed, &n),
                    "CLUSTER SHARDS and CLUSTER NODES",
                ),
                Err(_) => (parsed, "CLUSTER SHARDS"),
            }
        }
        // Before Redis 7 there is no CLUSTER SHARDS: CLUSTER NODES alone.
        (Err(DiscoverError::Server { .. }), Ok(n)) => {
            (n, "CLUSTER NODES (no CLUSTER SHARDS: Redis 6 or older)")
        }
        (Err(_), Err(e @ DiscoverError::Server { .. })) => {
            return Err(DiscoverError::Shape {
                command: "CLUSTER NODES".into(),
                what: format!(
                    "{e}; the target is not a cluster node (try --discover replicas or sentinel)"
                ),
            })
        }
        (Err(e), _) => return Err(e),
    };
    if view.is_empty() {
        return Err(DiscoverError::shape("CLUSTER SHARDS", "no nodes"));
    }
    let seed = seed_host(plan);
    for n in &mut view {
        if n.endpoint.is_empty() || n.endpoint == "?" {
            n.endpoint = seed.clone();
        }
    }
    let primaries = view
        .iter()
        .filter(|n| n.role == ClusterRole::Primary)
        .count();
    let nodes = view
        .iter()
        .map(|n| Announced {
            id: n.id.clone(),
            role: match n.role {
                ClusterRole::Primary => NodeRole::Primary,
                ClusterRole::Replica => NodeRole::Replica,
            },
            endpoint: n.endpoint.clone(),
            port: n.port,
            slots: n.slots.iter().map(|(a, b)| [*a, *b]).collect(),
            flags: n.flags.clone(),
            cport: n.cport,
        })
        .collect();
    let check = Check::new(
        Step::Discover,
        Status::Pass,
        format!(
            "{} nodes ({primaries} primaries, {} replicas) from {source}",
            view.len(),
            view.len() - primaries
        ),
    );
    Ok(Found {
        nodes,
        cluster: view,
        check,
    })
}

async fn discover_sentinel(
    s: &mut RedisStream,
    master: &str,
    deadline: Instant,
) -> Result<Found, DiscoverError> {
    let v = resp::query(
        s,
        &["SENTINEL", "get-master-addr-by-name", master],
        deadline,
    )
    .await?;
    let Some((host, port)) = sentinel::parse_master_addr(&v)? else {
        return Err(DiscoverError::shape(
            "SENTINEL get-master-addr-by-name",
            format!("this Sentinel monitors no master named {master:?}"),
        ));
    };
    let v = resp::query(s, &["SENTINEL", "replicas", master], deadline).await?;
    let replicas = sentinel::parse_instances("SENTINEL replicas", &v)?;
    let v = resp::query(s, &["SENTINEL", "sentinels", master], deadline).await?;
    let sentinels = sentinel::parse_instances("SENTINEL sentinels", &v)?;
    let mut nodes = vec![Announced {
        id: master.to_string(),
        role: NodeRole::Primary,
        endpoint: host,
        port,
        slots: vec![],
        flags: vec!["master".into()],
        cport: None,
    }];
    let listed = |role, list: &[sentinel::Instance], what: &str| -> Vec<Announced> {
        list.iter()
            .enumerate()
            .map(|(n, i)| Announced {
                id: if i.runid.is_empty() {
                    format!("{what}-{n}")
                } else {
                    i.runid.clone()
                },
                role,
                endpoint: i.ip.clone(),
                port: i.port,
                slots: vec![],
                flags: i.flags.clone(),
                cport: None,
            })
            .collect()
    };
    nodes.extend(listed(NodeRole::Replica, &replicas, "replica"));
    nodes.extend(listed(NodeRole::Sentinel, &sentinels, "sentinel"));
    let check = Check::new(
        Step::Discover,
        Status::Pass,
        format!(
            "master {master:?}, {} replica{} and {} other Sentinel{} from SENTINEL get-master-addr-by-name, replicas, sentinels",
            replicas.len(),
            if replicas.len() == 1 { "" } else { "s" },
            sentinels.len(),
            if sentinels.len() == 1 { "" } else { "s" },
        ),
    );
    Ok(Found {
        nodes,
        cluster: vec![],
        check,
    })
}

async fn discover_replicas(s: &mut RedisStream, deadline: Instant) -> Result<Found, DiscoverError> {
    let v = resp::query(s, &["INFO", "replication"], deadline).await?;
    let text =
        resp::text(&v).ok_or_else(|| DiscoverError::shape("INFO replication", "not a string"))?;
    let info = replicas::parse_info(&text)?;
    let nodes: Vec<Announced> = info
        .replicas
        .iter()
        .enumerate()
        .map(|(n, r)| Announced {
            id: format!("replica-{n}"),
            role: NodeRole::Replica,
            endpoint: r.ip.clone(),
            port: r.port,
            slots: vec![],
            flags: vec![r.state.clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            cport: None,
        })
        .collect();
    let check = if nodes.is_empty() {
        Check::new(
            Step::Discover,
            Status::Warn,
            format!("INFO replication: role {}, no replica connected", info.role),
        )
    } else {
        Check::new(
            Step::Discover,
            Status::Pass,
            format!(
                "INFO replication: role {}, {} replica{}",
                info.role,
                nodes.len(),
                if nodes.len() == 1 { "" } else { "s" }
            ),
        )
    };
    Ok(Found {
        nodes,
        cluster: vec![],
        check,
    })
}

/// Verifies every node, at most [`NODE_CONCURRENCY`] at a time; results in discovery order.
async fn verify_all(
    plan: &VerifyPlan,
    seed_report: &VerifyReport,
    opts: &DiscoverOpts,
    nodes: &[Announced],
) -> Vec<NodeReport> {
    let seed = Arc::new((plan.clone(), seed_report.clone()));
    let opts = Arc::new(opts.clone());
    let gate = Arc::new(tokio::sync::Semaphore::new(NODE_CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, a) in nodes.iter().cloned().enumerate() {
        let (seed, opts, gate) = (seed.clone(), opts.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            (i, verify_node(&seed.0, &seed.1, &opts, a).await)
        });
    }
    let mut out: Vec<Option<NodeReport>> = vec![None; nodes.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, r)) = joined {
            out[i] = Some(r);
        }
    }
    // A node whose task died still gets a failing row.
    out.into_iter()
        .zip(nodes)
        .map(|(r, a)| {
            r.unwrap_or_else(|| {
                node_report(
                    a,
                    failed_report(
                        &a.endpoint,
                        a.port,
                        Step::Discover,
                        "internal error while verifying this node",
                    ),
                    None,
                )
            })
        })
        .collect()
}

fn node_report(a: &Announced, report: VerifyReport, bus: Option<VerifyReport>) -> NodeReport {
    NodeReport {
        id: a.id.clone(),
        role: a.role,
        endpoint: a.endpoint.clone(),
        port: a.port,
        slots: a.slots.clone(),
        flags: a.flags.clone(),
        report,
        bus,
    }
}

/// The longest one node may take: every step's timeout, with room to spare.
fn node_deadline(plan: &VerifyPlan) -> Duration {
    plan.timeout * 8
}

async fn verify_node(
    seed: &VerifyPlan,
    seed_report: &VerifyReport,
    opts: &DiscoverOpts,
    a: Announced,
) -> NodeReport {
    let p = match node_plan(seed, opts, &a.endpoint, a.port) {
        Ok(p) => p,
        Err(e) => {
            return node_report(
                &a,
                failed_report(&a.endpoint, a.port, Step::Resolve, &e.to_string()),
                None,
            )
        }
    };
    let limit = node_deadline(seed);
    // The seed announced at the very target, SNI and name it was verified with: the same
    // verification, made moments ago (it passed, or discovery would not have run).
    let is_seed =
        p.target == seed.target && p.sni == seed.sni && p.expected_name == seed.expected_name;
    let mut report = if is_seed {
        seed_report.clone()
    } else {
        match tokio::time::timeout(limit, engine::verify_target(&p)).await {
            Ok(r) => r,
            Err(_) => failed_report(
                &a.endpoint,
                a.port,
                Step::Discover,
                &format!("no result within {}", humantime::format_duration(limit)),
            ),
        }
    };
    if !opts.name_given {
        explain_name_failure(&mut report, opts.kind, &a);
    }
    let bus = if opts.cluster_bus {
        let port = a.cport.unwrap_or_else(|| a.port.saturating_add(10000));
        Some(
            match tokio::time::timeout(limit, bus::verify_bus(&p, port)).await {
                Ok(r) => r,
                Err(_) => failed_report(
                    &a.endpoint,
                    port,
                    Step::Discover,
                    "no result for the cluster bus in time",
                ),
            },
        )
    } else {
        None
    };
    node_report(&a, report, bus)
}

/// The seed's plan pointed at a node: its endpoint is the host, the expected name (unless
/// `--name`) and the SNI (unless `--sni`; none for an IP).
fn node_plan(
    seed: &VerifyPlan,
    opts: &DiscoverOpts,
    endpoint: &str,
    port: u16,
) -> Result<VerifyPlan, BadEndpoint> {
    let bare = endpoint.trim_start_matches('[').trim_end_matches(']');
    let (host, name) = match bare.parse::<IpAddr>() {
        Ok(ip) => (Host::Ip(ip), ServerName::IpAddress(ip.into())),
        Err(_) => {
            let name = ServerName::try_from(bare.to_string()).map_err(|_| BadEndpoint {
                endpoint: endpoint.into(),
            })?;
            (Host::Dns(bare.to_string()), name)
        }
    };
    let mut p = seed.clone();
    p.warnings.clear();
    if !opts.sni_given {
        p.sni = match &host {
            Host::Dns(d) => Some(d.clone()),
            Host::Ip(_) => None,
        };
    }
    if !opts.name_given {
        p.expected_name = name;
    }
    p.target.host = host;
    p.target.port = port;
    // One attempt per node: --wait is for the seed.
    p.wait = None;
    Ok(p)
}

/// A node endpoint announced by the seed that cannot be a server name (as announced).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the announced endpoint {endpoint:?} is not a valid DNS name or IP address")]
struct BadEndpoint {
    endpoint: String,
}

/// A report for a node that could not be verified at all.
fn failed_report(endpoint: &str, port: u16, step: Step, msg: &str) -> VerifyReport {
    VerifyReport::of_checks(
        format!("rediss://{endpoint}:{port}"),
        Verdict::Fail,
        vec![Check::new(step, Status::Fail, msg)],
    )
}

/// A failed `server-name` at an announced endpoint breaks every client sent there: say
/// who sends them, and what to change.
fn explain_name_failure(report: &mut VerifyReport, kind: DiscoverKind, a: &Announced) {
    let Some(c) = report
        .checks
        .iter_mut()
        .find(|c| c.check == Step::ServerName && c.status == Status::Fail)
    else {
        return;
    };
    let at = format!("{}:{}", a.endpoint, a.port);
    let is_ip = a
        .endpoint
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .is_ok();
    let (who, fix) = match kind {
        DiscoverKind::Cluster => (
            format!("clients following MOVED/ASK redirects to {at} will fail: the cluster announces {}, which the certificate does not carry", a.endpoint),
            if is_ip {
                format!("set cluster-announce-hostname to a name the certificate carries and cluster-preferred-endpoint-type hostname, or add IP:{} to the node's certificate (subjectAltName)", a.endpoint)
            } else {
                format!("issue the node a certificate with DNS:{}, or announce a hostname the certificate carries (cluster-announce-hostname)", a.endpoint)
            },
        ),
        DiscoverKind::Sentinel => (
            format!("clients that ask Sentinel for this {} are sent to {at}, which the certificate does not carry", a.role.as_str()),
            format!("announce a name the certificate carries (replica-announce-ip / sentinel announce-ip, with sentinel resolve-hostnames yes and announce-hostnames yes), or add {}:{} to the certificate", if is_ip { "IP" } else { "DNS" }, a.endpoint),
        ),
        DiscoverKind::Replicas => (
            format!("INFO replication lists this replica at {at}, which the certificate does not carry"),
            format!("set replica-announce-ip to a name the certificate carries, or add {}:{} to the certificate", if is_ip { "IP" } else { "DNS" }, a.endpoint),
        ),
    };
    c.message = format!("{}\n{who}\nfix: {fix}", c.message);
}

#[cfg(test)]
mod bad_endpoint_tests {
    use super::*;

    #[test]
    fn bad_endpoint_displays_todays_line() {
        use clap::Parser;
        let cli =
            crate::cli::Cli::try_parse_from(["tlsprobe", "verify", "seed.example:6379"]).unwrap();
        let crate::cli::Command::Verify(args) = cli.command else {
            unreachable!()
        };
        let seed =
            crate::plan::verify_plan(&args.raw(None), crate::plan::Loaded::default()).unwrap();
        let opts = DiscoverOpts {
            kind: DiscoverKind::Cluster,
            sentinel_master: None,
            cluster_bus: false,
            name_given: false,
            sni_given: false,
        };
        let e = node_plan(&seed, &opts, "[bad host", 6379).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the announced endpoint \"[bad host\" is not a valid DNS name or IP address"
        );
        assert!(node_plan(&seed, &opts, "[::1]", 6379).is_ok());
    }
}
