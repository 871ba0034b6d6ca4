//! [`HttpExchange`] in the flow store's encoding: the fields most exchanges set, then
//! the rarely set ones together behind one tag, so that an exchange without them
//! reads one tag instead of one per field.
//!
//! Written from a view that takes every field apart and read into a struct put back
//! together field by field: a field added to [`HttpExchange`] and missing here does
//! not compile.

use super::opt_text;
use crate::model::{FrameNo, Timestamp};
use crate::protocols::http::{Challenge, Credentials, HeadCut, HttpExchange};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An exchange as written.
#[derive(Serialize)]
pub(super) struct Out<'a> {
    #[serde(with = "opt_text")]
    method: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    target: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    version: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    host: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    user_agent: &'a Option<Arc<str>>,
    request_frame: Option<FrameNo>,
    request_ts: Option<Timestamp>,
    credentials: &'a [Credentials],
    #[serde(with = "opt_text")]
    proxy_connection: &'a Option<Arc<str>>,
    status: Option<u16>,
    #[serde(with = "opt_text")]
    reason: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    response_version: &'a Option<Arc<str>>,
    response_frame: Option<FrameNo>,
    response_end_frame: Option<FrameNo>,
    response_time: Option<f64>,
    #[serde(with = "opt_text")]
    server: &'a Option<Arc<str>>,
    #[serde(with = "opt_text")]
    content_type: &'a Option<Arc<str>>,
    content_length: Option<u64>,
    tunnel: bool,
    rare: Option<RareOut<'a>>,
}

/// The fields few exchanges set.
#[derive(Serialize)]
struct RareOut<'a> {
    api_key: &'a Option<String>,
    has_cookie: bool,
    request_cut: Option<HeadCut>,
    response_cut: Option<HeadCut>,
    interim: &'a [u16],
    challenges: &'a [Challenge],
    retry_after: &'a Option<String>,
    via: &'a [String],
    x_squid_error: &'a Option<String>,
    error_message: &'a Option<String>,
    decrypted: bool,
}

impl<'a> From<&'a HttpExchange> for Out<'a> {
    fn from(e: &'a HttpExchange) -> Out<'a> {
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
            request_cut,
            status,
            reason,
            response_version,
            response_frame,
            response_cut,
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
        } = e;
        let rare = RareOut {
            api_key,
            has_cookie: *has_cookie,
            request_cut: *request_cut,
            response_cut: *response_cut,
            interim,
            challenges,
            retry_after,
            via,
            x_squid_error,
            error_message,
            decrypted: *decrypted,
        };
        Out {
            method,
            target,
            version,
            host,
            user_agent,
            request_frame: *request_frame,
            request_ts: *request_ts,
            credentials,
            proxy_connection,
            status: *status,
            reason,
            response_version,
            response_frame: *response_frame,
            response_end_frame: *response_end_frame,
            response_time: *response_time,
            server,
            content_type,
            content_length: *content_length,
            tunnel: *tunnel,
            rare: (!rare.is_unset()).then_some(rare),
        }
    }
}

impl RareOut<'_> {
    fn is_unset(&self) -> bool {
        let RareOut {
            api_key,
            has_cookie,
            request_cut,
            response_cut,
            interim,
            challenges,
            retry_after,
            via,
            x_squid_error,
            error_message,
            decrypted,
        } = self;
        api_key.is_none()
            && !has_cookie
            && request_cut.is_none()
            && response_cut.is_none()
            && interim.is_empty()
            && challenges.is_empty()
            && retry_after.is_none()
            && via.is_empty()
            && x_squid_error.is_none()
            && error_message.is_none()
            && !decrypted
    }
}

/// An exchange as read ([`Out`], field for field).
#[derive(Deserialize)]
pub(super) struct In {
    #[serde(with = "opt_text")]
    method: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    target: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    version: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    host: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    user_agent: Option<Arc<str>>,
    request_frame: Option<FrameNo>,
    request_ts: Option<Timestamp>,
    credentials: Vec<Credentials>,
    #[serde(with = "opt_text")]
    proxy_connection: Option<Arc<str>>,
    status: Option<u16>,
    #[serde(with = "opt_text")]
    reason: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    response_version: Option<Arc<str>>,
    response_frame: Option<FrameNo>,
    response_end_frame: Option<FrameNo>,
    response_time: Option<f64>,
    #[serde(with = "opt_text")]
    server: Option<Arc<str>>,
    #[serde(with = "opt_text")]
    content_type: Option<Arc<str>>,
    content_length: Option<u64>,
    tunnel: bool,
    rare: Option<RareIn>,
}

/// [`RareOut`] as read.
#[derive(Default, Deserialize)]
struct RareIn {
    api_key: Option<String>,
    has_cookie: bool,
    request_cut: Option<HeadCut>,
    response_cut: Option<HeadCut>,
    interim: Vec<u16>,
    challenges: Vec<Challenge>,
    retry_after: Option<String>,
    via: Vec<String>,
    x_squid_error: Option<String>,
    error_message: Option<String>,
    decrypted: bool,
}

impl In {
    pub(super) fn into_exchange(self) -> HttpExchange {
        let In {
            method,
            target,
            version,
            host,
            user_agent,
            request_frame,
            request_ts,
            credentials,
            proxy_connection,
            status,
            reason,
            response_version,
            response_frame,
            response_end_frame,
            response_time,
            server,
            content_type,
            content_length,
            tunnel,
            rare,
        } = self;
        let RareIn {
            api_key,
            has_cookie,
            request_cut,
            response_cut,
            interim,
            challenges,
            retry_after,
            via,
            x_squid_error,
            error_message,
            decrypted,
        } = rare.unwrap_or_default();
        HttpExchange {
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
            request_cut,
            status,
            reason,
            response_version,
            response_frame,
            response_cut,
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
        }
    }
}
