//! The Upstash Database object (`POST /redis/enable-tls/{id}`, `GET /redis/database/{id}`).
//!
//! Fields read: `tls` (boolean), `securityAddons.tlsMutualAuth` (boolean), `endpoint` (a
//! slug such as `beloved-stallion-58500`, meaning `<slug>.upstash.io`, or a full host name),
//! `port` (integer), `state` (`active` / `suspended` / `passive`). Nothing else is read: the
//! object's `password` and REST tokens are never touched.

use serde_json::{Map, Value};

use super::{
    bool_field, field, port_field, ClientAuth, Endpoint, Expect, ExpectError, Expectations,
    Plaintext, TlsExpect,
};
use crate::target::Scheme;

/// The domain an endpoint slug lives under.
const DOMAIN: &str = "upstash.io";

/// Reads the fields listed in the module documentation.
pub(crate) fn read(obj: &Map<String, Value>) -> Result<Expectations, ExpectError> {
    let tls = bool_field(obj, "tls")?.ok_or(ExpectError::Missing {
        field: "tls",
        format: "Upstash Database",
    })?;
    let mutual = bool_field(obj, "securityAddons.tlsMutualAuth")?;
    let endpoint = match field::<String>(obj, "endpoint", "a string")? {
        None => None,
        Some(e) if e.is_empty() || e.contains(['/', ':', ' ']) => {
            return Err(ExpectError::Value {
                field: "endpoint".into(),
                why: "expected a slug or a host name".into(),
            })
        }
        Some(e) => {
            let port = port_field(obj, "port")?;
            let host = host_of(&e);
            let shown = match port {
                Some(p) => format!("endpoint: {e:?}, port: {p}"),
                None => format!("endpoint: {e:?}"),
            };
            Some(Endpoint {
                hosts: vec![host],
                port,
                field: shown,
            })
        }
    };
    let state = field::<String>(obj, "state", "a string")?.map(|s| Expect {
        field: format!("state: {s:?}"),
        value: s,
    });
    Ok(Expectations {
        plaintext: tls.value.then(|| Expect {
            value: Plaintext::Refused,
            field: tls.field.clone(),
        }),
        tls: Some(Expect {
            value: if tls.value {
                TlsExpect::On
            } else {
                TlsExpect::Off
            },
            field: tls.field,
        }),
        client_auth: mutual.map(|m| Expect {
            value: if m.value {
                ClientAuth::Required
            } else {
                ClientAuth::None
            },
            field: format!("securityAddons.tlsMutualAuth: {}", m.value),
        }),
        endpoint,
        state,
        protocol: Some(Scheme::Rediss),
        ..Expectations::default()
    })
}

/// `beloved-stallion-58500` -> `beloved-stallion-58500.upstash.io`; a name with a dot is
/// already a host name.
pub(crate) fn host_of(endpoint: &str) -> String {
    if endpoint.contains('.') {
        endpoint.to_string()
    } else {
        format!("{endpoint}.{DOMAIN}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::parse;

    #[test]
    fn slug_and_host_endpoints() {
        assert_eq!(
            host_of("beloved-stallion-58500"),
            "beloved-stallion-58500.upstash.io"
        );
        assert_eq!(host_of("eu1-x.upstash.io"), "eu1-x.upstash.io");
    }

    #[test]
    fn database_object() {
        let text = br#"{"database_id":"96ad","endpoint":"beloved-stallion-58500","port":6379,
            "tls":true,"state":"active","password":"canary-pw",
            "securityAddons":{"tlsMutualAuth":true,"ipWhitelisting":false}}"#;
        let ex = parse("u.json", text, None).unwrap();
        assert_eq!(ex.tls.as_ref().unwrap().value, TlsExpect::On);
        assert_eq!(ex.tls.unwrap().field, "tls: true");
        assert_eq!(ex.client_auth.unwrap().value, ClientAuth::Required);
        assert_eq!(ex.plaintext.unwrap().value, Plaintext::Refused);
        let ep = ex.endpoint.unwrap();
        assert_eq!(
            ep.hosts,
            vec!["beloved-stallion-58500.upstash.io".to_string()]
        );
        assert_eq!(ep.port, Some(6379));
        assert_eq!(ex.state.unwrap().value, "active");
        assert!(!format!("{:?}", ex.mtls).contains("canary"));
    }

    #[test]
    fn tls_off_and_bad_fields() {
        let ex = parse("u", br#"{"database_id":"a","tls":false}"#, None).unwrap();
        assert_eq!(ex.tls.unwrap().value, TlsExpect::Off);
        assert!(ex.plaintext.is_none());
        let e = parse("u", br#"{"database_id":"a"}"#, None).unwrap_err();
        assert!(e.to_string().contains("`tls`"), "{e}");
        let e = parse(
            "u",
            br#"{"database_id":"a","tls":true,"endpoint":"x","port":70000}"#,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("port: "), "{e}");
        let e = parse(
            "u",
            br#"{"database_id":"a","tls":true,"securityAddons":{"tlsMutualAuth":"no"}}"#,
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("securityAddons.tlsMutualAuth: "),
            "{e}"
        );
    }
}
