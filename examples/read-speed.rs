//! Compares reading a capture file with libpcap (`pcap` crate) and with trafficdoc's
//! own streaming reader: packets and bytes touched, wall time. Used to choose the
//! offline reader.
//!
//!     cargo run --release --example read-speed -- FILE.pcap

// A benchmark tool, not library code: failing loudly on a bad argument is right here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: read-speed FILE");
    let size = std::fs::metadata(&path).expect("stat").len() as f64;
    for round in 0..3 {
        let t = Instant::now();
        let mut cap = pcap::Capture::from_file(&path).expect("libpcap open");
        let (mut n, mut sum) = (0u64, 0u64);
        while let Ok(p) = cap.next_packet() {
            n += 1;
            sum += u64::from(p.data.first().copied().unwrap_or(0)) + p.data.len() as u64;
        }
        let lib = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let f = std::fs::File::open(&path).expect("open");
        let mut r = trafficdoc::capture::FileReader::new(path.clone(), f).expect("reader");
        let (mut m, mut sum2) = (0u64, 0u64);
        while let Some(p) = r.next_packet().expect("read") {
            m += 1;
            sum2 += u64::from(p.data.first().copied().unwrap_or(0)) + p.data.len() as u64;
        }
        let own = t.elapsed().as_secs_f64();
        assert_eq!((n, sum), (m, sum2), "readers disagree");
        println!(
            "round {round}: {n} packets; libpcap {:.0} MB/s, trafficdoc reader {:.0} MB/s (ratio {:.2})",
            size / lib / 1e6,
            size / own / 1e6,
            lib / own
        );
    }
}
