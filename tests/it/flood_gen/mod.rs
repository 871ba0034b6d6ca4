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
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Syn,
    Holes,
    Endless,
    Pipelined,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "syn" => Kind::Syn,
            "holes" => Kind::Holes,
            "endless" => Kind::Endless,
            "pipelined" => Kind::Pipelined,
            _ => return None,
        })
    }
}

/// Shape of one flood.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub kind: Kind,
    /// Flows (Syn, Holes, Pipelined; Endless has one).
    pub flows: u64,
    /// Data segments per flow (Holes, Endless) or requests per flow (Pipelined).
    pub per_flow: u64,
    /// Payload bytes per data segment (Holes, Endless).
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
}

impl Flood {
    pub fn new(spec: Spec) -> Flood {
        let steps = match spec.kind {
            Kind::Syn => spec.flows,
            // SYN and SYN-ACK per flow, then the data round robin.
            Kind::Holes | Kind::Pipelined => spec.flows * 2 + spec.flows * spec.per_flow,
            Kind::Endless => 2 + spec.per_flow,
        };
        let mut buf = Vec::with_capacity(70_000);
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&262_144u32.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        Flood {
            spec,
            step: 0,
            steps,
            buf,
            pos: 0,
            ts_us: 1_700_000_000 * 1_000_000,
            frames: 0,
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
        }
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
