//! The diagnosis summary: the guide's layers (client → gateway → proxy → provider),
//! each ok / failed / not seen, and the first failing step of the quick diagnostic flow.

use super::chains::Chain;
use super::latency::Latency;
use super::rules::Ctx;
use super::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerStatus {
    Ok,
    Failed,
    NotSeen,
}

impl LayerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LayerStatus::Ok => "ok",
            LayerStatus::Failed => "failed",
            LayerStatus::NotSeen => "not seen",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Layer {
    pub name: &'static str,
    pub status: LayerStatus,
    /// Kinds of the error findings that fail this layer.
    pub findings: Vec<FindingKind>,
}

#[derive(Clone, Debug)]
pub struct FirstFailure {
    pub guide_section: Option<u8>,
    pub kind: FindingKind,
    pub title: String,
}

#[derive(Clone, Debug)]
pub struct Summary {
    pub layers: Vec<Layer>,
    pub first_failure: Option<FirstFailure>,
    /// Time per stage (TCP to proxy, CONNECT → 200, ClientHello → ServerHello,
    /// request → first byte): median, max, slowest flow.
    pub latency: Latency,
    /// Each distinct certificate chain presented, with the trust stores that would
    /// accept it (Mozilla's roots always; the system store and `--ca-file` when given).
    pub chains: Vec<Chain>,
}

const LAYERS: [&str; 3] = ["client→gateway", "gateway→proxy", "proxy→provider"];

/// Which layer a guide section's problem lives in.
fn layer_of(section: Option<u8>) -> usize {
    match section {
        Some(4) | Some(6) => 0,
        Some(1) | Some(2) => 1,
        _ => 2,
    }
}

/// Position in the guide's quick diagnostic flow (proxy reachable, 407, SSL, gateway,
/// provider), then the other sections.
fn flow_rank(section: Option<u8>) -> u8 {
    match section {
        Some(1) => 0,
        Some(2) => 1,
        Some(3) => 2,
        Some(4) => 3,
        Some(7) => 4,
        Some(5) => 5,
        Some(6) => 6,
        _ => 7,
    }
}

/// Which of the guide's layers the flows show traffic on.
#[derive(Clone, Copy, Debug, Default)]
pub struct LayersSeen([bool; 3]);

impl LayersSeen {
    /// Layers known to be seen by other means (`doctor`'s probes), in guide order.
    pub fn new(seen: [bool; 3]) -> LayersSeen {
        LayersSeen(seen)
    }

    pub fn add(&mut self, ctx: &Ctx<'_>, f: &FlowSummary) {
        let seen = &mut self.0;
        // A hop is seen when its server said something: a SYN the capture cut off
        // before any answer shows nothing about it.
        let answered = f.packets[1] > 0;
        if answered && ctx.is_gateway(f) {
            seen[0] = true;
        }
        if answered && ctx.is_proxy(f) {
            seen[1] = true;
        }
        if f.app.tls.is_some()
            || f.app
                .http
                .iter()
                .any(|h| h.is_proxy_request() && h.status.is_some_and(|s| (200..300).contains(&s)))
        {
            seen[2] = true;
        }
    }
}

/// The summary from what the pass over the flows gathered.
pub fn build(
    findings: &[Finding],
    seen: LayersSeen,
    latency: Latency,
    chains: Vec<Chain>,
) -> Summary {
    let seen = seen.0;
    let errors: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    let layers = LAYERS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let kinds: Vec<FindingKind> = errors
                .iter()
                .filter(|f| layer_of(f.guide_section) == i)
                .map(|f| f.kind)
                .collect();
            Layer {
                name,
                status: if !kinds.is_empty() {
                    LayerStatus::Failed
                } else if seen[i] {
                    LayerStatus::Ok
                } else {
                    LayerStatus::NotSeen
                },
                findings: kinds,
            }
        })
        .collect();
    let first_failure = errors
        .iter()
        .min_by_key(|f| flow_rank(f.guide_section))
        .map(|f| FirstFailure {
            guide_section: f.guide_section,
            kind: f.kind,
            title: f.title.clone(),
        });
    Summary {
        layers,
        first_failure,
        latency,
        chains,
    }
}
