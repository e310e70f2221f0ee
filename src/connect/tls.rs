//! The TLS client: one fresh configuration per connection (no session resumption, so
//! every verification sees a full handshake), with the recording verifier and resolver.

use std::sync::{Arc, Mutex};
use std::time::Instant as StdInstant;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::connect::classify_io;
use crate::connect::danger::{Record, RecordingResolver, RecordingVerifier};
use crate::domain::TlsVersion;
use crate::evidence::{HandshakeRecord, IoFailure, TlsEvidence};

/// What the handshake needs from the plan.
pub struct TlsParams {
    pub sni: Option<String>,
    pub fallback_name: ServerName<'static>,
    pub version: Option<TlsVersion>,
    pub client_key: Option<Arc<rustls::sign::CertifiedKey>>,
}

/// The one crypto provider tlsprobe uses (ring: no first-use RNG stall, see README), with
/// ECDSA P-521 added for what ring lacks: handshake and certificate signatures, and
/// client keys (see [`crate::pki::algs`]).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    let ring = rustls::crypto::ring::default_provider();
    let mut kx_groups = ring.kx_groups.clone();
    kx_groups.push(crate::pki::algs::SECP521R1);
    Arc::new(rustls::crypto::CryptoProvider {
        signature_verification_algorithms: crate::pki::algs::SUPPORTED_ALGS,
        key_provider: crate::pki::algs::key_provider(),
        kx_groups,
        ..ring
    })
}

fn config(params: &TlsParams, record: Record) -> Result<ClientConfig, rustls::Error> {
    let provider = provider();
    let algs = provider.signature_verification_algorithms;
    let versions: &[&'static rustls::SupportedProtocolVersion] = match params.version {
        Some(TlsVersion::V1_2) => &[&rustls::version::TLS12],
        Some(TlsVersion::V1_3) => &[&rustls::version::TLS13],
        None => rustls::ALL_VERSIONS,
    };
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier::new(record.clone(), algs)))
        .with_client_cert_resolver(Arc::new(RecordingResolver::new(
            record,
            params.client_key.clone(),
        )));
    cfg.enable_sni = params.sni.is_some();
    cfg.resumption = rustls::client::Resumption::disabled();
    Ok(cfg)
}

/// Performs the handshake over `tcp` before `deadline`, recording everything observed.
pub async fn handshake(
    tcp: TcpStream,
    params: &TlsParams,
    deadline: Instant,
) -> (TlsEvidence, Option<TlsStream<TcpStream>>) {
    let record: Record = Arc::new(Mutex::new(HandshakeRecord::default()));
    let started = StdInstant::now();
    let mut ev = TlsEvidence {
        sni: params.sni.clone(),
        ..TlsEvidence::default()
    };
    let cfg = match config(params, record.clone()) {
        Ok(c) => c,
        Err(e) => {
            ev.failure = Some(IoFailure::TlsConfig(e));
            return (ev, None);
        }
    };
    let name = match &params.sni {
        Some(s) => ServerName::try_from(s.clone()).unwrap_or_else(|_| params.fallback_name.clone()),
        None => params.fallback_name.clone(),
    };
    let connector = TlsConnector::from(Arc::new(cfg));
    let result = timeout_at(deadline, connector.connect(name, tcp)).await;
    ev.ms = started.elapsed().as_secs_f64() * 1000.0;
    let stream = match result {
        Err(_) => {
            ev.failure = Some(IoFailure::Timeout);
            None
        }
        Ok(Err(e)) => {
            ev.failure = Some(classify_io(&e));
            None
        }
        Ok(Ok(s)) => {
            let conn = s.get_ref().1;
            ev.version = conn.protocol_version();
            ev.cipher_suite = conn.negotiated_cipher_suite().map(|cs| cs.suite());
            Some(s)
        }
    };
    ev.record = record.lock().unwrap_or_else(|p| p.into_inner()).clone();
    (ev, stream)
}

pub use crate::evidence::{suite_name, version_name};
