//! Test-only: a tiny pcap/pcapng reader and naive TCP reassembly that drive
//! `StreamDecoder` over the real captures in `/work/shared/corpus`.
//!
//! Deliberately minimal (no IP fragments, no tunnels, in-order delivery with simple
//! retransmit trimming); the pipeline's real reader lives elsewhere. Tests using it
//! skip themselves when the corpus is not present.
#![allow(clippy::type_complexity)]

use super::{AppFacts, StreamDecoder};
use crate::model::{Dir, FrameNo, Timestamp};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

pub(crate) struct Packet {
    pub frame: u64,
    pub ts: Timestamp,
    pub linktype: u32,
    pub data: Vec<u8>,
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn read(path: &str) -> Option<Vec<Packet>> {
    let b = std::fs::read(path).ok()?;
    // The helper itself may trip over odd files; that is not what the tests check.
    std::panic::catch_unwind(|| read_bytes(&b)).ok().flatten()
}

fn read_bytes(b: &[u8]) -> Option<Vec<Packet>> {
    let b = b.to_vec();
    let mut out = Vec::new();
    let magic = u32le(&b, 0);
    if magic == 0x0A0D0D0A {
        let mut links = Vec::new();
        let mut off = 0;
        let mut frame = 0;
        while off + 12 <= b.len() {
            let t = u32le(&b, off);
            let len = u32le(&b, off + 4) as usize;
            let body = &b[off + 8..off + len - 4];
            match t {
                1 => links.push(u16le(body, 0) as u32),
                6 => {
                    frame += 1;
                    let iface = u32le(body, 0) as usize;
                    let ts = ((u32le(body, 4) as u64) << 32) | u32le(body, 8) as u64;
                    let cap = u32le(body, 12) as usize;
                    out.push(Packet {
                        frame,
                        ts: Timestamp((ts as i64).saturating_mul(1000)),
                        linktype: links[iface],
                        data: body[20..20 + cap].to_vec(),
                    });
                }
                _ => {}
            }
            off += len;
        }
    } else {
        let nanos = magic == 0xa1b23c4d;
        let linktype = u32le(&b, 20);
        let mut off = 24;
        let mut frame = 0;
        while off + 16 <= b.len() {
            let cap = u32le(&b, off + 8) as usize;
            let sub = u32le(&b, off + 4) as i64;
            let ts =
                Timestamp::from_parts(u32le(&b, off) as i64, if nanos { sub } else { sub * 1000 });
            frame += 1;
            out.push(Packet {
                frame,
                ts,
                linktype,
                data: b[off + 16..(off + 16 + cap).min(b.len())].to_vec(),
            });
            off += 16 + cap;
        }
    }
    Some(out)
}

struct Seg {
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    syn: bool,
    ack: bool,
    payload: Vec<u8>,
}

fn ip_payload(linktype: u32, d: &[u8]) -> Option<&[u8]> {
    match linktype {
        1 => {
            let mut off = 12;
            let mut et = be16(d, off);
            while et == 0x8100 {
                off += 4;
                et = be16(d, off);
            }
            Some(&d[off + 2..])
        }
        0 => Some(&d[4..]),
        101 | 228 | 229 => Some(d),
        113 => Some(&d[16..]),
        276 => Some(&d[20..]),
        _ => None,
    }
}

fn tcp(linktype: u32, d: &[u8]) -> Option<Seg> {
    let ip = ip_payload(linktype, d)?;
    let (src, dst, proto, l4) = match ip.first()? >> 4 {
        4 => {
            let ihl = (ip[0] & 0xf) as usize * 4;
            let total = be16(ip, 2) as usize;
            let s: [u8; 4] = ip[12..16].try_into().ok()?;
            let t: [u8; 4] = ip[16..20].try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(t),
                ip[9],
                ip.get(
                    ihl..if total < ihl {
                        ip.len()
                    } else {
                        total.min(ip.len())
                    },
                )?,
            )
        }
        6 => {
            let plen = be16(ip, 4) as usize;
            let s: [u8; 16] = ip[8..24].try_into().ok()?;
            let t: [u8; 16] = ip[24..40].try_into().ok()?;
            (
                IpAddr::from(s),
                IpAddr::from(t),
                ip[6],
                &ip[40..(40 + plen).min(ip.len())],
            )
        }
        _ => return None,
    };
    if proto != 6 || l4.len() < 20 {
        return None;
    }
    let doff = (l4[12] >> 4) as usize * 4;
    Some(Seg {
        src: (src, be16(l4, 0)),
        dst: (dst, be16(l4, 2)),
        seq: be32(l4, 4),
        syn: l4[13] & 0x02 != 0,
        ack: l4[13] & 0x10 != 0,
        payload: l4.get(doff..)?.to_vec(),
    })
}

/// UDP port-53 datagrams fed to a `DnsTracker` (client = the side not on port 53).
pub(crate) fn decode_udp_dns(path: &str) -> Option<Vec<super::dns::DnsTransaction>> {
    let mut t = super::dns::DnsTracker::new();
    for p in read(path)? {
        let parsed = std::panic::catch_unwind(|| {
            let ip = ip_payload(p.linktype, &p.data)?;
            let (src, dst, proto, l4): (IpAddr, IpAddr, u8, &[u8]) = match ip.first()? >> 4 {
                4 => {
                    let ihl = (ip[0] & 0xf) as usize * 4;
                    let s: [u8; 4] = ip[12..16].try_into().ok()?;
                    let d: [u8; 4] = ip[16..20].try_into().ok()?;
                    (s.into(), d.into(), ip[9], ip.get(ihl..)?)
                }
                6 => {
                    let s: [u8; 16] = ip[8..24].try_into().ok()?;
                    let d: [u8; 16] = ip[24..40].try_into().ok()?;
                    (s.into(), d.into(), ip[6], ip.get(40..)?)
                }
                _ => return None,
            };
            if proto != 17 {
                return None;
            }
            let (sp, dp) = (be16(l4, 0), be16(l4, 2));
            let len = (be16(l4, 4) as usize).min(l4.len());
            Some((src, sp, dst, dp, l4.get(8..len)?.to_vec()))
        })
        .ok()
        .flatten();
        let Some((src, sp, dst, dp, payload)) = parsed else {
            continue;
        };
        let (a, b) = ((src, sp).into(), (dst, dp).into());
        if dp == 53 {
            t.on_datagram(a, b, Dir::ToServer, &payload, FrameNo(p.frame), p.ts);
        } else if sp == 53 {
            t.on_datagram(b, a, Dir::ToClient, &payload, FrameNo(p.frame), p.ts);
        }
    }
    Some(t.finish())
}

struct Conn {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    next: [Option<u32>; 2],
    ooo: [BTreeMap<u32, (Vec<u8>, FrameNo, Timestamp)>; 2],
    dec: StreamDecoder,
}

/// Facts per TCP connection, in order of first packet, keyed by (client, server).
pub(crate) fn decode(path: &str) -> Option<Vec<((IpAddr, u16), (IpAddr, u16), AppFacts)>> {
    let pkts = read(path)?;
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: HashMap<((IpAddr, u16), (IpAddr, u16)), usize> = HashMap::new();
    for p in pkts {
        let Some(s) = std::panic::catch_unwind(|| tcp(p.linktype, &p.data))
            .ok()
            .flatten()
        else {
            continue;
        };
        let key = if s.src < s.dst {
            (s.src, s.dst)
        } else {
            (s.dst, s.src)
        };
        let i = *index.entry(key).or_insert_with(|| {
            let client = if s.syn && s.ack { s.dst } else { s.src };
            let server = if client == s.src { s.dst } else { s.src };
            conns.push(Conn {
                client,
                server,
                next: [None, None],
                ooo: [BTreeMap::new(), BTreeMap::new()],
                dec: StreamDecoder::new(client.1, server.1),
            });
            conns.len() - 1
        });
        let c = &mut conns[i];
        let dir = if s.src == c.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let d = dir.index();
        if s.syn {
            c.next[d] = Some(s.seq.wrapping_add(1));
            continue;
        }
        if s.payload.is_empty() {
            continue;
        }
        let next = *c.next[d].get_or_insert(s.seq);
        let rel = s.seq.wrapping_sub(next) as i32;
        if rel > 0 {
            c.ooo[d].insert(s.seq, (s.payload, FrameNo(p.frame), p.ts));
            continue;
        }
        let skip = (-rel) as usize;
        let mut pending = vec![(skip, s.payload, FrameNo(p.frame), p.ts)];
        while let Some((skip, bytes, f, ts)) = pending.pop() {
            if skip < bytes.len() {
                c.dec.on_data(dir, &bytes[skip..], f, ts);
                let n = c.next[d]
                    .unwrap_or(0)
                    .wrapping_add((bytes.len() - skip) as u32);
                c.next[d] = Some(n);
            }
            let n = c.next[d].unwrap_or(0);
            let ready: Vec<u32> = c.ooo[d]
                .keys()
                .copied()
                .filter(|k| (k.wrapping_sub(n) as i32) <= 0)
                .collect();
            for k in ready {
                if let Some((b, f, ts)) = c.ooo[d].remove(&k) {
                    pending.push(((n.wrapping_sub(k)) as usize, b, f, ts));
                }
            }
        }
    }
    Some(
        conns
            .into_iter()
            .map(|c| (c.client, c.server, c.dec.finish()))
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod corpus_tests {
    use super::*;
    use crate::report::prose::summary;

    const CORPUS: &str = "/work/shared/corpus";

    fn facts(rel: &str) -> Option<Vec<((IpAddr, u16), (IpAddr, u16), AppFacts)>> {
        let r = decode(&format!("{CORPUS}/{rel}"));
        if r.is_none() {
            eprintln!("corpus file {rel} not present; skipped");
        }
        r
    }

    fn tls_flows(rel: &str) -> Vec<(u16, crate::protocols::tls::TlsFacts)> {
        facts(rel)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(c, _, f)| f.tls.map(|t| (c.1, *t)))
            .collect()
    }

    #[test]
    fn corpus_ja4_browsers_x509() {
        let flows = tls_flows("ja4/browsers-x509.pcapng");
        let with_sni: Vec<_> = flows.iter().filter(|(_, t)| t.sni.is_some()).collect();
        for (_, t) in &with_sni {
            assert_eq!(
                t.ja4.as_deref(),
                Some("t13d1516h2_8daaf6152771_e5627efa2ab1")
            );
        }
        let snis: Vec<_> = with_sni.iter().filter_map(|(_, t)| t.sni.clone()).collect();
        for want in [
            "edge.microsoft.com",
            "nym1-ib.adnxs.com",
            "lptag.liveperson.net",
        ] {
            assert!(
                snis.iter().any(|s| **s == *want),
                "{want} missing in {snis:?}"
            );
        }
    }

    #[test]
    fn corpus_ja4_ipv6_tls12_cloudflare() {
        let flows = tls_flows("ja4/ipv6.pcapng");
        let t = &flows.first().expect("one TLS flow").1;
        assert_eq!(
            t.ja4.as_deref(),
            Some("t12d4605h2_85626a9a5f7f_aaf95bb78ec9")
        );
        assert_eq!(t.sni.as_deref(), Some("www.cloudflare.com"));
        assert_eq!(t.version.as_deref(), Some("TLSv1.2"));
        assert_eq!(
            t.cipher.as_deref(),
            Some("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        );
        assert_eq!(t.certificates.len(), 2);
    }

    #[test]
    fn corpus_ja4_socks_tls10() {
        let flows = tls_flows("ja4/socks-https-example.pcap");
        let hellos: Vec<_> = flows.iter().filter(|(_, t)| t.ja4.is_some()).collect();
        assert_eq!(hellos.len(), 3, "{flows:?}");
        for (_, t) in hellos {
            assert_eq!(
                t.ja4.as_deref(),
                Some("t10d230100_6a57a6f57151_000000000000")
            );
            assert_eq!(t.sni.as_deref(), Some("www.example.com"));
            assert_eq!(t.certificates.len(), 2);
        }
    }

    #[test]
    fn corpus_https_connect_tunnel() {
        let Some(all) = facts("ja4/https-connect.pcap") else {
            return;
        };
        let f = &all[0].2;
        let ex = &f.http[0];
        assert_eq!(ex.method.as_deref(), Some("CONNECT"));
        assert_eq!(ex.target.as_deref(), Some("ts01-b.cloudsink.net:443"));
        assert_eq!(ex.status, Some(200));
        assert_eq!(
            (ex.request_frame, ex.response_frame),
            (Some(FrameNo(4)), Some(FrameNo(6)))
        );
        let t = f.tls.as_ref().expect("tls in tunnel");
        assert!(f.tls_in_tunnel);
        assert_eq!(t.sni, None);
        assert_eq!(t.client_hello_frame, Some(FrameNo(8)));
        assert_eq!(t.server_hello_frame, Some(FrameNo(10)));
        assert_eq!(t.certificate_frame, Some(FrameNo(13)));
        assert_eq!(t.version.as_deref(), Some("TLSv1.2"));
        eprintln!("{}", summary(f));
    }

    #[test]
    fn corpus_zeek_connect_with_smtp_and_header() {
        if let Some(all) = facts("zeek/http/connect-with-smtp.pcap") {
            let ex = &all[0].2.http[0];
            // Zeek's uri too: the client sent a stray " /" before the version.
            assert_eq!(ex.target.as_deref(), Some("mailin03.sul.t-online.de:25 /"));
            assert_eq!(
                (ex.status, ex.reason.as_deref()),
                (Some(200), Some("Connection established"))
            );
            assert_eq!(
                (ex.request_frame, ex.response_frame),
                (Some(FrameNo(4)), Some(FrameNo(6)))
            );
            assert_eq!(ex.version.as_deref(), Some("1.0"));
        }
        if let Some(all) = facts("zeek/http/connect-with-header.pcap") {
            let f = &all.iter().find(|c| !c.2.http.is_empty()).unwrap().2;
            let ex = &f.http[0];
            assert_eq!(ex.target.as_deref(), Some("secure.newegg.com:443"));
            assert_eq!(ex.proxy_connection.as_deref(), Some("keep-alive"));
            let t = f.tls.as_ref().unwrap();
            assert_eq!(t.sni.as_deref(), Some("secure.newegg.com"));
            assert_eq!(t.client_hello_frame, Some(FrameNo(9)));
        }
    }

    #[test]
    fn corpus_zeek_proxy_absolute_form_and_basic_colon() {
        if let Some(all) = facts("zeek/http/proxy.pcap") {
            let ex = &all.iter().find(|c| !c.2.http.is_empty()).unwrap().2.http[0];
            assert_eq!(ex.target.as_deref(), Some("HTTP://bro.org/"));
            assert_eq!(ex.status, Some(200));
            // tshark shows the response at frame 22, where the body ends; we report the
            // frame of the status line.
            assert_eq!(ex.response_frame, Some(FrameNo(6)));
            assert_eq!(ex.server.as_deref(), Some("Apache/2.4.6 (Fedora)"));
        }
        if let Some(all) = facts("zeek/http/basic-auth-with-colon.pcap") {
            let f = &all.iter().find(|c| !c.2.http.is_empty()).unwrap().2;
            let ex = &f.http[0];
            assert_eq!(ex.credentials[0].user.as_deref(), Some("test"));
            assert_eq!(ex.status, Some(200));
            let json = serde_json::to_string(f).unwrap();
            let dbg = format!("{f:?}");
            for out in [json, dbg] {
                assert!(
                    !out.contains("1:34") && !out.contains("dGVzdDoxOjM0"),
                    "{out}"
                );
            }
        }
    }

    #[test]
    fn corpus_cookies_never_leak() {
        let Some(all) = facts("ja4/http1-with-cookies.pcapng") else {
            return;
        };
        for (_, _, f) in all {
            let out = format!("{f:?}{}", serde_json::to_string(&f).unwrap());
            assert!(!out.contains("choco") && !out.contains("strawberry"));
            if let Some(ex) = f.http.first() {
                assert!(ex.has_cookie);
            }
        }
    }

    #[test]
    fn corpus_zeek_tls_cases() {
        let flows = tls_flows("zeek/tls/tls-1.2-handshake-failure.pcap");
        if let Some((_, t)) = flows.first() {
            assert_eq!(t.history, "Cl");
            assert_eq!(t.version, None);
            assert!(!t.established);
            assert_eq!(
                t.alerts[0].description.as_deref(),
                Some("handshake_failure")
            );
            assert_eq!(t.alerts[0].frame, FrameNo(6));
        }
        let flows = tls_flows("zeek/tls/chrome-1250-tls-x25519-kyber.pcap");
        if let Some((_, t)) = flows.first() {
            assert_eq!(t.history, "CsiI");
            assert_eq!(t.version.as_deref(), Some("TLSv1.3"));
            assert_eq!(t.sni.as_deref(), Some("lh3.google.com"));
            assert_eq!(t.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
            assert!(t.established);
        }
        let flows = tls_flows("zeek/tls/tls-expired-cert.pcap");
        if !flows.is_empty() {
            let spidh = flows
                .iter()
                .find_map(|(_, t)| {
                    t.certificates
                        .first()
                        .filter(|c| c.subject.contains("spidh"))
                })
                .expect("spidh certificate");
            assert_eq!(
                spidh.subject,
                "CN=www.spidh.org,OU=COMODO SSL,OU=Domain Control Validated"
            );
            assert_eq!(spidh.not_after, "2014-03-04T23:59:59Z");
            for (_, t) in &flows {
                assert_eq!(t.version.as_deref(), Some("TLSv1.0"));
                assert!(t.established, "{t:?}");
            }
        }
        let flows = tls_flows("zeek/tls/openjdk-25.0.2-zeek.org.pcap");
        if let Some((_, t)) = flows.first() {
            assert_eq!(t.sni.as_deref(), Some("zeek.org"));
            assert_eq!(
                t.alpn.iter().map(|a| &**a).collect::<Vec<_>>(),
                vec!["h2", "http/1.1"]
            );
            assert_eq!(t.server_hello_frame, Some(FrameNo(6)));
            assert_eq!(t.version.as_deref(), Some("TLSv1.3"));
        }
    }

    #[test]
    fn corpus_dns_wikipedia_nxdomain() {
        let Some(txs) = decode_udp_dns(&format!("{CORPUS}/zeek/wikipedia.pcap")) else {
            return;
        };
        let nx: Vec<_> = txs
            .iter()
            .filter(|t| t.query.as_deref() == Some("upload.wikimedia.org.ncsa.uiuc.edu"))
            .collect();
        assert_eq!(nx.len(), 4, "{txs:?}");
        for t in nx {
            assert_eq!(t.rcode.as_deref(), Some("NXDOMAIN"));
            assert_eq!(t.qtype.as_deref(), Some("AAAA"));
            assert_eq!(t.server.unwrap().ip().to_string(), "141.142.2.2");
        }
        let ok = txs
            .iter()
            .filter(|t| t.query.as_deref() == Some("upload.wikimedia.org"))
            .filter(|t| t.rcode.as_deref() == Some("NOERROR"))
            .count();
        assert_eq!(ok, 8);
    }

    #[test]
    fn corpus_all_files_never_panic() {
        let Ok(dirs) = std::fs::read_dir(CORPUS) else {
            return;
        };
        for d in dirs.flatten() {
            let mut stack = vec![d.path()];
            while let Some(p) = stack.pop() {
                if p.is_dir() {
                    stack.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
                } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                    let _ = decode(p.to_str().unwrap());
                    let _ = decode_udp_dns(p.to_str().unwrap());
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod debug_dump {
    #[test]
    #[ignore]
    fn dump() {
        let path = std::env::var("DUMP").unwrap();
        for (c, s, f) in super::decode(&path).unwrap() {
            println!(
                "{c:?} -> {s:?}: {} | notes {:?}",
                crate::report::prose::summary(&f),
                f.notes
            );
        }
    }
}
