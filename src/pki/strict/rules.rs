//! Certificate rules of [`super::RULES`] on extensions, key identifiers, CA flags, serial
//! numbers, keys, signatures and dates: one judgement function each, named after its
//! rule id and documented with the section it comes from.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, KeyUsage, ParsedExtension, X509Extension};
use x509_parser::public_key::PublicKey;
use x509_parser::x509::X509Version;

use super::CertCtx;

pub(super) const AKI: &str = "2.5.29.35";
pub(super) const SKI: &str = "2.5.29.14";
pub(super) const KU: &str = "2.5.29.15";
pub(super) const SAN: &str = "2.5.29.17";
pub(super) const BC: &str = "2.5.29.19";
pub(super) const NC: &str = "2.5.29.30";
pub(super) const PC: &str = "2.5.29.36";
pub(super) const EKU: &str = "2.5.29.37";
pub(super) const AIA: &str = "1.3.6.1.5.5.7.1.1";

/// Extensions an RFC 5280 path validator is expected to understand (4.2.1, 4.2.2), plus
/// the Certificate Transparency SCT list (RFC 6962) and the TLS feature (RFC 7633).
const KNOWN: &[&str] = &[
    AKI,
    SKI,
    KU,
    "2.5.29.16", // privateKeyUsagePeriod
    "2.5.29.32", // certificatePolicies
    "2.5.29.33", // policyMappings
    SAN,
    "2.5.29.18", // issuerAltName
    "2.5.29.9",  // subjectDirectoryAttributes
    BC,
    NC,
    PC,
    EKU,
    "2.5.29.31", // cRLDistributionPoints
    "2.5.29.54", // inhibitAnyPolicy
    "2.5.29.46", // freshestCRL
    AIA,
    "1.3.6.1.5.5.7.1.11",      // subjectInfoAccess
    "1.3.6.1.4.1.11129.2.4.2", // CT SCT list
    "1.3.6.1.5.5.7.1.24",      // TLS feature
];

/// The extension with this dotted OID (the first one).
pub(super) fn ext<'a, 'b>(
    cert: &'b X509Certificate<'a>,
    oid: &str,
) -> Option<&'b X509Extension<'a>> {
    cert.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)
}

fn critical(cert: &X509Certificate<'_>, oid: &str, name: &str, section: &str) -> Option<String> {
    ext(cert, oid)
        .filter(|e| e.critical)
        .map(|_| format!("{name} is marked critical ({section}: it MUST NOT be)"))
}

/// basicConstraints says cA=TRUE.
pub(super) fn is_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(
        ext(cert, BC).map(|e| e.parsed_extension()),
        Some(ParsedExtension::BasicConstraints(bc)) if bc.ca
    )
}

/// The keyUsage extension, when present and readable.
pub(super) fn key_usage<'b>(cert: &'b X509Certificate<'_>) -> Option<&'b KeyUsage> {
    match ext(cert, KU)?.parsed_extension() {
        ParsedExtension::KeyUsage(k) => Some(k),
        _ => None,
    }
}

/// RFC 5280 4.2.1.1: conforming CAs MUST mark the authority key identifier non-critical.
pub(super) fn aki_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    critical(c.cert, AKI, "authorityKeyIdentifier", "RFC 5280 4.2.1.1")
}

/// RFC 5280 4.2.1.2: conforming CAs MUST mark the subject key identifier non-critical.
pub(super) fn ski_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    critical(c.cert, SKI, "subjectKeyIdentifier", "RFC 5280 4.2.1.2")
}

/// RFC 5280 4.2.1.9: a CA certificate MUST carry basicConstraints with cA=TRUE.
pub(super) fn ca_basic_constraints_missing(c: &CertCtx<'_, '_>) -> Option<String> {
    match ext(c.cert, BC) {
        None => Some("issues certificates but has no basicConstraints extension".into()),
        Some(_) if !is_ca(c.cert) => {
            Some("issues certificates but basicConstraints says cA=FALSE".into())
        }
        Some(_) => None,
    }
}

/// RFC 5280 4.2.1.9: in CA certificates basicConstraints MUST be marked critical.
pub(super) fn ca_basic_constraints_not_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, BC)
        .filter(|e| !e.critical && is_ca(c.cert))
        .map(|_| "a CA whose basicConstraints is not critical (it MUST be)".into())
}

/// RFC 5280 4.2.1.10: conforming CAs MUST mark nameConstraints critical.
pub(super) fn name_constraints_not_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, NC)
        .filter(|e| !e.critical)
        .map(|_| "nameConstraints is not critical (it MUST be)".into())
}

/// RFC 5280 4.2.1.11: conforming CAs MUST mark policyConstraints critical.
pub(super) fn policy_constraints_not_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, PC)
        .filter(|e| !e.critical)
        .map(|_| "policyConstraints is not critical (it MUST be)".into())
}

/// RFC 5280 4.1.2.6 and 4.2.1.6: with an empty subject, the identity is in subjectAltName,
/// which MUST then be present and critical.
pub(super) fn san_not_critical_empty_subject(c: &CertCtx<'_, '_>) -> Option<String> {
    if c.cert.subject().iter().next().is_some() {
        return None;
    }
    match ext(c.cert, SAN) {
        None => Some("the subject is empty and there is no subjectAltName".into()),
        Some(e) if !e.critical => {
            Some("the subject is empty but subjectAltName is not critical (it MUST be)".into())
        }
        Some(_) => None,
    }
}

/// CA/B Forum BR 7.1.2.7.12 (and RFC 5280 4.2.1.6, SHOULD NOT): a subscriber certificate
/// with a non-empty subject MUST NOT mark subjectAltName critical.
pub(super) fn san_critical_with_subject(c: &CertCtx<'_, '_>) -> Option<String> {
    let has_subject = c.cert.subject().iter().next().is_some();
    ext(c.cert, SAN)
        .filter(|e| e.critical && has_subject)
        .map(|_| "subjectAltName is critical although the subject is not empty".into())
}

/// CA/B Forum BR 7.1.2.7.6: extKeyUsage in a subscriber certificate MUST NOT be critical.
pub(super) fn eku_critical(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, EKU)
        .filter(|e| e.critical)
        .map(|_| "extKeyUsage is critical in a leaf (BR: it MUST NOT be)".into())
}

/// RFC 5280 4.2: a certificate-using system MUST reject a certificate with a critical
/// extension it does not recognise; the trust anchor included.
pub(super) fn unknown_critical_extension(c: &CertCtx<'_, '_>) -> Option<String> {
    let unknown: Vec<String> = c
        .cert
        .extensions()
        .iter()
        .filter(|e| e.critical)
        .map(|e| e.oid.to_id_string())
        .filter(|oid| !KNOWN.contains(&oid.as_str()))
        .collect();
    (!unknown.is_empty()).then(|| {
        format!(
            "critical extension(s) outside RFC 5280: {}",
            unknown.join(", ")
        )
    })
}

/// RFC 5280 4.2.1.1: the keyIdentifier of authorityKeyIdentifier MUST be included in all
/// certificates (the exception is a CA's self-signed certificate, a trust anchor here).
pub(super) fn missing_aki(c: &CertCtx<'_, '_>) -> Option<String> {
    match ext(c.cert, AKI).map(|e| e.parsed_extension()) {
        None => Some("no authorityKeyIdentifier".into()),
        Some(ParsedExtension::AuthorityKeyIdentifier(a)) if a.key_identifier.is_none() => {
            Some("authorityKeyIdentifier without a keyIdentifier".into())
        }
        Some(_) => None,
    }
}

/// RFC 5280 4.2.1.2: subjectKeyIdentifier MUST appear in all conforming CA certificates.
pub(super) fn missing_ski(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, SKI)
        .is_none()
        .then(|| "a CA without subjectKeyIdentifier".into())
}

fn ski_bytes<'a>(cert: &X509Certificate<'a>) -> Option<&'a [u8]> {
    match ext(cert, SKI)?.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
        _ => None,
    }
}

/// RFC 5280 4.2.1.1 and CA/B Forum BR 7.1.2.1.3: a root's authorityKeyIdentifier, when
/// present, holds only a keyIdentifier, equal to its subjectKeyIdentifier.
pub(super) fn root_aki_mismatch(c: &CertCtx<'_, '_>) -> Option<String> {
    let e = ext(c.cert, AKI)?;
    let ParsedExtension::AuthorityKeyIdentifier(a) = e.parsed_extension() else {
        return Some("authorityKeyIdentifier cannot be parsed".into());
    };
    if a.authority_cert_issuer.is_some() || a.authority_cert_serial.is_some() {
        return Some("a root's authorityKeyIdentifier names an issuer and serial (only a keyIdentifier is allowed)".into());
    }
    let Some(kid) = &a.key_identifier else {
        return Some("a root's authorityKeyIdentifier has no keyIdentifier".into());
    };
    match ski_bytes(c.cert) {
        Some(ski) if ski == kid.0 => None,
        Some(_) => {
            Some("a root's authorityKeyIdentifier differs from its subjectKeyIdentifier".into())
        }
        None => Some("a root's authorityKeyIdentifier has no subjectKeyIdentifier to equal".into()),
    }
}

/// RFC 5280 4.2.1.3 and 4.2.1.9: if keyCertSign is asserted, the cA bit MUST be too.
pub(super) fn keycertsign_without_ca(c: &CertCtx<'_, '_>) -> Option<String> {
    (key_usage(c.cert).is_some_and(|k| k.key_cert_sign()) && !is_ca(c.cert))
        .then(|| "keyUsage keyCertSign without basicConstraints cA=TRUE".into())
}

/// RFC 5280 4.2.1.3: a key that verifies certificate signatures MUST have keyCertSign
/// (a CA without the keyUsage extension is fine).
pub(super) fn ca_key_usage_without_keycertsign(c: &CertCtx<'_, '_>) -> Option<String> {
    key_usage(c.cert)
        .filter(|k| !k.key_cert_sign())
        .map(|k| format!("a CA whose keyUsage ({k}) lacks keyCertSign"))
}

/// RFC 5280 4.2.1.3 and 4.2.1.9: an anchor's basicConstraints and keyUsage agree
/// (keyCertSign with cA=TRUE; cA=TRUE with keyCertSign when keyUsage is present).
pub(super) fn root_bc_ku_mismatch(c: &CertCtx<'_, '_>) -> Option<String> {
    let ca = is_ca(c.cert);
    match key_usage(c.cert) {
        Some(k) if k.key_cert_sign() && !ca => {
            Some("keyUsage has keyCertSign but basicConstraints is absent or cA=FALSE".into())
        }
        Some(k) if ca && !k.key_cert_sign() => Some(format!(
            "basicConstraints cA=TRUE but keyUsage ({k}) lacks keyCertSign"
        )),
        _ => None,
    }
}

/// CA/B Forum BR 7.1.2.1.2: a root CA certificate MUST NOT carry extKeyUsage.
pub(super) fn root_has_eku(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, EKU).map(|_| "a root carries extKeyUsage".into())
}

/// RFC 5280 4.1.2.6: a CA's subject MUST be a non-empty distinguished name.
pub(super) fn ca_empty_subject(c: &CertCtx<'_, '_>) -> Option<String> {
    c.cert
        .subject()
        .iter()
        .next()
        .is_none()
        .then(|| "a CA with an empty subject".into())
}

/// CA/B Forum BR 7.1.2.7.10: a subscriber certificate MUST carry extKeyUsage.
pub(super) fn leaf_missing_eku(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, EKU)
        .is_none()
        .then(|| "a server leaf without extKeyUsage".into())
}

/// CA/B Forum BR 7.1.2.7.10: anyExtendedKeyUsage MUST NOT be present in a subscriber
/// certificate.
pub(super) fn leaf_any_eku(c: &CertCtx<'_, '_>) -> Option<String> {
    match ext(c.cert, EKU)?.parsed_extension() {
        ParsedExtension::ExtendedKeyUsage(e) if e.any => {
            Some("extKeyUsage contains anyExtendedKeyUsage".into())
        }
        _ => None,
    }
}

/// RFC 5280 4.2.1.10: nameConstraints MUST be used only in a CA certificate.
pub(super) fn name_constraints_in_leaf(c: &CertCtx<'_, '_>) -> Option<String> {
    ext(c.cert, NC).map(|_| "an end-entity certificate carries nameConstraints".into())
}

/// RFC 5280 4.2.1.10: a dNSName constraint is a host name ("example.com" covers it and its
/// subdomains); the leading-period form belongs to URI and rfc822Name constraints.
pub(super) fn name_constraints_dns_leading_period(c: &CertCtx<'_, '_>) -> Option<String> {
    let ParsedExtension::NameConstraints(nc) = ext(c.cert, NC)?.parsed_extension() else {
        return None;
    };
    let bad: Vec<String> = [&nc.permitted_subtrees, &nc.excluded_subtrees]
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|t| match t.base {
            GeneralName::DNSName(d) if d.starts_with('.') => Some(format!("{d:?}")),
            _ => None,
        })
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "dNSName constraint(s) with a leading period: {}",
            bad.join(", ")
        )
    })
}

/// RFC 5280 4.2.1.10: CAs MUST NOT issue nameConstraints where both permittedSubtrees and
/// excludedSubtrees are absent (and each, when present, holds at least one subtree).
pub(super) fn name_constraints_empty(c: &CertCtx<'_, '_>) -> Option<String> {
    match ext(c.cert, NC)?.parsed_extension() {
        ParsedExtension::NameConstraints(nc) => {
            let empty = |t: &Option<Vec<_>>| t.as_ref().is_none_or(|v| v.is_empty());
            (empty(&nc.permitted_subtrees) && empty(&nc.excluded_subtrees))
                .then(|| "nameConstraints with neither permitted nor excluded subtrees".into())
        }
        // x509-parser refuses an empty subtree list (SIZE (1..MAX)).
        _ => Some("nameConstraints is malformed (an empty subtree list?)".into()),
    }
}

/// RFC 5280 4.1.2.2: the serial number MUST be a positive integer (non-zero).
pub(super) fn serial_not_positive(c: &CertCtx<'_, '_>) -> Option<String> {
    let s = c.cert.raw_serial();
    if s.iter().all(|b| *b == 0) {
        Some("the serial number is zero".into())
    } else if s[0] & 0x80 != 0 {
        Some("the serial number is negative".into())
    } else {
        None
    }
}

/// RFC 5280 4.1.2.2: conforming CAs MUST NOT use serial numbers longer than 20 octets.
pub(super) fn serial_too_long(c: &CertCtx<'_, '_>) -> Option<String> {
    let n = c.cert.raw_serial().len();
    (n > 20).then(|| format!("the serial number is {n} octets (at most 20)"))
}

const DSA: &str = "1.2.840.10040.4.1";
const RSA: &str = "1.2.840.113549.1.1.1";
const EC: &str = "1.2.840.10045.2.1";

/// The RSA modulus length in bits (leading zero bits not counted).
fn rsa_bits(cert: &X509Certificate<'_>) -> Option<usize> {
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != RSA {
        return None;
    }
    let Ok(PublicKey::RSA(k)) = spki.parsed() else {
        return None;
    };
    let m: &[u8] = k.modulus;
    let first = m.iter().position(|b| *b != 0)?;
    Some((m.len() - first) * 8 - m[first].leading_zeros() as usize)
}

/// CA/B Forum BR 6.1.5: only RSA and ECDSA keys (DSA is not allowed).
pub(super) fn dsa_key(c: &CertCtx<'_, '_>) -> Option<String> {
    (c.cert.public_key().algorithm.algorithm.to_id_string() == DSA).then(|| "a DSA key".into())
}

/// CA/B Forum BR 6.1.5: RSA moduli of at least 2048 bits; ECDSA on P-256, P-384 or P-521.
pub(super) fn weak_key(c: &CertCtx<'_, '_>) -> Option<String> {
    if let Some(bits) = rsa_bits(c.cert) {
        return (bits < 2048).then(|| format!("an RSA key of {bits} bits (minimum 2048)"));
    }
    let spki = c.cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != EC {
        return None;
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .unwrap_or_default();
    let name = match curve.as_str() {
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.132.0.33" => "P-224",
        _ => return None,
    };
    Some(format!(
        "an EC key on {name} (P-256, P-384 or P-521 required)"
    ))
}

/// CA/B Forum BR 6.1.5: the RSA modulus size in bits MUST be evenly divisible by 8.
pub(super) fn rsa_modulus_not_multiple_of_8(c: &CertCtx<'_, '_>) -> Option<String> {
    let bits = rsa_bits(c.cert)?;
    (bits % 8 != 0).then(|| format!("an RSA modulus of {bits} bits, not a multiple of 8"))
}

/// CA/B Forum BR 7.1.3.2: no SHA-1 or MD5 signatures on certificates.
pub(super) fn weak_signature(c: &CertCtx<'_, '_>) -> Option<String> {
    let oid = c.cert.signature_algorithm.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        _ => return None,
    };
    Some(format!("signed with {name}, a broken hash"))
}

/// RFC 5280 4.1.2.1: a certificate with extensions is version 3.
pub(super) fn not_v3(c: &CertCtx<'_, '_>) -> Option<String> {
    let v = c.cert.version();
    (v != X509Version::V3).then(|| format!("X.509 version {} (expected 3)", v.0 + 1))
}

/// RFC 5280 4.1.2.5 (and 6.1, where openssl applies the anchor's dates too): an expired
/// trust anchor fails strict, though webpki ignores anchor dates.
pub(super) fn anchor_expired(c: &CertCtx<'_, '_>) -> Option<String> {
    let t = c.cert.validity().not_after.timestamp();
    (t < c.now).then(|| format!("the trust anchor expired {}", crate::clock::rfc3339(t)))
}

/// RFC 5280 4.1.2.5: a trust anchor not yet valid at the evaluation time.
pub(super) fn anchor_not_yet_valid(c: &CertCtx<'_, '_>) -> Option<String> {
    let t = c.cert.validity().not_before.timestamp();
    (t > c.now).then(|| {
        format!(
            "the trust anchor is not valid before {}",
            crate::clock::rfc3339(t)
        )
    })
}

/// RFC 5280 4.2.2.1: authorityInfoAccess is a non-critical, non-empty SEQUENCE of
/// AccessDescription; OCSP and caIssuers locations are URIs.
pub(super) fn aia_malformed(c: &CertCtx<'_, '_>) -> Option<String> {
    let e = ext(c.cert, AIA)?;
    if e.critical {
        return Some("authorityInfoAccess is critical (it MUST NOT be)".into());
    }
    let ParsedExtension::AuthorityInfoAccess(aia) = e.parsed_extension() else {
        return Some("authorityInfoAccess cannot be parsed".into());
    };
    if aia.accessdescs.is_empty() {
        return Some("authorityInfoAccess holds no access description".into());
    }
    for d in &aia.accessdescs {
        let method = d.access_method.to_id_string();
        let what = match method.as_str() {
            "1.3.6.1.5.5.7.48.1" => "OCSP",
            "1.3.6.1.5.5.7.48.2" => "caIssuers",
            _ => continue,
        };
        match &d.access_location {
            GeneralName::URI(u) if has_scheme(u) => {}
            GeneralName::URI(u) => {
                return Some(format!("{what} location {u:?} is not an absolute URI"))
            }
            other => return Some(format!("{what} location is not a URI: {other}")),
        }
    }
    None
}

/// `scheme:rest` with an RFC 3986 scheme.
fn has_scheme(u: &str) -> bool {
    match u.split_once(':') {
        Some((s, rest)) => {
            !rest.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}
