//! One HTTP/1.x exchange as kept for the diagnosis: a request and its response,
//! with the proxy-relevant headers (secrets masked or dropped).

use super::auth::{Challenge, Credentials};
use super::head::HeadCut;
use crate::model::{FrameNo, Timestamp};

/// One request and its response (either may be missing).
#[derive(Clone, Debug, Default)]
pub struct HttpExchange {
    pub method: Option<std::sync::Arc<str>>,
    /// Request target as sent: authority (CONNECT), absolute URI or origin path.
    pub target: Option<std::sync::Arc<str>>,
    pub version: Option<std::sync::Arc<str>>,
    pub host: Option<std::sync::Arc<str>>,
    pub user_agent: Option<std::sync::Arc<str>>,
    pub request_frame: Option<FrameNo>,
    pub request_ts: Option<Timestamp>,
    /// `Proxy-Authorization` / `Authorization` sent with the request.
    pub credentials: Vec<Credentials>,
    /// `x-api-key` / `api-key` request header, masked.
    pub api_key: Option<String>,
    /// A Cookie header was sent (its value is never kept).
    pub has_cookie: bool,
    pub proxy_connection: Option<std::sync::Arc<str>>,
    /// The capture's snap length cut the request's head: the value cut short (kept as
    /// far as it goes), or `Headers`. Nothing is concluded from a cut value.
    pub request_cut: Option<HeadCut>,

    pub status: Option<u16>,
    pub reason: Option<std::sync::Arc<str>>,
    pub response_version: Option<std::sync::Arc<str>>,
    pub response_frame: Option<FrameNo>,
    /// The capture's snap length cut the response's head (see `request_cut`);
    /// `Status` when not even the status code is whole.
    pub response_cut: Option<HeadCut>,
    /// Frame carrying the response's last byte, when that is a later frame than its
    /// status line: where Wireshark lists the response (it shows a message in the
    /// frame that completes it).
    pub response_end_frame: Option<FrameNo>,
    /// Seconds from the request's first byte to the response's first byte.
    pub response_time: Option<f64>,
    /// Interim 1xx statuses received before the final response.
    pub interim: Vec<u16>,
    pub challenges: Vec<Challenge>,
    pub retry_after: Option<String>,
    /// `Via` headers of request and response, in order.
    pub via: Vec<String>,
    pub server: Option<std::sync::Arc<str>>,
    pub x_squid_error: Option<String>,
    pub content_type: Option<std::sync::Arc<str>>,
    pub content_length: Option<u64>,
    /// Start (≤ 200 chars) of a 4xx/5xx JSON error message, keys masked.
    pub error_message: Option<String>,
    /// The 2xx answer to CONNECT turned the connection into a tunnel.
    pub tunnel: bool,
    /// Read from TLS records decrypted with a key log.
    pub decrypted: bool,
}

impl HttpExchange {
    /// CONNECT, or a request in absolute form (`GET http://host/...`, any case): a
    /// request only a proxy should get.
    pub fn is_proxy_request(&self) -> bool {
        self.method.as_deref() == Some("CONNECT")
            || self.target.as_deref().is_some_and(super::is_absolute_form)
    }

    /// The request target, unless the snap length cut it short.
    pub fn whole_target(&self) -> Option<&str> {
        self.target
            .as_deref()
            .filter(|_| self.request_cut != Some(HeadCut::Target))
    }

    /// No response was seen, not even one the snap length cut before its status.
    pub fn no_response_seen(&self) -> bool {
        self.status.is_none() && self.response_cut.is_none()
    }

    /// The Host header, unless the snap length cut it short.
    pub fn whole_host(&self) -> Option<&str> {
        self.host
            .as_deref()
            .filter(|_| self.request_cut != Some(HeadCut::Host))
    }

    /// Schemes of the challenges, deduplicated, in order (`Basic, NTLM`).
    pub fn challenge_schemes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.challenges {
            if !out.iter().any(|s| s.eq_ignore_ascii_case(&c.scheme)) {
                out.push(&c.scheme);
            }
        }
        out
    }
}
