//! The pcap/pcapng reader on arbitrary file bytes: every packet it returns lies inside
//! the input, and it stops (cleanly or with a truncation) instead of panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::capture_reader(data));
