//! Targets: `host:port`, `rediss://`, `redis://` (and later other schemes).
//!
//! Parsing does no I/O. A password in a URL is kept as a [`Secret`] and never shown:
//! [`Target::display`] prints the URL with the password replaced by `***`.

use std::fmt;
use std::net::IpAddr;

use crate::error::{InputError, Subject};

/// A password: never printed, logged or serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How the connection starts and what is spoken after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `rediss://` or `host:port`: TLS, then RESP.
    Rediss,
    /// `redis://`: plaintext RESP.
    Redis,
    /// `postgres://`, `postgresql://`: SSLRequest, TLS, then the PostgreSQL protocol.
    Postgres,
    /// `mysql://`: greeting, SSL request, TLS, then the MySQL protocol.
    Mysql,
    /// `tls://`: TLS only, no application protocol.
    Tls,
}

impl Scheme {
    /// Whether the connection is (or becomes) TLS.
    pub fn uses_tls(self) -> bool {
        !matches!(self, Scheme::Redis)
    }

    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Rediss | Scheme::Redis => Some(6379),
            Scheme::Postgres => Some(5432),
            Scheme::Mysql => Some(3306),
            Scheme::Tls => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Rediss => "rediss",
            Scheme::Redis => "redis",
            Scheme::Postgres => "postgres",
            Scheme::Mysql => "mysql",
            Scheme::Tls => "tls",
        }
    }

    /// Whether the application protocol is SQL (PostgreSQL or MySQL).
    pub fn is_sql(self) -> bool {
        matches!(self, Scheme::Postgres | Scheme::Mysql)
    }
}

/// A host: a DNS name or an IP literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Dns(String),
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(d) => f.write_str(d),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: Scheme,
    pub host: Host,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Redis database number, or the SQL database name.
    pub db: Option<String>,
    /// The scheme was given (`rediss://...`) rather than implied by `host:port`.
    pub explicit_scheme: bool,
    /// Query-string parameters of a `postgres://` or `mysql://` URL, decoded, in order
    /// (judged by `urlopts`).
    pub params: Vec<(String, String)>,
    /// `sslmode=disable` (`ssl-mode=DISABLED`): the database is spoken in plaintext.
    pub tls_off: bool,
}

impl Target {
    /// The target as shown in reports: never with the password.
    pub fn display(&self) -> String {
        let scheme = self.scheme.name();
        let auth = match (&self.user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            (None, Some(_)) => ":***@".to_string(),
            (None, None) => String::new(),
        };
        let db = self
            .db
            .as_ref()
            .map(|d| format!("/{d}"))
            .unwrap_or_default();
        format!("{scheme}://{auth}{}:{}{db}", self.host, self.port)
    }

    /// Whether the connection is (or becomes) TLS.
    pub fn uses_tls(&self) -> bool {
        self.scheme.uses_tls() && !self.tls_off
    }

    /// `host:port` for messages.
    pub fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Parses a target given on the command line or in an inventory.
pub fn parse(input: &str) -> Result<Target, InputError> {
    let bad = |msg: &str| InputError::new(Subject::Target(redact(input)), msg.to_string());
    let s = input.trim();
    if s.is_empty() {
        return Err(bad("empty target"));
    }
    let (scheme, url_text) = match s.split_once("://") {
        Some((sch, _)) => {
            let scheme = match sch.to_ascii_lowercase().as_str() {
                "rediss" => Scheme::Rediss,
                "redis" => Scheme::Redis,
                "postgres" | "postgresql" => Scheme::Postgres,
                "mysql" => Scheme::Mysql,
                "tls" => Scheme::Tls,
                other => {
                    return Err(bad(&format!(
                        "unsupported scheme {other:?} (expected rediss://, redis://, postgres://, mysql://, tls:// or host:port)"
                    )))
                }
            };
            (scheme, s.to_string())
        }
        None => (Scheme::Rediss, format!("rediss://{s}")),
    };
    refuse_at_after_authority(&url_text).map_err(bad)?;
    if let Some(hint) = unbracketed_ipv6(&url_text, s.contains("://")) {
        return Err(bad(&hint));
    }
    let url = url::Url::parse(&url_text).map_err(|e| bad(&format!("not a valid URL: {e}")))?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => {
            let d = percent_encoding::percent_decode_str(d)
                .decode_utf8_lossy()
                .to_string();
            match d.parse::<IpAddr>() {
                Ok(ip) => Host::Ip(ip),
                Err(_) => Host::Dns(d),
            }
        }
        Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
        _ => return Err(bad("no host")),
    };
    let port = match url.port() {
        Some(0) => return Err(bad("port 0 is not a valid port")),
        Some(p) => p,
        None if !s.contains("://") => return Err(bad("no port: expected host:port")),
        None => scheme
            .default_port()
            .ok_or_else(|| bad("no port: tls:// targets need host:port"))?,
    };
    let decode = |v: &str| {
        percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .to_string()
    };
    let user = Some(decode(url.username())).filter(|u| !u.is_empty());
    let password = url.password().map(|p| Secret::new(decode(p)));
    let path = url.path().trim_start_matches('/');
    let db = if path.is_empty() {
        None
    } else {
        let name = decode(path);
        match scheme {
            Scheme::Redis | Scheme::Rediss if name.parse::<u32>().is_err() => {
                return Err(bad(&format!("database {path:?} is not a number")))
            }
            Scheme::Tls => return Err(bad("tls:// targets have no database path")),
            _ => Some(name),
        }
    };
    if url.fragment().is_some() {
        return Err(bad("fragments (#...) are not supported"));
    }
    if url.query().is_some() && !scheme.is_sql() {
        return Err(bad(
            "query strings are only read for postgres:// and mysql:// URLs",
        ));
    }
    let params = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(Target {
        scheme,
        host,
        port,
        user,
        password,
        db,
        explicit_scheme: s.contains("://"),
        params,
        tls_off: false,
    })
}

/// The input with any credentials in it replaced, for error messages: everything between
/// `://` (or the start, without a scheme) and the last `@` becomes `***`. The last `@`,
/// not the first after the authority: a password may hold `/`, `?`, `#`, `:` or `@`, and
/// masking a little too much is harmless where masking too little prints a secret.
pub fn redact(input: &str) -> String {
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (&input[..scheme.len() + 3], rest),
        None => ("", input),
    };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}***{}", &rest[at..]),
        None => input.to_string(),
    }
}

/// `::1:6379` (or `rediss://::1:6379`): an IPv6 address without brackets, with the
/// bracketed form to use instead.
fn unbracketed_ipv6(url_text: &str, explicit_scheme: bool) -> Option<String> {
    let (scheme, rest) = url_text.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if hostport.starts_with('[') || hostport.matches(':').count() < 2 {
        return None;
    }
    let suggest = |host: &str, port: Option<&str>| {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let shown = if explicit_scheme {
            format!("{scheme}://[{host}]{port}")
        } else {
            format!("[{host}]{port}")
        };
        format!("an IPv6 address needs brackets: {shown}")
    };
    let whole = hostport.parse::<std::net::Ipv6Addr>().is_ok();
    // `::1:6379` is also one address; the port reading is what people mean.
    if let Some((host, port)) = hostport.rsplit_once(':') {
        if host.parse::<std::net::Ipv6Addr>().is_ok() && port.parse::<u16>().is_ok() {
            let mut hint = suggest(host, Some(port));
            if whole {
                hint.push_str(&format!(
                    " (or [{hostport}]:PORT if all of it is the address)"
                ));
            }
            return Some(hint);
        }
    }
    whole.then(|| suggest(hostport, Some("PORT")))
}

/// Refuses an `@` after the authority: `rediss://u:pa/ss@host` would otherwise parse as
/// host `u` with the rest of the password in the path, and be shown.
fn refuse_at_after_authority(url_text: &str) -> Result<(), &'static str> {
    let rest = url_text.split_once("://").map_or(url_text, |(_, r)| r);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[authority_end..].contains('@') {
        return Err("an '@' after the host: percent-encode '/', '?', '#' and '@' in a user name or password (%2F, %3F, %23, %40)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let t = parse("rediss://alice:s3cr%40t@db.example.com:12000/3").unwrap();
        assert_eq!(t.scheme, Scheme::Rediss);
        assert_eq!(t.host, Host::Dns("db.example.com".into()));
        assert_eq!(t.port, 12000);
        assert_eq!(t.user.as_deref(), Some("alice"));
        assert_eq!(t.password.as_ref().map(Secret::expose), Some("s3cr@t"));
        assert_eq!(t.db.as_deref(), Some("3"));
        assert_eq!(t.display(), "rediss://alice:***@db.example.com:12000/3");

        let t = parse("127.0.0.1:6380").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Rediss, 6380));
        assert_eq!(t.host, Host::Ip("127.0.0.1".parse().unwrap()));

        let t = parse("redis://[::1]").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Redis, 6379));
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(t.display(), "redis://[::1]:6379");

        let t = parse("[::1]:7000").unwrap();
        assert_eq!(t.port, 7000);
        assert!(!t.explicit_scheme);

        let t = parse("postgresql://app@db.example.com/app").unwrap();
        assert_eq!(
            (t.scheme, t.port, t.db.as_deref()),
            (Scheme::Postgres, 5432, Some("app"))
        );
        let t = parse("mysql://root@127.0.0.1").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Mysql, 3306));
        let t = parse("tls://proxy:9443").unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Tls, 9443));
        assert!(parse("tls://proxy").is_err());
    }

    #[test]
    fn rejects_bad_targets_without_leaking_passwords() {
        for bad in [
            "",
            "localhost",
            "http://x:1",
            "rediss://:pw@",
            "rediss://h:99999",
            "rediss://h:1/x",
            "h:0",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
        for leaky in [
            "rediss://u:hunter2@h:1/x",
            "u:hunter2@h",
            "u:hunter2@h:1/x",
            "u:hunter2@",
            "tls://u:hunter2@h",
        ] {
            let e = parse(leaky).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
        assert_eq!(redact("a:b@c:1/d@e"), "***@e");
        assert_eq!(
            redact("rediss://:Sup3r/Secr3t@host:1"),
            "rediss://***@host:1"
        );
        assert_eq!(redact("mysql://u:p@ss:w/rd#1%x@h:1"), "mysql://***@h:1");
        assert_eq!(redact("tls://h:1"), "tls://h:1");
        let e = parse("::1:6379").unwrap_err().to_string();
        assert!(e.contains("[::1]:6379"), "{e}");
        let e = parse("postgres://u@fe80::1:5432/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("postgres://[fe80::1]:5432"), "{e}");
        let e = parse("::1").unwrap_err().to_string();
        assert!(e.contains("[::1]"), "{e}");
        for leaky in [
            "rediss://:Sup3r/Secr3t@host:1",
            "postgres://u:1/Secr3t@h:1",
            "mysql://u:p@ss:w/rd#1%x@h:1",
            "rediss://u:a?Secr3t@h:1",
        ] {
            let e = parse(leaky).unwrap_err().to_string();
            assert!(!e.contains("Secr3t") && !e.contains("w/rd"), "{e}");
        }
    }
}
