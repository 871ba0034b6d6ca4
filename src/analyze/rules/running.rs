//! Whether an endpoint that refused connections is running all the same: it accepted
//! other connections (its refusals are intermittent), or it accepted them on the
//! loopback address of the other family (it listens on that family only). The proxy
//! and gateway rules count their endpoints' connections here and reword their
//! refusal findings by what it says.

use super::Ctx;
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::FlowSummary;
use crate::remedies::{FindingKind, Running};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Endpoints counted, and loopback endpoints remembered as accepting, per rule:
/// past this, no ratio.
const MAX_ENDPOINTS: usize = 256;

/// The connections to one endpoint a client did not make good on at once on the
/// other address (happy eyeballs: those are the fallback's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    /// Attempted: a SYN seen, or refused.
    pub all: u64,
    /// Answered by a RST.
    pub refused: u64,
    /// Answered, not refused.
    pub accepted: u64,
}

/// The connections to the endpoints of one role (the proxies, the gateway).
#[derive(Default)]
pub(super) struct Attempts {
    counts: HashMap<String, Counts>,
    accepted_loopback: HashSet<SocketAddr>,
}

/// What the other connections say about an endpoint that refused some.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SeenRunning {
    /// It accepted some of its own connections.
    Intermittent(Counts),
    /// It accepted connections on this address, the same port on the loopback
    /// address of the other family.
    OtherFamilyOnly(SocketAddr),
}

impl SeenRunning {
    /// The case, as the remedy catalog keys it.
    pub fn case(self) -> Running {
        match self {
            SeenRunning::Intermittent(_) => Running::Intermittent,
            SeenRunning::OtherFamilyOnly(_) => Running::OtherFamilyOnly,
        }
    }

    /// The remedy of a finding of `kind` about the endpoint, its steps for this case
    /// filled with `vars` and, for the other family, `answered`.
    pub fn remedy(self, kind: FindingKind, mut vars: Vec<(&str, String)>) -> Vec<String> {
        if let SeenRunning::OtherFamilyOnly(other) = self {
            vars.push(("answered", other.to_string()));
        }
        crate::remedies::steps(crate::remedies::running_steps(kind, self.case()), &vars)
    }
}

impl Attempts {
    /// Counts flow `id` to `endpoint` (its server, as text).
    pub fn count(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary, endpoint: &str) {
        let answered = f.packets[1] > 0 && f.state != ConnState::REJ;
        if answered && f.server.ip().is_loopback() && self.accepted_loopback.len() < MAX_ENDPOINTS {
            self.accepted_loopback.insert(f.server);
        }
        if !(f.syn_frame.is_some() || f.state == ConnState::REJ) || ctx.fallback_of(id).is_some() {
            return;
        }
        if !self.counts.contains_key(endpoint) {
            if self.counts.len() >= MAX_ENDPOINTS {
                return;
            }
            self.counts.insert(endpoint.to_string(), Counts::default());
        }
        let Some(c) = self.counts.get_mut(endpoint) else {
            return;
        };
        c.all += 1;
        if f.state == ConnState::REJ {
            c.refused += 1;
        }
        if answered {
            c.accepted += 1;
        }
    }

    /// Whether `endpoint`, which refused connections, was seen running.
    pub fn seen_running(&self, endpoint: &str) -> Option<SeenRunning> {
        if let Some(&c) = self.counts.get(endpoint)
            && c.accepted > 0
        {
            return Some(SeenRunning::Intermittent(c));
        }
        let other = other_loopback(endpoint.parse().ok()?)?;
        self.accepted_loopback
            .contains(&other)
            .then_some(SeenRunning::OtherFamilyOnly(other))
    }
}

/// The same port on the loopback address of the other family.
fn other_loopback(a: SocketAddr) -> Option<SocketAddr> {
    if !a.ip().is_loopback() {
        return None;
    }
    let ip = if a.is_ipv4() {
        IpAddr::V6(Ipv6Addr::LOCALHOST)
    } else {
        IpAddr::from([127, 0, 0, 1])
    };
    Some(SocketAddr::new(ip, a.port()))
}

/// "IPv4" or "IPv6", the family of `a`.
pub(super) fn family(a: SocketAddr) -> &'static str {
    if a.is_ipv4() { "IPv4" } else { "IPv6" }
}
