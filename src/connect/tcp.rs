//! Name resolution and TCP connection, each bounded by a deadline.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::target::Host;

/// Resolves `host:port`; IP literals are returned as they are.
pub async fn resolve(host: &Host, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, String> {
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        Host::Dns(name) => {
            match timeout_at(deadline, tokio::net::lookup_host((name.as_str(), port))).await {
                Err(_) => Err(format!(
                    "resolving {name} did not finish before the deadline"
                )),
                Ok(Err(e)) => Err(format!("cannot resolve {name}: {}", resolve_reason(&e))),
                Ok(Ok(addrs)) => {
                    let v: Vec<SocketAddr> = addrs.collect();
                    if v.is_empty() {
                        Err(format!("{name} resolves to no address"))
                    } else {
                        Ok(v)
                    }
                }
            }
        }
    }
}

fn resolve_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    if s.contains("Name or service not known")
        || s.contains("not known")
        || s.contains("No address")
    {
        "no such host (DNS lookup failed)".into()
    } else {
        s
    }
}

/// Connects to the first address that accepts before the deadline.
pub async fn connect(
    addrs: &[SocketAddr],
    deadline: Instant,
) -> Result<(TcpStream, SocketAddr), String> {
    let mut last = String::from("no address to connect to");
    for addr in addrs {
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(format!("connecting to {addr} did not finish before the deadline (filtered port or unreachable host?)")),
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok((s, *addr));
            }
            Ok(Err(e)) => {
                last = match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => format!("connection refused by {addr}: nothing listens on that port"),
                    _ => format!("cannot connect to {addr}: {e}"),
                }
            }
        }
    }
    Err(last)
}
