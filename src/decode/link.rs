//! Link-layer headers: find the network-layer payload of a frame.
//!
//! Ethernet (with 802.1Q / 802.1ad / QinQ tags), Linux cooked captures v1 and v2
//! (what `tcpdump -i any` writes), BSD NULL and OpenBSD LOOP, and raw IP.
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

/// Splits a frame into its network protocol and payload.
pub fn strip(link: LinkType, data: &[u8]) -> Result<(NetProto, &[u8]), LinkError> {
    let short = |need: usize| LinkError::Truncated {
        need,
        have: data.len(),
    };
    match link {
        LinkType::ETHERNET => {
            let mut at = 12;
            let mut t = be16(data, at).ok_or(short(14))?;
            // Up to a few stacked VLAN tags; more is not a real frame.
            for _ in 0..4 {
                if !matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
                    break;
                }
                at += 4;
                t = be16(data, at).ok_or(short(at + 2))?;
            }
            let payload = data.get(at + 2..).unwrap_or(&[]);
            // Values ≤ 1500 are 802.3 lengths (LLC frames), not EtherTypes.
            if t <= 1500 {
                return Ok((NetProto::Other(0), payload));
            }
            Ok((ethertype(t), payload))
        }
        LinkType::LINUX_SLL => {
            let t = be16(data, 14).ok_or(short(16))?;
            Ok((ethertype(t), data.get(16..).unwrap_or(&[])))
        }
        LinkType::LINUX_SLL2 => {
            let t = be16(data, 0).ok_or(short(20))?;
            let payload = data.get(20..).ok_or(short(20))?;
            Ok((ethertype(t), payload))
        }
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
