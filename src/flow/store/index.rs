//! The index of a [`FlowStore`](super::FlowStore): where each flow's encoding is, and
//! its report-order key (48 bytes a flow).
//!
//! In memory by default. A store whose flows are not bounded in number (those past
//! `--max-records`, which only the rules read) lets its index spill instead, so memory
//! stays flat however many flows a capture holds: past [`RUN`] entries, they are sorted
//! and written as a run to a [`SpillLog`] (pages of [`PAGE`] entries); sorting merges
//! the runs, a page of each at a time, into pages in report order. Reading an entry
//! reads its page back (the log caches a few chunks). About 8 bytes per page (per 256
//! flows) stay in memory.

use super::Entry;
use crate::spill::{Pos, SpillLog};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;

/// What entries sort by ([`Entry::key`]).
type Key = (u64, bool, SocketAddr);

/// Entries kept in memory before they are sorted and written as a run.
const RUN: usize = 32 << 10;
/// Entries per page written.
const PAGE: usize = 256;
/// Bytes of one entry written.
const ENTRY_BYTES: usize = 48;

/// Entries in order of [`Index::push`], then, after [`Index::sort`], in report order.
#[derive(Clone, Debug, Default)]
pub(super) struct Index {
    /// The latest entries (all of them, unless this index spills).
    mem: Vec<Entry>,
    /// Spills past [`RUN`] entries.
    spills: bool,
    log: Option<SpillLog>,
    /// Written entries: runs sorted each, or after a sort, one run in report order.
    runs: Vec<Run>,
    /// Entries in `runs`.
    written: usize,
}

/// Entries written, in pages.
#[derive(Clone, Debug, Default)]
struct Run {
    pages: Vec<Pos>,
    len: usize,
}

impl Index {
    /// An index that spills past [`RUN`] entries, its log keeping at most `limit`
    /// bytes in memory (`None`: the log's default).
    pub(super) fn spilling(limit: Option<usize>) -> Index {
        Index {
            spills: true,
            log: Some(limit.map_or_else(SpillLog::new, SpillLog::with_memory_limit)),
            ..Index::default()
        }
    }

    pub(super) fn len(&self) -> usize {
        self.written + self.mem.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn push(&mut self, e: Entry) {
        self.mem.push(e);
        if self.spills && self.mem.len() >= RUN {
            self.mem.sort_by_key(Entry::key);
            let mem = std::mem::take(&mut self.mem);
            self.write_run(mem);
        }
    }

    /// The `i`-th entry: written runs first, then those in memory.
    pub(super) fn get(&self, i: usize) -> Option<Entry> {
        let mut i = i;
        for r in &self.runs {
            if i < r.len {
                return self.page(*r.pages.get(i / PAGE)?)?.get(i % PAGE).copied();
            }
            i -= r.len;
        }
        self.mem.get(i).copied()
    }

    /// Every entry, in the order of [`get`](Self::get).
    pub(super) fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        let written = self.runs.iter().flat_map(move |r| {
            r.pages
                .iter()
                .flat_map(move |&p| self.page(p).unwrap_or_default())
        });
        written.chain(self.mem.iter().copied())
    }

    /// Puts the entries in report order (merging the runs written, if any).
    pub(super) fn sort(&mut self) {
        self.mem.sort_by_key(Entry::key);
        if self.runs.is_empty() {
            self.mem.shrink_to_fit();
            return;
        }
        if !self.mem.is_empty() {
            let mem = std::mem::take(&mut self.mem);
            self.write_run(mem);
        }
        if self.runs.len() == 1 {
            return;
        }
        let runs = std::mem::take(&mut self.runs);
        let mut cursors: Vec<Cursor> = runs.iter().map(|r| Cursor::new(self, r)).collect();
        let (total, mut out, mut page) = (self.written, Run::default(), Vec::with_capacity(PAGE));
        self.written = 0;
        // The least entry of each run; equal keys in run order (push order).
        let mut heads: BinaryHeap<Reverse<(Key, usize)>> = cursors
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some(Reverse((c.peek()?.key(), i))))
            .collect();
        while let Some(Reverse((_, i))) = heads.pop() {
            let Some(c) = cursors.get_mut(i) else { break };
            let Some(e) = c.peek() else { continue };
            page.push(e);
            c.advance(self);
            if let Some(next) = c.peek() {
                heads.push(Reverse((next.key(), i)));
            }
            if page.len() == PAGE {
                self.write_page(&mut out, &page);
                page.clear();
            }
        }
        if !page.is_empty() {
            self.write_page(&mut out, &page);
        }
        self.written = out.len;
        self.runs = vec![out];
        debug_assert_eq!(self.written, total);
    }

    /// Heap bytes held (entries in memory, page lists, the log's memory).
    pub(super) fn heap_bytes(&self) -> usize {
        self.mem.capacity() * size_of::<Entry>()
            + self
                .runs
                .iter()
                .map(|r| r.pages.capacity() * size_of::<Pos>())
                .sum::<usize>()
            + self.log.as_ref().map_or(0, SpillLog::heap_bytes)
    }

    /// UDP flows among the entries.
    pub(super) fn udp_count(&self) -> usize {
        self.iter().filter(|e| e.udp).count()
    }

    fn write_run(&mut self, entries: Vec<Entry>) {
        let mut run = Run::default();
        for page in entries.chunks(PAGE) {
            self.write_page(&mut run, page);
        }
        if run.len < entries.len() {
            // The log refused (a record of 4 GiB cannot happen): keep them in memory.
            self.spills = false;
            self.mem = entries.get(run.len..).unwrap_or_default().to_vec();
        }
        self.written += run.len;
        self.runs.push(run);
    }

    fn write_page(&mut self, run: &mut Run, page: &[Entry]) {
        let mut bytes = Vec::with_capacity(page.len() * ENTRY_BYTES);
        for e in page {
            encode(e, &mut bytes);
        }
        if let Some(p) = self.log.as_mut().and_then(|l| l.push(&bytes)) {
            run.pages.push(p);
            run.len += page.len();
        }
    }

    fn page(&self, p: Pos) -> Option<Vec<Entry>> {
        self.log.as_ref()?.read(p, |b| {
            b.chunks_exact(ENTRY_BYTES)
                .filter_map(decode)
                .collect::<Vec<Entry>>()
        })
    }
}

/// The store's tests edit entries in memory in place (an index that does not spill).
#[cfg(test)]
impl std::ops::Index<usize> for Index {
    type Output = Entry;
    #[allow(clippy::indexing_slicing)]
    fn index(&self, i: usize) -> &Entry {
        &self.mem[i]
    }
}

#[cfg(test)]
impl std::ops::IndexMut<usize> for Index {
    #[allow(clippy::indexing_slicing)]
    fn index_mut(&mut self, i: usize) -> &mut Entry {
        &mut self.mem[i]
    }
}

/// A place in a run being merged: its current page, read back.
struct Cursor {
    pages: Vec<Pos>,
    next_page: usize,
    page: Vec<Entry>,
    at: usize,
}

impl Cursor {
    fn new(index: &Index, run: &Run) -> Cursor {
        let mut c = Cursor {
            pages: run.pages.clone(),
            next_page: 0,
            page: Vec::new(),
            at: 0,
        };
        c.load(index);
        c
    }

    fn load(&mut self, index: &Index) {
        self.page = self
            .pages
            .get(self.next_page)
            .and_then(|&p| index.page(p))
            .unwrap_or_default();
        self.next_page += 1;
        self.at = 0;
    }

    fn peek(&self) -> Option<Entry> {
        self.page.get(self.at).copied()
    }

    fn advance(&mut self, index: &Index) {
        self.at += 1;
        if self.at >= self.page.len() && self.next_page < self.pages.len() {
            self.load(index);
        }
    }
}

fn encode(e: &Entry, out: &mut Vec<u8>) {
    out.extend_from_slice(&e.first_frame.to_le_bytes());
    out.extend_from_slice(&e.chunk.to_le_bytes());
    out.extend_from_slice(&e.start.to_le_bytes());
    out.extend_from_slice(&e.ip);
    out.extend_from_slice(&e.len.to_le_bytes());
    out.extend_from_slice(&e.flowinfo.to_le_bytes());
    out.extend_from_slice(&e.scope_id.to_le_bytes());
    out.extend_from_slice(&e.port.to_le_bytes());
    out.push(u8::from(e.udp));
    out.push(u8::from(e.v6));
}

fn decode(b: &[u8]) -> Option<Entry> {
    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    Some(Entry {
        first_frame: u64::from_le_bytes(b.get(0..8)?.try_into().ok()?),
        chunk: u32_at(b, 8)?,
        start: u32_at(b, 12)?,
        ip: b.get(16..32)?.try_into().ok()?,
        len: u32_at(b, 32)?,
        flowinfo: u32_at(b, 36)?,
        scope_id: u32_at(b, 40)?,
        port: u16::from_le_bytes(b.get(44..46)?.try_into().ok()?),
        udp: *b.get(46)? != 0,
        v6: *b.get(47)? != 0,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An entry with a scrambled first frame, and its place in the push order.
    fn entry(i: u64) -> Entry {
        Entry {
            first_frame: (i * 7_919) % 100_003,
            chunk: i as u32,
            start: (i >> 32) as u32,
            ip: [
                10,
                0,
                (i >> 8) as u8,
                i as u8,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
            ],
            len: 1,
            flowinfo: 0,
            scope_id: 0,
            port: (i % 3) as u16,
            udp: i.is_multiple_of(2),
            v6: false,
        }
    }

    #[test]
    fn a_spilled_index_sorts_like_one_in_memory() {
        let n = 3 * RUN as u64 + 1_234;
        let mut mem = Index::default();
        let mut spilled = Index::spilling(Some(1 << 16));
        for i in 0..n {
            mem.push(entry(i));
            spilled.push(entry(i));
        }
        assert_eq!(spilled.len(), n as usize);
        assert!(spilled.mem.len() < RUN, "written in runs");
        assert!(
            spilled.heap_bytes() < RUN * size_of::<Entry>() + (1 << 20),
            "{} bytes held",
            spilled.heap_bytes()
        );
        mem.sort();
        spilled.sort();
        let want: Vec<u32> = mem.iter().map(|e| e.chunk).collect();
        let got: Vec<u32> = spilled.iter().map(|e| e.chunk).collect();
        assert_eq!(got, want);
        for i in [0, 1, PAGE - 1, PAGE, RUN, n as usize - 1] {
            assert_eq!(spilled.get(i).map(|e| e.chunk), want.get(i).copied());
        }
        assert!(spilled.get(n as usize).is_none());
        assert_eq!(spilled.udp_count(), mem.udp_count());
    }
}
