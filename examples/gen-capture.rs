//! GENERATED-capture writer for benchmarks and ground-truth checks (not real traffic).
//!
//! Writes a deterministic (seeded) classic pcap (Ethernet, microsecond timestamps) of a
//! corporate-proxy workload, ~48 sessions in flight at any time, interleaved by time:
//!
//! - clients 10.20.x.y (thousands, each with its own ephemeral ports) opening tunnels
//!   through the proxy 10.10.0.5:8080 with `CONNECT host:443` (api.anthropic.com
//!   mostly), then a TLS 1.3 handshake (ClientHello with supported_versions and
//!   key_share, ServerHello, encrypted flight) or a TLS 1.2 one whose server flight
//!   carries a real 2–3 certificate DER chain from `benches/certs/` (GENERATED; issued
//!   by "Acme Corp SSL Inspection CA" or a public-looking CA), split at MSS 1448;
//!   some clients refuse the inspection CA with a fatal `unknown_ca` alert;
//! - bulk TLS application_data records of up to 16 KiB, most of the bytes;
//! - `407 Proxy Authentication Required` with Basic (retried with credentials on the
//!   same or a new connection) and with NTLM (a new connection carrying NTLMSSP type 1,
//!   the proxy's type 2 challenge, then type 3 and the 200);
//! - RST right after CONNECT (RSTR), clients aborting a download (RSTO), SYNs never
//!   answered (S0, retransmitted after 1 s and 2 s), SYNs answered by RST (REJ);
//! - plain HTTP on loopback to 127.0.0.1:4000: `POST /v1/chat/completions` answered
//!   200, 401 (JSON error) or 429 (Retry-After);
//! - DNS over UDP to 10.10.0.53, some NXDOMAIN (search-suffix and WPAD lookups);
//! - a little reordering (adjacent data segments swapped) and retransmission (a data
//!   segment repeated a few packets later).
//!
//! Classic pcap has no comment field: the label is in the name (write `gen-*.pcap`),
//! in the certificates' subjects, and in what this prints. The last line of stdout is
//! the ground truth as one JSON object (frames, bytes, TCP connections by Zeek state,
//! CONNECTs, HTTP status counts, TLS and DNS counts, RSTs, retransmissions).
//!
//!     cargo run --release --example gen-capture -- OUT.pcap SIZE_MIB [SEED] [VARIANT...]
//!
//! Variants, to check that results and memory do not hang on this generator's habits:
//! `--time-scale N` packs the same packets into 1/N of the time (a faster link, more
//! connections per second); `--small-responses` answers every request with 1-30 KB
//! (no downloads: about 2.8 times as many connections per GiB).

// A benchmark tool, not library code: failing loudly on a bad argument is right here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{BufWriter, Write};
use std::sync::OnceLock;

/// The variant asked for on the command line (none when used as a module).
#[derive(Clone, Copy, Debug, Default)]
struct Variant {
    time_scale: u64,
    small_responses: bool,
}

static VARIANT: OnceLock<Variant> = OnceLock::new();

fn variant() -> Variant {
    VARIANT.get().copied().unwrap_or_default()
}

const MSS: usize = 1448;
/// Sessions in flight at once.
const CONCURRENCY: usize = 48;
/// 2026-11-02 09:00:00 UTC.
const EPOCH: u64 = 1_793_610_000;

pub const CERTS_INSPECTION: [&[u8]; 3] = [
    include_bytes!("../benches/certs/chain-inspection-1-leaf.der"),
    include_bytes!("../benches/certs/chain-inspection-2-intermediate.der"),
    include_bytes!("../benches/certs/chain-inspection-3-root.der"),
];
const CERTS_PUBLIC: [&[u8]; 2] = [
    include_bytes!("../benches/certs/chain-public-1-leaf.der"),
    include_bytes!("../benches/certs/chain-public-2-intermediate.der"),
];

pub struct Rng(pub u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// Ground truth: what an analyzer should find in the capture.
#[derive(Default)]
struct Truth {
    frames: u64,
    wire_bytes: u64,
    states: BTreeMap<&'static str, u64>,
    udp_flows: u64,
    connects: u64,
    status: BTreeMap<u16, u64>,
    client_hellos: u64,
    server_hellos: u64,
    certificates: u64,
    tls_alerts: u64,
    tls_encrypted_alerts: u64,
    rst_packets: u64,
    rst_connections: u64,
    dns_queries: u64,
    nxdomain: u64,
    retransmissions: u64,
    reordered: u64,
    syn_retransmissions: u64,
    sessions: BTreeMap<&'static str, u64>,
}

impl Truth {
    fn state(&mut self, s: &'static str) {
        *self.states.entry(s).or_default() += 1;
        if matches!(s, "REJ" | "RSTO" | "RSTR") {
            self.rst_connections += 1;
        }
    }
    fn status(&mut self, code: u16) {
        *self.status.entry(code).or_default() += 1;
    }
}

// ---------------------------------------------------------------- byte building

#[derive(Default)]
struct B(Vec<u8>);
impl B {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    /// Appends `f`'s bytes behind a big-endian length of `width` bytes (1, 2 or 3).
    fn len(&mut self, width: usize, f: impl FnOnce(&mut B)) -> &mut Self {
        let mut inner = B::default();
        f(&mut inner);
        let n = inner.0.len();
        self.0
            .extend_from_slice(&(n as u32).to_be_bytes()[4 - width..]);
        self.0.extend_from_slice(&inner.0);
        self
    }
}

fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = 0u32;
    for p in parts {
        let mut chunks = p.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[derive(Clone, Copy)]
struct Ep {
    mac: [u8; 6],
    ip: [u8; 4],
    port: u16,
}

fn eth_ipv4(src: &Ep, dst: &Ep, proto: u8, ipid: u16, l4: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(34 + l4.len());
    f.extend_from_slice(&dst.mac);
    f.extend_from_slice(&src.mac);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + l4.len()) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&ipid.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = proto;
    ip[12..16].copy_from_slice(&src.ip);
    ip[16..20].copy_from_slice(&dst.ip);
    let c = checksum(&[&ip]);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(l4);
    f
}

fn pseudo(src: &Ep, dst: &Ep, proto: u8, len: usize) -> [u8; 12] {
    let mut p = [0u8; 12];
    p[0..4].copy_from_slice(&src.ip);
    p[4..8].copy_from_slice(&dst.ip);
    p[9] = proto;
    p[10..12].copy_from_slice(&(len as u16).to_be_bytes());
    p
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

#[allow(clippy::too_many_arguments)]
fn tcp_frame(
    src: &Ep,
    dst: &Ep,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    ipid: u16,
    tsval: u32,
    tsecr: u32,
) -> Vec<u8> {
    let syn = flags & SYN != 0;
    let mut t = B::default();
    t.u16(src.port).u16(dst.port).u32(seq).u32(ack);
    let hdr_len = if syn { 40 } else { 32 };
    t.u8((hdr_len / 4) << 4).u8(flags);
    t.u16(if syn { 64240 } else { 502 }).u16(0).u16(0);
    if syn {
        // Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale 7.
        t.raw(&[2, 4, 0x05, 0xb4, 4, 2, 8, 10])
            .u32(tsval)
            .u32(tsecr)
            .raw(&[1, 3, 3, 7]);
    } else {
        t.raw(&[1, 1, 8, 10]).u32(tsval).u32(tsecr);
    }
    t.raw(payload);
    let ph = pseudo(src, dst, 6, t.0.len());
    let c = checksum(&[&ph, &t.0]);
    t.0[16..18].copy_from_slice(&c.to_be_bytes());
    eth_ipv4(src, dst, 6, ipid, &t.0)
}

fn udp_frame(src: &Ep, dst: &Ep, payload: &[u8], ipid: u16) -> Vec<u8> {
    let mut u = B::default();
    u.u16(src.port)
        .u16(dst.port)
        .u16(8 + payload.len() as u16)
        .u16(0)
        .raw(payload);
    let ph = pseudo(src, dst, 17, u.0.len());
    let c = checksum(&[&ph, &u.0]);
    u.0[6..8].copy_from_slice(&c.to_be_bytes());
    eth_ipv4(src, dst, 17, ipid, &u.0)
}

// ---------------------------------------------------------------- sessions

struct Frame {
    ts: u64,
    data: Vec<u8>,
    /// A bulk data segment: may be reordered with its neighbour or retransmitted.
    bulk_data: bool,
    /// Emitted in the bulk phase (data or pure ACK): a retransmission may land here.
    bulk_phase: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    C2S,
    S2C,
}

struct Conn {
    c: Ep,
    s: Ep,
    seq: [u32; 2],
    ipid: [u16; 2],
    ts_base: [u32; 2],
    last_tsval: [u32; 2],
    /// Client ↔ proxy round trip, µs.
    rtt: u64,
}

struct Session<'r> {
    rng: &'r mut Rng,
    t: u64,
    frames: Vec<Frame>,
    bulk: bool,
    /// Microseconds between consecutive bulk segments.
    seg_gap: u64,
}

impl Session<'_> {
    fn at(&mut self, dt: u64) {
        self.t += dt;
    }

    /// Lets a random time pass, `lo..=hi` µs.
    fn wait(&mut self, lo: u64, hi: u64) {
        self.t += self.rng.range(lo, hi);
    }

    fn push(&mut self, data: Vec<u8>, bulk_data: bool) {
        self.frames.push(Frame {
            ts: self.t,
            data,
            bulk_data,
            bulk_phase: self.bulk,
        });
    }

    fn conn(&mut self, c: Ep, s: Ep, rtt: u64) -> Conn {
        Conn {
            c,
            s,
            seq: [self.rng.next() as u32, self.rng.next() as u32],
            ipid: [self.rng.next() as u16, self.rng.next() as u16],
            ts_base: [self.rng.next() as u32, self.rng.next() as u32],
            last_tsval: [0, 0],
            rtt,
        }
    }

    fn pkt(&mut self, k: &mut Conn, dir: Dir, flags: u8, payload: &[u8]) {
        let (i, o) = match dir {
            Dir::C2S => (0, 1),
            Dir::S2C => (1, 0),
        };
        let (src, dst) = if i == 0 { (&k.c, &k.s) } else { (&k.s, &k.c) };
        let ack = if flags & ACK != 0 { k.seq[o] } else { 0 };
        let tsval = k.ts_base[i].wrapping_add((self.t / 1000) as u32);
        let tsecr = if flags & SYN != 0 && flags & ACK == 0 {
            0
        } else {
            k.last_tsval[o]
        };
        let f = tcp_frame(
            src, dst, k.seq[i], ack, flags, payload, k.ipid[i], tsval, tsecr,
        );
        k.last_tsval[i] = tsval;
        k.ipid[i] = k.ipid[i].wrapping_add(1);
        let adv = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        k.seq[i] = k.seq[i].wrapping_add(adv);
        let bulk_data = self.bulk && !payload.is_empty();
        self.push(f, bulk_data);
    }

    fn open(&mut self, k: &mut Conn) {
        self.pkt(k, Dir::C2S, SYN, &[]);
        self.at(k.rtt / 2);
        self.pkt(k, Dir::S2C, SYN | ACK, &[]);
        self.at(k.rtt / 2);
        self.pkt(k, Dir::C2S, ACK, &[]);
    }

    /// Sends `data` as MSS-sized segments; the receiver ACKs every second one.
    fn send(&mut self, k: &mut Conn, dir: Dir, data: &[u8]) {
        let back = if dir == Dir::C2S { Dir::S2C } else { Dir::C2S };
        let n = data.len().div_ceil(MSS);
        for (j, chunk) in data.chunks(MSS).enumerate() {
            let last = j + 1 == n;
            self.pkt(k, dir, if last { PSH | ACK } else { ACK }, chunk);
            if j % 2 == 1 || last {
                self.wait(5, 40);
                self.pkt(k, back, ACK, &[]);
            }
            let jitter = self.rng.below(self.seg_gap / 2 + 1);
            self.at(self.seg_gap + jitter);
        }
    }

    /// Request/response without the receiver's trailing ACK pause being a full RTT.
    fn close(&mut self, k: &mut Conn, first: Dir) {
        let second = if first == Dir::C2S {
            Dir::S2C
        } else {
            Dir::C2S
        };
        self.pkt(k, first, FIN | ACK, &[]);
        self.at(k.rtt / 2);
        self.pkt(k, second, FIN | ACK, &[]);
        self.at(k.rtt / 2);
        self.pkt(k, first, ACK, &[]);
    }
}

// ---------------------------------------------------------------- protocol payloads

const HOSTS: [&str; 5] = [
    "api.anthropic.com",
    "api.anthropic.com",
    "statsig.anthropic.com",
    "sentry.io",
    "github.com",
];
const AGENTS: [&str; 4] = [
    "claude-cli/2.0.14 (external, cli)",
    "node",
    "curl/8.5.0",
    "python-httpx/0.27.2",
];

pub fn connect_request(host: &str, ua: &str, auth: Option<&str>) -> Vec<u8> {
    let mut s = format!(
        "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\nUser-Agent: {ua}\r\nProxy-Connection: Keep-Alive\r\n"
    );
    if let Some(a) = auth {
        s.push_str(&format!("Proxy-Authorization: {a}\r\n"));
    }
    s.push_str("\r\n");
    s.into_bytes()
}

pub fn connect_ok(rng: &mut Rng) -> Vec<u8> {
    if rng.chance(500) {
        b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec()
    } else {
        b"HTTP/1.1 200 Connection established\r\nProxy-Agent: Acme-WebGateway/7.4\r\n\r\n".to_vec()
    }
}

fn proxy_407(challenges: &[String], close: bool) -> Vec<u8> {
    let body = "<html><head><title>407 Proxy Authentication Required</title></head><body><h1>Access denied</h1><p>Your request requires authentication with the Acme Corp web gateway.</p></body></html>";
    let mut s = String::from("HTTP/1.1 407 Proxy Authentication Required\r\n");
    for c in challenges {
        s.push_str(&format!("Proxy-Authenticate: {c}\r\n"));
    }
    let body = if close { body } else { "" };
    s.push_str(&format!(
        "Content-Type: text/html\r\nContent-Length: {}\r\nConnection: {}\r\nProxy-Connection: {}\r\n\r\n{body}",
        body.len(),
        if close { "close" } else { "keep-alive" },
        if close { "close" } else { "keep-alive" },
    ));
    s.into_bytes()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

const NTLM_FLAGS: u32 = 0xe208_8297; // 56, KEY_EXCH, 128, VERSION, TARGET_INFO, EXT_SEC, ALWAYS_SIGN, NTLM, SIGN, OEM, UNICODE, REQUEST_TARGET

/// NTLMSSP NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), no domain or workstation supplied.
fn ntlm_type1() -> Vec<u8> {
    let mut b = B::default();
    b.raw(b"NTLMSSP\0").u32(0).u32(0);
    b.0[8..12].copy_from_slice(&1u32.to_le_bytes());
    b.0[12..16].copy_from_slice(&0xe208_82b7u32.to_le_bytes());
    b.raw(&[0; 16]); // domain and workstation fields, empty
    b.raw(&[10, 0, 0x61, 0x58, 0, 0, 0, 15]); // version 10.0.22625, NTLM rev 15
    b.0
}

fn sec_buf(len: usize, off: usize) -> [u8; 8] {
    let mut v = [0u8; 8];
    v[0..2].copy_from_slice(&(len as u16).to_le_bytes());
    v[2..4].copy_from_slice(&(len as u16).to_le_bytes());
    v[4..8].copy_from_slice(&(off as u32).to_le_bytes());
    v
}

fn av_pairs(rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    let mut av = |id: u16, val: &[u8]| {
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&(val.len() as u16).to_le_bytes());
        v.extend_from_slice(val);
    };
    av(2, &utf16("ACME"));
    av(1, &utf16("GW-PROXY01"));
    av(4, &utf16("acme.corp"));
    av(3, &utf16("gw-proxy01.acme.corp"));
    av(5, &utf16("acme.corp"));
    av(7, &rng.bytes(8)); // timestamp
    av(0, &[]);
    v
}

/// NTLMSSP CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with target info.
fn ntlm_type2(rng: &mut Rng) -> Vec<u8> {
    let target = utf16("ACME");
    let info = av_pairs(rng);
    let off = 56;
    let mut v = b"NTLMSSP\0".to_vec();
    v.extend_from_slice(&2u32.to_le_bytes());
    v.extend_from_slice(&sec_buf(target.len(), off));
    v.extend_from_slice(&NTLM_FLAGS.to_le_bytes());
    v.extend_from_slice(&rng.bytes(8)); // server challenge
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(&sec_buf(info.len(), off + target.len()));
    v.extend_from_slice(&[10, 0, 0x7c, 0x4f, 0, 0, 0, 15]);
    v.extend_from_slice(&target);
    v.extend_from_slice(&info);
    v
}

/// NTLMSSP AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3) with an NTLMv2 response and MIC.
fn ntlm_type3(rng: &mut Rng, user: &str) -> Vec<u8> {
    let domain = utf16("ACME");
    let user = utf16(user);
    let ws = utf16("LT-4821");
    let lm = vec![0u8; 24];
    let mut nt = rng.bytes(16); // NTProofStr
    nt.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    nt.extend_from_slice(&rng.bytes(8)); // timestamp
    nt.extend_from_slice(&rng.bytes(8)); // client challenge
    nt.extend_from_slice(&[0; 4]);
    nt.extend_from_slice(&av_pairs(rng));
    nt.extend_from_slice(&[0; 4]);
    let key = rng.bytes(16);
    let mut off = 88;
    let mut head = b"NTLMSSP\0".to_vec();
    head.extend_from_slice(&3u32.to_le_bytes());
    let mut payload = Vec::new();
    for part in [&lm, &nt, &domain, &user, &ws, &key] {
        head.extend_from_slice(&sec_buf(part.len(), off));
        off += part.len();
        payload.extend_from_slice(part);
    }
    head.extend_from_slice(&NTLM_FLAGS.to_le_bytes());
    head.extend_from_slice(&[10, 0, 0x61, 0x58, 0, 0, 0, 15]);
    head.extend_from_slice(&rng.bytes(16)); // MIC
    head.extend_from_slice(&payload);
    head
}

pub fn record(ctype: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut b = B::default();
    b.u8(ctype).u16(version).len(2, |r| {
        r.raw(body);
    });
    b.0
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut b = B::default();
    b.u8(msg_type).len(3, |h| {
        h.raw(body);
    });
    b.0
}

fn ext(b: &mut B, typ: u16, f: impl FnOnce(&mut B)) {
    b.u16(typ).len(2, f);
}

pub fn client_hello(rng: &mut Rng, sni: &str, tls13: bool) -> Vec<u8> {
    let mut h = B::default();
    h.u16(0x0303).raw(&rng.bytes(32));
    let sid = rng.bytes(32);
    h.len(1, |s| {
        s.raw(&sid);
    });
    h.len(2, |c| {
        if tls13 {
            c.u16(0x1301).u16(0x1302).u16(0x1303);
        }
        for cs in [
            0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f,
            0x0035,
        ] {
            c.u16(cs);
        }
    });
    h.u8(1).u8(0);
    let key = rng.bytes(32);
    h.len(2, |e| {
        ext(e, 0x0000, |x| {
            x.len(2, |l| {
                l.u8(0).len(2, |n| {
                    n.raw(sni.as_bytes());
                });
            });
        });
        ext(e, 0x0017, |_| {});
        ext(e, 0xff01, |x| {
            x.u8(0);
        });
        ext(e, 0x000a, |x| {
            x.len(2, |g| {
                g.u16(0x001d).u16(0x0017).u16(0x0018);
            });
        });
        ext(e, 0x000b, |x| {
            x.u8(1).u8(0);
        });
        ext(e, 0x0023, |_| {});
        ext(e, 0x0010, |x| {
            x.len(2, |l| {
                l.len(1, |p| {
                    p.raw(b"h2");
                })
                .len(1, |p| {
                    p.raw(b"http/1.1");
                });
            });
        });
        ext(e, 0x0005, |x| {
            x.u8(1).u16(0).u16(0);
        });
        ext(e, 0x000d, |x| {
            x.len(2, |l| {
                for s in [
                    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
                ] {
                    l.u16(s);
                }
            });
        });
        ext(e, 0x0012, |_| {});
        if tls13 {
            ext(e, 0x0033, |x| {
                x.len(2, |l| {
                    l.u16(0x001d).len(2, |k| {
                        k.raw(&key);
                    });
                });
            });
            ext(e, 0x002d, |x| {
                x.u8(1).u8(1);
            });
            ext(e, 0x002b, |x| {
                x.len(1, |l| {
                    l.u16(0x0304).u16(0x0303);
                });
            });
        }
    });
    record(22, 0x0301, &handshake(1, &h.0))
}

/// A ServerHello. TLS 1.3 echoes the client's legacy_session_id (RFC 8446 4.1.3);
/// TLS 1.2 picks its own.
pub fn server_hello(rng: &mut Rng, echo_session_id: Option<&[u8]>) -> Vec<u8> {
    let tls13 = echo_session_id.is_some();
    let mut h = B::default();
    h.u16(0x0303).raw(&rng.bytes(32));
    let own = rng.bytes(32);
    h.len(1, |s| {
        s.raw(echo_session_id.unwrap_or(&own));
    });
    h.u16(if tls13 { 0x1301 } else { 0xc02f }).u8(0);
    let key = rng.bytes(32);
    h.len(2, |e| {
        if tls13 {
            ext(e, 0x002b, |x| {
                x.u16(0x0304);
            });
            ext(e, 0x0033, |x| {
                x.u16(0x001d).len(2, |k| {
                    k.raw(&key);
                });
            });
        } else {
            ext(e, 0xff01, |x| {
                x.u8(0);
            });
            ext(e, 0x000b, |x| {
                x.u8(1).u8(0);
            });
            ext(e, 0x0017, |_| {});
            ext(e, 0x0010, |x| {
                x.len(2, |l| {
                    l.len(1, |p| {
                        p.raw(b"h2");
                    });
                });
            });
        }
    });
    handshake(2, &h.0)
}

/// The TLS 1.2 server flight: ServerHello, Certificate, ServerKeyExchange (ECDHE
/// x25519, RSA-PSS signature), ServerHelloDone — one record per message, or all in
/// one record as OpenSSL-based inspection proxies send it.
pub fn tls12_server_flight(rng: &mut Rng, chain: &[&[u8]], one_record: bool) -> Vec<u8> {
    let sh = server_hello(rng, None);
    let mut cert = B::default();
    cert.len(3, |l| {
        for c in chain {
            l.len(3, |x| {
                x.raw(c);
            });
        }
    });
    let cert = handshake(11, &cert.0);
    let mut ske = B::default();
    ske.u8(3).u16(0x001d).len(1, |k| {
        k.raw(&rng.bytes(32));
    });
    ske.u16(0x0804).len(2, |s| {
        s.raw(&rng.bytes(256));
    });
    let ske = handshake(12, &ske.0);
    let done = handshake(14, &[]);
    if one_record {
        record(22, 0x0303, &[sh, cert, ske, done].concat())
    } else {
        [sh, cert, ske, done]
            .iter()
            .flat_map(|m| record(22, 0x0303, m))
            .collect()
    }
}

/// Application data as TLS records of at most 16 KiB of plaintext (AEAD overhead added).
pub fn app_data(rng: &mut Rng, pool: &[u8], plaintext: usize, tls13: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(plaintext + plaintext / 16384 * 30 + 64);
    let mut left = plaintext.max(1);
    while left > 0 {
        let n = left.min(16384);
        left -= n;
        let len = if tls13 { n + 17 } else { n + 24 };
        out.push(23);
        out.extend_from_slice(&[3, 3]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        let start = rng.below((pool.len() - len) as u64) as usize;
        out.extend_from_slice(&pool[start..start + len]);
    }
    out
}

/// A response size: mostly small API answers, some large downloads.
fn bulk_size(rng: &mut Rng) -> usize {
    if variant().small_responses {
        return rng.range(1_000, 30_000) as usize;
    }
    (match rng.below(20) {
        0..=14 => rng.range(1_000, 30_000),
        15..=18 => rng.range(30_000, 200_000),
        _ => rng.range(200_000, 1_500_000),
    }) as usize
}

fn dns_name(b: &mut B, name: &str) {
    for l in name.split('.') {
        b.u8(l.len() as u8).raw(l.as_bytes());
    }
    b.u8(0);
}

fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut b = B::default();
    b.u16(id).u16(0x0100).u16(1).u16(0).u16(0).u16(0);
    dns_name(&mut b, name);
    b.u16(qtype).u16(1);
    b.0
}

fn dns_response(rng: &mut Rng, id: u16, name: &str, qtype: u16, nx: bool) -> Vec<u8> {
    let mut b = B::default();
    let answers = if nx { 0 } else { rng.range(1, 3) as u16 };
    b.u16(id)
        .u16(if nx { 0x8183 } else { 0x8180 })
        .u16(1)
        .u16(answers)
        .u16(u16::from(nx))
        .u16(0);
    dns_name(&mut b, name);
    b.u16(qtype).u16(1);
    for _ in 0..answers {
        b.u16(0xc00c).u16(qtype).u16(1).u32(60);
        if qtype == 28 {
            b.len(2, |r| {
                r.raw(&[0x26, 0x07, 0x67, 0x00, 0, 0, 0, 0])
                    .raw(&rng.bytes(8));
            });
        } else {
            b.len(2, |r| {
                r.raw(&[160, 79, 104, rng.range(1, 254) as u8]);
            });
        }
    }
    if nx {
        b.u16(0xc00c).u16(6).u16(1).u32(300).len(2, |r| {
            dns_name(r, "dc01.acme.corp");
            dns_name(r, "hostmaster.acme.corp");
            r.u32(2026110201).u32(900).u32(600).u32(86400).u32(300);
        });
    }
    b.0
}

// ---------------------------------------------------------------- the workload

struct World {
    rng: Rng,
    truth: Truth,
    clients: Vec<(Ep, u16)>,
    loopback_port: u16,
    proxy: Ep,
    dns: Ep,
    pool: Vec<u8>,
}

impl World {
    /// A random client machine's next ephemeral port.
    fn client(&mut self) -> (Ep, usize) {
        let i = self.rng.below(self.clients.len() as u64) as usize;
        (self.port_of(i), i)
    }

    fn port_of(&mut self, i: usize) -> Ep {
        let (ep, next) = &mut self.clients[i];
        let mut e = *ep;
        e.port = *next;
        *next = if *next >= 60999 { 32768 } else { *next + 1 };
        e
    }

    /// Builds one session starting at `t0` (µs since the capture's start).
    fn session(&mut self, t0: u64) -> Vec<Frame> {
        let mut rng = Rng(self.rng.next() | 1);
        let kind = rng.below(100);
        let (client, ci) = self.client();
        // A second connection from the same machine (retry after a 407).
        let client2 = self.port_of(ci);
        let proxy = self.proxy;
        let rtt = rng.range(200, 3000);
        let upstream = rng.range(15_000, 180_000);
        let seg_gap = rng.range(8, 60);
        let pool = std::mem::take(&mut self.pool);
        let t = &mut self.truth;
        let mut s = Session {
            rng: &mut rng,
            t: t0,
            frames: Vec::new(),
            bulk: false,
            seg_gap,
        };
        let name = match kind {
            0..=37 => {
                tunnel(&mut s, t, &pool, client, proxy, rtt, upstream, None, 13);
                "tunnel_tls13"
            }
            38..=51 => {
                tunnel(&mut s, t, &pool, client, proxy, rtt, upstream, None, 12);
                "tunnel_tls12"
            }
            52..=57 => {
                // 407 Basic, then the same request with credentials.
                let host = *s.rng.pick(&HOSTS);
                let ua = *s.rng.pick(&AGENTS);
                let mut k = s.conn(client, proxy, rtt);
                s.open(&mut k);
                s.at(50);
                s.pkt(
                    &mut k,
                    Dir::C2S,
                    PSH | ACK,
                    &connect_request(host, ua, None),
                );
                t.connects += 1;
                s.at(rtt / 2 + 300);
                let same = s.rng.chance(500);
                let challenge = ["Basic realm=\"Acme Corp Web Gateway\"".to_string()];
                s.pkt(&mut k, Dir::S2C, PSH | ACK, &proxy_407(&challenge, !same));
                t.status(407);
                s.at(rtt / 2);
                let auth = format!("Basic {}", b64(b"jdoe:Winter2026!"));
                if same {
                    s.pkt(&mut k, Dir::C2S, ACK, &[]);
                    s.wait(1000, 20_000);
                    tunnel_on(&mut s, t, &pool, &mut k, upstream, Some(&auth), host, ua);
                } else {
                    s.close(&mut k, Dir::S2C);
                    t.state("SF");
                    s.wait(1000, 20_000);
                    tunnel(
                        &mut s,
                        t,
                        &pool,
                        client2,
                        proxy,
                        rtt,
                        upstream,
                        Some(&auth),
                        0,
                    );
                }
                "basic_407_retry"
            }
            58..=62 => {
                // NTLM: challenge-less 407 (connection closed), then type 1/2/3 on a new one.
                let host = *s.rng.pick(&HOSTS);
                let ua = *s.rng.pick(&AGENTS);
                let mut k = s.conn(client, proxy, rtt);
                s.open(&mut k);
                s.at(50);
                s.pkt(
                    &mut k,
                    Dir::C2S,
                    PSH | ACK,
                    &connect_request(host, ua, None),
                );
                t.connects += 1;
                s.at(rtt / 2 + 300);
                let offers = [
                    "NTLM".to_string(),
                    "Negotiate".to_string(),
                    "Basic realm=\"Acme Corp Web Gateway\"".to_string(),
                ];
                s.pkt(&mut k, Dir::S2C, PSH | ACK, &proxy_407(&offers, true));
                t.status(407);
                s.at(rtt / 2);
                s.close(&mut k, Dir::S2C);
                t.state("SF");
                s.wait(500, 5000);
                let mut k = s.conn(client2, proxy, rtt);
                s.open(&mut k);
                s.at(50);
                let t1 = format!("NTLM {}", b64(&ntlm_type1()));
                s.pkt(
                    &mut k,
                    Dir::C2S,
                    PSH | ACK,
                    &connect_request(host, ua, Some(&t1)),
                );
                t.connects += 1;
                s.at(rtt / 2 + 200);
                let t2 = format!("NTLM {}", b64(&ntlm_type2(s.rng)));
                s.pkt(&mut k, Dir::S2C, PSH | ACK, &proxy_407(&[t2], false));
                t.status(407);
                s.at(rtt / 2 + 400);
                let t3 = format!("NTLM {}", b64(&ntlm_type3(s.rng, "jdoe")));
                tunnel_on(&mut s, t, &pool, &mut k, upstream, Some(&t3), host, ua);
                "ntlm_407_handshake"
            }
            63..=64 => {
                // The proxy resets the connection right after CONNECT (RSTR).
                let mut k = s.conn(client, proxy, rtt);
                s.open(&mut k);
                s.at(50);
                let host = *s.rng.pick(&HOSTS);
                let ua = *s.rng.pick(&AGENTS);
                s.pkt(
                    &mut k,
                    Dir::C2S,
                    PSH | ACK,
                    &connect_request(host, ua, None),
                );
                t.connects += 1;
                let d = s.rng.range(100, 2000);
                s.at(rtt / 2 + d);
                s.pkt(&mut k, Dir::S2C, RST | ACK, &[]);
                t.rst_packets += 1;
                t.state("RSTR");
                "rst_after_connect"
            }
            65..=66 => {
                // SYN never answered: retransmitted after 1 s, then 2 s more (S0).
                let mut k = s.conn(client, proxy, rtt);
                for (n, wait) in [1_000_000u64, 2_000_000, 0].into_iter().enumerate() {
                    s.pkt(&mut k, Dir::C2S, SYN, &[]);
                    k.seq[0] = k.seq[0].wrapping_sub(1); // same ISN each time
                    if n > 0 {
                        t.syn_retransmissions += 1;
                    }
                    s.at(wait);
                }
                t.state("S0");
                "s0"
            }
            67..=68 => {
                // SYN refused with RST (REJ): the proxy port is closed.
                let mut dst = proxy;
                if s.rng.chance(500) {
                    dst.port = 3128;
                }
                let mut k = s.conn(client, dst, rtt);
                s.pkt(&mut k, Dir::C2S, SYN, &[]);
                s.at(rtt / 2);
                k.seq[1] = 0;
                s.pkt(&mut k, Dir::S2C, RST | ACK, &[]);
                t.rst_packets += 1;
                t.state("REJ");
                "rej"
            }
            69..=84 => {
                let lo_port = self.loopback_port;
                self.loopback_port = if lo_port >= 60999 { 32768 } else { lo_port + 1 };
                loopback_http(&mut s, t, lo_port);
                "loopback_http"
            }
            _ => {
                let c = client;
                let srv = self.dns;
                let nx = s.rng.chance(250);
                let host = *s.rng.pick(&HOSTS);
                let name = if !nx {
                    host.to_string()
                } else if s.rng.chance(300) {
                    "wpad.acme.corp".to_string()
                } else {
                    format!("{host}.acme.corp")
                };
                let types: &[u16] = if s.rng.chance(500) { &[1, 28] } else { &[1] };
                let mut ipid = s.rng.next() as u16;
                for &q in types {
                    let id = s.rng.next() as u16;
                    s.push(udp_frame(&c, &srv, &dns_query(id, &name, q), ipid), false);
                    ipid = ipid.wrapping_add(1);
                    t.dns_queries += 1;
                    s.wait(300, 20_000);
                    let r = dns_response(s.rng, id, &name, q, nx);
                    let id = s.rng.next() as u16;
                    s.push(udp_frame(&srv, &c, &r, id), false);
                    if nx {
                        t.nxdomain += 1;
                    }
                    s.wait(10, 200);
                }
                t.udp_flows += 1;
                "dns"
            }
        };
        *t.sessions.entry(name).or_default() += 1;
        let frames = std::mem::take(&mut s.frames);
        self.pool = pool;
        disorder(&mut rng, t, frames)
    }
}

/// A whole tunnel on a new connection: CONNECT, 200, TLS, bulk, close. `version` 0 picks.
#[allow(clippy::too_many_arguments)]
fn tunnel(
    s: &mut Session,
    t: &mut Truth,
    pool: &[u8],
    client: Ep,
    proxy: Ep,
    rtt: u64,
    upstream: u64,
    auth: Option<&str>,
    version: u8,
) {
    let host = *s.rng.pick(&HOSTS);
    let ua = *s.rng.pick(&AGENTS);
    let mut k = s.conn(client, proxy, rtt);
    s.open(&mut k);
    s.wait(20, 300);
    let version = match version {
        0 if s.rng.chance(700) => 13,
        0 => 12,
        v => v,
    };
    tunnel_tls(s, t, pool, &mut k, upstream, auth, host, ua, version);
}

/// CONNECT with credentials on an open connection, then the TLS tunnel.
#[allow(clippy::too_many_arguments)]
fn tunnel_on(
    s: &mut Session,
    t: &mut Truth,
    pool: &[u8],
    k: &mut Conn,
    upstream: u64,
    auth: Option<&str>,
    host: &str,
    ua: &str,
) {
    let version = if s.rng.chance(700) { 13 } else { 12 };
    tunnel_tls(s, t, pool, k, upstream, auth, host, ua, version);
}

#[allow(clippy::too_many_arguments)]
fn tunnel_tls(
    s: &mut Session,
    t: &mut Truth,
    pool: &[u8],
    k: &mut Conn,
    upstream: u64,
    auth: Option<&str>,
    host: &str,
    ua: &str,
    version: u8,
) {
    let rtt = k.rtt;
    let tls13 = version == 13;
    s.pkt(k, Dir::C2S, PSH | ACK, &connect_request(host, ua, auth));
    t.connects += 1;
    s.at(upstream);
    let ok = connect_ok(s.rng);
    s.pkt(k, Dir::S2C, PSH | ACK, &ok);
    t.status(200);
    s.wait(100, 1500);
    let hello = client_hello(s.rng, host, tls13);
    // record (5) + handshake header (4) + version (2) + random (32) + length (1)
    let session_id = hello[44..76].to_vec();
    s.send(k, Dir::C2S, &hello);
    t.client_hellos += 1;
    s.at(upstream);
    let mut refused = false;
    if tls13 {
        let mut flight = record(22, 0x0303, &server_hello(s.rng, Some(&session_id)));
        flight.extend(record(20, 0x0303, &[1]));
        for len in [
            s.rng.range(30, 60),
            s.rng.range(3000, 4200),
            s.rng.range(264, 280),
            53,
        ] {
            flight.extend(record(23, 0x0303, &s.rng.bytes(len as usize)));
        }
        s.send(k, Dir::S2C, &flight);
        t.server_hellos += 1;
        s.wait(200, 3000);
        let mut fin = record(20, 0x0303, &[1]);
        fin.extend(record(23, 0x0303, &s.rng.bytes(53)));
        s.send(k, Dir::C2S, &fin);
    } else {
        let inspected = s.rng.chance(600);
        let chain: &[&[u8]] = if inspected {
            &CERTS_INSPECTION
        } else {
            &CERTS_PUBLIC
        };
        let flight = tls12_server_flight(s.rng, chain, inspected);
        s.send(k, Dir::S2C, &flight);
        t.server_hellos += 1;
        t.certificates += chain.len() as u64;
        s.wait(200, 3000);
        if inspected && s.rng.chance(200) {
            // A client with its own CA bundle rejects the inspection CA.
            s.send(k, Dir::C2S, &record(21, 0x0303, &[2, 48]));
            t.tls_alerts += 1;
            refused = true;
        } else {
            let mut cke = B::default();
            cke.len(1, |p| {
                p.raw(&s.rng.bytes(32));
            });
            let mut fl = record(22, 0x0303, &handshake(16, &cke.0));
            fl.extend(record(20, 0x0303, &[1]));
            fl.extend(record(22, 0x0303, &s.rng.bytes(40)));
            s.send(k, Dir::C2S, &fl);
            s.at(upstream);
            let mut sf = record(20, 0x0303, &[1]);
            sf.extend(record(22, 0x0303, &s.rng.bytes(40)));
            s.send(k, Dir::S2C, &sf);
        }
    }
    if refused {
        s.wait(100, 1000);
        s.close(k, Dir::C2S);
        t.state("SF");
        return;
    }
    // Bulk: a few request/response exchanges of application data.
    s.bulk = true;
    let exchanges = s.rng.range(1, 3);
    let mut aborted = false;
    for n in 0..exchanges {
        s.wait(200, 20_000);
        let up = if s.rng.chance(50) {
            s.rng.range(20_000, 300_000)
        } else {
            s.rng.range(300, 6000)
        } as usize;
        let request = app_data(s.rng, pool, up, tls13);
        s.send(k, Dir::C2S, &request);
        let think = s.rng.range(1000, 200_000);
        s.at(upstream + think);
        let down = bulk_size(s.rng);
        let data = app_data(s.rng, pool, down, tls13);
        if n + 1 == exchanges && down > 100_000 && s.rng.chance(80) {
            // The user gives up mid-download: the client resets (RSTO).
            let cut = (data.len() / 2 / MSS) * MSS;
            s.send(k, Dir::S2C, &data[..cut]);
            s.bulk = false;
            s.at(rtt);
            s.pkt(k, Dir::C2S, RST | ACK, &[]);
            t.rst_packets += 1;
            t.state("RSTO");
            aborted = true;
        } else {
            s.send(k, Dir::S2C, &data);
        }
    }
    s.bulk = false;
    if !aborted {
        s.wait(1000, 50_000);
        // close_notify, encrypted: TLS 1.3 hides the alert type inside application_data.
        let closing = if tls13 {
            record(23, 0x0303, &s.rng.bytes(19))
        } else {
            t.tls_encrypted_alerts += 1;
            record(21, 0x0303, &s.rng.bytes(26))
        };
        s.send(k, Dir::C2S, &closing);
        s.at(rtt);
        s.close(k, Dir::C2S);
        t.state("SF");
    }
}

fn loopback_http(s: &mut Session, t: &mut Truth, port: u16) {
    let lo = [127, 0, 0, 1];
    let c = Ep {
        mac: [0; 6],
        ip: lo,
        port,
    };
    let srv = Ep {
        mac: [0; 6],
        ip: lo,
        port: 4000,
    };
    let mut k = s.conn(c, srv, 40);
    s.seg_gap = 3;
    s.open(&mut k);
    for _ in 0..s.rng.range(1, 3) {
        s.wait(100, 5000);
        let words = s.rng.range(20, 600) as usize;
        let content: String = (0..words)
            .map(|i| ["explain", "the", "proxy", "error", "please", "tls"][i % 6])
            .collect::<Vec<_>>()
            .join(" ");
        let body = format!(
            "{{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":1024,\"messages\":[{{\"role\":\"user\",\"content\":\"{content}\"}}]}}"
        );
        let req = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nUser-Agent: OpenAI/Python 1.54.0\r\nContent-Type: application/json\r\nAccept: application/json\r\nAuthorization: Bearer sk-GENERATED-{:016x}\r\nContent-Length: {}\r\n\r\n{body}",
            s.rng.next(),
            body.len()
        );
        s.send(&mut k, Dir::C2S, req.as_bytes());
        s.wait(2000, 900_000);
        let (code, head, body) = match s.rng.below(100) {
            0..=74 => {
                let words = s.rng.range(20, 1500) as usize;
                let text: String = (0..words)
                    .map(|i| ["the", "proxy", "rejects", "your", "certificate"][i % 5])
                    .collect::<Vec<_>>()
                    .join(" ");
                (
                    200,
                    "HTTP/1.1 200 OK\r\n".to_string(),
                    format!(
                        "{{\"id\":\"chatcmpl-{:x}\",\"object\":\"chat.completion\",\"model\":\"claude-sonnet-4-5\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{text}\"}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":{words},\"completion_tokens\":{words}}}}}",
                        s.rng.next()
                    ),
                )
            }
            75..=86 => (
                401,
                "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer\r\n".to_string(),
                "{\"error\":{\"message\":\"Authentication Error, Invalid proxy server token passed.\",\"type\":\"auth_error\",\"param\":\"None\",\"code\":\"401\"}}".to_string(),
            ),
            _ => (
                429,
                format!(
                    "HTTP/1.1 429 Too Many Requests\r\nretry-after: {}\r\n",
                    s.rng.range(1, 60)
                ),
                "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":\"rate_limit_error\",\"param\":\"None\",\"code\":\"429\"}}".to_string(),
            ),
        };
        let resp = format!(
            "{head}date: Mon, 02 Nov 2026 09:00:00 GMT\r\nserver: uvicorn\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.send(&mut k, Dir::S2C, resp.as_bytes());
        t.status(code);
    }
    s.wait(100, 3000);
    s.close(&mut k, Dir::C2S);
    t.state("SF");
}

/// A little disorder: swaps adjacent bulk data segments of one direction, and repeats a
/// bulk data segment one to three packets later (a retransmission).
fn disorder(rng: &mut Rng, t: &mut Truth, mut frames: Vec<Frame>) -> Vec<Frame> {
    let same_dir = |a: &Frame, b: &Frame| a.data[26..30] == b.data[26..30];
    let mut i = 0;
    while i + 1 < frames.len() {
        if frames[i].bulk_data
            && frames[i + 1].bulk_data
            && same_dir(&frames[i], &frames[i + 1])
            && rng.chance(3)
        {
            let (a, b) = frames.split_at_mut(i + 1);
            std::mem::swap(&mut a[i].data, &mut b[0].data);
            t.reordered += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(frames.len() + frames.len() / 200);
    let mut pending: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        // A copy goes out only among bulk-phase packets, so it never follows a FIN or RST.
        if !f.bulk_phase {
            pending.clear();
        }
        while let Some(p) = pending.iter().position(|(at, _)| *at <= i) {
            let (_, data) = pending.swap_remove(p);
            out.push(Frame {
                ts: f.ts,
                data,
                bulk_data: false,
                bulk_phase: true,
            });
            t.retransmissions += 1;
        }
        if f.bulk_data && rng.chance(2) {
            pending.push((i + rng.range(1, 3) as usize, f.data.clone()));
        }
        out.push(f);
    }
    out
}

fn main() {
    let mut v = Variant::default();
    let mut args: Vec<String> = Vec::new();
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time-scale" => {
                v.time_scale = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--time-scale N, N >= 1")
            }
            "--small-responses" => v.small_responses = true,
            _ => args.push(a),
        }
    }
    VARIANT.set(v).expect("variant set once");
    if args.len() < 3 {
        eprintln!(
            "usage: gen-capture OUT.pcap SIZE_MIB [SEED] [--time-scale N] [--small-responses]"
        );
        std::process::exit(2);
    }
    let target = args[2].parse::<u64>().expect("size in MiB") << 20;
    let seed = args
        .get(3)
        .map(|s| s.parse::<u64>().expect("seed"))
        .unwrap_or(1);
    let name = std::path::Path::new(&args[1]).file_name();
    if !name.is_some_and(|n| n.to_string_lossy().starts_with("gen-")) {
        eprintln!(
            "gen-capture: warning: name GENERATED captures gen-*.pcap so nobody takes them for real traffic"
        );
    }
    let file = std::fs::File::create(&args[1]).expect("create output");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let truth = generate(&mut out, target, seed);
    out.flush().unwrap();
    eprintln!(
        "gen-capture: wrote GENERATED corporate-proxy workload (not real traffic) to {}: {} frames, {} bytes, seed {seed}",
        args[1], truth["frames"], truth["file_bytes"]
    );
    println!("{truth}");
}

/// Writes a GENERATED capture of about `target` bytes to `out` and returns its ground
/// truth (also used by `benches/hot.rs`, which includes this file as a module).
pub fn generate(out: &mut impl Write, target: u64, seed: u64) -> serde_json::Value {
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    hdr.extend_from_slice(&262_144u32.to_le_bytes());
    hdr.extend_from_slice(&1u32.to_le_bytes());
    out.write_all(&hdr).unwrap();

    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let pool = rng.bytes(1 << 20);
    let mut clients = Vec::new();
    for i in 0..3000u32 {
        let ip = [10, 20, (i / 250) as u8, (i % 250 + 2) as u8];
        let mac = [0x3c, 0x52, 0x82, ip[1], ip[2], ip[3]];
        clients.push((Ep { mac, ip, port: 0 }, rng.range(32768, 40000) as u16));
    }
    let gw = [0x00, 0x1c, 0x73, 0x00, 0x00, 0x99];
    let mut world = World {
        clients,
        loopback_port: rng.range(32768, 40000) as u16,
        proxy: Ep {
            mac: gw,
            ip: [10, 10, 0, 5],
            port: 8080,
        },
        dns: Ep {
            mac: gw,
            ip: [10, 10, 0, 53],
            port: 53,
        },
        pool,
        truth: Truth::default(),
        rng,
    };

    let mut sessions: Vec<std::vec::IntoIter<Frame>> = Vec::new();
    let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let (mut written, mut pending) = (24u64, 0u64);
    let start = |world: &mut World,
                 sessions: &mut Vec<std::vec::IntoIter<Frame>>,
                 heap: &mut BinaryHeap<Reverse<(u64, usize)>>,
                 slot: Option<usize>,
                 t0: u64,
                 pending: &mut u64| {
        let frames = world.session(t0);
        *pending += frames.iter().map(|f| 16 + f.data.len() as u64).sum::<u64>();
        let first = frames.first().map_or(t0, |f| f.ts);
        let it = frames.into_iter();
        let slot = match slot {
            Some(s) => {
                sessions[s] = it;
                s
            }
            None => {
                sessions.push(it);
                sessions.len() - 1
            }
        };
        heap.push(Reverse((first, slot)));
    };
    for i in 0..CONCURRENCY as u64 {
        let t0 = i * world.rng.range(100, 5000);
        start(&mut world, &mut sessions, &mut heap, None, t0, &mut pending);
    }
    while let Some(Reverse((ts, slot))) = heap.pop() {
        let f = sessions[slot].next().expect("a queued session has a frame");
        debug_assert_eq!(f.ts, ts);
        let scaled = ts / variant().time_scale.max(1);
        let (s, us) = (EPOCH + scaled / 1_000_000, scaled % 1_000_000);
        let len = f.data.len() as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(s as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(us as u32).to_le_bytes());
        h[8..12].copy_from_slice(&len.to_le_bytes());
        h[12..16].copy_from_slice(&len.to_le_bytes());
        out.write_all(&h).unwrap();
        out.write_all(&f.data).unwrap();
        let n = 16 + u64::from(len);
        written += n;
        pending -= n;
        world.truth.frames += 1;
        world.truth.wire_bytes += u64::from(len);
        match sessions[slot].as_slice().first() {
            Some(f) => heap.push(Reverse((f.ts, slot))),
            None => {
                if written + pending < target {
                    let t0 = ts + world.rng.range(10, 4000);
                    start(
                        &mut world,
                        &mut sessions,
                        &mut heap,
                        Some(slot),
                        t0,
                        &mut pending,
                    );
                }
            }
        }
    }
    let t = &world.truth;
    serde_json::json!({
        "generated": true,
        "generator": "trafficdoc examples/gen-capture.rs",
        "seed": seed,
        "frames": t.frames,
        "bytes": t.wire_bytes,
        "file_bytes": written,
        "tcp_connections": t.states,
        "udp_flows": t.udp_flows,
        "connects": t.connects,
        "status": t.status,
        "client_hellos": t.client_hellos,
        "server_hellos": t.server_hellos,
        "certificates": t.certificates,
        "tls_alerts": t.tls_alerts,
        "tls_encrypted_alerts": t.tls_encrypted_alerts,
        "rsts": t.rst_packets,
        "rst_connections": t.rst_connections,
        "dns_queries": t.dns_queries,
        "nxdomain": t.nxdomain,
        "retransmissions": t.retransmissions,
        "reordered": t.reordered,
        "syn_retransmissions": t.syn_retransmissions,
        "sessions": t.sessions,
    })
}
