//! The HTTP/1.x dialogue of one connection: requests paired with responses,
//! bodies skipped by their framing (the start of a 4xx/5xx body kept for its error
//! message), and the switch to a tunnel after a 2xx to CONNECT.

use super::auth::{AuthHeader, Challenge, Credentials, parse_challenges, parse_credentials};
use super::head::{Head, MAX_HEADER_BYTES, Parsed, parse_head, text, version_str};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::secrets::{mask_key, redact_text};
use crate::protocols::stream_buf::StreamBuf;
use std::collections::VecDeque;

/// How much of a 4xx/5xx body is kept to find a JSON error message.
const MAX_ERROR_BODY: usize = 4096;
/// Longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 4096;
const MAX_EXCHANGES: usize = 10_000;

/// One request and its response (either may be missing).
#[derive(Clone, Debug, Default)]
pub struct HttpExchange {
    pub method: Option<std::sync::Arc<str>>,
    /// Request target as sent: authority (CONNECT), absolute URI or origin path.
    pub target: Option<std::sync::Arc<str>>,
    pub version: Option<std::sync::Arc<str>>,
    pub host: Option<std::sync::Arc<str>>,
    pub user_agent: Option<std::sync::Arc<str>>,
    pub request_frame: Option<FrameNo>,
    pub request_ts: Option<Timestamp>,
    /// `Proxy-Authorization` / `Authorization` sent with the request.
    pub credentials: Vec<Credentials>,
    /// `x-api-key` / `api-key` request header, masked.
    pub api_key: Option<String>,
    /// A Cookie header was sent (its value is never kept).
    pub has_cookie: bool,
    pub proxy_connection: Option<std::sync::Arc<str>>,

    pub status: Option<u16>,
    pub reason: Option<std::sync::Arc<str>>,
    pub response_version: Option<std::sync::Arc<str>>,
    pub response_frame: Option<FrameNo>,
    /// Frame carrying the response's last byte, when that is a later frame than its
    /// status line: where Wireshark lists the response (it shows a message in the
    /// frame that completes it).
    pub response_end_frame: Option<FrameNo>,
    /// Seconds from the request's first byte to the response's first byte.
    pub response_time: Option<f64>,
    /// Interim 1xx statuses received before the final response.
    pub interim: Vec<u16>,
    pub challenges: Vec<Challenge>,
    pub retry_after: Option<String>,
    /// `Via` headers of request and response, in order.
    pub via: Vec<String>,
    pub server: Option<std::sync::Arc<str>>,
    pub x_squid_error: Option<String>,
    pub content_type: Option<std::sync::Arc<str>>,
    pub content_length: Option<u64>,
    /// Start (≤ 200 chars) of a 4xx/5xx JSON error message, keys masked.
    pub error_message: Option<String>,
    /// The 2xx answer to CONNECT turned the connection into a tunnel.
    pub tunnel: bool,
    /// Read from TLS records decrypted with a key log.
    pub decrypted: bool,
}

impl HttpExchange {
    /// Schemes of the challenges, deduplicated, in order (`Basic, NTLM`).
    pub fn challenge_schemes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.challenges {
            if !out.iter().any(|s| s.eq_ignore_ascii_case(&c.scheme)) {
                out.push(&c.scheme);
            }
        }
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Awaiting a start line and headers.
    Headers,
    /// Skipping a body of known length.
    Body(u64),
    Chunked(Chunk),
    /// Response body delimited by connection close.
    UntilClose,
    /// CONNECT sent: client bytes wait for the proxy's answer.
    AwaitConnectReply,
    /// Nothing more to learn in this direction.
    Stopped,
}

#[derive(Clone, Debug)]
struct Side {
    buf: StreamBuf,
    state: State,
    /// Exchange whose body is being skipped, and the kept start of a 4xx/5xx body.
    body_of: Option<usize>,
    capture: Option<Vec<u8>>,
    /// Frame of the latest body byte consumed (where the message ends).
    body_frame: Option<FrameNo>,
}

impl Side {
    fn new() -> Self {
        Side {
            buf: StreamBuf::new(MAX_HEADER_BYTES),
            state: State::Headers,
            body_of: None,
            capture: None,
            body_frame: None,
        }
    }
}

/// Bytes that arrived after the tunnel opened, per direction, with their frames.
pub type TunnelChunk = (Dir, Vec<u8>, FrameNo, Timestamp);

/// HTTP/1.x decoder for one connection.
#[derive(Clone, Debug)]
pub struct HttpDecoder {
    sides: [Side; 2],
    exchanges: Vec<HttpExchange>,
    /// Requests awaiting a response, oldest first (indices into `exchanges`).
    pending: VecDeque<usize>,
    notes: crate::protocols::Notes,
    tunnel: bool,
    tunnel_out: Vec<TunnelChunk>,
    /// The note that the facts budget is spent was made.
    budget_noted: bool,
    /// Exchanges counted but not kept: the facts budget was spent.
    not_kept: u64,
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
        if let Some(side) = self.sides.get_mut(dir.index()) {
            // A hole inside a body of known length is harmless; elsewhere we lose sync.
            match &mut side.state {
                State::Body(n) if *n >= len => *n -= len,
                State::Stopped | State::UntilClose => {}
                _ => {
                    side.state = State::Stopped;
                    side.buf.consume(side.buf.len());
                    self.notes.push(format!(
                        "http: {len} bytes missing {} (capture loss), stopped decoding that direction",
                        dir_words(dir)
                    ));
                }
            }
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

    /// Asks to keep one more exchange: a flow keeps at most `MAX_EXCHANGES` and the
    /// facts budget has the last word; refused, it is counted.
    fn keep(&mut self, cx: &mut DecodeCtx) -> bool {
        let ok = cx.budget.take_below(self.exchanges.len(), MAX_EXCHANGES);
        self.not_kept += u64::from(!ok);
        ok
    }

    /// Exchanges counted but not kept (the facts budget was spent).
    pub fn facts_not_kept(&self) -> u64 {
        self.not_kept
    }

    /// Facts so far: exchanges in request order, and decode notes.
    pub fn finish(mut self) -> (Vec<HttpExchange>, crate::protocols::Notes) {
        for d in 0..2 {
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
        (self.exchanges, self.notes)
    }

    /// Keeps the start of a 4xx/5xx body (bounded) to read its error message.
    fn keep_body(&mut self, d: usize, bytes: &[u8]) {
        if let Some(side) = self.sides.get_mut(d)
            && let Some(cap) = side.capture.as_mut()
        {
            let room = MAX_ERROR_BODY.saturating_sub(cap.len());
            cap.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
    }

    fn body_advanced(&mut self, d: usize, remaining: u64) {
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
    fn finish_body(&mut self, d: usize) {
        let Some(side) = self.sides.get_mut(d) else {
            return;
        };
        let idx = side.body_of.take();
        let cap = side.capture.take();
        let end = side.body_frame.take();
        if d == 1
            && let Some(ex) = idx.and_then(|i| self.exchanges.get_mut(i))
            && end.is_some()
            && end > ex.response_frame
        {
            ex.response_end_frame = end;
        }
        if let (Some(idx), Some(cap)) = (idx, cap)
            && let Some(ex) = self.exchanges.get_mut(idx)
        {
            ex.error_message = error_message(&cap);
        }
    }

    /// Parses as much of the buffered bytes of `dir` as possible.
    fn parse(&mut self, cx: &mut DecodeCtx, dir: Dir) -> bool {
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
                State::Stopped | State::AwaitConnectReply => return progressed,
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
                    match parse_head(dir, bytes) {
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
                            side.state = State::Stopped;
                            self.notes.push(format!(
                                "http: malformed {} at frame {frame}: {e}",
                                if dir == Dir::ToServer {
                                    "request"
                                } else {
                                    "response"
                                }
                            ));
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

    fn on_request(&mut self, cx: &mut DecodeCtx, head: Head, frame: FrameNo, ts: Timestamp) {
        let mut intern = |s: &str| cx.intern.text(s);
        let mut ex = HttpExchange {
            method: head.method.as_deref().map(&mut intern),
            target: head
                .target
                .as_deref()
                .map(|t| intern(&crate::protocols::secrets::mask_target(t))),
            version: version_str(head.version).as_deref().map(&mut intern),
            host: head.first("host").as_deref().map(&mut intern),
            user_agent: head.first("user-agent").as_deref().map(&mut intern),
            request_frame: Some(frame),
            request_ts: Some(ts),
            proxy_connection: head.first("proxy-connection").as_deref().map(&mut intern),
            has_cookie: head.all("cookie").next().is_some(),
            ..Default::default()
        };
        for (name, header) in [
            ("proxy-authorization", AuthHeader::ProxyAuthorization),
            ("authorization", AuthHeader::Authorization),
        ] {
            for v in head.all(name) {
                let mut c = parse_credentials(header, &text(v));
                c.scheme = cx.intern.text(&c.scheme);
                ex.credentials.push(c);
            }
        }
        ex.api_key = head
            .all("x-api-key")
            .chain(head.all("api-key"))
            .next()
            .map(|v| mask_key(&String::from_utf8_lossy(v)));
        ex.via.extend(head.all("via").map(text));

        let is_connect = head
            .method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"));
        let next = if is_connect {
            State::AwaitConnectReply
        } else {
            self.body_state(&head, Dir::ToServer, frame)
        };
        if self.exchanges.len() >= MAX_EXCHANGES {
            self.not_kept += 1;
            if self.exchanges.len() == MAX_EXCHANGES {
                self.notes.push(format!(
                    "http: more than {MAX_EXCHANGES} exchanges; later ones not kept"
                ));
            }
        } else if !self.keep(cx) {
            if !self.budget_noted {
                self.budget_noted = true;
                self.notes.push(
                    "http: decoded-facts budget (--max-facts) spent; later exchanges counted, not kept"
                        .into(),
                );
            }
        } else {
            self.pending.push_back(self.exchanges.len());
            self.exchanges.push(ex);
        }
        if let Some(side) = self.sides.get_mut(0) {
            side.state = next;
        }
    }

    /// Body framing of a message (RFC 9112 6.3), noting bad lengths.
    fn body_state(&mut self, head: &Head, dir: Dir, frame: FrameNo) -> State {
        if head.chunked() {
            return State::Chunked(Chunk::Size);
        }
        match head.content_length() {
            Some(Ok(0)) => State::Headers,
            Some(Ok(n)) => State::Body(n),
            Some(Err(v)) => {
                self.notes.push(format!(
                    "http: invalid Content-Length {:?} {} at frame {frame}; stopped",
                    v.chars().take(20).collect::<String>(),
                    dir_words(dir)
                ));
                State::Stopped
            }
            None if dir == Dir::ToClient => State::UntilClose,
            None => State::Headers,
        }
    }

    fn on_response(&mut self, cx: &mut DecodeCtx, head: Head, frame: FrameNo, ts: Timestamp) {
        let status = head.status.unwrap_or(0);
        if (100..200).contains(&status) {
            if let Some(ex) = self
                .pending
                .front()
                .and_then(|&i| self.exchanges.get_mut(i))
            {
                ex.interim.push(status);
            }
            if status == 101 {
                // Switching protocols: what follows is not HTTP/1.x.
                for side in &mut self.sides {
                    side.state = State::Stopped;
                    side.buf.consume(side.buf.len());
                }
            }
            return;
        }
        let idx = match self.pending.pop_front() {
            Some(i) => i,
            None => {
                if !self.keep(cx) {
                    return;
                }
                // Response without a request we saw (capture started mid-connection).
                self.exchanges.push(HttpExchange::default());
                self.exchanges.len() - 1
            }
        };
        let body = {
            let Some(ex) = self.exchanges.get(idx) else {
                return;
            };
            let method = ex.method.clone().unwrap_or_default();
            if method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304 {
                State::Headers
            } else if method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&status) {
                State::Stopped
            } else {
                self.body_state(&head, Dir::ToClient, frame)
            }
        };
        let Some(ex) = self.exchanges.get_mut(idx) else {
            return;
        };
        ex.status = Some(status);
        let mut intern = |s: &str| cx.intern.text(s);
        ex.reason = head.reason.as_deref().map(&mut intern);
        ex.response_version = version_str(head.version).as_deref().map(&mut intern);
        ex.response_frame = Some(frame);
        ex.response_time = ex.request_ts.map(|r| ts.secs_since(r));
        for (name, header) in [
            ("proxy-authenticate", AuthHeader::ProxyAuthenticate),
            ("www-authenticate", AuthHeader::WwwAuthenticate),
        ] {
            for v in head.all(name) {
                let mut cs = parse_challenges(header, &text(v));
                for c in &mut cs {
                    c.scheme = cx.intern.text(&c.scheme);
                }
                ex.challenges.extend(cs);
            }
        }
        ex.retry_after = head.first("retry-after");
        ex.via.extend(head.all("via").map(text));
        ex.server = head.first("server").as_deref().map(|s| cx.intern.text(s));
        ex.x_squid_error = head.first("x-squid-error");
        ex.content_type = head
            .first("content-type")
            .as_deref()
            .map(|s| cx.intern.text(s));
        ex.content_length = head.content_length().and_then(Result::ok);
        let is_connect = ex
            .method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"));
        let error = status >= 400;
        let encoded = head
            .first("content-encoding")
            .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));

        if is_connect && (200..300).contains(&status) {
            ex.tunnel = true;
            self.open_tunnel();
            return;
        }
        if let Some(side) = self.sides.get_mut(1) {
            side.state = body;
            side.body_of = Some(idx);
            side.capture = (error && !encoded).then(Vec::new);
        }
        if body == State::Headers {
            self.finish_body(1);
        }
        if is_connect {
            // Refused CONNECT: the client may go on with more requests on this connection.
            if let Some(side) = self.sides.get_mut(0)
                && side.state == State::AwaitConnectReply
            {
                side.state = State::Headers;
                self.parse(cx, Dir::ToServer);
            }
        }
    }

    fn open_tunnel(&mut self) {
        self.tunnel = true;
        for (d, dir) in [(0, Dir::ToServer), (1, Dir::ToClient)] {
            if let Some(side) = self.sides.get_mut(d) {
                side.state = State::Stopped;
                for (bytes, frame, ts) in side.buf.drain_chunks() {
                    self.tunnel_out.push((dir, bytes, frame, ts));
                }
            }
        }
    }
}

fn dir_words(dir: Dir) -> &'static str {
    match dir {
        Dir::ToServer => "from the client",
        Dir::ToClient => "from the server",
    }
}

/// The start of a JSON error message in a kept 4xx/5xx body, keys masked.
fn error_message(body: &[u8]) -> Option<String> {
    let body = String::from_utf8_lossy(body);
    let trimmed = body.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    let msg = match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(v) => [
            v.pointer("/error/message"),
            v.get("message"),
            v.get("detail"),
            v.get("error_description"),
            v.get("error"),
        ]
        .into_iter()
        .flatten()
        .find_map(|x| x.as_str().map(str::to_string))?,
        // Truncated body: look for the first "message"/"detail" string by hand.
        Err(_) => ["\"message\"", "\"detail\""]
            .iter()
            .find_map(|k| string_after_key(trimmed, k))?,
    };
    Some(redact_text(&msg).chars().take(200).collect())
}

fn string_after_key(s: &str, key: &str) -> Option<String> {
    let at = s.find(key)? + key.len();
    let rest = s.get(at..)?.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => break,
            },
            c => out.push(c),
        }
        if out.len() > 400 {
            break;
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use crate::protocols::ntlm;
    use crate::report::json::schema::HttpExchange as Shown;
    use base64::Engine as _;

    pub(crate) fn feed(d: &mut HttpDecoder, dir: Dir, bytes: &[u8], frame: u64) {
        d.on_data(
            &mut DecodeCtx::default(),
            dir,
            bytes,
            FrameNo(frame),
            Timestamp(frame as i64 * 1_000_000),
        );
    }

    fn run(req: &[u8], resp: &[u8]) -> Vec<HttpExchange> {
        let mut d = HttpDecoder::new();
        feed(&mut d, Dir::ToServer, req, 1);
        feed(&mut d, Dir::ToClient, resp, 2);
        d.finish().0
    }

    const CANARY_PASS: &str = "Pa55-CANARY-word";

    #[test]
    fn response_spanning_frames_records_the_frame_that_completes_it() {
        let mut d = HttpDecoder::new();
        feed(
            &mut d,
            Dir::ToServer,
            b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
            1,
        );
        let head = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 10\r\n\r\n01234";
        feed(&mut d, Dir::ToClient, head, 2);
        feed(&mut d, Dir::ToClient, b"567", 3);
        feed(&mut d, Dir::ToClient, b"89", 4);
        let ex = d.finish().0;
        assert_eq!(ex[0].response_frame, Some(FrameNo(2)));
        assert_eq!(ex[0].response_end_frame, Some(FrameNo(4)));
        // In one frame: no separate end frame.
        let one = run(
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        );
        assert_eq!(one[0].response_end_frame, None);
    }

    #[test]
    fn connect_407_with_two_proxy_authenticate_headers() {
        let ex = run(
            b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n",
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"Acme Proxy\"\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate, Kerberos\r\nVia: 1.1 proxy.acme\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(ex.len(), 1);
        let e = &ex[0];
        assert_eq!(e.method.as_deref(), Some("CONNECT"));
        assert_eq!(e.target.as_deref(), Some("api.anthropic.com:443"));
        assert_eq!(e.status, Some(407));
        assert_eq!(
            e.challenge_schemes(),
            vec!["Basic", "NTLM", "Negotiate", "Kerberos"]
        );
        assert_eq!(e.challenges[0].realm.as_deref(), Some("Acme Proxy"));
        assert_eq!(e.challenges[0].header, AuthHeader::ProxyAuthenticate);
        assert_eq!(e.via, vec!["1.1 proxy.acme"]);
        assert_eq!(e.server.as_deref(), Some("squid/5.7"));
        assert_eq!(
            e.x_squid_error.as_deref(),
            Some("ERR_CACHE_ACCESS_DENIED 0")
        );
        assert_eq!(e.request_frame, Some(FrameNo(1)));
        assert_eq!(e.response_frame, Some(FrameNo(2)));
        assert!((e.response_time.unwrap() - 0.001).abs() < 1e-9);
        assert!(!e.tunnel);
    }

    #[test]
    fn secrets_never_in_debug_or_json() {
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("alice:{CANARY_PASS}"));
        let nt3 = base64::engine::general_purpose::STANDARD
            .encode(ntlm::tests::type3(b"CANARY-NTLM-RESP"));
        let req = format!(
            "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic {basic}\r\nAuthorization: Bearer sk-ant-api03-CANARYTOKENxyz1234\r\nx-api-key: sk-ant-api03-CANARYKEYabc3f9a\r\nCookie: session=CANARYCOOKIE\r\n\r\nGET / HTTP/1.1\r\nProxy-Authorization: NTLM {nt3}\r\n\r\n"
        );
        let body = "{\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key sk-ant-api03-CANARYK1234\"}}";
        let resp = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            body.len()
        );
        let ex = run(req.as_bytes(), resp.as_bytes());
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].credentials[0].user.as_deref(), Some("alice"));
        assert_eq!(&*ex[0].credentials[1].scheme, "Bearer");
        assert_eq!(ex[0].api_key.as_deref(), Some("sk-ant-api03-…3f9a"));
        assert!(ex[0].has_cookie);
        assert_eq!(ex[1].credentials[0].user.as_deref(), Some("alice"));
        let msg = ex[0].error_message.as_deref().unwrap();
        assert_eq!(msg, "invalid x-api-key sk-ant-api03-…1234");
        let dbg = format!("{ex:?}");
        let json = serde_json::to_string(&ex.iter().map(Shown::from).collect::<Vec<_>>()).unwrap();
        for out in [&dbg, &json] {
            assert!(!out.contains("CANARY"), "secret leaked: {out}");
            assert!(!out.contains(&basic));
        }
    }

    #[test]
    fn pipelined_keepalive_with_chunked_and_content_length() {
        let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\r\n\r\n";
        let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        let ex = run(req, resp);
        let got: Vec<_> = ex
            .iter()
            .map(|e| (e.target.clone().unwrap(), e.status.unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![("/a".into(), 200), ("/b".into(), 201), ("/c".into(), 200)]
        );
        assert_eq!(ex[1].interim, vec![100]);
    }

    #[test]
    fn chunked_body_split_at_every_offset() {
        let resp: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        for cut in 0..resp.len() {
            let mut d = HttpDecoder::new();
            feed(
                &mut d,
                Dir::ToServer,
                b"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
                1,
            );
            feed(&mut d, Dir::ToClient, &resp[..cut], 2);
            feed(&mut d, Dir::ToClient, &resp[cut..], 3);
            let (ex, notes) = d.finish();
            assert_eq!(ex.len(), 2, "cut {cut}");
            assert_eq!(ex[1].status, Some(204), "cut {cut}: {notes:?}");
        }
    }

    #[test]
    fn connect_200_opens_tunnel_with_early_client_bytes() {
        let mut d = HttpDecoder::new();
        feed(
            &mut d,
            Dir::ToServer,
            b"CONNECT h:443 HTTP/1.0\r\n\r\n\x16\x03\x01",
            1,
        );
        assert!(!d.tunnel_open());
        feed(
            &mut d,
            Dir::ToClient,
            b"HTTP/1.0 200 Connection established\r\n\r\n\x16\x03\x03",
            2,
        );
        assert!(d.tunnel_open());
        feed(&mut d, Dir::ToServer, b"more", 3);
        let t = d.take_tunnel_bytes();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].0, t[0].1.as_slice(), t[0].2),
            (Dir::ToServer, &b"\x16\x03\x01"[..], FrameNo(1))
        );
        assert_eq!(t[1].1, b"\x16\x03\x03");
        assert_eq!(t[2].1, b"more");
        assert!(!d.wants_data(Dir::ToServer));
        let (ex, _) = d.finish();
        assert!(ex[0].tunnel);
        assert_eq!(ex[0].reason.as_deref(), Some("Connection established"));
    }

    #[test]
    fn refused_connect_then_retry_on_same_connection() {
        let ex = run(
            b"CONNECT h:443 HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
            b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        );
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].status, Some(407));
        assert_eq!(ex[1].credentials[0].user.as_deref(), Some("u"));
        assert!(ex[1].tunnel);
    }

    #[test]
    fn ntlm_handshake_in_headers() {
        let t1 = base64::engine::general_purpose::STANDARD.encode(ntlm::tests::type1());
        let t2 = base64::engine::general_purpose::STANDARD.encode(ntlm::tests::type2());
        let req = format!("CONNECT h:443 HTTP/1.1\r\nProxy-Authorization: NTLM {t1}\r\n\r\n");
        let resp =
            format!("HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM {t2}\r\nContent-Length: 0\r\n\r\n");
        let ex = run(req.as_bytes(), resp.as_bytes());
        let c = &ex[0].challenges[0];
        assert_eq!(
            c.ntlm.as_ref().unwrap().target_name.as_deref(),
            Some("CORP")
        );
        let cr = &ex[0].credentials[0];
        assert_eq!(
            cr.ntlm.as_ref().unwrap().workstation.as_deref(),
            Some("WS01")
        );
    }

    #[test]
    fn oversized_headers_give_up_with_note() {
        let mut d = HttpDecoder::new();
        feed(&mut d, Dir::ToServer, b"GET / HTTP/1.1\r\n", 1);
        let filler = format!("X-Fill: {}\r\n", "a".repeat(1000));
        for i in 0..100 {
            feed(&mut d, Dir::ToServer, filler.as_bytes(), 2 + i);
        }
        assert!(!d.wants_data(Dir::ToServer));
        let (_, notes) = d.finish();
        assert!(notes.iter().any(|n| n.contains("64 KiB")), "{notes:?}");
    }

    #[test]
    fn garbage_and_truncated_never_panic() {
        let samples: [&[u8]; 5] = [
            b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
            b"\x00\xff\x16 GET",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc",
            b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
        ];
        for s in samples {
            for cut in 0..s.len() {
                let mut d = HttpDecoder::new();
                feed(&mut d, Dir::ToServer, &s[..cut], 1);
                feed(&mut d, Dir::ToClient, &s[..cut], 2);
                let _ = d.finish();
            }
        }
        let mut d = HttpDecoder::new();
        feed(
            &mut d,
            Dir::ToServer,
            b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
            1,
        );
        assert!(d.finish().1.iter().any(|n| n.contains("Content-Length")));
    }

    #[test]
    fn truncated_json_error_message() {
        let ex = run(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:4000\r\n\r\n",
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"detail\": \"Rate limit exceeded for key sk-1234567890abcdefXYZW\", \"pad\": \"",
        );
        assert_eq!(ex[0].retry_after.as_deref(), Some("30"));
        assert_eq!(
            ex[0].error_message.as_deref(),
            Some("Rate limit exceeded for key sk-…")
        );
    }
}
