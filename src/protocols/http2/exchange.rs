//! From HTTP/2 header lists to exchanges: one [`HttpExchange`] per stream, its
//! request and response sides filled by the same code as the HTTP/1.x decoder's
//! (`HttpExchange::request` and `response`) from the pseudo-headers in place of the
//! start lines, and the start of an error response's body for its JSON message.

use super::{MAX_OPEN_STREAMS, MAX_STREAMS};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::http::{HeaderFields, HttpExchange, RequestStart, error_message, is_connect};
use crate::protocols::overflow::Overflowed;
use crate::protocols::secrets::mask_target;
use crate::protocols::{DecodeCtx, Notes};
use rustc_hash::FxHashMap;

/// Bytes of an error response's body kept to read its message.
const MAX_ERROR_BODY: usize = 4096;

/// One open stream.
#[derive(Clone, Debug, Default)]
struct Stream {
    /// Its exchange, when kept.
    ex: Option<usize>,
    /// Its exchange when not kept (facts budget, streams per connection): held until
    /// the stream ends, then written to the fact log for the rules.
    extra: Option<Box<HttpExchange>>,
    /// The final (non-1xx) response headers came.
    answered: bool,
    /// The start of an error response's body.
    capture: Option<Vec<u8>>,
    /// Each direction ended the stream.
    ended: [bool; 2],
}

/// The streams of one connection and their exchanges.
#[derive(Clone, Debug, Default)]
pub(super) struct Streams {
    open: FxHashMap<u32, Stream>,
    exchanges: Vec<HttpExchange>,
    /// Exchanges not kept whose streams ended, to be written to the fact log.
    ready: Vec<HttpExchange>,
    /// The last record this connection wrote to the fact log.
    chain: Option<crate::spill::Pos>,
    /// Streams counted, not kept (facts budget, stream cap).
    pub(super) not_kept: u64,
    cap_noted: bool,
    budget_noted: bool,
}

/// The exchange of stream `st`, kept or not.
fn exchange_of<'a>(
    exchanges: &'a mut [HttpExchange],
    st: &'a mut Stream,
) -> Option<&'a mut HttpExchange> {
    match st.ex {
        Some(i) => exchanges.get_mut(i),
        None => st.extra.as_deref_mut(),
    }
}

impl Streams {
    /// True when stream `id` is open and has no final response yet.
    pub(super) fn open_without_answer(&self, id: u32) -> bool {
        self.open.get(&id).is_some_and(|s| !s.answered)
    }

    /// The stream `id`, opened when new and there is room; `None` when not followed
    /// (counted once, at its request).
    fn stream(&mut self, id: u32, request: bool, notes: &mut Notes) -> Option<&mut Stream> {
        if !self.open.contains_key(&id) {
            if self.open.len() >= MAX_OPEN_STREAMS {
                self.not_kept += u64::from(request);
                if !self.cap_noted {
                    self.cap_noted = true;
                    notes.push(format!(
                        "h2: more than {MAX_OPEN_STREAMS} streams open at once; later ones counted, not kept"
                    ));
                }
                return None;
            }
            self.open.insert(id, Stream::default());
        }
        self.open.get_mut(&id)
    }

    /// A new exchange, kept when the stream cap and the facts budget allow; else given
    /// back to be held for the rules (counted, not listed).
    fn keep(
        &mut self,
        cx: &mut DecodeCtx,
        ex: HttpExchange,
        notes: &mut Notes,
    ) -> Result<usize, Box<HttpExchange>> {
        if !cx.budget.take_below(self.exchanges.len(), MAX_STREAMS) {
            self.not_kept += 1;
            if !self.budget_noted {
                self.budget_noted = true;
                notes.push(format!(
                    "h2: more than {MAX_STREAMS} streams, or the decoded-facts budget (--max-facts) spent; later exchanges counted, not kept"
                ));
            }
            cx.facts.hold();
            return Err(Box::new(ex));
        }
        self.exchanges.push(ex);
        Ok(self.exchanges.len() - 1)
    }

    /// Writes the exchanges not kept whose streams ended to the fact log, a batch at a
    /// time.
    fn write_ready(&mut self, cx: &mut DecodeCtx) {
        if self.ready.len() >= crate::protocols::overflow::BATCH {
            self.chain = cx
                .facts
                .write(self.chain, std::mem::take(&mut self.ready), Vec::new());
        }
    }

    /// A decoded header list of stream `id` from `dir`, whose HEADERS frame began at `at`.
    pub(super) fn headers(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        id: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        at: (FrameNo, Timestamp),
        notes: &mut Notes,
    ) {
        let request = dir == Dir::ToServer;
        if let Some(st) = self.stream(id, request, notes) {
            // A list after the request's, or after the final response: trailers.
            let trailers = st.answered || (request && (st.ex.is_some() || st.extra.is_some()));
            if !trailers && request {
                self.request(cx, id, fields, at, notes);
            } else if !trailers {
                self.response(cx, id, fields, at, notes);
            }
        }
        self.write_ready(cx);
    }

    /// The first header list of open stream `id` from the client: its exchange, kept
    /// or held.
    fn request(
        &mut self,
        cx: &mut DecodeCtx,
        id: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        at: (FrameNo, Timestamp),
        notes: &mut Notes,
    ) {
        let method = fields.first_text(":method");
        // Masked before the cut to its kept length, as the HTTP/1.x decoder does.
        let authority = fields.first_masked(":authority", |a| {
            // Never keep user information an authority might carry.
            let host = a.rsplit_once('@').map_or(a, |(_, host)| host);
            mask_target(host).into_owned()
        });
        let connect = is_connect(method.as_deref());
        let path = if connect {
            None
        } else {
            fields.all(":path").next().map(|p| cx.texts.target(p))
        };
        let start = RequestStart {
            method: method.as_deref(),
            target: if connect {
                authority.as_deref()
            } else {
                path.as_deref()
            },
            version: Some("2"),
            authority: authority.as_deref(),
            at,
        };
        let ex = HttpExchange::request(cx, start, fields);
        self.open_exchange(cx, id, ex, notes);
    }

    /// Makes `ex` the exchange of stream `id`: kept, or held when [`keep`](Self::keep)
    /// gives it back.
    fn open_exchange(&mut self, cx: &mut DecodeCtx, id: u32, ex: HttpExchange, notes: &mut Notes) {
        let kept = self.keep(cx, ex, notes);
        if let Some(st) = self.open.get_mut(&id) {
            match kept {
                Ok(i) => st.ex = Some(i),
                Err(ex) => st.extra = Some(ex),
            }
        }
    }

    /// A response's header list of stream `id`, which is open and not answered yet:
    /// a 1xx, or the final response filling its exchange.
    fn response(
        &mut self,
        cx: &mut DecodeCtx,
        id: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        at: (FrameNo, Timestamp),
        notes: &mut Notes,
    ) {
        let status = fields
            .first_text(":status")
            .and_then(|s| s.parse::<u16>().ok());
        let Some(status) = status else {
            notes.push(format!(
                "h2: response headers of stream {id} at frame {} without a valid :status",
                at.0
            ));
            return;
        };
        let unpaired = self
            .open
            .get(&id)
            .is_some_and(|st| st.ex.is_none() && st.extra.is_none());
        if unpaired && status >= 200 {
            // A response whose request was not seen: kept on its own, as the HTTP/1.x
            // decoder does.
            self.open_exchange(cx, id, HttpExchange::default(), notes);
        }
        let Some(st) = self.open.get_mut(&id) else {
            return;
        };
        let Some(ex) = exchange_of(&mut self.exchanges, st) else {
            return;
        };
        if (100..200).contains(&status) {
            ex.interim.push(status);
            return;
        }
        let error_body = ex.response(cx, status, Some("2"), at, fields);
        if let Some(st) = self.open.get_mut(&id) {
            st.answered = true;
            st.capture = error_body.then(Vec::new);
        }
    }

    /// Bytes of error bodies held while their streams are open.
    pub(super) fn held(&self) -> usize {
        self.open
            .values()
            .map(|s| s.capture.as_ref().map_or(0, Vec::len))
            .sum()
    }

    /// Gives up the error bodies held (a buffer cap was reached): their messages are
    /// not read.
    pub(super) fn shed_bodies(&mut self) {
        for s in self.open.values_mut() {
            s.capture = None;
        }
    }

    /// DATA of stream `id` from `dir`: the start of an error response's body is kept.
    pub(super) fn body(&mut self, dir: Dir, id: u32, bytes: &[u8]) {
        if dir != Dir::ToClient {
            return;
        }
        if let Some(cap) = self.open.get_mut(&id).and_then(|s| s.capture.as_mut()) {
            let room = MAX_ERROR_BODY.saturating_sub(cap.len());
            cap.extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
        }
    }

    /// `dir` ended stream `id` in `frame` (END_STREAM).
    pub(super) fn end(&mut self, dir: Dir, id: u32, frame: FrameNo) {
        let Some(st) = self.open.get_mut(&id) else {
            return;
        };
        if let Some(e) = st.ended.get_mut(dir.index()) {
            *e = true;
        }
        if dir == Dir::ToClient {
            let cap = st.capture.take();
            if let Some(ex) = exchange_of(&mut self.exchanges, st) {
                if ex.response_frame.is_some_and(|r| frame > r) {
                    ex.response_end_frame = Some(frame);
                }
                if let Some(cap) = cap {
                    ex.error_message = error_message(&cap);
                }
            }
        }
        if st.ended == [true, true]
            && let Some(st) = self.open.remove(&id)
        {
            self.ready.extend(st.extra.map(|b| *b));
        }
    }

    /// The exchanges kept, in the order their streams opened, and those not kept
    /// (where they are in the fact log, and those still held); error bodies cut short
    /// read.
    pub(super) fn finish(mut self) -> (Vec<HttpExchange>, Overflowed) {
        let mut open: Vec<(u32, Stream)> = self.open.drain().collect();
        open.sort_unstable_by_key(|(id, _)| *id);
        for (_, mut st) in open {
            let cap = st.capture.take();
            if let (Some(ex), Some(cap)) = (exchange_of(&mut self.exchanges, &mut st), cap) {
                ex.error_message = error_message(&cap);
            }
            self.ready.extend(st.extra.map(|b| *b));
        }
        let overflow = Overflowed {
            chains: self.chain.map(|p| (p, true)).into_iter().collect(),
            http: self.ready,
            dns: Vec::new(),
        };
        (self.exchanges, overflow)
    }
}
