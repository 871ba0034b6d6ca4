//! Decoded facts past `--max-facts` or a decoder's per-flow bound: not kept with their
//! flow (the report lists and counts only the kept ones), but diagnosed all the same.
//!
//! A decoder holds such a fact until it is complete (a request until its response and
//! body, a DNS query until its answer), then writes it to the analysis's [`FactLog`].
//! It holds at most [`MAX_HELD_PER_FLOW`], and past [`MAX_HELD`] over all decoders only
//! one (so a busy proxy's connections, one request each in flight, keep their
//! pairs): past that the oldest is written as it stands, and its answer later alone.
//! The log is compact bytes that spill to a temporary file like the finished flows
//! ([`crate::spill`]). Each decoder's records form a chain (each names the one
//! before), and the flow keeps the chains' last records ([`Overflowed`]), a few bytes;
//! the rules read a flow's chains back and see its facts merged in order.

use super::dns::DnsTransaction;
use super::http::HttpExchange;
use super::stored::Texts;
use crate::spill::{Pos, SpillLog};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Facts one decoder holds, at most, while they are incomplete.
pub const MAX_HELD_PER_FLOW: usize = 64;
/// Complete facts a decoder writes as one record (fewer, larger records: a flow's
/// are read back with fewer reads), unless the facts held are past [`MAX_HELD`].
pub const BATCH: usize = 64;
/// Facts all decoders of an analysis hold together past which each holds one at most
/// (so at most this plus one per open flow).
pub const MAX_HELD: usize = 4096;

/// The facts of a flow not kept with it: where they are in the [`FactLog`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Overflowed {
    /// The last record of each chain, and whether its exchanges were read from TLS
    /// records decrypted with a key log.
    pub chains: Vec<(Pos, bool)>,
    /// Facts a finished decoder still held: the flow table writes them to the log.
    #[serde(skip)]
    pub http: Vec<HttpExchange>,
    #[serde(skip)]
    pub dns: Vec<DnsTransaction>,
}

impl Overflowed {
    /// True when the flow had facts past the bounds.
    pub fn any(&self) -> bool {
        !self.chains.is_empty() || !self.http.is_empty() || !self.dns.is_empty()
    }

    /// Takes in the facts of a nested decoder (a tunnel's, or decrypted ones).
    pub fn merge(&mut self, inner: Overflowed, decrypted: bool) {
        self.chains
            .extend(inner.chains.into_iter().map(|(p, d)| (p, d || decrypted)));
        self.http.extend(inner.http.into_iter().map(|mut h| {
            h.decrypted |= decrypted;
            h
        }));
        self.dns.extend(inner.dns);
    }
}

/// One record: facts of one decoder, and its record before.
#[derive(Serialize, Deserialize)]
struct Record {
    prev: Option<Pos>,
    #[serde(with = "super::stored::exchanges")]
    http: Vec<HttpExchange>,
    dns: Vec<DnsTransaction>,
}

/// Every fact not kept with its flow, as compact bytes (see the module).
#[derive(Clone, Debug, Default)]
pub struct FactLog {
    log: SpillLog,
    texts: Arc<Texts>,
    /// Facts decoders hold, not yet written.
    held: usize,
    /// Facts that could not be written or read back (none in practice).
    lost: u64,
}

impl FactLog {
    pub fn new() -> FactLog {
        FactLog::default()
    }

    /// A log that keeps at most about `bytes` in memory (see
    /// [`SpillLog::with_memory_limit`]).
    pub fn with_memory_limit(bytes: usize) -> FactLog {
        FactLog {
            log: SpillLog::with_memory_limit(bytes),
            ..FactLog::default()
        }
    }

    /// A decoder holds one more fact.
    pub fn hold(&mut self) {
        self.held += 1;
    }

    /// A decoder gives up `n` facts it held (not written).
    pub fn release(&mut self, n: usize) {
        self.held = self.held.saturating_sub(n);
    }

    /// Facts decoders hold.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Writes facts a decoder held after its record `prev`; the chain's new last
    /// record (`prev` when there is nothing to write).
    pub fn write(
        &mut self,
        prev: Option<Pos>,
        http: Vec<HttpExchange>,
        dns: Vec<DnsTransaction>,
    ) -> Option<Pos> {
        let n = http.len() + dns.len();
        if n == 0 {
            return prev;
        }
        self.held = self.held.saturating_sub(n);
        let rec = Record { prev, http, dns };
        let texts = Arc::make_mut(&mut self.texts);
        let written = texts
            .write(|| postcard::to_allocvec(&rec))
            .ok()
            .and_then(|bytes| self.log.push(&bytes));
        if written.is_none() {
            self.lost += n as u64;
            return prev;
        }
        written
    }

    /// Writes what a finished decoder still held as a chain of its own.
    pub fn settle(&mut self, o: &mut Overflowed) {
        let (http, dns) = (std::mem::take(&mut o.http), std::mem::take(&mut o.dns));
        let decrypted = !http.is_empty() && http.iter().all(|h| h.decrypted);
        if let Some(p) = self.write(None, http, dns) {
            o.chains.push((p, decrypted));
        }
    }

    /// The facts of `o`, each chain in the order written.
    pub fn read(&self, o: &Overflowed) -> (Vec<HttpExchange>, Vec<DnsTransaction>) {
        let (mut http, mut dns) = (o.http.clone(), o.dns.clone());
        for &(last, decrypted) in &o.chains {
            let mut recs = Vec::new();
            let mut at = Some(last);
            while let Some(p) = at {
                let rec = self.log.read_record(p, |b| {
                    self.texts.read(|| postcard::from_bytes::<Record>(b)).ok()
                });
                let Some(Some(rec)) = rec else { break };
                at = rec.prev;
                recs.push(rec);
            }
            for rec in recs.into_iter().rev() {
                http.extend(rec.http.into_iter().map(|mut h| {
                    h.decrypted |= decrypted;
                    h
                }));
                dns.extend(rec.dns);
            }
        }
        (http, dns)
    }

    /// Heap bytes held (the log's chunks in memory and the shared text).
    pub fn heap_bytes(&self) -> usize {
        self.log.heap_bytes() + self.texts.heap_bytes()
    }

    /// Facts that could not be written (none in practice).
    pub fn lost(&self) -> u64 {
        self.lost
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Dir, FrameNo, Timestamp};
    use crate::protocols::DecodeCtx;
    use crate::protocols::dns::DnsTracker;
    use crate::protocols::http::HttpDecoder;
    use std::net::SocketAddr;

    /// A context that keeps no fact, with a log that spills at once.
    fn spent() -> DecodeCtx {
        let mut cx = DecodeCtx::new(Default::default(), 0);
        cx.facts = FactLog::with_memory_limit(0);
        cx
    }

    #[test]
    fn http_exchanges_not_kept_are_held_while_unanswered_then_written() {
        let mut cx = spent();
        let mut d = HttpDecoder::new();
        let n = 3 * MAX_HELD_PER_FLOW as u64;
        for i in 0..n {
            let req = format!("GET http://h/{i} HTTP/1.1\r\nHost: h\r\n\r\n");
            d.on_data(
                &mut cx,
                Dir::ToServer,
                req.as_bytes(),
                FrameNo(i + 1),
                Timestamp(0),
            );
            assert!(
                cx.facts.held() <= MAX_HELD_PER_FLOW,
                "held {}",
                cx.facts.held()
            );
        }
        for i in 0..n {
            let status = if i + 1 == n { 407 } else { 200 };
            let resp = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
            d.on_data(
                &mut cx,
                Dir::ToClient,
                resp.as_bytes(),
                FrameNo(n + i + 1),
                Timestamp(0),
            );
        }
        let (kept, _, mut o) = d.finish_all();
        assert!(kept.is_empty());
        cx.facts.settle(&mut o);
        assert_eq!(cx.facts.held(), 0);
        let (http, _) = cx.facts.read(&o);
        // Every request, in order; those written before their answer came are followed
        // by their answers alone.
        let targets: Vec<_> = http.iter().filter_map(|h| h.target.clone()).collect();
        let want: Vec<String> = (0..n).map(|i| format!("http://h/{i}")).collect();
        assert_eq!(
            targets.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            want
        );
        assert_eq!(http.iter().filter(|h| h.status.is_some()).count() as u64, n);
        let last = http.iter().find(|h| h.status == Some(407)).unwrap();
        assert_eq!(last.response_frame, Some(FrameNo(2 * n)));
    }

    fn query(id: u16, name: &str, response: bool) -> Vec<u8> {
        let flags = if response { [0x81, 0x83] } else { [0x01, 0x00] };
        let mut b = id.to_be_bytes().to_vec();
        b.extend(flags);
        b.extend([0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.') {
            b.push(l.len() as u8);
            b.extend(l.as_bytes());
        }
        b.extend([0, 0, 1, 0, 1]);
        b
    }

    #[test]
    fn dns_transactions_not_kept_are_answered_then_written() {
        let mut cx = spent();
        let mut t = DnsTracker::new();
        let (c, s): (SocketAddr, SocketAddr) = (
            "10.0.0.2:5000".parse().unwrap(),
            "10.0.0.1:53".parse().unwrap(),
        );
        for i in 0..100u16 {
            let name = format!("n{i}.example");
            let f = FrameNo(u64::from(i) * 2 + 1);
            t.on_datagram(
                &mut cx,
                c,
                s,
                Dir::ToServer,
                &query(i, &name, false),
                f,
                Timestamp(0),
            );
            // Re-sent: the same transaction.
            t.on_datagram(
                &mut cx,
                c,
                s,
                Dir::ToServer,
                &query(i, &name, false),
                f,
                Timestamp(0),
            );
            let f = FrameNo(f.0 + 1);
            t.on_datagram(
                &mut cx,
                c,
                s,
                Dir::ToClient,
                &query(i, &name, true),
                f,
                Timestamp(0),
            );
        }
        assert_eq!(
            t.facts_not_kept(),
            200,
            "each query and its re-send, as before"
        );
        let (kept, mut o) = t.finish_all();
        assert!(kept.is_empty());
        cx.facts.settle(&mut o);
        let (_, dns) = cx.facts.read(&o);
        assert_eq!(dns.len(), 100);
        assert!(
            dns.iter()
                .all(|t| t.answered && t.rcode.as_deref() == Some("NXDOMAIN"))
        );
        assert_eq!(dns[99].query.as_deref(), Some("n99.example"));
    }
}
