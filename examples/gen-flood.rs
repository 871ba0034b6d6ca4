//! GENERATED flood captures (not real traffic) for `scripts/flood-bench`: writes one of
//! the floods of `tests/it/flood_gen` to a pcap file.
//!
//!     cargo run --release --example gen-flood -- OUT.pcap KIND FLOWS [PER_FLOW [SEGMENT]]
//!
//! KIND is `syn`, `holes`, `endless`, `pipelined`, `certs`, `auth407`, `dns`,
//! `late407`, `rejected`, `trickle`, `partial-heads`, `partial-tls`, `interfaces` or `linktypes`
//! (see tests/it/flood_gen/mod.rs; the last two write pcapng).

// A benchmark tool, not library code: failing loudly on a bad argument is right here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/flood_gen/mod.rs"]
mod flood_gen;

use flood_gen::{Flood, Kind, Spec};
use std::io::BufWriter;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!(
            "usage: gen-flood OUT.pcap syn|holes|endless|pipelined|certs|auth407|late407|dns|rejected|interfaces|linktypes|trickle|partial-heads|partial-tls FLOWS [PER_FLOW [SEGMENT]]"
        );
        std::process::exit(2);
    }
    let kind = Kind::parse(&a[2]).expect("kind: see the usage line");
    let num = |i: usize, d: u64| a.get(i).map_or(d, |s| s.parse().expect("a number"));
    let spec = Spec {
        kind,
        flows: num(3, 1),
        per_flow: num(4, 100),
        segment: num(5, 1000) as usize,
    };
    let mut flood = Flood::new(spec);
    let mut out = BufWriter::new(std::fs::File::create(&a[1]).expect("create output"));
    let bytes = std::io::copy(&mut flood, &mut out).expect("write");
    println!(
        "GENERATED {:?}: {} flows, {} packets, {} bytes",
        kind, spec.flows, flood.frames, bytes
    );
}
