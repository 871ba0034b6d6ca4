//! An HTTP exchange in words, as findings' evidence and the latency summary quote it.

use crate::protocols::http::HttpExchange;

/// The request line as sent, e.g. `CONNECT api.anthropic.com:443`.
pub fn request_line(h: &HttpExchange) -> String {
    format!(
        "{} {}",
        h.method.as_deref().unwrap_or("?"),
        h.target.as_deref().unwrap_or("?")
    )
}

/// The status line as received, e.g. `HTTP/1.1 407 Proxy Authentication Required`.
pub fn status_line(h: &HttpExchange) -> String {
    format!(
        "HTTP/{} {} {}",
        h.response_version.as_deref().unwrap_or("1.1"),
        h.status.map_or_else(|| "?".to_string(), |s| s.to_string()),
        h.reason.as_deref().unwrap_or("")
    )
    .trim_end()
    .to_string()
}
