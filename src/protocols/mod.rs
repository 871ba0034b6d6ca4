//! Application-protocol decoders fed by TCP reassembly (and UDP datagrams for DNS).
//!
//! Sits between `decode::tcp` (which delivers ordered bytes per direction, each chunk
//! tagged with the frame it came from) and `analyze` (which turns facts into findings).
//! Decoders state facts only; they never decide what is wrong.
//!
//! Contract with reassembly, per TCP connection:
//! - [`DecoderFactory::stream`]`(client_port, server_port)` when the connection is
//!   created;
//! - `on_data(cx, dir, bytes, frame, ts)` for each in-order chunk (a chunk never spans
//!   frames);
//! - `on_gap(cx, dir, len)` where bytes were lost (the stream continues after the hole);
//! - `wants_data()` lets reassembly stop buffering once nothing more will be decoded
//!   (e.g. TLS application data after a completed handshake);
//! - `finish()` once, at the end, yields the flow's `AppFacts`.
//!
//! `cx` is the analysis's [`DecodeCtx`]: the facts budget, the shared copies of
//! repeated strings and certificates, and the decoder options. Decoders keep no other
//! shared state.
//!
//! The protocol is recognised by content, not port: HTTP/1.x by its start line, TLS
//! by its record header, DNS over TCP (port 53 only) by its length prefix. After a
//! 2xx answer to CONNECT the tunnel's bytes go to a nested decoder (normally TLS).
//! UDP DNS does not come through here: see [`dns::DnsTracker`].

pub mod budget;
pub mod context;
pub mod dns;
pub mod http;
pub mod http2;
pub mod intern;
pub mod keylog;
pub mod notes;
pub mod ntlm;
pub mod overflow;
pub mod secrets;
pub mod socks;
pub(crate) mod stored;
mod stream_buf;
pub mod tls;
pub mod x509;

pub use context::{DecodeCtx, DecodeOptions, DecoderFactory};
pub use notes::Notes;
pub use secrets::mask_key;

use crate::model::{Dir, FrameNo, Timestamp};

/// Which application protocol a connection carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AppProtocol {
    /// Not (yet) recognised: no payload, or too little to tell.
    #[default]
    Unknown,
    Http,
    Tls,
    Dns,
    Socks,
    /// Payload that is none of the above.
    Other,
}

/// Facts decoded from one TCP connection's payload.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct AppFacts {
    pub protocol: AppProtocol,
    /// HTTP exchanges in request order (including the CONNECT that opened a tunnel).
    #[serde(with = "stored::exchanges")]
    pub http: Vec<http::HttpExchange>,
    /// TLS handshake facts (of the connection itself, or of its CONNECT tunnel).
    pub tls: Option<Box<tls::TlsFacts>>,
    /// DNS over TCP (UDP DNS comes from [`dns::DnsTracker`] instead).
    pub dns: Vec<dns::DnsTransaction>,
    /// SOCKS handshake, when the connection went through a SOCKS proxy.
    pub socks: Option<Box<socks::SocksFacts>>,
    /// The TLS facts came from inside an HTTP CONNECT or SOCKS tunnel.
    pub tls_in_tunnel: bool,
    /// Decode problems (malformed or truncated messages), in order seen: the first
    /// [`notes::MAX_NOTES`] distinct ones, a repeated one once with `(N times)`.
    pub notes: Vec<String>,
    /// Decode notes past the first [`notes::MAX_NOTES`] distinct ones: counted, not kept.
    pub notes_omitted: u64,
    /// HTTP exchanges and DNS transactions past `--max-facts` or the per-flow bounds:
    /// not listed, but read back for the rules.
    pub overflow: overflow::Overflowed,
}

/// Nesting limit for tunnels inside tunnels (CONNECT through CONNECT).
const MAX_TUNNEL_DEPTH: u8 = 2;
/// Bytes kept while the protocol is not yet recognisable.
const SNIFF_BYTES: usize = 8;
/// Empty-line bytes (CR, LF) skipped before a message when sniffing; more is not
/// a robustness allowance any more but another protocol.
const MAX_LEADING_BLANK: usize = 8;

#[derive(Clone, Debug)]
enum Mode {
    Sniff,
    Http(Box<http::HttpDecoder>),
    Tls(Box<tls::TlsDecoder>),
    Socks(Box<socks::SocksDecoder>),
    Dns(Box<dns::DnsTcp>),
    Other,
}

impl AppFacts {
    /// Gives back spare capacity: finished flows are kept for the report, and a Vec
    /// grown by pushes holds up to twice (at first four times) what it needs.
    pub fn shrink(&mut self) {
        self.http.shrink_to_fit();
        self.dns.shrink_to_fit();
        self.notes.shrink_to_fit();
        if let Some(t) = self.tls.as_mut() {
            t.alerts.shrink_to_fit();
            t.certificates.shrink_to_fit();
            t.client_certificates.shrink_to_fit();
            t.alpn.shrink_to_fit();
            t.supported_versions.shrink_to_fit();
        }
        for h in &mut self.http {
            h.challenges.shrink_to_fit();
            h.credentials.shrink_to_fit();
        }
    }
}

/// Per-connection decoder: recognises the protocol by content and dispatches.
#[derive(Clone, Debug)]
pub struct StreamDecoder {
    client_port: u16,
    server_port: u16,
    depth: u8,
    mode: Mode,
    /// First bytes per direction while sniffing (too short to tell).
    sniff: [Vec<(Vec<u8>, FrameNo, Timestamp)>; 2],
    /// Decoder of a CONNECT tunnel's bytes.
    tunnel: Option<Box<StreamDecoder>>,
    notes: Notes,
}

impl StreamDecoder {
    /// Built by a [`DecoderFactory`].
    pub(crate) fn new(client_port: u16, server_port: u16) -> Self {
        StreamDecoder {
            client_port,
            server_port,
            depth: 0,
            mode: Mode::Sniff,
            sniff: [Vec::new(), Vec::new()],
            tunnel: None,
            notes: Notes::default(),
        }
    }

    /// One in-order chunk of the bytes `dir`'s sender sent, all from `frame`.
    pub fn on_data(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        data: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        if data.is_empty() {
            return;
        }
        if let Some(t) = self.tunnel.as_mut() {
            t.on_data(cx, dir, data, frame, ts);
            return;
        }
        match &mut self.mode {
            Mode::Sniff => self.sniff_data(cx, dir, data, frame, ts),
            Mode::Http(h) => {
                h.on_data(cx, dir, data, frame, ts);
                self.check_tunnel(cx);
            }
            Mode::Tls(t) => t.on_data(cx, dir, data, frame, ts),
            Mode::Socks(s) => {
                s.on_data(dir, data, frame, ts);
                self.check_tunnel(cx);
            }
            Mode::Dns(d) => d.on_data(cx, dir, data, frame, ts),
            Mode::Other => {}
        }
    }

    /// `len` bytes from `dir`'s sender were lost; the stream goes on after them.
    // The context is part of the contract even though no decoder needs it for a gap yet.
    #[allow(clippy::only_used_in_recursion)]
    pub fn on_gap(&mut self, cx: &mut DecodeCtx, dir: Dir, len: u64) {
        if let Some(t) = self.tunnel.as_mut() {
            t.on_gap(cx, dir, len);
            return;
        }
        match &mut self.mode {
            Mode::Sniff => {
                self.notes.push(format!(
                    "{len} bytes missing from the {} before the protocol was recognised",
                    dir.sender()
                ));
                self.mode = Mode::Other;
            }
            Mode::Http(h) => h.on_gap(dir, len),
            Mode::Tls(t) => t.on_gap(dir, len),
            Mode::Socks(_) => self.mode = Mode::Other,
            Mode::Dns(d) => d.on_gap(dir),
            Mode::Other => {}
        }
    }

    /// `len` bytes from `dir`'s sender were cut by the capture's snap length at the
    /// end of the segment in `at`: the decoders read what bytes there are and, where
    /// the lengths they know say where the next message starts, go on after the cut.
    pub fn on_cut(&mut self, cx: &mut DecodeCtx, dir: Dir, len: u64, at: (FrameNo, Timestamp)) {
        if let Some(t) = self.tunnel.as_mut() {
            t.on_cut(cx, dir, len, at);
            return;
        }
        match &mut self.mode {
            Mode::Http(h) => {
                h.on_cut(cx, dir, len, at);
                self.check_tunnel(cx);
            }
            Mode::Tls(t) => t.on_cut(cx, dir, len, at),
            _ => self.on_gap(cx, dir, len),
        }
    }

    /// False once nothing more will be learned from further bytes in `dir`.
    pub fn wants_data(&self, dir: Dir) -> bool {
        if let Some(t) = &self.tunnel {
            return t.wants_data(dir);
        }
        match &self.mode {
            Mode::Sniff => true,
            Mode::Http(h) => h.wants_data(dir) || h.tunnel_open(),
            Mode::Tls(t) => t.wants_data(dir),
            Mode::Socks(s) => s.wants_data() || s.tunnel_open(),
            Mode::Dns(d) => d.wants_data(dir),
            Mode::Other => false,
        }
    }

    /// Bytes at the start of `dir`'s next data the decoders pass over in advance (the
    /// body of a TLS record whose header alone is read): the caller drops them instead
    /// of feeding them, or hands back what it did not drop with
    /// [`unskip`](Self::unskip) before any other call about `dir` (a gap, a cut, a
    /// shed). Until then [`wants_data`](Self::wants_data) and [`held`](Self::held)
    /// stay as they are.
    pub fn skip_ahead(&mut self, cx: &DecodeCtx, dir: Dir) -> u64 {
        if let Some(t) = self.tunnel.as_mut() {
            return t.skip_ahead(cx, dir);
        }
        match &mut self.mode {
            Mode::Tls(t) => t.skip_ahead(cx, dir),
            _ => 0,
        }
    }

    /// `n` bytes of [`skip_ahead`](Self::skip_ahead) were not dropped: they are still
    /// to come.
    pub fn unskip(&mut self, dir: Dir, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(t) = self.tunnel.as_mut() {
            return t.unskip(dir, n);
        }
        if let Mode::Tls(t) = &mut self.mode {
            t.unskip(dir, n);
        }
    }

    /// Bytes the decoders hold for `dir` while a message is incomplete (a TLS record,
    /// an HTTP head, a DNS or SOCKS message, the first bytes while sniffing), its
    /// tunnel's included: charged to the same buffer caps as reassembly's bytes.
    pub fn held(&self, dir: Dir) -> usize {
        let sniff = self
            .sniff
            .get(dir.index())
            .map_or(0, |k| k.iter().map(|c| c.0.len()).sum());
        let own = match &self.mode {
            Mode::Http(h) => h.held(dir),
            Mode::Tls(t) => t.held(dir),
            Mode::Socks(s) => s.held(dir),
            Mode::Dns(d) => d.held(dir),
            Mode::Sniff | Mode::Other => 0,
        };
        sniff + own + self.tunnel.as_ref().map_or(0, |t| t.held(dir))
    }

    /// True when feeding bytes in any direction now leaves what the decoders hold
    /// ([`held`](Self::held)) as it is: a tunnel's TLS past its handshake whose
    /// records are only walked, or payload no decoder reads.
    pub fn holds_steady(&self, cx: &DecodeCtx) -> bool {
        if let Some(t) = &self.tunnel {
            return t.holds_steady(cx);
        }
        match &self.mode {
            Mode::Tls(t) => t.walking(cx),
            Mode::Other => true,
            Mode::Sniff | Mode::Http(_) | Mode::Socks(_) | Mode::Dns(_) => false,
        }
    }

    /// [`held`](Self::held) of both directions, `[to server, to client]`, in one walk
    /// of the decoders.
    pub fn held_both(&self) -> [usize; 2] {
        let sniff =
            |k: &Vec<(Vec<u8>, FrameNo, Timestamp)>| -> usize { k.iter().map(|c| c.0.len()).sum() };
        let [s0, s1] = &self.sniff;
        let (c, s) = (Dir::ToServer, Dir::ToClient);
        let own = match &self.mode {
            Mode::Http(h) => [h.held(c), h.held(s)],
            Mode::Tls(t) => [t.held(c), t.held(s)],
            Mode::Socks(k) => [k.held(c), k.held(s)],
            Mode::Dns(d) => [d.held(c), d.held(s)],
            Mode::Sniff | Mode::Other => [0; 2],
        };
        let inner = self.tunnel.as_ref().map_or([0; 2], |t| t.held_both());
        [sniff(s0) + own[0] + inner[0], sniff(s1) + own[1] + inner[1]]
    }

    /// Gives up what the decoders hold for `dir` (a buffer cap was reached), with a
    /// note, and stops decoding that direction; false when nothing was held.
    pub fn shed(&mut self, dir: Dir) -> bool {
        let inner = self.tunnel.as_mut().is_some_and(|t| t.shed(dir));
        let own = match &mut self.mode {
            Mode::Http(h) => h.shed(dir),
            Mode::Tls(t) => t.shed(dir),
            Mode::Dns(d) => d.shed(dir),
            Mode::Socks(s) if s.held(dir) > 0 => {
                self.notes.push(format!(
                    "socks: an incomplete message from the {} given up: buffer cap (--stream-buffer/--total-buffer) reached",
                    dir.sender()
                ));
                self.mode = Mode::Other;
                true
            }
            Mode::Sniff | Mode::Socks(_) | Mode::Other => false,
        };
        inner || own
    }

    /// Decoded facts (HTTP exchanges, DNS transactions) refused by the facts budget:
    /// counted, not kept.
    pub fn facts_not_kept(&self) -> u64 {
        let own = match &self.mode {
            Mode::Http(h) => h.facts_not_kept(),
            Mode::Dns(d) => d.facts_not_kept(),
            Mode::Tls(t) => t.decrypted_facts_not_kept(),
            Mode::Sniff | Mode::Socks(_) | Mode::Other => 0,
        };
        own + self.tunnel.as_ref().map_or(0, |t| t.facts_not_kept())
    }

    /// The flow's facts, its notes bounded as [`Notes`] says.
    pub fn finish(self) -> AppFacts {
        let (mut facts, notes) = self.finish_parts();
        (facts.notes, facts.notes_omitted) = notes.into_report();
        facts.shrink();
        facts
    }

    /// The facts, and the notes of this decoder, its protocol's and its tunnel's.
    fn finish_parts(self) -> (AppFacts, Notes) {
        let mut facts = AppFacts::default();
        let mut notes = self.notes;
        match self.mode {
            Mode::Sniff => {}
            Mode::Http(h) => {
                facts.protocol = AppProtocol::Http;
                let (ex, n, overflow) = h.finish_all();
                facts.http = ex;
                facts.overflow = overflow;
                notes.merge(n, |t| t);
            }
            Mode::Tls(mut t) => {
                facts.protocol = AppProtocol::Tls;
                let decrypted = t.take_decrypted();
                let (tls, n) = t.finish();
                facts.tls = Some(Box::new(tls));
                notes.merge(n, |t| t);
                if let Some((inner, n)) = decrypted {
                    facts.http.extend(inner.http.into_iter().map(|mut h| {
                        h.decrypted = true;
                        h
                    }));
                    facts.overflow.merge(inner.overflow, true);
                    notes.merge(n, |t| format!("decrypted: {t}"));
                }
            }
            Mode::Socks(s) => {
                facts.protocol = AppProtocol::Socks;
                let (socks, n) = s.finish();
                facts.socks = Some(Box::new(socks));
                notes.merge(n, |t| t);
            }
            Mode::Dns(d) => {
                facts.protocol = AppProtocol::Dns;
                let (txs, n, overflow) = d.finish_all();
                facts.dns = txs;
                facts.overflow = overflow;
                notes.merge(n, |t| t);
            }
            Mode::Other => facts.protocol = AppProtocol::Other,
        }
        if let Some(t) = self.tunnel {
            let (inner, n) = t.finish_parts();
            facts.http.extend(inner.http);
            facts.overflow.merge(inner.overflow, false);
            if inner.tls.is_some() {
                facts.tls = inner.tls;
                facts.tls_in_tunnel = true;
            }
            notes.merge(n, |t| format!("tunnel: {t}"));
        }
        (facts, notes)
    }

    fn sniff_data(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        data: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        let Some(kept) = self.sniff.get_mut(dir.index()) else {
            return;
        };
        kept.push((data.to_vec(), frame, ts));
        let all: Vec<u8> = kept
            .iter()
            .flat_map(|c| c.0.iter().copied())
            .take(MAX_LEADING_BLANK + 16)
            .collect();
        // Empty lines before a message are ignored (RFC 9112 2.2): a client may send
        // CRLF after a request (or a CONNECT), so the next message, or the tunnel's
        // TLS, starts after them.
        let blank = all
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let after = all.get(blank..).unwrap_or_default();
        if blank > 0 && blank <= MAX_LEADING_BLANK && after.is_empty() {
            return; // only empty lines so far
        }
        let head: Vec<u8> = all.iter().copied().take(16).collect();
        let skip = if blank <= MAX_LEADING_BLANK { blank } else { 0 };
        let after = all.get(skip..).unwrap_or_default();
        let mode = if http::looks_like_http(dir, after) {
            Mode::Http(Box::default())
        } else if tls::looks_like_tls(after) {
            // The TLS decoder reads records from the first byte: drop the empty lines
            // (of both directions: the other may have sent some too).
            for kept in &mut self.sniff {
                drop_blank_lines(kept);
            }
            Mode::Tls(Box::default())
        } else if dir == Dir::ToServer && socks::looks_like_socks(&head) {
            Mode::Socks(Box::default())
        } else if (self.client_port == 53 || self.server_port == 53) && self.depth == 0 {
            Mode::Dns(Box::default())
        } else if after.len() < SNIFF_BYTES
            && (could_be_http_prefix(dir, after) || tls::could_be_tls_prefix(after))
        {
            return; // wait for more bytes
        } else {
            Mode::Other
        };
        self.mode = mode;
        // Replay what was kept, both directions, in arrival order per direction.
        let kept: Vec<_> = [Dir::ToServer, Dir::ToClient]
            .into_iter()
            .flat_map(|d| {
                std::mem::take(self.sniff.get_mut(d.index()).unwrap_or(&mut Vec::new()))
                    .into_iter()
                    .map(move |c| (d, c))
            })
            .collect();
        for (d, (bytes, f, t)) in kept {
            self.on_data(cx, d, &bytes, f, t);
        }
    }

    fn check_tunnel(&mut self, cx: &mut DecodeCtx) {
        let chunks = match &mut self.mode {
            Mode::Http(h) if h.tunnel_open() => h.take_tunnel_bytes(),
            Mode::Socks(s) if s.tunnel_open() => s.take_tunnel_bytes(),
            _ => return,
        };
        if self.tunnel.is_none() {
            if self.depth >= MAX_TUNNEL_DEPTH {
                return;
            }
            let mut inner = StreamDecoder::new(self.client_port, self.server_port);
            inner.depth = self.depth + 1;
            self.tunnel = Some(Box::new(inner));
        }
        if let Some(t) = self.tunnel.as_mut() {
            for (d, bytes, f, ts) in chunks {
                t.on_data(cx, d, &bytes, f, ts);
            }
        }
    }
}

/// Removes the empty lines (up to [`MAX_LEADING_BLANK`] CR/LF bytes) that start the
/// kept chunks; their frames stay with the rest.
fn drop_blank_lines(kept: &mut Vec<(Vec<u8>, FrameNo, Timestamp)>) {
    let mut budget = MAX_LEADING_BLANK;
    while let Some(first) = kept.first_mut() {
        let n = first
            .0
            .iter()
            .take(budget)
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        budget -= n;
        if n == first.0.len() {
            kept.remove(0);
            if budget > 0 {
                continue;
            }
        } else {
            first.0.drain(..n);
        }
        return;
    }
}

/// True while `head` is still a prefix of something we could recognise.
fn could_be_http_prefix(dir: Dir, head: &[u8]) -> bool {
    http::message_starts(dir)
        .iter()
        .any(|c| c.starts_with(head) || head.starts_with(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn feed(d: &mut StreamDecoder, dir: Dir, bytes: &[u8], frame: u64) {
        d.on_data(
            &mut DecodeCtx::default(),
            dir,
            bytes,
            FrameNo(frame),
            Timestamp(frame as i64),
        );
    }

    #[test]
    fn http_recognised_on_any_port_even_split() {
        let mut d = DecoderFactory::default().stream(50000, 3128);
        feed(&mut d, Dir::ToServer, b"CON", 1);
        feed(&mut d, Dir::ToServer, b"NECT h:443 HTTP/1.1\r\n\r\n", 2);
        feed(&mut d, Dir::ToClient, b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nProxy-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n", 3);
        let f = d.finish();
        assert_eq!(f.protocol, AppProtocol::Http);
        assert_eq!(f.http[0].request_frame, Some(FrameNo(1)));
    }

    #[test]
    fn connect_tunnel_carries_tls() {
        let mut d = DecoderFactory::default().stream(50000, 8080);
        feed(
            &mut d,
            Dir::ToServer,
            b"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
            1,
        );
        feed(
            &mut d,
            Dir::ToClient,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            2,
        );
        let ch = tls::tests::client_hello();
        feed(&mut d, Dir::ToServer, &ch[..3], 3);
        feed(&mut d, Dir::ToServer, &ch[3..], 4);
        feed(&mut d, Dir::ToClient, &[21, 3, 3, 0, 2, 2, 48], 5);
        assert!(!d.wants_data(Dir::ToClient));
        let f = d.finish();
        assert!(f.tls_in_tunnel);
        let t = f.tls.as_ref().unwrap();
        assert_eq!(t.client_hello_frame, Some(FrameNo(4)));
    }

    #[test]
    fn empty_lines_before_http_and_tls_are_skipped() {
        // A connection starting with CRLF before its request.
        let mut d = DecoderFactory::default().stream(50000, 3128);
        feed(&mut d, Dir::ToServer, b"\r", 1);
        feed(&mut d, Dir::ToServer, b"\n", 2);
        feed(
            &mut d,
            Dir::ToServer,
            b"GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
            3,
        );
        feed(
            &mut d,
            Dir::ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            4,
        );
        let f = d.finish();
        assert_eq!(f.protocol, AppProtocol::Http);
        assert_eq!(f.http[0].status, Some(200));

        // A CONNECT tunnel whose client bytes start with CRLF before the ClientHello.
        let mut d = DecoderFactory::default().stream(50000, 3128);
        feed(&mut d, Dir::ToServer, b"CONNECT h:443 HTTP/1.1\r\n\r\n", 1);
        feed(
            &mut d,
            Dir::ToClient,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            2,
        );
        let mut ch = b"\r\n".to_vec();
        ch.extend(tls::tests::client_hello());
        feed(&mut d, Dir::ToServer, &ch[..1], 3);
        feed(&mut d, Dir::ToServer, &ch[1..], 4);
        let f = d.finish();
        assert!(f.tls_in_tunnel);
        assert_eq!(f.tls.unwrap().sni.as_deref(), Some("example.com"));

        // Empty lines without end are not a message, and are not kept without bound.
        let mut d = DecoderFactory::default().stream(50000, 3128);
        for i in 0..100 {
            feed(&mut d, Dir::ToServer, b"\r\n", i);
        }
        assert!(!d.wants_data(Dir::ToServer));
        assert_eq!(d.finish().protocol, AppProtocol::Other);
    }

    #[test]
    fn unknown_payload_stops_buffering() {
        let mut d = DecoderFactory::default().stream(50000, 22);
        feed(&mut d, Dir::ToClient, b"SSH-2.0-OpenSSH_9.6\r\n", 1);
        assert!(!d.wants_data(Dir::ToServer));
        assert_eq!(d.finish().protocol, AppProtocol::Other);
    }
}
