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
            validation_value(v)
                .map_err(|m| err(format!("client_cert_subject_validation_type: {m}")))?,
            "client_cert_subject_validation_type",
        )),
        (None, Some(v)) => Some((
            validation_value(v)
                .map_err(|m| err(format!("mtls_client_cert_subject_validation_type: {m}")))?,
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
        Some(v) => Some(subjects_value(name, subjects_field, v).map_err(err)?),
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
    let tls_mode =
        enum_field(obj, "tls_mode", &["enabled", "disabled", "replica_ssl"]).map_err(err)?;
    let enforce = enum_field(
        obj,
        "enforce_client_authentication",
        &["enabled", "disabled"],
    )
    .map_err(err)?;
    let client_certs = match field("authentication_ssl_client_certs") {
        Some(v) => client_certs_value(name, v).map_err(err)?,
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

fn validation_value(v: &Value) -> Result<Validation, String> {
    match v.as_str() {
        Some("disabled") => Ok(Validation::None),
        Some("san_cn") => Ok(Validation::San),
        Some("full_subject") => Ok(Validation::Subject),
        Some(other) => Err(format!(
            "unknown value {other:?} (expected \"disabled\", \"san_cn\" or \"full_subject\")"
        )),
        None => Err(format!("expected a string, found {}", json_type(v))),
    }
}

fn enum_field(
    obj: &Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        Some(Value::String(s)) => Err(format!(
            "{key}: unknown value {s:?} (expected {})",
            allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(other) => Err(format!(
            "{key}: expected a string, found {}",
            json_type(other)
        )),
    }
}

fn subjects_value(file: &str, key: &str, v: &Value) -> Result<Vec<AuthorizedSubject>, String> {
    let Value::Array(items) = v else {
        return Err(format!(
            "{key}: expected an array of subject objects, found {}",
            json_type(v)
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let Value::Object(o) = item else {
            return Err(format!(
                "{at}: expected an object like {{\"CN\": \"redis_user\", \"OU\": [\"Ops\"]}}, found {}",
                json_type(item)
            ));
        };
        let mut entry = AuthorizedSubject::with_cn(format!("{file} {at}"), "");
        for (k, val) in o {
            if !RULE_ATTRIBUTES.contains(&k.as_str()) {
                return Err(format!(
                    "{at}: unknown attribute {k:?} (expected CN, O, OU, L, ST, C)"
                ));
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
                            x.as_str().map(str::to_string).ok_or_else(|| {
                                format!("{at}.OU[{j}]: expected a string, found {}", json_type(x))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(format!(
                            "{at}.OU: expected an array of strings, found {}",
                            json_type(other)
                        ))
                    }
                };
                entry
                    .ou
                    .extend(values.into_iter().filter(|s| !s.is_empty()));
                continue;
            }
            let Value::String(s) = val else {
                return Err(format!(
                    "{at}.{k}: expected a string, found {}",
                    json_type(val)
                ));
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
            return Err(format!("{at}: CN is required"));
        }
        out.push(entry);
    }
    Ok(out)
}

fn client_certs_value(file: &str, v: &Value) -> Result<Vec<ConfigCert>, String> {
    let key = "authentication_ssl_client_certs";
    let Value::Array(items) = v else {
        return Err(format!(
            "{key}: expected an array of {{\"client_cert\": \"<PEM>\"}} objects, found {}",
            json_type(v)
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let pem_text = match item {
            Value::Object(o) => match o.get("client_cert") {
                Some(Value::String(s)) => s,
                Some(other) => {
                    return Err(format!(
                        "{at}.client_cert: expected a PEM string, found {}",
                        json_type(other)
                    ))
                }
                None => return Err(format!("{at}: no \"client_cert\" field")),
            },
            other => {
                return Err(format!(
                    "{at}: expected an object {{\"client_cert\": \"<PEM>\"}}, found {}",
                    json_type(other)
                ))
            }
        };
        let label = format!("{file} {at}");
        let parsed = pem::parse_bytes(&at, pem_text.as_bytes())
            .map_err(|e| format!("{at}.client_cert: {}", e.message))?;
        if let Some(e) = parsed.errors.first() {
            return Err(format!("{at}.client_cert: {}", e.message));
        }
        if parsed.certs.is_empty() {
            return Err(format!("{at}.client_cert: holds no certificate"));
        }
        for c in parsed.certs {
            if let Some(e) = pem::parse_cert_error(&c.der) {
                return Err(format!("{at}.client_cert: PEM block {}: {e}", c.block));
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
}
