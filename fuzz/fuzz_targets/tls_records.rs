//! TLS records (handshake, alerts, certificates) fed in both directions in arbitrary
//! chunks to the TLS decoder.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::tls_records(data));
