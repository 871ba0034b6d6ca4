//! The rules, one file per guide area. Each is a [`Rule`]: it sees every flow of a
//! capture once, in report order, with the capture's context ([`Ctx`]: proxies, DNS
//! names, certificate chains), then concludes with its findings.

pub mod gateway;
pub mod no_proxy;
pub mod proxy_auth;
pub mod proxy_bypass;
pub mod proxy_misuse;
pub mod proxy_reach;
pub mod resets;
pub mod ssl_inspection;
pub mod timeouts;

use super::chains::Chain;
use super::issuers::PublicRoots;
use super::{Config, Evidence, Finding};
use crate::flow::record::{FlowSummary, Transport};
use crate::model::Timestamp;
use crate::pipeline::CaptureAnalysis;
use crate::protocols::http::HttpExchange;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Ports proxies commonly listen on (guide section 1, step 2). Port 80 counts only
/// when the server received proxy requests: it is every web server's port too.
pub const PROXY_PORTS: &[u16] = &[3128, 8080, 8888, 80, 3129, 8000, 8118];

/// What rules share: the capture and which servers play which role.
pub struct Ctx<'a> {
    pub capture: &'a CaptureAnalysis,
    /// Added to a flow's 0-based index, plus one, to get its report id.
    pub base: usize,
    pub cfg: &'a Config,
    /// Servers that received CONNECT or absolute-form requests.
    pub proxies: HashSet<SocketAddr>,
    /// Addresses answered for names that look like a proxy's (`proxy.corp...`).
    pub proxy_name_addrs: HashSet<IpAddr>,
    /// Each address DNS answered with, and the name of the first query whose answer
    /// it was (none if that query's name was not seen).
    dns_names: HashMap<Arc<str>, Option<Arc<str>>>,
    /// The certificate chains presented in this capture, with the trust stores'
    /// verdicts.
    pub chains: Vec<Chain>,
    /// Per flow id, the first of `chains` it presented.
    chain_of_flow: HashMap<usize, usize>,
    /// Per SNI, the first of `chains` presented for it.
    chain_of_name: HashMap<String, usize>,
    /// Per SNI, the first inspecting CA's issuer and the flow that showed it.
    pub issuer_by_name: HashMap<String, (String, usize)>,
    /// Which chains end at a public root (remembered per top certificate).
    pub public_roots: PublicRoots,
}

/// The flow ids of each capture start after the flows of the ones before it.
pub fn contexts<'a>(captures: &'a [CaptureAnalysis], cfg: &'a Config) -> Vec<Ctx<'a>> {
    let mut base = 0;
    captures
        .iter()
        .map(|c| {
            let ctx = Ctx::new(c, base, cfg);
            base += c.flows.len();
            ctx
        })
        .collect()
}

impl<'a> Ctx<'a> {
    pub fn new(capture: &'a CaptureAnalysis, base: usize, cfg: &'a Config) -> Ctx<'a> {
        let mut proxies = HashSet::new();
        let mut proxy_name_addrs = HashSet::new();
        let mut dns_names = HashMap::new();
        let mut chains = Vec::new();
        let mut chain_index = crate::analyze::chains::ChainIndex::new();
        let mut issuer_by_name = HashMap::new();
        let public_roots = PublicRoots::default();
        for (i, f) in capture.flows.indexed() {
            let id = base + i + 1;
            crate::analyze::chains::add(&mut chains, &mut chain_index, id, &f, cfg);
            note_issuer(&public_roots, &mut issuer_by_name, id, &f);
            if f.app.http.iter().any(is_proxy_request) {
                proxies.insert(f.server);
            }
            for q in &f.app.dns {
                if q.query.as_deref().is_some_and(looks_like_proxy_name) {
                    for a in &q.answers {
                        if let Ok(ip) = a.parse::<IpAddr>() {
                            proxy_name_addrs.insert(ip);
                        }
                    }
                }
                for a in &q.answers {
                    dns_names
                        .entry(a.clone())
                        .or_insert_with(|| q.query.clone());
                }
            }
        }
        let mut chain_of_flow = HashMap::new();
        let mut chain_of_name = HashMap::new();
        for (i, ch) in chains.iter().enumerate() {
            for &id in &ch.flows {
                chain_of_flow.entry(id).or_insert(i);
            }
            if let Some(sni) = &ch.sni {
                chain_of_name.entry(sni.clone()).or_insert(i);
            }
        }
        Ctx {
            capture,
            base,
            cfg,
            proxies,
            proxy_name_addrs,
            dns_names,
            chains,
            chain_of_flow,
            chain_of_name,
            issuer_by_name,
            public_roots,
        }
    }

    /// The chain flow `id` presented (the first, if a tunnel showed another).
    pub fn chain_of_flow(&self, id: usize) -> Option<&Chain> {
        self.chain_of_flow
            .get(&id)
            .and_then(|&i| self.chains.get(i))
    }

    /// The first chain presented for the name `sni`.
    pub fn chain_of_name(&self, sni: &str) -> Option<&Chain> {
        self.chain_of_name
            .get(sni)
            .and_then(|&i| self.chains.get(i))
    }

    /// The name DNS answered with this address, if the capture shows one.
    pub fn name_for(&self, ip: IpAddr) -> Option<String> {
        let text = ip.to_string();
        self.dns_names
            .get(text.as_str())
            .and_then(|q| q.as_deref().map(str::to_string))
    }

    /// Evidence for a flow, timed from the capture's start (`ts`: when the request
    /// began, if it is an HTTP exchange's evidence).
    pub fn ev(
        &self,
        id: usize,
        f: &FlowSummary,
        frames: Vec<u64>,
        seen: String,
        ts: Option<Timestamp>,
    ) -> Evidence {
        let mut e = flow_ev(id, f, frames, seen);
        e.at = self
            .capture
            .input
            .first_ts
            .map(|start| (ts.unwrap_or(f.first_ts).secs_since(start) * 1e6).round() / 1e6);
        e
    }

    /// Flows with their 1-based report ids, rebuilt one at a time from the store.
    pub fn flows(&self) -> impl Iterator<Item = (usize, FlowSummary)> + '_ {
        self.capture
            .flows
            .indexed()
            .map(|(i, f)| (self.base + i + 1, f))
    }

    /// The flow with this report id.
    pub fn flow(&self, id: usize) -> Option<FlowSummary> {
        self.capture.flows.get(id.checked_sub(self.base + 1)?)
    }

    pub fn is_gateway(&self, f: &FlowSummary) -> bool {
        f.transport == Transport::Tcp
            && f.server.port() == self.cfg.gateway_port
            && !self.proxies.contains(&f.server)
    }

    /// A server that is, or was meant to be, a proxy.
    pub fn is_proxy(&self, f: &FlowSummary) -> bool {
        if f.transport != Transport::Tcp || self.is_gateway(f) {
            return false;
        }
        self.proxies.contains(&f.server)
            || self.proxy_name_addrs.contains(&f.server.ip())
            || (PROXY_PORTS.contains(&f.server.port())
                && f.server.port() != 80
                && !f.server.ip().is_loopback())
    }
}

/// TLS 1.3 hides the certificate; an issuer seen for the same name on another
/// connection (TLS 1.2) names the CA the client most likely refused (the
/// SSL-inspection rule says so). Gathered with the rest of the context: the first
/// inspecting issuer per SNI, and its flow.
fn note_issuer(
    roots: &PublicRoots,
    by_name: &mut HashMap<String, (String, usize)>,
    id: usize,
    f: &FlowSummary,
) {
    if let Some(t) = &f.app.tls
        && let Some(sni) = &t.sni
        && let Some((c, _)) = roots.inspecting_cert(t)
        && !by_name.contains_key(&**sni)
    {
        by_name.insert(sni.to_string(), (c.issuer.clone(), id));
    }
}

/// CONNECT, or a request in absolute form (`GET http://host/...`).
pub fn is_proxy_request(h: &HttpExchange) -> bool {
    h.method.as_deref() == Some("CONNECT")
        || h.target
            .as_deref()
            .is_some_and(|t| t.starts_with("http://") || t.starts_with("https://"))
}

pub fn looks_like_proxy_name(n: &str) -> bool {
    let n = n.to_ascii_lowercase();
    n.split('.')
        .next()
        .is_some_and(|l| l.contains("proxy") || l == "cntlm" || l == "squid")
}

/// Evidence for a flow, with its display filter.
pub fn flow_ev(id: usize, f: &FlowSummary, frames: Vec<u64>, seen: String) -> Evidence {
    Evidence {
        flow: Some(id),
        frames,
        at: None,
        seen,
        display_filter: Some(f.display_filter()),
    }
}

/// A rule: it sees every flow once, in report order, then concludes. All rules see a
/// flow in the same pass, so each flow is rebuilt from the store once for all of them.
pub trait Rule {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary);
    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding>;
}

/// Runs every rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    run_with(ctx, &mut |_, _| {})
}

/// Runs every rule, handing each flow to `also` in the same pass.
pub fn run_with(ctx: &Ctx<'_>, also: &mut dyn FnMut(usize, &FlowSummary)) -> Vec<Finding> {
    let mut rules: Vec<Box<dyn Rule>> = vec![
        Box::<proxy_reach::Check>::default(),
        Box::<proxy_reach::Dns>::default(),
        Box::<proxy_auth::Check>::default(),
        Box::<ssl_inspection::Check>::default(),
        Box::new(gateway::Check::new(ctx)),
        Box::<timeouts::Check>::default(),
        Box::<timeouts::Slow>::default(),
        Box::<no_proxy::Check>::default(),
        Box::<proxy_bypass::Check>::default(),
        Box::<proxy_misuse::Check>::default(),
        Box::<resets::Check>::default(),
    ];
    for (id, f) in ctx.flows() {
        for r in &mut rules {
            r.visit(ctx, id, &f);
        }
        also(id, &f);
    }
    rules.into_iter().flat_map(|r| r.finish(ctx)).collect()
}
