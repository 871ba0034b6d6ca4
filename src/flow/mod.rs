//! Flows: every TCP connection and UDP conversation of a capture, open and finished.
//!
//! Third layer of the pipeline:
//!
//! ```text
//! capture → decode → flow → protocols → analyze → remedies → report
//! ```
//!
//! `decode` hands over segments and datagrams; `table` keeps the open flows (feeding
//! their bytes to the `protocols` decoders), bounds memory with its caps and retires
//! each finished flow as a `record` ([`record::FlowSummary`]) into `store`, compact
//! bytes that `analyze` and `report` read back one flow at a time, with a `brief` of each
//! (what the analysis context needs) readable without rebuilding the flow. This layer uses
//! `decode` and `protocols`; neither of them uses it.

pub mod brief;
pub mod record;
pub mod store;
pub mod table;
