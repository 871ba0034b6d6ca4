//! Compressed captures: files compressed by the real `gzip`, `zstd` and `xz` tools (at
//! test time) are recognised by their magic bytes, whatever their name, and analyse
//! exactly like the original; on standard input too; a stream cut short is a damaged
//! capture (exit 3), not an unreadable one.

use crate::common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
}

/// `tool args... < src > dst`.
fn compress(tool: &[&str], src: &Path, dst: &Path) {
    let o = Command::new(tool[0])
        .args(&tool[1..])
        .stdin(std::fs::File::open(src).unwrap())
        .output()
        .unwrap_or_else(|e| panic!("{} (scripts/ensure-deps --test installs it): {e}", tool[0]));
    assert!(o.status.success(), "{tool:?} failed");
    std::fs::write(dst, o.stdout).unwrap();
}

/// The report of `path`, with the file's name taken out of it.
fn report(args: &[&str], path: &Path) -> (Option<i32>, String) {
    let o = bin().args(args).arg(path).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    (
        o.status.code(),
        text.replace(path.to_str().unwrap(), "FILE"),
    )
}

const TOOLS: [&[&str]; 3] = [&["gzip", "-c"], &["zstd", "-q", "-c"], &["xz", "-c"]];

#[test]
fn gzip_zstd_and_xz_captures_report_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["busy-day.pcapng", "s2-407-wrong-password.pcap"] {
        let orig = fixture_file(name);
        let want_json = report(&["analyze", "--format", "json"], &orig);
        let want_table = report(&["analyze"], &orig);
        for tool in TOOLS {
            // A name that says nothing: the magic bytes decide.
            let p: PathBuf = dir.path().join(format!("{name}-{}", tool[0]));
            compress(tool, &orig, &p);
            assert_ne!(std::fs::read(&p).unwrap(), std::fs::read(&orig).unwrap());
            let mut got_json = report(&["analyze", "--format", "json"], &p);
            // `file_bytes` counts the capture's bytes, decompressed: the same.
            got_json.1 = got_json.1.replace(&format!("{name}-{}", tool[0]), name);
            assert_eq!(got_json, want_json, "{name} through {}", tool[0]);
            assert_eq!(
                report(&["analyze"], &p),
                want_table,
                "{name} through {}",
                tool[0]
            );
        }
    }
}

#[test]
fn a_compressed_capture_on_stdin_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let orig = fixture_file("busy-day.pcapng");
    let p = dir.path().join("busy.zst");
    compress(&["zstd", "-q", "-c"], &orig, &p);
    let mut child = bin()
        .args(["analyze", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&p).unwrap())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = analyze_json(&orig);
    assert_eq!(v["findings"], want["findings"]);
    assert_eq!(v["input"]["packets"], want["input"]["packets"]);
}

#[test]
fn a_gzip_capture_cut_short_is_damaged_and_analysed_up_to_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let orig = fixture_file("busy-day.pcapng");
    let p = dir.path().join("busy.pcapng.gz");
    compress(&["gzip", "-c"], &orig, &p);
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let o = bin()
        .args(["analyze", "--format", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("gzip stream cut short"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let packets = v["input"]["packets"].as_u64().unwrap();
    assert!(packets > 0 && packets < 361, "{packets}");
    assert!(v["input"]["truncated"].as_bool().unwrap());
}
