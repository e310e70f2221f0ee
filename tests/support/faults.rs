//! Misbehaving peers on 127.0.0.1:0, for the fault matrix in `tests/faults.rs`.
//!
//! A [`FaultyPeer`] accepts every connection on its own thread and misbehaves in one way
//! ([`Fault`]): it closes, resets, stays silent, answers in the wrong protocol, stalls the
//! handshake, or completes TLS and then breaks the Redis round trip. TLS is served with
//! blocking rustls (ring provider) from the testdata chain or from a generated
//! [`ServerCert`] (a 50-certificate chain, a leaf with a huge SAN list).
//!
//! tlsprobe opens more than one connection per run (a plaintext sniff on `rediss://`, the
//! `plaintext-refused` probe), so a TLS peer tells the two apart by the first byte: 0x16
//! (a TLS handshake record) gets the fault, anything else gets [`Plaintext`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{gen_ca, long_lived, testdata, GenCa};

/// How long a peer holds a connection it does not answer; far beyond any test's timeout.
const HOLD: Duration = Duration::from_secs(30);

/// The malformed RESP frame of [`Fault::MalformedReply`].
pub const MALFORMED_RESP: &[u8] = b"*zz\r\n";
/// The bulk string header of the 100 MB reply.
pub const HUGE_BULK_HEADER: &[u8] = b"$104857600\r\n";
/// Bytes streamed after [`HUGE_BULK_HEADER`].
pub const HUGE_BULK_LEN: usize = 104_857_600;
/// The banner of [`Fault::Banner`].
pub const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2\r\n";

/// One way of misbehaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Read what the client sent, then close (FIN) without a byte of answer.
    Close,
    /// Wait for the client's first bytes, then reset (SO_LINGER 0, then drop).
    Reset,
    /// Accept and never speak (hold the connection open).
    Silent,
    /// Send [`SSH_BANNER`] at once, then hold the connection.
    Banner,
    /// Answer the ClientHello with 4 KiB of pseudo-random bytes (not a TLS record), then hold.
    RandomBytes,
    /// Run a real rustls server session but forward only its first record (the ServerHello),
    /// then go silent.
    StallAfterServerHello,
    /// Complete TLS, read the command, then close before replying.
    CloseBeforeReply,
    /// Complete TLS, answer the command with [`MALFORMED_RESP`], then hold.
    MalformedReply,
    /// Complete TLS, answer with [`HUGE_BULK_HEADER`] and stream data as fast as it is read.
    HugeBulk,
    /// Complete TLS, answer `+PONG\r\n` one byte per second (slowloris).
    Trickle,
    /// Complete TLS and answer every command with `+PONG` (a healthy Redis for PING).
    Healthy,
}

impl Fault {
    /// Whether the fault is played inside a TLS session (or needs one to stall).
    fn uses_tls(self) -> bool {
        !matches!(
            self,
            Fault::Close | Fault::Reset | Fault::Silent | Fault::Banner | Fault::RandomBytes
        )
    }
}

/// What a TLS peer does with a connection that does not start with a TLS record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plaintext {
    /// Close it (what a TLS-only port does).
    Close,
    /// Answer every command with `+PONG` (a port that serves plaintext too).
    Pong,
}

/// A certificate chain (leaf first) and the leaf's key, for a TLS peer.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// PEM of the chain's root CA when generated here (None for the testdata chain).
    pub root_pem: Option<String>,
    /// PEM of every generated CA, root first.
    pub ca_pems: Vec<String>,
}

impl ServerCert {
    /// testdata `server-chain.pem` / `server.key` (localhost, 127.0.0.1, ::1; serving-root).
    pub fn testdata() -> ServerCert {
        let chain = CertificateDer::pem_file_iter(testdata("server-chain.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(testdata("server.key")).unwrap();
        ServerCert {
            chain,
            key,
            root_pem: None,
            ca_pems: vec![],
        }
    }

    /// A leaf for `sans` (DNS names and IP literals) issued at the end of a CA chain of
    /// `cas` certificates (a self-signed root, then `cas - 1` intermediates). The served
    /// chain is leaf, intermediates (nearest first), root: `cas + 1` certificates.
    pub fn generated(cas: usize, sans: Vec<String>) -> ServerCert {
        assert!(cas >= 1);
        let mut issuers: Vec<GenCa> = Vec::with_capacity(cas);
        for i in 0..cas {
            let ca = gen_ca(&format!("tlsprobe Fault CA {i}"), issuers.last());
            issuers.push(ca);
        }
        let mut p = rcgen::CertificateParams::new(sans).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "fault leaf");
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        long_lived(&mut p);
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = p.signed_by(&key, &issuers.last().unwrap().issuer).unwrap();
        let mut chain = vec![leaf.der().clone()];
        chain.extend(issuers.iter().rev().map(|ca| ca.issuer.der().clone()));
        ServerCert {
            chain,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            root_pem: Some(issuers[0].pem.clone()),
            ca_pems: issuers.iter().map(|c| c.pem.clone()).collect(),
        }
    }

    /// The rustls server configuration serving this chain. The key is not checked against
    /// the leaf (that parse fails for a leaf over 64 KiB, which webpki cannot read but a
    /// misbehaving server can still send).
    fn config(&self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = provider
            .key_provider
            .load_private_key(self.key.clone_key())
            .unwrap();
        let certified = rustls::sign::CertifiedKey::new(self.chain.clone(), key);
        let cfg = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        Arc::new(cfg)
    }
}

/// `n` DNS names of about 21 bytes each (`h00000.san.example.net`), for huge SAN lists.
pub fn many_dns_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("h{i:05}.san.example.net")).collect()
}

/// A misbehaving peer on 127.0.0.1; stops accepting on drop.
pub struct FaultyPeer {
    pub port: u16,
    pub fault: Fault,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultyPeer {
    /// A peer playing `fault`; TLS faults serve the testdata chain, and plaintext
    /// connections to them are closed.
    pub fn start(fault: Fault) -> FaultyPeer {
        Self::start_with(fault, ServerCert::testdata(), Plaintext::Close)
    }

    /// A peer playing `fault` with `cert`, treating plaintext connections as `plaintext`.
    pub fn start_with(fault: Fault, cert: ServerCert, plaintext: Plaintext) -> FaultyPeer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let cfg = fault.uses_tls().then(|| cert.config());
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(s) = conn else { continue };
                let cfg = cfg.clone();
                std::thread::spawn(move || {
                    let _ = serve(s, fault, cfg, plaintext);
                });
            }
        });
        FaultyPeer {
            port,
            fault,
            stop,
            thread: Some(thread),
        }
    }

    /// `rediss://127.0.0.1:PORT` (the testdata leaf carries IP:127.0.0.1).
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for FaultyPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Plays `fault` on one connection.
fn serve(
    mut s: TcpStream,
    fault: Fault,
    cfg: Option<Arc<ServerConfig>>,
    plaintext: Plaintext,
) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    match fault {
        Fault::Close => {
            wait_for_bytes(&s);
            drain(&mut s);
            s.shutdown(Shutdown::Both)
        }
        Fault::Reset => {
            wait_for_bytes(&s);
            reset(s);
            Ok(())
        }
        Fault::Silent => {
            hold(s);
            Ok(())
        }
        Fault::Banner => {
            s.write_all(SSH_BANNER)?;
            hold(s);
            Ok(())
        }
        Fault::RandomBytes => {
            wait_for_bytes(&s);
            s.write_all(&noise(4096))?;
            hold(s);
            Ok(())
        }
        _ => {
            let cfg = cfg.expect("TLS fault without a configuration");
            if !starts_with_tls(&s) {
                return match plaintext {
                    Plaintext::Close => {
                        drain(&mut s);
                        Ok(())
                    }
                    Plaintext::Pong => pong_forever(&mut s),
                };
            }
            if fault == Fault::StallAfterServerHello {
                return stall_after_server_hello(s, cfg);
            }
            let mut tls = accept_tls(s, cfg)?;
            tls_fault(&mut tls, fault)
        }
    }
}

/// The fault once the TLS session is up.
fn tls_fault(
    tls: &mut StreamOwned<ServerConnection, TcpStream>,
    fault: Fault,
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    match fault {
        Fault::Healthy => loop {
            if tls.read(&mut buf)? == 0 {
                return Ok(());
            }
            tls.write_all(b"+PONG\r\n")?;
            tls.flush()?;
        },
        Fault::CloseBeforeReply => {
            let _ = tls.read(&mut buf)?;
            // No close_notify: the TCP connection just ends.
            tls.sock.shutdown(Shutdown::Both)
        }
        Fault::MalformedReply => {
            let _ = tls.read(&mut buf)?;
            tls.write_all(MALFORMED_RESP)?;
            tls.flush()?;
            hold_tls(tls);
            Ok(())
        }
        Fault::HugeBulk => {
            let _ = tls.read(&mut buf)?;
            tls.sock.set_write_timeout(Some(HOLD))?;
            tls.write_all(HUGE_BULK_HEADER)?;
            let chunk = vec![b'x'; 16 * 1024];
            let mut sent = 0;
            while sent < HUGE_BULK_LEN {
                let n = chunk.len().min(HUGE_BULK_LEN - sent);
                tls.write_all(&chunk[..n])?;
                sent += n;
            }
            tls.write_all(b"\r\n")?;
            tls.flush()
        }
        Fault::Trickle => {
            let _ = tls.read(&mut buf)?;
            for b in b"+PONG\r\n" {
                tls.write_all(&[*b])?;
                tls.flush()?;
                std::thread::sleep(Duration::from_secs(1));
            }
            hold_tls(tls);
            Ok(())
        }
        other => unreachable!("{other:?} is not played inside TLS"),
    }
}

/// Completes a server handshake.
fn accept_tls(
    s: TcpStream,
    cfg: Arc<ServerConfig>,
) -> std::io::Result<StreamOwned<ServerConnection, TcpStream>> {
    s.set_read_timeout(Some(HOLD))?;
    let conn = ServerConnection::new(cfg).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(conn, s);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// Reads the ClientHello, lets a real rustls session answer it, forwards only the first
/// record of its flight (the ServerHello), then goes silent.
fn stall_after_server_hello(mut s: TcpStream, cfg: Arc<ServerConfig>) -> std::io::Result<()> {
    s.set_read_timeout(Some(HOLD))?;
    let mut conn = ServerConnection::new(cfg).map_err(std::io::Error::other)?;
    while !conn.wants_write() {
        if conn.read_tls(&mut s)? == 0 {
            return Ok(());
        }
        conn.process_new_packets().map_err(std::io::Error::other)?;
    }
    let mut flight = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut flight)?;
    }
    assert_eq!(flight[0], 0x16, "the flight starts with a handshake record");
    let first = 5 + u16::from_be_bytes([flight[3], flight[4]]) as usize;
    s.write_all(&flight[..first])?;
    hold(s);
    Ok(())
}

/// Whether the first byte the client sends is a TLS handshake record (0x16).
fn starts_with_tls(s: &TcpStream) -> bool {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut b = [0u8; 1];
    matches!(s.peek(&mut b), Ok(1) if b[0] == 0x16)
}

/// Waits (briefly) until the client has sent something.
fn wait_for_bytes(s: &TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut b = [0u8; 1];
    let _ = s.peek(&mut b);
}

/// Reads what is there without waiting for more.
fn drain(s: &mut TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 4096];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
}

/// Closes with RST: SO_LINGER 0, then drop.
fn reset(s: TcpStream) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let _guard = rt.enter();
    s.set_nonblocking(true).unwrap();
    let t = tokio::net::TcpStream::from_std(s).unwrap();
    t.set_zero_linger().unwrap();
    drop(t);
}

/// Keeps the connection open, reading and discarding, until the client goes or [`HOLD`].
fn hold(mut s: TcpStream) {
    let until = Instant::now() + HOLD;
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        match s.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// [`hold`] for a TLS session.
fn hold_tls(tls: &mut StreamOwned<ServerConnection, TcpStream>) {
    let until = Instant::now() + HOLD;
    let _ = tls.sock.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        match tls.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Answers every read with `+PONG`, in plaintext.
fn pong_forever(s: &mut TcpStream) -> std::io::Result<()> {
    s.set_read_timeout(Some(HOLD))?;
    let mut buf = [0u8; 4096];
    loop {
        if s.read(&mut buf)? == 0 {
            return Ok(());
        }
        s.write_all(b"+PONG\r\n")?;
    }
}

/// Deterministic noise (xorshift) whose first byte is no TLS content type and no RESP type.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut v: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    v[0] = 0xd7;
    v
}
