//! Replays every input under tests/regressions/<target>/ through the same code the
//! fuzz target runs (fuzz/targets.rs): inputs that once crashed trafficdoc, minimised
//! by `cargo fuzz tmin`, and hand-made edge cases of fixed bugs. A folder that is empty
//! (or missing) fails the test: every target keeps at least one guard.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../fuzz/targets.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn every_fuzz_regression_input_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut failures = Vec::new();
    let mut total = 0;
    for target in targets::TARGETS {
        let dir = root.join(target);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        inputs.sort();
        assert!(
            !inputs.is_empty(),
            "{}: no regression inputs: every fuzz target keeps at least one",
            dir.display()
        );
        for p in inputs {
            let data = std::fs::read(&p).unwrap();
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| targets::run(target, &data))).is_err() {
                failures.push(p.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "panicked on: {failures:#?}");
    eprintln!("{total} regression inputs replayed");
}
