//! Guide section 3, before any certificate: the server side refuses the ClientHello.
//!
//! A fatal `protocol_version`, `handshake_failure` or `insufficient_security` alert
//! from the server before any ServerHello means the two sides share no TLS version or
//! cipher: a client capped at an old version, or a proxy or inspection device that
//! accepts less than the client offers. The handshake never reached a certificate, so
//! the SSL inspection rule has nothing to say about it.

use super::{Ctx, Rule};
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;
use crate::model::Dir;
use crate::protocols::tls::{alert_name, version_name};
use std::collections::BTreeMap;
use tls_parser::{TlsAlertDescription as Alert, TlsAlertSeverity};

/// Alerts that say "nothing in common" (RFC 8446 6.2).
const NO_COMMON_GROUND: [Alert; 3] = [
    Alert::HandshakeFailure,
    Alert::ProtocolVersion,
    Alert::InsufficientSecurity,
];

/// One finding per server name.
#[derive(Default)]
pub struct Check {
    by_host: BTreeMap<String, Finding>,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Some(t) = &f.app.tls else { return };
        if t.server_hello_frame.is_some() {
            return;
        }
        let Some(alert) = t.alerts.iter().find(|a| {
            a.from == Dir::ToClient
                && !a.encrypted
                && a.level == Some(TlsAlertSeverity::Fatal)
                && a.description.is_some_and(|d| NO_COMMON_GROUND.contains(&d))
        }) else {
            return;
        };
        let host = t
            .sni
            .as_deref()
            .map_or_else(|| f.server.ip().to_string(), str::to_string);
        let description = alert
            .description
            .map_or_else(|| "fatal alert".into(), |d| alert_name(d).into_owned());
        let offered = if t.supported_versions.is_empty() {
            t.client_version.map_or_else(
                || "an unknown version".into(),
                |v| version_name(v).into_owned(),
            )
        } else {
            t.supported_versions
                .iter()
                .map(|v| version_name(*v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let through = if ctx.is_proxy(f) || f.app.tls_in_tunnel {
            " through the proxy"
        } else {
            ""
        };
        let vars = [
            ("host", host.clone()),
            ("alert", description.clone()),
            ("offered", offered.clone()),
        ];
        let finding = self.by_host.entry(host.clone()).or_insert_with(|| {
            Finding::new(
                FindingKind::TlsHandshakeRefused,
                Severity::Error,
                format!("TLS handshake with {host} refused{through} ({description})"),
                format!(
                    "The client offered {offered}; the server side answered the ClientHello \
                     with a fatal {description} alert before any ServerHello: the two share \
                     no TLS version or cipher. Either the client is capped below what the \
                     server (or a proxy or inspection device in its place) requires, or that \
                     device accepts less than the client offers."
                ),
                &vars,
            )
        });
        let mut frames: Vec<u64> = t.client_hello_frame.iter().map(|n| n.0).collect();
        frames.push(alert.frame.0);
        finding.push(ctx.ev(
            id,
            f,
            frames,
            format!(
                "ClientHello for {host} offering {offered}, answered by a fatal {description} \
                 alert from the server in frame {}",
                alert.frame
            ),
            t.client_hello_ts,
        ));
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        self.by_host.into_values().collect()
    }
}
