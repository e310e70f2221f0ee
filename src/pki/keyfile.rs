//! Reading a client private key: plain PEM keys, encrypted PKCS#8 keys (PBES2, decrypted
//! with the passphrase of `--key-pass-file`), and the errors a person needs for the rest
//! (legacy `Proc-Type: 4,ENCRYPTED` keys, files that hold no key at all).
//!
//! The passphrase is a [`Secret`]: it is never part of an error, a warning or a report.

use std::path::Path;

use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::InputError;
use crate::pki::pem;
use crate::target::Secret;

/// The largest passphrase file read.
const MAX_PASS_FILE_BYTES: u64 = 64 * 1024;

/// Reads `--key-pass-file`: the first line, without its line ending.
pub fn read_pass_file(path: &Path) -> Result<Secret, InputError> {
    let name = format!("--key-pass-file {}", path.display());
    let bytes = crate::files::read_bounded(path, MAX_PASS_FILE_BYTES, &name, "a passphrase file")?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::new(&name, "is not UTF-8 text"))?;
    let first = text.lines().next().unwrap_or("");
    if first.is_empty() {
        return Err(InputError::new(&name, "is empty"));
    }
    Ok(Secret::new(first))
}

/// The first private key of a file read for `flag` (`--key FILE` or `--cert FILE`),
/// decrypting an encrypted PKCS#8 key with `pass`. `Ok(None)`: the file holds no key.
pub fn first_key(
    file: &pem::PemFile,
    flag: &str,
    pass: Option<&Secret>,
) -> Result<Option<PrivateKeyDer<'static>>, InputError> {
    let subject = format!("{flag} {}", file.path);
    let encrypted = file.encrypted_keys.first();
    // Errors other than the encrypted blocks themselves always stop the run.
    if let Some((_, e)) = file
        .errors
        .iter()
        .enumerate()
        .find(|(i, _)| !file.encrypted_keys.iter().any(|k| k.error_index == *i))
    {
        return Err(InputError::new(
            format!("{flag} {}", e.subject),
            e.message.clone(),
        ));
    }
    let plain = file.private_keys().next();
    match (plain, encrypted) {
        (Some(k), _) => Ok(Some(k)),
        (None, None) => Ok(None),
        (None, Some(k)) => match (&k.der, pass) {
            (None, _) => Err(KeyError::Legacy { block: k.block }),
            (Some(_), None) => Err(KeyError::NoPassphrase { block: k.block }),
            (Some(der), Some(pass)) => {
                decrypt(der, pass)
                    .map(Some)
                    .map_err(|reason| KeyError::Decrypt {
                        block: k.block,
                        reason,
                    })
            }
        }
        .map_err(|e| InputError::new(subject, e.to_string())),
    }
}

/// Why the encrypted key of a `--key` / `--cert` file gave no key (its PEM block).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A `Proc-Type: 4,ENCRYPTED` key, which tlsprobe does not decrypt.
    #[error("PEM block {block}: {}", pem::LEGACY_ENCRYPTED_KEY)]
    Legacy { block: usize },
    /// An encrypted PKCS#8 key and no `--key-pass-file`.
    #[error("PEM block {block}: encrypted private key (PKCS#8): give its passphrase with --key-pass-file FILE")]
    NoPassphrase { block: usize },
    /// The passphrase was given and decryption failed.
    #[error("PEM block {block}: {reason}")]
    Decrypt { block: usize, reason: DecryptError },
}

/// Why an `EncryptedPrivateKeyInfo` could not be decrypted (never shows the passphrase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The block is not an `EncryptedPrivateKeyInfo`.
    #[error("encrypted private key: not a valid PKCS#8 EncryptedPrivateKeyInfo")]
    NotPkcs8,
    /// The padding check failed, or the plaintext is not a key.
    #[error("cannot decrypt the private key: wrong passphrase (--key-pass-file)")]
    WrongPassphrase,
    /// Not PBES2 with AES-CBC and PBKDF2 or scrypt.
    #[error("the private key is encrypted with a scheme tlsprobe does not decrypt (it reads PBES2 with AES-CBC and PBKDF2 or scrypt): re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`")]
    UnsupportedScheme,
    /// Any other decryption failure.
    #[error(
        "cannot decrypt the private key: wrong passphrase (--key-pass-file), or a damaged key"
    )]
    Damaged,
}

/// Decrypts an `EncryptedPrivateKeyInfo` (PKCS#8, PBES2) into a PKCS#8 key.
fn decrypt(der: &[u8], pass: &Secret) -> Result<PrivateKeyDer<'static>, DecryptError> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|_| DecryptError::NotPkcs8)?;
    let doc = info
        .decrypt(pass.expose().as_bytes())
        .map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
                DecryptError::WrongPassphrase
            }
            pkcs8::Error::EncryptedPrivateKey(
                pkcs8::pkcs5::Error::AlgorithmParametersInvalid { .. }
                | pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. },
            ) => DecryptError::UnsupportedScheme,
            _ => DecryptError::Damaged,
        })?;
    // A wrong passphrase can still give valid CBC padding: the plaintext must be a key.
    pkcs8::PrivateKeyInfo::try_from(doc.as_bytes()).map_err(|_| DecryptError::WrongPassphrase)?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        doc.as_bytes().to_vec(),
    )))
}

/// Reads a `--key` file, describing a file without any PEM block in key terms.
pub fn read_key_file(path: &Path) -> Result<pem::PemFile, InputError> {
    let name = path.display().to_string();
    let bytes = crate::files::read_bounded(path, pem::MAX_FILE_BYTES, &name, "a private key file")?;
    let subject = format!("--key {name}");
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(subject, "file is empty"));
    }
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(InputError::new(
            subject,
            "not a PEM private key (expected -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY; convert a DER key with `openssl pkey -inform DER -in FILE -out key.pem`)",
        ));
    }
    pem::parse_bytes(&name, &bytes)
        .map_err(|e| InputError::new(format!("--key {}", e.subject), e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_error(file: &str, pass: Option<&str>) -> InputError {
        let f = read_key_file(Path::new(&format!("testdata/{file}"))).unwrap();
        let pass = pass.map(Secret::new);
        first_key(&f, "--key", pass.as_ref()).unwrap_err()
    }

    #[test]
    fn errors_display_todays_lines() {
        let e = key_error("client-encrypted.key", None);
        assert_eq!(e.subject, "--key testdata/client-encrypted.key");
        assert_eq!(e.message, "PEM block 1: encrypted private key (PKCS#8): give its passphrase with --key-pass-file FILE");
        assert_eq!(
            key_error("client-encrypted.key", Some("not the passphrase")).message,
            "PEM block 1: cannot decrypt the private key: wrong passphrase (--key-pass-file), or a damaged key"
        );
        assert_eq!(
            key_error("client-legacy-encrypted.key", Some("x")).message,
            format!("PEM block 1: {}", pem::LEGACY_ENCRYPTED_KEY)
        );
    }

    #[test]
    fn decrypt_errors_are_typed() {
        let f = read_key_file(Path::new("testdata/client-encrypted.key")).unwrap();
        let der = f.encrypted_keys[0].der.as_ref().unwrap();
        assert_eq!(
            decrypt(der, &Secret::new("wrong")).unwrap_err(),
            DecryptError::Damaged
        );
        assert_eq!(
            decrypt(b"\x30\x00", &Secret::new("x")).unwrap_err(),
            DecryptError::NotPkcs8
        );
        let pass = std::fs::read_to_string("testdata/client-encrypted.pass").unwrap();
        assert!(decrypt(der, &Secret::new(pass.trim_end())).is_ok());
    }
}
