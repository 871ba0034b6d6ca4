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
//! `head` reads message heads, `auth` the authentication headers, and `exchange`
//! the dialogue built from them.

mod auth;
mod exchange;
mod head;

pub use auth::{AuthHeader, Challenge, Credentials, parse_challenges, parse_credentials};
pub use exchange::{HttpDecoder, HttpExchange, TunnelChunk};
pub use head::{
    MAX_HEADER_BYTES, is_absolute_form, looks_like_http, message_starts, strip_http_scheme,
};
