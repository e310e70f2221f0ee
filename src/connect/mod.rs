//! Connecting: name resolution, TCP, and TLS with a verifier that records.

mod danger;
pub mod tcp;
pub mod tls;

use crate::evidence::IoFailure;

/// Reduces an I/O error (possibly carrying a rustls error) to what the checks need.
pub fn classify_io(e: &std::io::Error) -> IoFailure {
    use std::io::ErrorKind as K;
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return classify_rustls(tls);
    }
    match e.kind() {
        K::UnexpectedEof => IoFailure::Closed,
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => IoFailure::Reset,
        K::TimedOut => IoFailure::Timeout,
        _ => IoFailure::Other(e.to_string()),
    }
}

/// Reduces a rustls error to an [`IoFailure`].
pub fn classify_rustls(e: &rustls::Error) -> IoFailure {
    match e {
        rustls::Error::AlertReceived(a) => IoFailure::Alert(*a),
        rustls::Error::InvalidMessage(
            m @ (rustls::InvalidMessage::HandshakePayloadTooLarge
            | rustls::InvalidMessage::CertificatePayloadTooLarge
            | rustls::InvalidMessage::MessageTooLarge),
        ) => IoFailure::Other(format!(
            "the server's handshake message is larger than the 64 KiB a TLS client accepts ({m:?}): a certificate chain that is too large?"
        )),
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))
            if o.0.is::<crate::pki::algs::RsaPssKeyUnsupported>() =>
        {
            IoFailure::Other(o.0.to_string())
        }
        rustls::Error::InvalidMessage(m) => IoFailure::NotTls(format!("{m:?}")),
        rustls::Error::PeerIncompatible(p) => {
            IoFailure::Other(format!("no common TLS parameters with the server ({p:?})"))
        }
        rustls::Error::PeerMisbehaved(p) => {
            IoFailure::Other(format!("the server broke the TLS protocol ({p:?})"))
        }
        other => IoFailure::Other(other.to_string()),
    }
}

pub use crate::evidence::alert_name;

#[cfg(test)]
mod tests {
    use super::alert_name;
    use rustls::AlertDescription;

    #[test]
    fn alert_names_match_the_rfc() {
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::BadCertificate),
            "bad_certificate"
        );
    }
}
