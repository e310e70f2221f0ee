//! `inspect`'s pipeline for one certificate file, shared by `tlsprobe inspect` and the
//! bundles of an audit: describe every certificate (on every core for large bundles), then
//! analyse the bundle (links, order, duplicates, dates, keys) into a [`FileReport`].

use crate::clock;
use crate::error::InputError;
use crate::pki::{bundle, describe, pem};
use crate::report::{FileReport, OtherBlockInfo};

/// Describes and analyses one file read by [`pem::read_file`]; certificates that do not
/// parse are returned as errors naming their PEM block.
pub fn inspect_file(
    file: &pem::PemFile,
    now: clock::UnixSeconds,
    warn_days: i64,
    check_signatures: bool,
) -> (FileReport, Vec<InputError>) {
    let described = describe_all(&file.certs, now);
    let mut certs = Vec::with_capacity(file.certs.len());
    let mut ders: Vec<&[u8]> = Vec::with_capacity(file.certs.len());
    let mut errors = Vec::new();
    for (c, d) in file.certs.iter().zip(described) {
        match d {
            Ok(mut info) => {
                info.index = certs.len();
                certs.push(info);
                ders.push(&c.der);
            }
            Err(e) => errors.push(InputError::new(
                &file.path,
                format!("PEM block {}: {e}", c.block),
            )),
        }
    }
    let mut findings = bundle::analyse(
        &mut certs,
        &ders,
        bundle::Options {
            now,
            warn_days,
            check_signatures,
        },
    );
    if file.certs.is_empty() {
        findings.push(no_certificates(file));
    }
    let report = FileReport {
        path: file.path.clone(),
        certificates: certs,
        other_blocks: file
            .others
            .iter()
            .map(|b| OtherBlockInfo {
                index: b.index,
                label: b.label.clone(),
            })
            .collect(),
        findings,
    };
    (report, errors)
}

/// A file with no certificate at all, only other blocks (keys, requests): a mixed-up
/// file, so a `warn` that `--fail-on warn` catches.
fn no_certificates(file: &pem::PemFile) -> crate::finding::Finding {
    let mut labels: Vec<&str> = file.others.iter().map(|b| b.label.as_str()).collect();
    labels.dedup();
    let what = if labels.is_empty() {
        "nothing tlsprobe could read".to_string()
    } else {
        labels.join(", ")
    };
    crate::finding::Finding {
        rule: "no-certificates",
        severity: crate::finding::Severity::Warn,
        cert: None,
        message: format!("the file holds no certificate (only {what}): a key or other file where certificates were expected?"),
    }
}

/// Why one certificate of an inspected file has no description.
#[derive(Debug, Clone, thiserror::Error)]
enum DescribeFailure {
    #[error(transparent)]
    Parse(#[from] describe::DescribeError),
    /// The thread describing its part of a large bundle panicked.
    #[error("internal error while describing this certificate")]
    Panicked,
}

/// Describes certificates, on every core for large bundles (results in input order).
fn describe_all(
    certs: &[pem::CertBlock],
    now: clock::UnixSeconds,
) -> Vec<Result<describe::CertInfo, DescribeFailure>> {
    let one = |c: &pem::CertBlock| Ok(describe::describe(c.index, &c.der, now)?);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if certs.len() < 32 || threads < 2 {
        return certs.iter().map(one).collect();
    }
    let chunk = certs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = certs
            .chunks(chunk)
            .map(|part| {
                (
                    part.len(),
                    scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, h)| {
                h.join()
                    .unwrap_or_else(|_| vec![Err(DescribeFailure::Panicked); n])
            })
            .collect()
    })
}
