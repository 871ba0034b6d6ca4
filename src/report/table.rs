//! The human report: a summary line per capture, then one row per connection.
//!
//! Readable at 80 columns (comfy-table wraps cells to the terminal width), with the
//! meaning of every connection state shown below the table so nobody has to remember
//! Zeek's codes.

use super::prose::{human_bytes, notes};
use super::{Finding, Report};
use crate::analyze::Severity;
use crate::analyze::latency::Stage;
use crate::analyze::summary::LayerStatus;
use crate::decode::tcp::ConnState;
use crate::flow::record::Transport;
use comfy_table::{ContentArrangement, Table, presets};
use std::io::{self, Write};

fn duration(secs: f64) -> String {
    if secs < 1.0 {
        short(secs)
    } else {
        format!("{secs:.2} s")
    }
}

/// Below a second: milliseconds, or microseconds below 0.05 ms, where "0.0 ms" would
/// say nothing (loopback and LAN round trips).
fn short(secs: f64) -> String {
    if secs < 0.000_05 {
        format!("{:.0} µs", secs * 1e6)
    } else {
        format!("{:.1} ms", secs * 1000.0)
    }
}

/// Wraps `text` at `width` columns, every line starting with `indent` (and `first` on
/// the first line). A span in backticks (a command) is never broken, and `usize::MAX`
/// keeps the text on one line.
pub fn wrap(text: &str, width: usize, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in words(text) {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out
}

/// The words of `text`, a backtick span with its spaces counting as one word.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for w in text.split_whitespace() {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(w);
            }
            _ => out.push(w.to_string()),
        }
        if w.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    out
}

/// The commands a remedy step suggests: its backtick spans that hold a space
/// (`export HTTPS_PROXY=...`, not a lone `*.`), printed on lines of their own so a
/// triple-click copies one whole.
pub fn commands(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| c.trim().contains(' '))
        .map(str::trim)
        .collect()
}

/// Indent of a suggested command under its step.
pub const COMMAND_INDENT: &str = "        ";

/// ANSI styles for the human report on a terminal; all empty when colour is off.
#[derive(Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn new(on: bool) -> Style {
        Style { on }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Errors red, warnings yellow, info dim.
    pub fn severity(self, sev: Severity, text: &str) -> String {
        match sev {
            Severity::Error => self.paint("1;31", text),
            Severity::Warning => self.paint("1;33", text),
            Severity::Info => self.paint("2", text),
        }
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
}

fn secs(s: f64) -> String {
    if s < 1.0 {
        short(s)
    } else {
        format!("{s:.1} s")
    }
}

/// Findings past which the report starts with an index of them, one line each.
pub const INDEX_FROM: usize = 3;

/// `Diagnosis: client→gateway ok | ...`, wrapped by layer.
fn write_layers(r: &Report<'_>, out: &mut dyn Write, width: usize, style: Style) -> io::Result<()> {
    let s = r.summary;
    let layers: Vec<String> = s
        .layers
        .iter()
        .map(|l| {
            let text = format!("{} {}", l.name, l.status.as_str());
            match l.status {
                LayerStatus::Failed => style.severity(Severity::Error, &text),
                _ => text,
            }
        })
        .collect();
    // Wrapped by layer so colour codes never count towards the width.
    let mut line = String::from("Diagnosis:");
    let mut len = line.chars().count();
    for (l, text) in s.layers.iter().zip(&layers) {
        let plain = format!("{} {}", l.name, l.status.as_str()).chars().count();
        let sep = if len > "Diagnosis:".len() { " |" } else { "" };
        if len + sep.len() + 1 + plain > width {
            writeln!(out, "{line}{sep}")?;
            line = format!("  {text}");
            len = 2 + plain;
        } else {
            line.push_str(&format!("{sep} {text}"));
            len += sep.len() + 1 + plain;
        }
    }
    writeln!(out, "{line}")
}

/// `First failing step: ...`, or `No error found.`
fn write_first_failure(r: &Report<'_>, out: &mut dyn Write, width: usize) -> io::Result<()> {
    match &r.summary.first_failure {
        Some(f) => writeln!(
            out,
            "{}",
            wrap(
                &format!(
                    "First failing step: {}{}",
                    f.guide_section
                        .map(|n| format!("[guide §{n}] "))
                        .unwrap_or_default(),
                    f.title
                ),
                width,
                "",
                "  "
            )
        )?,
        None => writeln!(out, "No error found.")?,
    }
    Ok(())
}

/// The findings' heads, one line each (unwrapped: `grep` finds every title), below a
/// count by severity.
/// A finding's first line: severity, guide section and title, wrapped and styled.
fn finding_head(f: &Finding, width: usize, style: Style) -> String {
    let section = f
        .guide_section
        .map(|n| format!(" [guide §{n}]"))
        .unwrap_or_default();
    let head = wrap(
        &format!("{}{section} {}", f.severity.as_str(), f.title),
        width,
        "",
        "  ",
    );
    style.severity(f.severity, &head)
}

fn write_index(r: &Report<'_>, out: &mut dyn Write, width: usize, style: Style) -> io::Result<()> {
    let count = |sev| r.findings.iter().filter(|f| f.severity == sev).count();
    writeln!(
        out,
        "Findings: {} error(s), {} warning(s), {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )?;
    for f in r.findings {
        let sev = format!("{:<7}", f.severity.as_str());
        let section = f
            .guide_section
            .map_or_else(|| "    ".to_string(), |n| format!("§{n:<3}"));
        let line = wrap(
            &format!("{section}{}", f.title),
            width.saturating_sub(10),
            "",
            "",
        );
        let mut lines = line.lines();
        writeln!(
            out,
            "  {} {}",
            style.severity(f.severity, &sev),
            lines.next().unwrap_or("")
        )?;
        for l in lines {
            writeln!(out, "          {l}")?;
        }
    }
    Ok(())
}

/// The diagnosis: the layers, then per finding its title, evidence and next steps.
pub fn write_diagnosis(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    write_diagnosis_styled(r, out, 80, Style::new(false))
}

/// [`write_diagnosis`] wrapped at `width` columns, coloured by `style`.
pub fn write_diagnosis_styled(
    r: &Report<'_>,
    out: &mut dyn Write,
    width: usize,
    style: Style,
) -> io::Result<()> {
    let s = r.summary;
    write_layers(r, out, width, style)?;
    write_first_failure(r, out, width)?;
    if r.findings.len() > INDEX_FROM {
        write_index(r, out, width, style)?;
    }
    let lat = &s.latency;
    let stages: Vec<String> = Stage::ALL
        .iter()
        .filter_map(|st| {
            lat.stage(*st).map(|x| {
                let pair = if x.max_s < 0.000_05 {
                    format!("{:.0}/{:.0} µs", x.median_s * 1e6, x.max_s * 1e6)
                } else if x.max_s < 1.0 {
                    format!("{:.1}/{:.1} ms", x.median_s * 1000.0, x.max_s * 1000.0)
                } else {
                    format!("{:.1}/{:.1} s", x.median_s, x.max_s)
                };
                format!("{} {pair} (n={});", st.label(), x.samples)
            })
        })
        .collect();
    if !stages.is_empty() {
        let mut text = format!("Latency, median/max: {}", stages.join(" "));
        if let Some(w) = &lat.slowest_flow {
            text.push_str(&format!(
                " slowest: flow #{} ({} {})",
                w.flow,
                w.stage.label(),
                secs(w.seconds)
            ));
        } else {
            text.pop();
        }
        writeln!(out, "{}", style.dim(&wrap(&text, width, "", "  ")))?;
    }
    // Which stores would accept each chain Mozilla's roots refuse (the intercepted
    // ones): the answer to "will Node / Python / curl trust this?".
    let refused: Vec<_> = s
        .chains
        .iter()
        .filter(|c| c.verdict("mozilla").is_some_and(|v| !v.trusted))
        .collect();
    const CHAINS_SHOWN: usize = 5;
    for c in refused.iter().take(CHAINS_SHOWN) {
        let stores: Vec<String> = c
            .trusted_by
            .iter()
            .map(|v| {
                let name = match v.store {
                    "mozilla" => "Mozilla/Node/certifi".to_string(),
                    "system" => "system store".to_string(),
                    _ => v.path.as_deref().map_or("--ca-file".to_string(), |p| {
                        std::path::Path::new(p)
                            .file_name()
                            .map_or(p.to_string(), |n| n.to_string_lossy().into_owned())
                    }),
                };
                format!("{name} {}", if v.trusted { "yes" } else { "no" })
            })
            .collect();
        // Doctor's chains come from its own handshake, not from a flow.
        let flow = c
            .flows
            .first()
            .map(|f| format!(", flow #{f}"))
            .unwrap_or_default();
        let line = format!(
            "Chain for {} (issuer \"{}\"{flow}): trusted by {}",
            c.host,
            crate::analyze::issuers::cn(&c.issuer),
            stores.join(", ")
        );
        writeln!(out, "{}", wrap(&line, width, "", "  "))?;
    }
    if refused.len() > CHAINS_SHOWN {
        writeln!(
            out,
            "  ... and {} more chains (--format json: summary.chains)",
            refused.len() - CHAINS_SHOWN
        )?;
    }
    writeln!(out)?;
    for f in r.findings {
        writeln!(out, "{}", finding_head(f, width, style))?;
        writeln!(out, "{}", wrap(&f.explanation, width, "  ", "  "))?;
        // The first screen shows a few examples; JSON carries up to MAX_EVIDENCE.
        const SHOWN: usize = 5;
        for e in f.evidence.iter().take(SHOWN) {
            writeln!(
                out,
                "{}",
                wrap(
                    &evidence_line(
                        e,
                        &FrameNames {
                            captures: r.captures
                        }
                    ),
                    width,
                    "  - ",
                    "    "
                )
            )?;
        }
        let more = f.evidence.len().saturating_sub(SHOWN) + f.evidence_omitted;
        if more > 0 {
            writeln!(
                out,
                "  - ... and {more} more on {} flow(s) in all (--format json lists the flows)",
                f.flows.len()
            )?;
        }
        if let Some(first) = f.remedy.first() {
            writeln!(out, "{}", wrap(first, width, "  next: ", "        "))?;
            for c in commands(first) {
                writeln!(out, "{COMMAND_INDENT}{c}")?;
            }
            if f.remedy.len() > 1 {
                writeln!(
                    out,
                    "{}",
                    style.dim(&format!("  (more: trafficdoc explain {})", f.kind.id()))
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Names frames as a person finds them in Wireshark: the number alone for one capture
/// file; `file#N` (N counted in that file) with several inputs or a rotated set.
struct FrameNames<'a> {
    captures: &'a [crate::pipeline::CaptureAnalysis],
}

impl FrameNames<'_> {
    /// The file (when it must be named) and number in it of frame `frame` of flow
    /// `flow` (a flow id of the report).
    fn locate(&self, flow: Option<usize>, frame: u64) -> (Option<&str>, u64) {
        let c = match (self.captures, flow) {
            ([one], _) if one.input.parts.is_empty() => return (None, frame),
            (_, None) => return (None, frame),
            (all, Some(id)) => {
                let mut base = 0;
                all.iter().find(|c| {
                    base += c.flows.len();
                    id <= base
                })
            }
        };
        match c {
            Some(c) if c.input.parts.is_empty() => {
                (Some(crate::pipeline::base_name(&c.input.path)), frame)
            }
            Some(c) => c.input.locate(frame),
            None => (None, frame),
        }
    }

    /// `87, 89`, `a.pcap#87, 89` when they are in one file, else `a.pcap0#9, a.pcap1#2`.
    fn list(&self, flow: Option<usize>, frames: &[u64]) -> String {
        let at: Vec<(Option<&str>, u64)> = frames.iter().map(|&n| self.locate(flow, n)).collect();
        let one_file = at.windows(2).all(|w| w[0].0 == w[1].0);
        at.iter()
            .enumerate()
            .map(|(k, (file, n))| match file {
                Some(f) if k == 0 || !one_file => format!("{f}#{n}"),
                _ => n.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `flow #9, frame 87, 89 (2.005 s): what was seen`.
fn evidence_line(e: &crate::analyze::Evidence, names: &FrameNames<'_>) -> String {
    let frames = names.list(e.flow, &e.frames);
    format!(
        "{}{}{}",
        e.flow.map(|n| format!("flow #{n}, ")).unwrap_or_default(),
        match (frames.is_empty(), e.at) {
            (true, None) => String::new(),
            (true, Some(t)) => format!("at {t:.3} s: "),
            (false, None) => format!("frame {frames}: "),
            (false, Some(t)) => format!("frame {frames} ({t:.3} s): "),
        },
        e.seen
    )
}

/// The line that introduces a capture: path, format, link types, packets, bytes,
/// duration and connections.
fn capture_line(c: &crate::pipeline::CaptureAnalysis) -> String {
    let i = &c.input;
    let udp = c.flows.udp_count();
    let tcp = c.flows.len() - udp;
    let span = match (i.first_ts, i.last_ts) {
        (Some(a), Some(b)) => format!(", {}", duration(b.secs_since(a))),
        _ => String::new(),
    };
    let name = match i.parts.as_slice() {
        [] => i.path.clone(),
        parts => format!(
            "{} (one capture: a rotated set of {} files, {}; frames as file#N)",
            i.path,
            parts.len(),
            match parts {
                [first, .., last] if parts.len() > 3 => format!(
                    "{} … {}",
                    crate::pipeline::base_name(&first.path),
                    crate::pipeline::base_name(&last.path)
                ),
                _ => parts
                    .iter()
                    .map(|p| crate::pipeline::base_name(&p.path))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        ),
    };
    let head = format!(
        "{name}: {} {}, {} packets, {}{span}; {tcp} TCP connection{}, {udp} UDP flow{}",
        match i.format {
            crate::capture::CaptureFormat::Pcap => "pcap",
            crate::capture::CaptureFormat::Pcapng => "pcapng",
            crate::capture::CaptureFormat::Live => "live capture,",
        },
        if i.link_types_omitted > 0 {
            format!("{}+{} more", i.link_types.join("+"), i.link_types_omitted)
        } else {
            i.link_types.join("+")
        },
        i.packets,
        human_bytes(i.bytes),
        if tcp == 1 { "" } else { "s" },
        if udp == 1 { "" } else { "s" },
    );
    head
}

/// The link types of `i` that are not decoded (a pcapng interface on USB, Bluetooth...),
/// or what else a frame on no decodable link type was on.
pub fn unsupported_links(i: &crate::pipeline::InputFile) -> String {
    let names: Vec<String> = i
        .all_link_types
        .iter()
        .filter(|l| !l.is_supported() && **l != crate::capture::LinkType::INTERFACE_NOT_KEPT)
        .map(|l| l.to_string())
        .collect();
    if names.is_empty() {
        "an interface the file never declared".to_string()
    } else {
        names.join(", ")
    }
}

/// Findings listed by `--summary`; the rest are counted.
const SUMMARY_FINDINGS: usize = 8;

/// `--summary`: the captures in a line each, the layers, the first failing step and,
/// per finding, its head, its first piece of evidence (cut to the width on a terminal)
/// and where to read more. On the busy fixture it fits one 80×24 screen.
pub fn write_summary(
    r: &Report<'_>,
    out: &mut dyn Write,
    width: Option<u16>,
    color: bool,
) -> io::Result<()> {
    let width = width.map_or(usize::MAX, usize::from);
    let style = Style::new(color);
    const CAPTURES_SHOWN: usize = 3;
    for c in r.captures.iter().take(CAPTURES_SHOWN) {
        writeln!(out, "{}", wrap(&capture_line(c), width, "", "  "))?;
    }
    if r.captures.len() > CAPTURES_SHOWN {
        writeln!(
            out,
            "... and {} more captures",
            r.captures.len() - CAPTURES_SHOWN
        )?;
    }
    write_layers(r, out, width, style)?;
    write_first_failure(r, out, width)?;
    for f in r.findings.iter().take(SUMMARY_FINDINGS) {
        writeln!(out)?;
        writeln!(out, "{}", finding_head(f, width, style))?;
        if let Some(e) = f.evidence.first() {
            let more = f.evidence.len() - 1 + f.evidence_omitted;
            let more = if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            };
            writeln!(
                out,
                "{}",
                cut(
                    &format!(
                        "  - {}{more}",
                        evidence_line(
                            e,
                            &FrameNames {
                                captures: r.captures
                            }
                        )
                    ),
                    width
                )
            )?;
        }
        writeln!(
            out,
            "{}",
            style.dim(&format!("  more: trafficdoc explain {}", f.kind.id()))
        )?;
    }
    if r.findings.len() > SUMMARY_FINDINGS {
        writeln!(out)?;
        writeln!(
            out,
            "... and {} more findings (without --summary: every finding; --severity error: errors only)",
            r.findings.len() - SUMMARY_FINDINGS
        )?;
    }
    Ok(())
}

/// `text` cut to `width` columns with `…` when longer.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Flows listed in the table unless `--flows` says otherwise: the ones the diagnosis
/// names come first. A busy capture has thousands; the JSON report lists them all.
pub const DEFAULT_LISTED_FLOWS: usize = 100;

pub fn write(r: &Report<'_>, out: &mut dyn Write, width: Option<u16>) -> io::Result<()> {
    write_styled(r, out, width, false, DEFAULT_LISTED_FLOWS)
}

/// The flow ids the table lists, at most `max` (0: all): the flows the diagnosis
/// names (evidence, chains, the slowest flow), then the earliest others.
fn listed_flows(r: &Report<'_>, max: usize) -> Option<std::collections::BTreeSet<usize>> {
    let total: usize = r.captures.iter().map(|c| c.flows.len()).sum();
    if max == 0 || total <= max {
        return None;
    }
    let mut named: Vec<usize> = r
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter().filter_map(|e| e.flow))
        .chain(
            r.summary
                .chains
                .iter()
                .filter_map(|c| c.flows.first().copied()),
        )
        .chain(r.summary.latency.slowest_flow.as_ref().map(|s| s.flow))
        .collect();
    named.sort_unstable();
    named.dedup();
    let mut set: std::collections::BTreeSet<usize> = named.into_iter().take(max).collect();
    let mut id = 1;
    while set.len() < max && id <= total {
        set.insert(id);
        id += 1;
    }
    Some(set)
}

/// The whole human report; `color` paints severities (only on a terminal, see
/// `cli::use_color`), `width` wraps the diagnosis and the table (80 when not given).
pub fn write_styled(
    r: &Report<'_>,
    out: &mut dyn Write,
    width: Option<u16>,
    color: bool,
    max_flows: usize,
) -> io::Result<()> {
    // On a terminal prose wraps at its width; in a pipe it is never wrapped.
    let text_width = width.map_or(usize::MAX, usize::from);
    write_diagnosis_styled(r, out, text_width, Style::new(color))?;
    let listed = listed_flows(r, max_flows);
    let mut base = 0;
    for c in r.captures {
        let i = &c.input;
        let head = capture_line(c);
        writeln!(out, "{}", wrap(&head, text_width, "", "  "))?;
        if let Some(s) = &i.capture_stats {
            writeln!(
                out,
                "libpcap: {} packets received by the filter, {} dropped (buffer full), {} dropped by the interface; {} captured but not analysed (analysis queue full)",
                s.received, s.dropped, s.if_dropped, s.queue_dropped
            )?;
            if u64::from(s.dropped) + u64::from(s.if_dropped) + s.queue_dropped > 0 {
                writeln!(
                    out,
                    "warning: packets were dropped during capture; missing packets may hide evidence (narrow the filter or capture to a file with -w)"
                )?;
            }
        }
        if let Some(t) = &i.truncated {
            let bytes = if t.need > 0 {
                format!(": {} of {} bytes", t.have, t.need)
            } else {
                String::new()
            };
            writeln!(
                out,
                "warning: {}: capture ends inside frame {} at byte {} ({}{bytes}); every complete packet before it was analysed",
                i.path, t.frame, t.offset, t.reason
            )?;
        }
        let d = &i.decode;
        if d.undecodable > 0 {
            writeln!(
                out,
                "note: {} frame(s) too short or malformed to decode",
                d.undecodable
            )?;
        }
        if d.unsupported_link > 0 {
            writeln!(
                out,
                "note: {} frame(s) on a link type trafficdoc does not decode ({}) were not analysed",
                d.unsupported_link,
                unsupported_links(i)
            )?;
        }
        if i.interfaces_not_kept > 0 {
            writeln!(
                out,
                "note: {} pcapng interface(s) past the first {} of a section not kept; their packets count as undecodable",
                i.interfaces_not_kept,
                crate::capture::file::MAX_INTERFACES
            )?;
        }
        let l = &i.limits;
        if l.any() {
            writeln!(
                out,
                "note: memory caps hit: {} flow(s) evicted (--max-flows), {} buffer cap hit(s), {} partial flow(s), {} flow(s) only counted (--max-records), {} decoded fact(s) not kept (--max-facts, per-flow bounds)",
                l.flows_evicted,
                l.buffer_cap_hits,
                l.partial_flows,
                l.flows_summarized,
                l.facts_not_kept
            )?;
        }
        if d.ip_fragments > 0 {
            writeln!(
                out,
                "note: {} IP fragment(s) seen (not reassembled)",
                d.ip_fragments
            )?;
        }
        if c.flows.is_empty() {
            writeln!(out, "no TCP or UDP traffic in this capture")?;
            writeln!(out)?;
            continue;
        }
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        match width {
            Some(w) => {
                t.set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(w);
            }
            // In a pipe: one line per flow, whatever its length.
            None => {
                t.set_content_arrangement(ContentArrangement::Disabled)
                    .force_no_tty();
            }
        }
        let one_line = |s: String| {
            if width.is_none() {
                s.replace('\n', " ")
            } else {
                s
            }
        };
        // Below 120 columns nine columns leave the notes a few letters wide: show
        // client and server in one cell and leave the counters to `--format json`.
        let compact = width.is_some_and(|w| w < 120);
        if compact {
            t.set_header(vec!["#", "Client → Server", "State", "Frames", "Notes"]);
        } else {
            t.set_header(vec![
                "#",
                "Client",
                "Server",
                "State",
                "Pkts c/s",
                "Bytes c/s",
                "RTT",
                "Frames",
                "Notes",
            ]);
        }
        let mut states: Vec<ConnState> = Vec::new();
        let mut hidden = 0;
        // A rotated set names each end's file: `a.pcap0#5-a.pcap1#11`.
        let frame_range = |a: u64, b: u64| match (i.locate(a), i.locate(b)) {
            ((Some(fa), na), (Some(fb), nb)) if fa == fb => format!("{fa}#{na}-{nb}"),
            ((Some(fa), na), (Some(fb), nb)) => format!("{fa}#{na}-{fb}#{nb}"),
            _ => format!("{a}-{b}"),
        };
        for n in 0..c.flows.len() {
            if listed
                .as_ref()
                .is_some_and(|l| !l.contains(&(base + n + 1)))
            {
                hidden += 1;
                continue;
            }
            // Only the listed flows are rebuilt from the store.
            let Some(f) = c.flows.get(n) else {
                continue;
            };
            let f = &f;
            if !states.contains(&f.state) {
                states.push(f.state);
            }
            let proto = match f.transport {
                Transport::Tcp => "",
                Transport::Udp => "udp ",
            };
            if compact {
                t.add_row(vec![
                    (base + n + 1).to_string(),
                    format!("{}\n→ {proto}{}", f.client, f.server),
                    f.state.as_str().to_string(),
                    frame_range(f.first_frame.0, f.last_frame.0),
                    one_line(notes(f)),
                ]);
                continue;
            }
            t.add_row(vec![
                (base + n + 1).to_string(),
                f.client.to_string(),
                format!("{proto}{}", f.server),
                f.state.as_str().to_string(),
                format!("{}/{}", f.packets[0], f.packets[1]),
                format!("{}/{}", human_bytes(f.bytes[0]), human_bytes(f.bytes[1])),
                f.rtt.map(duration).unwrap_or_default(),
                frame_range(f.first_frame.0, f.last_frame.0),
                one_line(notes(f)),
            ]);
        }
        writeln!(out, "{t}")?;
        if hidden > 0 {
            let line = format!(
                "... {hidden} more flow(s) not listed: the {} above are those the diagnosis \
                 names, then the earliest (--flows 0 lists all; --format json has every flow)",
                c.flows.len() - hidden
            );
            writeln!(out, "{}", wrap(&line, text_width, "  ", "  "))?;
        }
        for s in states {
            writeln!(out, "  {:<6} {}", s.as_str(), s.meaning())?;
        }
        writeln!(out)?;
        base += c.flows.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_keeps_80_columns() {
        let text = "word ".repeat(40);
        let w = wrap(&text, 80, "  - ", "    ");
        assert!(w.lines().all(|l| l.chars().count() <= 80), "{w}");
        assert!(w.starts_with("  - word"));
        assert!(w.lines().nth(1).unwrap().starts_with("    word"));
    }
}
