//! The certificate chains servers presented, each certificate's subject and issuer
//! (leaf first), and which trust stores would accept the chain.

use super::FlowIndex;
use crate::report::json::schema::{Flow, Summary, Verdict};
use maud::{Markup, html};

/// Chains listed; the JSON report has them all.
const CHAINS_SHOWN: usize = 50;

fn store(v: &Verdict<'_>) -> String {
    match (v.store, v.path) {
        ("mozilla", _) => "Mozilla roots (Node, certifi)".to_string(),
        ("system", Some(p)) => format!("system store ({p})"),
        ("system", None) => "system store".to_string(),
        (_, Some(p)) => format!("--ca-file {p}"),
        (s, None) => s.to_string(),
    }
}

pub fn section(s: &Summary<'_>, flows: &FlowIndex<'_>) -> Markup {
    html! {
        section #certificates {
            h2 { "Certificates" }
            @if s.chains.is_empty() {
                p.none { "No certificate chain seen (TLS 1.3 encrypts certificates; only TLS 1.2 and older show them)." }
            }
            @for c in s.chains.iter().take(CHAINS_SHOWN) {
                @let untrusted = c.trusted_by.iter().any(|v| !v.trusted);
                article class={ "chain" @if untrusted { " untrusted" } } {
                    h3 {
                        (c.host) " · issuer " (crate::analyze::issuers::cn(c.issuer))
                    }
                    p.more {
                        "flow(s) " (c.flows.iter().take(10).map(|f| format!("#{f}")).collect::<Vec<_>>().join(", "))
                        @if c.flows.len() > 10 { " …" }
                        @if let Some(fr) = c.frame { " · frame " (fr) }
                        " · " @if c.established { "handshake completed" } @else { "handshake not completed" }
                    }
                    @if let Some((fs, path)) = c.flows.first().and_then(|id| flows.get(*id)) {
                        @let flow = Flow::new(c.flows.first().copied().unwrap_or(0), path, &fs);
                        @if let Some(tls) = &flow.app.tls {
                            ol.certs {
                                @for cert in &tls.certificates {
                                    li {
                                        span.subj { (cert.subject) }
                                        br;
                                        span.more { "issued by " (cert.issuer) " · valid " (cert.not_before) " – " (cert.not_after)
                                            @if cert.self_signed { " · self-signed" }
                                            @if cert.is_ca { " · CA" } }
                                    }
                                }
                            }
                        }
                    }
                    ul.verdicts {
                        @for v in &c.trusted_by {
                            li class=(if v.trusted { "trusted" } else { "refused" }) {
                                (if v.trusted { "✔ " } else { "✘ " }) (store(v))
                                @if let Some(r) = v.reason { ": " (r) }
                            }
                        }
                    }
                }
            }
            @if s.chains.len() > CHAINS_SHOWN {
                p.more { (s.chains.len() - CHAINS_SHOWN) " more chain(s): --format json, summary.chains." }
            }
        }
    }
}
