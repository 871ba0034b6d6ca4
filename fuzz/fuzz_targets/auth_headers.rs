//! Authentication headers: Basic, Digest, NTLM type 1/2/3, Negotiate/SPNEGO, bearer,
//! through `parse_challenges`, `parse_credentials` and the NTLM parser.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../targets.rs"]
mod targets;

fuzz_target!(|data: &[u8]| targets::auth_headers(data));
