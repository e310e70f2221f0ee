//! One certificate described: the JSON certificate object every subcommand prints.
//!
//! `describe` is a pure function of the DER bytes and the evaluation time.

use serde::Serialize;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::clock::{days_until, rfc3339, UnixSeconds};

/// A certificate as tlsprobe reports it (the `certificates[]` / `chain[]` JSON object).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CertInfo {
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub subject_attributes: Vec<Attribute>,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub sans: Sans,
    pub is_ca: bool,
    pub path_len: Option<u32>,
    pub self_signed: bool,
    pub role: Role,
    pub key: KeyInfo,
    pub signature_algorithm: String,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub sha256: String,
    pub issued_by: Option<usize>,
    /// Facts the analyses need that are not printed.
    #[serde(skip)]
    pub raw: RawFacts,
}

/// Facts kept for analysis, not printed.
#[derive(Debug, Clone, Default)]
pub struct RawFacts {
    pub subject_der: Vec<u8>,
    pub issuer_der: Vec<u8>,
    pub spki_der: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub aki: Option<Vec<u8>>,
    pub not_before: UnixSeconds,
    pub not_after: UnixSeconds,
    pub has_basic_constraints: bool,
    pub key_cert_sign: bool,
    pub has_eku: bool,
    pub sha1_or_md5: bool,
    /// The signature's hash, when it is one that no longer resists collisions.
    pub weak_hash: Option<WeakHash>,
}

/// A broken signature hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakHash {
    Md5,
    Sha1,
}

/// The weak hash of a signature algorithm, by OID.
fn weak_hash(oid: &str) -> Option<WeakHash> {
    match oid {
        // md2WithRSAEncryption, md5WithRSAEncryption
        "1.2.840.113549.1.1.2" | "1.2.840.113549.1.1.4" => Some(WeakHash::Md5),
        // sha1WithRSAEncryption (and the OIW alias), ecdsa-with-SHA1, dsa-with-sha1
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" | "1.2.840.10045.4.1" | "1.2.840.10040.4.3" => {
            Some(WeakHash::Sha1)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Attribute {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Sans {
    pub dns: Vec<String>,
    pub ip: Vec<String>,
    pub email: Vec<String>,
    pub uri: Vec<String>,
}

impl Sans {
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ip.is_empty() && self.email.is_empty() && self.uri.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Root,
    Intermediate,
    Leaf,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::Intermediate => "intermediate",
            Role::Leaf => "leaf",
        }
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct KeyInfo {
    pub algorithm: String,
    pub bits: Option<u32>,
    pub curve: Option<String>,
}

impl KeyInfo {
    /// Weaker than the minimums (RSA bits, EC bits); other algorithms are not judged.
    pub fn is_weak(&self, min_rsa_bits: u32, min_ec_bits: u32) -> bool {
        match (self.algorithm.as_str(), self.bits) {
            ("RSA", Some(b)) => b < min_rsa_bits,
            ("EC", Some(b)) => b < min_ec_bits,
            _ => false,
        }
    }

    /// `RSA 2048`, `EC P-256 (256 bits)`.
    pub fn summary(&self) -> String {
        match (&self.curve, self.bits) {
            (Some(c), _) => format!("{} {}", self.algorithm, c),
            (None, Some(b)) => format!("{} {}", self.algorithm, b),
            (None, None) => self.algorithm.clone(),
        }
    }
}

/// Why [`describe`] gave no description: the parser's error on the DER bytes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not valid DER: {0}")]
pub struct DescribeError(pub x509_parser::nom::Err<X509Error>);

/// Describes the certificate `der` (already checked to parse) at position `index`.
pub fn describe(index: usize, der: &[u8], now: UnixSeconds) -> Result<CertInfo, DescribeError> {
    let (_, cert) = parse_x509_certificate(der).map_err(DescribeError)?;
    let tbs = &cert.tbs_certificate;

    let subject_attributes = name_attributes(tbs.subject());
    let not_before = tbs.validity().not_before.timestamp();
    let not_after = tbs.validity().not_after.timestamp();

    let bc = cert
        .basic_constraints()
        .ok()
        .flatten()
        .map(|e| e.value.clone());
    let is_ca = bc.as_ref().is_some_and(|b| b.ca);
    let path_len = bc.as_ref().and_then(|b| b.path_len_constraint);

    let ku = cert.key_usage().ok().flatten().map(|e| *e.value);
    let key_usage = ku.map(key_usage_names).unwrap_or_default();
    let eku = cert
        .extended_key_usage()
        .ok()
        .flatten()
        .map(|e| e.value.clone());
    let extended_key_usage = eku.as_ref().map(eku_names).unwrap_or_default();

    let mut ski = None;
    let mut aki = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => {}
        }
    }

    let subject_der = tbs.subject().as_raw().to_vec();
    let issuer_der = tbs.issuer().as_raw().to_vec();
    let self_issued = subject_der == issuer_der
        && match (&aki, &ski) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        };
    let key_cert_sign = ku.is_some_and(|k| k.key_cert_sign());
    let role = if (is_ca || (bc.is_none() && key_cert_sign)) && self_issued {
        Role::Root
    } else if is_ca || (bc.is_none() && key_cert_sign) {
        Role::Intermediate
    } else {
        Role::Leaf
    };
    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature_algorithm = signature_name(sig_oid);
    let weak_hash = weak_hash(&sig_oid.to_id_string());
    let sha1_or_md5 = weak_hash.is_some();

    Ok(CertInfo {
        index,
        subject: display_attributes(&subject_attributes),
        issuer: display_name(tbs.issuer()),
        subject_attributes,
        serial: hex_colon(cert.raw_serial()),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        days_left: days_until(not_after, now),
        sans: sans(&cert),
        is_ca,
        path_len,
        self_signed: self_issued,
        role,
        key: key_info(tbs.public_key()),
        signature_algorithm,
        key_usage,
        extended_key_usage,
        sha256: sha256_hex(der),
        issued_by: None,
        raw: RawFacts {
            subject_der,
            issuer_der,
            spki_der: tbs.public_key().raw.to_vec(),
            ski,
            aki,
            not_before,
            not_after,
            has_basic_constraints: bc.is_some(),
            key_cert_sign,
            has_eku: eku.is_some(),
            sha1_or_md5,
            weak_hash,
        },
    })
}

/// The SHA-256 fingerprint as lowercase hex pairs joined by `:`.
pub fn sha256_hex(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    hex_colon(digest.as_ref())
}

fn hex_colon(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

/// The attribute name tlsprobe uses for a DN attribute OID (`CN`, `OU`, ... or the dotted OID).
pub fn attribute_name(oid: &x509_parser::der_parser::oid::Oid) -> String {
    use x509_parser::oid_registry as r;
    let known = [
        (&r::OID_X509_COMMON_NAME, "CN"),
        (&r::OID_X509_COUNTRY_NAME, "C"),
        (&r::OID_X509_LOCALITY_NAME, "L"),
        (&r::OID_X509_STATE_OR_PROVINCE_NAME, "ST"),
        (&r::OID_X509_STREET_ADDRESS, "STREET"),
        (&r::OID_X509_ORGANIZATION_NAME, "O"),
        (&r::OID_X509_ORGANIZATIONAL_UNIT, "OU"),
        (&r::OID_X509_SERIALNUMBER, "serialNumber"),
        (&r::OID_DOMAIN_COMPONENT, "DC"),
        (&r::OID_PKCS9_EMAIL_ADDRESS, "emailAddress"),
    ];
    match known.iter().find(|(k, _)| *k == oid) {
        Some((_, n)) => n.to_string(),
        None if oid.to_id_string() == "0.9.2342.19200300.100.1.1" => "UID".into(),
        None => oid.to_id_string(),
    }
}

/// Subject attributes in certificate order, multi-valued RDNs flattened in order.
pub fn name_attributes(name: &X509Name<'_>) -> Vec<Attribute> {
    name.iter_rdn()
        .flat_map(|rdn| rdn.iter())
        .map(|atv| Attribute {
            kind: attribute_name(atv.attr_type()),
            value: attr_value(atv),
        })
        .collect()
}

fn attr_value(atv: &AttributeTypeAndValue<'_>) -> String {
    match atv.as_str() {
        Ok(s) => s.to_string(),
        Err(_) => {
            let data = atv.attr_value().data;
            String::from_utf8(data.to_vec())
                .unwrap_or_else(|_| format!("#{}", hex_colon(data).replace(':', "")))
        }
    }
}

/// A readable one-line name: `CN=redis_user, O=Acme, OU=Ops, OU=Dev` in certificate order.
pub fn display_name(name: &X509Name<'_>) -> String {
    display_attributes(&name_attributes(name))
}

/// Joins attributes as `CN=redis_user, O=Acme`.
pub fn display_attributes(attrs: &[Attribute]) -> String {
    if attrs.is_empty() {
        return "(empty)".into();
    }
    attrs
        .iter()
        .map(|a| format!("{}={}", a.kind, a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A readable DN from DER, with or without its outer SEQUENCE (as webpki stores anchors).
pub fn dn_display(der: &[u8]) -> String {
    let wrapped;
    let bytes = if der.first() == Some(&0x31) || der.is_empty() {
        wrapped = wrap_sequence(der);
        &wrapped[..]
    } else {
        der
    };
    match x509_parser::x509::X509Name::from_der(bytes) {
        Ok((_, name)) => display_name(&name),
        Err(_) => "(unparseable name)".into(),
    }
}

fn wrap_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n <= 0xff {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn sans(cert: &X509Certificate<'_>) -> Sans {
    let mut out = Sans::default();
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return out;
    };
    for gn in &san.value.general_names {
        match gn {
            GeneralName::DNSName(d) => out.dns.push(d.to_string()),
            GeneralName::RFC822Name(e) => out.email.push(e.to_string()),
            GeneralName::URI(u) => out.uri.push(u.to_string()),
            GeneralName::IPAddress(ip) => out.ip.push(ip_string(ip)),
            _ => {}
        }
    }
    out
}

fn ip_string(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => format!("#{}", hex_colon(b).replace(':', "")),
    }
}

fn key_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
    let alg_oid = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => KeyInfo {
            algorithm: "RSA".into(),
            bits: Some(rsa_bits(rsa.modulus)),
            curve: None,
        },
        Ok(PublicKey::EC(point)) => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let (curve, bits) = match curve_oid.as_deref() {
                Some("1.2.840.10045.3.1.7") => (Some("P-256".to_string()), Some(256)),
                Some("1.3.132.0.34") => (Some("P-384".to_string()), Some(384)),
                Some("1.3.132.0.35") => (Some("P-521".to_string()), Some(521)),
                Some(other) => (Some(other.to_string()), Some(point.key_size() as u32)),
                None => (None, Some(point.key_size() as u32)),
            };
            KeyInfo {
                algorithm: "EC".into(),
                bits,
                curve,
            }
        }
        _ => match alg_oid.as_str() {
            "1.3.101.112" => KeyInfo {
                algorithm: "Ed25519".into(),
                bits: Some(256),
                curve: None,
            },
            "1.3.101.113" => KeyInfo {
                algorithm: "Ed448".into(),
                bits: Some(456),
                curve: None,
            },
            "1.2.840.10040.4.1" => KeyInfo {
                algorithm: "DSA".into(),
                bits: None,
                curve: None,
            },
            other => KeyInfo {
                algorithm: other.to_string(),
                bits: None,
                curve: None,
            },
        },
    }
}

fn rsa_bits(modulus: &[u8]) -> u32 {
    let m: &[u8] = {
        let mut m = modulus;
        while let [0, rest @ ..] = m {
            m = rest;
        }
        m
    };
    match m.first() {
        None => 0,
        Some(first) => (m.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

fn signature_name(oid: &x509_parser::der_parser::oid::Oid) -> String {
    let id = oid.to_id_string();
    match id.as_str() {
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.14.3.2.29" => "sha1WithRSAEncryption",
        _ => return id,
    }
    .to_string()
}

fn key_usage_names(ku: x509_parser::extensions::KeyUsage) -> Vec<String> {
    let all = [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ];
    all.iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n.to_string())
        .collect()
}

fn eku_names(eku: &ExtendedKeyUsage<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let known = [
        (eku.any, "any"),
        (eku.server_auth, "serverAuth"),
        (eku.client_auth, "clientAuth"),
        (eku.code_signing, "codeSigning"),
        (eku.email_protection, "emailProtection"),
        (eku.time_stamping, "timeStamping"),
        (eku.ocsp_signing, "OCSPSigning"),
    ];
    out.extend(
        known
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, n)| n.to_string()),
    );
    out.extend(eku.other.iter().map(|o| o.to_id_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::rsa_bits;

    #[test]
    fn rsa_bit_counts() {
        let mut m = vec![0u8];
        m.extend(std::iter::repeat_n(0xffu8, 256));
        assert_eq!(rsa_bits(&m), 2048);
        assert_eq!(rsa_bits(&[0x01, 0x00]), 9);
        assert_eq!(rsa_bits(&[]), 0);
    }
}

#[cfg(test)]
mod error_tests {
    use super::{describe, DescribeError};

    #[test]
    fn describe_error_displays_todays_line() {
        let e = describe(0, &[0x30, 0x03, 0x02, 0x01, 0x00], 0).unwrap_err();
        assert!(matches!(e, DescribeError(x509_parser::nom::Err::Error(_))));
        assert_eq!(e.to_string(), format!("not valid DER: {}", e.0));
        assert!(
            e.to_string().starts_with("not valid DER: Parsing Error: "),
            "{e}"
        );
    }
}
