//! Records cut by the capture's snap length (`tcpdump -s 200`): the TCP length says
//! how many bytes were cut, the record header how long the record is, so the walk
//! goes on at the next record. A cut record counts for what its header and first
//! bytes tell (its type and true length, the handshake messages whole before the
//! cut, the type of the one cut); nothing is read from what was cut. When a cut
//! spans a record boundary, the next record header is in the cut: the next segment
//! that starts with a plausible record header is taken for one, as Wireshark does.

use super::TlsDecoder;
use super::handshake::handshake_name;
use super::record::{CT_ALERT, CT_APP_DATA, CT_CCS, CT_HANDSHAKE, be24, record_header};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;

/// Where a direction stands after a cut, for the record layer and the header walk
/// alike.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Resync {
    /// Bytes still to skip, uncounted, of a record counted when the snap length cut it.
    skip: u64,
    /// A cut hid where the next record starts: the next segment that starts with a
    /// plausible record header is taken for one.
    lost: bool,
}

impl Resync {
    /// Neither skipping nor looking for a record start.
    pub(super) fn idle(&self) -> bool {
        self.skip == 0 && !self.lost
    }

    /// True while the next record start is unknown.
    pub(super) fn lost(&self) -> bool {
        self.lost
    }

    /// The next record start is unknown.
    pub(super) fn lose(&mut self) {
        self.skip = 0;
        self.lost = true;
    }

    /// A record of which `missing` bytes were not captured was counted, and `len`
    /// bytes were cut: what is left of it is skipped later, or, when the cut went
    /// past its end, the next record start is unknown.
    pub(super) fn counted(&mut self, missing: u64, len: u64) {
        if len < missing {
            self.skip = missing - len;
        } else if len > missing {
            self.lost = true;
        }
    }

    /// `len` more bytes were cut while skipping a counted record: true if so (the cut
    /// is accounted for), false if no record is being skipped.
    pub(super) fn cut_while_skipping(&mut self, len: u64) -> bool {
        if self.skip == 0 {
            return false;
        }
        if len <= self.skip {
            self.skip -= len;
        } else {
            self.lose();
        }
        true
    }

    /// Skips what is left of a counted record at the start of `data`, and while the
    /// next record start is unknown, waits for a segment that starts with a plausible
    /// record header. Returns the bytes to decode.
    pub(super) fn pass<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let mut data = data;
        if self.skip > 0 {
            let k = self.skip.min(data.len() as u64);
            self.skip -= k;
            data = data.get(k as usize..).unwrap_or_default();
        }
        if self.lost {
            if record_header(data).is_none() {
                return &[];
            }
            self.lost = false;
        }
        data
    }
}

impl TlsDecoder {
    /// `len` bytes from `dir` were cut by the capture's snap length at the end of the
    /// segment in `at`.
    pub fn on_cut(&mut self, cx: &mut DecodeCtx, dir: Dir, len: u64, at: (FrameNo, Timestamp)) {
        if let Some(c) = self.crypt.as_mut() {
            // Decryption needs every byte of a record.
            c.on_cut(dir);
        }
        if self.facts.established && self.crypt_wants(dir).is_none() {
            self.walk_begin(dir);
            self.walk.cut(dir, self.tls13, len, at);
            return;
        }
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        side.cut_seen = true;
        if side.stopped || side.resync.lost() || side.resync.cut_while_skipping(len) {
            return;
        }
        let b = side.rec.bytes();
        let Some((ct, _, rlen)) = record_header(b) else {
            // The cut went through a record header, or began at a record boundary.
            side.rec.consume(side.rec.len());
            side.resync.lose();
            return;
        };
        let body = b.get(5..).unwrap_or_default().to_vec();
        let (frame, ts) = side.rec.at(0);
        side.rec.consume(side.rec.len());
        let missing = (rlen as u64).saturating_sub(body.len() as u64);
        side.resync.counted(missing, len);
        self.record_ts = Some(ts);
        self.on_cut_record(cx, dir, ct, &body, rlen, frame);
    }

    /// A record of type `ct` and `len` body bytes whose first bytes `body` are all the
    /// capture kept.
    fn on_cut_record(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        ct: u8,
        body: &[u8],
        len: usize,
        frame: FrameNo,
    ) {
        let encrypted = self.sides.get(dir.index()).is_some_and(|s| s.encrypted);
        match ct {
            // One byte: whole or absent, it is a ChangeCipherSpec.
            CT_CCS => return self.on_record(cx, dir, ct, &[1], frame),
            // A plaintext alert has two bytes: a longer one is encrypted, even when
            // the ChangeCipherSpec before it was in a cut.
            CT_ALERT if encrypted || len != 2 => return self.on_alert(dir, &[], frame, true),
            CT_ALERT => {
                if let Some(alert) = body.get(..2) {
                    self.on_alert(dir, alert, frame, false);
                }
                return;
            }
            _ => {}
        }
        if dir == Dir::ToServer && self.server_flight_done {
            self.client_after_flight = true;
        }
        match ct {
            CT_HANDSHAKE if !encrypted => self.cut_handshake(cx, dir, body, len, frame),
            CT_HANDSHAKE => self.on_encrypted(dir, len),
            CT_APP_DATA => {
                self.app_data_after_cut(dir);
                self.on_encrypted(dir, len);
            }
            _ => {}
        }
    }

    /// The handshake messages of a cut record: those whole before the cut are read;
    /// the one cut is named, and skipped to its end when it goes on in later records.
    fn cut_handshake(
        &mut self,
        cx: &mut DecodeCtx,
        dir: Dir,
        body: &[u8],
        len: usize,
        frame: FrameNo,
    ) {
        self.on_handshake_bytes(cx, dir, body, frame);
        let rest_of_record = len.saturating_sub(body.len());
        let Some(side) = self.sides.get_mut(dir.index()) else {
            return;
        };
        if side.hs_skip > 0 {
            side.hs_skip = side.hs_skip.saturating_sub(rest_of_record);
            return;
        }
        let partial = std::mem::take(&mut side.hs);
        let Some(&t) = partial.first() else {
            return;
        };
        if let Some(mlen) = be24(&partial, 1) {
            let rest_of_message = (4 + mlen).saturating_sub(partial.len());
            side.hs_skip = rest_of_message.saturating_sub(rest_of_record);
        }
        let (name, letter) = handshake_name(t);
        self.notes.push(format!(
            "tls: {name} from the {} at frame {frame} cut by the snap length; not read",
            dir.sender()
        ));
        match (t, dir) {
            (1, Dir::ToServer) => self.seen_client_hello = true,
            (2, Dir::ToClient) => self.seen_server_hello = true,
            (14, Dir::ToClient) => self.server_flight_done = true,
            _ => {}
        }
        self.history(dir, letter);
        self.last_msg = Some(name);
    }

    /// Application data from a side whose ChangeCipherSpec went unseen in a cut: up
    /// to TLS 1.2 a peer sends none before its ChangeCipherSpec and Finished, so it
    /// sent them.
    pub(super) fn app_data_after_cut(&mut self, dir: Dir) {
        if self.tls13 {
            return;
        }
        if let Some(side) = self.sides.get_mut(dir.index())
            && side.cut_seen
            && !side.ccs
        {
            side.ccs = true;
            side.encrypted = true;
        }
    }

    /// `data` past what a cut leaves to skip or to wait out (see [`Resync::pass`]).
    pub(super) fn after_cut<'a>(&mut self, dir: Dir, data: &'a [u8]) -> &'a [u8] {
        match self.sides.get_mut(dir.index()) {
            Some(side) => side.resync.pass(data),
            None => &[],
        }
    }

    /// Hands `dir` over to the header walk, with what the record layer held of an
    /// unfinished record or knew of a cut one (once).
    pub(super) fn walk_begin(&mut self, dir: Dir) {
        if self.walk.started(dir) {
            return;
        }
        match self.sides.get_mut(dir.index()).filter(|s| !s.stopped) {
            Some(side) => {
                let resync = std::mem::take(&mut side.resync);
                self.walk.begin(dir, side.rec.bytes(), resync);
            }
            None => self.walk.begin(dir, &[], Resync::default()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::record::CT_HANDSHAKE;
    use super::super::tests::{client_hello, hs, record, server_hello};
    use super::*;
    use crate::protocols::tls::TlsFacts;

    /// Segments of one direction: (captured bytes, bytes cut after them).
    type Segs = Vec<(Vec<u8>, u64)>;

    fn seg(bytes: &[u8], keep: usize) -> (Vec<u8>, u64) {
        let keep = keep.min(bytes.len());
        (bytes[..keep].to_vec(), (bytes.len() - keep) as u64)
    }

    /// Feeds client and server segments in turn (client first).
    fn run(client: &Segs, server: &Segs) -> (TlsFacts, Vec<String>) {
        let cx = &mut DecodeCtx::default();
        let mut d = TlsDecoder::new();
        let mut frame = 0;
        for i in 0..client.len().max(server.len()) {
            for (dir, segs) in [(Dir::ToServer, client), (Dir::ToClient, server)] {
                if let Some((bytes, cut)) = segs.get(i) {
                    frame += 1;
                    let at = (FrameNo(frame), Timestamp(0));
                    d.on_data(cx, dir, bytes, at.0, at.1);
                    if *cut > 0 {
                        d.on_cut(cx, dir, *cut, at);
                    }
                }
            }
        }
        let (f, notes) = d.finish();
        (f, notes.iter().map(str::to_string).collect())
    }

    /// A TLS 1.2 handshake: the server's flight (ServerHello, a 600-byte Certificate
    /// record, ServerHelloDone) in one segment; both Finished after a CCS; then one
    /// application record each way and the client's encrypted close_notify.
    fn tls12() -> (Segs, Segs, usize) {
        let ch = client_hello();
        let sh = record(CT_HANDSHAKE, &server_hello(false, [9; 32]));
        let cert = record(CT_HANDSHAKE, &hs(11, &[0x30; 600]));
        let done = record(CT_HANDSHAKE, &hs(14, &[]));
        let flight = [sh.clone(), cert, done].concat();
        let mut fin = record(CT_HANDSHAKE, &hs(16, &[4; 66]));
        fin.extend(record(CT_CCS, &[1]));
        fin.extend(record(CT_HANDSHAKE, &[0xee; 40]));
        let mut sfin = record(CT_CCS, &[1]);
        sfin.extend(record(CT_HANDSHAKE, &[0xdd; 40]));
        let client = vec![
            (ch, 0),
            (fin, 0),
            (record(CT_APP_DATA, &[1; 300]), 0),
            (record(CT_ALERT, &[2; 26]), 0),
        ];
        let server = vec![(flight, 0), (sfin, 0), (record(CT_APP_DATA, &[2; 500]), 0)];
        (client, server, sh.len())
    }

    #[test]
    fn handshake_followed_past_a_cut_at_every_length() {
        let (client, server, sh_len) = tls12();
        let flight = server[0].0.clone();
        for keep in 0..flight.len() {
            let mut s = server.clone();
            s[0] = seg(&flight, keep);
            let (f, notes) = run(&client, &s);
            // The record header cut in its middle (keep = sh_len + 1..4) included: the
            // next segment starts a record, and the walk goes on there.
            assert!(f.established, "server flight cut after {keep}: {notes:?}");
            assert_eq!(
                f.version.is_some(),
                keep >= sh_len,
                "server flight cut after {keep}"
            );
            assert!(notes.iter().all(|n| !n.contains("stopped")), "{notes:?}");
        }
    }

    #[test]
    fn a_cut_record_is_skipped_to_its_end_in_later_segments() {
        // The Certificate record goes on past the cut segment: the next segment,
        // captured whole, ends it and carries ServerHelloDone, which is read.
        let (client, server, sh_len) = tls12();
        let flight = server[0].0.clone();
        let split = sh_len + 300;
        let mut s = server.clone();
        s[0] = (flight[..sh_len + 20].to_vec(), (split - sh_len - 20) as u64);
        s.insert(1, (flight[split..].to_vec(), 0));
        let (f, notes) = run(&client, &s);
        assert!(f.history.contains('x') && f.history.contains('n'), "{f:?}");
        assert!(f.established, "{notes:?}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("certificate from the server"))
        );
    }

    #[test]
    fn every_segment_cut_to_24_bytes() {
        // tcpdump -s 96 on "any": 24 payload bytes a segment. Every record header
        // here starts a segment, and application data both ways shows the handshake
        // done even though no ChangeCipherSpec was seen whole.
        let (client, server, _) = tls12();
        let cut = |segs: &Segs| segs.iter().map(|(b, _)| seg(b, 24)).collect::<Segs>();
        let (f, notes) = run(&cut(&client), &cut(&server));
        assert!(f.established, "{notes:?}");
        // A client that gives up after the server's flight: its 26-byte alert is
        // encrypted, never read as a plaintext level and description.
        let client = vec![seg(&client[0].0, 24), seg(&record(CT_ALERT, &[2; 26]), 24)];
        let (f, notes) = run(&client, &server);
        let alert = f.alerts.last().map(|a| (a.from, a.encrypted, a.level));
        assert_eq!(alert, Some((Dir::ToServer, true, None)), "{notes:?}");
        assert!(!f.established);
    }

    #[test]
    fn a_segment_that_is_not_a_record_start_waits_for_one() {
        let (client, server, _) = tls12();
        let mut s = server.clone();
        // The flight is cut right after ServerHello's header; a retransmitted tail
        // of the flight (not a record start) comes next, then the CCS segment.
        let flight = s[0].0.clone();
        s[0] = seg(&flight, 3);
        s.insert(1, (vec![0x30; 40], 0));
        let (f, notes) = run(&client, &s);
        assert!(f.established, "{notes:?}");
    }
}
