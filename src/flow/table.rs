//! The flow table: every TCP connection and UDP conversation in a capture.
//!
//! Keyed by the unordered address/port pair, so both directions find the same flow.
//! Who is client and who is server is decided once, from the first packet (a SYN's
//! sender is the client; otherwise the side on a service port is the server). Flows
//! idle past their timeout are finished and moved out, so the table — and memory —
//! tracks concurrent connections, not the length of the capture.
//!
//! Two more caps bound memory whatever the capture holds: at most `max_flows` flows
//! are open at once (past it the least recently active ones are finished early,
//! "evicted"), and at most `max_records` finished flows are kept one by one, as
//! compact bytes in a [`FlowStore`] (the rest are added up in a [`FlowAggregate`]).
//! Every cap hit is counted in [`TableLimits`]. A flow leaves the table as a
//! [`FlowSummary`], its record.

use crate::decode::ip::{TcpSegment, Unreachable};
use crate::decode::tcp::conn::ConnState;
use crate::decode::tcp::{Limits, TcpConn};
use crate::flow::record::{FlowSummary, Transport};
use crate::flow::store::FlowStore;
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::dns::DnsTracker;
use crate::protocols::overflow::FactLog;
use crate::protocols::{AppFacts, AppProtocol, DecodeCtx, DecodeOptions, DecoderFactory};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// Tunables for the table (all have sensible defaults).
#[derive(Clone, Copy, Debug)]
pub struct TableConfig {
    pub limits: Limits,
    /// Bytes held above holes and by decoders (incomplete messages) across all
    /// connections; past it, the connection that just grew gives up its holes and its
    /// incomplete messages.
    pub max_total_buffered: usize,
    /// A TCP flow with no packet for this long is finished (Zeek: 5 min).
    pub tcp_idle_ns: i64,
    /// A closed TCP flow lingers this long for stray packets (Zeek: 5 s)...
    pub tcp_closed_linger_ns: i64,
    /// ...or until this many later frames of the capture went by, whichever comes
    /// first; the same holds for a DNS conversation. A capture that packs many
    /// connections into little time (a fast link, or generated timestamps) would
    /// otherwise hold every connection of its last seconds whole.
    pub linger_frames: u64,
    /// A UDP conversation with no packet for this long is finished (Zeek: 1 min).
    pub udp_idle_ns: i64,
    /// Flows (TCP and UDP) open at once; a new flow past it evicts the least recently
    /// active ones, which are finished early and marked partial.
    pub max_flows: usize,
    /// Finished flows kept one by one for the report; later ones are only counted.
    pub max_records: usize,
    /// Decoded facts (HTTP exchanges, DNS transactions) kept across all flows; later
    /// ones are counted per flow, not kept.
    pub max_facts: usize,
    /// Bytes of finished flows (compact encodings) kept in memory before the oldest go
    /// to a temporary file; `None`: the store's default (1 MiB). Tests set it low.
    pub flow_memory: Option<usize>,
}

impl Default for TableConfig {
    fn default() -> Self {
        TableConfig {
            limits: Limits::default(),
            max_total_buffered: 64 << 20,
            tcp_idle_ns: 300 * 1_000_000_000,
            tcp_closed_linger_ns: 5 * 1_000_000_000,
            linger_frames: 100_000,
            udp_idle_ns: 60 * 1_000_000_000,
            max_flows: 100_000,
            max_records: 50_000,
            max_facts: 100_000,
            flow_memory: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    lo: SocketAddr,
    hi: SocketAddr,
}

impl Key {
    fn new(a: SocketAddr, b: SocketAddr) -> Key {
        if a <= b {
            Key { lo: a, hi: b }
        } else {
            Key { lo: b, hi: a }
        }
    }
}

/// Ports on which the listening side is the server even mid-stream.
fn is_service_port(p: u16) -> bool {
    p < 1024 || matches!(p, 1080 | 3128 | 4000 | 5353 | 8000 | 8080 | 8443 | 8888)
}

/// Decides the client when a flow starts without a SYN.
fn src_is_client(src: SocketAddr, dst: SocketAddr) -> bool {
    !is_service_port(src.port()) || is_service_port(dst.port())
}

/// A UDP conversation.
#[derive(Clone, Debug)]
pub struct UdpFlow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_frame: FrameNo,
    pub last_frame: FrameNo,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub wire_bytes: [u64; 2],
    pub unreachable: Option<(FrameNo, Unreachable)>,
    /// DNS (and mDNS / LLMNR) queries and answers, on those ports.
    pub dns: Option<Box<DnsTracker>>,
}

/// UDP ports whose datagrams are DNS messages.
fn is_dns_port(p: u16) -> bool {
    matches!(p, 53 | 5353 | 5355)
}

/// Finished flows past `max_records`, added up instead of kept one by one.
#[derive(Clone, Debug, Default)]
pub struct FlowAggregate {
    pub flows: u64,
    pub tcp: u64,
    pub udp: u64,
    /// Packets and payload bytes, both directions together.
    pub packets: u64,
    pub bytes: u64,
    /// Flows among them that were partial.
    pub partial: u64,
    /// Flows per Zeek `conn_state`.
    pub states: BTreeMap<&'static str, u64>,
    pub first_frame: Option<u64>,
    pub last_frame: Option<u64>,
}

impl FlowAggregate {
    fn add(&mut self, f: &FlowSummary) {
        self.flows += 1;
        match f.transport {
            Transport::Tcp => self.tcp += 1,
            Transport::Udp => self.udp += 1,
        }
        self.packets += f.packets[0] + f.packets[1];
        self.bytes += f.bytes[0] + f.bytes[1];
        self.partial += u64::from(f.partial());
        *self.states.entry(f.state.as_str()).or_insert(0) += 1;
        let (a, b) = (f.first_frame.0, f.last_frame.0);
        self.first_frame = Some(self.first_frame.map_or(a, |x| x.min(a)));
        self.last_frame = Some(self.last_frame.map_or(b, |x| x.max(b)));
    }
}

/// Every time a memory cap changed what was analysed, for the input summary.
#[derive(Clone, Debug, Default)]
pub struct TableLimits {
    /// Flows finished early because more than `max_flows` were open.
    pub flows_evicted: u64,
    /// Flows with some payload not analysed (buffer caps or eviction), kept or not.
    pub partial_flows: u64,
    /// Holes given up because a per-direction or the global buffer cap was reached.
    pub buffer_cap_hits: u64,
    /// Finished flows past `max_records`: counted here, not listed.
    pub flows_summarized: u64,
    /// Decoded facts (HTTP exchanges, DNS transactions) past `max_facts`: counted, not
    /// kept.
    pub facts_not_kept: u64,
    pub summarized: Option<FlowAggregate>,
}

impl TableLimits {
    /// True when any cap was hit.
    pub fn any(&self) -> bool {
        self.flows_evicted
            + self.partial_flows
            + self.buffer_cap_hits
            + self.flows_summarized
            + self.facts_not_kept
            > 0
    }
}

/// Retiring: the record of a flow that leaves the table.
impl FlowSummary {
    pub(crate) fn from_tcp(mut c: TcpConn, cx: &mut DecodeCtx) -> FlowSummary {
        c.conclude(cx);
        let mut app = c.take_facts().unwrap_or_default();
        cx.facts.settle(&mut app.overflow);
        let pair = |f: &dyn Fn(usize) -> u64| [f(0), f(1)];
        let rst = match (c.ep[0].rst_frame, c.ep[1].rst_frame) {
            (Some(a), Some(b)) if b < a => Some((Dir::ToClient, b)),
            (Some(a), _) => Some((Dir::ToServer, a)),
            (None, Some(b)) => Some((Dir::ToClient, b)),
            (None, None) => None,
        };
        FlowSummary {
            transport: Transport::Tcp,
            client: c.client,
            server: c.server,
            state: c.state(),
            history: cx.intern.text(c.history.as_str()),
            first_frame: c.first_frame,
            last_frame: c.last_frame,
            first_ts: c.first_ts,
            last_ts: c.last_ts,
            packets: pair(&|i| c.ep[i].packets),
            bytes: pair(&|i| c.ep[i].stream.size()),
            wire_bytes: pair(&|i| c.ep[i].wire_bytes),
            retransmissions: pair(&|i| c.ep[i].stream.stats.retransmissions),
            gaps: pair(&|i| c.ep[i].stream.stats.gaps),
            gap_bytes: pair(&|i| c.ep[i].stream.stats.gap_bytes),
            snaplen_bytes: pair(&|i| c.ep[i].stream.stats.snaplen_bytes),
            conflicts: pair(&|i| c.ep[i].stream.stats.conflicts),
            cap_hits: pair(&|i| c.ep[i].stream.stats.cap_hits),
            client_syns: c.ep[0].syns,
            syn_frame: c.ep[0].syn_frame,
            synack_frame: c.ep[1].syn_frame,
            rst,
            client_fin: c.ep[0].fin_frame.zip(c.ep[0].fin_ts),
            rtt: c.rtt(),
            unreachable: c.unreachable.map(|u| *u),
            app,
            evicted: false,
            facts_not_kept: c.facts_not_kept,
        }
    }

    fn from_udp(u: UdpFlow, cx: &mut DecodeCtx) -> FlowSummary {
        // Zeek's UDP states: both sides active SF, only the client S0, only the server SHR.
        let state = match (u.packets[0] > 0, u.packets[1] > 0) {
            (true, true) => ConnState::SF,
            (true, false) => ConnState::S0,
            (false, true) => ConnState::SHR,
            (false, false) => ConnState::OTH,
        };
        let mut app = AppFacts::default();
        let facts_not_kept = u.dns.as_ref().map_or(0, |d| d.facts_not_kept());
        if let Some(dns) = u.dns {
            app.protocol = AppProtocol::Dns;
            (app.dns, app.overflow) = dns.finish_all();
            cx.facts.settle(&mut app.overflow);
            // Kept for the report: give back the room the pushes left (a Vec of
            // transactions starts at four).
            app.dns.shrink_to_fit();
        }
        let history = match state {
            ConnState::SF => "Dd",
            ConnState::S0 => "D",
            _ => "d",
        };
        FlowSummary {
            transport: Transport::Udp,
            client: u.client,
            server: u.server,
            state,
            history: cx.intern.text(history),
            first_frame: u.first_frame,
            last_frame: u.last_frame,
            first_ts: u.first_ts,
            last_ts: u.last_ts,
            packets: u.packets,
            bytes: u.bytes,
            wire_bytes: u.wire_bytes,
            retransmissions: [0; 2],
            gaps: [0; 2],
            gap_bytes: [0; 2],
            snaplen_bytes: [0; 2],
            conflicts: [0; 2],
            cap_hits: [0; 2],
            client_syns: 0,
            syn_frame: None,
            synack_frame: None,
            rst: None,
            client_fin: None,
            rtt: None,
            unreachable: u.unreachable,
            app,
            evicted: false,
            facts_not_kept,
        }
    }
}

/// The finished flows of a capture, each in order of first frame.
pub struct Finished {
    /// The first `max_records` to finish: listed in the report.
    pub listed: FlowStore,
    /// The others: only added up in the report (`limits.summarized`), but seen by
    /// the rules like the listed ones.
    pub unlisted: FlowStore,
    /// Facts of both not kept with their flow (past `max_facts` or a decoder's
    /// bound): for the rules.
    pub facts: FactLog,
}

/// All flows of one capture.
pub struct FlowTable {
    cfg: TableConfig,
    /// Boxed: the table's spare slots (up to half of them after it grows) should cost
    /// a pointer each, not a whole connection.
    tcp: FxHashMap<Key, Box<TcpConn>>,
    udp: FxHashMap<Key, UdpFlow>,
    /// Finished flows, as compact bytes.
    done: FlowStore,
    /// Finished flows past `max_records`: not listed, but diagnosed.
    unlisted: FlowStore,
    latest: Timestamp,
    last_sweep: Timestamp,
    last_sweep_frame: FrameNo,
    /// Bytes held above holes and by decoders, all connections together.
    buffered: usize,
    /// ICMP unreachables whose flow was not (yet) in the table.
    pub orphan_unreachables: u64,
    limits: TableLimits,
    /// What every decoder call of this table's flows shares (budget, shared copies).
    cx: DecodeCtx,
    /// Builds the decoders of new flows.
    decoders: DecoderFactory,
    /// The client port of the flow holding the latest copy of each recent DNS query,
    /// by [`dns_query_digest`]: a resolver that re-sends from a new port (dig, many
    /// stubs) continues the same transaction there. Bounded by [`MAX_DNS_RESENDS`].
    dns_queries: FxHashMap<u64, u16>,
}

/// SipHash of a DNS query's client address, server, id, name and type. Queries
/// sharing one (odds 2^-64 a pair) could at worst miss a re-send: a match is checked
/// against the open queries of the flow built from this one's addresses.
fn dns_query_digest(
    client: std::net::IpAddr,
    server: SocketAddr,
    id: u16,
    name: &str,
    qtype: u16,
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    (client, server, id, name, qtype).hash(&mut h);
    h.finish()
}
/// Recent DNS queries remembered for re-sends from another port; the memory is
/// cleared when full (a re-send comes within seconds, not after thousands of queries).
const MAX_DNS_RESENDS: usize = 4096;

impl FlowTable {
    /// A table whose decoders have the default options.
    pub fn new(cfg: TableConfig) -> Self {
        FlowTable::with_options(cfg, Arc::default())
    }

    /// A table whose decoders have `options`.
    pub fn with_options(cfg: TableConfig, options: Arc<DecodeOptions>) -> Self {
        let mut cx = DecodeCtx::new(options, cfg.max_facts);
        if let Some(bytes) = cfg.flow_memory {
            cx.facts = FactLog::with_memory_limit(bytes);
        }
        FlowTable {
            decoders: cx.decoders(),
            cx,
            cfg,
            tcp: FxHashMap::default(),
            udp: FxHashMap::default(),
            done: cfg
                .flow_memory
                .map_or_else(FlowStore::new, FlowStore::with_memory_limit),
            unlisted: cfg
                .flow_memory
                .map_or_else(FlowStore::new, FlowStore::with_memory_limit)
                .with_spilled_index(),
            latest: Timestamp(i64::MIN),
            buffered: 0,
            last_sweep: Timestamp(i64::MIN),
            last_sweep_frame: FrameNo(0),
            orphan_unreachables: 0,
            limits: TableLimits::default(),
            dns_queries: FxHashMap::default(),
        }
    }

    /// Adds TLS secrets (key log text) to the decoders' options, for the handshakes
    /// still to come.
    pub fn add_secrets(&mut self, text: &[u8]) {
        // The factory shares the options: released, they change in place.
        self.decoders = DecoderFactory::default();
        self.cx.add_secrets(text);
        self.decoders = self.cx.decoders();
    }

    /// Takes a flow out of the table, finished.
    fn take(&mut self, transport: Transport, key: &Key) -> Option<FlowSummary> {
        match transport {
            Transport::Tcp => {
                let c = self.tcp.remove(key)?;
                self.buffered = self.buffered.saturating_sub(c.buffered());
                Some(FlowSummary::from_tcp(*c, &mut self.cx))
            }
            Transport::Udp => {
                let u = self.udp.remove(key)?;
                Some(FlowSummary::from_udp(u, &mut self.cx))
            }
        }
    }

    /// Finishes the flows of `keys`, in that order, and keeps them.
    fn retire_keys(&mut self, keys: impl IntoIterator<Item = (Transport, Key)>, evicted: bool) {
        for (transport, key) in keys {
            if let Some(mut f) = self.take(transport, &key) {
                f.evicted = evicted;
                self.retire(f);
            }
        }
    }

    /// Keeps a finished flow, or only counts it once `max_records` are kept.
    fn retire(&mut self, f: FlowSummary) {
        let l = &mut self.limits;
        l.partial_flows += u64::from(f.partial());
        l.flows_evicted += u64::from(f.evicted);
        l.buffer_cap_hits += f.cap_hits[0] + f.cap_hits[1];
        l.facts_not_kept += f.facts_not_kept;
        if self.done.len() < self.cfg.max_records {
            self.done.push(&f);
        } else {
            // Its decoded facts are not listed: others may keep as many (it goes to a
            // store that spills to a file, for the rules only).
            self.cx.budget.give_back(f.app.http.len() + f.app.dns.len());
            l.flows_summarized += 1;
            l.summarized.get_or_insert_with(Default::default).add(&f);
            self.unlisted.push(&f);
        }
    }

    /// `max_flows` are open: a new flow needs [`make_room`](Self::make_room) first.
    fn full(&self) -> bool {
        self.open_flows() >= self.cfg.max_flows.max(1)
    }

    /// Makes room for a new flow in a full table: finishes the least recently active
    /// sixteenth of the open flows (at least one), so the scan is paid once per many
    /// new flows rather than once per flow.
    fn make_room(&mut self) {
        // The least recently active sixteenth: find the cut among the last frames alone
        // (8 bytes a flow), then collect only the flows below it. A flood keeps the
        // table full, so this runs once per sixteenth of it, on every table entry.
        let open = self.open_flows();
        let n = (open / 16).max(1).min(open);
        let mut frames: Vec<FrameNo> = Vec::with_capacity(open);
        frames.extend(self.tcp.values().map(|c| c.last_frame));
        frames.extend(self.udp.values().map(|f| f.last_frame));
        let cut = if n < frames.len() {
            *frames.select_nth_unstable(n).1
        } else {
            FrameNo(u64::MAX)
        };
        drop(frames);
        let mut by_age: Vec<(FrameNo, Transport, Key)> = self
            .tcp
            .iter()
            .filter(|(_, c)| c.last_frame <= cut)
            .map(|(k, c)| (c.last_frame, Transport::Tcp, *k))
            .chain(
                self.udp
                    .iter()
                    .filter(|(_, f)| f.last_frame <= cut)
                    .map(|(k, f)| (f.last_frame, Transport::Udp, *k)),
            )
            .collect();
        // Oldest first; ties (a frame shared by two flows) by transport and address, so
        // which flows go is the same on every run.
        by_age.sort_unstable_by_key(|&(frame, t, k)| (frame, t == Transport::Udp, k.lo, k.hi));
        self.retire_keys(by_age.into_iter().take(n).map(|(_, t, k)| (t, k)), true);
    }

    /// Flows currently open.
    pub fn open_flows(&self) -> usize {
        self.tcp.len() + self.udp.len()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        seg: &TcpSegment<'_>,
        frame: FrameNo,
        ts: Timestamp,
        wire_len: u32,
    ) {
        self.tick(ts, frame);
        let key = Key::new(src, dst);
        let flags = seg.flags;
        // Only a new SYN can start a new connection on known ports: every other packet
        // skips this lookup.
        if flags.syn() && !flags.ack() {
            self.retire_if_reused(key, src, seg);
        }
        // The table is rarely full: test that before hashing the key again.
        if self.full() && !self.tcp.contains_key(&key) {
            self.make_room();
        }
        let limits = self.cfg.limits;
        let decoders = &self.decoders;
        let conn = self.tcp.entry(key).or_insert_with(|| {
            let client_is_src = if flags.syn() {
                !flags.ack()
            } else {
                src_is_client(src, dst)
            };
            let (c, s) = if client_is_src {
                (src, dst)
            } else {
                (dst, src)
            };
            let decoder = decoders.stream(c.port(), s.port());
            Box::new(TcpConn::new(c, s, frame, ts, decoder))
        });
        let dir = if conn.client == src {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let before = conn.buffered();
        conn.packet(&mut self.cx, dir, seg, frame, ts, wire_len, &limits);
        let after = conn.buffered();
        self.buffered = (self.buffered + after).saturating_sub(before);
        if self.buffered > self.cfg.max_total_buffered {
            conn.shed_buffers(&mut self.cx);
            self.buffered = (self.buffered + conn.buffered()).saturating_sub(after);
        }
    }

    /// Bytes held above holes and by decoders across all connections.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Port reuse: a new SYN (from `src`) after the old connection of `key` closed
    /// starts a new one, so the old one is retired. Out of line: once a connection,
    /// it stays off the path of every other packet.
    #[cold]
    #[inline(never)]
    fn retire_if_reused(&mut self, key: Key, src: SocketAddr, seg: &TcpSegment<'_>) {
        let Some(conn) = self.tcp.get(&key) else {
            return;
        };
        let from_client = conn.client == src;
        // A retransmitted SYN (same ISN) belongs to the same attempt, unless the
        // attempt was already refused or reset: clients that retry after a RST
        // often keep their ISN, and Zeek logs each try as its own connection.
        let same_syn = from_client && conn.ep[0].isn == Some(seg.seq);
        let reused = conn.is_closed() && (!same_syn || conn.was_reset());
        if reused {
            self.retire_keys([(Transport::Tcp, key)], false);
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn udp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        frame: FrameNo,
        ts: Timestamp,
        wire_len: u32,
        cut: bool,
    ) -> Dir {
        self.tick(ts, frame);
        let key = Key::new(src, dst);
        if self.full() && !self.udp.contains_key(&key) {
            self.make_room();
        }
        // A DNS datagram is read once, here: for a re-send from another port, then by
        // the flow's decoder.
        let dns = (is_dns_port(src.port()) || is_dns_port(dst.port()))
            .then(|| crate::protocols::dns::read(payload, cut));
        let resent = match &dns {
            Some(Ok((msg, true))) => self.dns_resent_from_another_port(src, dst, key, msg),
            _ => None,
        };
        let decoders = &self.decoders;
        let flow = self.udp.entry(key).or_insert_with(|| {
            let (c, s) = if src_is_client(src, dst) {
                (src, dst)
            } else {
                (dst, src)
            };
            UdpFlow {
                client: c,
                server: s,
                first_frame: frame,
                last_frame: frame,
                first_ts: ts,
                last_ts: ts,
                packets: [0; 2],
                bytes: [0; 2],
                wire_bytes: [0; 2],
                unreachable: None,
                dns: (is_dns_port(c.port()) || is_dns_port(s.port()))
                    .then(|| Box::new(decoders.dns_udp())),
            }
        });
        let dir = if flow.client == src {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let i = dir.index();
        flow.last_frame = frame;
        flow.last_ts = ts;
        flow.packets[i] += 1;
        flow.bytes[i] += payload.len() as u64;
        flow.wire_bytes[i] += u64::from(wire_len);
        if let (Some(tracker), Some(read)) = (&mut flow.dns, dns) {
            let (c, s) = (flow.client, flow.server);
            match resent {
                Some((tx, kept)) if dir == Dir::ToServer => {
                    tracker.adopt(&mut self.cx, tx, kept, c, s)
                }
                _ => tracker.on_read(&mut self.cx, c, s, dir, read, frame, ts),
            }
        }
        dir
    }

    /// For a DNS query from `src` that repeats (same client address, server, id and
    /// question) an unanswered query sent earlier from another port: that query's
    /// transaction, taken from its flow to continue in this one, and whether it was
    /// kept there (or only held for the rules).
    fn dns_resent_from_another_port(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        key: Key,
        msg: &crate::protocols::dns::DnsMessage,
    ) -> Option<(crate::protocols::dns::DnsTransaction, bool)> {
        if !is_dns_port(dst.port()) {
            return None;
        }
        let q = msg.questions.first()?;
        if msg.is_response {
            return None;
        }
        if self.dns_queries.len() >= MAX_DNS_RESENDS {
            self.dns_queries.clear();
        }
        let digest = dns_query_digest(src.ip(), dst, msg.id, &q.name, q.qtype);
        let port = self.dns_queries.insert(digest, src.port())?;
        let mut from = src;
        from.set_port(port);
        let earlier = Key::new(from, dst);
        if earlier == key {
            return None;
        }
        let (name, qtype) = (q.name.as_str(), q.qtype);
        self.udp
            .get_mut(&earlier)?
            .dns
            .as_mut()?
            .take_unanswered(msg.id, name, qtype)
    }

    /// Ties an ICMP destination-unreachable to the flow of the packet it returns.
    pub fn unreachable(&mut self, u: Unreachable, frame: FrameNo) {
        let key = Key::new(u.inner_src, u.inner_dst);
        let tied = match u.inner_proto {
            6 => self.tcp.get_mut(&key).map(|c| {
                c.unreachable.get_or_insert_with(|| Box::new((frame, u)));
            }),
            17 => self.udp.get_mut(&key).map(|f| {
                f.unreachable.get_or_insert((frame, u));
            }),
            _ => None,
        };
        if tied.is_none() {
            self.orphan_unreachables += 1;
        }
    }

    /// Finishes flows idle past their timeout (checked every 10 s of capture time, or
    /// every quarter of `linger_frames` frames).
    #[inline]
    fn tick(&mut self, ts: Timestamp, frame: FrameNo) {
        if ts > self.latest {
            self.latest = ts;
        }
        const SWEEP_EVERY: i64 = 10 * 1_000_000_000;
        let frames_since = frame.0.saturating_sub(self.last_sweep_frame.0);
        if self.latest.0.saturating_sub(self.last_sweep.0) >= SWEEP_EVERY
            || frames_since >= (self.cfg.linger_frames / 4).max(1)
        {
            self.sweep(frame);
        }
    }

    /// Finishes the flows idle past their timeout, and the closed ones past their
    /// linger, as of the latest packet (`frame`).
    fn sweep(&mut self, frame: FrameNo) {
        self.last_sweep = self.latest;
        self.last_sweep_frame = frame;
        let now = self.latest.0;
        let cfg = self.cfg;
        let gone = |last: FrameNo| frame.0.saturating_sub(last.0) > cfg.linger_frames;
        let mut expired: Vec<(FrameNo, Key)> = self
            .tcp
            .iter()
            .filter(|(_, c)| {
                let idle = now.saturating_sub(c.last_ts.0);
                idle > cfg.tcp_idle_ns
                    || (c.is_closed() && (idle > cfg.tcp_closed_linger_ns || gone(c.last_frame)))
            })
            .map(|(k, c)| (c.first_frame, *k))
            .collect();
        // In report order: the store reads them back in that order.
        expired.sort_unstable_by_key(|(f, _)| *f);
        self.retire_keys(expired.into_iter().map(|(_, k)| (Transport::Tcp, k)), false);
        let mut expired: Vec<(FrameNo, Key)> = self
            .udp
            .iter()
            .filter(|(_, f)| {
                now.saturating_sub(f.last_ts.0) > cfg.udp_idle_ns
                    || (f.dns.is_some() && gone(f.last_frame))
            })
            .map(|(k, f)| (f.first_frame, *k))
            .collect();
        expired.sort_unstable_by_key(|(f, _)| *f);
        self.retire_keys(expired.into_iter().map(|(_, k)| (Transport::Udp, k)), false);
    }

    /// What `finish` would return now, without disturbing the table (live capture
    /// reports while it goes). Costs a copy of every open flow, and of the decode
    /// context they finish in.
    pub fn snapshot(&self) -> Finished {
        let mut v = self.done.clone();
        let mut cx = self.cx.clone();
        for c in self.tcp.values() {
            v.push(&FlowSummary::from_tcp((**c).clone(), &mut cx));
        }
        for u in self.udp.values() {
            v.push(&FlowSummary::from_udp(u.clone(), &mut cx));
        }
        v.sort();
        Finished {
            listed: v,
            unlisted: self.unlisted.clone(),
            facts: cx.facts,
        }
    }

    /// Caps hit so far (live capture reports while it goes).
    pub fn limits(&self) -> TableLimits {
        self.limits.clone()
    }

    /// Finishes every flow and returns them, listed and not, with the count of every
    /// cap hit.
    pub fn finish(mut self) -> (Finished, TableLimits) {
        // In order of first frame, so the flows kept past a full `max_records` are the
        // earliest of those still open. Boxed, and the tables' memory given back before
        // they are retired: the open flows must not be held twice (table slots, then a
        // Vec of summaries and the sort's scratch copy of it) at the run's peak.
        let tcp = std::mem::take(&mut self.tcp);
        let udp = std::mem::take(&mut self.udp);
        let mut open: Vec<Box<FlowSummary>> = Vec::with_capacity(tcp.len() + udp.len());
        let cx = &mut self.cx;
        open.extend(
            tcp.into_values()
                .map(|c| Box::new(FlowSummary::from_tcp(*c, cx))),
        );
        open.extend(
            udp.into_values()
                .map(|f| Box::new(FlowSummary::from_udp(f, cx))),
        );
        open.sort_by_key(|f| f.report_key());
        for f in open {
            self.retire(*f);
        }
        self.done.sort();
        self.unlisted.sort();
        (
            Finished {
                listed: self.done,
                unlisted: self.unlisted,
                facts: std::mem::take(&mut self.cx.facts),
            },
            self.limits,
        )
    }
}

#[cfg(test)]
mod tests;
