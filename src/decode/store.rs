//! Finished flows, kept for the rules and the report as compact bytes.
//!
//! A decoded [`FlowSummary`] with its HTTP exchanges, TLS facts and DNS transactions
//! takes about 2 KiB, and a capture keeps up to `max_records` of them. Kept as bytes
//! (the encoding is described in `store/codec.rs`) a flow takes 100 to 200, and is
//! rebuilt when a rule or the report asks for it. All encodings sit back to back in
//! one buffer; an index gives each one's place and its report-order key, so sorting
//! moves index entries, not bytes. Values that repeat across flows (shared strings,
//! cipher suite lists, certificates) are stored once per store, and the flows hold
//! their index.

mod codec;
#[cfg(test)]
mod tests;

use crate::decode::flows::{FlowSummary, Transport};
use codec::{Dec, Enc, R, Tables, W};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Where one flow's encoding is, and what it sorts by (the client address taken apart,
/// so an entry stays 48 bytes).
#[derive(Clone, Copy, Debug)]
struct Entry {
    first_frame: u64,
    start: usize,
    /// IPv4 addresses in the first 4 bytes.
    ip: [u8; 16],
    len: u32,
    flowinfo: u32,
    scope_id: u32,
    port: u16,
    udp: bool,
    v6: bool,
}

impl Entry {
    fn new(f: &FlowSummary, start: usize, len: u32) -> Entry {
        let (ip, flowinfo, scope_id, v6) = match f.client {
            SocketAddr::V4(a) => {
                let [a, b, c, d] = a.ip().octets();
                let ip = [a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
                (ip, 0, 0, false)
            }
            SocketAddr::V6(a) => (a.ip().octets(), a.flowinfo(), a.scope_id(), true),
        };
        Entry {
            first_frame: f.first_frame.0,
            start,
            ip,
            len,
            flowinfo,
            scope_id,
            port: f.client.port(),
            udp: f.transport == Transport::Udp,
            v6,
        }
    }

    fn client(&self) -> SocketAddr {
        if self.v6 {
            let ip = Ipv6Addr::from(self.ip);
            SocketAddr::V6(SocketAddrV6::new(
                ip,
                self.port,
                self.flowinfo,
                self.scope_id,
            ))
        } else {
            let [a, b, c, d, ..] = self.ip;
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(a, b, c, d), self.port))
        }
    }

    /// Report order, compared exactly as `(first_frame, transport == Udp, client)`.
    fn key(&self) -> (u64, bool, SocketAddr) {
        (self.first_frame, self.udp, self.client())
    }
}

/// Finished flows in the order they were pushed, until [`FlowStore::sort`] puts them in
/// report order (first frame, TCP before UDP, client address).
#[derive(Clone, Debug, Default)]
pub struct FlowStore {
    bytes: Vec<u8>,
    index: Vec<Entry>,
    tables: Tables,
}

impl FlowStore {
    pub fn new() -> FlowStore {
        FlowStore::default()
    }

    /// Keeps a finished flow. (One whose encoding passed 4 GiB would not be kept; the
    /// decoders' caps on what they keep make that impossible.)
    pub fn push(&mut self, f: &FlowSummary) {
        let start = self.bytes.len();
        f.enc(&mut W::new(&mut self.bytes, &mut self.tables));
        let Ok(len) = u32::try_from(self.bytes.len() - start) else {
            self.bytes.truncate(start);
            return;
        };
        self.index.push(Entry::new(f, start, len));
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The `i`-th flow (0-based), rebuilt.
    pub fn get(&self, i: usize) -> Option<FlowSummary> {
        self.decode(self.index.get(i)?)
    }

    /// Every flow, rebuilt one at a time.
    pub fn iter(&self) -> impl Iterator<Item = FlowSummary> + '_ {
        self.index.iter().filter_map(|e| self.decode(e))
    }

    /// Puts the flows in report order: first frame, TCP before UDP, client address.
    pub fn sort(&mut self) {
        self.index.sort_by_key(Entry::key);
    }

    /// UDP flows among them (without rebuilding any).
    pub fn udp_count(&self) -> usize {
        self.index.iter().filter(|e| e.udp).count()
    }

    /// Heap bytes held (for `--stats`), the shared values included.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.index.capacity() * std::mem::size_of::<Entry>()
            + self.tables.heap_bytes()
    }

    /// Bytes of the flows' encodings alone (not the index, not the shared values).
    pub fn encoded_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// `None` only if the bytes are not what `push` wrote.
    fn decode(&self, e: &Entry) -> Option<FlowSummary> {
        let end = e.start.checked_add(usize::try_from(e.len).ok()?)?;
        let mut r = R::new(self.bytes.get(e.start..end)?, &self.tables);
        let f = FlowSummary::dec(&mut r)?;
        r.done().then_some(f)
    }
}
