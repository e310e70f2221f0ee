//! Name rules of [`super::RULES`] for TLS server leaves (CA/B Forum Baseline
//! Requirements): the subject CN against the SANs, LDH syntax of DNS SANs, and wildcards
//! over public suffixes (the Public Suffix List of the `psl` crate, private section
//! included).

use std::net::IpAddr;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};

use super::rules::{ext, SAN};
use super::CertCtx;

/// The SAN values of a certificate as text: dNSName as written, iPAddress in canonical
/// form (dotted decimal for IPv4, RFC 5952 for IPv6, as `std::net` prints them).
struct Sans<'a> {
    dns: Vec<&'a str>,
    ip: Vec<String>,
}

fn sans<'a>(cert: &X509Certificate<'a>) -> Sans<'a> {
    let mut out = Sans {
        dns: vec![],
        ip: vec![],
    };
    let Some(e) = ext(cert, SAN) else { return out };
    let ParsedExtension::SubjectAlternativeName(san) = e.parsed_extension() else {
        return out;
    };
    for n in &san.general_names {
        match n {
            GeneralName::DNSName(d) => out.dns.push(d),
            GeneralName::IPAddress(b) => {
                if let Some(ip) = ip_from_bytes(b) {
                    out.ip.push(ip.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// Why a CN that matches no SAN byte for byte is wrong, when it is close to one.
fn near_miss(cn: &str, s: &Sans<'_>) -> String {
    if let Some(d) = s.dns.iter().find(|d| d.eq_ignore_ascii_case(cn)) {
        return format!(": a case variant of DNS:{d}");
    }
    if !cn.is_ascii() {
        return ": not ASCII (a U-label where a SAN must hold the A-label?)".into();
    }
    if let Some(ip) = loose_ip(cn) {
        let canonical = ip.to_string();
        if s.ip.contains(&canonical) {
            return format!(": IP {canonical} written in a non-canonical form");
        }
    }
    if s.dns
        .iter()
        .any(|d| d.starts_with("xn--") || d.contains(".xn--"))
    {
        return ": the SANs hold A-labels (xn--); the CN must be the same A-label".into();
    }
    String::new()
}

/// An IP address in any of the forms people write: canonical, uppercase or uncompressed
/// IPv6, IPv4 with leading zeros or in hex (`0x7f000001`).
fn loose_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(h, 16)
            .ok()
            .map(|v| IpAddr::from(v.to_be_bytes()));
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut b = [0u8; 4];
    for (o, p) in b.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(IpAddr::from(b))
}

/// CA/B Forum BR 7.1.2.7.2: a subject commonName, when present, MUST contain exactly one of
/// the SAN values, byte for byte: a dNSName as written, an IPv4 address in dotted decimal
/// without leading zeros, an IPv6 address in RFC 5952 form; not a case variant, not a
/// U-label for an A-label.
pub(super) fn cn_not_in_san(c: &CertCtx<'_, '_>) -> Option<String> {
    let s = sans(c.cert);
    let mut bad = Vec::new();
    for attr in c.cert.subject().iter_common_name() {
        let raw = attr.attr_value().data;
        let Ok(cn) = std::str::from_utf8(raw) else {
            bad.push("a CN that is not UTF-8 text".to_string());
            continue;
        };
        let exact = s.dns.iter().any(|d| d.as_bytes() == raw) || s.ip.iter().any(|i| i == cn);
        if !exact {
            bad.push(format!(
                "CN {cn:?} is not one of the SAN values{}",
                near_miss(cn, &s)
            ));
        }
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// Why `name` is not a preferred-name-syntax (LDH) DNS name, with a wildcard allowed only
/// as the whole first label.
fn ldh_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty".into());
    }
    if name == "*" {
        return Some("a wildcard without a domain".into());
    }
    if name.len() > 253 {
        return Some("longer than 253 characters".into());
    }
    for (i, label) in name.split('.').enumerate() {
        if label == "*" && i == 0 {
            continue;
        }
        if label.is_empty() {
            return Some("an empty label (a leading, trailing or double dot)".into());
        }
        if label.len() > 63 {
            return Some(format!("label {label:?} is longer than 63 characters"));
        }
        if let Some(ch) = label
            .chars()
            .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-'))
        {
            return Some(format!(
                "label {label:?} holds {ch:?} (only letters, digits and hyphens)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label {label:?} starts or ends with a hyphen"));
        }
    }
    None
}

/// RFC 5280 4.2.1.6 and CA/B Forum BR 7.1.2.7.12: each dNSName is in the preferred name
/// syntax (letters, digits, hyphens; labels up to 63 octets); an underscore fails; a
/// wildcard is only the whole leftmost label.
pub(super) fn dns_san_invalid(c: &CertCtx<'_, '_>) -> Option<String> {
    let bad: Vec<String> = sans(c.cert)
        .dns
        .iter()
        .filter_map(|d| ldh_error(d).map(|why| format!("DNS:{d}: {why}")))
        .collect();
    (!bad.is_empty()).then(|| format!("invalid DNS name(s): {}", bad.join("; ")))
}

/// CA/B Forum BR 3.2.2.6: a wildcard MUST NOT sit directly on a public suffix (`*.com`,
/// `*.co.uk`, and the private section's `*.github.io`), per the Public Suffix List.
pub(super) fn wildcard_public_suffix(c: &CertCtx<'_, '_>) -> Option<String> {
    let bad: Vec<String> = sans(c.cert)
        .dns
        .iter()
        .filter_map(|d| {
            let base = d.strip_prefix("*.")?.to_ascii_lowercase();
            let base = base.trim_end_matches('.');
            let suffix = psl::suffix(base.as_bytes())?;
            (suffix.as_bytes() == base.as_bytes()).then(|| {
                let section = match suffix.typ() {
                    Some(psl::Type::Icann) => "ICANN section",
                    Some(psl::Type::Private) => "private section",
                    None => "a top-level domain not in the list",
                };
                format!("DNS:{d} covers the whole public suffix {base:?} ({section})")
            })
        })
        .collect();
    (!bad.is_empty()).then(|| bad.join("; "))
}
