//! Every flow of every capture at hand (fixtures, the shared corpus) comes back from
//! a `FlowStore` exactly as it went in (the analysis already keeps its flows in a
//! store, so these went through it once: this checks that what comes out goes back in
//! unchanged; the unit tests in `src/flow/store/tests.rs` check every field and
//! variant by hand), compared by `Debug` (every field, the ones JSON
//! skips included), and the store sorts in the report order. Prints how many bytes a
//! flow takes encoded; `cargo test --release --test store_roundtrip -- --nocapture`
//! also shows the decode time on the generated benchmark capture when it exists.

use std::path::{Path, PathBuf};
use std::time::Instant;
use trafficdoc::flow::record::FlowSummary;
use trafficdoc::flow::store::FlowStore;
use trafficdoc::flow::table::TableConfig;
use trafficdoc::pipeline::CaptureAnalysis;

/// The real analysis of `path` (its flows are what we store); `None` if it is no
/// readable capture.
fn analysis_of(path: &Path) -> Option<CaptureAnalysis> {
    crate::common::analyze_file(path, TableConfig::default()).ok()
}

/// Pushes every flow into one store, checks each comes back and the sort, and
/// returns the store (sorted).
fn check(path: &Path, flows: &[FlowSummary]) -> FlowStore {
    let mut store = FlowStore::new();
    for f in flows {
        store.push(f);
    }
    assert_eq!(store.len(), flows.len());
    for (i, f) in flows.iter().enumerate() {
        let back = store
            .get(i)
            .unwrap_or_else(|| panic!("{}: flow {i} does not decode", path.display()));
        assert_eq!(
            format!("{back:?}"),
            format!("{f:?}"),
            "{}: flow {i} changed",
            path.display()
        );
    }
    let mut sorted: Vec<&FlowSummary> = flows.iter().collect();
    sorted.sort_by_key(|f| f.report_key());
    store.sort();
    assert_eq!(store.iter().count(), sorted.len());
    for (i, (got, want)) in store.iter().zip(&sorted).enumerate() {
        assert_eq!(
            format!("{got:?}"),
            format!("{want:?}"),
            "{}: sorted flow {i} differs",
            path.display()
        );
    }
    store
}

fn sizes(what: &str, store: &FlowStore) {
    let n = store.len().max(1);
    println!(
        "{what}: {} flows, {} encoded bytes ({} per flow), {} heap bytes with index and \
         certificates ({} per flow)",
        store.len(),
        store.encoded_bytes(),
        store.encoded_bytes() / n,
        store.heap_bytes(),
        store.heap_bytes() / n
    );
}

#[test]
fn every_captured_flow_comes_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = crate::common::captures_under(&root.join("fixtures"));
    let from_fixtures = files.len();
    assert!(from_fixtures > 0, "no fixture captures found");
    files.extend(crate::common::corpus_captures());
    let (mut captures, mut total, mut all_bytes) = (0usize, 0usize, 0usize);
    let mut biggest: Option<(u64, PathBuf, FlowStore)> = None;
    let mut most: Option<(usize, PathBuf, FlowStore)> = None;
    for path in &files {
        let Some(CaptureAnalysis { flows, .. }) = analysis_of(path) else {
            continue;
        };
        let flows: Vec<FlowSummary> = flows.iter().collect();
        let store = check(path, &flows);
        captures += 1;
        total += flows.len();
        all_bytes += store.encoded_bytes();
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if most.as_ref().is_none_or(|(n, _, _)| flows.len() > *n) {
            most = Some((flows.len(), path.clone(), store.clone()));
        }
        if biggest.as_ref().is_none_or(|(s, _, _)| size > *s) {
            biggest = Some((size, path.clone(), store));
        }
    }
    println!(
        "checked {total} flows from {captures} captures ({from_fixtures} files under \
         fixtures/, {} in the corpus); {} encoded bytes per flow on average",
        files.len() - from_fixtures,
        all_bytes / total.max(1)
    );
    if let Some((_, path, store)) = &most {
        sizes(&format!("most flows, {}", path.display()), store);
    }
    if let Some((_, path, store)) = &biggest {
        sizes(&format!("biggest, {}", path.display()), store);
    }
    assert!(total > 0, "no flows checked");
}

/// The generated benchmark capture (`scripts/bench`), read in place: `$TRAFFICDOC_BENCH_PCAP`,
/// else `target/bench/gen-100MiB.pcap` here or in the `main` checkout beside this one.
/// Skipped when there is none.
#[test]
fn generated_capture_size_and_decode_time() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("TRAFFICDOC_BENCH_PCAP").map(PathBuf::from),
        Some(root.join("target/bench/gen-100MiB.pcap")),
        Some(root.join("../main/target/bench/gen-100MiB.pcap")),
    ];
    let Some(path) = candidates.into_iter().flatten().find(|p| p.is_file()) else {
        return;
    };
    let flows: Vec<FlowSummary> = analysis_of(&path)
        .expect("benchmark capture reads")
        .flows
        .iter()
        .collect();
    let store = check(&path, &flows);
    sizes(&path.display().to_string(), &store);
    let mut packets = 0u64;
    let rounds = 5;
    let t = Instant::now();
    for _ in 0..rounds {
        for f in store.iter() {
            packets = packets.wrapping_add(std::hint::black_box(&f).packets[0]);
        }
    }
    let ns = t.elapsed().as_nanos() / (rounds * store.len().max(1)) as u128;
    // For scale: what cloning the decoded flows (as kept before) costs.
    let t = Instant::now();
    for _ in 0..rounds {
        for f in &flows {
            let f = FlowSummary::clone(f);
            packets = packets.wrapping_add(std::hint::black_box(&f).packets[0]);
        }
    }
    let clone_ns = t.elapsed().as_nanos() / (rounds * flows.len().max(1)) as u128;
    println!(
        "decode: {ns} ns per flow (a clone of the decoded flow: {clone_ns} ns; {} flows x \
         {rounds}; {packets})",
        store.len()
    );
}

/// Real flows through the spill file: every fixture and corpus flow, pushed until old
/// chunks had to leave memory, comes back the same in push order, then in report order.
#[test]
fn captured_flows_come_back_from_the_spill_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = crate::common::captures_under(&root.join("fixtures"));
    files.extend(crate::common::corpus_captures());
    let flows: Vec<FlowSummary> = files
        .iter()
        .filter_map(|p| analysis_of(p))
        .flat_map(|a| a.flows.iter().collect::<Vec<_>>())
        .collect();
    assert!(!flows.is_empty());
    let mut store = FlowStore::with_memory_limit(0);
    let mut want: Vec<String> = Vec::new();
    while store.spilled_chunks() < 3 {
        for f in &flows {
            store.push(f);
            want.push(format!("{f:?}"));
        }
    }
    let got: Vec<String> = store.iter().map(|f| format!("{f:?}")).collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "flow {i} changed on its way through the spill file");
    }
    store.sort();
    let keys: Vec<_> = store.iter().map(|f| f.report_key()).collect();
    assert_eq!(keys.len(), want.len());
    assert!(keys.is_sorted(), "report order after spilling");
    println!(
        "{} flows ({} distinct) through {} spilled chunks",
        store.len(),
        flows.len(),
        store.spilled_chunks()
    );
}
