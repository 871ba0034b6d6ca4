//! Guide section 2: 407 Proxy Authentication Required.

use super::{Ctx, Rule};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use crate::model::{FrameNo, Timestamp};
use crate::protocols::http::{AuthHeader, HttpExchange};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

/// How soon after a refused connection ends a client's own retry starts: clients
/// retry at once (1-20 ms seen from curl's NTLM and connection-closing proxies), while
/// a separately started program comes later (≥ 100 ms in the lab's busy day).
const RETRY_WINDOW_SECS: f64 = 0.05;

fn is_multi_leg(s: &str) -> bool {
    ["ntlm", "negotiate", "kerberos"].contains(&s.to_ascii_lowercase().as_str())
}

fn ok(h: &HttpExchange) -> bool {
    h.status.is_some_and(|s| (200..400).contains(&s))
}

/// What the retry check needs of one exchange with a proxy, a few bytes each: a busy
/// capture has tens of thousands. The flows themselves are rebuilt from the store only
/// for the 407s that get reported.
struct Exchange {
    /// Position in `Check::flows`.
    flow: u32,
    /// Index in its flow's `app.http`.
    index: u32,
    order: FrameNo,
    /// 0: no status.
    status: u16,
    ok: bool,
    sent_proxy_authorization: bool,
}

/// A flow with exchanges: its report id, and its ends as numbers standing for the
/// client's address and the proxy (few distinct values, many flows: only equality
/// matters).
struct FlowEnds {
    id: usize,
    client_ip: u32,
    client_port: u16,
    server: u32,
    first_ts: Timestamp,
    last_ts: Timestamp,
}

#[derive(Default)]
pub struct Check {
    ex: Vec<Exchange>,
    flows: Vec<FlowEnds>,
    ips: HashMap<IpAddr, u32>,
    servers: HashMap<SocketAddr, u32>,
}

/// The number standing for `v`: the same for equal values, new for a new one.
fn number_of<T: Eq + std::hash::Hash>(numbers: &mut HashMap<T, u32>, v: T) -> u32 {
    let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
    *numbers.entry(v).or_insert(next)
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        // Only 407s and the successes that may follow them matter to the check.
        let wanted = |h: &HttpExchange| h.status == Some(407) || ok(h);
        if !ctx.is_proxy(f) || !f.app.http.iter().any(wanted) {
            return;
        }
        let Ok(flow) = u32::try_from(self.flows.len()) else {
            return;
        };
        self.flows.push(FlowEnds {
            id,
            client_ip: number_of(&mut self.ips, f.client.ip()),
            client_port: f.client.port(),
            server: number_of(&mut self.servers, f.server),
            first_ts: f.first_ts,
            last_ts: f.last_ts,
        });
        for (index, h) in f.app.http.iter().enumerate() {
            let Ok(index) = u32::try_from(index) else {
                break;
            };
            if !wanted(h) {
                continue;
            }
            self.ex.push(Exchange {
                flow,
                index,
                order: h
                    .request_frame
                    .or(h.response_frame)
                    .unwrap_or(f.first_frame),
                status: h.status.unwrap_or(0),
                ok: ok(h),
                sent_proxy_authorization: h
                    .credentials
                    .iter()
                    .any(|c| c.header == AuthHeader::ProxyAuthorization),
            });
        }
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check { mut ex, flows, .. } = *self;
        // In time order; ties in the order the exchanges were seen (flow, then index).
        ex.sort_unstable_by_key(|e| (e.order, e.flow, e.index));
        let ends = |e: &Exchange| flows.get(e.flow as usize);
        // One finding per kind and proxy, listed by kind id, then proxy.
        let mut out: BTreeMap<(FindingKind, String), Finding> = BTreeMap::new();
        for (i, e) in ex.iter().enumerate() {
            if e.status != 407 {
                continue;
            }
            let Some(fe) = ends(e) else { continue };
            // Connection-oriented schemes (NTLM, Negotiate) and clients that wait for the
            // challenge retry on the same connection; a 407 that ends its connection is
            // what the client was left with, even if another client later got through.
            //
            // A client that answers the challenge on a fresh connection (the proxy closed
            // the first, or NTLM starts over) is also a retry — told apart from another
            // program starting later by opening that connection within RETRY_WINDOW of
            // the refused one's end, now with credentials (not always for the same
            // target: a client may move on to its next request).
            let recovered = ex[i + 1..].iter().any(|later| {
                let Some(ge) = ends(later) else { return false };
                let same_client_ip = ge.client_ip == fe.client_ip;
                let same_server = ge.server == fe.server;
                let same_conn = same_client_ip && ge.client_port == fe.client_port && same_server;
                let quick_retry = same_client_ip
                    && same_server
                    && later.sent_proxy_authorization
                    && ge.first_ts >= fe.first_ts
                    && ge.first_ts.secs_since(fe.last_ts) <= RETRY_WINDOW_SECS;
                (same_conn || quick_retry) && later.ok
            });
            let id = fe.id;
            let Some(flow) = ctx.flow(id) else {
                continue;
            };
            let f = &flow;
            let Some(h) = f.app.http.get(e.index as usize) else {
                continue;
            };
            let proxy = f.server.to_string();
            let schemes = h.challenge_schemes().join(", ");
            let sent: Vec<_> = h
                .credentials
                .iter()
                .filter(|c| c.header == AuthHeader::ProxyAuthorization)
                .collect();
            let sent_scheme = sent.first().map(|c| c.scheme.clone());
            let user = sent.iter().find_map(|c| c.user.clone());
            let mut frames: Vec<u64> = h.request_frame.iter().map(|f| f.0).collect();
            frames.extend(h.response_frame.map(|f| f.0));
            // Where Wireshark lists the 407: the frame that completes it.
            frames.extend(h.response_end_frame.map(|f| f.0));
            let seen = format!(
                "{} ({}) → {}; Proxy-Authenticate: {}",
                request_line(h),
                match (&sent_scheme, &user) {
                    (Some(s), Some(u)) => format!("Proxy-Authorization: {s}, user \"{u}\""),
                    (Some(s), None) => format!("Proxy-Authorization: {s}"),
                    _ => "no Proxy-Authorization".to_string(),
                },
                status_line(h),
                if schemes.is_empty() {
                    "(none)"
                } else {
                    &schemes
                }
            );
            let ev = ctx.ev(id, f, frames, seen, h.request_ts);
            let vars = [
                ("proxy", proxy.clone()),
                ("schemes", schemes.clone()),
                ("user", user.clone().unwrap_or_else(|| "USER".to_string())),
            ];
            if recovered {
                // One 407 then success is how Basic/NTLM start: normal.
                out.entry((FindingKind::ProxyAuthChallenge, proxy.clone()))
                    .or_insert_with(|| {
                        Finding::new(
                            FindingKind::ProxyAuthChallenge,
                            Severity::Info,
                            format!(
                                "Proxy {proxy} asked for authentication, then let the client in"
                            ),
                            "A 407 followed by a successful retry is the normal start of proxy \
                         authentication."
                                .to_string(),
                            &vars,
                        )
                    })
                    .push(ev);
                continue;
            }
            let offered_basic = h
                .challenges
                .iter()
                .any(|c| c.scheme.eq_ignore_ascii_case("basic"));
            let only_multi_leg =
                !h.challenges.is_empty() && h.challenges.iter().all(|c| is_multi_leg(&c.scheme));
            let sent_multi_leg = sent_scheme.as_deref().is_some_and(is_multi_leg);
            let (kind, title, explanation) = if only_multi_leg && !sent_multi_leg {
                (
                    FindingKind::ProxyAuthSchemeMismatch,
                    format!(
                        "Proxy {proxy} only accepts {schemes}; the client sent {}",
                        sent_scheme.as_deref().unwrap_or("no credentials")
                    ),
                    format!(
                        "The proxy offers only {schemes} (Windows domain authentication). \
                     Credentials in the proxy URL are sent as Basic, which this proxy never \
                     accepts, so every request ends in 407. A local helper such as cntlm \
                     speaks {schemes} to the proxy for you."
                    ),
                )
            } else if sent_multi_leg {
                (
                    FindingKind::ProxyAuthNtlmFailed,
                    format!(
                        "{} authentication with proxy {proxy} ended in 407",
                        sent_scheme.as_deref().unwrap_or("NTLM")
                    ),
                    "The client tried the proxy's domain authentication but the proxy still \
                 refused: wrong domain, user or password, or the account is not allowed."
                        .to_string(),
                )
            } else if sent.is_empty() {
                (
                    FindingKind::ProxyAuthMissing,
                    format!("Proxy {proxy} requires authentication; no credentials were sent"),
                    format!(
                        "The proxy answered 407 and offered {schemes}, but the client sent no \
                     Proxy-Authorization header: the proxy URL carries no user and password."
                    ),
                )
            } else {
                let mut why = format!(
                    "The client sent {} credentials{} and the proxy still answered 407: the \
                 user name or password is wrong, or special characters in them were not \
                 URL-encoded (or were encoded twice).",
                    sent_scheme.as_deref().unwrap_or("Basic"),
                    user.as_deref()
                        .map(|u| format!(" for user \"{u}\""))
                        .unwrap_or_default()
                );
                if let Some(u) = &user {
                    if u.contains('\\') {
                        why.push_str(&format!(
                            " The user \"{u}\" has the DOMAIN\\user shape: a Basic proxy usually \
                         wants the plain user name, or the backslash encoded as %5C in the URL."
                        ));
                    }
                    if has_percent_sequence(u) {
                        why.push_str(&format!(
                            " The user \"{u}\" still contains %XX sequences: the client sent them \
                         literally instead of decoding them (encoded twice, or a tool that does \
                         not decode --proxy-user)."
                        ));
                    }
                }
                if !offered_basic && !h.challenges.is_empty() {
                    why.push_str(&format!(" The proxy offered {schemes}."));
                }
                (
                    FindingKind::ProxyAuthRejected,
                    format!(
                        "Proxy {proxy} rejected the credentials{}",
                        user.as_deref()
                            .map(|u| format!(" of user \"{u}\""))
                            .unwrap_or_default()
                    ),
                    why,
                )
            };
            out.entry((kind, proxy.clone()))
                .or_insert_with(|| Finding::new(kind, Severity::Error, title, explanation, &vars))
                .push(ev);
        }
        out.into_values().collect()
    }
}

/// `%` followed by two hex digits.
pub fn has_percent_sequence(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}
