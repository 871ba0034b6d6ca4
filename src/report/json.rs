//! The JSON report: a documented, versioned contract.
//!
//! `schema_version` is bumped whenever a field changes meaning or disappears; new
//! fields may be added within a version. Field docs here are the schema documentation
//! (see also README.md, "JSON output").

use super::Report;
use crate::analyze::Finding;
use crate::analyze::summary::Summary;
use crate::decode::flows::{FlowSummary, Transport};
use crate::model::Timestamp;
use crate::pipeline::InputFile;
use crate::protocols::AppFacts;
use serde::Serialize;
use std::net::SocketAddr;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub input: Input<'a>,
    /// The diagnosis: the guide's layers and the first failing step.
    pub summary: &'a Summary,
    /// What is wrong, most severe first; `flows` are `flows[].id` values.
    pub findings: &'a [Finding],
    /// Serialized one at a time from the analysis: a big capture's flows are never
    /// all held as JSON values at once.
    pub flows: Flows<'a>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct Input<'a> {
    pub files: Vec<&'a InputFile>,
    pub packets: u64,
    pub bytes: u64,
    /// The distinct link type names over all files, in order seen: the first
    /// `pipeline::MAX_LINK_TYPES_LISTED`.
    pub link_types: Vec<String>,
    /// Distinct link type names past those listed: counted, not named.
    #[serde(skip_serializing_if = "is_zero")]
    pub link_types_omitted: u64,
    pub time_span: Option<TimeSpan>,
    /// True when any file ended inside a record.
    pub truncated: bool,
    /// True when a memory cap changed what was analysed in any file (see each file's
    /// `limits`: flows evicted, partial or only summarized; and its
    /// `interfaces_not_kept`).
    pub partial: bool,
}

#[derive(Serialize)]
pub struct TimeSpan {
    pub start: Timestamp,
    pub end: Timestamp,
    pub seconds: f64,
}

/// A per-direction pair of counters.
#[derive(Serialize)]
pub struct Pair {
    pub client: u64,
    pub server: u64,
}

impl From<[u64; 2]> for Pair {
    fn from(v: [u64; 2]) -> Self {
        Pair {
            client: v[0],
            server: v[1],
        }
    }
}

#[derive(Serialize)]
pub struct Rst {
    /// `client` or `server`.
    pub from: &'static str,
    pub frame: u64,
}

#[derive(Serialize)]
pub struct IcmpUnreachable {
    pub frame: u64,
    pub code: u8,
    pub icmpv6: bool,
}

#[derive(Serialize)]
pub struct Flow<'a> {
    /// 1-based, in order of first frame within the report.
    pub id: usize,
    pub file: &'a str,
    pub transport: Transport,
    /// `ip:port`, or `[v6]:port`.
    pub client: String,
    pub server: String,
    /// Zeek `conn_state` (S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH).
    pub state: &'static str,
    pub state_meaning: &'static str,
    /// Zeek `history` letters (upper case: client, lower case: server).
    pub history: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub duration: f64,
    /// 1-based frame numbers as Wireshark shows them.
    pub first_frame: u64,
    pub last_frame: u64,
    pub packets: Pair,
    /// Payload bytes in sequence space (TCP) or datagram payload bytes (UDP).
    pub bytes: Pair,
    /// Frame bytes on the wire.
    pub wire_bytes: Pair,
    /// SYN → SYN-ACK round trip in seconds.
    pub rtt: Option<f64>,
    pub syn_retransmissions: u32,
    pub retransmissions: Pair,
    pub gaps: Pair,
    pub gap_bytes: Pair,
    /// Bytes cut by the capture's snap length (not network loss).
    pub snaplen_cut_bytes: Pair,
    /// True when a buffer cap was hit or the flow was evicted from a full flow table,
    /// and some of it was not analysed.
    pub partial: bool,
    /// Holes given up because a buffer cap was reached.
    pub cap_hits: Pair,
    /// Finished early because `--max-flows` flows were open.
    pub evicted: bool,
    /// Decoded facts (HTTP exchanges, DNS transactions) counted but not kept because
    /// `--max-facts` were kept, or past a decoder's per-flow bound (10,000 HTTP
    /// exchanges, 100,000 DNS transactions).
    #[serde(skip_serializing_if = "is_zero")]
    pub facts_not_kept: u64,
    pub rst: Option<Rst>,
    pub icmp_unreachable: Option<IcmpUnreachable>,
    /// Wireshark display filter selecting this flow's packets.
    pub display_filter: String,
    #[serde(flatten)]
    pub app: &'a AppFacts,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

pub fn endpoint(a: &SocketAddr) -> String {
    a.to_string()
}

pub fn flow<'a>(id: usize, file: &'a str, f: &'a FlowSummary) -> Flow<'a> {
    Flow {
        id,
        file,
        transport: f.transport,
        client: endpoint(&f.client),
        server: endpoint(&f.server),
        state: f.state.as_str(),
        state_meaning: f.state.meaning(),
        history: &f.history,
        start: f.first_ts,
        end: f.last_ts,
        duration: f.last_ts.secs_since(f.first_ts).max(0.0),
        first_frame: f.first_frame.0,
        last_frame: f.last_frame.0,
        packets: f.packets.into(),
        bytes: f.bytes.into(),
        wire_bytes: f.wire_bytes.into(),
        rtt: f.rtt,
        syn_retransmissions: f.client_syns.saturating_sub(1),
        retransmissions: f.retransmissions.into(),
        gaps: f.gaps.into(),
        gap_bytes: f.gap_bytes.into(),
        snaplen_cut_bytes: f.snaplen_bytes.into(),
        partial: f.partial(),
        cap_hits: f.cap_hits.into(),
        evicted: f.evicted,
        facts_not_kept: f.facts_not_kept,
        rst: f.rst.map(|(d, fr)| Rst {
            from: d.sender(),
            frame: fr.0,
        }),
        icmp_unreachable: f.unreachable.map(|(fr, u)| IcmpUnreachable {
            frame: fr.0,
            code: u.code,
            icmpv6: u.v6,
        }),
        display_filter: f.display_filter(),
        app: &f.app,
    }
}

/// The `flows` array, numbered 1.. across all captures in report order.
pub struct Flows<'a> {
    captures: &'a [crate::pipeline::CaptureAnalysis],
}

impl Flows<'_> {
    pub fn len(&self) -> usize {
        self.captures.iter().map(|c| c.flows.len()).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Flows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut base = 0;
        let all = self.captures.iter().flat_map(|c| {
            let first = base;
            base += c.flows.len();
            c.flows.indexed().map(move |(i, f)| OwnedFlow {
                id: first + i + 1,
                path: &c.input.path,
                f,
            })
        });
        s.collect_seq(all)
    }
}

/// A flow rebuilt from the store, serialized as [`Flow`].
struct OwnedFlow<'a> {
    id: usize,
    path: &'a str,
    f: FlowSummary,
}

impl Serialize for OwnedFlow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        flow(self.id, self.path, &self.f).serialize(s)
    }
}

pub fn build<'a>(r: &Report<'a>) -> JsonReport<'a> {
    let mut link_types: Vec<String> = Vec::new();
    let mut link_types_omitted = 0;
    let mut names_seen = std::collections::HashSet::new();
    let (mut packets, mut bytes) = (0, 0);
    let mut start: Option<Timestamp> = None;
    let mut end: Option<Timestamp> = None;
    for c in r.captures {
        packets += c.input.packets;
        bytes += c.input.bytes;
        for l in &c.input.all_link_types {
            let name = l.to_string();
            if names_seen.insert(name.clone()) {
                if link_types.len() < crate::pipeline::MAX_LINK_TYPES_LISTED {
                    link_types.push(name);
                } else {
                    link_types_omitted += 1;
                }
            }
        }
        if let Some(t) = c.input.first_ts {
            start = Some(start.map_or(t, |s| s.min(t)));
        }
        if let Some(t) = c.input.last_ts {
            end = Some(end.map_or(t, |e| e.max(t)));
        }
    }
    JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        input: Input {
            files: r.captures.iter().map(|c| &c.input).collect(),
            packets,
            bytes,
            link_types,
            link_types_omitted,
            time_span: match (start, end) {
                (Some(s), Some(e)) => Some(TimeSpan {
                    start: s,
                    end: e,
                    seconds: e.secs_since(s),
                }),
                _ => None,
            },
            truncated: r.captures.iter().any(|c| c.input.truncated.is_some()),
            partial: r.captures.iter().any(|c| c.input.partial()),
        },
        summary: r.summary,
        findings: r.findings,
        flows: Flows {
            captures: r.captures,
        },
    }
}
