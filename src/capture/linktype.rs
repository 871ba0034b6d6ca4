//! Link-layer types as numbered by tcpdump.org's LINKTYPE registry.
//!
//! Kept as an integer newtype so values we do not decode survive into the report
//! ("unknown link type 147") instead of being lost.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP on OpenBSD / some older tools (DLT_RAW 12 / 14).
    pub const RAW_12: LinkType = LinkType(12);
    pub const RAW_14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1, written by `tcpdump -i any` before libpcap 1.10.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Linux netfilter log messages (`iptables -j NFLOG`, `tcpdump -i nflog:N`).
    pub const NFLOG: LinkType = LinkType(239);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture v2, written by `tcpdump -i any` with libpcap ≥ 1.10.
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Not a registry value: what the pcapng reader gives packets on an interface it
    /// did not keep (past `file::MAX_INTERFACES`); they count as undecodable.
    pub const INTERFACE_NOT_KEPT: LinkType = LinkType(u16::MAX - 1);

    /// True for the link types the decoder understands.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::RAW_12
                | LinkType::RAW_14
                | LinkType::RAW
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::NFLOG
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
        )
    }

    /// The name tcpdump and Wireshark use (`EN10MB`, `LINUX_SLL2`...).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::RAW_12 | LinkType::RAW_14 | LinkType::RAW => "RAW",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::NFLOG => "NFLOG",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "linktype {}", self.0),
        }
    }
}
