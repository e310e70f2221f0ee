//! `INFO replication`: the replicas a primary lists (`slaveN:ip=...,port=...,state=...`),
//! at the address each replica announced (`replica-announce-ip`/`-port`). Pure: no I/O.

use super::resp::DiscoverError;

/// One replica line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReplicaLine {
    pub ip: String,
    pub port: u16,
    pub state: String,
}

/// The role and the replicas of an `INFO replication` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replication {
    pub role: String,
    pub replicas: Vec<ReplicaLine>,
}

/// Parses the text of `INFO replication`.
pub(crate) fn parse_info(text: &str) -> Result<Replication, DiscoverError> {
    const CMD: &str = "INFO replication";
    let mut role = None;
    let mut replicas = Vec::new();
    for line in text.lines().map(str::trim) {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key == "role" {
            role = Some(value.to_string());
        } else if key.starts_with("slave")
            && key[5..].chars().all(|c| c.is_ascii_digit())
            && key.len() > 5
        {
            let field = |name: &str| {
                value
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .map(String::from)
            };
            let bad = |what: &str| DiscoverError::shape(CMD, format!("{key}: {what}"));
            replicas.push(ReplicaLine {
                ip: field("ip").ok_or_else(|| bad("no ip"))?,
                port: field("port")
                    .and_then(|p| p.parse().ok())
                    .filter(|p| *p != 0)
                    .ok_or_else(|| bad("no valid port"))?,
                state: field("state").unwrap_or_default(),
            });
        }
    }
    Ok(Replication {
        role: role.ok_or_else(|| DiscoverError::shape(CMD, "no role line"))?,
        replicas,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::resp::{sample, text};

    #[test]
    fn a_primary_lists_its_replica_and_a_replica_none() {
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/info_primary.resp"
        ));
        let r = parse_info(&text(&v).unwrap()).unwrap();
        assert_eq!(r.role, "master");
        assert_eq!(r.replicas.len(), 1);
        assert_eq!(
            (r.replicas[0].ip.as_str(), r.replicas[0].state.as_str()),
            ("127.0.0.1", "online")
        );
        let v = sample(include_bytes!(
            "../../testdata/cluster/replies/info_replica.resp"
        ));
        let r = parse_info(&text(&v).unwrap()).unwrap();
        assert_eq!((r.role.as_str(), r.replicas.len()), ("slave", 0));
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(parse_info("# Replication\n").is_err());
        assert!(parse_info("role:master\nslave0:ip=1.2.3.4,state=online\n").is_err());
        assert!(parse_info("role:master\nslave0:ip=1.2.3.4,port=0\n").is_err());
        // slave_read_only and friends are not replica lines.
        assert_eq!(
            parse_info("role:slave\nslave_read_only:1\n")
                .unwrap()
                .replicas
                .len(),
            0
        );
    }

    proptest::proptest! {
        #[test]
        fn any_info_text_parses_or_errs_without_panicking(text in "(role:master\n)?(slave[0-9é]{0,2}:[a-z=,0-9.é]{0,40}\n){0,4}\\PC{0,80}") {
            let _ = parse_info(&text);
        }
    }
}
