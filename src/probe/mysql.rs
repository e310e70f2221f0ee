//! MySQL / MariaDB: the greeting, the SSL request, a login and `SELECT 1` (protocol 10
//! with 4.1 packets). Every read is bounded in size ([`MAX_PACKET_BYTES`]) and by the
//! step's deadline; bad bytes become [`IoFailure::Malformed`], never a panic.
//!
//! # What `mysql_common` does and what stays here
//!
//! `mysql_common` (default features off) parses the greeting (`HandshakePacket`), encodes
//! the `SslRequest` and `HandshakeResponse`, parses OK, ERR, AuthSwitchRequest and
//! AuthMoreData packets and length-encoded values, and computes both scrambles
//! (`scramble_native`, `scramble_sha256`). tlsprobe keeps:
//!
//! - the framing ([`read_packet`], 3-byte length + sequence id, checked against
//!   [`MAX_PACKET_BYTES`] before a byte of the body is read, and the greeting's tighter cap
//!   and "is this MySQL at all" check), since the crate parses frames, it does not read them;
//! - three checks before the crate sees a greeting: the protocol version (the crate does
//!   not look at it), a pre-4.1 greeting (named as such rather than "truncated"), and the
//!   nonce length byte: `HandshakePacket` computes `len as i8 - 8`, which overflows for
//!   0x80..=0x87 (a panic with overflow checks on), so a greeting with a length of 0x80 or
//!   more, which no server sends, is refused as malformed;
//! - whether an ERR packet carries a SQLSTATE: the crate takes that from the negotiated
//!   capabilities, but an error sent in place of the greeting never has one, so the `#`
//!   marker decides.
//!
//! Weight, the price of fitting: with default features off the crate still brings 17
//! crates into the normal build (regex and its automata, for its server-version parsing,
//! are most of the ~65 s of added compile time; flate2, given its pure-Rust backend although
//! tlsprobe never asks for compression; uuid, num-bigint...), for code tlsprobe does not
//! call. Its API fits: every packet tlsprobe sends or reads is a type there.
//!
//! The password leaves this module only as a scramble (`mysql_native_password`,
//! `caching_sha2_password` fast auth) or, inside TLS and only there, in cleartext
//! (`caching_sha2_password` full auth, `mysql_clear_password`, `sha256_password`).
//!
//! # What a plaintext attempt can show
//!
//! MySQL (5.7, 8) and MariaDB (10.11, observed) check `require_secure_transport` only
//! *after* a correct password: a login as an unknown user is answered
//! `ERROR 1045 (28000): Access denied for user ... (using password: NO)` whether the server
//! requires TLS or not, and MariaDB 10.11 answers even a correct password over plaintext
//! with the same 1045 when it requires TLS (MySQL answers 3159 there). A probe that never
//! sends a real password therefore cannot tell "plaintext refused" from "plaintext served"
//! from a 1045: [`plaintext_login`] calls that [`PlainLogin::Inconclusive`]. What is
//! conclusive: an explicit transport refusal (3159, Azure's "SSL connection is required"),
//! a greeting without `CLIENT_SSL` (the server has nothing but plaintext), or the dummy
//! user being logged in.

use std::time::Instant as StdInstant;

use mysql_common::auth::plugins::caching_sha2_password::scramble_sha256;
use mysql_common::auth::plugins::mysql_native_password::scramble_native;
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthMoreData, AuthPlugin, AuthSwitchRequest, CommonOkPacket, ErrPacket, HandshakePacket,
    HandshakeResponse, OkPacketDeserializer, SslRequest,
};
use mysql_common::proto::MySerialize;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use crate::connect::classify_io;
use crate::evidence::{IoFailure, Login, PlainSqlAnswer, SqlError, SqlEvidence};
use crate::probe::redis::preview;
use crate::probe::wire::{self, ms_since, Cursor, ShortRead};
use crate::target::Secret;

/// The largest packet payload tlsprobe reads: a payload of 2^24-1 bytes or more would be
/// split over several packets, which no answer in this conversation needs.
pub const MAX_PACKET_BYTES: usize = 0xFF_FFFF - 1;

/// A greeting larger than this is not a greeting.
const MAX_GREETING_BYTES: usize = 64 * 1024;

/// The maximum packet size tlsprobe announces (it reads far less: [`MAX_PACKET_BYTES`]).
const ANNOUNCED_MAX_PACKET: u32 = 16 * 1024 * 1024;

/// The user named when no password is given: it should not exist, so the server's
/// answer shows how far a login gets without one.
pub const DUMMY_USER: &str = "tlsprobe_probe";

/// `mysql_native_password`.
pub const NATIVE_PASSWORD: &str = "mysql_native_password";
/// `caching_sha2_password` (MySQL 8's default).
pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";

const CLIENT_LONG_PASSWORD: u32 = CapabilityFlags::CLIENT_LONG_PASSWORD.bits();
const CLIENT_CONNECT_WITH_DB: u32 = CapabilityFlags::CLIENT_CONNECT_WITH_DB.bits();
const CLIENT_PROTOCOL_41: u32 = CapabilityFlags::CLIENT_PROTOCOL_41.bits();
/// `CLIENT_SSL`: the server can switch to TLS after the greeting.
pub const CLIENT_SSL: u32 = CapabilityFlags::CLIENT_SSL.bits();
const CLIENT_TRANSACTIONS: u32 = CapabilityFlags::CLIENT_TRANSACTIONS.bits();
const CLIENT_SECURE_CONNECTION: u32 = CapabilityFlags::CLIENT_SECURE_CONNECTION.bits();
const CLIENT_PLUGIN_AUTH: u32 = CapabilityFlags::CLIENT_PLUGIN_AUTH.bits();

/// MySQL error numbers that mean "wrong user or password".
const ACCESS_DENIED: &[&str] = &[
    "1045", // ER_ACCESS_DENIED_ERROR
    "1698", // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
];

/// The server's initial handshake packet (protocol version 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// Protocol version: 10 for every server since 3.21.
    pub protocol: u8,
    /// As sent: MariaDB prefixes `5.5.5-` (e.g. `5.5.5-10.11.19-MariaDB-0+deb12u1`).
    pub server_version: String,
    pub connection_id: u32,
    /// Server capability flags (lower and upper 16 bits joined; the flags
    /// `mysql_common` knows).
    pub capabilities: u32,
    /// Default collation id.
    pub charset: u8,
    /// The authentication nonce, trailing NUL removed: 20 bytes (`mysql_common` pads a
    /// shorter one with zeros).
    pub scramble: Vec<u8>,
    /// The default authentication plugin; `mysql_native_password` when not named.
    pub auth_plugin: String,
    /// The first `x.y.z` in `server_version` (MariaDB's `5.5.5-` prefix included), or
    /// `(0, 0, 0)`: `mysql_common` picks the login's collation from it.
    pub version: (u16, u16, u16),
}

impl Greeting {
    /// The server offers TLS (`CLIENT_SSL`, 0x0800).
    pub fn supports_ssl(&self) -> bool {
        self.capabilities & CLIENT_SSL != 0
    }
}

/// Reads the server's greeting before `deadline`.
///
/// `Ok(Err(..))`: the server sent an error instead (host blocked, too many connections).
/// A peer that does not speak MySQL yields [`IoFailure::Malformed`] quoting its bytes.
/// Reads exactly the greeting, nothing after it, so TLS can start on the same stream.
pub async fn read_greeting<S: AsyncRead + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<Result<Greeting, SqlError>, IoFailure> {
    let p = match timeout_at(deadline, read_greeting_packet(s, deadline)).await {
        Err(_) => return Err(IoFailure::Timeout),
        Ok(r) => r?,
    };
    match p.first() {
        Some(0xFF) => Ok(Err(parse_err(&p)?)),
        _ => Ok(Ok(parse_greeting(&p)?)),
    }
}

async fn read_greeting_packet<S: AsyncRead + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<Vec<u8>, IoFailure> {
    let mut head = [0u8; 4];
    wire::read_exact(s, &mut head)
        .await
        .map_err(|e| short_read(e, HEADER))?;
    let len = u24(&head);
    let first_ok = head[3] == 0 && (1..=MAX_GREETING_BYTES).contains(&len);
    if !first_ok {
        // Read a little more (briefly) so the message shows what the peer is.
        let mut more = [0u8; 60];
        let soon = Instant::now() + std::time::Duration::from_millis(200);
        let n = match timeout_at(soon.min(deadline), s.read(&mut more)).await {
            Ok(Ok(n)) => n,
            _ => 0,
        };
        let mut seen = head.to_vec();
        seen.extend_from_slice(&more[..n]);
        return Err(IoFailure::Malformed(format!(
            "not a MySQL greeting: the server sent {}",
            preview(&seen)
        )));
    }
    let body = read_body(s, len).await?;
    // 0x0A: protocol 10; 0x09: protocol 9 (named in the parse error); 0xFF: an error.
    if !matches!(body.first(), Some(0x09) | Some(0x0A) | Some(0xFF)) {
        let mut seen = head.to_vec();
        seen.extend_from_slice(&body);
        return Err(IoFailure::Malformed(format!(
            "not a MySQL greeting: the server sent {}",
            preview(&seen)
        )));
    }
    Ok(body)
}

/// The capabilities tlsprobe announces, identical in the SSL request and the login.
fn client_caps(g: &Greeting, tls: bool) -> u32 {
    let mut caps =
        CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_TRANSACTIONS;
    caps |= g.capabilities & (CLIENT_CONNECT_WITH_DB | CLIENT_PLUGIN_AUTH);
    if tls {
        caps |= CLIENT_SSL;
    }
    caps
}

/// The SSLRequest payload: capabilities, maximum packet size, collation and 23 reserved
/// bytes, which the login then repeats word for word.
fn fixed_header(g: &Greeting, caps: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(32);
    SslRequest::new(
        CapabilityFlags::from_bits_truncate(caps),
        ANNOUNCED_MAX_PACKET,
        login_collation(g),
    )
    .serialize(&mut p);
    p
}

/// The collation `mysql_common`'s HandshakeResponse announces to this server
/// (utf8mb4_general_ci from 5.5.3, utf8_general_ci before), so the SSL request says the same.
fn login_collation(g: &Greeting) -> u8 {
    HandshakeResponse::new(
        None::<&[u8]>,
        g.version,
        None::<&[u8]>,
        None::<&[u8]>,
        None,
        CapabilityFlags::empty(),
        None,
        0,
    )
    .collation()
}

/// Sends the SSLRequest packet (sequence id 1); the caller then starts TLS on the stream.
/// Refuses (without sending) when the greeting does not offer TLS.
pub async fn request_ssl<S: AsyncWrite + Unpin>(s: &mut S, g: &Greeting) -> Result<(), IoFailure> {
    if !g.supports_ssl() {
        return Err(IoFailure::Other(
            "the server does not offer TLS (its greeting lacks CLIENT_SSL)".into(),
        ));
    }
    let body = fixed_header(g, client_caps(g, true));
    write_packet_now(s, 1, &body).await
}

/// HandshakeResponse41, encoded by `mysql_common`. The database and plugin name are sent
/// exactly when `caps` (the server's offer) has room for them, so the capabilities match
/// the SSL request's.
fn handshake_response(
    g: &Greeting,
    caps: u32,
    user: &str,
    auth: &[u8],
    database: Option<&str>,
    plugin: &str,
) -> Vec<u8> {
    let db = (caps & CLIENT_CONNECT_WITH_DB != 0).then(|| database.unwrap_or("").as_bytes());
    let plugin =
        (caps & CLIENT_PLUGIN_AUTH != 0).then(|| AuthPlugin::from_bytes(plugin.as_bytes()));
    let mut p = Vec::with_capacity(128);
    HandshakeResponse::new(
        Some(auth),
        g.version,
        Some(user.as_bytes()),
        db,
        plugin,
        CapabilityFlags::from_bits_truncate(caps),
        None,
        ANNOUNCED_MAX_PACKET,
    )
    .serialize(&mut p);
    p
}

/// The nonce as the scrambles take it: 20 bytes (a longer one cut, a shorter one padded
/// with zeros, as `mysql_common`'s own handshake does).
fn nonce20(scramble: &[u8]) -> [u8; 20] {
    let mut n = [0u8; 20];
    let k = scramble.len().min(20);
    n[..k].copy_from_slice(&scramble[..k]);
    n
}

/// `mysql_native_password`: `SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))` by
/// `mysql_common`; empty for an empty password.
pub fn native_password_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    scramble_native(&nonce20(scramble), password).map_or_else(Vec::new, |r| r.to_vec())
}

/// `caching_sha2_password` fast auth:
/// `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)` by `mysql_common`; empty for an
/// empty password.
pub fn caching_sha2_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    scramble_sha256(&nonce20(scramble), password).map_or_else(Vec::new, |r| r.to_vec())
}

/// Why tlsprobe does not answer an authentication request; the text is what `reached`
/// records.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
enum AuthRefusal {
    #[error(
        "the server asked for {0}, which needs the password in cleartext \
         (or an RSA key): tlsprobe sends it only inside TLS, so it was not sent"
    )]
    CleartextOutsideTls(String),
    #[error("the server asked for the {0} authentication plugin, which tlsprobe does not speak")]
    UnknownPlugin(String),
}

/// The answer to the server's request for `plugin`, or why tlsprobe will not give one.
fn auth_response(
    plugin: &str,
    scramble: &[u8],
    password: Option<&Secret>,
    tls: bool,
) -> Result<Vec<u8>, AuthRefusal> {
    let pw = password.map(|p| p.expose().as_bytes()).unwrap_or(b"");
    match plugin {
        NATIVE_PASSWORD => Ok(native_password_scramble(pw, scramble)),
        CACHING_SHA2_PASSWORD => Ok(caching_sha2_scramble(pw, scramble)),
        "mysql_clear_password" | "sha256_password" => {
            if pw.is_empty() {
                Ok(vec![0])
            } else if tls {
                let mut v = pw.to_vec();
                v.push(0);
                Ok(v)
            } else {
                Err(AuthRefusal::CleartextOutsideTls(plugin.into()))
            }
        }
        other => Err(AuthRefusal::UnknownPlugin(other.into())),
    }
}

/// How a login exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LoginAnswer {
    /// An OK packet: logged in.
    Ok,
    /// An ERR packet.
    Err(SqlError),
    /// tlsprobe stopped the exchange: why (e.g. full auth needs TLS).
    Stopped(String),
}

/// Sends HandshakeResponse41 and follows AuthSwitchRequest / AuthMoreData until OK or ERR.
/// Updates `method` with the plugin the server asked for.
#[allow(clippy::too_many_arguments)]
async fn login_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    g: &Greeting,
    user: &str,
    password: Option<&Secret>,
    database: Option<&str>,
    tls: bool,
    deadline: Instant,
    method: &mut Option<String>,
) -> Result<LoginAnswer, IoFailure> {
    *method = Some(g.auth_plugin.clone());
    // Start with the server's default when tlsprobe speaks it; the server switches otherwise.
    let mut plugin = if g.auth_plugin == CACHING_SHA2_PASSWORD {
        CACHING_SHA2_PASSWORD.to_string()
    } else {
        NATIVE_PASSWORD.to_string()
    };
    let first = auth_response(&plugin, &g.scramble, password, tls).unwrap_or_default();
    let caps = client_caps(g, tls);
    let body = handshake_response(g, caps, user, &first, database, &plugin);
    write_packet(s, if tls { 2 } else { 1 }, &body, deadline).await?;
    for _ in 0..8 {
        let (seq, p) = read_packet(s, deadline).await?;
        let next = seq.wrapping_add(1);
        match p.first() {
            Some(0x00) => {
                ParseBuf(&p)
                    .parse::<OkPacketDeserializer<CommonOkPacket>>(
                        CapabilityFlags::from_bits_truncate(caps),
                    )
                    .map_err(|_| malformed("OK packet", &p))?;
                return Ok(LoginAnswer::Ok);
            }
            Some(0xFF) => return Ok(LoginAnswer::Err(parse_err(&p)?)),
            Some(0xFE) if p.len() == 1 => {
                return Ok(LoginAnswer::Stopped(
                    "the server asked for the pre-4.1 password hash (old_password), \
                     which tlsprobe does not speak"
                        .into(),
                ))
            }
            Some(0xFE) => {
                let switch: AuthSwitchRequest = ParseBuf(&p)
                    .parse(())
                    .map_err(|_| malformed("AuthSwitchRequest", &p))?;
                let name = lossy(switch.auth_plugin().as_bytes());
                *method = Some(name.clone());
                plugin = name;
                match auth_response(&plugin, switch.plugin_data(), password, tls) {
                    Ok(resp) => write_packet(s, next, &resp, deadline).await?,
                    Err(why) => return Ok(LoginAnswer::Stopped(why.to_string())),
                }
            }
            Some(0x01) if plugin == CACHING_SHA2_PASSWORD => match ParseBuf(&p)
                .parse::<AuthMoreData>(())
                .map_err(|_| malformed("caching_sha2_password answer", &p))?
                .data()
            {
                // Fast auth succeeded; the OK packet follows.
                [0x03] => continue,
                [0x04] => {
                    if !tls {
                        return Ok(LoginAnswer::Stopped(
                            "caching_sha2_password asked for full authentication, which needs \
                             TLS or the server's RSA key: the password was not sent"
                                .into(),
                        ));
                    }
                    let mut v = password
                        .map(|p| p.expose().as_bytes().to_vec())
                        .unwrap_or_default();
                    v.push(0);
                    write_packet(s, next, &v, deadline).await?;
                }
                _ => return Err(malformed("caching_sha2_password answer", &p)),
            },
            _ => return Err(malformed("login answer", &p)),
        }
    }
    Err(IoFailure::Malformed(
        "more than 8 authentication round trips".into(),
    ))
}

/// Logs in over `s` (after TLS when `tls`), runs `SELECT 1`, and quits.
///
/// With `login.password` unset, logs in as [`DUMMY_USER`] with an empty password instead
/// and records the server's answer in `reached`; `auth` stays `None`.
/// `tls` must say whether an SSL request preceded (it sets `CLIENT_SSL` and the sequence
/// id, and allows a cleartext password for full authentication).
pub async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    g: &Greeting,
    login: &Login,
    tls: bool,
    deadline: Instant,
) -> SqlEvidence {
    let mut ev = SqlEvidence {
        reached: "greeting received".into(),
        ..SqlEvidence::default()
    };
    let over = if tls { "over TLS" } else { "over plaintext" };
    let dummy = login.password.is_none();
    let user = if dummy {
        DUMMY_USER
    } else {
        login.user.as_str()
    };
    let database = if dummy {
        None
    } else {
        login.database.as_deref()
    };

    let started = StdInstant::now();
    let answer = login_exchange(
        s,
        g,
        user,
        login.password.as_ref(),
        database,
        tls,
        deadline,
        &mut ev.auth_method,
    )
    .await;
    ev.auth_ms = ms_since(started);
    let answer = match answer {
        Ok(a) => a,
        Err(f) => {
            ev.failure = Some(f);
            return ev;
        }
    };
    match answer {
        LoginAnswer::Stopped(why) => {
            ev.reached = why;
            return ev;
        }
        LoginAnswer::Err(e) => {
            ev.reached = if dummy {
                format!(
                    "server answered a login for a dummy user {over}: {}",
                    e.quote()
                )
            } else {
                "login answered".into()
            };
            if ACCESS_DENIED.contains(&e.code.as_str()) {
                if !dummy {
                    ev.auth = Some(Err(e));
                }
            } else {
                ev.refused = Some(e);
            }
            return ev;
        }
        LoginAnswer::Ok if dummy => {
            ev.reached =
                format!("server logged in the dummy user {DUMMY_USER} without a password {over}");
            quit(s, deadline).await;
            return ev;
        }
        LoginAnswer::Ok => {
            ev.reached = "authenticated".into();
            ev.auth = Some(Ok(()));
        }
    }

    let started = StdInstant::now();
    let result = select_one(s, deadline).await;
    ev.query_ms = ms_since(started);
    match result {
        Ok(q) => {
            ev.query = Some(q);
            ev.reached = "SELECT 1 answered".into();
        }
        Err(f) => {
            ev.failure = Some(f);
            return ev;
        }
    }
    quit(s, deadline).await;
    ev
}

/// `COM_QUERY "SELECT 1"`: the first column of the first row, or the server's error.
async fn select_one<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<Result<String, SqlError>, IoFailure> {
    write_packet(s, 0, b"\x03SELECT 1", deadline).await?;
    let (_, p) = read_packet(s, deadline).await?;
    match p.first() {
        Some(0xFF) => return Ok(Err(parse_err(&p)?)),
        Some(0x00) => {
            return Err(IoFailure::Malformed(
                "SELECT 1 was answered with OK, not a result set".into(),
            ))
        }
        _ => {}
    }
    let columns = ParseBuf(&p)
        .checked_eat_lenenc_int()
        .filter(|n| (1..=4096).contains(n))
        .ok_or_else(|| malformed("column count", &p))?;
    for _ in 0..columns {
        let (_, p) = read_packet(s, deadline).await?;
        if p.first() == Some(&0xFF) {
            return Ok(Err(parse_err(&p)?));
        }
    }
    let (_, p) = read_packet(s, deadline).await?;
    if !is_eof(&p) {
        return Err(malformed("end of the column definitions", &p));
    }
    let mut first: Option<String> = None;
    for _ in 0..1000 {
        let (_, p) = read_packet(s, deadline).await?;
        if is_eof(&p) {
            return first
                .map(Ok)
                .ok_or_else(|| IoFailure::Malformed("SELECT 1 returned no rows".into()));
        }
        if p.first() == Some(&0xFF) {
            return Ok(Err(parse_err(&p)?));
        }
        if first.is_none() {
            first = Some(if p.first() == Some(&0xFB) {
                "NULL".into()
            } else {
                let v = ParseBuf(&p)
                    .checked_eat_lenenc_str()
                    .ok_or_else(|| malformed("row", &p))?;
                String::from_utf8_lossy(v).chars().take(200).collect()
            });
        }
    }
    Err(IoFailure::Malformed(
        "SELECT 1 returned over 1000 rows".into(),
    ))
}

/// `COM_QUIT`, then a TLS close_notify where there is TLS; failures are irrelevant here.
async fn quit<S: AsyncWrite + Unpin>(s: &mut S, deadline: Instant) {
    let _ = write_packet(s, 0, &[0x01], deadline).await;
    let _ = timeout_at(deadline, s.shutdown()).await;
}

/// What a plaintext login for the dummy user showed. See the module documentation for
/// why a 1045 is [`PlainLogin::Inconclusive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlainLogin {
    /// The server refused the plaintext transport in so many words: its words.
    Refused(String),
    /// The server certainly serves plaintext (no TLS offered, or the dummy user logged in).
    Served(String),
    /// The answer is the same whether or not the server refuses plaintext.
    Inconclusive(String),
}

impl From<PlainLogin> for PlainSqlAnswer {
    /// `Inconclusive` becomes `Served` with a message starting `inconclusive: `.
    fn from(p: PlainLogin) -> Self {
        match p {
            PlainLogin::Refused(m) => PlainSqlAnswer::Refused(m),
            PlainLogin::Served(m) => PlainSqlAnswer::Served(m),
            PlainLogin::Inconclusive(m) => PlainSqlAnswer::Inconclusive(m),
        }
    }
}

/// On a fresh plaintext connection: reads the greeting and logs in as [`DUMMY_USER`]
/// without a password (never the real one), then names what the server said.
/// `Refused` only for an unambiguous transport refusal; see [`plaintext_login`].
pub async fn plaintext_probe<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<PlainSqlAnswer, IoFailure> {
    plaintext_login(s, deadline).await.map(PlainSqlAnswer::from)
}

/// [`plaintext_probe`] with the three-way answer. An error packet in place of the greeting
/// (host blocked, too many connections) is no statement about plaintext:
/// [`IoFailure::Other`] quoting it.
pub async fn plaintext_login<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<PlainLogin, IoFailure> {
    let g = match read_greeting(s, deadline).await? {
        Ok(g) => g,
        Err(e) => {
            return Err(IoFailure::Other(format!(
                "the server refused the connection before any login: {}",
                e.quote()
            )))
        }
    };
    let mut method = None;
    let answer =
        login_exchange(s, &g, DUMMY_USER, None, None, false, deadline, &mut method).await?;
    if answer == LoginAnswer::Ok {
        quit(s, deadline).await;
    }
    Ok(classify_plain(&g, &answer))
}

/// The rule: refused only in so many words; served when the server has nothing but
/// plaintext or let the dummy user in; otherwise inconclusive.
fn classify_plain(g: &Greeting, answer: &LoginAnswer) -> PlainLogin {
    let said = match answer {
        LoginAnswer::Err(e) if is_transport_refusal(e) => return PlainLogin::Refused(e.quote()),
        LoginAnswer::Ok => {
            return PlainLogin::Served(format!(
                "the server logged in the dummy user {DUMMY_USER} over plaintext \
                 (an account without a password, or an anonymous account, matched)"
            ))
        }
        LoginAnswer::Err(e) => e.quote(),
        LoginAnswer::Stopped(why) => why.clone(),
    };
    if !g.supports_ssl() {
        return PlainLogin::Served(format!(
            "the server does not offer TLS (its greeting lacks CLIENT_SSL); \
             it answered a plaintext login for {DUMMY_USER}: {said}"
        ));
    }
    PlainLogin::Inconclusive(format!(
        "the server answered a plaintext login for the dummy user {DUMMY_USER}: {said}; \
         MySQL and MariaDB check require_secure_transport only after a correct password, \
         so this answer does not show whether plaintext is refused"
    ))
}

/// An error that refuses the transport rather than the credentials.
fn is_transport_refusal(e: &SqlError) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.code == "3159" // ER_SECURE_TRANSPORT_REQUIRED (MySQL)
        || m.contains("insecure transport")
        || m.contains("require_secure_transport")
        || m.contains("ssl connection is required") // Azure Database for MySQL, 9002
}

// ---- packets ----

fn u24(b: &[u8; 4]) -> usize {
    usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16
}

fn malformed(what: &str, bytes: &[u8]) -> IoFailure {
    IoFailure::Malformed(format!("unexpected {what}: {}", preview(bytes)))
}

/// EOF packet (`0xFE`, shorter than 9 bytes).
fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xFE) && p.len() < 9
}

/// A short read in MySQL's words: a clean close before the first byte of a header is
/// [`IoFailure::Closed`].
fn short_read(e: ShortRead, what: &str) -> IoFailure {
    match e {
        ShortRead::Io(f) => f,
        ShortRead::Eof { got: 0, .. } if what == HEADER => IoFailure::Closed,
        ShortRead::Eof { got, want } => IoFailure::Malformed(format!(
            "connection closed after {got} of {want} bytes of a {what}"
        )),
    }
}

const HEADER: &str = "packet header";

/// Reads a payload of `len` bytes (already checked against a cap).
async fn read_body<S: AsyncRead + Unpin>(s: &mut S, len: usize) -> Result<Vec<u8>, IoFailure> {
    wire::read_body(s, len)
        .await
        .map_err(|e| short_read(e, "packet"))
}

/// One packet before `deadline`: (sequence id, payload).
async fn read_packet<S: AsyncRead + Unpin>(
    s: &mut S,
    deadline: Instant,
) -> Result<(u8, Vec<u8>), IoFailure> {
    match timeout_at(deadline, read_packet_now(s)).await {
        Err(_) => Err(IoFailure::Timeout),
        Ok(r) => r,
    }
}

async fn read_packet_now<S: AsyncRead + Unpin>(s: &mut S) -> Result<(u8, Vec<u8>), IoFailure> {
    let mut head = [0u8; 4];
    wire::read_exact(s, &mut head)
        .await
        .map_err(|e| short_read(e, HEADER))?;
    let len = u24(&head);
    if len > MAX_PACKET_BYTES {
        return Err(IoFailure::Malformed(format!(
            "a packet of {len} bytes or more, larger than the {MAX_PACKET_BYTES} tlsprobe reads"
        )));
    }
    Ok((head[3], read_body(s, len).await?))
}

async fn write_packet<S: AsyncWrite + Unpin>(
    s: &mut S,
    seq: u8,
    body: &[u8],
    deadline: Instant,
) -> Result<(), IoFailure> {
    match timeout_at(deadline, write_packet_now(s, seq, body)).await {
        Err(_) => Err(IoFailure::Timeout),
        Ok(r) => r,
    }
}

async fn write_packet_now<S: AsyncWrite + Unpin>(
    s: &mut S,
    seq: u8,
    body: &[u8],
) -> Result<(), IoFailure> {
    let len = body.len().min(MAX_PACKET_BYTES) as u32;
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&len.to_le_bytes()[..3]);
    out.push(seq);
    out.extend_from_slice(&body[..len as usize]);
    s.write_all(&out).await.map_err(|e| classify_io(&e))?;
    s.flush().await.map_err(|e| classify_io(&e))
}

/// Server text for evidence: lossy UTF-8.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses a protocol-10 greeting payload with `mysql_common`'s `HandshakePacket`, after
/// the checks that crate does not make (see the module documentation).
fn parse_greeting(p: &[u8]) -> Result<Greeting, IoFailure> {
    let bad = |what: &str| IoFailure::Malformed(format!("greeting {what}: {}", preview(p)));
    let mut c = Cursor::new(p);
    let protocol = c.u8().ok_or_else(|| bad("empty"))?;
    if protocol != 10 {
        return Err(IoFailure::Malformed(format!(
            "greeting with protocol version {protocol} (tlsprobe speaks 10): {}",
            preview(p)
        )));
    }
    let version = c.cstr().ok_or_else(|| bad("without a version"))?;
    // Connection id (4), nonce part 1 (8), filler (1), lower capabilities (2)...
    let fixed = c.take(31);
    let caps_lo = lower_caps(p, version.len());
    let Some(fixed) = fixed else {
        // A pre-4.1 greeting ends after the lower capability flags.
        return Err(match caps_lo {
            Some(lo) if lo & CLIENT_PROTOCOL_41 == 0 => not_41(&lossy(version)),
            _ => bad("truncated"),
        });
    };
    // ...collation (1), status (2), upper capabilities (2), nonce length (1). The crate
    // computes the second nonce part's length in `i8`: a length byte of 0x80 or more
    // would overflow there (a panic in debug builds), and no server sends one.
    let data_len = fixed[20];
    if data_len >= 0x80 {
        return Err(bad("with an impossible nonce length"));
    }
    let hp: HandshakePacket = ParseBuf(p).parse(()).map_err(|_| bad("truncated"))?;
    let plugin = hp.auth_plugin_name_ref().unwrap_or_default();
    // Some servers omit the final NUL; a name ends at the first one.
    let plugin = &plugin[..plugin.iter().position(|&b| b == 0).unwrap_or(plugin.len())];
    let g = Greeting {
        protocol,
        server_version: hp.server_version_str().into_owned(),
        connection_id: hp.connection_id(),
        capabilities: hp.capabilities().bits(),
        charset: hp.default_collation(),
        scramble: hp.nonce(),
        auth_plugin: if plugin.is_empty() {
            NATIVE_PASSWORD.into()
        } else {
            lossy(plugin)
        },
        version: hp.server_version_parsed().unwrap_or((0, 0, 0)),
    };
    if g.capabilities & CLIENT_PROTOCOL_41 == 0 {
        return Err(not_41(&g.server_version));
    }
    Ok(g)
}

/// The lower capability flags of a greeting whose version string is `version_len` bytes,
/// if the payload reaches them.
fn lower_caps(p: &[u8], version_len: usize) -> Option<u32> {
    let at = 1 + version_len + 1 + 4 + 8 + 1;
    let mut c = Cursor::new(p.get(at..)?);
    c.u16_le().map(u32::from)
}

fn not_41(server_version: &str) -> IoFailure {
    IoFailure::Malformed(format!(
        "the server ({server_version}) does not speak the 4.1 protocol"
    ))
}

/// Parses an ERR payload with `mysql_common`'s `ErrPacket`: `SqlError { code: errno,
/// severity: "ERROR", message: "#SQLSTATE message" }` (or just the message when no
/// SQLSTATE is sent: errors sent before the handshake have none).
fn parse_err(p: &[u8]) -> Result<SqlError, IoFailure> {
    let with_state = p.len() >= 9 && p[3] == b'#';
    // Without CLIENT_PROGRESS_OBSOLETE the crate never reads a progress report.
    let caps = if with_state {
        CapabilityFlags::CLIENT_PROTOCOL_41
    } else {
        CapabilityFlags::empty()
    };
    let e = match ParseBuf(p).parse::<ErrPacket>(caps) {
        Ok(ErrPacket::Error(e)) => e,
        _ => return Err(malformed("error packet", p)),
    };
    let text: String = e.message_str().chars().take(1000).collect();
    Ok(SqlError {
        code: e.error_code().to_string(),
        severity: "ERROR".into(),
        message: match e.sql_state_ref() {
            Some(s) => format!("#{} {text}", s.as_str()),
            None => text,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::digest;
    use tokio::io::{duplex, DuplexStream};

    fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
        a.iter().zip(b).map(|(x, y)| x ^ y).collect()
    }
    use tokio::task::JoinHandle;

    /// MariaDB 10.11.19's greeting as captured on loopback.
    const MARIADB_GREETING: &[u8] = b"\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x12\x00\x00\x00ywh'%&-N\x00\xfe\xff\x08\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00\"[&I~`EwKM\"]\x00mysql_native_password\x00";

    const MARIADB_1045: &[u8] = b"\xff\x15\x04#28000Access denied for user 'tlsprobe_probe'@'127.0.0.1' (using password: NO)";

    fn packet(seq: u8, body: &[u8]) -> Vec<u8> {
        let mut v = (body.len() as u32).to_le_bytes()[..3].to_vec();
        v.push(seq);
        v.extend_from_slice(body);
        v
    }

    /// A MySQL 8 style greeting: caching_sha2_password, scramble 1..=20, CLIENT_SSL
    /// when `ssl`.
    fn mysql8_greeting(ssl: bool) -> Vec<u8> {
        let mut caps: u32 = 0xDFFF_F7FF; // everything but CLIENT_SSL...
        if ssl {
            caps |= CLIENT_SSL;
        }
        let mut g = vec![10];
        g.extend_from_slice(b"8.0.36\0");
        g.extend_from_slice(&7u32.to_le_bytes());
        g.extend(1..=8u8);
        g.push(0);
        g.extend_from_slice(&(caps as u16).to_le_bytes());
        g.push(255);
        g.extend_from_slice(&2u16.to_le_bytes());
        g.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        g.push(21);
        g.extend_from_slice(&[0; 10]);
        g.extend(9..=20u8);
        g.push(0);
        g.extend_from_slice(b"caching_sha2_password\0");
        g
    }

    async fn greeting_of(bytes: &[u8]) -> Result<Result<Greeting, SqlError>, IoFailure> {
        let mut r = bytes;
        read_greeting(&mut r, Instant::now() + std::time::Duration::from_secs(2)).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn mariadb_greeting_parses() {
        let g = greeting_of(&packet(0, MARIADB_GREETING))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(g.protocol, 10);
        assert_eq!(g.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
        assert_eq!(g.connection_id, 0x12);
        assert_eq!(g.charset, 8);
        assert_eq!(g.capabilities, 0x81FF_FFFE);
        assert!(g.supports_ssl());
        assert_eq!(g.scramble, b"ywh'%&-N\"[&I~`EwKM\"]".to_vec());
        assert_eq!(g.auth_plugin, NATIVE_PASSWORD);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn mysql8_greeting_parses() {
        let g = greeting_of(&packet(0, &mysql8_greeting(false)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(g.server_version, "8.0.36");
        assert!(!g.supports_ssl());
        assert_eq!(g.scramble, (1..=20u8).collect::<Vec<_>>());
        assert_eq!(g.auth_plugin, CACHING_SHA2_PASSWORD);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn greeting_err_is_the_servers_words() {
        // Sent before the server knows the client speaks 4.1: no SQLSTATE.
        let body = b"\xff\x69\x04Host '10.0.0.9' is blocked because of many connection errors";
        let e = greeting_of(&packet(0, body)).await.unwrap().unwrap_err();
        assert_eq!(e.code, "1129");
        assert_eq!(e.severity, "ERROR");
        assert!(e.message.starts_with("Host '10.0.0.9' is blocked"));
        let e = greeting_of(&packet(0, MARIADB_1045))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e.quote(),
            "ERROR 1045: #28000 Access denied for user 'tlsprobe_probe'@'127.0.0.1' (using password: NO)"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn non_mysql_peers_are_described_not_parsed() {
        for bytes in [
            &b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"[..],
            b"220 mail.example.com ESMTP\r\n",
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
            b"-ERR unknown command\r\n",
            b"\x15\x03\x03\x00\x02\x02\x46",
        ] {
            match greeting_of(bytes).await {
                Err(IoFailure::Malformed(m)) => {
                    assert!(m.starts_with("not a MySQL greeting"), "{m}");
                    let start = String::from_utf8_lossy(&bytes[..3]).into_owned();
                    assert!(
                        m.contains(&start) || bytes[0] == 0x15,
                        "{m} should quote the bytes"
                    );
                }
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
        // A plausible header, then a body that is not a greeting.
        assert!(matches!(
            greeting_of(&packet(0, b"hello")).await,
            Err(IoFailure::Malformed(_))
        ));
        assert_eq!(greeting_of(b"").await, Err(IoFailure::Closed));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn truncated_and_garbage_greetings_never_panic() {
        let full = packet(0, MARIADB_GREETING);
        for cut in 0..full.len() {
            let r = greeting_of(&full[..cut]).await;
            assert!(r.is_err(), "cut at {cut}: {r:?}");
        }
        // Truncated payloads with an honest length.
        for cut in 1..MARIADB_GREETING.len() {
            let _ = greeting_of(&packet(0, &MARIADB_GREETING[..cut])).await;
        }
        // Pseudo-random garbage after a greeting-like start.
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let len = (x % 90) as usize;
            let mut body = vec![10u8];
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                body.push((x >> 16) as u8);
            }
            let _ = greeting_of(&packet(0, &body)).await;
            let _ = parse_err(&body);
            let _ = ParseBuf(&body).checked_eat_lenenc_str();
        }
        assert!(matches!(
            greeting_of(&packet(0, b"\x09old\0")).await,
            Err(IoFailure::Malformed(m)) if m.contains("protocol version 9")
        ));
    }

    #[test]
    fn greetings_the_crate_would_misread_are_refused_first() {
        // A nonce length byte of 0x80..=0x87 overflows mysql_common's i8 arithmetic.
        let mut g = mysql8_greeting(true);
        let at = 1 + b"8.0.36\0".len() + 20;
        assert_eq!(g[at], 21);
        for len in [0x80u8, 0x87, 0xff] {
            g[at] = len;
            assert!(matches!(
                parse_greeting(&g),
                Err(IoFailure::Malformed(m)) if m.contains("impossible nonce length")
            ));
        }
        // Every nonce length byte, with every capability combination that changes how
        // mysql_common reads the rest, and every cut: an error or a greeting, no panic.
        for len in 0..=255u8 {
            for caps in [0u32, CLIENT_SECURE_CONNECTION, CLIENT_PLUGIN_AUTH, u32::MAX] {
                let mut g = mysql8_greeting(true);
                g[at] = len;
                g[at - 7..at - 5].copy_from_slice(&(caps as u16).to_le_bytes());
                g[at - 2..at].copy_from_slice(&((caps >> 16) as u16).to_le_bytes());
                for cut in (at..g.len()).step_by(3) {
                    let _ = parse_greeting(&g[..cut]);
                }
            }
        }
        // A pre-4.1 greeting (it ends after the lower capabilities) is named as such.
        let mut old = b"\x0a3.23.58\0\x01\0\0\0abcdefgh\0".to_vec();
        old.extend_from_slice(&0x002c_u16.to_le_bytes());
        assert!(matches!(
            parse_greeting(&old),
            Err(IoFailure::Malformed(m)) if m.contains("(3.23.58) does not speak the 4.1 protocol")
        ));
        // An OK packet that does not parse is not a login.
        let ok = [0u8];
        assert!(ParseBuf(&ok)
            .parse::<OkPacketDeserializer<CommonOkPacket>>(CapabilityFlags::CLIENT_PROTOCOL_41)
            .is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn packets_are_bounded() {
        let mut huge: &[u8] = b"\xff\xff\xff\x01";
        assert!(matches!(
            read_packet_now(&mut huge).await,
            Err(IoFailure::Malformed(m)) if m.contains("larger than")
        ));
        let mut short: &[u8] = b"\x10\x00\x00\x01abc";
        assert!(matches!(
            read_packet_now(&mut short).await,
            Err(IoFailure::Malformed(m)) if m.contains("after 3 of 16 bytes")
        ));
        let mut half: &[u8] = b"\x10\x00";
        assert!(matches!(
            read_packet_now(&mut half).await,
            Err(IoFailure::Malformed(_))
        ));
    }

    #[test]
    fn ok_err_eof() {
        assert!(is_eof(b"\xfe\x00\x00\x02\x00"));
        assert!(!is_eof(b"\xfe\x00\x00\x02\x00\x00\x00\x00\x00\x00"));
        assert!(!is_eof(b"\x00\x00\x00\x02\x00\x00\x00"));
        let e = parse_err(MARIADB_1045).unwrap();
        assert_eq!(e.code, "1045");
        assert_eq!(
            e.message,
            "#28000 Access denied for user 'tlsprobe_probe'@'127.0.0.1' (using password: NO)"
        );
        assert!(parse_err(b"\xff").is_err());
        assert!(parse_err(b"\x00\x00\x00").is_err());
        assert_eq!(parse_err(b"\xff\x01\x00#").unwrap().message, "#");
        assert_eq!(
            ParseBuf(b"\xfc\x01\x02").checked_eat_lenenc_int(),
            Some(0x0201)
        );
        assert_eq!(
            ParseBuf(b"\xfd\x01\x02\x03").checked_eat_lenenc_int(),
            Some(0x030201)
        );
        assert_eq!(ParseBuf(b"\xfe\x01").checked_eat_lenenc_int(), None);
        assert_eq!(ParseBuf(b"\x011").checked_eat_lenenc_str(), Some(&b"1"[..]));
        assert_eq!(ParseBuf(b"\x05ab").checked_eat_lenenc_str(), None);
    }

    #[test]
    fn native_password_vector() {
        // PASSWORD('password') = *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19 (SHA1(SHA1(pw))).
        let stage2 = digest::digest(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, b"password").as_ref(),
        );
        assert_eq!(
            hex(stage2.as_ref()),
            "2470c0c06dee42fd1618bb99005adca2ec9d1e19"
        );
        let scramble: Vec<u8> = (1..=20).collect();
        let r = native_password_scramble(b"password", &scramble);
        assert_eq!(hex(&r), "c17d6009a5cb47e59f7483fcf05553bbbf7dd0d6");
        // The server's check: SHA1(response XOR SHA1(scramble + stage2)) == stage2.
        let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        ctx.update(&scramble);
        ctx.update(stage2.as_ref());
        let stage1 = xor(&r, ctx.finish().as_ref());
        assert_eq!(
            digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &stage1).as_ref(),
            stage2.as_ref()
        );
        assert!(native_password_scramble(b"", &scramble).is_empty());
        // A 21-byte scramble with its NUL is cut to 20.
        let mut with_nul = scramble.clone();
        with_nul.push(0);
        assert_eq!(native_password_scramble(b"password", &with_nul), r);
    }

    #[test]
    fn caching_sha2_vector() {
        let scramble: Vec<u8> = (1..=20).collect();
        assert_eq!(
            hex(&caching_sha2_scramble(b"password", &scramble)),
            "f7ab1c623a6e98dceab35e926290e5746a3141116115f4dd8ccca994393eccdd"
        );
        assert!(caching_sha2_scramble(b"", &scramble).is_empty());
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn ssl_request_and_login_announce_the_same_capabilities() {
        let g = Greeting {
            protocol: 10,
            server_version: "x".into(),
            connection_id: 1,
            capabilities: 0x81FF_FFFE,
            charset: 8,
            scramble: (1..=20).collect(),
            auth_plugin: NATIVE_PASSWORD.into(),
            version: (0, 0, 0),
        };
        let caps = client_caps(&g, true);
        assert_eq!(
            caps,
            CLIENT_LONG_PASSWORD
                | CLIENT_CONNECT_WITH_DB
                | CLIENT_PROTOCOL_41
                | CLIENT_SSL
                | CLIENT_TRANSACTIONS
                | CLIENT_SECURE_CONNECTION
                | CLIENT_PLUGIN_AUTH
        );
        let r = handshake_response(&g, caps, "app", &[7; 20], None, NATIVE_PASSWORD);
        assert_eq!(&r[..32], &fixed_header(&g, caps)[..]);
        assert_eq!(&r[32..36], b"app\0");
        assert_eq!(r[36], 20);
        assert_eq!(&r[57..], b"\0mysql_native_password\0");
        assert_eq!(client_caps(&g, false), caps & !CLIENT_SSL);
    }

    // ---- scripted servers ----

    enum Step {
        Send(Vec<u8>),
        Recv,
        /// Stay connected and silent.
        Hang,
    }

    /// The packets a scripted server received: (sequence id, payload).
    type Received = JoinHandle<Vec<(u8, Vec<u8>)>>;

    /// A fake server on one end of a pipe playing `script`; returns what it received.
    fn scripted(script: Vec<Step>) -> (DuplexStream, Received) {
        let (client, mut server) = duplex(64 * 1024);
        let h = tokio::spawn(async move {
            let mut got = Vec::new();
            for step in script {
                match step {
                    Step::Send(b) => {
                        if server.write_all(&b).await.is_err() {
                            break;
                        }
                    }
                    Step::Recv => match read_packet_now(&mut server).await {
                        Ok(p) => got.push(p),
                        Err(_) => break,
                    },
                    Step::Hang => tokio::time::sleep(std::time::Duration::from_secs(10)).await,
                }
            }
            got
        });
        (client, h)
    }

    fn soon() -> Instant {
        Instant::now() + std::time::Duration::from_secs(5)
    }

    fn login(pw: Option<&str>) -> Login {
        Login {
            user: "app".into(),
            password: pw.map(Secret::new),
            database: Some("app".into()),
        }
    }

    fn parsed(body: &[u8]) -> Greeting {
        parse_greeting(body).unwrap()
    }

    fn result_set(first_seq: u8, value: &[u8]) -> Vec<Step> {
        let mut row = vec![value.len() as u8];
        row.extend_from_slice(value);
        vec![
            Step::Send(packet(first_seq, b"\x01")),
            Step::Send(packet(
                first_seq + 1,
                b"\x03def\0\0\0\x011\0\x0c\x3f\0\x01\0\0\0\x08\x81\0\0\0\0",
            )),
            Step::Send(packet(first_seq + 2, b"\xfe\0\0\x02\0")),
            Step::Send(packet(first_seq + 3, &row)),
            Step::Send(packet(first_seq + 4, b"\xfe\0\0\x02\0")),
        ]
    }

    #[tokio::test(flavor = "current_thread")]
    async fn caching_sha2_fast_auth_then_select() {
        let g = parsed(&mysql8_greeting(true));
        let mut script = vec![
            Step::Recv,
            Step::Send(packet(3, b"\x01\x03")),
            Step::Send(packet(4, b"\x00\x00\x00\x02\x00\x00\x00")),
            Step::Recv,
        ];
        script.extend(result_set(1, b"1"));
        script.push(Step::Recv);
        let (mut c, h) = scripted(script);
        let ev = session(&mut c, &g, &login(Some("password")), true, soon()).await;
        assert_eq!(ev.failure, None);
        assert_eq!(ev.auth, Some(Ok(())));
        assert_eq!(ev.query, Some(Ok("1".into())));
        assert_eq!(ev.reached, "SELECT 1 answered");
        assert_eq!(ev.auth_method.as_deref(), Some(CACHING_SHA2_PASSWORD));
        drop(c);
        let got = h.await.unwrap();
        let (seq, resp) = &got[0];
        assert_eq!(*seq, 2, "after an SSL request the login is packet 2");
        let scramble: Vec<u8> = (1..=20).collect();
        let want = caching_sha2_scramble(b"password", &scramble);
        assert_eq!(resp[36], 32);
        assert_eq!(&resp[37..69], &want[..]);
        assert!(resp.ends_with(b"app\0caching_sha2_password\0"));
        assert_eq!(got[1], (0, b"\x03SELECT 1".to_vec()));
        assert_eq!(got[2], (0, vec![0x01]), "COM_QUIT");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn full_auth_sends_the_password_only_inside_tls() {
        let g = parsed(&mysql8_greeting(true));
        // Without TLS: stop, and the password never appears on the wire.
        let (mut c, h) = scripted(vec![
            Step::Recv,
            Step::Send(packet(2, b"\x01\x04")),
            Step::Recv,
        ]);
        let ev = session(&mut c, &g, &login(Some("hunter2-secret")), false, soon()).await;
        assert_eq!(ev.auth, None);
        assert!(
            ev.reached.contains("needs TLS or the server's RSA key"),
            "{}",
            ev.reached
        );
        drop(c);
        let got = h.await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1, "without an SSL request the login is packet 1");
        assert!(!contains(&got[0].1, b"hunter2-secret"));

        // With TLS: cleartext password + NUL, then OK.
        let mut script = vec![
            Step::Recv,
            Step::Send(packet(3, b"\x01\x04")),
            Step::Recv,
            Step::Send(packet(5, b"\x00\x00\x00\x02\x00\x00\x00")),
            Step::Recv,
        ];
        script.extend(result_set(1, b"1"));
        let (mut c, h) = scripted(script);
        let ev = session(&mut c, &g, &login(Some("hunter2-secret")), true, soon()).await;
        assert_eq!(ev.auth, Some(Ok(())));
        assert_eq!(ev.query, Some(Ok("1".into())));
        drop(c);
        let got = h.await.unwrap();
        assert_eq!(got[1], (4, b"hunter2-secret\0".to_vec()));
        assert!(!format!("{ev:?}").contains("hunter2"));
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn auth_switch_and_errors() {
        let g = parsed(&mysql8_greeting(true));
        let mut sw = b"\xfemysql_native_password\0".to_vec();
        sw.extend(21..=40u8);
        sw.push(0);
        let (mut c, h) = scripted(vec![
            Step::Recv,
            Step::Send(packet(3, &sw)),
            Step::Recv,
            Step::Send(packet(
                5,
                b"\xff\x15\x04#28000Access denied for user 'app'@'10.0.0.1' (using password: YES)",
            )),
        ]);
        let ev = session(&mut c, &g, &login(Some("pw")), true, soon()).await;
        assert_eq!(ev.auth_method.as_deref(), Some(NATIVE_PASSWORD));
        let e = ev.auth.clone().unwrap().unwrap_err();
        assert_eq!(e.code, "1045");
        assert_eq!(ev.refused, None);
        assert_eq!(ev.reached, "login answered");
        drop(c);
        let got = h.await.unwrap();
        let new_scramble: Vec<u8> = (21..=40).collect();
        assert_eq!(got[1], (4, native_password_scramble(b"pw", &new_scramble)));

        // An error that is not about the password.
        let (mut c, _h) = scripted(vec![
            Step::Recv,
            Step::Send(packet(3, b"\xff\x19\x04#42000Unknown database 'nope'")),
        ]);
        let ev = session(&mut c, &g, &login(Some("pw")), true, soon()).await;
        assert_eq!(ev.auth, None);
        assert_eq!(ev.refused.unwrap().code, "1049");

        // A plugin tlsprobe does not speak.
        let (mut c, _h) = scripted(vec![
            Step::Recv,
            Step::Send(packet(3, b"\xfeclient_ed25519\0abc\0")),
        ]);
        let ev = session(&mut c, &g, &login(Some("pw")), true, soon()).await;
        assert_eq!(ev.auth_method.as_deref(), Some("client_ed25519"));
        assert!(ev.reached.contains("does not speak"), "{}", ev.reached);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn silence_is_a_timeout_and_close_is_closed() {
        let g = parsed(MARIADB_GREETING);
        let (mut c, _h) = scripted(vec![Step::Recv, Step::Hang]);
        let ev = session(
            &mut c,
            &g,
            &login(Some("pw")),
            true,
            Instant::now() + std::time::Duration::from_millis(100),
        )
        .await;
        assert_eq!(ev.failure, Some(IoFailure::Timeout));
        let (mut c, h) = scripted(vec![Step::Recv]);
        let ev = session(&mut c, &g, &login(Some("pw")), true, soon()).await;
        let _ = h.await;
        assert_eq!(ev.failure, Some(IoFailure::Closed));
    }

    #[test]
    fn plaintext_rule() {
        let ssl = parsed(MARIADB_GREETING);
        let denied = LoginAnswer::Err(parse_err(MARIADB_1045).unwrap());
        assert!(matches!(
            classify_plain(&ssl, &denied),
            PlainLogin::Inconclusive(m) if m.contains("ERROR 1045: #28000 Access denied")
        ));
        let mysql = LoginAnswer::Err(SqlError {
            code: "3159".into(),
            severity: "ERROR".into(),
            message: "#HY000 Connections using insecure transport are prohibited while \
                      --require_secure_transport=ON."
                .into(),
        });
        assert!(matches!(
            classify_plain(&ssl, &mysql),
            PlainLogin::Refused(_)
        ));
        let azure = LoginAnswer::Err(SqlError {
            code: "9002".into(),
            severity: "ERROR".into(),
            message: "#28000 SSL connection is required. Please specify SSL options and retry."
                .into(),
        });
        assert!(matches!(
            classify_plain(&ssl, &azure),
            PlainLogin::Refused(_)
        ));
        assert!(matches!(
            classify_plain(&ssl, &LoginAnswer::Ok),
            PlainLogin::Served(_)
        ));
        let no_ssl = parsed(&mysql8_greeting(false));
        assert!(matches!(
            classify_plain(&no_ssl, &denied),
            PlainLogin::Served(m) if m.contains("lacks CLIENT_SSL")
        ));
        assert!(matches!(
            PlainSqlAnswer::from(classify_plain(&ssl, &denied)),
            PlainSqlAnswer::Inconclusive(_)
        ));
    }
}
