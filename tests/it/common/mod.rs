//! Helpers shared by the integration tests: run the real CLI path in memory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use clap::Parser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trafficdoc::cli::{self, Cli};

/// `../shared/corpus`, beside the checkout.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// A capture in `fixtures/captures`.
pub fn fixture_file(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/captures")
        .join(name);
    assert!(p.exists(), "fixture missing: {}", p.display());
    p
}

pub fn corpus_file(rel: &str) -> PathBuf {
    let p = corpus().join(rel);
    assert!(p.exists(), "corpus capture missing: {}", p.display());
    p
}

pub struct Run {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `trafficdoc <args>` in-process and captures its output.
pub fn run(args: &[&str]) -> Run {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = cli::run(cli, &mut out, &mut err).expect("run");
    Run {
        code,
        stdout: String::from_utf8(out).expect("utf-8 stdout"),
        stderr: String::from_utf8(err).expect("utf-8 stderr"),
    }
}

/// `trafficdoc analyze --format json FILE` parsed.
pub fn analyze_json(path: &Path) -> Value {
    let p = path.to_str().expect("utf-8 path");
    let r = run(&["analyze", "--format", "json", p]);
    assert!(
        r.code == 0 || r.code == 1 || r.code == 3,
        "exit {} for {p}: {}",
        r.code,
        r.stderr
    );
    serde_json::from_str(&r.stdout).expect("valid JSON report")
}

/// Capture files under `dir`, recursively, sorted: `.pcap`, `.pcapng`, and the
/// `.pcap0`, `.pcap1`... that tcpdump's file rotation (`-C`, `-W`) names them.
pub fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read capture dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(is_capture_ext)
            {
                v.push(p);
            }
        }
    }
    v.sort();
    v
}

fn is_capture_ext(x: &str) -> bool {
    x == "pcapng"
        || x.strip_prefix("pcap")
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
}

/// The `known_decoder_gap` of a fixture capture's expected file: what the decoders
/// miss on it today (the facts tests then report the difference instead of failing).
pub fn known_decoder_gap(capture: &Path) -> Option<String> {
    let mut name = capture.as_os_str().to_owned();
    name.push(".expected.json");
    let text = std::fs::read_to_string(PathBuf::from(name)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["known_decoder_gap"].as_str().map(str::to_string)
}

/// Every capture file in the shared corpus (not the expected-output files).
pub fn corpus_captures() -> Vec<PathBuf> {
    captures_under(&corpus())
}

/// Every capture in fixtures/captures.
pub fn fixture_captures() -> Vec<PathBuf> {
    captures_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures"))
}

/// Every fixture capture, then every corpus capture.
pub fn all_captures() -> Vec<PathBuf> {
    let mut v = fixture_captures();
    let corpus = corpus_captures();
    assert!(!corpus.is_empty(), "no capture in ../shared/corpus");
    v.extend(corpus);
    assert!(v.len() > 40, "{} captures", v.len());
    v
}

/// The library's analysis of one capture file, as `analyze` reads it.
pub fn analyze_file(
    path: &Path,
    cfg: trafficdoc::flow::table::TableConfig,
) -> Result<trafficdoc::pipeline::CaptureAnalysis, trafficdoc::capture::CaptureError> {
    let file = std::fs::File::open(path).expect("open capture");
    trafficdoc::pipeline::analyze_reader_with(
        &path.to_string_lossy(),
        std::io::BufReader::new(file),
        cfg,
        trafficdoc::pipeline::ReadOptions::default(),
        &mut |_| {},
    )
}

/// Flows of a JSON report.
pub fn flows(v: &Value) -> &Vec<Value> {
    v["flows"].as_array().expect("flows array")
}

pub mod synth;

/// A generated pcapng: section header, one interface of link type `link`, one packet.
pub fn pcapng_with_link(link: u16) -> Vec<u8> {
    let mut f = Vec::new();
    let block = |f: &mut Vec<u8>, ty: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        f.extend_from_slice(&ty.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(body);
        f.extend_from_slice(&len.to_le_bytes());
    };
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&link.to_le_bytes());
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&65535u32.to_le_bytes());
    block(&mut f, 1, &idb);
    let mut epb = Vec::new();
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&[0; 8]);
    epb.extend_from_slice(&8u32.to_le_bytes());
    epb.extend_from_slice(&8u32.to_le_bytes());
    epb.extend_from_slice(&[0xab; 8]);
    block(&mut f, 6, &epb);
    f
}
