//! Damaged captures: files cut at every offset of their first bytes and at many
//! offsets beyond, empty and header-only files, misnamed files, unknown link types and
//! random bytes. Each gets the documented exit code (README, "Exit codes") and one
//! clear line on stderr; a cut capture is analysed up to its last complete packet and
//! gives exactly what the same complete packets give in an uncut file.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Offsets where a capture may end cleanly, found by walking its records with an
/// independent (test-side) walker.
struct Layout {
    /// Bytes of the file header (pcap header, or pcapng's first section header block).
    header: usize,
    /// End offset of every record or block, and whether it carries a packet.
    records: Vec<(usize, bool)>,
}

fn rd32(b: &[u8], at: usize, be: bool) -> usize {
    let x: [u8; 4] = b[at..at + 4].try_into().unwrap();
    (if be {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    }) as usize
}

fn layout(b: &[u8]) -> Layout {
    let mut records = Vec::new();
    match b[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] | [0xa1, 0xb2, ..] => {
            let be = b[0] == 0xa1;
            let mut at = 24;
            while at + 16 <= b.len() {
                at += 16 + rd32(b, at + 8, be);
                assert!(at <= b.len(), "test capture itself is cut");
                records.push((at, true));
            }
            Layout {
                header: 24,
                records,
            }
        }
        [0x0a, 0x0d, 0x0d, 0x0a] => {
            let mut at = 0;
            let mut be = false;
            while at + 12 <= b.len() {
                let ty = rd32(b, at, be);
                if ty == 0x0a0d_0d0a {
                    be = b[at + 8] == 0x1a;
                }
                let len = rd32(b, at + 4, be);
                at += len;
                assert!(at <= b.len(), "test capture itself is cut");
                records.push((at, matches!(rd32(b, at - len, be), 2 | 3 | 6)));
            }
            Layout {
                header: records[0].0,
                records,
            }
        }
        _ => panic!("not a capture"),
    }
}

fn one_line(s: &str) -> &str {
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line on stderr, got: {s:?}");
    lines[0]
}

/// Cuts `rel` (a corpus or fixture capture) at every offset of its first 2 KiB and at
/// about 200 offsets spread over the rest, and checks every cut.
fn check_cuts(src: &Path) {
    let bytes = std::fs::read(src).unwrap();
    let lay = layout(&bytes);
    let dir = tempfile::tempdir().unwrap();
    // Keep the original name: a `.pcapng` that holds pcap stays so named.
    let cut_path: PathBuf = dir.path().join(src.file_name().unwrap());
    let cut_arg = cut_path.to_str().unwrap().to_string();

    let mut offsets: Vec<usize> = (0..bytes.len().min(2048)).collect();
    if bytes.len() > 2048 {
        let rest = bytes.len() - 2048;
        let step = (rest / 200).max(1);
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut at = 2048;
        while at < bytes.len() {
            // A little jitter so cuts do not fall on the same place in every record.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            offsets.push(at + (x as usize) % step);
            at += step;
        }
        // The record boundaries beyond 2 KiB, cut exactly and one byte either side.
        for &(end, _) in lay.records.iter().filter(|(e, _)| *e > 2048).take(20) {
            offsets.extend([end - 1, end, (end + 1).min(bytes.len())]);
        }
    }
    offsets.retain(|o| *o <= bytes.len());
    offsets.sort();
    offsets.dedup();

    // Flows of the capture cut exactly after a boundary: the reference for every cut
    // that falls inside the record after it.
    let mut reference: HashMap<usize, Value> = HashMap::new();
    let run_json = |len: usize| {
        std::fs::write(&cut_path, &bytes[..len]).unwrap();
        let r = run(&["analyze", "--format", "json", &cut_arg]);
        let v: Value = if r.stdout.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&r.stdout)
                .unwrap_or_else(|e| panic!("cut at {len}: JSON does not parse: {e}"))
        };
        (r, v)
    };

    let mut checked = 0;
    for &cut in &offsets {
        let ctx = format!("{} cut at {cut} of {}", src.display(), bytes.len());
        if cut == 0 {
            let (r, _) = run_json(0);
            assert_eq!(r.code, 2, "{ctx}");
            assert!(one_line(&r.stderr).contains("empty file"), "{ctx}");
            continue;
        }
        if cut < lay.header {
            let (r, _) = run_json(cut);
            assert_eq!(r.code, 2, "{ctx}: {}", r.stderr);
            let line = one_line(&r.stderr);
            assert!(
                line.contains("capture header is cut short") && line.contains(&format!("{cut} of")),
                "{ctx}: {line}"
            );
            continue;
        }
        let complete: Vec<&(usize, bool)> = lay.records.iter().filter(|(e, _)| *e <= cut).collect();
        let packets = complete.iter().filter(|(_, p)| *p).count() as u64;
        let last_boundary = complete.last().map_or(lay.header, |(e, _)| *e);
        let at_boundary = last_boundary == cut;

        let (r, v) = run_json(cut);
        let file = &v["input"]["files"][0];
        assert_eq!(file["packets"], packets, "{ctx}: complete packets analysed");
        assert_eq!(v["input"]["truncated"], !at_boundary, "{ctx}");
        if at_boundary {
            assert!(r.code == 0 || r.code == 1, "{ctx}: exit {}", r.code);
            assert!(!r.stderr.contains("cut short"), "{ctx}: {}", r.stderr);
            assert!(file["truncated"].is_null(), "{ctx}");
            reference.insert(cut, v["flows"].clone());
        } else {
            assert_eq!(r.code, 3, "{ctx}: {}", r.stderr);
            let line = one_line(&r.stderr);
            assert!(
                line.contains(&format!("cut short in frame {}", packets + 1)),
                "{ctx}: {line}"
            );
            assert_eq!(file["truncated"]["frame"], packets + 1, "{ctx}");
            let missing = file["truncated"]["need"].as_u64().unwrap()
                - file["truncated"]["have"].as_u64().unwrap();
            assert!(missing > 0, "{ctx}: no shortfall named");
            let want = match reference.get(&last_boundary) {
                Some(w) => w.clone(),
                None => {
                    let (_, rv) = run_json(last_boundary);
                    reference.insert(last_boundary, rv["flows"].clone());
                    rv["flows"].clone()
                }
            };
            assert_eq!(
                v["flows"], want,
                "{ctx}: flows differ from the same complete packets uncut"
            );
        }
        checked += 1;
    }
    // The table path on a sample of the cuts: same exit codes, no panic.
    for &cut in offsets.iter().step_by(50) {
        std::fs::write(&cut_path, &bytes[..cut]).unwrap();
        let r = run(&["analyze", &cut_arg]);
        assert!(matches!(r.code, 0..=3), "table, cut at {cut}");
    }
    assert!(
        checked > 100,
        "{}: only {checked} cuts checked",
        src.display()
    );
}

fn fixture(name: &str) -> PathBuf {
    crate::common::fixture_file(name)
}

#[test]
fn pcap_cut_anywhere_pop3() {
    check_cuts(&corpus_file("zeek/pop3/pop3.pcap"));
}

#[test]
fn pcap_cut_anywhere_fixture_healthy_control() {
    check_cuts(&fixture("healthy-control.pcap"));
}

#[test]
fn pcap_nanosecond_cut_anywhere() {
    check_cuts(&fixture("s1-proxy-syn-dropped.pcap"));
}

#[test]
fn pcapng_cut_anywhere_http_cookies() {
    check_cuts(&corpus_file("ja4/http1-with-cookies.pcapng"));
}

#[test]
fn pcapng_cut_anywhere_multi_interface() {
    check_cuts(&corpus_file("zeek/pcapng-multi-interface.pcapng"));
}

#[test]
fn pcapng_cut_anywhere_big_tls() {
    check_cuts(&corpus_file("ja4/browsers-x509.pcapng"));
}

#[test]
fn pcap_named_pcapng_cut_anywhere() {
    check_cuts(&corpus_file("ja4/ipv6.pcapng"));
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn empty_file_is_one_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "empty.pcap", b"");
    for fmt in ["table", "json"] {
        let r = run(&["analyze", "--format", fmt, &p]);
        assert_eq!(r.code, 2);
        assert!(one_line(&r.stderr).contains("empty file (0 bytes)"));
    }
}

#[test]
fn header_only_file_is_zero_packets_with_a_note() {
    let r = run(&["analyze", corpus_file("zeek/empty.pcap").to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("0 packets"), "{}", r.stdout);
    assert!(
        one_line(&r.stderr).contains("capture holds no packets"),
        "{}",
        r.stderr
    );
}

#[test]
fn pcap_named_pcapng_is_read_by_its_magic() {
    let v = analyze_json(&corpus_file("ja4/ipv6.pcapng"));
    assert_eq!(v["input"]["files"][0]["format"], "pcap");
    assert!(v["input"]["packets"].as_u64().unwrap() > 0);
}

#[test]
fn unknown_link_type_is_one_line_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // pcap header with link type 147 (user-defined DLT).
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    h.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0]);
    h.extend_from_slice(&147u32.to_le_bytes());
    let pcap = write_tmp(dir.path(), "odd.pcap", &h);
    let ng = write_tmp(dir.path(), "odd.pcapng", &pcapng_with_link(147));
    for p in [pcap, ng] {
        for fmt in ["table", "json"] {
            let r = run(&["analyze", "--format", fmt, &p]);
            assert_eq!(r.code, 2, "{p}");
            let line = one_line(&r.stderr);
            assert!(line.contains("USER0 (147) is not supported"), "{line}");
        }
    }
}

#[test]
fn random_bytes_are_not_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20 {
        let len = 1 + round * 211;
        let mut b = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.push(x as u8);
        }
        // Random bytes that happen to start with a magic are a different test.
        if matches!(b[0], 0xd4 | 0xa1 | 0x4d | 0x0a) {
            b[0] = 0x42;
        }
        let p = write_tmp(dir.path(), "noise.pcap", &b);
        let r = run(&["analyze", "--format", "json", &p]);
        assert_eq!(r.code, 2, "round {round}");
        assert!(
            one_line(&r.stderr).contains("not a pcap or pcapng capture"),
            "round {round}: {}",
            r.stderr
        );
    }
}

#[test]
fn impossible_record_length_is_damage_not_a_crash() {
    let src = std::fs::read(corpus_file("zeek/tcp/syn-then-rst.pcap")).unwrap();
    let mut b = src.clone();
    // Second record's caplen: 4 GiB - 1.
    let second = 24 + 16 + rd32(&src, 24 + 8, false);
    b[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "corrupt.pcap", &b);
    let r = run(&["analyze", "--format", "json", &p]);
    assert_eq!(r.code, 3);
    let line = one_line(&r.stderr);
    assert!(
        line.contains("frame 2") && line.contains("impossible"),
        "{line}"
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["input"]["packets"], 1);
    assert_eq!(v["input"]["truncated"], true);
}

#[test]
fn several_files_one_cut_one_fine_one_missing() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(corpus_file("zeek/pop3/pop3.pcap")).unwrap();
    let cut = write_tmp(dir.path(), "cut.pcap", &src[..src.len() - 7]);
    let fine = corpus_file("zeek/tcp/syn-then-rst.pcap");
    let r = run(&["analyze", "--format", "json", &cut, fine.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["input"]["files"].as_array().unwrap().len(), 2);
    // A file that cannot be read at all outranks damage: exit 2, and the rest is still
    // reported.
    let missing = dir.path().join("nope.pcap");
    let r = run(&[
        "analyze",
        "--format",
        "json",
        &cut,
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["input"]["truncated"], true);
}
