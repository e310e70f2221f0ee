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
            (None, _) => Err(InputError::new(
                subject,
                format!("PEM block {}: {}", k.block, pem::LEGACY_ENCRYPTED_KEY),
            )),
            (Some(_), None) => Err(InputError::new(
                subject,
                format!(
                    "PEM block {}: encrypted private key (PKCS#8): give its passphrase with --key-pass-file FILE",
                    k.block
                ),
            )),
            (Some(der), Some(pass)) => decrypt(der, pass)
                .map(Some)
                .map_err(|m| InputError::new(subject, format!("PEM block {}: {m}", k.block))),
        },
    }
}

/// Decrypts an `EncryptedPrivateKeyInfo` (PKCS#8, PBES2) into a PKCS#8 key.
fn decrypt(der: &[u8], pass: &Secret) -> Result<PrivateKeyDer<'static>, String> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|_| {
        "encrypted private key: not a valid PKCS#8 EncryptedPrivateKeyInfo".to_string()
    })?;
    let doc = info.decrypt(pass.expose().as_bytes()).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
            "cannot decrypt the private key: wrong passphrase (--key-pass-file)".to_string()
        }
        pkcs8::Error::EncryptedPrivateKey(
            pkcs8::pkcs5::Error::AlgorithmParametersInvalid { .. }
            | pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. },
        ) => "the private key is encrypted with a scheme tlsprobe does not decrypt (it reads PBES2 with AES-CBC and PBKDF2 or scrypt): re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".to_string(),
        _ => "cannot decrypt the private key: wrong passphrase (--key-pass-file), or a damaged key".to_string(),
    })?;
    // A wrong passphrase can still give valid CBC padding: the plaintext must be a key.
    pkcs8::PrivateKeyInfo::try_from(doc.as_bytes()).map_err(|_| {
        "cannot decrypt the private key: wrong passphrase (--key-pass-file)".to_string()
    })?;
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
