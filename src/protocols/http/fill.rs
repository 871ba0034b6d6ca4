//! The one place an exchange's request and response sides are filled from a
//! message's header lines, for HTTP/1.x heads and HTTP/2 header lists alike: each
//! decoder reads only its own start (request and status lines, or pseudo-headers)
//! and its own extras (HTTP/1.x snap-length cuts, `Proxy-Connection`, reason
//! phrases), and every header both versions carry is read, masked and interned here.

use super::auth::{AuthHeader, parse_challenges, parse_credentials};
use super::exchange::HttpExchange;
use super::head::{Head, text, text_masked};
use crate::model::{FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::secrets::{mask_header_text, mask_key};

/// A message's header lines as (name, value) pairs, in order, and the values read
/// from them as kept text.
pub(crate) trait HeaderFields {
    /// (name, value) of each line, in order.
    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])>;

    /// The values of the lines named `name` (any case), in order.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value named `name`, as text ([`text`]).
    fn first_text(&self, name: &str) -> Option<String> {
        self.all(name).next().map(text)
    }

    /// [`first_text`](Self::first_text), masked with `mask` before it is cut ([`text_masked`]).
    fn first_masked(&self, name: &str, mask: fn(&str) -> String) -> Option<String> {
        self.all(name).next().map(|v| text_masked(v, mask))
    }

    /// `Content-Length`: its first value when it is a list of repeated ones ("5, 5"
    /// is allowed by RFC 9110 8.6), or the text that is not a length.
    fn content_length(&self) -> Option<Result<u64, String>> {
        let v = self.first_text("content-length")?;
        let first = v.split(',').next().unwrap_or_default().trim();
        let n = first.parse::<u64>();
        Some(n.map_err(|_| v))
    }
}

impl HeaderFields for Head {
    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.headers.iter()
    }
}

/// An HTTP/2 header list as decoded (pseudo-headers included).
impl HeaderFields for [(Vec<u8>, Vec<u8>)] {
    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.iter().map(|(n, v)| (n.as_slice(), v.as_slice()))
    }
}

/// What a request says before its header lines, as its HTTP version reads it.
pub(crate) struct RequestStart<'a> {
    pub(crate) method: Option<&'a str>,
    /// The target as kept, its secrets masked.
    pub(crate) target: Option<&'a str>,
    /// `1.1`, `1.0`, `2`.
    pub(crate) version: Option<&'a str>,
    /// The authority the start names (HTTP/2's `:authority`), masked; when `None` the
    /// `Host` header is read.
    pub(crate) authority: Option<&'a str>,
    /// Where the request's first byte was.
    pub(crate) at: (FrameNo, Timestamp),
}

/// `method` is CONNECT (any case): the request asks for a tunnel.
pub(crate) fn is_connect(method: Option<&str>) -> bool {
    method.is_some_and(|m| m.eq_ignore_ascii_case("CONNECT"))
}

/// Authentication headers of a request.
const CREDENTIAL_HEADERS: [(&str, AuthHeader); 2] = [
    ("proxy-authorization", AuthHeader::ProxyAuthorization),
    ("authorization", AuthHeader::Authorization),
];

/// Authentication headers of a response.
const CHALLENGE_HEADERS: [(&str, AuthHeader); 2] = [
    ("proxy-authenticate", AuthHeader::ProxyAuthenticate),
    ("www-authenticate", AuthHeader::WwwAuthenticate),
];

/// Each value of `headers` in `fields`, by header then in order, as text.
fn auth_values<'a, F: HeaderFields + ?Sized>(
    fields: &'a F,
    headers: [(&'a str, AuthHeader); 2],
) -> impl Iterator<Item = (AuthHeader, String)> + 'a {
    headers
        .into_iter()
        .flat_map(move |(name, header)| fields.all(name).map(move |v| (header, text(v))))
}

/// `Via` values, masked as header texts.
fn via<F: HeaderFields + ?Sized>(fields: &F) -> impl Iterator<Item = String> + '_ {
    fields.all("via").map(|v| text_masked(v, mask_header_text))
}

impl HttpExchange {
    /// A new exchange with its request side: `start`, and what the request's header
    /// lines say (host, user agent, credentials' schemes and users, masked API key,
    /// whether a cookie was sent, `Via`).
    pub(crate) fn request<F: HeaderFields + ?Sized>(
        cx: &mut DecodeCtx,
        start: RequestStart<'_>,
        fields: &F,
    ) -> Self {
        let host = match start.authority {
            Some(a) => Some(cx.intern.text(a)),
            None => fields.all("host").next().map(|h| {
                let h = cx.texts.target(h);
                cx.intern.text(&h)
            }),
        };
        let user_agent = fields.all("user-agent").next().map(|u| {
            let u = cx.texts.text(u);
            cx.intern.text(&u)
        });
        let mut intern = |s: &str| cx.intern.text(s);
        let mut ex = HttpExchange {
            method: start.method.map(&mut intern),
            target: start.target.map(&mut intern),
            version: start.version.map(&mut intern),
            host,
            user_agent,
            request_frame: Some(start.at.0),
            request_ts: Some(start.at.1),
            has_cookie: fields.all("cookie").next().is_some(),
            ..Default::default()
        };
        for (header, v) in auth_values(fields, CREDENTIAL_HEADERS) {
            let mut c = parse_credentials(header, &v);
            c.scheme = cx.intern.text(&c.scheme);
            ex.credentials.push(c);
        }
        ex.api_key = fields
            .all("x-api-key")
            .chain(fields.all("api-key"))
            .next()
            .map(|v| mask_key(&String::from_utf8_lossy(v)));
        ex.via.extend(via(fields));
        ex
    }

    /// Fills the response side from a final (non-1xx) `status`, the response's
    /// `version`, where its first byte was, and what its header lines say
    /// (challenges, `Retry-After`, `Via`, `Server`, `X-Squid-Error`, content type
    /// and length). True when its body is to be read for an error message: a 4xx/5xx
    /// whose body is not encoded.
    pub(crate) fn response<F: HeaderFields + ?Sized>(
        &mut self,
        cx: &mut DecodeCtx,
        status: u16,
        version: Option<&str>,
        at: (FrameNo, Timestamp),
        fields: &F,
    ) -> bool {
        self.status = Some(status);
        self.response_version = version.map(|v| cx.intern.text(v));
        self.response_frame = Some(at.0);
        self.response_time = self.request_ts.map(|r| at.1.secs_since(r));
        for (header, v) in auth_values(fields, CHALLENGE_HEADERS) {
            let mut cs = parse_challenges(header, &v);
            for c in &mut cs {
                c.scheme = cx.intern.text(&c.scheme);
            }
            self.challenges.extend(cs);
        }
        self.retry_after = fields.first_masked("retry-after", mask_header_text);
        self.via.extend(via(fields));
        self.server = fields
            .all("server")
            .next()
            .map(|s| cx.texts.text(s))
            .map(|s| cx.intern.text(&s));
        self.x_squid_error = fields.first_masked("x-squid-error", mask_header_text);
        self.content_type = fields
            .first_text("content-type")
            .as_deref()
            .map(|s| cx.intern.text(s));
        self.content_length = fields.content_length().and_then(Result::ok);
        let encoded = fields
            .first_text("content-encoding")
            .is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
        status >= 400 && !encoded
    }
}
