//! Guide section 4 (the local gateway does not answer or is unhealthy) and section 7
//! (API key refused by the gateway or the provider).

use super::running::{Attempts, SeenRunning, family};
use super::{Ctx, Rule};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::FlowSummary;
use crate::protocols::http::{AuthHeader, HttpExchange};
use crate::protocols::secrets::redact_text;

/// Masks the secrets in a provider's error text. The decoder masked it already; this
/// guards evidence text built from it, and leaves masked keys (`sk-ant-api03-…3f9a`)
/// as they are.
pub fn mask_secrets(text: &str) -> String {
    redact_text(text)
}

/// An error text for evidence: secrets masked, at most 200 characters.
pub(super) fn short_error(text: &str) -> String {
    short(&mask_secrets(text))
}

fn short(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Whose refusal a 401 / 403 is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refuser {
    /// The gateway refused the client's key.
    Gateway,
    /// The gateway relays its provider's refusal of the gateway's own provider key.
    ProviderViaGateway,
    /// Any other server (a provider reached directly or through the proxy).
    Server,
}

/// The provider's refusal as a gateway relays it: LiteLLM wraps the provider's error
/// in `litellm.AuthenticationError: AnthropicException - {...}` (OpenAIException,
/// BedrockException...).
pub(super) fn relayed_provider_error(text: &str) -> bool {
    text.contains("litellm.AuthenticationError")
        || text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.len() > "Exception".len() && w.ends_with("Exception"))
}

/// The key the client sent, masked (`sk-ant-…1111`): `x-api-key` / `api-key`, or a
/// Bearer token.
fn sent_key(h: &HttpExchange) -> Option<&str> {
    h.api_key.as_deref().or_else(|| {
        h.credentials
            .iter()
            .filter(|c| c.header == AuthHeader::Authorization)
            .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|c| c.token_masked.as_deref())
    })
}

/// A 401 whose WWW-Authenticate challenge the client answered on the same connection
/// and got through (NTLM / Negotiate take a 401 by design; Basic and Digest start so):
/// authentication at work, not a refused key.
fn challenge_then_success(f: &FlowSummary, i: usize, h: &HttpExchange) -> bool {
    h.status == Some(401)
        && h.challenges
            .iter()
            .any(|c| c.header == AuthHeader::WwwAuthenticate)
        && f.app
            .http
            .iter()
            .skip(i + 1)
            .any(|l| l.status.is_some_and(|s| (200..400).contains(&s)))
}

pub struct Check {
    down: Option<Finding>,
    unhealthy: Option<Finding>,
    key: Option<Finding>,
    /// The gateway's own refusals, and the provider's relayed by it.
    key_gateway: Option<Finding>,
    key_provider: Option<Finding>,
    gw_port: String,
    /// The endpoint `down` is about, with its connections that failed.
    down_counts: Option<(String, u64)>,
    /// The connections to each gateway endpoint.
    attempts: Attempts,
}

impl Check {
    pub fn new(ctx: &Ctx<'_>) -> Check {
        Check {
            down: None,
            unhealthy: None,
            key: None,
            key_gateway: None,
            key_provider: None,
            gw_port: ctx.cfg.gateway_port.to_string(),
            down_counts: None,
            attempts: Attempts::default(),
        }
    }
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            down,
            unhealthy,
            key,
            key_gateway,
            key_provider,
            gw_port,
            down_counts,
            attempts,
        } = self;
        if ctx.is_gateway(f) {
            let gw = crate::model::addr_text::socket(f.server);
            let vars = [("gateway", gw.clone()), ("port", gw_port.clone())];
            let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
            // A refused address the client made good on at once (happy eyeballs) is
            // `proxy_reach::Refused`'s: information, not a dead gateway.
            let fell_back = ctx.fallback_of(id).is_some();
            attempts.count(ctx, id, f, &gw);
            // A lone SYN the end of the capture cut off says nothing about the gateway.
            if (f.state == ConnState::REJ && !fell_back)
                || (f.state == ConnState::S0 && f.packets[1] == 0 && !ctx.cut_by_capture_end(f))
            {
                let refused = f.state == ConnState::REJ;
                match down_counts {
                    Some((d, failed)) if *d == gw => *failed += 1,
                    None => *down_counts = Some((gw.clone(), 1)),
                    Some(_) => {}
                }
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
        for (i, h) in f.app.http.iter().enumerate() {
            let Some(status) = h.status else { continue };
            if h.is_proxy_request() {
                continue;
            }
            let frames = super::exchange_frames(h);
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
            let gw = super::timeouts::answering_host(h, &crate::model::addr_text::socket(f.server));
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
            } else if (status == 401 || status == 403) && !challenge_then_success(f, i, h) {
                let refuser = match (gateway, h.error_message.as_deref()) {
                    (true, Some(t)) if relayed_provider_error(t) => Refuser::ProviderViaGateway,
                    (true, _) => Refuser::Gateway,
                    (false, _) => Refuser::Server,
                };
                let key_text = sent_key(h);
                let provider_key = key_text.is_some_and(|k| k.starts_with("sk-ant-"));
                let slot = match refuser {
                    Refuser::Gateway => &mut *key_gateway,
                    Refuser::ProviderViaGateway => &mut *key_provider,
                    Refuser::Server => &mut *key,
                };
                let found = slot.get_or_insert_with(|| match refuser {
                    Refuser::Gateway => {
                        let mut found = Finding::new(
                            FindingKind::ApiKeyRejected,
                            Severity::Error,
                            format!("The gateway {gw} refused the client's API key ({status})"),
                            if provider_key {
                                format!(
                                    "The gateway itself refused the key: it accepts only the \
                                     keys it issued, and the client sent a key starting with \
                                     sk-ant- — a provider (Anthropic) key. The provider key \
                                     belongs in the gateway's configuration; the client must \
                                     send the gateway's key to {gw}."
                                )
                            } else {
                                "The gateway itself refused the key the client sent: it is \
                                 not one the gateway issued (its master key or a virtual \
                                 key), or it is missing or expired."
                                    .to_string()
                            },
                            &vars,
                        );
                        if provider_key {
                            found.remedy =
                                crate::remedies::steps(&[(0, 10), (7, 1), (7, 3)], &vars);
                        }
                        found
                    }
                    Refuser::ProviderViaGateway => {
                        let mut found = Finding::new(
                            FindingKind::ApiKeyRejected,
                            Severity::Error,
                            format!(
                                "The provider refused the gateway's provider key ({status}, \
                                 relayed by the gateway {gw})"
                            ),
                            "The gateway accepted the client's key and called the provider, \
                             which refused the gateway's own provider key; the gateway \
                             passed the provider's error on. The client's key is not the \
                             problem: the provider key in the gateway's configuration is \
                             wrong, revoked or not read from the environment."
                                .to_string(),
                            &vars,
                        );
                        found.remedy = crate::remedies::steps(&[(7, 3), (7, 2), (7, 4)], &vars);
                        found
                    }
                    Refuser::Server => Finding::new(
                        FindingKind::ApiKeyRejected,
                        Severity::Error,
                        format!("The server {gw} refused the API key ({status})"),
                        "The request reached the gateway or provider and was refused as \
                         unauthorised: the API key is missing, wrong, for another provider, \
                         or revoked."
                            .to_string(),
                        &vars,
                    ),
                });
                let seen = match key_text {
                    Some(k) => format!("{seen} (key sent: {k})"),
                    None => seen,
                };
                found.push(ctx.ev(id, f, frames, seen, h.request_ts));
            }
        }
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            mut down,
            unhealthy,
            key,
            key_gateway,
            key_provider,
            gw_port: _,
            down_counts,
            attempts,
        } = *self;
        if let Some(found) = down.as_mut()
            && let Some((gw, failed)) = &down_counts
            && let Some(seen) = attempts.seen_running(gw)
        {
            match seen {
                SeenRunning::Intermittent(c) => intermittent(found, gw, *failed, c.all, c.accepted),
                SeenRunning::OtherFamilyOnly(other) => other_family_only(found, gw, other),
            }
            // Seen running: it needs no "start it".
            let vars = vec![
                ("gateway", gw.clone()),
                ("port", ctx.cfg.gateway_port.to_string()),
            ];
            found.remedy = seen.remedy(found.kind, vars);
        }
        [down, unhealthy, key_gateway, key_provider, key]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Rewords a "nothing answers" finding for a gateway that accepted other connections:
/// it runs, and fails only some.
fn intermittent(found: &mut Finding, gw: &str, failed: u64, all: u64, accepted: u64) {
    let pct = failed as f64 * 100.0 / all as f64;
    found.title = format!(
        "{failed} of {all} connections to the gateway {gw} failed (intermittent, {pct:.1} %)"
    );
    found.explanation = format!(
        "The gateway {gw} accepted {accepted} of the {all} connections in this capture, so it \
         runs and listens; {failed} ({pct:.1} %) were refused or never answered. \
         Intermittent failures come from the gateway restarting (a crash loop, a \
         deployment), from its worker limit or listen backlog being full, or from a \
         load balancer in front of several gateways with one down."
    );
}

/// Rewords a "nothing answers" finding for a gateway that answered on the loopback
/// address of the other family: it runs, and the clients did not fall back.
fn other_family_only(found: &mut Finding, gw: &str, other: std::net::SocketAddr) {
    let family = family(other);
    found.title = format!("Gateway {gw} refused: it listens on {other} ({family}) only");
    found.explanation = format!(
        "Connections to the gateway on {gw} were refused, while it accepted \
         connections on {other}: it runs, but listens on {family} only (`localhost` \
         names both addresses). These clients went to {gw} and did not fall back to \
         {other}: clients differ, some try only the first address a name resolves \
         to, others try the next."
    );
}
