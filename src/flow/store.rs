//! Finished flows, kept for the rules and the report as compact bytes.
//!
//! A decoded [`FlowSummary`] with its HTTP exchanges, TLS facts and DNS transactions
//! takes about 2 KiB, and a capture keeps up to `max_records` of them. Kept as bytes
//! a flow takes a few hundred, and is rebuilt when a rule or the report asks for it.
//! The bytes are the records' serde derive written by `postcard` (varints, lengths
//! before contents, no field names); the format lives only as long as the process.
//! Encodings sit back to back in chunks of 64 KiB (one growing buffer would hold up
//! to twice what it needs, and briefly three times while it moves); an index gives
//! each one's place and its report-order key, so sorting moves index entries, not
//! bytes. Certificates, large and repeated from flow to flow, and shared text
//! (`Arc<str>`: names, methods, fingerprints…) are kept once per store (one table
//! per capture) and a flow holds their ids; reading a flow back then clones them.
//! Each flow's encoding is followed by its [`FlowBrief`]'s, which
//! [`briefs`](FlowStore::briefs) reads without rebuilding the flow.

mod index;
#[cfg(test)]
mod tests;

use crate::flow::brief::FlowBrief;
use crate::flow::record::{FlowSummary, Transport};
use crate::protocols::stored::Texts;
use serde::Deserialize;
use std::collections::VecDeque;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes per chunk of encodings; a longer encoding gets a chunk of its own.
const CHUNK: usize = 64 << 10;
/// Chunks kept in memory past this many bytes are written to the spill file, the
/// oldest first: memory then stays the same however many flows a capture holds.
const IN_MEMORY: usize = 1 << 20;
/// Spilled chunks kept in memory after being read back, most recent first. Flows are
/// read in report order and were written roughly in that order (finished in batches
/// every 10 s of capture time), so a few chunks serve a whole pass.
const CACHED: usize = 8;

/// Encoded flows, back to back.
#[derive(Clone, Debug)]
enum Chunk {
    Mem(Vec<u8>),
    /// Moved to the spill file at `at`.
    Spilled {
        at: u64,
        len: usize,
    },
}

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
    fn new(f: &FlowSummary, chunk: u32, start: u32, len: u32) -> Entry {
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
            chunk,
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

    /// Report order, compared exactly as [`FlowSummary::report_key`].
    fn key(&self) -> (u64, bool, SocketAddr) {
        (self.first_frame, self.udp, self.client())
    }
}

/// Finished flows in the order they were pushed, until [`FlowStore::sort`] puts them in
/// report order (first frame, TCP before UDP, client address).
#[derive(Debug, Default)]
pub struct FlowStore {
    chunks: Vec<Chunk>,
    index: index::Index,
    /// Shared text, each distinct value once (shared with copies until one writes).
    texts: Arc<Texts>,
    /// Where a flow is encoded before it is copied into a chunk.
    scratch: Vec<u8>,
    /// Bytes of chunks in memory.
    in_memory: usize,
    /// Past this, chunks are spilled (`None`: [`IN_MEMORY`]).
    limit: Option<usize>,
    /// Unnamed (`tempfile::tempfile`: 0600 in `TMPDIR`, gone with the process).
    spill: Option<Arc<File>>,
    /// Bytes written to the spill file.
    spilled: u64,
    /// No more spilling: the file could not be made or written, or this store is a
    /// copy (the original writes to the file it shares).
    keep_all: bool,
    /// Spilled chunks read back: (chunk, bytes).
    cache: Mutex<VecDeque<(usize, Arc<[u8]>)>>,
    /// Reads of a flow that could not rebuild it (the spill file failed on reading
    /// back); each pass over the flows counts such a flow again.
    unreadable: AtomicUsize,
}

/// A copy for a live report: it reads the spill file it shares but never writes to it.
impl Clone for FlowStore {
    fn clone(&self) -> FlowStore {
        FlowStore {
            chunks: self.chunks.clone(),
            index: self.index.clone(),
            texts: self.texts.clone(),
            scratch: Vec::new(),
            in_memory: self.in_memory,
            limit: self.limit,
            spill: self.spill.clone(),
            spilled: self.spilled,
            keep_all: true,
            cache: Mutex::default(),
            unreadable: AtomicUsize::new(self.unreadable()),
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
            limit: Some(bytes),
            ..FlowStore::default()
        }
    }

    /// This store's index spills to a temporary file too (past 32,768 flows, sorted in
    /// runs and merged by [`sort`](Self::sort)): for stores whose flows are not
    /// bounded in number, so that memory stays flat however many there are.
    pub fn with_spilled_index(mut self) -> FlowStore {
        self.index = index::Index::spilling(self.limit);
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
        let fits = match self.chunks.last() {
            Some(Chunk::Mem(c)) => c.capacity() - c.len() >= self.scratch.len(),
            _ => false,
        };
        if !fits {
            self.spill_old();
            let c = Vec::with_capacity(self.chunk_bytes().max(self.scratch.len()));
            self.in_memory += c.capacity();
            self.chunks.push(Chunk::Mem(c));
        }
        let bytes = &self.scratch;
        let (Ok(chunk), Ok(len)) = (
            u32::try_from(self.chunks.len() - 1),
            u32::try_from(flow_len),
        ) else {
            return;
        };
        let Some(Chunk::Mem(c)) = self.chunks.last_mut() else {
            return;
        };
        let Ok(start) = u32::try_from(c.len()) else {
            return;
        };
        c.extend_from_slice(bytes);
        self.index.push(Entry::new(f, chunk, start, len));
    }

    fn chunk_bytes(&self) -> usize {
        match self.limit {
            Some(l) if l < 4 * CHUNK => (l / 4).max(256),
            _ => CHUNK,
        }
    }

    /// Moves the oldest chunks in memory to the spill file while more than the limit
    /// is held.
    fn spill_old(&mut self) {
        let limit = self.limit.unwrap_or(IN_MEMORY);
        if self.keep_all || self.in_memory <= limit {
            return;
        }
        if self.spill.is_none() {
            // tempfile's O_TMPFILE path opens with mode 0666: the umask alone decides.
            self.spill = tempfile::tempfile()
                .and_then(|f| {
                    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
                    Ok(f)
                })
                .ok()
                .map(Arc::new);
        }
        let Some(file) = &self.spill else {
            self.keep_all = true;
            return;
        };
        for chunk in &mut self.chunks {
            if self.in_memory <= limit {
                return;
            }
            let Chunk::Mem(c) = chunk else { continue };
            if file.write_all_at(c, self.spilled).is_err() {
                self.keep_all = true;
                return;
            }
            self.in_memory -= c.capacity();
            let len = c.len();
            *chunk = Chunk::Spilled {
                at: self.spilled,
                len,
            };
            self.spilled += len as u64;
        }
    }

    /// Chunks written to the spill file.
    pub fn spilled_chunks(&self) -> usize {
        self.chunks
            .iter()
            .filter(|c| matches!(c, Chunk::Spilled { .. }))
            .count()
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
        self.index.iter().enumerate().filter_map(|(i, e)| {
            let b = self.brief_entry(&e);
            if b.is_none() {
                self.unreadable.fetch_add(1, Ordering::Relaxed);
            }
            Some((i, b?))
        })
    }

    /// The brief written after the flow of `e` (postcard reads it up to its end).
    fn brief_entry(&self, e: &Entry) -> Option<FlowBrief> {
        let start = usize::try_from(e.start).ok()?;
        let at = start.checked_add(usize::try_from(e.len).ok()?)?;
        let i = usize::try_from(e.chunk).ok()?;
        let spilled;
        let chunk: &[u8] = match self.chunks.get(i)? {
            Chunk::Mem(c) => c,
            &Chunk::Spilled { at, len } => {
                spilled = self.read_back(i, at, len)?;
                &spilled
            }
        };
        let _table = self.texts.reading();
        let (b, _) = postcard::take_from_bytes::<FlowBrief>(chunk.get(at..)?).ok()?;
        Some(b)
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
        self.in_memory + self.scratch.capacity() + self.index.heap_bytes() + self.texts.heap_bytes()
    }

    /// Bytes of the flows' encodings alone (not the index, not the certificates).
    pub fn encoded_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Mem(c) => c.len(),
                Chunk::Spilled { len, .. } => *len,
            })
            .sum()
    }

    /// Reads of a flow that could not rebuild it: its chunk could not be read back from
    /// the spill file (each pass over the flows counts it again). The report is then
    /// missing those flows, and says so.
    pub fn unreadable(&self) -> usize {
        self.unreadable.load(Ordering::Relaxed)
    }

    /// `None` only if the bytes are not what `push` wrote, or cannot be read back.
    fn decode(&self, e: &Entry) -> Option<FlowSummary> {
        let f = self.decode_entry(e);
        if f.is_none() {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
        }
        f
    }

    fn decode_entry(&self, e: &Entry) -> Option<FlowSummary> {
        let start = usize::try_from(e.start).ok()?;
        let end = start.checked_add(usize::try_from(e.len).ok()?)?;
        let i = usize::try_from(e.chunk).ok()?;
        match self.chunks.get(i)? {
            Chunk::Mem(c) => self.decode_bytes(c.get(start..end)?),
            &Chunk::Spilled { at, len } => {
                let bytes = self.read_back(i, at, len)?;
                self.decode_bytes(bytes.get(start..end)?)
            }
        }
    }

    fn decode_bytes(&self, bytes: &[u8]) -> Option<FlowSummary> {
        let _table = self.texts.reading();
        let mut de = postcard::Deserializer::from_bytes(bytes);
        let f = FlowSummary::deserialize(&mut de).ok()?;
        de.finalize().ok()?.is_empty().then_some(f)
    }

    /// Spilled chunk `i`, from the cache or read back into it.
    fn read_back(&self, i: usize, at: u64, len: usize) -> Option<Arc<[u8]>> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = cache.iter().position(|(c, _)| *c == i) {
            let hit = cache.remove(pos)?;
            let bytes = hit.1.clone();
            cache.push_front(hit);
            return Some(bytes);
        }
        let mut buf = vec![0; len];
        self.spill.as_ref()?.read_exact_at(&mut buf, at).ok()?;
        let bytes: Arc<[u8]> = buf.into();
        cache.push_front((i, bytes.clone()));
        cache.truncate(CACHED);
        Some(bytes)
    }
}
