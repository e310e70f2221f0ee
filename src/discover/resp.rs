//! Discovery commands over the verified seed connection: one command, one RESP value,
//! read with a size bound and a deadline, and small accessors for the reply shapes
//! Redis uses (RESP2 arrays of alternating keys and values, or RESP3 maps).

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use crate::evidence::IoFailure;
use crate::probe::redis::read_value;

/// The largest discovery reply read (CLUSTER NODES of a 1000-node cluster is ~200 KiB).
pub(crate) const MAX_DISCOVERY_REPLY: usize = 8 * 1024 * 1024;

/// Why a discovery command gave no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum DiscoverError {
    /// The connection failed or timed out.
    #[error("{command}: {}", failure.describe())]
    Io { command: String, failure: IoFailure },
    /// The server answered with an error reply.
    #[error("{command}: the server answered -{message}")]
    Server { command: String, message: String },
    /// The reply does not have the documented shape.
    #[error("{command}: unexpected reply: {what}")]
    Shape { command: String, what: String },
}

impl DiscoverError {
    /// A shape error for `command`.
    pub(crate) fn shape(command: &str, what: impl Into<String>) -> Self {
        DiscoverError::Shape {
            command: command.to_string(),
            what: what.into(),
        }
    }
}

/// Sends `args` as one command and reads one reply before `deadline`.
pub(crate) async fn query<S>(
    stream: &mut S,
    args: &[&str],
    deadline: Instant,
) -> Result<redis::Value, DiscoverError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let command = args.join(" ");
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let packed = cmd.get_packed_command();
    let io = |failure| DiscoverError::Io {
        command: command.clone(),
        failure,
    };
    let value = timeout_at(deadline, async {
        stream
            .write_all(&packed)
            .await
            .map_err(|e| crate::connect::classify_io(&e))?;
        stream
            .flush()
            .await
            .map_err(|e| crate::connect::classify_io(&e))?;
        read_value(stream, MAX_DISCOVERY_REPLY).await
    })
    .await
    .map_err(|_| io(IoFailure::Timeout))?
    .map_err(io)?;
    match value {
        redis::Value::ServerError(e) => Err(DiscoverError::Server {
            command,
            message: format!("{} {}", e.code(), e.details().unwrap_or(""))
                .trim()
                .to_string(),
        }),
        v => Ok(v),
    }
}

/// A string-like value as text.
pub(crate) fn text(v: &redis::Value) -> Option<String> {
    match v {
        redis::Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        redis::Value::SimpleString(s) => Some(s.clone()),
        redis::Value::VerbatimString { text, .. } => Some(text.clone()),
        redis::Value::Okay => Some("OK".into()),
        redis::Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// An integer, sent as an integer or as a string of digits.
pub(crate) fn int(v: &redis::Value) -> Option<i64> {
    match v {
        redis::Value::Int(i) => Some(*i),
        other => text(other)?.trim().parse().ok(),
    }
}

/// The elements of an array (or set).
pub(crate) fn items(v: &redis::Value) -> Option<&[redis::Value]> {
    match v {
        redis::Value::Array(a) | redis::Value::Set(a) => Some(a),
        _ => None,
    }
}

/// A map: a RESP3 map, or a RESP2 array of alternating keys and values.
pub(crate) fn pairs(v: &redis::Value) -> Option<Vec<(String, &redis::Value)>> {
    match v {
        redis::Value::Map(m) => m.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        redis::Value::Array(a) if a.len() % 2 == 0 => a
            .chunks(2)
            .map(|kv| Some((text(&kv[0])?, &kv[1])))
            .collect(),
        _ => None,
    }
}

/// The value of `key` in a map from [`pairs`].
pub(crate) fn get<'a>(map: &[(String, &'a redis::Value)], key: &str) -> Option<&'a redis::Value> {
    map.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

/// Parses a captured reply sample (unit tests).
#[cfg(test)]
pub(crate) fn sample(bytes: &[u8]) -> redis::Value {
    redis::parse_redis_value(bytes).expect("a complete RESP reply")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn reads_a_reply_split_across_reads_and_bounds_it() {
        let bytes = include_bytes!("../../testdata/cluster/replies/shards.resp");
        let mut r: &[u8] = bytes;
        let v = read_value(&mut r, MAX_DISCOVERY_REPLY).await.unwrap();
        assert_eq!(items(&v).map(<[_]>::len), Some(3));
        let mut r: &[u8] = bytes;
        assert!(matches!(
            read_value(&mut r, 100).await,
            Err(IoFailure::Malformed(m)) if m.contains("larger than 100")
        ));
        let mut r: &[u8] = &bytes[..bytes.len() - 3];
        assert!(matches!(
            read_value(&mut r, MAX_DISCOVERY_REPLY).await,
            Err(IoFailure::Malformed(m)) if m.contains("incomplete")
        ));
    }

    #[test]
    fn pairs_read_resp2_arrays_and_refuse_odd_ones() {
        let v = sample(b"*4\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$4\r\nport\r\n:7000\r\n");
        let m = pairs(&v).unwrap();
        assert_eq!(get(&m, "ip").and_then(text).as_deref(), Some("127.0.0.1"));
        assert_eq!(get(&m, "port").and_then(int), Some(7000));
        assert!(pairs(&sample(b"*1\r\n$2\r\nip\r\n")).is_none());
    }
}
