//! HTTP/1.x: the proxy dialogue (CONNECT, 407, absolute-form requests, gateways).
//!
//! Fed by `protocols::StreamDecoder` with ordered bytes of one TCP connection once its
//! content looks like HTTP (any port). Pairs requests with responses on keep-alive and
//! pipelined connections, skips bodies by Content-Length / chunked coding without
//! buffering them, and states per exchange what a proxy diagnosis needs: method,
//! target, status, authentication challenges and the scheme/user of the credentials
//! sent back. After a 2xx to CONNECT the connection becomes a tunnel and its bytes
//! are handed back to the dispatcher (normally for TLS).
//!
//! Secrets: only schemes, user names and masked keys are kept (see `secrets`);
//! passwords, tokens, NTLM responses and cookies never enter these types.
//!
//! `head` reads message heads, `auth` the authentication headers, `decoder` the
//! byte-level dialogue, `messages` the exchanges built from its heads, `fill` the
//! request and response facts read from header lines (shared with HTTP/2), `texts`
//! the masked header texts remembered per analysis, and `exchange` the kept exchange
//! type.

mod auth;
mod decoder;
mod exchange;
mod fill;
mod head;
mod messages;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests;
mod texts;

pub use auth::{AuthHeader, Challenge, Credentials, parse_challenges, parse_credentials};
pub use decoder::{HttpDecoder, TunnelChunk};
pub use exchange::HttpExchange;
pub(crate) use fill::{HeaderFields, RequestStart, is_connect};
pub use head::{
    HeadCut, MAX_HEADER_BYTES, is_absolute_form, looks_like_http, message_starts, strip_http_scheme,
};
pub(crate) use messages::error_message;
pub use texts::MaskedTexts;
