//! TLS handshakes: hellos, certificates, alerts, JA4/JA3 fingerprints, and outcome.
//!
//! Fed by `protocols::StreamDecoder` with the ordered bytes of a connection (or of a
//! CONNECT tunnel) whose content starts like a TLS record. Records are reassembled
//! across TCP chunks and handshake messages across records, both bounded. Hellos are
//! read with `tls-parser`, certificates with `x509-parser` (see `x509`). States facts
//! only: which versions and names were offered and chosen, which chain came back,
//! who sent which alert after which message, a Zeek-like `ssl_history`, and whether
//! the handshake completed — including, for TLS 1.3, whether the client went on after
//! the server's encrypted flight or gave up on it.
//!
//! `record` reassembles records and handshake messages, `handshake` turns them into
//! [`TlsFacts`], `sslv2` reads an SSLv2-format ClientHello offering TLS,
//! `fingerprint` computes JA4 / JA3 / JA3S, `decrypt` opens the protected records
//! when key logs were given, and `walk` follows record headers after the handshake
//! when they were not.

mod cut;
mod decrypt;
mod fingerprint;
mod handshake;
mod names;
mod record;
mod sslv2;
mod stored;
mod walk;

pub use decrypt::TlsDecryption;
pub use fingerprint::{FingerprintCache, is_grease};
pub use handshake::{HandshakeOutcome, TlsAlert, TlsFacts};
pub use names::{alert_name, cipher_name, severity_name, version_name};
pub use record::{MAX_HANDSHAKE_MESSAGE, could_be_tls_prefix, looks_like_tls};

use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use record::Side;

/// Encrypted records per side looked at before losing interest.
const MAX_ENCRYPTED_RECORDS: u32 = 8;

/// TLS decoder for one connection.
#[derive(Clone, Debug)]
pub struct TlsDecoder {
    sides: [Side; 2],
    facts: TlsFacts,
    notes: crate::protocols::Notes,
    tls13: bool,
    seen_client_hello: bool,
    seen_server_hello: bool,
    /// The server's first flight is complete (ServerHelloDone, or TLS 1.3 encrypted
    /// records after ServerHello, or a resumption CCS).
    server_flight_done: bool,
    client_after_flight: bool,
    fatal_alert: bool,
    last_msg: Option<&'static str>,
    /// Arrival of the record being decoded.
    record_ts: Option<Timestamp>,
    /// Record headers after the handshake.
    walk: walk::Walk,
    /// Decryption state, only when key logs were given.
    crypt: Option<Box<decrypt::Decrypt>>,
}

impl Default for TlsDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsDecoder {
    pub fn new() -> Self {
        TlsDecoder {
            sides: [Side::new(), Side::new()],
            facts: TlsFacts::default(),
            notes: crate::protocols::Notes::default(),
            tls13: false,
            seen_client_hello: false,
            seen_server_hello: false,
            server_flight_done: false,
            client_after_flight: false,
            fatal_alert: false,
            last_msg: None,
            record_ts: None,
            walk: walk::Walk::default(),
            crypt: None,
        }
    }

    /// False once the handshake failed or the side stopped. After an established
    /// handshake: with key logs, true while the side's records can be decrypted and
    /// decoded; without, while record headers are still walked.
    pub fn wants_data(&self, dir: Dir) -> bool {
        if self.fatal_alert {
            return false;
        }
        if let Some(wants) = self.crypt_wants(dir) {
            return wants && self.sides.get(dir.index()).is_some_and(|s| !s.stopped);
        }
        if self.facts.established {
            return self.walk.wants(dir) && self.sides.get(dir.index()).is_some_and(|s| !s.stopped);
        }
        self.sides
            .get(dir.index())
            .is_some_and(|s| !s.stopped && s.encrypted_records < MAX_ENCRYPTED_RECORDS)
    }

    pub fn on_gap(&mut self, dir: Dir, len: u64) {
        self.stop_at_hole(dir, len, "capture loss");
    }

    /// Stops `dir` at `len` unseen bytes, lost or cut (`cause`, for the note).
    fn stop_at_hole(&mut self, dir: Dir, len: u64, cause: &str) {
        self.walk.stop(dir);
        if let Some(c) = self.crypt.as_mut() {
            c.on_gap(dir);
        }
        if let Some(side) = self.sides.get_mut(dir.index())
            && !side.stopped
        {
            side.stopped = true;
            side.rec.consume(side.rec.len());
            self.notes.push(format!(
                "tls: {len} bytes missing from the {} ({cause}); stopped decoding that direction",
                dir.sender()
            ));
        }
    }

    /// True when bytes fed now only walk record headers (the handshake is over and
    /// nothing is decrypted): what the decoder holds stays as it is.
    pub fn walking(&self, cx: &DecodeCtx) -> bool {
        self.facts.established && self.crypt.is_none() && cx.options().keylog.is_none()
    }

    /// Bytes at the start of `dir`'s next data that are passed over in advance: while
    /// [`walking`](Self::walking), all but the last byte of the record body being
    /// walked. The caller drops them (feeding them would only count them) or hands
    /// back what it did not drop with [`unskip`](Self::unskip) before any other call
    /// about `dir`; until then [`wants_data`](Self::wants_data) and
    /// [`held`](Self::held) stay as they are.
    pub fn skip_ahead(&mut self, cx: &DecodeCtx, dir: Dir) -> u64 {
        let open = self.sides.get(dir.index()).is_some_and(|s| !s.stopped);
        if !self.walking(cx) || self.fatal_alert || !open {
            return 0;
        }
        self.walk.skip_ahead(dir)
    }

    /// `n` bytes of [`skip_ahead`](Self::skip_ahead) were not dropped: they are still
    /// to come.
    pub fn unskip(&mut self, dir: Dir, n: u64) {
        self.walk.unskip(dir, n);
    }

    /// Bytes held for `dir`: an incomplete record and handshake message, and what the
    /// decoder of decrypted data holds.
    pub fn held(&self, dir: Dir) -> usize {
        self.sides
            .get(dir.index())
            .map_or(0, |s| s.rec.held() + s.hs.len())
            + self.decrypted_held(dir)
    }

    /// Gives up the incomplete record and handshake message held for `dir` (a buffer
    /// cap was reached) and stops decoding that direction; false when nothing was held.
    pub fn shed(&mut self, dir: Dir) -> bool {
        let inner = self.shed_decrypted(dir);
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return inner;
        };
        let len = side.rec.len() + side.hs.len();
        if len == 0 {
            return inner;
        }
        side.stopped = true;
        side.rec.consume(side.rec.len());
        side.hs = Vec::new();
        self.notes.push(format!(
            "tls: {len} bytes of an incomplete record from the {} given up: buffer cap (--stream-buffer/--total-buffer) reached; stopped decoding that direction",
            dir.sender()
        ));
        true
    }

    pub fn on_data(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        data: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        self.crypt_begin(cx);
        if self.facts.established && self.crypt_wants(dir).is_none() {
            // Not decrypting this side. The record layer keeps what it held of an
            // unfinished record (its note at the end says so); the walk takes over
            // from there.
            self.walk_begin(dir);
            self.walk.feed(dir, self.tls13, data, (frame, ts));
            return;
        }
        let mut input = self.after_cut(dir, data);
        while !input.is_empty() {
            let Some(side) = self.sides.get_mut(dir.index()) else {
                return;
            };
            if side.stopped {
                return;
            }
            let took = side.rec.push(input, frame, ts);
            input = input.get(took..).unwrap_or_default();
            let progressed = self.parse_records(cx, dir);
            if took == 0 && !progressed {
                // Cannot happen with a record cap above the largest record; be safe.
                if let Some(side) = self.sides.get_mut(dir.index()) {
                    side.stopped = true;
                }
                return;
            }
        }
    }

    pub fn finish(mut self) -> (TlsFacts, crate::protocols::Notes) {
        self.facts.decryption = self.crypt.take().map(|c| c.finish());
        let f = &mut self.facts;
        let [client, server] = std::mem::take(&mut self.walk).finish();
        (f.client_last_app_frame, f.client_last_app_ts) =
            (client.map(|a| a.0), client.map(|a| a.1));
        (f.server_last_app_frame, f.server_last_app_ts) =
            (server.map(|a| a.0), server.map(|a| a.1));
        f.outcome = if f.established {
            HandshakeOutcome::Established
        } else if let Some(a) = f
            .alerts
            .iter()
            .find(|a| a.level == Some(tls_parser::TlsAlertSeverity::Fatal))
        {
            if a.from == Dir::ToServer {
                HandshakeOutcome::ClientAlert
            } else {
                HandshakeOutcome::ServerAlert
            }
        } else if f.client_first_encrypted_len == Some(19) {
            HandshakeOutcome::ClientEncryptedAlert
        } else if !self.seen_client_hello {
            HandshakeOutcome::NoClientHello
        } else if !self.seen_server_hello {
            HandshakeOutcome::NoServerHello
        } else if self.server_flight_done && !self.client_after_flight {
            HandshakeOutcome::ClientSilentAfterServerFlight
        } else {
            HandshakeOutcome::Incomplete
        };
        for (i, side) in self.sides.iter().enumerate() {
            if !side.stopped && !side.rec.is_empty() {
                self.notes.push(format!(
                    "tls: {} bytes of an incomplete record from the {} at the end",
                    side.rec.len(),
                    if i == 0 { "client" } else { "server" }
                ));
            }
        }
        (self.facts, self.notes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    //! Builders of TLS bytes for the unit tests of this module and its parent.

    use super::record::CT_HANDSHAKE;
    use super::*;

    pub(crate) fn record(ct: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![ct, 3, 3];
        r.extend((body.len() as u16).to_be_bytes());
        r.extend(body);
        r
    }

    pub(crate) fn hs(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend(body);
        m
    }

    pub(crate) fn ext(t: u16, data: &[u8]) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend((data.len() as u16).to_be_bytes());
        e.extend(data);
        e
    }

    /// A TLS 1.3-capable ClientHello with SNI `example.com`, ALPN h2, GREASE.
    pub(crate) fn client_hello() -> Vec<u8> {
        let mut exts = Vec::new();
        exts.extend(ext(0x1a1a, &[]));
        let name = b"example.com";
        let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend((name.len() as u16).to_be_bytes());
        sni.extend(name);
        exts.extend(ext(0x0000, &sni));
        exts.extend(ext(0x0010, &[0, 3, 2, b'h', b'2']));
        exts.extend(ext(0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]));
        exts.extend(ext(0x000b, &[1, 0]));
        exts.extend(ext(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]));
        exts.extend(ext(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]));
        client_hello_with(&exts)
    }

    /// A ClientHello record (TLS 1.2 legacy version, ciphers GREASE, 1301, 1302, c02f)
    /// with these extensions.
    pub(crate) fn client_hello_with(exts: &[u8]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend([7; 32]);
        b.push(0);
        let ciphers: [u16; 4] = [0x2a2a, 0x1301, 0x1302, 0xc02f];
        b.extend(((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            b.extend(c.to_be_bytes());
        }
        b.extend([1, 0]);
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(exts);
        record(CT_HANDSHAKE, &hs(1, &b))
    }

    pub(crate) fn server_hello(version13: bool, random: [u8; 32]) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend(random);
        b.push(0);
        b.extend(if version13 {
            [0x13, 0x01]
        } else {
            [0xc0, 0x2f]
        });
        b.push(0);
        let exts = if version13 {
            ext(0x002b, &[0x03, 0x04])
        } else {
            ext(0xff01, &[0])
        };
        b.extend((exts.len() as u16).to_be_bytes());
        b.extend(exts);
        hs(2, &b)
    }

    pub(crate) fn run(chunks: &[(Dir, Vec<u8>)]) -> (TlsFacts, crate::protocols::Notes) {
        let cx = &mut DecodeCtx::default();
        let mut d = TlsDecoder::new();
        for (i, (dir, bytes)) in chunks.iter().enumerate() {
            d.on_data(cx, *dir, bytes, FrameNo(i as u64 + 1), Timestamp(0));
        }
        d.finish()
    }

    #[test]
    fn alert_cut_by_the_snap_length_is_read_from_its_first_bytes() {
        use tls_parser::{TlsAlertDescription, TlsAlertSeverity};
        // A plaintext alert and what came after it in the same segment.
        let mut seg = record(record::CT_ALERT, &[2, 48]);
        seg.extend(record(record::CT_APP_DATA, &[0; 40]));
        // A 26-byte alert: encrypted (a plaintext one has two bytes).
        let enc = record(record::CT_ALERT, &[7; 26]);
        for (bytes, plain) in [(&seg, true), (&enc, false)] {
            for n in 0..bytes.len() {
                let cx = &mut DecodeCtx::default();
                let mut d = TlsDecoder::new();
                d.on_data(cx, Dir::ToServer, &client_hello(), FrameNo(1), Timestamp(0));
                d.on_data(cx, Dir::ToServer, &bytes[..n], FrameNo(2), Timestamp(0));
                let cut = (bytes.len() - n) as u64;
                d.on_cut(cx, Dir::ToServer, cut, (FrameNo(2), Timestamp(0)));
                let (f, _) = d.finish();
                let a = f.alerts.first().map(|a| (a.level, a.description, a.frame));
                let want = match (plain, n) {
                    (_, ..5) | (true, 5..7) => None,
                    (true, _) => Some((
                        Some(TlsAlertSeverity::Fatal),
                        Some(TlsAlertDescription::UnknownCa),
                        FrameNo(2),
                    )),
                    (false, _) => Some((None, None, FrameNo(2))),
                };
                assert_eq!(a, want, "cut at {n}");
            }
        }
    }
}
