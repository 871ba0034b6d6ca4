//! HTTP/2 (RFC 9113) read from decrypted TLS application data.
//!
//! Fed by the TLS decryptor with the plaintext of each direction, in order, each chunk
//! tagged with the frame of the record that carried it. Reads the client's connection
//! preface, then frames: SETTINGS, HEADERS and CONTINUATION (padding and priority
//! fields skipped), PUSH_PROMISE (its header block decoded to keep the header table in
//! step, its content ignored), DATA (lengths; the first bytes of an error response's
//! body), RST_STREAM and GOAWAY (their error codes, in the notes). Header blocks are
//! decoded with `loona-hpack`; each stream becomes one [`HttpExchange`] like the
//! HTTP/1.x decoder's (see `exchange`).
//!
//! Bounded: a frame is held whole only up to [`MAX_FRAME`] bytes (larger DATA frames
//! are read as they come, others are skipped), a header block up to
//! [`MAX_HEADER_BLOCK`], a header table up to [`MAX_TABLE`], a decoded header list up
//! to [`MAX_HEADER_LIST`], [`MAX_STREAMS`] exchanges per connection of which
//! [`MAX_OPEN_STREAMS`] open at once (each may hold 4 KiB of an error body). Total: bytes
//! that are not HTTP/2 give a note, never a panic. Header compression has state: once
//! a header block of one direction is lost (a record missing, a block that does not
//! decode, a block over the cap), that direction's later headers are not decoded and
//! the flow says so, rather than guessed.

mod exchange;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::http::HttpExchange;
use crate::protocols::{DecodeCtx, Notes};
use exchange::Streams;

/// What a client sends first on an HTTP/2 connection (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Frame payloads held whole up to this size (a peer's default maximum is 16 KiB).
pub const MAX_FRAME: usize = 1 << 16;
/// Bytes of one header block (HEADERS and its CONTINUATIONs) held at most.
pub const MAX_HEADER_BLOCK: usize = 1 << 16;
/// Header table size (RFC 7541 §4.2) followed at most, per direction.
pub const MAX_TABLE: usize = 1 << 16;
/// Decoded header list kept per block (names and values plus 32 bytes each, as
/// SETTINGS_MAX_HEADER_LIST_SIZE counts); later fields are decoded, not kept.
pub const MAX_HEADER_LIST: usize = 1 << 16;
/// Exchanges kept per connection (as HTTP/1.x keeps per flow); later ones are counted.
pub const MAX_STREAMS: usize = 10_000;
/// Streams followed at once (request sent, not both sides ended); later ones are
/// counted.
pub const MAX_OPEN_STREAMS: usize = 1_000;

const FRAME_HEADER: usize = 9;
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PUSH_PROMISE: u8 = 5;
const GOAWAY: u8 = 7;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// The header of one frame.
#[derive(Clone, Copy, Debug)]
struct Head {
    len: usize,
    ty: u8,
    flags: u8,
    stream: u32,
    at: (FrameNo, Timestamp),
}

/// Where the reader of one direction is.
#[derive(Clone, Debug)]
enum Read {
    /// Bytes of the client's preface matched so far.
    Preface(usize),
    /// Reading a frame header into the buffer.
    Header,
    /// Reading a frame's payload into the buffer.
    Payload(Head),
    /// Reading a DATA frame as it comes.
    Data(DataRead),
    /// Skipping this many payload bytes.
    Skip(usize),
    /// Nothing more is read from this direction.
    Stopped,
}

/// A DATA frame being read: its pad length byte, data bytes, then padding.
#[derive(Clone, Copy, Debug)]
struct DataRead {
    head: Head,
    /// The pad length byte is still to come.
    pad_byte: bool,
    /// Payload bytes still to come, padding included.
    left: usize,
    /// Of which padding.
    pad: usize,
}

/// A header block being assembled from HEADERS (or PUSH_PROMISE) and CONTINUATION.
#[derive(Clone, Debug)]
struct Block {
    stream: u32,
    bytes: Vec<u8>,
    end_stream: bool,
    promise: bool,
    at: (FrameNo, Timestamp),
}

/// One direction of the connection.
struct Side {
    read: Read,
    buf: Vec<u8>,
    hpack: loona_hpack::Decoder<'static>,
    block: Option<Block>,
    /// The header table is no longer known: headers are not decoded any more.
    headers_lost: bool,
    /// Where the frame being read began.
    at: (FrameNo, Timestamp),
}

impl Side {
    fn new(dir: Dir) -> Self {
        let mut hpack = loona_hpack::Decoder::new();
        // Size updates above the cap are refused by the decoder. A table kept larger
        // than the encoder's decodes the same fields (indices count from the newest
        // entry), so it starts at the cap.
        hpack.set_max_allowed_table_size(MAX_TABLE);
        hpack.set_max_table_size(MAX_TABLE);
        Side {
            read: match dir {
                Dir::ToServer => Read::Preface(0),
                Dir::ToClient => Read::Header,
            },
            buf: Vec::new(),
            hpack,
            block: None,
            headers_lost: false,
            at: (FrameNo(0), Timestamp(0)),
        }
    }
}

impl Clone for Side {
    /// A clone starts over with an empty header table: decoders are cloned before
    /// any data only.
    fn clone(&self) -> Self {
        let mut s = Side::new(Dir::ToClient);
        s.read = self.read.clone();
        s.buf = self.buf.clone();
        s.block = self.block.clone();
        s.headers_lost = self.headers_lost;
        s.at = self.at;
        s
    }
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side")
            .field("read", &self.read)
            .field("held", &self.buf.len())
            .field("headers_lost", &self.headers_lost)
            .finish_non_exhaustive()
    }
}

/// HTTP/2 decoder of one decrypted connection.
#[derive(Clone, Debug)]
pub struct H2Decoder {
    sides: [Side; 2],
    streams: Streams,
    notes: Notes,
}

impl Default for H2Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Name of an HTTP/2 error code (RFC 9113 §7).
pub fn error_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => return format!("error 0x{code:x}"),
    };
    name.to_string()
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

impl H2Decoder {
    pub fn new() -> Self {
        H2Decoder {
            sides: [Side::new(Dir::ToServer), Side::new(Dir::ToClient)],
            streams: Streams::default(),
            notes: Notes::default(),
        }
    }

    /// False once nothing more is read from `dir`.
    pub fn wants_data(&self, dir: Dir) -> bool {
        self.sides
            .get(dir.index())
            .is_some_and(|s| !matches!(s.read, Read::Stopped))
    }

    /// Bytes held for `dir`: an incomplete frame and header block, and from the server
    /// the start of the error bodies of open streams.
    pub fn held(&self, dir: Dir) -> usize {
        let own = self.sides.get(dir.index()).map_or(0, |s| {
            s.buf.len() + s.block.as_ref().map_or(0, |b| b.bytes.len())
        });
        own + if dir == Dir::ToClient {
            self.streams.held()
        } else {
            0
        }
    }

    /// Gives up what is held for `dir` (a buffer cap was reached), with a note, and
    /// stops reading that direction; false when nothing was held.
    pub fn shed(&mut self, dir: Dir) -> bool {
        let len = self.held(dir);
        if len == 0 {
            return false;
        }
        if dir == Dir::ToClient {
            self.streams.shed_bodies();
        }
        if let Some(side) = self.sides.get_mut(dir.index()) {
            side.read = Read::Stopped;
            side.buf = Vec::new();
            side.block = None;
            side.headers_lost = true;
        }
        self.notes.push(format!(
            "h2: {len} bytes held for the {} given up: buffer cap (--stream-buffer/--total-buffer) reached; its later HTTP/2 frames are not decoded",
            dir.sender()
        ));
        true
    }

    /// `dir`'s plaintext was lost from here on (a record in a gap, a record that did
    /// not decrypt): its header table is no longer known.
    pub fn on_gap(&mut self, dir: Dir) {
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if matches!(side.read, Read::Stopped) {
            return;
        }
        side.read = Read::Stopped;
        side.buf = Vec::new();
        side.block = None;
        if !side.headers_lost {
            side.headers_lost = true;
            self.notes.push(format!(
                "h2: the {}'s data was lost, and with it the state of its header compression: its later HTTP/2 headers are not decoded",
                dir.sender()
            ));
        }
    }

    /// One in-order chunk of `dir`'s plaintext, all from the record in `frame`.
    pub fn on_data(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        data: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        let mut input = data;
        while !input.is_empty() {
            let took = self.step(cx, dir, input, (frame, ts));
            if took == 0 {
                return;
            }
            input = input.get(took..).unwrap_or_default();
        }
    }

    /// Reads from the start of `input` in the direction's state; the bytes taken
    /// (0: nothing more is read).
    fn step(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        input: &[u8],
        at: (FrameNo, Timestamp),
    ) -> usize {
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return 0;
        };
        match &mut side.read {
            Read::Stopped => 0,
            Read::Preface(n) => {
                let want = PREFACE.get(*n..).unwrap_or_default();
                let take = want.len().min(input.len());
                if want.get(..take) != input.get(..take) {
                    side.read = Read::Stopped;
                    self.notes.push(format!(
                        "h2: the client's data at frame {} is not the HTTP/2 connection preface; not decoded",
                        at.0
                    ));
                    return 0;
                }
                *n += take;
                if *n == PREFACE.len() {
                    side.read = Read::Header;
                }
                take
            }
            Read::Skip(left) => {
                let take = (*left).min(input.len());
                *left -= take;
                if *left == 0 {
                    side.read = Read::Header;
                }
                take
            }
            Read::Data(_) => self.data_bytes(dir, input, at),
            Read::Header => {
                if side.buf.is_empty() {
                    side.at = at;
                }
                let take = FRAME_HEADER.saturating_sub(side.buf.len()).min(input.len());
                side.buf
                    .extend_from_slice(input.get(..take).unwrap_or_default());
                if side.buf.len() >= FRAME_HEADER {
                    let b = std::mem::take(&mut side.buf);
                    let head = Head {
                        len: b.iter().take(3).fold(0, |n, &x| n << 8 | usize::from(x)),
                        ty: b.get(3).copied().unwrap_or(0),
                        flags: b.get(4).copied().unwrap_or(0),
                        stream: be32(&b, 5).unwrap_or(0) & 0x7fff_ffff,
                        at: side.at,
                    };
                    self.on_frame_header(cx, dir, head);
                }
                take
            }
            Read::Payload(head) => {
                let head = *head;
                let take = head.len.saturating_sub(side.buf.len()).min(input.len());
                side.buf
                    .extend_from_slice(input.get(..take).unwrap_or_default());
                if side.buf.len() >= head.len {
                    let payload = std::mem::take(&mut side.buf);
                    side.read = Read::Header;
                    self.on_frame(cx, dir, head, &payload);
                }
                take
            }
        }
    }

    /// A frame header was read: decides how its payload is read.
    fn on_frame_header(&mut self, cx: &mut DecodeCtx, dir: Dir, head: Head) {
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if side.block.is_some() && head.ty != CONTINUATION {
            // RFC 9113 §6.10: nothing may come between a header block's frames.
            side.block = None;
            self.lose_headers(
                dir,
                &format!(
                    "a {} frame at frame {} interrupts a header block",
                    frame_name(head.ty),
                    head.at.0
                ),
            );
        }
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if head.ty == DATA {
            side.read = Read::Data(DataRead {
                head,
                pad_byte: head.flags & PADDED != 0,
                left: head.len,
                pad: 0,
            });
            if head.len == 0 {
                side.read = Read::Header;
                self.data_end_at(dir, head, head.at);
            }
            return;
        }
        if head.len > MAX_FRAME {
            side.read = Read::Skip(head.len);
            if matches!(head.ty, HEADERS | CONTINUATION | PUSH_PROMISE) {
                side.block = None;
                self.lose_headers(
                    dir,
                    &format!(
                        "a {} frame of {} bytes at frame {} is over the {MAX_FRAME}-byte cap",
                        frame_name(head.ty),
                        head.len,
                        head.at.0
                    ),
                );
            }
            return;
        }
        side.read = Read::Payload(head);
        if head.len == 0 {
            side.read = Read::Header;
            self.on_frame(cx, dir, head, &[]);
        }
    }

    /// Bytes of a DATA frame; the bytes taken.
    fn data_bytes(&mut self, dir: Dir, input: &[u8], at: (FrameNo, Timestamp)) -> usize {
        let Some(Read::Data(r)) = self.sides.get_mut(dir.index()).map(|s| &mut s.read) else {
            return 0;
        };
        let mut took = 0;
        if r.pad_byte {
            let Some(&pad) = input.first() else {
                return 0;
            };
            r.pad_byte = false;
            r.left = r.left.saturating_sub(1);
            took = 1;
            if usize::from(pad) > r.left {
                let frame = r.head.at.0;
                if let Some(s) = self.sides.get_mut(dir.index()) {
                    s.read = Read::Stopped;
                }
                self.notes.push(format!(
                    "h2: a DATA frame at frame {frame} has more padding than payload; stopped reading the {}'s HTTP/2 frames",
                    dir.sender()
                ));
                return took;
            }
            r.pad = usize::from(pad);
        }
        let rest = input.get(took..).unwrap_or_default();
        let take = r.left.min(rest.len());
        let data_len = r.left.saturating_sub(r.pad).min(take);
        r.left -= take;
        let (head, done) = (r.head, r.left == 0);
        if let Some(bytes) = rest.get(..data_len) {
            self.streams.body(dir, head.stream, bytes);
        }
        if done {
            if let Some(s) = self.sides.get_mut(dir.index()) {
                s.read = Read::Header;
            }
            self.data_end_at(dir, head, at);
        }
        took + take
    }

    /// The end of a DATA frame, which may end its stream.
    fn data_end_at(&mut self, dir: Dir, head: Head, at: (FrameNo, Timestamp)) {
        if head.flags & END_STREAM != 0 {
            self.streams.end(dir, head.stream, at.0);
        }
    }

    /// A whole frame other than DATA.
    fn on_frame(&mut self, cx: &mut DecodeCtx, dir: Dir, head: Head, p: &[u8]) {
        let frame = head.at.0;
        match head.ty {
            HEADERS | PUSH_PROMISE => {
                let padded = head.flags & PADDED != 0;
                let pad = if padded {
                    usize::from(p.first().copied().unwrap_or(0))
                } else {
                    0
                };
                let mut start = usize::from(padded);
                if head.ty == HEADERS && head.flags & PRIORITY != 0 {
                    start += 5;
                }
                if head.ty == PUSH_PROMISE {
                    start += 4;
                }
                let end = p.len().checked_sub(pad);
                let Some(fragment) = end.and_then(|e| p.get(start..e)) else {
                    self.lose_headers(
                        dir,
                        &format!(
                            "the {} frame at frame {frame} is shorter than its padding and fields",
                            frame_name(head.ty)
                        ),
                    );
                    return;
                };
                let block = Block {
                    stream: head.stream,
                    bytes: fragment.to_vec(),
                    end_stream: head.ty == HEADERS && head.flags & END_STREAM != 0,
                    promise: head.ty == PUSH_PROMISE,
                    at: head.at,
                };
                self.block_part(cx, dir, block, head.flags & END_HEADERS != 0);
            }
            CONTINUATION => {
                let Some(mut block) = self.sides.get_mut(dir.index()).and_then(|s| s.block.take())
                else {
                    self.lose_headers(
                        dir,
                        &format!("a CONTINUATION frame at frame {frame} follows no header block"),
                    );
                    return;
                };
                if block.stream != head.stream {
                    self.lose_headers(
                        dir,
                        &format!("the CONTINUATION frame at frame {frame} is for another stream"),
                    );
                    return;
                }
                block.bytes.extend_from_slice(p);
                self.block_part(cx, dir, block, head.flags & END_HEADERS != 0);
            }
            SETTINGS if head.flags & ACK == 0 => {
                if !p.len().is_multiple_of(6) {
                    self.notes.push(format!(
                        "h2: the SETTINGS frame at frame {frame} is {} bytes, not a multiple of 6",
                        p.len()
                    ));
                }
                for s in p.chunks_exact(6) {
                    let value = be32(s, 2).unwrap_or(0);
                    // SETTINGS_HEADER_TABLE_SIZE: what the peer's encoder may use.
                    if s.get(..2) == Some(&[0, 1]) && value as usize > MAX_TABLE {
                        self.notes.push(format!(
                            "h2: the {} allows a header table of {value} bytes, over the {MAX_TABLE}-byte one followed: the {}'s headers may not all decode",
                            dir.sender(),
                            dir.flip().sender()
                        ));
                    }
                }
            }
            RST_STREAM => {
                let code = be32(p, 0).unwrap_or(0);
                if self.streams.open_without_answer(head.stream) {
                    self.notes.push(format!(
                        "h2: stream {} reset by the {} at frame {frame} before its response: {}",
                        head.stream,
                        dir.sender(),
                        error_name(code)
                    ));
                }
            }
            GOAWAY => {
                let last = be32(p, 0).unwrap_or(0) & 0x7fff_ffff;
                let code = be32(p, 4).unwrap_or(0);
                if code != 0 {
                    self.notes.push(format!(
                        "h2: the {} closed the connection at frame {frame} (GOAWAY, last stream {last}): {}",
                        dir.sender(),
                        error_name(code)
                    ));
                }
            }
            _ => {}
        }
    }

    /// A part of a header block; the block is decoded once its END_HEADERS came.
    fn block_part(&mut self, cx: &mut DecodeCtx, dir: Dir, block: Block, end: bool) {
        if block.bytes.len() > MAX_HEADER_BLOCK {
            let frame = block.at.0;
            self.lose_headers(
                dir,
                &format!(
                    "the header block from frame {frame} is over the {MAX_HEADER_BLOCK}-byte cap"
                ),
            );
            return;
        }
        if !end {
            if let Some(s) = self.sides.get_mut(dir.index()) {
                s.block = Some(block);
            }
            return;
        }
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if side.headers_lost {
            // The table is unknown: what the block says cannot be read. Its stream
            // still ends.
            if block.end_stream {
                self.streams.end(dir, block.stream, block.at.0);
            }
            return;
        }
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut size = 0usize;
        let mut over = false;
        let decoded = side.hpack.decode_with_cb(&block.bytes, |name, value| {
            size = size.saturating_add(name.len() + value.len() + 32);
            if size > MAX_HEADER_LIST {
                over = true;
            } else {
                fields.push((name.into_owned(), value.into_owned()));
            }
        });
        let frame = block.at.0;
        if let Err(e) = decoded {
            self.lose_headers(
                dir,
                &format!("the header block at frame {frame} does not decode ({e})"),
            );
            return;
        }
        if over {
            self.notes.push(format!(
                "h2: the header list at frame {frame} is over {MAX_HEADER_LIST} bytes; the rest not kept"
            ));
        }
        if block.promise {
            return;
        }
        let mut notes = std::mem::take(&mut self.notes);
        self.streams
            .headers(cx, dir, block.stream, &fields, block.at, &mut notes);
        self.notes = notes;
        if block.end_stream {
            self.streams.end(dir, block.stream, block.at.0);
        }
    }

    /// The header table of `dir` is no longer known (`why`): its later headers are
    /// not decoded.
    fn lose_headers(&mut self, dir: Dir, why: &str) {
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        side.block = None;
        if side.headers_lost {
            return;
        }
        side.headers_lost = true;
        self.notes.push(format!(
            "h2: {why}; the {}'s later HTTP/2 headers are not decoded (header compression state lost)",
            dir.sender()
        ));
    }

    /// Streams counted but not kept (the facts budget was spent, or the stream cap).
    pub fn facts_not_kept(&self) -> u64 {
        self.streams.not_kept
    }

    /// The exchanges, one per stream in the order the streams opened, and the notes.
    pub fn finish(self) -> (Vec<HttpExchange>, Notes) {
        let (exchanges, notes, _) = self.finish_all();
        (exchanges, notes)
    }

    /// [`finish`](Self::finish), and the exchanges not kept (facts budget, streams per
    /// connection): where they are in the fact log, and those still held.
    pub fn finish_all(
        self,
    ) -> (
        Vec<HttpExchange>,
        Notes,
        crate::protocols::overflow::Overflowed,
    ) {
        let (exchanges, overflow) = self.streams.finish();
        (exchanges, self.notes, overflow)
    }
}

/// A frame type's name, for notes.
fn frame_name(ty: u8) -> &'static str {
    match ty {
        DATA => "DATA",
        HEADERS => "HEADERS",
        2 => "PRIORITY",
        RST_STREAM => "RST_STREAM",
        SETTINGS => "SETTINGS",
        PUSH_PROMISE => "PUSH_PROMISE",
        6 => "PING",
        GOAWAY => "GOAWAY",
        8 => "WINDOW_UPDATE",
        CONTINUATION => "CONTINUATION",
        _ => "unknown",
    }
}
