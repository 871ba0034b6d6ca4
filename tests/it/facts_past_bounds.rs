//! Decoded facts past `--max-facts` and past a decoder's per-flow bounds (10,000 HTTP
//! exchanges, 100,000 DNS transactions): not listed (each counted in the flow's
//! `facts_not_kept`, the flow `partial`), but diagnosed like the kept ones, and the
//! exit code reflects them. GENERATED captures (tests/flood_gen), the fixtures, and
//! the corpus; the big versions are in `scripts/flood-bench`.

use crate::common::*;
use crate::flood_gen::{Flood, Kind, Spec};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A GENERATED Late407 flood: `flows` proxy connections, each with `per_flow`
/// requests, all let through (200) but the last, answered 407.
fn late407(dir: &Path, flows: u64, per_flow: u64) -> PathBuf {
    let path = dir.join("late407.pcap");
    let spec = Spec {
        kind: Kind::Late407,
        flows,
        per_flow,
        segment: 0,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    std::io::copy(&mut Flood::new(spec), &mut f).unwrap();
    path
}

/// The JSON report and exit code of `analyze ARGS CAPTURE`.
fn report(capture: &Path, args: &[&str]) -> (Value, u8) {
    let mut argv = vec!["analyze", "--format", "json"];
    argv.extend_from_slice(args);
    argv.push(capture.to_str().unwrap());
    let r = run(&argv);
    (serde_json::from_str(&r.stdout).unwrap(), r.code)
}

/// The `seen` lines of the evidence of `id`'s findings.
fn seen(v: &Value, id: &str) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .map(|e| e["seen"].as_str().unwrap().to_string())
        .collect()
}

/// The 407 comes after the facts budget is spent: it was not kept, so the rules never
/// saw it ("No error found", exit 0). It is still not listed, but it is diagnosed.
#[test]
fn a_407_past_max_facts_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let cap = late407(dir.path(), 1, 5);
    let (v, code) = report(&cap, &["--max-facts", "2"]);
    let flow = &flows(&v)[0];
    assert_eq!(
        flow["http"].as_array().unwrap().len(),
        2,
        "two kept, listed"
    );
    assert_eq!(flow["facts_not_kept"], 3, "one count per exchange not kept");
    assert_eq!(flow["partial"], true);
    let auth = seen(&v, "proxy_auth_missing");
    assert_eq!(auth.len(), 1, "{:#}", v["findings"]);
    assert!(auth[0].contains("item/00000004"), "{}", auth[0]);
    assert_eq!(
        code, 1,
        "an error-level finding past the budget sets the exit code"
    );
    // The diagnosis is the one the whole budget gives.
    let (full, full_code) = report(&cap, &[]);
    assert_eq!(v["findings"], full["findings"]);
    assert_eq!(v["summary"], full["summary"]);
    assert_eq!(code, full_code);
}

/// More exchanges on one connection than a flow keeps (10,000): the 407 after them was
/// never seen. Now it is, and its finding names it.
#[test]
fn a_407_past_the_per_flow_bound_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let cap = late407(dir.path(), 1, 10_003);
    let (v, code) = report(&cap, &[]);
    let flow = &flows(&v)[0];
    assert_eq!(flow["http"].as_array().unwrap().len(), 10_000);
    assert_eq!(flow["facts_not_kept"], 3);
    let auth = seen(&v, "proxy_auth_missing");
    assert_eq!(auth.len(), 1, "{:#}", v["findings"]);
    assert!(auth[0].contains("item/00010002"), "{}", auth[0]);
    assert_eq!(code, 1);
}

/// A busy day with one fact kept: its 407, its gateway's refused key and its
/// abandoned handshake (inside a CONNECT whose 200 was not kept) are all found.
#[test]
fn busy_day_with_one_fact_kept_is_diagnosed_in_full() {
    let cap = fixture_file("busy-day.pcapng");
    let (v, code) = report(&cap, &["--max-facts", "1"]);
    let (full, full_code) = report(&cap, &[]);
    assert!(v["input"]["files"][0]["limits"]["facts_not_kept"].as_u64() > Some(30));
    assert_eq!(v["findings"], full["findings"]);
    assert_eq!((code, full_code), (1, 1));
}

/// No fact kept at all (`--max-facts 0`): every fixture and corpus capture gets the
/// findings, summary and exit code it gets with the default budget.
#[test]
fn every_capture_is_diagnosed_the_same_with_no_fact_kept() {
    let mut differ = Vec::new();
    for path in all_captures() {
        let p = path.to_str().unwrap();
        let full = run(&["analyze", "--format", "json", p]);
        let none = run(&["analyze", "--format", "json", "--max-facts", "0", p]);
        let part = |r: &Run| -> Value {
            let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
            serde_json::json!([v["findings"], v["summary"], r.code])
        };
        if part(&full) != part(&none) {
            differ.push(p.to_string());
        }
    }
    assert!(differ.is_empty(), "diagnosed differently: {differ:#?}");
}
