//! CRL rules of [`super::RULES`] (`--crl`): the issuer's key usage, the CRL Number, and
//! nextUpdate.

use super::rules::key_usage;
use super::CrlCtx;

const CRL_NUMBER: &str = "2.5.29.20";

/// RFC 5280 4.2.1.3 and 6.3.3 (f): a CRL issuer whose certificate has a keyUsage extension
/// MUST have cRLSign; an issuer without the extension is fine.
pub(super) fn issuer_no_crlsign(c: &CrlCtx<'_, '_>) -> Option<String> {
    let ku = key_usage(c.issuer?)?;
    (!ku.crl_sign()).then(|| {
        format!(
            "issued by {}, whose keyUsage ({ku}) lacks cRLSign",
            crate::pki::describe::display_name(c.crl.issuer())
        )
    })
}

fn number_ext<'b>(c: &'b CrlCtx<'_, '_>) -> Option<&'b x509_parser::extensions::X509Extension<'b>> {
    c.crl
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == CRL_NUMBER)
}

/// RFC 5280 5.2.3: conforming CRL issuers MUST include the CRL Number.
pub(super) fn missing_number(c: &CrlCtx<'_, '_>) -> Option<String> {
    number_ext(c)
        .is_none()
        .then(|| "the CRL has no CRL Number extension".into())
}

/// RFC 5280 5.2.3: the CRL Number is a non-critical extension.
pub(super) fn number_critical(c: &CrlCtx<'_, '_>) -> Option<String> {
    number_ext(c)
        .filter(|e| e.critical)
        .map(|_| "the CRL Number is marked critical (it MUST NOT be)".into())
}

/// RFC 5280 5.1.2.5: past nextUpdate a newer CRL should exist (webpki ignores nextUpdate;
/// openssl rejects such a CRL).
pub(super) fn expired(c: &CrlCtx<'_, '_>) -> Option<String> {
    let next = c.crl.next_update()?.timestamp();
    (next < c.now).then(|| {
        format!(
            "the CRL is past its nextUpdate {}: a fresher CRL should exist",
            crate::clock::rfc3339(next)
        )
    })
}
