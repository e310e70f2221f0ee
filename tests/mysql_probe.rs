//! The MySQL probe against a real MariaDB 10.11: greeting, SSL request, TLS, login,
//! `SELECT 1`, and what a plaintext attempt shows with and without
//! `require_secure_transport`.

mod support;

use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::Instant;

use support::mysql::{MariaDbServer, MyOpts};
use tlsprobe::connect::tls::{handshake, TlsParams};
use tlsprobe::evidence::{IoFailure, Login, PlainSqlAnswer, SqlEvidence, TlsEvidence};
use tlsprobe::probe::mysql::{
    plaintext_login, plaintext_probe, read_greeting, request_ssl, session, Greeting, PlainLogin,
};
use tlsprobe::target::Secret;

const PW: &str = "app-Secret-4711";

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn login(password: Option<&str>, database: Option<&str>) -> Login {
    Login {
        user: "app".into(),
        password: password.map(Secret::new),
        database: database.map(String::from),
    }
}

fn params() -> TlsParams {
    TlsParams {
        sni: Some("localhost".into()),
        fallback_name: ServerName::try_from("localhost").unwrap(),
        version: None,
        client_key: None,
    }
}

async fn greet(port: u16) -> (TcpStream, Greeting) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let g = read_greeting(&mut tcp, deadline()).await.unwrap().unwrap();
    (tcp, g)
}

/// Greeting, SSL request, TLS handshake, then the session.
async fn over_tls(port: u16, l: &Login) -> (Greeting, TlsEvidence, SqlEvidence) {
    let (mut tcp, g) = greet(port).await;
    assert!(g.supports_ssl(), "{g:?}");
    request_ssl(&mut tcp, &g).await.unwrap();
    let (tls, stream) = handshake(tcp, &params(), deadline()).await;
    let mut stream = stream.unwrap_or_else(|| panic!("TLS failed: {:?}", tls.failure));
    let ev = session(&mut stream, &g, l, true, deadline()).await;
    (g, tls, ev)
}

async fn over_plaintext(port: u16, l: &Login) -> SqlEvidence {
    let (mut tcp, g) = greet(port).await;
    session(&mut tcp, &g, l, false, deadline()).await
}

async fn plain(port: u16) -> PlainLogin {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plaintext_login(&mut tcp, deadline()).await.unwrap()
}

/// Every string the evidence holds, for "the password is nowhere" checks.
fn all_text(ev: &SqlEvidence) -> String {
    format!("{ev:?} {}", ev.reached)
}

#[tokio::test]
async fn tls_login_select_and_denials() {
    let server = MariaDbServer::start(MyOpts {
        ssl: true,
        password: Some(PW),
        ..MyOpts::default()
    });

    let (g, tls, ev) = over_tls(server.port, &login(Some(PW), Some("app"))).await;
    assert!(g.server_version.contains("MariaDB"), "{}", g.server_version);
    assert_eq!(g.protocol, 10);
    assert_eq!(g.scramble.len(), 20);
    assert_eq!(g.auth_plugin, "mysql_native_password");
    assert!(tls.version.is_some(), "{tls:?}");
    assert!(!tls.record.presented.is_empty());
    assert_eq!(ev.failure, None, "{ev:?}");
    assert_eq!(ev.auth, Some(Ok(())), "{ev:?}");
    assert_eq!(ev.query, Some(Ok("1".to_string())));
    assert_eq!(ev.reached, "SELECT 1 answered");
    assert_eq!(ev.auth_method.as_deref(), Some("mysql_native_password"));
    assert!(ev.auth_ms > 0.0 && ev.query_ms > 0.0);

    // Without a database.
    let (_, _, ev) = over_tls(server.port, &login(Some(PW), None)).await;
    assert_eq!(ev.query, Some(Ok("1".to_string())), "{ev:?}");

    // Wrong password: 1045, and the password in no string.
    let wrong = "Wrong-Pass-0815";
    let (_, _, ev) = over_tls(server.port, &login(Some(wrong), Some("app"))).await;
    let e = ev.auth.clone().expect("auth attempted").unwrap_err();
    assert_eq!(e.code, "1045");
    assert_eq!(e.severity, "ERROR");
    assert_eq!(
        e.message,
        "#28000 Access denied for user 'app'@'127.0.0.1' (using password: YES)"
    );
    assert_eq!(ev.reached, "login answered");
    assert_eq!(ev.refused, None);
    assert_eq!(ev.query, None);
    assert!(!all_text(&ev).contains(wrong));

    // No password: the dummy user's answer, no login attempted for `app`.
    let (_, _, ev) = over_tls(server.port, &login(None, Some("app"))).await;
    assert_eq!(ev.auth, None);
    assert_eq!(ev.failure, None);
    assert_eq!(
        ev.reached,
        "server answered a login for a dummy user over TLS: ERROR 1045: #28000 Access denied \
         for user 'tlsprobe_probe'@'127.0.0.1' (using password: NO)"
    );

    // A database the user may not use: refused, not a password problem.
    let (_, _, ev) = over_tls(server.port, &login(Some(PW), Some("nope"))).await;
    assert_eq!(ev.auth, None, "{ev:?}");
    let r = ev.refused.clone().expect("refused");
    assert_eq!(r.code, "1044", "{r:?}");
    assert_eq!(
        r.message,
        "#42000 Access denied for user 'app'@'%' to database 'nope'"
    );
    assert!(!all_text(&ev).contains(PW));
}

#[tokio::test]
async fn without_ssl_the_greeting_offers_no_tls() {
    let server = MariaDbServer::start(MyOpts {
        ssl: false,
        password: Some(PW),
        ..MyOpts::default()
    });
    let (mut tcp, g) = greet(server.port).await;
    assert!(!g.supports_ssl(), "{g:?}");
    assert!(matches!(
        request_ssl(&mut tcp, &g).await,
        Err(IoFailure::Other(m)) if m.contains("CLIENT_SSL")
    ));

    // A server with nothing but plaintext certainly serves it.
    match plain(server.port).await {
        PlainLogin::Served(m) => {
            assert!(m.contains("lacks CLIENT_SSL"), "{m}");
            assert!(m.contains("ERROR 1045"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

/// MariaDB 10.11 answers the dummy user's plaintext login identically with and without
/// require_secure_transport, so the plaintext probe calls both inconclusive; only a
/// correct password would tell them apart (and tlsprobe never sends one in plaintext).
#[tokio::test]
async fn require_secure_transport_on_and_off() {
    let on = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: true,
        password: Some(PW),
    });
    let off = MariaDbServer::start(MyOpts {
        ssl: true,
        require_secure_transport: false,
        password: Some(PW),
    });
    assert_eq!(on.sql("SELECT @@require_secure_transport").trim(), "1");
    assert_eq!(off.sql("SELECT @@require_secure_transport").trim(), "0");

    let said = "the server answered a plaintext login for the dummy user tlsprobe_probe: \
                ERROR 1045: #28000 Access denied for user 'tlsprobe_probe'@'127.0.0.1' \
                (using password: NO);";
    for server in [&on, &off] {
        match plain(server.port).await {
            PlainLogin::Inconclusive(m) => assert!(m.starts_with(said), "{m}"),
            other => panic!("{other:?}"),
        }
        let mut tcp = TcpStream::connect(("127.0.0.1", server.port))
            .await
            .unwrap();
        match plaintext_probe(&mut tcp, deadline()).await.unwrap() {
            PlainSqlAnswer::Inconclusive(m) => assert!(m.starts_with(said), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    // What tells them apart, shown here with the test's own password over loopback:
    // the correct password in plaintext is accepted when OFF and denied (1045, not 3159)
    // when ON.
    let ev = over_plaintext(off.port, &login(Some(PW), Some("app"))).await;
    assert_eq!(ev.auth, Some(Ok(())), "{ev:?}");
    assert_eq!(ev.query, Some(Ok("1".to_string())));
    let ev = over_plaintext(on.port, &login(Some(PW), Some("app"))).await;
    let e = ev.auth.clone().expect("auth attempted").unwrap_err();
    assert_eq!(
        e.quote(),
        "ERROR 1045: #28000 Access denied for user 'app'@'127.0.0.1' (using password: YES)"
    );

    // Over TLS the ON server serves the login.
    let (_, _, ev) = over_tls(on.port, &login(Some(PW), Some("app"))).await;
    assert_eq!(ev.auth, Some(Ok(())), "{ev:?}");
    assert_eq!(ev.query, Some(Ok("1".to_string())));
}
