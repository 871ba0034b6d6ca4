//! The HTTP/1.x dialogue of one connection: requests paired with responses,
//! bodies skipped by their framing (the start of a 4xx/5xx body kept for its error
//! message), and the switch to a tunnel after a 2xx to CONNECT.
//!
//! This file holds the byte-level state machine (heads, bodies, chunks); `messages`
//! turns parsed heads into exchanges.

use super::exchange::HttpExchange;
use super::head::{HeadCut, MAX_HEADER_BYTES, Parsed, looks_like_http, parse_cut_head, parse_head};
use super::messages::error_message;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::stream_buf::StreamBuf;
use std::collections::VecDeque;

/// How much of a 4xx/5xx body is kept to find a JSON error message.
const MAX_ERROR_BODY: usize = 4096;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
pub(super) const MAX_EXCHANGES: usize = 10_000;
/// Marks an index of `pending` or `body_of` as one into `extra` (by serial number).
pub(super) const EXTRA: usize = 1 << (usize::BITS - 1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Awaiting a start line and headers.
    Headers,
    /// Skipping a body of known length.
    Body(u64),
    Chunked(Chunk),
    /// Response body delimited by connection close.
    UntilClose,
    /// CONNECT sent: client bytes wait for the proxy's answer.
    AwaitConnectReply,
    /// A cut by the snap length hid where the next message starts: the next segment
    /// that starts like a message is taken for one (as Wireshark does).
    Lost,
    /// Nothing more to learn in this direction.
    Stopped,
}

#[derive(Clone, Debug)]
pub(super) struct Side {
    pub(super) buf: StreamBuf,
    pub(super) state: State,
    /// Exchange whose body is being skipped, and the kept start of a 4xx/5xx body.
    pub(super) body_of: Option<usize>,
    pub(super) capture: Option<Vec<u8>>,
    /// Frame of the latest body byte consumed (where the message ends).
    pub(super) body_frame: Option<FrameNo>,
    /// How far the head at the front of `buf` has been read.
    pub(super) scan: HeadScan,
}

impl Side {
    fn new() -> Self {
        Side {
            buf: StreamBuf::new(MAX_HEADER_BYTES),
            state: State::Headers,
            body_of: None,
            capture: None,
            body_frame: None,
            scan: HeadScan::default(),
        }
    }
}

/// Progress on the head at the front of a side's buffer, so a head arriving in many
/// small segments is read once, not again from its start on every segment: the
/// search for its end resumes where it stopped, and the full parse runs when the end
/// is there, the buffer is full, or the head has doubled since the last parse (which
/// finds a malformed start line or header before the head is complete, in time
/// linear in its length).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct HeadScan {
    /// Stream offset of the head these figures are about.
    at: u64,
    /// Bytes searched for the end of the head without finding it.
    searched: usize,
    /// Bytes the last full parse saw.
    parsed: usize,
}

impl HeadScan {
    /// True when the head buffered in `buf` is worth a full parse now.
    fn due(&mut self, buf: &StreamBuf) -> bool {
        if self.at != buf.offset() {
            *self = HeadScan {
                at: buf.offset(),
                ..HeadScan::default()
            };
        }
        let bytes = buf.bytes();
        // The end is a line feed followed by an empty line ("\n\n" or "\n\r\n"); a
        // match may straddle the end of what was searched before.
        let from = self.searched.saturating_sub(2);
        let end = bytes
            .get(from..)
            .unwrap_or_default()
            .windows(2)
            .enumerate()
            .any(|(i, w)| {
                w == b"\n\n" || (w == b"\n\r" && bytes.get(from + i + 2) == Some(&b'\n'))
            });
        self.searched = bytes.len();
        if end || buf.room() == 0 || bytes.len() >= self.parsed.saturating_mul(2) {
            self.parsed = bytes.len();
            return true;
        }
        false
    }

    /// True when bytes of the head at the front of `buf` were never fully parsed.
    fn unparsed(&self, buf: &StreamBuf) -> bool {
        !buf.is_empty() && (self.at != buf.offset() || self.parsed < buf.len())
    }
}

/// Bytes that arrived after the tunnel opened, per direction, with their frames.
pub type TunnelChunk = (Dir, Vec<u8>, FrameNo, Timestamp);

/// HTTP/1.x decoder for one connection.
#[derive(Clone, Debug)]
pub struct HttpDecoder {
    pub(super) sides: [Side; 2],
    pub(super) exchanges: Vec<HttpExchange>,
    /// Requests awaiting a response, oldest first (indices into `exchanges`).
    pub(super) pending: VecDeque<usize>,
    pub(super) notes: crate::protocols::Notes,
    pub(super) tunnel: bool,
    pub(super) tunnel_out: Vec<TunnelChunk>,
    /// The note that the facts budget is spent was made.
    pub(super) budget_noted: bool,
    /// Exchanges counted but not kept: the facts budget was spent.
    pub(super) not_kept: u64,
    /// Exchanges not kept (past the budget or `MAX_EXCHANGES`) while they are
    /// incomplete, oldest first: then written to the fact log, for the rules.
    pub(super) extra: VecDeque<HttpExchange>,
    /// Serial number of `extra`'s first exchange (`EXTRA | serial` indexes it).
    pub(super) extra_base: usize,
    /// Exchanges not kept, complete, written a batch at a time (so a flow's records
    /// are few, and read back quickly).
    pub(super) ready: Vec<HttpExchange>,
    /// This decoder's last record in the fact log.
    pub(super) chain: Option<crate::spill::Pos>,
}

impl Default for HttpDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpDecoder {
    pub fn new() -> Self {
        HttpDecoder {
            sides: [Side::new(), Side::new()],
            exchanges: Vec::new(),
            pending: VecDeque::new(),
            notes: crate::protocols::Notes::default(),
            tunnel: false,
            tunnel_out: Vec::new(),
            budget_noted: false,
            not_kept: 0,
            extra: VecDeque::new(),
            extra_base: 0,
            ready: Vec::new(),
            chain: None,
        }
    }

    /// True once a CONNECT succeeded: later bytes belong to the tunnel.
    pub fn tunnel_open(&self) -> bool {
        self.tunnel
    }

    /// Bytes received for the tunnel so far (drained).
    pub fn take_tunnel_bytes(&mut self) -> Vec<TunnelChunk> {
        std::mem::take(&mut self.tunnel_out)
    }

    pub fn wants_data(&self, dir: Dir) -> bool {
        if self.tunnel {
            return false;
        }
        self.sides
            .get(dir.index())
            .is_some_and(|s| !matches!(s.state, State::Stopped | State::UntilClose))
    }

    pub fn on_gap(&mut self, dir: Dir, len: u64) {
        self.stop_at_hole(dir, len, "capture loss");
    }

    /// Skips `len` unseen bytes, lost or cut (`cause`, for the note): harmless inside
    /// a body of known length, elsewhere the end of decoding in `dir`.
    fn stop_at_hole(&mut self, dir: Dir, len: u64, cause: &str) {
        self.settle_head(dir);
        if let Some(side) = self.sides.get_mut(dir.index()) {
            // A hole inside a body of known length is harmless; elsewhere we lose sync.
            match &mut side.state {
                State::Body(n) if *n >= len => *n -= len,
                State::Stopped | State::UntilClose => {}
                _ => {
                    side.state = State::Stopped;
                    side.buf.consume(side.buf.len());
                    self.notes.push(format!(
                        "http: {len} bytes missing {} ({cause}), stopped decoding that direction",
                        dir_words(dir)
                    ));
                }
            }
        }
    }

    /// `len` bytes from `dir` were cut by the capture's snap length at the end of the
    /// segment in `at`. A head waiting at the front of the buffer is read as far as it
    /// goes ([`parse_cut_head`]: the value the cut went through is kept and marked
    /// cut, nothing is made up for the rest); a response cut before its status code
    /// still answers its request. Then the framing decides: inside a body of known
    /// length, or a chunk's data and its line end, decoding goes on after the cut;
    /// elsewhere the next message is looked for at the next segment ([`State::Lost`]).
    pub fn on_cut(&mut self, cx: &mut DecodeCtx, dir: Dir, len: u64, at: (FrameNo, Timestamp)) {
        let d = dir.index();
        let Some(side) = self.sides.get_mut(d) else {
            return;
        };
        if self.tunnel {
            return;
        }
        match side.state {
            // Between messages in the server's direction, the cut bytes start a
            // response.
            State::Headers if !side.buf.is_empty() || dir == Dir::ToClient => {
                self.cut_head(cx, dir, at)
            }
            State::Headers => side.state = State::Lost,
            State::Body(n) | State::Chunked(Chunk::Data(n)) => {
                side.body_frame = Some(at.0);
                let chunked = matches!(side.state, State::Chunked(_));
                // After a chunk's data comes its CRLF, then the next size line.
                let end = if chunked { n.saturating_add(2) } else { n };
                match len.cmp(&end) {
                    std::cmp::Ordering::Greater => {
                        side.state = State::Lost;
                        self.finish_body(d);
                    }
                    std::cmp::Ordering::Equal if chunked => {
                        side.state = State::Chunked(Chunk::Size);
                    }
                    _ => self.body_advanced(d, n.saturating_sub(len)),
                }
            }
            State::Chunked(Chunk::DataEnd) => {
                // What of the CRLF is already buffered.
                let have = side.buf.len() as u64;
                if have + len == 2 {
                    side.buf.consume(side.buf.len());
                    side.state = State::Chunked(Chunk::Size);
                } else if have + len > 2 {
                    side.buf.consume(side.buf.len());
                    side.state = State::Lost;
                    self.finish_body(d);
                }
            }
            State::Chunked(Chunk::Size | Chunk::Trailer) => {
                side.buf.consume(side.buf.len());
                side.state = State::Lost;
                self.finish_body(d);
            }
            State::UntilClose | State::Stopped | State::Lost => {}
            State::AwaitConnectReply => self.stop_at_hole(dir, len, "cut by the snap length"),
        }
    }

    /// Reads the head at the front of `dir`'s buffer that the snap length cut.
    fn cut_head(&mut self, cx: &mut DecodeCtx, dir: Dir, at: (FrameNo, Timestamp)) {
        let d = dir.index();
        let Some(side) = self.sides.get_mut(d) else {
            return;
        };
        let (frame, ts) = if side.buf.is_empty() {
            at
        } else {
            side.buf.at(0)
        };
        let parsed = parse_cut_head(dir, side.buf.bytes(), &mut cx.texts);
        // A response whose status code was cut: it answered the oldest request.
        let bytes = side.buf.bytes();
        let response_began =
            dir == Dir::ToClient && b"HTTP/".starts_with(bytes.get(..5).unwrap_or(bytes));
        side.buf.consume(side.buf.len());
        side.state = State::Lost;
        let what = if dir == Dir::ToServer {
            "request"
        } else {
            "response"
        };
        match parsed {
            Some((head, cut)) => {
                self.notes.push(format!(
                    "http: {what} at frame {frame} cut by the snap length ({}); read as far as it goes",
                    cut_words(cut)
                ));
                match dir {
                    Dir::ToServer => self.on_request(cx, head, frame, ts),
                    Dir::ToClient => self.on_response(cx, head, frame, ts),
                }
                // Its framing headers may be past the cut: the next message is
                // looked for at the next segment. A CONNECT waits for its answer.
                if let Some(side) = self.sides.get_mut(d)
                    && !matches!(side.state, State::AwaitConnectReply | State::Stopped)
                {
                    side.state = State::Lost;
                }
            }
            None if response_began => {
                self.notes.push(format!(
                    "http: response at frame {frame} cut by the snap length before its status code"
                ));
                if let Some(ex) = self
                    .pending
                    .pop_front()
                    .and_then(|i| self.exchanges.get_mut(i))
                {
                    ex.response_frame = Some(frame);
                    ex.response_cut = Some(HeadCut::Status);
                    ex.response_time = ex.request_ts.map(|r| ts.secs_since(r));
                }
            }
            None => self.notes.push(format!(
                "http: {what} at frame {frame} cut by the snap length before its start line was read"
            )),
        }
    }

    pub fn on_data(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        data: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        let d = dir.index();
        let mut input = data;
        loop {
            if self.tunnel {
                if !input.is_empty() {
                    self.tunnel_out.push((dir, input.to_vec(), frame, ts));
                }
                return;
            }
            let Some(side) = self.sides.get_mut(d) else {
                return;
            };
            if input.is_empty() {
                return;
            }
            if side.state == State::Lost {
                // The first segment after a cut that starts like a message is one.
                let blank = input
                    .iter()
                    .take(4)
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                let rest = input.get(blank..).unwrap_or_default();
                if !looks_like_http(dir, rest) {
                    return;
                }
                side.state = State::Headers;
                input = rest;
            }
            if side.buf.is_empty() {
                match side.state {
                    State::Stopped => return,
                    State::UntilClose => {
                        side.body_frame = Some(frame);
                        self.keep_body(d, input);
                        return;
                    }
                    State::Body(n) | State::Chunked(Chunk::Data(n)) => {
                        let k = n.min(input.len() as u64) as usize;
                        side.body_frame = Some(frame);
                        let (body, rest) = input.split_at(k);
                        self.keep_body(d, body);
                        self.body_advanced(d, n - k as u64);
                        input = rest;
                        continue;
                    }
                    _ => {}
                }
            }
            let Some(side) = self.sides.get_mut(d) else {
                return;
            };
            let took = side.buf.push(input, frame, ts);
            input = input.get(took..).unwrap_or_default();
            let progressed = self.parse(cx, dir);
            if input.is_empty() {
                return;
            }
            if took == 0 && !progressed {
                self.notes.push(format!(
                    "http: more than {} KiB of headers {} at frame {frame}; stopped decoding that direction",
                    MAX_HEADER_BYTES / 1024,
                    dir_words(dir)
                ));
                if let Some(side) = self.sides.get_mut(d) {
                    side.state = State::Stopped;
                    side.buf.consume(side.buf.len());
                }
                return;
            }
        }
    }

    /// Bytes held for `dir` while a head (or chunk line) is incomplete.
    pub fn held(&self, dir: Dir) -> usize {
        self.sides.get(dir.index()).map_or(0, |s| s.buf.held())
    }

    /// Gives up the incomplete message held for `dir` (a buffer cap was reached) and
    /// stops decoding that direction; false when nothing was held.
    pub fn shed(&mut self, dir: Dir) -> bool {
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return false;
        };
        if side.buf.is_empty() {
            return false;
        }
        let (len, frame) = (side.buf.len(), side.buf.at(0).0);
        side.buf.consume(len);
        side.state = State::Stopped;
        self.notes.push(format!(
            "http: {len} bytes of an incomplete message {} from frame {frame} given up: buffer cap (--stream-buffer/--total-buffer) reached; stopped decoding that direction",
            dir_words(dir)
        ));
        true
    }

    /// Asks to keep one more exchange: a flow keeps at most `MAX_EXCHANGES` and the
    /// facts budget has the last word; refused, it is counted.
    pub(super) fn keep(&mut self, cx: &mut DecodeCtx) -> bool {
        let ok = cx.budget.take_below(self.exchanges.len(), MAX_EXCHANGES);
        self.not_kept += u64::from(!ok);
        ok
    }

    /// Exchanges counted but not kept (the facts budget was spent).
    pub fn facts_not_kept(&self) -> u64 {
        self.not_kept
    }

    /// Facts so far: exchanges in request order, and decode notes.
    pub fn finish(self) -> (Vec<HttpExchange>, crate::protocols::Notes) {
        let (ex, notes, _) = self.finish_all();
        (ex, notes)
    }

    /// [`finish`](Self::finish), and the exchanges not kept: where they are in the
    /// fact log, and those still held.
    pub fn finish_all(
        mut self,
    ) -> (
        Vec<HttpExchange>,
        crate::protocols::Notes,
        crate::protocols::overflow::Overflowed,
    ) {
        for d in 0..2 {
            self.settle_head(if d == 0 { Dir::ToServer } else { Dir::ToClient });
            self.finish_body(d);
            if let Some(side) = self.sides.get(d)
                && side.state == State::Headers
                && !side.buf.is_empty()
            {
                let dir = if d == 0 { Dir::ToServer } else { Dir::ToClient };
                self.notes.push(format!(
                    "http: {} bytes of an incomplete message {} at the end (from frame {})",
                    side.buf.len(),
                    dir_words(dir),
                    side.buf.at(0).0
                ));
            }
        }
        let overflow = crate::protocols::overflow::Overflowed {
            chains: self.chain.map(|p| (p, false)).into_iter().collect(),
            http: self.ready.into_iter().chain(self.extra).collect(),
            dns: Vec::new(),
        };
        (self.exchanges, self.notes, overflow)
    }

    /// The exchange `i` of `pending` or `body_of` names, kept or not.
    pub(super) fn ex_mut(&mut self, i: usize) -> Option<&mut HttpExchange> {
        if i & EXTRA == 0 {
            return self.exchanges.get_mut(i);
        }
        let serial = i & !EXTRA;
        self.extra.get_mut(serial.checked_sub(self.extra_base)?)
    }

    /// Holds an exchange not kept until it is complete; its index.
    pub(super) fn hold(&mut self, cx: &mut DecodeCtx, ex: HttpExchange) -> usize {
        cx.facts.hold();
        self.extra.push_back(ex);
        EXTRA | (self.extra_base + self.extra.len() - 1)
    }

    /// Writes the exchanges not kept that are complete (answered, body read) to the
    /// fact log, oldest first, and the oldest incomplete ones too while more than the
    /// bounds are held.
    pub(super) fn write_extra(&mut self, cx: &mut DecodeCtx) {
        use crate::protocols::overflow::{BATCH, MAX_HELD, MAX_HELD_PER_FLOW};
        let reading = self.sides.get(1).and_then(|s| s.body_of);
        if cx.facts.held() > MAX_HELD && !self.ready.is_empty() {
            self.write_ready(cx);
        }
        while let Some(front) = self.extra.front() {
            let done = front.status.is_some() && reading != Some(EXTRA | self.extra_base);
            let over = self.extra.len() > MAX_HELD_PER_FLOW
                || (self.extra.len() > 1 && cx.facts.held() > MAX_HELD);
            if !done && !over {
                break;
            }
            self.ready.extend(self.extra.pop_front());
            self.extra_base += 1;
            if over {
                self.write_ready(cx);
            }
        }
        if self.ready.len() >= BATCH || cx.facts.held() > MAX_HELD {
            self.write_ready(cx);
        }
    }

    /// Writes the exchanges in `ready` to the fact log, after this decoder's last record.
    fn write_ready(&mut self, cx: &mut DecodeCtx) {
        self.chain = cx
            .facts
            .write(self.chain, std::mem::take(&mut self.ready), Vec::new());
    }

    /// Keeps the start of a 4xx/5xx body (bounded) to read its error message.
    pub(super) fn keep_body(&mut self, d: usize, bytes: &[u8]) {
        if let Some(side) = self.sides.get_mut(d)
            && let Some(cap) = side.capture.as_mut()
        {
            let room = MAX_ERROR_BODY.saturating_sub(cap.len());
            cap.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
    }

    pub(super) fn body_advanced(&mut self, d: usize, remaining: u64) {
        let Some(side) = self.sides.get_mut(d) else {
            return;
        };
        match side.state {
            State::Body(_) => {
                if remaining == 0 {
                    side.state = State::Headers;
                    self.finish_body(d);
                } else {
                    side.state = State::Body(remaining);
                }
            }
            State::Chunked(Chunk::Data(_)) => {
                side.state = State::Chunked(if remaining == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(remaining)
                });
            }
            _ => {}
        }
    }

    /// End of a message body: read the kept error body, if any.
    pub(super) fn finish_body(&mut self, d: usize) {
        let Some(side) = self.sides.get_mut(d) else {
            return;
        };
        let idx = side.body_of.take();
        let cap = side.capture.take();
        let end = side.body_frame.take();
        if d == 1
            && let Some(ex) = idx.and_then(|i| self.ex_mut(i))
            && end.is_some()
            && end > ex.response_frame
        {
            ex.response_end_frame = end;
        }
        if let (Some(idx), Some(cap)) = (idx, cap)
            && let Some(ex) = self.ex_mut(idx)
        {
            ex.error_message = error_message(&cap);
        }
    }

    /// Gives up a direction whose head does not parse.
    fn malformed(&mut self, dir: Dir, frame: FrameNo, e: &str) {
        if let Some(side) = self.sides.get_mut(dir.index()) {
            side.state = State::Stopped;
        }
        self.notes.push(format!(
            "http: malformed {} at frame {frame}: {e}",
            if dir == Dir::ToServer {
                "request"
            } else {
                "response"
            }
        ));
    }

    /// Runs the parse a waiting head has not had yet, so a malformed one is reported as
    /// such (and not as cut short) when the stream ends or loses bytes.
    fn settle_head(&mut self, dir: Dir) {
        let Some(side) = self.sides.get(dir.index()) else {
            return;
        };
        if side.state != State::Headers || !side.scan.unparsed(&side.buf) {
            return;
        }
        // Only whether it parses matters here: its texts are not kept.
        let texts = &mut super::texts::MaskedTexts::default();
        if let Parsed::Error(e) = parse_head(dir, side.buf.bytes(), texts) {
            let frame = side.buf.at(0).0;
            self.malformed(dir, frame, &e);
        }
    }

    /// Parses as much of the buffered bytes of `dir` as possible.
    pub(super) fn parse(&mut self, cx: &mut DecodeCtx, dir: Dir) -> bool {
        let d = dir.index();
        let mut progressed = false;
        loop {
            if self.tunnel {
                return progressed;
            }
            let Some(side) = self.sides.get_mut(d) else {
                return progressed;
            };
            let bytes = side.buf.bytes();
            if bytes.is_empty() {
                return progressed;
            }
            match side.state {
                State::Stopped | State::AwaitConnectReply | State::Lost => return progressed,
                State::UntilClose => {
                    let all = bytes.to_vec();
                    side.body_frame = Some(side.buf.at(all.len().saturating_sub(1)).0);
                    side.buf.consume(all.len());
                    self.keep_body(d, &all);
                    return true;
                }
                State::Body(n) | State::Chunked(Chunk::Data(n)) => {
                    let k = n.min(bytes.len() as u64) as usize;
                    let body = bytes.get(..k).unwrap_or_default().to_vec();
                    side.body_frame = Some(side.buf.at(k.saturating_sub(1)).0);
                    side.buf.consume(k);
                    self.keep_body(d, &body);
                    self.body_advanced(d, n - k as u64);
                    progressed = true;
                }
                State::Chunked(Chunk::DataEnd) => {
                    if bytes.starts_with(b"\r\n") {
                        side.buf.consume(2);
                    } else if bytes.starts_with(b"\n") {
                        side.buf.consume(1);
                    } else if bytes.len() < 2 {
                        return progressed;
                    } else {
                        let frame = side.buf.at(0).0;
                        side.state = State::Stopped;
                        self.notes.push(format!(
                            "http: chunk not followed by CRLF {} at frame {frame}; stopped",
                            dir_words(dir)
                        ));
                        return progressed;
                    }
                    side.state = State::Chunked(Chunk::Size);
                    progressed = true;
                }
                State::Chunked(c @ (Chunk::Size | Chunk::Trailer)) => {
                    let Some(nl) = bytes.iter().take(MAX_LINE).position(|&b| b == b'\n') else {
                        if bytes.len() >= MAX_LINE {
                            side.state = State::Stopped;
                            self.notes.push(format!(
                                "http: chunk line too long {}; stopped",
                                dir_words(dir)
                            ));
                        }
                        return progressed;
                    };
                    let line = String::from_utf8_lossy(bytes.get(..nl).unwrap_or_default())
                        .trim()
                        .to_string();
                    let frame = side.buf.at(0).0;
                    side.body_frame = Some(side.buf.at(nl).0);
                    side.buf.consume(nl + 1);
                    progressed = true;
                    if c == Chunk::Trailer {
                        if line.is_empty() {
                            side.state = State::Headers;
                            self.finish_body(d);
                        }
                        continue;
                    }
                    let hex = line.split(';').next().unwrap_or_default().trim();
                    match u64::from_str_radix(hex, 16) {
                        Ok(0) => side.state = State::Chunked(Chunk::Trailer),
                        Ok(n) => side.state = State::Chunked(Chunk::Data(n)),
                        Err(_) => {
                            side.state = State::Stopped;
                            self.notes.push(format!(
                                "http: bad chunk size {:?} {} at frame {frame}; stopped",
                                hex.chars().take(20).collect::<String>(),
                                dir_words(dir)
                            ));
                            return progressed;
                        }
                    }
                }
                State::Headers => {
                    // Tolerate stray CRLFs between messages (RFC 9112 2.2).
                    let blank = bytes
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    if blank > 0 {
                        side.buf.consume(blank);
                        progressed = true;
                        continue;
                    }
                    let (frame, ts) = side.buf.at(0);
                    if !side.scan.due(&side.buf) {
                        return progressed;
                    }
                    match parse_head(dir, bytes, &mut cx.texts) {
                        Parsed::Partial => {
                            if side.buf.room() == 0 {
                                side.state = State::Stopped;
                                self.notes.push(format!(
                                    "http: more than {} KiB of headers {} from frame {frame}; stopped decoding that direction",
                                    MAX_HEADER_BYTES / 1024,
                                    dir_words(dir)
                                ));
                            }
                            return progressed;
                        }
                        Parsed::Error(e) => {
                            self.malformed(dir, frame, &e);
                            return progressed;
                        }
                        Parsed::Complete(n, head) => {
                            side.buf.consume(n);
                            progressed = true;
                            match dir {
                                Dir::ToServer => self.on_request(cx, head, frame, ts),
                                Dir::ToClient => self.on_response(cx, head, frame, ts),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The value a cut went through, in words for a note.
fn cut_words(cut: HeadCut) -> &'static str {
    match cut {
        HeadCut::Status => "in its status code",
        HeadCut::Target => "in its target",
        HeadCut::Version => "in its version",
        HeadCut::Reason => "in its reason phrase",
        HeadCut::Headers => "in its headers",
        _ => "in a header's value",
    }
}

pub(super) fn dir_words(dir: Dir) -> &'static str {
    match dir {
        Dir::ToServer => "from the client",
        Dir::ToClient => "from the server",
    }
}
