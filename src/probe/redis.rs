//! Redis: AUTH, SELECT and PING over any stream, commands encoded and replies parsed by
//! the redis crate, reads bounded in size and by the step's deadline.

use std::time::Instant as StdInstant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use crate::connect::classify_io;
use crate::evidence::{Exchange, IoFailure, Reply};
use crate::target::Secret;

/// The largest reply tlsprobe reads; anything larger is reported as malformed.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Sends one command and reads one reply before `deadline`.
pub async fn command<S>(stream: &mut S, cmd: &redis::Cmd, deadline: Instant) -> Exchange
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let started = StdInstant::now();
    let packed = cmd.get_packed_command();
    let outcome = match timeout_at(deadline, exchange(stream, &packed)).await {
        Err(_) => Err(IoFailure::Timeout),
        Ok(r) => r,
    };
    Exchange {
        outcome,
        ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

async fn exchange<S>(stream: &mut S, packed: &[u8]) -> Result<Reply, IoFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(packed)
        .await
        .map_err(|e| classify_io(&e))?;
    stream.flush().await.map_err(|e| classify_io(&e))?;
    read_reply(stream).await
}

/// Reads exactly one RESP reply (bounded by [`MAX_REPLY_BYTES`]).
pub async fn read_reply<S>(stream: &mut S) -> Result<Reply, IoFailure>
where
    S: AsyncRead + Unpin,
{
    read_value(stream, MAX_REPLY_BYTES).await.map(reduce)
}

/// Reads exactly one RESP value of at most `max` bytes (the bound is on the bytes read,
/// complete or not); a TLS alert record where RESP was expected is named as such.
pub(crate) async fn read_value<S>(stream: &mut S, max: usize) -> Result<redis::Value, IoFailure>
where
    S: AsyncRead + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    let mut chunk = [0u8; 8 * 1024];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| classify_io(&e))?;
        if n == 0 {
            return Err(if buf.is_empty() {
                IoFailure::Closed
            } else {
                IoFailure::Malformed(format!(
                    "connection closed after {} bytes of an incomplete reply",
                    buf.len()
                ))
            });
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf[0] == 0x15 {
            // A TLS alert record on a plaintext connection.
            return Err(IoFailure::NotTls(
                "the server answered with a TLS alert record".into(),
            ));
        }
        if buf.len() > max {
            return Err(IoFailure::Malformed(format!(
                "reply larger than {max} bytes"
            )));
        }
        match redis::parse_redis_value(&buf) {
            Ok(v) => return Ok(v),
            // Incomplete: read on, within the bound.
            Err(e) if e.is_io_error() => {}
            Err(_) => {
                return Err(IoFailure::Malformed(format!(
                    "not a RESP reply: {}",
                    preview(&buf)
                )))
            }
        }
    }
}

/// Printable start of a reply, for messages.
pub fn preview(bytes: &[u8]) -> String {
    let s: String = bytes
        .iter()
        .take(60)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{s:?}")
}

fn reduce(v: redis::Value) -> Reply {
    use redis::Value as V;
    match v {
        V::ServerError(e) => {
            let detail = e.details().unwrap_or("");
            Reply::Error(format!("{} {detail}", e.code()).trim().to_string())
        }
        V::Okay => Reply::Ok("OK".into()),
        V::SimpleString(s) => Reply::Ok(s),
        V::BulkString(b) => Reply::Ok(String::from_utf8_lossy(&b).chars().take(200).collect()),
        V::Nil => Reply::Ok("(nil)".into()),
        V::Int(i) => Reply::Ok(i.to_string()),
        other => Reply::Ok(format!("{other:?}").chars().take(200).collect()),
    }
}

/// `AUTH [user] password`.
pub fn auth_cmd(user: Option<&str>, password: &Secret) -> redis::Cmd {
    let mut c = redis::cmd("AUTH");
    if let Some(u) = user {
        c.arg(u);
    }
    c.arg(password.expose());
    c
}

pub fn ping_cmd() -> redis::Cmd {
    redis::cmd("PING")
}

pub fn select_cmd(db: u32) -> redis::Cmd {
    let mut c = redis::cmd("SELECT");
    c.arg(db);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &'static [u8]) -> Result<Reply, IoFailure> {
        let mut r = bytes;
        read_reply(&mut r).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn replies() {
        assert_eq!(parse(b"+PONG\r\n").await, Ok(Reply::Ok("PONG".into())));
        assert_eq!(
            parse(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n").await,
            Ok(Reply::Error(
                "WRONGPASS invalid username-password pair or user is disabled.".into()
            ))
        );
        assert_eq!(parse(b"").await, Err(IoFailure::Closed));
        assert!(matches!(parse(b"+PON").await, Err(IoFailure::Malformed(_))));
        assert!(matches!(
            parse(b"HTTP/1.1 400\r\n").await,
            Err(IoFailure::Malformed(_))
        ));
        assert!(matches!(
            parse(b"\x15\x03\x03\x00\x02\x02\x46").await,
            Err(IoFailure::NotTls(_))
        ));
    }

    #[test]
    fn auth_is_packed_with_the_password_only_in_the_command() {
        let c = auth_cmd(Some("alice"), &Secret::new("pw"));
        assert_eq!(
            c.get_packed_command(),
            b"*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$2\r\npw\r\n"
        );
    }
}
