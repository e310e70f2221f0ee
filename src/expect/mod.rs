//! `--expect FILE`: what a provider's API object says the endpoint now is, as typed
//! [`Expectations`] that `verify` checks as steps of their own (see [`run`]).
//!
//! The object is detected by its fields (or named by `--expect-format`), then read by the
//! provider's file: [`upstash`] (Database object), [`redis_enterprise`] (BDB object),
//! [`huawei`] (DCS `{"enabled"}` and RDS `{"ssl_option"}` SSL bodies) and [`own`]
//! (tlsprobe's own JSON or TOML). Only the fields listed in each file are read: a password
//! or token in the object is never read, printed or stored, and no error quotes the text.
//! Unknown fields are ignored (the objects carry dozens); a known field of the wrong shape
//! is an input error naming it.

pub(crate) mod huawei;
pub(crate) mod own;
pub(crate) mod plain;
pub(crate) mod redis_enterprise;
pub(crate) mod run;
pub(crate) mod upstash;

use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::domain::{ExpectFormat, TlsVersion};
use crate::error::InputError;
use crate::mtls::config::ConfigSettings;
use crate::target::Scheme;

/// The largest `--expect` object read.
const MAX_OBJECT_BYTES: u64 = 4 * 1024 * 1024;

/// Why an `--expect` object cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExpectError {
    #[error("not valid JSON or TOML: {0}")]
    Syntax(String),
    #[error("is {0}; expected one JSON object")]
    NotObject(&'static str),
    #[error("{field}: expected {expected}, found {found}")]
    Shape {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{field}: {why}")]
    Value { field: String, why: String },
    #[error("no field tlsprobe recognises: expected `tls` (Upstash), `tls_mode` (Redis Enterprise BDB), `enabled` (Huawei DCS), `ssl_option` (Huawei RDS), or tlsprobe's own `tls` / `client_auth` / `plaintext`; name the kind with --expect-format")]
    Unrecognised,
    #[error(
        "both `{0}` and `{1}` are present: the object is not one provider's (use --expect-format)"
    )]
    Contradictory(&'static str, &'static str),
    #[error("has no `{field}`, which a {format} object always has")]
    Missing {
        field: &'static str,
        format: &'static str,
    },
}

/// One expectation and the object field it came from, quoted in step messages
/// (e.g. `securityAddons.tlsMutualAuth: true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expect<T> {
    pub value: T,
    pub field: String,
}

/// What the object says about TLS for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsExpect {
    On,
    Off,
    /// Redis Enterprise `replica_ssl`: TLS between databases only; clients on plaintext.
    ReplicaOnly,
}

impl TlsExpect {
    /// Whether clients are expected to speak TLS.
    pub fn for_clients(self) -> bool {
        self == TlsExpect::On
    }
}

/// Client certificates, as the object requires them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// A connection without one must be refused.
    Required,
    /// Asked for but not required: a connection without one must be accepted.
    Optional,
    /// Not asked for: a connection without one must be accepted.
    None,
}

/// Plaintext on the TLS port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plaintext {
    Refused,
    Allowed,
}

/// Where the object says the endpoint is: any of `hosts` (DNS names as given, compared
/// case-insensitively), on `port` when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub hosts: Vec<String>,
    pub port: Option<u16>,
    pub field: String,
}

/// Everything one object says, typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expectations {
    /// The file as named in messages (`-` is `stdin`).
    pub source: String,
    pub format: Option<ExpectFormat>,
    pub tls: Option<Expect<TlsExpect>>,
    pub client_auth: Option<Expect<ClientAuth>>,
    pub plaintext: Option<Expect<Plaintext>>,
    pub min_tls_version: Option<Expect<TlsVersion>>,
    pub endpoint: Option<Endpoint>,
    /// Upstash `state`: `active` expected.
    pub state: Option<Expect<String>>,
    /// The protocol the provider speaks, when the object implies one.
    pub protocol: Option<Scheme>,
    /// Redis Enterprise client-certificate settings (`client-policy`), when present.
    pub mtls: Option<ConfigSettings>,
}

/// Reads `--expect` (`-`: stdin) and derives the expectations.
pub(crate) fn load(path: &Path, format: Option<ExpectFormat>) -> Result<Expectations, InputError> {
    let (name, bytes) = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_OBJECT_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| InputError::new("--expect -", format!("cannot read stdin: {e}")))?;
        if buf.len() as u64 > MAX_OBJECT_BYTES {
            return Err(InputError::new(
                "--expect -",
                format!("stdin holds more than {MAX_OBJECT_BYTES} bytes"),
            ));
        }
        ("stdin".to_string(), buf)
    } else {
        let name = path.display().to_string();
        let bytes = crate::files::read_bounded(
            path,
            MAX_OBJECT_BYTES,
            &format!("--expect {name}"),
            "an API object",
        )?;
        (name, bytes)
    };
    parse(&name, &bytes, format)
        .map_err(|e| InputError::new(format!("--expect {name}"), e.to_string()))
}

/// Parses object text named `name` (pure: no I/O).
pub(crate) fn parse(
    name: &str,
    bytes: &[u8],
    format: Option<ExpectFormat>,
) -> Result<Expectations, ExpectError> {
    let value = to_value(bytes)?;
    let obj = match &value {
        Value::Object(o) => o,
        other => return Err(ExpectError::NotObject(json_type(other))),
    };
    let format = match format {
        Some(f) => f,
        None => detect(obj)?,
    };
    let mut ex = match format {
        ExpectFormat::Upstash => upstash::read(obj)?,
        ExpectFormat::RedisEnterprise => redis_enterprise::read(name, bytes, obj)?,
        ExpectFormat::Dcs => huawei::read_dcs(obj)?,
        ExpectFormat::Rds => huawei::read_rds(obj)?,
        ExpectFormat::Tlsprobe => own::read(obj)?,
    };
    ex.source = name.to_string();
    ex.format = Some(format);
    Ok(ex)
}

/// JSON, or else TOML (tlsprobe's own files). Errors give the position, never the text:
/// the object may hold a password.
fn to_value(bytes: &[u8]) -> Result<Value, ExpectError> {
    let json_err = match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let text =
        std::str::from_utf8(bytes).map_err(|_| ExpectError::Syntax("not UTF-8 text".into()))?;
    let looks_json = text.trim_start().starts_with(['{', '[']);
    match toml::from_str::<toml::Table>(text) {
        Ok(t) if !looks_json => {
            serde_json::to_value(t).map_err(|e| ExpectError::Syntax(e.to_string()))
        }
        _ if looks_json => Err(ExpectError::Syntax(format!(
            "JSON syntax error at line {} column {} ({})",
            json_err.line(),
            json_err.column(),
            json_category(&json_err)
        ))),
        Err(e) => {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
                .unwrap_or(0);
            Err(ExpectError::Syntax(format!(
                "neither JSON (line {} column {}) nor TOML (line {line}: {})",
                json_err.line(),
                json_err.column(),
                e.message()
            )))
        }
        Ok(_) => unreachable!("handled above"),
    }
}

fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end of input",
        serde_json::error::Category::Syntax => "malformed",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Io => "read error",
    }
}

/// Which provider's object this is, by the fields only that provider has.
pub(crate) fn detect(obj: &Map<String, Value>) -> Result<ExpectFormat, ExpectError> {
    let has = |k: &str| obj.contains_key(k);
    if has("enabled") && has("ssl_option") {
        return Err(ExpectError::Contradictory("enabled", "ssl_option"));
    }
    let upstash = has("database_id")
        || has("securityAddons")
        || (has("tls") && has("endpoint") && has("state"));
    let re = has("tls_mode")
        || has("enforce_client_authentication")
        || has("authentication_ssl_client_certs");
    let own = has("client_auth") || has("plaintext") || has("min_tls_version");
    let found: Vec<(ExpectFormat, &'static str)> = [
        (upstash, ExpectFormat::Upstash, "tls"),
        (re, ExpectFormat::RedisEnterprise, "tls_mode"),
        (has("enabled"), ExpectFormat::Dcs, "enabled"),
        (has("ssl_option"), ExpectFormat::Rds, "ssl_option"),
        (own, ExpectFormat::Tlsprobe, "client_auth"),
    ]
    .into_iter()
    .filter(|(hit, _, _)| *hit)
    .map(|(_, f, k)| (f, k))
    .collect();
    match found.as_slice() {
        [] if has("tls") => Ok(ExpectFormat::Tlsprobe),
        [] => Err(ExpectError::Unrecognised),
        [(f, _)] => Ok(*f),
        [(_, a), (_, b), ..] => Err(ExpectError::Contradictory(a, b)),
    }
}

/// The value at a dotted path (`securityAddons.tlsMutualAuth`); `null` counts as absent.
fn lookup<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = obj.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    (!v.is_null()).then_some(v)
}

/// A typed field, read with serde; a wrong shape names the field.
pub(crate) fn field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    path: &str,
    expected: &'static str,
) -> Result<Option<T>, ExpectError> {
    match lookup(obj, path) {
        None => Ok(None),
        Some(v) => T::deserialize(v).map(Some).map_err(|_| ExpectError::Shape {
            field: path.to_string(),
            expected,
            found: json_type(v),
        }),
    }
}

/// A boolean field, quoted as `field: value` for messages.
pub(crate) fn bool_field(
    obj: &Map<String, Value>,
    path: &str,
) -> Result<Option<Expect<bool>>, ExpectError> {
    Ok(field::<bool>(obj, path, "true or false")?.map(|b| Expect {
        value: b,
        field: format!("{path}: {b}"),
    }))
}

/// A port field: an integer 1-65535.
pub(crate) fn port_field(obj: &Map<String, Value>, path: &str) -> Result<Option<u16>, ExpectError> {
    match field::<u64>(obj, path, "a port number")? {
        None => Ok(None),
        Some(p) if (1..=65535).contains(&p) => Ok(Some(p as u16)),
        Some(p) => Err(ExpectError::Value {
            field: path.to_string(),
            why: format!("{p} is not a port number (1-65535)"),
        }),
    }
}

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn detection_by_fields() {
        let cases = [
            (r#"{"database_id":"x","tls":true}"#, ExpectFormat::Upstash),
            (
                r#"{"tls":true,"endpoint":"a","state":"active"}"#,
                ExpectFormat::Upstash,
            ),
            (
                r#"{"uid":1,"tls_mode":"enabled"}"#,
                ExpectFormat::RedisEnterprise,
            ),
            (r#"{"enabled":false}"#, ExpectFormat::Dcs),
            (r#"{"ssl_option":true}"#, ExpectFormat::Rds),
            (
                r#"{"tls":true,"client_auth":"none"}"#,
                ExpectFormat::Tlsprobe,
            ),
            (r#"{"tls":false}"#, ExpectFormat::Tlsprobe),
        ];
        for (text, want) in cases {
            assert_eq!(detect(&obj(text)).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn unknown_and_contradictory_objects() {
        assert_eq!(
            detect(&obj(r#"{"job_id":"1"}"#)),
            Err(ExpectError::Unrecognised)
        );
        assert_eq!(
            detect(&obj(r#"{"enabled":true,"ssl_option":true}"#)),
            Err(ExpectError::Contradictory("enabled", "ssl_option"))
        );
        assert!(matches!(
            detect(&obj(r#"{"tls_mode":"enabled","ssl_option":true}"#)),
            Err(ExpectError::Contradictory(..))
        ));
        assert!(matches!(
            parse("x", b"[1]", None),
            Err(ExpectError::NotObject("an array"))
        ));
    }

    #[test]
    fn wrong_shape_names_the_field() {
        let e = parse(
            "x",
            br#"{"tls":"yes","endpoint":"a","state":"active"}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "tls: expected true or false, found a string");
        let e = parse("x", br#"{"enabled":1}"#, None).unwrap_err();
        assert!(e.to_string().starts_with("enabled: "), "{e}");
    }

    #[test]
    fn syntax_errors_never_quote_the_text() {
        let e = parse("x", br#"{"password":"hunter2-canary" "tls":true}"#, None).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = parse("x", b"password = \"hunter2-canary\"\ntls = ", None).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn toml_is_read_for_tlsprobe_files() {
        let ex = parse("x.toml", b"tls = true\nclient_auth = \"required\"\n", None).unwrap();
        assert_eq!(ex.format, Some(ExpectFormat::Tlsprobe));
        assert_eq!(ex.client_auth.unwrap().value, ClientAuth::Required);
    }

    #[test]
    fn dotted_lookup() {
        let o = obj(r#"{"a":{"b":true},"n":null}"#);
        assert_eq!(bool_field(&o, "a.b").unwrap().unwrap().field, "a.b: true");
        assert_eq!(bool_field(&o, "n").unwrap(), None);
        assert_eq!(bool_field(&o, "a.c").unwrap(), None);
    }
}
