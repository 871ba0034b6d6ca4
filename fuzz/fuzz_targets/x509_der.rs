//! Certificates: `x509::parse_der` on arbitrary DER.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::x509_der(data));
