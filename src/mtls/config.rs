//! `--config`: the client-certificate settings of a Redis Enterprise database (`GET
//! /v1/bdbs/<uid>`) or cluster (`GET /v1/cluster`), as the REST API returns them.
//!
//! Fields read (unknown fields are ignored; a known field of the wrong shape is an input error):
//!
//! | object   | field                                      | shape                                   |
//! |----------|--------------------------------------------|-----------------------------------------|
//! | database | `client_cert_subject_validation_type`      | `disabled` / `san_cn` / `full_subject`  |
//! | database | `authorized_subjects`                      | `[{"CN","O","OU":[..],"L","ST","C"}]`   |
//! | database | `authorized_names` (deprecated since 6.4.2)| `["name", ...]`                         |
//! | database | `authentication_ssl_client_certs`          | `[{"client_cert": "<PEM>"}]`            |
//! | database | `mtls_allow_outdated_certs`                | boolean                                 |
//! | database | `tls_mode`                                 | `enabled` / `disabled` / `replica_ssl`  |
//! | database | `enforce_client_authentication`            | `enabled` / `disabled`                  |
//! | cluster  | `mtls_client_cert_subject_validation_type` | as the database field                   |
//! | cluster  | `mtls_authorized_subjects`                 | as the database field                   |

use std::path::Path;

use rustls_pki_types::CertificateDer;
use serde_json::{Map, Value};

use crate::domain::Validation;
use crate::error::InputError;
use crate::mtls::subject::{AuthorizedSubject, RULE_ATTRIBUTES};
use crate::pki::pem;

/// Which kind of object the JSON is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigKind {
    Database,
    Cluster,
    /// Neither kind's client-certificate fields are present.
    Unknown,
}

impl ConfigKind {
    /// `database`, `cluster` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigKind::Database => "database",
            ConfigKind::Cluster => "cluster",
            ConfigKind::Unknown => "unknown",
        }
    }
}

/// A certificate pasted into `authentication_ssl_client_certs`.
#[derive(Debug, Clone)]
pub struct ConfigCert {
    /// `db.json authentication_ssl_client_certs[0]`.
    pub label: String,
    /// 0-based position in the list (several certificates of one entry share it).
    pub index: usize,
    pub der: CertificateDer<'static>,
}

/// The settings read from one JSON file.
#[derive(Debug, Clone)]
pub struct ConfigSettings {
    pub path: String,
    pub kind: ConfigKind,
    /// The field the validation type came from, with its value.
    pub validation: Option<(Validation, &'static str)>,
    /// `authorized_subjects` / `mtls_authorized_subjects`.
    pub authorized_subjects: Option<Vec<AuthorizedSubject>>,
    /// `authorized_names` (deprecated).
    pub authorized_names: Option<Vec<String>>,
    pub allow_outdated: Option<bool>,
    pub client_certs: Vec<ConfigCert>,
    pub tls_mode: Option<String>,
    pub enforce_client_authentication: Option<String>,
}

/// Reads and parses a `--config` file.
pub fn read_config(path: &Path) -> Result<ConfigSettings, InputError> {
    let name = path.display().to_string();
    let subject = format!("--config {name}");
    let text =
        crate::files::read_bounded(path, pem::MAX_FILE_BYTES, &subject, "a JSON configuration")?;
    parse_config(&name, &text)
}

/// Parses the JSON text of a file named `name` (see the module documentation).
pub fn parse_config(name: &str, bytes: &[u8]) -> Result<ConfigSettings, InputError> {
    let subject = format!("--config {name}");
    let err = |m: String| InputError::new(&subject, m);
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        err(format!(
            "not valid JSON: {e} (expected the object GET /v1/bdbs/<uid> or GET /v1/cluster returns)"
        ))
    })?;
    let obj = match &value {
        Value::Object(o) => o,
        Value::Array(a) => {
            return Err(err(format!(
                "is a JSON array of {} elements; expected one database or cluster object (e.g. jq '.[0]')",
                a.len()
            )))
        }
        other => {
            return Err(err(format!(
                "is a JSON {}; expected a database or cluster object",
                json_type(other)
            )))
        }
    };
    let field = |k: &str| obj.get(k).filter(|v| !v.is_null());

    let db_validation = field("client_cert_subject_validation_type");
    let cl_validation = field("mtls_client_cert_subject_validation_type");
    let validation = match (db_validation, cl_validation) {
        (Some(v), _) => Some((
            validation_value("client_cert_subject_validation_type", v)
                .map_err(|e| err(e.to_string()))?,
            "client_cert_subject_validation_type",
        )),
        (None, Some(v)) => Some((
            validation_value("mtls_client_cert_subject_validation_type", v)
                .map_err(|e| err(e.to_string()))?,
            "mtls_client_cert_subject_validation_type",
        )),
        (None, None) => None,
    };
    let subjects_field = if field("authorized_subjects").is_some() {
        "authorized_subjects"
    } else {
        "mtls_authorized_subjects"
    };
    let authorized_subjects = match field(subjects_field) {
        Some(v) => Some(subjects_value(name, subjects_field, v).map_err(|e| err(e.to_string()))?),
        None => None,
    };
    let authorized_names = match field("authorized_names") {
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    Value::String(_) => Err(err(format!("authorized_names[{i}]: empty name"))),
                    other => Err(err(format!(
                        "authorized_names[{i}]: expected a string, found {}",
                        json_type(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(other) => {
            return Err(err(format!(
                "authorized_names: expected an array of strings, found {}",
                json_type(other)
            )))
        }
        None => None,
    };
    let allow_outdated = match field("mtls_allow_outdated_certs") {
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            return Err(err(format!(
                "mtls_allow_outdated_certs: expected true or false, found {}",
                json_type(other)
            )))
        }
        None => None,
    };
    let tls_mode = enum_field(obj, "tls_mode", &["enabled", "disabled", "replica_ssl"])
        .map_err(|e| err(e.to_string()))?;
    let enforce = enum_field(
        obj,
        "enforce_client_authentication",
        &["enabled", "disabled"],
    )
    .map_err(|e| err(e.to_string()))?;
    let client_certs = match field("authentication_ssl_client_certs") {
        Some(v) => client_certs_value(name, v).map_err(|e| err(e.to_string()))?,
        None => vec![],
    };

    let db_fields = [
        "client_cert_subject_validation_type",
        "authorized_subjects",
        "authorized_names",
        "authentication_ssl_client_certs",
        "mtls_allow_outdated_certs",
        "tls_mode",
        "enforce_client_authentication",
    ];
    let kind = if db_fields.iter().any(|f| obj.contains_key(*f)) {
        ConfigKind::Database
    } else if obj.contains_key("mtls_client_cert_subject_validation_type")
        || obj.contains_key("mtls_authorized_subjects")
    {
        ConfigKind::Cluster
    } else {
        ConfigKind::Unknown
    };
    Ok(ConfigSettings {
        path: name.to_string(),
        kind,
        validation,
        authorized_subjects,
        authorized_names,
        allow_outdated,
        client_certs,
        tls_mode,
        enforce_client_authentication: enforce,
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A known field of a `--config` object that is not what the REST API returns; `field` is
/// its path in the object (`authorized_subjects[0].OU[1]`). Displayed after `--config FILE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigFieldError {
    /// The wrong JSON type: `expected` is what the field holds, `found` what it held.
    #[error("{field}: expected {expected}, found {found}")]
    Shape {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    /// A subject validation type other than the three the API has.
    #[error(
        "{field}: unknown value {value:?} (expected \"disabled\", \"san_cn\" or \"full_subject\")"
    )]
    UnknownValidation { field: &'static str, value: String },
    /// A string outside the field's `allowed` values.
    #[error("{field}: unknown value {value:?} (expected {})", quoted(allowed))]
    UnknownValue {
        field: String,
        value: String,
        allowed: &'static [&'static str],
    },
    /// An authorized-subject attribute outside CN, O, OU, L, ST, C.
    #[error("{field}: unknown attribute {attribute:?} (expected CN, O, OU, L, ST, C)")]
    UnknownAttribute { field: String, attribute: String },
    /// An authorized-subject object without a CN.
    #[error("{field}: CN is required")]
    NoCn { field: String },
    /// A client-certificate entry without its `client_cert`.
    #[error("{field}: no \"client_cert\" field")]
    NoClientCert { field: String },
    /// The pasted PEM could not be read (the PEM reader's message, without its name).
    #[error("{field}.client_cert: {}", error.message)]
    ClientCertPem { field: String, error: InputError },
    /// The pasted PEM holds no certificate.
    #[error("{field}.client_cert: holds no certificate")]
    NoCertificate { field: String },
    /// A pasted certificate does not parse (its PEM block).
    #[error("{field}.client_cert: PEM block {block}: {error}")]
    ClientCertDer {
        field: String,
        block: usize,
        error: pem::DerError,
    },
}

/// `"a", "b", "c"`.
fn quoted(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A [`ConfigFieldError::Shape`] for `field`.
fn shape(field: impl Into<String>, expected: &'static str, found: &Value) -> ConfigFieldError {
    ConfigFieldError::Shape {
        field: field.into(),
        expected,
        found: json_type(found),
    }
}

fn validation_value(field: &'static str, v: &Value) -> Result<Validation, ConfigFieldError> {
    match v.as_str() {
        Some("disabled") => Ok(Validation::None),
        Some("san_cn") => Ok(Validation::San),
        Some("full_subject") => Ok(Validation::Subject),
        Some(other) => Err(ConfigFieldError::UnknownValidation {
            field,
            value: other.into(),
        }),
        None => Err(shape(field, "a string", v)),
    }
}

fn enum_field(
    obj: &Map<String, Value>,
    key: &str,
    allowed: &'static [&'static str],
) -> Result<Option<String>, ConfigFieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(ConfigFieldError::UnknownValue {
            field: key.into(),
            value: s.clone(),
            allowed,
        }),
        Some(other) => Err(shape(key, "a string", other)),
    }
}

fn subjects_value(
    file: &str,
    key: &str,
    v: &Value,
) -> Result<Vec<AuthorizedSubject>, ConfigFieldError> {
    let Value::Array(items) = v else {
        return Err(shape(key, "an array of subject objects", v));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let Value::Object(o) = item else {
            return Err(shape(
                at,
                "an object like {\"CN\": \"redis_user\", \"OU\": [\"Ops\"]}",
                item,
            ));
        };
        let mut entry = AuthorizedSubject::with_cn(format!("{file} {at}"), "");
        for (k, val) in o {
            if !RULE_ATTRIBUTES.contains(&k.as_str()) {
                return Err(ConfigFieldError::UnknownAttribute {
                    field: at,
                    attribute: k.clone(),
                });
            }
            if val.is_null() {
                continue;
            }
            if k == "OU" {
                let values: Vec<String> = match val {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(a) => a
                        .iter()
                        .enumerate()
                        .map(|(j, x)| {
                            x.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| shape(format!("{at}.OU[{j}]"), "a string", x))
                        })
                        .collect::<Result<_, _>>()?,
                    other => return Err(shape(format!("{at}.OU"), "an array of strings", other)),
                };
                entry
                    .ou
                    .extend(values.into_iter().filter(|s| !s.is_empty()));
                continue;
            }
            let Value::String(s) = val else {
                return Err(shape(format!("{at}.{k}"), "a string", val));
            };
            if s.is_empty() {
                continue;
            }
            match k.as_str() {
                "CN" => entry.cn = s.clone(),
                "O" => entry.o = Some(s.clone()),
                "L" => entry.l = Some(s.clone()),
                "ST" => entry.st = Some(s.clone()),
                _ => entry.c = Some(s.clone()),
            }
        }
        if entry.cn.is_empty() {
            return Err(ConfigFieldError::NoCn { field: at });
        }
        out.push(entry);
    }
    Ok(out)
}

fn client_certs_value(file: &str, v: &Value) -> Result<Vec<ConfigCert>, ConfigFieldError> {
    let key = "authentication_ssl_client_certs";
    let Value::Array(items) = v else {
        return Err(shape(
            key,
            "an array of {\"client_cert\": \"<PEM>\"} objects",
            v,
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let pem_text = match item {
            Value::Object(o) => match o.get("client_cert") {
                Some(Value::String(s)) => s,
                Some(other) => {
                    return Err(shape(format!("{at}.client_cert"), "a PEM string", other))
                }
                None => return Err(ConfigFieldError::NoClientCert { field: at }),
            },
            other => return Err(shape(at, "an object {\"client_cert\": \"<PEM>\"}", other)),
        };
        let label = format!("{file} {at}");
        let parsed = match pem::parse_bytes(&at, pem_text.as_bytes()) {
            Ok(p) => p,
            Err(error) => return Err(ConfigFieldError::ClientCertPem { field: at, error }),
        };
        if let Some(e) = parsed.errors.first() {
            return Err(ConfigFieldError::ClientCertPem {
                field: at,
                error: e.clone(),
            });
        }
        if parsed.certs.is_empty() {
            return Err(ConfigFieldError::NoCertificate { field: at });
        }
        for c in parsed.certs {
            if let Some(error) = pem::parse_cert_error(&c.der) {
                return Err(ConfigFieldError::ClientCertDer {
                    field: at,
                    block: c.block,
                    error,
                });
            }
            out.push(ConfigCert {
                label: label.clone(),
                index: i,
                der: c.der,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<ConfigSettings, InputError> {
        parse_config("db.json", s.as_bytes())
    }

    #[test]
    fn database_fields() {
        let c = parse(
            r#"{"uid": 1, "name": "db", "client_cert_subject_validation_type": "full_subject",
                "authorized_subjects": [{"CN": "redis_user", "O": "Acme", "OU": ["Ops", "Dev"], "C": "IL"}],
                "mtls_allow_outdated_certs": true, "tls_mode": "enabled",
                "enforce_client_authentication": "enabled", "something_new": {"x": 1}}"#,
        )
        .unwrap();
        assert_eq!(c.kind, ConfigKind::Database);
        assert_eq!(c.validation.map(|v| v.0), Some(Validation::Subject));
        let s = &c.authorized_subjects.unwrap()[0];
        assert_eq!(s.ou, vec!["Ops", "Dev"]);
        assert_eq!(s.c.as_deref(), Some("IL"));
        assert_eq!(s.source, "db.json authorized_subjects[0]");
        assert_eq!(c.allow_outdated, Some(true));
        assert_eq!(c.tls_mode.as_deref(), Some("enabled"));
    }

    #[test]
    fn cluster_fields() {
        let c = parse(
            r#"{"name": "cl", "mtls_client_cert_subject_validation_type": "san_cn",
                "mtls_authorized_subjects": [{"CN": "client01"}]}"#,
        )
        .unwrap();
        assert_eq!(c.kind, ConfigKind::Cluster);
        assert_eq!(c.validation.map(|v| v.0), Some(Validation::San));
        assert_eq!(c.authorized_subjects.unwrap()[0].cn, "client01");
    }

    #[test]
    fn malformed_fields_are_errors() {
        for (json, want) in [
            ("[{}]", "JSON array of 1 elements"),
            ("42", "is a JSON a number"),
            ("{", "not valid JSON"),
            (
                r#"{"client_cert_subject_validation_type": "strict"}"#,
                "unknown value \"strict\"",
            ),
            (
                r#"{"authorized_subjects": {"CN": "a"}}"#,
                "expected an array of subject objects",
            ),
            (
                r#"{"authorized_subjects": [{"O": "a"}]}"#,
                "authorized_subjects[0]: CN is required",
            ),
            (
                r#"{"authorized_subjects": [{"CN": "a", "E": "x"}]}"#,
                "unknown attribute \"E\"",
            ),
            (
                r#"{"authorized_subjects": [{"CN": "a", "OU": [1]}]}"#,
                "OU[0]: expected a string",
            ),
            (
                r#"{"authorized_subjects": [{"CN": 5}]}"#,
                "CN: expected a string",
            ),
            (
                r#"{"authorized_names": "a"}"#,
                "authorized_names: expected an array",
            ),
            (
                r#"{"mtls_allow_outdated_certs": "yes"}"#,
                "expected true or false",
            ),
            (r#"{"tls_mode": "on"}"#, "tls_mode: unknown value"),
            (
                r#"{"authentication_ssl_client_certs": [{"cert": "x"}]}"#,
                "no \"client_cert\" field",
            ),
            (
                r#"{"authentication_ssl_client_certs": [{"client_cert": "junk"}]}"#,
                "client_cert: no PEM block",
            ),
        ] {
            let e = parse(json).unwrap_err();
            assert!(e.subject == "--config db.json", "{e}");
            assert!(e.message.contains(want), "{json}: {e}");
        }
    }

    #[test]
    fn field_errors_display_todays_lines() {
        let cert = std::fs::read_to_string("testdata/client.pem").unwrap();
        let framed_only = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        for (json, line) in [
            (
                r#"{"mtls_client_cert_subject_validation_type": 3}"#.to_string(),
                "mtls_client_cert_subject_validation_type: expected a string, found a number",
            ),
            (
                r#"{"client_cert_subject_validation_type": "strict"}"#.into(),
                r#"client_cert_subject_validation_type: unknown value "strict" (expected "disabled", "san_cn" or "full_subject")"#,
            ),
            (
                r#"{"tls_mode": "on"}"#.into(),
                r#"tls_mode: unknown value "on" (expected "enabled", "disabled", "replica_ssl")"#,
            ),
            (
                r#"{"enforce_client_authentication": true}"#.into(),
                "enforce_client_authentication: expected a string, found a boolean",
            ),
            (
                r#"{"authorized_subjects": [1]}"#.into(),
                r#"authorized_subjects[0]: expected an object like {"CN": "redis_user", "OU": ["Ops"]}, found a number"#,
            ),
            (
                r#"{"mtls_authorized_subjects": [{"CN": "a", "E": "x"}]}"#.into(),
                r#"mtls_authorized_subjects[0]: unknown attribute "E" (expected CN, O, OU, L, ST, C)"#,
            ),
            (
                r#"{"authorized_subjects": [{"CN": "a"}, {"OU": {}}]}"#.into(),
                "authorized_subjects[1].OU: expected an array of strings, found an object",
            ),
            (
                r#"{"authorized_subjects": [{"OU": "x"}]}"#.into(),
                "authorized_subjects[0]: CN is required",
            ),
            (
                r#"{"authentication_ssl_client_certs": {}}"#.into(),
                r#"authentication_ssl_client_certs: expected an array of {"client_cert": "<PEM>"} objects, found an object"#,
            ),
            (
                r#"{"authentication_ssl_client_certs": ["x"]}"#.into(),
                r#"authentication_ssl_client_certs[0]: expected an object {"client_cert": "<PEM>"}, found a string"#,
            ),
            (
                r#"{"authentication_ssl_client_certs": [{"client_cert": null}]}"#.into(),
                "authentication_ssl_client_certs[0].client_cert: expected a PEM string, found null",
            ),
            (
                r#"{"authentication_ssl_client_certs": [{}]}"#.into(),
                r#"authentication_ssl_client_certs[0]: no "client_cert" field"#,
            ),
            (
                serde_json::json!({"authentication_ssl_client_certs": [{"client_cert": "x"}, {"client_cert": "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"}]}).to_string(),
                "authentication_ssl_client_certs[0].client_cert: no PEM block and not a DER certificate (expected -----BEGIN CERTIFICATE----- or DER bytes)",
            ),
            (
                serde_json::json!({"authentication_ssl_client_certs": [{"client_cert": cert}, {"client_cert": "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"}]}).to_string(),
                "authentication_ssl_client_certs[1].client_cert: holds no certificate",
            ),
            (
                serde_json::json!({"authentication_ssl_client_certs": [{"client_cert": framed_only}]}).to_string(),
                "",
            ),
        ] {
            let e = parse(&json).unwrap_err();
            assert_eq!(e.subject, "--config db.json");
            if line.is_empty() {
                assert!(
                    e.message
                        .starts_with("authentication_ssl_client_certs[0].client_cert: PEM block 1: not valid DER: "),
                    "{e}"
                );
            } else {
                assert_eq!(e.message, line, "{json}");
            }
        }
        let bad_b64 = serde_json::json!({"authentication_ssl_client_certs": [{"client_cert": "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"}]});
        let e = parse(&bad_b64.to_string()).unwrap_err();
        assert!(
            e.message.starts_with(
                "authentication_ssl_client_certs[0].client_cert: PEM block 1 (\"CERTIFICATE\"): bad base64"
            ),
            "{e}"
        );
    }

    #[test]
    fn field_errors_carry_the_path() {
        let v: Value = serde_json::from_str(r#"[{"CN": "a", "OU": ["x", 2]}]"#).unwrap();
        assert_eq!(
            subjects_value("db.json", "authorized_subjects", &v).unwrap_err(),
            ConfigFieldError::Shape {
                field: "authorized_subjects[0].OU[1]".into(),
                expected: "a string",
                found: "a number",
            }
        );
    }
}
