//! Memory floods on GENERATED captures (tests/flood_gen): a SYN flood, flows stuck
//! above holes, one endless unacknowledged flow, and pipelined requests nobody answers.
//! Peak memory stays under the configured caps plus a fixed baseline whatever the
//! capture size (the same flood four times bigger costs no more), and every cap hit is
//! counted in the report. The big versions are `scripts/flood-bench`.
//!
//! Each flood is analysed by its own `trafficdoc analyze --stats` process, which reports
//! its peak memory.

use crate::flood_gen::{Flood, Kind, Spec};
use serde_json::Value;
use std::io::BufWriter;

const MIB: u64 = 1 << 20;
/// Caps used for every flood here (small, so a small capture reaches them).
const MAX_FLOWS: u64 = 5_000;
const MAX_RECORDS: u64 = 2_000;
const STREAM_BUFFER: u64 = 64 * 1024;
const TOTAL_BUFFER: u64 = 8 * MIB;
const MAX_FACTS: u64 = 20_000;
/// What the process may grow by beyond the buffer caps: the flow table at
/// `MAX_FLOWS`, the kept records, the report, the reader's buffer, allocator slack.
const BASELINE: u64 = 48 * MIB;

/// The peak memory `--stats` printed, in bytes.
fn stats_peak(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("trafficdoc: stats:"))
        .unwrap_or_else(|| panic!("no stats line in: {stderr}"));
    let kib: u64 = line
        .split("peak memory ")
        .nth(1)
        .and_then(|r| r.strip_suffix(" KiB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in: {line}"));
    kib * 1024
}

struct Outcome {
    json: Value,
    /// Peak RSS of the `trafficdoc` process that analysed the flood, in bytes (each
    /// run is its own process: memory an earlier run freed is not counted).
    peak: u64,
    capture_bytes: u64,
}

fn run_flood(spec: Spec) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("flood.pcap");
    {
        let mut f = BufWriter::new(std::fs::File::create(&cap).unwrap());
        std::io::copy(&mut Flood::new(spec), &mut f).unwrap();
    }
    let capture_bytes = std::fs::metadata(&cap).unwrap().len();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args([
            "analyze",
            "--stats",
            "--format",
            "json",
            "--max-flows",
            &MAX_FLOWS.to_string(),
            "--max-records",
            &MAX_RECORDS.to_string(),
            "--stream-buffer",
            &STREAM_BUFFER.to_string(),
            "--total-buffer",
            &TOTAL_BUFFER.to_string(),
            "--max-facts",
            &MAX_FACTS.to_string(),
            cap.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    // 1: the analysis finished and the rules found problems (floods look like them).
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let peak = stats_peak(&err);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    Outcome {
        json,
        peak,
        capture_bytes,
    }
}

fn check(spec: Spec, start_rss: u64) -> Outcome {
    let o = run_flood(spec);
    let v = &o.json;
    let file = &v["input"]["files"][0];
    eprintln!(
        "GENERATED {:?} flood: {} flows, {} packets, capture {:.1} MiB, peak RSS {:.1} MiB (a 100-flow flood: {:.1} MiB), limits {}",
        spec.kind,
        spec.flows,
        file["packets"],
        o.capture_bytes as f64 / MIB as f64,
        o.peak as f64 / MIB as f64,
        start_rss as f64 / MIB as f64,
        file["limits"]
    );
    assert_eq!(file["packets"], Flood::packets(spec), "{spec:?}");
    assert!(
        o.peak < start_rss + TOTAL_BUFFER + BASELINE,
        "{spec:?}: peak {} MiB",
        o.peak / MIB
    );
    // Nothing silent: listed flows plus the counted ones are all the flows.
    let listed = v["flows"].as_array().unwrap().len() as u64;
    assert!(listed <= MAX_RECORDS, "{spec:?}: {listed} flows listed");
    let summarized = file["limits"]["flows_summarized"].as_u64().unwrap();
    if summarized > 0 {
        assert_eq!(
            file["limits"]["summarized"]["flows"], summarized,
            "{spec:?}"
        );
    }
    let partial_listed = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["partial"] == true)
        .count() as u64;
    let partial_summarized = file["limits"]["summarized"]["partial"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        file["limits"]["partial_flows"].as_u64().unwrap(),
        partial_listed + partial_summarized,
        "{spec:?}: partial flows counted apart from those reported"
    );
    if file["limits"]["partial_flows"].as_u64().unwrap() > 0 || summarized > 0 {
        assert_eq!(v["input"]["partial"], true, "{spec:?}");
    }
    o
}

fn total_flows(v: &Value) -> u64 {
    v["flows"].as_array().unwrap().len() as u64
        + v["input"]["files"][0]["limits"]["flows_summarized"]
            .as_u64()
            .unwrap()
}

#[test]
fn floods_stay_within_the_caps_and_say_so() {
    // What analysing a tiny flood takes: the process's own baseline.
    let start = run_flood(Spec {
        kind: Kind::Syn,
        flows: 100,
        per_flow: 0,
        segment: 0,
    })
    .peak;

    // SYN flood: the table holds at most MAX_FLOWS; the rest is evicted, then counted.
    let mut growth = Vec::new();
    for flows in [100_000u64, 400_000] {
        let spec = Spec {
            kind: Kind::Syn,
            flows,
            per_flow: 0,
            segment: 0,
        };
        let o = check(spec, start);
        let l = &o.json["input"]["files"][0]["limits"];
        assert_eq!(total_flows(&o.json), flows);
        // Eviction frees a sixteenth of the table at a time.
        let evicted = l["flows_evicted"].as_u64().unwrap();
        assert!(
            (flows - MAX_FLOWS..=flows - MAX_FLOWS + MAX_FLOWS / 16).contains(&evicted),
            "{evicted} evicted"
        );
        assert_eq!(l["summarized"]["states"]["S0"], flows - MAX_RECORDS);
        let evicted_listed = o.json["flows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["evicted"] == true && f["partial"] == true && f["state"] == "S0")
            .count();
        assert_eq!(evicted_listed as u64, MAX_RECORDS);
        growth.push(o.peak);
    }
    // Flows past MAX_RECORDS are not listed but still diagnosed: their index spills
    // like their bytes (it once kept 48 bytes a flow in memory: 14 MiB more here).
    // Nothing may grow with the flood.
    assert!(
        growth[1] < growth[0] + growth[0] / 4 + 4 * MIB,
        "4x the SYN flood cost more memory: {growth:?}"
    );

    // Flows stuck above a hole: the global buffer cap sheds, each flow says partial.
    let mut growth = Vec::new();
    for flows in [500u64, 2000] {
        let spec = Spec {
            kind: Kind::Holes,
            flows,
            per_flow: 40,
            segment: 500,
        };
        let o = check(spec, start);
        let l = &o.json["input"]["files"][0]["limits"];
        assert_eq!(total_flows(&o.json), flows);
        assert!(l["buffer_cap_hits"].as_u64().unwrap() > 0, "{l}");
        assert!(l["partial_flows"].as_u64().unwrap() > 0, "{l}");
        growth.push(o.peak);
    }
    assert!(
        growth[1] < growth[0] + growth[0] / 4 + 8 * MIB,
        "4x the hole flood cost more memory: {growth:?}"
    );

    // One endless flow, a segment lost every 1000: the per-direction cap gives each
    // hole up; the flow is partial with one cap hit per hole.
    let mut growth = Vec::new();
    for segs in [20_000u64, 80_000] {
        let spec = Spec {
            kind: Kind::Endless,
            flows: 1,
            per_flow: segs,
            segment: 1000,
        };
        let o = check(spec, start);
        let f = &o.json["flows"][0];
        assert_eq!(f["partial"], true);
        // Every lost segment is one gap; while held bytes are kept, each hole ends
        // with a cap hit.
        assert_eq!(f["gaps"]["client"], segs / 1000);
        assert!(f["cap_hits"]["client"].as_u64().unwrap() > 0);
        growth.push(o.peak);
    }
    assert!(
        growth[1] < growth[0] + growth[0] / 4 + 4 * MIB,
        "4x the endless flow cost more memory: {growth:?}"
    );

    // Pipelined requests with no response: MAX_FACTS exchanges are kept over all
    // flows, the rest counted per flow (partial), none lost silently.
    let mut growth = Vec::new();
    for flows in [20u64, 80] {
        let spec = Spec {
            kind: Kind::Pipelined,
            flows,
            per_flow: 1000,
            segment: 0,
        };
        let o = check(spec, start);
        assert_eq!(total_flows(&o.json), flows);
        let f = &o.json["flows"][0];
        assert_eq!(f["protocol"], "http", "{f}");
        let requests = flows * spec.per_flow;
        let l = &o.json["input"]["files"][0]["limits"];
        assert_eq!(
            l["facts_not_kept"].as_u64().unwrap(),
            requests.saturating_sub(MAX_FACTS),
            "{l}"
        );
        let kept: u64 = o.json["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["http"].as_array().map_or(0, |h| h.len() as u64))
            .sum();
        assert_eq!(kept, requests.min(MAX_FACTS));
        growth.push(o.peak);
    }
    assert!(
        growth[1] < growth[0] + growth[0] / 4 + 8 * MIB,
        "4x the pipelined flood cost more memory: {growth:?}"
    );
}
