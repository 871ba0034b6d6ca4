//! Finished flows, kept for the rules and the report as compact bytes.
//!
//! A decoded [`FlowSummary`] with its HTTP exchanges, TLS facts and DNS transactions
//! takes about 2 KiB, and a capture keeps up to `max_records` of them. Kept as bytes
//! a flow takes a few hundred, and is rebuilt when a rule or the report asks for it.
//! The bytes are the records' serde derive written by `postcard` (varints, lengths
//! before contents, no field names); the format lives only as long as the process.
//! Encodings are records of a [`SpillLog`] (chunks of 64 KiB, 1 MiB of them in memory,
//! the rest in a temporary file); an index gives each one's place and its
//! report-order key, so sorting moves index entries, not bytes. Certificates, large
//! and repeated from flow to flow, and shared text (`Arc<str>`: names, methods,
//! fingerprints…) are kept once per store (one table per capture) and a flow holds
//! their ids; reading a flow back then clones them.
//! Each flow's encoding is followed by its [`FlowBrief`]'s, which
//! [`briefs`](FlowStore::briefs) reads without rebuilding the flow.

mod index;
#[cfg(test)]
mod tests;

use crate::flow::brief::FlowBrief;
use crate::flow::record::{FlowSummary, Transport};
use crate::protocols::stored::Texts;
use crate::spill::{Pos, SpillLog};
use serde::Deserialize;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where one flow's encoding is, and what it sorts by (the client address taken apart,
/// so an entry stays 48 bytes).
#[derive(Clone, Copy, Debug)]
struct Entry {
    first_frame: u64,
    chunk: u32,
    start: u32,
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
    fn new(f: &FlowSummary, pos: Pos, len: u32) -> Entry {
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
            chunk: pos.chunk,
            start: pos.start,
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

    /// Where the flow's record is in the store's log.
    fn pos(&self) -> Pos {
        Pos {
            chunk: self.chunk,
            start: self.start,
        }
    }

    /// Report order, compared exactly as [`FlowSummary::report_key`].
    fn key(&self) -> (u64, bool, SocketAddr) {
        (self.first_frame, self.udp, self.client())
    }
}

/// Finished flows in the order they were pushed, until [`FlowStore::sort`] puts them in
/// report order (first frame, TCP before UDP, client address).
#[derive(Debug, Default)]
pub struct FlowStore {
    /// Each flow's record: its encoding, then its brief's.
    log: SpillLog,
    index: index::Index,
    /// Shared text, each distinct value once (shared with copies until one writes).
    texts: Arc<Texts>,
    /// Where a flow is encoded before it is copied into the log.
    scratch: Vec<u8>,
    /// Flows postcard could not write or rebuild (the log counts those whose chunk
    /// could not be read back); each pass over the flows counts such a flow again.
    unreadable: AtomicUsize,
}

/// A copy for a live report: it reads the spill file it shares but never writes to it.
impl Clone for FlowStore {
    fn clone(&self) -> FlowStore {
        FlowStore {
            log: self.log.clone(),
            index: self.index.clone(),
            texts: self.texts.clone(),
            scratch: Vec::new(),
            unreadable: AtomicUsize::new(self.unreadable.load(Ordering::Relaxed)),
        }
    }
}

impl FlowStore {
    pub fn new() -> FlowStore {
        FlowStore::default()
    }

    /// A store that keeps at most about `bytes` of encodings in memory (the default is
    /// 1 MiB) and spills older chunks to a temporary file. Tests use a small limit to
    /// make real flows go through the file: below 256 KiB, chunks are a quarter of the
    /// limit (at least 256 bytes), so even a few flows fill some.
    pub fn with_memory_limit(bytes: usize) -> FlowStore {
        FlowStore {
            log: SpillLog::with_memory_limit(bytes),
            ..FlowStore::default()
        }
    }

    /// This store's index spills to a temporary file too (past 32,768 flows, sorted in
    /// runs and merged by [`sort`](Self::sort)): for stores whose flows are not
    /// bounded in number, so that memory stays flat however many there are.
    pub fn with_spilled_index(mut self) -> FlowStore {
        self.index = index::Index::spilling(self.log.memory_limit());
        self
    }

    /// Keeps a finished flow. (One whose encoding passed 4 GiB would not be kept; the
    /// decoders' caps on what they keep make that impossible. One that postcard
    /// refused, which these types cannot make, would be counted as unreadable.)
    pub fn push(&mut self, f: &FlowSummary) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let texts = Arc::make_mut(&mut self.texts);
        let mut flow_len = 0;
        let written = texts.write(|| {
            let bytes = postcard::to_extend(f, scratch)?;
            flow_len = bytes.len();
            // The brief right after the flow: the index needs no field more.
            postcard::to_extend(&FlowBrief::of(f), bytes)
        });
        match written {
            Ok(bytes) => self.scratch = bytes,
            Err(_) => {
                self.unreadable.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let Ok(len) = u32::try_from(flow_len) else {
            return;
        };
        if let Some(pos) = self.log.push(&self.scratch) {
            self.index.push(Entry::new(f, pos, len));
        }
    }

    /// Chunks written to the spill file.
    pub fn spilled_chunks(&self) -> usize {
        self.log.spilled_chunks()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The `i`-th flow (0-based), rebuilt.
    pub fn get(&self, i: usize) -> Option<FlowSummary> {
        self.decode(&self.index.get(i)?)
    }

    /// Every flow, rebuilt one at a time, with its index: one that cannot be rebuilt
    /// (counted in [`unreadable`](Self::unreadable)) is left out, and the others keep
    /// their index, so flow ids do not shift.
    pub fn indexed(&self) -> impl Iterator<Item = (usize, FlowSummary)> + '_ {
        self.index
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, self.decode(&e)?)))
    }

    /// Every flow's brief, read without rebuilding the flow, with the flow's index:
    /// like [`indexed`](Self::indexed), one that cannot be read is counted in
    /// [`unreadable`](Self::unreadable) and left out.
    pub fn briefs(&self) -> impl Iterator<Item = (usize, FlowBrief)> + '_ {
        self.index
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, self.brief_entry(&e)?)))
    }

    /// The brief written after the flow of `e`.
    fn brief_entry(&self, e: &Entry) -> Option<FlowBrief> {
        let rec = self.log.get(e.pos())?;
        let b = usize::try_from(e.len)
            .ok()
            .and_then(|len| rec.get(len..))
            .and_then(|b| {
                let _table = self.texts.reading();
                postcard::from_bytes::<FlowBrief>(b).ok()
            });
        if b.is_none() {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
        }
        b
    }

    /// Every flow, rebuilt one at a time (see [`indexed`](Self::indexed)).
    pub fn iter(&self) -> impl Iterator<Item = FlowSummary> + '_ {
        self.indexed().map(|(_, f)| f)
    }

    /// Puts the flows in report order: first frame, TCP before UDP, client address.
    pub fn sort(&mut self) {
        self.index.sort();
        self.scratch = Vec::new();
        if let Some(t) = Arc::get_mut(&mut self.texts) {
            t.done_writing();
        }
    }

    /// UDP flows among them (without rebuilding any).
    pub fn udp_count(&self) -> usize {
        self.index.udp_count()
    }

    /// Heap bytes held, the certificate table included.
    pub fn heap_bytes(&self) -> usize {
        self.log.heap_bytes()
            + self.scratch.capacity()
            + self.index.heap_bytes()
            + self.texts.heap_bytes()
    }

    /// Bytes of the flows' records (encodings and their lengths; not the index, not the
    /// certificates).
    pub fn encoded_bytes(&self) -> usize {
        self.log.record_bytes()
    }

    /// Reads of a flow that could not rebuild it: its chunk could not be read back from
    /// the spill file (each pass over the flows counts it again). The report is then
    /// missing those flows, and says so.
    pub fn unreadable(&self) -> usize {
        self.unreadable.load(Ordering::Relaxed) + self.log.unreadable()
    }

    /// `None` only if the bytes are not what `push` wrote, or cannot be read back
    /// (counted: by the log if it could not read the record, here if postcard refused).
    fn decode(&self, e: &Entry) -> Option<FlowSummary> {
        let rec = self.log.get(e.pos())?;
        let f = usize::try_from(e.len)
            .ok()
            .and_then(|len| rec.get(..len))
            .and_then(|b| self.decode_bytes(b));
        if f.is_none() {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
        }
        f
    }

    fn decode_bytes(&self, bytes: &[u8]) -> Option<FlowSummary> {
        let _table = self.texts.reading();
        let mut de = postcard::Deserializer::from_bytes(bytes);
        let f = FlowSummary::deserialize(&mut de).ok()?;
        de.finalize().ok()?.is_empty().then_some(f)
    }
}
