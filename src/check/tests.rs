//! Unit tests of the judgements: fixed evidence and a fixed `now` in, steps out. No
//! server, no clock: every step and every policy rule judged from values made here, with
//! the certificates of the test PKI (`testdata/`).

use std::net::SocketAddr;
use std::path::PathBuf;

use rustls::{AlertDescription, CipherSuite, ProtocolVersion};
use rustls_pki_types::{CertificateDer, ServerName};

use super::policy::{self, Policy, TargetFacts, TlsFacts, TlsVersionReq};
use super::*;
use crate::evidence::{
    AppEvidence, ConnectError, Exchange, HandshakeRecord, PlainSqlAnswer, PlaintextEvidence,
    PlaintextProbes, Reply, ResolveError, SqlError, SqlEvidence, Timed, TlsEvidence,
};
use crate::pki::trust::TrustStore;

/// 2026-06-01T00:00:00Z: inside every long-lived fixture, after the expired ones.
const NOW: UnixSeconds = 1_780_272_000;
const PORT: u16 = 6380;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    crate::pki::pem::read_file(&testdata(name))
        .unwrap()
        .certs
        .into_iter()
        .map(|c| c.der)
        .collect()
}

fn trust(name: &str) -> TrustStore {
    TrustStore::from_files(&[testdata(name)]).unwrap()
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

fn addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], PORT))
}

fn ok_exchange(reply: &str) -> Option<Exchange> {
    Some(Exchange {
        outcome: Ok(Reply::Ok(reply.into())),
        ms: 0.1,
    })
}

fn err_exchange(reply: &str) -> Option<Exchange> {
    Some(Exchange {
        outcome: Ok(Reply::Error(reply.into())),
        ms: 0.1,
    })
}

/// A completed TLS 1.3 handshake that presented `chain`.
fn handshake(chain: &str) -> TlsEvidence {
    TlsEvidence {
        record: HandshakeRecord {
            presented: certs(chain),
            ..HandshakeRecord::default()
        },
        sni: Some("localhost".into()),
        version: Some(ProtocolVersion::TLSv1_3),
        cipher_suite: Some(CipherSuite::TLS13_AES_256_GCM_SHA384),
        failure: None,
        ms: 1.0,
        ..TlsEvidence::default()
    }
}

/// A Redis that answered AUTH and PING.
fn redis_ok() -> App {
    App::Redis(AppEvidence {
        auth: ok_exchange("OK"),
        ping: ok_exchange("PONG"),
        ..AppEvidence::default()
    })
}

fn evidence(tls: Option<TlsEvidence>, app: App) -> Evidence {
    Evidence {
        resolve: Timed {
            value: Ok(vec![addr()]),
            ms: 0.1,
        },
        tcp: Some(Timed {
            value: Ok(addr()),
            ms: 0.1,
        }),
        resolve_override: None,
        tls,
        credentials_withheld: false,
        app,
        plaintext: None,
    }
}

struct Setup {
    trust: TrustStore,
    name: ServerName<'static>,
}

impl Setup {
    fn new(cacert: &str) -> Setup {
        Setup {
            trust: trust(cacert),
            name: localhost(),
        }
    }

    fn exp(&self) -> Expectations<'_> {
        Expectations {
            scheme: Scheme::Rediss,
            uses_tls: true,
            port: PORT,
            trust: &self.trust,
            expected_name: &self.name,
            warn_days: 30,
            had_password: true,
            client: None,
            client_policy: None,
            plaintext: None,
            strict: false,
        }
    }
}

fn step(j: &Judged, s: Step) -> &Check {
    j.checks
        .iter()
        .find(|c| c.check == s)
        .unwrap_or_else(|| panic!("no {s} in {:#?}", j.checks))
}

fn status(j: &Judged, s: Step) -> Status {
    step(j, s).status
}

#[test]
fn a_good_attempt_passes_every_step_in_report_order() {
    let s = Setup::new("serving-root.pem");
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    let order: Vec<Step> = j.checks.iter().map(|c| c.check).collect();
    assert_eq!(
        order,
        [
            Step::Resolve,
            Step::Tcp,
            Step::TlsHandshake,
            Step::ChainTrust,
            Step::Anchor,
            Step::ServerName,
            Step::Expiry,
            Step::ClientCert,
            Step::Auth,
            Step::Ping
        ]
    );
    assert!(
        j.checks.iter().all(|c| c.status == Status::Pass),
        "{:#?}",
        j.checks
    );
    assert!(j.passed());
    assert_eq!(
        step(&j, Step::TlsHandshake).message,
        "TLS 1.3, TLS13_AES_256_GCM_SHA384"
    );
}

#[test]
fn resolve_failure_skips_everything_after_it() {
    let s = Setup::new("serving-root.pem");
    let mut ev = evidence(None, App::NotReached);
    ev.resolve.value = Err(ResolveError::NoSuchHost("nowhere.invalid".into()));
    ev.tcp = None;
    let j = judge(&ev, &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Resolve), Status::Fail);
    assert!(step(&j, Step::Resolve).message.contains("no such host"));
    for later in [Step::Tcp, Step::TlsHandshake, Step::Auth, Step::Ping] {
        assert_eq!(status(&j, later), Status::Skip);
        assert!(step(&j, later).message.contains("resolve failed"));
    }
    assert!(!j.passed());
}

#[test]
fn tcp_refusal_fails_tcp() {
    let s = Setup::new("serving-root.pem");
    let mut ev = evidence(None, App::NotReached);
    ev.tcp = Some(Timed {
        value: Err(ConnectError::Refused(addr())),
        ms: 0.1,
    });
    let j = judge(&ev, &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Tcp), Status::Fail);
    assert!(step(&j, Step::Tcp).message.contains("nothing listens"));
    assert_eq!(status(&j, Step::ChainTrust), Status::Skip);
}

#[test]
fn a_silent_handshake_fails_tls_handshake() {
    let s = Setup::new("serving-root.pem");
    let tls = TlsEvidence {
        failure: Some(IoFailure::Timeout),
        ..TlsEvidence::default()
    };
    let j = judge(&evidence(Some(tls), App::NotReached), &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::TlsHandshake), Status::Fail);
    assert!(step(&j, Step::TlsHandshake).message.contains("deadline"));
    assert_eq!(status(&j, Step::ChainTrust), Status::Skip);
    assert_eq!(status(&j, Step::Ping), Status::Skip);
}

#[test]
fn an_unknown_issuer_fails_chain_trust_and_skips_anchor() {
    let s = Setup::new("other-root.pem");
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::ChainTrust), Status::Fail);
    assert!(step(&j, Step::ChainTrust)
        .message
        .contains("does not lead to any certificate"));
    assert_eq!(status(&j, Step::Anchor), Status::Skip);
}

#[test]
fn the_anchor_warning_is_a_verified_fact() {
    // redis_ca.pem: #0 is an unrelated root; the chain needs #3.
    let s = Setup::new("redis_ca.pem");
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::Anchor), Status::Warn);
    let a = j.chain.as_ref().unwrap().anchor.clone().unwrap();
    assert_eq!((a.index, a.via.clone()), (3, vec![]));
    // [root, intermediate]: anchored by the root #0, via #1; #0 alone suffices.
    let s = Setup::new("ca-root-then-intermediate.pem");
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(
        status(&j, Step::Anchor),
        Status::Pass,
        "{}",
        step(&j, Step::Anchor).message
    );
    let a = j.chain.as_ref().unwrap().anchor.clone().unwrap();
    assert_eq!((a.index, a.via), (0, vec![1]));
}

#[test]
fn a_wrong_name_fails_server_name() {
    let s = Setup::new("serving-root.pem");
    let j = judge(
        &evidence(Some(handshake("server-wrong-name-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::ChainTrust), Status::Pass);
    assert_eq!(status(&j, Step::ServerName), Status::Fail);
    assert!(step(&j, Step::ServerName)
        .message
        .contains("wrong.example.com"));
}

#[test]
fn an_expired_leaf_fails_expiry_not_chain_trust() {
    let s = Setup::new("serving-root.pem");
    let j = judge(
        &evidence(Some(handshake("server-expired-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::ChainTrust), Status::Pass);
    assert_eq!(status(&j, Step::Expiry), Status::Fail);
    assert!(step(&j, Step::Expiry).message.contains("expired"));
    // Within the warning threshold: warn.
    let mut exp = s.exp();
    exp.warn_days = 40_000;
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &exp,
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::Expiry), Status::Warn);
}

#[test]
fn strict_runs_on_the_verified_path_when_asked() {
    let s = Setup::new("serving-root.pem");
    let mut exp = s.exp();
    exp.strict = true;
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &exp,
        NOW,
        None,
    );
    assert_eq!(
        status(&j, Step::Strict),
        Status::Pass,
        "{}",
        step(&j, Step::Strict).message
    );
    let order: Vec<Step> = j.checks.iter().map(|c| c.check).collect();
    let at = order.iter().position(|s| *s == Step::Strict).unwrap();
    assert_eq!(order[at - 1], Step::Expiry);
}

#[test]
fn a_tls13_alert_after_the_handshake_is_a_client_cert_rejection() {
    let s = Setup::new("serving-root.pem");
    let mut tls = handshake("server-chain.pem");
    tls.record.client_cert_requested = true;
    let app = App::Redis(AppEvidence {
        auth: Some(Exchange {
            outcome: Err(IoFailure::Alert(AlertDescription::CertificateRequired)),
            ms: 0.1,
        }),
        ..AppEvidence::default()
    });
    let j = judge(&evidence(Some(tls), app), &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::ClientCert), Status::Fail);
    assert!(step(&j, Step::ClientCert)
        .message
        .contains("none was given"));
    assert_eq!(status(&j, Step::Auth), Status::Skip);
    assert!(step(&j, Step::Auth)
        .message
        .contains("client-certificate rejection"));
}

#[test]
fn withheld_credentials_name_the_failed_checks() {
    let s = Setup::new("other-root.pem");
    let mut ev = evidence(
        Some(handshake("server-chain.pem")),
        App::Redis(AppEvidence::default()),
    );
    ev.credentials_withheld = true;
    let j = judge(&ev, &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Auth), Status::Skip);
    assert_eq!(
        step(&j, Step::Auth).message,
        "credentials withheld: the server certificate failed chain-trust"
    );
}

#[test]
fn auth_and_ping_replies() {
    let s = Setup::new("serving-root.pem");
    let tls = || Some(handshake("server-chain.pem"));
    let wrongpass = App::Redis(AppEvidence {
        auth: err_exchange("WRONGPASS invalid username-password pair"),
        ..AppEvidence::default()
    });
    let j = judge(&evidence(tls(), wrongpass), &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Auth), Status::Fail);
    assert!(step(&j, Step::Auth).message.contains("wrong password"));

    let noperm = App::Redis(AppEvidence {
        auth: ok_exchange("OK"),
        ping: err_exchange("NOPERM User alice has no permissions to run the 'ping' command"),
        ..AppEvidence::default()
    });
    let j = judge(&evidence(tls(), noperm), &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Ping), Status::Warn);
    assert!(j.passed());

    let odd = App::Redis(AppEvidence {
        auth: ok_exchange("OK"),
        ping: ok_exchange("HELLO"),
        ..AppEvidence::default()
    });
    let j = judge(&evidence(tls(), odd), &s.exp(), NOW, None);
    assert_eq!(status(&j, Step::Ping), Status::Fail);
}

#[test]
fn a_sql_error_after_the_login_fails_ping() {
    let s = Setup::new("serving-root.pem");
    let mut exp = s.exp();
    exp.scheme = Scheme::Postgres;
    let sql = SqlEvidence {
        reached: "authenticated".into(),
        auth: Some(Ok(())),
        refused: Some(SqlError {
            code: "3D000".into(),
            severity: "FATAL".into(),
            message: "database \"nosuchdb\" does not exist".into(),
        }),
        ..SqlEvidence::default()
    };
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), App::Sql(sql)),
        &exp,
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::Auth), Status::Pass);
    assert_eq!(status(&j, Step::Ping), Status::Fail);
    assert!(step(&j, Step::Ping).message.contains("3D000"));
    assert!(!j.passed());
}

#[test]
fn plaintext_probes_are_judged_per_port() {
    let s = Setup::new("serving-root.pem");
    let mut exp = s.exp();
    exp.plaintext = Some(PlaintextExpectation::Refused);
    let mut ev = evidence(Some(handshake("server-chain.pem")), redis_ok());
    ev.plaintext = Some(PlaintextProbes {
        probes: vec![
            (
                PORT,
                PlaintextEvidence {
                    outcome: Err(IoFailure::Reset),
                    ms: 0.1,
                },
            ),
            (
                6379,
                PlaintextEvidence {
                    outcome: Ok(PlainSqlAnswer::Served("+PONG".into())),
                    ms: 0.1,
                },
            ),
        ],
        not_run: None,
    });
    let j = judge(&ev, &exp, NOW, None);
    assert_eq!(status(&j, Step::PlaintextRefused), Status::Fail);
    let msg = &step(&j, Step::PlaintextRefused).message;
    assert!(msg.contains("port 6379: plaintext was served"), "{msg}");
    assert!(
        msg.contains("port 6380 (the TLS port): plaintext not served"),
        "{msg}"
    );
}

#[test]
fn the_client_certificate_is_prechecked() {
    let s = Setup::new("serving-root.pem");
    let chain = certs("client-expired.pem");
    let policy = crate::mtls::MtlsPolicy::undeclared(false);
    let mut exp = s.exp();
    exp.client_policy = Some((&policy, &chain));
    let j = judge(
        &evidence(Some(handshake("server-chain.pem")), redis_ok()),
        &exp,
        NOW,
        None,
    );
    assert_eq!(j.checks[0].check, Step::ClientPolicy);
    assert_eq!(status(&j, Step::ClientPolicy), Status::Fail);
}

fn facts<'a>(certs: &'a [crate::pki::describe::CertInfo], checks: &'a [Check]) -> TargetFacts<'a> {
    TargetFacts {
        tls: Some(TlsFacts {
            version: Some(ProtocolVersion::TLSv1_2),
            suite: Some(CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        }),
        certs,
        checks,
        asked_for_auth: false,
    }
}

fn described(name: &str) -> Vec<crate::pki::describe::CertInfo> {
    certs(name)
        .iter()
        .enumerate()
        .map(|(i, d)| crate::pki::describe::describe(i, d, NOW).unwrap())
        .collect()
}

fn rules(f: &[policy::PolicyFinding]) -> Vec<&'static str> {
    f.iter().map(|f| f.rule).collect()
}

#[test]
fn policy_rules_each_fire_on_their_fact() {
    let good = described("server-chain.pem");
    let none: Vec<Check> = vec![];
    let p = Policy::default();
    assert!(policy::judge("t", &facts(&good, &none), &p, None).is_empty());

    // tls-absent
    let mut f = facts(&good, &none);
    f.tls = None;
    assert_eq!(rules(&policy::judge("t", &f, &p, None)), ["tls-absent"]);

    // min-tls-version
    let strict = Policy {
        min_tls_version: TlsVersionReq::V1_3,
        ..Policy::default()
    };
    let found = policy::judge("t", &facts(&good, &none), &strict, None);
    assert_eq!(rules(&found), ["min-tls-version"]);
    assert!(found[0].message.contains("negotiated TLS 1.2"));

    // cipher-suite
    let suites = Policy {
        allowed_cipher_suites: Some(vec!["TLS13_AES_256_GCM_SHA384".into()]),
        ..Policy::default()
    };
    assert_eq!(
        rules(&policy::judge("t", &facts(&good, &none), &suites, None)),
        ["cipher-suite"]
    );

    // cert-expiry: warn, then error
    let warn = Policy {
        warn_days: 40_000,
        ..Policy::default()
    };
    let found = policy::judge("t", &facts(&good, &none), &warn, None);
    assert_eq!(
        (found[0].rule, found[0].severity),
        ("cert-expiry", Severity::Warn)
    );
    let fail = Policy {
        fail_days: 40_000,
        ..Policy::default()
    };
    let found = policy::judge("t", &facts(&good, &none), &fail, None);
    assert_eq!(
        (found[0].rule, found[0].severity),
        ("cert-expiry", Severity::Error)
    );

    // weak-key
    let weak = described("rsa1024.pem");
    assert!(rules(&policy::judge("t", &facts(&weak, &none), &p, None)).contains(&"weak-key"));

    // sha1-signature, and md5-signature on the same certificate with another hash
    let sha1 = described("sha1.pem");
    assert!(rules(&policy::judge("t", &facts(&sha1, &none), &p, None)).contains(&"sha1-signature"));
    let lenient = Policy {
        forbid_sha1: false,
        ..Policy::default()
    };
    assert!(
        !rules(&policy::judge("t", &facts(&sha1, &none), &lenient, None))
            .contains(&"sha1-signature")
    );
    let mut md5 = described("server-chain.pem");
    md5[0].raw.weak_hash = Some(crate::pki::describe::WeakHash::Md5);
    assert_eq!(
        rules(&policy::judge("t", &facts(&md5, &none), &lenient, None)),
        ["md5-signature"]
    );
}

#[test]
fn policy_plaintext_and_client_auth_rules_read_step_statuses() {
    let good = described("server-chain.pem");
    let served = vec![Check::new(
        Step::PlaintextRefused,
        Status::Fail,
        "plaintext was served (+PONG)",
    )];
    let p = Policy {
        require_plaintext_refused: true,
        ..Policy::default()
    };
    assert_eq!(
        rules(&policy::judge("t", &facts(&good, &served), &p, None)),
        ["plaintext-allowed"]
    );

    let none: Vec<Check> = vec![];
    // The probe without a client certificate was answered NOAUTH: the server served it.
    let mut probe = facts(&good, &none);
    probe.asked_for_auth = true;
    let found = policy::judge("t", &facts(&good, &none), &Policy::default(), Some(&probe));
    assert_eq!(
        (found[0].rule, found[0].severity),
        ("client-auth-not-required", Severity::Error)
    );
    // Rejected at client-cert: nothing to report.
    let rejected = vec![Check::new(Step::ClientCert, Status::Fail, "rejected")];
    let probe = facts(&good, &rejected);
    assert!(policy::judge("t", &facts(&good, &none), &Policy::default(), Some(&probe)).is_empty());
    // Neither: cannot prove it, a warning.
    let unclear = vec![Check::new(Step::Tcp, Status::Fail, "refused")];
    let probe = facts(&good, &unclear);
    let found = policy::judge("t", &facts(&good, &none), &Policy::default(), Some(&probe));
    assert_eq!(
        (found[0].rule, found[0].severity),
        ("client-auth-not-required", Severity::Warn)
    );
}

use crate::finding::Severity;

#[test]
fn the_first_certificate_alone_is_judged_with_the_same_algorithms_as_the_path() {
    // [P-521 root, P-521 intermediate]: the path is anchored by #1 and leads up to #0, and
    // #0 alone verifies it too. The second verification once used webpki's default
    // algorithms (no ECDSA P-521/SHA-512) and so warned wrongly that clients importing only
    // the first certificate would fail.
    let chain = certs("p521-signed-server-chain.pem");
    let root = certs("p521-root.pem");
    let anchors = [webpki::anchor_from_trusted_cert(&root[0]).unwrap()];
    let ee = webpki::EndEntityCert::try_from(&chain[0]).unwrap();
    let with_defaults = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &chain[1..],
        crate::pki::path::unix_time(NOW),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    );
    assert!(
        with_defaults.is_err(),
        "the regression needs a path webpki's defaults refuse"
    );
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("p521-bundle.pem");
    let mut pem = std::fs::read(testdata("p521-root.pem")).unwrap();
    pem.extend(std::fs::read(testdata("p521-intermediate.pem")).unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let s = Setup {
        trust: TrustStore::from_files(&[bundle]).unwrap(),
        name: localhost(),
    };
    let j = judge(
        &evidence(Some(handshake("p521-signed-server-chain.pem")), redis_ok()),
        &s.exp(),
        NOW,
        None,
    );
    assert_eq!(status(&j, Step::ChainTrust), Status::Pass);
    let a = j.chain.as_ref().unwrap().anchor.clone().unwrap();
    assert_eq!((a.index, a.via), (0, vec![1]));
    assert_eq!(
        status(&j, Step::Anchor),
        Status::Pass,
        "{}",
        step(&j, Step::Anchor).message
    );
}
