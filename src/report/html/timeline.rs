//! The timeline (waterfall) and the connections table of every flow.
//!
//! Both are drawn by the page's script from one compact JSON block: a row of numbers
//! per flow, with the strings (servers, targets, states) listed once. At 50,000 flows
//! that stays a few MB, and the script only draws what is on screen (a canvas for the
//! waterfall, a page of rows for the table), so the page stays responsive.

use super::script_json;
use crate::report::Report;
use crate::report::json::schema::{Finding, Flow};
use maud::{Markup, PreEscaped, html};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Strings listed once, rows refer to them by index.
#[derive(Default, Serialize)]
struct Dict {
    list: Vec<String>,
    #[serde(skip)]
    index: FxHashMap<String, u32>,
}

impl Dict {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// Outcome colours of the page's legend.
const OK: u8 = 0;
const ERROR: u8 = 1;
const WARNING: u8 = 2;
const INCOMPLETE: u8 = 3;

/// One flow: id, start (ms since the capture's first packet), duration (ms), state,
/// client address, client port, server, target, HTTP status (0: none), TLS outcome,
/// outcome, findings (indexes into `findings`).
type Row = (
    usize,
    f64,
    f64,
    u32,
    u32,
    u16,
    u32,
    u32,
    u16,
    u32,
    u8,
    Vec<u16>,
);

#[derive(Serialize)]
struct Data {
    span_ms: f64,
    states: Vec<String>,
    clients: Vec<String>,
    servers: Vec<String>,
    targets: Vec<String>,
    tls: Vec<String>,
    /// `[id, severity]` of each finding, in report order.
    findings: Vec<(&'static str, &'static str)>,
    flows: Vec<Row>,
}

fn ms(s: f64) -> f64 {
    (s * 1e6).round() / 1e3
}

/// The flow's HTTP status shown: the first error, else the last answer.
fn status(f: &Flow<'_>) -> u16 {
    let all = f.app.http.iter().filter_map(|h| h.status);
    all.clone()
        .find(|s| *s >= 400)
        .or_else(|| all.clone().next_back())
        .unwrap_or(0)
}

/// Who the flow was for: the CONNECT target, SNI, Host or DNS name.
fn target<'a>(f: &'a Flow<'a>) -> &'a str {
    f.app
        .http
        .iter()
        .find(|h| h.method == Some("CONNECT"))
        .and_then(|h| h.target)
        .or_else(|| f.app.tls.as_ref().and_then(|t| t.sni))
        .or_else(|| f.app.socks.as_ref().and_then(|s| s.target))
        .or_else(|| f.app.http.iter().find_map(|h| h.host))
        .or_else(|| f.app.dns.iter().find_map(|d| d.query))
        .unwrap_or("")
}

fn data(r: &Report<'_>, findings: &[Finding<'_>], t0: f64) -> Data {
    let mut by_flow: FxHashMap<usize, Vec<u16>> = FxHashMap::default();
    for (i, f) in findings.iter().enumerate() {
        for id in f.flows {
            by_flow.entry(*id).or_default().push(i as u16);
        }
    }
    let (mut states, mut clients, mut servers, mut targets, mut tls) = (
        Dict::default(),
        Dict::default(),
        Dict::default(),
        Dict::default(),
        Dict::default(),
    );
    tls.id("");
    let mut rows = Vec::new();
    let mut base = 1;
    let mut span: f64 = 0.0;
    for c in r.captures {
        for (i, fs) in c.flows.indexed() {
            let id = base + i;
            let f = Flow::new(id, &c.input.path, &fs);
            let fids = by_flow.remove(&id).unwrap_or_default();
            let sev = fids
                .iter()
                .filter_map(|k| findings.get(usize::from(*k)))
                .map(|x| x.severity)
                .fold(None, |w: Option<&str>, s| match (w, s) {
                    (Some("error"), _) | (_, "error") => Some("error"),
                    (Some("warning"), _) | (_, "warning") => Some("warning"),
                    _ => w.or(Some(s)),
                });
            let st = status(&f);
            let outcome = match sev {
                Some("error") => ERROR,
                Some("warning") => WARNING,
                _ if st >= 400 => WARNING,
                _ if matches!(f.state, "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR") => {
                    INCOMPLETE
                }
                _ => OK,
            };
            let start = ms(f.start - t0);
            let dur = ms(f.duration);
            span = span.max(start + dur);
            let tls_outcome = f.app.tls.as_ref().map_or("", |t| t.outcome);
            rows.push((
                id,
                start,
                dur,
                states.id(f.state),
                clients.id(&fs.client.ip().to_string()),
                fs.client.port(),
                servers.id(&f.server),
                targets.id(target(&f)),
                st,
                tls.id(tls_outcome),
                outcome,
                fids,
            ));
        }
        base += c.flows.len();
    }
    Data {
        span_ms: span,
        states: states.list,
        clients: clients.list,
        servers: servers.list,
        targets: targets.list,
        tls: tls.list,
        findings: findings.iter().map(|f| (f.id, f.severity)).collect(),
        flows: rows,
    }
}

/// The timeline and the connections table, with their data.
pub fn section(r: &Report<'_>, findings: &[Finding<'_>], t0: f64) -> Markup {
    let d = data(r, findings, t0);
    let n = d.flows.len();
    html! {
        section #timeline {
            h2 { "Timeline" }
            p.legend {
                span.key.ok {} "completed " span.key.error {} "error finding "
                span.key.warning {} "warning finding or HTTP error " span.key.incomplete {} "no answer, refused or cut"
            }
            p.more #timeline-summary { (n) " connection(s)" }
            canvas #histogram height="80" {}
            div #waterfall {
                div #waterfall-inner { canvas #waterfall-canvas {} }
            }
            div #tooltip role="status" {}
        }
        section #connections {
            h2 { "Connections" }
            form #filters autocomplete="off" {
                label { "state " select #f-state { option value="" { "any" } } }
                label { "server " input #f-server type="search" placeholder="contains"; }
                label { "target " input #f-target type="search" placeholder="contains"; }
                label { "status " select #f-status { option value="" { "any" } } }
                label { "finding " select #f-finding { option value="" { "any" } option value="none" { "none" } } }
                button #f-clear type="button" { "clear" }
            }
            p.more #conn-count {}
            table #conn-table {
                thead { tr {
                    th { "#" } th { "start" } th { "duration" } th { "client" } th { "server" }
                    th { "target" } th { "state" } th { "HTTP" } th { "TLS" } th { "findings" }
                } }
                tbody {}
            }
            div.pager {
                button #p-prev type="button" { "◀ previous" }
                span #p-info {}
                button #p-next type="button" { "next ▶" }
            }
            noscript { p { "The timeline and the table need JavaScript; the findings above do not." } }
        }
        script #flow-data type="application/json" { (PreEscaped(script_json(&d))) }
    }
}
