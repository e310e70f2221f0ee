//! Whole-deployment reports (`verify --discover`): the seed's report, every node's report
//! at its announced endpoint, and the deployment-wide steps (`discover`, `cluster-health`).
//! JSON is the seed's verify object plus `topology`; human output is the seed's report,
//! one line per node, the deployment steps, and a verdict over everything. The verdicts
//! shown (`verdict()` of a node, the topology, the deployment) are judged in
//! src/discover/verdict.rs.

use std::fmt::Write;

use serde::Serialize;

use crate::finding::{Check, Status};
use crate::report::{Style, Verdict, VerifyReport};

/// What was discovered from the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TopologyKind {
    Cluster,
    Sentinel,
    Replicas,
}

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Primary,
    Replica,
    Sentinel,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Primary => "primary",
            NodeRole::Replica => "replica",
            NodeRole::Sentinel => "sentinel",
        }
    }
}

/// One discovered node and its verification.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NodeReport {
    /// Cluster node id, Sentinel run id, or `replica-N` / the master name.
    pub id: String,
    pub role: NodeRole,
    /// Where clients are sent: an IP or a hostname.
    pub endpoint: String,
    pub port: u16,
    /// Slot ranges `[start, end]` (cluster primaries).
    pub slots: Vec<[u16; 2]>,
    /// Flags as the deployment reports them (`master`, `fail?`, `s_down`, ...).
    pub flags: Vec<String>,
    /// The verify object of this node.
    pub report: VerifyReport,
    /// With `--cluster-bus`: the verify object of the node's cluster bus port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus: Option<VerifyReport>,
}

impl NodeReport {
    /// `endpoint:port` (IPv6 in brackets).
    pub fn label(&self) -> String {
        if self.endpoint.contains(':') {
            format!("[{}]:{}", self.endpoint, self.port)
        } else {
            format!("{}:{}", self.endpoint, self.port)
        }
    }

    /// Failing step ids (the bus's prefixed with `bus:`).
    pub fn failing(&self) -> Vec<String> {
        let mut v: Vec<String> = failed(&self.report.checks)
            .map(|c| c.check.to_string())
            .collect();
        if let Some(b) = &self.bus {
            v.extend(failed(&b.checks).map(|c| format!("bus:{}", c.check)));
        }
        v
    }
}

fn failed(checks: &[Check]) -> impl Iterator<Item = &Check> {
    checks.iter().filter(|c| c.status == Status::Fail)
}

/// The deployment: its steps and its nodes.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Topology {
    pub kind: TopologyKind,
    /// `discover`, then `cluster-health` for a cluster.
    pub checks: Vec<Check>,
    pub nodes: Vec<NodeReport>,
}

/// `verify --discover`: the seed and the deployment.
#[derive(Debug, Clone)]
pub struct DeploymentReport {
    pub seed: VerifyReport,
    pub topology: Topology,
}

impl Serialize for DeploymentReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            seed: &'a VerifyReport,
            topology: &'a Topology,
        }
        // The top-level verdict is the deployment's; the seed's steps stay as they were.
        let mut seed = self.seed.clone();
        seed.verdict = self.verdict();
        Out {
            seed: &seed,
            topology: &self.topology,
        }
        .serialize(s)
    }
}

/// Human output for `verify --discover`.
pub fn human(r: &DeploymentReport, warn_days: i64, st: Style) -> String {
    let mut out = crate::report::human::verify(&r.seed, warn_days, st);
    let t = &r.topology;
    let kind = match t.kind {
        TopologyKind::Cluster => "cluster",
        TopologyKind::Sentinel => "sentinel",
        TopologyKind::Replicas => "replicas",
    };
    let _ = writeln!(
        out,
        "\n{}",
        st.bold(&format!(
            "topology {kind}: {} node{}",
            t.nodes.len(),
            if t.nodes.len() == 1 { "" } else { "s" }
        ))
    );
    for n in &t.nodes {
        node_line(&mut out, n, st);
    }
    if !t.nodes.is_empty() {
        out.push('\n');
    }
    for c in &t.checks {
        let status = format!("{:<4}", c.status.as_str());
        let mut lines = c.message.lines();
        let _ = writeln!(
            out,
            "{}  {:<17} {}",
            st.status(c.status, &status),
            c.check,
            lines.next().unwrap_or("")
        );
        for l in lines {
            let _ = writeln!(out, "{:<24}{l}", "");
        }
    }
    let mut bad: Vec<String> = Vec::new();
    if r.seed.verdict == Verdict::Fail {
        bad.push("seed".into());
    }
    bad.extend(
        t.nodes
            .iter()
            .filter(|n| n.verdict() == Verdict::Fail)
            .map(|n| format!("{} ({})", n.label(), n.failing().join(", "))),
    );
    bad.extend(failed(&t.checks).map(|c| c.check.to_string()));
    let total = t.nodes.len();
    let line = match r.verdict() {
        Verdict::Pass => format!(
            "{} seed and {total} node{}",
            st.status(Status::Pass, "PASS"),
            if total == 1 { "" } else { "s" }
        ),
        Verdict::Fail => format!("{}: {}", st.status(Status::Fail, "FAIL"), bad.join("; ")),
    };
    let _ = writeln!(out, "\noverall  {line}");
    out
}

fn node_line(out: &mut String, n: &NodeReport, st: Style) {
    let what = if n.slots.is_empty() {
        n.flags
            .iter()
            .filter(|f| !matches!(f.as_str(), "master" | "slave" | "sentinel"))
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    } else {
        format!(
            "slots {}",
            n.slots
                .iter()
                .map(|[a, b]| if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let (status, verdict) = match n.verdict() {
        Verdict::Pass => (Status::Pass, "pass"),
        Verdict::Fail => (Status::Fail, "FAIL"),
    };
    let _ = writeln!(
        out,
        "  {:<8} {:<22} {:<18} {}  {}",
        n.role.as_str(),
        n.label(),
        what,
        st.status(status, &format!("{verdict:<4}")),
        n.failing().join(", ")
    );
    let bus = n
        .bus
        .iter()
        .flat_map(|b| failed(&b.checks).map(|c| ("bus:", c)));
    for (prefix, c) in failed(&n.report.checks).map(|c| ("", c)).chain(bus) {
        for (i, l) in c.message.lines().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{:<11}{prefix}{}: {l}", "", c.check);
            } else {
                let _ = writeln!(out, "{:<13}{l}", "");
            }
        }
    }
}
