//! The exporter's allow list: which hosts a `/probe` may reach, so that the exporter is
//! not an open proxy to anywhere.
//!
//! An entry is a host name pattern (`*` matches any run of characters, dots included;
//! case-insensitive), an IP address, or a CIDR block. A DNS name target is matched against
//! the name patterns only, an IP literal target against the addresses and blocks only: the
//! list is about what a request may ask for, judged before any lookup.

use std::net::IpAddr;

use thiserror::Error;

use crate::target::Host;

/// An entry that is neither a host name pattern, an IP address, nor a CIDR block.
#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum AllowError {
    #[error("{0:?}: the prefix length must be 0-32 for IPv4 and 0-128 for IPv6")]
    Prefix(String),
    #[error("{0:?}: not an IP address before the '/'")]
    Network(String),
    #[error("{0:?}: expected a host name (with `*` globs), an IP address or a CIDR block")]
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// A lower-case host name pattern.
    Name(String),
    Net(IpAddr, u8),
}

/// A parsed allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AllowList {
    rules: Vec<Rule>,
}

impl AllowList {
    /// Adds one entry.
    pub(crate) fn push(&mut self, entry: &str) -> Result<(), AllowError> {
        let e = entry.trim();
        let rule = if let Some((net, bits)) = e.split_once('/') {
            let ip: IpAddr = net
                .parse()
                .map_err(|_| AllowError::Network(e.to_string()))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| AllowError::Prefix(e.to_string()))?;
            Rule::Net(ip, bits)
        } else if let Ok(ip) = e.trim_start_matches('[').trim_end_matches(']').parse() {
            let ip: IpAddr = ip;
            Rule::Net(ip, if ip.is_ipv4() { 32 } else { 128 })
        } else if !e.is_empty()
            && e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*".contains(&b))
        {
            Rule::Name(e.to_ascii_lowercase())
        } else {
            return Err(AllowError::Pattern(e.to_string()));
        };
        self.rules.push(rule);
        Ok(())
    }

    /// Whether a target on `host` may be probed.
    pub(crate) fn allows(&self, host: &Host) -> bool {
        self.rules.iter().any(|r| match (r, host) {
            (Rule::Name(p), Host::Dns(d)) => glob(p.as_bytes(), d.to_ascii_lowercase().as_bytes()),
            (Rule::Net(net, bits), Host::Ip(ip)) => in_network(*net, *bits, *ip),
            _ => false,
        })
    }
}

/// `*` matches any run of bytes (iterative, with one backtrack point: linear in practice).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

fn in_network(net: IpAddr, bits: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        (IpAddr::V6(n), IpAddr::V6(i)) => prefix_eq(&n.octets(), &i.octets(), bits),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    let rest = bits % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        let mut l = AllowList::default();
        for e in entries {
            l.push(e).unwrap();
        }
        l
    }

    fn dns(s: &str) -> Host {
        Host::Dns(s.into())
    }

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn globs_match_names_case_insensitively() {
        let l = list(&["*.redis.example.net", "LOCALHOST"]);
        assert!(l.allows(&dns("a.redis.example.net")));
        assert!(l.allows(&dns("a.b.Redis.example.NET")));
        assert!(!l.allows(&dns("redis.example.net")));
        assert!(!l.allows(&dns("a.redis.example.net.evil.com")));
        assert!(l.allows(&dns("localhost")));
    }

    #[test]
    fn cidrs_and_addresses_match_ip_targets_only() {
        let l = list(&["10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/12"]);
        assert!(l.allows(&ip("10.255.0.1")));
        assert!(!l.allows(&ip("11.0.0.1")));
        assert!(l.allows(&ip("192.168.1.7")));
        assert!(!l.allows(&ip("192.168.1.8")));
        assert!(l.allows(&ip("fd12::1")));
        assert!(l.allows(&ip("172.31.255.255")));
        assert!(!l.allows(&ip("172.32.0.0")));
        assert!(!l.allows(&dns("10.example")));
        assert!(!l.allows(&ip("::ffff:10.0.0.1")), "no v4-mapped shortcut");
    }

    #[test]
    fn bad_entries_are_refused() {
        let mut l = AllowList::default();
        assert!(matches!(l.push("10.0.0.0/33"), Err(AllowError::Prefix(_))));
        assert!(matches!(l.push("host/8"), Err(AllowError::Network(_))));
        assert!(matches!(l.push("a b"), Err(AllowError::Pattern(_))));
        assert!(matches!(l.push("db-?"), Err(AllowError::Pattern(_))));
        assert!(matches!(l.push(""), Err(AllowError::Pattern(_))));
    }

    #[test]
    fn glob_backtracks() {
        assert!(glob(b"*a*b", b"xxaxxab"));
        assert!(!glob(b"*a*b", b"xxaxxa"));
        assert!(glob(b"**", b""));
    }
}
