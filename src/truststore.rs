//! Loading trust anchors for `--cacert`: files, directories (an OpenSSL hashed CA dir
//! works) and `system`, the operating system's store as rustls-native-certs finds it
//! (it honours `SSL_CERT_FILE` and `SSL_CERT_DIR`, as OpenSSL does).
//!
//! Every certificate of every file is an anchor. A file given by name must be readable in
//! full; in a directory, files that hold no certificate at all (CRLs, READMEs) are skipped,
//! and in a directory or the system store the same certificate met twice (hash links, a
//! bundle copy) is one anchor.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use webpki::anchor_from_trusted_cert;

use crate::error::InputError;
use crate::pki::pem;
use crate::pki::pem::read_cert_file;
use crate::pki::trust::{AnchorSource, TrustStore};

impl TrustStore {
    /// The Mozilla roots from webpki-roots.
    pub fn builtin() -> Self {
        let anchors: Vec<_> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let sources = anchors
            .iter()
            .enumerate()
            .map(|(i, a)| AnchorSource {
                file: "webpki-roots".into(),
                index: i,
                subject: crate::pki::describe::dn_display(a.subject.as_ref()),
                der: None,
                is_leaf: false,
            })
            .collect();
        TrustStore {
            anchors,
            sources,
            file_sizes: vec![("webpki-roots".into(), 0)],
            builtin: true,
            store: "the Mozilla roots (webpki-roots, built in)".into(),
            memo: Default::default(),
        }
    }

    /// Every certificate of every file is an anchor; a directory gives every certificate
    /// file in it, and `system` the operating system's store (see [`crate::truststore`]).
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, InputError> {
        from_paths(paths)
    }
}

/// The `--cacert` value that names the system store.
pub const SYSTEM: &str = "system";

/// Builds the trust store from `--cacert` values, in order.
pub fn from_paths(paths: &[PathBuf]) -> Result<TrustStore, InputError> {
    let mut store = TrustStore {
        anchors: vec![],
        sources: vec![],
        file_sizes: vec![],
        builtin: false,
        store: String::new(),
        memo: Default::default(),
    };
    let mut names = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        if path.as_os_str() == SYSTEM {
            names.push(add_system(&mut store, &mut seen)?);
        } else if path.is_dir() {
            names.push(add_dir(&mut store, path, &mut seen)?);
        } else {
            let file = read_cert_file(path, "--cacert")?;
            if file.certs.is_empty() {
                return Err(InputError::new(
                    path.display().to_string(),
                    "--cacert file holds no certificate",
                ));
            }
            // A file named on its own keeps every certificate, duplicates included (as
            // before; `inspect` reports them), so indexes match the file.
            add_file(&mut store, &file, None)?;
            names.push(file.path.clone());
        }
    }
    store.store = names.join(", ");
    Ok(store)
}

/// Adds every certificate of a read file as an anchor (once, when `seen` is given).
fn add_file(
    store: &mut TrustStore,
    file: &pem::PemFile,
    mut seen: Option<&mut HashSet<Vec<u8>>>,
) -> Result<(), InputError> {
    store.file_sizes.push((file.path.clone(), file.certs.len()));
    for c in &file.certs {
        if let Some(seen) = seen.as_deref_mut() {
            if !seen.insert(c.der.to_vec()) {
                continue;
            }
        }
        let anchor = anchor_from_trusted_cert(&c.der).map_err(|e| {
            InputError::new(
                &file.path,
                format!(
                    "PEM block {}: cannot be used as a trust anchor: {e}",
                    c.block
                ),
            )
        })?;
        let info = crate::pki::describe::describe(c.index, &c.der, 0)
            .map_err(|e| InputError::new(&file.path, format!("PEM block {}: {e}", c.block)))?;
        store.anchors.push(anchor.to_owned());
        store.sources.push(AnchorSource {
            file: file.path.clone(),
            index: c.index,
            subject: info.subject,
            der: Some(c.der.clone()),
            is_leaf: !info.is_ca && !info.raw.key_cert_sign,
        });
    }
    Ok(())
}

/// Every certificate file of `dir` (not recursive), in name order.
fn add_dir(
    store: &mut TrustStore,
    dir: &Path,
    seen: &mut HashSet<Vec<u8>>,
) -> Result<String, InputError> {
    let name = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        InputError::new(
            format!("--cacert {name}"),
            format!("cannot read the directory: {e}"),
        )
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let before = store.anchors.len();
    let mut read = 0usize;
    for path in &files {
        // Not a certificate file (a CRL, a README, an empty file): skipped, as OpenSSL does.
        let Ok(file) = pem::read_file(path) else {
            continue;
        };
        if file.certs.is_empty() {
            continue;
        }
        if let Some(e) = file.errors.first() {
            return Err(InputError::new(
                format!("--cacert {}", e.subject),
                e.message.clone(),
            ));
        }
        add_file(store, &file, Some(seen))?;
        read += 1;
    }
    let n = store.anchors.len() - before;
    if n == 0 {
        return Err(InputError::new(
            format!("--cacert {name}"),
            "the directory holds no certificate file",
        ));
    }
    Ok(format!(
        "directory {name} ({n} certificate{} from {read} file{})",
        plural(n),
        plural(read)
    ))
}

/// The system store, as rustls-native-certs loads it.
fn add_system(store: &mut TrustStore, seen: &mut HashSet<Vec<u8>>) -> Result<String, InputError> {
    let result = rustls_native_certs::load_native_certs();
    let mut n = 0usize;
    let mut unusable = 0usize;
    for der in result.certs {
        if !seen.insert(der.to_vec()) {
            continue;
        }
        // A store certificate webpki cannot use as an anchor only narrows trust.
        let (Ok(anchor), Ok(info)) = (
            anchor_from_trusted_cert(&der).map(|a| a.to_owned()),
            crate::pki::describe::describe(n, &der, 0),
        ) else {
            unusable += 1;
            continue;
        };
        store.anchors.push(anchor);
        store.sources.push(AnchorSource {
            file: SYSTEM.into(),
            index: n,
            subject: info.subject,
            der: Some(der.clone()),
            is_leaf: !info.is_ca && !info.raw.key_cert_sign,
        });
        n += 1;
    }
    if n == 0 {
        let why = result
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(InputError::new(
            "--cacert system",
            format!("the system trust store holds no usable certificate{why}"),
        ));
    }
    // Size 0: a store, not a file whose first certificate a client might import alone.
    store.file_sizes.push((SYSTEM.into(), 0));
    let mut from = Vec::new();
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(v) = std::env::var_os(var) {
            from.push(format!("{var}={}", v.to_string_lossy()));
        }
    }
    let from = if from.is_empty() {
        String::new()
    } else {
        format!(", {}", from.join(" "))
    };
    let skipped = if unusable > 0 {
        format!(", {unusable} unusable skipped")
    } else {
        String::new()
    };
    Ok(format!(
        "the system store ({n} certificate{}{skipped}{from})",
        plural(n)
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
