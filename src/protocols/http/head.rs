//! Message heads: start line and header block of one request or response, and
//! header values as bounded text.
//!
//! `httparse` reads the head, with a lenient fallback for the heads real clients
//! send that it refuses; `text` keeps header values free of what a damaged line
//! end lets run on into them (the next header, possibly a credential).

use super::fill::HeaderFields;
use super::texts::MaskedTexts;
use crate::model::Dir;
use std::sync::Arc;

/// Cap on the header block of one message; past it the direction is given up.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// Longest header value kept as a string.
const MAX_VALUE_CHARS: usize = 512;

/// Owned summary of a parsed header block (so the buffer can be consumed).
pub(super) struct Head {
    pub(super) method: Option<String>,
    pub(super) target: Option<Arc<str>>,
    pub(super) status: Option<u16>,
    pub(super) reason: Option<Arc<str>>,
    pub(super) version: Option<u8>,
    pub(super) headers: Headers,
    /// The capture's snap length cut this head (see [`parse_cut_head`]).
    pub(super) cut: Option<HeadCut>,
}

/// The header lines of a head, in order: names and values copied into one buffer
/// (two allocations a head, not two a line).
#[derive(Default)]
pub(super) struct Headers {
    bytes: Vec<u8>,
    /// Per line: where its name starts, where its name ends and its value starts,
    /// and where its value ends, in `bytes`.
    lines: Vec<(usize, usize, usize)>,
}

impl Headers {
    /// Room for `lines` lines of `bytes` bytes in all.
    fn with_capacity(lines: usize, bytes: usize) -> Self {
        Headers {
            bytes: Vec::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    /// Adds a line.
    pub(super) fn push(&mut self, name: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(name);
        let mid = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.lines.push((start, mid, self.bytes.len()));
    }

    /// Lines so far.
    pub(super) fn len(&self) -> usize {
        self.lines.len()
    }

    /// (name, value) of each line, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.lines.iter().map(|&(a, b, c)| {
            (
                self.bytes.get(a..b).unwrap_or_default(),
                self.bytes.get(b..c).unwrap_or_default(),
            )
        })
    }
}

impl Head {
    /// The last transfer coding is `chunked`.
    pub(super) fn chunked(&self) -> bool {
        self.all("transfer-encoding").any(|v| {
            text(v)
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        })
    }
}

/// Header names that carry credentials, as they show inside a value that swallowed the
/// next line: `authorization` covers Proxy-Authorization, `cookie` Set-Cookie and
/// `api-key` x-api-key; with `_` for `-` too, as some clients send them.
const CREDENTIAL_NAMES: &[&[u8]] = &[b"authorization", b"cookie", b"api-key", b"api_key"];

/// Where a credential header (one of [`CREDENTIAL_NAMES`], optional blanks, ':')
/// starts inside `s`, if one does.
fn embedded_credential_header(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    // Every match holds a ':': most values (user agents, server names) have none.
    if !b.contains(&b':') {
        return None;
    }
    (0..b.len()).find(|&i| {
        // Every name starts with `a` or `c`: at most other bytes nothing is compared.
        b.get(i).is_some_and(|&c| matches!(c | 0x20, b'a' | b'c'))
            && CREDENTIAL_NAMES.iter().any(|n| {
                b.get(i..i + n.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(n))
                    && b.get(i + n.len()..)
                        .unwrap_or_default()
                        .iter()
                        .find(|c| !matches!(c, b' ' | b'\t'))
                        == Some(&b':')
            })
    })
}

/// `s` up to its first control character other than HTAB: bytes while it is ASCII
/// (as header values are), characters from the first one that is not.
fn until_control(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x80 {
            // C1 controls (U+0080..U+009F) are characters of two bytes.
            end = s.get(i..).map_or(b.len(), |rest| {
                rest.char_indices()
                    .find(|&(_, ch)| ch.is_control() && ch != '\t')
                    .map_or(b.len(), |(j, _)| i + j)
            });
            break;
        }
        if (c < 0x20 && c != b'\t') || c == 0x7f {
            end = i;
            break;
        }
    }
    s.get(..end).unwrap_or(s)
}

/// A header value as bounded, lossy text, ending at the first control character, or
/// where a credential header starts inside it.
///
/// A field value never holds control characters other than HTAB (RFC 9110 5.5); one
/// that does is a damaged line ending, and what follows it is the next header — which
/// may be `Proxy-Authorization` — so it is not kept. A line end can also be missing
/// altogether (bytes lost, or a start line or header cut short), and then the next
/// header runs on in the same value with no control character in between: a value
/// that holds a credential header's name and ':' is cut there. Obsolete line folding
/// (RFC 9112 5.2) is unfolded first.
pub(crate) fn text(v: &[u8]) -> String {
    text_masked(v, |s| s.to_string())
}

/// A request target (or `Host` value) as kept: [`text`], its secrets masked before
/// the cut.
pub(super) fn target_text(v: &[u8]) -> String {
    text_masked(v, |t| {
        crate::protocols::secrets::mask_target(t).into_owned()
    })
}

/// A header text or reason phrase as kept: [`text`], secrets masked as in header
/// texts.
pub(super) fn header_text(v: &[u8]) -> String {
    text_masked(v, crate::protocols::secrets::mask_header_text)
}

/// [`text`] with `mask` applied before the value is cut to its kept length, so that
/// the cut cannot leave a key too short to be recognised (`sk-` and 12 characters).
pub(crate) fn text_masked(v: &[u8], mask: impl Fn(&str) -> String) -> String {
    let s = String::from_utf8_lossy(v);
    let unfolded;
    let s = if s.contains('\n') {
        unfolded = s
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ")
            .replace("\n ", " ");
        unfolded.as_str()
    } else {
        &s
    };
    let s = until_control(s);
    let s = mask(
        match embedded_credential_header(s) {
            Some(at) => s.get(..at).unwrap_or_default(),
            None => s,
        }
        .trim(),
    );
    if s.chars().count() > MAX_VALUE_CHARS {
        s.chars().take(MAX_VALUE_CHARS).collect()
    } else {
        s
    }
}

pub(super) fn version_str(v: Option<u8>) -> Option<String> {
    v.map(|v| format!("1.{v}"))
}

fn parser_config() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    c
}

pub(super) enum Parsed {
    Partial,
    Complete(usize, Head),
    Error(String),
}

/// Reads the head at the start of `bytes`; its target or reason phrase as kept,
/// through `texts`.
pub(super) fn parse_head(dir: Dir, bytes: &[u8], texts: &mut MaskedTexts) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let config = parser_config();
    let owned = |hs: &[httparse::Header<'_>]| {
        let len = hs.iter().map(|h| h.name.len() + h.value.len()).sum();
        let mut out = Headers::with_capacity(hs.len(), len);
        for h in hs {
            out.push(h.name.as_bytes(), h.value);
        }
        out
    };
    match dir {
        Dir::ToServer => {
            let mut req = httparse::Request::new(&mut headers);
            match config.parse_request(&mut req, bytes) {
                Ok(httparse::Status::Partial) => Parsed::Partial,
                Ok(httparse::Status::Complete(n)) => Parsed::Complete(
                    n,
                    Head {
                        method: req.method.map(str::to_string),
                        target: req.path.map(|p| texts.target(p.as_bytes())),
                        status: None,
                        reason: None,
                        version: req.version,
                        headers: owned(req.headers),
                        cut: None,
                    },
                ),
                Err(e) => lenient_head(dir, bytes, texts).unwrap_or(Parsed::Error(e.to_string())),
            }
        }
        Dir::ToClient => {
            let mut resp = httparse::Response::new(&mut headers);
            match config.parse_response(&mut resp, bytes) {
                Ok(httparse::Status::Partial) => Parsed::Partial,
                Ok(httparse::Status::Complete(n)) => Parsed::Complete(
                    n,
                    Head {
                        method: None,
                        target: None,
                        status: resp.code,
                        reason: resp.reason.map(|r| texts.text(r.as_bytes())),
                        version: resp.version,
                        headers: owned(resp.headers),
                        cut: None,
                    },
                ),
                Err(e) => lenient_head(dir, bytes, texts).unwrap_or(Parsed::Error(e.to_string())),
            }
        }
    }
}

/// The value of a message head that the capture's snap length cut short (kept as
/// far as it goes), or `Headers` when the cut fell between lines or in a header that
/// is not kept cut (credentials, challenges, framing). Nothing is concluded from a
/// cut value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadCut {
    /// A response cut before its status code was whole: no status is known.
    Status,
    Target,
    Version,
    Reason,
    Host,
    UserAgent,
    ProxyConnection,
    Via,
    Server,
    XSquidError,
    ContentType,
    RetryAfter,
    Headers,
}

/// Headers whose value is kept as far as the cut goes, and the field each fills.
const CUT_VALUES: &[(&str, HeadCut)] = &[
    ("host", HeadCut::Host),
    ("user-agent", HeadCut::UserAgent),
    ("proxy-connection", HeadCut::ProxyConnection),
    ("via", HeadCut::Via),
    ("server", HeadCut::Server),
    ("x-squid-error", HeadCut::XSquidError),
    ("content-type", HeadCut::ContentType),
    ("retry-after", HeadCut::RetryAfter),
];

/// Reads a head the capture's snap length cut before its end (`bytes` is all that
/// was captured of it): its whole lines, and the line the cut went through as far
/// as it goes when that is the start line's target or reason, or the value of one of
/// [`CUT_VALUES`]. `None` when not even the method and its space, or the version and a
/// whole status code, are there.
pub(super) fn parse_cut_head(
    dir: Dir,
    bytes: &[u8],
    texts: &mut MaskedTexts,
) -> Option<(Head, HeadCut)> {
    let (whole, part) = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => bytes.split_at(end + 1),
        None => (&[][..], bytes),
    };
    // A line cut between its CR and LF is whole.
    let part_whole = part.last() == Some(&b'\r');
    if whole.is_empty() {
        let line = String::from_utf8_lossy(part);
        let line = line.trim_end_matches('\r');
        let (mut head, cut) = cut_start_line(dir, line, texts)?;
        let cut = if part_whole { HeadCut::Headers } else { cut };
        head.cut = Some(cut);
        return Some((head, cut));
    }
    let mut terminated = whole.to_vec();
    if part_whole {
        terminated.extend_from_slice(part);
        terminated.push(b'\n');
    }
    terminated.extend_from_slice(b"\r\n");
    let Parsed::Complete(_, mut head) = parse_head(dir, &terminated, texts) else {
        return None;
    };
    head.cut = Some(HeadCut::Headers);
    if part_whole || part.is_empty() {
        return Some((head, HeadCut::Headers));
    }
    let line = String::from_utf8_lossy(part);
    let kept = line.split_once(':').and_then(|(name, value)| {
        let name = name.trim();
        let (_, cut) = CUT_VALUES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        let value = value.trim();
        (!value.is_empty()).then_some((name, value, *cut))
    });
    match kept {
        Some((name, value, cut)) if head.headers.len() < MAX_HEADERS => {
            head.headers.push(name.as_bytes(), value.as_bytes());
            head.cut = Some(cut);
            Some((head, cut))
        }
        _ => Some((head, HeadCut::Headers)),
    }
}

/// A start line cut short: the head it starts and the value the cut went through.
fn cut_start_line(dir: Dir, line: &str, texts: &mut MaskedTexts) -> Option<(Head, HeadCut)> {
    let version = |v: &str| match v {
        "HTTP/1.0" => Some(0u8),
        "HTTP/1.1" => Some(1u8),
        _ => None,
    };
    let mut head = Head {
        method: None,
        target: None,
        status: None,
        reason: None,
        version: None,
        headers: Headers::default(),
        cut: None,
    };
    match dir {
        Dir::ToServer => {
            let (method, rest) = line.split_once(' ')?;
            if method.is_empty()
                || method.len() > 20
                || !method.chars().all(|c| c.is_ascii_uppercase())
            {
                return None;
            }
            head.method = Some(method.to_string());
            let rest = rest.trim_start_matches(' ');
            let cut = match rest.split_once(' ') {
                Some((target, ver)) => {
                    head.target = Some(texts.target(target.as_bytes()));
                    head.version = version(ver.trim());
                    HeadCut::Version
                }
                None => {
                    head.target = Some(texts.target(rest.as_bytes())).filter(|t| !t.is_empty());
                    HeadCut::Target
                }
            };
            Some((head, cut))
        }
        Dir::ToClient => {
            let (ver, rest) = line.split_once(' ')?;
            head.version = Some(version(ver)?);
            let rest = rest.trim_start_matches(' ');
            let (code, reason) = match rest.split_once(' ') {
                Some((c, r)) => (c, Some(r)),
                None => (rest, None),
            };
            // Status codes have three digits: fewer is a code cut short.
            if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            head.status = code.parse().ok().filter(|c| (100..1000).contains(c));
            head.status?;
            head.reason = reason.map(|r| texts.text(r.as_bytes()));
            Some((head, HeadCut::Reason))
        }
    }
}

/// Fallback for heads httparse refuses but real clients send (Zeek's
/// connect-with-smtp.pcap: `CONNECT host:25 / HTTP/1.0` and a header line without
/// a colon): start line split at the first and last space, header lines without
/// ':' ignored. `None` when even that does not fit.
fn lenient_head(dir: Dir, bytes: &[u8], texts: &mut MaskedTexts) -> Option<Parsed> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| bytes.windows(2).position(|w| w == b"\n\n").map(|p| p + 2));
    let Some(end) = end else {
        // Not complete yet; only claim it if the start line looks right.
        let first = bytes.split(|&b| b == b'\n').next()?;
        return looks_like_http(dir, first).then_some(Parsed::Partial);
    };
    let head = String::from_utf8_lossy(bytes.get(..end)?).into_owned();
    let mut lines = head.lines();
    let start = lines.next()?.trim_end();
    let mut headers = Headers::default();
    for (n, v) in lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| !n.is_empty() && !n.contains(char::is_whitespace))
        .take(MAX_HEADERS)
    {
        headers.push(n.as_bytes(), v.trim().as_bytes());
    }
    let version = |v: &str| match v {
        "HTTP/1.0" => Some(0u8),
        "HTTP/1.1" => Some(1u8),
        _ => None,
    };
    match dir {
        Dir::ToServer => {
            let (method, rest) = start.split_once(' ')?;
            let (target, ver) = rest.rsplit_once(' ')?;
            let v = version(ver)?;
            if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
                return None;
            }
            Some(Parsed::Complete(
                end,
                Head {
                    method: Some(method.to_string()),
                    target: Some(texts.target(target.trim().as_bytes())),
                    status: None,
                    reason: None,
                    version: Some(v),
                    headers,
                    cut: None,
                },
            ))
        }
        Dir::ToClient => {
            let (ver, rest) = start.split_once(' ')?;
            let v = version(ver)?;
            let (code, reason) = rest
                .trim_start()
                .split_once(' ')
                .unwrap_or((rest.trim(), ""));
            let code: u16 = code.parse().ok().filter(|c| (100..1000).contains(c))?;
            Some(Parsed::Complete(
                end,
                Head {
                    method: None,
                    target: None,
                    status: Some(code),
                    reason: Some(texts.text(reason.as_bytes())),
                    version: Some(v),
                    headers,
                    cut: None,
                },
            ))
        }
    }
}

/// How an HTTP/1.x message starts in `dir`: a request method and its space, or the
/// response's version.
pub fn message_starts(dir: Dir) -> &'static [&'static [u8]] {
    match dir {
        Dir::ToClient => &[b"HTTP/"],
        Dir::ToServer => &[
            b"GET ",
            b"POST ",
            b"PUT ",
            b"HEAD ",
            b"DELETE ",
            b"OPTIONS ",
            b"CONNECT ",
            b"PATCH ",
            b"TRACE ",
            b"PROPFIND ",
        ],
    }
}

/// The rest of an absolute-form request target after its `http://` or `https://`
/// scheme, which is case-insensitive (RFC 9110 4.2.3: `GET HTTP://host/` is a proxy
/// request too); `None` for other targets.
pub fn strip_http_scheme(target: &str) -> Option<&str> {
    let (scheme, rest) = target.split_once("://")?;
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")).then_some(rest)
}

/// True if `target` is in absolute form with an HTTP(S) scheme: a request meant for
/// a proxy.
pub fn is_absolute_form(target: &str) -> bool {
    strip_http_scheme(target).is_some()
}

/// True if `bytes` starts like an HTTP/1.x request or response.
pub fn looks_like_http(dir: Dir, bytes: &[u8]) -> bool {
    message_starts(dir).iter().any(|m| bytes.starts_with(m))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::protocols::http::HttpDecoder;
    use crate::protocols::http::tests::feed;

    #[test]
    fn absolute_form_scheme_is_case_insensitive() {
        assert!(is_absolute_form("http://h/"));
        assert!(is_absolute_form("HTTP://h/"));
        assert!(is_absolute_form("HttpS://h:443/x"));
        assert_eq!(strip_http_scheme("HTTP://h/a"), Some("h/a"));
        assert!(!is_absolute_form("/path?u=http://x"));
        assert!(!is_absolute_form("ftp://h/"));
        assert!(!is_absolute_form("h:443"));
    }

    #[test]
    fn header_value_stops_at_a_damaged_line_end() {
        // Found by tests/secrets.rs: a corrupted '\n' merged the next header, a Basic
        // credential, into the kept Host value.
        let v = text(b"api.example.com:443\r\x04Proxy-Authorization: Basic Ym9iOlBhNTU=");
        assert_eq!(v, "api.example.com:443");
        assert_eq!(
            text(b"Basic realm=\"a\",\r\n\tcharset=\"UTF-8\""),
            "Basic realm=\"a\", charset=\"UTF-8\""
        );
        assert_eq!(text(b"a\tb"), "a\tb");
        // Controls end it, ASCII or not (U+0085 is a C1 control); other text stays.
        assert_eq!(text(b"a\x7fb"), "a");
        assert_eq!(text("caf\u{e9} ok\u{85}x".as_bytes()), "caf\u{e9} ok");
        assert_eq!(text("\u{e9}t\u{e9}".as_bytes()), "\u{e9}t\u{e9}");
    }

    #[test]
    fn header_value_stops_where_a_credential_header_runs_on() {
        // Found by the secrets_leak fuzz target: a `Via:` line cut short right after
        // its name ran on into the next line, and the Basic credentials became the
        // kept Via value (no control character in between to stop at).
        for (v, kept) in [
            ("Proxy-Authorization: Basic Ym9iOlBhNTU=", "Proxy-"),
            (
                "1.1 squidproxy-authorization:Basic Ym9iOlBhNTU=",
                "1.1 squidproxy-",
            ),
            (
                "api.example.comAuthorization : Bearer sk-ant-x",
                "api.example.com",
            ),
            ("curl/8 X-Api-Key: sk-ant-x", "curl/8 X-"),
            ("squid Set-Cookie:\tsession=abc", "squid Set-"),
            ("x Proxy_Authorization:   Basic Ym9iOlBhNTU=", "x Proxy_"),
            ("1.1 cookie-monster", "1.1 cookie-monster"),
            ("authorization required", "authorization required"),
        ] {
            assert_eq!(text(v.as_bytes()), kept, "{v}");
        }
        let mut d = HttpDecoder::new();
        feed(
            &mut d,
            Dir::ToServer,
            b"GET http://a.example/ HTTP/1.1\r\nVia: Proxy-Authorization: Basic Ym9iOlBhNTU=\r\n\r\n",
            1,
        );
        let (ex, _) = d.finish();
        assert!(!format!("{ex:?}").contains("Ym9iOlBhNTU"), "{ex:?}");
    }
}
