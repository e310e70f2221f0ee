//! The Redis Enterprise BDB object (`GET /v1/bdbs/<uid>`, or the body of `PUT
//! /v1/bdbs/<uid>`).
//!
//! Fields read: `tls_mode` (`enabled` / `disabled` / `replica_ssl`),
//! `enforce_client_authentication` (`enabled` / `disabled`), the client-certificate rules
//! `authentication_ssl_client_certs`, `client_cert_subject_validation_type`,
//! `authorized_subjects`, `authorized_names`, `mtls_allow_outdated_certs` (read by
//! [`crate::mtls::config`], the same reader as `mtls --config`, and fed to `client-policy`),
//! and where the database listens: `endpoints[].dns_address_master`, `endpoints[].port`,
//! and the older top-level `dns_address_master` and `port`. `authentication_redis_pass`
//! and every other field are never read.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    field, port_field, ClientAuth, Endpoint, Expect, ExpectError, Expectations, Plaintext,
    TlsExpect,
};
use crate::mtls::config::parse_config;
use crate::target::Scheme;

/// One entry of `endpoints`: only the name and the port.
#[derive(Debug, Deserialize)]
struct BdbEndpoint {
    dns_address_master: Option<String>,
    port: Option<u64>,
}

/// Reads the fields listed in the module documentation.
pub(crate) fn read(
    name: &str,
    bytes: &[u8],
    obj: &Map<String, Value>,
) -> Result<Expectations, ExpectError> {
    let cfg = parse_config(name, bytes).map_err(|e| ExpectError::Value {
        field: "BDB".into(),
        why: e.message,
    })?;
    let tls = cfg.tls_mode.as_deref().map(|m| Expect {
        value: match m {
            "enabled" => TlsExpect::On,
            "replica_ssl" => TlsExpect::ReplicaOnly,
            _ => TlsExpect::Off,
        },
        field: format!("tls_mode: {m:?}"),
    });
    if tls.is_none() && cfg.enforce_client_authentication.is_none() {
        return Err(ExpectError::Missing {
            field: "tls_mode",
            format: "Redis Enterprise BDB",
        });
    }
    let client_auth = cfg
        .enforce_client_authentication
        .as_deref()
        .map(|e| Expect {
            value: if e == "enabled" {
                ClientAuth::Required
            } else {
                ClientAuth::None
            },
            field: format!("enforce_client_authentication: {e:?}"),
        });
    let endpoint = endpoint(obj)?;
    let has_rules = cfg.validation.is_some()
        || cfg
            .authorized_subjects
            .as_ref()
            .is_some_and(|s| !s.is_empty())
        || cfg.authorized_names.as_ref().is_some_and(|s| !s.is_empty())
        || !cfg.client_certs.is_empty();
    Ok(Expectations {
        plaintext: tls
            .as_ref()
            .filter(|t| t.value == TlsExpect::On)
            .map(|t| Expect {
                value: Plaintext::Refused,
                field: t.field.clone(),
            }),
        tls,
        client_auth,
        endpoint,
        protocol: Some(Scheme::Rediss),
        mtls: has_rules.then_some(cfg),
        ..Expectations::default()
    })
}

fn endpoint(obj: &Map<String, Value>) -> Result<Option<Endpoint>, ExpectError> {
    let list = field::<Vec<BdbEndpoint>>(obj, "endpoints", "an array of endpoint objects")?
        .unwrap_or_default();
    let mut hosts: Vec<String> = Vec::new();
    let mut port = None;
    for (i, e) in list.iter().enumerate() {
        if let Some(h) = e.dns_address_master.as_ref().filter(|h| !h.is_empty()) {
            hosts.push(h.clone());
        }
        if let Some(p) = e.port {
            let p =
                u16::try_from(p)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| ExpectError::Value {
                        field: format!("endpoints[{i}].port"),
                        why: format!("{p} is not a port number (1-65535)"),
                    })?;
            port.get_or_insert(p);
        }
    }
    if let Some(h) = field::<String>(obj, "dns_address_master", "a string")? {
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    if port.is_none() {
        port = port_field(obj, "port")?;
    }
    if hosts.is_empty() && port.is_none() {
        return Ok(None);
    }
    let shown = match port {
        Some(p) => format!("dns_address_master {:?}, port {p}", hosts.join(", ")),
        None => format!("dns_address_master {:?}", hosts.join(", ")),
    };
    Ok(Some(Endpoint {
        hosts,
        port,
        field: shown,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::parse;

    #[test]
    fn bdb_object() {
        let text = br#"{"uid":1,"name":"db1","port":12000,"tls_mode":"enabled",
            "enforce_client_authentication":"enabled","authentication_redis_pass":"canary-pw",
            "client_cert_subject_validation_type":"san_cn","authorized_subjects":[{"CN":"redis_user"}],
            "endpoints":[{"uid":"1:1","dns_address_master":"redis-12000.cluster.example.com","port":12000,"addr":["10.0.0.1"],"addr_type":"external"}]}"#;
        let ex = parse("bdb.json", text, None).unwrap();
        assert_eq!(ex.tls.unwrap().value, TlsExpect::On);
        assert_eq!(ex.client_auth.unwrap().value, ClientAuth::Required);
        let ep = ex.endpoint.unwrap();
        assert_eq!(
            ep.hosts,
            vec!["redis-12000.cluster.example.com".to_string()]
        );
        assert_eq!(ep.port, Some(12000));
        assert!(ex.mtls.is_some());
    }

    #[test]
    fn replica_ssl_and_errors() {
        let ex = parse(
            "b",
            br#"{"tls_mode":"replica_ssl","enforce_client_authentication":"disabled"}"#,
            None,
        )
        .unwrap();
        assert_eq!(ex.tls.unwrap().value, TlsExpect::ReplicaOnly);
        assert!(ex.plaintext.is_none());
        assert!(ex.mtls.is_none());
        let e = parse("b", br#"{"tls_mode":"on"}"#, None).unwrap_err();
        assert!(e.to_string().contains("tls_mode"), "{e}");
        let e = parse(
            "b",
            br#"{"tls_mode":"enabled","endpoints":[{"port":99999}]}"#,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("endpoints[0].port"), "{e}");
    }
}
