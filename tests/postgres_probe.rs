//! The PostgreSQL probe against real servers: SSLRequest, TLS, login and `SELECT 1`,
//! client-certificate requirements, and the plaintext startup.
//!
//! Each test starts its own `postgres` (see tests/support/postgres.rs) and prints the
//! server's exact words, which the attribution checks rely on.

mod support;

use std::path::Path;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;

use support::postgres::{Hba, PgOpts, PostgresServer, CERT_USER};
use support::testdata;
use tlsprobe::connect::tls::{handshake, TlsParams};
use tlsprobe::evidence::{IoFailure, Login, PlainSqlAnswer, SqlEvidence, TlsEvidence};
use tlsprobe::probe::postgres::{plaintext_probe, request_ssl, session, SslAnswer};
use tlsprobe::target::Secret;

const PASSWORD: &str = "pg-Test-pa55word";

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn login(user: &str, password: Option<&str>) -> Login {
    Login {
        user: user.into(),
        password: password.map(Secret::new),
        database: Some("app".into()),
    }
}

fn params(client_key: Option<std::sync::Arc<rustls::sign::CertifiedKey>>) -> TlsParams {
    TlsParams {
        sni: Some("localhost".into()),
        fallback_name: ServerName::try_from("localhost").unwrap(),
        version: None,
        client_key,
    }
}

fn client_key() -> std::sync::Arc<rustls::sign::CertifiedKey> {
    let id = tlsprobe::plan::ClientIdentity::load(
        Path::new(&testdata("client-chain.pem")),
        Some(Path::new(&testdata("client.key"))),
        &tlsprobe::plan::provider(),
    )
    .expect("testdata client identity");
    id.key
}

/// SSLRequest, TLS handshake, then the session: what the verify engine does.
async fn tls_session(
    port: u16,
    login: &Login,
    client_key: Option<std::sync::Arc<rustls::sign::CertifiedKey>>,
) -> (TlsEvidence, SqlEvidence) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    assert_eq!(
        request_ssl(&mut tcp, deadline()).await,
        Ok(SslAnswer::Accepted)
    );
    let (tls, stream) = handshake(tcp, &params(client_key), deadline()).await;
    let mut stream = stream.unwrap_or_else(|| panic!("handshake failed: {:?}", tls.failure));
    let ev = session(&mut stream, login, deadline()).await;
    println!(
        "tls: {:?} {:?}",
        tls.version, tls.record.client_cert_requested
    );
    println!("session: {ev:?}");
    (tls, ev)
}

/// Every string in the evidence, for "the password is nowhere" checks.
fn all_text(ev: &SqlEvidence) -> String {
    format!("{ev:?}")
}

#[tokio::test]
async fn ssl_on_login_and_select_1() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        password: Some(PASSWORD),
        ..PgOpts::default()
    });

    let (tls, ev) = tls_session(pg.port, &login("app", Some(PASSWORD)), None).await;
    assert!(tls.failure.is_none());
    assert!(tls.version.is_some());
    assert_eq!(ev.auth, Some(Ok(())), "{ev:?}");
    assert_eq!(ev.auth_method.as_deref(), Some("SCRAM-SHA-256"));
    assert_eq!(ev.query, Some(Ok("1".to_string())));
    assert_eq!(ev.reached, "SELECT 1 answered");
    assert_eq!(ev.refused, None);
    assert_eq!(ev.failure, None);
    assert!(ev.auth_ms > 0.0 && ev.query_ms > 0.0);
    // PostgreSQL asks for a client certificate whenever ssl_ca_file is set.
    assert!(tls.record.client_cert_requested);
}

#[tokio::test]
async fn ssl_on_wrong_password_and_no_password() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        password: Some(PASSWORD),
        ..PgOpts::default()
    });

    let wrong = "definitely-Wrong-pw";
    let (_, ev) = tls_session(pg.port, &login("app", Some(wrong)), None).await;
    let e = ev
        .auth
        .clone()
        .expect("auth attempted")
        .expect_err("refused");
    assert_eq!(e.code, "28P01");
    assert_eq!(e.severity, "FATAL");
    assert_eq!(e.message, "password authentication failed for user \"app\"");
    assert_eq!(ev.reached, "credentials sent (SCRAM-SHA-256)");
    assert_eq!(ev.refused, None);
    assert_eq!(ev.query, None);
    let text = all_text(&ev);
    assert!(!text.contains(wrong) && !text.contains(PASSWORD));

    // An unknown role gets the same answer (PostgreSQL does not reveal which roles exist).
    let (_, ev) = tls_session(pg.port, &login("nobody", Some(wrong)), None).await;
    let e = ev.auth.clone().unwrap().unwrap_err();
    assert_eq!(
        e.quote(),
        "FATAL 28P01: password authentication failed for user \"nobody\""
    );

    let (_, ev) = tls_session(pg.port, &login("app", None), None).await;
    assert_eq!(ev.auth, None);
    assert_eq!(ev.auth_method.as_deref(), Some("SCRAM-SHA-256"));
    assert!(ev.reached.contains("SCRAM"), "{}", ev.reached);
    assert_eq!(ev.failure, None);
    assert_eq!(ev.refused, None);
}

#[tokio::test]
async fn ssl_on_unknown_database_is_a_refusal_after_login() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        password: Some(PASSWORD),
        ..PgOpts::default()
    });
    let mut l = login("app", Some(PASSWORD));
    l.database = Some("nope".into());
    let (_, ev) = tls_session(pg.port, &l, None).await;
    assert_eq!(ev.auth, Some(Ok(())));
    assert_eq!(
        ev.refused.unwrap().quote(),
        "FATAL 3D000: database \"nope\" does not exist"
    );
}

#[tokio::test]
async fn ssl_off_refuses_the_ssl_request() {
    let pg = PostgresServer::start(PgOpts {
        ssl: false,
        hba: Hba::HostAny,
        password: Some(PASSWORD),
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", pg.port)).await.unwrap();
    assert_eq!(
        request_ssl(&mut tcp, deadline()).await,
        Ok(SslAnswer::Refused)
    );
    // The same connection then goes on in plaintext, as libpq's sslmode=prefer would.
    let answer = plaintext_probe(&mut tcp, "app", deadline()).await;
    assert_eq!(
        answer,
        Ok(PlainSqlAnswer::Served(
            "the server asked for SCRAM-SHA-256 authentication over plaintext".into()
        ))
    );
}

#[tokio::test]
async fn client_cert_required() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::ClientCertRequired,
        password: Some(PASSWORD),
    });

    // Without a certificate: the handshake completes (PostgreSQL requests a certificate
    // but does not demand one at the TLS level); pg_hba.conf refuses at startup.
    let (tls, ev) = tls_session(pg.port, &login("app", Some(PASSWORD)), None).await;
    assert!(tls.record.client_cert_requested);
    assert!(!tls.record.client_cert_sent);
    match (&ev.refused, &ev.failure) {
        (Some(e), _) => {
            assert_eq!(e.code, "28000");
            assert!(e.message.contains("certificate"), "{}", e.message);
            assert_eq!(
                e.quote(),
                "FATAL 28000: connection requires a valid client certificate"
            );
        }
        (None, Some(IoFailure::Alert(a))) => panic!("refused by TLS alert {a:?}, not by pg_hba"),
        other => panic!("neither refused nor failed: {other:?}"),
    }
    assert_eq!(ev.auth, None);
    assert_eq!(ev.reached, "startup sent");

    // With the testdata client certificate, as the role its CN names.
    let (tls, ev) = tls_session(
        pg.port,
        &login(CERT_USER, Some(PASSWORD)),
        Some(client_key()),
    )
    .await;
    assert!(tls.record.client_cert_sent);
    assert_eq!(ev.auth, Some(Ok(())), "{ev:?}");
    assert_eq!(ev.query, Some(Ok("1".to_string())));

    // The same certificate for another role: verify-full compares the CN with the user,
    // and PostgreSQL reports the mismatch as a failed *password* authentication.
    let (_, ev) = tls_session(pg.port, &login("app", Some(PASSWORD)), Some(client_key())).await;
    let e = ev.auth.clone().unwrap().unwrap_err();
    assert_eq!(
        e.quote(),
        "FATAL 28P01: password authentication failed for user \"app\""
    );
    assert!(
        pg.log().contains(
            "certificate validation (clientcert=verify-full) failed for user \"app\": CN mismatch"
        ),
        "{}",
        pg.log()
    );
}

#[tokio::test]
async fn trust_logs_in_without_a_password() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::Trust,
        password: None,
    });
    let (_, ev) = tls_session(pg.port, &login("app", None), None).await;
    assert_eq!(ev.auth, Some(Ok(())));
    assert_eq!(ev.auth_method, None);
    assert_eq!(ev.query, Some(Ok("1".to_string())));
}

#[tokio::test]
async fn plaintext_probe_refused_on_hostssl_served_on_host() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostSslOnly,
        password: Some(PASSWORD),
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", pg.port)).await.unwrap();
    let answer = plaintext_probe(&mut tcp, "tlsprobe", deadline()).await;
    println!("plaintext on hostssl: {answer:?}");
    match answer {
        Ok(PlainSqlAnswer::Refused(m)) => {
            assert!(m.contains("no pg_hba.conf entry"), "{m}");
            assert!(m.contains("no encryption"), "{m}");
            assert_eq!(
                m,
                "FATAL 28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"tlsprobe\", \
                 database \"tlsprobe\", no encryption"
            );
        }
        other => panic!("{other:?}"),
    }

    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::HostAny,
        password: Some(PASSWORD),
    });
    let mut tcp = TcpStream::connect(("127.0.0.1", pg.port)).await.unwrap();
    let answer = plaintext_probe(&mut tcp, "tlsprobe", deadline()).await;
    println!("plaintext on host: {answer:?}");
    assert!(
        matches!(&answer, Ok(PlainSqlAnswer::Served(m)) if m.contains("SCRAM-SHA-256")),
        "{answer:?}"
    );
}

/// A client certificate from a CA that `ssl_ca_file` does not hold.
fn untrusted_client_key() -> std::sync::Arc<rustls::sign::CertifiedKey> {
    tlsprobe::plan::ClientIdentity::load(
        Path::new(&testdata("client-other-ca.pem")),
        Some(Path::new(&testdata("client-other-ca.key"))),
        &tlsprobe::plan::provider(),
    )
    .expect("testdata client-other-ca identity")
    .key
}

#[tokio::test]
async fn untrusted_client_cert_is_a_tls_alert() {
    let pg = PostgresServer::start(PgOpts {
        ssl: true,
        hba: Hba::ClientCertRequired,
        password: Some(PASSWORD),
    });

    // TLS 1.3: the client finishes its handshake before the server judges the
    // certificate, so the rejection arrives as an alert on the first read of the session.
    let (tls, ev) = tls_session(
        pg.port,
        &login(CERT_USER, Some(PASSWORD)),
        Some(untrusted_client_key()),
    )
    .await;
    assert_eq!(tls.version, Some(rustls::ProtocolVersion::TLSv1_3));
    assert!(tls.record.client_cert_sent);
    assert_eq!(
        ev.failure,
        Some(IoFailure::Alert(rustls::AlertDescription::UnknownCA)),
        "{ev:?}"
    );
    assert_eq!(ev.reached, "startup sent");
    assert_eq!((ev.auth.clone(), ev.refused.clone()), (None, None));

    // TLS 1.2: the same rejection ends the handshake itself.
    let mut tcp = TcpStream::connect(("127.0.0.1", pg.port)).await.unwrap();
    assert_eq!(
        request_ssl(&mut tcp, deadline()).await,
        Ok(SslAnswer::Accepted)
    );
    let mut p = params(Some(untrusted_client_key()));
    p.version = Some(tlsprobe::domain::TlsVersion::V1_2);
    let (tls, stream) = handshake(tcp, &p, deadline()).await;
    println!("tls 1.2 with an untrusted client cert: {:?}", tls.failure);
    assert!(stream.is_none());
    assert_eq!(
        tls.failure,
        Some(IoFailure::Alert(rustls::AlertDescription::UnknownCA))
    );
    println!("server log:\n{}", pg.log());
}
