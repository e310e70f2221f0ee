//! Certificates and CRLs written as DER by hand for the rule tests: every field is under
//! the test's control (criticality, serial 0, DSA and P-192 keys, odd RSA moduli,
//! malformed extensions), which rcgen cannot all express. The rules judge the profile
//! only, so the signatures are placeholders.

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &a in &arcs[2..] {
        let mut chunk = vec![(a & 0x7f) as u8];
        let mut v = a >> 7;
        while v > 0 {
            chunk.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    tlv(0x06, &body)
}

pub fn int(bytes: &[u8]) -> Vec<u8> {
    tlv(0x02, bytes)
}

pub fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

pub fn bits(b: &[u8]) -> Vec<u8> {
    let mut c = vec![0u8];
    c.extend_from_slice(b);
    tlv(0x03, &c)
}

/// A Name of one CN (UTF8String); `None` is the empty Name.
pub fn name(cn: Option<&str>) -> Vec<u8> {
    match cn {
        None => seq(&[]),
        Some(cn) => seq(&[tlv(0x31, &seq(&[oid("2.5.4.3"), tlv(0x0c, cn.as_bytes())]))]),
    }
}

// Extension values.
pub fn bc(ca: bool) -> Vec<u8> {
    if ca {
        seq(&[tlv(0x01, &[0xff])])
    } else {
        seq(&[])
    }
}
pub const KU_DIGITAL_SIGNATURE: u8 = 0x80;
pub const KU_KEY_CERT_SIGN: u8 = 0x04;
pub const KU_CRL_SIGN: u8 = 0x02;
pub fn ku(flags: u8) -> Vec<u8> {
    bits(&[flags])
}
pub fn eku(oids: &[&str]) -> Vec<u8> {
    seq(&oids.iter().map(|o| oid(o)).collect::<Vec<_>>())
}
pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
pub const ANY_EKU: &str = "2.5.29.37.0";
pub fn dns(d: &str) -> Vec<u8> {
    tlv(0x82, d.as_bytes())
}
pub fn ip(b: &[u8]) -> Vec<u8> {
    tlv(0x87, b)
}
pub fn uri(u: &str) -> Vec<u8> {
    tlv(0x86, u.as_bytes())
}
pub fn san(names: &[Vec<u8>]) -> Vec<u8> {
    seq(names)
}
pub fn aki(keyid: &[u8]) -> Vec<u8> {
    seq(&[tlv(0x80, keyid)])
}
pub fn ski(keyid: &[u8]) -> Vec<u8> {
    octets(keyid)
}
/// nameConstraints with permitted dNSName subtrees.
pub fn nc_permitted(dns_names: &[&str]) -> Vec<u8> {
    let subtrees: Vec<Vec<u8>> = dns_names.iter().map(|d| seq(&[dns(d)])).collect();
    seq(&[tlv(0xa0, &subtrees.concat())])
}
pub fn pc() -> Vec<u8> {
    seq(&[tlv(0x80, &[0])])
}
pub fn aia(method: &str, location: Vec<u8>) -> Vec<u8> {
    seq(&[seq(&[oid(method), location])])
}
pub const OCSP: &str = "1.3.6.1.5.5.7.48.1";

pub const OID_AKI: &str = "2.5.29.35";
pub const OID_SKI: &str = "2.5.29.14";
pub const OID_KU: &str = "2.5.29.15";
pub const OID_SAN: &str = "2.5.29.17";
pub const OID_BC: &str = "2.5.29.19";
pub const OID_NC: &str = "2.5.29.30";
pub const OID_PC: &str = "2.5.29.36";
pub const OID_EKU: &str = "2.5.29.37";
pub const OID_AIA: &str = "1.3.6.1.5.5.7.1.1";

// Keys.
pub fn ec_key(curve: &str) -> Vec<u8> {
    let mut point = vec![0x04];
    point.extend([7u8; 64]);
    seq(&[seq(&[oid("1.2.840.10045.2.1"), oid(curve)]), bits(&point)])
}
pub const P256: &str = "1.2.840.10045.3.1.7";
pub const P192: &str = "1.2.840.10045.3.1.1";
/// An RSA key whose modulus is exactly `nbits` bits long.
pub fn rsa_key(nbits: usize) -> Vec<u8> {
    let nbytes = nbits.div_ceil(8);
    let mut m = vec![0xffu8; nbytes];
    let top = nbits - (nbytes - 1) * 8;
    m[0] = if top == 8 { 0xff } else { (1u8 << top) - 1 } | (1u8 << (top - 1));
    // DER: a leading zero octet only in front of a high bit.
    let mut modulus = if m[0] & 0x80 != 0 { vec![0u8] } else { vec![] };
    modulus.extend(m);
    let key = seq(&[int(&modulus), int(&[1, 0, 1])]);
    seq(&[
        seq(&[oid("1.2.840.113549.1.1.1"), tlv(0x05, &[])]),
        bits(&key),
    ])
}
pub fn dsa_key() -> Vec<u8> {
    let params = seq(&[int(&[0x7f; 128]), int(&[0x7f; 20]), int(&[0x02])]);
    seq(&[
        seq(&[oid("1.2.840.10040.4.1"), params]),
        bits(&int(&[0x7f; 128])),
    ])
}

pub const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
pub const SHA1_RSA: &str = "1.2.840.113549.1.1.5";

/// A certificate under construction.
#[derive(Clone)]
pub struct Spec {
    /// 0 = v1, 2 = v3.
    pub version: u8,
    pub serial: Vec<u8>,
    pub sig_alg: &'static str,
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    /// GeneralizedTime strings.
    pub not_before: &'static str,
    pub not_after: &'static str,
    pub spki: Vec<u8>,
    /// (OID, critical, value).
    pub exts: Vec<(&'static str, bool, Vec<u8>)>,
}

impl Spec {
    /// Sets (replacing) or adds an extension.
    pub fn set(mut self, oid: &'static str, critical: bool, value: Vec<u8>) -> Self {
        self.exts.retain(|e| e.0 != oid);
        self.exts.push((oid, critical, value));
        self
    }
    pub fn without(mut self, oid: &str) -> Self {
        self.exts.retain(|e| e.0 != oid);
        self
    }
    pub fn subject(mut self, cn: Option<&str>) -> Self {
        self.subject = name(cn);
        self
    }
    pub fn der(&self) -> Vec<u8> {
        let alg = seq(&[oid(self.sig_alg)]);
        let mut tbs = vec![];
        if self.version != 0 {
            tbs.push(tlv(0xa0, &int(&[self.version])));
        }
        tbs.extend([
            int(&self.serial),
            alg.clone(),
            self.issuer.clone(),
            seq(&[
                tlv(0x18, self.not_before.as_bytes()),
                tlv(0x18, self.not_after.as_bytes()),
            ]),
            self.subject.clone(),
            self.spki.clone(),
        ]);
        if !self.exts.is_empty() {
            let exts: Vec<Vec<u8>> = self
                .exts
                .iter()
                .map(|(o, crit, v)| {
                    let mut e = vec![oid(o)];
                    if *crit {
                        e.push(tlv(0x01, &[0xff]));
                    }
                    e.push(octets(v));
                    seq(&e)
                })
                .collect();
            tbs.push(tlv(0xa3, &seq(&exts)));
        }
        seq(&[seq(&tbs), alg, bits(&[1, 2, 3, 4])])
    }
}

const LONG_START: &str = "20240101000000Z";
const LONG_END: &str = "21240101000000Z";

fn base(subject: &str, issuer: &str, serial: u8) -> Spec {
    Spec {
        version: 2,
        serial: vec![0x10, serial, 0x33, 0x44],
        sig_alg: ECDSA_SHA256,
        issuer: name(Some(issuer)),
        subject: name(Some(subject)),
        not_before: LONG_START,
        not_after: LONG_END,
        spki: ec_key(P256),
        exts: vec![],
    }
}

/// A conforming self-signed root: `CN=Test Root`, SKI = AKI = [1; 20].
pub fn root() -> Spec {
    base("Test Root", "Test Root", 1)
        .set(OID_BC, true, bc(true))
        .set(OID_KU, true, ku(KU_KEY_CERT_SIGN | KU_CRL_SIGN))
        .set(OID_SKI, false, ski(&[1; 20]))
        .set(OID_AKI, false, aki(&[1; 20]))
}

/// A conforming intermediate issued by [`root`]: SKI [2; 20].
pub fn inter() -> Spec {
    base("Test Intermediate", "Test Root", 2)
        .set(OID_BC, true, bc(true))
        .set(OID_KU, true, ku(KU_KEY_CERT_SIGN | KU_CRL_SIGN))
        .set(OID_SKI, false, ski(&[2; 20]))
        .set(OID_AKI, false, aki(&[1; 20]))
}

/// A conforming server leaf `CN=www.example.com` issued by [`inter`].
pub fn leaf() -> Spec {
    base("www.example.com", "Test Intermediate", 3)
        .set(OID_BC, true, bc(false))
        .set(OID_KU, true, ku(KU_DIGITAL_SIGNATURE))
        .set(OID_EKU, false, eku(&[SERVER_AUTH]))
        .set(OID_SAN, false, san(&[dns("www.example.com")]))
        .set(OID_SKI, false, ski(&[3; 20]))
        .set(OID_AKI, false, aki(&[2; 20]))
}

/// A v2 CRL issued by `CN=Test Intermediate`: (CRL Number present, critical).
pub fn crl(number: Option<bool>, next_update: &str) -> Vec<u8> {
    let alg = seq(&[oid(ECDSA_SHA256)]);
    let mut tbs = vec![
        int(&[1]),
        alg.clone(),
        name(Some("Test Intermediate")),
        tlv(0x18, LONG_START.as_bytes()),
        tlv(0x18, next_update.as_bytes()),
    ];
    if let Some(critical) = number {
        let mut e = vec![oid("2.5.29.20")];
        if critical {
            e.push(tlv(0x01, &[0xff]));
        }
        e.push(octets(&int(&[5])));
        tbs.push(tlv(0xa0, &seq(&[seq(&e)])));
    }
    seq(&[seq(&tbs), alg, bits(&[1, 2, 3, 4])])
}
