//! What serde's derive cannot write by itself of [`TlsFacts`](super::TlsFacts) in the
//! flow store's encoding: tls-parser's number types, as their number, and the name of
//! the handshake message an alert followed.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tls_parser::{TlsAlertDescription, TlsAlertSeverity, TlsCipherSuiteID, TlsVersion};

/// A tls-parser newtype over a number.
pub(super) trait Number: Copy {
    type Raw: Copy + Serialize + for<'de> Deserialize<'de>;
    fn raw(self) -> Self::Raw;
    fn from_raw(r: Self::Raw) -> Self;
}

macro_rules! number {
    ($($t:ty: $raw:ty),+) => {$(
        impl Number for $t {
            type Raw = $raw;
            fn raw(self) -> $raw {
                self.0
            }
            fn from_raw(r: $raw) -> Self {
                Self(r)
            }
        }
    )+};
}

number!(TlsVersion: u16, TlsCipherSuiteID: u16, TlsAlertSeverity: u8, TlsAlertDescription: u8);

/// An optional [`Number`].
pub(super) mod opt {
    use super::*;

    pub(crate) fn serialize<T: Number, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.map(T::raw).serialize(s)
    }

    pub(crate) fn deserialize<'de, T: Number, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        Ok(Option::<T::Raw>::deserialize(d)?.map(T::from_raw))
    }
}

/// A list of [`Number`]s.
pub(super) mod list {
    use super::*;

    pub(crate) fn serialize<T: Number, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|n| n.raw()))
    }

    pub(crate) fn deserialize<'de, T: Number, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(<Vec<T::Raw>>::deserialize(d)?
            .into_iter()
            .map(T::from_raw)
            .collect())
    }
}

/// [`TlsAlert::after`](super::TlsAlert::after): a handshake message's name, or one
/// of the two the decoder adds.
pub(super) fn after<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    let Some(s) = Option::<&'de str>::deserialize(d)? else {
        return Ok(None);
    };
    (0..=u8::MAX)
        .map(|t| super::handshake::handshake_name(t).0)
        .chain(["hello_retry_request", "change_cipher_spec"])
        .find(|k| *k == s)
        .map(Some)
        .ok_or_else(|| D::Error::custom("not a handshake message name"))
}
