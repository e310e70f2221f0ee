//! Evidence: everything observed about one target, nothing judged.
//!
//! Connect and probe code fill these values; checks read them.

use std::net::SocketAddr;

use rustls_pki_types::CertificateDer;

/// How an I/O step ended when it did not end well. (`PartialEq` only: rustls' errors are.)
#[derive(Debug, Clone, PartialEq)]
pub enum IoFailure {
    /// The step's deadline passed.
    Timeout,
    /// The peer closed the connection (clean EOF).
    Closed,
    /// The peer reset the connection.
    Reset,
    /// The peer sent a TLS alert.
    Alert(rustls::AlertDescription),
    /// The peer sent bytes that are not TLS.
    NotTls(String),
    /// The peer's reply could not be parsed, or was larger than tlsprobe reads.
    Malformed(String),
    /// A handshake message over the 64 KiB a TLS client accepts (which one, as rustls says).
    HandshakeTooLarge(rustls::InvalidMessage),
    /// No common TLS parameters with the server (rustls' reason).
    Incompatible(rustls::PeerIncompatible),
    /// The server broke the TLS protocol (rustls' reason).
    Misbehaved(rustls::PeerMisbehaved),
    /// The server's key is id-RSASSA-PSS, which the TLS stack cannot verify.
    RsaPssKey,
    /// The TLS client could not be configured (rustls' error).
    TlsConfig(rustls::Error),
    /// Any other TLS error (rustls' error).
    Tls(rustls::Error),
    /// An I/O error of another kind, with the system's message.
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
    /// The server refused the protocol's request for TLS (SSLRequest `N`, a MySQL
    /// server without SSL), in tlsprobe's words about what it said.
    StartTlsRefused(String),
    /// The MySQL server sent no greeting, so no login can be tried.
    NoGreeting,
    /// A fresh plaintext connection was not accepted.
    NotAccepted(ConnectError),
    /// Anything else the database said or did, as a short sentence.
    Other(String),
}

impl IoFailure {
    pub fn describe(&self) -> String {
        match self {
            IoFailure::Timeout => "no answer before the deadline".into(),
            IoFailure::Closed => "the server closed the connection".into(),
            IoFailure::Reset => "the server reset the connection".into(),
            IoFailure::Alert(a) => format!("the server sent TLS alert {}", alert_name(*a)),
            IoFailure::NotTls(m) => format!("the server does not speak TLS: {m}"),
            IoFailure::Malformed(m) => format!("malformed reply: {m}"),
            IoFailure::HandshakeTooLarge(m) => format!(
                "the server's handshake message is larger than the 64 KiB a TLS client accepts ({m:?}): a certificate chain that is too large?"
            ),
            IoFailure::Incompatible(p) => {
                format!("no common TLS parameters with the server ({p:?})")
            }
            IoFailure::Misbehaved(p) => format!("the server broke the TLS protocol ({p:?})"),
            IoFailure::RsaPssKey => crate::pki::algs::RsaPssKeyUnsupported.to_string(),
            IoFailure::TlsConfig(e) => format!("cannot configure TLS: {e}"),
            IoFailure::Tls(e) => e.to_string(),
            IoFailure::Io { message, .. } => message.clone(),
            IoFailure::StartTlsRefused(why) => why.clone(),
            IoFailure::NoGreeting => "no greeting".into(),
            IoFailure::NotAccepted(e) => format!("plaintext connection not accepted: {e}"),
            IoFailure::Other(m) => m.clone(),
        }
    }
}

/// Facts recorded during the handshake, even when it fails.
#[derive(Debug, Clone, Default)]
pub struct HandshakeRecord {
    /// The chain as presented: leaf first.
    pub presented: Vec<CertificateDer<'static>>,
    pub client_cert_requested: bool,
    /// Acceptable CA names from the CertificateRequest, as readable DNs.
    pub acceptable_ca_names: Vec<String>,
    /// A client certificate was sent in answer.
    pub client_cert_sent: bool,
}

/// The TLS handshake as observed.
#[derive(Debug, Clone, Default)]
pub struct TlsEvidence {
    pub record: HandshakeRecord,
    pub sni: Option<String>,
    pub version: Option<rustls::ProtocolVersion>,
    pub cipher_suite: Option<rustls::CipherSuite>,
    /// `None` when the handshake completed.
    pub failure: Option<IoFailure>,
    /// Set when a plaintext Redis answered a PING on the same port.
    pub plaintext_redis_reply: Option<String>,
    /// The server declined TLS inside its own protocol (PostgreSQL `N`, MySQL without
    /// CLIENT_SSL), in words.
    pub starttls_refusal: Option<String>,
    pub ms: f64,
}

/// A Redis reply, reduced to what the checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`, `+PONG`, bulk strings...
    Ok(String),
    /// `-ERR ...`, `-NOAUTH ...`, `-WRONGPASS ...`: the server's words.
    Error(String),
}

/// One command and its reply.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub outcome: Result<Reply, IoFailure>,
    pub ms: f64,
}

/// The application round trip.
#[derive(Debug, Clone, Default)]
pub struct AppEvidence {
    /// `None`: no AUTH was sent.
    pub auth: Option<Exchange>,
    /// Why AUTH was not sent although credentials were given.
    pub auth_withheld: Option<String>,
    pub select: Option<Exchange>,
    pub ping: Option<Exchange>,
    /// For a plaintext target whose server closed on PING: it answered a TLS ClientHello.
    pub speaks_tls: bool,
}

/// A plaintext probe of the same host:port.
#[derive(Debug, Clone)]
pub struct PlaintextEvidence {
    pub outcome: Result<PlainSqlAnswer, IoFailure>,
    pub ms: f64,
}

/// The network path to the server.
#[derive(Debug, Clone, Default)]
pub struct NetEvidence {
    pub addrs: Vec<SocketAddr>,
    pub connected: Option<SocketAddr>,
}

/// An error reported by a SQL server, as it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// PostgreSQL SQLSTATE (`28000`) or MySQL error number (`1045`).
    pub code: String,
    /// PostgreSQL severity (`FATAL`, `ERROR`) or `ERROR` for MySQL.
    pub severity: String,
    /// The server's message, verbatim (never contains the password).
    pub message: String,
}

impl SqlError {
    /// `FATAL 28000: connection requires a valid client certificate`.
    pub fn quote(&self) -> String {
        format!("{} {}: {}", self.severity, self.code, self.message)
    }
}

/// Credentials for a SQL login. The password is only ever sent inside the TLS session.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub password: Option<crate::target::Secret>,
    pub database: Option<String>,
}

/// A SQL session over an established stream (after TLS): login, then `SELECT 1`.
#[derive(Debug, Clone, Default)]
pub struct SqlEvidence {
    /// The furthest point the session reached, for people: e.g. "startup sent",
    /// "authentication request (SCRAM-SHA-256)", "authenticated", "SELECT 1 answered".
    pub reached: String,
    /// What the server asked for to authenticate (e.g. `SCRAM-SHA-256`, `md5`,
    /// `mysql_native_password`), when it asked.
    pub auth_method: Option<String>,
    /// `None`: no login was attempted (no password given and the server asked for one).
    pub auth: Option<Result<(), SqlError>>,
    pub auth_ms: f64,
    /// `Some(Ok(value))`: the first column of the first row of `SELECT 1`.
    pub query: Option<Result<String, SqlError>>,
    pub query_ms: f64,
    /// A server error that is not about the password or the query (e.g. PostgreSQL's
    /// `connection requires a valid client certificate`, `no pg_hba.conf entry`).
    pub refused: Option<SqlError>,
    /// An I/O failure during the session (a TLS alert here is a client-cert rejection).
    pub failure: Option<IoFailure>,
}

/// What a server said to a plaintext (non-TLS) attempt (Redis PING, SQL startup or login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainSqlAnswer {
    /// It refused the plaintext attempt in so many words: its words (e.g. PostgreSQL's
    /// `no pg_hba.conf entry ... no encryption`, MySQL 3159 insecure transport).
    Refused(String),
    /// It went on with the plaintext session (answered PING, asked for a password, or
    /// logged the dummy user in).
    Served(String),
    /// Its answer does not tell: MariaDB and MySQL answer an unknown user with 1045
    /// whether or not `require_secure_transport` is on.
    Inconclusive(String),
}

/// A value observed, and how long observing it took.
#[derive(Debug, Clone)]
pub struct Timed<T> {
    pub value: T,
    pub ms: f64,
}

/// What the application round trip observed, per protocol.
#[derive(Debug, Clone)]
pub enum App {
    /// Redis, over TLS or (for `redis://`) in plaintext.
    Redis(AppEvidence),
    /// PostgreSQL or MySQL over TLS.
    Sql(SqlEvidence),
    /// `tls://`: no protocol; the failure seen while waiting briefly for an alert.
    Tls(Option<IoFailure>),
    /// No round trip was possible (no connection, or the handshake did not complete).
    NotReached,
}

/// The plaintext probes of one attempt.
#[derive(Debug, Clone, Default)]
pub struct PlaintextProbes {
    /// Each probed port and what it answered, the target's own port first.
    pub probes: Vec<(u16, PlaintextEvidence)>,
    /// Why nothing was probed although an expectation was set.
    pub not_run: Option<&'static str>,
}

/// Everything observed about one target in one attempt, nothing judged. The engine
/// fills it; `check::judge` reads it.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub resolve: Timed<Result<Vec<SocketAddr>, ResolveError>>,
    /// `--resolve`: the addresses came from this override, not from DNS.
    pub resolve_override: Option<String>,
    /// `None`: not attempted (resolve failed).
    pub tcp: Option<Timed<Result<SocketAddr, ConnectError>>>,
    /// The TLS handshake of a TLS target (`None`: plaintext target, or no TCP).
    pub tls: Option<TlsEvidence>,
    /// Credentials were given but not sent: the certificate checks failed first.
    pub credentials_withheld: bool,
    pub app: App,
    /// `None`: no plaintext expectation, nothing probed.
    pub plaintext: Option<PlaintextProbes>,
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("resolving {0} did not finish before the deadline")]
    Timeout(String),
    #[error("cannot resolve {0}: no such host (DNS lookup failed)")]
    NoSuchHost(String),
    #[error("{0} resolves to no address")]
    NoAddress(String),
    #[error("cannot resolve {name}: {reason}")]
    Other { name: String, reason: String },
}

/// Why no TCP connection was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "connecting to {0} did not finish before the deadline (filtered port or unreachable host?)"
    )]
    Timeout(SocketAddr),
    #[error("connection refused by {0}: nothing listens on that port")]
    Refused(SocketAddr),
    #[error("cannot connect to {addr}: {reason}")]
    Other { addr: SocketAddr, reason: String },
    #[error("no address to connect to")]
    NoAddress,
}

/// `CertificateRequired` -> `certificate_required`, as the TLS RFCs name alerts.
pub fn alert_name(a: rustls::AlertDescription) -> String {
    let camel = format!("{a:?}");
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, ch) in camel.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out.replace("unknown_c_a", "unknown_ca")
}

/// `CipherSuite::TLS13_AES_256_GCM_SHA384` -> `TLS13_AES_256_GCM_SHA384` (the IANA-style
/// name rustls gives it).
pub fn suite_name(s: rustls::CipherSuite) -> String {
    format!("{s:?}")
}

/// `TLSv1.3` -> `TLS 1.3`.
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_describe_themselves_as_the_reports_word_them() {
        let refused = IoFailure::StartTlsRefused("the server answered SSLRequest with N".into());
        assert_eq!(refused.describe(), "the server answered SSLRequest with N");
        assert_eq!(IoFailure::NoGreeting.describe(), "no greeting");
        let addr = SocketAddr::from(([127, 0, 0, 1], 6379));
        assert_eq!(
            IoFailure::NotAccepted(ConnectError::Refused(addr)).describe(),
            "plaintext connection not accepted: connection refused by 127.0.0.1:6379: nothing listens on that port"
        );
    }
}
