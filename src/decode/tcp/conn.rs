//! One TCP connection as Zeek's TCP analyzer sees it: endpoint states, `history`
//! letters and the final `conn_state`, plus the counters and reassembled streams.
//!
//! The endpoint state machine and the `conn_state` mapping follow Zeek
//! (`TCPSessionAdapter::UpdateStateMachine` and `scripts/base/protocols/conn/main.zeek`)
//! so that "REJ" here means exactly what it means in a `conn.log`.

use super::SeqNo;
use super::reassembly::{DirStats, Limits, Reassembler, StreamSink};
use crate::decode::ip::TcpSegment;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::{DecodeCtx, StreamDecoder};
use std::net::SocketAddr;

/// Zeek's per-endpoint TCP states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointState {
    #[default]
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// Zeek's `conn_state` vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ConnState {
    S0,
    S1,
    SF,
    REJ,
    S2,
    S3,
    RSTO,
    RSTR,
    RSTOS0,
    RSTRH,
    SH,
    SHR,
    OTH,
}

impl ConnState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }

    /// What the state means, in plain words.
    pub fn meaning(self) -> &'static str {
        match self {
            ConnState::S0 => "connection attempt seen, no reply",
            ConnState::S1 => "established, not terminated",
            ConnState::SF => "normal establishment and termination",
            ConnState::REJ => "connection attempt rejected (refused with RST)",
            ConnState::S2 => "established, only the client closed",
            ConnState::S3 => "established, only the server closed",
            ConnState::RSTO => "established, then reset by the client",
            ConnState::RSTR => "established, then reset by the server",
            ConnState::RSTOS0 => "client sent SYN then RST; no SYN-ACK seen",
            ConnState::RSTRH => "server sent SYN-ACK then RST; no SYN seen",
            ConnState::SH => "client sent SYN then FIN; no SYN-ACK seen",
            ConnState::SHR => "server sent SYN-ACK then FIN; no SYN seen",
            ConnState::OTH => "no SYN seen: picked up mid-stream",
        }
    }
}

/// Per-direction facts about one side's packets.
#[derive(Clone, Debug, Default)]
pub struct Endpoint {
    pub state: EndpointState,
    prev_state: EndpointState,
    pub packets: u64,
    /// Frame bytes (on the wire) sent by this side.
    pub wire_bytes: u64,
    pub syn_frame: Option<FrameNo>,
    pub fin_frame: Option<FrameNo>,
    /// Time of the first FIN this side sent.
    pub fin_ts: Option<Timestamp>,
    pub rst_frame: Option<FrameNo>,
    /// SYNs sent (more than one means the SYN was retransmitted).
    pub syns: u32,
    /// Sequence number of the first SYN.
    pub isn: Option<SeqNo>,
    pub zero_windows: u64,
    pub stream: Reassembler,
}

impl Endpoint {
    fn set_state(&mut self, s: EndpointState) {
        self.prev_state = self.state;
        self.state = s;
    }
}

/// Zeek history letters seen so far, in order, each once per direction.
#[derive(Clone, Copy, Debug, Default)]
pub struct History {
    letters: [u8; 32],
    len: u8,
    /// Letters already in `letters`, one bit each from `A` (every packet adds one:
    /// a bit test instead of a search).
    seen: u64,
}

impl History {
    fn add(&mut self, c: u8) {
        let bit = c
            .checked_sub(b'A')
            .and_then(|i| 1u64.checked_shl(u32::from(i)));
        let seen = match bit {
            Some(b) => self.seen & b != 0,
            None => self.letters[..usize::from(self.len)].contains(&c),
        };
        if !seen && usize::from(self.len) < self.letters.len() {
            self.letters[usize::from(self.len)] = c;
            self.len += 1;
            self.seen |= bit.unwrap_or(0);
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.letters[..usize::from(self.len)]).unwrap_or("")
    }
}

/// What a connection's payload went to: one at a time, so a connection holds the
/// larger of the two rather than both. A tag byte of its own: a test of it (a few
/// times a packet) is then one compare, not a decode of a niche in the facts.
#[derive(Clone, Debug)]
#[repr(u8)]
enum Payload {
    /// The decoder, until the connection is concluded.
    Decoding(StreamDecoder),
    /// The decoder's facts, concluded as soon as the connection closed: its buffers
    /// are released then rather than when the connection leaves the table (closed
    /// connections linger for stray packets, and there can be many).
    Concluded(crate::protocols::AppFacts),
    /// The facts were taken for the connection's record.
    Taken,
}

impl Payload {
    fn decoder_mut(&mut self) -> Option<&mut StreamDecoder> {
        match self {
            Payload::Decoding(d) => Some(d),
            _ => None,
        }
    }
}

/// A TCP connection and everything learned from its packets.
#[derive(Clone, Debug)]
pub struct TcpConn {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: FrameNo,
    pub last_frame: FrameNo,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// [client, server].
    pub ep: [Endpoint; 2],
    pub history: History,
    /// Time of the first SYN and of the first SYN-ACK.
    pub syn_ts: Option<Timestamp>,
    pub synack_ts: Option<Timestamp>,
    /// The payload's decoder until the connection is concluded, then its facts.
    payload: Payload,
    /// An ICMP destination-unreachable that refers to this connection; boxed, as
    /// few connections have one.
    pub unreachable: Option<Box<(FrameNo, crate::decode::ip::Unreachable)>>,
    /// Decoded facts (HTTP exchanges...) counted but not kept: the analysis's facts
    /// budget was spent.
    pub facts_not_kept: u64,
    /// What the decoder holds per direction ([`StreamDecoder::held`]) as of the last
    /// call into it: it changes only when it is fed or sheds, so a packet that feeds
    /// it nothing (a pure ACK) does not ask again.
    held: [usize; 2],
    /// Bytes per direction the decoder passed over in advance
    /// ([`StreamDecoder::skip_ahead`]): the next ones delivered are dropped here
    /// rather than fed to it one segment at a time.
    skip: [u64; 2],
}

/// Feeds one direction's ordered bytes to the connection's decoder.
/// `None` once the connection's facts are concluded: bytes then go nowhere.
struct DirSink<'a> {
    cx: &'a mut DecodeCtx,
    dec: Option<&'a mut StreamDecoder>,
    dir: Dir,
    /// This direction's bytes passed over in advance, still to drop.
    skip: &'a mut u64,
    /// The decoder was fed (bytes, a gap or a cut) in a way that may change what it
    /// holds.
    fed: bool,
}

impl StreamSink for DirSink<'_> {
    fn data(&mut self, bytes: &[u8], frame: FrameNo, ts: Timestamp) {
        let Some(d) = self.dec.as_mut() else {
            return;
        };
        let mut bytes = bytes;
        if *self.skip > 0 {
            if self.cx.options().keylog.is_none() {
                let k = (*self.skip).min(bytes.len() as u64);
                *self.skip -= k;
                bytes = bytes.get(k as usize..).unwrap_or_default();
                if bytes.is_empty() {
                    return;
                }
            } else {
                // Secrets came (a pcapng secrets block): the decoder may decrypt now.
                d.unskip(self.dir, std::mem::take(self.skip));
            }
        }
        self.fed |= !d.holds_steady(self.cx);
        d.on_data(self.cx, self.dir, bytes, frame, ts);
        *self.skip = d.skip_ahead(self.cx, self.dir);
    }
    fn gap(&mut self, len: u64) {
        if let Some(d) = self.dec.as_mut() {
            self.fed = true;
            d.unskip(self.dir, std::mem::take(self.skip));
            d.on_gap(self.cx, self.dir, len);
        }
    }
    fn cut(&mut self, len: u64, frame: FrameNo, ts: Timestamp) {
        if let Some(d) = self.dec.as_mut() {
            self.fed = true;
            d.unskip(self.dir, std::mem::take(self.skip));
            d.on_cut(self.cx, self.dir, len, (frame, ts));
        }
    }
    fn wants_data(&self) -> bool {
        // Bytes passed over in advance are wanted: the decoder says so until they
        // are dropped or handed back.
        *self.skip > 0 || self.dec.as_ref().is_some_and(|d| d.wants_data(self.dir))
    }
}

impl TcpConn {
    /// A connection first seen at `frame`, its payload going to `decoder`.
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        frame: FrameNo,
        ts: Timestamp,
        decoder: StreamDecoder,
    ) -> Self {
        TcpConn {
            client,
            server,
            first_frame: frame,
            last_frame: frame,
            first_ts: ts,
            last_ts: ts,
            ep: Default::default(),
            history: History::default(),
            syn_ts: None,
            synack_ts: None,
            payload: Payload::Decoding(decoder),
            unreachable: None,
            facts_not_kept: 0,
            held: [0; 2],
            skip: [0; 2],
        }
    }

    /// True once both sides are done (FIN or RST): a new SYN on the same ports is then
    /// a new connection (port reuse).
    pub fn is_closed(&self) -> bool {
        let done = |s: EndpointState| matches!(s, EndpointState::Closed | EndpointState::Reset);
        let c = self.ep[0].state;
        let s = self.ep[1].state;
        c == EndpointState::Reset
            || s == EndpointState::Reset
            || (done(c) && done(s))
            || (done(c) && s == EndpointState::Inactive)
    }

    /// True if either side sent a RST.
    pub fn was_reset(&self) -> bool {
        self.ep.iter().any(|e| e.state == EndpointState::Reset)
    }

    /// Handles one segment travelling in `dir`.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        seg: &TcpSegment<'_>,
        frame: FrameNo,
        ts: Timestamp,
        wire_len: u32,
        limits: &Limits,
    ) {
        let i = dir.index();
        let is_orig = dir == Dir::ToServer;
        let flags = seg.flags;
        self.last_frame = frame;
        self.last_ts = ts;
        {
            let ep = &mut self.ep[i];
            ep.packets += 1;
            ep.wire_bytes += u64::from(wire_len);
            if flags.syn() {
                ep.syns += 1;
                ep.syn_frame.get_or_insert(frame);
                ep.isn.get_or_insert(seg.seq);
                ep.stream.on_syn(seg.seq);
            }
            if flags.fin() {
                ep.fin_frame.get_or_insert(frame);
                ep.fin_ts.get_or_insert(ts);
            }
            if flags.rst() {
                ep.rst_frame.get_or_insert(frame);
            }
        }
        if flags.syn() && !flags.ack() && self.syn_ts.is_none() {
            self.syn_ts = Some(ts);
        }
        if flags.syn() && flags.ack() && self.synack_ts.is_none() {
            self.synack_ts = Some(ts);
        }

        let len = u64::from(seg.wire_len);
        self.update_state(
            i,
            is_orig,
            flags.syn(),
            flags.ack(),
            flags.fin(),
            flags.rst(),
            len,
        );

        let mut letters: [u8; 6] = [0; 6];
        let mut n = 0;
        let mut push = |c: u8| {
            if n < letters.len() {
                letters[n] = c;
                n += 1;
            }
        };
        if flags.syn() {
            push(if flags.ack() { b'h' } else { b's' });
            if flags.fin() || flags.rst() {
                push(b'q');
            }
        }
        if flags.fin() {
            push(b'f');
        }
        if flags.rst() {
            push(b'r');
        }
        if len > 0 {
            push(b'd');
        } else if flags.ack() && !flags.syn() && !flags.fin() && !flags.rst() {
            push(b'a');
        }
        if seg.window == 0 && !flags.syn() && !flags.rst() && !flags.fin() {
            self.ep[i].zero_windows += 1;
            push(b'w');
        }

        // Payload to reassembly. RST segments may carry diagnostic text; not stream data.
        let (this, other) = split_pair(&mut self.ep, i);
        let (skip, peer_skip) = split_pair(&mut self.skip, i);
        let mut sink = DirSink {
            cx: &mut *cx,
            dec: self.payload.decoder_mut(),
            dir,
            skip,
            fed: false,
        };
        if len == 0 && !flags.syn() && !flags.rst() {
            this.stream.empty_segment(seg.seq);
        }
        if len > 0 && !flags.rst() {
            let gaps_before = this.stream.stats.gaps;
            if this.stream.segment(
                seg.seq,
                seg.payload,
                seg.wire_len,
                frame,
                ts,
                limits,
                &mut sink,
            ) {
                push(b't');
            }
            if this.stream.stats.gaps > gaps_before {
                push(b'g');
            }
        }
        let mut fed = sink.fed;
        if flags.ack() {
            let mut peer_sink = DirSink {
                cx: &mut *cx,
                dec: self.payload.decoder_mut(),
                dir: dir.flip(),
                skip: peer_skip,
                fed: false,
            };
            let gaps_before = other.stream.stats.gaps;
            other.stream.acked(seg.ack, &mut peer_sink);
            fed |= peer_sink.fed;
            if other.stream.stats.gaps > gaps_before {
                // Zeek marks the gap on the side whose data went missing.
                let c = if is_orig { b'G' } else { b'g' };
                self.history.add(c);
            }
        }
        for &c in &letters[..n] {
            self.history
                .add(if is_orig { c.to_ascii_uppercase() } else { c });
        }
        self.enforce_stream_cap(limits, fed);
        if !matches!(self.payload, Payload::Concluded(_)) && self.is_closed() {
            self.conclude(cx);
        }
    }

    /// Delivers what is held, then turns the decoder into its facts and drops its
    /// buffers. Later stray packets are still counted, but decode nothing.
    pub fn conclude(&mut self, cx: &mut DecodeCtx) {
        if matches!(self.payload, Payload::Concluded(_)) {
            return;
        }
        self.finish_streams(cx);
        if let Payload::Decoding(dec) = std::mem::replace(&mut self.payload, Payload::Taken) {
            self.held = [0; 2];
            self.skip = [0; 2];
            self.facts_not_kept += dec.facts_not_kept();
            self.payload = Payload::Concluded(dec.finish());
        }
    }

    /// The payload's decoder, until the connection is concluded.
    pub fn decoder(&self) -> Option<&StreamDecoder> {
        match &self.payload {
            Payload::Decoding(d) => Some(d),
            _ => None,
        }
    }

    /// The concluded facts, taken out (once) for the connection's record.
    pub fn take_facts(&mut self) -> Option<crate::protocols::AppFacts> {
        match std::mem::replace(&mut self.payload, Payload::Taken) {
            Payload::Concluded(f) => Some(f),
            other => {
                self.payload = other;
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_state(
        &mut self,
        i: usize,
        is_orig: bool,
        syn: bool,
        ack: bool,
        fin: bool,
        rst: bool,
        len: u64,
    ) {
        use EndpointState::*;
        let (ep, peer) = split_pair(&mut self.ep, i);
        match ep.state {
            Inactive => {
                if syn {
                    if is_orig {
                        ep.set_state(if ack { SynAckSent } else { SynSent });
                    } else {
                        if peer.state == SynSent {
                            peer.set_state(Established);
                        }
                        ep.set_state(Established);
                    }
                }
                if fin {
                    ep.set_state(Closed);
                }
                if rst {
                    ep.set_state(Reset);
                }
                if ep.state == Inactive {
                    // An ACK for the SYN ahead of the SYN-ACK does not make a
                    // partial connection.
                    let early_ack = !is_orig && len == 0 && peer.state == SynSent;
                    if early_ack {
                    } else if ack && peer.state == Established {
                        ep.set_state(Established);
                    } else {
                        ep.set_state(Partial);
                    }
                }
            }
            SynSent | SynAckSent => {
                if fin {
                    ep.set_state(Closed);
                }
                if rst {
                    ep.set_state(Reset);
                }
            }
            Established | Partial => {
                if syn && ep.state == Partial && peer.state == Inactive && !ack {
                    ep.set_state(SynSent);
                }
                if fin && !rst {
                    ep.set_state(Closed);
                    if peer.state == Reset && peer.prev_state == Closed {
                        peer.set_state(Closed);
                    }
                }
                if rst {
                    ep.set_state(Reset);
                }
            }
            Closed => {
                if rst && peer.state != Closed {
                    ep.set_state(Reset);
                }
            }
            Reset => {}
        }
    }

    /// Flushes held stream data (every remaining hole becomes a gap).
    pub fn finish_streams(&mut self, cx: &mut DecodeCtx) {
        for dir in [Dir::ToServer, Dir::ToClient] {
            let mut sink = DirSink {
                cx: &mut *cx,
                dec: self.payload.decoder_mut(),
                dir,
                skip: &mut self.skip[dir.index()],
                fed: false,
            };
            self.ep[dir.index()].stream.finish(&mut sink);
        }
        self.refresh_held();
    }

    /// Asks the decoder again what it holds.
    fn refresh_held(&mut self) {
        self.held = self.decoder().map_or([0; 2], StreamDecoder::held_both);
    }

    /// Bytes held in both directions: above holes, and by the decoder while a
    /// message is incomplete.
    pub fn buffered(&self) -> usize {
        self.ep[0].stream.buffered() + self.ep[1].stream.buffered() + self.held[0] + self.held[1]
    }

    /// Gives up the decoder's incomplete message of a direction whose bytes (above
    /// holes and in the decoder) are past the per-direction cap, counting a cap hit.
    /// `fed`: the decoder was fed since it was last asked what it holds.
    fn enforce_stream_cap(&mut self, limits: &Limits, fed: bool) {
        let Some(dec) = self.payload.decoder_mut() else {
            self.held = [0; 2];
            return;
        };
        if fed {
            self.held = dec.held_both();
        }
        let mut shed = false;
        for dir in [Dir::ToServer, Dir::ToClient] {
            let i = dir.index();
            let ep = &mut self.ep[i];
            if shed {
                self.held[i] = dec.held(dir);
            }
            let held = self.held[i];
            if held > 0 && ep.stream.buffered() + held > limits.max_buffered_bytes {
                dec.unskip(dir, std::mem::take(&mut self.skip[i]));
                if dec.shed(dir) {
                    ep.stream.stats.cap_hits += 1;
                    shed = true;
                }
            }
        }
        if shed {
            self.refresh_held();
        }
    }

    /// Gives up every hole now (the global buffer cap was reached): held data is
    /// delivered after gaps, the decoder's incomplete messages are given up, and the
    /// hit is counted as a cap hit.
    pub fn shed_buffers(&mut self, cx: &mut DecodeCtx) {
        for dir in [Dir::ToServer, Dir::ToClient] {
            let ep = &mut self.ep[dir.index()];
            let mut hit = false;
            if ep.stream.buffered() > 0 {
                hit = true;
                let mut sink = DirSink {
                    cx: &mut *cx,
                    dec: self.payload.decoder_mut(),
                    dir,
                    skip: &mut self.skip[dir.index()],
                    fed: false,
                };
                ep.stream.finish(&mut sink);
            }
            // What the held bytes completed is decoded; what is still incomplete goes.
            if let Some(dec) = self.payload.decoder_mut() {
                dec.unskip(dir, std::mem::take(&mut self.skip[dir.index()]));
                hit |= dec.shed(dir);
            }
            ep.stream.stats.cap_hits += u64::from(hit);
        }
        self.refresh_held();
    }

    /// Zeek's `conn_state` for this connection as it stands.
    pub fn state(&self) -> ConnState {
        use EndpointState::*;
        let os = self.ep[0].state;
        let rs = self.ep[1].state;
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent)
                || (os == Reset && self.ep[0].stream.size() == 0 && self.ep[1].stream.size() == 0)
            {
                ConnState::REJ
            } else if o_inactive {
                ConnState::RSTRH
            } else {
                ConnState::RSTR
            }
        } else if os == Reset {
            if r_inactive {
                if self.history_is_syn_then_rst() {
                    ConnState::RSTOS0
                } else {
                    ConnState::OTH
                }
            } else {
                ConnState::RSTO
            }
        } else if rs == Closed && os == Closed {
            ConnState::SF
        } else if os == Closed {
            if r_inactive {
                ConnState::SH
            } else {
                ConnState::S2
            }
        } else if rs == Closed {
            if o_inactive {
                ConnState::SHR
            } else {
                ConnState::S3
            }
        } else if os == SynSent && rs == Inactive {
            ConnState::S0
        } else if os == Established && rs == Established {
            ConnState::S1
        } else {
            ConnState::OTH
        }
    }

    /// Zeek's `/\^?S[^HAFGIQ]*R.*/` test on the history.
    fn history_is_syn_then_rst(&self) -> bool {
        let h = self.history.as_str().trim_start_matches('^');
        let Some(rest) = h.strip_prefix('S') else {
            return false;
        };
        for c in rest.chars() {
            if c == 'R' {
                return true;
            }
            if "HAFGIQ".contains(c) {
                return false;
            }
        }
        false
    }

    /// SYN → SYN-ACK round trip, seconds.
    pub fn rtt(&self) -> Option<f64> {
        Some(self.synack_ts?.secs_since(self.syn_ts?)).filter(|x| *x >= 0.0)
    }

    pub fn stats(&self, dir: Dir) -> DirStats {
        self.ep[dir.index()].stream.stats
    }
}

fn split_pair<T>(pair: &mut [T; 2], i: usize) -> (&mut T, &mut T) {
    let [a, b] = pair;
    if i == 0 { (a, b) } else { (b, a) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    //! The connection feeds its decoder exactly what reassembly delivers, even where
    //! bytes are passed over in advance (record bodies of a walked TLS stream):
    //! checked against a decoder fed every segment directly.

    use super::*;
    use crate::decode::ip::TcpFlags;
    use crate::protocols::tls::tests::{client_hello, hs, record, server_hello};
    use crate::protocols::{AppFacts, DecoderFactory};

    /// One segment: its direction, captured bytes, bytes the snap length cut after
    /// them, and whether the capture lost it altogether.
    struct Seg {
        dir: Dir,
        bytes: Vec<u8>,
        cut: u32,
        lost: bool,
    }

    /// Messages in the order sent, each split into segments of `sizes` (in turn).
    fn segments(messages: &[(Dir, Vec<u8>)], sizes: &[usize]) -> Vec<Seg> {
        let mut out = Vec::new();
        let mut sizes = sizes.iter().cycle();
        for (dir, m) in messages {
            let mut rest = m.as_slice();
            while !rest.is_empty() {
                let n = (*sizes.next().unwrap()).min(rest.len());
                out.push(Seg {
                    dir: *dir,
                    bytes: rest[..n].to_vec(),
                    cut: 0,
                    lost: false,
                });
                rest = &rest[n..];
            }
        }
        out
    }

    /// Through a connection: handshake, each segment then its peer's ACK.
    fn through_conn(segs: &[Seg]) -> AppFacts {
        let cx = &mut DecodeCtx::default();
        let limits = Limits::default();
        let (c, s): (SocketAddr, SocketAddr) = (
            "10.0.0.2:40000".parse().unwrap(),
            "10.0.0.1:443".parse().unwrap(),
        );
        let decoder = DecoderFactory::default().stream(40000, 443);
        let mut conn = TcpConn::new(c, s, FrameNo(1), Timestamp(1), decoder);
        let mut next = [1001u32, 5001];
        let mut frame = 0;
        let mut send = |conn: &mut TcpConn, dir: Dir, seq, ack, flags, payload: &[u8], wire| {
            frame += 1;
            let seg = TcpSegment {
                src_port: 0,
                dst_port: 0,
                seq: SeqNo(seq),
                ack: SeqNo(ack),
                flags: TcpFlags(flags),
                window: 1000,
                payload,
                wire_len: wire,
            };
            let (f, ts) = (FrameNo(frame), Timestamp(frame as i64));
            conn.packet(cx, dir, &seg, f, ts, wire + 54, &limits);
        };
        let ack = TcpFlags::ACK;
        send(&mut conn, Dir::ToServer, 1000, 0, TcpFlags::SYN, &[], 0);
        send(
            &mut conn,
            Dir::ToClient,
            5000,
            1001,
            TcpFlags::SYN | ack,
            &[],
            0,
        );
        send(&mut conn, Dir::ToServer, 1001, 5001, ack, &[], 0);
        for g in segs {
            let (i, p) = (g.dir.index(), g.dir.flip().index());
            let wire = g.bytes.len() as u32 + g.cut;
            if !g.lost {
                send(&mut conn, g.dir, next[i], next[p], ack, &g.bytes, wire);
            }
            next[i] = next[i].wrapping_add(wire);
            if !g.lost {
                send(&mut conn, g.dir.flip(), next[p], next[i], ack, &[], 0);
            }
        }
        conn.conclude(cx);
        conn.take_facts().unwrap()
    }

    /// Straight into a decoder, in the order and with the frames reassembly gives.
    fn direct(segs: &[Seg]) -> AppFacts {
        let cx = &mut DecodeCtx::default();
        let mut d = DecoderFactory::default().stream(40000, 443);
        let mut frame = 3;
        let mut lost = [0u64; 2];
        for g in segs {
            let i = g.dir.index();
            let wire = g.bytes.len() as u64 + u64::from(g.cut);
            if g.lost {
                lost[i] += wire;
                continue;
            }
            frame += 1;
            let (f, ts) = (FrameNo(frame), Timestamp(frame as i64));
            if lost[i] > 0 {
                d.on_gap(cx, g.dir, std::mem::take(&mut lost[i]));
            }
            if d.wants_data(g.dir) {
                d.on_data(cx, g.dir, &g.bytes, f, ts);
            }
            if g.cut > 0 {
                d.on_cut(cx, g.dir, u64::from(g.cut), (f, ts));
            }
            frame += 1; // the peer's ACK
        }
        d.finish()
    }

    /// A TLS 1.2 session (behind a CONNECT when `tunnel`): handshake, then
    /// application records of many sizes both ways and an encrypted alert.
    fn tls12(tunnel: bool) -> Vec<(Dir, Vec<u8>)> {
        let (c, s) = (Dir::ToServer, Dir::ToClient);
        let mut m = Vec::new();
        if tunnel {
            m.push((c, b"CONNECT h:443 HTTP/1.1\r\n\r\n".to_vec()));
            m.push((s, b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec()));
        }
        let sh = record(22, &server_hello(false, [9; 32]));
        let done = record(22, &hs(14, &[]));
        m.push((c, client_hello()));
        m.push((s, [sh, done].concat()));
        m.push((c, [record(20, &[1]), record(22, &[0xee; 40])].concat()));
        m.push((s, [record(20, &[1]), record(22, &[0xdd; 40])].concat()));
        for (k, len) in [5000usize, 37, 16384, 1, 2, 3000].into_iter().enumerate() {
            m.push((c, record(23, &vec![k as u8; len])));
            m.push((s, record(23, &vec![k as u8; len * 3 % 16385])));
        }
        m.push((c, [record(23, &[1; 900]), record(21, &[7; 26])].concat()));
        m
    }

    fn same(segs: &[Seg]) {
        let (a, b) = (through_conn(segs), direct(segs));
        assert!(a.tls.as_ref().is_some_and(|t| t.established), "{a:?}");
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn walked_records_give_what_feeding_every_segment_gives() {
        for tunnel in [false, true] {
            for sizes in [&[1448][..], &[536, 100, 7, 1448], &[1, 2, 3, 5000]] {
                let segs = segments(&tls12(tunnel), sizes);
                same(&segs);
                let n = segs.len();
                // A segment cut by the snap length, or lost, at every place after the
                // handshake: inside a body, across record boundaries, at the end.
                for k in (n / 3..n).step_by(3) {
                    let mut segs = segments(&tls12(tunnel), sizes);
                    let keep = segs[k].bytes.len() / 3;
                    segs[k].cut = (segs[k].bytes.len() - keep) as u32;
                    segs[k].bytes.truncate(keep);
                    same(&segs);
                    let mut segs = segments(&tls12(tunnel), sizes);
                    segs[k].lost = true;
                    same(&segs);
                }
            }
        }
    }
}
