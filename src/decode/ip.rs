//! IPv4 / IPv6 and the transport header above them.
//!
//! Uses etherparse's lax slicing so a packet cut by the snap length still yields its
//! addresses and ports. IPv6 extension headers are walked by etherparse; IP fragments
//! are detected and counted but not reassembled (proxy traffic is TCP with path MTU
//! discovery; fragments are rare and worth a note, not a reassembler).

use crate::decode::tcp::SeqNo;
use etherparse::{IpNumber, LaxIpSlice, TcpSlice, UdpSlice};
use std::net::{IpAddr, SocketAddr};

/// TCP flag bits as on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// A TCP segment's header facts and its (possibly snap-length-cut) payload.
#[derive(Clone, Copy, Debug)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNo,
    pub ack: SeqNo,
    pub flags: TcpFlags,
    pub window: u16,
    /// Captured payload bytes.
    pub payload: &'a [u8],
    /// Payload length on the wire (from the IP length field); larger than
    /// `payload.len()` when the snap length cut the packet.
    pub wire_len: u32,
}

/// An ICMP / ICMPv6 "destination unreachable" (or ICMPv6 "packet too big") and the
/// flow it refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unreachable {
    pub v6: bool,
    pub code: u8,
    /// Path MTU messages: IPv4 "fragmentation needed" (code 4) and ICMPv6 "packet too
    /// big" (type 2, code 0), with the MTU they announce (0: not given).
    pub mtu: Option<u32>,
    /// Protocol, source and destination of the packet that could not be delivered.
    pub inner_proto: u8,
    #[serde(with = "crate::model::stored_addr")]
    pub inner_src: SocketAddr,
    #[serde(with = "crate::model::stored_addr")]
    pub inner_dst: SocketAddr,
}

#[derive(Clone, Copy, Debug)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: &'a [u8],
    },
    Unreachable(Unreachable),
    /// A fragment of a larger datagram (counted, not reassembled).
    Fragment,
    /// Any other protocol, or a transport header too short to read.
    Other(u8),
}

#[derive(Clone, Copy, Debug)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport<'a>,
}

/// Why an IP packet could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpError {
    /// Not enough bytes for the IP header.
    Truncated,
    /// Version nibble other than 4 or 6, or a header length that cannot be.
    Malformed,
}

/// Parses an IP packet and its transport header.
pub fn parse(data: &[u8]) -> Result<IpPacket<'_>, IpError> {
    let (ip, _ext_err) = LaxIpSlice::from_slice(data).map_err(|e| match e {
        etherparse::err::ip::LaxHeaderSliceError::Len(_) => IpError::Truncated,
        etherparse::err::ip::LaxHeaderSliceError::Content(_) => IpError::Malformed,
    })?;
    let src = ip.source_addr();
    let dst = ip.destination_addr();
    let payload = ip.payload();
    // Non-first fragments carry no transport header; first fragments carry a partial
    // one we cannot trust for reassembly either.
    if payload.fragmented {
        return Ok(IpPacket {
            src,
            dst,
            transport: Transport::Fragment,
        });
    }
    let wire_payload_len = intended_payload_len(&ip, data).unwrap_or(payload.payload.len());
    let transport = transport(payload.ip_number, payload.payload, wire_payload_len);
    Ok(IpPacket {
        src,
        dst,
        transport,
    })
}

/// The IP payload length the header announces (what was on the wire), which exceeds
/// the captured payload when the snap length cut the packet.
fn intended_payload_len(ip: &LaxIpSlice<'_>, data: &[u8]) -> Option<usize> {
    let payload = ip.payload().payload;
    let start = (payload.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
    match ip {
        LaxIpSlice::Ipv4(v4) => {
            let total = usize::from(v4.header().total_len());
            total.checked_sub(start).filter(|n| *n >= payload.len())
        }
        LaxIpSlice::Ipv6(v6) => {
            let total = usize::from(v6.header().payload_length()) + 40;
            total.checked_sub(start).filter(|n| *n >= payload.len())
        }
    }
}

fn transport(proto: IpNumber, payload: &[u8], wire_len: usize) -> Transport<'_> {
    match proto {
        IpNumber::TCP => match TcpSlice::from_slice(payload) {
            Ok(tcp) => {
                let header_len = tcp.header_slice().len();
                let data = tcp.payload();
                let wire = wire_len.saturating_sub(header_len).max(data.len());
                Transport::Tcp(TcpSegment {
                    src_port: tcp.source_port(),
                    dst_port: tcp.destination_port(),
                    seq: SeqNo(tcp.sequence_number()),
                    ack: SeqNo(tcp.acknowledgment_number()),
                    flags: TcpFlags(payload.get(13).copied().unwrap_or(0)),
                    window: tcp.window_size(),
                    payload: data,
                    wire_len: u32::try_from(wire).unwrap_or(u32::MAX),
                })
            }
            Err(_) => Transport::Other(proto.0),
        },
        IpNumber::UDP => match UdpSlice::from_slice_lax(payload) {
            Ok(udp) => Transport::Udp {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                payload: udp.payload(),
            },
            Err(_) => Transport::Other(proto.0),
        },
        IpNumber::ICMP => unreachable_of(payload, false)
            .map(Transport::Unreachable)
            .unwrap_or(Transport::Other(proto.0)),
        IpNumber::IPV6_ICMP => unreachable_of(payload, true)
            .map(Transport::Unreachable)
            .unwrap_or(Transport::Other(proto.0)),
        other => Transport::Other(other.0),
    }
}

/// ICMP type 3 (RFC 792) / ICMPv6 types 1 and 2 (RFC 4443): the original datagram's
/// IP header and first 8 bytes follow the 8-byte ICMP header. The MTU of a
/// fragmentation-needed message is in bytes 6-7 (RFC 1191), of a packet-too-big in
/// bytes 4-7.
fn unreachable_of(icmp: &[u8], v6: bool) -> Option<Unreachable> {
    let ty = *icmp.first()?;
    let code = *icmp.get(1)?;
    let be = |r: std::ops::Range<usize>| {
        icmp.get(r)
            .map(|b| b.iter().fold(0u32, |n, &x| n << 8 | u32::from(x)))
    };
    let mtu = match (v6, ty) {
        (false, 3) if code == 4 => Some(be(6..8)?),
        (false, 3) | (true, 1) => None,
        (true, 2) => Some(be(4..8)?),
        _ => return None,
    };
    let inner = icmp.get(8..)?;
    let (ip, _) = LaxIpSlice::from_slice(inner).ok()?;
    let p = ip.payload();
    let ports = p.payload.get(..4)?;
    let sport = u16::from_be_bytes([ports[0], ports[1]]);
    let dport = u16::from_be_bytes([ports[2], ports[3]]);
    Some(Unreachable {
        v6,
        code,
        mtu,
        inner_proto: p.ip_number.0,
        inner_src: SocketAddr::new(ip.source_addr(), sport),
        inner_dst: SocketAddr::new(ip.destination_addr(), dport),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_tcp(total_len: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        v[2..4].copy_from_slice(&total_len.to_be_bytes());
        // TCP: ports 1234 -> 8080, seq 1, ack 0, data offset 5, flags PSH|ACK.
        v.extend([
            0x04, 0xd2, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
        ]);
        v.extend([0, 0, 0, 0]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn tcp_segment_fields() {
        let bytes = ipv4_tcp(43, b"GET");
        let p = parse(&bytes).unwrap();
        let Transport::Tcp(t) = p.transport else {
            panic!("not tcp")
        };
        assert_eq!((t.src_port, t.dst_port, t.seq), (1234, 8080, SeqNo(1)));
        assert!(t.flags.ack() && !t.flags.syn());
        assert_eq!(t.payload, b"GET");
        assert_eq!(t.wire_len, 3);
    }

    #[test]
    fn snaplen_cut_payload_keeps_its_wire_length() {
        // Header says 100 bytes of TCP payload; only 3 were captured.
        let bytes = ipv4_tcp(140, b"GET");
        let p = parse(&bytes).unwrap();
        let Transport::Tcp(t) = p.transport else {
            panic!("not tcp")
        };
        assert_eq!(t.payload.len(), 3);
        assert_eq!(t.wire_len, 100);
    }

    #[test]
    fn fragmentation_needed_and_packet_too_big_carry_the_mtu() {
        let inner = ipv4_tcp(1500, &[]);
        let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0x78];
        icmp.extend_from_slice(&inner);
        let u = unreachable_of(&icmp, false).unwrap();
        assert_eq!((u.code, u.mtu), (4, Some(1400)));
        assert_eq!(u.inner_dst, "10.0.0.2:8080".parse().unwrap());
        icmp[1] = 1;
        assert_eq!(unreachable_of(&icmp, false).unwrap().mtu, None);
        // ICMPv6 packet too big (type 2): a 32-bit MTU; echo requests are not ours.
        let mut v6 = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00];
        v6.extend_from_slice(&[0x60, 0, 0, 0, 0, 20, 6, 64]);
        v6.extend_from_slice(&[0; 15]);
        v6.push(1);
        v6.extend_from_slice(&[0; 15]);
        v6.push(2);
        v6.extend_from_slice(&[0x04, 0xd2, 0x01, 0xbb, 0, 0, 0, 0]);
        let u = unreachable_of(&v6, true).unwrap();
        assert_eq!((u.mtu, u.inner_dst.port()), (Some(1280), 443));
        v6[0] = 128;
        assert!(unreachable_of(&v6, true).is_none());
    }

    #[test]
    fn garbage_never_panics() {
        assert_eq!(parse(&[]).unwrap_err(), IpError::Truncated);
        assert!(parse(&[0x45, 0, 0]).is_err());
        assert!(parse(&[0x75; 40]).is_err());
        let full = ipv4_tcp(43, b"GET");
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
    }
}
