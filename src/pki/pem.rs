//! Reading certificate files: PEM with any number of blocks, or a single DER certificate.
//!
//! Blocks are found by their BEGIN/END lines so that every block (even one with a label
//! tlsprobe does not decode) keeps its position; the base64 of each block is decoded by
//! rustls-pki-types' `PemObject`. Problems with one block never hide the others: the
//! caller gets every certificate that could be read plus one error per bad block.

use std::path::Path;

use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::InputError;

/// The largest file tlsprobe reads (a CA bundle of thousands of certificates is a few MB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One certificate read from a file.
#[derive(Debug, Clone)]
pub struct CertBlock {
    /// 0-based position among the file's certificates.
    pub index: usize,
    /// 1-based PEM block number in the file (1 for a DER file).
    pub block: usize,
    pub der: CertificateDer<'static>,
}

/// A PEM block that is not a certificate (keys, CRLs, requests...).
#[derive(Clone)]
pub struct OtherBlock {
    /// 0-based position among all PEM blocks of the file.
    pub index: usize,
    pub label: String,
    /// The decoded block, kept for keys and CRLs; never printed.
    pub der: Vec<u8>,
    pub kind: Option<SectionKind>,
}

/// Never shows the block's bytes (they may be a private key).
impl std::fmt::Debug for OtherBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtherBlock")
            .field("index", &self.index)
            .field("label", &self.label)
            .field("bytes", &self.der.len())
            .finish()
    }
}

/// Everything read from one file.
#[derive(Debug, Clone, Default)]
pub struct PemFile {
    pub path: String,
    pub certs: Vec<CertBlock>,
    pub others: Vec<OtherBlock>,
    /// One error per block that could not be read, in file order.
    pub errors: Vec<InputError>,
    /// The encrypted private keys (each also has its entry in `errors`, for the readers
    /// that do not decrypt).
    pub encrypted_keys: Vec<EncryptedKey>,
}

/// An encrypted private key block.
#[derive(Clone)]
pub struct EncryptedKey {
    /// 1-based PEM block number.
    pub block: usize,
    /// Index of this block's entry in [`PemFile::errors`].
    pub error_index: usize,
    /// The `EncryptedPrivateKeyInfo` DER of a PKCS#8 key; `None` for a legacy OpenSSL key
    /// (`Proc-Type: 4,ENCRYPTED`), which tlsprobe does not decrypt.
    pub der: Option<Vec<u8>>,
}

/// Never shows the block's bytes.
impl std::fmt::Debug for EncryptedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedKey")
            .field("block", &self.block)
            .field("legacy", &self.der.is_none())
            .finish()
    }
}

/// What a legacy encrypted key is, and how to make it one tlsprobe reads.
pub const LEGACY_ENCRYPTED_KEY: &str = "encrypted private key in the legacy OpenSSL form (Proc-Type: 4,ENCRYPTED), which tlsprobe does not decrypt: convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in FILE -out key.p8` and give key.p8 with --key-pass-file";

impl PemFile {
    /// The private keys found in the file, in file order.
    pub fn private_keys(&self) -> impl Iterator<Item = PrivateKeyDer<'static>> + '_ {
        self.others.iter().filter_map(|b| {
            let kind = b.kind?;
            PrivateKeyDer::from_pem(kind, b.der.clone())
        })
    }
}

/// Reads a file; errors that make the whole file unusable (missing, a directory, too
/// large, nothing in it) are returned as `Err`, per-block errors are inside `PemFile`.
pub fn read_file(path: &Path) -> Result<PemFile, InputError> {
    let name = path.display().to_string();
    let bytes = crate::files::read_bounded(path, MAX_FILE_BYTES, &name, "a certificate file")?;
    parse_bytes(&name, &bytes)
}

/// Parses the bytes of a file named `name` (see [`read_file`]).
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<PemFile, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::new(name, "file is empty"));
    }
    let spans = find_blocks(bytes);
    if spans.is_empty() {
        return parse_der(name, bytes);
    }
    let mut file = PemFile {
        path: name.to_string(),
        ..PemFile::default()
    };
    for (i, span) in spans.iter().enumerate() {
        let block = i + 1;
        let label = String::from_utf8_lossy(span.label).into_owned();
        let err = |problem: BlockProblem| {
            let e = BlockError {
                block,
                label: label.clone(),
                problem,
            };
            InputError::new(name, e.to_string())
        };
        if !span.terminated {
            file.errors.push(err(BlockProblem::Unterminated));
            continue;
        }
        if let Some(other) = span.end_mismatch {
            file.errors.push(err(BlockProblem::EndMismatch {
                end: String::from_utf8_lossy(other).into_owned(),
                begin: label.clone(),
            }));
            continue;
        }
        if span.encrypted_legacy {
            file.encrypted_keys.push(EncryptedKey {
                block,
                error_index: file.errors.len(),
                der: None,
            });
            file.errors.push(err(BlockProblem::LegacyEncryptedKey));
            continue;
        }
        if label == "ENCRYPTED PRIVATE KEY" {
            // rustls-pki-types skips labels it has no kind for: decode with `der`'s PEM.
            let der = pkcs8::der::pem::decode_vec(span.text)
                .ok()
                .map(|(_, der)| der);
            if let Some(der) = der {
                file.encrypted_keys.push(EncryptedKey {
                    block,
                    error_index: file.errors.len(),
                    der: Some(der),
                });
            }
            file.errors.push(err(BlockProblem::EncryptedKey));
            continue;
        }
        let Some(kind) = known_kind(&label) else {
            file.errors.push(err(BlockProblem::UnknownLabel));
            continue;
        };
        let decoded = <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(span.text).next();
        let der = match decoded {
            Some(Ok((_, der))) => der,
            Some(Err(e)) => {
                file.errors.push(err(BlockProblem::Base64 {
                    reason: pem_reason(&e),
                }));
                continue;
            }
            None => {
                file.errors.push(err(BlockProblem::Malformed));
                continue;
            }
        };
        if kind == SectionKind::Certificate {
            if let Err(e) = check_cert_der(&der) {
                file.errors.push(err(BlockProblem::Der(e)));
                continue;
            }
            file.certs.push(CertBlock {
                index: file.certs.len(),
                block,
                der: CertificateDer::from(der),
            });
        } else {
            file.others.push(OtherBlock {
                index: i,
                label,
                der,
                kind: Some(kind),
            });
        }
    }
    Ok(file)
}

/// One PEM block that could not be read: its 1-based number, its BEGIN label and why.
/// Displayed (after the file's name) as `PEM block 2 ("CERTIFICATE"): bad base64: ...`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("PEM block {block} ({label:?}): {problem}")]
pub struct BlockError {
    pub block: usize,
    pub label: String,
    pub problem: BlockProblem,
}

/// What was wrong with one PEM block.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BlockProblem {
    #[error("no END line: the block is truncated")]
    Unterminated,
    /// The END line names another label (`end`) than the BEGIN line (`begin`).
    #[error("END line says {end:?}, expected {begin:?}")]
    EndMismatch { end: String, begin: String },
    #[error("{}", LEGACY_ENCRYPTED_KEY)]
    LegacyEncryptedKey,
    /// An encrypted PKCS#8 key, for a reader that does not decrypt.
    #[error("encrypted private key (PKCS#8): give its passphrase with --key-pass-file FILE, or decrypt it with `openssl pkey -in FILE -out key.pem`")]
    EncryptedKey,
    #[error("unknown PEM label")]
    UnknownLabel,
    /// The base64 body does not decode (`reason` says how).
    #[error("bad base64: {reason}")]
    Base64 { reason: String },
    #[error("malformed block")]
    Malformed,
    /// A CERTIFICATE block whose DER framing is wrong.
    #[error("{0}")]
    Der(DerError),
}

/// How bytes are not one DER certificate (framing, then the full parse).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DerError {
    /// The first byte is not a SEQUENCE tag (`len` bytes, starting `first`).
    #[error("not valid DER: expected a SEQUENCE, found {len} bytes starting {first:#04x}")]
    NotSequence { len: usize, first: u8 },
    /// The length octets run past the end (`len` bytes).
    #[error("not valid DER: truncated in the length ({len} bytes)")]
    TruncatedLength { len: usize },
    /// Indefinite or over-long length encoding.
    #[error("not valid DER: unsupported length encoding")]
    LengthEncoding,
    /// The SEQUENCE says `want` bytes, there are `len`.
    #[error("not valid DER: truncated at byte {len} of {want}")]
    TruncatedAt { len: usize, want: usize },
    /// `extra` bytes after the certificate.
    #[error("{extra} trailing bytes after the certificate")]
    TrailingBytes { extra: usize },
    /// The parser ran out of input (`len` bytes).
    #[error("not valid DER: truncated ({len} bytes)")]
    Incomplete { len: usize },
    /// The certificate inside does not parse.
    #[error("not valid DER: {0}")]
    X509(x509_parser::error::X509Error),
}

fn parse_der(name: &str, bytes: &[u8]) -> Result<PemFile, InputError> {
    if bytes.first() != Some(&0x30) {
        return Err(InputError::new(
            name,
            "no PEM block and not a DER certificate (expected -----BEGIN CERTIFICATE----- or DER bytes)",
        ));
    }
    check_cert_der(bytes)
        .and_then(|()| parse_cert_error(bytes).map_or(Ok(()), Err))
        .map_err(|msg| InputError::new(name, format!("DER certificate: {msg}")))?;
    Ok(PemFile {
        path: name.to_string(),
        certs: vec![CertBlock {
            index: 0,
            block: 1,
            der: CertificateDer::from(bytes.to_vec()),
        }],
        ..PemFile::default()
    })
}

/// Confirms the bytes are one complete DER value (a SEQUENCE whose length matches), saying
/// how they are not. The certificate inside is parsed by `describe`, which reports its own
/// errors; checking the framing here keeps bundles from being parsed twice.
pub fn check_cert_der(der: &[u8]) -> Result<(), DerError> {
    let n = der.len();
    if n < 2 || der[0] != 0x30 {
        return Err(DerError::NotSequence {
            len: n,
            first: der.first().copied().unwrap_or(0),
        });
    }
    let (len, header) = match der[1] {
        l if l < 0x80 => (l as usize, 2),
        0x81..=0x84 => {
            let k = (der[1] & 0x7f) as usize;
            if n < 2 + k {
                return Err(DerError::TruncatedLength { len: n });
            }
            (
                der[2..2 + k]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | *b as usize),
                2 + k,
            )
        }
        _ => return Err(DerError::LengthEncoding),
    };
    let want = header.saturating_add(len);
    match want.cmp(&n) {
        std::cmp::Ordering::Greater => Err(DerError::TruncatedAt { len: n, want }),
        std::cmp::Ordering::Less => Err(DerError::TrailingBytes { extra: n - want }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Fully parses a certificate, saying how it is not valid.
pub fn parse_cert_error(der: &[u8]) -> Option<DerError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], _)) => None,
        Ok((rest, _)) => Some(DerError::TrailingBytes { extra: rest.len() }),
        Err(x509_parser::nom::Err::Incomplete(_)) => Some(DerError::Incomplete { len: der.len() }),
        Err(x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e)) => {
            Some(DerError::X509(e))
        }
    }
}

fn pem_reason(e: &rustls_pki_types::pem::Error) -> String {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::Base64Decode(_) => "invalid base64 characters or padding".into(),
        E::MissingSectionEnd { .. } => "no END line".into(),
        E::IllegalSectionStart { .. } => "malformed BEGIN line".into(),
        E::SectionTooLarge => "block too large".into(),
        other => other.to_string(),
    }
}

fn known_kind(label: &str) -> Option<SectionKind> {
    Some(match label {
        "CERTIFICATE" => SectionKind::Certificate,
        "PUBLIC KEY" => SectionKind::PublicKey,
        "RSA PRIVATE KEY" => SectionKind::RsaPrivateKey,
        "PRIVATE KEY" => SectionKind::PrivateKey,
        "EC PRIVATE KEY" => SectionKind::EcPrivateKey,
        "X509 CRL" => SectionKind::Crl,
        "CERTIFICATE REQUEST" => SectionKind::Csr,
        _ => return None,
    })
}

struct Span<'a> {
    label: &'a [u8],
    /// The block's text from its BEGIN line to the end of its END line.
    text: &'a [u8],
    terminated: bool,
    /// A traditional OpenSSL encrypted key (`Proc-Type: 4,ENCRYPTED` header).
    encrypted_legacy: bool,
    /// The END line names another label.
    end_mismatch: Option<&'a [u8]>,
}

/// Finds BEGIN/END blocks by line. Junk between blocks is ignored, as openssl does.
fn find_blocks(bytes: &[u8]) -> Vec<Span<'_>> {
    let mut spans = Vec::new();
    let mut open: Option<(usize, &[u8], bool)> = None;
    let mut pos = 0;
    while pos < bytes.len() {
        let end = memchr_newline(&bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        // A UTF-8 byte-order mark, as Windows editors save text files.
        let bom = if pos == 0 && bytes.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        let line = trim_line(&bytes[pos + bom..end]);
        if let Some(rest) = line.strip_prefix(b"-----BEGIN ") {
            if let Some((start, label, enc)) = open.take() {
                spans.push(Span {
                    label,
                    text: &bytes[start..pos],
                    terminated: false,
                    encrypted_legacy: enc,
                    end_mismatch: None,
                });
            }
            let label = rest.strip_suffix(b"-----").unwrap_or(rest);
            open = Some((pos + bom, label, false));
        } else if let Some(rest) = line.strip_prefix(b"-----END ") {
            if let Some((start, label, enc)) = open.take() {
                let end_label = rest.strip_suffix(b"-----").unwrap_or(rest);
                let mismatch = (end_label != label).then_some(end_label);
                spans.push(Span {
                    label,
                    text: &bytes[start..end],
                    terminated: true,
                    encrypted_legacy: enc,
                    end_mismatch: mismatch,
                });
            }
        } else if line.starts_with(b"Proc-Type:") && line.ends_with(b"ENCRYPTED") {
            if let Some((_, _, enc)) = open.as_mut() {
                *enc = true;
            }
        }
        pos = end;
    }
    if let Some((start, label, enc)) = open {
        spans.push(Span {
            label,
            text: &bytes[start..],
            terminated: false,
            encrypted_legacy: enc,
            end_mismatch: None,
        });
    }
    spans
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., last] = l {
        if last.is_ascii_whitespace() {
            l = rest;
        } else {
            break;
        }
    }
    l
}

/// Reads a certificate file for a flag: every block must be readable.
pub fn read_cert_file(path: &Path, flag: &str) -> Result<PemFile, InputError> {
    let file =
        read_file(path).map_err(|e| InputError::new(format!("{flag} {}", e.subject), e.message))?;
    if let Some(e) = file.errors.first() {
        return Err(InputError::new(
            format!("{flag} {}", e.subject),
            e.message.clone(),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_junk_are_errors() {
        assert_eq!(
            parse_bytes("f", b"  \n").unwrap_err().message,
            "file is empty"
        );
        assert!(parse_bytes("f", b"hello world")
            .unwrap_err()
            .message
            .contains("no PEM block"));
        let e = parse_bytes("f", &[0x30, 0x82, 0x01]).unwrap_err();
        assert!(e.message.contains("DER certificate"), "{e}");
    }

    #[test]
    fn block_errors_name_their_block() {
        let text = b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMAMB\n-----END CERTIFICATE-----\n";
        let f = parse_bytes("f", text).unwrap();
        assert_eq!(f.errors.len(), 3);
        assert!(f.errors[0]
            .message
            .starts_with("PEM block 1 (\"FOO\"): unknown PEM label"));
        assert!(f.errors[1]
            .message
            .starts_with("PEM block 2 (\"CERTIFICATE\"): bad base64"));
        assert!(
            f.errors[2]
                .message
                .starts_with("PEM block 3 (\"CERTIFICATE\"): not valid DER"),
            "{}",
            f.errors[2]
        );
    }

    #[test]
    fn block_errors_display_todays_lines() {
        let text = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERT-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nAgA=\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMAA=\n";
        let f = parse_bytes("f", text).unwrap();
        let lines: Vec<String> = f.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "f: PEM block 1 (\"CERTIFICATE\"): END line says \"CERT\", expected \"CERTIFICATE\"",
                "f: PEM block 2 (\"ENCRYPTED PRIVATE KEY\"): encrypted private key (PKCS#8): give its passphrase with --key-pass-file FILE, or decrypt it with `openssl pkey -in FILE -out key.pem`",
                "f: PEM block 3 (\"CERTIFICATE\"): not valid DER: expected a SEQUENCE, found 2 bytes starting 0x02",
                "f: PEM block 4 (\"CERTIFICATE\"): no END line: the block is truncated",
            ]
        );
    }

    #[test]
    fn der_errors_carry_the_sizes() {
        assert_eq!(
            check_cert_der(&[0x30, 0x03, 0x01]),
            Err(DerError::TruncatedAt { len: 3, want: 5 })
        );
        assert_eq!(
            check_cert_der(&[0x30, 0x03, 0x01]).unwrap_err().to_string(),
            "not valid DER: truncated at byte 3 of 5"
        );
        assert_eq!(
            check_cert_der(&[0x30, 0x00, 0x01]).unwrap_err().to_string(),
            "1 trailing bytes after the certificate"
        );
        assert_eq!(
            check_cert_der(&[0x30, 0x82, 0x01]).unwrap_err().to_string(),
            "not valid DER: truncated in the length (3 bytes)"
        );
        assert_eq!(
            check_cert_der(&[0x30, 0x80]).unwrap_err().to_string(),
            "not valid DER: unsupported length encoding"
        );
        assert_eq!(
            check_cert_der(&[0x02, 0x00]).unwrap_err().to_string(),
            "not valid DER: expected a SEQUENCE, found 2 bytes starting 0x02"
        );
        assert!(matches!(
            parse_cert_error(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Some(DerError::X509(_))
        ));
        let e = parse_bytes("f", &[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(
            e.message.starts_with("DER certificate: not valid DER: "),
            "{e}"
        );
    }

    #[test]
    fn unterminated_block() {
        let f = parse_bytes("f", b"-----BEGIN CERTIFICATE-----\nMAA=\n").unwrap();
        assert!(f.errors[0].message.contains("truncated"));
    }
}
