//! Doctor's outputs: the human report (probes, NO_PROXY per client, trust per client,
//! then the same layered diagnosis and findings as `analyze`), the JSON document
//! (same conventions: `schema_version`, `tool`, `summary`, `findings` as in
//! `analyze --format json`) and the guide's diagnostic report for a ticket.

use super::Outcome;
use crate::report::json::schema;
use crate::report::table::{Style, write_diagnosis_styled};
use serde::Serialize;
use std::io::{self, Write};

/// The human report.
pub fn write_table(
    o: &Outcome,
    out: &mut dyn Write,
    width: Option<u16>,
    color: bool,
) -> io::Result<()> {
    let style = Style::new(color);
    writeln!(out, "Configuration:")?;
    if o.env.is_empty() {
        writeln!(out, "  (no proxy, CA or Anthropic variable set)")?;
    }
    for (k, v) in &o.env {
        writeln!(out, "  {k}={v}")?;
    }
    writeln!(
        out,
        "  gateway {}  provider {}",
        o.gateway.origin(),
        o.provider.origin()
    )?;
    writeln!(out)?;
    if !o.steps.is_empty() {
        writeln!(out, "Probes:")?;
        for s in &o.steps {
            let mark = if s.ok { "ok  " } else { "FAIL" };
            let mark = if s.ok {
                mark.to_string()
            } else {
                style.severity(crate::analyze::Severity::Error, mark)
            };
            writeln!(
                out,
                "  {:<15} {mark} {:>8}  {}: {}",
                LAYERS.get(s.layer).copied().unwrap_or(""),
                millis(s.seconds),
                s.name,
                s.detail
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "NO_PROXY per client (direct, or the proxy variable used):"
    )?;
    let clients: Vec<&str> = super::no_proxy::Client::ALL
        .iter()
        .map(|c| c.name())
        .collect();
    let url_w = o
        .routes
        .iter()
        .map(|r| r.url.len())
        .max()
        .unwrap_or(10)
        .max(10);
    write!(out, "  {:<url_w$}", "")?;
    for c in &clients {
        write!(out, " {c:<18}")?;
    }
    writeln!(out)?;
    for r in &o.routes {
        write!(out, "  {:<url_w$}", r.url)?;
        for (_, route) in &r.routes {
            let cell = match route {
                super::no_proxy::Route::Direct(_) => "direct".to_string(),
                super::no_proxy::Route::Proxy { var, .. } => format!("via {var}"),
            };
            write!(out, " {cell:<18}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "  (go and node-global-agent from their documented rules; the others as tested against the real clients)"
    )?;
    writeln!(out)?;
    if !o.trust.is_empty() {
        writeln!(out, "Certificate of {} per client:", o.provider.host)?;
        for t in &o.trust {
            writeln!(
                out,
                "  {:<16} {}  via {}",
                t.client,
                if t.trusted {
                    "trusts it     "
                } else {
                    "will NOT trust"
                },
                t.how
            )?;
        }
        writeln!(out)?;
    }
    let report = crate::report::Report {
        captures: &[],
        findings: &o.findings,
        summary: &o.summary,
    };
    write_diagnosis_styled(&report, out, width.map_or(usize::MAX, usize::from), style)?;
    if let Some(c) = &o.capture {
        writeln!(out, "{c}")?;
    }
    writeln!(out, "doctor took {}", millis(o.seconds))?;
    Ok(())
}

const LAYERS: [&str; 3] = ["client→gateway", "gateway→proxy", "proxy→provider"];

fn millis(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

/// The JSON document of `doctor --format json`.
#[derive(Serialize)]
struct DoctorJson<'a> {
    schema_version: u32,
    tool: schema::Tool,
    /// `doctor`: tells this document from an `analyze` one.
    mode: &'static str,
    configuration: Configuration<'a>,
    probes: Vec<ProbeJson<'a>>,
    no_proxy: Vec<RouteJson<'a>>,
    trust: Vec<TrustJson<'a>>,
    summary: schema::Summary<'a>,
    findings: Vec<schema::Finding<'a>>,
    seconds: f64,
    /// `--capture`: the file written, or why the capture was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    capture: Option<&'a str>,
}

#[derive(Serialize)]
struct Configuration<'a> {
    /// Set variables, secrets masked.
    variables: serde_json::Map<String, serde_json::Value>,
    gateway: String,
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    proxy: Option<&'a str>,
}

#[derive(Serialize)]
struct ProbeJson<'a> {
    layer: &'static str,
    step: &'a str,
    ok: bool,
    detail: &'a str,
    seconds: f64,
}

#[derive(Serialize)]
struct RouteJson<'a> {
    url: &'a str,
    role: &'static str,
    clients: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct TrustJson<'a> {
    client: &'static str,
    trusted: bool,
    store: &'a str,
}

/// Writes the JSON document.
pub fn write_json(o: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    use serde_json::{Value, json};
    let doc = DoctorJson {
        schema_version: crate::report::json::SCHEMA_VERSION,
        tool: schema::Tool {
            name: "trafficdoc",
            version: env!("CARGO_PKG_VERSION"),
        },
        mode: "doctor",
        configuration: Configuration {
            variables: o.env.iter().map(|(k, v)| (k.to_string(), Value::String(v.clone()))).collect(),
            gateway: o.gateway.origin(),
            provider: o.provider.origin(),
            proxy: o.proxy.as_deref(),
        },
        probes: o
            .steps
            .iter()
            .map(|s| ProbeJson {
                layer: LAYERS.get(s.layer).copied().unwrap_or(""),
                step: &s.name,
                ok: s.ok,
                detail: &s.detail,
                seconds: s.seconds,
            })
            .collect(),
        no_proxy: o
            .routes
            .iter()
            .map(|r| RouteJson {
                url: &r.url,
                role: r.role,
                clients: r
                    .routes
                    .iter()
                    .map(|(c, route)| {
                        let v = match route {
                            super::no_proxy::Route::Direct(why) => json!({"route": "direct", "why": why}),
                            super::no_proxy::Route::Proxy { var, url } => {
                                json!({"route": "proxy", "variable": var, "proxy": super::config::mask_url(url)})
                            }
                        };
                        (c.name().to_string(), v)
                    })
                    .collect(),
            })
            .collect(),
        trust: o
            .trust
            .iter()
            .map(|t| TrustJson {
                client: t.client,
                trusted: t.trusted,
                store: &t.how,
            })
            .collect(),
        summary: (&o.summary).into(),
        findings: o.findings.iter().map(schema::Finding::from).collect(),
        seconds: o.seconds,
        capture: o.capture.as_deref(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

/// The guide's "diagnostic report": date, variables (secrets masked), each layer's
/// result, versions; the whole human report after it.
pub fn write_diagnostic_report(o: &Outcome, date: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "=== Diagnostic Report (trafficdoc doctor) ===")?;
    writeln!(out, "Date: {date}")?;
    writeln!(out, "trafficdoc {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "System: {}", system())?;
    writeln!(out)?;
    writeln!(out, "Layers:")?;
    for l in &o.summary.layers {
        let failed: Vec<&str> = l.findings.iter().map(|k| k.id()).collect();
        writeln!(
            out,
            "  {:<15} {}{}",
            l.name,
            l.status.as_str(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed.join(", "))
            }
        )?;
    }
    writeln!(out)?;
    write_table(o, out, Some(100), false)
}

/// The kernel and OS release, as far as /proc and /etc/os-release tell.
fn system() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| std::env::consts::OS.to_string());
    format!("{os}, kernel {}", kernel.trim())
}
