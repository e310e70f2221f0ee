//! Redis Cluster topology: `CLUSTER SHARDS` (Redis 7+) and `CLUSTER NODES` (every
//! version, and the only source before Redis 7, e.g. DCS's Redis 6.0 cluster edition)
//! parsed into typed nodes. Pure: no I/O.
//!
//! The endpoint of a node is the one clients are redirected to (`MOVED`/`ASK`): the
//! `endpoint` field of CLUSTER SHARDS, which follows `cluster-preferred-endpoint-type`
//! (the IP, the announced hostname, or `?` for "unknown": the client reuses the host it
//! is connected to). CLUSTER NODES has no such field: before Redis 7 redirects carry the IP.

use super::resp::{self, DiscoverError};

/// Role of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClusterRole {
    Primary,
    Replica,
}

/// One node as the cluster announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterNode {
    pub id: String,
    /// What a redirect names: an IP, a hostname, or `?` (unknown endpoint).
    pub endpoint: String,
    pub ip: String,
    pub hostname: Option<String>,
    /// The client port: `tls-port` when the node has one, else `port`.
    pub port: u16,
    /// The cluster bus port, when CLUSTER NODES gave it.
    pub cport: Option<u16>,
    pub role: ClusterRole,
    /// For a replica: the primary's id (CLUSTER NODES).
    pub primary_id: Option<String>,
    /// Slot ranges, inclusive (primaries).
    pub slots: Vec<(u16, u16)>,
    /// CLUSTER NODES flags without `myself` (e.g. `master`, `fail?`, `fail`).
    pub flags: Vec<String>,
    /// CLUSTER SHARDS `health`: `online`, `failed`/`fail`, `loading`.
    pub health: Option<String>,
    /// Which shard the node belongs to (CLUSTER SHARDS order, or the primary's id).
    pub shard: String,
}

const SHARDS: &str = "CLUSTER SHARDS";
const NODES: &str = "CLUSTER NODES";

/// Parses a `CLUSTER SHARDS` reply.
pub(crate) fn parse_shards(v: &redis::Value) -> Result<Vec<ClusterNode>, DiscoverError> {
    let shards = resp::items(v).ok_or_else(|| DiscoverError::shape(SHARDS, "not an array"))?;
    let mut out = Vec::new();
    for (n, shard) in shards.iter().enumerate() {
        let shard = resp::pairs(shard)
            .ok_or_else(|| DiscoverError::shape(SHARDS, format!("shard {n} is not a map")))?;
        let slots = match resp::get(&shard, "slots") {
            Some(s) => slot_pairs(s)
                .ok_or_else(|| DiscoverError::shape(SHARDS, format!("shard {n}: bad slots")))?,
            None => vec![],
        };
        let nodes = resp::get(&shard, "nodes")
            .and_then(resp::items)
            .ok_or_else(|| DiscoverError::shape(SHARDS, format!("shard {n} has no nodes")))?;
        for node in nodes {
            let mut parsed = shard_node(node, n)?;
            if parsed.role == ClusterRole::Primary {
                parsed.slots = slots.clone();
            }
            out.push(parsed);
        }
    }
    Ok(out)
}

fn slot_pairs(v: &redis::Value) -> Option<Vec<(u16, u16)>> {
    let flat = resp::items(v)?;
    if flat.len() % 2 != 0 {
        return None;
    }
    flat.chunks(2)
        .map(|p| {
            let a = u16::try_from(resp::int(&p[0])?).ok()?;
            let b = u16::try_from(resp::int(&p[1])?).ok()?;
            (a <= b && b < 16384).then_some((a, b))
        })
        .collect()
}

fn shard_node(v: &redis::Value, shard: usize) -> Result<ClusterNode, DiscoverError> {
    let bad = |what: &str| DiscoverError::shape(SHARDS, format!("shard {shard}: {what}"));
    let m = resp::pairs(v).ok_or_else(|| bad("a node is not a map"))?;
    let field = |k: &str| resp::get(&m, k).and_then(resp::text);
    let id = field("id").ok_or_else(|| bad("a node has no id"))?;
    let port = resp::get(&m, "tls-port")
        .or_else(|| resp::get(&m, "port"))
        .and_then(resp::int)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .ok_or_else(|| bad(&format!("node {id} has no port")))?;
    let role = match field("role").as_deref() {
        Some("master") | Some("primary") => ClusterRole::Primary,
        Some("replica") | Some("slave") => ClusterRole::Replica,
        other => return Err(bad(&format!("node {id} has role {other:?}"))),
    };
    let ip = field("ip").unwrap_or_default();
    Ok(ClusterNode {
        endpoint: field("endpoint").unwrap_or_else(|| ip.clone()),
        ip,
        hostname: field("hostname").filter(|h| !h.is_empty()),
        port,
        cport: None,
        role,
        primary_id: None,
        slots: vec![],
        flags: vec![],
        health: field("health"),
        shard: format!("shard-{shard}"),
        id,
    })
}

/// Parses a `CLUSTER NODES` reply (its text).
pub(crate) fn parse_nodes(text: &str) -> Result<Vec<ClusterNode>, DiscoverError> {
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |what: &str| DiscoverError::shape(NODES, format!("line {}: {what}", n + 1));
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            return Err(bad("fewer than 8 fields"));
        }
        // ip:port@cport[,hostname]; the IP may be IPv6 (the last ':' splits the port).
        let (addr, hostname) = match f[1].split_once(',') {
            Some((a, h)) => (a, Some(h.to_string()).filter(|h| !h.is_empty())),
            None => (f[1], None),
        };
        let (hostport, cport) = match addr.split_once('@') {
            Some((hp, c)) => (hp, c.parse::<u16>().ok()),
            None => (addr, None),
        };
        let (ip, port) = hostport
            .rsplit_once(':')
            .ok_or_else(|| bad(&format!("address {addr:?} has no port")))?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad(&format!("address {addr:?}: bad port")))?;
        let flags: Vec<String> = f[2]
            .split(',')
            .filter(|fl| *fl != "myself")
            .map(String::from)
            .collect();
        let role = if flags.iter().any(|fl| fl == "master") {
            ClusterRole::Primary
        } else if flags.iter().any(|fl| fl == "slave") {
            ClusterRole::Replica
        } else {
            // A node in handshake or noaddr state has no role yet: nothing to redirect to.
            continue;
        };
        let primary_id = (f[3] != "-").then(|| f[3].to_string());
        let mut slots = Vec::new();
        for s in &f[8..] {
            if s.starts_with('[') {
                continue; // importing / migrating markers
            }
            let (a, b) = s.split_once('-').unwrap_or((s, s));
            match (a.parse::<u16>(), b.parse::<u16>()) {
                (Ok(a), Ok(b)) if a <= b && b < 16384 => slots.push((a, b)),
                _ => return Err(bad(&format!("bad slot range {s:?}"))),
            }
        }
        let id = f[0].to_string();
        let ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
        out.push(ClusterNode {
            shard: primary_id.clone().unwrap_or_else(|| id.clone()),
            endpoint: if ip.is_empty() {
                "?".into()
            } else {
                ip.clone()
            },
            ip,
            hostname,
            port,
            cport,
            role,
            primary_id,
            slots,
            flags,
            health: None,
            id,
        });
    }
    Ok(out)
}

/// CLUSTER SHARDS nodes completed with what only CLUSTER NODES says: flags, bus port,
/// the replica's primary.
pub(crate) fn merge(shards: Vec<ClusterNode>, nodes: &[ClusterNode]) -> Vec<ClusterNode> {
    shards
        .into_iter()
        .map(|mut s| {
            if let Some(n) = nodes.iter().find(|n| n.id == s.id) {
                s.flags = n.flags.clone();
                s.cport = n.cport;
                s.primary_id = n.primary_id.clone();
            }
            s
        })
        .collect()
}

/// Renders slot ranges like CLUSTER NODES (`0-5460 5461`).
pub(crate) fn slots_text(slots: &[(u16, u16)]) -> String {
    slots
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::resp::sample;

    fn shards(bytes: &[u8]) -> Vec<ClusterNode> {
        parse_shards(&sample(bytes)).unwrap()
    }

    fn nodes(bytes: &[u8]) -> Vec<ClusterNode> {
        let v = sample(bytes);
        parse_nodes(&resp::text(&v).unwrap()).unwrap()
    }

    #[test]
    fn shards_of_a_3_plus_3_tls_cluster() {
        let n = shards(include_bytes!("../../testdata/cluster/replies/shards.resp"));
        assert_eq!(n.len(), 6);
        let primaries: Vec<_> = n
            .iter()
            .filter(|x| x.role == ClusterRole::Primary)
            .collect();
        assert_eq!(primaries.len(), 3);
        let covered: u32 = primaries
            .iter()
            .flat_map(|p| &p.slots)
            .map(|(a, b)| u32::from(b - a) + 1)
            .sum();
        assert_eq!(covered, 16384);
        // TLS-only nodes announce tls-port; IP endpoints by default.
        assert!(n
            .iter()
            .all(|x| x.endpoint == "127.0.0.1" && x.port > 27000));
        assert!(n.iter().all(|x| x.id.len() == 40 && x.hostname.is_none()));
        assert!(n
            .iter()
            .filter(|x| x.role == ClusterRole::Replica)
            .all(|x| x.slots.is_empty()));
    }

    #[test]
    fn hostname_endpoints() {
        let n = shards(include_bytes!(
            "../../testdata/cluster/replies/shards_hostname.resp"
        ));
        assert!(n
            .iter()
            .all(|x| x.endpoint == "localhost" && x.hostname.as_deref() == Some("localhost")));
        assert!(n.iter().all(|x| x.ip == "127.0.0.1"));
        let n = nodes(include_bytes!(
            "../../testdata/cluster/replies/nodes_hostname.resp"
        ));
        assert!(n.iter().any(|x| x.hostname.as_deref() == Some("localhost")));
        // CLUSTER NODES carries no preferred endpoint: the IP.
        assert!(n.iter().all(|x| x.endpoint == "127.0.0.1"));
    }

    #[test]
    fn nodes_flags_bus_ports_and_primaries() {
        let n = nodes(include_bytes!("../../testdata/cluster/replies/nodes.resp"));
        assert_eq!(n.len(), 6);
        assert!(n.iter().all(|x| x.cport == Some(x.port + 10000)));
        assert!(n.iter().all(|x| !x.flags.iter().any(|f| f == "myself")));
        for r in n.iter().filter(|x| x.role == ClusterRole::Replica) {
            let p = r.primary_id.as_deref().unwrap();
            assert!(n
                .iter()
                .any(|x| x.id == p && x.role == ClusterRole::Primary));
            assert_eq!(r.shard, p);
        }
        let texts: Vec<String> = n.iter().map(|x| slots_text(&x.slots)).collect();
        assert!(texts.contains(&"0-5460".to_string()), "{texts:?}");
    }

    #[test]
    fn a_killed_primary_is_flagged_fail_in_both_replies() {
        let s = shards(include_bytes!(
            "../../testdata/cluster/replies/shards_fail.resp"
        ));
        let n = nodes(include_bytes!(
            "../../testdata/cluster/replies/nodes_fail.resp"
        ));
        let dead = s
            .iter()
            .find(|x| x.health.as_deref() == Some("fail"))
            .unwrap();
        assert_eq!(dead.role, ClusterRole::Primary);
        let merged = merge(s.clone(), &n);
        let d = merged.iter().find(|x| x.id == dead.id).unwrap();
        assert!(d.flags.iter().any(|f| f == "fail"));
        assert_eq!(d.cport, Some(d.port + 10000));
    }

    #[test]
    fn bad_replies_are_errors_not_panics() {
        assert!(parse_shards(&sample(b"+OK\r\n")).is_err());
        assert!(parse_shards(&sample(b"*1\r\n*2\r\n$5\r\nslots\r\n*1\r\n:1\r\n")).is_err());
        assert!(parse_nodes("abc 127.0.0.1:1@2 master - 0 0 1 connected 0-99999").is_err());
        assert!(parse_nodes("abc 127.0.0.1 master - 0 0 1 connected").is_err());
        assert!(parse_nodes("short line").is_err());
        // A node still in handshake has no role: skipped.
        let n = parse_nodes("abc :0@0 handshake - 0 0 0 connected").unwrap();
        assert!(n.is_empty());
        let n =
            parse_nodes("abc [::1]:7000@17000 master - 0 0 1 connected 0-16383 [5->-def]").unwrap();
        assert_eq!(
            (n[0].ip.as_str(), n[0].port, n[0].slots.len()),
            ("::1", 7000, 1)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_nodes_text_parses_or_errs_without_panicking(text in "\\PC{0,300}") {
            let _ = parse_nodes(&text);
        }

        #[test]
        fn any_resp_bytes_parse_or_err_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(v) = redis::parse_redis_value(&bytes) {
                let _ = parse_shards(&v);
                let _ = crate::discover::sentinel::parse_instances("x", &v);
                let _ = crate::discover::sentinel::parse_master_addr(&v);
            }
        }

        #[test]
        fn mutated_samples_never_panic(cut in 0usize..1400, byte in proptest::prelude::any::<u8>()) {
            let mut b = include_bytes!("../../testdata/cluster/replies/shards.resp").to_vec();
            let i = cut.min(b.len() - 1);
            b[i] = byte;
            if let Ok(v) = redis::parse_redis_value(&b) {
                let _ = parse_shards(&v);
            }
        }
    }
}
