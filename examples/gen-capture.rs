//! GENERATED-capture writer for benchmarks (not real traffic).
//!
//! Writes a deterministic (seeded) classic pcap of a corporate-proxy-like workload:
//! clients on 10.0.x.y opening connections to a proxy on 10.255.0.1:8080 — CONNECT,
//! a 200, then bulk bytes split at MSS 1448 — mixed with refused attempts (SYN → RST),
//! unanswered SYNs and connections reset mid-stream. Prints its ground truth.
//!
//!     cargo run --release --example gen-capture -- OUT.pcap SIZE_MIB [SEED]

// A benchmark tool, not library code: failing loudly on a bad argument is right here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufWriter, Write};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const MSS: usize = 1448;

struct Writer<W: Write> {
    out: W,
    ts_us: u64,
    frames: u64,
    bytes: u64,
}

impl<W: Write> Writer<W> {
    #[allow(clippy::too_many_arguments)]
    fn tcp(
        &mut self,
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let mut f = Vec::with_capacity(54 + payload.len());
        f.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        let total = (20 + 20 + payload.len()) as u16;
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        f.extend_from_slice(&src);
        f.extend_from_slice(&dst);
        f.extend_from_slice(&sport.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        self.ts_us += 37;
        let (s, us) = (self.ts_us / 1_000_000, self.ts_us % 1_000_000);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(1_700_000_000 + s as u32).to_le_bytes());
        h[4..8].copy_from_slice(&(us as u32).to_le_bytes());
        h[8..12].copy_from_slice(&(f.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(f.len() as u32).to_le_bytes());
        self.out.write_all(&h).unwrap();
        self.out.write_all(&f).unwrap();
        self.frames += 1;
        self.bytes += 16 + f.len() as u64;
    }
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;
const RST: u8 = 0x04;
const RST_ACK: u8 = 0x14;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen-capture OUT.pcap SIZE_MIB [SEED]");
        std::process::exit(2);
    }
    let target = args[2].parse::<u64>().expect("size in MiB") << 20;
    let seed = args
        .get(3)
        .map(|s| s.parse::<u64>().expect("seed"))
        .unwrap_or(1);
    let file = std::fs::File::create(&args[1]).expect("create output");
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        ts_us: 0,
        frames: 0,
        bytes: 24,
    };
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    hdr.extend_from_slice(&65535u32.to_le_bytes());
    hdr.extend_from_slice(&1u32.to_le_bytes());
    w.out.write_all(&hdr).unwrap();

    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let proxy = [10, 255, 0, 1];
    let bulk = vec![0x17u8; MSS];
    let (mut conns, mut sf, mut rej, mut s0, mut rstr, mut connects) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    while w.bytes < target {
        conns += 1;
        let client = [10, 0, (conns >> 8) as u8, conns as u8];
        let port = 20_000 + (conns % 40_000) as u16;
        let (mut c, mut s) = (rng.next() as u32, rng.next() as u32);
        w.tcp(client, port, proxy, 8080, c, 0, SYN, &[]);
        match rng.below(100) {
            0..=2 => {
                w.tcp(
                    proxy,
                    8080,
                    client,
                    port,
                    0,
                    c.wrapping_add(1),
                    RST_ACK,
                    &[],
                );
                rej += 1;
                continue;
            }
            3..=4 => {
                s0 += 1;
                continue;
            }
            _ => {}
        }
        c = c.wrapping_add(1);
        w.tcp(proxy, 8080, client, port, s, c, SYN | ACK, &[]);
        s = s.wrapping_add(1);
        w.tcp(client, port, proxy, 8080, c, s, ACK, &[]);
        let req = b"CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n";
        w.tcp(client, port, proxy, 8080, c, s, PSH_ACK, req);
        c = c.wrapping_add(req.len() as u32);
        connects += 1;
        let resp = b"HTTP/1.1 200 Connection established\r\n\r\n";
        w.tcp(proxy, 8080, client, port, s, c, PSH_ACK, resp);
        s = s.wrapping_add(resp.len() as u32);
        let segs = 4 + rng.below(200);
        for i in 0..segs {
            w.tcp(proxy, 8080, client, port, s, c, ACK, &bulk);
            s = s.wrapping_add(MSS as u32);
            if i % 2 == 1 {
                w.tcp(client, port, proxy, 8080, c, s, ACK, &[]);
            }
        }
        if rng.below(100) < 5 {
            w.tcp(proxy, 8080, client, port, s, c, RST, &[]);
            rstr += 1;
            continue;
        }
        w.tcp(client, port, proxy, 8080, c, s, FIN_ACK, &[]);
        w.tcp(
            proxy,
            8080,
            client,
            port,
            s,
            c.wrapping_add(1),
            FIN_ACK,
            &[],
        );
        w.tcp(
            client,
            port,
            proxy,
            8080,
            c.wrapping_add(1),
            s.wrapping_add(1),
            ACK,
            &[],
        );
        sf += 1;
    }
    w.out.flush().unwrap();
    println!(
        "generated: {} frames, {} bytes, {conns} TCP connections (SF {sf}, REJ {rej}, S0 {s0}, RSTR {rstr}), {connects} CONNECTs",
        w.frames, w.bytes
    );
}
