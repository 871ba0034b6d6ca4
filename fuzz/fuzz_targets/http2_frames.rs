//! HTTP/2 frames and HPACK header blocks, as decrypted TLS application data, fed in
//! both directions in arbitrary chunks (and lost records) to the HTTP/2 decoder.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::http2_frames(data));
