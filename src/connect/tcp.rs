//! Name resolution and TCP connection, each bounded by a deadline.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::error::InputError;
use crate::evidence::{ConnectError, ResolveError};
use crate::target::{Host, Target};

/// `--resolve HOST:PORT:ADDR` (curl's convention): connect to ADDR while the name checked
/// and the SNI stay HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    /// The entry as given, quoted in the `resolve` step.
    pub spec: String,
    pub addrs: Vec<std::net::IpAddr>,
}

/// Parses one `HOST:PORT:ADDR[,ADDR...]` entry (ADDR may be a bracketed IPv6 literal).
pub fn parse_override(spec: &str) -> Result<(String, u16, Vec<std::net::IpAddr>), InputError> {
    let err = |m: &str| InputError::new(format!("--resolve {spec}"), m.to_string());
    let mut parts = spec.splitn(3, ':');
    let (Some(host), Some(port), Some(addrs)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err(
            "expected HOST:PORT:ADDR, e.g. db.example.com:6379:127.0.0.1",
        ));
    };
    if host.is_empty() {
        return Err(err("empty HOST"));
    }
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| err("PORT is not a port number (1-65535)"))?;
    let mut out = Vec::new();
    for a in addrs.split(',') {
        let bare = a
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(a);
        out.push(
            bare.parse()
                .map_err(|_| err(&format!("{a:?} is not an IP address")))?,
        );
    }
    Ok((host.to_string(), port, out))
}

/// The `--resolve` entry for `target`; an entry for another host or port is an input error
/// (it would otherwise be silently ignored).
pub fn pick_override(
    specs: &[String],
    target: &Target,
) -> Result<Option<ResolveOverride>, InputError> {
    let mut found = None;
    for spec in specs {
        let (host, port, addrs) = parse_override(spec)?;
        let matches = match &target.host {
            Host::Dns(d) => d.eq_ignore_ascii_case(&host),
            Host::Ip(_) => target.host.to_string() == host,
        };
        if !matches || port != target.port {
            return Err(InputError::new(
                format!("--resolve {spec}"),
                format!(
                    "does not match the target {}:{} (HOST and PORT must be the target's)",
                    target.host, target.port
                ),
            ));
        }
        found = Some(ResolveOverride {
            spec: spec.clone(),
            addrs,
        });
    }
    Ok(found)
}

/// [`resolve`], unless `--resolve` says where the host is: then its addresses, and the
/// words for the `resolve` step saying so.
pub async fn resolve_planned(
    host: &Host,
    port: u16,
    over: Option<&ResolveOverride>,
    deadline: Instant,
) -> Result<(Vec<SocketAddr>, Option<String>), ResolveError> {
    match over {
        Some(o) => Ok((
            o.addrs.iter().map(|a| SocketAddr::new(*a, port)).collect(),
            Some(format!("overridden by --resolve {}", o.spec)),
        )),
        None => resolve(host, port, deadline).await.map(|a| (a, None)),
    }
}

/// Resolves `host:port`; IP literals are returned as they are.
pub async fn resolve(
    host: &Host,
    port: u16,
    deadline: Instant,
) -> Result<Vec<SocketAddr>, ResolveError> {
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        Host::Dns(name) => {
            match timeout_at(deadline, tokio::net::lookup_host((name.as_str(), port))).await {
                Err(_) => Err(ResolveError::Timeout(name.clone())),
                Ok(Err(e)) => Err(resolve_error(name, &e)),
                Ok(Ok(addrs)) => {
                    let v: Vec<SocketAddr> = addrs.collect();
                    if v.is_empty() {
                        Err(ResolveError::NoAddress(name.clone()))
                    } else {
                        Ok(v)
                    }
                }
            }
        }
    }
}

/// getaddrinfo's failures reach us as an `io::Error` of kind `Other` whose only typed
/// content is its text (tokio and std expose no EAI code), so "no such host" is told by
/// the words glibc and musl use for EAI_NONAME / EAI_NODATA.
fn resolve_error(name: &str, e: &std::io::Error) -> ResolveError {
    let s = e.to_string();
    if s.contains("not known") || s.contains("No address") {
        ResolveError::NoSuchHost(name.to_string())
    } else {
        ResolveError::Other {
            name: name.to_string(),
            reason: s,
        }
    }
}

/// Connects to the first address that accepts before the deadline.
pub async fn connect(
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), ConnectError> {
    let mut last = ConnectError::NoAddress;
    for addr in addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(ConnectError::Timeout(*addr)),
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Ok(Err(e)) => {
                last = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => ConnectError::Refused(*addr),
                    _ => ConnectError::Other {
                        addr: *addr,
                        reason: e.to_string(),
                    },
                }
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_entries() {
        let (h, p, a) = parse_override("db.example.com:6379:127.0.0.1").unwrap();
        assert_eq!((h.as_str(), p), ("db.example.com", 6379));
        assert_eq!(a, vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]);
        let (_, _, a) = parse_override("db:1:[::1],127.0.0.2").unwrap();
        assert_eq!(a.len(), 2);
        for bad in [
            "db",
            "db:0:127.0.0.1",
            "db:x:127.0.0.1",
            ":1:127.0.0.1",
            "db:1:nope",
        ] {
            assert!(parse_override(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn override_must_name_the_target() {
        let t = crate::target::parse("rediss://db.example.com:6380").unwrap();
        let o = pick_override(&["DB.example.com:6380:127.0.0.1".into()], &t).unwrap();
        assert!(o.is_some());
        assert!(pick_override(&["db.example.com:6379:127.0.0.1".into()], &t).is_err());
        assert!(pick_override(&["other:6380:127.0.0.1".into()], &t).is_err());
        assert_eq!(pick_override(&[], &t).unwrap(), None);
    }
}
