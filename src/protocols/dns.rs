//! DNS messages (RFC 1035) over UDP datagrams and TCP streams, and query/response pairing.
//!
//! The pipeline feeds UDP datagrams to a [`DnsTracker`]; TCP connections on port 53
//! reach [`DnsTcp`] through `protocols::StreamDecoder` (2-byte length prefix,
//! RFC 1035 4.2.2). States per query: name, type, response code, A/AAAA/CNAME
//! answers, response time, or that no answer came. Name decompression is bounded
//! (pointer hops, name length), so no message can loop or panic the parser.

use super::DecodeCtx;
use super::stream_buf::StreamBuf;
use crate::model::{Dir, FrameNo, Timestamp};
use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use thiserror::Error;

const MAX_POINTER_HOPS: usize = 32;
const MAX_NAME_LEN: usize = 255;
const MAX_RECORDS: usize = 64;
const MAX_TRANSACTIONS: usize = 100_000;

/// Why a DNS message could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DnsError {
    #[error("dns message truncated at offset {0}")]
    Truncated(usize),
    #[error("dns name compression loop or too many pointers at offset {0}")]
    PointerLoop(usize),
    #[error("dns name longer than 255 bytes at offset {0}")]
    NameTooLong(usize),
    #[error("bad dns label type 0x{0:02x}")]
    BadLabel(u8),
}

/// Response code (RFC 1035 4.1.1, RFC 6895), unknown values kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rcode(pub u8);

impl Rcode {
    pub const NOERROR: Rcode = Rcode(0);
    pub const FORMERR: Rcode = Rcode(1);
    pub const SERVFAIL: Rcode = Rcode(2);
    pub const NXDOMAIN: Rcode = Rcode(3);
    pub const NOTIMP: Rcode = Rcode(4);
    pub const REFUSED: Rcode = Rcode(5);

    pub fn name(self) -> String {
        match self.0 {
            0 => "NOERROR".into(),
            1 => "FORMERR".into(),
            2 => "SERVFAIL".into(),
            3 => "NXDOMAIN".into(),
            4 => "NOTIMP".into(),
            5 => "REFUSED".into(),
            6 => "YXDOMAIN".into(),
            7 => "YXRRSET".into(),
            8 => "NXRRSET".into(),
            9 => "NOTAUTH".into(),
            10 => "NOTZONE".into(),
            n => format!("RCODE{n}"),
        }
    }
}

pub fn type_name(t: u16) -> String {
    match t {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        6 => "SOA".into(),
        12 => "PTR".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        33 => "SRV".into(),
        41 => "OPT".into(),
        64 => "SVCB".into(),
        65 => "HTTPS".into(),
        255 => "ANY".into(),
        n => format!("TYPE{n}"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsQuestion {
    pub name: String,
    pub qtype: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsAnswer {
    pub name: String,
    pub rtype: u16,
    pub ttl: u32,
    /// Address for A/AAAA, target name for CNAME; absent for other types.
    pub data: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsMessage {
    pub id: u16,
    pub is_response: bool,
    pub opcode: u8,
    pub rcode: Rcode,
    pub truncated: bool,
    pub questions: Vec<DnsQuestion>,
    pub answers: Vec<DnsAnswer>,
}

fn be16(b: &[u8], at: usize) -> Result<u16, DnsError> {
    Ok(u16::from_be_bytes([
        *b.get(at).ok_or(DnsError::Truncated(at))?,
        *b.get(at + 1).ok_or(DnsError::Truncated(at + 1))?,
    ]))
}

fn be32(b: &[u8], at: usize) -> Result<u32, DnsError> {
    Ok((u32::from(be16(b, at)?) << 16) | u32::from(be16(b, at + 2)?))
}

/// Reads a possibly compressed name at `at`, labels that hold a key masked
/// ([`mask_name`](crate::protocols::secrets::mask_name)); returns it and the offset
/// after it.
fn read_name(b: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let (name, next) = read_raw_name(b, at)?;
    let name = match crate::protocols::secrets::mask_name(&name) {
        std::borrow::Cow::Borrowed(_) => name,
        std::borrow::Cow::Owned(masked) => masked,
    };
    Ok((name, next))
}

/// [`read_name`] as the bytes spell it.
fn read_raw_name(b: &[u8], at: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut pos = at;
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *b.get(pos).ok_or(DnsError::Truncated(pos))?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    let after = end.unwrap_or(pos + 1);
                    if name.is_empty() {
                        name.push('.');
                    }
                    return Ok((name, after));
                }
                let label = b
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(DnsError::Truncated(pos + 1))?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &c in label {
                    if c.is_ascii_graphic() && c != b'.' {
                        name.push(c as char);
                    } else {
                        name.push_str(&format!("\\{c:03}"));
                    }
                }
                if name.len() > MAX_NAME_LEN * 4 {
                    return Err(DnsError::NameTooLong(at));
                }
                pos += 1 + usize::from(len);
            }
            0xc0 => {
                let ptr = usize::from(be16(b, pos)? & 0x3fff);
                if end.is_none() {
                    end = Some(pos + 2);
                }
                hops += 1;
                if hops > MAX_POINTER_HOPS {
                    return Err(DnsError::PointerLoop(pos));
                }
                pos = ptr;
            }
            _ => return Err(DnsError::BadLabel(len)),
        }
    }
}

/// Parses one DNS message (a UDP payload, or a TCP message without its length prefix).
pub fn parse(b: &[u8]) -> Result<DnsMessage, DnsError> {
    let mut msg = header(b)?;
    body(b, &mut msg)?;
    Ok(msg)
}

/// Parses what there is of a message cut short by the capture's snap length: the
/// header (id, flags, rcode) must be whole; questions and answers are those that are
/// whole before the cut. The flag says whether the message ended before the cut.
pub fn parse_cut(b: &[u8]) -> Result<(DnsMessage, bool), DnsError> {
    let mut msg = header(b)?;
    let whole = body(b, &mut msg).is_ok();
    Ok((msg, whole))
}

/// A datagram's message, read once: [`parse`], or [`parse_cut`] when the capture's
/// snap length cut it (`cut`). The flag says whether the message is whole.
pub fn read(b: &[u8], cut: bool) -> Result<(DnsMessage, bool), DnsError> {
    if cut {
        parse_cut(b)
    } else {
        parse(b).map(|m| (m, true))
    }
}

/// The 12-byte header: id, flags, counts.
fn header(b: &[u8]) -> Result<DnsMessage, DnsError> {
    let id = be16(b, 0)?;
    let flags = be16(b, 2)?;
    let msg = DnsMessage {
        id,
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        rcode: Rcode((flags & 0xf) as u8),
        truncated: flags & 0x0200 != 0,
        questions: Vec::new(),
        answers: Vec::new(),
    };
    be16(b, 10)?; // header complete
    Ok(msg)
}

/// Questions and answers after the header, pushed onto `msg` as they are read.
fn body(b: &[u8], msg: &mut DnsMessage) -> Result<(), DnsError> {
    let qd = be16(b, 4)?;
    let an = be16(b, 6)?;
    let mut pos = 12;
    for _ in 0..qd {
        let (name, next) = read_name(b, pos)?;
        let qtype = be16(b, next)?;
        be16(b, next + 2)?;
        pos = next + 4;
        if msg.questions.len() < MAX_RECORDS {
            msg.questions.push(DnsQuestion { name, qtype });
        }
    }
    for _ in 0..an {
        let (name, next) = read_name(b, pos)?;
        let rtype = be16(b, next)?;
        let ttl = be32(b, next + 4)?;
        let rdlen = usize::from(be16(b, next + 8)?);
        let rdata_at = next + 10;
        let rdata = b
            .get(rdata_at..rdata_at + rdlen)
            .ok_or(DnsError::Truncated(rdata_at))?;
        let data = match (rtype, rdata.len()) {
            (1, 4) => <[u8; 4]>::try_from(rdata)
                .ok()
                .map(|a| Ipv4Addr::from(a).to_string()),
            (28, 16) => <[u8; 16]>::try_from(rdata)
                .ok()
                .map(|a| Ipv6Addr::from(a).to_string()),
            (5, _) => read_name(b, rdata_at).ok().map(|(n, _)| n),
            _ => None,
        };
        pos = rdata_at + rdlen;
        if msg.answers.len() < MAX_RECORDS {
            msg.answers.push(DnsAnswer {
                name,
                rtype,
                ttl,
                data,
            });
        }
    }
    Ok(())
}

/// One query and its response (either may be missing).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DnsTransaction {
    #[serde(with = "crate::model::stored_addr::opt")]
    pub client: Option<SocketAddr>,
    #[serde(with = "crate::model::stored_addr::opt")]
    pub server: Option<SocketAddr>,
    /// `udp` or `tcp`.
    #[serde(deserialize_with = "super::stored::dns_transport")]
    pub transport: super::stored::Name,
    pub id: u16,
    #[serde(with = "super::stored::opt_text")]
    pub query: Option<std::sync::Arc<str>>,
    #[serde(with = "super::stored::opt_text")]
    pub qtype: Option<std::sync::Arc<str>>,
    pub query_frame: Option<FrameNo>,
    pub query_ts: Option<Timestamp>,
    pub response_frame: Option<FrameNo>,
    /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, ...
    #[serde(with = "super::stored::opt_text")]
    pub rcode: Option<std::sync::Arc<str>>,
    /// A/AAAA addresses and CNAME targets, in answer order.
    #[serde(with = "super::stored::text_list")]
    pub answers: Vec<std::sync::Arc<str>>,
    /// Seconds from query to response.
    pub response_time: Option<f64>,
    /// True when a response was seen.
    pub answered: bool,
    pub truncated: bool,
    /// The response was cut by the snap length before its last record: `answers`
    /// holds those whole before the cut, more may have followed.
    #[serde(default)]
    pub answers_cut: bool,
}

/// Pairs queries and responses by (client, server, id).
#[derive(Clone, Debug, Default)]
pub struct DnsTracker {
    open: HashMap<(Option<SocketAddr>, Option<SocketAddr>, u16), usize>,
    txs: Vec<DnsTransaction>,
    notes: super::Notes,
    transport: &'static str,
    /// Queries not kept (per-flow bound or facts budget spent) whose response has not
    /// come yet: their responses are not counted a second time.
    refused_queries: u64,
    /// Transactions counted but not kept: the facts budget was spent.
    not_kept: u64,
    /// Transactions taken over by the flow of a later copy of their query.
    moved: Vec<usize>,
    /// Transactions not kept (past the budget or `MAX_TRANSACTIONS`) while they wait
    /// for their answer, oldest first: then written to the fact log, for the rules.
    extra: VecDeque<DnsTransaction>,
    /// Serial number of `extra`'s first transaction (`EXTRA | serial` indexes it).
    extra_base: usize,
    /// Transactions not kept, answered, written a batch at a time.
    ready: Vec<DnsTransaction>,
    /// This tracker's last record in the fact log.
    chain: Option<crate::spill::Pos>,
}

/// Marks an index of `open` as one into `extra` (by serial number).
const EXTRA: usize = 1 << (usize::BITS - 1);

impl DnsTracker {
    pub fn new() -> Self {
        DnsTracker {
            transport: "udp",
            ..Default::default()
        }
    }

    /// One UDP datagram between `client` and `server`; `dir` says who sent it.
    #[allow(clippy::too_many_arguments)]
    pub fn on_datagram(
        &mut self,
        cx: &mut DecodeCtx,
        client: SocketAddr,
        server: SocketAddr,
        dir: Dir,
        payload: &[u8],
        frame: FrameNo,
        ts: Timestamp,
    ) {
        self.on_read(cx, client, server, dir, read(payload, false), frame, ts);
    }

    /// One UDP datagram already [`read`] (a datagram cut by the snap length: its
    /// header and whatever questions and answers are whole before the cut).
    #[allow(clippy::too_many_arguments)]
    pub fn on_read(
        &mut self,
        cx: &mut DecodeCtx,
        client: SocketAddr,
        server: SocketAddr,
        dir: Dir,
        read: Result<(DnsMessage, bool), DnsError>,
        frame: FrameNo,
        ts: Timestamp,
    ) {
        self.on_message(cx, Some(client), Some(server), dir, read, frame, ts);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_message(
        &mut self,
        cx: &mut DecodeCtx,
        client: Option<SocketAddr>,
        server: Option<SocketAddr>,
        dir: Dir,
        read: Result<(DnsMessage, bool), DnsError>,
        frame: FrameNo,
        ts: Timestamp,
    ) {
        let (msg, whole) = match read {
            Ok(r) => r,
            Err(e) => {
                self.notes.push(format!("dns: frame {frame}: {e}"));
                return;
            }
        };
        let answers_cut = !whole;
        if answers_cut {
            self.notes.push(format!(
                "dns: frame {frame}: message cut by the snap length; records after the cut not read"
            ));
        }
        let key = (client, server, msg.id);
        let q = msg.questions.first();
        let transport = self.transport;
        // A transaction for this message, opened by its query (if that was seen).
        let opened = |cx: &mut DecodeCtx, by_query: bool| DnsTransaction {
            client,
            server,
            transport,
            id: msg.id,
            query: q.map(|q| cx.intern.text(&q.name)),
            qtype: q.map(|q| cx.intern.text(&type_name(q.qtype))),
            query_frame: by_query.then_some(frame),
            query_ts: by_query.then_some(ts),
            response_frame: None,
            rcode: None,
            answers: Vec::new(),
            response_time: None,
            answered: false,
            truncated: false,
            answers_cut: false,
        };
        if !msg.is_response || dir == Dir::ToServer {
            // The same query again, unanswered so far: the client re-sent it (a
            // resolver's retry keeps id and question). One transaction, timed from
            // the first copy, as the client waited from then.
            let same = |tx: &DnsTransaction| {
                !tx.answered
                    && tx.query.as_deref() == q.map(|q| q.name.as_str())
                    && tx.qtype.as_deref() == q.map(|q| type_name(q.qtype)).as_deref()
            };
            let open = self.open.get(&key).copied();
            if open.and_then(|i| self.txs.get(i)).is_some_and(same) {
                return;
            }
            let again = open.and_then(|i| self.tx(i)).is_some_and(same);
            if !self.keep(cx) {
                self.refused_queries += 1;
                // Not kept (not listed): held until answered, then written for the
                // rules (a re-send of one held is the same transaction).
                if !again && open.is_none() {
                    let tx = opened(cx, true);
                    let i = self.hold(cx, tx);
                    self.open.insert(key, i);
                }
                self.write_extra(cx);
                return;
            }
            self.open.insert(key, self.txs.len());
            self.txs.push(opened(cx, true));
            return;
        }
        let idx = match self.open.remove(&key) {
            Some(i) if i & EXTRA != 0 => {
                // The answer to a query that was counted, not kept.
                self.refused_queries = self.refused_queries.saturating_sub(1);
                match self.tx(i) {
                    Some(_) => i,
                    // Written before its answer came: the answer goes alone.
                    None => {
                        let tx = opened(cx, false);
                        self.hold(cx, tx)
                    }
                }
            }
            Some(i) => i,
            None => {
                if self.refused_queries > 0 {
                    // The answer to a query that was counted, not kept.
                    self.refused_queries -= 1;
                    return;
                }
                if !self.keep(cx) {
                    let tx = opened(cx, false);
                    self.hold(cx, tx)
                } else {
                    // Response whose query we did not see.
                    self.txs.push(opened(cx, false));
                    self.txs.len() - 1
                }
            }
        };
        self.answer(cx, idx, &msg, answers_cut, frame, ts);
        self.write_extra(cx);
    }

    /// The transaction `i` of `open` names, kept or not.
    fn tx(&self, i: usize) -> Option<&DnsTransaction> {
        if i & EXTRA == 0 {
            return self.txs.get(i);
        }
        self.extra.get((i & !EXTRA).checked_sub(self.extra_base)?)
    }

    fn tx_mut(&mut self, i: usize) -> Option<&mut DnsTransaction> {
        if i & EXTRA == 0 {
            return self.txs.get_mut(i);
        }
        self.extra
            .get_mut((i & !EXTRA).checked_sub(self.extra_base)?)
    }

    /// Holds a transaction not kept until it is answered; its index.
    fn hold(&mut self, cx: &mut DecodeCtx, tx: DnsTransaction) -> usize {
        cx.facts.hold();
        self.extra.push_back(tx);
        EXTRA | (self.extra_base + self.extra.len() - 1)
    }

    /// Writes the transactions not kept that are answered to the fact log, oldest
    /// first, and the oldest unanswered ones too while more than the bounds are held.
    fn write_extra(&mut self, cx: &mut DecodeCtx) {
        use super::overflow::{BATCH, MAX_HELD, MAX_HELD_PER_FLOW};
        if cx.facts.held() > MAX_HELD && !self.ready.is_empty() {
            self.write_ready(cx);
        }
        while let Some(front) = self.extra.front() {
            let over = self.extra.len() > MAX_HELD_PER_FLOW
                || (self.extra.len() > 1 && cx.facts.held() > MAX_HELD);
            let serial = EXTRA | self.extra_base;
            let moved = self.moved.contains(&serial);
            if !front.answered && !over && !moved {
                break;
            }
            let tx = self.extra.pop_front();
            self.extra_base += 1;
            // One taken over by another flow is written there (its hold went along).
            if !moved {
                self.ready.extend(tx);
            }
            if over {
                self.write_ready(cx);
            }
        }
        if self.ready.len() >= BATCH || cx.facts.held() > MAX_HELD {
            self.write_ready(cx);
        }
    }

    /// Writes the answered transactions not kept to the fact log, after this
    /// tracker's last record there.
    fn write_ready(&mut self, cx: &mut DecodeCtx) {
        let ready = std::mem::take(&mut self.ready);
        self.chain = cx.facts.write(self.chain, Vec::new(), ready);
    }

    /// Fills in transaction `idx` from its response.
    fn answer(
        &mut self,
        cx: &mut DecodeCtx,
        idx: usize,
        msg: &DnsMessage,
        answers_cut: bool,
        frame: FrameNo,
        ts: Timestamp,
    ) {
        if let Some(tx) = self.tx_mut(idx) {
            tx.answered = true;
            tx.response_frame = Some(frame);
            tx.rcode = Some(cx.intern.text(&msg.rcode.name()));
            tx.truncated = msg.truncated;
            tx.answers_cut = answers_cut;
            tx.response_time = tx.query_ts.map(|q| ts.secs_since(q));
            tx.answers = msg
                .answers
                .iter()
                .filter_map(|a| a.data.as_deref().map(|d| cx.intern.text(d)))
                .collect();
        }
    }

    /// Asks to keep one more transaction: a flow keeps at most `MAX_TRANSACTIONS` and
    /// the facts budget has the last word; refused, it is counted.
    fn keep(&mut self, cx: &mut DecodeCtx) -> bool {
        let ok = cx.budget.take_below(self.txs.len(), MAX_TRANSACTIONS);
        self.not_kept += u64::from(!ok);
        ok
    }

    /// Transactions counted but not kept (the facts budget was spent).
    pub fn facts_not_kept(&self) -> u64 {
        self.not_kept
    }

    /// Takes out the open, unanswered transaction of query `id` for (`name`, `qtype`):
    /// the client sent the query again from another port, where it continues. With
    /// it, whether it was kept (true) or only held for the rules.
    pub fn take_unanswered(
        &mut self,
        id: u16,
        name: &str,
        qtype: u16,
    ) -> Option<(DnsTransaction, bool)> {
        let tname = type_name(qtype);
        let (&key, &i) = self.open.iter().find(|(k, i)| {
            k.2 == id
                && self.tx(**i).is_some_and(|t| {
                    !t.answered
                        && t.query.as_deref() == Some(name)
                        && t.qtype.as_deref() == Some(tname.as_str())
                })
        })?;
        self.open.remove(&key);
        let tx = self.tx(i)?.clone();
        self.moved.push(i);
        Some((tx, i & EXTRA == 0))
    }

    /// Continues `tx`, a query first sent from another port, as this flow's: its
    /// answer will come here. Timed from the first copy, as the client waited from then.
    /// One only held for the rules (`kept` false) asks the budget again, as a new
    /// query would, and stays held when refused (its hold moves here).
    pub fn adopt(
        &mut self,
        cx: &mut DecodeCtx,
        mut tx: DnsTransaction,
        kept: bool,
        client: SocketAddr,
        server: SocketAddr,
    ) {
        tx.client = Some(client);
        tx.server = Some(server);
        let key = (Some(client), Some(server), tx.id);
        if !kept && !self.keep(cx) {
            self.refused_queries += 1;
            self.extra.push_back(tx);
            self.open
                .insert(key, EXTRA | (self.extra_base + self.extra.len() - 1));
            self.write_extra(cx);
            return;
        }
        if !kept {
            // Held where it was first sent: its hold is given up there.
            cx.facts.release(1);
        }
        self.open.insert(key, self.txs.len());
        self.txs.push(tx);
    }

    /// All transactions in query order; unanswered ones have `answered: false`.
    pub fn finish(self) -> Vec<DnsTransaction> {
        self.finish_all().0
    }

    /// [`finish`](Self::finish), and the transactions not kept: where they are in
    /// the fact log, and those still held.
    pub fn finish_all(self) -> (Vec<DnsTransaction>, super::overflow::Overflowed) {
        let moved = self.moved;
        let txs = self
            .txs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !moved.contains(i))
            .map(|(_, t)| t)
            .collect();
        let base = self.extra_base;
        let overflow = super::overflow::Overflowed {
            chains: self.chain.map(|p| (p, false)).into_iter().collect(),
            http: Vec::new(),
            dns: self
                .ready
                .into_iter()
                .chain(
                    self.extra
                        .into_iter()
                        .enumerate()
                        .filter(|(i, _)| !moved.contains(&(EXTRA | (base + i))))
                        .map(|(_, t)| t),
                )
                .collect(),
        };
        (txs, overflow)
    }

    /// Decode notes (malformed messages).
    pub fn notes(&self) -> &super::Notes {
        &self.notes
    }
}

/// DNS over one TCP connection (messages behind a 2-byte length).
#[derive(Clone, Debug)]
pub struct DnsTcp {
    bufs: [StreamBuf; 2],
    tracker: DnsTracker,
    stopped: [bool; 2],
}

impl Default for DnsTcp {
    fn default() -> Self {
        DnsTcp {
            bufs: [StreamBuf::new(65_537), StreamBuf::new(65_537)],
            tracker: DnsTracker {
                transport: "tcp",
                ..Default::default()
            },
            stopped: [false, false],
        }
    }
}

impl DnsTcp {
    pub fn wants_data(&self, dir: Dir) -> bool {
        !self.stopped.get(dir.index()).copied().unwrap_or(true)
    }

    pub fn on_gap(&mut self, dir: Dir) {
        if let Some(s) = self.stopped.get_mut(dir.index()) {
            *s = true;
        }
    }

    /// Bytes held for `dir` while a message is incomplete.
    pub fn held(&self, dir: Dir) -> usize {
        self.bufs.get(dir.index()).map_or(0, StreamBuf::held)
    }

    /// Gives up the incomplete message held for `dir` (a buffer cap was reached) and
    /// stops decoding that direction; false when nothing was held.
    pub fn shed(&mut self, dir: Dir) -> bool {
        let Some(buf) = self.bufs.get_mut(dir.index()) else {
            return false;
        };
        let len = buf.len();
        if len == 0 {
            return false;
        }
        buf.consume(len);
        self.on_gap(dir);
        self.tracker.notes.push(format!(
            "dns: {len} bytes of an incomplete message from the {} given up: buffer cap (--stream-buffer/--total-buffer) reached; stopped decoding that direction",
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
        let d = dir.index();
        let mut input = data;
        while !input.is_empty() && self.wants_data(dir) {
            let Some(buf) = self.bufs.get_mut(d) else {
                return;
            };
            let took = buf.push(input, frame, ts);
            input = input.get(took..).unwrap_or_default();
            loop {
                let Some(buf) = self.bufs.get_mut(d) else {
                    return;
                };
                let b = buf.bytes();
                let Ok(len) = be16(b, 0) else { break };
                let Some(msg) = b.get(2..2 + usize::from(len)) else {
                    break;
                };
                let msg = msg.to_vec();
                let (f, t) = buf.at(1 + usize::from(len));
                buf.consume(2 + usize::from(len));
                self.tracker
                    .on_message(cx, None, None, dir, read(&msg, false), f, t);
            }
            if took == 0 {
                return;
            }
        }
    }

    /// Transactions counted but not kept (the facts budget was spent).
    pub fn facts_not_kept(&self) -> u64 {
        self.tracker.not_kept
    }

    pub fn finish(self) -> (Vec<DnsTransaction>, super::Notes) {
        (self.tracker.txs, self.tracker.notes)
    }

    /// [`finish`](Self::finish), and the transactions not kept (see
    /// [`DnsTracker::finish_all`]).
    pub fn finish_all(
        mut self,
    ) -> (
        Vec<DnsTransaction>,
        super::Notes,
        super::overflow::Overflowed,
    ) {
        let notes = std::mem::take(&mut self.tracker.notes);
        let (txs, overflow) = self.tracker.finish_all();
        (txs, notes, overflow)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut b = id.to_be_bytes().to_vec();
        b.extend([0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.') {
            b.push(l.len() as u8);
            b.extend(l.as_bytes());
        }
        b.push(0);
        b.extend(qtype.to_be_bytes());
        b.extend([0, 1]);
        b
    }

    fn response(id: u16, name: &str, rcode: u8) -> Vec<u8> {
        let mut b = query(id, name, 1);
        b[2] = 0x81;
        b[3] = 0x80 | rcode;
        if rcode == 0 {
            b[7] = 2;
            // CNAME via pointer to the question name, then A.
            b.extend([
                0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, b'w', b'w', b'w', 0xc0, 12,
            ]);
            b.extend([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34]);
        }
        b
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_answers_with_compression() {
        let m = parse(&response(7, "example.com", 0)).unwrap();
        assert!(m.is_response);
        assert_eq!(m.rcode, Rcode::NOERROR);
        assert_eq!(m.questions[0].name, "example.com");
        assert_eq!(m.answers[0].data.as_deref(), Some("www.example.com"));
        assert_eq!(m.answers[1].data.as_deref(), Some("93.184.216.34"));
    }

    #[test]
    fn tracker_pairs_and_reports_unanswered() {
        let (c, s) = (addr("10.0.0.1:5353"), addr("10.0.0.53:53"));
        let cx = &mut DecodeCtx::default();
        let mut t = DnsTracker::new();
        t.on_datagram(
            cx,
            c,
            s,
            Dir::ToServer,
            &query(1, "proxy.corp", 1),
            FrameNo(1),
            Timestamp(0),
        );
        t.on_datagram(
            cx,
            c,
            s,
            Dir::ToServer,
            &query(2, "api.anthropic.com", 28),
            FrameNo(2),
            Timestamp(0),
        );
        t.on_datagram(
            cx,
            c,
            s,
            Dir::ToClient,
            &response(1, "proxy.corp", 3),
            FrameNo(3),
            Timestamp(250_000_000),
        );
        let txs = t.finish();
        assert_eq!(txs.len(), 2);
        assert_eq!(txs[0].rcode.as_deref(), Some("NXDOMAIN"));
        assert_eq!(txs[0].response_time, Some(0.25));
        assert!(!txs[1].answered);
        assert_eq!(txs[1].qtype.as_deref(), Some("AAAA"));
    }

    #[test]
    fn resent_query_is_one_transaction() {
        let (c, s) = (addr("10.0.0.1:5353"), addr("10.0.0.53:53"));
        let cx = &mut DecodeCtx::default();
        let mut t = DnsTracker::new();
        let send = |t: &mut DnsTracker, cx: &mut DecodeCtx, dir, b: &[u8], f: u64| {
            t.on_datagram(
                cx,
                c,
                s,
                dir,
                b,
                FrameNo(f),
                Timestamp(f as i64 * 1_000_000_000),
            );
        };
        // Sent three times, answered once: one transaction, timed from the first copy.
        for f in 1..=3 {
            send(&mut t, cx, Dir::ToServer, &query(7, "api.example", 1), f);
        }
        send(&mut t, cx, Dir::ToClient, &response(7, "api.example", 0), 4);
        // Sent twice, never answered: one unanswered transaction.
        send(&mut t, cx, Dir::ToServer, &query(9, "never.example", 1), 5);
        send(&mut t, cx, Dir::ToServer, &query(9, "never.example", 1), 6);
        // The same id for another question is another transaction; so is a query
        // sent again after its answer.
        send(&mut t, cx, Dir::ToServer, &query(9, "other.example", 1), 7);
        send(&mut t, cx, Dir::ToServer, &query(7, "api.example", 1), 8);
        let txs = t.finish();
        assert_eq!(txs.len(), 4);
        assert!(txs[0].answered);
        assert_eq!(txs[0].query_frame, Some(FrameNo(1)));
        assert_eq!(txs[0].response_time, Some(3.0));
        assert!(!txs[1].answered);
        assert_eq!(txs[1].query_frame, Some(FrameNo(5)));
        assert_eq!(txs[2].query.as_deref(), Some("other.example"));
        assert_eq!(txs[3].query_frame, Some(FrameNo(8)));
    }

    #[test]
    fn pointer_loop_is_an_error() {
        let mut b = query(1, "a", 1);
        let at = b.len() - 7; // start of the question name
        b[at] = 0xc0;
        b[at + 1] = at as u8;
        assert!(matches!(parse(&b), Err(DnsError::PointerLoop(_))));
    }

    #[test]
    fn cut_at_every_length_reads_only_whole_parts() {
        let r = response(9, "example.com", 0);
        let full = parse(&r).unwrap();
        let q_end = 12 + 13 + 4;
        for n in 0..r.len() {
            match parse_cut(&r[..n]) {
                Err(_) => assert!(n < 12, "len {n}"),
                Ok((m, whole)) => {
                    assert!(n >= 12 && !whole, "len {n}");
                    assert_eq!((m.id, m.rcode.name()), (9, "NOERROR".to_string()));
                    assert_eq!(m.questions.len(), usize::from(n >= q_end), "len {n}");
                    assert!(full.answers.starts_with(&m.answers), "len {n}");
                    assert!(m.answers.len() < full.answers.len(), "len {n}");
                }
            }
        }
        assert_eq!(parse_cut(&r).unwrap(), (full, true));
    }

    #[test]
    fn cut_response_is_answered_with_its_rcode() {
        let (c, s) = (addr("10.0.0.2:5353"), addr("10.0.0.1:53"));
        let cx = &mut DecodeCtx::default();
        let mut t = DnsTracker::new();
        let q = query(7, "example.com", 1);
        t.on_datagram(cx, c, s, Dir::ToServer, &q, FrameNo(1), Timestamp(0));
        let r = response(7, "example.com", 0);
        let cut = &r[..q.len() + 5];
        let read = read(cut, true);
        t.on_read(cx, c, s, Dir::ToClient, read, FrameNo(2), Timestamp(1));
        let txs = t.finish();
        assert_eq!(txs.len(), 1);
        assert!(txs[0].answered);
        assert_eq!(txs[0].rcode.as_deref(), Some("NOERROR"));
        assert!(txs[0].answers.is_empty());
        assert!(txs[0].answers_cut);
    }

    #[test]
    fn truncated_every_length() {
        let r = response(9, "example.com", 0);
        for n in 0..r.len() {
            assert!(parse(&r[..n]).is_err(), "len {n}");
        }
    }

    #[test]
    fn tcp_length_prefixed_split() {
        let m = query(5, "example.com", 1);
        let mut bytes = (m.len() as u16).to_be_bytes().to_vec();
        bytes.extend(m);
        let r = response(5, "example.com", 5);
        let mut rb = (r.len() as u16).to_be_bytes().to_vec();
        rb.extend(r);
        let cx = &mut DecodeCtx::default();
        let mut d = DnsTcp::default();
        d.on_data(cx, Dir::ToServer, &bytes[..1], FrameNo(1), Timestamp(0));
        d.on_data(cx, Dir::ToServer, &bytes[1..], FrameNo(2), Timestamp(0));
        d.on_data(cx, Dir::ToClient, &rb, FrameNo(3), Timestamp(0));
        let (txs, _) = d.finish();
        assert_eq!(txs[0].rcode.as_deref(), Some("REFUSED"));
        assert_eq!(txs[0].query_frame, Some(FrameNo(2)));
    }
}
