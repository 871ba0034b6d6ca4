//! Guide section 4 (the local gateway does not answer or is unhealthy) and section 7
//! (API key refused by the gateway or the provider).

use super::{Ctx, Rule, is_proxy_request};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::FlowSummary;
use crate::protocols::secrets::redact_text;

/// Masks the secrets in a provider's error text. The decoder masked it already; this
/// guards evidence text built from it, and leaves masked keys (`sk-ant-api03-…3f9a`)
/// as they are.
pub fn mask_secrets(text: &str) -> String {
    redact_text(text)
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

pub struct Check {
    down: Option<Finding>,
    unhealthy: Option<Finding>,
    key: Option<Finding>,
    gw_port: String,
}

impl Check {
    pub fn new(ctx: &Ctx<'_>) -> Check {
        Check {
            down: None,
            unhealthy: None,
            key: None,
            gw_port: ctx.cfg.gateway_port.to_string(),
        }
    }
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            down,
            unhealthy,
            key,
            gw_port,
        } = self;
        if ctx.is_gateway(f) {
            let gw = f.server.to_string();
            let vars = [("gateway", gw.clone()), ("port", gw_port.clone())];
            let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
            // A refused address the client made good on at once (happy eyeballs) is
            // `proxy_reach::Refused`'s: information, not a dead gateway.
            let fell_back = ctx.fallback_of(id).is_some();
            if (f.state == ConnState::REJ && !fell_back)
                || (f.state == ConnState::S0 && f.packets[1] == 0)
            {
                let refused = f.state == ConnState::REJ;
                down.get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::GatewayNotListening,
                        Severity::Error,
                        format!("Nothing answers on the gateway port {gw}"),
                        format!(
                            "Connections to the LLM gateway on {gw} were {}: the gateway \
                             (LiteLLM) is not running, crashed, or listens on another port.",
                            if refused {
                                "refused (RST answering the SYN)"
                            } else {
                                "never answered"
                            }
                        ),
                        &vars,
                    )
                })
                .push(ctx.ev(
                    id,
                    f,
                    vec![syn, f.rst.map_or(f.last_frame.0, |(_, fr)| fr.0)],
                    if refused {
                        format!("SYN in frame {syn} answered by RST")
                    } else {
                        format!("{} SYN(s) without answer", f.client_syns.max(1))
                    },
                    None,
                ));
            }
        }
        let gateway = ctx.is_gateway(f);
        for h in &f.app.http {
            let Some(status) = h.status else { continue };
            if is_proxy_request(h) {
                continue;
            }
            let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            frames.extend(h.response_frame.map(|f| f.0));
            let text = h.error_message.as_deref().map(|m| short(&mask_secrets(m)));
            let seen = format!(
                "{} → {}{}{}",
                request_line(h),
                status_line(h),
                text.as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default(),
                super::decrypted_note(h)
            );
            let gw = super::timeouts::answering_host(h, &f.server.to_string());
            let vars = [("gateway", gw.clone()), ("port", gw_port.clone())];
            let health = h
                .target
                .as_deref()
                .is_some_and(|t| t.starts_with("/health"));
            if gateway && (status >= 500 || (health && !(200..300).contains(&status))) {
                unhealthy
                    .get_or_insert_with(|| {
                        Finding::new(
                            FindingKind::GatewayUnhealthy,
                            Severity::Error,
                            format!("Gateway {gw} answers with errors"),
                            "The gateway is running but fails requests (5xx, or a failing \
                             health check): usually its configuration or its route to the \
                             provider is broken. The error text it returned is in the evidence."
                                .to_string(),
                            &vars,
                        )
                    })
                    .push(ctx.ev(id, f, frames, seen, h.request_ts));
            } else if status == 401 || status == 403 {
                let who = if gateway { "gateway" } else { "server" };
                key.get_or_insert_with(|| {
                    Finding::new(
                        FindingKind::ApiKeyRejected,
                        Severity::Error,
                        format!("The {who} {gw} refused the API key ({status})"),
                        "The request reached the gateway or provider and was refused as \
                         unauthorised: the API key is missing, wrong, for another provider, \
                         or revoked."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(id, f, frames, seen, h.request_ts));
            }
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            down,
            unhealthy,
            key,
            gw_port: _,
        } = *self;
        [down, unhealthy, key].into_iter().flatten().collect()
    }
}
