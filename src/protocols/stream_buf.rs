//! Bounded per-direction byte buffer that remembers which frame each byte came from.
//!
//! Decoders push in-order chunks (one frame each) and consume parsed bytes from the
//! front; `at(i)` answers "which frame and timestamp carried byte `i`", so a message
//! that spans several segments can be reported at the frame Wireshark shows.
//! The buffer never grows past its cap: `room()` tells the caller how much fits.
//! Nor do its frame marks: past [`MAX_MARKS`] chunks they are thinned to one per
//! `stride` bytes (the first byte keeps its exact frame; a later byte may then be
//! credited to a frame up to `stride` bytes earlier), so a message arriving a byte
//! per segment costs bytes, not a mark per byte. [`StreamBuf::held`] is what the buffer holds.

use crate::model::{FrameNo, Timestamp};
use std::collections::VecDeque;
use std::fmt;

/// Frame marks kept at most.
const MAX_MARKS: usize = 512;

#[derive(Clone)]
pub(crate) struct StreamBuf {
    data: Vec<u8>,
    /// Absolute stream offset of `data[0]`.
    start: u64,
    /// (absolute offset where a chunk starts, its frame, its timestamp), ascending.
    marks: VecDeque<(u64, FrameNo, Timestamp)>,
    /// 0, or once marks were thinned: at most one mark per this many bytes.
    stride: u64,
    cap: usize,
}

// Buffered bytes may hold credentials (Proxy-Authorization, cookies): never print them.
impl fmt::Debug for StreamBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBuf")
            .field("len", &self.data.len())
            .field("start", &self.start)
            .field("cap", &self.cap)
            .finish()
    }
}

impl StreamBuf {
    pub(crate) fn new(cap: usize) -> Self {
        StreamBuf {
            data: Vec::new(),
            start: 0,
            marks: VecDeque::new(),
            stride: 0,
            cap,
        }
    }

    /// Bytes that still fit under the cap.
    pub(crate) fn room(&self) -> usize {
        self.cap.saturating_sub(self.data.len())
    }

    /// Appends as much of `bytes` as fits; returns how many bytes were taken.
    pub(crate) fn push(&mut self, bytes: &[u8], frame: FrameNo, ts: Timestamp) -> usize {
        let take = bytes.len().min(self.room());
        if take == 0 {
            return 0;
        }
        let abs = self.end();
        if self.marks.len() >= MAX_MARKS {
            self.thin_marks();
        }
        let same_bucket = self.stride > 0
            && self
                .marks
                .back()
                .is_some_and(|m| m.0 / self.stride == abs / self.stride);
        if !same_bucket {
            self.marks.push_back((abs, frame, ts));
        }
        self.data
            .extend_from_slice(bytes.get(..take).unwrap_or_default());
        take
    }

    /// Stream offset just past the last buffered byte.
    fn end(&self) -> u64 {
        self.start.saturating_add(self.data.len() as u64)
    }

    /// Stream offset of the first buffered byte (bytes consumed so far).
    pub(crate) fn offset(&self) -> u64 {
        self.start
    }

    /// Keeps the first mark and one per `stride` bytes after it, `stride` chosen so
    /// about half of [`MAX_MARKS`] remain.
    fn thin_marks(&mut self) {
        let (Some(first), Some(last)) = (self.marks.front(), self.marks.back()) else {
            return;
        };
        let span = last.0.saturating_sub(first.0);
        self.stride = (span / (MAX_MARKS as u64 / 2)).max(self.stride) + 1;
        let stride = self.stride;
        let mut bucket = None;
        let mut i = 0;
        self.marks.retain(|m| {
            i += 1;
            let b = m.0 / stride;
            let keep = i == 1 || bucket != Some(b);
            bucket = Some(b);
            keep
        });
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Bytes this buffer holds for its caller: what its data and frame marks take in
    /// memory (their capacity, up to twice what they hold), none once empty.
    pub(crate) fn held(&self) -> usize {
        self.data.capacity()
            + self.marks.capacity() * std::mem::size_of::<(u64, FrameNo, Timestamp)>()
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Drops `n` bytes from the front (all of them if `n` is larger).
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
        self.start = self.start.saturating_add(n as u64);
        if self.data.is_empty() {
            // An idle connection keeps no allocation (a record's 18 KiB, a head's
            // 64 KiB, or a few KiB) it is not using: with 100,000 open connections
            // that adds up.
            self.data = Vec::new();
            self.marks = VecDeque::new();
            self.stride = 0;
            return;
        }
        // Keep the mark covering the new first byte.
        while self.marks.len() > 1 && self.marks.get(1).is_some_and(|m| m.0 <= self.start) {
            self.marks.pop_front();
        }
    }

    /// Frame and timestamp of the chunk that carried byte `i` (relative to the front);
    /// an `i` past the end answers for the last chunk.
    pub(crate) fn at(&self, i: usize) -> (FrameNo, Timestamp) {
        let abs = self.start.saturating_add(i as u64);
        let idx = self.marks.partition_point(|m| m.0 <= abs);
        self.marks
            .get(idx.saturating_sub(1))
            .map(|m| (m.1, m.2))
            .unwrap_or_default()
    }

    /// Empties the buffer, returning its bytes split per original chunk.
    pub(crate) fn drain_chunks(&mut self) -> Vec<(Vec<u8>, FrameNo, Timestamp)> {
        let mut out = Vec::new();
        let end = self.end();
        // Offsets relative to the front; a mark before the front (the chunk the front
        // byte came from) counts from the front, and a slice out of range is skipped.
        let rel = |abs: u64| usize::try_from(abs.saturating_sub(self.start)).unwrap_or(usize::MAX);
        let mut marks = self.marks.iter().peekable();
        while let Some(&(abs, frame, ts)) = marks.next() {
            let to = marks.peek().map_or(end, |m| m.0);
            if let Some(slice) = self.data.get(rel(abs)..rel(to))
                && !slice.is_empty()
            {
                out.push((slice.to_vec(), frame, ts));
            }
        }
        self.consume(self.data.len());
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_bytes_across_consume() {
        let mut b = StreamBuf::new(10);
        assert_eq!(b.push(b"abc", FrameNo(1), Timestamp(1)), 3);
        assert_eq!(b.push(b"defg", FrameNo(2), Timestamp(2)), 4);
        assert_eq!(b.at(2).0, FrameNo(1));
        assert_eq!(b.at(3).0, FrameNo(2));
        b.consume(4);
        assert_eq!(b.at(0).0, FrameNo(2));
        assert_eq!(b.push(b"hijklmn", FrameNo(3), Timestamp(3)), 7);
        assert_eq!(b.room(), 0);
        assert_eq!(b.push(b"x", FrameNo(4), Timestamp(4)), 0);
        let chunks = b.drain_chunks();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].0, b"efg");
        assert_eq!(chunks[1].1, FrameNo(3));
        assert!(b.is_empty());
    }

    #[test]
    fn marks_stay_bounded_and_the_first_byte_keeps_its_frame() {
        let mut b = StreamBuf::new(100_000);
        for i in 0..10_000u64 {
            b.push(b"x", FrameNo(i + 1), Timestamp(0));
        }
        assert_eq!(b.len(), 10_000);
        // Capacity: at most twice what is held.
        assert!(
            b.held() <= 2 * (10_000 + MAX_MARKS * 24),
            "held {}",
            b.held()
        );
        assert_eq!(b.at(0).0, FrameNo(1));
        // Later bytes: within a stride (here under 100 bytes) of their frame.
        let f = b.at(9_999).0;
        assert!(f <= FrameNo(10_000) && f > FrameNo(9_900), "{f:?}");
        b.consume(5_000);
        let f = b.at(0).0;
        assert!(f <= FrameNo(5_001) && f > FrameNo(4_900), "{f:?}");
        b.consume(5_000);
        assert_eq!(b.held(), 0, "an empty buffer keeps no allocation");
    }

    #[test]
    fn offsets_at_the_edges_do_not_wrap() {
        let mut b = StreamBuf::new(16);
        b.push(b"abcd", FrameNo(1), Timestamp(1));
        b.push(b"efgh", FrameNo(2), Timestamp(2));
        // Front in the middle of the first chunk: its mark lies before the front.
        b.consume(2);
        // Any index past the end answers for the last chunk rather than panicking.
        assert_eq!(b.at(usize::MAX).0, FrameNo(2));
        assert_eq!(b.at(b.len()).0, FrameNo(2));
        let chunks = b.drain_chunks();
        assert_eq!(chunks.len(), 2);
        assert_eq!(
            (chunks[0].0.as_slice(), chunks[0].1),
            (&b"cd"[..], FrameNo(1))
        );
        assert_eq!(
            (chunks[1].0.as_slice(), chunks[1].1),
            (&b"efgh"[..], FrameNo(2))
        );
        assert_eq!(b.offset(), 8);
        // Consuming more than is held takes what is there, and the buffer stays usable.
        b.push(b"ij", FrameNo(3), Timestamp(3));
        b.consume(usize::MAX);
        assert_eq!(b.offset(), 10);
        assert!(b.drain_chunks().is_empty());
        assert_eq!(b.at(0), (FrameNo::default(), Timestamp::default()));
    }

    #[test]
    fn debug_does_not_show_bytes() {
        let mut b = StreamBuf::new(100);
        b.push(
            b"Proxy-Authorization: Basic c2VjcmV0",
            FrameNo(1),
            Timestamp(0),
        );
        assert!(!format!("{b:?}").contains("c2VjcmV0"));
    }
}
