//! Authorized subjects: how they are written (RFC 4514 strings on the command line, objects
//! in the REST API JSON) and how a client certificate's subject is compared with them.
//!
//! The comparison follows the Redis Enterprise rules: every attribute is case-sensitive, OU
//! is a set of values in any order, and only CN, O, OU, L, ST and C take part.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::pki::describe::CertInfo;

/// One entry of the server's list of authorized subjects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AuthorizedSubject {
    /// Where the entry came from, e.g. `--authorized-subject #2` or `db.json authorized_subjects[0]`.
    pub source: String,
    #[serde(rename = "CN")]
    pub cn: String,
    #[serde(rename = "O", skip_serializing_if = "Option::is_none")]
    pub o: Option<String>,
    #[serde(rename = "OU", skip_serializing_if = "Vec::is_empty")]
    pub ou: Vec<String>,
    #[serde(rename = "L", skip_serializing_if = "Option::is_none")]
    pub l: Option<String>,
    #[serde(rename = "ST", skip_serializing_if = "Option::is_none")]
    pub st: Option<String>,
    #[serde(rename = "C", skip_serializing_if = "Option::is_none")]
    pub c: Option<String>,
}

impl AuthorizedSubject {
    /// An entry with only a CN.
    pub fn with_cn(source: impl Into<String>, cn: impl Into<String>) -> Self {
        AuthorizedSubject {
            source: source.into(),
            cn: cn.into(),
            o: None,
            ou: vec![],
            l: None,
            st: None,
            c: None,
        }
    }

    /// `CN=redis_user, O=Acme, OU=Ops, OU=Dev` (CN, O, OU..., L, ST, C).
    pub fn display(&self) -> String {
        let mut parts = vec![format!("CN={}", self.cn)];
        if let Some(o) = &self.o {
            parts.push(format!("O={o}"));
        }
        parts.extend(self.ou.iter().map(|ou| format!("OU={ou}")));
        for (k, v) in [("L", &self.l), ("ST", &self.st), ("C", &self.c)] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(", ")
    }

    /// Sets a single-valued attribute by its short name (`OU` appends).
    fn set(&mut self, kind: &'static str, value: String) -> Result<(), DnError> {
        let slot = match kind {
            "CN" => {
                if !self.cn.is_empty() {
                    return Err(DnError::CnTwice);
                }
                self.cn = value;
                return Ok(());
            }
            "OU" => {
                self.ou.push(value);
                return Ok(());
            }
            "O" => &mut self.o,
            "L" => &mut self.l,
            "ST" => &mut self.st,
            "C" => &mut self.c,
            other => {
                return Err(DnError::NotRuleAttribute {
                    attribute: other.into(),
                })
            }
        };
        if slot.is_some() {
            return Err(DnError::Twice { attribute: kind });
        }
        *slot = Some(value);
        Ok(())
    }
}

/// Why an authorized subject string (RFC 4514) was refused; `attribute` is the type as
/// written (trimmed) or its short name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    #[error("empty subject (expected e.g. 'CN=redis_user,O=Acme,OU=Ops')")]
    Empty,
    #[error("CN is required (every authorized subject has a Common Name)")]
    NoCn,
    #[error("CN is given twice (an entry has one CN)")]
    CnTwice,
    /// A single-valued attribute (not CN, not OU) given twice.
    #[error("{attribute} is given twice (only OU may have several values)")]
    Twice { attribute: &'static str },
    /// An attribute type the server does not compare.
    #[error("unknown attribute {attribute:?} (the server compares only CN, O, OU, L, ST, C)")]
    UnknownAttribute { attribute: String },
    /// A short name outside [`RULE_ATTRIBUTES`] given to `set`.
    #[error("unknown attribute {attribute:?}")]
    NotRuleAttribute { attribute: String },
    #[error("{attribute} has an empty value")]
    EmptyValue { attribute: &'static str },
    /// A part without `=` (`text` is that part, trimmed).
    #[error("{text:?} is not TYPE=value (escape a literal comma as \\,)")]
    NotTypeValue { text: String },
    #[error("{attribute}: hex-encoded (#...) values are not supported; write the value as text")]
    HexValue { attribute: String },
    #[error("{attribute}: bad escape in the value (\\ must be followed by a special character or two hex digits)")]
    BadEscape { attribute: String },
    #[error("{attribute}: unescaped '\"' in the value (write it as \\\")")]
    Quote { attribute: String },
    #[error("{attribute}: the value is not valid UTF-8")]
    NotUtf8 { attribute: String },
    #[error("trailing separator at the end of the subject")]
    TrailingSeparator,
}

/// The attribute names the rules compare, in display order.
pub const RULE_ATTRIBUTES: [&str; 6] = ["CN", "O", "OU", "L", "ST", "C"];

/// Maps an attribute type as written (short name, long name or OID, any case) to its short name.
fn canonical_attribute(t: &str) -> Option<&'static str> {
    let t = t.trim();
    let lower = t.to_ascii_lowercase();
    Some(match lower.as_str() {
        "cn" | "commonname" | "2.5.4.3" => "CN",
        "o" | "organizationname" | "2.5.4.10" => "O",
        "ou" | "organizationalunitname" | "2.5.4.11" => "OU",
        "l" | "localityname" | "2.5.4.7" => "L",
        "st" | "s" | "stateorprovincename" | "2.5.4.8" => "ST",
        "c" | "countryname" | "2.5.4.6" => "C",
        _ => return None,
    })
}

/// Parses an RFC 4514 string such as `CN=redis_user,O=Acme,OU=Ops,OU=Dev,L=Tel Aviv` into an
/// entry. Order does not matter; `\,` `\+` `\\` `\"` `\=` `\;` `\<` `\>` `\#` `\ ` and `\XX`
/// (hex bytes of UTF-8) are escapes; spaces around separators are ignored.
pub fn parse_dn(source: &str, text: &str) -> Result<AuthorizedSubject, DnError> {
    if text.trim().is_empty() {
        return Err(DnError::Empty);
    }
    let mut entry = AuthorizedSubject::with_cn(source, "");
    for (kind, value) in split_rdns(text)? {
        let short = canonical_attribute(&kind).ok_or_else(|| DnError::UnknownAttribute {
            attribute: kind.trim().into(),
        })?;
        if value.is_empty() {
            return Err(DnError::EmptyValue { attribute: short });
        }
        entry.set(short, value)?;
    }
    if entry.cn.is_empty() {
        return Err(DnError::NoCn);
    }
    Ok(entry)
}

/// Splits on unescaped `,` and `+` and decodes each `type=value`.
fn split_rdns(text: &str) -> Result<Vec<(String, String)>, DnError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i <= bytes.len() {
        // Attribute type, up to '='.
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && bytes[i] != b',' && bytes[i] != b'+' {
            i += 1;
        }
        let kind = &text[start..i];
        let attribute = || kind.trim().to_string();
        if i >= bytes.len() || bytes[i] != b'=' {
            return Err(DnError::NotTypeValue { text: attribute() });
        }
        i += 1; // '='
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'#' {
            return Err(DnError::HexValue {
                attribute: attribute(),
            });
        }
        let mut value: Vec<u8> = Vec::new();
        // Length of `value` that must survive trailing-space trimming (up to the last escape).
        let mut keep = 0;
        while i < bytes.len() && bytes[i] != b',' && bytes[i] != b'+' {
            match bytes[i] {
                b'\\' => {
                    let next = bytes.get(i + 1).copied();
                    match next {
                        Some(c) if b",+\"\\<>;= #".contains(&c) => {
                            value.push(c);
                            i += 2;
                        }
                        Some(h) if h.is_ascii_hexdigit() => {
                            let l = bytes.get(i + 2).copied().filter(u8::is_ascii_hexdigit);
                            let Some(l) = l else {
                                return Err(DnError::BadEscape {
                                    attribute: attribute(),
                                });
                            };
                            let hex = [h, l];
                            let s = std::str::from_utf8(&hex).unwrap_or("00");
                            value.push(u8::from_str_radix(s, 16).unwrap_or(0));
                            i += 3;
                        }
                        _ => {
                            return Err(DnError::BadEscape {
                                attribute: attribute(),
                            })
                        }
                    }
                    keep = value.len();
                }
                b'"' => {
                    return Err(DnError::Quote {
                        attribute: attribute(),
                    })
                }
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        while value.len() > keep && value.last() == Some(&b' ') {
            value.pop();
        }
        let value = String::from_utf8(value).map_err(|_| DnError::NotUtf8 {
            attribute: attribute(),
        })?;
        out.push((kind.to_string(), value));
        if i >= bytes.len() {
            break;
        }
        i += 1; // separator
        if i >= bytes.len() {
            return Err(DnError::TrailingSeparator);
        }
    }
    Ok(out)
}

/// The parts of a client certificate the rules look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertSubject {
    /// Values per attribute, in certificate order: index as in [`RULE_ATTRIBUTES`].
    values: [Vec<String>; 6],
    /// DNS names of the subjectAltName.
    pub dns: Vec<String>,
    /// The whole subject, for messages.
    pub display: String,
}

impl CertSubject {
    /// Takes the subject attributes and DNS SANs of a described certificate.
    pub fn from_info(info: &CertInfo) -> Self {
        let mut s = CertSubject {
            dns: info.sans.dns.clone(),
            display: info.subject.clone(),
            ..CertSubject::default()
        };
        for a in &info.subject_attributes {
            if let Some(i) = RULE_ATTRIBUTES.iter().position(|k| *k == a.kind) {
                s.values[i].push(a.value.clone());
            }
        }
        s
    }

    /// The certificate's values of one attribute (`CN`, `O`, ...).
    pub fn get(&self, kind: &str) -> &[String] {
        RULE_ATTRIBUTES
            .iter()
            .position(|k| *k == kind)
            .map_or(&[][..], |i| &self.values[i][..])
    }
}

/// Which entry matched, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// 0-based index in the list of authorized subjects.
    pub entry: usize,
    pub message: String,
}

/// Why nothing matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    /// The closest entry (fewest differing attributes), when there is one.
    pub closest: Option<usize>,
    pub message: String,
}

fn quote_list(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn case_note(a: &str, b: &str) -> &'static str {
    if a != b && a.to_lowercase() == b.to_lowercase() {
        " (case-sensitive)"
    } else {
        ""
    }
}

/// `san` (REST API `san_cn`): the certificate's CN, or one of its DNS SANs, must equal an
/// entry's CN exactly. A CN match is preferred over a DNS SAN match when both exist.
pub fn match_san(cert: &CertSubject, entries: &[AuthorizedSubject]) -> Result<Matched, NoMatch> {
    if entries.is_empty() {
        return Err(NoMatch {
            closest: None,
            message: "no authorized subjects are configured, so no certificate can match".into(),
        });
    }
    let cns = cert.get("CN");
    for (i, e) in entries.iter().enumerate() {
        if cns.contains(&e.cn) {
            return Ok(Matched {
                entry: i,
                message: format!(
                    "CN {:?} matches authorized subject #{} ({})",
                    e.cn,
                    i + 1,
                    e.source
                ),
            });
        }
    }
    for (i, e) in entries.iter().enumerate() {
        if cert.dns.contains(&e.cn) {
            return Ok(Matched {
                entry: i,
                message: format!(
                    "DNS SAN {:?} matches the CN of authorized subject #{} ({})",
                    e.cn,
                    i + 1,
                    e.source
                ),
            });
        }
    }
    let presented = match (cns.is_empty(), cert.dns.is_empty()) {
        (true, true) => "the certificate has no CN and no DNS SAN".to_string(),
        (false, true) => format!("CN {}", quote_list(cns)),
        (true, false) => format!("no CN; DNS SANs {}", quote_list(&cert.dns)),
        (false, false) => format!("CN {}, DNS SANs {}", quote_list(cns), quote_list(&cert.dns)),
    };
    let authorized: Vec<String> = entries.iter().map(|e| e.cn.clone()).collect();
    let mut message = format!(
        "no authorized CN matches: certificate has {presented}; authorized CNs: {}",
        quote_list(&authorized)
    );
    let near = entries.iter().position(|e| {
        cns.iter()
            .chain(&cert.dns)
            .any(|n| n.to_lowercase() == e.cn.to_lowercase())
    });
    if let Some(i) = near {
        let got = cns
            .iter()
            .chain(&cert.dns)
            .find(|n| n.to_lowercase() == entries[i].cn.to_lowercase())
            .cloned()
            .unwrap_or_default();
        message.push_str(&format!(
            "\nclosest: #{} ({}): {:?} != {:?} (case-sensitive)",
            i + 1,
            entries[i].source,
            got,
            entries[i].cn
        ));
    }
    Err(NoMatch {
        closest: near,
        message,
    })
}

/// Every difference between the certificate's subject and one entry (empty: they match).
pub fn subject_differences(cert: &CertSubject, e: &AuthorizedSubject) -> Vec<String> {
    let mut out = Vec::new();
    let single: [(&str, Option<&String>); 5] = [
        ("CN", Some(&e.cn)),
        ("O", e.o.as_ref()),
        ("L", e.l.as_ref()),
        ("ST", e.st.as_ref()),
        ("C", e.c.as_ref()),
    ];
    for (k, want) in single {
        let have = cert.get(k);
        match (have, want) {
            ([], None) => {}
            ([], Some(w)) => out.push(format!(
                "{k} {w:?} is required but the certificate has no {k}"
            )),
            (h, None) => out.push(format!(
                "the certificate has {k} {} but the entry has no {k}",
                quote_list(h)
            )),
            ([h], Some(w)) if h == w => {}
            ([h], Some(w)) => out.push(format!("{k} {h:?} != {w:?}{}", case_note(h, w))),
            (h, Some(w)) => out.push(format!(
                "the certificate has {} {k} values ({}), the entry one ({w:?})",
                h.len(),
                quote_list(h)
            )),
        }
    }
    let have: BTreeSet<&String> = cert.get("OU").iter().collect();
    let want: BTreeSet<&String> = e.ou.iter().collect();
    if have != want {
        let extra: Vec<String> = have.difference(&want).map(|s| s.to_string()).collect();
        let missing: Vec<String> = want.difference(&have).map(|s| s.to_string()).collect();
        match (&extra[..], &missing[..]) {
            ([x], [m]) => out.push(format!("OU {x:?} != {m:?}{}", case_note(x, m))),
            (x, []) => out.push(format!(
                "the certificate has OU {} that the entry lacks",
                quote_list(x)
            )),
            ([], m) => out.push(format!(
                "OU {} is required but not in the certificate",
                quote_list(m)
            )),
            _ => out.push(format!(
                "OU differs: the certificate has {}, the entry {}",
                quote_list(&have.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                quote_list(&want.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            )),
        }
    }
    out
}

/// `subject` (REST API `full_subject`): the certificate's CN, O, OU, L, ST and C must equal
/// one entry's, exactly; OU as a set. On failure the closest entry and its differences are named.
pub fn match_subject(
    cert: &CertSubject,
    entries: &[AuthorizedSubject],
) -> Result<Matched, NoMatch> {
    if entries.is_empty() {
        return Err(NoMatch {
            closest: None,
            message: "no authorized subjects are configured, so no certificate can match".into(),
        });
    }
    let mut best: Option<(usize, Vec<String>)> = None;
    for (i, e) in entries.iter().enumerate() {
        let diffs = subject_differences(cert, e);
        if diffs.is_empty() {
            return Ok(Matched {
                entry: i,
                message: format!(
                    "subject matches authorized subject #{} ({}): {}",
                    i + 1,
                    e.source,
                    e.display()
                ),
            });
        }
        if best.as_ref().is_none_or(|(_, d)| diffs.len() < d.len()) {
            best = Some((i, diffs));
        }
    }
    let (i, diffs) = best.unwrap_or_default();
    let e = &entries[i];
    Err(NoMatch {
        closest: Some(i),
        message: format!(
            "no authorized subject matches {}\nclosest: #{} ({}) {}\ndiffers: {}",
            cert.display,
            i + 1,
            e.source,
            e.display(),
            diffs.join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subj(pairs: &[(&str, &str)], dns: &[&str]) -> CertSubject {
        let mut s = CertSubject::default();
        for (k, v) in pairs {
            let i = RULE_ATTRIBUTES.iter().position(|a| a == k).unwrap();
            s.values[i].push(v.to_string());
        }
        s.dns = dns.iter().map(|d| d.to_string()).collect();
        s.display = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        s
    }

    #[test]
    fn parses_rfc4514() {
        let e = parse_dn(
            "x",
            "CN=redis_user,O=Acme,OU=Ops,OU=Dev,L=Tel Aviv,ST=TA,C=IL",
        )
        .unwrap();
        assert_eq!(e.cn, "redis_user");
        assert_eq!(e.ou, vec!["Ops", "Dev"]);
        assert_eq!(e.l.as_deref(), Some("Tel Aviv"));
        let e = parse_dn("x", r"CN=Smith\, John , O = Acme\2C Inc.\ ").unwrap();
        assert_eq!(e.cn, "Smith, John");
        assert_eq!(e.o.as_deref(), Some("Acme, Inc. "));
        let e = parse_dn("x", r"commonName=caf\C3\A9+ou=a").unwrap();
        assert_eq!(e.cn, "café");
        assert_eq!(e.ou, vec!["a"]);
    }

    #[test]
    fn rejects_bad_dns() {
        for (text, want) in [
            ("", "empty subject"),
            ("O=Acme", "CN is required"),
            ("CN=a,CN=b", "CN is given twice"),
            ("CN=a,O=x,O=y", "O is given twice"),
            ("CN=a,E=x@y", "unknown attribute \"E\""),
            ("CN=a,Acme", "is not TYPE=value"),
            ("CN=", "CN has an empty value"),
            ("CN=#0403", "hex-encoded"),
            (r"CN=a\q", "bad escape"),
            ("CN=a,", "trailing separator"),
            ("CN=\"a\"", "unescaped '\"'"),
        ] {
            let err = parse_dn("x", text).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn dn_errors_display_todays_lines() {
        for (text, want, line) in [
            (
                "  ",
                DnError::Empty,
                "empty subject (expected e.g. 'CN=redis_user,O=Acme,OU=Ops')",
            ),
            (
                "O=Acme",
                DnError::NoCn,
                "CN is required (every authorized subject has a Common Name)",
            ),
            (
                "CN=a,cn=b",
                DnError::CnTwice,
                "CN is given twice (an entry has one CN)",
            ),
            (
                "CN=a,o=x,O=y",
                DnError::Twice { attribute: "O" },
                "O is given twice (only OU may have several values)",
            ),
            (
                "CN=a, E =x",
                DnError::UnknownAttribute {
                    attribute: "E".into(),
                },
                "unknown attribute \"E\" (the server compares only CN, O, OU, L, ST, C)",
            ),
            (
                "CN=a, Acme ",
                DnError::NotTypeValue {
                    text: "Acme".into(),
                },
                r#""Acme" is not TYPE=value (escape a literal comma as \,)"#,
            ),
            (
                "commonName=",
                DnError::EmptyValue { attribute: "CN" },
                "CN has an empty value",
            ),
            (
                "CN= #0403",
                DnError::HexValue {
                    attribute: "CN".into(),
                },
                "CN: hex-encoded (#...) values are not supported; write the value as text",
            ),
            (
                r"CN=a\q",
                DnError::BadEscape {
                    attribute: "CN".into(),
                },
                r"CN: bad escape in the value (\ must be followed by a special character or two hex digits)",
            ),
            (
                r"CN=a\4",
                DnError::BadEscape {
                    attribute: "CN".into(),
                },
                r"CN: bad escape in the value (\ must be followed by a special character or two hex digits)",
            ),
            (
                "CN=a+",
                DnError::TrailingSeparator,
                "trailing separator at the end of the subject",
            ),
            (
                "CN=\"a\"",
                DnError::Quote {
                    attribute: "CN".into(),
                },
                r#"CN: unescaped '"' in the value (write it as \")"#,
            ),
            (
                r"CN=\ff",
                DnError::NotUtf8 {
                    attribute: "CN".into(),
                },
                "CN: the value is not valid UTF-8",
            ),
        ] {
            let err = parse_dn("x", text).unwrap_err();
            assert_eq!(err, want, "{text:?}");
            assert_eq!(err.to_string(), line, "{text:?}");
        }
    }

    #[test]
    fn san_rule_table() {
        let entries = vec![
            AuthorizedSubject::with_cn("e1", "other"),
            AuthorizedSubject::with_cn("e2", "app.example.com"),
            AuthorizedSubject::with_cn("e3", "redis_user"),
        ];
        let cert = subj(&[("CN", "redis_user")], &["app.example.com"]);
        let m = match_san(&cert, &entries).unwrap();
        assert_eq!(m.entry, 2, "CN preferred over DNS SAN");
        assert!(m.message.contains("CN \"redis_user\""));
        let cert = subj(&[("CN", "x")], &["app.example.com"]);
        let m = match_san(&cert, &entries).unwrap();
        assert_eq!(m.entry, 1);
        assert!(m.message.contains("DNS SAN"));
        let cert = subj(&[("CN", "Redis_User")], &[]);
        let e = match_san(&cert, &entries).unwrap_err();
        assert!(e.message.contains("(case-sensitive)"), "{}", e.message);
        assert!(match_san(&cert, &[]).is_err());
    }

    #[test]
    fn subject_rule_table() {
        let full = parse_dn("e", "CN=redis_user,O=Acme,OU=Ops,OU=Dev").unwrap();
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "Acme"),
                    ("OU", "Ops"),
                    ("OU", "Dev"),
                ],
                None,
            ),
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "Acme"),
                    ("OU", "Dev"),
                    ("OU", "Ops"),
                ],
                None,
            ),
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "Acme"),
                    ("OU", "Ops"),
                    ("OU", "dev"),
                ],
                Some("OU \"dev\" != \"Dev\" (case-sensitive)"),
            ),
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "acme"),
                    ("OU", "Ops"),
                    ("OU", "Dev"),
                ],
                Some("O \"acme\" != \"Acme\" (case-sensitive)"),
            ),
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "Acme"),
                    ("OU", "Ops"),
                    ("OU", "Dev"),
                    ("C", "IL"),
                ],
                Some("the certificate has C \"IL\" but the entry has no C"),
            ),
            (
                &[("CN", "redis_user"), ("OU", "Ops"), ("OU", "Dev")],
                Some("O \"Acme\" is required but the certificate has no O"),
            ),
            (
                &[("CN", "redis_user"), ("O", "Acme"), ("OU", "Ops")],
                Some("OU \"Dev\" is required but not in the certificate"),
            ),
            (
                &[
                    ("CN", "redis_user"),
                    ("O", "Acme"),
                    ("OU", "Ops"),
                    ("OU", "Dev"),
                    ("OU", "QA"),
                ],
                Some("the certificate has OU \"QA\" that the entry lacks"),
            ),
        ];
        for (attrs, want) in cases {
            let cert = subj(attrs, &[]);
            let got = match_subject(&cert, std::slice::from_ref(&full));
            match want {
                None => assert!(got.is_ok(), "{attrs:?}: {got:?}"),
                Some(w) => {
                    let e = got.unwrap_err();
                    assert!(e.message.contains(w), "{attrs:?}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn closest_entry_is_named() {
        let entries = vec![
            parse_dn("a", "CN=someone,O=Other").unwrap(),
            parse_dn("b", "CN=redis_user,O=Acme,OU=Ops,OU=Dev").unwrap(),
        ];
        let cert = subj(
            &[
                ("CN", "redis_user"),
                ("O", "Acme"),
                ("OU", "ops"),
                ("OU", "Dev"),
            ],
            &[],
        );
        let e = match_subject(&cert, &entries).unwrap_err();
        assert_eq!(e.closest, Some(1));
        assert!(e.message.contains("closest: #2 (b)"), "{}", e.message);
    }
}
