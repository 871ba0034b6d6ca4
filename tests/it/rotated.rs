//! Rotated sets: several files that `tcpdump -C/-G/-W` or `dumpcap -b` wrote one after
//! another are one capture, merged by time (a connection crossing a file boundary stays
//! one connection), with frames named `file#N`; unrelated or overlapping files stay
//! separate captures and evidence names their file.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn json(args: &[&Path]) -> (u8, Value) {
    let mut a = vec!["analyze", "--format", "json"];
    a.extend(args.iter().map(|p| p.to_str().unwrap()));
    let r = run(&a);
    (r.code, serde_json::from_str(&r.stdout).unwrap())
}

/// The flows without the file they came from.
fn flows_without_file(v: &Value) -> Vec<Value> {
    flows(v)
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().unwrap().remove("file");
            f
        })
        .collect()
}

#[test]
fn the_recorded_rotated_pair_is_one_capture_with_one_connection() {
    let p0 = fixture_file("w-rotated.pcap0");
    let p1 = fixture_file("w-rotated.pcap1");
    // Given in either order: time decides.
    for order in [[&p0, &p1], [&p1, &p0]] {
        let (code, v) = json(&[order[0].as_path(), order[1].as_path()]);
        assert_eq!(code, 0);
        let files = v["input"]["files"].as_array().unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        let parts = files[0]["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 2);
        assert!(
            parts[0]["path"]
                .as_str()
                .unwrap()
                .ends_with("w-rotated.pcap0")
        );
        assert_eq!(parts[0]["frames"], 23);
        assert_eq!(parts[1]["first_frame"], 23);
        assert_eq!(parts[1]["frames"], 11);
        assert!(
            v["findings"].as_array().unwrap().is_empty(),
            "{}",
            v["findings"]
        );
        // The connection to squid: one flow from the handshake in the first file to
        // the close in the second.
        let tcp: Vec<&Value> = flows(&v)
            .iter()
            .filter(|f| f["transport"] == "tcp")
            .collect();
        assert_eq!(tcp.len(), 1);
        assert_eq!(tcp[0]["state"], "SF");
        assert_eq!(tcp[0]["first_frame"], 5);
        assert_eq!(tcp[0]["last_frame"], 34);
    }
    // Read apart, the second file's half of the connection is a flow of its own.
    let (_, apart) = json(&[&p0]);
    assert_eq!(apart["input"]["files"][0].get("parts"), None);
    let r = run(&["analyze", p0.to_str().unwrap(), p1.to_str().unwrap()]);
    assert!(
        r.stdout.contains("w-rotated.pcap0#5-w-rotated.pcap1#11"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("rotated set of 2 files"), "{}", r.stdout);
}

#[test]
fn a_capture_split_like_dumpcap_b_reports_like_the_whole_and_like_mergecap() {
    let dir = tempfile::tempdir().unwrap();
    let whole = fixture_file("busy-day.pcapng");
    // editcap -c names its files as dumpcap -b does: prefix_NNNNN_YYYYMMDDhhmmss.
    let st = Command::new("editcap")
        .arg("-c")
        .arg("100")
        .arg(&whole)
        .arg(dir.path().join("ring.pcapng"))
        .status()
        .expect("editcap (tshark's package, scripts/ensure-deps --test)");
    assert!(st.success());
    let mut parts: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(parts.len(), 4);
    // Given in reverse name order: time decides.
    parts.sort();
    parts.reverse();
    let refs: Vec<&Path> = parts.iter().map(|p| p.as_path()).collect();
    let (code, v) = json(&refs);
    let (want_code, want) = json(&[&whole]);
    assert_eq!(code, want_code);
    assert_eq!(v["input"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(v["findings"], want["findings"]);
    assert_eq!(v["summary"], want["summary"]);
    // Frames are counted across the set as mergecap counts the merged file.
    assert_eq!(flows_without_file(&v), flows_without_file(&want));
    let merged = dir.path().join("merged.pcapng");
    let st = Command::new("mergecap")
        .arg("-w")
        .arg(&merged)
        .args(&parts)
        .status()
        .unwrap();
    assert!(st.success());
    let (_, m) = json(&[&merged]);
    assert_eq!(flows_without_file(&v), flows_without_file(&m));
}

#[test]
fn overlapping_or_unrelated_files_stay_apart_and_evidence_names_their_file() {
    let dir = tempfile::tempdir().unwrap();
    // The same recording twice under rotation-like names: they overlap in time.
    let src = fixture_file("s2-407-wrong-password.pcap");
    let a = dir.path().join("cap1.pcap");
    let b = dir.path().join("cap2.pcap");
    std::fs::copy(&src, &a).unwrap();
    std::fs::copy(&src, &b).unwrap();
    let (_, v) = json(&[&a, &b]);
    let files = v["input"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.get("parts").is_none()));
    // Unrelated names: separate captures, evidence says which file.
    let busy = fixture_file("busy-day.pcapng");
    let r = run(&["analyze", busy.to_str().unwrap(), src.to_str().unwrap()]);
    assert!(
        r.stdout.contains("frame busy-day.pcapng#87, 89, 93"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("frame s2-407-wrong-password.pcap#"),
        "{}",
        r.stdout
    );
    // One file alone: plain frame numbers, as Wireshark shows them.
    let r = run(&["analyze", busy.to_str().unwrap()]);
    assert!(r.stdout.contains("frame 87, 89, 93"), "{}", r.stdout);
}
