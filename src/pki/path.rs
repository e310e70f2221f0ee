//! The one chain validator: every certification path tlsprobe judges (the server chain of
//! `verify`, the offline path of `chain`, the client chain of `mtls`) is built here, by
//! rustls-webpki, with the same signature algorithms and the same reading of the result.
//!
//! tlsprobe never validates more loosely than webpki: callers may only add restrictions
//! (`max_depth`, CRLs) or ask again at another evaluation time, and a time other than now is
//! only ever used to judge trust apart from dates, which the expiry judgement
//! ([`crate::pki::validity`]) then reports at the real time.

use std::sync::Mutex;

use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter, KeyUsage,
    RevocationOptionsBuilder, VerifiedPath,
};

use crate::clock::UnixSeconds;
use crate::pki::algs;

/// Which extended key usage the leaf must allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// serverAuth (a server chain).
    Server,
    /// clientAuth (a client chain).
    Client,
    /// Any purpose: the chain judged apart from its EKU, when a step of its own reports it.
    /// The EKU extension must still be well-formed.
    Any,
}

/// One path question: this leaf, these candidate intermediates, these anchors.
pub struct PathQuery<'q> {
    pub leaf: &'q EndEntityCert<'q>,
    pub anchors: &'q [TrustAnchor<'q>],
    pub intermediates: &'q [CertificateDer<'q>],
    pub usage: Usage,
    /// With CRLs, revocation is checked for the whole chain and a certificate whose issuer
    /// published no CRL among them is an error (webpki's default).
    pub crls: &'q [&'q CertRevocationList<'q>],
    /// At most this many intermediates on the path (a restriction on top of webpki's).
    pub max_depth: Option<usize>,
    /// Where to remember the answer, and which anchors of the memo's trust store
    /// `anchors` are (see [`PathMemo`]). Ignored when CRLs are given.
    pub memo: Option<(&'q PathMemo, AnchorSet)>,
}

/// Which anchors of a trust store a query uses: the key that tells memoized answers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorSet {
    /// Every anchor of the store.
    All,
    /// Only the anchor at this index (the "first certificate only" question).
    Only(usize),
}

/// Path answers already computed against one trust store. Building a path is the costly,
/// pure part of judging a chain (signature checks): the nodes of one Redis Cluster, or the
/// targets of an audit, usually present the same chain, and the answer for the same chain,
/// anchors, usage, depth limit and time is the same answer. The key holds the whole chain
/// (bytes, not a hash), so a hit is exactly the question asked before. Bounded: once full,
/// new answers are computed and not kept. A clone starts empty (it may belong to another
/// store).
#[derive(Debug, Default)]
pub struct PathMemo {
    entries: Mutex<Vec<(MemoKey, Result<ValidPath, Refused>)>>,
}

/// At most this many answers per trust store (a few KiB each).
const MEMO_CAPACITY: usize = 64;

#[derive(Debug, PartialEq, Eq)]
struct MemoKey {
    leaf: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
    anchors: AnchorSet,
    usage: Usage,
    max_depth: Option<usize>,
    at: UnixSeconds,
}

impl Clone for PathMemo {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PathMemo {
    fn get(&self, key: &MemoKey) -> Option<Result<ValidPath, Refused>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, key: MemoKey, answer: &Result<ValidPath, Refused>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() < MEMO_CAPACITY && !entries.iter().any(|(k, _)| *k == key) {
            entries.push((key, answer.clone()));
        }
    }
}

/// A path webpki verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPath {
    /// Index into the query's anchors of the one the path ends at.
    pub anchor: usize,
    /// The intermediates of the path, leaf side first (DER).
    pub intermediates: Vec<Vec<u8>>,
}

/// Why no path was accepted.
#[derive(Debug, Clone)]
pub struct Refused {
    pub error: webpki::Error,
    /// Set when the refusal is `max_depth`: the number of intermediates of the path found.
    pub too_deep: Option<usize>,
}

impl Refused {
    /// webpki refused only because of the evaluation time.
    pub fn is_time(&self) -> bool {
        is_time_error(&self.error)
    }
}

impl PathQuery<'_> {
    /// Builds and verifies a path with the evaluation time `t` (or recalls the answer to the
    /// same question from the memo).
    pub fn at(&self, t: UnixSeconds) -> Result<ValidPath, Refused> {
        let Some((memo, anchors)) = self.memo.filter(|_| self.crls.is_empty()) else {
            return self.build(t);
        };
        let key = MemoKey {
            leaf: self.leaf.der().to_vec(),
            intermediates: self.intermediates.iter().map(|c| c.to_vec()).collect(),
            anchors,
            usage: self.usage,
            max_depth: self.max_depth,
            at: t,
        };
        if let Some(answer) = memo.get(&key) {
            return answer;
        }
        let answer = self.build(t);
        memo.put(key, &answer);
        answer
    }

    fn build(&self, t: UnixSeconds) -> Result<ValidPath, Refused> {
        let too_deep = std::cell::Cell::new(None);
        let check_depth = |p: &VerifiedPath<'_>| -> Result<(), webpki::Error> {
            let n = p.intermediate_certificates().count();
            match self.max_depth {
                Some(max) if n > max => {
                    too_deep.set(Some(n));
                    Err(webpki::Error::MaximumPathDepthExceeded)
                }
                _ => Ok(()),
            }
        };
        let revocation = if self.crls.is_empty() {
            None
        } else {
            RevocationOptionsBuilder::new(self.crls)
                .ok()
                .map(|b| b.build())
        };
        let verify = |eku: &dyn Fn(KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error>| {
            self.leaf
                .verify_for_usage(
                    algs::VERIFICATION_ALGS,
                    self.anchors,
                    self.intermediates,
                    unix_time(t),
                    Eku(eku),
                    revocation,
                    Some(&check_depth),
                )
                .map(|path| ValidPath {
                    anchor: self
                        .anchors
                        .iter()
                        .position(|a| a == path.anchor())
                        .unwrap_or(0),
                    intermediates: path
                        .intermediate_certificates()
                        .map(|c| c.der().to_vec())
                        .collect(),
                })
        };
        let result = match self.usage {
            Usage::Server => verify(&|i| KeyUsage::server_auth().validate(i)),
            Usage::Client => verify(&|i| KeyUsage::client_auth().validate(i)),
            Usage::Any => verify(&any_purpose),
        };
        result.map_err(|error| Refused {
            error,
            too_deep: too_deep.get(),
        })
    }

    /// Verifies at `now`; when only dates stand in the way, at the first of `times` where
    /// they do not, for trust judged apart from dates. Returns the result and the time it
    /// was judged at. Every retry is a full verification: only the clock moves.
    pub fn apart_from_dates(
        &self,
        now: UnixSeconds,
        times: impl IntoIterator<Item = UnixSeconds>,
    ) -> (Result<ValidPath, Refused>, UnixSeconds) {
        let mut result = self.at(now);
        let mut judged_at = now;
        if matches!(&result, Err(r) if r.is_time()) {
            for t in times {
                judged_at = t;
                result = self.at(t);
                if !matches!(&result, Err(r) if r.is_time()) {
                    break;
                }
            }
        }
        (result, judged_at)
    }
}

/// Adapts a closure to webpki's EKU validator trait (one verify call for every usage).
struct Eku<'f>(&'f dyn Fn(KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error>);

impl ExtendedKeyUsageValidator for Eku<'_> {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        (self.0)(iter)
    }
}

/// Accepts every purpose, but the EKU extension must still be well-formed (and fully read).
fn any_purpose(iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
    for id in iter {
        id?;
    }
    Ok(())
}

/// Whether webpki refused only because of the evaluation time.
pub fn is_time_error(e: &webpki::Error) -> bool {
    matches!(
        e,
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. }
    )
}

/// The verification time as rustls-pki-types wants it (times before 1970 clamp to the epoch).
pub fn unix_time(t: UnixSeconds) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0) as u64))
}

/// A webpki error in words.
pub fn webpki_reason(e: &webpki::Error) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => "issuer unknown".into(),
        E::UnsupportedSignatureAlgorithmForPublicKeyContext(c)
            if algs::is_rsa_pss_key(&c.public_key_algorithm_id) =>
        {
            algs::RSA_PSS_ISSUER.into()
        }
        E::UnsupportedSignatureAlgorithmContext(c)
            if algs::is_rsa_pss_key(&c.signature_algorithm_id) =>
        {
            algs::RSA_PSS_SIGNATURE.into()
        }
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a certificate uses a signature algorithm rustls-webpki does not accept (SHA-1, MD5, or an RSA key under 2048 bits?)".into()
        }
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
        E::CaUsedAsEndEntity => "a CA certificate is presented as the leaf".into(),
        E::EndEntityUsedAsCa => "a leaf certificate is used as an issuer".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "a certificate's extended key usage does not allow this purpose".into()
        }
        E::PathLenConstraintViolated => "a CA's path length constraint is violated".into(),
        E::NameConstraintViolation => "a CA's name constraints are violated".into(),
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded => {
            "the chain is too long".into()
        }
        E::CertExpired { .. } => "a certificate has expired".into(),
        E::CertNotValidYet { .. } => "a certificate is not yet valid".into(),
        E::CertRevoked => "a certificate is revoked".into(),
        E::UnknownRevocationStatus => "the revocation status of a certificate is unknown".into(),
        E::CertDistrusted => "a certificate of the chain is distrusted".into(),
        E::UnsupportedCertVersion => "a certificate is not X.509 version 3".into(),
        E::UnsupportedCriticalExtension => {
            "a certificate has a critical extension webpki does not support".into()
        }
        E::IssuerNotCrlSigner => "a CRL's issuer lacks the cRLSign key usage".into(),
        E::InvalidCrlSignatureForPublicKey => "a CRL's signature does not verify".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const NOW: UnixSeconds = 1_780_272_000;

    fn certs(name: &str) -> Vec<CertificateDer<'static>> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name);
        crate::pki::pem::read_file(&path)
            .unwrap()
            .certs
            .into_iter()
            .map(|c| c.der)
            .collect()
    }

    /// Asks `f` about `chain` against the single root in `root`.
    fn with_query<R>(chain: &str, root: &str, f: impl FnOnce(PathQuery<'_>) -> R) -> R {
        let chain = certs(chain);
        let root = certs(root);
        let anchors = [webpki::anchor_from_trusted_cert(&root[0]).unwrap()];
        let leaf = EndEntityCert::try_from(&chain[0]).unwrap();
        f(PathQuery {
            leaf: &leaf,
            anchors: &anchors,
            intermediates: &chain[1..],
            usage: Usage::Server,
            crls: &[],
            max_depth: None,
            memo: None,
        })
    }

    #[test]
    fn a_server_chain_verifies_for_servers_and_any_purpose_but_not_clients() {
        with_query("server-chain.pem", "serving-root.pem", |mut q| {
            let path = q.at(NOW).unwrap();
            assert_eq!((path.anchor, path.intermediates.len()), (0, 1));
            q.usage = Usage::Client;
            let refused = q.at(NOW).unwrap_err();
            assert!(matches!(
                refused.error,
                webpki::Error::RequiredEkuNotFoundContext(_)
            ));
            q.usage = Usage::Any;
            assert!(q.at(NOW).is_ok());
        });
    }

    #[test]
    fn max_depth_refuses_a_longer_path_and_says_how_long() {
        with_query("server-chain.pem", "serving-root.pem", |mut q| {
            q.max_depth = Some(0);
            let refused = q.at(NOW).unwrap_err();
            assert!(matches!(
                refused.error,
                webpki::Error::MaximumPathDepthExceeded
            ));
            assert_eq!(refused.too_deep, Some(1));
            q.max_depth = Some(1);
            assert!(q.at(NOW).is_ok());
        });
    }

    #[test]
    fn an_expired_chain_is_trusted_only_apart_from_dates() {
        with_query("server-expired-chain.pem", "serving-root.pem", |q| {
            let refused = q.at(NOW).unwrap_err();
            assert!(refused.is_time());
            let (result, at) = q.apart_from_dates(NOW, [NOW - 1, 1_704_067_300]);
            assert!(result.is_ok());
            assert_eq!(at, 1_704_067_300);
            // No time inside the dates: still refused, judged at the last time tried.
            let (result, at) = q.apart_from_dates(NOW, [NOW + 1]);
            assert!(result.unwrap_err().is_time());
            assert_eq!(at, NOW + 1);
        });
    }

    #[test]
    fn an_unrelated_root_is_an_unknown_issuer() {
        with_query("server-chain.pem", "other-root.pem", |q| {
            let refused = q.at(NOW).unwrap_err();
            assert!(matches!(refused.error, webpki::Error::UnknownIssuer));
            assert_eq!(webpki_reason(&refused.error), "issuer unknown");
        });
    }

    #[test]
    fn the_memo_answers_only_the_same_question() {
        let len = |m: &PathMemo| m.entries.lock().unwrap().len();
        with_query("server-chain.pem", "serving-root.pem", |q| {
            let memo = PathMemo::default();
            let mut q = PathQuery { memo: None, ..q };
            let fresh = q.at(NOW).unwrap();
            q.memo = Some((&memo, AnchorSet::All));
            assert_eq!(q.at(NOW).unwrap(), fresh);
            assert_eq!(q.at(NOW).unwrap(), fresh);
            assert_eq!(len(&memo), 1);
            // Another time, usage, depth limit or anchor set is another question.
            assert!(q.at(NOW + 1).is_ok());
            q.usage = Usage::Client;
            assert!(q.at(NOW).is_err());
            q.usage = Usage::Server;
            q.max_depth = Some(0);
            assert_eq!(q.at(NOW).unwrap_err().too_deep, Some(1));
            q.max_depth = None;
            q.memo = Some((&memo, AnchorSet::Only(0)));
            assert!(q.at(NOW).is_ok());
            assert_eq!(len(&memo), 5);
            // A chain without its intermediate is another question too.
            let no_intermediates = PathQuery {
                intermediates: &[],
                ..q
            };
            assert!(matches!(
                no_intermediates.at(NOW).unwrap_err().error,
                webpki::Error::UnknownIssuer
            ));
            assert_eq!(len(&memo), 6);
            // A clone (another store's memo) starts empty.
            assert_eq!(len(&memo.clone()), 0);
        });
    }
}
