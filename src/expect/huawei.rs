//! Huawei Cloud SSL bodies: DCS (`PUT /v2/{project_id}/instances/{instance_id}/ssl
//! {"enabled": bool}`, Redis) and RDS (`PUT /v3/{project_id}/instances/{instance_id}/ssl
//! {"ssl_option": bool}`, MySQL or PostgreSQL). Only that one field is read.

use serde_json::{Map, Value};

use super::{bool_field, Expect, ExpectError, Expectations, Plaintext, TlsExpect};
use crate::target::Scheme;

/// `{"enabled": bool}`: DCS for Redis.
pub(crate) fn read_dcs(obj: &Map<String, Value>) -> Result<Expectations, ExpectError> {
    read(obj, "enabled", "Huawei DCS SSL", Some(Scheme::Rediss))
}

/// `{"ssl_option": bool}`: RDS; the body does not say the engine, so the target does.
pub(crate) fn read_rds(obj: &Map<String, Value>) -> Result<Expectations, ExpectError> {
    read(obj, "ssl_option", "Huawei RDS SSL", None)
}

fn read(
    obj: &Map<String, Value>,
    key: &'static str,
    format: &'static str,
    protocol: Option<Scheme>,
) -> Result<Expectations, ExpectError> {
    let on = bool_field(obj, key)?.ok_or(ExpectError::Missing { field: key, format })?;
    Ok(Expectations {
        plaintext: on.value.then(|| Expect {
            value: Plaintext::Refused,
            field: on.field.clone(),
        }),
        tls: Some(Expect {
            value: if on.value {
                TlsExpect::On
            } else {
                TlsExpect::Off
            },
            field: on.field,
        }),
        protocol,
        ..Expectations::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::domain::ExpectFormat;
    use crate::expect::{parse, TlsExpect};

    #[test]
    fn bodies() {
        let ex = parse("d", br#"{"enabled": false}"#, None).unwrap();
        assert_eq!(ex.format, Some(ExpectFormat::Dcs));
        assert_eq!(ex.tls.unwrap().field, "enabled: false");
        let ex = parse("r", br#"{"ssl_option": true}"#, None).unwrap();
        assert_eq!(ex.tls.unwrap().value, TlsExpect::On);
        assert!(ex.protocol.is_none());
        let e = parse("r", br#"{"ssl_option": "true"}"#, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ssl_option: expected true or false, found a string"
        );
        let e = parse("r", br#"{"x": 1}"#, Some(ExpectFormat::Rds)).unwrap_err();
        assert!(e.to_string().contains("`ssl_option`"), "{e}");
    }
}
