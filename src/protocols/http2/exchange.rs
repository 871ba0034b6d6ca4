//! From HTTP/2 header lists to exchanges: one [`HttpExchange`] per stream, with the
//! same facts the HTTP/1.x decoder keeps (pseudo-headers for the request and status
//! line; secrets masked or dropped the same way), and the start of an error
//! response's body for its JSON message.

use super::{MAX_OPEN_STREAMS, MAX_STREAMS};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::http::{
    AuthHeader, HttpExchange, error_message, header_text, header_text_masked, parse_challenges,
    parse_credentials,
};
use crate::protocols::overflow::Overflowed;
use crate::protocols::secrets::{mask_header_text, mask_key, mask_target};
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

/// The first field named `name` (lower case, as HTTP/2 sends names), as text.
fn first(fields: &[(Vec<u8>, Vec<u8>)], name: &str) -> Option<String> {
    all(fields, name).next().map(header_text)
}

/// [`first`] with `mask` applied before the value is cut, as the HTTP/1.x decoder does.
fn first_masked(
    fields: &[(Vec<u8>, Vec<u8>)],
    name: &str,
    mask: impl Fn(&str) -> String,
) -> Option<String> {
    all(fields, name)
        .next()
        .map(|v| header_text_masked(v, mask))
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

fn all<'a>(fields: &'a [(Vec<u8>, Vec<u8>)], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    fields
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
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
        match dir {
            Dir::ToServer => self.request(cx, id, fields, at, notes),
            Dir::ToClient => self.response(cx, id, fields, at, notes),
        }
        self.write_ready(cx);
    }

    fn request(
        &mut self,
        cx: &mut DecodeCtx,
        id: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        at: (FrameNo, Timestamp),
        notes: &mut Notes,
    ) {
        let Some(st) = self.stream(id, true, notes) else {
            return;
        };
        if st.ex.is_some() || st.extra.is_some() || st.answered {
            // Trailers.
            return;
        }
        let method = first(fields, ":method");
        let authority = first(fields, ":authority").map(|a| match a.rsplit_once('@') {
            // Never keep user information an authority might carry.
            Some((_, host)) => host.to_string(),
            None => a,
        });
        let connect = method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"));
        let target = if connect {
            authority.clone()
        } else {
            first(fields, ":path")
        };
        let mut intern = |s: &str| cx.intern.text(s);
        let mut ex = HttpExchange {
            method: method.as_deref().map(&mut intern),
            target: target.as_deref().map(|t| intern(&mask_target(t))),
            version: Some(intern("2")),
            host: authority
                .or_else(|| first(fields, "host"))
                .map(|h| intern(&mask_target(&h))),
            user_agent: first_masked(fields, "user-agent", mask_header_text).map(|u| intern(&u)),
            request_frame: Some(at.0),
            request_ts: Some(at.1),
            has_cookie: all(fields, "cookie").next().is_some(),
            ..Default::default()
        };
        for (name, header) in [
            ("proxy-authorization", AuthHeader::ProxyAuthorization),
            ("authorization", AuthHeader::Authorization),
        ] {
            for v in all(fields, name) {
                let mut c = parse_credentials(header, &header_text(v));
                c.scheme = cx.intern.text(&c.scheme);
                ex.credentials.push(c);
            }
        }
        ex.api_key = all(fields, "x-api-key")
            .chain(all(fields, "api-key"))
            .next()
            .map(|v| mask_key(&String::from_utf8_lossy(v)));
        ex.via
            .extend(all(fields, "via").map(|v| header_text_masked(v, mask_header_text)));
        let kept = self.keep(cx, ex, notes);
        if let Some(st) = self.open.get_mut(&id) {
            match kept {
                Ok(i) => st.ex = Some(i),
                Err(ex) => st.extra = Some(ex),
            }
        }
    }

    fn response(
        &mut self,
        cx: &mut DecodeCtx,
        id: u32,
        fields: &[(Vec<u8>, Vec<u8>)],
        at: (FrameNo, Timestamp),
        notes: &mut Notes,
    ) {
        let Some(st) = self.stream(id, false, notes) else {
            return;
        };
        if st.answered {
            // Trailers.
            return;
        }
        let status = first(fields, ":status").and_then(|s| s.parse::<u16>().ok());
        let Some(status) = status else {
            notes.push(format!(
                "h2: response headers of stream {id} at frame {} without a valid :status",
                at.0
            ));
            return;
        };
        if st.ex.is_none() && st.extra.is_none() && status >= 200 {
            // A response whose request was not seen: kept on its own, as the HTTP/1.x
            // decoder does.
            let kept = self.keep(cx, HttpExchange::default(), notes);
            if let Some(st) = self.open.get_mut(&id) {
                match kept {
                    Ok(i) => st.ex = Some(i),
                    Err(ex) => st.extra = Some(ex),
                }
            }
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
        ex.status = Some(status);
        ex.response_version = Some(cx.intern.text("2"));
        ex.response_frame = Some(at.0);
        ex.response_time = ex.request_ts.map(|r| at.1.secs_since(r));
        for (name, header) in [
            ("proxy-authenticate", AuthHeader::ProxyAuthenticate),
            ("www-authenticate", AuthHeader::WwwAuthenticate),
        ] {
            for v in all(fields, name) {
                let mut cs = parse_challenges(header, &header_text(v));
                for c in &mut cs {
                    c.scheme = cx.intern.text(&c.scheme);
                }
                ex.challenges.extend(cs);
            }
        }
        ex.retry_after = first_masked(fields, "retry-after", mask_header_text);
        ex.via
            .extend(all(fields, "via").map(|v| header_text_masked(v, mask_header_text)));
        ex.server = first_masked(fields, "server", mask_header_text).map(|s| cx.intern.text(&s));
        ex.x_squid_error = first_masked(fields, "x-squid-error", mask_header_text);
        ex.content_type = first(fields, "content-type")
            .as_deref()
            .map(|s| cx.intern.text(s));
        ex.content_length = first(fields, "content-length").and_then(|s| s.parse().ok());
        let encoded =
            first(fields, "content-encoding").is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
        if let Some(st) = self.open.get_mut(&id) {
            st.answered = true;
            st.capture = (status >= 400 && !encoded).then(Vec::new);
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
    pub(super) fn body(&mut self, dir: Dir, id: u32, bytes: &[u8], _at: (FrameNo, Timestamp)) {
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
