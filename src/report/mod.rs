//! Reports: the table people read, the versioned JSON machines read, and the HTML
//! page people attach to a ticket.
//!
//! Last layer of the pipeline. Internal types never leak into JSON directly:
//! `json` holds the serialization-only contract (`SCHEMA_VERSION`, its types in
//! `json/schema.rs`), `table` the human rendering, `html` the page built from the
//! JSON document's values. [`write()`] is the one entry point the commands use: a new output format
//! is one more [`Format`] variant and its arm there.

pub mod html;
pub mod json;
pub mod pem;
pub mod prose;
pub mod table;

use crate::analyze::Finding;
use crate::analyze::summary::Summary;
use crate::pipeline::CaptureAnalysis;
use std::io::{self, Write};
use std::path::Path;

/// Everything one `analyze` run produced, over all its input files.
pub struct Report<'a> {
    pub captures: &'a [CaptureAnalysis],
    /// What the rules concluded, most severe first.
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
}

/// How a report is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The human report ([`table`]).
    Table(TableStyle),
    /// The versioned JSON document ([`json`]), pretty-printed.
    Json,
    /// The same document on one line with `"type": "report"` added: the last line of a
    /// stream of JSON events (`capture --format ndjson`).
    Ndjson,
    /// One self-contained HTML page ([`html`]), built from the JSON document's values.
    Html,
}

/// How the human report is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableStyle {
    /// Columns of the terminal to fit; `None` (a pipe or a file): prose is not
    /// wrapped and the table has one line per flow.
    pub width: Option<u16>,
    /// Paint severities with ANSI colours (only on a terminal).
    pub color: bool,
    /// Flows listed, those the diagnosis names first; 0 lists all.
    pub max_flows: usize,
}

/// Writes the report to `out`. When no capture could be read the table says nothing
/// (the errors already did, on stderr), while JSON still gives a whole document.
pub fn write(format: Format, r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table(_) if r.captures.is_empty() => Ok(()),
        Format::Table(s) => table::write_styled(r, out, s.width, s.color, s.max_flows),
        Format::Json => json::write_pretty(r, out),
        Format::Ndjson => json::write_line(r, out),
        Format::Html => html::write(r, out),
    }
}

/// `--export-certs`: writes the certificate chains as PEM files into `dir` and lists
/// the files written, after the table on `out`, or on `err` when `out` holds JSON.
/// False when the directory or a file could not be written (said the same way).
pub fn export_certs(
    format: Format,
    r: &Report<'_>,
    dir: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let to: &mut dyn Write = match format {
        Format::Table(_) => out,
        Format::Json | Format::Ndjson | Format::Html => err,
    };
    match pem::export(&r.summary.chains, dir) {
        Ok(files) if files.is_empty() => {
            writeln!(
                to,
                "No certificate chain to export (TLS 1.3 encrypts certificates; only TLS 1.2 and older show them)."
            )?;
            Ok(true)
        }
        Ok(files) => {
            writeln!(to, "Certificates written to {}:", dir.display())?;
            for f in files {
                writeln!(to, "  {}  {}", f.path.display(), f.about)?;
            }
            Ok(true)
        }
        Err(e) => {
            // An error, never part of the report: stderr whatever the format.
            writeln!(err, "trafficdoc: --export-certs {}: {e}", dir.display())?;
            Ok(false)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Writes the report of no capture at all in `format`.
    fn empty(format: Format) -> String {
        let (findings, summary) = crate::analyze::diagnose(&[], &Default::default());
        let r = Report {
            captures: &[],
            findings: &findings,
            summary: &summary,
        };
        let mut out = Vec::new();
        write(format, &r, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn no_capture_gives_no_table_but_a_whole_json_document() {
        let style = TableStyle {
            width: None,
            color: false,
            max_flows: 0,
        };
        assert_eq!(empty(Format::Table(style)), "");
        let json = empty(Format::Json);
        assert!(json.starts_with("{\n  \"schema_version\": 1,"), "{json}");
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn ndjson_report_is_one_line_tagged_last() {
        let line = empty(Format::Ndjson);
        assert_eq!(line.lines().count(), 1);
        assert!(line.starts_with("{\"schema_version\":1,"), "{line}");
        assert!(line.ends_with(",\"type\":\"report\"}\n"), "{line}");
    }
}
