//! Differential test against tshark: for every capture we can find (the shared corpus
//! and our own fixtures), the TCP conversations we report must be the ones
//! `tshark -q -z conv,tcp` reports, with the same frame counts.
//!
//! tshark's table is per address/port pair (a conversation); we report connections
//! the way Zeek does, so refused attempts retried on the same port are separate
//! connections. Connections are therefore summed per pair before comparing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        // CI installs tshark (.ci/run); there a missing oracle is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "tshark is required in CI for the differential tests"
        );
        eprintln!("SKIPPED: tshark not installed (apt-get install tshark)");
    }
    ok
}

fn endpoint(s: &str) -> SocketAddr {
    let (ip, port) = s.rsplit_once(':').expect("ip:port");
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    SocketAddr::new(
        ip.parse::<IpAddr>().expect("ip"),
        port.parse().expect("port"),
    )
}

fn pair(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Conversation → total frames, from `tshark -z conv,tcp`.
fn tshark_conversations(path: &Path) -> BTreeMap<(SocketAddr, SocketAddr), u64> {
    let out = Command::new("tshark")
        .args(["-n", "-q", "-z", "conv,tcp", "-r"])
        .arg(path)
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = BTreeMap::new();
    for line in text.lines().filter(|l| l.contains("<->")) {
        let t: Vec<&str> = line.split_whitespace().collect();
        // A <-> B  frames bytes unit  frames bytes unit  frames bytes unit  start duration
        let total_frames: u64 = t[9].parse().expect("frames");
        *m.entry(pair(endpoint(t[0]), endpoint(t[2]))).or_default() += total_frames;
    }
    m
}

fn our_conversations(path: &Path) -> BTreeMap<(SocketAddr, SocketAddr), u64> {
    let v = analyze_json(path);
    let mut m = BTreeMap::new();
    for f in flows(&v).iter().filter(|f| f["transport"] == "tcp") {
        let k = pair(
            endpoint(f["client"].as_str().unwrap()),
            endpoint(f["server"].as_str().unwrap()),
        );
        let n = f["packets"]["client"].as_u64().unwrap() + f["packets"]["server"].as_u64().unwrap();
        *m.entry(k).or_default() += n;
    }
    m
}

fn fixture_captures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures");
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn tcp_conversations_match_tshark() {
    if !tshark_available() {
        return;
    }
    let mut checked = 0;
    for cap in corpus_captures().into_iter().chain(fixture_captures()) {
        let name = cap.display().to_string();
        let ours = our_conversations(&cap);
        let theirs = tshark_conversations(&cap);
        assert_eq!(ours, theirs, "conversations differ from tshark on {name}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} captures checked");
}
