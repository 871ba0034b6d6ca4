//! Guide section 6: traffic for local or internal hosts sent through the proxy.

use super::{Ctx, Rule};
use crate::analyze::http_lines::request_line;
use crate::analyze::{Config, Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use std::net::IpAddr;

/// The host part of `host:port`, `[v6]:port` or an absolute URL.
pub fn target_host(target: &str) -> String {
    let t = crate::protocols::http::strip_http_scheme(target).unwrap_or(target);
    let auth = t.split('/').next().unwrap_or(t);
    let auth = auth.rsplit('@').next().unwrap_or(auth);
    if let Some(rest) = auth.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match auth.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h.to_string(),
        _ => auth.to_string(),
    }
    .to_ascii_lowercase()
}

/// Why a host should bypass the proxy, if it should (internal suffixes: the defaults
/// and `--internal-suffix`).
pub fn local_reason(host: &str, cfg: &Config) -> Option<&'static str> {
    if host == "localhost" || host.ends_with(".localhost") {
        return Some("loopback name");
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match ip {
            IpAddr::V4(v) if v.is_loopback() => Some("loopback address"),
            IpAddr::V4(v) if v.is_private() => Some("private address"),
            IpAddr::V4(v) if v.is_link_local() => Some("link-local address"),
            IpAddr::V6(v) if v.is_loopback() => Some("loopback address"),
            IpAddr::V6(v) if (v.segments()[0] & 0xfe00) == 0xfc00 => Some("private address"),
            IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80 => Some("link-local address"),
            _ => None,
        };
    }
    cfg.is_internal_name(host).then_some("internal name")
}

#[derive(Default)]
pub struct Check {
    found: Option<Finding>,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check { found } = self;
        for h in &f.app.http {
            if !h.is_proxy_request() {
                continue;
            }
            let Some(target) = h.whole_target() else {
                continue;
            };
            let host = target_host(target);
            let Some(reason) = local_reason(&host, ctx.cfg) else {
                continue;
            };
            let proxy = crate::model::addr_text::socket(f.server);
            let frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            found
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::NoProxyNotMatching,
                        Severity::Error,
                        format!("Request for {host} went through proxy {proxy}"),
                        format!(
                            "{host} is a {reason}, which should be reached directly, but the \
                             client sent it to the proxy: NO_PROXY does not match it (wrong \
                             pattern, lower/upper case variable conflict, or a tool that \
                             ignores NO_PROXY)."
                        ),
                        &[("proxy", proxy.clone()), ("host", host.clone())],
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!("{} via {proxy}", request_line(h)),
                    h.request_ts,
                ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check { found } = *self;
        found.into_iter().collect()
    }
}
