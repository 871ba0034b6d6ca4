//! Property tests for TCP reassembly against the simplest model: the original byte
//! stream. Any reordering, duplication or overlapping re-segmentation of the same bytes
//! must yield exactly those bytes; a segment that never arrives must yield the rest of
//! the stream with one gap of its exact length.

use proptest::prelude::*;
use trafficdoc::decode::tcp::{Limits, Reassembler, SeqNo, StreamSink};
use trafficdoc::model::{FrameNo, Timestamp};

#[derive(Default)]
struct Model {
    bytes: Vec<u8>,
    gap_bytes: u64,
}

impl StreamSink for Model {
    fn data(&mut self, bytes: &[u8], _f: FrameNo, _t: Timestamp) {
        self.bytes.extend_from_slice(bytes);
    }
    fn gap(&mut self, len: u64) {
        self.gap_bytes += len;
    }
    fn wants_data(&self) -> bool {
        true
    }
}

/// Cuts `len` bytes into segments at the given cut points.
fn segments(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut c: Vec<usize> = cuts.iter().map(|x| x % (len + 1)).collect();
    c.push(0);
    c.push(len);
    c.sort();
    c.dedup();
    c.windows(2).map(|w| (w[0], w[1])).collect()
}

fn feed(r: &mut Reassembler, m: &mut Model, isn: u32, data: &[u8], segs: &[(usize, usize)]) {
    for (i, &(a, b)) in segs.iter().enumerate() {
        let seq = SeqNo(isn) + 1 + a;
        r.segment(
            seq,
            &data[a..b],
            (b - a) as u32,
            FrameNo(i as u64 + 1),
            Timestamp(0),
            &Limits::default(),
            m,
        );
    }
    r.finish(m);
}

proptest! {
    #[test]
    fn any_order_and_duplication_yields_the_stream(
        data in prop::collection::vec(any::<u8>(), 1..3000),
        cuts in prop::collection::vec(any::<usize>(), 0..30),
        recuts in prop::collection::vec(any::<usize>(), 0..30),
        order in prop::collection::vec(any::<u32>(), 60),
        isn in prop_oneof![any::<u32>(), (u32::MAX - 4000)..=u32::MAX],
    ) {
        // Two different segmentations of the same bytes (a retransmission may be
        // re-segmented), interleaved in a random order.
        let mut all = segments(data.len(), &cuts);
        all.extend(segments(data.len(), &recuts));
        let mut keyed: Vec<(u32, (usize, usize))> =
            all.into_iter().enumerate().map(|(i, s)| (order[i % order.len()] ^ i as u32, s)).collect();
        keyed.sort();
        let shuffled: Vec<(usize, usize)> = keyed.into_iter().map(|(_, s)| s).collect();
        let (mut r, mut m) = (Reassembler::default(), Model::default());
        r.on_syn(SeqNo(isn));
        feed(&mut r, &mut m, isn, &data, &shuffled);
        prop_assert_eq!(&m.bytes, &data);
        prop_assert_eq!(m.gap_bytes, 0);
        prop_assert_eq!(r.stats.gaps, 0);
        prop_assert_eq!(r.size(), data.len() as u64);
    }

    #[test]
    fn a_lost_segment_becomes_one_exact_gap(
        data in prop::collection::vec(any::<u8>(), 2..3000),
        cuts in prop::collection::vec(any::<usize>(), 2..30),
        lose in any::<usize>(),
        reverse in any::<bool>(),
        isn in any::<u32>(),
    ) {
        let segs = segments(data.len(), &cuts);
        prop_assume!(segs.len() >= 3);
        // Lose a segment that is neither first nor last, so the hole is bounded.
        let lost = 1 + lose % (segs.len() - 2);
        let (la, lb) = segs[lost];
        let mut kept: Vec<(usize, usize)> =
            segs.iter().enumerate().filter(|(i, _)| *i != lost).map(|(_, s)| *s).collect();
        if reverse {
            kept.reverse();
        }
        let (mut r, mut m) = (Reassembler::default(), Model::default());
        r.on_syn(SeqNo(isn));
        feed(&mut r, &mut m, isn, &data, &kept);
        let mut expect = data[..la].to_vec();
        expect.extend_from_slice(&data[lb..]);
        prop_assert_eq!(&m.bytes, &expect);
        prop_assert_eq!(m.gap_bytes, (lb - la) as u64);
        prop_assert_eq!(r.stats.gaps, 1);
    }
}
