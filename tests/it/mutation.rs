//! Mutation: every fixture and corpus capture with 1-5 % of its bytes replaced by
//! seeded random values, through every output format. Whatever the bytes, trafficdoc
//! returns a documented exit code, never panics, prints JSON that parses, and stays
//! within bounded time and memory.
//!
//! A failure prints the file and the seed; replay one case with
//! `TRAFFICDOC_MUTATION_SEED=<seed> cargo test --test mutation`.

use crate::common::*;
use clap::Parser;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trafficdoc::cli::{self, Cli};

/// Mutated runs over all captures, split across the tests below.
const TOTAL_RUNS: usize = 2400;
/// One debug-build run of a mutated capture of at most 64 KB: generous, but a hang or
/// a quadratic blow-up shows.
const MAX_RUN: Duration = Duration::from_secs(10);

/// xorshift64*, seeded through splitmix64 so close seeds give unrelated streams.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes of the file header: kept intact in most runs so the mutations reach the
/// packets rather than stopping at "not a capture".
fn header_len(b: &[u8]) -> usize {
    if b.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) && b.len() >= 8 {
        let len = u32::from_le_bytes(b[4..8].try_into().unwrap()) as usize;
        len.min(b.len())
    } else {
        24.min(b.len())
    }
}

/// Replaces 1-5 % of the bytes (at least one); one run in eight may hit the header.
fn mutate(src: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut b = src.to_vec();
    let keep = if rng.below(8) == 0 {
        0
    } else {
        header_len(src)
    };
    let span = b.len().saturating_sub(keep);
    if span == 0 {
        return b;
    }
    let pct = 1 + rng.below(5);
    let n = (span * pct / 100).max(1);
    for _ in 0..n {
        let i = keep + rng.below(span);
        // Mostly random bytes; sometimes values that parsers treat specially.
        b[i] = match rng.below(6) {
            0 => 0,
            1 => 0xff,
            2 => b[i] ^ (1 << rng.below(8)),
            _ => rng.next() as u8,
        };
    }
    b
}

struct Outcome {
    code: u8,
    stdout: String,
    stderr: String,
}

/// `cli::run` in-process; a panic becomes a test failure naming the seed.
fn run_caught(args: &[&str], what: &str) -> Outcome {
    let mut argv = vec!["trafficdoc"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let r = catch_unwind(AssertUnwindSafe(|| cli::run(cli, &mut out, &mut err)));
    let code = match r {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => panic!("{what}: run failed: {e}"),
        Err(_) => panic!("{what}: PANIC (see the message above)"),
    };
    Outcome {
        code,
        stdout: String::from_utf8(out).unwrap_or_else(|_| panic!("{what}: stdout not UTF-8")),
        stderr: String::from_utf8(err).unwrap_or_else(|_| panic!("{what}: stderr not UTF-8")),
    }
}

/// Checks one mutated capture through every output format.
fn check_one(path: &Path, seed: u64, dir: &Path) {
    let src = std::fs::read(path).unwrap();
    let bytes = mutate(&src, seed);
    let file = dir.join(path.file_name().unwrap());
    std::fs::write(&file, &bytes).unwrap();
    let f = file.to_str().unwrap();
    for fmt in ["json", "table"] {
        let what = format!(
            "{} mutated with TRAFFICDOC_MUTATION_SEED={seed}, --format {fmt}",
            path.display()
        );
        let t0 = Instant::now();
        let o = run_caught(&["analyze", "--format", fmt, f], &what);
        let took = t0.elapsed();
        assert!(took < MAX_RUN, "{what}: took {took:?}");
        assert!(o.code <= 3, "{what}: undocumented exit {}", o.code);
        let lines = o.stderr.lines().count();
        match o.code {
            2 => assert_eq!(lines, 1, "{what}: exit 2 wants one line: {}", o.stderr),
            3 => assert!(
                o.stderr.contains("cut short in frame") && lines == 1,
                "{what}: exit 3 wants one warning: {}",
                o.stderr
            ),
            _ => assert!(!o.stderr.contains("cut short"), "{what}: {}", o.stderr),
        }
        if fmt == "json" {
            let v: serde_json::Value = serde_json::from_str(&o.stdout)
                .unwrap_or_else(|e| panic!("{what}: JSON does not parse: {e}"));
            assert_eq!(v["schema_version"], 1, "{what}");
            if o.code != 2 {
                assert_eq!(v["input"]["truncated"], o.code == 3, "{what}");
            }
        } else if o.code != 2 {
            assert!(!o.stdout.is_empty(), "{what}: empty table");
        }
    }
}

fn all_captures() -> Vec<PathBuf> {
    let mut v = fixture_captures();
    v.extend(corpus_captures());
    v
}

/// Runs this test's share of the mutated captures: `part` of `parts`.
fn run_share(part: usize, parts: usize) {
    let dir = tempfile::tempdir().unwrap();
    let caps = all_captures();
    assert!(caps.len() >= 20, "captures missing: {caps:?}");
    if let Ok(s) = std::env::var("TRAFFICDOC_MUTATION_SEED") {
        // Replay: one seed on every capture (the failing file is among them).
        let seed: u64 = s.parse().unwrap();
        if part == 0 {
            for c in &caps {
                check_one(c, seed, dir.path());
            }
        }
        return;
    }
    let per_file = TOTAL_RUNS / caps.len();
    let t0 = Instant::now();
    let mut runs = 0;
    for (i, c) in caps.iter().enumerate().filter(|(i, _)| i % parts == part) {
        // Big files cost more per run; give them fewer runs, small ones more.
        let size = std::fs::metadata(c).unwrap().len() as usize;
        let n = if size > 20_000 {
            per_file / 2
        } else {
            per_file * 3 / 2
        };
        for k in 0..n {
            let seed = ((i as u64) << 32) | k as u64;
            check_one(c, seed, dir.path());
            runs += 1;
        }
    }
    eprintln!(
        "mutation share {part}/{parts}: {runs} mutated captures in {:.1?}",
        t0.elapsed()
    );
    // Bounded memory: the process's peak stays far below what a leak or an unbounded
    // buffer on corrupt lengths would take.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        let hwm_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        assert!(hwm_kb < 1024 * 1024, "peak RSS {hwm_kb} kB");
    }
}

#[test]
fn mutated_captures_share_0() {
    run_share(0, 2);
}

#[test]
fn mutated_captures_share_1() {
    run_share(1, 2);
}

/// The real binary on a few mutated captures: no signal, documented exit code.
#[test]
fn mutated_captures_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    for (i, c) in all_captures().iter().enumerate() {
        let seed = 0xb1_0000 + i as u64;
        let bytes = mutate(&std::fs::read(c).unwrap(), seed);
        let f = dir.path().join(c.file_name().unwrap());
        std::fs::write(&f, &bytes).unwrap();
        for fmt in ["json", "table"] {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_trafficdoc"))
                .args(["analyze", "--format", fmt])
                .arg(&f)
                .output()
                .unwrap();
            let what = format!("{} seed {seed} --format {fmt}", c.display());
            let code = o.status.code();
            assert!(
                matches!(code, Some(0..=3)),
                "{what}: exit {code:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            if fmt == "json" {
                let _: serde_json::Value = serde_json::from_slice(&o.stdout)
                    .unwrap_or_else(|e| panic!("{what}: JSON does not parse: {e}"));
            }
        }
    }
}

#[test]
fn the_mutator_is_deterministic_and_changes_bytes() {
    let src = vec![7u8; 1000];
    assert_eq!(mutate(&src, 42), mutate(&src, 42));
    assert_ne!(mutate(&src, 42), mutate(&src, 43));
    let changed = mutate(&src, 42)
        .iter()
        .zip(&src)
        .filter(|(a, b)| a != b)
        .count();
    assert!((1..=60).contains(&changed), "{changed}");
}
