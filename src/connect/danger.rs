//! DANGER: a server-certificate verifier that accepts every chain (recording it instead
//! of judging it), and a client-certificate resolver that records the server's request.
//!
//! This is the one place where tlsprobe's TLS client does not verify the server's
//! certificate during the handshake, fenced off as rustls' examples fence
//! `NoCertificateVerification`: private to `connect`, constructed only by
//! `connect::tls::config`, and never reachable without the checks that follow.
//!
//! Collect first, judge later: the handshake always proceeds past the certificate so that
//! every check can be attributed (an expired leaf fails `expiry`, not the handshake). The
//! server must still prove possession of its key: handshake signatures are verified
//! normally. Nothing is sent to an unjudged server except what the engine allows
//! (credentials only after the chain, name and dates passed).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::evidence::HandshakeRecord;

/// Shared record of one handshake.
pub(crate) type Record = Arc<Mutex<HandshakeRecord>>;

/// Records the presented chain; accepts it so that the checks can judge it afterwards.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    record: Record,
    algs: WebPkiSupportedAlgorithms,
}

impl RecordingVerifier {
    pub(crate) fn new(record: Record, algs: WebPkiSupportedAlgorithms) -> Self {
        Self { record, algs }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut rec = self.record.lock().unwrap_or_else(|p| p.into_inner());
        rec.presented = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        refuse_rsa_pss_key(dss)?;
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        refuse_rsa_pss_key(dss)?;
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let mut schemes = self.algs.supported_schemes();
        // Offered only to be refused by name (see `refuse_rsa_pss_key`): without them a
        // server whose key is id-RSASSA-PSS aborts with handshake_failure, which reads as
        // the server's fault.
        schemes.extend(crate::pki::algs::rsa_pss_pss_schemes());
        schemes
    }
}

/// A signature by an id-RSASSA-PSS key: tlsprobe cannot verify it and says so by name.
fn refuse_rsa_pss_key(dss: &DigitallySignedStruct) -> Result<(), rustls::Error> {
    if crate::pki::algs::rsa_pss_pss_schemes().contains(&dss.scheme) {
        return Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(
                crate::pki::algs::RsaPssKeyUnsupported,
            ))),
        ));
    }
    Ok(())
}

/// Records whether the server asked for a client certificate, and answers with ours.
#[derive(Debug)]
pub(crate) struct RecordingResolver {
    record: Record,
    key: Option<Arc<CertifiedKey>>,
}

impl RecordingResolver {
    pub(crate) fn new(record: Record, key: Option<Arc<CertifiedKey>>) -> Self {
        Self { record, key }
    }
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let mut rec = self.record.lock().unwrap_or_else(|p| p.into_inner());
        rec.client_cert_requested = true;
        rec.acceptable_ca_names = root_hint_subjects
            .iter()
            .map(|dn| crate::pki::describe::dn_display(dn))
            .collect();
        rec.client_cert_sent = self.key.is_some();
        self.key.clone()
    }

    fn has_certs(&self) -> bool {
        self.key.is_some()
    }
}
