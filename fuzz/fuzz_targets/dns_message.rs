//! DNS messages: the parser, and the UDP tracker pairing queries and answers.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::dns_message(data));
