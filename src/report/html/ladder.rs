//! The ladder diagram of one connection, as Wireshark's flow graph draws it: a lane
//! per party (client, the proxy or gateway, the far end), one arrow per step (TCP
//! handshake and teardown, CONNECT and its answer, TLS hellos, certificate, alerts,
//! requests and responses, DNS), with frame numbers and times since the first packet.
//! A failed step is red, a step the finding cites is bold, a long wait is a gap.
//!
//! Texts come from the schema [`Flow`] (masked as in the JSON report); the internal
//! [`FlowSummary`] only adds frame numbers and timestamps, which hold no secret.

use super::secs;
use crate::analyze::http_lines::cut_mark;
use crate::flow::record::{FlowSummary, Transport};
use crate::model::{Dir, Timestamp};
use crate::report::json::schema::{Finding, Flow, HeadCut};
use maud::{Markup, html};

/// Steps drawn per ladder; the rest are counted.
const MAX_STEPS: usize = 40;
/// A wait at least this long (seconds) between two steps is drawn as a gap: far
/// above a LAN or loopback round trip, where a server thinking or a timeout shows.
const GAP_SECS: f64 = 0.25;
/// Characters of a label kept.
const LABEL_CHARS: usize = 64;

const ROW: u32 = 38;
const GAP_ROW: u32 = 26;
const HEAD: u32 = 56;
const WIDTH: u32 = 860;

/// One arrow of the ladder.
struct Step {
    frame: Option<u64>,
    /// Seconds since the flow's first packet, when known.
    t: Option<f64>,
    from: usize,
    to: usize,
    /// Stable name of the step (`syn`, `connect`, `status`, `client-hello`...).
    kind: &'static str,
    label: String,
    detail: Option<String>,
    bad: bool,
    /// Where it sorts: its frame, or for a note the frame it follows.
    key: u64,
}

/// The lanes: client, then the server of the flow, then (through a proxy) the far end.
struct Lanes {
    /// Role, address, and the name asked for when known.
    names: Vec<(&'static str, String, Option<String>)>,
}

impl Lanes {
    fn far(&self) -> usize {
        self.names.len() - 1
    }
    fn x(&self, lane: usize) -> u32 {
        let (left, right) = (200, WIDTH - 140);
        let n = self.names.len().max(2) as u32 - 1;
        left + (right - left) * lane as u32 / n
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(LABEL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// A lane's name, short enough to stay inside its column.
fn lane_cut(s: &str) -> String {
    const LANE_CHARS: usize = 34;
    if s.chars().count() <= LANE_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(LANE_CHARS - 1).collect();
        t.push('…');
        t
    }
}

fn rel(ts: Option<Timestamp>, f: &FlowSummary) -> Option<f64> {
    ts.map(|t| t.secs_since(f.first_ts).max(0.0))
}

/// Host of an absolute URI (`http://host:port/path`).
fn uri_host(target: &str) -> Option<&str> {
    let rest = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = rest.get(..end)?;
    // Never the userinfo part of an authority.
    Some(auth.rsplit('@').next().unwrap_or(auth))
}

fn lanes(flow: &Flow<'_>) -> Lanes {
    let connect = flow
        .app
        .http
        .iter()
        .find(|h| h.method == Some("CONNECT"))
        .and_then(|h| h.target);
    let absolute = flow
        .app
        .http
        .iter()
        .find_map(|h| h.target.and_then(uri_host));
    let socks = flow.app.socks.as_ref().map(|s| s.target.unwrap_or("?"));
    let client = ("client", flow.client.clone(), None);
    let sni = flow.app.tls.as_ref().and_then(|t| t.sni);
    match connect.or(socks).or(absolute) {
        Some(far) => Lanes {
            names: vec![
                client,
                ("proxy", flow.server.clone(), None),
                ("far end", far.to_string(), None),
            ],
        },
        None => {
            let host = sni
                .or_else(|| flow.app.http.iter().find_map(|h| h.host))
                .map(String::from);
            Lanes {
                names: vec![client, ("server", flow.server.clone(), host)],
            }
        }
    }
}

/// Appends a step and gives it back, to set its detail or mark it failed.
fn add<'a>(
    out: &'a mut Vec<Step>,
    frame: Option<u64>,
    t: Option<f64>,
    from: usize,
    to: usize,
    kind: &'static str,
    label: String,
) -> &'a mut Step {
    out.push(Step {
        frame,
        t,
        from,
        to,
        kind,
        label: cut(&label),
        detail: None,
        bad: false,
        key: frame.unwrap_or(u64::MAX),
    });
    let last = out.len() - 1;
    &mut out[last]
}

fn steps(flow: &Flow<'_>, f: &FlowSummary, lanes: &Lanes, by: &str) -> Vec<Step> {
    let far = lanes.far();
    let mut out = Vec::new();
    if f.transport == Transport::Tcp {
        if let Some(fr) = f.syn_frame {
            let label = if f.client_syns > 1 {
                format!("SYN ×{}", f.client_syns)
            } else {
                "SYN".to_string()
            };
            let t = (fr == f.first_frame).then_some(0.0);
            add(&mut out, Some(fr.0), t, 0, 1, "syn", label);
        }
        if let Some(fr) = f.synack_frame {
            let t = f.rtt.filter(|_| f.syn_frame == Some(f.first_frame));
            add(
                &mut out,
                Some(fr.0),
                t,
                1,
                0,
                "syn-ack",
                "SYN, ACK".to_string(),
            );
        }
    }
    if let Some(u) = &flow.icmp_unreachable {
        let st = add(
            &mut out,
            Some(u.frame),
            None,
            1,
            0,
            "icmp",
            match u.mtu {
                Some(mtu) => format!("ICMP fragmentation needed, MTU {mtu}"),
                None => format!("ICMP unreachable (code {})", u.code),
            },
        );
        st.bad = true;
    }
    if let (Some(s), Some(fs)) = (&flow.app.socks, &f.app.socks) {
        let st = add(
            &mut out,
            s.request_frame,
            None,
            0,
            1,
            "socks",
            format!("SOCKS{} CONNECT {}", s.version, s.target.unwrap_or("?")),
        );
        st.detail = s.user.map(|u| format!("user {u}"));
        if fs.reply_frame.is_some() {
            let st = add(
                &mut out,
                s.reply_frame,
                None,
                1,
                0,
                "socks-reply",
                if s.granted {
                    "granted".to_string()
                } else {
                    format!(
                        "refused ({})",
                        s.reply.map_or("?".into(), |r| r.to_string())
                    )
                },
            );
            st.bad = !s.granted;
        }
    }
    for (h, raw) in flow.app.http.iter().zip(&f.app.http) {
        let connect = h.method == Some("CONNECT");
        let t = rel(raw.request_ts, f);
        if h.method.is_some() {
            let label = format!(
                "{} {}{}",
                h.method.unwrap_or(""),
                h.target.unwrap_or(""),
                cut_mark(h.request_cut, HeadCut::Target)
            );
            let st = add(
                &mut out,
                h.request_frame,
                t,
                0,
                1,
                if connect { "connect" } else { "request" },
                label,
            );
            let creds: Vec<String> = h
                .credentials
                .iter()
                .map(|c| match c.user {
                    Some(u) => format!("{}: {} ({u})", c.header, c.scheme),
                    None => format!("{}: {}", c.header, c.scheme),
                })
                .collect();
            if !creds.is_empty() {
                st.detail = Some(cut(&creds.join("; ")));
            }
        }
        if let Some(status) = h.status {
            let mut label = format!(
                "{status} {}{}",
                h.reason.unwrap_or(""),
                cut_mark(h.response_cut, HeadCut::Reason)
            );
            if connect && (200..300).contains(&status) {
                label.push_str(" (tunnel)");
            }
            let st = add(
                &mut out,
                h.response_frame,
                t.zip(h.response_time).map(|(a, b)| a + b),
                1,
                0,
                if connect { "status" } else { "response" },
                label,
            );
            let schemes: Vec<&str> = h.challenges.iter().map(|c| c.scheme).collect();
            st.detail = if !schemes.is_empty() {
                Some(format!("offers {}", schemes.join(", ")))
            } else {
                h.x_squid_error.or(h.error_message).map(cut)
            };
            st.bad = status >= 400;
        } else if h.response_cut.is_some() {
            add(
                &mut out,
                h.response_frame,
                t.zip(h.response_time).map(|(a, b)| a + b),
                1,
                0,
                "response",
                "response cut by the snap length".to_string(),
            );
        } else if let Some(fr) = h.request_frame {
            // Drawn where the answer should have come; a FIN or RST later shows how
            // long the client waited.
            let st = add(
                &mut out,
                None,
                None,
                1,
                0,
                "no-response",
                "no response".to_string(),
            );
            st.bad = true;
            st.key = fr;
        }
    }
    if let Some(tls) = &flow.app.tls {
        let raw = f.app.tls.as_deref();
        // Through a tunnel the TLS peer is the far end; intercepted or not, that is
        // who the client believes it talks to.
        let peer = if flow.app.tls_in_tunnel { far } else { 1 };
        if let Some(fr) = tls.client_hello_frame {
            let label = match tls.sni {
                Some(s) => format!("ClientHello SNI={s}"),
                None => "ClientHello (no SNI)".to_string(),
            };
            add(
                &mut out,
                Some(fr),
                rel(raw.and_then(|r| r.client_hello_ts), f),
                0,
                peer,
                "client-hello",
                label,
            );
        }
        if let Some(fr) = tls.server_hello_frame {
            let label = format!(
                "ServerHello {}{}",
                tls.version.as_deref().unwrap_or(""),
                tls.cipher
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default()
            );
            add(
                &mut out,
                Some(fr),
                rel(raw.and_then(|r| r.server_hello_ts), f),
                peer,
                0,
                "server-hello",
                label,
            );
        }
        if let (Some(fr), Some(leaf)) = (tls.certificate_frame, tls.certificates.first()) {
            let top = tls.certificates.last().unwrap_or(leaf);
            let st = add(
                &mut out,
                Some(fr),
                None,
                peer,
                0,
                "certificate",
                format!(
                    "Certificate issuer {}",
                    crate::analyze::issuers::cn(top.issuer)
                ),
            );
            st.detail = Some(cut(&format!("subject {}", leaf.subject)));
        }
        for a in &tls.alerts {
            let (from, to) = if a.from == "client" {
                (0, peer)
            } else {
                (peer, 0)
            };
            let label = if a.encrypted {
                "Alert (encrypted)".to_string()
            } else {
                format!(
                    "Alert {} {}",
                    a.level.as_deref().unwrap_or(""),
                    a.description.as_deref().unwrap_or("")
                )
            };
            let st = add(&mut out, Some(a.frame), None, from, to, "alert", label);
            st.bad = a.level.as_deref() != Some("warning");
            st.detail = a.after.map(|x| format!("after {x}"));
        }
        if let Some(raw) = raw
            && let Some(fr) = raw.client_last_app_frame
        {
            // Encrypted application data: only the client's last record is kept, and
            // the server's last one; enough to show who spoke last.
            add(
                &mut out,
                Some(fr.0),
                rel(raw.client_last_app_ts, f),
                0,
                peer,
                "app-data",
                "Application Data (client's last)".to_string(),
            );
            match raw.server_last_app_frame {
                Some(sf) if sf > fr => {
                    add(
                        &mut out,
                        Some(sf.0),
                        rel(raw.server_last_app_ts, f),
                        peer,
                        0,
                        "app-data",
                        "Application Data (server's last)".to_string(),
                    );
                }
                _ if by == "request_unanswered" => {
                    let st = add(
                        &mut out,
                        None,
                        None,
                        peer,
                        0,
                        "no-response",
                        "no application data back".to_string(),
                    );
                    st.bad = true;
                    st.key = fr.0;
                }
                _ => {}
            }
        }
        if !tls.established && tls.alerts.is_empty() && tls.client_hello_frame.is_some() {
            let st = add(
                &mut out,
                None,
                None,
                0,
                peer,
                "tls-outcome",
                format!("handshake not completed: {}", tls.outcome.replace('_', " ")),
            );
            st.bad = true;
            // Right after the last handshake message seen.
            st.key = [
                tls.client_hello_frame,
                tls.server_hello_frame,
                tls.certificate_frame,
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(u64::MAX);
        }
    }
    for d in &flow.app.dns {
        let q = format!("{}? {}", d.qtype.unwrap_or("query"), d.query.unwrap_or(""));
        // Only the flow's first query has a known time; its answer counts from it.
        let t = (d.query_frame == Some(f.first_frame.0)).then_some(0.0);
        add(&mut out, d.query_frame, t, 0, 1, "dns-query", q);
        if d.answered {
            let mut label = d.rcode.unwrap_or("answer").to_string();
            if let Some(a) = d.answers.first() {
                label.push_str(&format!(" {a}"));
            }
            let st = add(
                &mut out,
                d.response_frame,
                t.zip(d.response_time).map(|(a, b)| a + b),
                1,
                0,
                "dns-response",
                label,
            );
            st.bad = d.rcode.is_some_and(|r| r != "NOERROR");
        } else {
            let st = add(
                &mut out,
                None,
                None,
                1,
                0,
                "no-answer",
                "no DNS answer".to_string(),
            );
            st.bad = true;
            st.key = d.query_frame.unwrap_or(u64::MAX);
        }
    }
    if let Some((fr, ts)) = f.client_fin {
        // A client closing right after the certificate is how it rejects it.
        let rejecting = by == "tls_certificate_rejected";
        let st = add(
            &mut out,
            Some(fr.0),
            rel(Some(ts), f),
            0,
            1,
            "fin",
            "FIN".to_string(),
        );
        st.bad = rejecting;
    }
    if let Some((dir, fr)) = f.rst {
        let (from, to) = match dir {
            Dir::ToServer => (0, 1),
            Dir::ToClient => (1, 0),
        };
        let t = (fr == f.last_frame).then(|| f.last_ts.secs_since(f.first_ts).max(0.0));
        let refused = f.synack_frame.is_none() && dir == Dir::ToClient;
        let label = if refused { "RST, ACK (refused)" } else { "RST" };
        let st = add(&mut out, Some(fr.0), t, from, to, "rst", label.to_string());
        st.bad = true;
    }
    if f.transport == Transport::Tcp && f.syn_frame.is_some() && f.synack_frame.is_none() {
        let answered = f.rst.is_some() || f.unreachable.is_some() || f.packets[1] > 0;
        if !answered {
            let waited = f.last_ts.secs_since(f.first_ts).max(0.0);
            let st = add(
                &mut out,
                None,
                Some(waited),
                1,
                0,
                "no-answer",
                format!("no answer to the SYN in {}", secs(waited)),
            );
            st.bad = true;
        }
    }
    // Wireshark order: by frame; notes without a frame stay after their steps.
    out.sort_by_key(|s| s.key);
    out
}

/// The ladder of `flow` (whose record is `f`) as cited by finding `by`; `t0` is its
/// capture's first packet (seconds since the epoch), as for the evidence's times.
pub fn diagram(flow: &Flow<'_>, f: &FlowSummary, by: &Finding<'_>, t0: f64) -> Markup {
    let lanes = lanes(flow);
    let mut all = steps(flow, f, &lanes, by.id);
    let cited: Vec<u64> = by
        .evidence
        .iter()
        .filter(|e| e.flow == Some(flow.id))
        .flat_map(|e| e.frames.iter().copied())
        .collect();
    let hidden = all.len().saturating_sub(MAX_STEPS);
    all.truncate(MAX_STEPS);
    // Rows: each step, a gap row before it when the wait since the last timed step
    // is long.
    let mut rows: Vec<(u32, Option<f64>, Option<&Step>)> = Vec::new();
    let mut y = HEAD + 8;
    let mut last_t: Option<f64> = None;
    for s in &all {
        if let (Some(a), Some(b)) = (last_t, s.t)
            && b - a >= GAP_SECS
        {
            rows.push((y, Some(b - a), None));
            y += GAP_ROW;
        }
        rows.push((y, None, Some(s)));
        y += ROW;
        last_t = s.t.or(last_t);
    }
    let tail_wait = all
        .iter()
        .rev()
        .find_map(|s| s.t)
        .map(|t| f.last_ts.secs_since(f.first_ts) - t)
        .filter(|w| *w >= GAP_SECS && flow.state == "S0");
    let height = y + 14;
    let start = flow.start - t0;
    let first_bad = all.iter().position(|s| s.bad);
    let proto = if f.transport == Transport::Udp {
        "UDP"
    } else {
        "TCP"
    };
    html! {
        figure.ladder data-flow=(flow.id) {
            figcaption {
                "Flow #" (flow.id) " · " (proto) " " (flow.client) " → " (flow.server)
                " · " (flow.state) " (" (flow.state_meaning) ")"
                " · starts at " (format!("{start:.3} s")) ", lasts " (secs(flow.duration))
                " · frames " (flow.first_frame) "–" (flow.last_frame)
                " " (super::copyable(&flow.display_filter))
            }
            svg.ladder-svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
                viewBox={ "0 0 " (WIDTH) " " (height) } role="img"
                aria-label={ "Ladder diagram of flow " (flow.id) } {
                text.colhead x="8" y="18" { "frame" }
                text.colhead x="64" y="18" { "time" }
                @for (i, (role, name, host)) in lanes.names.iter().enumerate() {
                    text.lane-role x=(lanes.x(i)) y="14" text-anchor="middle" { (role) }
                    text.lane-name x=(lanes.x(i)) y="30" text-anchor="middle" { (lane_cut(name)) }
                    @if let Some(h) = host {
                        text.lane-host x=(lanes.x(i)) y="44" text-anchor="middle" { (lane_cut(h)) }
                    }
                    line.lane x1=(lanes.x(i)) y1=(HEAD - 6) x2=(lanes.x(i)) y2=(height - 6) {}
                }
                @for (y, gap, s) in &rows {
                    @if let Some(w) = gap {
                        g.gap {
                            rect x="0" y=(y) width=(WIDTH) height=(GAP_ROW - 4) {}
                            text x=(WIDTH / 2) y=(y + 15) text-anchor="middle" { "⋯ " (secs(*w)) " later ⋯" }
                        }
                    }
                    @if let Some(s) = s {
                        (arrow(s, *y, &lanes, cited.iter().any(|c| Some(*c) == s.frame), first_bad.is_some_and(|b| std::ptr::eq(&all[b], *s))))
                    }
                }
            }
            @if let Some(w) = tail_wait {
                p.more { "The capture goes on " (secs(w)) " after the last step without an answer." }
            }
            @if hidden > 0 { p.more { (hidden) " more step(s) not drawn." } }
        }
    }
}

fn arrow(s: &Step, y: u32, lanes: &Lanes, cited: bool, first_bad: bool) -> Markup {
    let (x1, x2) = (lanes.x(s.from), lanes.x(s.to));
    let ly = y + 20;
    let dir: i64 = if x2 >= x1 { 1 } else { -1 };
    let tip = i64::from(x2);
    let head = format!(
        "{tip},{ly} {},{} {},{}",
        tip - 9 * dir,
        ly - 5,
        tip - 9 * dir,
        ly + 5
    );
    let mid = (x1 + x2) / 2;
    let mut class = String::from("step");
    if s.bad {
        class.push_str(" bad");
    }
    if cited {
        class.push_str(" cited");
    }
    if first_bad {
        class.push_str(" first-bad");
    }
    if matches!(s.kind, "no-response" | "no-answer" | "tls-outcome") {
        // What should have come and did not.
        class.push_str(" missing");
    }
    let frame = s.frame.map(|f| format!("#{f}")).unwrap_or_default();
    let time = s.t.map(|t| format!("+{}", secs(t))).unwrap_or_default();
    html! {
        g class=(class) data-step=(s.kind) data-frame=[s.frame] {
            title {
                (s.label)
                @if let Some(d) = &s.detail { " — " (d) }
                @if !frame.is_empty() { " (frame " (s.frame.unwrap_or(0)) ")" }
            }
            text.frame x="8" y=(ly + 4) { (frame) }
            text.time x="64" y=(ly + 4) { (time) }
            line.arrow x1=(x1) y1=(ly) x2=(x2) y2=(ly) {}
            polygon.head points=(head) {}
            text.label x=(mid) y=(ly - 5) text-anchor="middle" { (s.label) }
            @if let Some(d) = &s.detail {
                text.detail x=(mid) y=(ly + 13) text-anchor="middle" { (d) }
            }
        }
    }
}
