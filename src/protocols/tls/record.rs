//! Record layer: TLS records reassembled across TCP chunks, and handshake messages
//! across records, both bounded (RFC 8446 5.1, RFC 5246 6.2.1).

use super::TlsDecoder;
use super::cut::Resync;
use super::handshake::handshake_name;
use super::sslv2;
use crate::model::{Dir, FrameNo};
use crate::protocols::DecodeCtx;
use crate::protocols::stream_buf::StreamBuf;

/// Largest handshake message reassembled; larger ones are skipped with a note.
pub const MAX_HANDSHAKE_MESSAGE: usize = 64 * 1024;
/// Largest record: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3).
const MAX_RECORD: usize = (1 << 14) + 2048;

pub(super) const CT_CCS: u8 = 20;
pub(super) const CT_ALERT: u8 = 21;
pub(super) const CT_HANDSHAKE: u8 = 22;
pub(super) const CT_APP_DATA: u8 = 23;
pub(super) const CT_HEARTBEAT: u8 = 24;

/// Record-layer state of one direction.
#[derive(Clone, Debug)]
pub(super) struct Side {
    pub(super) rec: StreamBuf,
    /// Handshake bytes not yet forming a whole message.
    pub(super) hs: Vec<u8>,
    /// Skipping the rest of an oversized handshake message.
    pub(super) hs_skip: usize,
    /// Sent ChangeCipherSpec (or, TLS 1.3 server, ServerHello): handshake now encrypted.
    pub(super) encrypted: bool,
    pub(super) ccs: bool,
    pub(super) encrypted_records: u32,
    pub(super) stopped: bool,
    /// Skipping the rest of a record the snap length cut, or looking for the next
    /// record start a cut hid.
    pub(super) resync: Resync,
    /// Bytes of this direction were cut by the snap length.
    pub(super) cut_seen: bool,
}

impl Side {
    pub(super) fn new() -> Self {
        Side {
            rec: StreamBuf::new(MAX_RECORD + 5),
            hs: Vec::new(),
            hs_skip: 0,
            encrypted: false,
            ccs: false,
            encrypted_records: 0,
            stopped: false,
            resync: Resync::default(),
            cut_seen: false,
        }
    }
}

/// True if `b` starts like a TLS record (handshake or alert, version 3.x), or like
/// an SSLv2-format ClientHello offering TLS.
pub fn looks_like_tls(b: &[u8]) -> bool {
    matches!(b, [CT_HANDSHAKE | CT_ALERT, 3, minor, ..] if *minor <= 4)
        || sslv2::looks_like_v2_hello(b)
}

/// True while `b` is too short to tell but could still become a TLS record.
pub fn could_be_tls_prefix(b: &[u8]) -> bool {
    match b {
        [] => true,
        [t] => matches!(*t, CT_HANDSHAKE | CT_ALERT) || sslv2::could_be_v2_hello_prefix(b),
        [t, 3] => matches!(*t, CT_HANDSHAKE | CT_ALERT),
        _ => sslv2::could_be_v2_hello_prefix(b),
    }
}

/// Record type, version and length of the record header `b` starts with, when it is
/// one a TLS peer can send (the check that lets a walk pick up again after a cut).
pub(super) fn record_header(b: &[u8]) -> Option<(u8, u16, usize)> {
    let (&ct, version, len) = (b.first()?, be16(b, 1)?, usize::from(be16(b, 3)?));
    let ok = matches!(ct, CT_CCS..=CT_HEARTBEAT) && version >> 8 == 3 && version & 0xff <= 4;
    (ok && len <= MAX_RECORD).then_some((ct, version, len))
}

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

pub(super) fn be24(b: &[u8], at: usize) -> Option<usize> {
    Some(
        (usize::from(*b.get(at)?) << 16)
            | (usize::from(*b.get(at + 1)?) << 8)
            | usize::from(*b.get(at + 2)?),
    )
}

impl TlsDecoder {
    pub(super) fn parse_records(&mut self, cx: &mut DecodeCtx, dir: Dir) -> bool {
        let d = dir.index();
        let mut progressed = false;
        loop {
            let Some(side) = self.sides.get_mut(d) else {
                return progressed;
            };
            let b = side.rec.bytes();
            if dir == Dir::ToServer
                && !self.seen_client_hello
                && let Some(len) = sslv2::client_hello_record_len(b)
            {
                let Some(body) = b.get(2..2 + len) else {
                    return progressed;
                };
                let body = body.to_vec();
                let (frame, ts) = side.rec.at(1 + len);
                self.record_ts = Some(ts);
                side.rec.consume(2 + len);
                progressed = true;
                self.on_v2_client_hello(cx, &body, frame);
                continue;
            }
            let (Some(&ct), Some(version), Some(len)) = (b.first(), be16(b, 1), be16(b, 3)) else {
                return progressed;
            };
            let len = usize::from(len);
            let valid_type = matches!(ct, CT_CCS..=CT_HEARTBEAT);
            if !valid_type || version >> 8 != 3 || len > MAX_RECORD {
                let frame = side.rec.at(0).0;
                side.stopped = true;
                side.rec.consume(side.rec.len());
                self.notes.push(format!(
                    "tls: not a TLS record from the {} at frame {frame} (type {ct}, version 0x{version:04x}, length {len}); stopped",
                    dir.sender()
                ));
                return progressed;
            }
            let Some(body) = b.get(5..5 + len) else {
                return progressed;
            };
            let body = body.to_vec();
            let (frame, ts) = side.rec.at(4 + len);
            self.record_ts = Some(ts);
            side.rec.consume(5 + len);
            progressed = true;
            self.on_record(cx, dir, ct, &body, frame);
        }
    }

    pub(super) fn on_handshake_bytes(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        body: &[u8],
        frame: FrameNo,
    ) {
        let mut body = body;
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if side.hs_skip > 0 {
            let k = side.hs_skip.min(body.len());
            side.hs_skip -= k;
            body = body.get(k..).unwrap_or_default();
        }
        side.hs.extend_from_slice(body);
        loop {
            let Some(side) = self.sides.get_mut(dir.index()) else {
                return;
            };
            let (Some(&t), Some(len)) = (side.hs.first(), be24(&side.hs, 1)) else {
                return;
            };
            if len > MAX_HANDSHAKE_MESSAGE {
                let have = side.hs.len().saturating_sub(4);
                side.hs_skip = len.saturating_sub(have);
                side.hs.clear();
                let (name, letter) = handshake_name(t);
                self.history(dir, letter);
                self.last_msg = Some(name);
                self.notes.push(format!(
                    "tls: {name} of {len} bytes from the {} at frame {frame} exceeds {} KiB; skipped",
                    dir.sender(),
                    MAX_HANDSHAKE_MESSAGE / 1024
                ));
                return;
            }
            let Some(msg) = side.hs.get(4..4 + len) else {
                return;
            };
            let msg = msg.to_vec();
            side.hs.drain(..4 + len);
            self.on_handshake(cx, dir, t, &msg, frame);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::protocols::tls::tests::{client_hello, record, run};

    #[test]
    fn record_split_at_every_offset() {
        let ch = client_hello();
        for cut in 0..=ch.len() {
            let (f, notes) = run(&[
                (Dir::ToServer, ch[..cut].to_vec()),
                (Dir::ToServer, ch[cut..].to_vec()),
            ]);
            assert_eq!(
                f.sni.as_deref(),
                Some("example.com"),
                "cut {cut}: {notes:?}"
            );
        }
    }

    #[test]
    fn handshake_message_split_across_records() {
        let ch = client_hello();
        let msg = &ch[5..];
        let (a, b) = msg.split_at(10);
        let mut bytes = record(CT_HANDSHAKE, a);
        bytes.extend(record(CT_HANDSHAKE, b));
        let (f, _) = run(&[(Dir::ToServer, bytes)]);
        assert_eq!(f.sni.as_deref(), Some("example.com"));
    }

    #[test]
    fn impossible_lengths_and_garbage() {
        // Record longer than allowed.
        let (_, notes) = run(&[(Dir::ToServer, vec![22, 3, 1, 0xff, 0xff, 1, 2])]);
        assert!(notes.iter().any(|n| n.contains("not a TLS record")));
        // Handshake message claiming 16 MiB.
        let (_, notes) = run(&[(
            Dir::ToServer,
            record(CT_HANDSHAKE, &[1, 0xff, 0xff, 0xff, 0]),
        )]);
        assert!(
            notes.iter().any(|n| n.contains("exceeds 64 KiB")),
            "{notes:?}"
        );
        // Every truncation of a hello and of a flight.
        let ch = client_hello();
        for n in 0..ch.len() {
            let mut body = ch[5..].to_vec();
            body.truncate(n.min(body.len()));
            let _ = run(&[(Dir::ToServer, record(CT_HANDSHAKE, &body))]);
            let _ = run(&[(Dir::ToServer, ch[..n].to_vec())]);
        }
    }
}
