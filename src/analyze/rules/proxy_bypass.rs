//! Guide section 6 (root causes 2 and 4): a web connection made directly instead of
//! through the proxy, and failing — the tool ignored the proxy variables (curl reads
//! only lowercase `http_proxy` for http:// URLs) or NO_PROXY listed the host.

use super::{Ctx, Rule};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::FlowSummary;
use crate::flow::record::Transport;
use std::collections::HashSet;

#[derive(Default)]
pub struct Check {
    /// Clients seen talking to a proxy.
    proxy_clients: HashSet<std::net::IpAddr>,
    /// Failed direct connections, reported once every proxy client is known.
    failed: Vec<usize>,
    found: Option<Finding>,
}

impl Check {
    fn report(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            proxy_clients,
            found,
            ..
        } = self;
        let host = match ctx.name_for(f.server.ip()) {
            Some(name) => format!("{name}:{} ({})", f.server.port(), f.server.ip()),
            None => crate::model::addr_text::socket(f.server),
        };
        let name = ctx
            .name_for(f.server.ip())
            .unwrap_or_else(|| f.server.ip().to_string());
        let uses_proxy = proxy_clients.contains(&f.client.ip());
        let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
        found
            .get_or_insert_with(|| {
                Finding::new(
                    FindingKind::DirectConnectionFailed,
                    Severity::Warning,
                    if uses_proxy {
                        format!(
                            "Direct connection to {host} failed while other traffic uses a proxy"
                        )
                    } else {
                        format!("Direct connection to {host} failed: no proxy was used")
                    },
                    format!(
                        "The client tried to reach the web server {host} directly{} and got \
                         no connection; behind a corporate firewall web traffic must go \
                         through the proxy. The tool ignored the proxy variables (curl reads \
                         only lowercase http_proxy for http:// URLs, so an uppercase \
                         HTTP_PROXY alone is ignored), or NO_PROXY lists the host.",
                        if uses_proxy {
                            " although it uses a proxy for other requests"
                        } else {
                            ""
                        }
                    ),
                    &[("host", name.clone())],
                )
            })
            .push(ctx.ev(
                id,
                f,
                vec![syn, f.last_frame.0],
                format!(
                    "{} SYN(s) to {host}, {}",
                    f.client_syns.max(1),
                    if f.state == ConnState::REJ {
                        "refused"
                    } else {
                        "never answered"
                    }
                ),
                None,
            ));
    }
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        if ctx.proxies.contains(&f.server) {
            self.proxy_clients.insert(f.client.ip());
        }
        if f.transport != Transport::Tcp
            || !matches!(f.server.port(), 80 | 443)
            || ctx.is_proxy(f)
            || f.server.ip().is_loopback()
            || !matches!(f.state, ConnState::S0 | ConnState::REJ)
            || ctx.fallback_of(id).is_some()
        {
            return;
        }
        self.failed.push(id);
    }

    fn finish(mut self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        for id in std::mem::take(&mut self.failed) {
            if let Some(f) = ctx.flow(id) {
                self.report(ctx, id, &f);
            }
        }
        self.found.into_iter().collect()
    }
}
