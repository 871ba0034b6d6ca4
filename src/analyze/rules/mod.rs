//! The rules, one file per guide area. Each is a [`Rule`]: it sees every flow of a
//! capture once, in report order, with the capture's context ([`Ctx`]: proxies, DNS
//! names, certificate chains), then concludes with its findings.

pub mod gateway;
pub mod no_proxy;
pub mod path_mtu;
pub mod proxy_auth;
pub mod proxy_bypass;
pub mod proxy_misuse;
pub mod proxy_reach;
pub mod resets;
mod running;
pub mod snaplen;
pub mod ssl_inspection;
pub mod timeouts;
pub mod tls_refused;
pub mod tls_wait;

use super::chains::Chain;
use super::endpoint::Endpoint;
use super::issuers::PublicRoots;
use super::{Config, Evidence, Finding};
use crate::decode::tcp::conn::ConnState;
use crate::flow::brief::FlowBrief;
use crate::flow::record::{FlowSummary, Transport};
use crate::model::Timestamp;
use crate::pipeline::CaptureAnalysis;
use crate::protocols::http::HttpExchange;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Ports proxies commonly listen on (guide section 1, step 2). Port 80 counts only
/// when the server received proxy requests: it is every web server's port too.
pub const PROXY_PORTS: &[u16] = &[3128, 8080, 8888, 80, 3129, 8000, 8118];

/// How soon after a refused connection a connection to the same host's other address
/// counts as the client's fallback (happy eyeballs tries the next address at once).
pub const FALLBACK_SECS: f64 = 1.0;

/// A TCP connection attempt, as the fallback check needs it.
struct Attempt {
    id: usize,
    client: IpAddr,
    server: SocketAddr,
    ts: Timestamp,
}

/// What rules share: the capture and which servers play which role, gathered from
/// the flows' briefs ([`FlowBrief`]) in report order.
pub struct Ctx<'a> {
    pub capture: &'a CaptureAnalysis,
    /// Added to a flow's 0-based index, plus one, to get its report id.
    pub base: usize,
    /// The same for the capture's unlisted flows (past `--max-records`): their ids
    /// follow every listed flow of every capture.
    pub unlisted_base: usize,
    pub cfg: &'a Config,
    /// Servers that received CONNECT or absolute-form requests.
    pub proxies: FxHashSet<SocketAddr>,
    /// Addresses answered for names that look like a proxy's (`proxy.corp...`).
    pub proxy_name_addrs: FxHashSet<IpAddr>,
    /// The endpoints the user named as the proxy, as addresses of this capture.
    pub hinted_proxies: FxHashSet<SocketAddr>,
    /// The endpoints the user named as the gateway, as addresses of this capture.
    pub hinted_gateways: FxHashSet<SocketAddr>,
    /// Refused connections (flow id) the client made good within [`FALLBACK_SECS`] on
    /// the same host's other address (happy eyeballs), with the flow that succeeded.
    fallbacks: HashMap<usize, usize>,
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
    /// Parent proxies of local helpers (cntlm, px): each parent, and the loopback
    /// proxy whose request its connection served (see [`Chained`]).
    parents: FxHashMap<SocketAddr, SocketAddr>,
    /// Each local helper with a parent seen: the first parent.
    helper_parent: FxHashMap<SocketAddr, SocketAddr>,
}

/// The flow ids of each capture start after the flows of the ones before it; the
/// ids of flows not listed (past `--max-records`) after every listed one.
pub fn contexts<'a>(captures: &'a [CaptureAnalysis], cfg: &'a Config) -> Vec<Ctx<'a>> {
    let mut base = 0;
    let mut unlisted_base: usize = captures.iter().map(|c| c.flows.len()).sum();
    captures
        .iter()
        .map(|c| {
            let ctx = Ctx::new(c, base, unlisted_base, cfg);
            base += c.flows.len();
            unlisted_base += c.unlisted.len();
            ctx
        })
        .collect()
}

/// Every flow of `capture`, listed then unlisted, with its report id and all its
/// facts.
fn all_flows(
    capture: &CaptureAnalysis,
    base: usize,
    unlisted_base: usize,
) -> impl Iterator<Item = (usize, FlowSummary)> + '_ {
    let listed = capture.flows.indexed().map(move |(i, f)| (base + i + 1, f));
    let unlisted = capture
        .unlisted
        .indexed()
        .map(move |(i, f)| (unlisted_base + i + 1, f));
    listed
        .chain(unlisted)
        .map(|(id, f)| (id, with_all_facts(capture, f)))
}

/// The brief of every flow of `capture`, listed then unlisted, with its report id,
/// read without rebuilding the flows but for those whose facts are not all kept with
/// them: theirs is made from the flow with all its facts.
fn all_briefs(
    capture: &CaptureAnalysis,
    base: usize,
    unlisted_base: usize,
) -> impl Iterator<Item = (usize, FlowBrief)> + '_ {
    let listed = capture
        .flows
        .briefs()
        .map(move |(i, b)| (base + i + 1, &capture.flows, i, b));
    let unlisted = capture
        .unlisted
        .briefs()
        .map(move |(i, b)| (unlisted_base + i + 1, &capture.unlisted, i, b));
    listed.chain(unlisted).filter_map(|(id, store, i, b)| {
        if !b.facts_elsewhere {
            return Some((id, b));
        }
        let f = with_all_facts(capture, store.get(i)?);
        Some((id, FlowBrief::of(&f)))
    })
}

/// `f` with its facts not kept with it (past `--max-facts` or a decoder's per-flow
/// bound) read back and merged in, in frame order: the rules see every fact.
fn with_all_facts(capture: &CaptureAnalysis, mut f: FlowSummary) -> FlowSummary {
    if !f.app.overflow.any() {
        return f;
    }
    let overflow = std::mem::take(&mut f.app.overflow);
    let (http, dns) = capture.facts.read(&overflow);
    // Nothing of the flow is missing for the rules: its facts are all here.
    f.facts_not_kept = 0;
    f.app.http = merge_in_order(std::mem::take(&mut f.app.http), http, |h| {
        h.request_frame.or(h.response_frame)
    });
    f.app.dns = merge_in_order(std::mem::take(&mut f.app.dns), dns, |t| {
        t.query_frame.or(t.response_frame)
    });
    f
}

/// `kept` (in its order) with `more` put before the first kept item of a later frame.
fn merge_in_order<T, K: Ord>(kept: Vec<T>, mut more: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    if more.is_empty() {
        return kept;
    }
    more.sort_by_key(&key);
    let mut out = Vec::with_capacity(kept.len() + more.len());
    let mut more = more.into_iter().peekable();
    for x in kept {
        while let Some(y) = more.next_if(|y| key(y) < key(&x)) {
            out.push(y);
        }
        out.push(x);
    }
    out.extend(more);
    out
}

impl<'a> Ctx<'a> {
    pub fn new(
        capture: &'a CaptureAnalysis,
        base: usize,
        unlisted_base: usize,
        cfg: &'a Config,
    ) -> Ctx<'a> {
        let mut proxies = FxHashSet::default();
        let mut proxy_name_addrs = FxHashSet::default();
        let mut dns_names = HashMap::new();
        let mut chains = Vec::new();
        let mut chain_index = crate::analyze::chains::ChainIndex::new();
        let mut issuer_by_name = HashMap::new();
        let public_roots = PublicRoots::default();
        let hint_names: HashSet<String> = cfg
            .proxy_hints
            .iter()
            .chain(&cfg.gateway_hints)
            .filter_map(Endpoint::name)
            .collect();
        let mut hint_addrs: HashMap<String, HashSet<IpAddr>> = HashMap::new();
        let mut fallbacks = Fallbacks::default();
        let mut chained = Chained::default();
        for (id, f) in all_briefs(capture, base, unlisted_base) {
            fallbacks.add(id, &f, &dns_names);
            chained.add(&f, &dns_names);
            crate::analyze::chains::add(&mut chains, &mut chain_index, id, &f, cfg);
            note_issuer(&public_roots, &mut issuer_by_name, id, &f);
            if !f.proxy_requests.is_empty() {
                proxies.insert(f.server);
            }
            for q in &f.dns {
                if q.query.as_deref().is_some_and(looks_like_proxy_name) {
                    for a in &q.answers {
                        if let Ok(ip) = a.parse::<IpAddr>() {
                            proxy_name_addrs.insert(ip);
                        }
                    }
                }
                if let Some(name) = q.query.as_deref() {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    if hint_names.contains(&name) {
                        let set = hint_addrs.entry(name).or_default();
                        set.extend(q.answers.iter().filter_map(|a| a.parse::<IpAddr>().ok()));
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
        let resolve = |hints: &[Endpoint]| -> FxHashSet<SocketAddr> {
            let mut out = FxHashSet::default();
            for h in hints {
                let mut ips = h.literal_addrs();
                if let Some(set) = h.name().and_then(|n| hint_addrs.get(&n)) {
                    ips.extend(set.iter().copied());
                }
                out.extend(ips.into_iter().map(|ip| SocketAddr::new(ip, h.port)));
            }
            out
        };
        let hinted_proxies = resolve(&cfg.proxy_hints);
        let hinted_gateways = resolve(&cfg.gateway_hints);
        let fallbacks = fallbacks.matched;
        let Chained {
            parents,
            helper_parent,
            ..
        } = chained;
        Ctx {
            capture,
            base,
            unlisted_base,
            cfg,
            proxies,
            proxy_name_addrs,
            hinted_proxies,
            hinted_gateways,
            fallbacks,
            dns_names,
            chains,
            chain_of_flow,
            chain_of_name,
            issuer_by_name,
            public_roots,
            parents,
            helper_parent,
        }
    }

    /// For a parent proxy seen serving a local helper's request: the helper.
    pub fn helper_of(&self, parent: &SocketAddr) -> Option<SocketAddr> {
        self.parents.get(parent).copied()
    }

    /// For a local helper (a loopback proxy) whose connection to its parent proxy was
    /// seen: the parent.
    pub fn parent_of(&self, helper: &SocketAddr) -> Option<SocketAddr> {
        self.helper_parent.get(helper).copied()
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
        let mut text = String::with_capacity(39);
        crate::model::addr_text::push_ip(&mut text, ip);
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

    /// Flows with their 1-based report ids, rebuilt one at a time from the store:
    /// the listed ones, then those past `--max-records`.
    pub fn flows(&self) -> impl Iterator<Item = (usize, FlowSummary)> + '_ {
        all_flows(self.capture, self.base, self.unlisted_base)
    }

    /// The flow with this report id.
    pub fn flow(&self, id: usize) -> Option<FlowSummary> {
        let listed = id.checked_sub(self.base + 1)?;
        let f = if listed < self.capture.flows.len() {
            self.capture.flows.get(listed)?
        } else {
            self.capture
                .unlisted
                .get(id.checked_sub(self.unlisted_base + 1)?)?
        };
        Some(with_all_facts(self.capture, f))
    }

    /// A server on the gateway port, or one the user named as the gateway, that is not
    /// a proxy.
    pub fn is_gateway(&self, f: &FlowSummary) -> bool {
        f.transport == Transport::Tcp
            && (f.server.port() == self.cfg.gateway_port
                || self.hinted_gateways.contains(&f.server))
            && !self.proxies.contains(&f.server)
            && !self.hinted_proxies.contains(&f.server)
    }

    /// A server that is, or was meant to be, a proxy: it received proxy requests, the
    /// user named it, its name looks like a proxy's, or it listens on a proxy port
    /// (80 only by name or requests). On loopback a proxy port counts only when nothing
    /// answered: a local helper (cntlm, px) that is down; one that answers shows its
    /// proxy requests, and local web servers use those ports too.
    pub fn is_proxy(&self, f: &FlowSummary) -> bool {
        if f.transport != Transport::Tcp || self.is_gateway(f) {
            return false;
        }
        self.proxies.contains(&f.server)
            || self.parents.contains_key(&f.server)
            || self.hinted_proxies.contains(&f.server)
            || self.proxy_name_addrs.contains(&f.server.ip())
            || (PROXY_PORTS.contains(&f.server.port())
                && f.server.port() != 80
                && (!f.server.ip().is_loopback()
                    || matches!(f.state, ConnState::REJ | ConnState::S0)))
    }

    /// A lone SYN that the end of the capture cut off: sent less than a second before
    /// the capture's last packet, never retransmitted. The capture stopped before the
    /// client could even retransmit (1 s is the shortest initial retransmission
    /// timeout, RFC 6298), so nothing says the server is silent.
    pub fn cut_by_capture_end(&self, f: &FlowSummary) -> bool {
        f.client_syns <= 1
            && self
                .capture
                .input
                .last_ts
                .is_some_and(|end| end.secs_since(f.first_ts) < 1.0)
    }

    /// For a refused connection the client made good on the same host's other address
    /// (happy eyeballs): the flow that succeeded.
    pub fn fallback_of(&self, id: usize) -> Option<usize> {
        self.fallbacks.get(&id).copied()
    }
}

/// Refused connections awaiting a fallback, at most this many per port (a flood of
/// refusals keeps the newest).
const MAX_PENDING: usize = 64;

/// Pairs refused connections with the connection that made them good: one that
/// succeeded within [`FALLBACK_SECS`] after, from the same client, to the same port of
/// the same host's address of the other family (both loopback, or both answered for
/// one name). Fed the flows in capture order; keeps only the refusals of the last
/// second.
#[derive(Default)]
struct Fallbacks {
    pending: HashMap<u16, VecDeque<Attempt>>,
    matched: HashMap<usize, usize>,
}

impl Fallbacks {
    fn add(&mut self, id: usize, f: &FlowBrief, dns_names: &HashMap<Arc<str>, Option<Arc<str>>>) {
        if f.transport != Transport::Tcp {
            return;
        }
        let a = Attempt {
            id,
            client: f.client.ip(),
            server: f.server,
            ts: f.first_ts,
        };
        let connected = match f.state {
            ConnState::REJ => false,
            ConnState::S1
            | ConnState::SF
            | ConnState::S2
            | ConnState::S3
            | ConnState::RSTO
            | ConnState::RSTR => true,
            _ => return,
        };
        if !connected {
            let q = self.pending.entry(f.server.port()).or_default();
            if q.len() >= MAX_PENDING {
                q.pop_front();
            }
            q.push_back(a);
            return;
        }
        let Some(q) = self.pending.get_mut(&f.server.port()) else {
            return;
        };
        q.retain(|r| a.ts.secs_since(r.ts) <= FALLBACK_SECS);
        let name = |ip: IpAddr| dns_name(dns_names, ip);
        let same_host = |x: IpAddr, y: IpAddr| {
            (x.is_loopback() && y.is_loopback()) || name(x).is_some_and(|n| name(y) == Some(n))
        };
        // A dual-stack client has one address of each family.
        let same_client = |x: IpAddr, y: IpAddr| {
            x == y || x.is_ipv4() != y.is_ipv4() || (x.is_loopback() && y.is_loopback())
        };
        let matched = &mut self.matched;
        q.retain(|r| {
            let fell_back = r.ts <= a.ts
                && r.server.is_ipv4() != a.server.is_ipv4()
                && same_client(r.client, a.client)
                && same_host(r.server.ip(), a.server.ip());
            if fell_back {
                matched.insert(r.id, a.id);
            }
            !fell_back
        });
    }
}

/// The name of the first query DNS answered with `ip`, without its final dot, in
/// lower case.
fn dns_name(dns_names: &HashMap<Arc<str>, Option<Arc<str>>>, ip: IpAddr) -> Option<String> {
    let mut text = String::with_capacity(39);
    crate::model::addr_text::push_ip(&mut text, ip);
    dns_names.get(text.as_str()).and_then(|n| {
        n.as_deref()
            .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
    })
}

/// Requests to local helpers awaiting their answer, at most this many (a flood keeps
/// the newest).
const MAX_WINDOWS: usize = 64;

/// A proxy request to a loopback proxy, from when it was sent to its answer (or the
/// end of its connection).
struct Window {
    helper: SocketAddr,
    start: Timestamp,
    end: Timestamp,
    target_port: Option<u16>,
    target_host: Option<String>,
}

/// Finds the parents of local proxy helpers (cntlm, px): a helper serves its client's
/// request by connecting to its parent proxy, so a connection to a non-loopback
/// server that starts while a request to a loopback proxy awaits its answer, to
/// another port than the request's target (and not to the target's address by name),
/// and that carried proxy requests or nothing at all (refused, unanswered), is that
/// helper's leg to its parent. Fed the flows in capture order.
#[derive(Default)]
struct Chained {
    open: VecDeque<Window>,
    parents: FxHashMap<SocketAddr, SocketAddr>,
    helper_parent: FxHashMap<SocketAddr, SocketAddr>,
}

impl Chained {
    fn add(&mut self, f: &FlowBrief, dns_names: &HashMap<Arc<str>, Option<Arc<str>>>) {
        if f.transport != Transport::Tcp {
            return;
        }
        if f.server.ip().is_loopback() {
            for h in &f.proxy_requests {
                let Some(start) = h.request_ts else { continue };
                let end = h.response_time.map_or(f.last_ts, |s| {
                    Timestamp(start.0.saturating_add((s * 1e9) as i64))
                });
                let target = h.target.as_deref().map(no_proxy::target_host);
                let target_port = h.target.as_deref().and_then(target_port);
                if self.open.len() >= MAX_WINDOWS {
                    self.open.pop_front();
                }
                self.open.push_back(Window {
                    helper: f.server,
                    start,
                    end,
                    target_port,
                    target_host: target.map(|t| t.to_ascii_lowercase()),
                });
            }
            return;
        }
        let at = f.first_ts;
        self.open.retain(|w| w.end >= at);
        let leg =
            !f.proxy_requests.is_empty() || (!f.http && f.tls.is_none() && f.client_sent_nothing);
        if !leg {
            return;
        }
        let name = dns_name(dns_names, f.server.ip());
        let Some(w) = self.open.iter().find(|w| {
            w.start <= at
                && w.target_port != Some(f.server.port())
                && (name.is_none() || name != w.target_host)
        }) else {
            return;
        };
        self.parents.entry(f.server).or_insert(w.helper);
        self.helper_parent.entry(w.helper).or_insert(f.server);
    }
}

/// The port a proxy request's target names (`host:443`, `http://host/` → 80).
fn target_port(target: &str) -> Option<u16> {
    let (rest, default) = if let Some(r) = target.strip_prefix("http://") {
        (r, Some(80))
    } else if let Some(r) = target.strip_prefix("https://") {
        (r, Some(443))
    } else {
        (target, None)
    };
    let auth = rest.split('/').next().unwrap_or(rest);
    let auth = auth.rsplit('@').next().unwrap_or(auth);
    let port = match auth.rsplit_once(']') {
        Some((_, p)) => p.strip_prefix(':'),
        None => auth.rsplit_once(':').map(|(_, p)| p),
    };
    port.and_then(|p| p.parse().ok()).or(default)
}

/// TLS 1.3 hides the certificate; an issuer seen for the same name on another
/// connection (TLS 1.2) names the CA the client most likely refused (the
/// SSL-inspection rule says so). Gathered with the rest of the context: the first
/// inspecting issuer per SNI, and its flow.
fn note_issuer(
    roots: &PublicRoots,
    by_name: &mut HashMap<String, (String, usize)>,
    id: usize,
    f: &FlowBrief,
) {
    if let Some(t) = &f.tls
        && let Some(sni) = &t.sni
        && let Some((c, _)) = roots.inspecting_in(&t.certificates)
        && !by_name.contains_key(&**sni)
    {
        by_name.insert(sni.to_string(), (c.issuer.clone(), id));
    }
}

/// Evidence suffix of an exchange read from TLS decrypted with a key log: the finding
/// is seen, not inferred.
pub fn decrypted_note(h: &HttpExchange) -> &'static str {
    if h.decrypted {
        " (inside TLS, decrypted with the key log)"
    } else {
        ""
    }
}

/// Evidence frames of an exchange: its request's, then its response's, those seen.
pub fn exchange_frames(h: &HttpExchange) -> Vec<u64> {
    h.request_frame
        .iter()
        .chain(&h.response_frame)
        .map(|n| n.0)
        .collect()
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
        Box::<proxy_reach::Refused>::default(),
        Box::<proxy_auth::Check>::default(),
        Box::<ssl_inspection::Check>::default(),
        Box::<tls_refused::Check>::default(),
        Box::new(gateway::Check::new(ctx)),
        Box::<path_mtu::Check>::default(),
        Box::<timeouts::Check>::default(),
        Box::<timeouts::Slow>::default(),
        Box::<no_proxy::Check>::default(),
        Box::<proxy_bypass::Check>::default(),
        Box::<proxy_misuse::Check>::default(),
        Box::<resets::Check>::default(),
        Box::<snaplen::Check>::default(),
    ];
    for (id, f) in ctx.flows() {
        for r in &mut rules {
            r.visit(ctx, id, &f);
        }
        also(id, &f);
    }
    rules.into_iter().flat_map(|r| r.finish(ctx)).collect()
}

#[cfg(test)]
mod tests {
    use super::target_port;

    #[test]
    fn target_ports() {
        assert_eq!(target_port("api.anthropic.com:443"), Some(443));
        assert_eq!(target_port("[2001:db8::1]:8443"), Some(8443));
        assert_eq!(target_port("http://example.com/x:1"), Some(80));
        assert_eq!(target_port("https://u:p@example.com:4000/"), Some(4000));
        assert_eq!(target_port("example.com"), None);
    }
}
