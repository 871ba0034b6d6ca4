//! One frame per link type: the first byte picks the link type, the rest is the frame,
//! through `link::strip` and `ip::parse`.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::link_frame(data));
