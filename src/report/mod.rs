//! Reports: the table people read and the versioned JSON machines read.
//!
//! Last layer of the pipeline. Internal types never leak into JSON directly:
//! `json` holds the serialization-only contract (`SCHEMA_VERSION`), `table` the human
//! rendering.

pub mod json;
pub mod pem;
pub mod table;

use crate::analyze::Finding;
use crate::analyze::summary::Summary;
use crate::pipeline::CaptureAnalysis;

/// Everything one `analyze` run produced, over all its input files.
pub struct Report<'a> {
    pub captures: &'a [CaptureAnalysis],
    /// What the rules concluded, most severe first.
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
}
