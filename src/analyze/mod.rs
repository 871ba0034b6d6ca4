//! Findings engine: rules over the decoded flows decide what is wrong.
//!
//! Parsers (`protocols`) state facts; each rule in `rules` reads a whole
//! `CaptureAnalysis` and returns findings with evidence (flows, frames, the exact
//! status line / alert / issuer) and the guide section whose remedy applies. The
//! remedy text itself lives in `crate::remedies`.

pub mod findings;
pub mod rules;
pub mod summary;

pub use findings::{Evidence, Finding, Severity};

use crate::pipeline::CaptureAnalysis;

/// Tunables of the rules.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Port of the local LLM gateway (LiteLLM's default is 4000).
    pub gateway_port: u16,
    /// "Now" for requests still waiting on an open connection: the wall clock in a
    /// live capture; the capture's last packet when `None`.
    pub now: Option<crate::model::Timestamp>,
    /// Seconds a request may wait on an open connection before it counts as
    /// unanswered (LLM answers can take a while; a request whose connection ended
    /// without an answer counts at once).
    pub stall_secs: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway_port: 4000,
            now: None,
            stall_secs: 10.0,
        }
    }
}

/// Runs every rule over every capture. Flow ids are 1-based over all captures, in the
/// order the JSON report numbers them.
pub fn analyze(captures: &[CaptureAnalysis], cfg: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut base = 0;
    for c in captures {
        let ctx = rules::Ctx::new(c, base, cfg);
        out.extend(rules::run(&ctx));
        base += c.flows.len();
    }
    out.sort_by_key(|f| (f.severity, f.guide_section.unwrap_or(u8::MAX)));
    out
}

/// True when any finding is error-level.
pub fn has_error(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
