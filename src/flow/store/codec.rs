//! The byte encoding of one finished flow: an [`Enc`] / [`Dec`] pair per type.
//!
//! Integers are LEB128 varints (signed ones zigzagged first), an `f64` its 8 bits, a
//! bool or an enum variant one byte, a Vec its length then its items, a `String` its
//! length then its UTF-8. The optional fields of a struct come after its other fields:
//! a varint with one bit per field, then the values present. Frame numbers and
//! timestamps are stored as differences from the flow's first ones, a byte or two
//! each. Values that repeat from flow to flow (shared strings and number lists, the
//! decoders' static names, certificates) are kept once in [`Tables`] and a flow holds
//! their index, so rebuilding one is a reference count, not an allocation.
//!
//! Encoders take every struct apart without `..` and match every enum variant by
//! name: a new field or variant does not compile until it is stored. Decoders check
//! every read and give `None` on bytes the encoder cannot have written.

use crate::decode::ip::Unreachable;
use crate::decode::tcp::conn::ConnState;
use crate::flow::record::{FlowSummary, Transport};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::dns::DnsTransaction;
use crate::protocols::http::{AuthHeader, Challenge, Credentials, HttpExchange};
use crate::protocols::ntlm::{NtResponseKind, NtlmMessage, NtlmMessageType};
use crate::protocols::socks::SocksFacts;
use crate::protocols::tls::{HandshakeOutcome, TlsAlert, TlsDecryption, TlsFacts};
use crate::protocols::x509::{CertData, CertInfo};
use crate::protocols::{AppFacts, AppProtocol};
use rustc_hash::FxHashMap;
use std::hash::Hash;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;

/// Distinct values in the order first seen, and the index of each.
#[derive(Clone, Debug)]
struct Table<K> {
    items: Vec<K>,
    ids: FxHashMap<K, usize>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            ids: FxHashMap::default(),
        }
    }
}

impl<K: Clone + Eq + Hash> Table<K> {
    fn id(&mut self, k: &K) -> usize {
        if let Some(&i) = self.ids.get(k) {
            return i;
        }
        let i = self.items.len();
        self.items.push(k.clone());
        self.ids.insert(k.clone(), i);
        i
    }

    /// Heap of the table itself, plus `payload` per item (what an item points to).
    fn heap_bytes(&self, payload: impl Fn(&K) -> usize) -> usize {
        self.items.capacity() * size_of::<K>()
            + self.ids.capacity() * (size_of::<K>() + size_of::<usize>() + 1)
            + self.items.iter().map(payload).sum::<usize>()
    }
}

/// The values flows share, each kept once per store.
#[derive(Clone, Debug, Default)]
pub(super) struct Tables {
    strs: Table<Arc<str>>,
    lists: Table<Arc<[u16]>>,
    statics: Table<&'static str>,
    certs: Table<ById>,
}

/// A certificate keyed by its shared copy ([`CertInfo::shared_id`]): the table holds a
/// clone, so an id cannot be reused by another certificate while it is there.
#[derive(Clone, Debug)]
struct ById(CertInfo);

impl PartialEq for ById {
    fn eq(&self, other: &Self) -> bool {
        self.0.shared_id() == other.0.shared_id()
    }
}

impl Eq for ById {}

impl Hash for ById {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.shared_id().hash(h);
    }
}

impl Tables {
    pub(super) fn heap_bytes(&self) -> usize {
        // An Arc's allocation: two counts, then the value.
        let arc = 2 * size_of::<usize>();
        self.strs.heap_bytes(|s| arc + s.len())
            + self.lists.heap_bytes(|l| arc + size_of_val::<[u16]>(l))
            + self.statics.heap_bytes(|_| 0)
            + self.certs.heap_bytes(|c| arc + cert_heap(&c.0))
    }
}

/// Heap held by one certificate's facts (approximate: string lengths, not capacities).
fn cert_heap(c: &CertData) -> usize {
    let CertData {
        subject,
        issuer,
        san,
        not_before,
        not_after,
        not_before_unix: _,
        not_after_unix: _,
        serial,
        sha256,
        self_signed: _,
        is_ca: _,
        der,
    } = c;
    size_of::<CertData>()
        + subject.len()
        + issuer.len()
        + san
            .iter()
            .map(|s| size_of::<String>() + s.len())
            .sum::<usize>()
        + not_before.len()
        + not_after.len()
        + serial.len()
        + sha256.len()
        + der.as_ref().map_or(0, |d| d.0.len())
}

/// Appends encodings to the store's bytes, adding new shared values to its tables.
pub(super) struct W<'a> {
    out: &'a mut Vec<u8>,
    t: &'a mut Tables,
    /// Frame numbers and timestamps are written relative to these (the flow's first).
    frame0: u64,
    ts0: i64,
}

impl<'a> W<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>, t: &'a mut Tables) -> Self {
        W {
            out,
            t,
            frame0: 0,
            ts0: 0,
        }
    }

    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn ivar(&mut self, v: i64) {
        self.uvar(((v << 1) ^ (v >> 63)) as u64);
    }

    fn len(&mut self, n: usize) {
        self.uvar(n as u64);
    }
}

/// Reads one encoding back, taking shared values from the tables.
pub(super) struct R<'a> {
    buf: &'a [u8],
    t: &'a Tables,
    frame0: u64,
    ts0: i64,
}

impl<'a> R<'a> {
    pub(super) fn new(buf: &'a [u8], t: &'a Tables) -> Self {
        R {
            buf,
            t,
            frame0: 0,
            ts0: 0,
        }
    }

    /// Nothing left unread.
    pub(super) fn done(&self) -> bool {
        self.buf.is_empty()
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.buf.split_first()?;
        self.buf = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, rest) = self.buf.split_at_checked(n)?;
        self.buf = rest;
        Some(a)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn uvar(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            let low = u64::from(b & 0x7f);
            // The tenth byte holds the top bit only.
            if shift == 63 && low > 1 {
                return None;
            }
            v |= low << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }

    fn ivar(&mut self) -> Option<i64> {
        let u = self.uvar()?;
        Some(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn index(&mut self) -> Option<usize> {
        usize::try_from(self.uvar()?).ok()
    }

    /// A length of items at least one byte each: more than the bytes left is corrupt,
    /// and refusing it keeps a corrupt length from allocating.
    fn len(&mut self) -> Option<usize> {
        let n = self.index()?;
        (n <= self.buf.len()).then_some(n)
    }
}

/// Writes a value.
pub(super) trait Enc {
    fn enc(&self, w: &mut W<'_>);
}

/// Reads a value back; `None` on bytes [`Enc`] cannot have written.
pub(super) trait Dec: Sized {
    fn dec(r: &mut R<'_>) -> Option<Self>;
}

/// Writes a struct's optional fields: a varint with bit i set when the i-th is
/// present, then the present values in order. At most 64 fields.
macro_rules! enc_opts {
    ($w:ident; $($f:ident),+ $(,)?) => {{
        let mut mask = 0u64;
        let mut bit = 0u32;
        $(
            if $f.is_some() {
                mask |= 1 << bit;
            }
            bit += 1;
        )+
        let _ = bit;
        $w.uvar(mask);
        $(
            if let Some(v) = $f {
                v.enc($w);
            }
        )+
    }};
}

/// Reads what [`enc_opts`] wrote into variables named like the fields (same order).
macro_rules! dec_opts {
    ($r:ident; $($f:ident),+ $(,)?) => {
        let mask = $r.uvar()?;
        let mut bit = 0u32;
        $(
            let $f = if mask >> bit & 1 == 1 {
                Some(Dec::dec($r)?)
            } else {
                None
            };
            bit += 1;
        )+
        if bit < 64 && mask >> bit != 0 {
            return None;
        }
    };
}

/// One byte per variant; the encoder's match names every variant.
/// Every variant of an enum the store writes as one byte, for tests that must make
/// flows with each (kept by `byte_enum!`, so a new variant is not missed).
#[cfg(test)]
pub(super) trait Variants: Sized + 'static {
    const ALL: &'static [Self];
}

macro_rules! byte_enum {
    ($t:ident { $($v:ident = $n:literal),+ $(,)? }) => {
        #[cfg(test)]
        impl Variants for $t {
            const ALL: &'static [Self] = &[$($t::$v),+];
        }
        impl Enc for $t {
            fn enc(&self, w: &mut W<'_>) {
                w.byte(match self {
                    $($t::$v => $n,)+
                });
            }
        }
        impl Dec for $t {
            fn dec(r: &mut R<'_>) -> Option<Self> {
                match r.byte()? {
                    $($n => Some($t::$v),)+
                    _ => None,
                }
            }
        }
    };
}

// --- Plain values ---

impl Enc for u8 {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(*self);
    }
}

impl Dec for u8 {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        r.byte()
    }
}

impl Enc for u16 {
    fn enc(&self, w: &mut W<'_>) {
        w.uvar(u64::from(*self));
    }
}

impl Dec for u16 {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        u16::try_from(r.uvar()?).ok()
    }
}

impl Enc for u32 {
    fn enc(&self, w: &mut W<'_>) {
        w.uvar(u64::from(*self));
    }
}

impl Dec for u32 {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        u32::try_from(r.uvar()?).ok()
    }
}

impl Enc for u64 {
    fn enc(&self, w: &mut W<'_>) {
        w.uvar(*self);
    }
}

impl Dec for u64 {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        r.uvar()
    }
}

impl Enc for bool {
    fn enc(&self, w: &mut W<'_>) {
        w.byte(u8::from(*self));
    }
}

impl Dec for bool {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// The exact bits, NaN payloads and signed zeros included.
impl Enc for f64 {
    fn enc(&self, w: &mut W<'_>) {
        w.raw(&self.to_bits().to_le_bytes());
    }
}

impl Dec for f64 {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some(f64::from_bits(u64::from_le_bytes(r.array()?)))
    }
}

/// Relative to the flow's first frame (wrapping, so any value comes back).
impl Enc for FrameNo {
    fn enc(&self, w: &mut W<'_>) {
        w.ivar(self.0.wrapping_sub(w.frame0) as i64);
    }
}

impl Dec for FrameNo {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some(FrameNo(r.frame0.wrapping_add(r.ivar()? as u64)))
    }
}

/// Relative to the flow's first timestamp (wrapping, so any value comes back).
impl Enc for Timestamp {
    fn enc(&self, w: &mut W<'_>) {
        w.ivar(self.0.wrapping_sub(w.ts0));
    }
}

impl Dec for Timestamp {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some(Timestamp(r.ts0.wrapping_add(r.ivar()?)))
    }
}

impl Enc for String {
    fn enc(&self, w: &mut W<'_>) {
        w.len(self.len());
        w.raw(self.as_bytes());
    }
}

impl Dec for String {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let n = r.len()?;
        std::str::from_utf8(r.take(n)?).ok().map(str::to_owned)
    }
}

impl Enc for SocketAddr {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            SocketAddr::V4(a) => {
                w.byte(4);
                w.raw(&a.ip().octets());
                w.raw(&a.port().to_be_bytes());
            }
            SocketAddr::V6(a) => {
                w.byte(6);
                w.raw(&a.ip().octets());
                w.raw(&a.port().to_be_bytes());
                w.uvar(u64::from(a.flowinfo()));
                w.uvar(u64::from(a.scope_id()));
            }
        }
    }
}

impl Dec for SocketAddr {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        match r.byte()? {
            4 => {
                let ip = Ipv4Addr::from(r.array::<4>()?);
                let port = u16::from_be_bytes(r.array()?);
                Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
            }
            6 => {
                let ip = Ipv6Addr::from(r.array::<16>()?);
                let port = u16::from_be_bytes(r.array()?);
                let flowinfo = u32::dec(r)?;
                let scope_id = u32::dec(r)?;
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip, port, flowinfo, scope_id,
                )))
            }
            _ => None,
        }
    }
}

// --- Shared values: an index into the tables ---

/// Enc and Dec for a shared value kept in `Tables::$field`.
macro_rules! shared {
    ($t:ty, $field:ident) => {
        impl Enc for $t {
            fn enc(&self, w: &mut W<'_>) {
                let i = w.t.$field.id(self);
                w.len(i);
            }
        }

        impl Dec for $t {
            fn dec(r: &mut R<'_>) -> Option<Self> {
                let i = r.index()?;
                r.t.$field.items.get(i).cloned()
            }
        }
    };
}

shared!(Arc<str>, strs);
shared!(Arc<[u16]>, lists);
shared!(&'static str, statics);

impl Enc for CertInfo {
    fn enc(&self, w: &mut W<'_>) {
        let i = w.t.certs.id(&ById(self.clone()));
        w.len(i);
    }
}

impl Dec for CertInfo {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let i = r.index()?;
        r.t.certs.items.get(i).map(|c| c.0.clone())
    }
}

// --- Containers ---

impl<T: Enc> Enc for Vec<T> {
    fn enc(&self, w: &mut W<'_>) {
        w.len(self.len());
        for x in self {
            x.enc(w);
        }
    }
}

/// Every item takes at least one byte, which [`R::len`] relies on.
impl<T: Dec> Dec for Vec<T> {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let n = r.len()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::dec(r)?);
        }
        Some(v)
    }
}

impl<T: Enc> Enc for Box<T> {
    fn enc(&self, w: &mut W<'_>) {
        (**self).enc(w);
    }
}

impl<T: Dec> Dec for Box<T> {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        T::dec(r).map(Box::new)
    }
}

impl<A: Enc, B: Enc> Enc for (A, B) {
    fn enc(&self, w: &mut W<'_>) {
        self.0.enc(w);
        self.1.enc(w);
    }
}

impl<A: Dec, B: Dec> Dec for (A, B) {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some((A::dec(r)?, B::dec(r)?))
    }
}

impl<T: Enc> Enc for [T; 2] {
    fn enc(&self, w: &mut W<'_>) {
        let [a, b] = self;
        a.enc(w);
        b.enc(w);
    }
}

impl<T: Dec> Dec for [T; 2] {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some([T::dec(r)?, T::dec(r)?])
    }
}

// --- Enums ---

byte_enum!(Transport { Tcp = 0, Udp = 1 });
byte_enum!(Dir {
    ToServer = 0,
    ToClient = 1,
});
byte_enum!(ConnState {
    S0 = 0,
    S1 = 1,
    SF = 2,
    REJ = 3,
    S2 = 4,
    S3 = 5,
    RSTO = 6,
    RSTR = 7,
    RSTOS0 = 8,
    RSTRH = 9,
    SH = 10,
    SHR = 11,
    OTH = 12,
});
byte_enum!(AppProtocol {
    Unknown = 0,
    Http = 1,
    Tls = 2,
    Dns = 3,
    Socks = 4,
    Other = 5,
});
byte_enum!(HandshakeOutcome {
    Established = 0,
    ClientAlert = 1,
    ServerAlert = 2,
    ClientEncryptedAlert = 3,
    ClientSilentAfterServerFlight = 4,
    NoServerHello = 5,
    NoClientHello = 6,
    Incomplete = 7,
});
byte_enum!(AuthHeader {
    ProxyAuthenticate = 0,
    WwwAuthenticate = 1,
    ProxyAuthorization = 2,
    Authorization = 3,
});
byte_enum!(NtlmMessageType {
    Negotiate = 0,
    Challenge = 1,
    Authenticate = 2,
});
byte_enum!(NtResponseKind {
    Anonymous = 0,
    NTLMv1 = 1,
    NTLMv2 = 2,
});

// --- Structs ---

/// The first frame and timestamp are written in full and set the base the flow's
/// other frame numbers and timestamps are written against.
impl Enc for FlowSummary {
    fn enc(&self, w: &mut W<'_>) {
        let FlowSummary {
            transport,
            client,
            server,
            state,
            history,
            first_frame,
            last_frame,
            first_ts,
            last_ts,
            packets,
            bytes,
            wire_bytes,
            retransmissions,
            gaps,
            gap_bytes,
            snaplen_bytes,
            conflicts,
            cap_hits,
            client_syns,
            syn_frame,
            synack_frame,
            rst,
            client_fin,
            rtt,
            unreachable,
            app,
            evicted,
            facts_not_kept,
        } = self;
        w.uvar(first_frame.0);
        w.ivar(first_ts.0);
        w.frame0 = first_frame.0;
        w.ts0 = first_ts.0;
        transport.enc(w);
        client.enc(w);
        server.enc(w);
        state.enc(w);
        history.enc(w);
        last_frame.enc(w);
        last_ts.enc(w);
        packets.enc(w);
        bytes.enc(w);
        wire_bytes.enc(w);
        retransmissions.enc(w);
        gaps.enc(w);
        gap_bytes.enc(w);
        snaplen_bytes.enc(w);
        conflicts.enc(w);
        cap_hits.enc(w);
        client_syns.enc(w);
        app.enc(w);
        evicted.enc(w);
        facts_not_kept.enc(w);
        enc_opts!(w; syn_frame, synack_frame, rst, client_fin, rtt, unreachable);
    }
}

impl Dec for FlowSummary {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let first_frame = FrameNo(r.uvar()?);
        let first_ts = Timestamp(r.ivar()?);
        r.frame0 = first_frame.0;
        r.ts0 = first_ts.0;
        let transport = Dec::dec(r)?;
        let client = Dec::dec(r)?;
        let server = Dec::dec(r)?;
        let state = Dec::dec(r)?;
        let history = Dec::dec(r)?;
        let last_frame = Dec::dec(r)?;
        let last_ts = Dec::dec(r)?;
        let packets = Dec::dec(r)?;
        let bytes = Dec::dec(r)?;
        let wire_bytes = Dec::dec(r)?;
        let retransmissions = Dec::dec(r)?;
        let gaps = Dec::dec(r)?;
        let gap_bytes = Dec::dec(r)?;
        let snaplen_bytes = Dec::dec(r)?;
        let conflicts = Dec::dec(r)?;
        let cap_hits = Dec::dec(r)?;
        let client_syns = Dec::dec(r)?;
        let app = Dec::dec(r)?;
        let evicted = Dec::dec(r)?;
        let facts_not_kept = Dec::dec(r)?;
        dec_opts!(r; syn_frame, synack_frame, rst, client_fin, rtt, unreachable);
        Some(FlowSummary {
            transport,
            client,
            server,
            state,
            history,
            first_frame,
            last_frame,
            first_ts,
            last_ts,
            packets,
            bytes,
            wire_bytes,
            retransmissions,
            gaps,
            gap_bytes,
            snaplen_bytes,
            conflicts,
            cap_hits,
            client_syns,
            syn_frame,
            synack_frame,
            rst,
            client_fin,
            rtt,
            unreachable,
            app,
            evicted,
            facts_not_kept,
        })
    }
}

impl Enc for Unreachable {
    fn enc(&self, w: &mut W<'_>) {
        let Unreachable {
            v6,
            code,
            inner_proto,
            inner_src,
            inner_dst,
        } = self;
        v6.enc(w);
        code.enc(w);
        inner_proto.enc(w);
        inner_src.enc(w);
        inner_dst.enc(w);
    }
}

impl Dec for Unreachable {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        Some(Unreachable {
            v6: Dec::dec(r)?,
            code: Dec::dec(r)?,
            inner_proto: Dec::dec(r)?,
            inner_src: Dec::dec(r)?,
            inner_dst: Dec::dec(r)?,
        })
    }
}

impl Enc for AppFacts {
    fn enc(&self, w: &mut W<'_>) {
        let AppFacts {
            protocol,
            http,
            tls,
            dns,
            socks,
            tls_in_tunnel,
            notes,
            notes_omitted,
        } = self;
        protocol.enc(w);
        http.enc(w);
        dns.enc(w);
        tls_in_tunnel.enc(w);
        notes.enc(w);
        notes_omitted.enc(w);
        enc_opts!(w; tls, socks);
    }
}

impl Dec for AppFacts {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let protocol = Dec::dec(r)?;
        let http = Dec::dec(r)?;
        let dns = Dec::dec(r)?;
        let tls_in_tunnel = Dec::dec(r)?;
        let notes = Dec::dec(r)?;
        let notes_omitted = Dec::dec(r)?;
        dec_opts!(r; tls, socks);
        Some(AppFacts {
            protocol,
            http,
            tls,
            dns,
            socks,
            tls_in_tunnel,
            notes,
            notes_omitted,
        })
    }
}

impl Enc for HttpExchange {
    fn enc(&self, w: &mut W<'_>) {
        let HttpExchange {
            method,
            target,
            version,
            host,
            user_agent,
            request_frame,
            request_ts,
            credentials,
            api_key,
            has_cookie,
            proxy_connection,
            status,
            reason,
            response_version,
            response_frame,
            response_end_frame,
            response_time,
            interim,
            challenges,
            retry_after,
            via,
            server,
            x_squid_error,
            content_type,
            content_length,
            error_message,
            tunnel,
            decrypted,
        } = self;
        credentials.enc(w);
        has_cookie.enc(w);
        interim.enc(w);
        challenges.enc(w);
        via.enc(w);
        tunnel.enc(w);
        decrypted.enc(w);
        enc_opts!(w;
            method,
            target,
            version,
            host,
            user_agent,
            request_frame,
            request_ts,
            api_key,
            proxy_connection,
            status,
            reason,
            response_version,
            response_frame,
            response_end_frame,
            response_time,
            retry_after,
            server,
            x_squid_error,
            content_type,
            content_length,
            error_message,
        );
    }
}

impl Dec for HttpExchange {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let credentials = Dec::dec(r)?;
        let has_cookie = Dec::dec(r)?;
        let interim = Dec::dec(r)?;
        let challenges = Dec::dec(r)?;
        let via = Dec::dec(r)?;
        let tunnel = Dec::dec(r)?;
        let decrypted = Dec::dec(r)?;
        dec_opts!(r;
            method,
            target,
            version,
            host,
            user_agent,
            request_frame,
            request_ts,
            api_key,
            proxy_connection,
            status,
            reason,
            response_version,
            response_frame,
            response_end_frame,
            response_time,
            retry_after,
            server,
            x_squid_error,
            content_type,
            content_length,
            error_message,
        );
        Some(HttpExchange {
            method,
            target,
            version,
            host,
            user_agent,
            request_frame,
            request_ts,
            credentials,
            api_key,
            has_cookie,
            proxy_connection,
            status,
            reason,
            response_version,
            response_frame,
            response_end_frame,
            response_time,
            interim,
            challenges,
            retry_after,
            via,
            server,
            x_squid_error,
            content_type,
            content_length,
            error_message,
            tunnel,
            decrypted,
        })
    }
}

impl Enc for Credentials {
    fn enc(&self, w: &mut W<'_>) {
        let Credentials {
            header,
            scheme,
            user,
            token_masked,
            ntlm,
            kerberos,
            malformed,
        } = self;
        header.enc(w);
        scheme.enc(w);
        kerberos.enc(w);
        malformed.enc(w);
        enc_opts!(w; user, token_masked, ntlm);
    }
}

impl Dec for Credentials {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let header = Dec::dec(r)?;
        let scheme = Dec::dec(r)?;
        let kerberos = Dec::dec(r)?;
        let malformed = Dec::dec(r)?;
        dec_opts!(r; user, token_masked, ntlm);
        Some(Credentials {
            header,
            scheme,
            user,
            token_masked,
            ntlm,
            kerberos,
            malformed,
        })
    }
}

impl Enc for Challenge {
    fn enc(&self, w: &mut W<'_>) {
        let Challenge {
            header,
            scheme,
            realm,
            params,
            ntlm,
            kerberos,
        } = self;
        header.enc(w);
        scheme.enc(w);
        params.enc(w);
        kerberos.enc(w);
        enc_opts!(w; realm, ntlm);
    }
}

impl Dec for Challenge {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let header = Dec::dec(r)?;
        let scheme = Dec::dec(r)?;
        let params = Dec::dec(r)?;
        let kerberos = Dec::dec(r)?;
        dec_opts!(r; realm, ntlm);
        Some(Challenge {
            header,
            scheme,
            realm,
            params,
            ntlm,
            kerberos,
        })
    }
}

impl Enc for NtlmMessage {
    fn enc(&self, w: &mut W<'_>) {
        let NtlmMessage {
            message_type,
            flags,
            domain,
            user,
            workstation,
            target_name,
            target_info,
            nt_response,
            os_version,
        } = self;
        message_type.enc(w);
        flags.enc(w);
        target_info.enc(w);
        enc_opts!(w; domain, user, workstation, target_name, nt_response, os_version);
    }
}

impl Dec for NtlmMessage {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let message_type = Dec::dec(r)?;
        let flags = Dec::dec(r)?;
        let target_info = Dec::dec(r)?;
        dec_opts!(r; domain, user, workstation, target_name, nt_response, os_version);
        Some(NtlmMessage {
            message_type,
            flags,
            domain,
            user,
            workstation,
            target_name,
            target_info,
            nt_response,
            os_version,
        })
    }
}

impl Enc for TlsFacts {
    fn enc(&self, w: &mut W<'_>) {
        let TlsFacts {
            version,
            client_version,
            supported_versions,
            sni,
            alpn,
            server_alpn,
            cipher_suites,
            extensions,
            cipher,
            ja4,
            ja4_r,
            ja3,
            ja3s,
            hello_retry_request,
            client_hello_frame,
            server_hello_frame,
            certificate_frame,
            client_hello_ts,
            server_hello_ts,
            certificates,
            client_certificates,
            alerts,
            history,
            established,
            outcome,
            client_first_encrypted_len,
            decryption,
        } = self;
        supported_versions.enc(w);
        alpn.enc(w);
        cipher_suites.enc(w);
        extensions.enc(w);
        hello_retry_request.enc(w);
        certificates.enc(w);
        client_certificates.enc(w);
        alerts.enc(w);
        history.enc(w);
        established.enc(w);
        outcome.enc(w);
        enc_opts!(w;
            version,
            client_version,
            sni,
            server_alpn,
            cipher,
            ja4,
            ja4_r,
            ja3,
            ja3s,
            client_hello_frame,
            server_hello_frame,
            certificate_frame,
            client_hello_ts,
            server_hello_ts,
            client_first_encrypted_len,
            decryption,
        );
    }
}

impl Enc for TlsDecryption {
    fn enc(&self, w: &mut W<'_>) {
        let TlsDecryption { records, problem } = self;
        records.enc(w);
        enc_opts!(w; problem);
    }
}

impl Dec for TlsDecryption {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let records = Dec::dec(r)?;
        dec_opts!(r; problem);
        Some(TlsDecryption { records, problem })
    }
}

impl Dec for TlsFacts {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let supported_versions = Dec::dec(r)?;
        let alpn = Dec::dec(r)?;
        let cipher_suites = Dec::dec(r)?;
        let extensions = Dec::dec(r)?;
        let hello_retry_request = Dec::dec(r)?;
        let certificates = Dec::dec(r)?;
        let client_certificates = Dec::dec(r)?;
        let alerts = Dec::dec(r)?;
        let history = Dec::dec(r)?;
        let established = Dec::dec(r)?;
        let outcome = Dec::dec(r)?;
        dec_opts!(r;
            version,
            client_version,
            sni,
            server_alpn,
            cipher,
            ja4,
            ja4_r,
            ja3,
            ja3s,
            client_hello_frame,
            server_hello_frame,
            certificate_frame,
            client_hello_ts,
            server_hello_ts,
            client_first_encrypted_len,
            decryption,
        );
        Some(TlsFacts {
            version,
            client_version,
            supported_versions,
            sni,
            alpn,
            server_alpn,
            cipher_suites,
            extensions,
            cipher,
            ja4,
            ja4_r,
            ja3,
            ja3s,
            hello_retry_request,
            client_hello_frame,
            server_hello_frame,
            certificate_frame,
            client_hello_ts,
            server_hello_ts,
            certificates,
            client_certificates,
            alerts,
            history,
            established,
            outcome,
            client_first_encrypted_len,
            decryption,
        })
    }
}

impl Enc for TlsAlert {
    fn enc(&self, w: &mut W<'_>) {
        let TlsAlert {
            from,
            level,
            description,
            code,
            encrypted,
            frame,
            after,
        } = self;
        from.enc(w);
        encrypted.enc(w);
        frame.enc(w);
        enc_opts!(w; level, description, code, after);
    }
}

impl Dec for TlsAlert {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let from = Dec::dec(r)?;
        let encrypted = Dec::dec(r)?;
        let frame = Dec::dec(r)?;
        dec_opts!(r; level, description, code, after);
        Some(TlsAlert {
            from,
            level,
            description,
            code,
            encrypted,
            frame,
            after,
        })
    }
}

impl Enc for DnsTransaction {
    fn enc(&self, w: &mut W<'_>) {
        let DnsTransaction {
            client,
            server,
            transport,
            id,
            query,
            qtype,
            query_frame,
            query_ts,
            response_frame,
            rcode,
            answers,
            response_time,
            answered,
            truncated,
        } = self;
        transport.enc(w);
        id.enc(w);
        answers.enc(w);
        answered.enc(w);
        truncated.enc(w);
        enc_opts!(w;
            client,
            server,
            query,
            qtype,
            query_frame,
            query_ts,
            response_frame,
            rcode,
            response_time,
        );
    }
}

impl Dec for DnsTransaction {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let transport = Dec::dec(r)?;
        let id = Dec::dec(r)?;
        let answers = Dec::dec(r)?;
        let answered = Dec::dec(r)?;
        let truncated = Dec::dec(r)?;
        dec_opts!(r;
            client,
            server,
            query,
            qtype,
            query_frame,
            query_ts,
            response_frame,
            rcode,
            response_time,
        );
        Some(DnsTransaction {
            client,
            server,
            transport,
            id,
            query,
            qtype,
            query_frame,
            query_ts,
            response_frame,
            rcode,
            answers,
            response_time,
            answered,
            truncated,
        })
    }
}

impl Enc for SocksFacts {
    fn enc(&self, w: &mut W<'_>) {
        let SocksFacts {
            version,
            target,
            auth_method,
            user,
            reply,
            granted,
            request_frame,
            reply_frame,
        } = self;
        version.enc(w);
        granted.enc(w);
        enc_opts!(w; target, auth_method, user, reply, request_frame, reply_frame);
    }
}

impl Dec for SocksFacts {
    fn dec(r: &mut R<'_>) -> Option<Self> {
        let version = Dec::dec(r)?;
        let granted = Dec::dec(r)?;
        dec_opts!(r; target, auth_method, user, reply, request_frame, reply_frame);
        Some(SocksFacts {
            version,
            target,
            auth_method,
            user,
            reply,
            granted,
            request_frame,
            reply_frame,
        })
    }
}
