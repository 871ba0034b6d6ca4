//! TLS handshakes: hellos, certificates, alerts, JA4/JA3 fingerprints, and outcome.
//!
//! Fed by `protocols::StreamDecoder` with the ordered bytes of a connection (or of a
//! CONNECT tunnel) whose content starts like a TLS record. Records are reassembled
//! across TCP chunks and handshake messages across records, both bounded. Hellos are
//! read with `tls-parser`, certificates with `x509-parser` (see `x509`). States facts
//! only: which versions and names were offered and chosen, which chain came back,
//! who sent which alert after which message, a Zeek-like `ssl_history`, and whether
//! the handshake completed — including, for TLS 1.3, whether the client went on after
//! the server's encrypted flight or gave up on it.

use super::intern;
use super::stream_buf::StreamBuf;
use super::x509::{self, CertInfo};
use crate::model::{Dir, FrameNo, Timestamp};
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Largest handshake message reassembled; larger ones are skipped with a note.
pub const MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;
/// Largest record: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3).
const MAX_RECORD: usize = (1 << 14) + 2048;
const MAX_CERTS: usize = 16;
const MAX_ALERTS: usize = 32;
/// Encrypted records per side looked at before losing interest.
const MAX_ENCRYPTED_RECORDS: u32 = 8;

const CT_CCS: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APP_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// ServerHello.random of a HelloRetryRequest (RFC 8446 4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// GREASE values (RFC 8701): 0x?a?a with equal bytes.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Version name as Wireshark/OpenSSL write it.
pub fn version_name(v: u16) -> String {
    match v {
        0x0304 => "TLSv1.3".into(),
        0x0303 => "TLSv1.2".into(),
        0x0302 => "TLSv1.1".into(),
        0x0301 => "TLSv1.0".into(),
        0x0300 => "SSLv3".into(),
        0x0002 => "SSLv2".into(),
        v if is_grease(v) => format!("GREASE(0x{v:04x})"),
        v => format!("0x{v:04x}"),
    }
}

/// Alert description name (RFC 8446 6, IANA TLS Alerts registry), Zeek's spelling.
pub fn alert_name(code: u8) -> String {
    let s = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        n => return format!("unknown_{n}"),
    };
    s.to_string()
}

/// Handshake message name and its Zeek `ssl_history` letter (upper case form).
fn handshake_name(t: u8) -> (&'static str, char) {
    match t {
        0 => ("hello_request", 'H'),
        1 => ("client_hello", 'C'),
        2 => ("server_hello", 'S'),
        3 => ("hello_verify_request", 'V'),
        4 => ("new_session_ticket", 'T'),
        5 => ("end_of_early_data", 'E'),
        8 => ("encrypted_extensions", 'O'),
        11 => ("certificate", 'X'),
        12 => ("server_key_exchange", 'K'),
        13 => ("certificate_request", 'R'),
        14 => ("server_hello_done", 'N'),
        15 => ("certificate_verify", 'Y'),
        16 => ("client_key_exchange", 'G'),
        20 => ("finished", 'F'),
        21 => ("certificate_url", 'W'),
        22 => ("certificate_status", 'U'),
        23 => ("supplemental_data", 'A'),
        24 => ("key_update", 'P'),
        254 => ("message_hash", 'M'),
        _ => ("unassigned_handshake_type", 'Z'),
    }
}

/// A TLS alert seen on the connection.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TlsAlert {
    /// `client` or `server`.
    pub from: &'static str,
    /// `warning`, `fatal`, or `unknown_N`; absent when the alert was encrypted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u8>,
    /// Sent after the sender's ChangeCipherSpec: content unreadable.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub encrypted: bool,
    pub frame: FrameNo,
    /// The last handshake message seen (either side) before the alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<&'static str>,
}

/// How the handshake ended, as far as the TLS bytes tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeOutcome {
    /// Both sides moved on to encrypted traffic (see `established`).
    Established,
    /// The client sent a plaintext fatal alert.
    ClientAlert,
    /// The server sent a plaintext fatal alert.
    ServerAlert,
    /// TLS 1.3: the client's first encrypted record after the server's flight has
    /// the size of an alert (19 bytes), not of a Finished: it most likely refused
    /// the certificate.
    ClientEncryptedAlert,
    /// The server's flight was seen but the client sent nothing more in TLS.
    ClientSilentAfterServerFlight,
    /// ClientHello seen, no ServerHello.
    NoServerHello,
    /// Picked up mid-handshake (no ClientHello).
    NoClientHello,
    /// None of the above (e.g. capture ends mid-handshake).
    #[default]
    Incomplete,
}

/// Facts of one TLS connection.
/// Serializes registry numbers as 4-digit lower-case hex strings (`"c02f"`).
fn hex_list<S: serde::Serializer>(v: &Arc<[u16]>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    // Written from a stack buffer: a ClientHello lists dozens, a busy capture has
    // thousands of ClientHellos.
    for &x in v.iter() {
        seq.serialize_element(std::str::from_utf8(&hex4(x)).unwrap_or(""))?;
    }
    seq.end()
}

fn no_numbers(v: &Arc<[u16]>) -> bool {
    v.is_empty()
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsFacts {
    /// Negotiated version (`TLSv1.3`...), from supported_versions when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Arc<str>>,
    /// ClientHello legacy_version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_version: Option<Arc<str>>,
    /// supported_versions offered by the client (GREASE left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_versions: Vec<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<Arc<str>>,
    /// ALPN protocols offered by the client.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<Arc<str>>,
    /// ALPN protocol chosen by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_alpn: Option<Arc<str>>,
    /// Cipher suites offered, in order (GREASE included, as sent); JSON: 4-digit hex.
    /// Kept as numbers: a browser offers dozens, and every finished flow keeps them.
    #[serde(skip_serializing_if = "no_numbers", serialize_with = "hex_list")]
    pub cipher_suites: Arc<[u16]>,
    /// Extension types offered, in order; JSON: 4-digit hex.
    #[serde(skip_serializing_if = "no_numbers", serialize_with = "hex_list")]
    pub extensions: Arc<[u16]>,
    /// Negotiated cipher suite (IANA name, or hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<Arc<str>>,
    /// JA4 before hashing (`t13d1516h2_002f,..._0005,...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4_r: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<Arc<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<Arc<str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hello_retry_request: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_hello_frame: Option<FrameNo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_hello_frame: Option<FrameNo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_frame: Option<FrameNo>,
    /// When the record completing the ClientHello / ServerHello arrived (latency).
    #[serde(skip)]
    pub client_hello_ts: Option<Timestamp>,
    #[serde(skip)]
    pub server_hello_ts: Option<Timestamp>,
    /// Server chain, leaf first (TLS ≤ 1.2 only: TLS 1.3 encrypts it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_certificates: Vec<CertInfo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<TlsAlert>,
    /// Zeek `ssl_history`: client letters upper case, server lower case.
    pub history: String,
    /// Zeek's meaning: the handshake completed.
    pub established: bool,
    pub outcome: HandshakeOutcome,
    /// Size of the client's first encrypted record after the server's TLS 1.3 flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_first_encrypted_len: Option<u16>,
}

#[derive(Clone, Debug)]
struct Side {
    rec: StreamBuf,
    /// Handshake bytes not yet forming a whole message.
    hs: Vec<u8>,
    /// Skipping the rest of an oversized handshake message.
    hs_skip: usize,
    /// Sent ChangeCipherSpec (or, TLS 1.3 server, ServerHello): handshake now encrypted.
    encrypted: bool,
    ccs: bool,
    encrypted_records: u32,
    stopped: bool,
}

impl Side {
    fn new() -> Self {
        Side {
            rec: StreamBuf::new(MAX_RECORD + 5),
            hs: Vec::new(),
            hs_skip: 0,
            encrypted: false,
            ccs: false,
            encrypted_records: 0,
            stopped: false,
        }
    }
}

/// TLS decoder for one connection.
#[derive(Clone, Debug)]
pub struct TlsDecoder {
    sides: [Side; 2],
    facts: TlsFacts,
    notes: super::Notes,
    tls13: bool,
    seen_client_hello: bool,
    seen_server_hello: bool,
    /// The server's first flight is complete (ServerHelloDone, or TLS 1.3 encrypted
    /// records after ServerHello, or a resumption CCS).
    server_flight_done: bool,
    client_after_flight: bool,
    fatal_alert: bool,
    last_msg: Option<&'static str>,
    ja3s_version: Option<u16>,
    /// Arrival of the record being decoded.
    record_ts: Option<Timestamp>,
}

impl Default for TlsDecoder {
    fn default() -> Self {
        Self::new()
    }
}

/// True if `b` starts like a TLS record (handshake or alert, version 3.x).
pub fn looks_like_tls(b: &[u8]) -> bool {
    matches!(b, [CT_HANDSHAKE | CT_ALERT, 3, minor, ..] if *minor <= 4)
}

/// True while `b` is too short to tell but could still become a TLS record.
pub fn could_be_tls_prefix(b: &[u8]) -> bool {
    match b {
        [] => true,
        [t] => matches!(*t, CT_HANDSHAKE | CT_ALERT),
        [t, 3] => matches!(*t, CT_HANDSHAKE | CT_ALERT),
        _ => false,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be24(b: &[u8], at: usize) -> Option<usize> {
    Some(
        (usize::from(*b.get(at)?) << 16)
            | (usize::from(*b.get(at + 1)?) << 8)
            | usize::from(*b.get(at + 2)?),
    )
}

/// (type, data) of each extension in an extensions block.
fn extensions(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 && out.len() < 256 {
        let (Some(t), Some(len)) = (be16(b, 0), be16(b, 2)) else {
            break;
        };
        let Some(data) = b.get(4..4 + usize::from(len)) else {
            break;
        };
        out.push((t, data));
        b = b.get(4 + usize::from(len)..).unwrap_or_default();
    }
    out
}

/// A list of u16 behind a length prefix of `len_bytes` (1 or 2) bytes.
fn u16_list(b: &[u8], len_bytes: usize) -> Vec<u16> {
    let len = match len_bytes {
        1 => b.first().map(|&n| usize::from(n)),
        _ => be16(b, 0).map(usize::from),
    };
    let Some(body) = len.and_then(|l| b.get(len_bytes..len_bytes + l)) else {
        return Vec::new();
    };
    body.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Length-prefixed (u16) list of u8-length-prefixed strings (ALPN, RFC 7301).
fn alpn_list(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(mut body) = be16(b, 0).and_then(|l| b.get(2..2 + usize::from(l))) else {
        return out;
    };
    while let Some(&n) = body.first() {
        let Some(p) = body.get(1..1 + usize::from(n)) else {
            break;
        };
        out.push(p.to_vec());
        body = body.get(1 + usize::from(n)..).unwrap_or_default();
    }
    out
}

fn sni_name(b: &[u8]) -> Option<String> {
    // server_name_list: u16 len, then (type u8, u16 len, name)*; first host_name wins.
    let list = b.get(2..2 + usize::from(be16(b, 0)?))?;
    let mut rest = list;
    while rest.len() >= 3 {
        let t = *rest.first()?;
        let len = usize::from(be16(rest, 1)?);
        let name = rest.get(3..3 + len)?;
        if t == 0 {
            return Some(String::from_utf8_lossy(name).into_owned());
        }
        rest = rest.get(3 + len..)?;
    }
    None
}

/// `x` as four lower-case hex digits (ASCII).
fn hex4(x: u16) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [12u16, 8, 4, 0].map(|shift| DIGITS[usize::from((x >> shift) & 0x0f)])
}

/// `0a0a,1301,...`: each number as four lower-case hex digits, comma-separated (JA4's
/// lists), written into one String.
fn hex4_list(v: &[u16]) -> String {
    let mut out = String::with_capacity(v.len() * 5);
    for (i, &x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.extend(hex4(x).map(char::from));
    }
    out
}

fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let digest = Sha256::digest(s.as_bytes());
    x509::hex(digest.get(..6).unwrap_or_default())
}

fn md5_hex(s: &str) -> String {
    x509::hex(&Md5::digest(s.as_bytes()))
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4 ALPN part: first and last character of the first ALPN value, or, when either
/// is not alphanumeric ASCII, the first and last hex digit of its bytes.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(p) = first.filter(|p| !p.is_empty()) else {
        return "00".to_string();
    };
    let (Some(&f), Some(&l)) = (p.first(), p.last()) else {
        return "00".to_string();
    };
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        format!("{}{}", f as char, l as char)
    } else {
        let fh = format!("{f:02x}");
        let lh = format!("{l:02x}");
        format!(
            "{}{}",
            fh.chars().next().unwrap_or('0'),
            lh.chars().last().unwrap_or('0')
        )
    }
}

/// The parts of a ClientHello JA4 and JA3 are computed from.
struct HelloFingerprint<'a> {
    legacy_version: u16,
    ciphers: &'a [u16],
    exts: &'a [u16],
    supported_versions: &'a [u16],
    has_sni: bool,
    first_alpn: Option<&'a [u8]>,
    sig_algs: &'a [u16],
    groups: &'a [u16],
    point_formats: &'a [u8],
}

impl HelloFingerprint<'_> {
    /// JA4 (TLS over TCP) as (hashed, raw), per FoxIO's BSD-licensed JA4 spec.
    fn ja4(&self) -> (String, String) {
        let version = self
            .supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.legacy_version);
        let ciphers: Vec<u16> = self
            .ciphers
            .iter()
            .copied()
            .filter(|c| !is_grease(*c))
            .collect();
        let exts: Vec<u16> = self
            .exts
            .iter()
            .copied()
            .filter(|e| !is_grease(*e))
            .collect();
        let head = format!(
            "t{}{}{:02}{:02}{}",
            ja4_version(version),
            if self.has_sni { 'd' } else { 'i' },
            ciphers.len().min(99),
            exts.len().min(99),
            ja4_alpn(self.first_alpn)
        );
        // Four lower-case hex digits sort as the numbers do: sort the numbers.
        let mut sorted_ciphers = ciphers;
        sorted_ciphers.sort_unstable();
        let mut sorted_exts: Vec<u16> = exts
            .iter()
            .copied()
            .filter(|&e| e != 0x0000 && e != 0x0010)
            .collect();
        sorted_exts.sort_unstable();
        let ciphers_s = hex4_list(&sorted_ciphers);
        let mut exts_s = hex4_list(&sorted_exts);
        if !self.sig_algs.is_empty() {
            exts_s.push('_');
            exts_s.push_str(&hex4_list(self.sig_algs));
        }
        (
            format!("{head}_{}_{}", hash12(&ciphers_s), hash12(&exts_s)),
            format!("{head}_{ciphers_s}_{exts_s}"),
        )
    }

    /// JA3: md5 of `version,ciphers,extensions,groups,point_formats`, GREASE removed.
    fn ja3(&self) -> String {
        // Written into one String (no String per number): a busy capture has thousands
        // of ClientHellos.
        let mut text = self.legacy_version.to_string();
        for list in [self.ciphers, self.exts, self.groups] {
            text.push(',');
            push_joined(
                &mut text,
                list.iter().filter(|x| !is_grease(**x)).map(|&x| x.into()),
            );
        }
        text.push(',');
        push_joined(&mut text, self.point_formats.iter().map(|&x| x.into()));
        md5_hex(&text)
    }
}

/// Appends the numbers in decimal, `-` between them (written in place: no String per
/// number).
fn push_joined(out: &mut String, numbers: impl Iterator<Item = u32>) {
    use std::fmt::Write as _;
    for (i, n) in numbers.enumerate() {
        let sep = if i > 0 { "-" } else { "" };
        let _ = write!(out, "{sep}{n}");
    }
}

impl TlsDecoder {
    pub fn new() -> Self {
        TlsDecoder {
            sides: [Side::new(), Side::new()],
            facts: TlsFacts::default(),
            notes: super::Notes::default(),
            tls13: false,
            seen_client_hello: false,
            seen_server_hello: false,
            server_flight_done: false,
            client_after_flight: false,
            fatal_alert: false,
            last_msg: None,
            ja3s_version: None,
            record_ts: None,
        }
    }

    /// False once the handshake is decided (established or failed) or the side stopped.
    pub fn wants_data(&self, dir: Dir) -> bool {
        if self.facts.established || self.fatal_alert {
            return false;
        }
        self.sides
            .get(dir.index())
            .is_some_and(|s| !s.stopped && s.encrypted_records < MAX_ENCRYPTED_RECORDS)
    }

    pub fn on_gap(&mut self, dir: Dir, len: u64) {
        if let Some(side) = self.sides.get_mut(dir.index())
            && !side.stopped
        {
            side.stopped = true;
            side.rec.consume(side.rec.len());
            self.notes.push(format!(
                "tls: {len} bytes missing from the {} (capture loss); stopped decoding that direction",
                dir.sender()
            ));
        }
    }

    pub fn on_data(&mut self, dir: Dir, data: &[u8], frame: FrameNo, ts: Timestamp) {
        let mut input = data;
        while !input.is_empty() {
            let Some(side) = self.sides.get_mut(dir.index()) else {
                return;
            };
            if side.stopped {
                return;
            }
            let took = side.rec.push(input, frame, ts);
            input = input.get(took..).unwrap_or_default();
            let progressed = self.parse_records(dir);
            if took == 0 && !progressed {
                // Cannot happen with a record cap above the largest record; be safe.
                if let Some(side) = self.sides.get_mut(dir.index()) {
                    side.stopped = true;
                }
                return;
            }
        }
    }

    pub fn finish(mut self) -> (TlsFacts, super::Notes) {
        let f = &mut self.facts;
        f.outcome = if f.established {
            HandshakeOutcome::Established
        } else if let Some(a) = f
            .alerts
            .iter()
            .find(|a| a.level.as_deref() == Some("fatal"))
        {
            if a.from == "client" {
                HandshakeOutcome::ClientAlert
            } else {
                HandshakeOutcome::ServerAlert
            }
        } else if f.client_first_encrypted_len == Some(19) {
            HandshakeOutcome::ClientEncryptedAlert
        } else if !self.seen_client_hello {
            HandshakeOutcome::NoClientHello
        } else if !self.seen_server_hello {
            HandshakeOutcome::NoServerHello
        } else if self.server_flight_done && !self.client_after_flight {
            HandshakeOutcome::ClientSilentAfterServerFlight
        } else {
            HandshakeOutcome::Incomplete
        };
        for (i, side) in self.sides.iter().enumerate() {
            if !side.stopped && !side.rec.is_empty() {
                self.notes.push(format!(
                    "tls: {} bytes of an incomplete record from the {} at the end",
                    side.rec.len(),
                    if i == 0 { "client" } else { "server" }
                ));
            }
        }
        (self.facts, self.notes)
    }

    fn history(&mut self, dir: Dir, letter: char) {
        if self.facts.history.len() < 128 {
            self.facts.history.push(match dir {
                Dir::ToServer => letter.to_ascii_uppercase(),
                Dir::ToClient => letter.to_ascii_lowercase(),
            });
        }
    }

    fn parse_records(&mut self, dir: Dir) -> bool {
        let d = dir.index();
        let mut progressed = false;
        loop {
            let Some(side) = self.sides.get_mut(d) else {
                return progressed;
            };
            let b = side.rec.bytes();
            let (Some(&ct), Some(version), Some(len)) = (b.first(), be16(b, 1), be16(b, 3)) else {
                return progressed;
            };
            let len = usize::from(len);
            let valid_type = matches!(ct, CT_CCS..=CT_HEARTBEAT);
            if !valid_type || version >> 8 != 3 || len > MAX_RECORD {
                let frame = side.rec.at(0).0;
                side.stopped = true;
                side.rec.consume(side.rec.len());
                self.notes.push(format!(
                    "tls: not a TLS record from the {} at frame {frame} (type {ct}, version 0x{version:04x}, length {len}); stopped",
                    dir.sender()
                ));
                return progressed;
            }
            let Some(body) = b.get(5..5 + len) else {
                return progressed;
            };
            let body = body.to_vec();
            let (frame, ts) = side.rec.at(4 + len);
            self.record_ts = Some(ts);
            side.rec.consume(5 + len);
            progressed = true;
            self.on_record(dir, ct, &body, frame);
        }
    }

    fn on_record(&mut self, dir: Dir, ct: u8, body: &[u8], frame: FrameNo) {
        let encrypted = self.sides.get(dir.index()).is_some_and(|s| s.encrypted);
        if dir == Dir::ToServer && self.server_flight_done && ct != CT_CCS {
            self.client_after_flight = true;
        }
        match ct {
            CT_CCS => {
                self.history(dir, 'I');
                if let Some(side) = self.sides.get_mut(dir.index()) {
                    side.ccs = true;
                    side.encrypted = true;
                }
                if dir == Dir::ToClient && !self.tls13 && self.seen_server_hello {
                    // Resumption: the server's CCS ends its flight.
                    self.server_flight_done = true;
                }
                self.last_msg = Some("change_cipher_spec");
                self.check_established();
            }
            CT_ALERT => self.on_alert(dir, body, frame, encrypted),
            CT_HANDSHAKE if encrypted => self.on_encrypted(dir, body.len()),
            CT_HANDSHAKE => self.on_handshake_bytes(dir, body, frame),
            CT_APP_DATA => self.on_encrypted(dir, body.len()),
            _ => {}
        }
    }

    fn on_encrypted(&mut self, dir: Dir, len: usize) {
        if let Some(side) = self.sides.get_mut(dir.index()) {
            side.encrypted_records = side.encrypted_records.saturating_add(1);
        }
        if !self.tls13 {
            self.check_established();
            return;
        }
        match dir {
            Dir::ToClient => self.server_flight_done = true,
            Dir::ToServer => {
                if self.server_flight_done && self.facts.client_first_encrypted_len.is_none() {
                    self.facts.client_first_encrypted_len =
                        Some(u16::try_from(len).unwrap_or(u16::MAX));
                    // 2-byte alert + content type + 16-byte AEAD tag: an encrypted alert.
                    if len != 19 {
                        self.facts.established = true;
                    }
                }
            }
        }
    }

    fn check_established(&mut self) {
        if self.tls13 || self.fatal_alert {
            return;
        }
        let [c, s] = &self.sides;
        // TLS ≤ 1.2: both sides switched to the negotiated keys and sent Finished.
        if c.ccs && s.ccs && c.encrypted_records > 0 && s.encrypted_records > 0 {
            self.facts.established = true;
        }
    }

    fn on_alert(&mut self, dir: Dir, body: &[u8], frame: FrameNo, encrypted: bool) {
        if self.facts.alerts.len() >= MAX_ALERTS {
            return;
        }
        if encrypted || body.len() != 2 {
            self.facts.alerts.push(TlsAlert {
                from: dir.sender(),
                level: None,
                description: None,
                code: None,
                encrypted: true,
                frame,
                after: self.last_msg,
            });
            return;
        }
        let (level, code) = (
            body.first().copied().unwrap_or(0),
            body.get(1).copied().unwrap_or(0),
        );
        let level_s = match level {
            1 => "warning".to_string(),
            2 => "fatal".to_string(),
            n => format!("unknown_{n}"),
        };
        if level == 2 {
            self.fatal_alert = true;
        }
        self.history(dir, 'L');
        self.facts.alerts.push(TlsAlert {
            from: dir.sender(),
            level: Some(level_s),
            description: Some(alert_name(code)),
            code: Some(code),
            encrypted: false,
            frame,
            after: self.last_msg,
        });
    }

    fn on_handshake_bytes(&mut self, dir: Dir, body: &[u8], frame: FrameNo) {
        let mut body = body;
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if side.hs_skip > 0 {
            let k = side.hs_skip.min(body.len());
            side.hs_skip -= k;
            body = body.get(k..).unwrap_or_default();
        }
        side.hs.extend_from_slice(body);
        loop {
            let Some(side) = self.sides.get_mut(dir.index()) else {
                return;
            };
            let (Some(&t), Some(len)) = (side.hs.first(), be24(&side.hs, 1)) else {
                return;
            };
            if len > MAX_HANDSHAKE_MESSAGE {
                let have = side.hs.len().saturating_sub(4);
                side.hs_skip = len.saturating_sub(have);
                side.hs.clear();
                let (name, letter) = handshake_name(t);
                self.history(dir, letter);
                self.last_msg = Some(name);
                self.notes.push(format!(
                    "tls: {name} of {len} bytes from the {} at frame {frame} exceeds {} KiB; skipped",
                    dir.sender(),
                    MAX_HANDSHAKE_MESSAGE / 1024
                ));
                return;
            }
            let Some(msg) = side.hs.get(4..4 + len) else {
                return;
            };
            let msg = msg.to_vec();
            side.hs.drain(..4 + len);
            self.on_handshake(dir, t, &msg, frame);
        }
    }

    fn on_handshake(&mut self, dir: Dir, t: u8, msg: &[u8], frame: FrameNo) {
        let (mut name, letter) = handshake_name(t);
        match (t, dir) {
            (1, Dir::ToServer) => self.on_client_hello(msg, frame),
            (2, Dir::ToClient) => {
                if msg.get(2..34) == Some(HRR_RANDOM.as_slice()) {
                    self.facts.hello_retry_request = true;
                    self.history(dir, 'J');
                    self.last_msg = Some("hello_retry_request");
                    return;
                }
                self.on_server_hello(msg, frame);
            }
            (11, _) => self.on_certificate(dir, msg, frame),
            (14, Dir::ToClient) => self.server_flight_done = true,
            _ => {}
        }
        if t == 2 && self.tls13 && dir == Dir::ToClient {
            // TLS 1.3: everything after ServerHello from the server is encrypted.
            if let Some(side) = self.sides.get_mut(1) {
                side.encrypted = true;
            }
        }
        if t == 2 && dir == Dir::ToServer {
            name = "server_hello";
        }
        self.history(dir, letter);
        self.last_msg = Some(name);
    }

    fn on_client_hello(&mut self, msg: &[u8], frame: FrameNo) {
        if self.seen_client_hello {
            return; // second ClientHello (after HRR): keep the first's fingerprint
        }
        self.seen_client_hello = true;
        self.facts.client_hello_frame = Some(frame);
        self.facts.client_hello_ts = self.record_ts;
        let ch = match tls_parser::parse_tls_handshake_client_hello(msg) {
            Ok((_, ch)) => ch,
            Err(e) => {
                self.notes.push(format!(
                    "tls: malformed client_hello at frame {frame}: {e:?}"
                ));
                return;
            }
        };
        let legacy = ch.version.0;
        let ciphers: Vec<u16> = ch.ciphers.iter().map(|c| c.0).collect();
        let exts = ch.ext.map(extensions).unwrap_or_default();
        let mut supported = Vec::new();
        let mut sig_algs = Vec::new();
        let mut groups = Vec::new();
        let mut point_formats: Vec<u8> = Vec::new();
        let mut alpn = Vec::new();
        let mut sni = None;
        for (t, data) in &exts {
            match t {
                0x0000 => sni = sni_name(data),
                0x0010 => alpn = alpn_list(data),
                0x002b => supported = u16_list(data, 1),
                0x000d => sig_algs = u16_list(data, 2),
                0x000a => groups = u16_list(data, 2),
                0x000b => {
                    point_formats = data
                        .first()
                        .and_then(|&n| data.get(1..1 + usize::from(n)))
                        .unwrap_or_default()
                        .to_vec()
                }
                _ => {}
            }
        }
        let ext_ids: Vec<u16> = exts.iter().map(|(t, _)| *t).collect();
        let fp = HelloFingerprint {
            legacy_version: legacy,
            ciphers: &ciphers,
            exts: &ext_ids,
            supported_versions: &supported,
            has_sni: ext_ids.contains(&0x0000),
            first_alpn: alpn.first().map(Vec::as_slice),
            sig_algs: &sig_algs,
            groups: &groups,
            point_formats: &point_formats,
        };
        let (ja4, ja4_r) = fp.ja4();
        let f = &mut self.facts;
        f.ja4 = Some(intern::text(&ja4));
        f.ja4_r = Some(intern::text(&ja4_r));
        f.ja3 = Some(intern::text(&fp.ja3()));
        f.client_version = Some(intern::text(&version_name(legacy)));
        f.supported_versions = supported
            .iter()
            .filter(|v| !is_grease(**v))
            .map(|v| intern::text(&version_name(*v)))
            .collect();
        f.sni = sni.as_deref().map(intern::text);
        f.alpn = alpn
            .iter()
            .map(|p| intern::text(&String::from_utf8_lossy(p)))
            .collect();
        f.cipher_suites = intern::u16s(&ciphers);
        f.extensions = intern::u16s(&ext_ids);
    }

    fn on_server_hello(&mut self, msg: &[u8], frame: FrameNo) {
        if self.seen_server_hello {
            return;
        }
        self.seen_server_hello = true;
        self.facts.server_hello_frame = Some(frame);
        self.facts.server_hello_ts = self.record_ts;
        let sh = match tls_parser::parse_tls_handshake_server_hello(msg) {
            Ok((_, sh)) => sh,
            Err(e) => {
                self.notes.push(format!(
                    "tls: malformed server_hello at frame {frame}: {e:?}"
                ));
                return;
            }
        };
        let exts = sh.ext.map(extensions).unwrap_or_default();
        let mut version = sh.version.0;
        for (t, data) in &exts {
            match t {
                0x002b => {
                    if let Some(v) = be16(data, 0) {
                        version = v;
                    }
                }
                0x0010 => {
                    self.facts.server_alpn = alpn_list(data)
                        .first()
                        .map(|p| intern::text(&String::from_utf8_lossy(p)))
                }
                _ => {}
            }
        }
        self.tls13 = version == 0x0304;
        self.ja3s_version = Some(sh.version.0);
        let cipher = sh.cipher.0;
        self.facts.version = Some(intern::text(&version_name(version)));
        self.facts.cipher = Some(intern::text(
            &tls_parser::TlsCipherSuite::from_id(cipher)
                .map_or_else(|| format!("0x{cipher:04x}"), |c| c.name.to_string()),
        ));
        let ext_ids: Vec<String> = exts.iter().map(|(t, _)| t.to_string()).collect();
        self.facts.ja3s = Some(intern::text(&md5_hex(&format!(
            "{},{},{}",
            sh.version.0,
            cipher,
            ext_ids.join("-")
        ))))
    }

    fn on_certificate(&mut self, dir: Dir, msg: &[u8], frame: FrameNo) {
        if self.tls13 {
            return; // TLS 1.3 certificates are encrypted; a plaintext one is bogus
        }
        let Some(total) = be24(msg, 0) else {
            self.notes.push(format!(
                "tls: truncated certificate message at frame {frame}"
            ));
            return;
        };
        let mut list = msg
            .get(3..3 + total)
            .unwrap_or_else(|| msg.get(3..).unwrap_or_default());
        let mut certs = Vec::new();
        while let Some(len) = be24(list, 0) {
            let Some(der) = list.get(3..3 + len) else {
                self.notes.push(format!(
                    "tls: certificate entry overruns its message at frame {frame}"
                ));
                break;
            };
            if certs.len() < MAX_CERTS {
                match x509::parse_der(der) {
                    Ok(c) => certs.push(c),
                    Err(e) => self.notes.push(format!("tls: frame {frame}: {e}")),
                }
            }
            list = list.get(3 + len..).unwrap_or_default();
        }
        match dir {
            Dir::ToClient => {
                self.facts.certificate_frame = Some(frame);
                self.facts.certificates = certs;
            }
            Dir::ToServer => self.facts.client_certificates = certs,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn ja3_matches_the_published_example() {
        // The example in the JA3 README (salesforce/ja3), with a GREASE value added
        // to every list: GREASE is left out.
        let f = HelloFingerprint {
            legacy_version: 769,
            ciphers: &[
                0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4,
            ],
            exts: &[0, 0x1a1a, 10, 11],
            supported_versions: &[],
            has_sni: false,
            first_alpn: None,
            sig_algs: &[],
            groups: &[23, 0x2a2a, 24, 25],
            point_formats: &[0],
        };
        assert_eq!(f.ja3(), "ada70206e40642a3e4461f35503241d5");
        let mut s = String::new();
        push_joined(&mut s, [0, 7, 10, 65535, u32::MAX].into_iter());
        assert_eq!(s, "0-7-10-65535-4294967295");
        assert_eq!(hex4_list(&[0, 0x1301, 0xffff]), "0000,1301,ffff");
    }

    fn record(ct: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ct, 3, 3];
        r.extend((body.len() as u16).to_be_bytes());
        r.extend(body);
        r
    }

    fn hs(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend(body);
        m
    }

    fn ext(t: u16, data: &[u8]) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend((data.len() as u16).to_be_bytes());
        e.extend(data);
        e
    }

    /// A TLS 1.3-capable ClientHello with SNI `example.com`, ALPN h2, GREASE.
    pub(crate) fn client_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend([7; 32]);
        b.push(0);
        let ciphers: [u16; 4] = [0x2a2a, 0x1301, 0x1302, 0xc02f];
        b.extend(((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            b.extend(c.to_be_bytes());
        }
        b.extend([1, 0]);
        let mut exts = Vec::new();
        exts.extend(ext(0x1a1a, &[]));
        let name = b"example.com";
        let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend((name.len() as u16).to_be_bytes());
        sni.extend(name);
        exts.extend(ext(0x0000, &sni));
        exts.extend(ext(0x0010, &[0, 3, 2, b'h', b'2']));
        exts.extend(ext(0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]));
        exts.extend(ext(0x000b, &[1, 0]));
        exts.extend(ext(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]));
        exts.extend(ext(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]));
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(exts);
        record(CT_HANDSHAKE, &hs(1, &b))
    }

    fn server_hello(version13: bool, random: [u8; 32]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(random);
        b.push(0);
        b.extend(if version13 {
            [0x13, 0x01]
        } else {
            [0xc0, 0x2f]
        });
        b.push(0);
        let exts = if version13 {
            ext(0x002b, &[0x03, 0x04])
        } else {
            ext(0xff01, &[0])
        };
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(exts);
        hs(2, &b)
    }

    fn run(chunks: &[(Dir, Vec<u8>)]) -> (TlsFacts, crate::protocols::Notes) {
        let mut d = TlsDecoder::new();
        for (i, (dir, bytes)) in chunks.iter().enumerate() {
            d.on_data(*dir, bytes, FrameNo(i as u64 + 1), Timestamp(0));
        }
        d.finish()
    }

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let (f, notes) = run(&[(Dir::ToServer, client_hello())]);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.sni.as_deref(), Some("example.com"));
        assert_eq!(f.alpn.iter().map(|a| &**a).collect::<Vec<_>>(), vec!["h2"]);
        assert_eq!(
            f.supported_versions
                .iter()
                .map(|a| &**a)
                .collect::<Vec<_>>(),
            vec!["TLSv1.3", "TLSv1.2"]
        );
        assert_eq!(f.client_version.as_deref(), Some("TLSv1.2"));
        // 3 ciphers and 6 extensions once GREASE is left out.
        assert!(
            f.ja4.as_deref().unwrap().starts_with("t13d0306h2_"),
            "{:?}",
            f.ja4
        );
        assert_eq!(
            f.ja4_r.as_deref(),
            Some("t13d0306h2_1301,1302,c02f_000a,000b,000d,002b_0403,0804")
        );
        assert_eq!(f.ja3.as_deref().map(str::len), Some(32));
        assert_eq!(f.history, "C");
        assert_eq!(f.outcome, HandshakeOutcome::NoServerHello);
    }

    #[test]
    fn ja4_reference_example() {
        // The example of FoxIO's JA4 documentation / rust/ja4 unit test.
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let exts = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let sigs = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let fp = HelloFingerprint {
            legacy_version: 0x0303,
            ciphers: &ciphers,
            exts: &exts,
            supported_versions: &[0x0304, 0x0303],
            has_sni: true,
            first_alpn: Some(b"h2"),
            sig_algs: &sigs,
            groups: &[],
            point_formats: &[],
        };
        assert_eq!(fp.ja4().0, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn ja4_alpn_non_alphanumeric() {
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(None), "00");
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa));
        assert!(!is_grease(0x0a1a) && !is_grease(0xeeee));
    }

    #[test]
    fn record_split_at_every_offset() {
        let ch = client_hello();
        for cut in 0..=ch.len() {
            let (f, notes) = run(&[
                (Dir::ToServer, ch[..cut].to_vec()),
                (Dir::ToServer, ch[cut..].to_vec()),
            ]);
            assert_eq!(
                f.sni.as_deref(),
                Some("example.com"),
                "cut {cut}: {notes:?}"
            );
        }
    }

    #[test]
    fn handshake_message_split_across_records() {
        let ch = client_hello();
        let msg = &ch[5..];
        let (a, b) = msg.split_at(10);
        let mut bytes = record(CT_HANDSHAKE, a);
        bytes.extend(record(CT_HANDSHAKE, b));
        let (f, _) = run(&[(Dir::ToServer, bytes)]);
        assert_eq!(f.sni.as_deref(), Some("example.com"));
    }

    #[test]
    fn alert_after_certificate_tls12() {
        let mut flight = record(CT_HANDSHAKE, &server_hello(false, [1; 32]));
        // Certificate message with one garbage "certificate".
        let mut certs = vec![0, 0, 7, 0, 0, 4];
        certs.extend(b"junk");
        flight.extend(record(CT_HANDSHAKE, &hs(11, &certs)));
        flight.extend(record(CT_HANDSHAKE, &hs(14, &[])));
        let (f, notes) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, flight),
            (Dir::ToServer, record(CT_ALERT, &[2, 48])),
        ]);
        assert_eq!(f.version.as_deref(), Some("TLSv1.2"));
        assert_eq!(
            f.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        assert_eq!(f.history, "CsxnL");
        let a = &f.alerts[0];
        assert_eq!(
            (
                a.from,
                a.level.as_deref(),
                a.description.as_deref(),
                a.frame,
                a.after
            ),
            (
                "client",
                Some("fatal"),
                Some("unknown_ca"),
                FrameNo(3),
                Some("server_hello_done")
            )
        );
        assert!(!f.established);
        assert_eq!(f.outcome, HandshakeOutcome::ClientAlert);
        assert!(
            notes.iter().any(|n| n.contains("bad certificate")),
            "{notes:?}"
        );
    }

    #[test]
    fn server_alert_handshake_failure() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, record(CT_ALERT, &[2, 40])),
        ]);
        assert_eq!(f.history, "Cl");
        assert_eq!(f.alerts[0].after, Some("client_hello"));
        assert_eq!(f.outcome, HandshakeOutcome::ServerAlert);
    }

    fn tls13_server_flight() -> Vec<u8> {
        let mut b = record(CT_HANDSHAKE, &server_hello(true, [2; 32]));
        b.extend(record(CT_CCS, &[1]));
        b.extend(record(CT_APP_DATA, &[0x55; 2000]));
        b
    }

    #[test]
    fn tls13_completed() {
        let mut client = record(CT_CCS, &[1]);
        client.extend(record(CT_APP_DATA, &[0x66; 53]));
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
            (Dir::ToServer, client),
        ]);
        assert_eq!(f.version.as_deref(), Some("TLSv1.3"));
        assert_eq!(f.history, "CsiI");
        assert!(f.established);
        assert_eq!(f.outcome, HandshakeOutcome::Established);
    }

    #[test]
    fn tls13_client_encrypted_alert() {
        let mut client = record(CT_CCS, &[1]);
        client.extend(record(CT_APP_DATA, &[0x66; 19]));
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
            (Dir::ToServer, client),
        ]);
        assert!(!f.established);
        assert_eq!(f.outcome, HandshakeOutcome::ClientEncryptedAlert);
    }

    #[test]
    fn tls13_client_silent() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (Dir::ToClient, tls13_server_flight()),
        ]);
        assert_eq!(f.outcome, HandshakeOutcome::ClientSilentAfterServerFlight);
    }

    #[test]
    fn hello_retry_request() {
        let (f, _) = run(&[
            (Dir::ToServer, client_hello()),
            (
                Dir::ToClient,
                record(CT_HANDSHAKE, &server_hello(true, HRR_RANDOM)),
            ),
        ]);
        assert!(f.hello_retry_request);
        assert_eq!(f.history, "Cj");
    }

    #[test]
    fn impossible_lengths_and_garbage() {
        // Record longer than allowed.
        let (_, notes) = run(&[(Dir::ToServer, vec![22, 3, 1, 0xff, 0xff, 1, 2])]);
        assert!(notes.iter().any(|n| n.contains("not a TLS record")));
        // Handshake message claiming 16 MiB.
        let (_, notes) = run(&[(
            Dir::ToServer,
            record(CT_HANDSHAKE, &[1, 0xff, 0xff, 0xff, 0]),
        )]);
        assert!(
            notes.iter().any(|n| n.contains("exceeds 64 KiB")),
            "{notes:?}"
        );
        // Every truncation of a hello and of a flight.
        let ch = client_hello();
        for n in 0..ch.len() {
            let mut body = ch[5..].to_vec();
            body.truncate(n.min(body.len()));
            let _ = run(&[(Dir::ToServer, record(CT_HANDSHAKE, &body))]);
            let _ = run(&[(Dir::ToServer, ch[..n].to_vec())]);
        }
    }
}
