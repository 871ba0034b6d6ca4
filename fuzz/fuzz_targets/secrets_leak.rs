//! Secrets never printed: fixed canary credentials (Basic, Bearer, API key, cookie,
//! Digest response, NTLM responses and session key) in corrupted proxy dialogues the
//! input builds around them, through the stream decoder and the whole pipeline; no
//! form of a canary may appear in the facts, the JSON report or the table.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::secrets_leak(data));
