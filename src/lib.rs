//! trafficdoc: a MITM-aware traffic analyzer for corporate networks.
//!
//! The pipeline, one module per layer:
//!
//! ```text
//! capture (pcap / pcapng file, live libpcap)
//!   → decode::link / decode::ip       (Ethernet+VLAN, Linux cooked v1/v2, NULL, raw IP)
//!   → decode::tcp                     (connections, Zeek conn_state, reassembly)
//!   → flow                            (flow table and caps; finished flows as compact bytes)
//!   → protocols                       (HTTP proxy dialogue, TLS, DNS)
//!   → analyze                         (findings mapped to the troubleshooting guide)
//!   → report                          (table for people, versioned JSON for machines)
//! ```

pub mod analyze;
pub mod capture;
pub mod cli;
pub mod decode;
pub mod doctor;
pub mod flow;
pub mod model;
pub mod pipeline;
pub mod protocols;
pub mod remedies;
pub mod report;
pub mod spill;
