//! The named steps of a verification: the machine id of each (`as_str`, the id in every
//! report) apart from the words shown, and the order in which they are reported (the
//! declaration order of [`Step`]).

use std::fmt;

use serde::{Serialize, Serializer};

/// One step of `verify` (in report order), then the steps of `mtls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Audit: the target's secret could not be read.
    Credentials,
    ClientPolicy,
    Resolve,
    Tcp,
    TlsHandshake,
    ChainTrust,
    Anchor,
    ServerName,
    Expiry,
    /// `--strict`: the certificate-profile rules on the verified path.
    Strict,
    ClientCert,
    Auth,
    Ping,
    PlaintextRefused,
    // `--expect`: the provider's description, one step per expectation.
    ExpectTls,
    ExpectClientAuth,
    ExpectPlaintext,
    ExpectEndpoint,
    ExpectState,
    /// `--baseline`: what changed since an earlier report.
    Baseline,
    // `verify --discover`: the deployment's own steps.
    Discover,
    ClusterHealth,
    ClusterBus,
    BusClientAuth,
    // `mtls`
    Enforcement,
    Chain,
    KeyUsage,
    LeafInTrustedList,
    San,
    Subject,
}

impl Step {
    /// The stable id shown in reports and JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Credentials => "credentials",
            Step::ClientPolicy => "client-policy",
            Step::Resolve => "resolve",
            Step::Tcp => "tcp",
            Step::TlsHandshake => "tls-handshake",
            Step::ChainTrust => "chain-trust",
            Step::Anchor => "anchor",
            Step::ServerName => "server-name",
            Step::Expiry => "expiry",
            Step::Strict => "strict",
            Step::ClientCert => "client-cert",
            Step::Auth => "auth",
            Step::Ping => "ping",
            Step::PlaintextRefused => "plaintext-refused",
            Step::ExpectTls => "expect-tls",
            Step::ExpectClientAuth => "expect-client-auth",
            Step::ExpectPlaintext => "expect-plaintext",
            Step::ExpectEndpoint => "expect-endpoint",
            Step::ExpectState => "expect-state",
            Step::Baseline => "baseline",
            Step::Discover => "discover",
            Step::ClusterHealth => "cluster-health",
            Step::ClusterBus => "cluster-bus",
            Step::BusClientAuth => "bus-client-auth",
            Step::Enforcement => "enforcement",
            Step::Chain => "chain",
            Step::KeyUsage => "key-usage",
            Step::LeafInTrustedList => "leaf-in-trusted-list",
            Step::San => "san",
            Step::Subject => "subject",
        }
    }

    /// The certificate steps judged right after the handshake, in report order.
    pub const CERTIFICATE: [Step; 4] = [
        Step::ChainTrust,
        Step::Anchor,
        Step::ServerName,
        Step::Expiry,
    ];
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl schemars::JsonSchema for Step {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "a step id, e.g. chain-trust"
        })
    }
}

impl PartialEq<&str> for Step {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let all = [
            Step::Credentials,
            Step::ClientPolicy,
            Step::Resolve,
            Step::Tcp,
            Step::TlsHandshake,
            Step::ChainTrust,
            Step::Anchor,
            Step::ServerName,
            Step::Expiry,
            Step::Strict,
            Step::ClientCert,
            Step::Auth,
            Step::Ping,
            Step::PlaintextRefused,
            Step::ExpectTls,
            Step::ExpectClientAuth,
            Step::ExpectPlaintext,
            Step::ExpectEndpoint,
            Step::ExpectState,
            Step::Baseline,
            Step::Discover,
            Step::ClusterHealth,
            Step::ClusterBus,
            Step::BusClientAuth,
            Step::Enforcement,
            Step::Chain,
            Step::KeyUsage,
            Step::LeafInTrustedList,
            Step::San,
            Step::Subject,
        ];
        let mut ids: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        assert!(ids
            .iter()
            .all(|i| i.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
    }

    #[test]
    fn report_order_is_declaration_order() {
        assert!(Step::ClientPolicy < Step::Resolve);
        assert!(Step::Expiry < Step::ClientCert);
        assert!(Step::Ping < Step::PlaintextRefused);
    }
}
