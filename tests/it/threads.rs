//! `analyze --threads 1` (read and analyse on one thread) and `--threads 2` (a reader
//! thread hands packets over in batches) give byte-identical reports, warnings and exit
//! codes: on every fixture and corpus capture, on captures cut mid-record, through
//! stdin, with batches of every size down to one packet, and when reading fails
//! part-way.

use crate::common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use trafficdoc::capture::CaptureError;
use trafficdoc::flow::table::TableConfig;
use trafficdoc::pipeline::{self, ReadOptions};

/// Everything the CLI says about `path` with these extra arguments.
fn json_run(path: &Path, extra: &[&str]) -> (u8, String, String) {
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let r = run(&args);
    (r.code, r.stdout, r.stderr)
}

/// The single-threaded run, then the same checks against every threaded variant.
fn assert_same_whatever_the_threads(path: &Path) -> (u8, String, String) {
    let one = json_run(path, &["--threads", "1"]);
    for extra in [
        &["--threads", "2"][..],
        // One packet per batch: every hand-over and every buffer reuse is exercised.
        &["--threads", "2", "--batch-bytes", "1"],
        &["--threads", "2", "--batch-bytes", "3000"],
    ] {
        let other = json_run(path, extra);
        assert!(
            one == other,
            "{} with {extra:?} differs from --threads 1:\n--threads 1: exit {}, stderr {:?}\n{extra:?}: exit {}, stderr {:?}",
            path.display(),
            one.0,
            one.2,
            other.0,
            other.2
        );
    }
    one
}

#[test]
fn every_fixture_and_corpus_capture_gives_the_same_report() {
    for p in all_captures() {
        let (code, out, _) = assert_same_whatever_the_threads(&p);
        assert!(code <= 1, "{}: exit {code}", p.display());
        assert!(out.contains("\"flows\""), "{}", p.display());
    }
}

#[test]
fn captures_cut_mid_record_give_the_same_report_and_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut damaged = 0;
    for src in all_captures() {
        let bytes = std::fs::read(&src).unwrap();
        // Cuts late (a packet's last bytes), in the middle and early in the file.
        for cut in [bytes.len() - 3, bytes.len() / 2, bytes.len() / 5] {
            let p = dir.path().join(format!(
                "{}-{cut}",
                src.file_name().unwrap().to_str().unwrap()
            ));
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let (code, _, err) = assert_same_whatever_the_threads(&p);
            if code == 3 {
                assert!(err.contains("capture is cut short in frame"), "{err}");
                damaged += 1;
            }
            std::fs::remove_file(&p).unwrap();
        }
    }
    // Nearly every cut lands inside a record; the test is about those.
    assert!(damaged > 100, "only {damaged} cuts were damaged captures");
}

#[test]
fn unsupported_link_only_pcapng_fails_the_same_way() {
    // GENERATED: pcapng with one interface of link type 147 and one packet on it; the
    // error comes once the whole file is read, from the reader thread's link types.
    let f = pcapng_with_link(147);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.pcapng");
    std::fs::write(&p, &f).unwrap();
    let (code, out, err) = assert_same_whatever_the_threads(&p);
    assert_eq!(code, 2);
    assert!(
        err.contains("link type USER0 (147) is not supported"),
        "{err}"
    );
    assert!(out.contains("\"flows\": []"), "{out}");
}

fn stdin_run(bytes: &[u8], threads: &str) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
        .args(["analyze", "--format", "json", "--threads", threads, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    (o.status.code(), o.stdout, o.stderr)
}

#[test]
fn stdin_gives_the_same_report() {
    let busy = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/busy-day.pcapng"),
    )
    .unwrap();
    let loss = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures/s5-packet-loss.pcap"),
    )
    .unwrap();
    for (name, bytes) in [
        ("busy-day", &busy[..]),
        ("s5-packet-loss", &loss[..]),
        ("s5-packet-loss cut", &loss[..loss.len() - 5]),
    ] {
        let one = stdin_run(bytes, "1");
        let two = stdin_run(bytes, "2");
        assert_eq!(one, two, "{name}");
        let want = if name.ends_with("cut") { 3 } else { 1 };
        assert!(
            one.0 == Some(want) || (want == 1 && one.0 == Some(0)),
            "{name}: exit {:?}: {}",
            one.0,
            String::from_utf8_lossy(&one.2)
        );
        assert!(!one.1.is_empty(), "{name}");
    }
}

/// A source that fails after `left` bytes, as a disk or pipe can.
struct FailsAfter<'a> {
    data: &'a [u8],
    left: usize,
}

impl Read for FailsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("device gone"));
        }
        let n = buf.len().min(self.left).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.left -= n;
        Ok(n)
    }
}

/// GENERATED: more than 65,536 packets, so progress is reported along the way.
fn many_packets() -> Vec<u8> {
    let mut p = synth::Pcap::new();
    for i in 0..70_000u32 {
        let port = 10_000 + (i % 500) as u16;
        p.tcp(
            ([10, 0, 0, 1], port),
            ([10, 0, 0, 2], 8080),
            i,
            0,
            0x02,
            &[],
        );
    }
    p.bytes
}

type Outcome = (Result<String, String>, Vec<u64>);

fn analyse(src: impl Read + Send, threads: usize, batch_bytes: usize) -> Outcome {
    let mut progress = Vec::new();
    let r = pipeline::analyze_reader_with(
        "gen.pcap",
        src,
        TableConfig::default(),
        ReadOptions {
            threads,
            batch_bytes,
        },
        &mut |n| progress.push(n),
    );
    let r = r
        .map(|c| format!("{:?} {}", c.input, c.flows.len()))
        .map_err(|e: CaptureError| e.to_string());
    (r, progress)
}

#[test]
fn progress_and_read_errors_are_the_same_whatever_the_threads() {
    let bytes = many_packets();
    let whole = analyse(&bytes[..], 1, 1 << 20);
    assert!(whole.0.is_ok());
    assert_eq!(whole.1.len(), 2, "{:?}", whole.1);
    assert_eq!(*whole.1.last().unwrap(), bytes.len() as u64);
    for batch_bytes in [1, 5000, 1 << 20] {
        assert_eq!(analyse(&bytes[..], 2, batch_bytes), whole);
    }
    // Reading fails part-way: the same error, and no report.
    for at in [100, bytes.len() / 3, bytes.len() - 1] {
        let one = analyse(
            FailsAfter {
                data: &bytes,
                left: at,
            },
            1,
            1 << 20,
        );
        assert!(
            one.0.as_ref().unwrap_err().contains("device gone"),
            "{one:?}"
        );
        for batch_bytes in [1, 5000, 1 << 20] {
            let two = analyse(
                FailsAfter {
                    data: &bytes,
                    left: at,
                },
                2,
                batch_bytes,
            );
            assert_eq!(two, one, "failing after {at} bytes");
        }
    }
}
