//! Criterion micro-benchmarks of the hot path, on a GENERATED capture built in memory by
//! `examples/gen-capture.rs` (included here as a module): the pcap reader, link + IP
//! decoding of one frame, the flow table fed a stream of TCP segments, and the stream
//! decoder on a CONNECT + TLS 1.2 handshake with a certificate chain.
//!
//!     cargo bench --bench hot
//!
//! The whole-process benchmark against tcpdump and tshark is `scripts/bench`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../examples/gen-capture.rs"]
mod gen_capture;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::SocketAddr;
use trafficdoc::capture::{FileReader, LinkType};
use trafficdoc::decode::ip::{self, TcpSegment, Transport};
use trafficdoc::decode::link;
use trafficdoc::flow::table::{FlowTable, TableConfig};
use trafficdoc::model::{Dir, FrameNo, Timestamp};
use trafficdoc::protocols::DecodeCtx;

/// An 8 MiB GENERATED capture, seed 1.
fn capture() -> Vec<u8> {
    let mut v = Vec::with_capacity(9 << 20);
    gen_capture::generate(&mut v, 8 << 20, 1);
    v
}

/// Every frame of a capture with its timestamp, copied out of the reader.
fn frames(cap: &[u8]) -> Vec<(Timestamp, Vec<u8>)> {
    let mut r = FileReader::new("gen", cap).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        out.push((p.ts, p.data.to_vec()));
    }
    out
}

fn reader(c: &mut Criterion, cap: &[u8]) {
    let mut g = c.benchmark_group("capture");
    g.throughput(Throughput::Bytes(cap.len() as u64));
    g.bench_function("FileReader 8 MiB in memory", |b| {
        b.iter(|| {
            let mut r = FileReader::new("gen", black_box(cap)).unwrap();
            let mut n = 0u64;
            while let Some(p) = r.next_packet().unwrap() {
                n += p.data.len() as u64;
            }
            n
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion, frames: &[(Timestamp, Vec<u8>)]) {
    // A typical frame: a full-sized bulk TLS data segment.
    let frame = &frames.iter().find(|(_, f)| f.len() > 1400).unwrap().1;
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("link::strip + ip::parse, 1 bulk frame", |b| {
        b.iter(|| {
            let (_, l3) = link::strip(LinkType::ETHERNET, black_box(frame)).unwrap();
            match ip::parse(l3).unwrap().transport {
                Transport::Tcp(seg) => seg.payload.len(),
                _ => 0,
            }
        })
    });
    g.finish();
}

fn flow_table(c: &mut Criterion, frames: &[(Timestamp, Vec<u8>)]) {
    let segs: Vec<(
        SocketAddr,
        SocketAddr,
        TcpSegment<'_>,
        FrameNo,
        Timestamp,
        u32,
    )> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, (ts, f))| {
            let (_, l3) = link::strip(LinkType::ETHERNET, f).ok()?;
            let p = ip::parse(l3).ok()?;
            match p.transport {
                Transport::Tcp(seg) => Some((
                    SocketAddr::new(p.src, seg.src_port),
                    SocketAddr::new(p.dst, seg.dst_port),
                    seg,
                    FrameNo(i as u64 + 1),
                    *ts,
                    f.len() as u32,
                )),
                _ => None,
            }
        })
        .collect();
    let bytes: u64 = segs.iter().map(|s| u64::from(s.5)).sum();
    let mut g = c.benchmark_group("flows");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(20);
    g.bench_function(format!("FlowTable::tcp, {} segments", segs.len()), |b| {
        b.iter(|| {
            let mut t = FlowTable::new(TableConfig::default());
            for (src, dst, seg, frame, ts, len) in &segs {
                t.tcp(*src, *dst, seg, *frame, *ts, *len);
            }
            t.finish().0.listed.len()
        })
    });
    g.finish();
}

fn stream_decoder(c: &mut Criterion) {
    use gen_capture::*;
    let mut rng = Rng(7);
    // What reassembly hands the decoder: the CONNECT dialogue, then a TLS 1.2 handshake
    // with a 3-certificate chain, server flight in MSS-sized chunks.
    let mut chunks: Vec<(Dir, Vec<u8>)> = vec![
        (
            Dir::ToServer,
            connect_request("api.anthropic.com", "node", None),
        ),
        (Dir::ToClient, connect_ok(&mut rng)),
        (
            Dir::ToServer,
            client_hello(&mut rng, "api.anthropic.com", false),
        ),
    ];
    let flight = tls12_server_flight(&mut rng, &CERTS_INSPECTION, true);
    chunks.extend(flight.chunks(1448).map(|c| (Dir::ToClient, c.to_vec())));
    chunks.push((Dir::ToServer, record(21, 0x0303, &[2, 48])));
    let bytes: usize = chunks.iter().map(|c| c.1.len()).sum();
    let mut g = c.benchmark_group("protocols");
    g.throughput(Throughput::Bytes(bytes as u64));
    // One context for all rounds, as for all flows of an analysis: the chain is parsed
    // once, then shared.
    let mut cx = DecodeCtx::default();
    let decoders = cx.decoders();
    g.bench_function("StreamDecoder CONNECT + TLS 1.2 handshake", |b| {
        b.iter(|| {
            let mut d = decoders.stream(40000, 8080);
            for (i, (dir, data)) in chunks.iter().enumerate() {
                d.on_data(
                    &mut cx,
                    *dir,
                    data,
                    FrameNo(i as u64 + 4),
                    Timestamp(i as i64),
                );
            }
            let facts = d.finish();
            assert_eq!(facts.tls.as_ref().map(|t| t.certificates.len()), Some(3));
            facts
        })
    });
    g.finish();
}

fn hot(c: &mut Criterion) {
    let cap = capture();
    let frames = frames(&cap);
    reader(c, &cap);
    decode(c, &frames);
    flow_table(c, &frames);
    stream_decoder(c);
}

criterion_group!(benches, hot);
criterion_main!(benches);
