//! The JSON report: a documented, versioned contract.
//!
//! `schema_version` is bumped whenever a field changes meaning or disappears; new
//! fields may be added within a version. The document's types are in [`schema`] (their
//! field docs are the schema documentation; see also README.md, "JSON output"), built
//! from the analysis by [`convert`]; this module writes them: the document, and the
//! lines of `capture --format ndjson`.

pub mod convert;
mod pretty;
pub mod schema;
mod sink;

use super::Report;
use crate::analyze::Finding;
use crate::flow::record::FlowSummary;
use crate::model::Timestamp;
use crate::pipeline::CaptureAnalysis;
use schema::{Event, Flow, Input, JsonReport, ReportLine, TimeSpan, Tool};
use serde::Serialize;
use std::io::{self, Write};

pub const SCHEMA_VERSION: u32 = 1;

/// The `flows` array, numbered 1.. across all captures in report order.
pub struct Flows<'a> {
    captures: &'a [CaptureAnalysis],
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
        Flow::new(self.id, self.path, &self.f).serialize(s)
    }
}

/// The whole document of report `r`.
pub fn build<'a>(r: &Report<'a>) -> JsonReport<'a, Flows<'a>> {
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
            files: r.captures.iter().map(|c| (&c.input).into()).collect(),
            packets,
            bytes,
            link_types,
            link_types_omitted,
            time_span: match (start, end) {
                (Some(s), Some(e)) => Some(TimeSpan {
                    start: s.as_secs_f64(),
                    end: e.as_secs_f64(),
                    seconds: e.secs_since(s),
                }),
                _ => None,
            },
            truncated: r.captures.iter().any(|c| c.input.truncated.is_some()),
            partial: r.captures.iter().any(|c| c.input.partial()),
        },
        summary: r.summary.into(),
        findings: r.findings.iter().map(Into::into).collect(),
        flows: Flows {
            captures: r.captures,
        },
    }
}

/// Writes report `r` as the pretty-printed document, then a newline.
pub fn write_pretty(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    // serde_json writes token by token: a concrete buffer in front of the `dyn Write`
    // turns those into plain copies (measured: ~5 % of a run), and `Sink` writes
    // tokens of a byte or two without a call to `memcpy` each.
    let mut buf = sink::Sink::new(&mut *out);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, pretty::Pretty::new());
    build(r).serialize(&mut ser)?;
    buf.finish()?;
    writeln!(out)
}

/// Writes report `r` on one line with `"type": "report"` added last: the closing line
/// of a stream of [`Event`]s.
pub fn write_line(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let line = ReportLine {
        report: build(r),
        kind: "report",
    };
    let mut buf = sink::Sink::new(&mut *out);
    serde_json::to_writer(&mut buf, &line)?;
    buf.finish()?;
    writeln!(out)
}

/// The lines of `analyze --format ndjson` before the report line: one per finding,
/// then one per flow (numbered as in the report).
pub fn write_events(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = io::BufWriter::with_capacity(64 << 10, &mut *out);
    for f in r.findings {
        write_finding_event(f, &mut buf)?;
    }
    let mut base = 0;
    for c in r.captures {
        for (i, f) in c.flows.indexed() {
            write_flow_event(base + i + 1, &c.input.path, &f, &mut buf)?;
        }
        base += c.flows.len();
    }
    buf.flush()
}

/// Writes one line of `capture --format ndjson`: `{"type": "finding", "finding": …}`.
pub fn write_finding_event(f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    write_event(&Event::Finding { finding: f.into() }, out)
}

/// Writes one line of `capture --format ndjson`: `{"type": "flow", "flow": …}`.
pub fn write_flow_event(
    id: usize,
    file: &str,
    f: &FlowSummary,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_event(
        &Event::Flow {
            flow: Box::new(Flow::new(id, file, f)),
        },
        out,
    )
}

fn write_event(e: &Event<'_>, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer(&mut *out, e)?;
    writeln!(out)
}
