//! The proxy used wrongly, or refusing on its own account: TLS spoken to a plain HTTP
//! proxy port (an `https://` proxy URL), and error pages from the proxy itself
//! (policy blocks, upstream failures).

use super::no_proxy::{local_reason, target_host};
use super::{Ctx, Rule, is_proxy_request};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;

#[derive(Default)]
pub struct Check {
    tls_to_proxy: Option<Finding>,
    proxy_error: Option<Finding>,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            tls_to_proxy,
            proxy_error,
        } = self;
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = f.server.to_string();
        let vars = [("proxy", proxy.clone())];
        // A ClientHello as the first bytes to the proxy, no CONNECT before it.
        if let Some(t) = &f.app.tls
            && t.server_hello_frame.is_none()
            && !f.app.http.iter().any(is_proxy_request)
            && !f.app.tls_in_tunnel
            && let Some(ch) = t.client_hello_frame
        {
            tls_to_proxy
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::TlsToPlainProxy,
                        Severity::Error,
                        format!("TLS sent straight to proxy {proxy}, which speaks plain HTTP"),
                        "The client opened the connection to the proxy with a TLS \
                         ClientHello instead of a CONNECT request, and the proxy did not \
                         answer with TLS: the proxy URL says https:// for a proxy that \
                         expects http://."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    vec![ch.0],
                    format!(
                        "ClientHello{} in frame {ch}, no ServerHello",
                        t.sni
                            .as_deref()
                            .map(|s| format!(" for {s}"))
                            .unwrap_or_default()
                    ),
                    None,
                ));
        }
        for h in &f.app.http {
            let Some(status) = h.status else { continue };
            if !is_proxy_request(h) || !matches!(status, 403 | 502 | 503) {
                continue;
            }
            // Local targets through the proxy are section 6's finding.
            if h.target
                .as_deref()
                .is_some_and(|t| local_reason(&target_host(t), ctx.cfg).is_some())
            {
                continue;
            }
            let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            frames.extend(h.response_frame.map(|f| f.0));
            let detail = h
                .x_squid_error
                .as_deref()
                .map(|e| format!("; X-Squid-Error: {e}"))
                .unwrap_or_default();
            proxy_error
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::ProxyErrorResponse,
                        Severity::Error,
                        format!("Proxy {proxy} refused {} ({status})", request_line(h)),
                        if status == 403 {
                            "The proxy itself answered 403 Forbidden: its policy blocks this \
                             destination (category filter, allow list). Ask IT to allow the \
                             host; no client setting fixes this."
                                .to_string()
                        } else {
                            format!(
                                "The proxy answered {status}: it could not reach or use the \
                                 destination (upstream down, DNS failure at the proxy, or the \
                                 proxy overloaded)."
                            )
                        },
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!("{} → {}{detail}", request_line(h), status_line(h)),
                    h.request_ts,
                ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            tls_to_proxy,
            proxy_error,
        } = *self;
        [tls_to_proxy, proxy_error].into_iter().flatten().collect()
    }
}
