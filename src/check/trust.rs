//! The server's certificate judged: `chain-trust`, `anchor`, `server-name`, `expiry`.
//!
//! Each failure is attributed to its own step: path building is retried at a time when
//! every presented certificate is valid, so an expired but otherwise trusted chain fails
//! `expiry` and passes `chain-trust`.

use crate::step::Step;
use rustls_pki_types::{CertificateDer, ServerName};
use webpki::EndEntityCert;

use crate::clock::{rfc3339, UnixSeconds};
use crate::finding::{Check, Status};
use crate::pki::describe::{self, CertInfo};
use crate::pki::path::{AnchorSet, PathQuery, Refused, Usage};
use crate::pki::trust::{AnchorInfo, TrustStore};
use crate::pki::validity::{self, Validity};

/// The judgement of a presented chain.
#[derive(Debug, Clone)]
pub struct ChainJudgement {
    /// `chain-trust`, `anchor`, `server-name`, `expiry`, in that order.
    pub checks: Vec<Check>,
    pub anchor: Option<AnchorInfo>,
    /// The presented chain, described (index = position as presented).
    pub chain: Vec<CertInfo>,
    /// Every certificate check passed (credentials may be sent).
    pub trusted: bool,
    /// The verified path (leaf first, the anchor last when it came from a file); empty
    /// when the chain is not trusted.
    pub verified_path: Vec<CertInfo>,
    /// The verified path as DER, as `verified_path` (for `--strict`).
    pub verified_der: Vec<Vec<u8>>,
    /// Position of the trust anchor in `verified_der`, when it came from a file (the
    /// built-in roots and a pinned leaf are not on the path as certificates).
    pub anchor_position: Option<usize>,
}

/// Judges the presented chain against the trust store, the expected name and `now`.
pub fn judge_chain(
    presented: &[CertificateDer<'_>],
    trust: &TrustStore,
    expected: &ServerName<'_>,
    now: UnixSeconds,
    warn_days: i64,
) -> ChainJudgement {
    let mut chain: Vec<CertInfo> = presented
        .iter()
        .enumerate()
        .filter_map(|(i, der)| describe::describe(i, der, now).ok())
        .collect();
    let skip = |name, why: &str| Check::new(name, Status::Skip, why);

    let Some(leaf_der) = presented.first() else {
        return ChainJudgement {
            checks: vec![
                Check::new(
                    Step::ChainTrust,
                    Status::Fail,
                    "the server presented no certificate",
                ),
                skip(Step::Anchor, "no chain"),
                skip(Step::ServerName, "no certificate"),
                skip(Step::Expiry, "no certificate"),
            ],
            anchor: None,
            chain,
            trusted: false,
            verified_path: vec![],
            verified_der: vec![],
            anchor_position: None,
        };
    };
    let leaf = match EndEntityCert::try_from(leaf_der) {
        Ok(l) => l,
        Err(e) => {
            link_presented(&mut chain, presented, &[], false, now, warn_days);
            return ChainJudgement {
                checks: vec![
                    Check::new(
                        Step::ChainTrust,
                        Status::Fail,
                        format!("the server's certificate cannot be parsed: {e}"),
                    ),
                    skip(Step::Anchor, "no chain"),
                    skip(Step::ServerName, "certificate unparseable"),
                    skip(Step::Expiry, "certificate unparseable"),
                ],
                anchor: None,
                chain,
                trusted: false,
                verified_path: vec![],
                verified_der: vec![],
                anchor_position: None,
            };
        }
    };

    let (trust_check, anchor, path_ders, verified_at) =
        chain_trust(&leaf, leaf_der, presented, trust, &chain, now);
    link_presented(
        &mut chain,
        presented,
        &path_ders,
        trust_check.status == Status::Pass,
        now,
        warn_days,
    );
    // Certificate #0 of the anchor's file anchors the path itself (directly, or as the
    // root the bundle leads to): nothing to ask again. Otherwise a second verification with
    // #0 alone tells whether a client that imports only it would fail.
    let first_only_ok = anchor.as_ref().is_some_and(|a| {
        (a.index == 0 && a.via.is_empty())
            || first_only_verifies(presented, trust, &a.file, verified_at)
    });
    let anchor_check = anchor_check(&trust_check, anchor.as_ref(), trust, first_only_ok);
    let name_check = server_name_check(&leaf, expected, chain.first());
    // Without a verified path only the leaf is judged: extra certificates a server sends
    // (or a decoy) must not take the blame.
    // Each certificate is described once: the path reuses the presented chain's
    // descriptions (only a bundle anchor is new).
    let path_infos = describe_path(&path_ders, presented, &chain, now);
    let judged = if trust_check.status == Status::Pass {
        &path_infos[..]
    } else {
        &path_infos[..1.min(path_infos.len())]
    };
    let expiry_check = expiry_check(judged, now, warn_days);
    let trusted = trust_check.status == Status::Pass
        && name_check.status == Status::Pass
        && expiry_check.status != Status::Fail;
    let verified_path = if trust_check.status == Status::Pass {
        path_infos
    } else {
        vec![]
    };
    let verified = trust_check.status == Status::Pass;
    // chain_trust puts the anchor's certificate last when it came from a --cacert file.
    let anchor_position = (verified
        && !trust.builtin
        && anchor.as_ref().is_some_and(|a| !a.pinned)
        && path_ders.len() > 1)
        .then(|| path_ders.len() - 1);
    ChainJudgement {
        checks: vec![trust_check, anchor_check, name_check, expiry_check],
        anchor,
        chain,
        trusted,
        verified_path,
        verified_der: if verified { path_ders } else { vec![] },
        anchor_position,
    }
}

/// Returns the `chain-trust` check, the anchor, and the DER of the verified path (leaf
/// first, anchor last when it came from a file).
fn chain_trust(
    leaf: &EndEntityCert<'_>,
    leaf_der: &CertificateDer<'_>,
    presented: &[CertificateDer<'_>],
    trust: &TrustStore,
    chain: &[CertInfo],
    now: UnixSeconds,
) -> (Check, Option<AnchorInfo>, Vec<Vec<u8>>, UnixSeconds) {
    // A trusted certificate presented as the server's own pins the server when it is
    // byte-identical: a non-CA leaf, or a self-signed CA:TRUE certificate (what
    // `openssl req -x509` makes), which openssl and redis-cli accept the same way. The
    // server still proved possession of its key in the handshake.
    if let Some(src) = trust.sources.iter().find(|s| {
        s.der
            .as_ref()
            .is_some_and(|d| d.as_ref() == leaf_der.as_ref())
    }) {
        let info = AnchorInfo {
            file: src.file.clone(),
            index: src.index,
            subject: src.subject.clone(),
            pinned: true,
            via: vec![],
        };
        let msg = format!(
            "pinned: the presented certificate is byte-identical to {} #{} ({})",
            src.file, src.index, src.subject
        );
        return (
            Check::new(Step::ChainTrust, Status::Pass, msg),
            Some(info),
            vec![leaf_der.to_vec()],
            now,
        );
    }
    let intermediates = &presented[1..];
    let query = PathQuery {
        leaf,
        anchors: &trust.anchors,
        intermediates,
        usage: Usage::Server,
        crls: &[],
        max_depth: None,
        memo: Some((&trust.memo, AnchorSet::All)),
    };
    let (mut result, verified_at) = query.apart_from_dates(now, candidate_times(chain));
    if matches!(&result, Err(r) if r.is_time()) {
        // webpki ranks date errors above the others, so one expired certificate with a
        // matching name hides why the rest of the chain is refused. Ask again without the
        // certificates that are out of their dates now, for the real reason.
        let described = if chain.len() == presented.len() {
            chain.get(1..).unwrap_or(&[])
        } else {
            &[]
        };
        let current: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .zip(described)
            .filter(|(_, c)| Validity::of(c, now).is_current())
            .map(|(d, _)| d.clone())
            .collect();
        if current.len() < intermediates.len() {
            let without = PathQuery {
                intermediates: &current,
                ..query
            };
            if let Err(r) = without.at(now) {
                if !r.is_time() {
                    result = Err(r);
                }
            }
        }
    }
    match result {
        Ok(path) => {
            let idx = Some(path.anchor);
            // The path ends at a bundle certificate; like openssl, follow it up through
            // the bundle to the self-signed root that issued it.
            let (via, top) = match idx {
                Some(i) => bundle_root(trust, i),
                None => (vec![], None),
            };
            let src = top.map(|i| &trust.sources[i]);
            let anchor = src.map(|s| AnchorInfo {
                file: s.file.clone(),
                index: s.index,
                subject: s.subject.clone(),
                pinned: false,
                via: via.iter().map(|i| trust.sources[*i].index).collect(),
            });
            let mut path_ders: Vec<Vec<u8>> = vec![leaf_der.to_vec()];
            path_ders.extend(path.intermediates);
            for d in via
                .iter()
                .chain(top.iter())
                .filter_map(|i| trust.sources[*i].der.as_ref())
            {
                path_ders.push(d.to_vec());
            }
            let names: Vec<String> = path_ders
                .iter()
                .filter_map(|d| x509_parser::parse_x509_certificate(d).ok())
                .map(|(_, c)| describe::display_name(c.subject()))
                .collect();
            let mut msg = format!(
                "chain leads to {}",
                anchor
                    .as_ref()
                    .map(|a| format!("{} #{} ({})", a.file, a.index, a.subject))
                    .unwrap_or_else(|| "a trusted root".into())
            );
            msg.push_str(&format!("\npath: {}", names.join(" <- ")));
            msg.push_str(&format!("\ntrust store: {}", trust.store));
            // A path found at another time than now: trust was judged apart from dates.
            if verified_at != now {
                msg.push_str("\n(trust judged apart from dates: see expiry)");
            }
            (
                Check::new(Step::ChainTrust, Status::Pass, msg),
                anchor,
                path_ders,
                verified_at,
            )
        }
        Err(Refused { error: e, .. }) => {
            let presented_names = chain
                .iter()
                .map(|c| c.subject.clone())
                .collect::<Vec<_>>()
                .join(" <- ");
            let mut msg = match &e {
                webpki::Error::UnknownIssuer => format!(
                    "server chain does not lead to any certificate in {}",
                    trust.store
                ),
                other => format!("server chain rejected: {}", webpki_reason(other)),
            };
            msg.push_str(&format!("\npresented: {presented_names}"));
            if matches!(e, webpki::Error::UnknownIssuer) {
                if let Some(top) = chain.last() {
                    let n_roots = trust.sources.len();
                    msg.push_str(&format!(
                        "\nhint: the trusted set has {n_roots} certificate{}; none issued \"{}\"",
                        if n_roots == 1 { "" } else { "s" },
                        top.issuer
                    ));
                }
            }
            (
                Check::new(Step::ChainTrust, Status::Fail, msg),
                None,
                presented.iter().map(|c| c.to_vec()).collect(),
                now,
            )
        }
    }
}

/// From the anchor webpki stopped at (`trust.sources[start]`), the bundle certificates
/// crossed up to the self-signed root of the same file that issued it (each link
/// confirmed by its signature), and that root. Without such a root the anchor itself is
/// the top: `(vec![], Some(start))`.
fn bundle_root(trust: &TrustStore, start: usize) -> (Vec<usize>, Option<usize>) {
    let mut via: Vec<usize> = Vec::new();
    let mut cur = start;
    // Bounded by the bundle: every step moves to a certificate not visited yet.
    while via.len() < trust.sources.len() {
        let src = &trust.sources[cur];
        let Some(der) = src.der.as_ref() else { break };
        // A self-issued certificate is the top (a trust anchor: its self-signature is not
        // relied on, as webpki never checks it), so names decide, not a signature check.
        if self_issued(der) {
            break;
        }
        let issuer = trust.sources.iter().enumerate().position(|(i, o)| {
            i != cur
                && i != start
                && !via.contains(&i)
                && o.file == src.file
                && o.der
                    .as_ref()
                    .is_some_and(|od| crate::pki::bundle::signed_by(der, od))
        });
        match issuer {
            Some(i) => {
                via.push(cur);
                cur = i;
            }
            None => break,
        }
    }
    (via, Some(cur))
}

/// Subject and issuer are the same name.
fn self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .is_ok_and(|(_, c)| c.tbs_certificate.subject.as_raw() == c.tbs_certificate.issuer.as_raw())
}

/// Whether the presented chain verifies against a trust set holding only certificate #0
/// of `file`: what a client that imports only the first certificate of a PEM would do.
fn first_only_verifies(
    presented: &[CertificateDer<'_>],
    trust: &TrustStore,
    file: &str,
    at: UnixSeconds,
) -> bool {
    let Some(first) = trust
        .sources
        .iter()
        .position(|s| s.file == file && s.index == 0)
    else {
        return false;
    };
    let Some(leaf_der) = presented.first() else {
        return false;
    };
    let Ok(leaf) = EndEntityCert::try_from(leaf_der) else {
        return false;
    };
    if trust.sources[first]
        .der
        .as_ref()
        .is_some_and(|d| d.as_ref() == leaf_der.as_ref())
    {
        return true;
    }
    PathQuery {
        leaf: &leaf,
        anchors: &trust.anchors[first..=first],
        intermediates: &presented[1..],
        usage: Usage::Server,
        crls: &[],
        max_depth: None,
        memo: Some((&trust.memo, AnchorSet::Only(first))),
    }
    .at(at)
    .is_ok()
}

/// Times worth trying when `now` is outside some validity period: the common window of
/// the presented certificates, then each certificate's own start and end. Every retry is a
/// full webpki verification (signatures, CA flags, EKU, constraints) at that time: only
/// the clock moves, and `expiry` judges the dates at the real evaluation time. There is
/// deliberately no weaker fallback: a chain never valid at any single time fails.
fn candidate_times(chain: &[CertInfo]) -> Vec<UnixSeconds> {
    let mut times = Vec::new();
    if let (Some(start), Some(end)) = (
        chain.iter().map(|c| c.raw.not_before).max(),
        chain.iter().map(|c| c.raw.not_after).min(),
    ) {
        if start <= end {
            times.push(start);
        }
    }
    // Bounded: a peer that presents a long chain must not buy many path builds.
    for c in chain.iter().take(8) {
        times.extend([c.raw.not_before, c.raw.not_after]);
    }
    times
}

/// webpki's refusal in words, for a server chain.
fn webpki_reason(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::CaUsedAsEndEntity => "the server presented a CA certificate as its own".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "the leaf is not valid for TLS servers (no serverAuth in its extended key usage)".into()
        }
        E::CertExpired { .. } | E::CertNotValidYet { .. } => {
            "the certificates have no common validity period".into()
        }
        other => crate::pki::path::webpki_reason(other),
    }
}

/// `anchor`: which trusted certificate anchored the chain. `first_only_ok`: the chain
/// also verifies with only certificate #0 of the anchor's file (so a client that imports
/// only the first certificate of the PEM is fine).
fn anchor_check(
    trust_check: &Check,
    anchor: Option<&AnchorInfo>,
    trust: &TrustStore,
    first_only_ok: bool,
) -> Check {
    if trust_check.status != Status::Pass {
        return Check::new(Step::Anchor, Status::Skip, "no anchor: chain-trust failed");
    }
    let Some(a) = anchor else {
        return Check::new(Step::Anchor, Status::Pass, "anchored by a trusted root");
    };
    let source = trust
        .sources
        .iter()
        .find(|s| s.file == a.file && s.index == a.index);
    if a.pinned && source.is_some_and(|s| !s.is_leaf) {
        return Check::new(
            Step::Anchor,
            Status::Warn,
            format!(
                "pinned {} #{}, but the server's certificate is a CA certificate (CA:TRUE or keyCertSign): it is trusted here because it is byte-identical to the pinned one; issue the server a leaf certificate signed by a CA",
                a.file, a.index
            ),
        );
    }
    if a.pinned {
        return Check::new(
            Step::Anchor,
            Status::Pass,
            format!("pinned leaf {} #{}", a.file, a.index),
        );
    }
    let via = if a.via.is_empty() {
        String::new()
    } else {
        let v: Vec<String> = a.via.iter().map(|i| format!("#{i}")).collect();
        format!(" via {}", v.join(", "))
    };
    let size = trust
        .file_sizes
        .iter()
        .find(|(f, _)| *f == a.file)
        .map_or(0, |(_, n)| *n);
    if !first_only_ok && size > 1 {
        let first = trust
            .sources
            .iter()
            .find(|s| s.file == a.file && s.index == 0)
            .map(|s| s.subject.clone())
            .unwrap_or_default();
        return Check::new(
            Step::Anchor,
            Status::Warn,
            format!(
                "anchored by {} #{} ({}){via}, not the first certificate of the file, and the chain does not verify with #0 alone: a client that imports only the first certificate (#0 {first}) will fail; import all {size}",
                a.file, a.index, a.subject
            ),
        );
    }
    Check::new(
        Step::Anchor,
        Status::Pass,
        format!("{} #{} ({}){via}", a.file, a.index, a.subject),
    )
}

/// At most 10 names, then how many more: a certificate may carry thousands.
fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 10;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{} and {} more ({} names in all)",
            names[..SHOWN].join(", "),
            names.len() - SHOWN,
            names.len()
        )
    }
}

fn server_name_check(
    leaf: &EndEntityCert<'_>,
    expected: &ServerName<'_>,
    info: Option<&CertInfo>,
) -> Check {
    let shown = match expected {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "?".into(),
    };
    let names = info
        .map(|c| {
            let mut v: Vec<String> = c.sans.dns.iter().map(|d| format!("DNS:{d}")).collect();
            v.extend(c.sans.ip.iter().map(|i| format!("IP:{i}")));
            v
        })
        .unwrap_or_default();
    match leaf.verify_is_valid_for_subject_name(expected) {
        Ok(()) => Check::new(Step::ServerName, Status::Pass, format!("certificate is valid for {shown}")),
        Err(_) if names.is_empty() => Check::new(
            Step::ServerName,
            Status::Fail,
            format!("certificate is not valid for {shown}: it has no subjectAltName (the CN is not used for names)"),
        ),
        Err(_) => Check::new(
            Step::ServerName,
            Status::Fail,
            format!(
                "certificate is not valid for {shown}; it names {}\nhint: connect with a name it carries, or pass --name to check another identity",
                name_list(&names)
            ),
        ),
    }
}

/// Links `issued_by` in the presented chain. Along a path webpki verified, the links are
/// the path's own (their signatures were just verified); otherwise, or for presented
/// certificates off the path, the bundle analysis confirms each link by its signature.
fn link_presented(
    chain: &mut [CertInfo],
    presented: &[CertificateDer<'_>],
    path: &[Vec<u8>],
    verified: bool,
    now: UnixSeconds,
    warn_days: i64,
) {
    if chain.len() != presented.len() {
        return;
    }
    let at = |d: &[u8]| presented.iter().position(|p| p.as_ref() == d);
    let on_path = verified
        && presented
            .iter()
            .all(|p| path.iter().any(|d| d.as_slice() == p.as_ref()));
    if on_path {
        for w in path.windows(2) {
            if let (Some(i), Some(j)) = (at(&w[0]), at(&w[1])) {
                chain[i].issued_by = Some(j);
            }
        }
        return;
    }
    let ders: Vec<&[u8]> = presented.iter().map(|c| c.as_ref()).collect();
    crate::pki::bundle::analyse(
        chain,
        &ders,
        crate::pki::bundle::Options {
            now,
            warn_days,
            check_signatures: false,
        },
    );
}

/// The certificates of `path` described, index = position on the path; a certificate
/// that was presented reuses its description from `chain`.
fn describe_path(
    path: &[Vec<u8>],
    presented: &[CertificateDer<'_>],
    chain: &[CertInfo],
    now: UnixSeconds,
) -> Vec<CertInfo> {
    path.iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let known = presented
                .iter()
                .position(|p| p.as_ref() == d.as_slice())
                .and_then(|j| chain.iter().find(|c| c.index == j));
            let mut info = match known {
                Some(c) => c.clone(),
                None => describe::describe(i, d, now).ok()?,
            };
            info.index = i;
            Some(info)
        })
        .collect()
}

fn expiry_check(infos: &[CertInfo], now: UnixSeconds, warn_days: i64) -> Check {
    let Some(leaf) = infos.first() else {
        return Check::new(Step::Expiry, Status::Skip, "no certificate");
    };
    let role = |i: usize| {
        if i == 0 {
            "leaf".to_string()
        } else {
            format!("chain #{i}")
        }
    };
    for (i, c) in infos.iter().enumerate() {
        let out_of_dates = match Validity::of(c, now) {
            Validity::Expired {
                not_after,
                days_ago,
            } => format!(
                "{} {} expired {} ({days_ago} days ago)",
                role(i),
                c.subject,
                rfc3339(not_after)
            ),
            Validity::NotYetValid { not_before } => format!(
                "{} {} is not valid before {}",
                role(i),
                c.subject,
                rfc3339(not_before)
            ),
            Validity::Current { .. } => continue,
        };
        return Check::new(Step::Expiry, Status::Fail, out_of_dates);
    }
    let (ei, earliest) = validity::earliest(infos).unwrap_or((0, leaf));
    let leaf_msg = format!(
        "leaf expires {} ({} days left)",
        rfc3339(leaf.raw.not_after),
        leaf.days_left
    );
    let chain_msg = if ei == 0 {
        String::new()
    } else {
        format!(
            "; earliest in chain: {} {} ({} days left)",
            role(ei),
            earliest.subject,
            earliest.days_left
        )
    };
    if Validity::of(earliest, now).expiring_within(warn_days) {
        Check::new(
            Step::Expiry,
            Status::Warn,
            format!("{leaf_msg}{chain_msg}; warning threshold {warn_days} days"),
        )
    } else {
        Check::new(Step::Expiry, Status::Pass, format!("{leaf_msg}{chain_msg}"))
    }
}
