//! The rules, one file per guide area. Each is a function over the capture context.

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
use super::{Config, Evidence, Finding};
use crate::decode::flows::{FlowSummary, Transport};
use crate::model::Timestamp;
use crate::pipeline::CaptureAnalysis;
use crate::protocols::http::HttpExchange;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

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
    /// The certificate chains presented in this capture, with the trust stores'
    /// verdicts.
    pub chains: Vec<Chain>,
}

impl<'a> Ctx<'a> {
    pub fn new(capture: &'a CaptureAnalysis, base: usize, cfg: &'a Config) -> Ctx<'a> {
        let mut proxies = HashSet::new();
        let mut proxy_name_addrs = HashSet::new();
        for f in &capture.flows {
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
            }
        }
        let mut chains = Vec::new();
        crate::analyze::chains::collect_into(&mut chains, capture, base, cfg);
        Ctx {
            capture,
            base,
            cfg,
            proxies,
            proxy_name_addrs,
            chains,
        }
    }

    /// The name DNS answered with this address, if the capture shows one.
    pub fn name_for(&self, ip: IpAddr) -> Option<String> {
        let text = ip.to_string();
        self.capture
            .flows
            .iter()
            .flat_map(|f| f.app.dns.iter())
            .find(|q| q.answers.iter().any(|a| **a == *text))
            .and_then(|q| q.query.as_deref().map(str::to_string))
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

    /// Flows with their 1-based report ids.
    pub fn flows(&self) -> impl Iterator<Item = (usize, &'a FlowSummary)> + '_ {
        self.capture
            .flows
            .iter()
            .enumerate()
            .map(|(i, f)| (self.base + i + 1, &**f))
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

/// The request line as sent, e.g. `CONNECT api.anthropic.com:443`.
pub fn request_line(h: &HttpExchange) -> String {
    format!(
        "{} {}",
        h.method.as_deref().unwrap_or("?"),
        h.target.as_deref().unwrap_or("?")
    )
}

/// The status line as received, e.g. `HTTP/1.1 407 Proxy Authentication Required`.
pub fn status_line(h: &HttpExchange) -> String {
    format!(
        "HTTP/{} {} {}",
        h.response_version.as_deref().unwrap_or("1.1"),
        h.status.map_or_else(|| "?".to_string(), |s| s.to_string()),
        h.reason.as_deref().unwrap_or("")
    )
    .trim_end()
    .to_string()
}

/// Runs every rule.
pub fn run(ctx: &Ctx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(proxy_reach::check(ctx));
    out.extend(proxy_auth::check(ctx));
    out.extend(ssl_inspection::check(ctx));
    out.extend(gateway::check(ctx));
    out.extend(timeouts::check(ctx));
    out.extend(no_proxy::check(ctx));
    out.extend(proxy_bypass::check(ctx));
    out.extend(proxy_misuse::check(ctx));
    out.extend(resets::check(ctx));
    out
}
