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

const MIB: u64 = 1 << 20;

struct Outcome {
    json: serde_json::Value,
    /// Peak RSS of the process, in bytes.
    peak: u64,
}

/// `trafficdoc analyze --stats --format json ARGS` on `capture`, in its own process.
fn analyze(capture: &[u8], args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.pcap");
    std::fs::write(&path, capture).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--stats", "--format", "json"])
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("trafficdoc: stats:"))
        .and_then(|l| l.split("peak memory ").nth(1))
        .and_then(|r| r.strip_suffix(" KiB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in: {err}"));
    Outcome {
        json: serde_json::from_slice(&out.stdout).unwrap(),
        peak: kib * 1024,
    }
}

/// Open connections each holding an incomplete message (a TLS record or an HTTP head
/// of `per_flow` bytes): the decoders' bytes were outside every cap (20,000 partial
/// 16 KiB records: 757 MiB with `--total-buffer 1MiB`, no cap hit). Four times the
/// connections now cost no more than the cap allows, and every message given up is a
/// cap hit on a partial flow with a note.
fn held_messages_stay_under_the_total_buffer(kind: Kind, per_flow: u64, note: &str) {
    let args = ["--total-buffer", "1048576", "--max-records", "100"];
    let small = analyze(&flood(kind, 1_000, per_flow, 1000), &args);
    let big = analyze(&flood(kind, 4_000, per_flow, 1000), &args);
    let grew = big.peak.saturating_sub(small.peak);
    eprintln!(
        "GENERATED {kind:?} {per_flow} B held per flow: peak {:.1} MiB at 1,000 flows, {:.1} MiB at 4,000 (+{:.1} MiB; {:.1} MiB held without the cap)",
        small.peak as f64 / MIB as f64,
        big.peak as f64 / MIB as f64,
        grew as f64 / MIB as f64,
        (3_000 * per_flow) as f64 / MIB as f64
    );
    assert!(
        grew < 3_000 * per_flow / 3,
        "3,000 more flows holding {per_flow} bytes each grew the peak by {grew} bytes"
    );
    let limits = &big.json["input"]["files"][0]["limits"];
    // All but the messages that fit under 1 MiB are given up, each one cap hit.
    let fit = MIB / per_flow;
    let hits = limits["buffer_cap_hits"].as_u64().unwrap();
    assert!(hits >= 4_000 - fit - 1, "{limits}");
    assert!(
        limits["partial_flows"].as_u64().unwrap() >= hits,
        "{limits}"
    );
    assert_eq!(big.json["input"]["partial"], true);
    let noted = big.json["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["notes"]
                .as_array()
                .is_some_and(|n| n.iter().any(|n| n.as_str().unwrap().contains(note)))
        })
        .count();
    assert!(noted > 0, "no flow noted {note:?}");
}

#[test]
fn partial_tls_records_count_against_the_total_buffer() {
    held_messages_stay_under_the_total_buffer(
        Kind::PartialTls,
        16 * 1024,
        "incomplete record from the client given up",
    );
}

#[test]
fn partial_http_heads_count_against_the_total_buffer() {
    held_messages_stay_under_the_total_buffer(
        Kind::PartialHeads,
        16 * 1024,
        "incomplete message from the client from frame",
    );
}

/// One connection's incomplete TLS record counts against `--stream-buffer` too.
#[test]
fn a_partial_record_counts_against_the_stream_buffer() {
    let capture = flood(Kind::PartialTls, 1, 16 * 1024, 1000);
    let within = analyze(&capture, &["--stream-buffer", "65536"]);
    let limits = &within.json["input"]["files"][0]["limits"];
    assert_eq!(limits["buffer_cap_hits"], 0, "{limits}");
    let over = analyze(&capture, &["--stream-buffer", "4096"]);
    let limits = &over.json["input"]["files"][0]["limits"];
    assert_eq!(limits["buffer_cap_hits"], 1, "{limits}");
    assert_eq!(limits["partial_flows"], 1, "{limits}");
    let notes = over.json["flows"][0]["notes"].to_string();
    assert!(notes.contains("given up: buffer cap"), "{notes}");
}
