//! Floods of bytes a decoder holds while a message is incomplete, on GENERATED
//! captures (tests/flood_gen): HTTP heads arriving a byte at a time are read in time
//! linear in their length, and partial heads or TLS records count against
//! `--total-buffer` like the bytes reassembly holds. The big versions are
//! `scripts/flood-bench`.

use crate::flood_gen::{Flood, Kind, Spec};
use std::time::{Duration, Instant};

fn flood(kind: Kind, flows: u64, per_flow: u64, segment: usize) -> Vec<u8> {
    let mut v = Vec::new();
    std::io::copy(
        &mut Flood::new(Spec {
            kind,
            flows,
            per_flow,
            segment,
        }),
        &mut v,
    )
    .unwrap();
    v
}

/// Seconds the offline analysis of `capture` takes, the best of `tries` runs.
fn analyze_secs(capture: &[u8], tries: usize) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..tries {
        let t = Instant::now();
        let ca = trafficdoc::pipeline::analyze_reader(
            "generated",
            capture,
            Default::default(),
            &mut |_| {},
        )
        .unwrap();
        best = best.min(t.elapsed());
        let http: usize = ca.flows.iter().map(|f| f.app.http.len()).sum();
        assert!(http > 0, "no request decoded");
    }
    best.as_secs_f64()
}

/// HTTP heads sent one byte per segment: each segment once re-parsed the head from its
/// start (quadratic; ~8 MB/s). The same number of bytes as 16 KiB heads costs within
/// a small factor of what it costs as 1 KiB heads.
#[test]
fn http_heads_in_one_byte_segments_are_read_in_linear_time() {
    let total = 64 * 1024;
    let small = flood(Kind::Trickle, total / 1024, 1024, 1);
    let big = flood(Kind::Trickle, total / (16 * 1024), 16 * 1024, 1);
    let t_small = analyze_secs(&small, 3);
    let t_big = analyze_secs(&big, 3);
    let ratio = t_big / t_small;
    eprintln!(
        "GENERATED 1-byte segments, {total} bytes of heads: {:.0} ms as 1 KiB heads, {:.0} ms as 16 KiB heads (ratio {ratio:.2})",
        t_small * 1e3,
        t_big * 1e3
    );
    assert!(
        ratio < 3.0,
        "16 KiB heads took {ratio:.1}x the time of 1 KiB heads for the same bytes"
    );
}
