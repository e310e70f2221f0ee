//! The `cluster-health` judgement: every one of the 16384 slots assigned to a primary, no
//! node flagged `fail` or `pfail`, and every shard's primary reachable by tlsprobe. Pure:
//! the topology and what each node's verification saw go in, one step comes out.

use super::cluster::{ClusterNode, ClusterRole};
use crate::finding::{Check, Status};
use crate::step::Step;

/// Slots in a Redis Cluster.
pub(crate) const SLOTS: usize = 16384;

/// One node as the judgement needs it.
pub(crate) struct NodeHealth<'a> {
    pub node: &'a ClusterNode,
    /// `endpoint:port`, for messages.
    pub label: String,
    /// tlsprobe reached it: TCP connected and the TLS handshake completed.
    pub reachable: bool,
}

/// Judges the cluster as a whole.
pub(crate) fn cluster_health(nodes: &[NodeHealth<'_>]) -> Check {
    let mut problems: Vec<String> = Vec::new();

    let mut covered = vec![false; SLOTS];
    for n in nodes.iter().filter(|n| n.node.role == ClusterRole::Primary) {
        for &(a, b) in &n.node.slots {
            for slot in covered
                .iter_mut()
                .take(usize::from(b) + 1)
                .skip(usize::from(a))
            {
                *slot = true;
            }
        }
    }
    let count = covered.iter().filter(|c| **c).count();
    if count < SLOTS {
        problems.push(format!(
            "{count} of {SLOTS} slots covered; unassigned: {}",
            uncovered_ranges(&covered)
        ));
    }

    for n in nodes {
        if let Some(state) = failure_state(n.node) {
            problems.push(format!(
                "{} {} ({}) is in {state} state",
                role(n.node),
                n.label,
                short(&n.node.id)
            ));
        }
    }

    let mut shards: Vec<&str> = nodes.iter().map(|n| n.node.shard.as_str()).collect();
    shards.sort_unstable();
    shards.dedup();
    for shard in &shards {
        let members: Vec<&NodeHealth<'_>> =
            nodes.iter().filter(|n| n.node.shard == *shard).collect();
        let primaries: Vec<&&NodeHealth<'_>> = members
            .iter()
            .filter(|n| n.node.role == ClusterRole::Primary)
            .collect();
        match primaries.as_slice() {
            [] => problems.push(format!(
                "the shard of {} has no primary",
                members
                    .iter()
                    .map(|m| m.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ps => {
                for p in ps.iter().filter(|p| !p.reachable) {
                    problems.push(format!(
                        "primary {} ({}, slots {}) is not reachable",
                        p.label,
                        short(&p.node.id),
                        if p.node.slots.is_empty() {
                            "none".to_string()
                        } else {
                            super::cluster::slots_text(&p.node.slots)
                        }
                    ));
                }
            }
        }
    }

    if problems.is_empty() {
        Check::new(
            Step::ClusterHealth,
            Status::Pass,
            format!(
                "all {SLOTS} slots covered by {} shard{}; no node in fail or pfail; every shard's primary reachable",
                shards.len(),
                if shards.len() == 1 { "" } else { "s" }
            ),
        )
    } else {
        Check::new(Step::ClusterHealth, Status::Fail, problems.join("\n"))
    }
}

/// `fail` or `pfail` when the node is flagged so (CLUSTER NODES flags, or CLUSTER SHARDS
/// health when no flags were read).
fn failure_state(n: &ClusterNode) -> Option<&'static str> {
    if n.flags.iter().any(|f| f == "fail") {
        Some("fail")
    } else if n.flags.iter().any(|f| f == "fail?") {
        Some("pfail")
    } else if matches!(n.health.as_deref(), Some("fail" | "failed")) {
        Some("fail")
    } else {
        None
    }
}

fn role(n: &ClusterNode) -> &'static str {
    match n.role {
        ClusterRole::Primary => "primary",
        ClusterRole::Replica => "replica",
    }
}

/// The first 8 characters of a node id (ids come from the server: any UTF-8).
fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// The uncovered slots as ranges, at most 8 shown.
fn uncovered_ranges(covered: &[bool]) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (i, c) in covered.iter().enumerate() {
        if !c {
            match ranges.last_mut() {
                Some((_, end)) if *end + 1 == i => *end = i,
                _ => ranges.push((i, i)),
            }
        }
    }
    let shown: Vec<String> = ranges
        .iter()
        .take(8)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let more = ranges.len().saturating_sub(8);
    if more > 0 {
        format!("{} and {more} more ranges", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::cluster::{merge, parse_nodes, parse_shards};
    use crate::discover::resp::{sample, text};

    fn topology(shards: &[u8], nodes: &[u8]) -> Vec<ClusterNode> {
        let s = parse_shards(&sample(shards)).unwrap();
        let n = parse_nodes(&text(&sample(nodes)).unwrap()).unwrap();
        merge(s, &n)
    }

    fn judge(nodes: &[ClusterNode], unreachable: &[&str]) -> Check {
        let h: Vec<NodeHealth<'_>> = nodes
            .iter()
            .map(|n| NodeHealth {
                node: n,
                label: format!("{}:{}", n.endpoint, n.port),
                reachable: !unreachable.contains(&n.id.as_str()),
            })
            .collect();
        cluster_health(&h)
    }

    #[test]
    fn a_healthy_cluster_passes() {
        let n = topology(
            include_bytes!("../../testdata/cluster/replies/shards.resp"),
            include_bytes!("../../testdata/cluster/replies/nodes.resp"),
        );
        let c = judge(&n, &[]);
        assert_eq!(c.status, Status::Pass, "{}", c.message);
        assert!(c.message.contains("3 shards"), "{}", c.message);
    }

    #[test]
    fn a_killed_primary_fails_on_its_flag_and_its_reachability() {
        let n = topology(
            include_bytes!("../../testdata/cluster/replies/shards_fail.resp"),
            include_bytes!("../../testdata/cluster/replies/nodes_fail.resp"),
        );
        let dead = n
            .iter()
            .find(|x| x.flags.iter().any(|f| f == "fail"))
            .unwrap();
        let c = judge(&n, &[dead.id.as_str()]);
        assert_eq!(c.status, Status::Fail);
        assert!(c.message.contains("in fail state"), "{}", c.message);
        assert!(c.message.contains("is not reachable"), "{}", c.message);
        assert!(c.message.contains("10923-16383"), "{}", c.message);
    }

    #[test]
    fn pfail_uncovered_slots_and_a_shard_without_primary_fail() {
        let mut n = topology(
            include_bytes!("../../testdata/cluster/replies/shards.resp"),
            include_bytes!("../../testdata/cluster/replies/nodes.resp"),
        );
        n[1].flags.push("fail?".into());
        let c = judge(&n, &[]);
        assert!(
            c.status == Status::Fail && c.message.contains("pfail"),
            "{}",
            c.message
        );

        let mut n = topology(
            include_bytes!("../../testdata/cluster/replies/shards.resp"),
            include_bytes!("../../testdata/cluster/replies/nodes.resp"),
        );
        let p = n
            .iter()
            .position(|x| x.role == ClusterRole::Primary)
            .unwrap();
        n[p].slots = vec![(0, 99)];
        n[p].role = ClusterRole::Primary;
        let c = judge(&n, &[]);
        assert!(
            c.message.contains("of 16384 slots covered; unassigned: "),
            "{}",
            c.message
        );
        n[p].role = ClusterRole::Replica;
        let c = judge(&n, &[]);
        assert!(c.message.contains("has no primary"), "{}", c.message);
    }

    #[test]
    fn cluster_nodes_alone_as_before_redis_7() {
        let only = |b: &[u8]| parse_nodes(&text(&sample(b)).unwrap()).unwrap();
        let n = only(include_bytes!("../../testdata/cluster/replies/nodes.resp"));
        let c = judge(&n, &[]);
        assert_eq!(c.status, Status::Pass, "{}", c.message);
        assert!(c.message.contains("3 shards"), "{}", c.message);
        let n = only(include_bytes!(
            "../../testdata/cluster/replies/nodes_fail.resp"
        ));
        let c = judge(&n, &[]);
        assert!(
            c.status == Status::Fail && c.message.contains("in fail state"),
            "{}",
            c.message
        );
    }

    #[test]
    fn many_uncovered_ranges_are_summarised() {
        let mut covered = vec![true; SLOTS];
        for i in (0..40).map(|i| i * 3) {
            covered[i] = false;
        }
        assert!(uncovered_ranges(&covered).ends_with("and 32 more ranges"));
    }
}
