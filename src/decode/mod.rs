//! Packet decoding below the application layer: link header, IP, TCP/UDP/ICMP.
//!
//! Second layer of the pipeline. `link` strips the link header chosen by the capture's
//! link type, `ip` reads IPv4/IPv6 (with extension headers and fragments) and the
//! transport header, `tcp` turns segments into connections and ordered byte streams.
//! The table of every conversation is the next layer, `flow`.

pub mod ip;
pub mod link;
pub mod tcp;
