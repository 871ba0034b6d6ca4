//! Certificates in the flow store's encoding: each one kept once in the store's table
//! ([`super::Texts`]), a flow's chain written as their ids.

use super::{reading, writing};
use crate::protocols::x509::{CertData, CertInfo};
use rustc_hash::FxHashMap;
use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Deserializer, Serializer};

/// Each certificate of the flows written, once (told apart by its shared copy,
/// [`CertInfo::shared_id`]: the table holds a clone, so an id cannot be reused by
/// another certificate while it is there).
#[derive(Clone, Debug, Default)]
pub(super) struct Certs {
    items: Vec<CertInfo>,
    ids: FxHashMap<usize, u32>,
}

impl Certs {
    fn id(&mut self, c: &CertInfo) -> Option<u32> {
        if let Some(&i) = self.ids.get(&c.shared_id()) {
            return Some(i);
        }
        let i = u32::try_from(self.items.len()).ok()?;
        self.items.push(c.clone());
        self.ids.insert(c.shared_id(), i);
        Some(i)
    }

    /// Forgets the lookup from certificate to id (reading needs only the items).
    pub(super) fn done_writing(&mut self) {
        self.ids = FxHashMap::default();
        self.items.shrink_to_fit();
    }

    pub(super) fn heap_bytes(&self) -> usize {
        // An Arc's allocation: two counts, then the value.
        let arc = 2 * size_of::<usize>();
        self.items.capacity() * size_of::<CertInfo>()
            + self.ids.capacity() * (size_of::<usize>() + size_of::<u32>() + 1)
            + self.items.iter().map(|c| arc + cert_heap(c)).sum::<usize>()
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

/// A chain, as the ids of its certificates.
pub(crate) fn serialize<S: Serializer>(v: &[CertInfo], s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for c in v {
        let id = writing(|t| t.certs.id(c)).flatten();
        seq.serialize_element(&id.ok_or_else(|| S::Error::custom("no certificate table"))?)?;
    }
    seq.end()
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CertInfo>, D::Error> {
    struct Ids;

    impl<'de> Visitor<'de> for Ids {
        type Value = Vec<CertInfo>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("certificate ids")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<CertInfo>, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(id) = seq.next_element::<u32>()? {
                let c = reading(|t| t.certs.items.get(id as usize).cloned());
                v.push(c.ok_or_else(|| A::Error::custom("not a certificate id of this store"))?);
            }
            Ok(v)
        }
    }

    d.deserialize_seq(Ids)
}
