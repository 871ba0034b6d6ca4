//! Resets the guide does not name, by the proxy: right after CONNECT (policy block),
//! during the TLS handshake right after the ClientHello (SNI filtering, inspection
//! failure), or mid-stream (idle timeout). Which side, when, after what.

use super::{Ctx, Rule};
use crate::analyze::http_lines::request_line;
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use crate::model::Dir;

#[derive(Default)]
pub struct Check {
    after_connect: Option<Finding>,
    in_handshake: Option<Finding>,
    mid_stream: Option<Finding>,
}

/// The server closed (FIN, before the client did, no reset) a connection whose request
/// it never answered, within [`super::tls_wait::MIN_WAIT_SECS`] of the request: a
/// refusal, not a wait (a proxy helper whose own upstream request failed does this).
pub fn closed_unanswered(f: &FlowSummary, h: &crate::protocols::http::HttpExchange) -> bool {
    let hist = &*f.history;
    let server_first = match (hist.find('f'), hist.find('F')) {
        (Some(s), Some(c)) => s < c,
        (Some(_), None) => true,
        _ => false,
    };
    let asked = h.request_ts.unwrap_or(f.first_ts);
    // A response may be in the server's bytes the snap length cut.
    h.method.is_some()
        && h.no_response_seen()
        && f.snaplen_bytes[1] == 0
        && !h.tunnel
        && f.rst.is_none()
        && server_first
        && f.last_ts.secs_since(asked) < super::tls_wait::MIN_WAIT_SECS
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            after_connect,
            in_handshake,
            mid_stream,
        } = self;
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = crate::model::addr_text::socket(f.server);
        let vars = [("proxy", proxy.clone())];
        if let Some(h) = f
            .app
            .http
            .iter()
            .find(|h| h.is_proxy_request() && closed_unanswered(f, h))
        {
            let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            frames.push(f.last_frame.0);
            let parent = ctx.parent_of(&f.server);
            after_connect
                .get_or_insert_with(|| {
                    let mut found = Finding::new(
                        FindingKind::ProxyResetAfterRequest,
                        Severity::Error,
                        format!(
                            "Proxy {proxy} closed the connection after {} without answering",
                            request_line(h)
                        ),
                        match parent {
                            Some(p) => format!(
                                "The local proxy helper {proxy} closed the client's \
                                 connection without any response: its own request to its \
                                 parent proxy {p} failed (the findings about {p} say why). \
                                 A refusal, not a time-out: the client was not kept waiting."
                            ),
                            None => "The proxy closed the connection without any response: \
                                     a refusal (a policy that silently blocks the \
                                     destination, or the proxy failing to forward it), not a \
                                     time-out."
                                .to_string(),
                        },
                        &vars,
                    );
                    if parent.is_some() {
                        // Its parent's findings carry the fix; this one only the test.
                        found.remedy = crate::remedies::steps(&[(0, 2)], &vars);
                    }
                    found
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!(
                        "{} → the proxy closed the connection (FIN) {:.3} s later, no response",
                        request_line(h),
                        f.last_ts
                            .secs_since(h.request_ts.unwrap_or(f.first_ts))
                            .max(0.0)
                    ),
                    h.request_ts,
                ));
            return;
        }
        let Some((Dir::ToClient, rst)) = f.rst else {
            return;
        };
        let unanswered = f
            .app
            .http
            .iter()
            .rev()
            .find(|h| h.is_proxy_request() && h.no_response_seen() && f.snaplen_bytes[1] == 0);
        if let Some(h) = unanswered {
            let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            frames.push(rst.0);
            after_connect
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::ProxyResetAfterRequest,
                        Severity::Error,
                        format!(
                            "Proxy {proxy} reset the connection after {}",
                            request_line(h)
                        ),
                        "The proxy answered the request with a TCP reset instead of a \
                         response: a policy that silently blocks the destination, or the \
                         proxy failing while handling it."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!("{} → RST from the proxy in frame {rst}", request_line(h)),
                    h.request_ts,
                ));
            return;
        }
        if let Some(t) = &f.app.tls
            && let Some(ch) = t.client_hello_frame
            && t.server_hello_frame.is_none()
        {
            let sni = t
                .sni
                .as_deref()
                .map(str::to_string)
                .unwrap_or_else(|| "?".to_string());
            in_handshake
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::ResetDuringTlsHandshake,
                        Severity::Error,
                        format!("Connection reset right after the ClientHello for {sni}"),
                        "The ClientHello got a TCP reset from the proxy's side instead of a \
                         ServerHello: the proxy filters this server name (SNI), or its TLS \
                         inspection failed to reach the real server."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    vec![ch.0, rst.0],
                    format!("ClientHello for {sni} in frame {ch}, RST from the proxy side in frame {rst}"),
                    None,
                ));
            return;
        }
        // After an error response the reset is the proxy hanging up on it, not a cut.
        let after_error = f
            .app
            .http
            .iter()
            .any(|h| h.status.is_some_and(|s| s >= 400));
        if f.bytes[0] > 0 && f.bytes[1] > 0 && !after_error {
            mid_stream
                .get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::ProxyResetMidStream,
                        Severity::Warning,
                        format!("Proxy {proxy} reset an established connection"),
                        "After data had flowed both ways the proxy side reset the \
                         connection: an idle timeout or a connection limit on the proxy cut \
                         it; long requests (streaming completions) are the first to suffer."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    vec![rst.0],
                    format!(
                        "RST from the proxy side in frame {rst}, {:.1} s into the connection",
                        f.last_ts.secs_since(f.first_ts).max(0.0)
                    ),
                    None,
                ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            after_connect,
            in_handshake,
            mid_stream,
        } = *self;
        [after_connect, in_handshake, mid_stream]
            .into_iter()
            .flatten()
            .collect()
    }
}
