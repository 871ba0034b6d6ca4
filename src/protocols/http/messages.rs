//! From parsed heads to exchanges: requests queued, responses paired with them,
//! body framing chosen, a 2xx to CONNECT opening the tunnel, and the JSON error
//! message read from a kept 4xx/5xx body.

use super::decoder::{Chunk, EXTRA, HttpDecoder, MAX_EXCHANGES, State, dir_words};
use super::exchange::HttpExchange;
use super::fill::{HeaderFields, RequestStart, is_connect};
use super::head::{Head, version_str};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::secrets::redact_text;

impl HttpDecoder {
    pub(super) fn on_request(
        &mut self,
        cx: &mut DecodeCtx,
        head: Head,
        frame: FrameNo,
        ts: Timestamp,
    ) {
        let version = version_str(head.version);
        let start = RequestStart {
            method: head.method.as_deref(),
            // Masked when the head was read, before the cut to its kept length.
            target: head.target.as_deref(),
            version: version.as_deref(),
            authority: None,
            at: (frame, ts),
        };
        let mut ex = HttpExchange::request(cx, start, &head);
        ex.proxy_connection = head
            .first_text("proxy-connection")
            .as_deref()
            .map(|s| cx.intern.text(s));
        ex.request_cut = head.cut;

        let next = if is_connect(head.method.as_deref()) {
            State::AwaitConnectReply
        } else {
            self.body_state(&head, Dir::ToServer, frame)
        };
        // Not kept (not listed), it is held until answered, then written for the rules.
        if self.exchanges.len() >= MAX_EXCHANGES {
            self.not_kept += 1;
            if self.exchanges.len() == MAX_EXCHANGES {
                self.notes.push(format!(
                    "http: more than {MAX_EXCHANGES} exchanges; later ones not kept"
                ));
            }
            let i = self.hold(cx, ex);
            self.pending.push_back(i);
        } else if !self.keep(cx) {
            if !self.budget_noted {
                self.budget_noted = true;
                self.notes.push(
                    "http: decoded-facts budget (--max-facts) spent; later exchanges counted, not kept"
                        .into(),
                );
            }
            let i = self.hold(cx, ex);
            self.pending.push_back(i);
        } else {
            self.pending.push_back(self.exchanges.len());
            self.exchanges.push(ex);
        }
        if let Some(side) = self.sides.get_mut(0) {
            side.state = next;
        }
        self.write_extra(cx);
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

    pub(super) fn on_response(
        &mut self,
        cx: &mut DecodeCtx,
        head: Head,
        frame: FrameNo,
        ts: Timestamp,
    ) {
        self.pair_response(cx, head, frame, ts);
        self.write_extra(cx);
    }

    fn pair_response(&mut self, cx: &mut DecodeCtx, head: Head, frame: FrameNo, ts: Timestamp) {
        let status = head.status.unwrap_or(0);
        if (100..200).contains(&status) {
            if let Some(&i) = self.pending.front()
                && let Some(ex) = self.ex_mut(i)
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
            // A request not kept that was written before its answer came: the answer
            // is written as one without its request.
            Some(i) if self.ex_mut(i).is_none() && i & EXTRA != 0 => {
                self.hold(cx, HttpExchange::default())
            }
            Some(i) => i,
            None => {
                if !self.keep(cx) {
                    // Response without a request we saw, not kept: held for the rules.
                    self.hold(cx, HttpExchange::default())
                } else {
                    // Response without a request we saw (capture started mid-connection).
                    self.exchanges.push(HttpExchange::default());
                    self.exchanges.len() - 1
                }
            }
        };
        let body = {
            let Some(ex) = self.ex_mut(idx) else {
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
        let Some(ex) = self.ex_mut(idx) else {
            return;
        };
        let version = version_str(head.version);
        let error_body = ex.response(cx, status, version.as_deref(), (frame, ts), &head);
        ex.reason = head.reason.as_deref().map(|r| cx.intern.text(r));
        ex.response_cut = head.cut;
        let connect = is_connect(ex.method.as_deref());

        if connect && (200..300).contains(&status) {
            ex.tunnel = true;
            self.open_tunnel();
            return;
        }
        if let Some(side) = self.sides.get_mut(1) {
            side.state = body;
            side.body_of = Some(idx);
            side.capture = error_body.then(Vec::new);
        }
        if body == State::Headers {
            self.finish_body(1);
        }
        if connect {
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

/// The start of a JSON error message in a kept 4xx/5xx body, keys masked.
pub(crate) fn error_message(body: &[u8]) -> Option<String> {
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
