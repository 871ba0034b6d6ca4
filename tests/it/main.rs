//! The integration tests, one binary (one link step in CI) with a module per concern.
//! Each module's doc says what it checks; `common` runs the real CLI path in memory,
//! `flood_gen` writes GENERATED floods, `targets` is the fuzz targets' bodies (replayed
//! on `tests/regressions/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod flood_gen;
#[path = "../../fuzz/targets.rs"]
mod targets;

mod cli;
mod compressed;
mod corpus;
mod damaged_input;
mod decoded_facts;
mod doctor_config;
mod doctor_lab;
mod fact_floods;
mod facts_past_bounds;
mod fixture_facts;
mod fixtures_diagnosis;
mod floods;
mod fuzz_regressions;
mod held_floods;
mod html;
mod install;
mod keylog;
mod live_capture;
mod mutation;
mod problems_only;
mod protocol_captures;
mod reassembly_props;
mod report_details;
mod rotated;
mod rules_reach;
mod rules_synthetic;
mod schema;
mod secrets;
mod spill;
mod store_roundtrip;
mod threads;
mod trust_synthetic;
mod tshark_decode_oracle;
mod tshark_oracle;
mod variants;
