//! Sentinel replies: the master's address, and the replicas and other Sentinels each with
//! the address Sentinel hands out (an IP unless `announce-hostnames yes`). Pure: no I/O.

use super::resp::{self, DiscoverError};

/// One instance as `SENTINEL replicas` / `SENTINEL sentinels` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Instance {
    pub ip: String,
    pub port: u16,
    pub runid: String,
    pub flags: Vec<String>,
}

/// `SENTINEL get-master-addr-by-name NAME`: the address, or `None` for an unknown name.
pub(crate) fn parse_master_addr(v: &redis::Value) -> Result<Option<(String, u16)>, DiscoverError> {
    const CMD: &str = "SENTINEL get-master-addr-by-name";
    if matches!(v, redis::Value::Nil) {
        return Ok(None);
    }
    match resp::items(v) {
        Some([host, port]) => {
            let host = resp::text(host).ok_or_else(|| DiscoverError::shape(CMD, "no host"))?;
            let port = resp::int(port)
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p != 0)
                .ok_or_else(|| DiscoverError::shape(CMD, "no valid port"))?;
            Ok(Some((host, port)))
        }
        // RESP2 sends a null array for an unknown name.
        Some([]) => Ok(None),
        _ => Err(DiscoverError::shape(CMD, "expected [host, port]")),
    }
}

/// `SENTINEL replicas NAME` or `SENTINEL sentinels NAME`.
pub(crate) fn parse_instances(
    command: &str,
    v: &redis::Value,
) -> Result<Vec<Instance>, DiscoverError> {
    let list = resp::items(v).ok_or_else(|| DiscoverError::shape(command, "not an array"))?;
    list.iter()
        .enumerate()
        .map(|(n, item)| {
            let bad = |what: &str| DiscoverError::shape(command, format!("entry {n}: {what}"));
            let m = resp::pairs(item).ok_or_else(|| bad("not a map"))?;
            let field = |k: &str| resp::get(&m, k).and_then(resp::text);
            Ok(Instance {
                ip: field("ip").ok_or_else(|| bad("no ip"))?,
                port: resp::get(&m, "port")
                    .and_then(resp::int)
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("no valid port"))?,
                runid: field("runid").unwrap_or_default(),
                flags: field("flags")
                    .map(|f| f.split(',').map(String::from).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::resp::sample;

    #[test]
    fn master_address_and_unknown_master() {
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/sentinel_master.resp"
        ));
        let (host, port) = parse_master_addr(&v).unwrap().unwrap();
        assert_eq!(host, "127.0.0.1");
        assert!(port > 1024);
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/sentinel_master_unknown.resp"
        ));
        assert_eq!(parse_master_addr(&v).unwrap(), None);
        assert!(parse_master_addr(&sample(b"*1\r\n:1\r\n")).is_err());
        assert!(parse_master_addr(&sample(b"*2\r\n$1\r\nh\r\n$1\r\nx\r\n")).is_err());
    }

    #[test]
    fn replicas_and_sentinels() {
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/sentinel_replicas.resp"
        ));
        let r = parse_instances("SENTINEL replicas", &v).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].ip, "127.0.0.1");
        assert_eq!(r[0].flags, vec!["slave".to_string()]);
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/sentinel_sentinels.resp"
        ));
        let s = parse_instances("SENTINEL sentinels", &v).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].runid.len(), 40);
        assert_eq!(s[0].flags, vec!["sentinel".to_string()]);
        assert!(parse_instances("x", &sample(b"*1\r\n:1\r\n")).is_err());
    }
}
