//! Offline path validation (`tlsprobe chain`), the way `openssl verify -CAfile -untrusted
//! -attime -verify_hostname -crl_check_all` is used, but reading every certificate of every
//! file: the first certificate of LEAF is the leaf, the rest of LEAF and every `--untrusted`
//! certificate are candidate intermediates, every `--cacert` certificate is an anchor.
//!
//! The path is built by rustls-webpki (the verdict is never more permissive than webpki's);
//! tlsprobe only adds restrictions (`--max-depth`, `--strict` profile checks) and explains a
//! failure with the facts a person needs: which certificate, which dates, which names.
//!
//! With `--crl`, revocation is checked for the whole chain and a certificate whose issuer
//! published no CRL among the files is an error (webpki's default, like `-crl_check_all`).

use std::path::Path;

use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor};
use webpki::{CertRevocationList, EndEntityCert, OwnedCertRevocationList};

use crate::clock::{rfc3339, UnixSeconds};
use crate::domain::Purpose;
use crate::error::InputError;
use crate::finding::Severity;
use crate::pki::chain_outcome::{ChainError, ChainReport, PathAnchor, PathEntry};
use crate::pki::describe::{self, CertInfo};
use crate::pki::path::{webpki_reason, PathQuery, Usage};
use crate::pki::pem;
use crate::pki::pem::read_cert_file;
use crate::pki::strict::{self, ProfileFinding};
use crate::pki::trust::TrustStore;

/// One certificate read for `chain`, with where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    /// 0-based index among the file's certificates.
    pub index: usize,
    pub der: CertificateDer<'static>,
    pub info: CertInfo,
}

impl Source {
    fn at(&self) -> String {
        format!("{} #{}", self.file, self.index)
    }
}

/// One CRL read from `--crl`.
#[derive(Debug)]
pub struct Crl {
    pub file: String,
    /// 0-based index among the file's CRLs.
    pub index: usize,
    /// Readable issuer name.
    pub issuer: String,
    issuer_der: Vec<u8>,
    /// The CRL as read, for the profile rules.
    der: Vec<u8>,
    pub next_update: Option<UnixSeconds>,
    pub list: CertRevocationList<'static>,
}

/// Everything `chain` reads.
#[derive(Debug)]
pub struct ChainInput {
    pub leaf: Source,
    /// The rest of LEAF, then every `--untrusted` certificate.
    pub intermediates: Vec<Source>,
    pub anchors: Vec<Source>,
    trust_anchors: Vec<TrustAnchor<'static>>,
    pub crls: Vec<Crl>,
    pub cacert_files: Vec<String>,
}

/// What to validate for.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    pub name: Option<(String, ServerName<'static>)>,
    pub purpose: Purpose,
    pub max_depth: Option<usize>,
    pub strict: bool,
    pub now: UnixSeconds,
}

fn sources(file: &pem::PemFile, flag: &str, now: UnixSeconds) -> Result<Vec<Source>, InputError> {
    file.certs
        .iter()
        .map(|c| {
            let subject = format!("{flag} {}", file.path);
            if let Some(e) = pem::parse_cert_error(&c.der) {
                return Err(InputError::new(
                    subject,
                    format!("PEM block {}: {e}", c.block),
                ));
            }
            let info = describe::describe(c.index, &c.der, now)
                .map_err(|e| InputError::new(subject, format!("PEM block {}: {e}", c.block)))?;
            Ok(Source {
                file: file.path.clone(),
                index: c.index,
                der: c.der.clone(),
                info,
            })
        })
        .collect()
}

/// What `tlsprobe chain` is asked, typed (the `chain` flags convert into it): the files
/// to read and how to judge the path.
#[derive(Debug, Clone)]
pub struct ChainRequest {
    /// LEAF: its first certificate is the leaf, the rest candidate intermediates.
    pub leaf: std::path::PathBuf,
    pub untrusted: Vec<std::path::PathBuf>,
    pub cacert: Vec<std::path::PathBuf>,
    pub crl: Vec<std::path::PathBuf>,
    /// `--name`: the DNS name or IP the leaf must be valid for.
    pub name: Option<String>,
    pub purpose: Purpose,
    pub max_depth: Option<usize>,
    pub strict: bool,
}

/// Reads every file the request names; any problem is an [`InputError`].
pub fn load(args: &ChainRequest, now: UnixSeconds) -> Result<ChainInput, InputError> {
    let leaf_file = read_cert_file(&args.leaf, "LEAF")?;
    let mut leaf_certs = sources(&leaf_file, "LEAF", now)?;
    if leaf_certs.is_empty() {
        return Err(InputError::new(
            format!("LEAF {}", leaf_file.path),
            "holds no certificate",
        ));
    }
    let leaf = leaf_certs.remove(0);
    let mut intermediates = leaf_certs;
    for p in &args.untrusted {
        let f = read_cert_file(p, "--untrusted")?;
        if f.certs.is_empty() {
            return Err(InputError::new(
                format!("--untrusted {}", f.path),
                "holds no certificate",
            ));
        }
        intermediates.extend(sources(&f, "--untrusted", now)?);
    }
    let store = TrustStore::from_files(&args.cacert)?;
    let mut anchors = Vec::new();
    for s in &store.sources {
        let Some(der) = &s.der else { continue };
        let info = describe::describe(s.index, der, now)
            .map_err(|e| InputError::new(format!("--cacert {}", s.file), e))?;
        anchors.push(Source {
            file: s.file.clone(),
            index: s.index,
            der: der.clone(),
            info,
        });
    }
    let mut crls = Vec::new();
    for p in &args.crl {
        crls.extend(read_crls(p)?);
    }
    Ok(ChainInput {
        leaf,
        intermediates,
        anchors,
        trust_anchors: store.anchors,
        crls,
        cacert_files: store.file_sizes.iter().map(|(f, _)| f.clone()).collect(),
    })
}

/// Reads a `--crl` file: PEM (`X509 CRL` blocks) or one DER CRL.
pub fn read_crls(path: &Path) -> Result<Vec<Crl>, InputError> {
    let name = path.display().to_string();
    let subject = format!("--crl {name}");
    let bytes = crate::files::read_bounded(path, pem::MAX_FILE_BYTES, &subject, "a CRL file")?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(&subject, "file is empty"));
    }
    let ders: Vec<(String, Vec<u8>)> = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let f =
            pem::parse_bytes(&name, &bytes).map_err(|e| InputError::new(&subject, e.message))?;
        if let Some(e) = f.errors.first() {
            return Err(InputError::new(&subject, e.message.clone()));
        }
        f.others
            .iter()
            .filter(|b| b.label == "X509 CRL")
            .map(|b| (format!("PEM block {}", b.index + 1), b.der.clone()))
            .collect()
    } else {
        vec![("DER".to_string(), bytes)]
    };
    if ders.is_empty() {
        return Err(InputError::new(
            &subject,
            "holds no CRL (expected -----BEGIN X509 CRL----- blocks or a DER CRL)",
        ));
    }
    let mut out = Vec::new();
    for (i, (what, der)) in ders.into_iter().enumerate() {
        let (issuer, issuer_der, next_update) = match x509_parser::parse_x509_crl(&der) {
            Ok((_, crl)) => (
                describe::display_name(crl.issuer()),
                crl.issuer().as_raw().to_vec(),
                crl.next_update().map(|t| t.timestamp()),
            ),
            Err(_) if der.first() != Some(&0x30) => {
                return Err(InputError::new(
                    &subject,
                    "not a valid CRL: no -----BEGIN X509 CRL----- block and not DER",
                ))
            }
            Err(_) => {
                return Err(InputError::new(
                    &subject,
                    format!("{what}: not a valid CRL (bad DER)"),
                ))
            }
        };
        let list = OwnedCertRevocationList::from_der(&der).map_err(|e| {
            let why = match e {
                webpki::Error::UnsupportedCrlVersion => {
                    "only version 2 CRLs are supported (give `openssl ca -gencrl` a crlnumber file and crl_extensions)".to_string()
                }
                webpki::Error::UnsupportedDeltaCrl => "delta CRLs are not supported".into(),
                webpki::Error::UnsupportedIndirectCrl => "indirect CRLs are not supported".into(),
                webpki::Error::BadDer | webpki::Error::BadDerTime => "not valid DER".into(),
                other => format!("rustls-webpki cannot use it: {other:?}"),
            };
            InputError::new(&subject, format!("{what}: {why}"))
        })?;
        out.push(Crl {
            file: name.clone(),
            index: i,
            issuer,
            issuer_der,
            next_update,
            list: list.into(),
            der,
        });
    }
    Ok(out)
}

fn strip_seq(der: &[u8]) -> &[u8] {
    // A Name with its outer SEQUENCE header, or only its contents.
    if der.first() != Some(&0x30) || der.len() < 2 {
        return der;
    }
    let (len, hdr) = match der[1] {
        l if l < 0x80 => (l as usize, 2),
        0x81 if der.len() > 2 => (der[2] as usize, 3),
        0x82 if der.len() > 3 => (((der[2] as usize) << 8) | der[3] as usize, 4),
        _ => return der,
    };
    if hdr + len == der.len() {
        &der[hdr..]
    } else {
        der
    }
}

fn raw_serial(der: &[u8]) -> Vec<u8> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.raw_serial().to_vec())
        .unwrap_or_default()
}

/// Where a certificate of the presented set stands.
#[derive(Clone, Copy)]
enum Who<'a> {
    Leaf(&'a Source),
    Intermediate(&'a Source),
    Anchor(&'a Source),
}

impl<'a> Who<'a> {
    fn source(self) -> &'a Source {
        match self {
            Who::Leaf(s) | Who::Intermediate(s) | Who::Anchor(s) => s,
        }
    }
    fn role(self) -> &'static str {
        match self {
            Who::Leaf(_) => "leaf",
            Who::Intermediate(_) => "intermediate",
            Who::Anchor(_) => "anchor",
        }
    }
    fn describe(self) -> String {
        let s = self.source();
        format!("{} {} ({})", self.role(), s.info.subject, s.at())
    }
}

/// The chain as far as it can be followed by issuer names and signatures, leaf first; the
/// anchor is last when one was reached.
fn walk(input: &ChainInput) -> Vec<Who<'_>> {
    let mut out = vec![Who::Leaf(&input.leaf)];
    let issued = |child: &Source, parent: &Source| {
        parent.info.raw.subject_der == child.info.raw.issuer_der
            && crate::pki::bundle::signed_by(&child.der, &parent.der)
    };
    for _ in 0..16 {
        let cur = out[out.len() - 1].source();
        if let Some(a) = input.anchors.iter().find(|a| issued(cur, a)) {
            out.push(Who::Anchor(a));
            return out;
        }
        if cur.info.self_signed {
            return out;
        }
        let next = input.intermediates.iter().find(|c| {
            !out.iter().any(|w| w.source().der == c.der)
                && (issued(cur, c) || c.info.raw.subject_der == cur.info.raw.issuer_der)
        });
        match next {
            Some(n) => out.push(Who::Intermediate(n)),
            None => return out,
        }
    }
    out
}

fn purpose_text(p: Purpose) -> (&'static str, &'static str) {
    match p {
        Purpose::Server => ("TLS server", "serverAuth"),
        Purpose::Client => ("TLS client", "clientAuth"),
    }
}

/// Validates the leaf against the anchors at `opts.now`.
pub fn validate(input: &ChainInput, opts: &ChainOptions) -> ChainReport {
    let mut report = ChainReport {
        leaf: input.leaf.file.clone(),
        valid: false,
        evaluated_at: rfc3339(opts.now),
        strict: opts.strict,
        path: vec![],
        anchor: None,
        error: None,
        findings: vec![],
    };
    let walked = walk(input);
    let fail = |kind: &'static str, message: String| Some(ChainError { kind, message });

    let leaf_ee = match EndEntityCert::try_from(&input.leaf.der) {
        Ok(ee) => ee,
        Err(e) => {
            report.error = fail(
                "unsupported-certificate",
                format!("the leaf cannot be used: {}", webpki_reason(&e)),
            );
            report.findings = strict_findings(&walked, input, opts);
            return report;
        }
    };
    let inter_ders: Vec<CertificateDer<'_>> =
        input.intermediates.iter().map(|s| s.der.clone()).collect();
    let crls: Vec<&CertRevocationList<'_>> = input.crls.iter().map(|c| &c.list).collect();
    let query = PathQuery {
        leaf: &leaf_ee,
        anchors: &input.trust_anchors,
        intermediates: &inter_ders,
        usage: match opts.purpose {
            Purpose::Server => Usage::Server,
            Purpose::Client => Usage::Client,
        },
        crls: &crls,
        max_depth: opts.max_depth,
        memo: None,
    };
    let (ai, inters) = match query.at(opts.now) {
        Ok(p) => (p.anchor, p.intermediates),
        Err(refused) => {
            report.error = Some(explain(
                &refused.error,
                input,
                opts,
                &walked,
                refused.too_deep,
            ));
            report.findings = strict_findings(&walked, input, opts);
            return report;
        }
    };
    // The path, with where each certificate came from.
    let mut path: Vec<Who<'_>> = vec![Who::Leaf(&input.leaf)];
    for der in &inters {
        if let Some(s) = input
            .intermediates
            .iter()
            .find(|s| s.der.as_ref() == der.as_slice())
        {
            path.push(Who::Intermediate(s));
        }
    }
    let anchor = input.anchors.get(ai);
    if let Some(a) = anchor {
        path.push(Who::Anchor(a));
    }
    report.path = path
        .iter()
        .map(|w| {
            let s = w.source();
            PathEntry {
                file: s.file.clone(),
                index: s.index,
                subject: s.info.subject.clone(),
                issuer: s.info.issuer.clone(),
                not_before: s.info.not_before.clone(),
                not_after: s.info.not_after.clone(),
                role: w.role(),
            }
        })
        .collect();
    report.anchor = anchor.map(|a| PathAnchor {
        file: a.file.clone(),
        index: a.index,
        subject: a.info.subject.clone(),
    });
    report.findings = strict_findings(&path, input, opts);

    if let Some((shown, name)) = &opts.name {
        if leaf_ee.verify_is_valid_for_subject_name(name).is_err() {
            let info = &input.leaf.info;
            let mut names: Vec<String> = info.sans.dns.iter().map(|d| format!("DNS:{d}")).collect();
            names.extend(info.sans.ip.iter().map(|i| format!("IP:{i}")));
            let msg = if names.is_empty() {
                format!(
                    "leaf {} is not valid for {shown}: it has no DNS or IP subjectAltName (the CN is not used for names)",
                    info.subject
                )
            } else {
                format!(
                    "leaf {} is not valid for {shown}; it names {}",
                    info.subject,
                    names.join(", ")
                )
            };
            report.error = fail("name-mismatch", msg);
            return report;
        }
    }
    let strict_failures: Vec<&ProfileFinding> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if opts.strict && !strict_failures.is_empty() {
        report.error = fail(
            "strict",
            format!(
                "the path is valid for rustls-webpki, but --strict fails on {} profile rule violation{}: {}",
                strict_failures.len(),
                if strict_failures.len() == 1 { "" } else { "s" },
                strict_failures
                    .iter()
                    .map(|f| f.rule)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return report;
    }
    report.valid = true;
    report
}

fn presented_line(walked: &[Who<'_>]) -> String {
    walked
        .iter()
        .map(|w| w.source().info.subject.clone())
        .collect::<Vec<_>>()
        .join(" <- ")
}

/// Turns webpki's verdict into the facts: which certificate, which dates, names or CRL.
fn explain(
    e: &webpki::Error,
    input: &ChainInput,
    opts: &ChainOptions,
    walked: &[Who<'_>],
    too_deep: Option<usize>,
) -> ChainError {
    use webpki::Error as E;
    let now = opts.now;
    // Leaf and every candidate intermediate (webpki checks them all while building).
    let candidates: Vec<Who<'_>> = std::iter::once(Who::Leaf(&input.leaf))
        .chain(input.intermediates.iter().map(Who::Intermediate))
        .collect();
    let presented = format!("\nchain: {}", presented_line(walked));
    let (kind, message): (&'static str, String) = match e {
        E::UnknownIssuer => {
            let top = walked[walked.len() - 1];
            let s = top.source();
            let files = input.cacert_files.join(", ");
            let msg = if s.info.self_signed {
                format!(
                    "no path to a trusted certificate: the chain ends at the self-signed {}, which is not in --cacert ({files})",
                    top.describe()
                )
            } else {
                format!(
                    "no path to a trusted certificate: \"{}\", the issuer of {}, is not in --cacert ({files}) nor among the intermediates\nhint: add the certificate of \"{}\" to --cacert, or its intermediates with --untrusted",
                    s.info.issuer,
                    top.describe(),
                    s.info.issuer
                )
            };
            ("unknown-issuer", msg + &presented)
        }
        E::CertExpired { not_after, .. } => {
            let t = not_after.as_secs() as i64;
            let who = candidates.iter().find(|w| w.source().info.raw.not_after == t);
            let msg = match who {
                Some(w) => {
                    let i = &w.source().info;
                    format!(
                        "{} expired {}: valid {} .. {}, evaluated at {}",
                        w.describe(),
                        rfc3339(t),
                        i.not_before,
                        i.not_after,
                        rfc3339(now)
                    )
                }
                None => format!(
                    "a certificate of the path expired {}; evaluated at {}",
                    rfc3339(t),
                    rfc3339(now)
                ),
            };
            ("expired", msg)
        }
        E::CertNotValidYet { not_before, .. } => {
            let t = not_before.as_secs() as i64;
            let who = candidates.iter().find(|w| w.source().info.raw.not_before == t);
            let msg = match who {
                Some(w) => {
                    let i = &w.source().info;
                    format!(
                        "{} is not valid before {}: valid {} .. {}, evaluated at {}",
                        w.describe(),
                        rfc3339(t),
                        i.not_before,
                        i.not_after,
                        rfc3339(now)
                    )
                }
                None => format!(
                    "a certificate of the path is not valid before {}; evaluated at {}",
                    rfc3339(t),
                    rfc3339(now)
                ),
            };
            ("not-yet-valid", msg)
        }
        E::RequiredEkuNotFoundContext(_) => {
            let (what, oid) = purpose_text(opts.purpose);
            let who = walked
                .iter()
                .chain(candidates.iter())
                .find(|w| {
                    let i = &w.source().info;
                    i.raw.has_eku && !i.extended_key_usage.iter().any(|x| x == oid)
                })
                .copied();
            let msg = match who {
                Some(w) => {
                    let ekus = &w.source().info.extended_key_usage;
                    let other = match opts.purpose {
                        Purpose::Server if ekus.iter().any(|x| x == "clientAuth") => {
                            " (it is a client certificate: --purpose client)"
                        }
                        Purpose::Client if ekus.iter().any(|x| x == "serverAuth") => {
                            " (it is a server certificate: --purpose server)"
                        }
                        _ => "",
                    };
                    format!(
                        "{} is not valid for {what} authentication: its extended key usage is {}, without {oid}{other}",
                        w.describe(),
                        if ekus.is_empty() { "empty".into() } else { ekus.join(", ") }
                    )
                }
                None => format!("a certificate of the path is not valid for {what} authentication ({oid})"),
            };
            ("wrong-purpose", msg)
        }
        E::MaximumPathDepthExceeded if too_deep.is_some() => {
            let n = too_deep.unwrap_or_default();
            let max = opts.max_depth.unwrap_or_default();
            (
                "max-depth",
                format!(
                    "the path needs {n} intermediate{}, more than --max-depth {max}{presented}",
                    if n == 1 { "" } else { "s" }
                ),
            )
        }
        E::PathLenConstraintViolated => {
            let cas: Vec<String> = walked
                .iter()
                .filter_map(|w| {
                    w.source()
                        .info
                        .path_len
                        .map(|n| format!("{} allows {n} intermediate(s) below it", w.describe()))
                })
                .collect();
            (
                "path-length",
                format!(
                    "a CA's path length constraint is violated: {}{presented}",
                    if cas.is_empty() { "see the chain".into() } else { cas.join("; ") }
                ),
            )
        }
        E::NameConstraintViolation => (
            "name-constraints",
            format!(
                "a CA's name constraints exclude the names of leaf {}{presented}",
                input.leaf.info.subject
            ),
        ),
        E::CertRevoked => ("revoked", revoked_message(input, walked)),
        E::UnknownRevocationStatus => ("revocation-unknown", unknown_status_message(input, walked)),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            let weak: Vec<String> = walked
                .iter()
                .filter(|w| w.source().info.raw.sha1_or_md5 && !matches!(w, Who::Anchor(_)))
                .map(|w| format!("{} is signed with {}", w.describe(), w.source().info.signature_algorithm))
                .collect();
            (
                "unsupported-algorithm",
                if weak.is_empty() {
                    format!("{}{presented}", webpki_reason(e))
                } else {
                    format!("{}, which rustls-webpki does not accept{presented}", weak.join("; "))
                },
            )
        }
        E::InvalidSignatureForPublicKey => (
            "bad-signature",
            format!("a signature in the chain does not verify with its issuer's key (an issuer with the same name but another key?){presented}"),
        ),
        E::CaUsedAsEndEntity => (
            "ca-as-leaf",
            format!(
                "the first certificate of {} ({}) is a CA certificate, not a leaf: put the leaf first",
                input.leaf.file, input.leaf.info.subject
            ),
        ),
        E::EndEntityUsedAsCa => (
            "leaf-as-ca",
            format!("a leaf (CA:FALSE) certificate is used as an issuer{presented}"),
        ),
        other => ("rejected", format!("{}{presented}", webpki_reason(other))),
    };
    ChainError { kind, message }
}

fn revoked_message(input: &ChainInput, walked: &[Who<'_>]) -> String {
    let candidates = walked
        .iter()
        .copied()
        .chain(input.intermediates.iter().map(Who::Intermediate));
    for w in candidates {
        let s = w.source();
        let serial = raw_serial(&s.der);
        for crl in &input.crls {
            if strip_seq(&crl.issuer_der) != strip_seq(&s.info.raw.issuer_der) {
                continue;
            }
            if let Ok(Some(rc)) = crl.list.find_serial(&serial) {
                let reason = rc
                    .reason_code
                    .map(|r| format!(", reason {r:?}"))
                    .unwrap_or_default();
                return format!(
                    "{} (serial {}) is revoked by {} CRL #{} (issuer {}): revoked {}{reason}",
                    w.describe(),
                    s.info.serial,
                    crl.file,
                    crl.index,
                    crl.issuer,
                    rfc3339(rc.revocation_date.as_secs() as i64)
                );
            }
        }
    }
    format!(
        "a certificate of the path is revoked\nchain: {}",
        presented_line(walked)
    )
}

fn unknown_status_message(input: &ChainInput, walked: &[Who<'_>]) -> String {
    let hint = "\nhint: with --crl, every certificate of the path but the anchor needs a CRL from its issuer (like openssl verify -crl_check_all)";
    for w in walked.iter().filter(|w| !matches!(w, Who::Anchor(_))) {
        let s = w.source();
        let covered = input
            .crls
            .iter()
            .any(|c| strip_seq(&c.issuer_der) == strip_seq(&s.info.raw.issuer_der));
        if !covered {
            return format!(
                "the revocation status of {} is unknown: no --crl holds a CRL issued by \"{}\"{hint}",
                w.describe(),
                s.info.issuer
            );
        }
    }
    format!(
        "the revocation status of a certificate of the path is unknown (its issuer's CRL does not cover it){hint}"
    )
}

/// The profile rules of [`strict`] on `path` (leaf first, the anchor last when reached)
/// and on every `--crl`. Under `--strict` a violation has its rule's severity and fails the
/// run; otherwise it is listed as a warning at most (webpki's verdict alone decides).
fn strict_findings(
    path: &[Who<'_>],
    input: &ChainInput,
    opts: &ChainOptions,
) -> Vec<ProfileFinding> {
    let ders: Vec<&[u8]> = path.iter().map(|w| w.source().der.as_ref()).collect();
    let anchor = path.iter().position(|w| matches!(w, Who::Anchor(_)));
    let crls: Vec<strict::CrlInput<'_>> = input
        .crls
        .iter()
        .map(|c| strict::CrlInput {
            der: &c.der,
            label: format!("{} CRL #{} (issuer {})", c.file, c.index, c.issuer),
        })
        .collect();
    let profile = match opts.purpose {
        Purpose::Server => strict::LeafProfile::Server,
        Purpose::Client => strict::LeafProfile::Other,
    };
    let mut out = strict::check_path(
        &ders,
        anchor,
        &crls,
        &strict::Options {
            profile,
            now: opts.now,
        },
    );
    if !opts.strict {
        for f in &mut out {
            f.severity = f.severity.min(Severity::Warn);
        }
    }
    out
}

/// Parses `--name` (DNS name or IP address).
pub fn parse_name(s: &str) -> Result<(String, ServerName<'static>), InputError> {
    ServerName::try_from(s.to_string())
        .map(|n| (s.to_string(), n))
        .map_err(|_| {
            InputError::new(
                "--name",
                format!("{s:?} is not a valid DNS name or IP address"),
            )
        })
}

/// Reads, validates and reports; returns the report or the input error.
pub fn report(args: &ChainRequest, now: UnixSeconds) -> Result<ChainReport, InputError> {
    let name = args.name.as_deref().map(parse_name).transpose()?;
    let input = load(args, now)?;
    let opts = ChainOptions {
        name,
        purpose: args.purpose,
        max_depth: args.max_depth,
        strict: args.strict,
        now,
    };
    Ok(validate(&input, &opts))
}
