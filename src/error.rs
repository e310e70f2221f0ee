//! Input errors: everything that makes a run impossible before any check is judged.
//!
//! An [`InputError`] is what the user got wrong (a file, a flag, a URL): it maps to exit
//! code 2 and is printed as one line that names the thing and what was wrong.

use std::fmt;

/// What an input error is about. Displayed as the part of the line before `: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The target as shown (never with its password): `target "rediss://h:6380"`.
    Target(String),
    /// The target's host, when it is no valid server name: `target host "a b"`.
    TargetHost(String),
    /// A place in an inventory, policy or exporter configuration file, and the key
    /// there when one is to blame: ``inv.toml:12: key `timeout` ``.
    FileLine {
        file: String,
        line: usize,
        key: Option<String>,
    },
    /// A command-line flag (the inventory key of the same name is `flag` without its
    /// dashes, `-` as `_`), with the value it was given when that is to blame:
    /// `--discover sentinel`.
    Flag {
        flag: &'static str,
        value: Option<&'static str>,
    },
    /// Worded by the caller: a file, a flag and its file (`--cert a.pem`).
    Text(String),
}

impl Subject {
    /// The target or its host is to blame (not a flag or file of the target).
    pub fn is_target(&self) -> bool {
        matches!(self, Subject::Target(_) | Subject::TargetHost(_))
    }

    /// A flag's subject, with no value named.
    pub fn flag(flag: &'static str) -> Self {
        Subject::Flag { flag, value: None }
    }

    /// The inventory key that says what the flag says (`--cluster-bus` -> `cluster_bus`).
    pub fn inventory_key(&self) -> Option<String> {
        match self {
            Subject::Flag { flag, .. } => Some(flag.trim_start_matches("--").replace('-', "_")),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Target(shown) => write!(f, "target {shown:?}"),
            Subject::TargetHost(host) => write!(f, "target host {host:?}"),
            Subject::FileLine { file, line, key } => {
                write!(f, "{file}:{line}")?;
                match key {
                    Some(k) => write!(f, ": key `{k}`"),
                    None => Ok(()),
                }
            }
            Subject::Flag { flag, value: None } => f.write_str(flag),
            Subject::Flag {
                flag,
                value: Some(v),
            } => write!(f, "{flag} {v}"),
            Subject::Text(t) => f.write_str(t),
        }
    }
}

impl From<String> for Subject {
    fn from(t: String) -> Self {
        Subject::Text(t)
    }
}

impl From<&str> for Subject {
    fn from(t: &str) -> Self {
        Subject::Text(t.to_string())
    }
}

impl From<&String> for Subject {
    fn from(t: &String) -> Self {
        Subject::Text(t.clone())
    }
}

impl From<&Subject> for Subject {
    fn from(s: &Subject) -> Self {
        s.clone()
    }
}

/// Compares the subject as displayed.
impl PartialEq<&str> for Subject {
    fn eq(&self, other: &&str) -> bool {
        let shown = self.to_string();
        shown == *other
    }
}

/// A usage or input error: exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{subject}: {message}")]
pub struct InputError {
    /// What the error is about: a file path, a flag, a target.
    pub subject: Subject,
    /// What was wrong with it.
    pub message: String,
}

impl InputError {
    /// An error about `subject`; a string is a subject worded by the caller.
    /// `message` is anything displayable: a typed error shows its one-line text.
    pub fn new(subject: impl Into<Subject>, message: impl std::fmt::Display) -> Self {
        Self {
            subject: subject.into(),
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_display_as_the_one_line_names_them() {
        let at = |key: Option<&str>| Subject::FileLine {
            file: "inv.toml".into(),
            line: 3,
            key: key.map(String::from),
        };
        let e = InputError::new(at(Some("timeout")), "bad");
        assert_eq!(e.to_string(), "inv.toml:3: key `timeout`: bad");
        assert_eq!(
            InputError::new(at(None), "bad").to_string(),
            "inv.toml:3: bad"
        );
        let t = Subject::Target("h:1".into());
        assert_eq!(t.to_string(), "target \"h:1\"");
        assert!(t.is_target() && !Subject::from("targets.pem").is_target());
        let flag = Subject::Flag {
            flag: "--discover",
            value: Some("sentinel"),
        };
        assert_eq!(flag.to_string(), "--discover sentinel");
        assert_eq!(flag.inventory_key().as_deref(), Some("discover"));
        let bus = Subject::flag("--cluster-bus");
        assert_eq!(bus.to_string(), "--cluster-bus");
        assert_eq!(bus.inventory_key().as_deref(), Some("cluster_bus"));
        assert_eq!(Subject::from("--discover sentinel").inventory_key(), None);
    }
}
