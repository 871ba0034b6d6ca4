//! Guide section 1: the proxy cannot be reached (refused, filtered, unreachable, or its
//! name does not resolve).

use super::running::{Attempts, Counts, SeenRunning, family};
use super::{Ctx, Rule, looks_like_proxy_name};
use crate::analyze::findings::{MAX_EVIDENCE, MAX_TARGETS, PerTarget};
use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::{FlowSummary, Transport};
use std::collections::BTreeMap;
use std::net::SocketAddr;

#[derive(Default)]
pub struct Check {
    refused: PerTarget,
    filtered: PerTarget,
    icmp: PerTarget,
    /// The connections to each proxy endpoint.
    attempts: Attempts,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            refused,
            filtered,
            icmp,
            attempts,
        } = self;
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = crate::model::addr_text::socket(f.server);
        attempts.count(ctx, id, f, &proxy);
        let vars = [("proxy", proxy.clone())];
        let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
        // Packet too big is a path-MTU matter, not an unreachable proxy.
        if let Some((frame, u)) = f.unreachable
            && u.mtu.is_none()
        {
            let Some(found) = icmp.finding(&proxy, || {
                Some(Finding::new(
                    FindingKind::ProxyUnreachableIcmp,
                    Severity::Error,
                    format!("Proxy {proxy} is unreachable (ICMP)"),
                    "A router or the proxy host answered the connection attempt with ICMP \
                         destination unreachable: there is no route to the proxy from here \
                         (not on the corporate network or VPN, or a firewall rejects it)."
                        .to_string(),
                    &vars,
                ))
            }) else {
                return;
            };
            found.push(ctx.ev(
                id,
                f,
                vec![syn, frame.0],
                format!(
                    "ICMP{} destination unreachable, code {}",
                    if u.v6 { "v6" } else { "" },
                    u.code
                ),
                None,
            ));
            return;
        }
        match f.state {
            // A refused address the client made good on at once is `Refused`'s.
            ConnState::REJ if ctx.fallback_of(id).is_some() => {}
            ConnState::REJ => {
                let rst = f.rst.map_or(f.last_frame.0, |(_, fr)| fr.0);
                let helper = ctx.helper_of(&f.server);
                let Some(found) = refused.finding(&proxy, || {
                    if let Some(helper) = helper {
                        let vars = [("proxy", proxy.clone()), ("helper", helper.to_string())];
                        let mut found = Finding::new(
                            FindingKind::ProxyConnectionRefused,
                            Severity::Error,
                            format!(
                                "Connection to parent proxy {proxy} refused (the local \
                                 helper {helper} forwards to it)"
                            ),
                            format!(
                                "The local proxy helper {helper} (cntlm or the like) \
                                 forwards each request to its parent proxy {proxy}, and the \
                                 SYN to it was answered by a RST: the host is up but nothing \
                                 listens on port {}. The helper is configured with the wrong \
                                 parent host or port, or that proxy is down.",
                                f.server.port()
                            ),
                            &vars,
                        );
                        found.remedy = crate::remedies::steps(&[(0, 8), (1, 1), (1, 4)], &vars);
                        return Some(found);
                    }
                    Some(Finding::new(
                        FindingKind::ProxyConnectionRefused,
                        Severity::Error,
                        format!("Connection to proxy {proxy} refused"),
                        format!(
                            "The SYN to {proxy} was answered by a RST: the host is up but \
                                 nothing listens on port {}. The proxy service is down or the \
                                 proxy URL names the wrong port.",
                            f.server.port()
                        ),
                        &vars,
                    ))
                }) else {
                    return;
                };
                found.push(refused_ev(ctx, id, f, syn, rst));
            }
            // One SYN in the last second of the capture: the capture stopped before
            // the client could even retransmit (1 s is the shortest initial
            // retransmission timeout, RFC 6298), so nothing says the proxy is silent.
            ConnState::S0 if f.packets[1] == 0 && ctx.cut_by_capture_end(f) => {}
            ConnState::S0 if f.packets[1] == 0 => {
                let Some(found) = filtered.finding(&proxy, || {
                    Some(Finding::new(
                        FindingKind::ProxyConnectionFiltered,
                        Severity::Error,
                        format!("Proxy {proxy} never answers (SYNs dropped)"),
                        "The client's SYNs got no answer at all: a firewall drops the \
                             packets, or the address is not reachable from this network \
                             (VPN not connected)."
                            .to_string(),
                        &vars,
                    ))
                }) else {
                    return;
                };
                found.push(ctx.ev(
                    id,
                    f,
                    vec![syn, f.last_frame.0],
                    format!(
                        "{} SYN(s) without answer over {:.1} s",
                        f.client_syns.max(1),
                        f.last_ts.secs_since(f.first_ts).max(0.0)
                    ),
                    None,
                ));
            }
            _ => {}
        }
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            mut refused,
            filtered,
            icmp,
            attempts,
        } = *self;
        for (proxy, found) in refused.kept_mut() {
            // A local helper's parent: the helper's finding says what to fix.
            let Ok(addr) = proxy.parse::<SocketAddr>() else {
                continue;
            };
            if ctx.helper_of(&addr).is_some() {
                continue;
            }
            let Some(seen) = attempts.seen_running(proxy) else {
                continue;
            };
            match seen {
                SeenRunning::Intermittent(c) => intermittent(found, proxy, c),
                SeenRunning::OtherFamilyOnly(other) => other_family_only(found, addr, other),
            }
            found.remedy = seen.remedy(found.kind, vec![("proxy", proxy.to_string())]);
        }
        // Each kind per proxy in the order the proxies first failed: the first failing
        // step is the earliest.
        [refused, filtered, icmp]
            .into_iter()
            .flat_map(|p| {
                let mut v: Vec<Finding> = p.into_findings().collect();
                v.sort_by(|a, b| first_at(a).total_cmp(&first_at(b)));
                v
            })
            .collect()
    }
}

/// Refused connections the other rules do not report: those the client made good on at
/// once on the same host's other address (happy eyeballs; information), and those to a
/// server that is neither the proxy, the gateway nor a direct web server (a warning:
/// a refused connection is never silent).
#[derive(Default)]
pub struct Refused {
    one_family: PerTarget,
    other: PerTarget,
}

impl Rule for Refused {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        if f.transport != Transport::Tcp || f.state != ConnState::REJ {
            return;
        }
        let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
        let rst = f.rst.map_or(f.last_frame.0, |(_, fr)| fr.0);
        let endpoint = crate::model::addr_text::socket(f.server);
        let role = if ctx.is_gateway(f) {
            "Gateway"
        } else if ctx.is_proxy(f) {
            "Proxy"
        } else {
            "Server"
        };
        if let Some(ok_id) = ctx.fallback_of(id) {
            let Some(ok) = ctx.flow(ok_id) else {
                return;
            };
            let answered = crate::model::addr_text::socket(ok.server);
            let only = family(ok.server);
            let vars = [
                ("endpoint", endpoint.clone()),
                ("answered", answered.clone()),
            ];
            // Not loopback: the host is one name with an address of each family.
            let name = (!f.server.ip().is_loopback())
                .then(|| ctx.name_for(f.server.ip()))
                .flatten();
            let Some(found) = self.one_family.finding(&endpoint, || {
                let mut found = Finding::new(
                    FindingKind::ListensOnOneFamily,
                    Severity::Info,
                    format!(
                        "{role} {endpoint} refused, {answered} answered: it listens on {only} only"
                    ),
                    format!(
                        "The client tried {endpoint} first, was refused, and connected to {answered} (the same host, port {}) at once: the service listens on {only} only. Not a failure, but each client pays a refused connection and a retry.",
                        f.server.port()
                    ),
                    &vars,
                );
                if let Some(name) = &name {
                    let vars = [
                        ("endpoint", f.server.ip().to_string()),
                        ("answered", ok.server.ip().to_string()),
                        ("port", f.server.port().to_string()),
                        ("host", name.trim_end_matches('.').to_string()),
                    ];
                    found.remedy = crate::remedies::steps(&[(0, 14)], &vars);
                }
                Some(found)
            }) else {
                return;
            };
            let ok_syn = ok.syn_frame.map_or(ok.first_frame.0, |s| s.0);
            found.push(ctx.ev(
                id,
                f,
                vec![syn, rst, ok_syn],
                format!(
                    "SYN in frame {syn} answered by RST in frame {rst}; {answered} connected {:.0} ms later (frame {ok_syn})",
                    (ok.first_ts.secs_since(f.first_ts).max(0.0) * 1000.0)
                ),
                None,
            ));
            return;
        }
        // The proxy and gateway rules report theirs, the bypass rule direct web ones.
        let direct_web = matches!(f.server.port(), 80 | 443) && !f.server.ip().is_loopback();
        if ctx.is_proxy(f) || ctx.is_gateway(f) || direct_web {
            return;
        }
        let shown = match ctx.name_for(f.server.ip()) {
            Some(name) => format!("{endpoint} ({name})"),
            None => endpoint.clone(),
        };
        let vars = [("endpoint", endpoint.clone())];
        let Some(found) = self.other.finding(&endpoint, || {
            Some(Finding::new(
                FindingKind::ConnectionRefused,
                Severity::Warning,
                format!("Connection to {shown} refused"),
                format!(
                    "The SYN to {shown} was answered by a RST: nothing listens on port {}. If this is the proxy (a local helper such as cntlm) or the gateway, it is not running or the client was given the wrong port.",
                    f.server.port()
                ),
                &vars,
            ))
        }) else {
            return;
        };
        found.push(refused_ev(ctx, id, f, syn, rst));
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Refused { one_family, other } = *self;
        other
            .into_findings()
            .chain(one_family.into_findings())
            .collect()
    }
}

/// Names that never resolved. An error when the name looks like a proxy's, or when the
/// capture holds no TCP connection at all (the client stopped at the lookup).
#[derive(Default)]
pub struct Dns {
    names: BTreeMap<String, Lookups>,
    any_tcp: bool,
}

/// The lookups of one name.
#[derive(Default)]
struct Lookups {
    /// Some lookup got an address.
    resolved: bool,
    /// The first [`MAX_EVIDENCE`] failed lookups.
    evidence: Vec<Evidence>,
    /// The flow of each failed lookup past those: counted, not shown.
    more: Vec<usize>,
}

impl Rule for Dns {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Dns { names, any_tcp } = self;
        if f.transport == Transport::Tcp {
            *any_tcp = true;
        }
        if f.server.port() != 53 {
            return;
        }
        // An answer in a packet cut by the snap length is unread, not missing.
        let answered = f.app.dns.iter().filter(|q| q.rcode.is_some()).count();
        let cut = match f.transport {
            Transport::Tcp => super::snaplen::unseen(f, 1),
            _ => super::snaplen::udp_answers_cut(ctx, f, answered),
        };
        for q in &f.app.dns {
            let Some(name) = q.query.as_deref() else {
                continue;
            };
            let e = names
                .entry(name.trim_end_matches('.').to_ascii_lowercase())
                .or_default();
            if !q.answers.is_empty() {
                e.resolved = true;
                continue;
            }
            if q.rcode.is_none() && cut {
                continue;
            }
            // A NOERROR cut by the snap length: its answers are unread, not missing.
            if q.answers_cut && q.rcode.as_deref() == Some("NOERROR") {
                continue;
            }
            let rcode = q.rcode.as_deref().unwrap_or("no response");
            // An empty NOERROR for AAAA is normal on IPv4-only networks.
            if rcode == "NOERROR" && q.qtype.as_deref() != Some("A") {
                continue;
            }
            if e.evidence.len() >= MAX_EVIDENCE {
                e.more.push(id);
                continue;
            }
            let mut frames: Vec<u64> = q.query_frame.iter().map(|f| f.0).collect();
            frames.extend(q.response_frame.map(|f| f.0));
            e.evidence.push(ctx.ev(
                id,
                f,
                frames,
                format!(
                    "{} {name}: {}",
                    q.qtype.as_deref().unwrap_or("?"),
                    if rcode == "NOERROR" {
                        "no answer"
                    } else {
                        rcode
                    }
                ),
                q.query_ts,
            ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Dns { names, any_tcp } = *self;
        let mut failed: Vec<(String, Lookups)> = names
            .into_iter()
            .filter(|(_, l)| !l.resolved && !l.evidence.is_empty())
            .collect();
        if failed.len() > MAX_TARGETS {
            // Too many for a finding each: the proxy-like names keep theirs first.
            failed.sort_by_key(|(name, _)| !looks_like_proxy_name(name));
        }
        let mut out = PerTarget::default();
        for (name, lookups) in failed {
            let proxy_like = looks_like_proxy_name(&name);
            let severity = if proxy_like || !any_tcp {
                Severity::Error
            } else {
                Severity::Info
            };
            let Some(f) = out.finding(&name, || {
                Some(Finding::new(
                    FindingKind::ProxyNameNotResolved,
                    severity,
                    format!("Name {name} does not resolve"),
                    format!(
                        "DNS gave no address for {name}{}. A proxy name that only the corporate \
                 DNS knows fails like this off the corporate network or VPN; a typo in \
                 the proxy URL (or an unencoded '@' or ':' in its password) does too.",
                        if proxy_like {
                            " (the proxy's name)"
                        } else {
                            ""
                        }
                    ),
                    &[("proxy", name.clone())],
                ))
            }) else {
                continue;
            };
            for e in lookups.evidence {
                f.push(e);
            }
            for flow in lookups.more {
                f.push(Evidence {
                    flow: Some(flow),
                    ..Evidence::default()
                });
            }
        }
        out.into_findings().collect()
    }
}

/// When a finding's first evidence happened (seconds into the capture; unknown last).
pub(super) fn first_at(f: &Finding) -> f64 {
    f.evidence.first().and_then(|e| e.at).unwrap_or(f64::MAX)
}

/// Rewords a refusal on one loopback address when the proxy answered on the other: it
/// runs, on one address family only, and this client did not fall back to the other.
fn other_family_only(found: &mut Finding, refused: SocketAddr, answered: SocketAddr) {
    let family = family(answered);
    found.title =
        format!("Connection to proxy {refused} refused: it listens on {answered} ({family}) only");
    found.explanation = format!(
        "The SYN to {refused} was answered by a RST, while the same proxy accepted \
         connections on {answered}: it runs, but listens on {family} only (`localhost` \
         names both addresses). This client went to {refused} and did not fall back to \
         {answered}: clients differ, some try only the first address a name resolves to, \
         others try the next."
    );
}

/// Rewords a refusal finding for a proxy that accepted other connections: it is up and
/// listening, and refuses only some (a connection limit, a load balancer or firewall
/// rejecting some, a restart).
fn intermittent(found: &mut Finding, proxy: &str, c: Counts) {
    let Counts {
        all,
        refused,
        accepted,
    } = c;
    let pct = refused as f64 * 100.0 / all as f64;
    found.title = format!(
        "{refused} of {all} connections to proxy {proxy} refused (intermittent, {pct:.1} %)"
    );
    found.explanation = format!(
        "The proxy {proxy} accepted {accepted} of the {all} connections in this capture, so it \
         is up and listens on port {}; {refused} SYN(s) ({pct:.1} %) were answered by a RST. \
         Intermittent refusals come from a limit on connections at the proxy (tinyproxy \
         MaxClients, squid max_filedescriptors, a per-user limit), from one node of a \
         load-balanced proxy pool or a firewall rejecting some, or from the proxy \
         restarting; each refused request failed unless the client retried.",
        proxy.rsplit(':').next().unwrap_or(""),
    );
}

/// The evidence of a SYN answered by a RST.
fn refused_ev(ctx: &Ctx<'_>, id: usize, f: &FlowSummary, syn: u64, rst: u64) -> Evidence {
    ctx.ev(
        id,
        f,
        vec![syn, rst],
        format!("SYN in frame {syn} answered by RST in frame {rst}"),
        None,
    )
}
