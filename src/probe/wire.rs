//! What the SQL probes share below their protocols: bounded reads off a stream, a
//! bounds-checked cursor over a frame already read, and the millisecond clock.
//!
//! Framing (PostgreSQL's tag + length, MySQL's 3-byte length + sequence id) stays in each
//! probe, which checks a length against its cap before asking for the body here; the body
//! buffer then grows only as bytes arrive, so a lying length costs nothing.

use std::time::Instant as StdInstant;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::connect::classify_io;
use crate::evidence::IoFailure;

/// Milliseconds since `t`, for the evidence's timings.
pub(crate) fn ms_since(t: StdInstant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// A read that did not get all the bytes it was asked for.
#[derive(Debug, Clone, PartialEq, Error)]
pub(crate) enum ShortRead {
    /// The stream failed (reset, TLS alert...).
    #[error("{}", .0.describe())]
    Io(IoFailure),
    /// The peer closed the stream after `got` of `want` bytes; each probe words this in
    /// its own terms (a clean close between frames is not a truncated frame).
    #[error("the connection closed after {got} of {want} bytes")]
    Eof { got: usize, want: usize },
}

/// Fills `buf` from `s`.
pub(crate) async fn read_exact<S>(s: &mut S, buf: &mut [u8]) -> Result<(), ShortRead>
where
    S: AsyncRead + Unpin,
{
    let mut got = 0;
    while got < buf.len() {
        let n = s
            .read(&mut buf[got..])
            .await
            .map_err(|e| ShortRead::Io(classify_io(&e)))?;
        if n == 0 {
            return Err(ShortRead::Eof {
                got,
                want: buf.len(),
            });
        }
        got += n;
    }
    Ok(())
}

/// Reads exactly `len` bytes. The caller has checked `len` against its cap; the buffer
/// still grows only as the bytes arrive.
pub(crate) async fn read_body<S>(s: &mut S, len: usize) -> Result<Vec<u8>, ShortRead>
where
    S: AsyncRead + Unpin,
{
    let mut body = Vec::with_capacity(len.min(4096));
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        let n = s
            .read(&mut chunk[..want])
            .await
            .map_err(|e| ShortRead::Io(classify_io(&e)))?;
        if n == 0 {
            return Err(ShortRead::Eof {
                got: body.len(),
                want: len,
            });
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
}

/// A bounds-checked reader over a frame: every accessor returns `None` instead of reading
/// past the end. Integers are little-endian (MySQL) or big-endian (PostgreSQL) by name.
pub(crate) struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor(b)
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u16_le(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn i32_be(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated string, without its NUL (which is consumed).
    pub(crate) fn cstr(&mut self) -> Option<&'a [u8]> {
        let end = self.0.iter().position(|&b| b == 0)?;
        let s = self.take(end)?;
        self.take(1)?;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_never_reads_past_the_end() {
        let mut c = Cursor::new(b"ab\0\x01\x02\x00\x00\x00\x07");
        assert_eq!(c.cstr(), Some(&b"ab"[..]));
        assert_eq!(c.u16_le(), Some(0x0201));
        assert_eq!(c.i32_be(), Some(7));
        assert_eq!(c.u8(), None);
        assert_eq!(c.take(1), None);
        let mut c = Cursor::new(b"no nul");
        assert_eq!(c.cstr(), None);
        assert_eq!(c.take(6), Some(&b"no nul"[..]));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn short_reads_say_how_far_they_got() {
        let mut r: &[u8] = b"abc";
        let mut buf = [0u8; 5];
        assert_eq!(
            read_exact(&mut r, &mut buf).await,
            Err(ShortRead::Eof { got: 3, want: 5 })
        );
        let mut r: &[u8] = b"abc";
        assert_eq!(
            read_body(&mut r, 16).await,
            Err(ShortRead::Eof { got: 3, want: 16 })
        );
        let mut r: &[u8] = b"abcdef";
        assert_eq!(read_body(&mut r, 4).await, Ok(b"abcd".to_vec()));
    }
}
