//! MySQL / MariaDB: the greeting, the SSL request, a login and `SELECT 1`, spoken by hand
//! (protocol 10 with 4.1 packets). Every read is bounded in size ([`MAX_PACKET_BYTES`]) and
//! by the step's deadline; bad bytes become [`IoFailure::Malformed`], never a panic.
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

use ring::digest;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout_at, Instant};

use crate::connect::classify_io;
use crate::evidence::{IoFailure, Login, PlainSqlAnswer, SqlError, SqlEvidence};
use crate::probe::redis::preview;
use crate::target::Secret;

/// The largest packet payload tlsprobe reads: a payload of 2^24-1 bytes or more would be
/// split over several packets, which no answer in this conversation needs.
pub const MAX_PACKET_BYTES: usize = 0xFF_FFFF - 1;

/// A greeting larger than this is not a greeting.
const MAX_GREETING_BYTES: usize = 64 * 1024;

/// The user named when no password is given: it should not exist, so the server's
/// answer shows how far a login gets without one.
pub const DUMMY_USER: &str = "tlsprobe_probe";

/// `mysql_native_password`.
pub const NATIVE_PASSWORD: &str = "mysql_native_password";
/// `caching_sha2_password` (MySQL 8's default).
pub const CACHING_SHA2_PASSWORD: &str = "caching_sha2_password";

const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
const CLIENT_CONNECT_WITH_DB: u32 = 0x0000_0008;
const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
/// `CLIENT_SSL`: the server can switch to TLS after the greeting.
pub const CLIENT_SSL: u32 = 0x0000_0800;
const CLIENT_TRANSACTIONS: u32 = 0x0000_2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;

/// utf8_general_ci: known to every server since 4.1.
const CHARSET_UTF8: u8 = 33;

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
    /// Server capability flags (lower and upper 16 bits joined).
    pub capabilities: u32,
    /// Default collation id.
    pub charset: u8,
    /// The authentication nonce (20 bytes from current servers), trailing NUL removed.
    pub scramble: Vec<u8>,
    /// The default authentication plugin; `mysql_native_password` when not named.
    pub auth_plugin: String,
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
    read_full(s, &mut head, "packet header").await?;
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

/// Capabilities, maximum packet size, collation and 23 reserved bytes.
fn fixed_header(caps: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 * 1024 * 1024).to_le_bytes());
    p.push(CHARSET_UTF8);
    p.extend_from_slice(&[0u8; 23]);
    p
}

/// Sends the SSLRequest packet (sequence id 1); the caller then starts TLS on the stream.
/// Refuses (without sending) when the greeting does not offer TLS.
pub async fn request_ssl<S: AsyncWrite + Unpin>(s: &mut S, g: &Greeting) -> Result<(), IoFailure> {
    if !g.supports_ssl() {
        return Err(IoFailure::Other(
            "the server does not offer TLS (its greeting lacks CLIENT_SSL)".into(),
        ));
    }
    let body = fixed_header(client_caps(g, true));
    write_packet_now(s, 1, &body).await
}

/// HandshakeResponse41.
fn handshake_response(
    caps: u32,
    user: &str,
    auth: &[u8],
    database: Option<&str>,
    plugin: &str,
) -> Vec<u8> {
    let mut p = fixed_header(caps);
    p.extend_from_slice(user.as_bytes());
    p.push(0);
    // Auth responses here are 0, 20 or 32 bytes, or a cleartext password (which is only
    // ever sent in a later packet); a length byte is enough.
    let auth = &auth[..auth.len().min(255)];
    p.push(auth.len() as u8);
    p.extend_from_slice(auth);
    if caps & CLIENT_CONNECT_WITH_DB != 0 {
        p.extend_from_slice(database.unwrap_or("").as_bytes());
        p.push(0);
    }
    if caps & CLIENT_PLUGIN_AUTH != 0 {
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
    }
    p
}

/// `mysql_native_password`: `SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))`; empty for an
/// empty password.
pub fn native_password_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let alg = &digest::SHA1_FOR_LEGACY_USE_ONLY;
    let stage1 = digest::digest(alg, password);
    let stage2 = digest::digest(alg, stage1.as_ref());
    let mut ctx = digest::Context::new(alg);
    ctx.update(&scramble[..scramble.len().min(20)]);
    ctx.update(stage2.as_ref());
    let mask = ctx.finish();
    xor(stage1.as_ref(), mask.as_ref())
}

/// `caching_sha2_password` fast auth:
/// `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble)`; empty for an empty password.
pub fn caching_sha2_scramble(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let alg = &digest::SHA256;
    let stage1 = digest::digest(alg, password);
    let stage2 = digest::digest(alg, stage1.as_ref());
    let mut ctx = digest::Context::new(alg);
    ctx.update(stage2.as_ref());
    ctx.update(&scramble[..scramble.len().min(20)]);
    let mask = ctx.finish();
    xor(stage1.as_ref(), mask.as_ref())
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// The answer to the server's request for `plugin`, or why tlsprobe will not give one.
fn auth_response(
    plugin: &str,
    scramble: &[u8],
    password: Option<&Secret>,
    tls: bool,
) -> Result<Vec<u8>, String> {
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
                Err(format!(
                    "the server asked for {plugin}, which needs the password in cleartext \
                     (or an RSA key): tlsprobe sends it only inside TLS, so it was not sent"
                ))
            }
        }
        other => Err(format!(
            "the server asked for the {other} authentication plugin, which tlsprobe does not speak"
        )),
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
    let body = handshake_response(caps, user, &first, database, &plugin);
    write_packet(s, if tls { 2 } else { 1 }, &body, deadline).await?;
    for _ in 0..8 {
        let (seq, p) = read_packet(s, deadline).await?;
        let next = seq.wrapping_add(1);
        match p.first() {
            Some(0x00) => return Ok(LoginAnswer::Ok),
            Some(0xFF) => return Ok(LoginAnswer::Err(parse_err(&p)?)),
            Some(0xFE) if p.len() == 1 => {
                return Ok(LoginAnswer::Stopped(
                    "the server asked for the pre-4.1 password hash (old_password), \
                     which tlsprobe does not speak"
                        .into(),
                ))
            }
            Some(0xFE) => {
                let mut c = Cursor::new(&p[1..]);
                let name = c
                    .nul_str()
                    .ok_or_else(|| malformed("AuthSwitchRequest", &p))?;
                let mut data = c.rest().to_vec();
                if data.last() == Some(&0) {
                    data.pop();
                }
                *method = Some(name.clone());
                plugin = name;
                match auth_response(&plugin, &data, password, tls) {
                    Ok(resp) => write_packet(s, next, &resp, deadline).await?,
                    Err(why) => return Ok(LoginAnswer::Stopped(why)),
                }
            }
            Some(0x01) if plugin == CACHING_SHA2_PASSWORD => match &p[1..] {
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
    let columns = Cursor::new(&p)
        .lenenc_int()
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
                let v = Cursor::new(&p)
                    .lenenc_bytes()
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

fn ms_since(t: StdInstant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
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

/// Fills `buf`; a clean close before the first byte is [`IoFailure::Closed`].
async fn read_full<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut [u8],
    what: &str,
) -> Result<(), IoFailure> {
    let mut got = 0;
    while got < buf.len() {
        let n = s.read(&mut buf[got..]).await.map_err(|e| classify_io(&e))?;
        if n == 0 {
            return Err(if got == 0 {
                IoFailure::Closed
            } else {
                IoFailure::Malformed(format!(
                    "connection closed after {got} of {} bytes of a {what}",
                    buf.len()
                ))
            });
        }
        got += n;
    }
    Ok(())
}

/// Reads `len` bytes, growing the buffer as they arrive (a lying header costs nothing).
async fn read_body<S: AsyncRead + Unpin>(s: &mut S, len: usize) -> Result<Vec<u8>, IoFailure> {
    let mut body = Vec::with_capacity(len.min(4096));
    let mut chunk = [0u8; 8192];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        let n = s
            .read(&mut chunk[..want])
            .await
            .map_err(|e| classify_io(&e))?;
        if n == 0 {
            return Err(IoFailure::Malformed(format!(
                "connection closed after {} of {len} bytes of a packet",
                body.len()
            )));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(body)
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
    read_full(s, &mut head, "packet header").await?;
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

/// Parses a protocol-10 greeting payload.
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
    let server_version = c.nul_str().ok_or_else(|| bad("without a version"))?;
    let connection_id = c.u32().ok_or_else(|| bad("truncated"))?;
    let mut scramble = c.take(8).ok_or_else(|| bad("truncated"))?.to_vec();
    c.u8().ok_or_else(|| bad("truncated"))?;
    let caps_lo = c.u16().ok_or_else(|| bad("truncated"))?;
    let mut g = Greeting {
        protocol,
        server_version,
        connection_id,
        capabilities: u32::from(caps_lo),
        charset: 0,
        scramble: Vec::new(),
        auth_plugin: NATIVE_PASSWORD.into(),
    };
    if c.is_empty() {
        // A pre-4.1 greeting ends after the lower capability flags.
        g.scramble = scramble;
        return check_41(g);
    }
    g.charset = c.u8().ok_or_else(|| bad("truncated"))?;
    c.u16().ok_or_else(|| bad("truncated"))?; // status flags
    let caps_hi = c.u16().ok_or_else(|| bad("truncated"))?;
    g.capabilities |= u32::from(caps_hi) << 16;
    let data_len = usize::from(c.u8().ok_or_else(|| bad("truncated"))?);
    c.take(10).ok_or_else(|| bad("truncated"))?;
    if g.capabilities & CLIENT_SECURE_CONNECTION != 0 {
        let n = data_len.saturating_sub(8).max(13).min(c.remaining());
        let part2 = c.take(n).unwrap_or_default();
        scramble.extend_from_slice(part2);
        if scramble.last() == Some(&0) {
            scramble.pop();
        }
    }
    g.scramble = scramble;
    if g.capabilities & CLIENT_PLUGIN_AUTH != 0 && !c.is_empty() {
        // Some servers omit the final NUL.
        let rest = c.rest();
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let name = String::from_utf8_lossy(&rest[..end]).into_owned();
        if !name.is_empty() {
            g.auth_plugin = name;
        }
    }
    check_41(g)
}

fn check_41(g: Greeting) -> Result<Greeting, IoFailure> {
    if g.capabilities & CLIENT_PROTOCOL_41 == 0 {
        return Err(IoFailure::Malformed(format!(
            "the server ({}) does not speak the 4.1 protocol",
            g.server_version
        )));
    }
    Ok(g)
}

/// Parses an ERR payload: `SqlError { code: errno, severity: "ERROR", message:
/// "#SQLSTATE message" }` (or just the message when no SQLSTATE is sent).
fn parse_err(p: &[u8]) -> Result<SqlError, IoFailure> {
    let mut c = Cursor::new(p);
    if c.u8() != Some(0xFF) {
        return Err(malformed("error packet", p));
    }
    let code = c.u16().ok_or_else(|| malformed("error packet", p))?;
    let mut state = None;
    if c.peek() == Some(b'#') && c.remaining() >= 6 {
        c.u8();
        state = c.take(5).map(|s| String::from_utf8_lossy(s).into_owned());
    }
    let text: String = String::from_utf8_lossy(c.rest())
        .chars()
        .take(1000)
        .collect();
    Ok(SqlError {
        code: code.to_string(),
        severity: "ERROR".into(),
        message: match state {
            Some(s) => format!("#{s} {text}"),
            None => text,
        },
    })
}

/// A bounds-checked reader over a payload: every accessor returns `None` past the end.
struct Cursor<'a> {
    b: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cursor { b }
    }
    fn remaining(&self) -> usize {
        self.b.len()
    }
    fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
    fn peek(&self) -> Option<u8> {
        self.b.first().copied()
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.b.len() {
            return None;
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Some(head)
    }
    fn rest(&mut self) -> &'a [u8] {
        let r = self.b;
        self.b = &[];
        r
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A NUL-terminated string (the NUL consumed).
    fn nul_str(&mut self) -> Option<String> {
        let end = self.b.iter().position(|&b| b == 0)?;
        let s = String::from_utf8_lossy(&self.b[..end]).into_owned();
        self.b = &self.b[end + 1..];
        Some(s)
    }
    /// A length-encoded integer (`0xFB` NULL and `0xFF` are not integers).
    fn lenenc_int(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let width = match first {
            0..=0xFA => return Some(u64::from(first)),
            0xFC => 2,
            0xFD => 3,
            0xFE => 8,
            _ => return None,
        };
        let b = self.take(width)?;
        Some(
            b.iter()
                .rev()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
        )
    }
    fn lenenc_bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.lenenc_int()?).ok()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, DuplexStream};
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
            let _ = Cursor::new(&body).lenenc_bytes();
        }
        assert!(matches!(
            greeting_of(&packet(0, b"\x09old\0")).await,
            Err(IoFailure::Malformed(m)) if m.contains("protocol version 9")
        ));
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
        assert_eq!(Cursor::new(b"\xfc\x01\x02").lenenc_int(), Some(0x0201));
        assert_eq!(
            Cursor::new(b"\xfd\x01\x02\x03").lenenc_int(),
            Some(0x030201)
        );
        assert_eq!(Cursor::new(b"\xfe\x01").lenenc_int(), None);
        assert_eq!(Cursor::new(b"\x011").lenenc_bytes(), Some(&b"1"[..]));
        assert_eq!(Cursor::new(b"\x05ab").lenenc_bytes(), None);
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
        let r = handshake_response(caps, "app", &[7; 20], None, NATIVE_PASSWORD);
        assert_eq!(&r[..32], &fixed_header(caps)[..]);
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
