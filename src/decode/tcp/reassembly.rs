//! One direction of a TCP connection: sequence space → ordered bytes.
//!
//! Passive reassembly as a monitor sees it: segments can arrive out of order, twice,
//! overlapping, or never (capture loss). Rules:
//! - sequence numbers are compared relative to the stream start with wrapping
//!   arithmetic, so a stream crossing 2^32 is seamless;
//! - the first copy of a byte wins; a later copy with different bytes is counted as a
//!   conflict (a classic evasion or a broken middlebox);
//! - data above a hole is held until the hole fills, the receiver acknowledges past
//!   it (we missed it; the peer did not), a cap is reached, or the stream ends — then
//!   the hole is reported as a gap and delivery continues after it;
//! - held data is bounded per direction (bytes and segments); a consumer that wants no
//!   more bytes gets none buffered at all, only the sequence bookkeeping.

use super::SeqNo;
use crate::model::{FrameNo, Timestamp};
use std::collections::BTreeMap;

/// Where ordered bytes go.
pub trait StreamSink {
    fn data(&mut self, bytes: &[u8], frame: FrameNo, ts: Timestamp);
    /// `len` bytes of the stream will never be seen.
    fn gap(&mut self, len: u64);
    /// `len` bytes right after the last delivered ones were cut by the snap length,
    /// from the segment in `frame`.
    fn cut(&mut self, len: u64, _frame: FrameNo, _ts: Timestamp) {
        self.gap(len);
    }
    /// False when the consumer has no use for more bytes (they are then not buffered).
    fn wants_data(&self) -> bool;
}

/// Buffer caps for one direction.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes held above a hole before the hole is given up as a gap.
    pub max_buffered_bytes: usize,
    /// Segments held above a hole.
    pub max_buffered_segments: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_buffered_bytes: 1 << 20,
            max_buffered_segments: 2048,
        }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    /// Empty when the consumer no longer wants bytes: only the range is kept.
    data: Vec<u8>,
    /// Sequence-space length.
    len: u64,
    /// Bytes at the tail that the snap length cut off.
    cut: u64,
    frame: FrameNo,
    ts: Timestamp,
}

/// Counters a person reads to judge the network (and our capture).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirStats {
    /// Segments whose payload was (at least partly) already seen.
    pub retransmissions: u64,
    /// Holes given up on, and the bytes in them.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Bytes present on the wire but cut by the capture's snap length.
    pub snaplen_bytes: u64,
    /// Overlapping copies that disagreed with the first copy.
    pub conflicts: u64,
    /// Times a buffer cap forced a hole to be given up.
    pub cap_hits: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Reassembler {
    /// Absolute sequence number of relative offset 0.
    base: Option<SeqNo>,
    /// Next relative offset to deliver.
    next: u64,
    /// Highest relative end offset seen (Zeek's endpoint "size").
    high: u64,
    /// Highest relative sequence number seen on any segment, empty ones included.
    high_seq: u64,
    pending: BTreeMap<u64, Pending>,
    buffered: usize,
    pub stats: DirStats,
    /// Stream start of a later SYN with another initial sequence number, until the
    /// peer acknowledges one of the two.
    other_start: Option<SeqNo>,
}

impl Reassembler {
    /// Sets the stream start from a SYN (its sequence number + 1 is the first byte).
    /// A later SYN with another initial sequence number, before any data (two
    /// load-balancer members answering one SYN), is kept as a candidate: the peer's
    /// acknowledgement decides which one the stream follows (see [`Self::acked`]).
    pub fn on_syn(&mut self, isn: SeqNo) {
        match self.base {
            None => self.base = Some(isn + 1),
            Some(b) if b != isn + 1 && self.untouched() => self.other_start = Some(isn + 1),
            Some(_) => {}
        }
    }

    /// No payload seen yet in this direction.
    fn untouched(&self) -> bool {
        self.next == 0 && self.high == 0 && self.pending.is_empty()
    }

    /// Sets the stream start from the first segment seen (connection picked up
    /// mid-stream).
    fn ensure_base(&mut self, seq: SeqNo) -> SeqNo {
        *self.base.get_or_insert(seq)
    }

    /// Relative offset of an absolute sequence number, or None if it lies before the
    /// stream start.
    fn rel(&self, seq: SeqNo) -> Option<u64> {
        let base = self.base?;
        // Modulo 2^32: only the low bits of the offset matter here.
        let next_abs = base + self.next as usize;
        let delta = i64::from(seq - next_abs);
        let off = self.next as i64 + delta;
        u64::try_from(off).ok()
    }

    /// Notes the sequence number of a segment without payload (a pure ACK, FIN...).
    pub fn empty_segment(&mut self, seq: SeqNo) {
        self.ensure_base(seq);
        if let Some(off) = self.rel(seq) {
            self.high_seq = self.high_seq.max(off);
        }
    }

    /// Payload bytes in sequence space so far (what Zeek calls the endpoint size).
    pub fn size(&self) -> u64 {
        self.high
    }

    /// True if a segment at `seq` with `len` bytes carries nothing new.
    pub fn is_old(&self, seq: SeqNo, len: u64) -> bool {
        match self.rel(seq) {
            Some(off) => off + len <= self.next,
            None => self.base.is_some(),
        }
    }

    /// Adds one segment's payload. `payload` are the captured bytes, `wire_len` the
    /// length on the wire (≥ payload.len(); more when the snap length cut it).
    /// Returns true if the segment was a retransmission.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        seq: SeqNo,
        payload: &[u8],
        wire_len: u32,
        frame: FrameNo,
        ts: Timestamp,
        limits: &Limits,
        sink: &mut dyn StreamSink,
    ) -> bool {
        let wire_len = u64::from(wire_len).max(payload.len() as u64);
        if wire_len == 0 {
            return false;
        }
        self.ensure_base(seq);
        let Some(mut off) = self.rel(seq) else {
            // Entirely before the stream start: an old retransmission.
            self.stats.retransmissions += 1;
            return true;
        };
        let end = off + wire_len;
        // Like Zeek and Wireshark, a segment starting below the highest sequence
        // number already seen is a retransmission — even when, because the capture
        // reordered it, its bytes are new to us. Keep-alives (one old byte at
        // next-1) are not.
        let keepalive = wire_len <= 1 && end == self.next;
        let retrans = off < self.high_seq && !keepalive;
        if retrans {
            self.stats.retransmissions += 1;
        }
        self.high = self.high.max(end);
        self.high_seq = self.high_seq.max(end);
        if end <= self.next {
            return retrans;
        }
        let mut data = payload;
        if off < self.next {
            // Partly old: deliver only the new tail.
            let skip = (self.next - off) as usize;
            data = data.get(skip..).unwrap_or(&[]);
            off = self.next;
        }
        let cut = end - off - data.len() as u64;
        if off == self.next {
            self.deliver(data, end - off, cut, frame, ts, sink);
            if !self.pending.is_empty() {
                self.drain(sink);
            }
        } else {
            self.hold(off, data, end - off, cut, frame, ts, sink);
            // Give holes up, lowest first, until what is held fits the caps again: with
            // several holes, giving up only the first could leave more than the cap
            // held (found by the tcp_reassembler fuzz target).
            while (self.buffered > limits.max_buffered_bytes
                || self.pending.len() > limits.max_buffered_segments)
                && !self.pending.is_empty()
            {
                self.stats.cap_hits += 1;
                self.skip_first_hole(sink);
            }
        }
        retrans
    }

    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        data: &[u8],
        seq_len: u64,
        cut: u64,
        frame: FrameNo,
        ts: Timestamp,
        sink: &mut dyn StreamSink,
    ) {
        if !data.is_empty() && sink.wants_data() {
            sink.data(data, frame, ts);
        }
        if cut > 0 {
            self.stats.snaplen_bytes += cut;
            sink.cut(cut, frame, ts);
        }
        self.next += seq_len;
    }

    #[allow(clippy::too_many_arguments)]
    fn hold(
        &mut self,
        off: u64,
        data: &[u8],
        len: u64,
        cut: u64,
        frame: FrameNo,
        ts: Timestamp,
        sink: &mut dyn StreamSink,
    ) {
        if let Some(existing) = self.pending.get(&off) {
            let n = existing.data.len().min(data.len());
            if existing.data[..n] != data[..n] {
                self.stats.conflicts += 1;
            }
            if existing.len >= len {
                return;
            }
        }
        let keep = if sink.wants_data() {
            data.to_vec()
        } else {
            Vec::new()
        };
        self.buffered += keep.len();
        if let Some(old) = self.pending.insert(
            off,
            Pending {
                data: keep,
                len,
                cut,
                frame,
                ts,
            },
        ) {
            self.buffered -= old.data.len();
        }
    }

    /// Delivers held segments that have become contiguous.
    fn drain(&mut self, sink: &mut dyn StreamSink) {
        while let Some(entry) = self.pending.first_entry() {
            let off = *entry.key();
            if off > self.next {
                break;
            }
            let p = entry.remove();
            self.buffered -= p.data.len();
            let end = off + p.len;
            if end <= self.next {
                continue;
            }
            let skip = (self.next - off) as usize;
            let data = p.data.get(skip..).unwrap_or(&[]);
            let seq_len = end - self.next;
            let cut = p.cut.min(seq_len);
            self.deliver(data, seq_len, cut, p.frame, p.ts, sink);
        }
    }

    /// Gives up the hole below the lowest held segment.
    fn skip_first_hole(&mut self, sink: &mut dyn StreamSink) {
        if let Some((&off, _)) = self.pending.first_key_value() {
            if off > self.next {
                let len = off - self.next;
                self.stats.gaps += 1;
                self.stats.gap_bytes += len;
                sink.gap(len);
                self.next = off;
            }
            self.drain(sink);
        }
    }

    /// The peer acknowledged up to `ack`: any hole below that was received by the peer
    /// but missed by the capture, so it will never fill.
    #[inline]
    pub fn acked(&mut self, ack: SeqNo, sink: &mut dyn StreamSink) {
        // Nearly every packet acknowledges something, and nearly always nothing is
        // held and no second SYN is pending: then there is nothing to do.
        if self.other_start.is_some() || !self.pending.is_empty() {
            self.acked_held(ack, sink);
        }
    }

    /// [`acked`](Self::acked) with held segments or a second SYN.
    fn acked_held(&mut self, ack: SeqNo, sink: &mut dyn StreamSink) {
        if let Some(start) = self.other_start {
            if ack == start && self.untouched() {
                // The peer acknowledged the other SYN: the stream starts there.
                self.base = Some(start);
                self.high_seq = 0;
                self.other_start = None;
            } else if Some(ack) == self.base || !self.untouched() {
                self.other_start = None;
            }
        }
        let Some(rel) = self.rel(ack) else {
            return;
        };
        while let Some((&off, _)) = self.pending.first_key_value() {
            if off >= rel || off <= self.next {
                break;
            }
            self.skip_first_hole(sink);
        }
    }

    /// End of the connection (or of the capture): flush everything held, reporting
    /// every remaining hole.
    pub fn finish(&mut self, sink: &mut dyn StreamSink) {
        while !self.pending.is_empty() {
            self.skip_first_hole(sink);
        }
    }

    /// Bytes currently held above holes.
    pub fn buffered(&self) -> usize {
        self.buffered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_syn_with_new_isn_is_followed_when_acknowledged() {
        let lim = Limits::default();
        let (f, t) = (FrameNo(1), Timestamp(0));
        // SYN-ACK with ISN 3e9, again with ISN 7; the peer acknowledges 8.
        let mut r = Reassembler::default();
        let mut out = Collect::default();
        r.on_syn(SeqNo(3_000_000_000));
        r.on_syn(SeqNo(7));
        r.acked(SeqNo(8), &mut out);
        assert!(!r.segment(SeqNo(8), b"HTTP/1.1 200", 12, f, t, &lim, &mut out));
        assert_eq!(
            (out.bytes.as_slice(), out.gaps.len()),
            (&b"HTTP/1.1 200"[..], 0)
        );
        assert_eq!(r.size(), 12);

        // The peer acknowledges the first: the second SYN changes nothing.
        let mut r = Reassembler::default();
        let mut out = Collect::default();
        r.on_syn(SeqNo(100));
        r.on_syn(SeqNo(5000));
        r.acked(SeqNo(101), &mut out);
        r.acked(SeqNo(5001), &mut out);
        r.segment(SeqNo(101), b"abc", 3, f, t, &lim, &mut out);
        assert_eq!((out.bytes.as_slice(), out.gaps.len()), (&b"abc"[..], 0));

        // Once data flowed, a SYN with another ISN does not move the stream.
        let mut r = Reassembler::default();
        let mut out = Collect::default();
        r.on_syn(SeqNo(100));
        r.segment(SeqNo(101), b"abc", 3, f, t, &lim, &mut out);
        r.on_syn(SeqNo(9000));
        r.acked(SeqNo(9001), &mut out);
        r.segment(SeqNo(104), b"de", 2, f, t, &lim, &mut out);
        assert_eq!(out.bytes, b"abcde");
    }

    #[test]
    fn byte_cap_holds_with_several_holes() {
        // Minimised from the tcp_reassembler fuzz target: two holes, then 384 bytes
        // held with a 1-byte cap because only the first hole was given up.
        struct Count(u64);
        impl StreamSink for Count {
            fn data(&mut self, b: &[u8], _: FrameNo, _: Timestamp) {
                self.0 += b.len() as u64;
            }
            fn gap(&mut self, len: u64) {
                self.0 += len;
            }
            fn wants_data(&self) -> bool {
                true
            }
        }
        let limits = Limits {
            max_buffered_bytes: 100,
            max_buffered_segments: 16,
        };
        let mut r = Reassembler::default();
        let mut sink = Count(0);
        r.on_syn(SeqNo(0));
        let seg = |r: &mut Reassembler, sink: &mut Count, off: u32, len: usize| {
            let d = vec![1u8; len];
            r.segment(
                SeqNo(1 + off),
                &d,
                len as u32,
                FrameNo(1),
                Timestamp(0),
                &limits,
                sink,
            );
        };
        seg(&mut r, &mut sink, 1000, 10);
        seg(&mut r, &mut sink, 5000, 10);
        seg(&mut r, &mut sink, 9000, 300);
        assert!(r.buffered() <= 100, "held {}", r.buffered());
        assert_eq!(r.stats.gaps, 3);
        assert_eq!(r.stats.cap_hits, 3);
        r.finish(&mut sink);
        assert_eq!(sink.0, 9300);
    }

    #[derive(Clone, Default)]
    struct Collect {
        bytes: Vec<u8>,
        gaps: Vec<u64>,
        frames: Vec<u64>,
    }
    impl StreamSink for Collect {
        fn data(&mut self, bytes: &[u8], frame: FrameNo, _ts: Timestamp) {
            self.bytes.extend_from_slice(bytes);
            self.frames.push(frame.0);
        }
        fn gap(&mut self, len: u64) {
            self.gaps.push(len);
        }
        fn wants_data(&self) -> bool {
            true
        }
    }

    fn seg(r: &mut Reassembler, c: &mut Collect, seq: u32, data: &[u8], frame: u64) -> bool {
        r.segment(
            SeqNo(seq),
            data,
            data.len() as u32,
            FrameNo(frame),
            Timestamp(0),
            &Limits::default(),
            c,
        )
    }

    #[test]
    fn out_of_order_is_reordered() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(99));
        seg(&mut r, &mut c, 103, b"def", 2);
        assert!(c.bytes.is_empty());
        seg(&mut r, &mut c, 100, b"abc", 3);
        assert_eq!(c.bytes, b"abcdef");
        assert_eq!(c.frames, vec![3, 2]);
    }

    #[test]
    fn retransmission_and_overlap_first_copy_wins() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(0));
        seg(&mut r, &mut c, 1, b"abcd", 1);
        assert!(seg(&mut r, &mut c, 1, b"abcd", 2));
        assert!(seg(&mut r, &mut c, 3, b"XXef", 3));
        assert_eq!(c.bytes, b"abcdef");
        assert_eq!(r.stats.retransmissions, 2);
    }

    #[test]
    fn wraparound_is_seamless() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(u32::MAX - 2));
        seg(&mut r, &mut c, u32::MAX - 1, b"ab", 1);
        seg(&mut r, &mut c, 0, b"cd", 2);
        seg(&mut r, &mut c, 2, b"ef", 3);
        assert_eq!(c.bytes, b"abcdef");
        assert_eq!(r.size(), 6);
    }

    #[test]
    fn hole_acked_by_peer_becomes_gap_and_stream_continues() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(0));
        seg(&mut r, &mut c, 1, b"ab", 1);
        seg(&mut r, &mut c, 5, b"ef", 2);
        r.acked(SeqNo(7), &mut c);
        assert_eq!(c.bytes, b"abef");
        assert_eq!(c.gaps, vec![2]);
        assert_eq!(r.stats.gaps, 1);
    }

    #[test]
    fn cap_forces_gap() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(0));
        let lim = Limits {
            max_buffered_bytes: 4,
            max_buffered_segments: 10,
        };
        r.segment(SeqNo(11), b"xyz", 3, FrameNo(1), Timestamp(0), &lim, &mut c);
        r.segment(SeqNo(21), b"xyz", 3, FrameNo(2), Timestamp(0), &lim, &mut c);
        assert_eq!(r.stats.cap_hits, 1);
        assert!(r.buffered() <= 4);
        assert_eq!(c.bytes, b"xyz");
    }

    #[test]
    fn snaplen_cut_is_not_loss() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(0));
        r.segment(
            SeqNo(1),
            b"he",
            5,
            FrameNo(1),
            Timestamp(0),
            &Limits::default(),
            &mut c,
        );
        seg(&mut r, &mut c, 6, b"next", 2);
        assert_eq!(c.bytes, b"henext");
        assert_eq!(r.stats.gaps, 0);
        assert_eq!(r.stats.snaplen_bytes, 3);
    }

    #[test]
    fn keepalive_is_not_a_retransmission() {
        let (mut r, mut c) = (Reassembler::default(), Collect::default());
        r.on_syn(SeqNo(0));
        seg(&mut r, &mut c, 1, b"abc", 1);
        seg(&mut r, &mut c, 3, b"c", 2);
        assert_eq!(r.stats.retransmissions, 0);
    }
}
