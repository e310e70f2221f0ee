//! Input errors: everything that makes a run impossible before any check is judged.
//!
//! An [`InputError`] is what the user got wrong (a file, a flag, a URL): it maps to exit
//! code 2 and is printed as one line that names the thing and what was wrong.

use std::fmt;

/// A usage or input error: exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// What the error is about: a file path, a flag, a target.
    pub subject: String,
    /// What was wrong with it.
    pub message: String,
}

impl InputError {
    pub fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

impl std::error::Error for InputError {}
