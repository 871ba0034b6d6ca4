//! Guide section 1: the proxy cannot be reached (refused, filtered, unreachable, or its
//! name does not resolve).

use super::{Ctx, Rule, looks_like_proxy_name};
use crate::analyze::{Evidence, Finding, FindingKind, Severity};
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::FlowSummary;
use crate::flow::record::Transport;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Check {
    refused: BTreeMap<String, Finding>,
    filtered: BTreeMap<String, Finding>,
    icmp: BTreeMap<String, Finding>,
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
            icmp.entry(proxy.clone())
                .or_insert_with(|| {
                    Finding::new(
                        FindingKind::ProxyUnreachableIcmp,
                        Severity::Error,
                        format!("Proxy {proxy} is unreachable (ICMP)"),
                        "A router or the proxy host answered the connection attempt with ICMP \
                         destination unreachable: there is no route to the proxy from here \
                         (not on the corporate network or VPN, or a firewall rejects it)."
                            .to_string(),
                        &vars,
                    )
                })
                .push(ctx.ev(
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
                refused
                    .entry(proxy.clone())
                    .or_insert_with(|| {
                        Finding::new(
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
                        )
                    })
                    .push(ctx.ev(
                        id,
                        f,
                        vec![syn, rst],
                        format!("SYN in frame {syn} answered by RST in frame {rst}"),
                        None,
                    ));
            }
            ConnState::S0 if f.packets[1] == 0 => {
                filtered
                    .entry(proxy.clone())
                    .or_insert_with(|| {
                        Finding::new(
                            FindingKind::ProxyConnectionFiltered,
                            Severity::Error,
                            format!("Proxy {proxy} never answers (SYNs dropped)"),
                            "The client's SYNs got no answer at all: a firewall drops the \
                             packets, or the address is not reachable from this network \
                             (VPN not connected)."
                                .to_string(),
                            &vars,
                        )
                    })
                    .push(ctx.ev(
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
            .into_values()
            .chain(filtered.into_values())
            .chain(icmp.into_values())
            .collect()
    }
}

/// Names that never resolved. An error when the name looks like a proxy's, or when the
/// capture holds no TCP connection at all (the client stopped at the lookup).
#[derive(Default)]
pub struct Dns {
    names: BTreeMap<String, (bool, Vec<Evidence>)>,
    any_tcp: bool,
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
                e.0 = true;
                continue;
            }
            let rcode = q.rcode.as_deref().unwrap_or("no response");
            // An empty NOERROR for AAAA is normal on IPv4-only networks.
            if rcode == "NOERROR" && q.qtype.as_deref() != Some("A") {
                continue;
            }
            let mut frames: Vec<u64> = q.query_frame.iter().map(|f| f.0).collect();
            frames.extend(q.response_frame.map(|f| f.0));
            e.1.push(ctx.ev(
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
        let mut out = Vec::new();
        for (name, (resolved, ev)) in names {
            if resolved || ev.is_empty() {
                continue;
            }
            let proxy_like = looks_like_proxy_name(&name);
            let severity = if proxy_like || !any_tcp {
                Severity::Error
            } else {
                Severity::Info
            };
            let mut f = Finding::new(
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
            );
            for e in ev {
                f.push(e);
            }
            out.push(f);
        }
        out
    }
}
