//! The proxy used wrongly, or refusing on its own account: TLS spoken to a plain HTTP
//! proxy port (an `https://` proxy URL), and error pages from the proxy itself
//! (policy blocks, upstream failures).

use super::no_proxy::{local_reason, target_host};
use super::proxy_reach::first_at;
use super::{Ctx, Rule};
use crate::analyze::findings::PerTarget;
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;

/// The proxy's own error answers are one finding per proxy: each title names the
/// proxy that answered.
#[derive(Default)]
pub struct Check {
    tls_to_proxy: Option<Finding>,
    proxy_error: PerTarget,
    upstream_failed: PerTarget,
}

/// What a Squid `X-Squid-Error` value (`ERR_CONNECT_FAIL 110`) means, in words.
pub(super) fn squid_error_words(e: &str) -> Option<&'static str> {
    let mut it = e.split_whitespace();
    let code = it.next()?;
    let errno = it.next();
    Some(match (code, errno) {
        ("ERR_CONNECT_FAIL", Some("110")) => {
            "the proxy's connection to the destination timed out (errno 110)"
        }
        ("ERR_CONNECT_FAIL", Some("111")) => {
            "the destination refused the proxy's connection (errno 111: nothing listens there)"
        }
        ("ERR_CONNECT_FAIL", Some("113")) => {
            "the proxy has no route to the destination (errno 113)"
        }
        ("ERR_CONNECT_FAIL", _) => "the proxy could not connect to the destination",
        ("ERR_DNS_FAIL", _) => "the proxy could not resolve the destination's name",
        ("ERR_CANNOT_FORWARD", _) => {
            "the proxy cannot resolve or reach the destination (no usable address or route)"
        }
        ("ERR_READ_TIMEOUT", _) => "the destination stopped answering the proxy (read timeout)",
        ("ERR_GATEWAY_FAILURE", _) => "the proxy's upstream gateway failed",
        ("ERR_ACCESS_DENIED", _) => "the proxy's access rules (ACL) deny this request",
        _ => return None,
    })
}

/// `; X-Squid-Error: E (meaning)` for an evidence line, or nothing.
pub(super) fn squid_error_detail(e: Option<&str>) -> String {
    e.map(|e| match squid_error_words(e) {
        Some(w) => format!("; X-Squid-Error: {e} — {w}"),
        None => format!("; X-Squid-Error: {e}"),
    })
    .unwrap_or_default()
}

/// The client closed its side before this exchange's response started: it gave up
/// waiting (its own time-out), so the response came too late to matter.
pub(super) fn client_gave_up_first(
    f: &FlowSummary,
    h: &crate::protocols::http::HttpExchange,
) -> Option<f64> {
    let (_, fin_ts) = f.client_fin?;
    let asked = h.request_ts?;
    let gave_up = fin_ts.secs_since(asked);
    let answered = h.response_time?;
    (gave_up >= 0.0 && gave_up < answered).then_some(gave_up)
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            tls_to_proxy,
            proxy_error,
            upstream_failed,
        } = self;
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = crate::model::addr_text::socket(f.server);
        let vars = [("proxy", proxy.clone())];
        // A ClientHello as the first bytes to the proxy, no CONNECT before it.
        if let Some(t) = &f.app.tls
            && t.server_hello_frame.is_none()
            && !f.app.http.iter().any(|h| h.is_proxy_request())
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
            let upstream = matches!(status, 500 | 502 | 503 | 504);
            if !h.is_proxy_request() || !(status == 403 || upstream) {
                continue;
            }
            // Local targets through the proxy are section 6's finding.
            if h.whole_target()
                .is_some_and(|t| local_reason(&target_host(t), ctx.cfg).is_some())
            {
                continue;
            }
            // An answer after the client gave up is the client's time-out (`timeouts`).
            if upstream && client_gave_up_first(f, h).is_some() {
                continue;
            }
            let mut frames = super::exchange_frames(h);
            let parent = ctx.parent_of(&f.server).filter(|_| upstream);
            if parent.is_some()
                && let Some((crate::model::Dir::ToServer, rst)) = f.rst
            {
                // The client hung up on the helper's error.
                frames.push(rst.0);
            }
            let detail = squid_error_detail(h.x_squid_error.as_deref());
            // How long the proxy took to give up on the destination (a connect timeout).
            let waited = h
                .response_time
                .filter(|&t| upstream && t >= 1.0)
                .map(|t| format!(" (after {t:.1} s)"))
                .unwrap_or_default();
            let slot = if upstream {
                &mut *upstream_failed
            } else {
                &mut *proxy_error
            };
            let Some(found) = slot.finding(&proxy, || {
                if upstream {
                    let why = h
                        .x_squid_error
                        .as_deref()
                        .and_then(squid_error_words)
                        .map(|w| format!(" Here {w}."))
                        .unwrap_or_default();
                    if let Some(p) = parent {
                        // The helper relays; whom to ask about the destination is
                        // its parent.
                        let parent_vars = [("proxy", p.to_string())];
                        return Some(Finding::new(
                            FindingKind::ProxyUpstreamFailed,
                            Severity::Error,
                            format!(
                                "Local proxy helper {proxy} could not get {} through its \
                                 parent proxy {p} ({status})",
                                request_line(h)
                            ),
                            format!(
                                "The local helper {proxy} (cntlm or the like) answered \
                                 {status} itself: it forwards each request to its parent \
                                 proxy {p}, and that failed (the findings about {p} say \
                                 why).{why}"
                            ),
                            &parent_vars,
                        ));
                    }
                    Finding::new(
                        FindingKind::ProxyUpstreamFailed,
                        Severity::Error,
                        format!(
                            "Proxy {proxy} could not reach the destination of {} ({status})",
                            request_line(h)
                        ),
                        format!(
                            "The proxy itself answered {status}: it is reachable and accepted \
                             the request, but it could not resolve or connect to the next hop \
                             (the destination, or a parent proxy it forwards to): DNS failure \
                             at the proxy, destination down or filtered, wrong host or port.\
                             {why}"
                        ),
                        &vars,
                    )
                } else {
                    Finding::new(
                        FindingKind::ProxyErrorResponse,
                        Severity::Error,
                        format!("Proxy {proxy} refused {} ({status})", request_line(h)),
                        "The proxy itself answered 403 Forbidden: its policy blocks this \
                         destination (category filter, allow list). Ask IT to allow the \
                         host; no client setting fixes this."
                            .to_string(),
                        &vars,
                    )
                }
                .into()
            }) else {
                continue;
            };
            found.push(ctx.ev(
                id,
                f,
                frames,
                format!("{} → {}{waited}{detail}", request_line(h), status_line(h)),
                h.request_ts,
            ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            tls_to_proxy,
            proxy_error,
            upstream_failed,
        } = *self;
        // Per proxy, in the order they first answered with their error.
        let in_time_order = |p: PerTarget| {
            let mut v: Vec<Finding> = p.into_findings().collect();
            v.sort_by(|a, b| first_at(a).total_cmp(&first_at(b)));
            v
        };
        tls_to_proxy
            .into_iter()
            .chain(in_time_order(proxy_error))
            .chain(in_time_order(upstream_failed))
            .collect()
    }
}
