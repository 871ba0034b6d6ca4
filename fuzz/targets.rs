//! The fuzz targets' bodies, shared by `cargo fuzz` (fuzz/fuzz_targets/*.rs) and by the
//! regression replay in `cargo test` (tests/fuzz_regressions.rs), so a crash input
//! replays through exactly the code that found it. Each function takes arbitrary bytes
//! and panics only on a broken invariant.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use trafficdoc::capture::{FileReader, LinkType};
use trafficdoc::decode::flows::TableConfig;
use trafficdoc::decode::tcp::{Limits, Reassembler, StreamSink};
use trafficdoc::decode::{ip, link};
use trafficdoc::model::{Dir, FrameNo, Timestamp};
use trafficdoc::pipeline;
use trafficdoc::protocols::dns::{self, DnsTracker};
use trafficdoc::protocols::http::{AuthHeader, parse_challenges, parse_credentials};
use trafficdoc::protocols::tls::TlsDecoder;
use trafficdoc::protocols::{StreamDecoder, ntlm, x509};
use trafficdoc::report::{self, Report};

/// Target names, as folders under tests/regressions/ and fuzz/corpus/.
pub const TARGETS: [&str; 9] = [
    "capture_reader",
    "link_frame",
    "tcp_reassembler",
    "http_dialogue",
    "auth_headers",
    "tls_records",
    "x509_der",
    "dns_message",
    "end_to_end",
];

/// Runs the named target on `data`.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "capture_reader" => capture_reader(data),
        "link_frame" => link_frame(data),
        "tcp_reassembler" => tcp_reassembler(data),
        "http_dialogue" => http_dialogue(data),
        "auth_headers" => auth_headers(data),
        "tls_records" => tls_records(data),
        "x509_der" => x509_der(data),
        "dns_message" => dns_message(data),
        "end_to_end" => end_to_end(data),
        _ => panic!("no fuzz target {target}"),
    }
}

/// The pcap/pcapng reader on arbitrary file bytes: every packet it returns lies inside
/// the input, and it stops (cleanly or with a truncation) instead of panicking.
pub fn capture_reader(data: &[u8]) {
    let Ok(mut r) = FileReader::new("fuzz", data) else {
        return;
    };
    let mut frames = 0u64;
    while let Ok(Some(p)) = r.next_packet() {
        frames += 1;
        assert_eq!(p.frame.0, frames);
        assert!(p.data.len() <= data.len());
        assert!(u64::from(p.orig_len) >= p.data.len() as u64);
    }
    assert!(r.bytes_read() <= data.len() as u64);
}

const LINKS: [LinkType; 10] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::RAW_12,
    LinkType::RAW_14,
    LinkType::RAW,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
];

/// One frame per link type: the first byte picks the link type, the rest is the frame,
/// through `link::strip` and `ip::parse`.
pub fn link_frame(data: &[u8]) {
    let Some((&pick, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(pick) % LINKS.len()];
    if let Ok((_, l3)) = link::strip(link, frame) {
        assert!(l3.len() <= frame.len());
        let _ = ip::parse(l3);
    }
    // Straight into the IP parser as well (raw IP links).
    let _ = ip::parse(frame);
}

fn pattern(off: u64) -> u8 {
    (off.wrapping_mul(31).wrapping_add(off >> 8) ^ 0x5a) as u8
}

struct Check {
    pos: u64,
}

impl StreamSink for Check {
    fn data(&mut self, bytes: &[u8], _frame: FrameNo, _ts: Timestamp) {
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(
                *b,
                pattern(self.pos + i as u64),
                "byte at {}",
                self.pos + i as u64
            );
        }
        self.pos += bytes.len() as u64;
    }
    fn gap(&mut self, len: u64) {
        self.pos += len;
    }
    fn wants_data(&self) -> bool {
        true
    }
}

/// The TCP reassembler on arbitrary segment sequences with small caps. Every segment
/// carries the bytes of one fixed pattern at its sequence offset, so whatever order,
/// overlap or loss, each delivered byte must be the pattern's byte at its offset.
pub fn tcp_reassembler(data: &[u8]) {
    if data.len() < 6 {
        return;
    }
    let isn = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let limits = Limits {
        max_buffered_bytes: 1 + usize::from(data[4]) * 16,
        max_buffered_segments: 1 + usize::from(data[5] % 16),
    };
    let mut r = Reassembler::default();
    let mut sink = Check { pos: 0 };
    // The SYN fixes the stream start first: the pattern's offsets are relative to it.
    // (The first fuzz run "found" that an empty segment before the SYN picks the
    // stream up mid-way at its own sequence number, which is right, and the check's
    // offsets were then wrong: tests/regressions/tcp_reassembler/empty-segment-before-syn.)
    r.on_syn(isn);
    // Each op: 4 bytes: kind/len, offset (2 bytes), extra.
    for (i, op) in data[6..].chunks_exact(4).enumerate() {
        let frame = FrameNo(i as u64 + 1);
        let ts = Timestamp(i as i64);
        let off = u64::from(u16::from_le_bytes([op[1], op[2]]));
        let seq = isn.wrapping_add(1).wrapping_add(off as u32);
        match op[0] % 8 {
            // A retransmitted SYN.
            0 => r.on_syn(isn),
            1 => r.acked(seq, &mut sink),
            2 => r.empty_segment(seq),
            _ => {
                let len = u64::from(op[3]) + 1;
                let payload: Vec<u8> = (0..len).map(|k| pattern(off + k)).collect();
                // Sometimes the snap length cut the tail.
                let captured = if op[0] & 0x80 != 0 {
                    &payload[..payload.len() / 2]
                } else {
                    &payload[..]
                };
                r.segment(seq, captured, len as u32, frame, ts, &limits, &mut sink);
            }
        }
        assert!(
            r.buffered() <= limits.max_buffered_bytes + 256,
            "held {}",
            r.buffered()
        );
    }
    r.finish(&mut sink);
}

/// The HTTP proxy dialogue (and whatever the stream decoder sniffs: TLS, SOCKS, DNS
/// over TCP, tunnels) fed arbitrary chunks in both directions, gaps included.
pub fn http_dialogue(data: &[u8]) {
    let Some((&ports, mut rest)) = data.split_first() else {
        return;
    };
    let server_port = [8080u16, 3128, 443, 1080, 53, 80, 8443, 9999][usize::from(ports % 8)];
    let mut d = StreamDecoder::new(40000, server_port);
    let mut frame = 0u64;
    // Chunks: one control byte (direction, gap flag, length), then the bytes.
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let len = usize::from(ctl >> 2) * 4 + 1;
        if ctl & 2 != 0 && ctl & 0x40 != 0 {
            d.on_gap(dir, len as u64);
            rest = tail;
            continue;
        }
        let (chunk, next) = tail.split_at(len.min(tail.len()));
        frame += 1;
        if d.wants_data(dir) {
            d.on_data(dir, chunk, FrameNo(frame), Timestamp(frame as i64 * 1000));
        }
        rest = next;
    }
    let facts = d.finish();
    let _ = trafficdoc::protocols::summary(&facts);
    let _ = format!("{facts:?}");
}

/// Authentication headers: Basic, Digest, NTLM type 1/2/3, Negotiate/SPNEGO, bearer,
/// through `parse_challenges`, `parse_credentials` and the NTLM parser.
pub fn auth_headers(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let header = [
        AuthHeader::ProxyAuthenticate,
        AuthHeader::WwwAuthenticate,
        AuthHeader::ProxyAuthorization,
        AuthHeader::Authorization,
    ][usize::from(pick % 4)];
    let value = String::from_utf8_lossy(rest);
    let challenges = parse_challenges(header, &value);
    let _ = format!("{challenges:?}");
    let creds = parse_credentials(header, &value);
    let _ = format!("{creds:?}");
    if let Ok(m) = ntlm::parse(rest) {
        let _ = format!("{m:?}");
    }
    if let Some(inner) = ntlm::find_in_spnego(rest) {
        let _ = ntlm::parse(inner);
    }
    let _ = ntlm::spnego_mentions_kerberos(rest);
}

/// TLS records (handshake, alerts, certificates) fed in both directions in arbitrary
/// chunks to the TLS decoder.
pub fn tls_records(data: &[u8]) {
    let mut d = TlsDecoder::new();
    let mut rest = data;
    let mut frame = 0u64;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 1 == 0 {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let len = usize::from(ctl >> 1) * 8 + 1;
        let (chunk, next) = tail.split_at(len.min(tail.len()));
        frame += 1;
        if d.wants_data(dir) {
            d.on_data(dir, chunk, FrameNo(frame), Timestamp(frame as i64));
        }
        rest = next;
    }
    let (facts, notes) = d.finish();
    let _ = format!("{facts:?} {notes:?}");
}

/// Certificates: `x509::parse_der` on arbitrary DER.
pub fn x509_der(data: &[u8]) {
    if let Ok(info) = x509::parse_der(data) {
        let _ = format!("{info:?}");
    }
}

/// DNS messages: the parser, and the UDP tracker pairing queries and answers.
pub fn dns_message(data: &[u8]) {
    let _ = dns::parse(data);
    let mut t = DnsTracker::new();
    let c = "10.0.0.2:40000".parse().unwrap();
    let s = "10.0.0.1:53".parse().unwrap();
    // The same bytes as a query, then halves as answer and query.
    t.on_datagram(c, s, Dir::ToServer, data, FrameNo(1), Timestamp(1));
    let (a, b) = data.split_at(data.len() / 2);
    t.on_datagram(c, s, Dir::ToClient, a, FrameNo(2), Timestamp(2));
    t.on_datagram(c, s, Dir::ToClient, b, FrameNo(3), Timestamp(3));
    let _ = format!("{:?}", t.finish());
}

/// End to end: capture bytes → analyze_reader → JSON and table reports.
pub fn end_to_end(data: &[u8]) {
    // Small caps, so they are reached.
    let cfg = TableConfig {
        limits: Limits {
            max_buffered_bytes: 4096,
            max_buffered_segments: 16,
        },
        max_total_buffered: 16 * 1024,
        max_flows: 8,
        max_records: 16,
        ..TableConfig::default()
    };
    let Ok(c) = pipeline::analyze_reader("fuzz", data, cfg, &mut |_| {}) else {
        return;
    };
    let captures = [c];
    // The rules see every capture too: they must not panic on what the decoders made
    // of arbitrary bytes.
    let acfg = trafficdoc::analyze::Config::default();
    let findings = trafficdoc::analyze::analyze(&captures, &acfg);
    let summary = trafficdoc::analyze::summary::summarize(&captures, &findings, &acfg);
    let r = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    let j = report::json::build(&r);
    let text = serde_json::to_string_pretty(&j).unwrap();
    let _: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    report::table::write(&r, &mut out, Some(100)).unwrap();
}
