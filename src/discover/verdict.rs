//! The verdicts of a discovered deployment: a node's (its verification and its cluster
//! bus), the topology's (its steps and its nodes) and the whole deployment's (the seed
//! too). Judged here, beside the deployment's other judgement (`health`); the report
//! types live in `report::topology`, whose renderers show these verdicts.

use crate::finding::Status;
use crate::report::topology::{DeploymentReport, NodeReport, Topology};
use crate::report::Verdict;

fn fail_if(failed: bool) -> Verdict {
    if failed {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

impl NodeReport {
    /// Fail when the node's verification or its cluster bus fails.
    pub fn verdict(&self) -> Verdict {
        let bus_failed = self
            .bus
            .as_ref()
            .is_some_and(|b| b.verdict == Verdict::Fail);
        fail_if(self.report.verdict == Verdict::Fail || bus_failed)
    }
}

impl Topology {
    /// Fail when a deployment step (`discover`, `cluster-health`) or any node fails.
    pub fn verdict(&self) -> Verdict {
        fail_if(
            self.checks.iter().any(|c| c.status == Status::Fail)
                || self.nodes.iter().any(|n| n.verdict() == Verdict::Fail),
        )
    }
}

impl DeploymentReport {
    /// Fail when the seed, any node or any deployment step fails.
    pub fn verdict(&self) -> Verdict {
        fail_if(self.seed.verdict == Verdict::Fail || self.topology.verdict() == Verdict::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Check;
    use crate::report::topology::{NodeRole, TopologyKind};
    use crate::report::VerifyReport;
    use crate::step::Step;

    fn report(verdict: Verdict) -> VerifyReport {
        VerifyReport::of_checks("rediss://127.0.0.1:7000".into(), verdict, vec![])
    }

    fn node(verdict: Verdict, bus: Option<Verdict>) -> NodeReport {
        NodeReport {
            id: "n".into(),
            role: NodeRole::Replica,
            endpoint: "127.0.0.1".into(),
            port: 7001,
            slots: vec![],
            flags: vec![],
            report: report(verdict),
            bus: bus.map(report),
        }
    }

    fn deployment(seed: Verdict, step: Status, nodes: Vec<NodeReport>) -> DeploymentReport {
        DeploymentReport {
            seed: report(seed),
            topology: Topology {
                kind: TopologyKind::Replicas,
                checks: vec![Check::new(Step::Discover, step, "")],
                nodes,
            },
        }
    }

    #[test]
    fn a_node_fails_with_its_verification_or_its_bus() {
        use Verdict::{Fail, Pass};
        assert_eq!(node(Pass, None).verdict(), Pass);
        assert_eq!(node(Pass, Some(Pass)).verdict(), Pass);
        assert_eq!(node(Pass, Some(Fail)).verdict(), Fail);
        assert_eq!(node(Fail, None).verdict(), Fail);
    }

    #[test]
    fn the_deployment_fails_with_the_seed_a_step_or_a_node() {
        use Verdict::{Fail, Pass};
        let ok = || vec![node(Pass, None)];
        assert_eq!(deployment(Pass, Status::Pass, ok()).verdict(), Pass);
        assert_eq!(deployment(Pass, Status::Skip, ok()).verdict(), Pass);
        assert_eq!(deployment(Fail, Status::Pass, ok()).verdict(), Fail);
        assert_eq!(deployment(Pass, Status::Fail, ok()).verdict(), Fail);
        let bad = deployment(Pass, Status::Pass, vec![node(Pass, Some(Fail))]);
        assert_eq!(bad.topology.verdict(), Fail);
        assert_eq!(bad.verdict(), Fail);
    }
}
