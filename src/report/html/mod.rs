//! The HTML report: one self-contained page (inline CSS, JS and SVG, nothing fetched)
//! that opens offline and can be attached to a ticket.
//!
//! Every text on the page comes from the JSON report's schema values
//! ([`super::json::schema`], built by [`super::json::convert`]), so secrets are masked
//! exactly as there. From top to bottom: the guide's layers and the first failing step,
//! the findings with evidence and next commands, a ladder diagram per connection story
//! ([`ladder`]), the timeline and connections table of every flow ([`timeline`], drawn
//! by the page's script from compact embedded JSON), and the certificate chains
//! ([`certs`]). Markup is written with `maud`, which escapes every interpolated value.

mod certs;
mod ladder;
mod timeline;

use super::Report;
use super::json::{self, schema};
use crate::flow::record::FlowSummary;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::io::{self, Write};

/// Ladders drawn per finding: its first connections (evidence order).
const LADDERS_PER_FINDING: usize = 3;
/// Evidence rows shown per finding (the JSON report carries the rest).
const EVIDENCE_SHOWN: usize = 10;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("app.js");

/// Writes report `r` as one HTML page.
pub fn write(r: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let doc = json::build(r);
    let flows = FlowIndex::new(r);
    let page = page(r, &doc.summary, &doc.findings, &doc.input, &flows);
    let mut buf = io::BufWriter::with_capacity(64 << 10, &mut *out);
    buf.write_all(page.into_string().as_bytes())?;
    buf.flush()
}

/// Finds a flow of the report by its 1-based id, as the JSON report numbers them.
pub(crate) struct FlowIndex<'a> {
    r: &'a Report<'a>,
    /// First id of each capture, in report order.
    bases: Vec<usize>,
}

impl<'a> FlowIndex<'a> {
    fn new(r: &'a Report<'a>) -> Self {
        let mut bases = Vec::with_capacity(r.captures.len());
        let mut base = 1;
        for c in r.captures {
            bases.push(base);
            base += c.flows.len();
        }
        FlowIndex { r, bases }
    }

    /// Flow `id` and the path of its capture.
    fn get(&self, id: usize) -> Option<(FlowSummary, &'a str)> {
        self.with_start(id).map(|(f, p, _)| (f, p))
    }

    /// [`get`](Self::get), and when its capture's first packet was (seconds since the
    /// epoch), from which the evidence's times count.
    fn with_start(&self, id: usize) -> Option<(FlowSummary, &'a str, f64)> {
        let k = self.bases.iter().rposition(|b| *b <= id)?;
        let c = self.r.captures.get(k)?;
        let f = c.flows.get(id - self.bases.get(k)?)?;
        let t0 = c.input.first_ts.map_or(0.0, |t| t.as_secs_f64());
        Some((f, &c.input.path, t0))
    }
}

fn page(
    r: &Report<'_>,
    summary: &schema::Summary<'_>,
    findings: &[schema::Finding<'_>],
    input: &schema::Input<'_>,
    flows: &FlowIndex<'_>,
) -> Markup {
    let title = match input.files.as_slice() {
        [one] => format!("trafficdoc: {}", one.path),
        files => format!("trafficdoc: {} captures", files.len()),
    };
    let t0 = input.time_span.as_ref().map_or(0.0, |t| t.start);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Nothing may be fetched: a mail attachment opens offline.
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "trafficdoc report" }
                    p.meta { (input_line(input)) }
                }
                (layers(summary, findings))
                section #findings {
                    h2 { "Findings" }
                    @if findings.is_empty() {
                        p.none { "Nothing wrong found." }
                    }
                    @for (i, f) in findings.iter().enumerate() {
                        (finding(i, f, flows))
                    }
                }
                (timeline::section(r, findings, t0))
                (certs::section(summary, flows))
                footer { "trafficdoc " (env!("CARGO_PKG_VERSION")) " · secrets are masked as in the JSON report (--format json)" }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

fn input_line(input: &schema::Input<'_>) -> String {
    let files: Vec<&str> = input.files.iter().map(|f| f.path).collect();
    let span = input
        .time_span
        .as_ref()
        .map(|t| format!(", {:.3} s", t.seconds))
        .unwrap_or_default();
    let mut s = format!(
        "{}: {} packets, {} bytes{span}",
        files.join(", "),
        input.packets,
        input.bytes
    );
    if input.truncated {
        s.push_str(" · capture cut short");
    }
    if input.partial {
        s.push_str(" · partial: a memory cap was hit");
    }
    s
}

/// The guide's layer strip (client → gateway → proxy → provider) and the first failing
/// step.
fn layers(s: &schema::Summary<'_>, findings: &[schema::Finding<'_>]) -> Markup {
    // The finding the first failing step names: the first one of its kind.
    let first = s
        .first_failure
        .as_ref()
        .and_then(|f| findings.iter().position(|x| x.id == f.id));
    html! {
        section #diagnosis {
            h2 { "Diagnosis" }
            ol.layers {
                @for (i, l) in s.layers.iter().enumerate() {
                    @if i > 0 { li.hop-arrow aria-hidden="true" { "→" } }
                    li class={ "layer " (l.status) } data-layer=(l.name) {
                        span.name { (l.name) }
                        span.status { (l.status.replace('_', " ")) }
                        @for id in &l.findings { span.fid { (id) } }
                    }
                }
            }
            @match &s.first_failure {
                Some(f) => p.first-failure {
                    "First failing step: "
                    @if let Some(n) = f.guide_section { span.section { "guide §" (n) } " " }
                    a href={ "#finding-" (first.unwrap_or(0)) } { (f.title) }
                },
                None => p.first-failure.ok { "No error found." },
            }
            (latency(&s.latency))
        }
    }
}

fn latency(l: &schema::Latency<'_>) -> Markup {
    let stages = [
        ("TCP to proxy", &l.tcp_to_proxy),
        ("CONNECT", &l.connect),
        ("TLS hello", &l.tls_hello),
        ("first byte", &l.first_byte),
    ];
    html! {
        @if stages.iter().any(|s| s.1.is_some()) {
            p.latency {
                "Latency, median / max: "
                @for (name, st) in stages {
                    @if let Some(st) = st {
                        span.stage { (name) " " (secs(st.median_s)) " / " (secs(st.max_s)) " (n=" (st.samples) ")" }
                    }
                }
            }
        }
    }
}

/// Seconds as people read them: µs, ms or s.
pub(crate) fn secs(s: f64) -> String {
    if s < 0.000_05 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.1} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// A copyable snippet: the text and a button that copies it.
fn copyable(text: &str) -> Markup {
    html! {
        span.copyable {
            code { (text) }
            button.copy type="button" title="Copy" data-copy=(text) { "copy" }
        }
    }
}

/// The commands a remedy step names in backticks, as the table prints them.
fn remedy_step(step: &str) -> Markup {
    let commands = super::table::commands(step);
    html! {
        li {
            (inline_code(step))
            @for c in commands { div.cmd { (copyable(c)) } }
        }
    }
}

/// `text` with its backtick spans set as code.
fn inline_code(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

fn finding(i: usize, f: &schema::Finding<'_>, flows: &FlowIndex<'_>) -> Markup {
    let more = f.evidence.len().saturating_sub(EVIDENCE_SHOWN) + f.evidence_omitted;
    // The connection stories: the evidence's flows first, then the others named.
    let mut story: Vec<usize> = Vec::new();
    for id in f
        .evidence
        .iter()
        .filter_map(|e| e.flow)
        .chain(f.flows.iter().copied())
    {
        if story.len() >= LADDERS_PER_FINDING {
            break;
        }
        if !story.contains(&id) {
            story.push(id);
        }
    }
    html! {
        article class={ "finding " (f.severity) } id={ "finding-" (i) } data-finding=(f.id) data-index=(i) {
            h3 {
                span class={ "sev " (f.severity) } { (f.severity) }
                @if let Some(n) = f.guide_section { span.section { "guide §" (n) } }
                span.title { (f.title) }
                span.fid { (f.id) }
            }
            p.explanation { (inline_code(f.explanation)) }
            @if !f.evidence.is_empty() {
                table.evidence {
                    thead { tr { th { "flow" } th { "frames" } th { "at" } th { "seen" } th { "Wireshark filter" } } }
                    tbody {
                        @for e in f.evidence.iter().take(EVIDENCE_SHOWN) {
                            tr {
                                td { @if let Some(n) = e.flow { "#" (n) } }
                                td.num { (frames(e.frames)) }
                                td.num { @if let Some(t) = e.at { (format!("{t:.3} s")) } }
                                td.seen { (e.seen) }
                                td { @if let Some(d) = e.display_filter { (copyable(d)) } }
                            }
                        }
                    }
                }
                @if more > 0 {
                    p.more { "… and " (more) " more on " (f.flows.len()) " flow(s) in all (--format json lists them)" }
                }
            }
            @if !f.remedy.is_empty() {
                div.remedy {
                    h4 { "Next" }
                    ol { @for s in f.remedy { (remedy_step(s)) } }
                    p.more { "More: " (copyable(&format!("trafficdoc explain {}", f.id))) }
                }
            }
            @if !story.is_empty() {
                div.ladders {
                    @for id in &story {
                        @if let Some((fs, path, t0)) = flows.with_start(*id) {
                            (ladder::diagram(&schema::Flow::new(*id, path, &fs), &fs, f, t0))
                        }
                    }
                    @if f.flows.len() > story.len() {
                        p.more { (f.flows.len() - story.len()) " more connection(s) with this finding: see the table below." }
                    }
                }
            }
        }
    }
}

fn frames(list: &[u64]) -> String {
    const SHOWN: usize = 6;
    let mut s: Vec<String> = list.iter().take(SHOWN).map(u64::to_string).collect();
    if list.len() > SHOWN {
        s.push("…".into());
    }
    s.join(", ")
}

/// JSON for a `<script type="application/json">` block: `<` written as `\u003c` so
/// no value can close the script element.
pub(crate) fn script_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
}
