//! A request inside TLS that got no answer: after the handshake the client sent
//! application data (its request), the server sent nothing after it (session tickets
//! and alerts do not count), and the client closed the connection a while later, or
//! the capture ended with the connection still waiting. The decoder cannot read the
//! request, only when each side last spoke.

use super::Ctx;
use crate::decode::tcp::ConnState;
use crate::flow::record::FlowSummary;
use crate::model::Dir;

/// A client that closes sooner than this after its request did not wait for an
/// answer: it gave up on purpose (a cancelled request), not on a time-out. Client
/// time-outs are whole seconds (curl `--max-time`, requests' `timeout`, undici's);
/// one on the whole exchange counts from the connection's start, so half of this
/// after the request suffices when the connection lasted this long.
pub const MIN_WAIT_SECS: f64 = 1.0;

/// The silence after the client's last application record.
pub struct Silence {
    /// Seconds from the client's last application record to its close (or to "now").
    pub secs: f64,
    /// The client's last application record and, if it closed, its FIN or RST.
    pub frames: Vec<u64>,
    /// True when the client closed; false when the capture ended first.
    pub client_closed: bool,
}

/// The silence on an established TLS connection whose last application record is the
/// client's, if the client waited long enough for it to count.
pub fn silence(ctx: &Ctx<'_>, f: &FlowSummary) -> Option<Silence> {
    let t = f.app.tls.as_deref()?;
    // Records cut or lost: their boundaries, and so the last ones, are unknown.
    if !t.established || super::snaplen::unseen(f, 0) || super::snaplen::unseen(f, 1) {
        return None;
    }
    let asked = t.client_last_app_ts?;
    let asked_frame = t.client_last_app_frame?;
    if let Some(answered) = t.server_last_app_ts {
        // An answer came after the last request.
        if answered >= asked {
            return None;
        }
        // HTTP/2 (or a protocol unknown under TLS 1.3, whose ALPN answer is
        // encrypted): the client's last records may be window updates or pings after
        // an answer, not a request.
        let h1 = |p: &str| p.starts_with("http/1");
        let maybe_h2 = match t.server_alpn.as_deref() {
            Some(p) => !h1(p),
            None => t.alpn.iter().any(|p| !h1(p)),
        };
        if maybe_h2 {
            return None;
        }
    }
    let mut frames = vec![asked_frame.0];
    let (end, client_closed) = match (f.rst, f.client_fin) {
        // The server reset it: `resets` tells that story.
        (Some((Dir::ToClient, _)), _) => return None,
        (Some((Dir::ToServer, rst)), fin) => {
            frames.extend(fin.map(|(n, _)| n.0));
            frames.push(rst.0);
            (fin.map_or(f.last_ts, |(_, ts)| ts), true)
        }
        (None, Some((fin, ts))) => {
            // The server closed first: it ended the wait, the client did not give up.
            let h = &*f.history;
            if let (Some(s), Some(c)) = (h.find('f'), h.find('F'))
                && s < c
            {
                return None;
            }
            frames.push(fin.0);
            (ts, true)
        }
        (None, None) if matches!(f.state, ConnState::S1 | ConnState::OTH) => {
            let now = ctx
                .cfg
                .now
                .or(ctx.capture.input.last_ts)
                .unwrap_or(f.last_ts);
            (now, false)
        }
        (None, None) => return None,
    };
    let secs = end.secs_since(asked);
    let enough = if client_closed {
        // A time-out on the whole exchange (curl --max-time, undici's signal) leaves
        // less than its seconds after the request once connecting, CONNECT and the
        // handshake took their share: a connection the client held for a whole
        // second, half of it waiting for the answer, ended on such a time-out.
        if end.secs_since(f.first_ts) >= MIN_WAIT_SECS {
            MIN_WAIT_SECS / 2.0
        } else {
            MIN_WAIT_SECS
        }
    } else {
        ctx.cfg.stall_secs
    };
    (secs >= enough).then_some(Silence {
        secs,
        frames,
        client_closed,
    })
}
