//! Sentences for people about decoded facts: the one-line account of a flow that the
//! table's Notes column and `capture`'s live events show.
//!
//! Decoders only state facts (`protocols`); this is where those facts become words.

use crate::analyze::http_lines::cut_mark;
use crate::flow::record::FlowSummary;
use crate::protocols::http::HeadCut;
use crate::protocols::tls::{HandshakeOutcome, TlsFacts, alert_name, version_name};
use crate::protocols::{AppFacts, AppProtocol};
use tls_parser::TlsAlertSeverity;

/// Formats a byte count the way people read it (`912 B`, `4.2 kB`, `1.3 MB`).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A flow's notes for people: what was decoded ([`summary`]), then what went wrong on
/// the wire (reset, SYN retries, retransmissions, gaps) and what the analysis had to
/// leave out.
pub fn notes(f: &FlowSummary) -> String {
    let mut n: Vec<String> = Vec::new();
    let decoded = summary_of(&f.app, f.snaplen_bytes.iter().any(|&n| n > 0));
    if !decoded.is_empty() {
        n.push(decoded);
    }
    if let Some((dir, frame)) = f.rst {
        n.push(format!("RST by {} (frame {frame})", dir.sender()));
    }
    if f.client_syns > 1 {
        n.push(format!("SYN sent {} times", f.client_syns));
    }
    let retrans = f.retransmissions[0] + f.retransmissions[1];
    if retrans > 0 {
        n.push(format!("{retrans} retransmitted"));
    }
    let gaps = f.gaps[0] + f.gaps[1];
    if gaps > 0 {
        n.push(format!(
            "{gaps} gap(s), {} missing",
            human_bytes(f.gap_bytes[0] + f.gap_bytes[1])
        ));
    }
    if let Some((frame, u)) = f.unreachable {
        n.push(match u.mtu {
            Some(mtu) => format!("ICMP packet too big, MTU {mtu} (frame {frame})"),
            None => format!("ICMP unreachable code {} (frame {frame})", u.code),
        });
    }
    if f.cap_hits.iter().any(|c| *c > 0) {
        n.push("analysis partial (buffer cap)".into());
    }
    if f.evicted {
        n.push("analysis partial (evicted: flow table full)".into());
    }
    if f.app.notes_omitted > 0 {
        n.push(format!(
            "{} more decode notes not kept",
            f.app.notes_omitted
        ));
    }
    if f.facts_not_kept > 0 {
        n.push(format!(
            "analysis partial ({} decoded facts not kept: --max-facts or a per-flow bound)",
            f.facts_not_kept
        ));
    }
    n.join("; ")
}

/// What a flow's payload said, in one line: e.g. `CONNECT api.anthropic.com:443 → 407
/// (Basic, NTLM)`; empty when nothing was decoded.
pub fn summary(facts: &AppFacts) -> String {
    summary_of(facts, false)
}

/// [`summary`] of a flow whose packets the snap length may have `cut`: a handshake
/// not seen to its end is then said to be cut, not incomplete.
fn summary_of(facts: &AppFacts, cut: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    for ex in &facts.http {
        let mut s = match (&ex.method, &ex.target) {
            (Some(m), Some(t)) => format!("{m} {t}{}", cut_mark(ex.request_cut, HeadCut::Target)),
            _ => "(response only)".to_string(),
        };
        match ex.status {
            Some(code) => {
                s.push_str(&format!(" → {code}"));
                let schemes = ex.challenge_schemes();
                if !schemes.is_empty() {
                    s.push_str(&format!(" ({})", schemes.join(", ")));
                }
            }
            None if ex.response_cut.is_some() => s.push_str(" → response cut by the snap length"),
            None => s.push_str(" → no response"),
        }
        if let Some(c) = ex.credentials.first() {
            match &c.user {
                Some(u) => s.push_str(&format!(" [{} {u}]", c.scheme)),
                None => s.push_str(&format!(" [{}]", c.scheme)),
            }
        }
        parts.push(s);
    }
    if let Some(s) = &facts.socks {
        parts.push(format!(
            "SOCKS{} {} → {}",
            s.version,
            s.target.as_deref().unwrap_or("?"),
            match s.reply {
                Some(r) if s.granted => format!("granted ({r})"),
                Some(r) => format!("refused ({r})"),
                None => "no reply".to_string(),
            }
        ));
    }
    for d in facts.dns.iter().take(3) {
        parts.push(match (&d.query, &d.qtype) {
            (Some(q), t) => format!(
                "DNS {} {q} → {}",
                t.as_deref().unwrap_or("?"),
                d.rcode.as_deref().unwrap_or("no response")
            ),
            // A response nobody asked for in this capture (mDNS announcements).
            (None, _) if d.answered => format!(
                "DNS response without a query{}",
                d.answers
                    .first()
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default()
            ),
            (None, _) => "DNS message without a question".to_string(),
        });
    }
    if let Some(t) = &facts.tls {
        parts.push(tls_summary(t, cut));
    }
    if parts.is_empty() {
        return match facts.protocol {
            // Nothing to say: the state column tells what happened (REJ, S0...).
            AppProtocol::Unknown => String::new(),
            AppProtocol::Other => "unrecognised payload".to_string(),
            p => format!("{p:?}"),
        };
    }
    parts.join("; ")
}

/// `TLS1.3 sni=api.anthropic.com → alert unknown_ca from client`.
fn tls_summary(t: &TlsFacts, cut: bool) -> String {
    let version = t
        .version
        .or(t.supported_versions.first().copied())
        .or(t.client_version)
        .map_or("TLS".into(), version_name)
        .replace("TLSv", "TLS");
    let mut s = version;
    if let Some(sni) = &t.sni {
        s.push_str(&format!(" sni={sni}"));
    }
    if let Some(issuer) = t.certificates.first().map(|c| &c.issuer) {
        s.push_str(&format!(" issuer=\"{issuer}\""));
    }
    let end = if let Some(a) = t
        .alerts
        .iter()
        .find(|a| a.level == Some(TlsAlertSeverity::Fatal))
    {
        format!(
            "alert {} from {}",
            a.description.map_or("?".into(), alert_name),
            a.from.sender()
        )
    } else {
        match t.outcome {
            HandshakeOutcome::Established => "established".to_string(),
            _ if cut => "handshake cut by the snap length".to_string(),
            HandshakeOutcome::ClientEncryptedAlert => {
                "client sent an encrypted alert after the server's flight".to_string()
            }
            HandshakeOutcome::ClientSilentAfterServerFlight => {
                "client went silent after the server's flight".to_string()
            }
            HandshakeOutcome::NoServerHello => "no server_hello".to_string(),
            HandshakeOutcome::NoClientHello => "no client_hello seen".to_string(),
            _ => "handshake incomplete".to_string(),
        }
    };
    let decryption = match &t.decryption {
        None => String::new(),
        Some(d) => match (d.records, d.problem.as_deref()) {
            (0, Some(why)) => format!("; not decrypted: {why}"),
            (0, None) => "; not decrypted".to_string(),
            (n, None) => format!("; decrypted ({n} records)"),
            (n, Some(why)) => format!("; decrypted {n} records, then: {why}"),
        },
    };
    format!("{s} → {end}{decryption}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::model::{Dir, FrameNo, Timestamp};
    use crate::protocols::tls::TlsAlert;
    use crate::protocols::{DecodeCtx, DecoderFactory};

    /// The facts a decoder gives for these chunks, each in its own frame.
    fn decoded(chunks: &[(Dir, &[u8])]) -> AppFacts {
        let cx = &mut DecodeCtx::default();
        let mut d = DecoderFactory::default().stream(50000, 3128);
        for (n, (dir, bytes)) in (1..).zip(chunks) {
            d.on_data(cx, *dir, bytes, FrameNo(n), Timestamp(n as i64));
        }
        d.finish()
    }

    #[test]
    fn proxy_challenge_names_its_schemes() {
        let f = decoded(&[
            (Dir::ToServer, b"CONNECT h:443 HTTP/1.1\r\n\r\n"),
            (Dir::ToClient, b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"),
        ]);
        assert_eq!(summary(&f), "CONNECT h:443 → 407 (Basic, NTLM)");
    }

    #[test]
    fn tunnel_then_tls_alert_in_one_line() {
        let mut f = decoded(&[
            (Dir::ToServer, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
            (
                Dir::ToClient,
                b"HTTP/1.1 200 Connection established\r\n\r\n",
            ),
        ]);
        f.tls = Some(Box::new(TlsFacts {
            version: Some(tls_parser::TlsVersion::Tls13),
            sni: Some("example.com".into()),
            alerts: vec![TlsAlert {
                from: Dir::ToClient,
                level: Some(TlsAlertSeverity::Fatal),
                description: Some(tls_parser::TlsAlertDescription::UnknownCa),
                encrypted: false,
                frame: FrameNo(5),
                after: None,
            }],
            ..TlsFacts::default()
        }));
        assert_eq!(
            summary(&f),
            "CONNECT example.com:443 → 200; TLS1.3 sni=example.com → alert unknown_ca from server"
        );
    }

    #[test]
    fn handshake_without_alert_says_how_it_ended() {
        let tls = |outcome| AppFacts {
            protocol: AppProtocol::Tls,
            tls: Some(Box::new(TlsFacts {
                client_version: Some(tls_parser::TlsVersion::Tls12),
                outcome,
                ..TlsFacts::default()
            })),
            ..AppFacts::default()
        };
        assert_eq!(
            summary(&tls(HandshakeOutcome::ClientSilentAfterServerFlight)),
            "TLS1.2 → client went silent after the server's flight"
        );
        assert_eq!(
            summary(&tls(HandshakeOutcome::Incomplete)),
            "TLS1.2 → handshake incomplete"
        );
    }

    #[test]
    fn nothing_decoded_leaves_the_state_column_to_speak() {
        assert_eq!(summary(&AppFacts::default()), "");
        let other = AppFacts {
            protocol: AppProtocol::Other,
            ..AppFacts::default()
        };
        assert_eq!(summary(&other), "unrecognised payload");
    }

    #[test]
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(human_bytes(912), "912 B");
        assert_eq!(human_bytes(4_200), "4.2 kB");
        assert_eq!(human_bytes(1_300_000), "1.3 MB");
    }
}
