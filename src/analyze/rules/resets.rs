//! Resets the guide does not name, by the proxy: right after CONNECT (policy block),
//! during the TLS handshake right after the ClientHello (SNI filtering, inspection
//! failure), or mid-stream (idle timeout). Which side, when, after what.

use super::{Ctx, Rule, is_proxy_request};
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

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            after_connect,
            in_handshake,
            mid_stream,
        } = self;
        let Some((Dir::ToClient, rst)) = f.rst else {
            return;
        };
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = f.server.to_string();
        let vars = [("proxy", proxy.clone())];
        let unanswered = f
            .app
            .http
            .iter()
            .rev()
            .find(|h| is_proxy_request(h) && h.status.is_none());
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
