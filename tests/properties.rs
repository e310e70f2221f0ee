//! Property tests for the parsers: arbitrary input never panics, and what tlsprobe reads
//! back equals what was written (PEM bundles, target URLs, RESP replies).
//!
//! Case counts are modest so the file runs in a few seconds; the coverage-guided
//! counterparts of the no-panic properties are the targets in `fuzz/` (`scripts/fuzz.sh`).

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use proptest::prelude::*;
use tlsprobe::evidence::{IoFailure, Reply};
use tlsprobe::mtls::subject;
use tlsprobe::pki::{describe, pem};
use tlsprobe::probe::redis;
use tlsprobe::target::{self, Host, Scheme};
use tokio::io::{AsyncRead, ReadBuf};

/// Certificate files of testdata/ that hold exactly one certificate.
const SINGLE_CERT_FILES: &[&str] = &[
    "server.pem",
    "intermediate.pem",
    "serving-root.pem",
    "extra-root-1.pem",
    "extra-root-2.pem",
    "client.pem",
    "rsa1024.pem",
    "sha1.pem",
];

/// Each single-certificate file's text and the DER tlsprobe reads from it.
fn testdata_certs() -> &'static [(String, Vec<u8>)] {
    static CERTS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CERTS.get_or_init(|| {
        SINGLE_CERT_FILES
            .iter()
            .map(|name| {
                let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
                let text = std::fs::read_to_string(&path).unwrap();
                let file = pem::parse_bytes(name, text.as_bytes()).unwrap();
                assert!(file.errors.is_empty(), "{name}: {:?}", file.errors);
                assert_eq!(file.certs.len(), 1, "{name} holds one certificate");
                (text, file.certs[0].der.to_vec())
            })
            .collect()
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

/// A reader that hands out its bytes at most `step` at a time, as a slow peer would.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.step.min(self.data.len()).min(buf.remaining());
        let (head, rest) = self.data.split_at(n);
        buf.put_slice(head);
        self.data = rest;
        Poll::Ready(Ok(()))
    }
}

fn read_reply(bytes: &[u8]) -> Result<Reply, IoFailure> {
    runtime().block_on(redis::read_reply(&mut &bytes[..]))
}

fn read_reply_in_steps(bytes: &[u8], step: usize) -> Result<Reply, IoFailure> {
    runtime().block_on(redis::read_reply(&mut Trickle { data: bytes, step }))
}

/// Text that never forms a PEM BEGIN or END line.
fn junk_line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 #:=.,/+]{0,60}"
}

fn hostname() -> impl Strategy<Value = String> {
    // No "--", so no label reads as punycode ("xn--"); no label of digits only, so no host
    // reads as an IPv4 address.
    "[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,6})?(\\.[a-z][a-z0-9]{0,10}){0,3}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn pem_parse_and_describe_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(file) = pem::parse_bytes("prop", &bytes) {
            for (i, c) in file.certs.iter().enumerate() {
                prop_assert_eq!(c.index, i);
                let _ = describe::describe(i, &c.der, 0);
            }
        }
        let _ = describe::describe(0, &bytes, 0);
        let _ = pem::parse_cert_error(&bytes);
    }

    #[test]
    fn damaged_certificates_never_panic(
        which in 0..SINGLE_CERT_FILES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (text, der) = &testdata_certs()[which];
        let mut der = der.clone();
        for (at, byte) in &edits {
            let i = at.index(der.len());
            der[i] = *byte;
        }
        let _ = describe::describe(0, &der, 0);
        let _ = pem::parse_cert_error(&der);
        let _ = pem::check_cert_der(&der);
        der.truncate(cut.index(der.len() + 1));
        let _ = describe::describe(0, &der, 0);
        let mut text = text.clone().into_bytes();
        for (at, byte) in &edits {
            let i = at.index(text.len());
            text[i] = *byte;
        }
        if let Ok(file) = pem::parse_bytes("prop", &text) {
            let _ = tlsprobe::inspect::inspect_file(&file, 0, 30, true);
        }
    }

    #[test]
    fn target_parse_never_panics_nor_shows_the_password(input in "\\PC{0,80}") {
        if let Ok(t) = target::parse(&input) {
            if let Some(pw) = &t.password {
                let pw = pw.expose();
                let shown = t.display();
                // Only a password that is not also part of the user, host or path can leak.
                let rest = format!("{}://{}:***@{}:{}/{}", t.scheme.name(),
                    t.user.as_deref().unwrap_or(""), t.host, t.port,
                    t.db.as_deref().unwrap_or(""));
                prop_assert!(pw.is_empty() || rest.contains(pw) || !shown.contains(pw),
                    "{} shows the password", shown);
            }
        }
    }

    #[test]
    fn target_parse_never_panics_on_url_shaped_text(
        scheme in "(rediss|redis|postgres|postgresql|mysql|tls|ftp)",
        auth in "([^@/ ]{0,12}(:[^@/ ]{0,12})?@)?",
        host in "(\\[[0-9a-f:.]{0,20}\\]|[a-zA-Z0-9.%-]{0,30})",
        port in "(:[0-9]{0,7})?",
        path in "(/[^ ]{0,12})?",
    ) {
        let _ = target::parse(&format!("{scheme}://{auth}{host}{port}{path}"));
        let _ = target::parse(&format!("{auth}{host}{port}{path}"));
    }

    #[test]
    fn parse_dn_never_panics(text in "\\PC{0,120}") {
        let _ = subject::parse_dn("prop", &text);
    }

    #[test]
    fn parse_dn_never_panics_on_dn_shaped_text(
        parts in prop::collection::vec(
            ("(CN|cn|O|OU|L|ST|S|C|commonName|2\\.5\\.4\\.3|X)", "[a-zA-Z0-9 ,+;=\\\\\"#<>]{0,12}"),
            0..6,
        ),
        seps in prop::collection::vec("[,;+]", 6),
    ) {
        let mut text = String::new();
        for (i, (k, v)) in parts.iter().enumerate() {
            if i > 0 {
                text.push_str(&seps[i]);
            }
            text.push_str(&format!("{k}={v}"));
        }
        let _ = subject::parse_dn("prop", &text);
    }

    #[test]
    fn read_reply_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let whole = read_reply(&bytes);
        // Delivery in pieces must not change the answer for a complete reply.
        if whole.is_ok() {
            prop_assert_eq!(read_reply_in_steps(&bytes, 3), whole);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Certificates in any order (repeats allowed) with junk lines between the blocks come
    /// back as the same DER, in the same order, with indices and block numbers counting up.
    #[test]
    fn pem_bundle_round_trip(
        picks in prop::collection::vec(0..SINGLE_CERT_FILES.len(), 1..8),
        junk in prop::collection::vec(prop::collection::vec(junk_line(), 0..3), 9),
        crlf in any::<bool>(),
    ) {
        let certs = testdata_certs();
        let mut text = String::new();
        for (i, &p) in picks.iter().enumerate() {
            for line in &junk[i] {
                text.push_str(line);
                text.push('\n');
            }
            text.push_str(&certs[p].0);
        }
        for line in &junk[picks.len()] {
            text.push_str(line);
            text.push('\n');
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let file = pem::parse_bytes("bundle.pem", text.as_bytes()).unwrap();
        prop_assert!(file.errors.is_empty(), "{:?}", file.errors);
        prop_assert!(file.others.is_empty());
        prop_assert_eq!(file.certs.len(), picks.len());
        for (i, (c, &p)) in file.certs.iter().zip(&picks).enumerate() {
            prop_assert_eq!(c.index, i);
            prop_assert_eq!(c.block, i + 1);
            prop_assert_eq!(c.der.as_ref(), certs[p].1.as_slice());
        }
    }

    /// `parse(display(t))` gives `t` back.
    #[test]
    fn target_display_round_trip(
        host in hostname(),
        port in 1u16..,
        user in "[a-zA-Z0-9_.~-]{1,16}",
        db in 0u32..16,
    ) {
        let t = target::parse(&format!("rediss://{user}@{host}:{port}/{db}")).unwrap();
        prop_assert_eq!(t.scheme, Scheme::Rediss);
        prop_assert_eq!(&t.host, &Host::Dns(host.clone()));
        prop_assert_eq!(t.port, port);
        prop_assert_eq!(t.user.as_deref(), Some(user.as_str()));
        prop_assert!(t.password.is_none());
        let db_text = db.to_string();
        prop_assert_eq!(t.db.as_deref(), Some(db_text.as_str()));
        let again = target::parse(&t.display()).unwrap();
        prop_assert_eq!(again, t);
    }

    #[test]
    fn resp_simple_string_round_trip(s in "[a-zA-Z0-9 _.:-]{0,40}", step in 1usize..8) {
        let wire = format!("+{s}\r\n");
        prop_assert_eq!(read_reply(wire.as_bytes()), Ok(Reply::Ok(s.clone())));
        prop_assert_eq!(read_reply_in_steps(wire.as_bytes(), step), Ok(Reply::Ok(s)));
    }

    #[test]
    fn resp_error_round_trip(code in "[A-Z]{1,12}", detail in "[a-z0-9][a-z0-9 ]{0,30}") {
        let wire = format!("-{code} {detail}\r\n");
        let want = format!("{code} {detail}").trim().to_string();
        prop_assert_eq!(read_reply(wire.as_bytes()), Ok(Reply::Error(want)));
    }

    #[test]
    fn resp_integer_round_trip(n in any::<i64>()) {
        let wire = format!(":{n}\r\n");
        prop_assert_eq!(read_reply(wire.as_bytes()), Ok(Reply::Ok(n.to_string())));
    }

    #[test]
    fn resp_bulk_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..600), step in 1usize..64) {
        let mut wire = format!("${}\r\n", bytes.len()).into_bytes();
        wire.extend_from_slice(&bytes);
        wire.extend_from_slice(b"\r\n");
        let want: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        prop_assert_eq!(read_reply(&wire), Ok(Reply::Ok(want.clone())));
        prop_assert_eq!(read_reply_in_steps(&wire, step), Ok(Reply::Ok(want)));
    }

    /// A packed command is an array of bulk strings: a valid reply, read to its end.
    #[test]
    fn resp_packed_command_parses(args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..5)) {
        let mut cmd = ::redis::cmd("ECHO");
        for a in &args {
            cmd.arg(a.as_slice());
        }
        let packed = cmd.get_packed_command();
        prop_assert!(read_reply(&packed).is_ok());
        // Cut anywhere, it is an incomplete reply, not a different one.
        let cut = packed.len() / 2;
        prop_assert!(matches!(read_reply(&packed[..cut]), Err(IoFailure::Malformed(_))));
    }
}
