//! An append-only log of byte records that keeps at most about 1 MiB in memory and
//! moves older chunks to a temporary file: what the analysis must keep of every flow
//! or fact, however many there are, without holding it all in memory. The finished
//! flows' store, its spilled index and the log of facts not kept each write one.
//!
//! Records sit back to back in chunks of 64 KiB (one growing buffer would hold up to
//! twice what it needs, and briefly three times while it moves), each after its length
//! (a longer record gets a chunk of its own); a record is named by its [`Pos`]. Past
//! the memory limit the oldest chunks go to a file made with `tempfile` (unnamed, 0600
//! in `TMPDIR`, gone with the process); if none can be made, they stay in memory.
//! Spilled chunks read back are cached, a few at a time: records are mostly read in
//! about the order they were written, so a few chunks serve a whole pass. A copy (live
//! reports) reads the file it shares and never writes to it.

use std::collections::VecDeque;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes per chunk.
pub(crate) const CHUNK: usize = 64 << 10;
/// Chunks in memory past this many bytes are spilled, the oldest first.
const IN_MEMORY: usize = 1 << 20;
/// Spilled chunks kept after being read back, most recent first.
const CACHED: usize = 8;

/// Where a record is: its chunk and its offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    pub(crate) chunk: u32,
    pub(crate) start: u32,
}

#[derive(Clone, Debug)]
enum Chunk {
    Mem(Vec<u8>),
    Spilled { at: u64, len: usize },
}

/// A record's bytes: in a chunk in memory, or in a spilled chunk read back.
pub enum Record<'a> {
    /// The record's bytes in their chunk.
    Mem(&'a [u8]),
    /// The chunk read back (shared with the cache) and where the record is in it.
    ReadBack(Arc<[u8]>, Range<usize>),
}

impl std::ops::Deref for Record<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Record::Mem(b) => b,
            Record::ReadBack(c, range) => c.get(range.clone()).unwrap_or_default(),
        }
    }
}

/// Where the record at `start` of a chunk is, after its length.
fn record_in(chunk: &[u8], start: usize) -> Option<Range<usize>> {
    let head = chunk.get(start..start.checked_add(4)?)?;
    let len = usize::try_from(u32::from_le_bytes(head.try_into().ok()?)).ok()?;
    let from = start + 4;
    let to = from.checked_add(len)?;
    (to <= chunk.len()).then_some(from..to)
}

/// Records appended, readable by their [`Pos`].
#[derive(Debug, Default)]
pub struct SpillLog {
    chunks: Vec<Chunk>,
    /// Bytes of chunks in memory.
    in_memory: usize,
    /// Past this, chunks are spilled (`None`: [`IN_MEMORY`]).
    limit: Option<usize>,
    /// Unnamed (`tempfile::tempfile`: 0600 in `TMPDIR`, gone with the process).
    spill: Option<Arc<File>>,
    /// Bytes written to the spill file.
    spilled: u64,
    /// No more spilling: the file could not be made or written, or this is a copy.
    keep_all: bool,
    /// Spilled chunks read back: (chunk, bytes).
    cache: Mutex<VecDeque<(usize, Arc<[u8]>)>>,
    /// Reads that found no record: its chunk could not be read back from the spill
    /// file (or the position names none).
    unreadable: AtomicUsize,
}

/// A copy for a live report: it reads the spill file it shares but never writes to it.
impl Clone for SpillLog {
    fn clone(&self) -> SpillLog {
        SpillLog {
            chunks: self.chunks.clone(),
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

impl SpillLog {
    pub fn new() -> SpillLog {
        SpillLog::default()
    }

    /// A log that keeps at most about `bytes` in memory (tests make it small so that
    /// records go through the file: chunks are then a quarter of it, at least 256).
    pub fn with_memory_limit(bytes: usize) -> SpillLog {
        SpillLog {
            limit: Some(bytes),
            ..SpillLog::default()
        }
    }

    /// The limit given to [`with_memory_limit`](Self::with_memory_limit), if any.
    pub fn memory_limit(&self) -> Option<usize> {
        self.limit
    }

    fn chunk_bytes(&self) -> usize {
        match self.limit {
            Some(l) if l < 4 * CHUNK => (l / 4).max(256),
            _ => CHUNK,
        }
    }

    /// Appends a record; `None` only for one of 4 GiB or more.
    pub fn push(&mut self, rec: &[u8]) -> Option<Pos> {
        let len = u32::try_from(rec.len()).ok()?;
        let need = rec.len() + 4;
        let fits = match self.chunks.last() {
            Some(Chunk::Mem(c)) => c.capacity() - c.len() >= need,
            _ => false,
        };
        if !fits {
            self.spill_old();
            let c = Vec::with_capacity(self.chunk_bytes().max(need));
            self.in_memory += c.capacity();
            self.chunks.push(Chunk::Mem(c));
        }
        let chunk = u32::try_from(self.chunks.len() - 1).ok()?;
        let Some(Chunk::Mem(c)) = self.chunks.last_mut() else {
            return None;
        };
        let start = u32::try_from(c.len()).ok()?;
        c.extend_from_slice(&len.to_le_bytes());
        c.extend_from_slice(rec);
        Some(Pos { chunk, start })
    }

    /// Runs `f` on the record at `pos`; `None` if it cannot be read back (counted in
    /// [`unreadable`](Self::unreadable)).
    pub fn read<R>(&self, pos: Pos, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.get(pos).map(|rec| f(&rec))
    }

    /// The record at `pos`, in its chunk in memory or in the chunk read back; `None`
    /// if it cannot be read back (counted in [`unreadable`](Self::unreadable)).
    pub fn get(&self, pos: Pos) -> Option<Record<'_>> {
        let rec = self.record(pos);
        if rec.is_none() {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
        }
        rec
    }

    fn record(&self, pos: Pos) -> Option<Record<'_>> {
        let i = usize::try_from(pos.chunk).ok()?;
        let start = usize::try_from(pos.start).ok()?;
        match self.chunks.get(i)? {
            Chunk::Mem(c) => Some(Record::Mem(c.get(record_in(c, start)?)?)),
            &Chunk::Spilled { at, len } => {
                let c = self.read_back(i, at, len)?;
                let range = record_in(&c, start)?;
                Some(Record::ReadBack(c, range))
            }
        }
    }

    /// [`read`](Self::read) for records read here and there (chains that cross
    /// the log): a spilled chunk not cached is not read whole, only the record.
    pub fn read_record<R>(&self, pos: Pos, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let i = usize::try_from(pos.chunk).ok()?;
        let Some(&Chunk::Spilled { at, .. }) = self.chunks.get(i) else {
            return self.read(pos, f);
        };
        let cached = self
            .cache
            .lock()
            .is_ok_and(|c| c.iter().any(|(c, _)| *c == i));
        if cached {
            return self.read(pos, f);
        }
        let rec = self.read_spilled_record(at, pos.start);
        if rec.is_none() {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
        }
        Some(f(&rec?))
    }

    /// The record at `start` in the spilled chunk at `at`, read alone from the file.
    fn read_spilled_record(&self, at: u64, start: u32) -> Option<Vec<u8>> {
        let file = self.spill.as_ref()?;
        let at = at.checked_add(u64::from(start))?;
        let mut head = [0u8; 4];
        file.read_exact_at(&mut head, at).ok()?;
        let mut rec = vec![0; usize::try_from(u32::from_le_bytes(head)).ok()?];
        file.read_exact_at(&mut rec, at.checked_add(4)?).ok()?;
        Some(rec)
    }

    /// Bytes held in memory (chunks, and those read back and cached).
    pub fn heap_bytes(&self) -> usize {
        let cached: usize = self
            .cache
            .lock()
            .map_or(0, |c| c.iter().map(|(_, b)| b.len()).sum());
        self.in_memory + cached + self.chunks.capacity() * size_of::<Chunk>()
    }

    /// Chunks written to the spill file.
    pub fn spilled_chunks(&self) -> usize {
        self.chunks
            .iter()
            .filter(|c| matches!(c, Chunk::Spilled { .. }))
            .count()
    }

    /// Bytes of the records, each with its length, in memory or spilled.
    pub fn record_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Mem(c) => c.len(),
                Chunk::Spilled { len, .. } => *len,
            })
            .sum()
    }

    /// Reads that found no record: a chunk that could not be read back from the spill
    /// file (a disk error) or, for bytes not written here, a position that names none.
    /// Each read counts again.
    pub fn unreadable(&self) -> usize {
        self.unreadable.load(Ordering::Relaxed)
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

/// What tests of the logs' users look at or break.
#[cfg(test)]
impl SpillLog {
    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Bytes of chunks in memory.
    pub(crate) fn in_memory(&self) -> usize {
        self.in_memory
    }

    /// Chunk `i`'s bytes, if it is in memory.
    pub(crate) fn mem_chunk(&mut self, i: usize) -> Option<&mut Vec<u8>> {
        match self.chunks.get_mut(i)? {
            Chunk::Mem(c) => Some(c),
            Chunk::Spilled { .. } => None,
        }
    }

    /// Chunk `i`'s length and, in memory, capacity.
    pub(crate) fn chunk_len(&self, i: usize) -> Option<(usize, usize)> {
        Some(match self.chunks.get(i)? {
            Chunk::Mem(c) => (c.len(), c.capacity()),
            Chunk::Spilled { len, .. } => (*len, *len),
        })
    }

    /// As if the spill file could not be made: nothing is spilled from now on.
    pub(crate) fn never_spill(&mut self) {
        self.keep_all = true;
    }

    /// As if the file had lost spilled chunk `i`: it now lies past the file's end.
    pub(crate) fn lose_chunk(&mut self, i: usize) -> bool {
        let Some(Chunk::Spilled { at, .. }) = self.chunks.get_mut(i) else {
            return false;
        };
        *at += 1 << 40;
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_from_memory_and_from_the_file() {
        let mut log = SpillLog::with_memory_limit(1024);
        let pos: Vec<Pos> = (0..200u32)
            .map(|i| {
                log.push(&i.to_le_bytes().repeat(i as usize % 7 + 1))
                    .unwrap()
            })
            .collect();
        assert!(log.spilled_chunks() > 0);
        for (i, p) in pos.iter().enumerate().rev() {
            let want = (i as u32).to_le_bytes().repeat(i % 7 + 1);
            assert_eq!(log.read(*p, <[u8]>::to_vec).unwrap(), want);
        }
        let copy = log.clone();
        assert_eq!(copy.read(pos[3], <[u8]>::len), Some(4 * 4));
        for (i, p) in pos.iter().enumerate() {
            let want = (i as u32).to_le_bytes().repeat(i % 7 + 1);
            assert_eq!(log.read_record(*p, <[u8]>::to_vec).unwrap(), want);
        }
    }

    #[test]
    fn a_record_longer_than_a_chunk_gets_its_own() {
        let mut log = SpillLog::with_memory_limit(1024);
        let a = log.push(b"short").unwrap();
        let big = vec![7u8; 5000];
        let b = log.push(&big).unwrap();
        let c = log.push(b"after").unwrap();
        assert_eq!(log.read(a, <[u8]>::to_vec).unwrap(), b"short");
        assert_eq!(log.read(b, <[u8]>::to_vec).unwrap(), big);
        assert_eq!(log.read(c, <[u8]>::to_vec).unwrap(), b"after");
    }

    #[test]
    fn a_chunk_that_cannot_be_read_back_is_counted_at_each_read() {
        let mut log = SpillLog::with_memory_limit(0);
        let pos: Vec<Pos> = (0..100u32).map(|_| log.push(&[1; 100]).unwrap()).collect();
        assert!(log.lose_chunk(0));
        assert_eq!(log.read(pos[0], <[u8]>::len), None);
        assert_eq!(log.read_record(pos[0], <[u8]>::len), None);
        assert_eq!(log.read(pos[99], <[u8]>::len), Some(100));
        assert_eq!(log.unreadable(), 2);
        assert_eq!(log.clone().unreadable(), 2);
    }

    #[test]
    fn the_spill_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mut log = SpillLog::with_memory_limit(0);
        for i in 0..200u32 {
            log.push(&i.to_le_bytes()).unwrap();
        }
        assert!(log.spilled_chunks() > 0);
        let file = log.spill.as_ref().expect("a spill file");
        let mode = file.metadata().unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600, "spill file mode {mode:o}");
    }
}
