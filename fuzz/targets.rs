//! The fuzz targets' bodies, shared by `cargo fuzz` (fuzz/fuzz_targets/*.rs) and by the
//! regression replay in `cargo test` (tests/it/fuzz_regressions.rs), so a crash input
//! replays through exactly the code that found it. Each function takes arbitrary bytes
//! and panics only on a broken invariant.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Pcap writing shared with the integration tests (which also load it as
/// `common::synth`: one copy of the code, two module paths in those test crates).
#[allow(clippy::duplicate_mod)]
#[path = "../tests/it/common/synth.rs"]
mod synth;

use trafficdoc::capture::{FileReader, LinkType};
use trafficdoc::decode::tcp::{Limits, Reassembler, SeqNo, StreamSink};
use trafficdoc::decode::{ip, link};
use trafficdoc::flow::table::TableConfig;
use trafficdoc::model::{Dir, FrameNo, Timestamp};
use trafficdoc::pipeline;
use trafficdoc::protocols::dns;
use trafficdoc::protocols::http::{AuthHeader, parse_challenges, parse_credentials};
use trafficdoc::protocols::http2::{H2Decoder, PREFACE};
use trafficdoc::protocols::tls::TlsDecoder;
use trafficdoc::protocols::{DecodeCtx, ntlm, x509};
use trafficdoc::report::{self, Report};

/// Target names, as folders under tests/regressions/ and fuzz/corpus/.
pub const TARGETS: [&str; 11] = [
    "capture_reader",
    "link_frame",
    "tcp_reassembler",
    "http_dialogue",
    "auth_headers",
    "tls_records",
    "http2_frames",
    "x509_der",
    "dns_message",
    "end_to_end",
    "secrets_leak",
];

/// Runs the named target on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "capture_reader" => capture_reader(data),
        "link_frame" => link_frame(data),
        "tcp_reassembler" => tcp_reassembler(data),
        "http_dialogue" => http_dialogue(data),
        "auth_headers" => auth_headers(data),
        "tls_records" => tls_records(data),
        "http2_frames" => http2_frames(data),
        "x509_der" => x509_der(data),
        "dns_message" => dns_message(data),
        "end_to_end" => end_to_end(data),
        "secrets_leak" => secrets_leak(data),
        _ => panic!("no fuzz target {target}"),
    }
}

/// The pcap/pcapng reader on arbitrary file bytes: every packet it returns lies inside
/// the input, and it stops (cleanly or with a truncation) instead of panicking.
pub fn capture_reader(data: &[u8]) {
    let Ok(mut r) = FileReader::new("fuzz", data) else {
        return;
    };
    let mut frames = 0u64;
    while let Ok(Some(p)) = r.next_packet() {
        frames += 1;
        assert_eq!(p.frame.0, frames);
        assert!(p.data.len() <= data.len());
        assert!(u64::from(p.orig_len) >= p.data.len() as u64);
    }
    assert!(r.bytes_read() <= data.len() as u64);
}

const LINKS: [LinkType; 10] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW_12,
    LinkType::RAW_14,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
];

/// One frame per link type: the first byte picks the link type, the rest is the frame,
/// through `link::strip` and `ip::parse`.
pub fn link_frame(data: &[u8]) {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(pick) % LINKS.len()];
    if let Ok((_, l3)) = link::strip(link, frame) {
        assert!(l3.len() <= frame.len());
        let _ = ip::parse(l3);
    }
    // Straight into the IP parser as well (raw IP links).
    let _ = ip::parse(frame);
}

fn pattern(off: u64) -> u8 {
    (off.wrapping_mul(31).wrapping_add(off >> 8) ^ 0x5a) as u8
}

struct Check {
    pos: u64,
}

impl StreamSink for Check {
    fn data(&mut self, bytes: &[u8], _frame: FrameNo, _ts: Timestamp) {
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(
                *b,
                pattern(self.pos + i as u64),
                "byte at {}",
                self.pos + i as u64
            );
        }
        self.pos += bytes.len() as u64;
    }
    fn gap(&mut self, len: u64) {
        self.pos += len;
    }
    fn wants_data(&self) -> bool {
        true
    }
}

/// The TCP reassembler on arbitrary segment sequences with small caps. Every segment
/// carries the bytes of one fixed pattern at its sequence offset, so whatever order,
/// overlap or loss, each delivered byte must be the pattern's byte at its offset.
pub fn tcp_reassembler(data: &[u8]) {
    if data.len() < 6 {
        return;
    }
    let isn = SeqNo(u32::from_le_bytes([data[0], data[1], data[2], data[3]]));
    let limits = Limits {
        max_buffered_bytes: 1 + usize::from(data[4]) * 16,
        max_buffered_segments: 1 + usize::from(data[5] % 16),
    };
    let mut r = Reassembler::default();
    let mut sink = Check { pos: 0 };
    // The SYN fixes the stream start first: the pattern's offsets are relative to it.
    // (The first fuzz run "found" that an empty segment before the SYN picks the
    // stream up mid-way at its own sequence number, which is right, and the check's
    // offsets were then wrong: tests/regressions/tcp_reassembler/empty-segment-before-syn.)
    r.on_syn(isn);
    // Each op: 4 bytes: kind/len, offset (2 bytes), extra.
    for (i, op) in data[6..].chunks_exact(4).enumerate() {
        let frame = FrameNo(i as u64 + 1);
        let ts = Timestamp(i as i64);
        let off = u64::from(u16::from_le_bytes([op[1], op[2]]));
        let seq = isn + 1 + off as usize;
        match op[0] % 8 {
            // A retransmitted SYN.
            0 => r.on_syn(isn),
            1 => r.acked(seq, &mut sink),
            2 => r.empty_segment(seq),
            _ => {
                let len = u64::from(op[3]) + 1;
                let payload: Vec<u8> = (0..len).map(|k| pattern(off + k)).collect();
                // Sometimes the snap length cut the tail.
                let captured = if op[0] & 0x80 != 0 {
                    &payload[..payload.len() / 2]
                } else {
                    &payload[..]
                };
                r.segment(seq, captured, len as u32, frame, ts, &limits, &mut sink);
            }
        }
        assert!(
            r.buffered() <= limits.max_buffered_bytes + 256,
            "held {}",
            r.buffered()
        );
    }
    r.finish(&mut sink);
}

/// The HTTP proxy dialogue (and whatever the stream decoder sniffs: TLS, SOCKS, DNS
/// over TCP, tunnels) fed arbitrary chunks in both directions, gaps included.
pub fn http_dialogue(data: &[u8]) {
    let Some((&ports, mut rest)) = data.split_first() else {
        return;
    };
    let server_port = [8080u16, 3128, 443, 1080, 53, 80, 8443, 9999][usize::from(ports % 8)];
    let cx = &mut DecodeCtx::default();
    let mut d = cx.decoders().stream(40000, server_port);
    let mut frame = 0u64;
    // Chunks: one control byte (direction, gap flag, length), then the bytes.
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let len = usize::from(ctl >> 2) * 4 + 1;
        if ctl & 2 != 0 && ctl & 0x40 != 0 {
            d.on_gap(cx, dir, len as u64);
            rest = tail;
            continue;
        }
        let (chunk, next) = tail.split_at(len.min(tail.len()));
        frame += 1;
        if d.wants_data(dir) {
            d.on_data(
                cx,
                dir,
                chunk,
                FrameNo(frame),
                Timestamp(frame as i64 * 1000),
            );
        }
        rest = next;
    }
    let facts = d.finish();
    let _ = trafficdoc::report::prose::summary(&facts);
    let _ = format!("{facts:?}");
}

/// Authentication headers: Basic, Digest, NTLM type 1/2/3, Negotiate/SPNEGO, bearer,
/// through `parse_challenges`, `parse_credentials` and the NTLM parser.
pub fn auth_headers(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let header = [
        AuthHeader::ProxyAuthenticate,
        AuthHeader::WwwAuthenticate,
        AuthHeader::ProxyAuthorization,
        AuthHeader::Authorization,
    ][usize::from(pick % 4)];
    let value = String::from_utf8_lossy(rest);
    let challenges = parse_challenges(header, &value);
    let _ = format!("{challenges:?}");
    let creds = parse_credentials(header, &value);
    let _ = format!("{creds:?}");
    if let Ok(m) = ntlm::parse(rest) {
        let _ = format!("{m:?}");
    }
    if let Some(inner) = ntlm::find_in_spnego(rest) {
        let _ = ntlm::parse(inner);
    }
    let _ = ntlm::spnego_mentions_kerberos(rest);
}

/// TLS records (handshake, alerts, certificates) fed in both directions in arbitrary
/// chunks to the TLS decoder.
pub fn tls_records(data: &[u8]) {
    let cx = &mut DecodeCtx::default();
    let mut d = TlsDecoder::new();
    let mut rest = data;
    let mut frame = 0u64;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let len = usize::from(ctl >> 1) * 8 + 1;
        let (chunk, next) = tail.split_at(len.min(tail.len()));
        frame += 1;
        if d.wants_data(dir) {
            d.on_data(cx, dir, chunk, FrameNo(frame), Timestamp(frame as i64));
        }
        rest = next;
    }
    let (facts, notes) = d.finish();
    let _ = format!("{facts:?} {notes:?}");
}

/// HTTP/2 frames and header blocks (decrypted TLS application data) fed in both
/// directions in arbitrary chunks, after the client's connection preface; a lost
/// record (`on_gap`) when a chunk's control byte asks for one.
pub fn http2_frames(data: &[u8]) {
    let exchanges = http2_frames_facts(data);
    let _ = format!("{exchanges:?}");
}

/// What [`http2_frames`] decodes: the exchanges, and the notes.
pub fn http2_frames_facts(
    data: &[u8],
) -> (Vec<trafficdoc::protocols::http::HttpExchange>, Vec<String>) {
    let cx = &mut DecodeCtx::default();
    let mut d = H2Decoder::new();
    d.on_data(cx, Dir::ToServer, PREFACE, FrameNo(1), Timestamp(1));
    let mut rest = data;
    let mut frame = 1u64;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        if ctl == 0xff {
            d.on_gap(dir);
            rest = tail;
            continue;
        }
        let len = usize::from(ctl >> 1) * 8 + 1;
        let (chunk, next) = tail.split_at(len.min(tail.len()));
        frame += 1;
        if d.wants_data(dir) {
            d.on_data(cx, dir, chunk, FrameNo(frame), Timestamp(frame as i64));
        }
        assert!(d.held(dir) <= 9 + (1 << 16) + (1 << 16) + (1 << 14));
        rest = next;
    }
    let (exchanges, notes) = d.finish();
    (exchanges, notes.into_report().0)
}

/// Certificates: `x509::parse_der` on arbitrary DER.
pub fn x509_der(data: &[u8]) {
    if let Ok(info) = x509::parse_der(data) {
        let _ = format!("{info:?}");
    }
}

/// DNS messages: the parser, and the UDP tracker pairing queries and answers.
pub fn dns_message(data: &[u8]) {
    let _ = dns::parse(data);
    let cx = &mut DecodeCtx::default();
    let mut t = cx.decoders().dns_udp();
    let c = "10.0.0.2:40000".parse().unwrap();
    let s = "10.0.0.1:53".parse().unwrap();
    // The same bytes as a query, then halves as answer and query.
    t.on_datagram(cx, c, s, Dir::ToServer, data, FrameNo(1), Timestamp(1));
    let (a, b) = data.split_at(data.len() / 2);
    t.on_datagram(cx, c, s, Dir::ToClient, a, FrameNo(2), Timestamp(2));
    t.on_datagram(cx, c, s, Dir::ToClient, b, FrameNo(3), Timestamp(3));
    let _ = format!("{:?}", t.finish());
}

/// End to end: capture bytes → analyze_reader → JSON and table reports.
pub fn end_to_end(data: &[u8]) {
    // Small caps, so they are reached.
    let cfg = TableConfig {
        limits: Limits {
            max_buffered_bytes: 4096,
            max_buffered_segments: 16,
        },
        max_total_buffered: 16 * 1024,
        max_flows: 8,
        max_records: 16,
        ..TableConfig::default()
    };
    let Ok(c) = pipeline::analyze_reader("fuzz", data, cfg, &mut |_| {}) else {
        return;
    };
    // The rules see every capture too: they must not panic on what the decoders made
    // of arbitrary bytes.
    let (json, _table) = reports(&[c]);
    let _: serde_json::Value = serde_json::from_str(&json).unwrap();
}

/// The rules over `captures`, then the JSON report and the table (100 columns).
fn reports(captures: &[pipeline::CaptureAnalysis]) -> (String, String) {
    let acfg = trafficdoc::analyze::Config::default();
    let (findings, summary) = trafficdoc::analyze::diagnose(captures, &acfg);
    let r = Report {
        captures,
        findings: &findings,
        summary: &summary,
    };
    let json = serde_json::to_string_pretty(&report::json::build(&r)).unwrap();
    let mut table = Vec::new();
    report::table::write(&r, &mut table, Some(100)).unwrap();
    (json, String::from_utf8_lossy(&table).into_owned())
}

// ---- secrets_leak -------------------------------------------------------------------
//
// The rule "credentials, NTLM responses, cookies and API keys never appear in any
// output" under corrupted input. The input does not supply the secrets: it drives the
// bytes AROUND fixed canaries (which fragments come in which order and direction, the
// separators and line ends of the credential headers, junk before and after them, the
// header fields of an NTLM type 3 message, chunk sizes). Each canary's own bytes stay
// intact in the stream. The streams go through `StreamDecoder` and, wrapped in a pcap,
// through the whole pipeline; no leak form of a canary may appear in the facts' Debug
// and JSON, the notes, the JSON report or the table.

/// Basic password (the user name before the ':' is printed on purpose, not this).
const LEAK_BASIC_PW: &str = "CANARYpw-Basic-5d2e81a7";
/// Bearer token: `mask_key` shows its type prefix and last 4 characters on purpose.
const LEAK_BEARER: (&str, &str, &str) =
    ("sk-ant-oat01-", "CANARYbearerMIDDLE7f3a9c1e", "-tail9x2Q");
/// API key (x-api-key header and quoted in a JSON error message), masked likewise.
const LEAK_API_KEY: (&str, &str, &str) = ("sk-proj-", "CANARYapikeyMIDDLE0b8d4e21", "-end7Kp1");
const LEAK_COOKIE: &str = "CANARYcookie-4a9f0c7e2b";
/// Digest `response=` (derived from the password).
const LEAK_DIGEST: &str = "6e1d7a0c41CANARYd1gest9b2f3e8a7c";
const LEAK_LM: &[u8] = b"LMRESP-CANARY-0123456789";
const LEAK_NT: &[u8] =
    b"\x8a\x17NTRESP-CANARY-v2proof\x00\x01\x02\xfe\xff-NTLMv2-blob-CANARY-31415";
const LEAK_SESSION_KEY: &[u8] = b"SKEY-CANARY-0916";

/// What is checked: each secret, or the part of it that masking never shows.
fn leak_canaries() -> Vec<Vec<u8>> {
    vec![
        LEAK_BASIC_PW.into(),
        LEAK_BEARER.1.into(),
        LEAK_API_KEY.1.into(),
        LEAK_COOKIE.into(),
        LEAK_DIGEST.into(),
        LEAK_LM.into(),
        LEAK_NT.into(),
        // The readable runs of the NT response, should its bytes be shown as text.
        b"NTRESP-CANARY-v2proof".to_vec(),
        b"-NTLMv2-blob-CANARY-31415".to_vec(),
        LEAK_SESSION_KEY.into(),
    ]
}

fn b64_encode(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Every form in which a secret could leak into text output (tests/it/secrets.rs uses it too):
/// raw, JSON-escaped, hex (both cases), base64 at its three alignments, URL-safe
/// base64, URL-encoded (both cases).
pub fn leak_forms(secret: &[u8]) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(s) = std::str::from_utf8(secret) {
        v.push(s.to_string());
        v.push(
            serde_json::to_string(s)
                .unwrap()
                .trim_matches('"')
                .to_string(),
        );
    }
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    v.push(hex.to_uppercase());
    v.push(hex);
    for pad in 0..3 {
        let mut b = vec![b'x'; pad];
        b.extend_from_slice(secret);
        let e = b64_encode(&b);
        let skip = if pad == 0 { 0 } else { 4 };
        let keep = (secret.len() * 4 / 3).saturating_sub(4);
        if keep >= 6 {
            v.push(e.chars().skip(skip).take(keep).collect());
        }
    }
    v.push({
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    });
    for lower in [false, true] {
        v.push(
            secret
                .iter()
                .map(|&b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else if lower {
                        format!("%{b:02x}")
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect(),
        );
    }
    v.sort();
    v.dedup();
    v.retain(|f| f.len() >= 6);
    v
}

fn leak_forms_all() -> &'static [(Vec<u8>, Vec<String>)] {
    static FORMS: std::sync::OnceLock<Vec<(Vec<u8>, Vec<String>)>> = std::sync::OnceLock::new();
    FORMS.get_or_init(|| {
        leak_canaries()
            .into_iter()
            .map(|c| {
                let f = leak_forms(&c);
                (c, f)
            })
            .collect()
    })
}

/// The first leak form of a canary found in `text`: (canary, form, byte offset).
fn find_leak(text: &str) -> Option<(&'static [u8], &'static str, usize)> {
    for (c, forms) in leak_forms_all() {
        for f in forms {
            if let Some(at) = text.find(f.as_str()) {
                return Some((c, f, at));
            }
        }
    }
    None
}

fn assert_no_leak(text: &str, what: &str) {
    if let Some((c, form, at)) = find_leak(text) {
        let b = text.as_bytes();
        let excerpt = &b[at.saturating_sub(300)..(at + form.len() + 200).min(b.len())];
        panic!(
            "secret {:?} leaked as {form:?} in the {what}:\n{}",
            String::from_utf8_lossy(c),
            String::from_utf8_lossy(excerpt)
        );
    }
}

/// Bytes read off the fuzzer input; zeros once it is used up.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
}

/// Plain fragments: start lines, harmless headers, bodies and bare separators.
const LEAK_FRAGMENTS: &[&str] = &[
    "GET http://intranet.example/ HTTP/1.1\r\n",
    "CONNECT api.example.com:443 HTTP/1.1\r\n",
    "POST http://api.example.com/v1/messages HTTP/1.1\r\n",
    "Host: api.example.com\r\n",
    "User-Agent: curl/8.5.0\r\n",
    "Via: 1.1 squid\r\n",
    "Proxy-Connection: keep-alive\r\n",
    "Content-Length: 2\r\n",
    "Transfer-Encoding: chunked\r\n",
    "\r\n",
    "{}",
    "HTTP/1.1 407 Proxy Authentication Required\r\n",
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.1 401 Unauthorized\r\n",
    "Proxy-Authenticate: NTLM\r\n",
    "Proxy-Authenticate: Basic realm=\"corp\"\r\n",
    "Server: squid/5.7\r\n",
    "Content-Type: application/json\r\n",
    "X-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\n",
    "Retry-After: 5\r\n",
    "5\r\nhello\r\n0\r\n\r\n",
    "Content-Length: 0\r\n",
    "HTTP/1.1 502 Bad Gateway\r\n",
    "HTTP/1.0 200 Connection established\r\n",
    ": ",
    " ",
    "\r",
    "\n",
    "\t",
    ",",
    "\"",
    "WWW-Authenticate: Negotiate\r\n",
];

/// An NTLM type 3 message with canary LM/NT responses and session key; the input
/// picks the flags (Unicode or OEM strings, version) and may move the domain, user and
/// workstation fields anywhere, as a corrupted message would.
fn leak_ntlm_type3(inp: &mut Input<'_>) -> Vec<u8> {
    let flags_pick = inp.byte();
    let unicode = flags_pick & 1 != 0;
    let enc = |s: &str| -> Vec<u8> {
        if unicode {
            s.encode_utf16().flat_map(|c| c.to_le_bytes()).collect()
        } else {
            s.as_bytes().to_vec()
        }
    };
    let (domain, user, ws) = (enc("CORP"), enc("alice"), enc("WS01"));
    let fields: [&[u8]; 6] = [LEAK_LM, LEAK_NT, &domain, &user, &ws, LEAK_SESSION_KEY];
    let mut flags = 0xa288_8204u32 | u32::from(unicode);
    if flags_pick & 2 == 0 {
        flags &= !0x0200_0000;
    }
    // Domain, user, workstation: the input may point them elsewhere.
    ntlm_type3(fields, flags, |i| {
        ((2..5).contains(&i) && inp.byte() & 1 != 0).then(|| (inp.byte().into(), inp.byte().into()))
    })
}

/// An NTLM type 3 (AUTHENTICATE) message: `fields` are the LM and NT responses,
/// domain, user, workstation and session key, laid out in that order after the
/// header, then `flags`. `moved(i)` may give field `i` another length and offset, as
/// in a corrupted message.
pub fn ntlm_type3(
    fields: [&[u8]; 6],
    flags: u32,
    mut moved: impl FnMut(usize) -> Option<(u16, u32)>,
) -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut off = 8 + 4 + 6 * 8 + 4;
    let mut payload = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        let (len, at) = moved(i).unwrap_or((f.len() as u16, off as u32));
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&at.to_le_bytes());
        off += f.len();
        payload.extend_from_slice(f);
    }
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&payload);
    m
}

/// The streams the input describes: (direction, bytes) in the order sent, and the
/// byte ranges of each direction's stream that hold canaries.
struct LeakStreams {
    segments: Vec<(Dir, Vec<u8>)>,
    protected: [Vec<(usize, usize)>; 2],
    len: [usize; 2],
}

impl LeakStreams {
    fn push(&mut self, dir: Dir, bytes: &[u8], secret: bool) {
        let d = dir.index();
        if secret {
            self.protected[d].push((self.len[d], self.len[d] + bytes.len()));
        }
        self.len[d] += bytes.len();
        match self.segments.last_mut() {
            Some((last, b)) if *last == dir => b.extend_from_slice(bytes),
            _ => self.segments.push((dir, bytes.to_vec())),
        }
    }
    fn stream(&self, dir: Dir) -> Vec<u8> {
        self.segments
            .iter()
            .filter(|(d, _)| *d == dir)
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }
}

/// A credential header line: name (in a case the input picks), separator, value
/// prefix, the protected secret, junk, line end.
fn leak_header(
    s: &mut LeakStreams,
    inp: &mut Input<'_>,
    dir: Dir,
    name: &str,
    prefix: &str,
    secret: &[u8],
    suffix: &str,
) {
    let ctl = inp.byte();
    let name = match ctl & 3 {
        0 => name.to_string(),
        1 => name.to_ascii_lowercase(),
        2 => name.to_ascii_uppercase(),
        _ => name.replace('-', "_"),
    };
    s.push(dir, name.as_bytes(), false);
    let sep: &[u8] = [b": ".as_slice(), b":", b":\t", b":   "][usize::from(ctl >> 2 & 3)];
    s.push(dir, sep, false);
    // The space between scheme and token (where a corrupted byte once made a Bearer
    // token print as the scheme).
    let prefix = match (ctl >> 4 & 3, prefix.strip_suffix(' ')) {
        (1, Some(p)) => format!("{p}\t"),
        (2, Some(p)) => format!("{p}  "),
        (3, Some(p)) => {
            // A byte in place of the space, or a few between the space and the token.
            let k = inp.byte();
            let extra: String = inp
                .bytes(usize::from(k % 4))
                .iter()
                .map(|&b| char::from(b))
                .collect();
            if k & 4 == 0 {
                format!("{p}{}", char::from(k))
            } else {
                format!("{p} {extra}")
            }
        }
        _ => prefix.to_string(),
    };
    s.push(dir, prefix.as_bytes(), false);
    s.push(dir, secret, true);
    let n = usize::from(inp.byte() % 8);
    let junk = inp.bytes(n).to_vec();
    s.push(dir, &junk, false);
    s.push(dir, suffix.as_bytes(), false);
    let eol: &[u8] = match ctl >> 6 {
        0 => b"\r\n",
        1 => b"\n",
        2 => b"",
        _ => &[inp.byte()],
    };
    s.push(dir, eol, false);
}

fn leak_streams(inp: &mut Input<'_>) -> LeakStreams {
    let mut s = LeakStreams {
        segments: Vec::new(),
        protected: [Vec::new(), Vec::new()],
        len: [0, 0],
    };
    let mut ops = 0;
    while !inp.0.is_empty() && ops < 64 {
        ops += 1;
        let op = inp.byte();
        let dir = if op & 0x80 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        match op & 0x7f {
            // A plain fragment, whole or cut short.
            k @ 0..=63 => {
                let f = LEAK_FRAGMENTS[usize::from(k) % LEAK_FRAGMENTS.len()].as_bytes();
                let cut = if k >= 32 {
                    usize::from(inp.byte()) % f.len().max(1)
                } else {
                    f.len()
                };
                s.push(dir, &f[..cut], false);
            }
            // Raw bytes from the input.
            64..=79 => {
                let n = usize::from(inp.byte() % 32);
                let b = inp.bytes(n).to_vec();
                s.push(dir, &b, false);
            }
            80..=83 => {
                let user = ["bob", "al", "carol", ""][usize::from(op & 3)];
                let token = b64_encode(format!("{user}:{LEAK_BASIC_PW}").as_bytes());
                let name = if op & 1 == 0 {
                    "Proxy-Authorization"
                } else {
                    "Authorization"
                };
                leak_header(&mut s, inp, dir, name, "Basic ", token.as_bytes(), "");
            }
            84 => {
                let t = [LEAK_BEARER.0, LEAK_BEARER.1, LEAK_BEARER.2].concat();
                leak_header(
                    &mut s,
                    inp,
                    dir,
                    "Authorization",
                    "Bearer ",
                    t.as_bytes(),
                    "",
                );
            }
            85 => {
                let t = [LEAK_BEARER.0, LEAK_BEARER.1, LEAK_BEARER.2].concat();
                leak_header(
                    &mut s,
                    inp,
                    dir,
                    "Proxy-Authorization",
                    "Bearer ",
                    t.as_bytes(),
                    "",
                );
            }
            86 | 87 => {
                let t = [LEAK_API_KEY.0, LEAK_API_KEY.1, LEAK_API_KEY.2].concat();
                let name = if op & 1 == 0 { "x-api-key" } else { "api-key" };
                leak_header(&mut s, inp, dir, name, "", t.as_bytes(), "");
            }
            88 => leak_header(
                &mut s,
                inp,
                dir,
                "Cookie",
                "session=",
                LEAK_COOKIE.as_bytes(),
                "; theme=dark",
            ),
            89 => leak_header(
                &mut s,
                inp,
                dir,
                "Set-Cookie",
                "session=",
                LEAK_COOKIE.as_bytes(),
                "; HttpOnly",
            ),
            90 | 91 => {
                // Digest: the input picks what separates username from response (a
                // lost comma), and their order.
                let sep = match inp.byte() % 5 {
                    0 => ", ".to_string(),
                    1 => ",".to_string(),
                    2 => " ".to_string(),
                    3 => String::new(),
                    _ => char::from(inp.byte()).to_string(),
                };
                let name = if op & 1 == 0 {
                    "Proxy-Authorization"
                } else {
                    "Authorization"
                };
                let secret = LEAK_DIGEST.as_bytes();
                if inp.byte() & 1 == 0 {
                    let prefix = format!("Digest realm=\"corp\", username=\"bob\"{sep}response=\"");
                    leak_header(&mut s, inp, dir, name, &prefix, secret, "\"");
                } else {
                    let suffix = format!("\"{sep}username=\"bob\"");
                    leak_header(
                        &mut s,
                        inp,
                        dir,
                        name,
                        "Digest response=\"",
                        secret,
                        &suffix,
                    );
                }
            }
            92 | 93 => {
                let mut blob = Vec::new();
                let scheme = if op & 1 == 0 {
                    "NTLM "
                } else {
                    // SPNEGO wrapping: some bytes before the NTLMSSP message.
                    let n = usize::from(inp.byte() % 16);
                    blob.extend_from_slice(inp.bytes(n));
                    "Negotiate "
                };
                blob.extend(leak_ntlm_type3(inp));
                let token = b64_encode(&blob);
                leak_header(
                    &mut s,
                    inp,
                    dir,
                    "Proxy-Authorization",
                    scheme,
                    token.as_bytes(),
                    "",
                );
            }
            94 | 95 => {
                // A JSON error response quoting the API key, junk on either side.
                let before = inp.byte() % 8;
                let before = inp.bytes(before.into()).to_vec();
                let after = inp.byte() % 8;
                let after = inp.bytes(after.into()).to_vec();
                let key = [LEAK_API_KEY.0, LEAK_API_KEY.1, LEAK_API_KEY.2].concat();
                let mut body = b"{\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key ".to_vec();
                body.extend_from_slice(&before);
                let key_at = body.len();
                body.extend_from_slice(key.as_bytes());
                body.extend_from_slice(&after);
                body.extend_from_slice(b"\"}}");
                // Odd: the body cut short before its end (the hand-made JSON reader).
                let cut = if op & 1 == 0 {
                    body.len()
                } else {
                    body.len() - 3
                };
                let head = format!(
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                s.push(dir, head.as_bytes(), false);
                s.push(dir, &body[..key_at], false);
                s.push(dir, key.as_bytes(), true);
                s.push(dir, &body[key_at + key.len()..cut], false);
            }
            _ => {}
        }
    }
    s
}

/// A pcap of the streams on one TCP connection 10.0.0.2:40000 → 10.0.0.1:3128, in the
/// order sent, in segments of at most `mss` bytes.
fn leak_pcap(s: &LeakStreams, mss: usize) -> Vec<u8> {
    let (cl, sv) = (([10, 0, 0, 2], 40000), ([10, 0, 0, 1], 3128));
    let mut p = synth::Pcap::new();
    let (mut c, mut v) = (1000u32, 9000u32);
    p.tcp(cl, sv, c, 0, 0x02, &[]);
    p.tcp(sv, cl, v, c + 1, 0x12, &[]);
    c += 1;
    v += 1;
    p.tcp(cl, sv, c, v, 0x10, &[]);
    for (dir, bytes) in &s.segments {
        for chunk in bytes.chunks(mss) {
            if *dir == Dir::ToServer {
                p.tcp(cl, sv, c, v, 0x18, chunk);
                c += chunk.len() as u32;
            } else {
                p.tcp(sv, cl, v, c, 0x18, chunk);
                v += chunk.len() as u32;
            }
        }
    }
    p.tcp(cl, sv, c, v, 0x11, &[]);
    p.tcp(sv, cl, v, c + 1, 0x11, &[]);
    p.tcp(cl, sv, c + 1, v + 1, 0x10, &[]);
    p.bytes
}

/// The stream decoder on both directions, in pieces of `piece` bytes.
fn leak_decode(s: &LeakStreams, ports: u8, piece: usize) -> trafficdoc::protocols::AppFacts {
    let server_port = [3128u16, 8080, 80, 443][usize::from(ports & 3)];
    let cx = &mut DecodeCtx::default();
    let mut d = cx.decoders().stream(40000, server_port);
    let mut frame = 0u64;
    for (dir, bytes) in &s.segments {
        for chunk in bytes.chunks(piece) {
            frame += 1;
            if d.wants_data(*dir) {
                d.on_data(
                    cx,
                    *dir,
                    chunk,
                    FrameNo(frame),
                    Timestamp(frame as i64 * 1000),
                );
            }
        }
    }
    d.finish()
}

/// What the stream decoder made of a secrets_leak input: lets the regression test
/// check that its seeds carry credentials the decoder does see.
/// A secrets_leak input: its header (ports and segment size, stream piece size), then
/// the streams its ops build.
struct LeakInput {
    ports: u8,
    piece: usize,
    mss: usize,
    streams: LeakStreams,
}

fn leak_input(data: &[u8]) -> LeakInput {
    let mut inp = Input(data);
    let ports = inp.byte();
    let piece = usize::from(inp.byte() % 64) + 1;
    LeakInput {
        ports,
        piece,
        mss: [1400, 536, 100, 17][usize::from(ports >> 4 & 3)],
        streams: leak_streams(&mut inp),
    }
}

pub fn secrets_leak_facts(data: &[u8]) -> trafficdoc::protocols::AppFacts {
    let l = leak_input(data);
    leak_decode(&l.streams, l.ports, l.piece)
}

/// Panics if `text` holds a form of a secrets_leak canary (for the self-test).
pub fn secrets_leak_check(text: &str) {
    assert_no_leak(text, "text");
}

/// Secrets in corrupted proxy dialogues never reach any output (see above).
pub fn secrets_leak(data: &[u8]) {
    let LeakInput {
        ports,
        piece,
        mss,
        streams: s,
    } = leak_input(data);
    // Fair test: the canaries are in the streams only where the harness put them. If
    // the input spelled one itself elsewhere, printing it would be no leak.
    for dir in [Dir::ToServer, Dir::ToClient] {
        let mut masked = s.stream(dir);
        for &(a, b) in &s.protected[dir.index()] {
            masked[a..b].fill(0);
        }
        if find_leak(&String::from_utf8_lossy(&masked)).is_some() {
            return;
        }
    }

    let facts = leak_decode(&s, ports, piece);
    let text = format!(
        "{facts:?}\n{}\n{}",
        serde_json::to_string(&report::json::schema::App::from(&facts)).unwrap(),
        trafficdoc::report::prose::summary(&facts)
    );
    assert_no_leak(&text, "stream decoder's facts");

    // The whole pipeline on a pcap of the same dialogue.
    for (what, text) in leak_reports(&s, mss) {
        assert_no_leak(&text, what);
    }
}

/// The pipeline on a pcap of the streams: the JSON report, the table and the
/// capture analysis' Debug output.
fn leak_reports(s: &LeakStreams, mss: usize) -> [(&'static str, String); 3] {
    let pcap = leak_pcap(s, mss);
    let c = pipeline::analyze_reader(
        "fuzz.pcap",
        pcap.as_slice(),
        TableConfig::default(),
        &mut |_| {},
    )
    .unwrap();
    let captures = [c];
    let (json, table) = reports(&captures);
    [
        ("JSON report", json),
        ("table report", table),
        ("capture analysis (Debug)", format!("{captures:?}")),
    ]
}

/// The JSON report, the table and the Debug output the pipeline makes of a
/// secrets_leak input (for the regression test's check that they hold its facts).
pub fn secrets_leak_reports(data: &[u8]) -> [(&'static str, String); 3] {
    let l = leak_input(data);
    leak_reports(&l.streams, l.mss)
}
