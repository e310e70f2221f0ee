//! Signature algorithms: ring's, plus ECDSA P-521 from RustCrypto's `p521`.
//!
//! ring (tlsprobe's only provider, chosen for its start-up cost) has no P-521. Servers with
//! P-521 keys, chains signed by P-521 CAs, and P-521 client keys all work with openssl and
//! redis-cli, so tlsprobe adds exactly those algorithms and nothing else:
//!
//! - [`VERIFICATION_ALGS`]: what rustls-webpki accepts on certificates (chain signatures),
//!   ring's list followed by ECDSA P-521 with SHA-256, SHA-384 and SHA-512.
//! - [`SUPPORTED_ALGS`]: what the handshake accepts (TLS 1.2/1.3 `CertificateVerify`), ring's
//!   mapping with `ecdsa_secp521r1_sha512` added.
//! - [`key_provider`]: ring's private-key loader, falling back to a P-521 signing key.
//! - [`SECP521R1`]: the secp521r1 key-exchange group, offered last, which TLS 1.2 needs
//!   for a server certificate with a P-521 key.
//!
//! The P-521 code is only reached when a P-521 key or signature is met, so verifying any
//! other server costs nothing more than before. Certificates whose key is id-RSASSA-PSS are
//! not supported by rustls-webpki or rustls; [`RsaPssKeyUnsupported`] names that limit.

use std::sync::Arc;

use p521::ecdsa::signature::hazmat::PrehashVerifier;
use p521::ecdsa::signature::Signer;
use rustls::crypto::{
    ActiveKeyExchange, KeyProvider, SharedSecret, SupportedKxGroup, WebPkiSupportedAlgorithms,
};
use rustls::sign::{Signer as TlsSigner, SigningKey};
use rustls::{NamedGroup, SignatureAlgorithm, SignatureScheme};
use rustls_pki_types::{
    alg_id, AlgorithmIdentifier, InvalidSignature, PrivateKeyDer, SignatureVerificationAlgorithm,
};
use webpki::ring as w;

/// The hash an ECDSA P-521 signature is computed over.
#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// ECDSA over P-521 with one hash, for certificates and handshake signatures.
#[derive(Debug)]
struct EcdsaP521 {
    hash: Hash,
}

impl EcdsaP521 {
    /// The message digest left-padded to the 66 bytes of a P-521 field element. ECDSA
    /// takes a hash shorter than the group order as the integer it encodes (SEC 1 4.1.4
    /// step 5), which is exactly this padding; RustCrypto's own `bits2field` refuses hashes
    /// under half the field size, so SHA-256 would otherwise be rejected.
    fn prehash(&self, message: &[u8]) -> [u8; 66] {
        let alg = match self.hash {
            Hash::Sha256 => &ring::digest::SHA256,
            Hash::Sha384 => &ring::digest::SHA384,
            Hash::Sha512 => &ring::digest::SHA512,
        };
        let digest = ring::digest::digest(alg, message);
        let bytes = digest.as_ref();
        let mut out = [0u8; 66];
        out[66 - bytes.len()..].copy_from_slice(bytes);
        out
    }
}

impl SignatureVerificationAlgorithm for EcdsaP521 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        // `public_key` is the SEC 1 point of the SubjectPublicKeyInfo; `signature` is the
        // DER ECDSA-Sig-Value, as in X.509 and TLS.
        let key =
            p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| InvalidSignature)?;
        let sig = p521::ecdsa::Signature::from_der(signature).map_err(|_| InvalidSignature)?;
        key.verify_prehash(&self.prehash(message), &sig)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
            Hash::Sha512 => alg_id::ECDSA_SHA512,
        }
    }
}

/// Verifies an X.509 signature by a P-521 key, given the signature algorithm's OID
/// (`ecdsa-with-SHA256/384/512`); any other algorithm is `false`.
pub fn verify_p521(sig_oid: &str, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let alg = match sig_oid {
        "1.2.840.10045.4.3.2" => ECDSA_P521_SHA256,
        "1.2.840.10045.4.3.3" => ECDSA_P521_SHA384,
        "1.2.840.10045.4.3.4" => ECDSA_P521_SHA512,
        _ => return false,
    };
    alg.verify_signature(public_key, message, signature).is_ok()
}

static ECDSA_P521_SHA256: &dyn SignatureVerificationAlgorithm = &EcdsaP521 { hash: Hash::Sha256 };
static ECDSA_P521_SHA384: &dyn SignatureVerificationAlgorithm = &EcdsaP521 { hash: Hash::Sha384 };
static ECDSA_P521_SHA512: &dyn SignatureVerificationAlgorithm = &EcdsaP521 { hash: Hash::Sha512 };

/// Certificate signature algorithms: `crate::pki::algs::VERIFICATION_ALGS` (ring) plus P-521.
pub static VERIFICATION_ALGS: &[&dyn SignatureVerificationAlgorithm] = &[
    w::ECDSA_P256_SHA256,
    w::ECDSA_P256_SHA384,
    w::ECDSA_P384_SHA256,
    w::ECDSA_P384_SHA384,
    w::ED25519,
    w::RSA_PKCS1_2048_8192_SHA256,
    w::RSA_PKCS1_2048_8192_SHA384,
    w::RSA_PKCS1_2048_8192_SHA512,
    w::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    w::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    w::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    w::RSA_PKCS1_3072_8192_SHA384,
    w::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    w::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    w::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    ECDSA_P521_SHA256,
    ECDSA_P521_SHA384,
    ECDSA_P521_SHA512,
];

/// Handshake signature algorithms: rustls' ring mapping plus `ecdsa_secp521r1_sha512`.
///
/// In TLS 1.2 a scheme does not fix the curve, so P-521 keys may sign with the SHA-256 and
/// SHA-384 schemes too (listed after ring's, which TLS 1.3 uses first); in TLS 1.3 each
/// scheme's first entry is the one rustls uses.
pub static SUPPORTED_ALGS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: VERIFICATION_ALGS,
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[
                w::ECDSA_P384_SHA384,
                w::ECDSA_P256_SHA384,
                ECDSA_P521_SHA384,
            ],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[
                w::ECDSA_P256_SHA256,
                w::ECDSA_P384_SHA256,
                ECDSA_P521_SHA256,
            ],
        ),
        (SignatureScheme::ECDSA_NISTP521_SHA512, &[ECDSA_P521_SHA512]),
        (SignatureScheme::ED25519, &[w::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[w::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[w::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[w::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[w::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[w::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[w::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// `rsa_pss_pss_sha256/384/512` (RFC 8446 4.2.3), the schemes of keys of type
/// id-RSASSA-PSS, which rustls knows only as `Unknown`. tlsprobe offers them only so that
/// such a server sends its certificate and tlsprobe can say by name why it cannot go on; a
/// signature made with one is never accepted (see [`RsaPssKeyUnsupported`]).
pub fn rsa_pss_pss_schemes() -> [SignatureScheme; 3] {
    [0x0809u16, 0x080a, 0x080b].map(SignatureScheme::from)
}

/// The server signed with a key of type id-RSASSA-PSS, which neither rustls nor
/// rustls-webpki can verify: a limit of tlsprobe's TLS stack, not a fault of the server.
#[derive(Debug, thiserror::Error)]
#[error(
    "tlsprobe cannot verify this server: its certificate's key is RSASSA-PSS \
     (id-RSASSA-PSS, not rsaEncryption), which rustls and rustls-webpki do not support; \
     this is a limit of tlsprobe, not a server fault (openssl and redis-cli accept such keys)"
)]
pub struct RsaPssKeyUnsupported;

/// DER of the id-RSASSA-PSS object identifier (1.2.840.113549.1.1.10).
const RSASSA_PSS_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
];

/// Whether a SubjectPublicKeyInfo algorithm (the DER contents of its AlgorithmIdentifier,
/// as rustls-webpki reports it) is id-RSASSA-PSS.
pub fn is_rsa_pss_key(public_key_alg: &[u8]) -> bool {
    public_key_alg.starts_with(RSASSA_PSS_OID)
}

/// Why a chain with an id-RSASSA-PSS issuer key cannot be validated.
pub const RSA_PSS_ISSUER: &str = "a CA in the chain has an RSASSA-PSS key (id-RSASSA-PSS, not rsaEncryption), whose signatures rustls-webpki cannot verify: a limit of tlsprobe, not proof of a bad chain (openssl verify accepts such chains)";

/// Why an RSASSA-PSS signature whose parameters rustls-webpki does not know (an issuer key
/// of type id-RSASSA-PSS, or a salt length other than the hash length) cannot be verified.
pub const RSA_PSS_SIGNATURE: &str = "a certificate is signed with RSASSA-PSS parameters rustls-webpki does not support (an issuer key of type id-RSASSA-PSS, or a salt length other than the hash length): a limit of tlsprobe, not proof of a bad chain (openssl verify accepts such chains)";

/// ring's key loader, then P-521 (PKCS#8 or SEC 1) for what ring cannot load.
pub fn key_provider() -> &'static dyn KeyProvider {
    &WithP521
}

#[derive(Debug)]
struct WithP521;

impl KeyProvider for WithP521 {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        let ring_err = match rustls::crypto::ring::sign::any_supported_type(&key_der) {
            Ok(k) => return Ok(k),
            Err(e) => e,
        };
        let secret = match &key_der {
            PrivateKeyDer::Pkcs8(k) => {
                use p521::pkcs8::DecodePrivateKey;
                p521::SecretKey::from_pkcs8_der(k.secret_pkcs8_der()).ok()
            }
            PrivateKeyDer::Sec1(k) => p521::SecretKey::from_sec1_der(k.secret_sec1_der()).ok(),
            _ => None,
        };
        let secret = secret.ok_or(ring_err)?;
        let key = p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes())
            .map_err(|_| rustls::Error::General("unusable P-521 key".into()))?;
        // The SubjectPublicKeyInfo lets rustls check that the key matches --cert.
        let spki = {
            use p521::pkcs8::EncodePublicKey;
            secret
                .public_key()
                .to_public_key_der()
                .map_err(|_| rustls::Error::General("unusable P-521 key".into()))?
                .into_vec()
        };
        Ok(Arc::new(P521Key {
            key: Arc::new(key),
            spki,
        }))
    }
}

/// A P-521 client key: signs `ecdsa_secp521r1_sha512`.
struct P521Key {
    key: Arc<p521::ecdsa::SigningKey>,
    spki: Vec<u8>,
}

impl std::fmt::Debug for P521Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Key(***)")
    }
}

impl SigningKey for P521Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn TlsSigner>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| Box::new(P521Signer(self.key.clone())) as Box<dyn TlsSigner>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }

    fn public_key(&self) -> Option<rustls_pki_types::SubjectPublicKeyInfoDer<'_>> {
        Some(self.spki.as_slice().into())
    }
}

struct P521Signer(Arc<p521::ecdsa::SigningKey>);

impl std::fmt::Debug for P521Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Signer(***)")
    }
}

impl TlsSigner for P521Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        // SHA-512 over the message, a fresh random nonce from the OS (getrandom).
        let sig: p521::ecdsa::Signature = self
            .0
            .try_sign(message)
            .map_err(|_| rustls::Error::General("P-521 signing failed".into()))?;
        Ok(sig.to_der().as_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP521_SHA512
    }
}

/// ECDHE over secp521r1, offered last (after ring's X25519, P-256 and P-384) so that it is
/// never chosen unless a server needs it. In TLS 1.2 a client must list a server
/// certificate's curve among its groups (RFC 8422 5.1.1): without it a server with a P-521
/// certificate aborts the handshake.
pub static SECP521R1: &dyn SupportedKxGroup = &Secp521r1;

#[derive(Debug)]
struct Secp521r1;

impl SupportedKxGroup for Secp521r1 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        let secret =
            p521::ecdh::EphemeralSecret::random(&mut p521::elliptic_curve::rand_core::OsRng);
        let pub_key = p521::EncodedPoint::from(secret.public_key())
            .as_bytes()
            .to_vec();
        Ok(Box::new(Secp521r1Exchange { secret, pub_key }))
    }

    fn ffdhe_group(&self) -> Option<rustls::ffdhe_groups::FfdheGroup<'static>> {
        None
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

struct Secp521r1Exchange {
    secret: p521::ecdh::EphemeralSecret,
    pub_key: Vec<u8>,
}

impl ActiveKeyExchange for Secp521r1Exchange {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, rustls::Error> {
        // from_sec1_bytes checks that the point is on the curve (and not the identity).
        let peer = p521::PublicKey::from_sec1_bytes(peer_pub_key)
            .map_err(|_| rustls::PeerMisbehaved::InvalidKeyShare)?;
        let shared = self.secret.diffie_hellman(&peer);
        Ok(SharedSecret::from(&shared.raw_secret_bytes()[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.pub_key
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p521_signatures_round_trip_and_tampering_fails() {
        let mut scalar = [1u8; 66];
        scalar[0] = 0; // below the group order
        let sk = p521::ecdsa::SigningKey::from_slice(&scalar).unwrap();
        let pk = p521::ecdsa::VerifyingKey::from(&sk).to_encoded_point(false);
        let signer = P521Signer(Arc::new(sk));
        let sig = signer.sign(b"hello").unwrap();
        ECDSA_P521_SHA512
            .verify_signature(pk.as_bytes(), b"hello", &sig)
            .unwrap();
        assert!(ECDSA_P521_SHA512
            .verify_signature(pk.as_bytes(), b"hellp", &sig)
            .is_err());
        // The same signature checked as SHA-384 is a different message digest.
        assert!(ECDSA_P521_SHA384
            .verify_signature(pk.as_bytes(), b"hello", &sig)
            .is_err());
    }
}
