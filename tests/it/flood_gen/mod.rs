//! GENERATED flood captures (not real traffic) for the memory-cap tests and
//! `scripts/flood-bench`: a classic pcap produced on the fly by a `Read`, so a capture of
//! any size costs the generator no memory.
//!
//! Kinds:
//! - `Syn`: one SYN per flow, never answered (a port scan, a SYN flood);
//! - `Holes`: flows whose first data segment is lost, so everything after it waits
//!   above a hole that never fills;
//! - `Endless`: one connection sending forever; the server never acknowledges, and a
//!   segment is lost now and then, so held bytes pile up to the cap again and again;
//! - `Pipelined`: clients sending HTTP requests back to back that are never answered.
//!
//! Floods of decoded facts (each small on the wire, big once decoded or checked):
//! - `Certs`: one TLS connection whose server sends `per_flow` Certificate messages,
//!   each a record of `segment` bytes full of empty (so broken) certificates;
//! - `Auth407`: proxy connections (port 8080), each with `per_flow` requests answered
//!   407, none ever let through;
//! - `Late407`: the same, but every request is let through (200) except each
//!   connection's last, answered 407;
//! - `Dns`: one UDP flow with `per_flow` queries for distinct names, answered NXDOMAIN.
//! - `Rejected`: `flows` TLS 1.2 connections to one server, each shown the same chain
//!   (benches/certs, GENERATED, an inspection CA's) and refused by the client with a
//!   fatal unknown_ca alert.
//!
//! Floods of bytes a decoder holds (each connection from port 8080's clients sends
//! its message in `segment`-byte segments, round robin over the flows):
//! - `Trickle`: one HTTP request head of `per_flow` bytes per connection;
//! - `PartialHeads`: the same without its last line end, so no head ever completes;
//! - `PartialTls`: a TLS handshake record announcing `per_flow` bytes (at most
//!   18,432) of which all but the last arrive, so the record never completes.
//!
//! pcapng floods of the file's own structure (`flows` SYN packets after the blocks):
//! - `Interfaces`: `per_flow` interface description blocks (Ethernet); the packets
//!   alternate between interface 0 and the last one;
//! - `LinkTypes`: `per_flow` interfaces, each of its own link type (0, 1, 2...); the
//!   packets are on interface 1 (Ethernet).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Syn,
    Holes,
    Endless,
    Pipelined,
    Certs,
    Auth407,
    Late407,
    Dns,
    Rejected,
    Interfaces,
    LinkTypes,
    Trickle,
    PartialHeads,
    PartialTls,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "syn" => Kind::Syn,
            "holes" => Kind::Holes,
            "endless" => Kind::Endless,
            "pipelined" => Kind::Pipelined,
            "certs" => Kind::Certs,
            "auth407" => Kind::Auth407,
            "late407" => Kind::Late407,
            "dns" => Kind::Dns,
            "rejected" => Kind::Rejected,
            "interfaces" => Kind::Interfaces,
            "linktypes" => Kind::LinkTypes,
            "trickle" => Kind::Trickle,
            "partial-heads" => Kind::PartialHeads,
            "partial-tls" => Kind::PartialTls,
            _ => return None,
        })
    }
}

/// Shape of one flood.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub kind: Kind,
    /// Flows (Syn, Holes, Pipelined, Auth407; Endless, Certs and Dns have one), or
    /// packets (Interfaces, LinkTypes).
    pub flows: u64,
    /// Data segments per flow (Holes, Endless), requests per flow (Pipelined,
    /// Auth407), certificate records (Certs), queries (Dns) or interfaces
    /// (Interfaces, LinkTypes).
    pub per_flow: u64,
    /// Payload bytes per data segment (Holes, Endless) or certificate record (Certs).
    pub segment: usize,
}

const SERVER: [u8; 4] = [10, 255, 0, 1];
const SERVER_PORT: u16 = 8080;
/// Every client's initial sequence number; the server's is `ISN_S`.
const ISN_C: u32 = 1000;
const ISN_S: u32 = 5000;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

/// A pcap of `spec`, generated while it is read.
pub struct Flood {
    spec: Spec,
    /// Next step of the script (what it means depends on the kind).
    step: u64,
    steps: u64,
    buf: Vec<u8>,
    pos: usize,
    ts_us: u64,
    pub frames: u64,
    /// The message of a Trickle, PartialHeads or PartialTls connection.
    held: Vec<u8>,
}

impl Flood {
    pub fn new(spec: Spec) -> Flood {
        let steps = match spec.kind {
            Kind::Syn => spec.flows,
            // SYN and SYN-ACK per flow, then the data round robin.
            Kind::Holes | Kind::Pipelined => spec.flows * 2 + spec.flows * spec.per_flow,
            Kind::Endless => 2 + spec.per_flow,
            // Handshake and ClientHello, then the records.
            Kind::Certs => 3 + spec.per_flow,
            // Requests and 407s in turn, round robin over the flows.
            Kind::Auth407 | Kind::Late407 => spec.flows * 2 + spec.flows * spec.per_flow * 2,
            Kind::Dns => spec.per_flow * 2,
            // Handshake, ClientHello, the server's flight, the client's alert.
            Kind::Rejected => spec.flows * 5,
            // The interface blocks, then the packets.
            Kind::Interfaces | Kind::LinkTypes => spec.per_flow + spec.flows,
            Kind::Trickle | Kind::PartialHeads | Kind::PartialTls => {
                spec.flows * 2 + spec.flows * Self::held_segments(spec)
            }
        };
        let mut buf = Vec::with_capacity(70_000);
        if matches!(spec.kind, Kind::Interfaces | Kind::LinkTypes) {
            // pcapng section header block, little endian, no options.
            for v in [0x0a0d_0d0au32, 28, 0x1a2b_3c4d, 1] {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            buf.extend_from_slice(&u64::MAX.to_le_bytes());
            buf.extend_from_slice(&28u32.to_le_bytes());
        } else {
            buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
            buf.extend_from_slice(&2u16.to_le_bytes());
            buf.extend_from_slice(&4u16.to_le_bytes());
            buf.extend_from_slice(&[0; 8]);
            buf.extend_from_slice(&262_144u32.to_le_bytes());
            buf.extend_from_slice(&1u32.to_le_bytes());
        }
        Flood {
            spec,
            step: 0,
            steps,
            buf,
            pos: 0,
            ts_us: 1_700_000_000 * 1_000_000,
            frames: 0,
            held: match spec.kind {
                Kind::Trickle | Kind::PartialHeads | Kind::PartialTls => Self::held_message(spec),
                _ => Vec::new(),
            },
        }
    }

    /// Packets the whole capture holds.
    pub fn packets(spec: Spec) -> u64 {
        let data = spec.flows * spec.per_flow;
        match spec.kind {
            Kind::Syn => spec.flows,
            Kind::Holes => spec.flows * 2 + data,
            Kind::Pipelined => spec.flows * 2 + data,
            // Every 1000th data segment is lost.
            Kind::Endless => 2 + spec.per_flow - spec.per_flow.div_ceil(1000),
            Kind::Certs => 3 + spec.per_flow,
            Kind::Auth407 | Kind::Late407 => spec.flows * 2 + data * 2,
            Kind::Dns => spec.per_flow * 2,
            Kind::Rejected => spec.flows * 5,
            Kind::Interfaces | Kind::LinkTypes => spec.flows,
            Kind::Trickle | Kind::PartialHeads | Kind::PartialTls => {
                spec.flows * 2 + spec.flows * Self::held_segments(spec)
            }
        }
    }

    /// What each connection of a Trickle, PartialHeads or PartialTls flood sends.
    pub fn held_message(spec: Spec) -> Vec<u8> {
        let len = spec.per_flow as usize;
        match spec.kind {
            Kind::PartialTls => {
                let body = len.clamp(4, 18_432);
                let mut b = vec![22, 3, 3, (body >> 8) as u8, body as u8];
                // A ClientHello as long as the record, cut before its last byte.
                let msg = body - 4;
                b.extend_from_slice(&[1, (msg >> 16) as u8, (msg >> 8) as u8, msg as u8]);
                b.resize(5 + body - 1, 0);
                b
            }
            _ => {
                let mut b = b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n".to_vec();
                // Header lines of up to 1,000 bytes up to `len` with the final line end.
                while b.len() + 2 < len {
                    let line = (len - 2 - b.len()).min(1000);
                    if line < 12 {
                        b.resize(len - 2, b' ');
                        break;
                    }
                    b.extend_from_slice(b"X-Fill: ");
                    b.resize(b.len() + line - 10, b'f');
                    b.extend_from_slice(b"\r\n");
                }
                if spec.kind == Kind::Trickle {
                    b.extend_from_slice(b"\r\n");
                }
                b
            }
        }
    }

    fn held_segments(spec: Spec) -> u64 {
        Self::held_message(spec).len().div_ceil(spec.segment.max(1)) as u64
    }

    /// The request of exchange `n` (all the same length) and the 407 answering it.
    pub const AUTH_407: &'static str = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n";
    /// A 200 as long as [`AUTH_407`](Self::AUTH_407) (padded with a header).
    fn ok_200() -> String {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
        let pad = Self::AUTH_407.len() - head.len() - 4;
        format!("{head}{}\r\n\r\n", "x".repeat(pad))
    }

    fn auth_request(n: u64) -> String {
        format!("GET http://example.com/item/{n:08} HTTP/1.1\r\nHost: example.com\r\n\r\n")
    }

    /// A TLS 1.2 ClientHello record (no extensions).
    fn client_hello(b: &mut Vec<u8>) {
        let body: [u8; 41] = {
            let mut h = [0u8; 41];
            h[..2].copy_from_slice(&[3, 3]);
            // 32 random bytes (zero), empty session id, one suite, null compression.
            h[35..41].copy_from_slice(&[0, 2, 0xc0, 0x2f, 1, 0]);
            h
        };
        b.extend_from_slice(&[22, 3, 1, 0, 45, 1, 0, 0, 41]);
        b.extend_from_slice(&body);
    }

    /// A handshake record of `len` bytes holding one Certificate message whose list is
    /// empty certificates (3-byte zero lengths): each fails to parse.
    fn certificate_record(b: &mut Vec<u8>, len: usize) {
        let entries = (len - 4 - 3) / 3;
        let list = entries * 3;
        let msg = list + 3;
        b.extend_from_slice(&[22, 3, 3]);
        b.extend_from_slice(&((msg + 4) as u16).to_be_bytes());
        b.extend_from_slice(&[11, (msg >> 16) as u8, (msg >> 8) as u8, msg as u8]);
        b.extend_from_slice(&[(list >> 16) as u8, (list >> 8) as u8, list as u8]);
        b.resize(b.len() + list, 0);
    }

    /// The server's flight of a Rejected connection: ServerHello (TLS 1.2), the chain,
    /// ServerHelloDone.
    fn server_flight(b: &mut Vec<u8>) {
        const CHAIN: [&[u8]; 3] = [
            include_bytes!("../../../benches/certs/chain-inspection-1-leaf.der"),
            include_bytes!("../../../benches/certs/chain-inspection-2-intermediate.der"),
            include_bytes!("../../../benches/certs/chain-inspection-3-root.der"),
        ];
        b.extend_from_slice(&[22, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3]);
        b.resize(b.len() + 32, 0);
        b.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
        let list: usize = CHAIN.iter().map(|c| 3 + c.len()).sum();
        let msg = list + 3;
        b.extend_from_slice(&[22, 3, 3]);
        b.extend_from_slice(&((msg + 4) as u16).to_be_bytes());
        b.extend_from_slice(&[11, (msg >> 16) as u8, (msg >> 8) as u8, msg as u8]);
        b.extend_from_slice(&[(list >> 16) as u8, (list >> 8) as u8, list as u8]);
        for c in CHAIN {
            b.extend_from_slice(&[(c.len() >> 16) as u8, (c.len() >> 8) as u8, c.len() as u8]);
            b.extend_from_slice(c);
        }
        b.extend_from_slice(&[22, 3, 3, 0, 4, 14, 0, 0, 0]);
    }

    fn server_flight_len() -> usize {
        let mut b = Vec::new();
        Self::server_flight(&mut b);
        b.len()
    }

    /// Bytes on the wire of a Certs record of `segment` bytes.
    fn certs_len(segment: usize) -> usize {
        5 + 4 + 3 + (segment - 7) / 3 * 3
    }

    /// A DNS message for `n{n:08}.example.com` (A): the query, or an NXDOMAIN.
    fn dns_message(b: &mut Vec<u8>, n: u64, response: bool) {
        b.extend_from_slice(&(n as u16).to_be_bytes());
        b.extend_from_slice(if response {
            &[0x81, 0x83]
        } else {
            &[0x01, 0x00]
        });
        b.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        let label = format!("n{n:08}");
        b.push(label.len() as u8);
        b.extend_from_slice(label.as_bytes());
        b.extend_from_slice(b"\x07example\x03com\x00");
        b.extend_from_slice(&[0, 1, 0, 1]);
    }
    const DNS_LEN: usize = 12 + 1 + 9 + 13 + 4;

    /// A UDP frame (Ethernet, IPv4).
    fn udp_frame(
        &mut self,
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        payload: &dyn Fn(&mut Vec<u8>),
        len: usize,
    ) {
        self.ts_us += 1;
        self.frames += 1;
        let total = 14 + 20 + 8 + len;
        let b = &mut self.buf;
        b.extend_from_slice(&((self.ts_us / 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&((self.ts_us % 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(total as u32).to_le_bytes());
        b.extend_from_slice(&(total as u32).to_le_bytes());
        b.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        b.extend_from_slice(&[0x45, 0]);
        b.extend_from_slice(&((20 + 8 + len) as u16).to_be_bytes());
        b.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
        b.extend_from_slice(&src.0);
        b.extend_from_slice(&dst.0);
        b.extend_from_slice(&src.1.to_be_bytes());
        b.extend_from_slice(&dst.1.to_be_bytes());
        b.extend_from_slice(&((8 + len) as u16).to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        let before = b.len();
        payload(b);
        debug_assert_eq!(b.len() - before, len);
    }

    /// A pcapng interface description block.
    fn idb(&mut self, link: u16) {
        let b = &mut self.buf;
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&20u32.to_le_bytes());
        b.extend_from_slice(&link.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&262_144u32.to_le_bytes());
        b.extend_from_slice(&20u32.to_le_bytes());
    }

    /// A pcapng enhanced packet block on interface `iface`: a SYN of flow `f`.
    fn epb_syn(&mut self, iface: u32, f: u64) {
        // Build the frame as a pcap record, then re-wrap it.
        let at = self.buf.len();
        let (c, cport) = Self::client(f);
        self.frame(c, cport, SERVER, SERVER_PORT, ISN_C, 0, SYN, 0, &|_| {});
        let rec = self.buf.split_off(at);
        let data = &rec[16..];
        let b = &mut self.buf;
        let len = 32 + data.len().div_ceil(4) * 4;
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&iface.to_le_bytes());
        b.extend_from_slice(&((self.ts_us >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(self.ts_us as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b.resize(b.len() + data.len().div_ceil(4) * 4 - data.len(), 0);
        b.extend_from_slice(&(len as u32).to_le_bytes());
    }

    fn client(f: u64) -> ([u8; 4], u16) {
        let host = f / 50_000;
        (
            [10, (host >> 8) as u8, host as u8, 2],
            10_000 + (f % 50_000) as u16,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload_len: usize,
        payload: &dyn Fn(&mut Vec<u8>),
    ) {
        // 1 µs apart: a whole flood fits well inside the idle timeouts, so only the
        // caps (not idle eviction) keep memory down.
        self.ts_us += 1;
        self.frames += 1;
        let len = 14 + 20 + 20 + payload_len;
        let b = &mut self.buf;
        b.extend_from_slice(&((self.ts_us / 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&((self.ts_us % 1_000_000) as u32).to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + 20 + payload_len) as u16;
        b.extend_from_slice(&[0x45, 0]);
        b.extend_from_slice(&total.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        b.extend_from_slice(&src);
        b.extend_from_slice(&dst);
        b.extend_from_slice(&sport.to_be_bytes());
        b.extend_from_slice(&dport.to_be_bytes());
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&ack.to_be_bytes());
        b.extend_from_slice(&[0x50, flags]);
        b.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        let before = b.len();
        payload(b);
        debug_assert_eq!(b.len() - before, payload_len);
    }

    fn handshake(&mut self, f: u64, step: u64) {
        let (c, cport) = Self::client(f);
        if step.is_multiple_of(2) {
            self.frame(c, cport, SERVER, SERVER_PORT, ISN_C, 0, SYN, 0, &|_| {});
        } else {
            self.frame(
                SERVER,
                SERVER_PORT,
                c,
                cport,
                ISN_S,
                ISN_C + 1,
                SYN | ACK,
                0,
                &|_| {},
            );
        }
    }

    /// Appends the next frame(s) of the script; false at the end.
    fn refill(&mut self) -> bool {
        let s = self.spec;
        while self.step < self.steps {
            let step = self.step;
            self.step += 1;
            match s.kind {
                Kind::Syn => {
                    let (c, cport) = Self::client(step);
                    self.frame(c, cport, SERVER, SERVER_PORT, ISN_C, 0, SYN, 0, &|_| {});
                    return true;
                }
                Kind::Holes | Kind::Pipelined if step < s.flows * 2 => {
                    self.handshake(step / 2, step);
                    return true;
                }
                Kind::Holes => {
                    let k = step - s.flows * 2;
                    let (f, n) = (k % s.flows, k / s.flows);
                    let (c, cport) = Self::client(f);
                    // Segment 0 is never sent: every later one waits above the hole.
                    let seq = ISN_C + 1 + ((n + 1) as usize * s.segment) as u32;
                    let len = s.segment;
                    self.frame(
                        c,
                        cport,
                        SERVER,
                        SERVER_PORT,
                        seq,
                        ISN_S + 1,
                        ACK | PSH,
                        len,
                        &|b| b.resize(b.len() + len, b'h'),
                    );
                    return true;
                }
                Kind::Pipelined => {
                    let k = step - s.flows * 2;
                    let (f, n) = (k % s.flows, k / s.flows);
                    let (c, cport) = Self::client(f);
                    let req = format!(
                        "GET http://example.com/item/{n:08} HTTP/1.1\r\nHost: example.com\r\nUser-Agent: flood\r\n\r\n"
                    );
                    let seq = ISN_C
                        .wrapping_add(1)
                        .wrapping_add((n as u32).wrapping_mul(req.len() as u32));
                    self.frame(
                        c,
                        cport,
                        SERVER,
                        SERVER_PORT,
                        seq,
                        ISN_S + 1,
                        ACK | PSH,
                        req.len(),
                        &|b| b.extend_from_slice(req.as_bytes()),
                    );
                    return true;
                }
                Kind::Auth407 | Kind::Late407 if step < s.flows * 2 => {
                    self.handshake(step / 2, step);
                    return true;
                }
                Kind::Certs if step < 2 => {
                    self.handshake(0, step);
                    return true;
                }
                Kind::Certs if step == 2 => {
                    let (c, cport) = Self::client(0);
                    self.frame(
                        c,
                        cport,
                        SERVER,
                        SERVER_PORT,
                        ISN_C + 1,
                        ISN_S + 1,
                        ACK | PSH,
                        50,
                        &|b| Self::client_hello(b),
                    );
                    return true;
                }
                Kind::Certs => {
                    let n = (step - 3) as usize;
                    let (c, cport) = Self::client(0);
                    let len = Self::certs_len(s.segment);
                    let seg = s.segment;
                    let seq = (ISN_S + 1).wrapping_add((n * len) as u32);
                    self.frame(
                        SERVER,
                        SERVER_PORT,
                        c,
                        cport,
                        seq,
                        ISN_C + 51,
                        ACK | PSH,
                        len,
                        &|b| Self::certificate_record(b, seg),
                    );
                    return true;
                }
                Kind::Auth407 | Kind::Late407 => {
                    let k = step - s.flows * 2;
                    let (f, n, response) = (k % s.flows, k / s.flows / 2, (k / s.flows) % 2 == 1);
                    let (c, cport) = Self::client(f);
                    let req = Self::auth_request(n);
                    let (rq, rs) = (req.len() as u64, Self::AUTH_407.len() as u64);
                    let cseq = ISN_C.wrapping_add(1).wrapping_add((n * rq) as u32);
                    let sseq = ISN_S.wrapping_add(1).wrapping_add((n * rs) as u32);
                    if response {
                        let answer = if s.kind == Kind::Late407 && n + 1 < s.per_flow {
                            Self::ok_200()
                        } else {
                            Self::AUTH_407.to_string()
                        };
                        self.frame(
                            SERVER,
                            SERVER_PORT,
                            c,
                            cport,
                            sseq,
                            cseq.wrapping_add(rq as u32),
                            ACK | PSH,
                            rs as usize,
                            &|b| b.extend_from_slice(answer.as_bytes()),
                        );
                    } else {
                        self.frame(
                            c,
                            cport,
                            SERVER,
                            SERVER_PORT,
                            cseq,
                            sseq,
                            ACK | PSH,
                            rq as usize,
                            &|b| b.extend_from_slice(req.as_bytes()),
                        );
                    }
                    return true;
                }
                Kind::Dns => {
                    let (n, response) = (step / 2, step % 2 == 1);
                    let client = ([10, 0, 0, 2], 40_000);
                    let server = (SERVER, 53);
                    let (src, dst) = if response {
                        (server, client)
                    } else {
                        (client, server)
                    };
                    self.udp_frame(
                        src,
                        dst,
                        &|b| Self::dns_message(b, n, response),
                        Self::DNS_LEN,
                    );
                    return true;
                }
                Kind::Rejected => {
                    let (f, phase) = (step / 5, step % 5);
                    let (c, cport) = Self::client(f);
                    let flight = Self::server_flight_len();
                    let (cs, ss) = (ISN_C + 1, ISN_S + 1);
                    match phase {
                        0 => self.frame(c, cport, SERVER, 443, ISN_C, 0, SYN, 0, &|_| {}),
                        1 => self.frame(SERVER, 443, c, cport, ISN_S, cs, SYN | ACK, 0, &|_| {}),
                        2 => self.frame(c, cport, SERVER, 443, cs, ss, ACK | PSH, 50, &|b| {
                            Self::client_hello(b)
                        }),
                        3 => self.frame(
                            SERVER,
                            443,
                            c,
                            cport,
                            ss,
                            cs + 50,
                            ACK | PSH,
                            flight,
                            &|b| Self::server_flight(b),
                        ),
                        _ => self.frame(
                            c,
                            cport,
                            SERVER,
                            443,
                            cs + 50,
                            ss.wrapping_add(flight as u32),
                            ACK | PSH,
                            7,
                            &|b| b.extend_from_slice(&[21, 3, 3, 0, 2, 2, 48]),
                        ),
                    }
                    return true;
                }
                Kind::Interfaces | Kind::LinkTypes if step < s.per_flow => {
                    self.idb(if s.kind == Kind::LinkTypes {
                        step as u16
                    } else {
                        1
                    });
                    return true;
                }
                Kind::Interfaces | Kind::LinkTypes => {
                    let n = step - s.per_flow;
                    let iface = match s.kind {
                        Kind::LinkTypes => 1,
                        _ if n.is_multiple_of(2) => 0,
                        _ => s.per_flow.saturating_sub(1) as u32,
                    };
                    self.epb_syn(iface, n);
                    return true;
                }
                Kind::Trickle | Kind::PartialHeads | Kind::PartialTls if step < s.flows * 2 => {
                    self.handshake(step / 2, step);
                    return true;
                }
                Kind::Trickle | Kind::PartialHeads | Kind::PartialTls => {
                    let k = step - s.flows * 2;
                    let (f, n) = (k % s.flows, (k / s.flows) as usize);
                    let (c, cport) = Self::client(f);
                    let seg = s.segment.max(1);
                    let from = (n * seg).min(self.held.len());
                    let part = self.held[from..(from + seg).min(self.held.len())].to_vec();
                    let seq = ISN_C.wrapping_add(1).wrapping_add(from as u32);
                    self.frame(
                        c,
                        cport,
                        SERVER,
                        SERVER_PORT,
                        seq,
                        ISN_S + 1,
                        ACK | PSH,
                        part.len(),
                        &|b| b.extend_from_slice(&part),
                    );
                    return true;
                }
                Kind::Endless if step < 2 => {
                    self.handshake(0, step);
                    return true;
                }
                Kind::Endless => {
                    let n = step - 2;
                    if n.is_multiple_of(1000) {
                        // Lost: the bytes after it are held until the cap gives up.
                        continue;
                    }
                    let (c, cport) = Self::client(0);
                    let seq = ISN_C
                        .wrapping_add(1)
                        .wrapping_add((n as u32).wrapping_mul(s.segment as u32));
                    let len = s.segment;
                    // Only the client's first ACK (of the SYN-ACK); the server never
                    // acknowledges anything.
                    self.frame(
                        c,
                        cport,
                        SERVER,
                        SERVER_PORT,
                        seq,
                        ISN_S + 1,
                        ACK | PSH,
                        len,
                        &|b| b.resize(b.len() + len, b'e'),
                    );
                    return true;
                }
            }
        }
        false
    }
}

impl Read for Flood {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            // Batch frames so reads are not one frame each.
            while self.buf.len() < 64 * 1024 && self.refill() {}
            if self.buf.is_empty() {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
