//! An HTTP exchange in words, as findings' evidence and the latency summary quote it.

use crate::protocols::http::{HeadCut, HttpExchange};

/// `…` after a value the capture's snap length cut short.
pub fn cut_mark(cut: Option<HeadCut>, field: HeadCut) -> &'static str {
    if cut == Some(field) { "…" } else { "" }
}

/// The request line as sent, e.g. `CONNECT api.anthropic.com:443` (a target the snap
/// length cut short ends in `…`).
pub fn request_line(h: &HttpExchange) -> String {
    format!(
        "{} {}{}",
        h.method.as_deref().unwrap_or("?"),
        h.target.as_deref().unwrap_or("?"),
        cut_mark(h.request_cut, HeadCut::Target)
    )
}

/// The status line as received, e.g. `HTTP/1.1 407 Proxy Authentication Required`.
pub fn status_line(h: &HttpExchange) -> String {
    format!(
        "HTTP/{} {} {}{}",
        h.response_version.as_deref().unwrap_or("1.1"),
        h.status.map_or_else(|| "?".to_string(), |s| s.to_string()),
        h.reason.as_deref().unwrap_or(""),
        cut_mark(h.response_cut, HeadCut::Reason)
    )
    .trim_end()
    .to_string()
}
