//! HTTP/2 frames and header blocks as a client and server send them (header blocks
//! from `loona-hpack`'s encoder, whose table carries over between streams), cut,
//! lost and mutated.

use super::*;
use crate::protocols::DecodeCtx;

const KEY: &str = "sk-ant-api03-SECRETSECRETSECRET-9999";
const BEARER: &str = "Bearer eyJSECRETTOKENVALUE";

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([ty, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

fn request(enc: &mut loona_hpack::Encoder, path: &str) -> Vec<u8> {
    enc.encode([
        (&b":method"[..], &b"POST"[..]),
        (b":scheme", b"https"),
        (b":authority", b"api.anthropic.com"),
        (b":path", path.as_bytes()),
        (b"x-api-key", KEY.as_bytes()),
        (b"authorization", BEARER.as_bytes()),
        (b"cookie", b"session=SECRETCOOKIE"),
    ])
}

fn response(enc: &mut loona_hpack::Encoder, status: &str) -> Vec<u8> {
    enc.encode([
        (&b":status"[..], status.as_bytes()),
        (b"content-type", b"application/json"),
        (b"retry-after", b"30"),
        (b"www-authenticate", b"Bearer realm=\"api\""),
    ])
}

const BODY: &[u8] =
    br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;

/// A client's and a server's bytes: stream 1 answered 429 (its request block split
/// over HEADERS with padding and priority and a CONTINUATION, its body in a padded
/// DATA frame), stream 3 answered 200 with the header table reused.
fn conversation() -> (Vec<u8>, Vec<u8>) {
    let (mut ce, mut se) = (loona_hpack::Encoder::new(), loona_hpack::Encoder::new());
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 1, 0, 0, 0x10, 0]));
    let block = request(&mut ce, "/v1/messages");
    let (a, b) = block.split_at(10);
    let mut h = vec![3]; // pad length
    h.extend([0, 0, 0, 0, 16]); // priority: dependency, weight
    h.extend(a);
    h.extend([0; 3]);
    c.extend(frame(HEADERS, PADDED | PRIORITY, 1, &h));
    c.extend(frame(CONTINUATION, END_HEADERS, 1, b));
    c.extend(frame(DATA, END_STREAM, 1, b"{}"));
    c.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &request(&mut ce, "/v1/models"),
    ));
    let mut s = frame(SETTINGS, 0, 0, &[]);
    s.extend(frame(SETTINGS, ACK, 0, &[]));
    s.extend(frame(HEADERS, END_HEADERS, 1, &response(&mut se, "429")));
    let mut d = vec![4];
    d.extend(BODY);
    d.extend([0; 4]);
    s.extend(frame(DATA, PADDED | END_STREAM, 1, &d));
    s.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &response(&mut se, "200"),
    ));
    s.extend(frame(GOAWAY, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0xb]));
    (c, s)
}

/// Feeds the client's then the server's bytes in chunks of `step`, one frame number
/// per chunk.
fn run(c: &[u8], s: &[u8], step: usize) -> (Vec<HttpExchange>, Vec<String>) {
    let cx = &mut DecodeCtx::default();
    let mut h = H2Decoder::new();
    let mut n = 0;
    for (dir, bytes) in [(Dir::ToServer, c), (Dir::ToClient, s)] {
        for chunk in bytes.chunks(step.max(1)) {
            n += 1;
            h.on_data(cx, dir, chunk, FrameNo(n), Timestamp(n as i64));
        }
    }
    let (ex, notes) = h.finish();
    (ex, notes.into_report().0)
}

#[test]
fn streams_become_exchanges_in_any_chunking() {
    let (c, s) = conversation();
    for step in [1, 2, 7, 9, 100, 100_000] {
        let (ex, notes) = run(&c, &s, step);
        assert_eq!(ex.len(), 2, "step {step}: {notes:?}");
        let (a, b) = (&ex[0], &ex[1]);
        assert_eq!(a.method.as_deref(), Some("POST"));
        assert_eq!(a.target.as_deref(), Some("/v1/messages"));
        assert_eq!(b.target.as_deref(), Some("/v1/models"));
        assert_eq!(a.host.as_deref(), Some("api.anthropic.com"));
        assert_eq!((a.status, b.status), (Some(429), Some(200)));
        assert_eq!(a.retry_after.as_deref(), Some("30"));
        assert_eq!(a.challenge_schemes(), ["Bearer"]);
        assert_eq!(a.error_message.as_deref(), Some("slow down"), "step {step}");
        assert!(a.has_cookie && b.has_cookie);
        assert_eq!(a.credentials[0].scheme.as_ref(), "Bearer");
        assert!(a.response_frame > a.request_frame);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("closed the connection") && notes[0].contains("ENHANCE_YOUR_CALM"),
            "{notes:?}"
        );
        // Secrets never kept.
        let all = format!("{ex:?}");
        for secret in [KEY, "SECRETCOOKIE", "eyJSECRETTOKENVALUE"] {
            assert!(!all.contains(secret), "{secret} kept");
        }
    }
}

#[test]
fn a_lost_record_stops_that_directions_headers_not_the_other() {
    let (c, s) = conversation();
    let cx = &mut DecodeCtx::default();
    let mut h = H2Decoder::new();
    h.on_data(cx, Dir::ToServer, &c, FrameNo(1), Timestamp(1));
    // The server's first bytes (its SETTINGS) arrive, then a record is lost.
    h.on_data(cx, Dir::ToClient, &s[..9], FrameNo(2), Timestamp(2));
    h.on_gap(Dir::ToClient);
    h.on_data(cx, Dir::ToClient, &s[9..], FrameNo(3), Timestamp(3));
    assert!(!h.wants_data(Dir::ToClient));
    let (ex, notes) = h.finish();
    let notes = notes.into_report().0;
    assert_eq!(ex.len(), 2, "the requests are still read");
    assert!(ex.iter().all(|e| e.status.is_none()), "no status guessed");
    assert!(
        notes[0].contains("server's data was lost") && notes[0].contains("not decoded"),
        "{notes:?}"
    );
}

#[test]
fn a_header_block_that_does_not_decode_stops_that_direction() {
    let (c, _) = conversation();
    // Stream 1's request lost its first header block fragment: stream 3's block
    // refers to the table entries it would have added.
    let mut ce = loona_hpack::Encoder::new();
    let _ = request(&mut ce, "/v1/messages");
    let mut cut = PREFACE.to_vec();
    cut.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &request(&mut ce, "/v1/models"),
    ));
    let (ex, notes) = run(&cut, &[], 1000);
    assert!(ex.is_empty());
    assert!(notes[0].contains("does not decode"), "{notes:?}");
    // Garbage instead of a header block.
    let mut bad = PREFACE.to_vec();
    bad.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &[0xff, 0xff, 0xff, 0xff, 0x7f],
    ));
    bad.extend(c.get(PREFACE.len()..).unwrap());
    let (ex, notes) = run(&bad, &[], 1000);
    assert!(ex.is_empty(), "nothing decoded after the table was lost");
    assert!(
        notes[0].contains("client's later HTTP/2 headers are not decoded"),
        "{notes:?}"
    );
}

#[test]
fn not_http2_and_caps_are_noted() {
    let (ex, notes) = run(b"GET / HTTP/1.1\r\n\r\n", &[], 100);
    assert!(ex.is_empty());
    assert!(
        notes[0].contains("not the HTTP/2 connection preface"),
        "{notes:?}"
    );
    // A header block over the cap, in CONTINUATION frames.
    let mut c = PREFACE.to_vec();
    c.extend(frame(HEADERS, 0, 1, &[0x82]));
    for _ in 0..=MAX_HEADER_BLOCK / 16_000 {
        c.extend(frame(CONTINUATION, 0, 1, &[0; 16_000]));
    }
    let (_, notes) = run(&c, &[], 5000);
    assert!(notes[0].contains("over the 65536-byte cap"), "{notes:?}");
    // A peer allowing a table over the cap.
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, &[0, 1, 0, 0x10, 0, 0]));
    let (_, notes) = run(&c, &[], 5000);
    assert!(
        notes[0].contains("header table of 1048576 bytes"),
        "{notes:?}"
    );
}

/// A small deterministic generator (xorshift), so that failures replay.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

#[test]
fn mutated_truncated_and_random_bytes_never_panic() {
    let (c, s) = conversation();
    // Cut anywhere.
    for cut in 0..c.len().max(s.len()) {
        let _ = run(&c[..cut.min(c.len())], &s[..cut.min(s.len())], 5);
    }
    // Bytes changed: frame lengths, flags, HPACK integers and strings go wrong.
    let mut next = rng(0x5eed);
    for _ in 0..3000 {
        let (mut c, mut s) = (c.clone(), s.clone());
        for _ in 0..1 + next() % 4 {
            let v = if next().is_multiple_of(2) {
                &mut c
            } else {
                &mut s
            };
            let at = PREFACE.len().min(v.len() - 1) + (next() as usize) % (v.len() - PREFACE.len());
            v[at] = next() as u8;
        }
        let _ = run(&c, &s, 1 + (next() % 64) as usize);
    }
    // Random bytes after the preface, and random header blocks: most of the
    // blocks do not decode, and say so.
    let mut noted = 0;
    for _ in 0..2000 {
        let len = (next() % 300) as usize;
        let junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut c = PREFACE.to_vec();
        c.extend(&junk);
        let _ = run(&c, &junk, 1 + (next() % 32) as usize);
        let mut c = PREFACE.to_vec();
        c.extend(frame(HEADERS, END_HEADERS, 1, &junk));
        let (_, notes) = run(&c, &frame(HEADERS, END_HEADERS, 1, &junk), 1000);
        noted += usize::from(notes.iter().any(|n| n.contains("does not decode")));
    }
    assert!(noted > 1000, "only {noted} random blocks noted");
}

#[test]
fn streams_past_the_facts_budget_are_counted_not_kept() {
    let (c, s) = conversation();
    let cx = &mut DecodeCtx::new(std::sync::Arc::default(), 1);
    let mut h = H2Decoder::new();
    h.on_data(cx, Dir::ToServer, &c, FrameNo(1), Timestamp(1));
    h.on_data(cx, Dir::ToClient, &s, FrameNo(2), Timestamp(2));
    assert_eq!(h.facts_not_kept(), 1);
    let (ex, notes) = h.finish();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status, Some(429), "the first stream is kept whole");
    assert!(
        notes
            .into_report()
            .0
            .iter()
            .any(|n| n.contains("counted, not kept")),
        "a note says so"
    );
}

#[test]
fn streams_open_at_once_are_capped() {
    let mut ce = loona_hpack::Encoder::new();
    let mut c = PREFACE.to_vec();
    // Requests whose client side never ends: they stay open.
    for i in 0..=MAX_OPEN_STREAMS as u32 {
        c.extend(frame(
            HEADERS,
            END_HEADERS,
            1 + 2 * i,
            &request(&mut ce, "/"),
        ));
    }
    let cx = &mut DecodeCtx::default();
    let mut h = H2Decoder::new();
    h.on_data(cx, Dir::ToServer, &c, FrameNo(1), Timestamp(1));
    assert_eq!(h.facts_not_kept(), 1);
    let (ex, notes) = h.finish();
    assert_eq!(ex.len(), MAX_OPEN_STREAMS);
    assert!(
        notes.into_report().0[0].contains("1000 streams open at once"),
        "a note says so"
    );
}

/// What both HTTP versions read from the same request and response: everything but
/// the version, the frames and what only HTTP/1.x has (reason, `Proxy-Connection`).
fn shared_facts(e: &HttpExchange) -> String {
    format!(
        "{:?}",
        (
            (&e.method, &e.target, &e.host, &e.user_agent),
            (&e.credentials, &e.api_key, e.has_cookie),
            (e.status, &e.interim, &e.challenges, &e.retry_after, &e.via),
            (
                &e.server,
                &e.x_squid_error,
                &e.content_type,
                e.content_length
            ),
            &e.error_message,
        )
    )
}

#[test]
fn a_stream_keeps_what_the_same_exchange_over_http1_keeps() {
    // A key that the cut to the kept length (512 characters) would split, leaving a
    // stretch too short to be recognised as a key unless masked before the cut.
    let path = format!(
        "{}/{KEY}?user=bob&api_key=S3CRETQUERYVALUE",
        "/x".repeat(248)
    );
    let request: &[(&[u8], &[u8])] = &[
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":path", path.as_bytes()),
        (b"user-agent", b"bot sk-ant-api03-S3CRETuaKEY0123456789abcd"),
        (b"proxy-authorization", b"Basic Ym9iOlBhNTU="),
        (b"authorization", BEARER.as_bytes()),
        (b"x-api-key", KEY.as_bytes()),
        (b"cookie", b"session=SECRETCOOKIE"),
        (b"via", b"1.1 edge"),
    ];
    let response: &[(&[u8], &[u8])] = &[
        (
            b"www-authenticate",
            b"Bearer realm=\"api\", error=\"invalid_token\"",
        ),
        (b"proxy-authenticate", b"NTLM"),
        (b"retry-after", b"30"),
        (b"via", b"1.1 proxy.acme (squid/5.7)"),
        (b"server", b"squid/5.7"),
        (b"x-squid-error", b"ERR_ACCESS_DENIED 0"),
        (b"content-type", b"application/json"),
        // Repeated identical lengths (RFC 9110 8.6).
        (b"content-length", b"75, 75"),
    ];

    let mut h1 = crate::protocols::http::HttpDecoder::new();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: api.anthropic.com\r\n").into_bytes();
    for (n, v) in request.iter().filter(|(n, _)| !n.starts_with(b":")) {
        req.extend([*n, b": ", *v, b"\r\n"].concat());
    }
    req.extend(b"\r\n");
    let mut resp = b"HTTP/1.1 401 Unauthorized\r\n".to_vec();
    for (n, v) in response {
        resp.extend([*n, b": ", *v, b"\r\n"].concat());
    }
    resp.extend(b"\r\n");
    resp.extend(BODY);
    crate::protocols::http::tests::feed(&mut h1, Dir::ToServer, &req, 1);
    crate::protocols::http::tests::feed(&mut h1, Dir::ToClient, &resp, 2);
    let (over_h1, _) = h1.finish();

    let (mut ce, mut se) = (loona_hpack::Encoder::new(), loona_hpack::Encoder::new());
    let mut c = PREFACE.to_vec();
    let mut list = vec![(&b":authority"[..], &b"api.anthropic.com"[..])];
    list.extend(request.iter().copied());
    c.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &ce.encode(list),
    ));
    let mut list = vec![(&b":status"[..], &b"401"[..])];
    list.extend(response.iter().copied());
    let mut s = frame(HEADERS, END_HEADERS, 1, &se.encode(list));
    s.extend(frame(DATA, END_STREAM, 1, BODY));
    let (over_h2, _) = run(&c, &s, usize::MAX);

    assert_eq!((over_h1.len(), over_h2.len()), (1, 1));
    let (h1, h2) = (&over_h1[0], &over_h2[0]);
    assert_eq!(shared_facts(h2), shared_facts(h1));
    let shown = shared_facts(h2);
    for secret in [
        "api03-SE",
        "S3CRET",
        "Ym9iOlBhNTU",
        "SECRETTOKEN",
        "SECRETCOOKIE",
    ] {
        assert!(!shown.contains(secret), "{secret} kept: {shown}");
    }
    assert_eq!(h2.content_length, Some(75));
    assert_eq!(h2.error_message.as_deref(), Some("slow down"));
    assert_eq!(h2.version.as_deref(), Some("2"));
}
