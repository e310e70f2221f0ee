//! PostgreSQL over any stream: the SSLRequest that precedes TLS, a login and `SELECT 1`
//! inside TLS, and a plaintext startup that never sends a password.
//!
//! `postgres-protocol` does the protocol: frontend messages are encoded by
//! `message::frontend`, SCRAM-SHA-256 / MD5 computed by `authentication`, and backend
//! messages parsed by `message::backend::Message::parse`. The framing stays here
//! ([`read_raw`] with [`wire`]): a message's length is checked against
//! [`MAX_MESSAGE_BYTES`] before its body is read, every read ends at the step's deadline,
//! and only a whole, bounded frame reaches the parser, so no server bytes can make the
//! probe allocate without bound or panic. The password only ever reaches the stream: no
//! string built here holds it.
//!
//! What stays hand-written, and why: the one-byte SSLRequest answer (not a framed
//! message); the tag and length checks that tell "not PostgreSQL" (HTTP, a TLS record)
//! from a broken message; authentication codes the crate refuses (it errors on any code
//! it does not know, tlsprobe names them); NegotiateProtocolVersion, which the crate does
//! not parse; and a final zero byte missing from an ErrorResponse, which servers before
//! 9.6 could omit and the crate's field iterator rejects.

use std::time::Instant as StdInstant;

use bytes::{BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{
    ChannelBinding, ScramSha256, SCRAM_SHA_256, SCRAM_SHA_256_PLUS,
};
use postgres_protocol::message::backend::{ErrorFields, Message};
use postgres_protocol::message::frontend;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use crate::connect::classify_io;
use crate::evidence::{IoFailure, Login, PlainSqlAnswer, SqlError, SqlEvidence};
use crate::probe::redis::preview;
use crate::probe::wire::{self, ms_since, ShortRead};

/// The largest backend message tlsprobe reads; a longer one is reported as malformed.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The `application_name` tlsprobe announces, so server logs show who connected.
pub const APPLICATION_NAME: &str = "tlsprobe";

/// The longest server text (error message, unexpected bytes) kept in evidence.
const MAX_TEXT_CHARS: usize = 2000;

/// What the server answered to the SSLRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslAnswer {
    /// `S`: the server is ready for the TLS handshake.
    Accepted,
    /// `N`: the server does not do TLS (`ssl = off`, or built without it).
    Refused,
    /// Anything else, described for people: an `E` error message (a server too old for
    /// SSLRequest, or a proxy), a TLS record, or bytes that are not PostgreSQL's.
    Unexpected(String),
}

/// Sends the SSLRequest and reads the one-byte answer before `deadline`.
///
/// Exactly one byte is read when the answer is `S` or `N`, so nothing the server sent
/// before the TLS handshake can be mistaken for TLS data (CVE-2021-23222).
pub async fn request_ssl<S>(s: &mut S, deadline: Instant) -> Result<SslAnswer, IoFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::new();
    frontend::ssl_request(&mut buf);
    send(s, &buf, deadline).await?;
    let mut first = [0u8; 1];
    match timeout_at(deadline, s.read(&mut first)).await {
        Err(_) => return Err(IoFailure::Timeout),
        Ok(Err(e)) => return Err(classify_io(&e)),
        Ok(Ok(0)) => return Err(IoFailure::Closed),
        Ok(Ok(_)) => {}
    }
    match first[0] {
        b'S' => Ok(SslAnswer::Accepted),
        b'N' => Ok(SslAnswer::Refused),
        other => {
            // Not an answer to the SSLRequest: read what else arrives promptly, to say
            // what the server is.
            let mut rest = vec![0u8; 4096];
            let soon = deadline.min(Instant::now() + std::time::Duration::from_millis(500));
            let n = match timeout_at(soon, s.read(&mut rest)).await {
                Ok(Ok(n)) => n,
                _ => 0,
            };
            let mut bytes = vec![other];
            bytes.extend_from_slice(&rest[..n]);
            Ok(SslAnswer::Unexpected(describe_unexpected_ssl_answer(
                &bytes,
            )))
        }
    }
}

fn describe_unexpected_ssl_answer(bytes: &[u8]) -> String {
    if bytes.first() == Some(&b'E') && bytes.len() >= 5 {
        let len = i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
        // The whole message arrived: tag byte plus `len` bytes.
        if len >= 4 && bytes.len() > len as usize {
            if let Ok(Backend::Error(e)) = parse(b'E', &bytes[5..=len as usize]) {
                return format!("an error message instead of 'S' or 'N': {}", e.quote());
            }
        }
    }
    if matches!(bytes.first(), Some(0x15 | 0x16)) {
        return format!(
            "a TLS record instead of 'S' or 'N' (the port speaks TLS directly, not \
             PostgreSQL's SSLRequest): {}",
            hex_preview(bytes)
        );
    }
    format!("not a PostgreSQL answer to SSLRequest: {}", preview(bytes))
}

fn hex_preview(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    hex.join(" ")
}

/// Logs in as `login` over `s` (which the caller guarantees is inside TLS: a cleartext
/// password may be sent) and runs `SELECT 1`, recording how far it got.
///
/// Handles trust, cleartext password, MD5 and SCRAM-SHA-256 (without channel binding).
/// With no password and a server that asks for one, it stops politely right there
/// (`auth` stays `None`). Every read ends at `deadline`.
pub async fn session<S>(s: &mut S, login: &Login, deadline: Instant) -> SqlEvidence
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut ev = SqlEvidence::default();
    if let Err(f) = run_session(s, login, deadline, &mut ev).await {
        ev.failure = Some(f);
    }
    goodbye(s, deadline).await;
    ev
}

async fn run_session<S>(
    s: &mut S,
    login: &Login,
    deadline: Instant,
    ev: &mut SqlEvidence,
) -> Result<(), IoFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    send_startup(s, &login.user, login.database.as_deref(), deadline).await?;
    let started = StdInstant::now();
    ev.reached = "startup sent".into();
    let password = login.password.as_ref().map(|p| p.expose().as_bytes());
    let mut sent_credentials = false;
    let mut scram: Option<ScramSha256> = None;

    // Authentication, up to AuthenticationOk.
    loop {
        let msg = next(s, deadline).await?;
        let req = match msg {
            Backend::Auth(req) => req,
            Backend::Error(e) => {
                ev.auth_ms = ms_since(started);
                // 28P01 is invalid_password; any other class-28 error after our
                // credentials (PAM, LDAP, RADIUS failures) is about them too.
                if e.code == "28P01" || (sent_credentials && e.code.starts_with("28")) {
                    ev.auth = Some(Err(e));
                } else {
                    ev.refused = Some(e);
                }
                return Ok(());
            }
            Backend::Notice(_) | Backend::Ignored(_) => continue,
            other => {
                return Err(IoFailure::Malformed(format!(
                    "{} before authentication completed",
                    other.describe()
                )))
            }
        };
        match req {
            AuthRequest::Ok => {
                ev.auth_ms = ms_since(started);
                ev.auth = Some(Ok(()));
                ev.reached = "authenticated".into();
                break;
            }
            AuthRequest::SaslContinue(data) => {
                let sc = scram.as_mut().ok_or_else(|| {
                    IoFailure::Malformed("a SASL continuation without a SASL exchange".into())
                })?;
                sc.update(&data).map_err(|e| {
                    IoFailure::Malformed(format!("the server's SCRAM first message: {e}"))
                })?;
                let mut buf = BytesMut::new();
                frontend::sasl_response(sc.message(), &mut buf).map_err(encode_failure)?;
                send(s, &buf, deadline).await?;
            }
            AuthRequest::SaslFinal(data) => {
                let mut sc = scram.take().ok_or_else(|| {
                    IoFailure::Malformed("a SASL final message without a SASL exchange".into())
                })?;
                sc.finish(&data).map_err(|e| {
                    IoFailure::Other(format!(
                        "the server's SCRAM signature does not verify ({e}): it does not \
                         hold this password's verifier"
                    ))
                })?;
            }
            asked => {
                let method = asked.method();
                ev.auth_method = Some(method.clone());
                ev.reached = format!("authentication request ({method})");
                let Some(pw) = password else {
                    // No password: this is as far as tlsprobe goes.
                    ev.auth_ms = ms_since(started);
                    return Ok(());
                };
                match asked {
                    AuthRequest::Cleartext => {
                        let mut buf = BytesMut::new();
                        frontend::password_message(pw, &mut buf).map_err(|_| {
                            IoFailure::Other(
                                "the password contains a NUL byte, which PostgreSQL cannot \
                                 receive"
                                    .into(),
                            )
                        })?;
                        send(s, &buf, deadline).await?;
                    }
                    AuthRequest::Md5(salt) => {
                        let hash = md5_hash(login.user.as_bytes(), pw, salt);
                        let mut buf = BytesMut::new();
                        frontend::password_message(hash.as_bytes(), &mut buf)
                            .map_err(encode_failure)?;
                        send(s, &buf, deadline).await?;
                    }
                    AuthRequest::Sasl(ref mechanisms)
                        if mechanisms.iter().any(|m| m == SCRAM_SHA_256) =>
                    {
                        // tlsprobe does not do channel binding; saying so ("n") rather
                        // than "y" keeps a server that offers -PLUS from suspecting a
                        // downgrade.
                        let sc = ScramSha256::new(pw, ChannelBinding::unsupported());
                        let mut buf = BytesMut::new();
                        frontend::sasl_initial_response(SCRAM_SHA_256, sc.message(), &mut buf)
                            .map_err(encode_failure)?;
                        scram = Some(sc);
                        send(s, &buf, deadline).await?;
                    }
                    AuthRequest::Sasl(mechanisms) => {
                        let why = if mechanisms.iter().any(|m| m == SCRAM_SHA_256_PLUS) {
                            "the server offers only SCRAM-SHA-256-PLUS (SCRAM with channel \
                             binding), which tlsprobe does not do"
                                .to_string()
                        } else {
                            format!(
                                "the server offers SASL mechanisms {}, none of which \
                                 tlsprobe speaks",
                                mechanisms.join(", ")
                            )
                        };
                        return Err(IoFailure::Other(why));
                    }
                    _ => {
                        return Err(IoFailure::Other(format!(
                            "the server asked for {method} authentication, which tlsprobe \
                             does not speak"
                        )))
                    }
                }
                sent_credentials = true;
                ev.reached = format!("credentials sent ({method})");
            }
        }
    }

    // After AuthenticationOk: parameters and key data, until ReadyForQuery. The
    // database is opened here, so "database does not exist" arrives now.
    loop {
        match next(s, deadline).await? {
            Backend::Ready(_) => break,
            Backend::Error(e) => {
                ev.refused = Some(e);
                return Ok(());
            }
            Backend::Notice(_) | Backend::Ignored(_) => {}
            other => {
                return Err(IoFailure::Malformed(format!(
                    "{} before ReadyForQuery",
                    other.describe()
                )))
            }
        }
    }

    let mut buf = BytesMut::new();
    frontend::query("SELECT 1", &mut buf).map_err(encode_failure)?;
    let q_started = StdInstant::now();
    send(s, &buf, deadline).await?;
    ev.reached = "SELECT 1 sent".into();
    let mut value: Option<String> = None;
    let mut error: Option<SqlError> = None;
    loop {
        match next(s, deadline).await? {
            Backend::Ready(_) => break,
            Backend::DataRow(first) => {
                if value.is_none() {
                    value = Some(first.unwrap_or_else(|| "NULL".into()));
                }
            }
            Backend::Error(e) => error = Some(e),
            Backend::RowDescription
            | Backend::CommandComplete(_)
            | Backend::EmptyQuery
            | Backend::Notice(_)
            | Backend::Ignored(_) => {}
            other => {
                return Err(IoFailure::Malformed(format!(
                    "{} in answer to SELECT 1",
                    other.describe()
                )))
            }
        }
    }
    ev.query_ms = ms_since(q_started);
    ev.query = match (error, value) {
        (Some(e), _) => Some(Err(e)),
        (None, Some(v)) => Some(Ok(v)),
        (None, None) => {
            return Err(IoFailure::Malformed(
                "SELECT 1 completed without a row".into(),
            ))
        }
    };
    ev.reached = "SELECT 1 answered".into();
    Ok(())
}

/// Sends a StartupMessage on a fresh plaintext connection (no SSLRequest) as `user`,
/// and reports whether the server refused it or went on. Never sends a password: the
/// first authentication request ends the probe.
pub async fn plaintext_probe<S>(
    s: &mut S,
    user: &str,
    deadline: Instant,
) -> Result<PlainSqlAnswer, IoFailure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    send_startup(s, user, None, deadline).await?;
    let answer = loop {
        match next(s, deadline).await? {
            Backend::Error(e) => break PlainSqlAnswer::Refused(e.quote()),
            Backend::Auth(AuthRequest::Ok) => {
                break PlainSqlAnswer::Served(
                    "the server accepted the plaintext startup without asking for a password"
                        .into(),
                )
            }
            Backend::Auth(req) => {
                break PlainSqlAnswer::Served(format!(
                    "the server asked for {} authentication over plaintext",
                    req.method()
                ))
            }
            Backend::Notice(_) | Backend::Ignored(_) => {}
            other => {
                return Err(IoFailure::Malformed(format!(
                    "{} in answer to a startup message",
                    other.describe()
                )))
            }
        }
    };
    goodbye(s, deadline).await;
    Ok(answer)
}

async fn send_startup<S>(
    s: &mut S,
    user: &str,
    database: Option<&str>,
    deadline: Instant,
) -> Result<(), IoFailure>
where
    S: AsyncWrite + Unpin,
{
    let mut params = vec![("user", user)];
    if let Some(db) = database {
        params.push(("database", db));
    }
    params.push(("application_name", APPLICATION_NAME));
    let mut buf = BytesMut::new();
    frontend::startup_message(params, &mut buf)
        .map_err(|_| IoFailure::Other("the user or database name contains a NUL byte".into()))?;
    send(s, &buf, deadline).await
}

/// Terminate, then close our side (a TLS close_notify). Errors are ignored: the server
/// may already have closed after a FATAL error.
async fn goodbye<S>(s: &mut S, deadline: Instant)
where
    S: AsyncWrite + Unpin,
{
    let mut buf = BytesMut::new();
    frontend::terminate(&mut buf);
    let _ = timeout_at(deadline, async {
        s.write_all(&buf).await?;
        s.flush().await?;
        s.shutdown().await
    })
    .await;
}

fn encode_failure(e: std::io::Error) -> IoFailure {
    // Only reachable with a NUL byte in a value tlsprobe computed itself.
    IoFailure::Other(format!("cannot encode a PostgreSQL message: {e}"))
}

async fn send<S>(s: &mut S, bytes: &[u8], deadline: Instant) -> Result<(), IoFailure>
where
    S: AsyncWrite + Unpin,
{
    match timeout_at(deadline, async {
        s.write_all(bytes).await?;
        s.flush().await
    })
    .await
    {
        Err(_) => Err(IoFailure::Timeout),
        Ok(Err(e)) => Err(classify_io(&e)),
        Ok(Ok(())) => Ok(()),
    }
}

/// Reads and parses the next backend message before `deadline`.
async fn next<S>(s: &mut S, deadline: Instant) -> Result<Backend, IoFailure>
where
    S: AsyncRead + Unpin,
{
    let (tag, body) = match timeout_at(deadline, read_raw(s)).await {
        Err(_) => return Err(IoFailure::Timeout),
        Ok(r) => r?,
    };
    parse(tag, &body).map_err(|e| IoFailure::Malformed(e.to_string()))
}

/// Backend message types tlsprobe may meet (protocol 3.0). A first byte outside this set
/// means the peer is not speaking PostgreSQL.
const BACKEND_TAGS: &[u8] = b"RENSKZTDCIn123stAcdGHWv";

/// Reads one framed backend message: its type byte and body (bounded).
async fn read_raw<S>(s: &mut S) -> Result<(u8, Vec<u8>), IoFailure>
where
    S: AsyncRead + Unpin,
{
    let mut head = [0u8; 5];
    wire::read_exact(s, &mut head)
        .await
        .map_err(|e| short_read(e, true))?;
    let tag = head[0];
    if matches!(tag, 0x15 | 0x16) {
        return Err(IoFailure::Malformed(format!(
            "the server answered with a TLS record ({}), not PostgreSQL",
            hex_preview(&head)
        )));
    }
    if !BACKEND_TAGS.contains(&tag) {
        return Err(IoFailure::Malformed(format!(
            "not a PostgreSQL message: {}",
            preview(&head)
        )));
    }
    let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    let plausible = (4..=MAX_MESSAGE_BYTES as i64 + 4).contains(&(len as i64));
    if !plausible && head.iter().all(|b| (0x20..0x7f).contains(b)) {
        // Text where a length should be: another protocol (HTTP, RESP, SMTP...).
        return Err(IoFailure::Malformed(format!(
            "not a PostgreSQL message: {}",
            preview(&head)
        )));
    }
    if len < 4 {
        return Err(IoFailure::Malformed(format!(
            "{} with an impossible length ({len})",
            tag_name(tag)
        )));
    }
    let body_len = (len - 4) as usize;
    if body_len > MAX_MESSAGE_BYTES {
        return Err(IoFailure::Malformed(format!(
            "{} of {len} bytes, more than the {MAX_MESSAGE_BYTES} bytes tlsprobe reads",
            tag_name(tag)
        )));
    }
    let body = wire::read_body(s, body_len)
        .await
        .map_err(|e| short_read(e, false))?;
    Ok((tag, body))
}

/// A short read in PostgreSQL's words: a clean close before the first byte of a message
/// is [`IoFailure::Closed`], anywhere else it is a truncated message.
fn short_read(e: ShortRead, message_start: bool) -> IoFailure {
    match e {
        ShortRead::Io(f) => f,
        ShortRead::Eof { got: 0, .. } if message_start => IoFailure::Closed,
        ShortRead::Eof { got, want } => IoFailure::Malformed(format!(
            "the connection closed inside a message ({got} of {want} bytes)"
        )),
    }
}

/// An authentication request (`R` message).
#[derive(Debug, Clone, PartialEq, Eq)]
enum AuthRequest {
    Ok,
    Cleartext,
    Md5([u8; 4]),
    /// The SASL mechanisms the server offers.
    Sasl(Vec<String>),
    SaslContinue(Vec<u8>),
    SaslFinal(Vec<u8>),
    /// Kerberos V5, SCM credentials, GSSAPI, SSPI or an unknown code.
    Other(i32),
}

impl AuthRequest {
    /// The method as PostgreSQL's pg_hba.conf and people name it.
    fn method(&self) -> String {
        match self {
            AuthRequest::Ok => "none".into(),
            AuthRequest::Cleartext => "password (cleartext)".into(),
            AuthRequest::Md5(_) => "md5".into(),
            AuthRequest::Sasl(m) if m.iter().any(|m| m == SCRAM_SHA_256) => SCRAM_SHA_256.into(),
            AuthRequest::Sasl(m) if m.iter().any(|m| m == SCRAM_SHA_256_PLUS) => {
                SCRAM_SHA_256_PLUS.into()
            }
            AuthRequest::Sasl(m) => format!("SASL ({})", m.join(", ")),
            AuthRequest::SaslContinue(_) | AuthRequest::SaslFinal(_) => "SASL".into(),
            AuthRequest::Other(2) => "Kerberos V5".into(),
            AuthRequest::Other(6) => "SCM credentials".into(),
            AuthRequest::Other(7) | AuthRequest::Other(8) => "GSSAPI".into(),
            AuthRequest::Other(9) => "SSPI".into(),
            AuthRequest::Other(n) => format!("unknown (code {n})"),
        }
    }
}

/// A backend message, reduced to what the probe acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backend {
    Auth(AuthRequest),
    Error(SqlError),
    Notice(SqlError),
    /// ReadyForQuery, with the transaction status byte.
    Ready(u8),
    RowDescription,
    /// The first column of a DataRow (`None`: SQL NULL, or no column).
    DataRow(Option<String>),
    CommandComplete(String),
    EmptyQuery,
    /// ParameterStatus, BackendKeyData, NegotiateProtocolVersion, notifications.
    Ignored(u8),
    /// Valid framing, but not expected by this probe (COPY, extended protocol...).
    Unexpected(u8),
}

impl Backend {
    fn describe(&self) -> String {
        match self {
            Backend::Auth(r) => format!("an authentication request ({})", r.method()),
            Backend::Error(e) => format!("an error ({})", e.quote()),
            Backend::Notice(e) => format!("a notice ({})", e.quote()),
            Backend::Ready(_) => "ReadyForQuery".into(),
            Backend::RowDescription => "a RowDescription".into(),
            Backend::DataRow(_) => "a DataRow".into(),
            Backend::CommandComplete(t) => format!("CommandComplete ({t})"),
            Backend::EmptyQuery => "EmptyQueryResponse".into(),
            Backend::Ignored(t) | Backend::Unexpected(t) => tag_name(*t),
        }
    }
}

fn tag_name(tag: u8) -> String {
    let name = match tag {
        b'R' => "an authentication message",
        b'E' => "an ErrorResponse",
        b'N' => "a NoticeResponse",
        b'S' => "a ParameterStatus",
        b'K' => "a BackendKeyData",
        b'Z' => "a ReadyForQuery",
        b'T' => "a RowDescription",
        b'D' => "a DataRow",
        b'C' => "a CommandComplete",
        b'I' => "an EmptyQueryResponse",
        b'A' => "a NotificationResponse",
        b'v' => "a NegotiateProtocolVersion",
        b'G' | b'H' | b'W' | b'c' | b'd' => "a COPY message",
        _ => "an extended-protocol message",
    };
    format!("{name} ('{}')", tag as char)
}

/// Why a framed backend message does not parse; shown as the malformed reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
enum ParseError {
    #[error("truncated {}", tag_name(*.0))]
    Truncated(u8),
    #[error("{name} that does not parse ({why})", name = tag_name(*.0), why = .1)]
    Invalid(u8, String),
    #[error("truncated authentication request")]
    TruncatedAuth,
    #[error("SASL mechanism list without its terminating empty name")]
    UnterminatedSaslList,
    #[error("a SASL mechanism list that does not parse ({0})")]
    InvalidSaslList(String),
    #[error("SASL authentication request naming no mechanism")]
    NoSaslMechanism,
    #[error("error field '{}' without its end", char::from(*.0))]
    UnterminatedErrorField(u8),
    #[error("an error message with neither code nor text")]
    EmptyError,
}

/// Authentication codes `postgres-protocol` parses; any other is kept as
/// [`AuthRequest::Other`] (the crate refuses it, tlsprobe names it).
const KNOWN_AUTH_CODES: &[i32] = &[0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12];

/// Parses a message body with `postgres_protocol::message::backend::Message::parse`.
///
/// Only the types the probe acts on go to the crate; NegotiateProtocolVersion (which the
/// crate does not know), COPY and extended-protocol messages are named by their tag.
fn parse(tag: u8, body: &[u8]) -> Result<Backend, ParseError> {
    if !b"RENZTDCISKA".contains(&tag) {
        return Ok(if tag == b'v' {
            Backend::Ignored(tag)
        } else {
            Backend::Unexpected(tag)
        });
    }
    if tag == b'R' {
        let code = wire::Cursor::new(body)
            .i32_be()
            .ok_or(ParseError::TruncatedAuth)?;
        if !KNOWN_AUTH_CODES.contains(&code) {
            return Ok(Backend::Auth(AuthRequest::Other(code)));
        }
    }
    // The frame as read (tag, length, body): `read_raw` bounded the length.
    let mut frame = BytesMut::with_capacity(body.len() + 5);
    frame.put_u8(tag);
    frame.put_i32(body.len() as i32 + 4);
    frame.put_slice(body);
    let message = match Message::parse(&mut frame) {
        Ok(Some(m)) => m,
        // A whole frame always parses to a message or an error; be safe anyway.
        Ok(None) => return Err(ParseError::Truncated(tag)),
        Err(e) if tag == b'R' => {
            return Err(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => ParseError::TruncatedAuth,
                _ => ParseError::Invalid(tag, e.to_string()),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(ParseError::Truncated(tag))
        }
        Err(e) => return Err(ParseError::Invalid(tag, e.to_string())),
    };
    Ok(match message {
        Message::ErrorResponse(b) => Backend::Error(error_fields(b.fields(), body)?),
        Message::NoticeResponse(b) => Backend::Notice(error_fields(b.fields(), body)?),
        Message::ReadyForQuery(b) => Backend::Ready(b.status()),
        Message::RowDescription(_) => Backend::RowDescription,
        Message::DataRow(b) => match b.ranges().next() {
            Ok(Some(Some(range))) => Backend::DataRow(Some(text(&b.buffer()[range]))),
            Ok(_) => Backend::DataRow(None),
            Err(_) => return Err(ParseError::Truncated(tag)),
        },
        Message::CommandComplete(b) => Backend::CommandComplete(match b.tag() {
            Ok(t) => text(t.as_bytes()),
            Err(_) => "a tag that is not UTF-8".into(),
        }),
        Message::EmptyQueryResponse => Backend::EmptyQuery,
        Message::ParameterStatus(_)
        | Message::BackendKeyData(_)
        | Message::NotificationResponse(_) => Backend::Ignored(tag),
        other => Backend::Auth(auth_request(other)?),
    })
}

/// The authentication request in an `R` message.
fn auth_request(m: Message) -> Result<AuthRequest, ParseError> {
    Ok(match m {
        Message::AuthenticationOk => AuthRequest::Ok,
        Message::AuthenticationCleartextPassword => AuthRequest::Cleartext,
        Message::AuthenticationMd5Password(b) => AuthRequest::Md5(b.salt()),
        Message::AuthenticationSasl(b) => {
            let mut mechanisms = Vec::new();
            let mut it = b.mechanisms();
            loop {
                match it.next() {
                    Ok(Some(m)) => mechanisms.push(text(m.as_bytes())),
                    Ok(None) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        return Err(ParseError::UnterminatedSaslList)
                    }
                    Err(e) => return Err(ParseError::InvalidSaslList(e.to_string())),
                }
            }
            if mechanisms.is_empty() {
                return Err(ParseError::NoSaslMechanism);
            }
            AuthRequest::Sasl(mechanisms)
        }
        Message::AuthenticationSaslContinue(b) => AuthRequest::SaslContinue(b.data().to_vec()),
        Message::AuthenticationSaslFinal(b) => AuthRequest::SaslFinal(b.data().to_vec()),
        Message::AuthenticationKerberosV5 => AuthRequest::Other(2),
        Message::AuthenticationScmCredential => AuthRequest::Other(6),
        Message::AuthenticationGss => AuthRequest::Other(7),
        Message::AuthenticationGssContinue(_) => AuthRequest::Other(8),
        Message::AuthenticationSspi => AuthRequest::Other(9),
        // `parse` hands only R, E, N, Z, T, D, C, I, S, K and A messages to the crate.
        _ => return Err(ParseError::Truncated(b'R')),
    })
}

/// Parses an ErrorResponse or NoticeResponse body (tests call this directly).
#[cfg(test)]
fn parse_error_fields(body: &[u8]) -> Result<SqlError, ParseError> {
    match parse(b'E', body)? {
        Backend::Error(e) => Ok(e),
        other => panic!("{other:?}"),
    }
}

/// Parses an authentication request body (tests call this directly).
#[cfg(test)]
fn parse_auth(body: &[u8]) -> Result<AuthRequest, ParseError> {
    match parse(b'R', body)? {
        Backend::Auth(a) => Ok(a),
        other => panic!("{other:?}"),
    }
}

/// Fields of an ErrorResponse or NoticeResponse: `V` (or the localized `S`) severity,
/// `C` SQLSTATE, `M` message. `body` is the message body the fields iterate over, for
/// naming a field that does not end.
fn error_fields(mut fields: ErrorFields<'_>, body: &[u8]) -> Result<SqlError, ParseError> {
    let (mut severity, mut localized, mut code, mut message) = (None, None, None, None);
    let mut offset = 0;
    loop {
        let field = match fields.next() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // A missing final zero byte, or bytes after it, are tolerated: the fields read
            // so far are all there is.
            Err(_) if body.get(offset).is_none_or(|&b| b == 0) => break,
            Err(_) => return Err(ParseError::UnterminatedErrorField(body[offset])),
        };
        offset += 2 + field.value_bytes().len();
        let value = text(field.value_bytes());
        match field.type_() {
            b'V' => severity = Some(value),
            b'S' => localized = Some(value),
            b'C' => code = Some(value),
            b'M' => message = Some(value),
            _ => {}
        }
    }
    if code.is_none() && message.is_none() {
        return Err(ParseError::EmptyError);
    }
    Ok(SqlError {
        code: code.unwrap_or_default(),
        severity: severity.or(localized).unwrap_or_else(|| "ERROR".into()),
        message: message.unwrap_or_default(),
    })
}

/// Server text for evidence: lossy UTF-8 (before `client_encoding` applies, the server
/// writes in its own encoding), bounded.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Secret;

    /// A framed backend message.
    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn auth(code: i32, extra: &[u8]) -> Vec<u8> {
        let mut b = code.to_be_bytes().to_vec();
        b.extend_from_slice(extra);
        msg(b'R', &b)
    }

    fn error(fields: &[(u8, &str)]) -> Vec<u8> {
        let mut b = Vec::new();
        for (k, v) in fields {
            b.push(*k);
            b.extend_from_slice(v.as_bytes());
            b.push(0);
        }
        b.push(0);
        msg(b'E', &b)
    }

    fn ready() -> Vec<u8> {
        msg(b'Z', b"I")
    }

    fn data_row_1() -> Vec<u8> {
        msg(b'D', &[0, 1, 0, 0, 0, 1, b'1'])
    }

    /// Everything a trust login and `SELECT 1` get from a real server, abridged.
    fn trust_script() -> Vec<u8> {
        [
            auth(0, b""),
            msg(b'S', b"server_version\x0015.18\x00"),
            msg(b'K', &[0, 0, 0, 7, 1, 2, 3, 4]),
            ready(),
            msg(b'T', b"\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"),
            data_row_1(),
            msg(b'C', b"SELECT 1\x00"),
            ready(),
        ]
        .concat()
    }

    fn deadline() -> Instant {
        Instant::now() + std::time::Duration::from_secs(5)
    }

    fn login(password: Option<&str>) -> Login {
        Login {
            user: "app".into(),
            password: password.map(Secret::new),
            database: Some("app".into()),
        }
    }

    /// Runs a session against scripted server bytes; returns the evidence and what the
    /// client wrote.
    async fn scripted(script: Vec<u8>, password: Option<&str>) -> (SqlEvidence, Vec<u8>) {
        let mut io = tokio::io::join(&script[..], Vec::<u8>::new());
        let ev = session(&mut io, &login(password), deadline()).await;
        let (_, written) = io.into_inner();
        (ev, written)
    }

    async fn read_one(bytes: &[u8]) -> Result<Backend, IoFailure> {
        let mut r = bytes;
        next(&mut r, deadline()).await
    }

    #[test]
    fn authentication_requests() {
        assert_eq!(parse_auth(&[0, 0, 0, 0]), Ok(AuthRequest::Ok));
        assert_eq!(parse_auth(&[0, 0, 0, 3]), Ok(AuthRequest::Cleartext));
        assert_eq!(
            parse_auth(&[0, 0, 0, 5, 9, 8, 7, 6]),
            Ok(AuthRequest::Md5([9, 8, 7, 6]))
        );
        assert_eq!(
            parse_auth(b"\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00"),
            Ok(AuthRequest::Sasl(vec![
                "SCRAM-SHA-256-PLUS".into(),
                "SCRAM-SHA-256".into()
            ]))
        );
        assert_eq!(
            parse_auth(b"\x00\x00\x00\x0br=abc,s=xyz,i=4096"),
            Ok(AuthRequest::SaslContinue(b"r=abc,s=xyz,i=4096".to_vec()))
        );
        assert_eq!(parse_auth(&[0, 0, 0, 7]), Ok(AuthRequest::Other(7)));
        assert_eq!(AuthRequest::Other(7).method(), "GSSAPI");
        assert_eq!(
            AuthRequest::Sasl(vec!["SCRAM-SHA-256-PLUS".into()]).method(),
            "SCRAM-SHA-256-PLUS"
        );
        // Truncated or unterminated: errors, never panics.
        assert!(parse_auth(&[0, 0]).is_err());
        assert!(parse_auth(&[0, 0, 0, 5, 1]).is_err());
        assert!(parse_auth(b"\x00\x00\x00\x0aSCRAM-SHA-256").is_err());
        assert!(parse_auth(b"\x00\x00\x00\x0aSCRAM-SHA-256\x00").is_err());
        assert!(parse_auth(b"\x00\x00\x00\x0a\x00").is_err());
    }

    #[test]
    fn error_fields() {
        let e = parse_error_fields(
            b"SFATAL\x00VFATAL\x00C28000\x00Mno pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"x\", no encryption\x00Fauth.c\x00L543\x00\x00",
        )
        .unwrap();
        assert_eq!(
            e.quote(),
            "FATAL 28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"x\", no encryption"
        );
        // The non-localized V wins over a translated S.
        let e = parse_error_fields(b"SFATAL-DE\x00VFATAL\x00C28P01\x00Mx\x00\x00").unwrap();
        assert_eq!(e.severity, "FATAL");
        // Only S (servers before 9.6); no final zero byte.
        let e = parse_error_fields(b"SERROR\x00C3D000\x00Mgone\x00").unwrap();
        assert_eq!((e.severity.as_str(), e.code.as_str()), ("ERROR", "3D000"));
        assert!(parse_error_fields(b"").is_err());
        assert!(parse_error_fields(b"\x00").is_err());
        assert!(parse_error_fields(b"C28000").is_err());
        assert!(parse_error_fields(b"Mhalf").is_err());
        // Invalid UTF-8 is kept lossily.
        let e = parse_error_fields(b"C28000\x00M\xff\xfe\x00\x00").unwrap();
        assert_eq!(e.message, "\u{fffd}\u{fffd}");
    }

    #[test]
    fn query_messages() {
        assert_eq!(
            parse(b'D', &[0, 1, 0, 0, 0, 1, b'1']),
            Ok(Backend::DataRow(Some("1".into())))
        );
        assert_eq!(
            parse(b'D', &[0, 1, 0xff, 0xff, 0xff, 0xff]),
            Ok(Backend::DataRow(None))
        );
        assert_eq!(parse(b'D', &[0, 0]), Ok(Backend::DataRow(None)));
        assert!(parse(b'D', &[0, 1, 0, 0, 0, 9, b'1']).is_err());
        assert!(parse(b'D', &[0]).is_err());
        assert_eq!(
            parse(b'C', b"SELECT 1\x00"),
            Ok(Backend::CommandComplete("SELECT 1".into()))
        );
        assert!(parse(b'C', b"SELECT 1").is_err());
        assert_eq!(parse(b'Z', b"I"), Ok(Backend::Ready(b'I')));
        assert!(parse(b'Z', b"").is_err());
        assert_eq!(parse(b'G', b""), Ok(Backend::Unexpected(b'G')));
    }

    #[test]
    fn what_the_crate_does_not_parse_is_still_named() {
        // Codes postgres-protocol refuses (4: crypt, 13: anything newer) are named.
        assert_eq!(parse_auth(&[0, 0, 0, 4]), Ok(AuthRequest::Other(4)));
        assert_eq!(
            AuthRequest::Other(13).method(),
            "unknown (code 13)".to_string()
        );
        // NegotiateProtocolVersion is ignored, COPY is unexpected, without the crate.
        assert_eq!(parse(b'v', b"\0\0\0\0"), Ok(Backend::Ignored(b'v')));
        assert_eq!(parse(b'W', b""), Ok(Backend::Unexpected(b'W')));
        // Trailing bytes the crate rejects are malformed, never a panic.
        assert!(matches!(
            parse(b'Z', b"II"),
            Err(ParseError::Invalid(b'Z', _))
        ));
        assert_eq!(
            parse_error_fields(b"Mhalf").unwrap_err().to_string(),
            "error field 'M' without its end"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn framing() {
        assert_eq!(read_one(&ready()).await, Ok(Backend::Ready(b'I')));
        assert_eq!(read_one(b"").await, Err(IoFailure::Closed));
        // Truncated header and body.
        assert!(matches!(
            read_one(b"Z\x00\x00").await,
            Err(IoFailure::Malformed(_))
        ));
        assert!(matches!(
            read_one(b"E\x00\x00\x00\x20SFATAL").await,
            Err(IoFailure::Malformed(m)) if m.contains("closed inside a message")
        ));
        // Impossible and oversized lengths are refused before anything is allocated.
        assert!(matches!(
            read_one(b"Z\x00\x00\x00\x02").await,
            Err(IoFailure::Malformed(m)) if m.contains("impossible length")
        ));
        assert!(matches!(
            read_one(b"Z\xff\xff\xff\xff").await,
            Err(IoFailure::Malformed(_))
        ));
        assert!(matches!(
            read_one(b"D\x00\x20\x00\x00").await,
            Err(IoFailure::Malformed(m)) if m.contains("more than the 1048576 bytes")
        ));
        // Not PostgreSQL at all.
        assert!(matches!(
            read_one(b"HTTP/1.1 400 Bad Request\r\n").await,
            Err(IoFailure::Malformed(m)) if m.contains("not a PostgreSQL message: \"HTTP/\"")
        ));
        assert!(matches!(
            read_one(b"\x15\x03\x03\x00\x02\x02\x46").await,
            Err(IoFailure::Malformed(m)) if m.contains("TLS record")
        ));
    }

    async fn ssl_answer(reply: &[u8]) -> Result<SslAnswer, IoFailure> {
        let mut io = tokio::io::join(reply, Vec::<u8>::new());
        let r = request_ssl(&mut io, deadline()).await;
        let (_, written) = io.into_inner();
        assert_eq!(written, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        r
    }

    #[tokio::test(flavor = "current_thread")]
    async fn ssl_request_answers() {
        assert_eq!(ssl_answer(b"S").await, Ok(SslAnswer::Accepted));
        assert_eq!(ssl_answer(b"N").await, Ok(SslAnswer::Refused));
        assert_eq!(ssl_answer(b"").await, Err(IoFailure::Closed));
        let old = error(&[
            (b'S', "FATAL"),
            (b'C', "08P01"),
            (b'M', "unsupported frontend protocol"),
        ]);
        match ssl_answer(&old).await {
            Ok(SslAnswer::Unexpected(m)) => assert!(
                m.contains("FATAL 08P01: unsupported frontend protocol"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        match ssl_answer(b"HTTP/1.1 400 Bad Request\r\n").await {
            Ok(SslAnswer::Unexpected(m)) => assert!(m.contains("HTTP/1.1 400"), "{m}"),
            other => panic!("{other:?}"),
        }
        match ssl_answer(b"\x15\x03\x01\x00\x02\x02\x32").await {
            Ok(SslAnswer::Unexpected(m)) => assert!(m.contains("TLS record"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A truncated error message is described as bytes, not parsed.
        match ssl_answer(b"E\x00\x00\x01\x00SFATAL").await {
            Ok(SslAnswer::Unexpected(m)) => assert!(m.contains("not a PostgreSQL"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn trust_login_and_select_1() {
        let (ev, written) = scripted(trust_script(), Some("s3cret-pw")).await;
        assert_eq!(ev.auth, Some(Ok(())));
        assert_eq!(ev.auth_method, None);
        assert_eq!(ev.query, Some(Ok("1".into())));
        assert_eq!(ev.reached, "SELECT 1 answered");
        assert_eq!(ev.failure, None);
        // Startup carries user, database and application name; the query and Terminate
        // follow; the password is never sent to a server that did not ask for it.
        let w = String::from_utf8_lossy(&written);
        assert!(w.contains("user\0app\0database\0app\0application_name\0tlsprobe\0\0"));
        assert!(w.contains("Q\0\0\0\rSELECT 1\0"));
        assert!(written.ends_with(b"X\0\0\0\x04"));
        assert!(!w.contains("s3cret-pw"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn password_requests_without_a_password_stop_politely() {
        for (script, method) in [
            (auth(10, b"SCRAM-SHA-256\0\0"), "SCRAM-SHA-256"),
            (auth(5, &[1, 2, 3, 4]), "md5"),
            (auth(3, b""), "password (cleartext)"),
        ] {
            let (ev, written) = scripted(script, None).await;
            assert_eq!(ev.auth, None);
            assert_eq!(ev.auth_method.as_deref(), Some(method));
            assert_eq!(ev.reached, format!("authentication request ({method})"));
            assert_eq!(ev.failure, None);
            // Startup, then Terminate: nothing else.
            assert_eq!(written.iter().filter(|&&b| b == b'X').count(), 1);
            assert!(written.ends_with(b"X\0\0\0\x04"));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn md5_and_cleartext_logins() {
        let script = [auth(5, &[1, 2, 3, 4]), trust_script()].concat();
        let (ev, written) = scripted(script, Some("pw")).await;
        assert_eq!(ev.auth, Some(Ok(())));
        assert_eq!(ev.auth_method.as_deref(), Some("md5"));
        let expected = md5_hash(b"app", b"pw", [1, 2, 3, 4]);
        assert!(String::from_utf8_lossy(&written).contains(&expected));

        let script = [auth(3, b""), trust_script()].concat();
        let (ev, written) = scripted(script, Some("pw")).await;
        assert_eq!(ev.auth, Some(Ok(())));
        assert!(written.windows(8).any(|w| w == b"p\0\0\0\x07pw\0"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn wrong_password_is_an_auth_error_not_a_refusal() {
        let script = [
            auth(10, b"SCRAM-SHA-256\0\0"),
            error(&[
                (b'S', "FATAL"),
                (b'V', "FATAL"),
                (b'C', "28P01"),
                (b'M', "password authentication failed for user \"app\""),
            ]),
        ]
        .concat();
        let (ev, written) = scripted(script, Some("wrong-pw")).await;
        let e = ev.auth.clone().unwrap().unwrap_err();
        assert_eq!(e.code, "28P01");
        assert_eq!(ev.refused, None);
        assert_eq!(ev.reached, "credentials sent (SCRAM-SHA-256)");
        // The SCRAM client-first message went out, with no password in it.
        let w = String::from_utf8_lossy(&written);
        assert!(w.contains("SCRAM-SHA-256\0") && w.contains("n,,n=,r="));
        assert!(!w.contains("wrong-pw"));
        assert!(!format!("{ev:?}").contains("wrong-pw"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn refusals_before_authentication() {
        let script = error(&[
            (b'V', "FATAL"),
            (b'C', "28000"),
            (b'M', "connection requires a valid client certificate"),
        ]);
        let (ev, _) = scripted(script, Some("pw")).await;
        assert_eq!(ev.auth, None);
        assert_eq!(ev.reached, "startup sent");
        assert_eq!(
            ev.refused.unwrap().quote(),
            "FATAL 28000: connection requires a valid client certificate"
        );
        // After AuthenticationOk: the database does not exist.
        let script = [
            auth(0, b""),
            error(&[
                (b'V', "FATAL"),
                (b'C', "3D000"),
                (b'M', "database \"nope\" does not exist"),
            ]),
        ]
        .concat();
        let (ev, _) = scripted(script, None).await;
        assert_eq!(ev.auth, Some(Ok(())));
        assert_eq!(ev.refused.unwrap().code, "3D000");
        assert_eq!(ev.query, None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn unsupported_authentication() {
        let (ev, _) = scripted(auth(10, b"SCRAM-SHA-256-PLUS\0\0"), Some("pw")).await;
        assert_eq!(ev.auth, None);
        assert_eq!(ev.auth_method.as_deref(), Some("SCRAM-SHA-256-PLUS"));
        assert!(
            matches!(ev.failure, Some(IoFailure::Other(ref m)) if m.contains("only SCRAM-SHA-256-PLUS"))
        );
        let (ev, _) = scripted(auth(7, b""), Some("pw")).await;
        assert!(matches!(ev.failure, Some(IoFailure::Other(ref m)) if m.contains("GSSAPI")));
        // A SASL continuation out of the blue.
        let (ev, _) = scripted(auth(11, b"r=x"), Some("pw")).await;
        assert!(matches!(ev.failure, Some(IoFailure::Malformed(_))));
        // A garbled SCRAM server-first message.
        let script = [auth(10, b"SCRAM-SHA-256\0\0"), auth(11, b"garbage")].concat();
        let (ev, _) = scripted(script, Some("pw")).await;
        assert!(matches!(ev.failure, Some(IoFailure::Malformed(ref m)) if m.contains("SCRAM")));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn query_errors_and_odd_answers() {
        let script = [
            auth(0, b""),
            ready(),
            error(&[(b'V', "ERROR"), (b'C', "57014"), (b'M', "canceled")]),
            ready(),
        ]
        .concat();
        let (ev, _) = scripted(script, None).await;
        assert_eq!(ev.query.unwrap().unwrap_err().code, "57014");
        let script = [auth(0, b""), ready(), msg(b'C', b"SELECT 0\0"), ready()].concat();
        let (ev, _) = scripted(script, None).await;
        assert!(
            matches!(ev.failure, Some(IoFailure::Malformed(ref m)) if m.contains("without a row"))
        );
        let script = [auth(0, b""), ready(), msg(b'G', b"\0\0\0")].concat();
        let (ev, _) = scripted(script, None).await;
        assert!(matches!(ev.failure, Some(IoFailure::Malformed(ref m)) if m.contains("COPY")));
        // Closed mid-session.
        let script = [auth(0, b""), ready()].concat();
        let (ev, _) = scripted(script, None).await;
        assert_eq!(ev.failure, Some(IoFailure::Closed));
        assert_eq!(ev.reached, "SELECT 1 sent");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_silent_server_times_out() {
        let (mut client, _server) = tokio::io::duplex(1 << 16);
        let d = Instant::now() + std::time::Duration::from_millis(50);
        let ev = session(&mut client, &login(Some("pw")), d).await;
        assert_eq!(ev.failure, Some(IoFailure::Timeout));
        assert_eq!(ev.reached, "startup sent");
        let (mut client, _server) = tokio::io::duplex(1 << 16);
        let d = Instant::now() + std::time::Duration::from_millis(50);
        assert_eq!(request_ssl(&mut client, d).await, Err(IoFailure::Timeout));
    }

    async fn plain(script: Vec<u8>) -> Result<PlainSqlAnswer, IoFailure> {
        let mut io = tokio::io::join(&script[..], Vec::<u8>::new());
        let r = plaintext_probe(&mut io, "x", deadline()).await;
        let (_, written) = io.into_inner();
        // Only a startup message, then at most Terminate: never a password message.
        let len = u32::from_be_bytes([written[0], written[1], written[2], written[3]]) as usize;
        assert!(
            matches!(&written[len..], b"" | b"X\0\0\0\x04"),
            "{written:?}"
        );
        r
    }

    #[tokio::test(flavor = "current_thread")]
    async fn plaintext_answers() {
        let refused = error(&[
            (b'S', "FATAL"),
            (b'V', "FATAL"),
            (b'C', "28000"),
            (
                b'M',
                "no pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"x\", no encryption",
            ),
        ]);
        assert_eq!(
            plain(refused).await,
            Ok(PlainSqlAnswer::Refused(
                "FATAL 28000: no pg_hba.conf entry for host \"127.0.0.1\", user \"x\", database \"x\", no encryption".into()
            ))
        );
        assert_eq!(
            plain(auth(10, b"SCRAM-SHA-256\0\0")).await,
            Ok(PlainSqlAnswer::Served(
                "the server asked for SCRAM-SHA-256 authentication over plaintext".into()
            ))
        );
        assert!(matches!(
            plain(auth(0, b"")).await,
            Ok(PlainSqlAnswer::Served(m)) if m.contains("accepted")
        ));
        assert_eq!(plain(Vec::new()).await, Err(IoFailure::Closed));
        assert!(matches!(
            plain(b"-ERR unknown command\r\n".to_vec()).await,
            Err(IoFailure::Malformed(_))
        ));
    }

    /// Deterministic pseudo-random bytes (xorshift), for the no-panic sweep.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn garbage_and_truncation_never_panic() {
        let real = [
            auth(10, b"SCRAM-SHA-256\0\0"),
            auth(11, b"r=abc,s=c2FsdA==,i=4096"),
            error(&[(b'V', "FATAL"), (b'C', "28P01"), (b'M', "no")]),
            trust_script(),
        ]
        .concat();
        // Every prefix of a real conversation.
        for cut in 0..real.len() {
            let (ev, _) = scripted(real[..cut].to_vec(), Some("pw")).await;
            assert!(ev.failure.is_some() || ev.auth.is_some() || ev.refused.is_some());
            let _ = plain(real[..cut].to_vec()).await;
        }
        // Random bytes, and random bytes behind a valid tag.
        for seed in 0..300u64 {
            let mut bytes = noise(seed, (seed as usize * 7) % 200);
            if seed % 2 == 0 && !bytes.is_empty() {
                bytes[0] = BACKEND_TAGS[seed as usize % BACKEND_TAGS.len()];
                if bytes.len() > 4 {
                    bytes[1] = 0;
                    bytes[2] = 0;
                }
            }
            let (ev, _) = scripted(bytes.clone(), Some("pw")).await;
            let _ = ev.reached;
            let _ = plain(bytes.clone()).await;
            let mut io = tokio::io::join(&bytes[..], Vec::<u8>::new());
            let _ = request_ssl(&mut io, deadline()).await;
        }
    }
}
