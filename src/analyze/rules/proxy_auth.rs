//! Guide section 2: 407 Proxy Authentication Required.

use super::{Ctx, Rule};
use crate::analyze::findings::{MAX_EVIDENCE, PerTarget};
use crate::analyze::http_lines::{request_line, status_line};
use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use crate::model::{FrameNo, Timestamp};
use crate::protocols::http::{AuthHeader, Credentials, HttpExchange};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
/// for the 407s whose evidence is reported, each flow once.
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
    /// For a 407: the finding it makes if the client did not get through.
    refused: Refused,
}

/// Which finding a 407 the client did not recover from makes (see [`refused_kind`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refused {
    SchemeMismatch,
    NtlmFailed,
    Missing,
    Rejected,
    /// A local helper's parent refused the helper: on the helper's leg, or relayed.
    Helper,
}

impl Refused {
    fn kind(self) -> FindingKind {
        match self {
            Refused::SchemeMismatch => FindingKind::ProxyAuthSchemeMismatch,
            Refused::NtlmFailed => FindingKind::ProxyAuthNtlmFailed,
            Refused::Missing => FindingKind::ProxyAuthMissing,
            Refused::Rejected => FindingKind::ProxyAuthRejected,
            Refused::Helper => FindingKind::ProxyHelperAuthRejected,
        }
    }
}

/// Credentials the client sent to the proxy with this request.
fn sent_to_proxy(h: &HttpExchange) -> Vec<&Credentials> {
    h.credentials
        .iter()
        .filter(|c| c.header == AuthHeader::ProxyAuthorization)
        .collect()
}

/// What a 407 the client did not get past says: the scheme the proxy insists on, a
/// failed NTLM/Negotiate, no credentials, or credentials refused.
fn refused_kind(h: &HttpExchange) -> Refused {
    let sent = sent_to_proxy(h);
    let only_multi_leg =
        !h.challenges.is_empty() && h.challenges.iter().all(|c| is_multi_leg(&c.scheme));
    let sent_multi_leg = sent.first().is_some_and(|c| is_multi_leg(&c.scheme));
    if only_multi_leg && !sent_multi_leg {
        Refused::SchemeMismatch
    } else if sent_multi_leg {
        Refused::NtlmFailed
    } else if sent.is_empty() {
        Refused::Missing
    } else {
        Refused::Rejected
    }
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
                sent_proxy_authorization: !sent_to_proxy(h).is_empty(),
                refused: if helper_chain(ctx, f.server).is_some() || relayed_by_helper(h) {
                    Refused::Helper
                } else {
                    refused_kind(h)
                },
            });
        }
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            mut ex,
            flows,
            servers,
            ..
        } = *self;
        // In time order; ties in the order the exchanges were seen (flow, then index).
        ex.sort_unstable_by_key(|e| (e.order, e.flow, e.index));
        let mut proxies = vec![String::new(); servers.len()];
        for (addr, n) in servers {
            if let Some(p) = proxies.get_mut(n as usize) {
                *p = addr.to_string();
            }
        }
        // Each 407 with its finding (None: the client got through), and whether its
        // evidence is among the first MAX_EVIDENCE of that finding: only those need
        // their flow rebuilt.
        struct Refusal {
            at: usize,
            refused: Option<Refused>,
            shown: bool,
            /// The first of its finding: the finding is made from it.
            first: bool,
        }
        let mut per_finding: HashMap<(FindingKind, u32), usize> = HashMap::new();
        let mut by_flow: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut refusals = Vec::new();
        for (at, back) in recovered(&ex, &flows) {
            let Some(fe) = ex.get(at).and_then(|e| flows.get(e.flow as usize)) else {
                continue;
            };
            let refused = ex.get(at).filter(|_| !back).map(|e| e.refused);
            let n = per_finding
                .entry((kind_id(refused), fe.server))
                .or_insert(0);
            let (shown, first) = (*n < MAX_EVIDENCE, *n == 0);
            *n += 1;
            if shown {
                by_flow.entry(fe.id).or_default().push(refusals.len());
            }
            refusals.push(Refusal {
                at,
                refused,
                shown,
                first,
            });
        }
        // Every flow with evidence shown, rebuilt once: the evidence of its 407s, and
        // the finding itself from the first 407 of each.
        let mut evidence: HashMap<usize, Evidence> = HashMap::new();
        let mut made: HashMap<(FindingKind, String), Finding> = HashMap::new();
        for (id, which) in by_flow {
            let Some(f) = ctx.flow(id) else { continue };
            for k in which {
                let Some(r) = refusals.get(k) else { continue };
                let Some(h) = ex.get(r.at).and_then(|e| f.app.http.get(e.index as usize)) else {
                    continue;
                };
                let (ev, finding) = describe(ctx, id, &f, h, r.refused);
                if r.first {
                    made.insert((finding.kind, target(ctx, finding.kind, f.server)), finding);
                }
                evidence.insert(k, ev);
            }
        }
        let mut out: BTreeMap<FindingKind, PerTarget> = BTreeMap::new();
        for (k, r) in refusals.iter().enumerate() {
            let Some(fe) = ex.get(r.at).and_then(|e| flows.get(e.flow as usize)) else {
                continue;
            };
            let ev = match evidence.remove(&k) {
                Some(ev) => ev,
                // Its flow could not be rebuilt.
                None if r.shown => continue,
                // Past the evidence its finding shows: counted, with its flow.
                None => Evidence {
                    flow: Some(fe.id),
                    ..Evidence::default()
                },
            };
            let kind = kind_id(r.refused);
            let proxy = proxies
                .get(fe.server as usize)
                .and_then(|p| p.parse::<SocketAddr>().ok())
                .map(|p| target(ctx, kind, p))
                .unwrap_or_default();
            let per_proxy = out.entry(kind).or_default();
            if let Some(finding) = per_proxy.finding(&proxy, || made.remove(&(kind, proxy.clone())))
            {
                finding.push(ev);
            }
        }
        out.into_values()
            .flat_map(PerTarget::into_findings)
            .collect()
    }
}

/// What a finding of `kind` about `proxy` is keyed by: a helper's 407s, on its leg to
/// the parent or relayed to its client, make one finding per helper.
fn target(ctx: &Ctx<'_>, kind: FindingKind, proxy: SocketAddr) -> String {
    match helper_chain(ctx, proxy) {
        Some((helper, _)) if kind == FindingKind::ProxyHelperAuthRejected => helper.to_string(),
        _ => proxy.to_string(),
    }
}

/// (helper, parent) when `proxy` is a local helper whose leg to its parent was seen,
/// or such a parent.
fn helper_chain(ctx: &Ctx<'_>, proxy: SocketAddr) -> Option<(SocketAddr, Option<SocketAddr>)> {
    if proxy.ip().is_loopback() {
        ctx.parent_of(&proxy).map(|p| (proxy, Some(p)))
    } else {
        ctx.helper_of(&proxy).map(|h| (h, Some(proxy)))
    }
}

/// A 407 whose challenge names cntlm ("Cntlm for parent"): cntlm relays its parent's
/// refusal with its own realm, even when its leg to the parent is not in the capture.
fn relayed_by_helper(h: &HttpExchange) -> bool {
    h.challenges.iter().any(|c| {
        c.realm
            .as_deref()
            .is_some_and(|r| r.to_ascii_lowercase().contains("cntlm"))
    })
}

/// The finding a 407 makes: its client got through (`None`), or why not.
fn kind_id(refused: Option<Refused>) -> FindingKind {
    refused.map_or(FindingKind::ProxyAuthChallenge, Refused::kind)
}

/// The position in `ex` of every 407, in order, and whether the client got through
/// after it. One pass from the end, so each exchange is looked at once whatever
/// the number of 407s on a connection.
///
/// Connection-oriented schemes (NTLM, Negotiate) and clients that wait for the
/// challenge retry on the same connection; a 407 that ends its connection is what the
/// client was left with, even if another client later got through.
///
/// A client that answers the challenge on a fresh connection (the proxy closed the
/// first, or NTLM starts over) is also a retry — told apart from another program
/// starting later by opening that connection within RETRY_WINDOW of the refused one's
/// end, now with credentials (not always for the same target: a client may move on to
/// its next request).
fn recovered(ex: &[Exchange], flows: &[FlowEnds]) -> Vec<(usize, bool)> {
    // Successes after the current position: on which connection (client address and
    // port, proxy), and for those that sent credentials, when their connection began
    // (per client address and proxy).
    let mut ok_on: HashSet<(u32, u16, u32)> = HashSet::new();
    let mut retries: HashMap<(u32, u32), BTreeSet<Timestamp>> = HashMap::new();
    let mut out = Vec::new();
    for (i, e) in ex.iter().enumerate().rev() {
        let Some(fe) = flows.get(e.flow as usize) else {
            continue;
        };
        if e.status == 407 {
            let same_conn = ok_on.contains(&(fe.client_ip, fe.client_port, fe.server));
            // The earliest retry that started no sooner than this connection: if it
            // is not within the window, none is.
            let quick_retry = retries
                .get(&(fe.client_ip, fe.server))
                .and_then(|starts| starts.range(fe.first_ts..).next())
                .is_some_and(|&start| start.secs_since(fe.last_ts) <= RETRY_WINDOW_SECS);
            out.push((i, same_conn || quick_retry));
        }
        if e.ok {
            ok_on.insert((fe.client_ip, fe.client_port, fe.server));
            if e.sent_proxy_authorization {
                retries
                    .entry((fe.client_ip, fe.server))
                    .or_default()
                    .insert(fe.first_ts);
            }
        }
    }
    out.reverse();
    out
}

/// The evidence of one 407, and the finding it makes when it is the first of its kind
/// for its proxy.
fn describe(
    ctx: &Ctx<'_>,
    id: usize,
    f: &FlowSummary,
    h: &HttpExchange,
    refused: Option<Refused>,
) -> (Evidence, Finding) {
    let proxy = crate::model::addr_text::socket(f.server);
    let schemes = h.challenge_schemes().join(", ");
    let sent = sent_to_proxy(h);
    let sent_scheme = sent.first().map(|c| c.scheme.clone());
    let user = sent.iter().find_map(|c| c.user.clone());
    let mut frames = super::exchange_frames(h);
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
    let Some(kind) = refused else {
        // One 407 then success is how Basic/NTLM start: normal.
        let finding = Finding::new(
            FindingKind::ProxyAuthChallenge,
            Severity::Info,
            format!("Proxy {proxy} asked for authentication, then let the client in"),
            "A 407 followed by a successful retry is the normal start of proxy \
                         authentication."
                .to_string(),
            &vars,
        );
        return (ev, finding);
    };
    let offered_basic = h
        .challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("basic"));
    let (title, explanation) = match kind {
        Refused::Helper => {
            let (helper, parent) = helper_chain(ctx, f.server).unwrap_or((f.server, None));
            let parent_text = parent.map_or("its parent proxy".to_string(), |p| {
                format!("its parent proxy {p}")
            });
            let vars = [
                ("proxy", helper.to_string()),
                (
                    "parent",
                    parent.map_or("(the Proxy line of cntlm.conf)".to_string(), |p| {
                        p.to_string()
                    }),
                ),
                ("schemes", schemes.clone()),
            ];
            let relayed = f.server == helper;
            // The parent's own offer, when its answer to the helper is in the capture
            // (a relayed 407 carries the helper's challenge, not the parent's).
            let parent_schemes = if relayed { "" } else { schemes.as_str() };
            let windows_auth = ["ntlm", "negotiate", "kerberos"]
                .iter()
                .any(|s| parent_schemes.to_ascii_lowercase().contains(s));
            let parent_basic_only = !relayed && offered_basic && !windows_auth;
            // The cntlm set-up step names the parent, not the helper itself.
            let parent_vars = [
                (
                    "proxy",
                    parent.map_or("PARENT_HOST:PORT".to_string(), |p| p.to_string()),
                ),
                (
                    "schemes",
                    if windows_auth {
                        parent_schemes.to_string()
                    } else {
                        "NTLM".to_string()
                    },
                ),
                ("user", user.clone().unwrap_or_else(|| "USER".to_string())),
            ];
            let mut finding = Finding::new(
                FindingKind::ProxyHelperAuthRejected,
                Severity::Error,
                format!(
                    "{} rejected the credentials of the local proxy helper {helper}",
                    parent.map_or("The parent proxy".to_string(), |p| format!(
                        "Parent proxy {p}"
                    ))
                ),
                format!(
                    "The client's proxy is the local helper {helper} (cntlm or the like), \
                     which authenticates to {parent_text} with the credentials of its own \
                     configuration. {} The user, domain or password in the helper's \
                     configuration is wrong, or the helper offers a scheme the parent does \
                     not accept{}: putting credentials in the client's proxy URL (the \
                     helper) changes nothing.",
                    if relayed {
                        "Its 407 to the client relays the parent's refusal."
                    } else {
                        "The parent answered the helper with 407."
                    },
                    if !relayed && !schemes.is_empty() {
                        format!(" (the parent offered {schemes})")
                    } else {
                        String::new()
                    }
                ),
                &vars,
            );
            finding.remedy = if parent_basic_only {
                // The parent wants Basic, which cntlm does not speak: go to it directly.
                let mut r = crate::remedies::steps(&[(0, 7)], &vars);
                r.extend(crate::remedies::steps(&[(0, 11)], &parent_vars));
                r
            } else {
                let mut r = crate::remedies::steps(&[(0, 7)], &vars);
                r.extend(crate::remedies::steps(&[(2, 4)], &parent_vars));
                r
            };
            return (ev, finding);
        }
        Refused::SchemeMismatch => (
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
        ),
        Refused::NtlmFailed => (
            format!(
                "{} authentication with proxy {proxy} ended in 407",
                sent_scheme.as_deref().unwrap_or("NTLM")
            ),
            "The client tried the proxy's domain authentication but the proxy still \
                 refused: wrong domain, user or password, or the account is not allowed."
                .to_string(),
        ),
        Refused::Missing => (
            format!("Proxy {proxy} requires authentication; no credentials were sent"),
            format!(
                "The proxy answered 407 and offered {schemes}, but the client sent no \
                     Proxy-Authorization header: the proxy URL carries no user and password."
            ),
        ),
        Refused::Rejected => {
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
                format!(
                    "Proxy {proxy} rejected the credentials{}",
                    user.as_deref()
                        .map(|u| format!(" of user \"{u}\""))
                        .unwrap_or_default()
                ),
                why,
            )
        }
    };
    let finding = Finding::new(kind.kind(), Severity::Error, title, explanation, &vars);
    (ev, finding)
}

/// `%` followed by two hex digits.
pub fn has_percent_sequence(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}
