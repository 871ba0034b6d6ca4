//! Link-layer headers: find the network-layer payload of a frame.
//!
//! Ethernet (with any number of 802.1Q / 802.1ad / QinQ tags, up to a bound, and
//! PPPoE sessions), Linux cooked captures v1 and v2 (what `tcpdump -i any` writes),
//! Linux NFLOG (`tcpdump -i nflog:N`), BSD NULL and OpenBSD LOOP, and raw IP.
//! Header layouts: <https://www.tcpdump.org/linktypes.html>.

use crate::capture::LinkType;

/// What the link header says is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetProto {
    Ipv4,
    Ipv6,
    /// Raw IP link types: the version nibble decides.
    AnyIp,
    /// ARP, LLDP, IPX...: counted, not decoded.
    Other(u16),
}

/// Why a frame's link header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Fewer bytes than the header needs (often a tiny snap length).
    Truncated {
        need: usize,
        have: usize,
    },
    Unsupported(LinkType),
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// PPPoE session stage (RFC 2516); 0x8863, the discovery stage, carries no IP.
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// VLAN tags read before a frame is given up as not IP. Real networks stack two
/// (QinQ), lab and carrier setups a few more; the bound keeps the walk short.
const MAX_VLAN_TAGS: usize = 16;
/// NFLOG TLV type of the packet payload (`NFULA_PAYLOAD`).
const NFULA_PAYLOAD: u16 = 9;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ethertype(t: u16) -> NetProto {
    match t {
        ETHERTYPE_IPV4 => NetProto::Ipv4,
        ETHERTYPE_IPV6 => NetProto::Ipv6,
        other => NetProto::Other(other),
    }
}

/// BSD address families for IPv4 and the several IPv6 values different BSDs use.
fn address_family(af: u32) -> NetProto {
    match af {
        2 => NetProto::Ipv4,
        10 | 24 | 28 | 30 => NetProto::Ipv6,
        other => NetProto::Other(other as u16),
    }
}

/// What follows an EtherType `t` whose payload starts at `at`: VLAN tags and a
/// PPPoE session header are walked through to the network layer.
fn after_ethertype(mut t: u16, data: &[u8], mut at: usize) -> Result<(NetProto, &[u8]), LinkError> {
    let short = |need: usize| LinkError::Truncated {
        need,
        have: data.len(),
    };
    for _ in 0..MAX_VLAN_TAGS {
        if !matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
            break;
        }
        t = be16(data, at + 2).ok_or(short(at + 4))?;
        at += 4;
    }
    if t == ETHERTYPE_PPPOE_SESSION {
        // Version/type, code, session id, length (6 bytes), then the PPP protocol.
        let proto = be16(data, at + 6).ok_or(short(at + 8))?;
        let payload = data.get(at + 8..).unwrap_or(&[]);
        return Ok(match proto {
            PPP_IPV4 => (NetProto::Ipv4, payload),
            PPP_IPV6 => (NetProto::Ipv6, payload),
            other => (NetProto::Other(other), payload),
        });
    }
    let payload = data.get(at..).unwrap_or(&[]);
    // Values ≤ 1500 are 802.3 lengths (LLC frames), not EtherTypes.
    if t <= 1500 {
        return Ok((NetProto::Other(0), payload));
    }
    Ok((ethertype(t), payload))
}

/// Linux NFLOG: a 4-byte header (address family, version, group) and TLVs whose
/// length and type are in the capturing host's byte order; the packet is the
/// `NFULA_PAYLOAD` TLV. Layout: <https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html>.
fn nflog(data: &[u8]) -> Result<(NetProto, &[u8]), LinkError> {
    let head = data.get(..4).ok_or(LinkError::Truncated {
        need: 4,
        have: data.len(),
    })?;
    let family = match head[0] {
        2 => NetProto::Ipv4,
        10 => NetProto::Ipv6,
        _ => NetProto::AnyIp,
    };
    let tlvs = &data[4..];
    // The byte order is the one under which the first TLV's length fits.
    let le = match tlvs.get(..2) {
        Some(b) => {
            let l = usize::from(u16::from_le_bytes([b[0], b[1]]));
            (4..=tlvs.len()).contains(&l)
        }
        None => true,
    };
    let rd = |at: usize| -> Option<u16> {
        let b = [*tlvs.get(at)?, *tlvs.get(at + 1)?];
        Some(if le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let mut at = 0;
    while let (Some(len), Some(ty)) = (rd(at), rd(at + 2)) {
        let len = usize::from(len);
        if len < 4 {
            break;
        }
        // The top bits of the type are netlink flags.
        if ty & 0x7fff == NFULA_PAYLOAD {
            // A snap length may cut the payload short: keep what is there.
            let end = (at + len).min(tlvs.len());
            return Ok((family, tlvs.get(at + 4..end).unwrap_or(&[])));
        }
        // TLVs are padded to 4 bytes.
        at += len.div_ceil(4) * 4;
    }
    // A log message without the packet (a setting of the NFLOG rule).
    Ok((NetProto::Other(0), &[]))
}

/// Splits a frame into its network protocol and payload.
pub fn strip(link: LinkType, data: &[u8]) -> Result<(NetProto, &[u8]), LinkError> {
    let short = |need: usize| LinkError::Truncated {
        need,
        have: data.len(),
    };
    match link {
        LinkType::ETHERNET => {
            let t = be16(data, 12).ok_or(short(14))?;
            after_ethertype(t, data, 14)
        }
        LinkType::LINUX_SLL => {
            let t = be16(data, 14).ok_or(short(16))?;
            after_ethertype(t, data, 16)
        }
        LinkType::LINUX_SLL2 => {
            let t = be16(data, 0).ok_or(short(20))?;
            data.get(20..).ok_or(short(20))?;
            after_ethertype(t, data, 20)
        }
        LinkType::NFLOG => nflog(data),
        LinkType::NULL => {
            let b = data.get(..4).ok_or(short(4))?;
            // Host byte order of the capturing machine: try both.
            let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let af = if le & 0xffff_0000 == 0 {
                le
            } else {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            };
            Ok((address_family(af), &data[4..]))
        }
        LinkType::LOOP => {
            let b = data.get(..4).ok_or(short(4))?;
            let af = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            Ok((address_family(af), &data[4..]))
        }
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => Ok((NetProto::AnyIp, data)),
        LinkType::IPV4 => Ok((NetProto::Ipv4, data)),
        LinkType::IPV6 => Ok((NetProto::Ipv6, data)),
        other => Err(LinkError::Unsupported(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_with_two_vlan_tags() {
        let mut f = vec![0u8; 12];
        f.extend([0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x86, 0xdd, 0x60]);
        let (p, rest) = strip(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(p, NetProto::Ipv6);
        assert_eq!(rest, &[0x60]);
    }

    #[test]
    fn ethernet_with_six_stacked_vlan_tags() {
        let mut f = vec![0u8; 12];
        for _ in 0..6 {
            f.extend([0x81, 0x00, 0, 7]);
        }
        f.extend([0x08, 0x00, 0x45]);
        assert_eq!(
            strip(LinkType::ETHERNET, &f).unwrap(),
            (NetProto::Ipv4, &[0x45u8][..])
        );
        // Tags without end are not IP, and not a panic.
        let mut f = vec![0u8; 12];
        for _ in 0..40 {
            f.extend([0x81, 0x00, 0, 7]);
        }
        assert!(matches!(
            strip(LinkType::ETHERNET, &f),
            Ok((NetProto::Other(_), _))
        ));
        assert!(strip(LinkType::ETHERNET, &f[..30]).is_err());
    }

    #[test]
    fn pppoe_session_carries_ip() {
        let mut f = vec![0u8; 12];
        f.extend([0x81, 0x00, 0, 9, 0x88, 0x64]);
        f.extend([0x11, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x21, 0x45]);
        assert_eq!(
            strip(LinkType::ETHERNET, &f).unwrap(),
            (NetProto::Ipv4, &[0x45u8][..])
        );
        let mut f = vec![0u8; 12];
        f.extend([
            0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x57, 0x60,
        ]);
        assert_eq!(strip(LinkType::ETHERNET, &f).unwrap().0, NetProto::Ipv6);
        // LCP keep-alives are not IP; a cut header is an error.
        f[20] = 0xc0;
        f[21] = 0x21;
        assert_eq!(
            strip(LinkType::ETHERNET, &f).unwrap().0,
            NetProto::Other(0xc021)
        );
        assert!(strip(LinkType::ETHERNET, &f[..18]).is_err());
    }

    #[test]
    fn nflog_finds_the_payload_tlv_in_either_byte_order() {
        // family 2, version 0, group 5; a prefix TLV (len 7, padded), then the payload.
        let mut f = vec![2, 0, 0, 5];
        f.extend([7, 0, 10, 0, b'a', b'b', b'c', 0]);
        f.extend([6, 0, 9, 0, 0x45, 0x00]);
        assert_eq!(
            strip(LinkType::NFLOG, &f).unwrap(),
            (NetProto::Ipv4, &[0x45u8, 0][..])
        );
        let mut g = vec![10, 0, 0, 5];
        g.extend([0, 6, 0, 9, 0x60, 0x00]);
        assert_eq!(
            strip(LinkType::NFLOG, &g).unwrap(),
            (NetProto::Ipv6, &[0x60u8, 0][..])
        );
        // No payload TLV, a zero length, a cut header: no panic, no IP.
        assert_eq!(
            strip(LinkType::NFLOG, &[2, 0, 0, 5, 0, 0, 9, 0]).unwrap().0,
            NetProto::Other(0)
        );
        assert!(strip(LinkType::NFLOG, &[2, 0]).is_err());
    }

    #[test]
    fn truncated_ethernet_is_an_error_not_a_panic() {
        assert_eq!(
            strip(LinkType::ETHERNET, &[0; 8]),
            Err(LinkError::Truncated { need: 14, have: 8 })
        );
        assert!(strip(LinkType::LINUX_SLL2, &[0x08, 0x00, 0, 0]).is_err());
    }

    #[test]
    fn null_loopback_either_byte_order() {
        assert_eq!(
            strip(LinkType::NULL, &[2, 0, 0, 0]).unwrap().0,
            NetProto::Ipv4
        );
        assert_eq!(
            strip(LinkType::NULL, &[0, 0, 0, 30]).unwrap().0,
            NetProto::Ipv6
        );
        assert_eq!(
            strip(LinkType::NULL, &[24, 0, 0, 0]).unwrap().0,
            NetProto::Ipv6
        );
    }

    #[test]
    fn sll_v1_and_v2() {
        let mut v1 = vec![0u8; 14];
        v1.extend([0x08, 0x00, 0x45]);
        assert_eq!(
            strip(LinkType::LINUX_SLL, &v1).unwrap(),
            (NetProto::Ipv4, &[0x45u8][..])
        );
        let mut v2 = vec![0x86, 0xdd];
        v2.extend([0u8; 18]);
        v2.push(0x60);
        assert_eq!(
            strip(LinkType::LINUX_SLL2, &v2).unwrap(),
            (NetProto::Ipv6, &[0x60u8][..])
        );
    }
}
