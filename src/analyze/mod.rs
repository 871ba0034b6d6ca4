//! Findings engine: rules over the decoded flows decide what is wrong.
//!
//! Parsers (`protocols`) state facts; each rule in `rules` sees every flow of a
//! `CaptureAnalysis` and returns findings with evidence (flows, frames, the exact
//! status line / alert / issuer) and the guide section whose remedy applies. The
//! remedy text itself lives in `crate::remedies`. The flows are kept as bytes
//! (`flow::store`) and rebuilt one at a time, so [`diagnose`] reads each capture's
//! flows twice only: their briefs (`flow::brief`) for the context, then whole flows
//! once for every rule, the summary's layers and the latency together.

pub mod chains;
pub mod endpoint;
pub mod findings;
pub mod http_lines;
pub mod issuers;
pub mod latency;
pub mod rules;
pub mod summary;
pub mod trust;

/// The kinds live with their remedies (`crate::remedies::kind`): analysis uses the
/// catalog, never the other way round.
pub use crate::remedies::FindingKind;
pub use findings::{Evidence, Finding, Severity};

use crate::pipeline::CaptureAnalysis;

/// Name suffixes of internal hosts that should bypass the proxy (guide section 6),
/// always matched; `--internal-suffix` adds more.
pub const DEFAULT_INTERNAL_SUFFIXES: &[&str] = &[
    ".internal",
    ".local",
    ".corp",
    ".lan",
    ".home.arpa",
    ".localhost",
];

/// Time to first byte (and CONNECT → 200) above which a response counts as slow.
/// 10 s: a third of the 30 s client timeout the guide's section 5 shows, well above
/// what a healthy proxy or gateway takes to send headers (streamed LLM answers send
/// theirs at once), and below the time-outs clients give up at.
pub const DEFAULT_SLOW_MS: u64 = 10_000;

/// Tunables of the rules.
#[derive(Clone, Debug)]
pub struct Config {
    /// Port of the local LLM gateway (LiteLLM's default is 4000).
    pub gateway_port: u16,
    /// Extra internal name suffixes (`.acme.net`), on top of
    /// [`DEFAULT_INTERNAL_SUFFIXES`].
    pub internal_suffixes: Vec<String>,
    /// Slow-response threshold in milliseconds.
    pub slow_ms: u64,
    /// The machine's system store, when `--system-store` asks for it.
    pub system_store: Option<trust::Bundle>,
    /// The user's CA bundle (`--ca-file`).
    pub ca_file: Option<trust::Bundle>,
    /// "Now" for requests still waiting on an open connection: the wall clock in a
    /// live capture; the capture's last packet when `None`.
    pub now: Option<crate::model::Timestamp>,
    /// Seconds a request may wait on an open connection before it counts as
    /// unanswered (LLM answers can take a while; a request whose connection ended
    /// without an answer counts at once).
    pub stall_secs: f64,
    /// Endpoints the user named as the proxy (`--proxy`, the proxy variables).
    pub proxy_hints: Vec<endpoint::Endpoint>,
    /// Endpoints the user named as the gateway (`--gateway`).
    pub gateway_hints: Vec<endpoint::Endpoint>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway_port: 4000,
            internal_suffixes: Vec::new(),
            slow_ms: DEFAULT_SLOW_MS,
            system_store: None,
            ca_file: None,
            now: None,
            stall_secs: 10.0,
            proxy_hints: Vec::new(),
            gateway_hints: Vec::new(),
        }
    }
}

impl Config {
    /// True when `host` ends with an internal suffix (default or configured): the
    /// suffix's leading dot and `*` are optional, `corp` matches `a.corp` and `corp`.
    pub fn is_internal_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        DEFAULT_INTERNAL_SUFFIXES
            .iter()
            .copied()
            .chain(self.internal_suffixes.iter().map(String::as_str))
            .any(|s| {
                let s = s.trim().trim_start_matches('*').trim_start_matches('.');
                !s.is_empty() && ends_with_label(host, s)
            })
    }
}

/// `host` is `suffix` or ends with `.suffix`, ignoring ASCII case.
fn ends_with_label(host: &str, suffix: &str) -> bool {
    let (h, s) = (host.as_bytes(), suffix.as_bytes());
    if h.len() < s.len() {
        return false;
    }
    let cut = h.len() - s.len();
    h.get(cut..)
        .is_some_and(|tail| tail.eq_ignore_ascii_case(s))
        && (cut == 0 || h.get(cut - 1) == Some(&b'.'))
}

/// Runs every rule over every capture. Flow ids are 1-based over all captures, in the
/// order the JSON report numbers them.
pub fn analyze(captures: &[CaptureAnalysis], cfg: &Config) -> Vec<Finding> {
    findings(&rules::contexts(captures, cfg))
}

/// The findings and the summary, from one context per capture: each context costs a
/// pass over the capture's flows' briefs, the rules a pass over the flows rebuilt.
pub fn diagnose(captures: &[CaptureAnalysis], cfg: &Config) -> (Vec<Finding>, summary::Summary) {
    let ctxs = rules::contexts(captures, cfg);
    let mut seen = summary::LayersSeen::default();
    let mut latency = latency::Measure::default();
    let mut out = Vec::new();
    for ctx in &ctxs {
        out.extend(rules::run_with(ctx, &mut |id, f| {
            seen.add(ctx, f);
            latency.add_flow(ctx.is_proxy(f), id, f);
        }));
    }
    sort(&mut out);
    let chains = chains::merge(ctxs.iter().map(|c| c.chains.as_slice()));
    let summary = summary::build(&out, seen, latency.finish(), chains);
    (out, summary)
}

/// Most severe first, then in the guide's order.
fn sort(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.severity, f.guide_section.unwrap_or(u8::MAX)));
}

fn findings(ctxs: &[rules::Ctx<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    for ctx in ctxs {
        out.extend(rules::run(ctx));
    }
    sort(&mut out);
    out
}

/// True when any finding is error-level.
pub fn has_error(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
