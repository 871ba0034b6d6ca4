//! Floods of decoded facts and of a capture file's own structure, on GENERATED
//! captures (tests/flood_gen): each is small on the wire and big once decoded or
//! checked. What the report keeps stays bounded, every cap is counted, and the work
//! grows linearly with the capture. The big versions are `scripts/flood-bench`.

use crate::flood_gen::{Flood, Kind, Spec};
use serde_json::Value;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trafficdoc::analyze::findings::{MAX_EVIDENCE, MAX_TARGETS};
use trafficdoc::capture::file::MAX_INTERFACES;
use trafficdoc::pipeline::MAX_LINK_TYPES_LISTED;
use trafficdoc::protocols::notes::MAX_NOTES;

const MIB: u64 = 1 << 20;

fn spec(kind: Kind, flows: u64, per_flow: u64, segment: usize) -> Spec {
    Spec {
        kind,
        flows,
        per_flow,
        segment,
    }
}

/// Writes the flood to `dir`.
fn write(dir: &Path, name: &str, spec: Spec) -> PathBuf {
    let path = dir.join(name);
    let mut f = BufWriter::new(std::fs::File::create(&path).unwrap());
    std::io::copy(&mut Flood::new(spec), &mut f).unwrap();
    path
}

struct Outcome {
    json: Value,
    /// Bytes of JSON written.
    size: usize,
    /// Peak RSS of the process, in bytes.
    peak: u64,
}

/// `trafficdoc analyze --stats --format json ARGS CAPTURES`.
fn analyze(captures: &[&Path], args: &[&str]) -> Outcome {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--stats", "--format", "json"])
        .args(args)
        .args(captures)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("trafficdoc: stats:"))
        .unwrap_or_else(|| panic!("no stats line in: {err}"));
    let kib: u64 = line
        .split("peak memory ")
        .nth(1)
        .and_then(|r| r.strip_suffix(" KiB"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in: {line}"));
    Outcome {
        json: serde_json::from_slice(&out.stdout).unwrap(),
        size: out.stdout.len(),
        peak: kib * 1024,
    }
}

/// The human report.
fn table(capture: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--flows", "0"])
        .arg(capture)
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Notes a flow made: the kept ones (each `(N times)` if repeated) and the omitted.
fn notes_made(flow: &Value) -> u64 {
    let kept: u64 = flow["notes"]
        .as_array()
        .map_or(&[][..], |v| v.as_slice())
        .iter()
        .map(|n| {
            let n = n.as_str().unwrap();
            n.strip_suffix(" times)")
                .and_then(|r| r.rsplit(" (").next())
                .and_then(|c| c.parse().ok())
                .unwrap_or(1)
        })
        .sum();
    kept + flow["notes_omitted"].as_u64().unwrap_or(0)
}

/// A TLS server sending Certificate messages full of empty certificates: each is a
/// note, so before the cap a 6 MB capture made 1.6 M notes (357 MiB, 118 MB of JSON).
/// Now a flow keeps MAX_NOTES distinct notes, counts the repeats of each and the rest.
#[test]
fn certificate_notes_are_capped_deduplicated_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let segment = 16_000;
    let per_record = (segment as u64 - 7) / 3;
    let mut runs = Vec::new();
    for records in [40u64, 160] {
        let cap = write(
            dir.path(),
            &format!("certs-{records}.pcap"),
            spec(Kind::Certs, 1, records, segment),
        );
        let o = analyze(&[&cap], &[]);
        let f = &o.json["flows"][0];
        assert_eq!(f["protocol"], "tls");
        let notes = f["notes"].as_array().unwrap();
        // (The first few only, should it fail: before the cap there were 200,000.)
        let first = &notes[..notes.len().min(3)];
        assert_eq!(notes.len(), MAX_NOTES, "{first:?}");
        // One note text per record (its frame), repeated once per certificate.
        assert!(
            notes[0]
                .as_str()
                .unwrap()
                .ends_with(&format!(" ({per_record} times)")),
            "{first:?}"
        );
        assert_eq!(notes_made(f), records * per_record);
        assert_eq!(
            f["notes_omitted"].as_u64().unwrap(),
            (records - MAX_NOTES as u64) * per_record
        );
        assert!(
            table(&cap).contains(&format!(
                "{} more decode notes not kept",
                (records - MAX_NOTES as u64) * per_record
            )),
            "the table says what was not kept"
        );
        eprintln!(
            "GENERATED certs flood: {records} records, {} notes made, JSON {} bytes, peak {:.1} MiB",
            records * per_record,
            o.size,
            o.peak as f64 / MIB as f64
        );
        runs.push(o);
    }
    // Four times the notes: the same report, and no more memory.
    assert!(runs[1].size < runs[0].size + 1024, "JSON grew");
    assert!(runs[0].size < 64 * 1024, "JSON of {} bytes", runs[0].size);
    assert!(
        runs[1].peak < runs[0].peak + 8 * MIB,
        "peak {} then {} MiB",
        runs[0].peak / MIB,
        runs[1].peak / MIB
    );
}

/// More DNS transactions on one flow than a flow keeps (100,000): they were dropped
/// silently (`partial` false, `facts_not_kept` 0). Now each is counted, once, and
/// each NXDOMAIN is diagnosed (the names past the bound were once not seen).
#[test]
fn dns_transactions_past_the_per_flow_bound_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, more) = (100_000u64, 300u64);
    let cap = write(dir.path(), "dns.pcap", spec(Kind::Dns, 1, kept + more, 0));
    // A budget well above the per-flow bound, so only the latter refuses.
    let o = analyze(&[&cap], &["--max-facts", "1000000"]);
    let f = &o.json["flows"][0];
    assert_eq!(f["dns"].as_array().unwrap().len() as u64, kept);
    assert_eq!(f["facts_not_kept"], more, "each transaction counted once");
    assert_eq!(f["partial"], true);
    let file = &o.json["input"]["files"][0];
    assert_eq!(file["limits"]["facts_not_kept"], more);
    assert_eq!(o.json["input"]["partial"], true);
    let found = findings_of(&o.json, "proxy_name_not_resolved");
    assert_eq!(found.len(), MAX_TARGETS + 1);
    let folded = kept + more - MAX_TARGETS as u64;
    assert_eq!(found[MAX_TARGETS]["more_targets"], folded - 1, "every name");
    assert_eq!(
        found[MAX_TARGETS]["evidence_omitted"],
        folded - MAX_EVIDENCE as u64
    );
}

/// Seconds `diagnose` takes on `capture`, the best of up to `tries` runs, stopping
/// once one is at most `enough`.
fn diagnose_secs(capture: &[u8], tries: usize, enough: f64) -> f64 {
    let ca =
        trafficdoc::pipeline::analyze_reader("generated", capture, Default::default(), &mut |_| {})
            .unwrap();
    let captures = [ca];
    let cfg = trafficdoc::analyze::Config::default();
    let mut best = Duration::MAX;
    for _ in 0..tries {
        let t = Instant::now();
        let (findings, _) = trafficdoc::analyze::diagnose(&captures, &cfg);
        best = best.min(t.elapsed());
        assert!(
            findings
                .iter()
                .any(|f| f.kind == trafficdoc::analyze::FindingKind::ProxyAuthMissing)
        );
        if best.as_secs_f64() <= enough {
            break;
        }
    }
    best.as_secs_f64()
}

fn auth407(exchanges: u64) -> Vec<u8> {
    let mut v = Vec::new();
    std::io::copy(
        &mut Flood::new(spec(Kind::Auth407, 1, exchanges, 0)),
        &mut v,
    )
    .unwrap();
    v
}

/// 407s on one connection: the retry check once rebuilt the flow's whole exchange
/// list for each 407 (7,000 407s: 12 s). Time per exchange at 10k 407s stays within
/// a small factor of that at 1k (best of a few runs, for a loaded machine).
#[test]
fn proxy_auth_check_is_linear_in_407s() {
    let small = auth407(1_000);
    let big = auth407(10_000);
    let per_small = diagnose_secs(&small, 5, 0.0) / 1_000.0;
    let per_big = diagnose_secs(&big, 5, per_small * 10_000.0 * 2.0) / 10_000.0;
    let ratio = per_big / per_small;
    eprintln!(
        "GENERATED 407 flood: {:.1} µs per exchange at 1k, {:.1} µs at 10k (ratio {ratio:.2})",
        per_small * 1e6,
        per_big * 1e6
    );
    assert!(
        ratio < 3.0,
        "per-exchange time grew {ratio:.1}x from 1k to 10k 407s"
    );

    // Every 407 is counted in its one finding; MAX_EVIDENCE of them shown.
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("auth.pcap");
    std::fs::write(&cap, &big).unwrap();
    let o = analyze(&[&cap], &[]);
    let f = o.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "proxy_auth_missing")
        .unwrap();
    assert_eq!(f["flows"], serde_json::json!([1]));
    assert_eq!(f["evidence"].as_array().unwrap().len(), MAX_EVIDENCE);
    assert_eq!(f["evidence_omitted"], 10_000 - MAX_EVIDENCE as u64);
}

/// Millions of interface description blocks once grew the interface table with the
/// file. Past MAX_INTERFACES per section they are counted, and packets on them are
/// undecodable, not lost.
#[test]
fn pcapng_interfaces_past_the_cap_are_counted_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let extra = 100u64;
    let cap = write(
        dir.path(),
        "interfaces.pcapng",
        spec(Kind::Interfaces, 10, MAX_INTERFACES as u64 + extra, 0),
    );
    let o = analyze(&[&cap], &[]);
    let file = &o.json["input"]["files"][0];
    assert_eq!(file["packets"], 10);
    assert_eq!(file["interfaces_not_kept"], extra);
    // Every other packet is on the last interface, which was not kept.
    assert_eq!(file["decode"]["undecodable"], 5, "{file}");
    assert_eq!(file["decode"]["tcp_packets"], 5, "{file}");
    assert_eq!(o.json["input"]["partial"], true);
    assert!(table(&cap).contains(&format!(
        "note: {extra} pcapng interface(s) past the first {MAX_INTERFACES} of a section not kept"
    )));

    // Four times the interfaces: no more memory.
    let mut peaks = Vec::new();
    for n in [200_000u64, 800_000] {
        let cap = write(
            dir.path(),
            &format!("interfaces-{n}.pcapng"),
            spec(Kind::Interfaces, 10, n, 0),
        );
        let o = analyze(&[&cap], &[]);
        assert_eq!(
            o.json["input"]["files"][0]["interfaces_not_kept"],
            n - MAX_INTERFACES as u64
        );
        eprintln!(
            "GENERATED pcapng with {n} interfaces: peak {:.1} MiB",
            o.peak as f64 / MIB as f64
        );
        peaks.push(o.peak);
    }
    assert!(
        peaks[1] < peaks[0] + 4 * MIB,
        "peak {} then {} MiB",
        peaks[0] / MIB,
        peaks[1] / MIB
    );
}

/// Every link type value declared once: the JSON once listed all 65,536 (and
/// de-duplicated them in quadratic time over files). Now MAX_LINK_TYPES_LISTED names
/// and a count, per file and over all files.
#[test]
fn link_types_are_listed_up_to_a_bound_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let cap = write(
        dir.path(),
        "linktypes.pcapng",
        spec(Kind::LinkTypes, 4, 65_536, 0),
    );
    // The same file twice: the list over all files de-duplicates across them.
    let o = analyze(&[&cap, &cap], &[]);
    let input = &o.json["input"];
    for file in input["files"].as_array().unwrap() {
        assert_eq!(
            file["link_types"].as_array().unwrap().len(),
            MAX_LINK_TYPES_LISTED
        );
        assert_eq!(
            file["link_types_omitted"],
            65_536 - MAX_LINK_TYPES_LISTED as u64
        );
        assert_eq!(file["decode"]["tcp_packets"], 4);
    }
    assert_eq!(
        input["link_types"].as_array().unwrap().len(),
        MAX_LINK_TYPES_LISTED
    );
    // Three values share the name RAW (12, 14 and 101).
    assert_eq!(
        input["link_types_omitted"],
        65_536 - 2 - MAX_LINK_TYPES_LISTED as u64
    );
    assert!(
        table(&cap).contains(&format!("+{} more", 65_536 - MAX_LINK_TYPES_LISTED)),
        "the table head names a few and counts the rest"
    );
}

/// Seconds the whole `analyze` (reading, the link types gathered over the file, the
/// report) takes on `capture`, the best of `tries` runs.
fn analyze_secs(capture: &Path, tries: usize) -> f64 {
    let path = capture.to_str().unwrap();
    (0..tries)
        .map(|_| {
            let t = Instant::now();
            let r = crate::common::run(&["analyze", "--format", "json", path]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

/// The link types a file declared were once gathered with a linear search each:
/// 65,536 of them took 24.7 s in a debug build, 8,192 0.79 s. Time per link type at
/// 65,536 stays within a small factor of that at 4,096 (best of a few runs).
#[test]
fn link_types_are_gathered_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let [small, big] = [4_096u64, 65_536].map(|n| {
        let cap = write(
            dir.path(),
            &format!("linktypes-{n}.pcapng"),
            spec(Kind::LinkTypes, 4, n, 0),
        );
        analyze_secs(&cap, 3) / n as f64
    });
    let ratio = big / small;
    eprintln!(
        "GENERATED link types: {:.1} µs per link type at 4,096, {:.1} µs at 65,536 (ratio {ratio:.2})",
        small * 1e6,
        big * 1e6
    );
    assert!(
        ratio < 3.0,
        "time per link type grew {ratio:.1}x from 4,096 to 65,536"
    );
}

fn findings_of<'a>(v: &'a Value, id: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

/// Lookups of distinct names, none resolving: one finding per name made a finding
/// per lookup. Past MAX_TARGETS names they fold into one finding that counts them.
#[test]
fn unresolved_names_fold_into_one_finding_past_a_few() {
    let dir = tempfile::tempdir().unwrap();
    let names = 1_000u64;
    let cap = write(dir.path(), "dns.pcap", spec(Kind::Dns, 1, names, 0));
    let o = analyze(&[&cap], &[]);
    let found = findings_of(&o.json, "proxy_name_not_resolved");
    assert_eq!(found.len(), MAX_TARGETS + 1, "{} findings", found.len());
    let rest = found.last().unwrap();
    let folded = names - MAX_TARGETS as u64;
    assert_eq!(rest["more_targets"], folded - 1);
    assert!(
        rest["title"]
            .as_str()
            .unwrap()
            .ends_with(&format!("(and {} more like it)", folded - 1)),
        "{}",
        rest["title"]
    );
    assert_eq!(rest["evidence"].as_array().unwrap().len(), MAX_EVIDENCE);
    assert_eq!(rest["evidence_omitted"], folded - MAX_EVIDENCE as u64);
    assert_eq!(rest["flows"], serde_json::json!([1]));
}

/// A busy hour: 2,000 finished flows (SYN-only, every one listed under
/// `--max-records 2000`; the default is 50,000), then one proxy connection answered
/// 407. Flows past the listed ones were once only added up, so the 407 was never
/// diagnosed ("No error found", exit 0); now they are only left out of the list.
#[test]
fn flows_past_max_records_are_diagnosed() {
    let mut capture = Vec::new();
    std::io::copy(&mut Flood::new(spec(Kind::Syn, 2_000, 0, 0)), &mut capture).unwrap();
    // One pcap: the 407 flood's records after the SYNs, without its file header, from
    // another client address (10.99.0.2, not the SYN flood's 10.0.0.2).
    let auth = auth407(3);
    let mut at = 24;
    while at + 16 <= auth.len() {
        let len = u32::from_le_bytes(auth[at + 8..at + 12].try_into().unwrap()) as usize;
        let mut rec = auth[at..at + 16 + len].to_vec();
        for ip in [16 + 26, 16 + 30] {
            if rec[ip..ip + 4] == [10, 0, 0, 2] {
                rec[ip + 1] = 99;
            }
        }
        capture.extend_from_slice(&rec);
        at += 16 + len;
    }
    let dir = tempfile::tempdir().unwrap();
    let cap = dir.path().join("busy.pcap");
    std::fs::write(&cap, &capture).unwrap();
    let o = analyze(&[&cap], &["--max-records", "2000"]);
    assert_eq!(o.json["flows"].as_array().unwrap().len(), 2_000);
    let limits = &o.json["input"]["files"][0]["limits"];
    assert_eq!(limits["flows_summarized"], 1, "{limits}");
    let auth = findings_of(&o.json, "proxy_auth_missing");
    assert_eq!(
        auth.len(),
        1,
        "the 407 past the listed flows was not diagnosed"
    );
    assert_eq!(auth[0]["flows"], serde_json::json!([2_001]));
    // The only error-level finding with 10 flows listed: exit 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--format", "json", "--max-records", "10"])
        .arg(&cap)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| &f["id"])
        .collect();
    assert_eq!(errors, vec!["proxy_auth_missing"]);
    assert_eq!(out.status.code(), Some(1));
}
