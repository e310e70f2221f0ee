//! Reading input files with a size bound that holds for pipes and devices too.
//!
//! `metadata().len()` is 0 for a FIFO, `/dev/zero` or a `/proc` file, so the bound is
//! enforced on the bytes actually read: at most `max + 1` are read, and more than `max`
//! is an input error. Process substitution (`--cacert <(...)`) keeps working.

use std::io::Read;
use std::path::Path;

use crate::error::InputError;

/// Reads `path` (named `subject` in errors, holding `what`), at most `max` bytes.
pub fn read_bounded(
    path: &Path,
    max: u64,
    subject: &str,
    what: &str,
) -> Result<Vec<u8>, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::new(subject, reason(&e)))?;
    if meta.is_dir() {
        return Err(InputError::new(
            subject,
            format!("is a directory, not {what}"),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| InputError::new(subject, reason(&e)))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::new(subject, reason(&e)))?;
    if bytes.len() as u64 > max {
        return Err(InputError::new(
            subject,
            format!("larger than {max} bytes, the limit for {what}"),
        ));
    }
    Ok(bytes)
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot read: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::read_bounded;
    use std::path::Path;

    #[test]
    fn devices_and_pipes_are_bounded() {
        let e = read_bounded(Path::new("/dev/zero"), 1024, "f", "a test").unwrap_err();
        assert!(e.message.contains("larger than 1024 bytes"), "{e}");
        let e = read_bounded(Path::new("/nonexistent"), 1, "f", "a test").unwrap_err();
        assert_eq!(e.message, "no such file");
        let e = read_bounded(Path::new("/"), 1, "f", "a test").unwrap_err();
        assert!(e.message.starts_with("is a directory"));
    }
}
