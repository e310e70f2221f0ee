//! Name resolution and TCP connection, each bounded by a deadline.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::evidence::{ConnectError, ResolveError};
use crate::target::Host;

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
