//! End to end: capture bytes → analyze_reader → JSON and table reports.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::end_to_end(data));
