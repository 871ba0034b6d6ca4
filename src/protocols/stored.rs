//! What serde's derive cannot write by itself in the flow store's encoding
//! (`flow::store`): names the decoders hand out as `&'static str`, read back as the
//! decoder's own copy, and the HTTP exchange, described field by field here.
//!
//! The store format is internal (a spill file of this process); the JSON report has
//! its own schema in `report::json::schema`.

use super::http::{Challenge, Credentials, HttpExchange};
use crate::model::{FrameNo, Timestamp};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

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

/// Shared text (`Arc<str>`) read straight from the input's bytes: one allocation,
/// where serde's own goes through a `String` and a `Box<str>`.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    <&'de str>::deserialize(d).map(Arc::from)
}

/// Optional [`text`].
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
    Ok(Option::<&'de str>::deserialize(d)?.map(Arc::from))
}

/// A list of [`text`].
pub(crate) fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Arc<str>>, D::Error> {
    Ok(<Vec<&'de str>>::deserialize(d)?
        .into_iter()
        .map(Arc::from)
        .collect())
}

/// [`DnsTransaction::transport`](super::dns::DnsTransaction::transport).
pub(crate) fn dns_transport<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    static_name(d, ["udp", "tcp"].into_iter())
}

/// [`NtlmMessage::flags`](super::ntlm::NtlmMessage::flags).
pub(crate) fn ntlm_flags<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    let all = super::ntlm::flag_names(u32::MAX);
    <Vec<&'de str>>::deserialize(d)?
        .into_iter()
        .map(|s| {
            all.iter()
                .find(|k| **k == s)
                .copied()
                .ok_or_else(|| D::Error::custom("not an NTLM flag"))
        })
        .collect()
}

/// [`AppFacts::http`](super::AppFacts::http): each exchange through [`Exchange`].
pub(crate) mod exchanges {
    use super::*;

    #[derive(Serialize)]
    struct Out<'a>(#[serde(with = "Exchange")] &'a HttpExchange);

    #[derive(Deserialize)]
    struct In(#[serde(with = "Exchange")] HttpExchange);

    pub(crate) fn serialize<S: Serializer>(v: &[HttpExchange], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(Out))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<HttpExchange>, D::Error> {
        Ok(<Vec<In>>::deserialize(d)?
            .into_iter()
            .map(|In(e)| e)
            .collect())
    }
}

/// [`HttpExchange`], field by field (serde's remote derive: a field missing here
/// does not compile).
#[derive(Serialize, Deserialize)]
#[serde(remote = "HttpExchange")]
struct Exchange {
    #[serde(deserialize_with = "opt_text")]
    method: Option<Arc<str>>,
    #[serde(deserialize_with = "opt_text")]
    target: Option<Arc<str>>,
    #[serde(deserialize_with = "opt_text")]
    version: Option<Arc<str>>,
    #[serde(deserialize_with = "opt_text")]
    host: Option<Arc<str>>,
    #[serde(deserialize_with = "opt_text")]
    user_agent: Option<Arc<str>>,
    request_frame: Option<FrameNo>,
    request_ts: Option<Timestamp>,
    credentials: Vec<Credentials>,
    api_key: Option<String>,
    has_cookie: bool,
    #[serde(deserialize_with = "opt_text")]
    proxy_connection: Option<Arc<str>>,
    status: Option<u16>,
    #[serde(deserialize_with = "opt_text")]
    reason: Option<Arc<str>>,
    #[serde(deserialize_with = "opt_text")]
    response_version: Option<Arc<str>>,
    response_frame: Option<FrameNo>,
    response_end_frame: Option<FrameNo>,
    response_time: Option<f64>,
    interim: Vec<u16>,
    challenges: Vec<Challenge>,
    retry_after: Option<String>,
    via: Vec<String>,
    #[serde(deserialize_with = "opt_text")]
    server: Option<Arc<str>>,
    x_squid_error: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    content_type: Option<Arc<str>>,
    content_length: Option<u64>,
    error_message: Option<String>,
    tunnel: bool,
    decrypted: bool,
}
