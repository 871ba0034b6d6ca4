//! What serde's derive cannot write by itself in the flow store's encoding
//! (`flow::store`): shared text and certificates, kept once per store and written as
//! their ids; names the decoders hand out as `&'static str`, read back as the
//! decoder's own copy; and the HTTP exchange, its rarely set fields grouped.
//!
//! The store format is internal (a spill file of this process); the JSON report has
//! its own schema in `report::json::schema`.

use super::http::HttpExchange;
use rustc_hash::FxHashMap;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::sync::Arc;

pub(crate) mod certs;
mod exchange;

/// A name a decoder hands out, one of a fixed list. Spelled as an alias in the
/// fields that hold one so that serde's derive does not take it for text borrowed
/// from the input, which would make their records readable from `'static` bytes only.
pub type Name = &'static str;

/// The one of `known` spelled like the next string of `d`.
pub(crate) fn static_name<'de, D: Deserializer<'de>>(
    d: D,
    mut known: impl Iterator<Item = &'static str>,
) -> Result<&'static str, D::Error> {
    let s = <&'de str>::deserialize(d)?;
    known
        .find(|k| *k == s)
        .ok_or_else(|| D::Error::custom("not a name a decoder gives"))
}

/// The shared values (`Arc<str>` text, `Arc<[u16]>` number lists) of one store, each
/// distinct value once: a flow's bytes hold the value's id, so reading a flow back
/// clones an `Arc` instead of allocating the value again and, for text, checking its
/// UTF-8 (the analysis reads each flow several times).
///
/// The table is bounded ([`MAX_SHARED`] values, [`MAX_SHARED_BYTES`] of them): past
/// that a value is written whole in the flow's bytes, which spill to disk like the
/// rest, so memory stays flat however many distinct values a capture holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Texts {
    items: Vec<Arc<str>>,
    ids: FxHashMap<Arc<str>, u32>,
    /// Recently written texts by address: (address, id) of copies kept in `items`,
    /// [`RECENT`] slots, each address in one slot (see [`Texts::id`]).
    recent: Vec<(usize, u32)>,
    lists: Vec<Arc<[u16]>>,
    list_ids: FxHashMap<Arc<[u16]>, u32>,
    /// Bytes of the values kept (text and lists).
    bytes: usize,
    /// Certificates (unbounded: a flow holds the ones it saw, and each is kept once).
    certs: certs::Certs,
}

/// Distinct values a store's table keeps, text and lists each.
pub(crate) const MAX_SHARED: usize = 1 << 16;
/// Bytes of values a store's table keeps, text and lists together.
pub(crate) const MAX_SHARED_BYTES: usize = 4 << 20;
/// Slots of [`Texts::id`]'s lookup by address (a power of two).
const RECENT: usize = 1 << 10;

/// A shared value as written: its id in the table, or the value itself once the
/// table is full. [`RefIn`] reads it back (same variants, same order).
#[derive(Serialize)]
enum RefOut<'a, T: ?Sized> {
    Id(u32),
    Inline(&'a T),
}

#[derive(Deserialize)]
enum RefIn<T> {
    Id(u32),
    Inline(T),
}

// The tables the shared fields of the record being written or read go through:
// serde's derive hands the `with` functions nothing but the value, so the store puts
// its table here around each `postcard` call. Two, each as small as can be: reading
// puts one in place for every record read.
thread_local! {
    static WRITING: RefCell<Option<Texts>> = const { RefCell::new(None) };
    static READING: RefCell<Option<Arc<Texts>>> = const { RefCell::new(None) };
}

/// `f` of the table records are written to on this thread, if any.
#[inline]
fn writing<R>(f: impl FnOnce(&mut Texts) -> R) -> Option<R> {
    WRITING.with_borrow_mut(|t| t.as_mut().map(f))
}

/// `f` of the table records are read from on this thread, if any.
#[inline]
fn reading<R>(f: impl FnOnce(&Texts) -> Option<R>) -> Option<R> {
    READING.with_borrow(|t| t.as_deref().and_then(f))
}

/// While alive, records read on this thread take their shared values from a table
/// ([`Texts::reading`]); the table before is back when it drops.
pub(crate) struct Reading(Option<Arc<Texts>>);

impl Drop for Reading {
    fn drop(&mut self) {
        READING.set(self.0.take());
    }
}

impl Texts {
    /// Runs `f` (which writes records) with this table taking their text.
    pub(crate) fn write<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let prev = WRITING.replace(Some(std::mem::take(self)));
        let r = f();
        if let Some(t) = WRITING.replace(prev) {
            *self = t;
        }
        r
    }

    /// Records read while the guard lives take their shared values from this table.
    pub(crate) fn reading(self: &Arc<Self>) -> Reading {
        Reading(READING.replace(Some(self.clone())))
    }

    /// Runs `f` (which reads records) with this table giving their text back.
    pub(crate) fn read<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let _table = self.reading();
        f()
    }

    /// Forgets the lookup from text to id (reading needs only the values); text
    /// written afterwards is kept again.
    pub(crate) fn done_writing(&mut self) {
        self.ids = FxHashMap::default();
        self.recent = Vec::new();
        self.items.shrink_to_fit();
        self.list_ids = FxHashMap::default();
        self.lists.shrink_to_fit();
        self.certs.done_writing();
    }

    fn full(&self, count: usize, bytes: usize) -> bool {
        count >= MAX_SHARED || self.bytes.saturating_add(bytes) > MAX_SHARED_BYTES
    }

    fn list_id(&mut self, l: &Arc<[u16]>) -> Option<u32> {
        if let Some(&i) = self.list_ids.get(&**l) {
            return Some(i);
        }
        let bytes = size_of_val::<[u16]>(l);
        if self.full(self.lists.len(), bytes) {
            return None;
        }
        self.bytes += bytes;
        let i = u32::try_from(self.lists.len()).ok()?;
        self.lists.push(l.clone());
        self.list_ids.insert(l.clone(), i);
        Some(i)
    }

    /// The id of `s`, kept now if it is new (`None` once the table is full).
    ///
    /// The decoders hand out one shared copy of a repeated text: its address is
    /// cheaper to look up than its contents (hashing, comparing). The table holds
    /// the copy whose address it notes, so no other text can take that address while
    /// the table lives; other copies are found by contents. Addresses go to a fixed
    /// number of slots, so the lookup takes no more memory however many texts there
    /// are: one that lost its slot is found by contents and takes the slot back.
    fn id(&mut self, s: &Arc<str>) -> Option<u32> {
        let addr = Arc::as_ptr(s).cast::<u8>() as usize;
        let slot =
            ((addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - RECENT.ilog2())) as usize;
        if let Some(&(a, i)) = self.recent.get(slot)
            && a == addr
        {
            return Some(i);
        }
        let i = match self.ids.get(&**s) {
            Some(&i) => i,
            None => {
                if self.full(self.items.len(), s.len()) {
                    return None;
                }
                self.bytes += s.len();
                let i = u32::try_from(self.items.len()).ok()?;
                self.items.push(s.clone());
                self.ids.insert(s.clone(), i);
                i
            }
        };
        if self
            .items
            .get(i as usize)
            .is_some_and(|k| Arc::ptr_eq(k, s))
        {
            if self.recent.is_empty() {
                self.recent = vec![(0, 0); RECENT];
            }
            if let Some(r) = self.recent.get_mut(slot) {
                *r = (addr, i);
            }
        }
        Some(i)
    }

    /// Heap bytes held (approximate: the texts' lengths, not their allocations').
    pub(crate) fn heap_bytes(&self) -> usize {
        // An Arc's allocation: two counts, then the value.
        let arc = 2 * size_of::<usize>();
        self.items.capacity() * size_of::<Arc<str>>()
            + self.ids.capacity() * (size_of::<Arc<str>>() + size_of::<u32>() + 1)
            + self.recent.capacity() * size_of::<(usize, u32)>()
            + self.items.iter().map(|s| arc + s.len()).sum::<usize>()
            + self.lists.capacity() * size_of::<Arc<[u16]>>()
            + self.list_ids.capacity() * (size_of::<Arc<[u16]>>() + size_of::<u32>() + 1)
            + self
                .lists
                .iter()
                .map(|l| arc + size_of_val::<[u16]>(l))
                .sum::<usize>()
            + self.certs.heap_bytes()
    }
}

#[inline]
fn text_ref<'a, S: Serializer>(v: &'a Arc<str>) -> Result<RefOut<'a, str>, S::Error> {
    writing(|t| t.id(v).map_or(RefOut::Inline(&**v), RefOut::Id))
        .ok_or_else(|| S::Error::custom("no text table to write to"))
}

fn text_of<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    match RefIn::<String>::deserialize(d)? {
        RefIn::Id(i) => shared_text(i).ok_or_else(|| D::Error::custom(NOT_A_TEXT_ID)),
        RefIn::Inline(s) => Ok(Arc::from(s)),
    }
}

const NOT_A_TEXT_ID: &str = "not a text id of this store";

/// Text `i` of the table being read from.
#[inline]
fn shared_text(i: u32) -> Option<Arc<str>> {
    reading(|t| t.items.get(i as usize).cloned())
}

/// Shared text, as its id in the store's [`Texts`].
pub(crate) mod text {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
        text_ref::<S>(v)?.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        text_of(d)
    }
}

/// A shared list of numbers, as its id in the store's [`Texts`].
pub(crate) mod u16s {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Arc<[u16]>, s: S) -> Result<S::Ok, S::Error> {
        let r = writing(|t| t.list_id(v).map_or(RefOut::Inline(&**v), RefOut::Id));
        r.ok_or_else(|| S::Error::custom("no table to write to"))?
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[u16]>, D::Error> {
        let i = match RefIn::<Vec<u16>>::deserialize(d)? {
            RefIn::Id(i) => i,
            RefIn::Inline(l) => return Ok(Arc::from(l)),
        };
        reading(|t| t.lists.get(i as usize).cloned())
            .ok_or_else(|| D::Error::custom("not a list id of this store"))
    }
}

/// Optional [`text`], as one tag: none, an id, or the text itself (an `Option` of
/// [`text`] would read a tag for the option, then one for the reference).
pub(crate) mod opt_text {
    use super::*;

    #[derive(Serialize)]
    enum Out<'a> {
        None,
        Id(u32),
        Inline(&'a str),
    }

    #[derive(Deserialize)]
    enum In {
        None,
        Id(u32),
        Inline(String),
    }

    /// `v` is the field or a reference to it (a view of a record borrows its fields).
    pub(crate) fn serialize<S: Serializer, V: Borrow<Option<Arc<str>>>>(
        v: &V,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let out = match v.borrow() {
            None => Out::None,
            Some(v) => match text_ref::<S>(v)? {
                RefOut::Id(i) => Out::Id(i),
                RefOut::Inline(v) => Out::Inline(v),
            },
        };
        out.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<str>>, D::Error> {
        match In::deserialize(d)? {
            In::None => Ok(None),
            In::Id(i) => shared_text(i)
                .map(Some)
                .ok_or_else(|| D::Error::custom(NOT_A_TEXT_ID)),
            In::Inline(s) => Ok(Some(Arc::from(s))),
        }
    }
}

/// A list of [`text`].
pub(crate) mod text_list {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Id(#[serde(with = "text")] Arc<str>);

    pub(crate) fn serialize<S: Serializer>(v: &[Arc<str>], s: S) -> Result<S::Ok, S::Error> {
        let refs = v
            .iter()
            .map(text_ref::<S>)
            .collect::<Result<Vec<_>, S::Error>>()?;
        s.collect_seq(refs)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Arc<str>>, D::Error> {
        list(d, |Id(v)| v)
    }
}

/// A list read through `W`, each element unwrapped as it comes (collecting the
/// wrappers first, then unwrapping them, would move every element once more).
fn list<'de, D: Deserializer<'de>, W: Deserialize<'de>, T>(
    d: D,
    unwrap: fn(W) -> T,
) -> Result<Vec<T>, D::Error> {
    struct Elements<W, T>(fn(W) -> T);

    impl<'de, W: Deserialize<'de>, T> serde::de::Visitor<'de> for Elements<W, T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // The length is read from the bytes: trusted only so far.
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(w) = seq.next_element()? {
                v.push((self.0)(w));
            }
            Ok(v)
        }
    }

    d.deserialize_seq(Elements(unwrap))
}

/// [`DnsTransaction::transport`](super::dns::DnsTransaction::transport).
pub(crate) fn dns_transport<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static_name(d, ["udp", "tcp"].into_iter())
}

/// [`NtlmMessage::flags`](super::ntlm::NtlmMessage::flags), as the bits they name:
/// the decoder lists them in bit order ([`flag_names`](super::ntlm::flag_names)),
/// so the bits give the same list back without a string per flag.
pub(crate) mod ntlm_flags {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[&'static str], s: S) -> Result<S::Ok, S::Error> {
        let mut bits = 0u32;
        for name in v {
            bits |= super::super::ntlm::flag_bit(name)
                .ok_or_else(|| S::Error::custom("not an NTLM flag"))?;
        }
        s.serialize_u32(bits)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<&'static str>, D::Error> {
        Ok(super::super::ntlm::flag_names(u32::deserialize(d)?))
    }
}

/// [`AppFacts::http`](super::AppFacts::http): each exchange as [`exchange`] writes it.
pub(crate) mod exchanges {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[HttpExchange], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(exchange::Out::from))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<HttpExchange>, D::Error> {
        list(d, exchange::In::into_exchange)
    }
}
