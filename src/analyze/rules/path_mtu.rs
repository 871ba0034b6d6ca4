//! Guide section 5 (a stalled path): a path-MTU black hole. A router answered a
//! connection's full-size packets with ICMP "fragmentation needed" / ICMPv6 "packet
//! too big", and the sender kept sending them unchanged: the message does not reach
//! its TCP stack (a firewall drops it), so small packets pass and large ones never do.
//! The requests that needed them wait until the client gives up — a timeout.

use super::{Ctx, Rule};
use crate::analyze::http_lines::request_line;
use crate::analyze::{Finding, FindingKind, Severity};
use crate::decode::tcp::ConnState;
use crate::flow::record::{FlowSummary, Transport};

/// The announced MTU, and whether the too-big packets were the client's, when the
/// flow stalled on them: their sender retransmitted after the ICMP message, and a
/// request went unanswered or the connection never closed normally.
pub fn black_hole(f: &FlowSummary) -> Option<(u32, bool)> {
    let (_, u) = f.unreachable?;
    let mtu = u.mtu?;
    if f.transport != Transport::Tcp {
        return None;
    }
    let from_client = u.inner_src == f.client;
    let retx = f.retransmissions[usize::from(!from_client)];
    let unanswered = f
        .app
        .http
        .iter()
        .any(|h| h.method.is_some() && h.no_response_seen() && !h.tunnel);
    let open = !matches!(f.state, ConnState::SF);
    (retx > 0 && (unanswered || open)).then_some((mtu, from_client))
}

#[derive(Default)]
pub struct Check {
    found: Option<Finding>,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let Some((mtu, from_client)) = black_hole(f) else {
            return;
        };
        let Some((icmp_frame, u)) = f.unreachable else {
            return;
        };
        let server = crate::model::addr_text::socket(f.server);
        let mtu_text = if mtu == 0 {
            "the next hop's MTU (not given)".to_string()
        } else {
            format!("MTU {mtu}")
        };
        let message = if u.v6 {
            "ICMPv6 packet too big"
        } else {
            "ICMP fragmentation needed"
        };
        let sender = if from_client { "client" } else { "server" };
        let retx = f.retransmissions[usize::from(!from_client)];
        let found = self.found.get_or_insert_with(|| {
            Finding::new(
                FindingKind::PathMtuBlackHole,
                Severity::Error,
                format!(
                    "Path MTU black hole on the way to {server}: packets larger than {} \
                     do not get through",
                    if mtu == 0 {
                        "the path's MTU".to_string()
                    } else {
                        format!("{mtu} bytes")
                    }
                ),
                format!(
                    "A router answered the {sender}'s full-size packets with {message} \
                     ({mtu_text}), yet the {sender} kept sending them unchanged: the ICMP \
                     message does not reach its TCP stack (a firewall between the capture \
                     point and the {sender} drops it), so path MTU discovery fails. Small \
                     packets (the handshake, short requests) pass, large ones never do, \
                     and the requests that need them wait until the client times out."
                ),
                &[
                    ("host", f.server.ip().to_string()),
                    ("mtu", mtu.to_string()),
                    ("payload", mtu.saturating_sub(28).to_string()),
                ],
            )
        });
        found.push(ctx.ev(
            id,
            f,
            vec![icmp_frame.0],
            format!(
                "{message} ({mtu_text}) for a packet from {} to {}; the {sender} then \
                 retransmitted {retx} segment(s) unchanged",
                u.inner_src, u.inner_dst
            ),
            None,
        ));
        let end = ctx
            .cfg
            .now
            .or(ctx.capture.input.last_ts)
            .unwrap_or(f.last_ts);
        let closed = matches!(f.state, ConnState::SF | ConnState::S2 | ConnState::S3)
            || f.client_fin.is_some();
        for h in f
            .app
            .http
            .iter()
            .filter(|h| h.method.is_some() && h.no_response_seen() && !h.tunnel)
        {
            let asked = h.request_ts.unwrap_or(f.first_ts);
            let until = if closed { f.last_ts } else { end };
            let mut frames: Vec<u64> = h.request_frame.iter().map(|n| n.0).collect();
            frames.push(f.last_frame.0);
            found.push(ctx.ev(
                id,
                f,
                frames,
                format!(
                    "{} left unanswered: nothing came back in the {:.1} s until {}",
                    request_line(h),
                    until.secs_since(asked).max(0.0),
                    if closed {
                        "the connection ended"
                    } else {
                        "the capture ended"
                    }
                ),
                h.request_ts,
            ));
        }
    }

    fn finish(self: Box<Self>, _ctx: &Ctx<'_>) -> Vec<Finding> {
        self.found.into_iter().collect()
    }
}
