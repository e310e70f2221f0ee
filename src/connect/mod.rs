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
        kind => IoFailure::Io {
            kind,
            message: e.to_string(),
        },
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
        ) => IoFailure::HandshakeTooLarge(*m),
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o))
            if o.0.is::<crate::pki::algs::RsaPssKeyUnsupported>() =>
        {
            IoFailure::RsaPssKey
        }
        rustls::Error::InvalidMessage(m) => IoFailure::NotTls(format!("{m:?}")),
        rustls::Error::PeerIncompatible(p) => IoFailure::Incompatible(p.clone()),
        rustls::Error::PeerMisbehaved(p) => IoFailure::Misbehaved(p.clone()),
        other => IoFailure::Tls(other.clone()),
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

    #[test]
    fn failures_are_typed_and_display_todays_lines() {
        use super::{classify_io, classify_rustls};
        use crate::evidence::IoFailure;
        use rustls::{Error, InvalidMessage, PeerIncompatible, PeerMisbehaved};
        let too_large = classify_rustls(&Error::InvalidMessage(InvalidMessage::MessageTooLarge));
        assert_eq!(
            too_large,
            IoFailure::HandshakeTooLarge(InvalidMessage::MessageTooLarge)
        );
        assert_eq!(
            too_large.describe(),
            "the server's handshake message is larger than the 64 KiB a TLS client accepts (MessageTooLarge): a certificate chain that is too large?"
        );
        let none = classify_rustls(&Error::PeerIncompatible(
            PeerIncompatible::NoCipherSuitesInCommon,
        ));
        assert_eq!(
            none.describe(),
            "no common TLS parameters with the server (NoCipherSuitesInCommon)"
        );
        let broke = classify_rustls(&Error::PeerMisbehaved(
            PeerMisbehaved::SelectedUnofferedCipherSuite,
        ));
        assert_eq!(
            broke,
            IoFailure::Misbehaved(PeerMisbehaved::SelectedUnofferedCipherSuite)
        );
        assert_eq!(
            broke.describe(),
            "the server broke the TLS protocol (SelectedUnofferedCipherSuite)"
        );
        let pss = Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
            std::sync::Arc::new(crate::pki::algs::RsaPssKeyUnsupported),
        )));
        assert_eq!(classify_rustls(&pss), IoFailure::RsaPssKey);
        assert!(classify_rustls(&pss).describe().starts_with(
            "tlsprobe cannot verify this server: its certificate's key is RSASSA-PSS"
        ));
        let general = Error::General("odd".into());
        assert_eq!(classify_rustls(&general), IoFailure::Tls(general.clone()));
        assert_eq!(classify_rustls(&general).describe(), general.to_string());
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(
            classify_io(&refused),
            IoFailure::Io {
                kind: std::io::ErrorKind::ConnectionRefused,
                message: "refused".into()
            }
        );
        assert_eq!(classify_io(&refused).describe(), "refused");
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, none_error());
        assert!(matches!(classify_io(&wrapped), IoFailure::Incompatible(_)));
    }

    fn none_error() -> rustls::Error {
        rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon)
    }
}
