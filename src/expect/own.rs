//! tlsprobe's own expectation file, JSON or TOML, for any provider not listed:
//!
//! ```toml
//! tls = true                  # TLS for clients (false: plaintext served, TLS refused)
//! client_auth = "required"    # "required" / "optional" / "none"
//! plaintext = "refused"       # "refused" / "allowed" on the TLS port
//! min_tls_version = "1.2"     # "1.2" / "1.3"
//! host = "db.example.com"     # where the endpoint is (also the target when none is given)
//! port = 6379
//! protocol = "redis"          # "redis" / "postgres" / "mysql" / "tls" (for a target taken from the file)
//! ```

use serde_json::{Map, Value};

use super::{
    bool_field, field, port_field, ClientAuth, Endpoint, Expect, ExpectError, Expectations,
    Plaintext, TlsExpect,
};
use crate::domain::TlsVersion;
use crate::target::Scheme;

/// Reads the fields listed in the module documentation.
pub(crate) fn read(obj: &Map<String, Value>) -> Result<Expectations, ExpectError> {
    let tls = bool_field(obj, "tls")?;
    let client_auth = one_of(
        obj,
        "client_auth",
        &[
            ("required", ClientAuth::Required),
            ("optional", ClientAuth::Optional),
            ("none", ClientAuth::None),
        ],
    )?;
    let plaintext = one_of(
        obj,
        "plaintext",
        &[
            ("refused", Plaintext::Refused),
            ("allowed", Plaintext::Allowed),
        ],
    )?;
    let min_tls_version = one_of(
        obj,
        "min_tls_version",
        &[("1.2", TlsVersion::V1_2), ("1.3", TlsVersion::V1_3)],
    )?;
    let protocol = one_of(
        obj,
        "protocol",
        &[
            ("redis", Scheme::Rediss),
            ("postgres", Scheme::Postgres),
            ("mysql", Scheme::Mysql),
            ("tls", Scheme::Tls),
        ],
    )?;
    let host = field::<String>(obj, "host", "a host name")?;
    let port = port_field(obj, "port")?;
    if tls.is_none() && client_auth.is_none() && plaintext.is_none() && min_tls_version.is_none() {
        return Err(ExpectError::Missing {
            field: "tls",
            format: "tlsprobe expectation",
        });
    }
    if let (Some(t), Some(p)) = (&tls, &plaintext) {
        if !t.value && p.value == Plaintext::Refused {
            return Err(ExpectError::Value {
                field: "plaintext".into(),
                why: "\"refused\" contradicts tls: false".into(),
            });
        }
    }
    let endpoint = (host.is_some() || port.is_some()).then(|| Endpoint {
        field: match (&host, port) {
            (Some(h), Some(p)) => format!("host: {h:?}, port: {p}"),
            (Some(h), None) => format!("host: {h:?}"),
            (None, Some(p)) => format!("port: {p}"),
            (None, None) => String::new(),
        },
        hosts: host.into_iter().collect(),
        port,
    });
    Ok(Expectations {
        tls: tls.map(|t| Expect {
            value: if t.value {
                TlsExpect::On
            } else {
                TlsExpect::Off
            },
            field: t.field,
        }),
        client_auth,
        plaintext,
        min_tls_version,
        endpoint,
        protocol: protocol.map(|p| p.value),
        ..Expectations::default()
    })
}

/// A string field that must be one of `choices`.
fn one_of<T: Copy>(
    obj: &Map<String, Value>,
    key: &str,
    choices: &[(&str, T)],
) -> Result<Option<Expect<T>>, ExpectError> {
    let Some(s) = field::<String>(obj, key, "a string")? else {
        return Ok(None);
    };
    match choices.iter().find(|(name, _)| *name == s) {
        Some((_, v)) => Ok(Some(Expect {
            value: *v,
            field: format!("{key}: {s:?}"),
        })),
        None => Err(ExpectError::Value {
            field: key.to_string(),
            why: format!(
                "unknown value {s:?} (expected {})",
                choices
                    .iter()
                    .map(|(n, _)| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::parse;

    #[test]
    fn json_and_toml() {
        let ex = parse("e.json", br#"{"tls":true,"client_auth":"optional","plaintext":"refused","min_tls_version":"1.3","host":"db","port":5432,"protocol":"postgres"}"#, None).unwrap();
        assert_eq!(ex.client_auth.unwrap().value, ClientAuth::Optional);
        assert_eq!(ex.min_tls_version.unwrap().value, TlsVersion::V1_3);
        assert_eq!(ex.protocol, Some(Scheme::Postgres));
        assert_eq!(ex.endpoint.unwrap().port, Some(5432));
        let ex = parse("e.toml", b"tls = false\nplaintext = \"allowed\"\n", None).unwrap();
        assert_eq!(ex.tls.unwrap().value, TlsExpect::Off);
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = parse("e", br#"{"tls":true,"client_auth":"sometimes"}"#, None).unwrap_err();
        assert!(
            e.to_string().starts_with("client_auth: unknown value"),
            "{e}"
        );
        let e = parse("e", br#"{"tls":false,"plaintext":"refused"}"#, None).unwrap_err();
        assert!(e.to_string().starts_with("plaintext: "), "{e}");
        let e = parse(
            "e",
            br#"{"tls":1}"#,
            Some(crate::domain::ExpectFormat::Tlsprobe),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "tls: expected true or false, found a number");
    }
}
