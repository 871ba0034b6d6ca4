//! Guide section 5: requests without answer, rate limiting, lossy paths.

use super::proxy_misuse::{client_gave_up_first, squid_error_detail};
use super::{Ctx, Rule};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::latency::{self, Stage};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::decode::tcp::ConnState;
use crate::flow::record::FlowSummary;
use crate::flow::record::Transport;
use crate::model::Timestamp;
use crate::protocols::http::HttpExchange;

/// When the client closed a connection the server had not closed before it (its FIN,
/// or its RST without a FIN): the client gave up on the connection.
fn client_closed_first(f: &FlowSummary) -> Option<Timestamp> {
    let h = &*f.history;
    let (server_fin, client_fin) = (h.find('f'), h.find('F'));
    match (f.client_fin, f.rst) {
        // The client's FIN came first, or the server never sent one.
        (Some((_, ts)), _) if server_fin.is_none_or(|s| client_fin.is_some_and(|c| c < s)) => {
            Some(ts)
        }
        (None, Some((crate::model::Dir::ToServer, _))) if server_fin.is_none() => Some(f.last_ts),
        _ => None,
    }
}

/// Share of retransmitted segments above which a path counts as lossy.
const RETRANSMIT_RATE: f64 = 0.1;
const RETRANSMIT_MIN_PACKETS: u64 = 20;
/// On a connection to a proxy: at least this many retransmitted segments, making up
/// at least PROXY_RETRANSMIT_RATE of its packets, count as packet loss. A long
/// download with two segments reordered on the way is not a lossy path (0.2 % in the
/// generated workload; the lab's lossy path shows 10 %).
const PROXY_RETRANSMITS: u64 = 3;
const PROXY_RETRANSMIT_RATE: f64 = 0.02;

#[derive(Default)]
pub struct Check {
    unanswered: Option<Finding>,
    limited: Option<Finding>,
    lossy: Option<Finding>,
    /// Per answering host: when its first 429 was asked for, and when its latest 2xx.
    outcomes: std::collections::HashMap<String, (Option<Timestamp>, Option<Timestamp>)>,
}

/// The host a request was answered by: through a proxy the origin named in the
/// request, not the proxy.
/// Read from a decrypted tunnel: the host it was for (its Host header).
pub(super) fn answering_host(h: &HttpExchange, server: &str) -> String {
    if h.decrypted
        && let Some(host) = h.whole_host()
    {
        return super::no_proxy::target_host(host);
    }
    match h.whole_target() {
        Some(t) if h.is_proxy_request() && h.method.as_deref() != Some("CONNECT") => {
            super::no_proxy::target_host(t)
        }
        _ => server.to_string(),
    }
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            unanswered,
            limited,
            lossy,
            outcomes,
        } = self;
        if f.transport != Transport::Tcp {
            return;
        }
        let server = crate::model::addr_text::socket(f.server);
        let vars = [("proxy", server.clone()), ("host", server.clone())];
        for h in &f.app.http {
            // A request the server answered with a reset is `resets`' finding.
            let reset_by_server = matches!(f.rst, Some((crate::model::Dir::ToClient, _)));
            let asked = h.request_ts.unwrap_or(f.first_ts);
            // On a connection still open (capture stopped, or live) the request may
            // simply not be answered yet: judge it against "now" and the stall limit.
            let still_open = matches!(f.state, ConnState::S1 | ConnState::OTH);
            let waited = if still_open {
                let now = ctx
                    .cfg
                    .now
                    .or(ctx.capture.input.last_ts)
                    .unwrap_or(f.last_ts);
                now.secs_since(asked).max(0.0)
            } else {
                f.last_ts.secs_since(asked).max(0.0)
            };
            let stalled = !still_open || waited >= ctx.cfg.stall_secs;
            // The client closed before the answer started: its own time-out fired first.
            let gave_up = if h.method.is_some() && h.status.is_some() {
                client_gave_up_first(f, h)
            } else {
                None
            };
            // A proxy that closed the connection at once refused it: `resets`'.
            let refused = ctx.is_proxy(f) && super::resets::closed_unanswered(f, h);
            // Server bytes cut by the snap length may hold the response.
            let cut = f.snaplen_bytes[1] > 0;
            // So may server bytes given up at a buffer cap.
            let shed = f.cap_hits[1] > 0;
            let no_answer = h.method.is_some()
                && h.no_response_seen()
                && !h.tunnel
                && !reset_by_server
                && !refused
                && !cut
                && !shed
                && stalled;
            if no_answer || gave_up.is_some() {
                let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
                let closed_first = client_closed_first(f);
                let seen = match gave_up {
                    Some(secs) => {
                        frames.extend(f.client_fin.map(|(n, _)| n.0));
                        frames.extend(h.response_frame.map(|n| n.0));
                        format!(
                            "{}: the client closed after {secs:.1} s without an answer; {} \
                             came later, {:.1} s after the request{}",
                            request_line(h),
                            status_line(h),
                            h.response_time.unwrap_or_default(),
                            squid_error_detail(h.x_squid_error.as_deref())
                        )
                    }
                    None => match closed_first {
                        Some(fin_ts) if !still_open => format!(
                            "{} unanswered; the client closed {:.1} s after it",
                            request_line(h),
                            fin_ts.secs_since(asked).max(0.0)
                        ),
                        _ => format!("{} unanswered after {waited:.1} s", request_line(h)),
                    },
                };
                let gave_up = gave_up.or_else(|| {
                    closed_first
                        .filter(|_| !still_open)
                        .map(|ts| ts.secs_since(asked).max(0.0))
                });
                unanswered
                    .get_or_insert_with(|| {
                        let title = match gave_up {
                            Some(secs) if h.status.is_some() => format!(
                                "{} to {server}: the client gave up after {secs:.1} s, \
                                 before the answer",
                                request_line(h)
                            ),
                            Some(secs) => format!(
                                "{} to {server} got no answer: the client gave up after \
                                 {secs:.1} s",
                                request_line(h)
                            ),
                            None => format!("{} to {server} got no answer", request_line(h)),
                        };
                        Finding::new(
                            FindingKind::RequestUnanswered,
                            Severity::Error,
                            title,
                            "A request was sent and no response came back before the \
                             connection ended or the capture stopped: the proxy, gateway or \
                             provider is too slow or the path is stalled."
                                .to_string(),
                            &vars,
                        )
                    })
                    .push(ctx.ev(id, f, frames, seen, h.request_ts));
            }
            let asked_at = h.request_ts.unwrap_or(f.first_ts);
            if let Some(st) = h.status
                && (st == 429
                    || ((200..300).contains(&st) && h.method.as_deref() != Some("CONNECT")))
            {
                let (first_429, last_ok) = outcomes.entry(answering_host(h, &server)).or_default();
                if st == 429 {
                    *first_429 = Some(first_429.map_or(asked_at, |t| t.min(asked_at)));
                } else {
                    *last_ok = Some(last_ok.map_or(asked_at, |t| t.max(asked_at)));
                }
            }
            if h.status == Some(429) {
                // Through a proxy, name the host that answered, not the proxy.
                let server = answering_host(h, &server);
                let frames: Vec<u64> = h.response_frame.iter().map(|f| f.0).collect();
                // The gateway's own limit (its rpm / tpm, deployments cooling down), not
                // a provider's 429 that it relays (`RateLimitError: AnthropicException`).
                let gateway_own = ctx.is_gateway(f)
                    && !h
                        .error_message
                        .as_deref()
                        .is_some_and(super::gateway::relayed_provider_error);
                limited
                    .get_or_insert_with(|| {
                        if gateway_own {
                            let vars = [("gateway", server.clone())];
                            let mut found = Finding::new(
                                FindingKind::RateLimited,
                                Severity::Warning,
                                format!("The gateway {server} throttles requests itself (429)"),
                                "The gateway answered 429 Too Many Requests on its own \
                                 account: the limits it enforces (a deployment's rpm / tpm, a \
                                 key's or team's budget) are spent, or every deployment of \
                                 the model is cooling down after failures (LiteLLM: \"No \
                                 deployments available\"). The provider was not asked; \
                                 retries must wait."
                                    .to_string(),
                                &vars,
                            );
                            found.remedy = crate::remedies::steps(&[(0, 12), (5, 4)], &vars);
                            return found;
                        }
                        Finding::new(
                            FindingKind::RateLimited,
                            Severity::Warning,
                            format!("Rate limited by {server} (429)"),
                            "The server answered 429 Too Many Requests: requests are being \
                             throttled; retries must wait."
                                .to_string(),
                            &vars,
                        )
                    })
                    .push(ctx.ev(
                        id,
                        f,
                        frames,
                        format!(
                            "{}{}{}{}",
                            status_line(h),
                            h.error_message
                                .as_deref()
                                .filter(|_| gateway_own)
                                .map(|m| format!(": {}", super::gateway::short_error(m)))
                                .unwrap_or_default(),
                            h.retry_after
                                .as_deref()
                                .map(|r| format!("; Retry-After: {r}"))
                                .unwrap_or_default(),
                            super::decrypted_note(h)
                        ),
                        h.request_ts,
                    ));
            }
        }
        if let Some(s) = super::tls_wait::silence(ctx, f) {
            let name = f
                .app
                .tls
                .as_deref()
                .and_then(|t| t.sni.as_deref())
                .map_or_else(|| server.clone(), str::to_string);
            let via = if name == server {
                String::new()
            } else {
                format!(" (via {server})")
            };
            let seen = if s.client_closed {
                format!(
                    "TLS to {name}: no answer to the client's last application data; the \
                     client closed {:.1} s after it",
                    s.secs
                )
            } else {
                format!(
                    "TLS to {name}: no answer to the client's last application data for \
                     {:.1} s, until the capture ended",
                    s.secs
                )
            };
            let ts = f.app.tls.as_deref().and_then(|t| t.client_last_app_ts);
            unanswered
                .get_or_insert_with(|| {
                    let title = if s.client_closed {
                        format!(
                            "Request inside TLS to {name}{via} got no answer: the client gave \
                             up after {:.1} s",
                            s.secs
                        )
                    } else {
                        format!("Request inside TLS to {name}{via} got no answer")
                    };
                    Finding::new(
                        FindingKind::RequestUnanswered,
                        Severity::Error,
                        title,
                        "A request was sent and no response came back before the \
                         connection ended or the capture stopped: the proxy, gateway or \
                         provider is too slow or the path is stalled. Inside TLS the \
                         request cannot be read: the silence is timed from the client's \
                         last encrypted application record (session tickets and alerts \
                         are not answers)."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(id, f, s.frames, seen, ts));
        }
        let packets = f.packets[0] + f.packets[1];
        let retx = f.retransmissions[0] + f.retransmissions[1];
        // On the short path to a proxy any repeated loss is abnormal; elsewhere only a
        // high rate is.
        let lossy_path = if ctx.is_proxy(f) {
            retx >= PROXY_RETRANSMITS
                && retx as f64 / packets.max(1) as f64 >= PROXY_RETRANSMIT_RATE
        } else {
            packets >= RETRANSMIT_MIN_PACKETS && retx as f64 / packets as f64 > RETRANSMIT_RATE
        };
        // Retransmissions of packets a router refused as too big are the path-MTU
        // finding's.
        if lossy_path && super::path_mtu::black_hole(f).is_none() {
            lossy
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::HighRetransmissions,
                        Severity::Warning,
                        format!("Many retransmissions on the path to {server}"),
                        "TCP segments had to be sent again: packets are lost on the way \
                         (a congested or faulty link, an overloaded proxy), which slows \
                         every request and can end in timeouts."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    vec![f.first_frame.0, f.last_frame.0],
                    format!("{retx} retransmissions in {packets} packets"),
                    None,
                ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            unanswered,
            mut limited,
            lossy,
            outcomes,
        } = *self;
        // Throttled and never through afterwards: the client ended without its answer.
        if let Some(l) = limited.as_mut() {
            // A host that answered 429 and never 2xx to a request asked later.
            let stuck = outcomes
                .values()
                .any(|(first_429, last_ok)| match first_429 {
                    Some(a) => !last_ok.is_some_and(|b| b > *a),
                    None => false,
                });
            if stuck {
                l.severity = Severity::Error;
                l.explanation.push_str(
                    " No request to the throttled host succeeded after its first 429 in this \
                     capture: the client never got its answer.",
                );
            } else {
                l.explanation.push_str(
                    " A later request to the throttled host succeeded: the client got \
                     through after waiting.",
                );
            }
        }
        [unanswered, limited, lossy].into_iter().flatten().collect()
    }
}

/// Responses (or answers to CONNECT) that started later than `--slow-ms`.
#[derive(Default)]
pub struct Slow {
    found: Option<Finding>,
}

impl Rule for Slow {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let limit = ctx.cfg.slow_ms as f64 / 1000.0;
        let found = &mut self.found;
        latency::flow_samples(ctx.is_proxy(f), id, f, limit, &mut |s| {
            if !matches!(s.stage, Stage::FirstByte | Stage::Connect) || s.seconds <= limit {
                return;
            }
            let server = crate::model::addr_text::socket(f.server);
            found
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::SlowResponse,
                        Severity::Warning,
                        format!(
                            "Slow answer from {server}: {} took {:.1} s",
                            s.stage.label(),
                            s.seconds
                        ),
                        format!(
                            "The first byte of the answer came more than {limit:.1} s \
                         (--slow-ms {}) after the request: clients with shorter time-outs \
                         give up before it arrives. The wait is on the server's side \
                         ({server}): the gateway, the proxy or the provider behind them.",
                            ctx.cfg.slow_ms
                        ),
                        &[("proxy", server.clone()), ("host", server.clone())],
                    )
                })
                .push(ctx.ev(
                    s.flow,
                    f,
                    s.frames.clone(),
                    format!("{}: {:.3} s ({})", s.what, s.seconds, s.stage.label()),
                    None,
                ));
        });
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        self.found.into_iter().collect()
    }
}
