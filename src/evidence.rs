//! Evidence: everything observed about one target, nothing judged.
//!
//! Connect and probe code fill these values; checks read them.

use std::net::SocketAddr;

use rustls_pki_types::CertificateDer;

/// How an I/O step ended when it did not end well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoFailure {
    /// The step's deadline passed.
    Timeout,
    /// The peer closed the connection (clean EOF).
    Closed,
    /// The peer reset the connection.
    Reset,
    /// The peer sent a TLS alert (snake_case name, e.g. `certificate_required`).
    Alert(String),
    /// The peer sent bytes that are not TLS.
    NotTls(String),
    /// The peer's reply could not be parsed, or was larger than tlsprobe reads.
    Malformed(String),
    /// Anything else, as a short sentence.
    Other(String),
}

impl IoFailure {
    pub fn describe(&self) -> String {
        match self {
            IoFailure::Timeout => "no answer before the deadline".into(),
            IoFailure::Closed => "the server closed the connection".into(),
            IoFailure::Reset => "the server reset the connection".into(),
            IoFailure::Alert(a) => format!("the server sent TLS alert {a}"),
            IoFailure::NotTls(m) => format!("the server does not speak TLS: {m}"),
            IoFailure::Malformed(m) => format!("malformed reply: {m}"),
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
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    /// `None` when the handshake completed.
    pub failure: Option<IoFailure>,
    /// Set when a plaintext Redis answered a PING on the same port.
    pub plaintext_redis_reply: Option<String>,
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
    pub outcome: Result<Reply, IoFailure>,
    pub ms: f64,
}

/// The network path to the server.
#[derive(Debug, Clone, Default)]
pub struct NetEvidence {
    pub addrs: Vec<SocketAddr>,
    pub connected: Option<SocketAddr>,
}
