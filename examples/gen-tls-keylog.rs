//! Writes a GENERATED capture of TLS 1.3 connections (AES-128-GCM) whose secrets are
//! in a key log beside it, for measuring `trafficdoc analyze --keylog` (not real
//! traffic): each connection is a GET answered 200 with a large body in 16 KiB records,
//! over HTTP/1.1, or with `h2` over HTTP/2 (ALPN h2; 64 streams per connection, each
//! answered by a 128 KiB body in DATA frames, the authority in the header table).
//!
//! `cargo run --release --example gen-tls-keylog -- OUT.pcap MIB [h2]` writes OUT.pcap
//! and OUT.keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ring::{aead, hkdf};
use std::io::Write;

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand_label(secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    let l = (len as u16).to_be_bytes();
    let ll = [(6 + label.len()) as u8];
    let info: [&[u8]; 5] = [&l, &ll, b"tls13 ", label, &[0]];
    let mut out = vec![0; len];
    prk.expand(&info, Len(len)).unwrap().fill(&mut out).unwrap();
    out
}

/// Seals TLS 1.3 records with the keys of one traffic secret.
struct Sealer {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Sealer {
    fn new(secret: &[u8]) -> Self {
        let key = expand_label(secret, b"key", 16);
        let iv = expand_label(secret, b"iv", 12);
        Sealer {
            key: aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_128_GCM, &key).unwrap()),
            iv: iv.try_into().unwrap(),
            seq: 0,
        }
    }

    fn seal(&mut self, ct: u8, plain: &[u8]) -> Vec<u8> {
        let mut nonce = self.iv;
        for (b, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *b ^= s;
        }
        self.seq += 1;
        let mut buf = plain.to_vec();
        buf.push(ct);
        let len = (buf.len() + 16) as u16;
        let aad = [23, 3, 3, (len >> 8) as u8, len as u8];
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(&aad),
                &mut buf,
            )
            .unwrap();
        record(23, &buf)
    }
}

fn h2_frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([ty, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// An HTTP/2 connection's records: 64 GETs, each answered 200 with `body / 64` bytes
/// in DATA frames filling 16 KiB records.
fn h2_conversation(client: &mut Sealer, server: &mut Sealer, body: usize) -> (Vec<u8>, Vec<u8>) {
    let streams = 64;
    let mut c = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    c.extend(h2_frame(4, 0, 0, &[]));
    let mut s = server.seal(23, &h2_frame(4, 0, 0, &[]));
    let data = vec![0x61u8; 16 * 1024 - 1 - 9 - 16];
    for i in 0..streams {
        let id = 1 + 2 * i;
        // GET https, path /, then the authority: added to the table by the first
        // stream (literal with incremental indexing), its index (62) after.
        let mut block = vec![0x82, 0x87, 0x84];
        if i == 0 {
            block.push(0x41);
            block.push(11);
            block.extend(b"api.example");
        } else {
            block.push(0xbe);
        }
        c.extend(h2_frame(1, 0x5, id, &block));
        s.extend(server.seal(23, &h2_frame(1, 0x4, id, &[0x88])));
        let mut left = body / streams as usize;
        while left > 0 {
            let n = left.min(data.len());
            left -= n;
            let end = if left == 0 { 1 } else { 0 };
            s.extend(server.seal(23, &h2_frame(0, end, id, &data[..n])));
        }
    }
    (client.seal(23, &c), s)
}

fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct, 3, 3];
    r.extend((body.len() as u16).to_be_bytes());
    r.extend(body);
    r
}

fn hs(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend(body);
    m
}

fn client_hello(random: &[u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend(random);
    b.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
    let exts = [0x00, 0x2b, 0, 3, 2, 3, 4];
    b.extend((exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, &hs(1, &b))
}

fn server_hello() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend([9; 32]);
    b.extend([0, 0x13, 0x01, 0]);
    let exts = [0x00, 0x2b, 0, 2, 3, 4];
    b.extend((exts.len() as u16).to_be_bytes());
    b.extend(exts);
    record(22, &hs(2, &b))
}

/// Raw-IPv4 pcap writer with one TCP connection's sequence numbers per side.
struct Pcap<W: Write> {
    out: W,
    ts: u32,
    bytes: u64,
}

/// One direction of a connection: addresses and ports, from the sender.
#[derive(Clone, Copy)]
struct Path {
    src: [u8; 4],
    dst: [u8; 4],
    ports: (u16, u16),
}

impl<W: Write> Pcap<W> {
    fn packet(&mut self, path: Path, (seq, ack): (u32, u32), flags: u8, data: &[u8]) {
        let Path { src, dst, ports } = path;
        let mut p = vec![0x45, 0];
        p.extend(((40 + data.len()) as u16).to_be_bytes());
        p.extend([0, 0, 0x40, 0, 64, 6, 0, 0]);
        p.extend(src);
        p.extend(dst);
        p.extend(ports.0.to_be_bytes());
        p.extend(ports.1.to_be_bytes());
        p.extend(seq.to_be_bytes());
        p.extend(ack.to_be_bytes());
        p.extend([0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend(data);
        self.ts += 10;
        let h = [0u32, self.ts, p.len() as u32, p.len() as u32];
        for v in h {
            self.out.write_all(&v.to_le_bytes()).unwrap();
        }
        self.out.write_all(&p).unwrap();
        self.bytes += 16 + p.len() as u64;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).expect("OUT.pcap");
    let mib: u64 = args.get(2).map_or(100, |s| s.parse().unwrap());
    let h2 = args.get(3).is_some_and(|a| a == "h2");
    let keys_path = std::path::Path::new(out).with_extension("keys");
    let mut keys = std::fs::File::create(&keys_path).unwrap();
    let f = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let mut pcap = Pcap {
        out: f,
        ts: 0,
        bytes: 24,
    };
    pcap.out
        .write_all(&[
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0,
            0, 0,
        ])
        .unwrap();
    let body_per_conn = 8usize << 20;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut conn = 0u32;
    while pcap.bytes < mib << 20 {
        conn += 1;
        let mut random = [0u8; 32];
        random[..4].copy_from_slice(&conn.to_be_bytes());
        let secret = |n: u8| {
            let mut s = [n; 32];
            s[..4].copy_from_slice(&conn.to_be_bytes());
            s
        };
        for (label, n) in [
            ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
            ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
            ("CLIENT_TRAFFIC_SECRET_0", 3),
            ("SERVER_TRAFFIC_SECRET_0", 4),
        ] {
            writeln!(keys, "{label} {} {}", hex(&random), hex(&secret(n))).unwrap();
        }
        let (c, s) = ([10, 0, (conn >> 8) as u8, conn as u8], [10, 1, 0, 1]);
        let cport = 40000 + (conn % 20000) as u16;
        let up = Path {
            src: c,
            dst: s,
            ports: (cport, 443),
        };
        let down = Path {
            src: s,
            dst: c,
            ports: (443, cport),
        };
        let (mut cseq, mut sseq) = (1000u32, 5000u32);
        pcap.packet(up, (cseq, 0), 0x02, &[]);
        pcap.packet(down, (sseq, cseq + 1), 0x12, &[]);
        cseq += 1;
        sseq += 1;
        let mut send = |pcap: &mut Pcap<_>, to_server: bool, bytes: &[u8]| {
            for chunk in bytes.chunks(1460) {
                if to_server {
                    pcap.packet(up, (cseq, sseq), 0x18, chunk);
                    cseq = cseq.wrapping_add(chunk.len() as u32);
                } else {
                    pcap.packet(down, (sseq, cseq), 0x18, chunk);
                    sseq = sseq.wrapping_add(chunk.len() as u32);
                }
            }
        };
        send(&mut pcap, true, &client_hello(&random));
        let mut shs = Sealer::new(&secret(2));
        let mut flight = server_hello();
        flight.extend(record(20, &[1]));
        // EncryptedExtensions, with ALPN h2 when asked.
        let mut msgs = if h2 {
            hs(8, &[0, 9, 0, 0x10, 0, 5, 0, 3, 2, b'h', b'2'])
        } else {
            hs(8, &[0, 0])
        };
        msgs.extend(hs(20, &[0x5a; 32]));
        flight.extend(shs.seal(22, &msgs));
        send(&mut pcap, false, &flight);
        let mut chs = Sealer::new(&secret(1));
        let mut cap_ = Sealer::new(&secret(3));
        let mut client = record(20, &[1]);
        client.extend(chs.seal(22, &hs(20, &[0x6b; 32])));
        let mut sap = Sealer::new(&secret(4));
        if h2 {
            let (c, s) = h2_conversation(&mut cap_, &mut sap, body_per_conn);
            client.extend(c);
            send(&mut pcap, true, &client);
            send(&mut pcap, false, &s);
        } else {
            client.extend(cap_.seal(23, b"GET /big HTTP/1.1\r\nHost: api.example\r\n\r\n"));
            send(&mut pcap, true, &client);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {body_per_conn}\r\n\r\n");
            let mut answer = sap.seal(23, head.as_bytes());
            let chunk = vec![0x61u8; 16 * 1024];
            let mut left = body_per_conn;
            while left > 0 {
                let n = left.min(chunk.len());
                answer.extend(sap.seal(23, &chunk[..n]));
                left -= n;
            }
            send(&mut pcap, false, &answer);
        }
        pcap.packet(up, (cseq, sseq), 0x11, &[]);
        pcap.packet(down, (sseq, cseq + 1), 0x11, &[]);
    }
    pcap.out.flush().unwrap();
    eprintln!(
        "gen-tls-keylog: wrote GENERATED {out} ({} bytes, {conn} TLS 1.3 connections) and {}",
        pcap.bytes,
        keys_path.display()
    );
}
