//! After the handshake: a walk over record headers only, per direction, to know when
//! each side last sent application data (a request, an answer). Bodies are skipped,
//! never buffered.
//!
//! Not application data: alerts (TLS ≤ 1.2 content type 21; TLS 1.3 a 19-byte
//! encrypted record, the size of an encrypted alert such as close_notify) and, from a
//! TLS 1.3 server, its session tickets: a leading run of two to [`MAX_TICKETS`]
//! records of one size, at most [`TICKET_MAX_LEN`] bytes each, sent before anything
//! else (servers send them on the handshake's end, unasked). A single leading record
//! is taken for an answer: it could be one.

use super::cut::Resync;
use super::record::CT_APP_DATA;
use crate::model::{Dir, FrameNo, Timestamp};

/// Session tickets a TLS 1.3 server sends unasked (OpenSSL and BoringSSL: 2).
const MAX_TICKETS: usize = 4;
/// Largest encrypted record taken for a session ticket (OpenSSL's are 250 bytes).
const TICKET_MAX_LEN: u16 = 2048;
/// An encrypted TLS 1.3 alert: 2 bytes, the inner content type, a 16-byte AEAD tag.
const TLS13_ALERT_LEN: u16 = 19;

/// Where a record ends: its last byte's frame and arrival.
pub(super) type At = (FrameNo, Timestamp);

/// Header walk of one direction.
#[derive(Clone, Debug, Default)]
struct DirWalk {
    started: bool,
    stopped: bool,
    hdr: [u8; 5],
    hdr_len: usize,
    /// Body bytes of the current record still to skip.
    skip: usize,
    ct: u8,
    len: u16,
    /// Where a cut left this direction (see [`super::cut`]).
    resync: Resync,
}

/// The walk of both directions and what it learned.
#[derive(Clone, Debug, Default)]
pub(super) struct Walk {
    sides: [DirWalk; 2],
    answers: Answers,
    /// Last application record of the client and (tickets left out) of the server.
    last: [Option<At>; 2],
}

/// The server's leading records that may be session tickets (TLS 1.3).
#[derive(Clone, Debug, Default)]
struct Answers {
    run: Vec<(u16, At)>,
    run_over: bool,
}

impl Walk {
    /// True while `dir` is still walked.
    pub(super) fn wants(&self, dir: Dir) -> bool {
        self.sides.get(dir.index()).is_some_and(|s| !s.stopped)
    }

    /// Bytes lost in `dir`: record boundaries are unknown from here on.
    pub(super) fn stop(&mut self, dir: Dir) {
        if let Some(s) = self.sides.get_mut(dir.index()) {
            s.stopped = true;
        }
    }

    /// True once `dir` was handed over to the walk.
    pub(super) fn started(&self, dir: Dir) -> bool {
        self.sides.get(dir.index()).is_some_and(|s| s.started)
    }

    /// Takes `dir` over from the record layer: `pending` is what it holds of an
    /// incomplete record, `resync` where a cut left it.
    pub(super) fn begin(&mut self, dir: Dir, pending: &[u8], resync: Resync) {
        if let Some(s) = self.sides.get_mut(dir.index()) {
            s.started = true;
            s.take(pending);
            s.resync = resync;
        }
    }

    /// Passes over `dir`'s next bytes in advance, when they lie inside the body of
    /// the record being walked: how many (all but the body's last byte, which ends
    /// the record and comes with its frame), taken as walked. The caller drops that
    /// many bytes, or hands back what it did not drop with [`unskip`](Self::unskip).
    pub(super) fn skip_ahead(&mut self, dir: Dir) -> u64 {
        match self.sides.get_mut(dir.index()) {
            Some(s) if !s.stopped && s.resync.idle() && s.hdr_len == 0 && s.skip > 1 => {
                let n = s.skip - 1;
                s.skip = 1;
                n as u64
            }
            _ => 0,
        }
    }

    /// `n` bytes of [`skip_ahead`](Self::skip_ahead) were not dropped after all: they
    /// are still to come.
    pub(super) fn unskip(&mut self, dir: Dir, n: u64) {
        if let Some(s) = self.sides.get_mut(dir.index()) {
            s.skip = s
                .skip
                .saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
        }
    }

    /// Walks `data`, which starts a segment or continues the last one.
    pub(super) fn feed(&mut self, dir: Dir, tls13: bool, data: &[u8], at: At) {
        let Walk {
            sides,
            answers,
            last,
        } = self;
        let Some(s) = sides.get_mut(dir.index()) else {
            return;
        };
        s.started = true;
        let mut input = s.resync.pass(data);
        while !input.is_empty() && !s.stopped {
            if s.skip > 0 {
                let k = s.skip.min(input.len());
                s.skip -= k;
                input = input.get(k..).unwrap_or_default();
                if s.skip == 0 {
                    record(answers, last, dir, tls13, s.ct, s.len, at);
                }
                continue;
            }
            let k = (5 - s.hdr_len).min(input.len());
            if let (Some(dst), Some(src)) =
                (s.hdr.get_mut(s.hdr_len..s.hdr_len + k), input.get(..k))
            {
                dst.copy_from_slice(src);
            }
            s.hdr_len += k;
            input = input.get(k..).unwrap_or_default();
            if s.hdr_len == 5 {
                s.start_record();
                if s.skip == 0 && !s.stopped {
                    record(answers, last, dir, tls13, s.ct, s.len, at);
                }
            }
        }
    }

    /// `len` bytes of `dir` were cut by the snap length at the end of the segment in
    /// `at`: a record they end in is counted there; when they go past its end, the
    /// next record is looked for at the next segment.
    pub(super) fn cut(&mut self, dir: Dir, tls13: bool, len: u64, at: At) {
        let Walk {
            sides,
            answers,
            last,
        } = self;
        let Some(s) = sides.get_mut(dir.index()) else {
            return;
        };
        if s.stopped || s.resync.lost() || s.resync.cut_while_skipping(len) {
            return;
        }
        if s.hdr_len > 0 || s.skip == 0 {
            // The cut went through a record header, or began at a record boundary.
            s.hdr_len = 0;
            s.resync.lose();
            return;
        }
        let skip = s.skip as u64;
        s.skip = skip.saturating_sub(len) as usize;
        if len >= skip {
            record(answers, last, dir, tls13, s.ct, s.len, at);
            if len > skip {
                s.resync.lose();
            }
        }
    }

    /// A whole record seen after the handshake (walked, or decoded by the record layer).
    pub(super) fn record(&mut self, dir: Dir, tls13: bool, ct: u8, len: u16, at: At) {
        record(&mut self.answers, &mut self.last, dir, tls13, ct, len, at);
    }

    /// Last application record of the client and of the server.
    pub(super) fn finish(mut self) -> [Option<At>; 2] {
        self.answers.end_run(&mut self.last);
        self.last
    }
}

/// Counts one record: an application record moves its side's `last`, except the
/// server's leading TLS 1.3 session tickets.
fn record(
    answers: &mut Answers,
    last: &mut [Option<At>; 2],
    dir: Dir,
    tls13: bool,
    ct: u8,
    len: u16,
    at: At,
) {
    if ct != CT_APP_DATA || (tls13 && len == TLS13_ALERT_LEN) {
        return;
    }
    match dir {
        Dir::ToServer => last[0] = Some(at),
        Dir::ToClient => {
            if !tls13 || answers.run_over {
                last[1] = Some(at);
                return;
            }
            let same = answers.run.first().is_none_or(|&(l, _)| l == len);
            if same && len <= TICKET_MAX_LEN && answers.run.len() < MAX_TICKETS {
                answers.run.push((len, at));
                return;
            }
            answers.end_run(last);
            last[1] = Some(at);
        }
    }
}

impl Answers {
    /// The leading run is over: one record was an answer, several were tickets.
    fn end_run(&mut self, last: &mut [Option<At>; 2]) {
        if !self.run_over && self.run.len() == 1 {
            last[1] = self.run.first().map(|&(_, at)| at);
        }
        self.run_over = true;
        self.run.clear();
    }
}

impl DirWalk {
    /// Takes over the bytes of an incomplete record the record layer holds.
    fn take(&mut self, pending: &[u8]) {
        let h = pending.len().min(5);
        if let (Some(dst), Some(src)) = (self.hdr.get_mut(..h), pending.get(..h)) {
            dst.copy_from_slice(src);
        }
        self.hdr_len = h;
        if h == 5 {
            self.start_record();
            let have = pending.len() - 5;
            self.skip = self.skip.saturating_sub(have);
        }
    }

    fn start_record(&mut self) {
        let [ct, major, _, hi, lo] = self.hdr;
        self.hdr_len = 0;
        self.ct = ct;
        self.len = u16::from_be_bytes([hi, lo]);
        self.skip = usize::from(self.len);
        if major != 3 || !(20..=24).contains(&ct) {
            // Not a record header: lost in the stream.
            self.stopped = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn at(n: u64) -> At {
        (FrameNo(n), Timestamp(n as i64 * 1_000_000_000))
    }

    fn rec(ct: u8, len: u16) -> Vec<u8> {
        let mut r = vec![ct, 3, 3];
        r.extend(len.to_be_bytes());
        r.extend(vec![0; usize::from(len)]);
        r
    }

    #[test]
    fn request_then_tickets_then_close_notify() {
        let mut w = Walk::default();
        w.feed(Dir::ToServer, true, &rec(23, 306), at(18));
        w.feed(Dir::ToClient, true, &rec(23, 250), at(21));
        w.feed(Dir::ToClient, true, &rec(23, 250), at(23));
        w.feed(Dir::ToServer, true, &rec(23, 19), at(25));
        assert_eq!(w.finish(), [Some(at(18)), None]);
    }

    #[test]
    fn an_answer_after_tickets_and_a_lone_record_count() {
        let mut w = Walk::default();
        let mut b = rec(23, 250);
        b.extend(rec(23, 250));
        b.extend(rec(23, 900));
        w.feed(Dir::ToClient, true, &b, at(5));
        assert_eq!(w.finish()[1], Some(at(5)));
        let mut w = Walk::default();
        w.feed(Dir::ToClient, true, &rec(23, 250), at(7));
        assert_eq!(w.finish()[1], Some(at(7)));
        // TLS 1.2 has no tickets after the handshake; its alerts have their own type.
        let mut w = Walk::default();
        w.feed(Dir::ToClient, false, &rec(23, 250), at(8));
        w.feed(Dir::ToServer, false, &rec(21, 26), at(9));
        assert_eq!(w.finish(), [None, Some(at(8))]);
    }

    #[test]
    fn split_at_every_offset_and_taken_over() {
        let mut b = rec(23, 40);
        b.extend(rec(23, 7));
        for cut in 0..b.len() {
            let mut w = Walk::default();
            w.feed(Dir::ToServer, true, &b[..cut], at(1));
            w.feed(Dir::ToServer, true, &b[cut..], at(2));
            assert_eq!(w.finish()[0], Some(at(2)), "cut {cut}");
            // What the record layer holds is a strict prefix of one record.
            if cut < 45 {
                let mut w = Walk::default();
                w.begin(Dir::ToServer, &b[..cut], Resync::default());
                w.feed(Dir::ToServer, true, &b[cut..], at(3));
                assert_eq!(w.finish()[0], Some(at(3)), "pending {cut}");
            }
        }
        let mut w = Walk::default();
        w.feed(Dir::ToServer, true, b"GET / HTTP/1.1\r\n", at(1));
        assert!(!w.wants(Dir::ToServer));
        assert_eq!(w.finish()[0], None);
    }
}
