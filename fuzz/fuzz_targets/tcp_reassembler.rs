//! The TCP reassembler on arbitrary segment sequences with small caps. Every segment
//! carries the bytes of one fixed pattern at its sequence offset, so whatever order,
//! overlap or loss, each delivered byte must be the pattern's byte at its offset.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::tcp_reassembler(data));
