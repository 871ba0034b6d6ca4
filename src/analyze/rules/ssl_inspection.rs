//! Guide section 3: TLS interception (SSL inspection) and certificate refusals.

use super::{Ctx, Rule};
use crate::analyze::chains::Chain;
use crate::analyze::issuers::cn;
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use crate::model::Dir;
use crate::protocols::tls::{HandshakeOutcome, alert_name};
use std::collections::HashMap;
use tls_parser::{TlsAlertDescription as Alert, TlsAlertSeverity};

/// A name on the public internet: dotted, not an address, no internal suffix.
pub fn is_public_name(sni: &str, cfg: &crate::analyze::Config) -> bool {
    let s = sni.to_ascii_lowercase();
    s.contains('.') && s.parse::<std::net::IpAddr>().is_err() && !cfg.is_internal_name(&s)
}

/// Evidence suffix when the chain was read from a TLS 1.3 handshake decrypted with a
/// key log: without keys it is encrypted, and the finding is then seen, not inferred.
fn seen_decrypted(t: &crate::protocols::tls::TlsFacts) -> &'static str {
    let decrypted = t.decryption.as_ref().is_some_and(|d| d.records > 0);
    if decrypted && t.version == Some(tls_parser::TlsVersion::Tls13) && !t.certificates.is_empty() {
        " (chain read from the handshake decrypted with the key log: confirmed, not inferred)"
    } else {
        ""
    }
}

/// The handshake outcome in words, for evidence.
pub fn outcome_text(o: HandshakeOutcome) -> &'static str {
    match o {
        HandshakeOutcome::Established => "the handshake completed",
        HandshakeOutcome::ClientAlert => "the client sent a fatal alert",
        HandshakeOutcome::ServerAlert => "the server sent a fatal alert",
        HandshakeOutcome::ClientEncryptedAlert => {
            "the client answered the server's first flight with an alert-sized encrypted record"
        }
        HandshakeOutcome::ClientSilentAfterServerFlight => {
            "the client went silent after the server's first flight"
        }
        HandshakeOutcome::NoServerHello => "no ServerHello came back",
        HandshakeOutcome::NoClientHello => "the capture starts after the ClientHello",
        HandshakeOutcome::Incomplete => "the handshake did not finish in the capture",
    }
}

/// The chain presented on flow `id`, or (TLS 1.3 hides it) one presented for the
/// same name on another flow.
pub fn chain_for<'c>(ctx: &'c Ctx<'_>, id: usize, sni: Option<&str>) -> Option<&'c Chain> {
    ctx.chain_of_flow(id)
        .or_else(|| sni.and_then(|s| ctx.chain_of_name(s)))
}

/// One line: which stores would accept the chain.
pub fn trust_line(chain: &Chain) -> String {
    let parts: Vec<String> = chain
        .trusted_by
        .iter()
        .map(|v| {
            let name = match v.store {
                "mozilla" => "Mozilla's roots (Node, certifi)".to_string(),
                "system" => format!("system store ({})", v.path.as_deref().unwrap_or("?")),
                _ => v.path.as_deref().map_or("--ca-file".to_string(), |p| {
                    std::path::Path::new(p)
                        .file_name()
                        .map_or(p.to_string(), |n| n.to_string_lossy().into_owned())
                }),
            };
            if v.trusted {
                format!("{name}: trusted")
            } else {
                format!(
                    "{name}: not trusted, {}",
                    v.reason.as_deref().unwrap_or("refused")
                )
            }
        })
        .collect();
    format!("trust: {}", parts.join("; "))
}

/// What the trust stores' verdicts mean for the user: a sentence for the explanation
/// and, when one store would fix it, a first remedy step naming that file.
pub fn trust_advice(chain: &Chain) -> (String, Option<String>) {
    let moz = chain.verdict("mozilla").map(|v| v.trusted);
    let sys = chain.verdict("system");
    let mut note = String::new();
    let mut step = None;
    if let Some(v) = chain.verdict("ca_file") {
        let path = v.path.clone().unwrap_or_default();
        let name = std::path::Path::new(&path)
            .file_name()
            .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        if v.trusted {
            note.push_str(&format!(
                " Your {name} would trust this chain: point NODE_EXTRA_CA_CERTS / \
                 REQUESTS_CA_BUNDLE / SSL_CERT_FILE at it."
            ));
            step = Some(format!(
                "Your {name} would trust this chain: `export NODE_EXTRA_CA_CERTS={path}` \
                 (Node adds it to its roots); `export REQUESTS_CA_BUNDLE={path}` (Python \
                 requests) and `export SSL_CERT_FILE={path}` (OpenSSL-based tools) replace \
                 the roots, so for those the file must also hold the public roots (append \
                 it to a copy of the system bundle). Then install it system-wide as step 3.2 says."
            ));
        } else {
            note.push_str(&format!(
                " Your {name} would not trust this chain: {}.",
                v.reason.as_deref().unwrap_or("refused")
            ));
        }
    }
    match (moz, sys) {
        (Some(false), Some(s)) if s.trusted => {
            let path = s.path.clone().unwrap_or_default();
            note.push_str(&format!(
                " This machine's system store ({path}) trusts the inspection CA but \
                 Mozilla's roots, which Node's bundled store and Python's certifi \
                 carry, do not: curl and system tools work while Node and Python \
                 requests fail."
            ));
            step.get_or_insert(format!(
                "The OS already trusts this CA; tell Node and Python to use the system \
                 store: `export NODE_EXTRA_CA_CERTS={path}` and `export \
                 REQUESTS_CA_BUNDLE={path}` (both in your shell profile)."
            ));
        }
        (Some(false), Some(s)) => note.push_str(&format!(
            " Neither Mozilla's roots (Node, certifi) nor this machine's system store \
             ({}) trust it: the inspection CA is not installed yet.",
            s.path.as_deref().unwrap_or("?")
        )),
        (Some(false), None) => note.push_str(
            " Mozilla's public roots (what Node's bundled store and Python's certifi \
             carry) do not trust it; `--system-store` tells whether this machine's OS \
             store does.",
        ),
        _ => {}
    }
    (note, step)
}

const CERT_ALERTS: &[Alert] = &[
    Alert::UnknownCa,
    Alert::BadCertificate,
    Alert::CertificateUnknown,
    Alert::UnsupportedCertificate,
    Alert::CertificateExpired,
    Alert::CertificateRevoked,
    Alert::AccessDenied,
    Alert::DecryptError,
    Alert::HandshakeFailure,
];

#[derive(Default)]
pub struct Check {
    refused: Option<Finding>,
    abandoned: Option<Finding>,
    inspected: Option<Finding>,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Check {
            refused,
            abandoned,
            inspected,
        } = self;
        let issuer_by_name = &ctx.issuer_by_name;
        let Some(t) = &f.app.tls else { return };
        let seen = seen_decrypted(t);
        let sni = t
            .sni
            .as_deref()
            .map(str::to_string)
            .unwrap_or_else(|| crate::model::addr_text::socket(f.server));
        let interceptor = ctx.public_roots.inspecting_cert(t);
        // Most handshakes are none of the cases below: skip the wording for them.
        let may_refuse = t.alerts.iter().any(|a| a.from == Dir::ToServer);
        // The client's records after the server's flight may be in the bytes the snap
        // length cut: its silence or first record is not known then.
        let may_abandon = matches!(
            t.outcome,
            HandshakeOutcome::ClientEncryptedAlert
                | HandshakeOutcome::ClientSilentAfterServerFlight
        ) && f.snaplen_bytes[0] == 0;
        let may_be_inspected =
            interceptor.is_some() && t.sni.is_some() && is_public_name(&sni, ctx.cfg);
        if !may_refuse && !may_abandon && !may_be_inspected {
            return;
        }
        let issuer = interceptor
            .map(|(c, _)| c.issuer.clone())
            .or_else(|| t.certificates.first().map(|c| c.issuer.clone()));
        let elsewhere = if issuer.is_none() {
            t.sni
                .as_deref()
                .and_then(|n| issuer_by_name.get(n))
                .cloned()
        } else {
            None
        };
        let issuer = issuer.or_else(|| elsewhere.as_ref().map(|(i, _)| i.clone()));
        let vars = [
            ("host", sni.clone()),
            (
                "issuer",
                issuer
                    .as_deref()
                    .map_or("the corporate CA".to_string(), |i| cn(i).to_string()),
            ),
            (
                "proxy",
                if ctx.proxies.contains(&f.server) {
                    crate::model::addr_text::socket(f.server)
                } else {
                    "PROXY:PORT".to_string()
                },
            ),
        ];
        let issuer_note = match (&issuer, &elsewhere) {
            (Some(i), Some((_, other))) => format!(
                " On flow #{other} the certificate presented for {sni} was issued by \"{i}\"."
            ),
            (Some(i), None) => {
                format!(" The certificate presented for {sni} was issued by \"{i}\".")
            }
            _ => String::new(),
        };
        let chain = chain_for(ctx, id, t.sni.as_deref());
        let (trust_note, trust_step) = chain.map(trust_advice).unwrap_or_default();
        let with_step = |mut f: Finding| {
            if let Some(step) = &trust_step {
                f.remedy.insert(0, step.clone());
            }
            f
        };
        let cert_frame = t.certificate_frame.map(|f| f.0);
        let fatal = t.alerts.iter().find(|a| {
            a.from == Dir::ToServer
                && !a.encrypted
                && a.level == Some(TlsAlertSeverity::Fatal)
                && a.description.is_some_and(|d| CERT_ALERTS.contains(&d))
        });
        let mut handled = false;
        let untrusted = interceptor.is_some()
            || elsewhere.is_some()
            || chain.is_some_and(|ch| ch.verdict("mozilla").is_some_and(|v| !v.trusted));
        let closed_at_once = if fatal.is_none() && untrusted {
            closed_after_handshake(f)
        } else {
            None
        };
        if let Some((close_frame, secs)) = closed_at_once {
            let mut frames: Vec<u64> = cert_frame.into_iter().collect();
            frames.push(close_frame);
            refused
                .get_or_insert_with(|| {
                    with_step(Finding::new(
                        FindingKind::TlsCertificateRejected,
                        Severity::Error,
                        format!(
                            "Client refused the certificate for {sni} (closed right after \
                             the handshake)"
                        ),
                        format!(
                            "The TLS handshake completed, then the client closed the \
                             connection without sending a request and without an alert: \
                             it checked the certificate only after the handshake (as Node \
                             does) and refused it.{issuer_note} Behind a corporate proxy \
                             this is SSL inspection by a CA that this client's trust store \
                             lacks.{trust_note}"
                        ),
                        &vars,
                    ))
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!(
                        "handshake completed; the client closed in frame {close_frame}, \
                         {secs:.3} s after the ServerHello, having sent no application \
                         data{}{seen}",
                        issuer
                            .as_deref()
                            .map(|i| format!("; issuer \"{i}\""))
                            .unwrap_or_default()
                    ),
                    None,
                ));
            handled = true;
        } else if let Some(a) = fatal {
            let d = a.description.map_or("?".into(), alert_name);
            let mut frames: Vec<u64> = cert_frame.into_iter().collect();
            frames.push(a.frame.0);
            refused
                .get_or_insert_with(|| {
                    with_step(Finding::new(
                        FindingKind::TlsCertificateRejected,
                        Severity::Error,
                        format!("Client refused the certificate for {sni} ({d})"),
                        format!(
                            "Right after the server's certificate the client sent a fatal \
                             {d} alert: it does not trust the chain it was shown.{issuer_note} \
                             Behind a corporate proxy this is SSL inspection by a CA that \
                             this client's trust store lacks.{trust_note}"
                        ),
                        &vars,
                    ))
                })
                .push(ctx.ev(
                    id,
                    f,
                    frames,
                    format!(
                            "client alert fatal {d} in frame {} after {}{}{}{seen}",
                            a.frame,
                            a.after.unwrap_or("?"),
                            issuer
                                .as_deref()
                                .map(|i| format!("; issuer \"{i}\""))
                                .unwrap_or_default(),
                            chain
                                .filter(|ch| {
                                    !ch.trusted_by.is_empty()
                                        && ctx
                                            .chain_of_flow(id)
                                            .is_some_and(|own| std::ptr::eq(own, *ch))
                                })
                                .map(|ch| format!("; {}", trust_line(ch)))
                                .unwrap_or_default()
                        ),
                    None,
                ));
            handled = true;
        } else if may_abandon {
            let closed = f.history.contains('F') || f.history.contains('R');
            if t.outcome == HandshakeOutcome::ClientEncryptedAlert || closed {
                let mut frames: Vec<u64> = t.server_hello_frame.into_iter().map(|f| f.0).collect();
                frames.extend(f.rst.map(|(_, fr)| fr.0));
                abandoned
                    .get_or_insert_with(|| {
                        with_step(Finding::new(
                            FindingKind::TlsHandshakeAbandoned,
                            Severity::Error,
                            format!("Client abandoned the TLS handshake with {sni} after the server's first flight"),
                            format!(
                                "The server sent its first flight (with its certificate, \
                                 encrypted in TLS 1.3) and the client {} instead of finishing \
                                 the handshake: it refused the certificate. Behind a proxy \
                                 this is SSL inspection by a CA the client does not \
                                 trust.{issuer_note}{trust_note}",
                                if t.outcome == HandshakeOutcome::ClientEncryptedAlert {
                                    "answered with an alert-sized record"
                                } else {
                                    "closed the connection"
                                }
                            ),
                            &vars,
                        ))
                    })
                    .push(ctx.ev(
                        id,
                        f,
                        frames,
                        format!(
                            "{} (TLS messages: {})",
                            outcome_text(t.outcome),
                            t.history
                        ),
                        None,
                    ));
                handled = true;
            }
        }
        if let Some((c, product)) = interceptor
            && t.sni.is_some()
            && is_public_name(&sni, ctx.cfg)
            && !handled
        {
            let severity = if t.established {
                Severity::Warning
            } else {
                Severity::Error
            };
            let finding = inspected.get_or_insert_with(|| {
                with_step(Finding::new(
                    FindingKind::TlsInspectionDetected,
                    severity,
                    format!("TLS to {sni} is intercepted by {product}"),
                    format!(
                        "The certificate for the public host {sni} was issued by \"{}\" \
                             ({product}), not by a public CA: a proxy decrypts and re-signs \
                             this traffic. {}",
                        c.issuer,
                        if t.established {
                            "The handshake completed, so this client trusts that CA; \
                                 clients with their own trust store (Node, Python certifi) \
                                 will fail unless told about it."
                        } else {
                            "The handshake did not complete."
                        }
                    ) + &trust_note,
                    &vars,
                ))
            });
            if severity == Severity::Error {
                finding.severity = Severity::Error;
            }
            finding.push(ctx.ev(
                id,
                f,
                cert_frame.into_iter().collect(),
                format!(
                    "subject \"{}\", issuer \"{}\", sha256 {}{}{seen}",
                    c.subject,
                    c.issuer,
                    c.sha256,
                    chain
                        .filter(|ch| {
                            !ch.trusted_by.is_empty() && ch.flows.first() == Some(&id)
                        })
                        .map(|ch| format!("; {}", trust_line(ch)))
                        .unwrap_or_default()
                ),
                None,
            ));
        }
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let Check {
            refused,
            abandoned,
            inspected,
        } = *self;
        [refused, abandoned, inspected, many_hosts(ctx)]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// A client that closes this soon after the ServerHello, having completed the
/// handshake and sent nothing, decided on the certificate (Node verifies it after
/// the handshake and closes at once); one that idles longer may simply be done.
pub const CLOSE_AFTER_HANDSHAKE_SECS: f64 = 1.0;

/// An established handshake the client ended (FIN or RST, before the server closed)
/// within [`CLOSE_AFTER_HANDSHAKE_SECS`] of the ServerHello without sending any
/// application data, with nothing lost from its direction: its closing frame and the
/// seconds since the ServerHello.
fn closed_after_handshake(f: &FlowSummary) -> Option<(u64, f64)> {
    let t = f.app.tls.as_deref()?;
    if !t.established
        || t.client_last_app_frame.is_some()
        || f.gaps[0] > 0
        || f.snaplen_bytes[0] > 0
        || f.partial()
    {
        return None;
    }
    let hello = t.server_hello_ts?;
    let h = &*f.history;
    let server_closed_first = match (h.find(['f', 'r']), h.find(['F', 'R'])) {
        (Some(s), Some(c)) => s < c,
        (Some(_), None) => true,
        _ => false,
    };
    if server_closed_first {
        return None;
    }
    let (frame, ts) = match (f.client_fin, f.rst) {
        (Some((n, ts)), _) => (n.0, ts),
        (None, Some((crate::model::Dir::ToServer, n))) => (n.0, f.last_ts),
        _ => return None,
    };
    let secs = ts.secs_since(hello);
    (secs <= CLOSE_AFTER_HANDSHAKE_SECS).then_some((frame, secs))
}

/// Distinct public names whose certificates one private issuer minted before the rule
/// calls it SSL inspection: one odd certificate is a misconfigured server, three
/// unrelated sites signed by the same unknown CA are a proxy re-signing traffic.
pub const MANY_HOSTS: usize = 3;

/// Many public hosts' certificates minted by one private (non-public-root) issuer.
fn many_hosts(ctx: &Ctx<'_>) -> Option<Finding> {
    // issuer -> (hosts, chains)
    let mut by_issuer: Vec<(String, Vec<&Chain>)> = Vec::new();
    let mut where_issuer: HashMap<&str, usize> = HashMap::new();
    for ch in &ctx.chains {
        let public_issuer = ctx.public_roots.chains_to_public_root(&ch.certs) == Some(true)
            || ch.verdict("mozilla").is_some_and(|v| v.trusted);
        if public_issuer || ch.sni.is_none() || !is_public_name(&ch.host, ctx.cfg) {
            continue;
        }
        match where_issuer
            .get(ch.issuer.as_str())
            .and_then(|&i| by_issuer.get_mut(i))
        {
            Some((_, v)) => v.push(ch),
            None => {
                where_issuer.insert(ch.issuer.as_str(), by_issuer.len());
                by_issuer.push((ch.issuer.clone(), vec![ch]));
            }
        }
    }
    let (issuer, chains) = by_issuer.into_iter().find(|(_, v)| {
        let mut hosts: Vec<&str> = v.iter().map(|c| c.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts.len() >= MANY_HOSTS
    })?;
    let mut hosts: Vec<&str> = chains.iter().map(|c| c.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let all_ok = chains.iter().all(|c| c.established);
    let first = chains.first()?;
    let (trust_note, trust_step) = trust_advice(first);
    let mut f = Finding::new(
        FindingKind::TlsInspectionManyHosts,
        if all_ok {
            Severity::Warning
        } else {
            Severity::Error
        },
        format!(
            "{} public hosts' certificates were issued by one private CA \"{}\"",
            hosts.len(),
            cn(&issuer)
        ),
        format!(
            "Unrelated public sites ({}) all presented certificates from \"{issuer}\", \
             which is not a public CA: a proxy decrypts and re-signs this traffic (SSL \
             inspection). {}{trust_note}",
            hosts.join(", "),
            if all_ok {
                "These handshakes completed, so this client trusts that CA; tools with \
                 their own trust store (Node, Python certifi) will not unless told."
            } else {
                "Some handshakes did not complete."
            }
        ),
        &[
            ("issuer", cn(&issuer).to_string()),
            ("host", first.host.clone()),
        ],
    );
    if let Some(step) = trust_step {
        f.remedy.insert(0, step);
    }
    for ch in chains {
        let Some(&flow) = ch.flows.first() else {
            continue;
        };
        let Some(fs) = ctx.flow(flow) else {
            continue;
        };
        f.push(ctx.ev(
            flow,
            &fs,
            ch.frame.into_iter().collect(),
            format!(
                "{}: subject \"{}\", sha256 {}",
                ch.host,
                ch.subject,
                ch.sha256.first().map_or("", String::as_str)
            ),
            None,
        ));
    }
    Some(f)
}
