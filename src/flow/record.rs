//! The record of one finished flow: what the rules and the report read about it.
//!
//! The table ([`super::table`]) builds a [`FlowSummary`] when it retires a flow, and
//! the store ([`super::store`]) keeps it as compact bytes until it is read back.

use crate::decode::ip::Unreachable;
use crate::decode::tcp::conn::ConnState;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::AppFacts;
use std::net::SocketAddr;

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Transport {
    Tcp,
    Udp,
}

/// Everything the report and the rules need about one finished flow.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FlowSummary {
    pub transport: Transport,
    #[serde(with = "crate::model::stored_addr")]
    pub client: SocketAddr,
    #[serde(with = "crate::model::stored_addr")]
    pub server: SocketAddr,
    pub state: ConnState,
    #[serde(with = "crate::protocols::stored::text")]
    pub history: std::sync::Arc<str>,
    pub first_frame: FrameNo,
    pub last_frame: FrameNo,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// Index 0 = client → server, 1 = server → client.
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub wire_bytes: [u64; 2],
    pub retransmissions: [u64; 2],
    pub gaps: [u64; 2],
    pub gap_bytes: [u64; 2],
    pub snaplen_bytes: [u64; 2],
    pub conflicts: [u64; 2],
    pub cap_hits: [u64; 2],
    /// SYNs the client sent (more than one: the SYN was retransmitted).
    pub client_syns: u32,
    pub syn_frame: Option<FrameNo>,
    pub synack_frame: Option<FrameNo>,
    /// First RST and who sent it.
    pub rst: Option<(Dir, FrameNo)>,
    /// The client's first FIN: when it closed its side.
    pub client_fin: Option<(FrameNo, Timestamp)>,
    pub rtt: Option<f64>,
    pub unreachable: Option<(FrameNo, Unreachable)>,
    pub app: AppFacts,
    /// Finished early because the flow table was full (`max_flows`): later packets of
    /// the same connection, if any, start a new flow.
    pub evicted: bool,
    /// Decoded facts counted but not kept because `max_facts` were kept.
    pub facts_not_kept: u64,
}

impl FlowSummary {
    /// Some of the flow was not analysed: a buffer cap gave up held bytes, or the flow
    /// was evicted from a full table.
    pub fn partial(&self) -> bool {
        self.evicted || self.facts_not_kept > 0 || self.cap_hits.iter().any(|n| *n > 0)
    }

    /// Where the flow stands in a report: by first frame, TCP before UDP, then client.
    pub fn report_key(&self) -> (FrameNo, bool, SocketAddr) {
        (
            self.first_frame,
            self.transport == Transport::Udp,
            self.client,
        )
    }

    /// A Wireshark display filter selecting exactly this flow's packets.
    pub fn display_filter(&self) -> String {
        use crate::model::addr_text::{push_ip, push_u64};
        let proto = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        // Written into one String, numbers without `fmt`: every flow of a JSON
        // report has one.
        let mut out = String::with_capacity(128);
        for (i, a) in [self.client, self.server].iter().enumerate() {
            if i > 0 {
                out.push_str(" && ");
            }
            out.push_str(if a.is_ipv6() { "ipv6" } else { "ip" });
            out.push_str(".addr==");
            push_ip(&mut out, a.ip());
            out.push_str(" && ");
            out.push_str(proto);
            out.push_str(".port==");
            push_u64(&mut out, u64::from(a.port()));
        }
        out.push_str(" && frame.number>=");
        push_u64(&mut out, self.first_frame.0);
        out.push_str(" && frame.number<=");
        push_u64(&mut out, self.last_frame.0);
        out
    }
}
