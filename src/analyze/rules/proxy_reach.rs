//! Guide section 1: the proxy cannot be reached (refused, filtered, unreachable, or its
//! name does not resolve).

use super::{Ctx, Rule, looks_like_proxy_name};
use crate::analyze::findings::{MAX_EVIDENCE, MAX_TARGETS, PerTarget};
use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::{FlowSummary, Transport};
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Check {
    refused: PerTarget,
    filtered: PerTarget,
    icmp: PerTarget,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            refused,
            filtered,
            icmp,
        } = self;
        if !ctx.is_proxy(f) {
            return;
        }
        let proxy = f.server.to_string();
        let vars = [("proxy", proxy.clone())];
        let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
        if let Some((frame, u)) = f.unreachable {
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
            ConnState::REJ => {
                let rst = f.rst.map_or(f.last_frame.0, |(_, fr)| fr.0);
                let Some(found) = refused.finding(&proxy, || {
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
                found.push(ctx.ev(
                    id,
                    f,
                    vec![syn, rst],
                    format!("SYN in frame {syn} answered by RST in frame {rst}"),
                    None,
                ));
            }
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

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            refused,
            filtered,
            icmp,
        } = *self;
        refused
            .into_findings()
            .chain(filtered.into_findings())
            .chain(icmp.into_findings())
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
