//! The HTTP proxy dialogue (and whatever the stream decoder sniffs: TLS, SOCKS, DNS
//! over TCP, tunnels) fed arbitrary chunks in both directions, gaps included.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::http_dialogue(data));
