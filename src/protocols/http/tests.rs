//! Unit tests of the HTTP/1.x decoder: pairing, framing, tunnels, secrets.

use super::{AuthHeader, HeadCut, HttpDecoder, HttpExchange};
use crate::model::{Dir, FrameNo, Timestamp};
use crate::protocols::DecodeCtx;
use crate::protocols::ntlm;
use crate::report::json::schema::HttpExchange as Shown;
use base64::Engine as _;

pub(crate) fn feed(d: &mut HttpDecoder, dir: Dir, bytes: &[u8], frame: u64) {
    d.on_data(
        &mut DecodeCtx::default(),
        dir,
        bytes,
        FrameNo(frame),
        Timestamp(frame as i64 * 1_000_000),
    );
}

fn run(req: &[u8], resp: &[u8]) -> Vec<HttpExchange> {
    let mut d = HttpDecoder::new();
    feed(&mut d, Dir::ToServer, req, 1);
    feed(&mut d, Dir::ToClient, resp, 2);
    d.finish().0
}

const CANARY_PASS: &str = "Pa55-CANARY-word";

#[test]
fn response_spanning_frames_records_the_frame_that_completes_it() {
    let mut d = HttpDecoder::new();
    feed(
        &mut d,
        Dir::ToServer,
        b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
        1,
    );
    let head = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 10\r\n\r\n01234";
    feed(&mut d, Dir::ToClient, head, 2);
    feed(&mut d, Dir::ToClient, b"567", 3);
    feed(&mut d, Dir::ToClient, b"89", 4);
    let ex = d.finish().0;
    assert_eq!(ex[0].response_frame, Some(FrameNo(2)));
    assert_eq!(ex[0].response_end_frame, Some(FrameNo(4)));
    // In one frame: no separate end frame.
    let one = run(
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    assert_eq!(one[0].response_end_frame, None);
}

#[test]
fn connect_407_with_two_proxy_authenticate_headers() {
    let ex = run(
        b"CONNECT api.anthropic.com:443 HTTP/1.1\r\nHost: api.anthropic.com:443\r\n\r\n",
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"Acme Proxy\"\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate, Kerberos\r\nVia: 1.1 proxy.acme\r\nServer: squid/5.7\r\nX-Squid-Error: ERR_CACHE_ACCESS_DENIED 0\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(e.method.as_deref(), Some("CONNECT"));
    assert_eq!(e.target.as_deref(), Some("api.anthropic.com:443"));
    assert_eq!(e.status, Some(407));
    assert_eq!(
        e.challenge_schemes(),
        vec!["Basic", "NTLM", "Negotiate", "Kerberos"]
    );
    assert_eq!(e.challenges[0].realm.as_deref(), Some("Acme Proxy"));
    assert_eq!(e.challenges[0].header, AuthHeader::ProxyAuthenticate);
    assert_eq!(e.via, vec!["1.1 proxy.acme"]);
    assert_eq!(e.server.as_deref(), Some("squid/5.7"));
    assert_eq!(
        e.x_squid_error.as_deref(),
        Some("ERR_CACHE_ACCESS_DENIED 0")
    );
    assert_eq!(e.request_frame, Some(FrameNo(1)));
    assert_eq!(e.response_frame, Some(FrameNo(2)));
    assert!((e.response_time.unwrap() - 0.001).abs() < 1e-9);
    assert!(!e.tunnel);
}

#[test]
fn secrets_never_in_debug_or_json() {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("alice:{CANARY_PASS}"));
    let nt3 =
        base64::engine::general_purpose::STANDARD.encode(ntlm::tests::type3(b"CANARY-NTLM-RESP"));
    let req = format!(
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic {basic}\r\nAuthorization: Bearer sk-ant-api03-CANARYTOKENxyz1234\r\nx-api-key: sk-ant-api03-CANARYKEYabc3f9a\r\nCookie: session=CANARYCOOKIE\r\n\r\nGET / HTTP/1.1\r\nProxy-Authorization: NTLM {nt3}\r\n\r\n"
    );
    let body = "{\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key sk-ant-api03-CANARYK1234\"}}";
    let resp = format!(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        body.len()
    );
    let ex = run(req.as_bytes(), resp.as_bytes());
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].credentials[0].user.as_deref(), Some("alice"));
    assert_eq!(&*ex[0].credentials[1].scheme, "Bearer");
    // 16 characters after its type: too short to show its last 4.
    assert_eq!(ex[0].api_key.as_deref(), Some("sk-ant-api03-…"));
    assert!(ex[0].has_cookie);
    assert_eq!(ex[1].credentials[0].user.as_deref(), Some("alice"));
    let msg = ex[0].error_message.as_deref().unwrap();
    // 11 characters after its type: the last 4 would leave 7 hidden.
    assert_eq!(msg, "invalid x-api-key sk-ant-api03-…");
    let dbg = format!("{ex:?}");
    let json = serde_json::to_string(&ex.iter().map(Shown::from).collect::<Vec<_>>()).unwrap();
    for out in [&dbg, &json] {
        assert!(!out.contains("CANARY"), "secret leaked: {out}");
        assert!(!out.contains(&basic));
    }
}

#[test]
fn pipelined_keepalive_with_chunked_and_content_length() {
    let req = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    let ex = run(req, resp);
    let got: Vec<_> = ex
        .iter()
        .map(|e| (e.target.clone().unwrap(), e.status.unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![("/a".into(), 200), ("/b".into(), 201), ("/c".into(), 200)]
    );
    assert_eq!(ex[1].interim, vec![100]);
}

#[test]
fn chunked_body_split_at_every_offset() {
    let resp: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    for cut in 0..resp.len() {
        let mut d = HttpDecoder::new();
        feed(
            &mut d,
            Dir::ToServer,
            b"GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
            1,
        );
        feed(&mut d, Dir::ToClient, &resp[..cut], 2);
        feed(&mut d, Dir::ToClient, &resp[cut..], 3);
        let (ex, notes) = d.finish();
        assert_eq!(ex.len(), 2, "cut {cut}");
        assert_eq!(ex[1].status, Some(204), "cut {cut}: {notes:?}");
    }
}

#[test]
fn connect_200_opens_tunnel_with_early_client_bytes() {
    let mut d = HttpDecoder::new();
    feed(
        &mut d,
        Dir::ToServer,
        b"CONNECT h:443 HTTP/1.0\r\n\r\n\x16\x03\x01",
        1,
    );
    assert!(!d.tunnel_open());
    feed(
        &mut d,
        Dir::ToClient,
        b"HTTP/1.0 200 Connection established\r\n\r\n\x16\x03\x03",
        2,
    );
    assert!(d.tunnel_open());
    feed(&mut d, Dir::ToServer, b"more", 3);
    let t = d.take_tunnel_bytes();
    assert_eq!(t.len(), 3);
    assert_eq!(
        (t[0].0, t[0].1.as_slice(), t[0].2),
        (Dir::ToServer, &b"\x16\x03\x01"[..], FrameNo(1))
    );
    assert_eq!(t[1].1, b"\x16\x03\x03");
    assert_eq!(t[2].1, b"more");
    assert!(!d.wants_data(Dir::ToServer));
    let (ex, _) = d.finish();
    assert!(ex[0].tunnel);
    assert_eq!(ex[0].reason.as_deref(), Some("Connection established"));
}

#[test]
fn refused_connect_then_retry_on_same_connection() {
    let ex = run(
        b"CONNECT h:443 HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
        b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic realm=x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    );
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].status, Some(407));
    assert_eq!(ex[1].credentials[0].user.as_deref(), Some("u"));
    assert!(ex[1].tunnel);
}

#[test]
fn ntlm_handshake_in_headers() {
    let t1 = base64::engine::general_purpose::STANDARD.encode(ntlm::tests::type1());
    let t2 = base64::engine::general_purpose::STANDARD.encode(ntlm::tests::type2());
    let req = format!("CONNECT h:443 HTTP/1.1\r\nProxy-Authorization: NTLM {t1}\r\n\r\n");
    let resp =
        format!("HTTP/1.1 407 x\r\nProxy-Authenticate: NTLM {t2}\r\nContent-Length: 0\r\n\r\n");
    let ex = run(req.as_bytes(), resp.as_bytes());
    let c = &ex[0].challenges[0];
    assert_eq!(
        c.ntlm.as_ref().unwrap().target_name.as_deref(),
        Some("CORP")
    );
    let cr = &ex[0].credentials[0];
    assert_eq!(
        cr.ntlm.as_ref().unwrap().workstation.as_deref(),
        Some("WS01")
    );
}

#[test]
fn oversized_headers_give_up_with_note() {
    let mut d = HttpDecoder::new();
    feed(&mut d, Dir::ToServer, b"GET / HTTP/1.1\r\n", 1);
    let filler = format!("X-Fill: {}\r\n", "a".repeat(1000));
    for i in 0..100 {
        feed(&mut d, Dir::ToServer, filler.as_bytes(), 2 + i);
    }
    assert!(!d.wants_data(Dir::ToServer));
    let (_, notes) = d.finish();
    assert!(notes.iter().any(|n| n.contains("64 KiB")), "{notes:?}");
}

#[test]
fn garbage_and_truncated_never_panic() {
    let samples: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        b"\x00\xff\x16 GET",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nabc",
        b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc",
    ];
    for s in samples {
        for cut in 0..s.len() {
            let mut d = HttpDecoder::new();
            feed(&mut d, Dir::ToServer, &s[..cut], 1);
            feed(&mut d, Dir::ToClient, &s[..cut], 2);
            let _ = d.finish();
        }
    }
    let mut d = HttpDecoder::new();
    feed(
        &mut d,
        Dir::ToServer,
        b"GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        1,
    );
    assert!(d.finish().1.iter().any(|n| n.contains("Content-Length")));
}

#[test]
fn truncated_json_error_message() {
    let ex = run(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost:4000\r\n\r\n",
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"detail\": \"Rate limit exceeded for key sk-1234567890abcdefXYZW\", \"pad\": \"",
    );
    assert_eq!(ex[0].retry_after.as_deref(), Some("30"));
    assert_eq!(
        ex[0].error_message.as_deref(),
        Some("Rate limit exceeded for key sk-…")
    );
}

#[test]
fn head_cut_by_the_snap_length_is_read_as_far_as_it_goes() {
    let req: &[u8] = b"GET /x HTTP/1.1\r\nHost: h.example\r\nUser-Agent: curl\r\n\r\n";
    let resp: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\nServer: squid\r\n\r\n";
    let at = |f| (FrameNo(f), Timestamp(0));
    let host_start = b"GET /x HTTP/1.1\r\nHost: ".len();
    let host_end = host_start + b"h.example".len();
    let reason_start = b"HTTP/1.1 407 ".len();
    let reason_end = reason_start + b"Proxy Authentication Required".len();
    for n in 0..req.len() {
        for m in 0..resp.len() {
            let mut d = HttpDecoder::new();
            let cx = &mut DecodeCtx::default();
            d.on_data(cx, Dir::ToServer, &req[..n], FrameNo(1), Timestamp(0));
            d.on_cut(cx, Dir::ToServer, (req.len() - n) as u64, at(1));
            d.on_data(cx, Dir::ToClient, &resp[..m], FrameNo(2), Timestamp(1));
            d.on_cut(cx, Dir::ToClient, (resp.len() - m) as u64, at(2));
            let ex = d.finish().0;
            let got_req = ex.iter().find(|e| e.method.is_some());
            // The method and its space are the least a request is recognised by.
            assert_eq!(got_req.is_some(), n >= 4, "request cut at {n}");
            if let Some(e) = got_req {
                let cut_target = n < 7;
                let want = std::str::from_utf8(&req[4..n.min(6)]).unwrap();
                assert_eq!(e.target.as_deref().unwrap_or(""), want, "cut at {n}");
                assert_eq!(e.request_cut == Some(HeadCut::Target), cut_target);
                assert_eq!(e.whole_target().is_some(), !cut_target, "cut at {n}");
                // The Host value as far as it goes, marked cut until its line ends.
                if n > host_start && n < host_end + 2 {
                    let part = std::str::from_utf8(&req[host_start..n.min(host_end)]).unwrap();
                    assert_eq!(e.host.as_deref(), Some(part), "cut at {n}");
                    let cut = (n < host_end + 1).then_some(HeadCut::Host);
                    assert_eq!(e.request_cut.filter(|c| *c == HeadCut::Host), cut);
                    assert_eq!(e.whole_host().is_some(), cut.is_none(), "cut at {n}");
                } else if n >= host_end + 2 {
                    assert_eq!(e.whole_host(), Some("h.example"), "cut at {n}");
                } else {
                    assert_eq!(e.host, None, "cut at {n}");
                }
            }
            // A response with a whole status code answers; one cut before it is
            // marked, never taken for "no response".
            let status = ex.iter().find(|e| e.status.is_some());
            assert_eq!(
                status.is_some(),
                m >= reason_start - 1,
                "response cut at {m}"
            );
            if let Some(e) = status {
                assert_eq!(e.status, Some(407));
                let want = std::str::from_utf8(&resp[reason_start.min(m)..m.min(reason_end)])
                    .unwrap()
                    .trim();
                assert_eq!(e.reason.as_deref().unwrap_or(""), want, "cut at {m}");
                if m < reason_end + 1 {
                    assert_eq!(e.response_cut, Some(HeadCut::Reason), "cut at {m}");
                } else {
                    let cut = e.response_cut;
                    assert!(
                        matches!(cut, Some(HeadCut::Headers | HeadCut::Server)),
                        "{m}"
                    );
                }
            } else if m > 0 && n >= 4 {
                assert_eq!(got_req.unwrap().response_cut, Some(HeadCut::Status));
            }
        }
    }
}

#[test]
fn cut_bodies_keep_the_next_message_in_step() {
    let at = |f| (FrameNo(f), Timestamp(0));
    // A body of known length cut, then the next request whole.
    let mut d = HttpDecoder::new();
    let cx = &mut DecodeCtx::default();
    let post = b"POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"x";
    d.on_data(cx, Dir::ToServer, post, FrameNo(1), Timestamp(0));
    d.on_cut(cx, Dir::ToServer, 97, at(1));
    d.on_data(
        cx,
        Dir::ToServer,
        b"GET /b HTTP/1.1\r\n\r\n",
        FrameNo(2),
        Timestamp(0),
    );
    // A chunked response: every chunk's data and CRLF cut, size lines whole.
    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    d.on_data(cx, Dir::ToClient, head, FrameNo(3), Timestamp(0));
    for f in 4..7 {
        d.on_data(cx, Dir::ToClient, b"10\r\ndata", FrameNo(f), Timestamp(0));
        d.on_cut(cx, Dir::ToClient, 12 + 2, at(f));
    }
    d.on_data(cx, Dir::ToClient, b"0\r\n\r\n", FrameNo(7), Timestamp(0));
    d.on_data(
        cx,
        Dir::ToClient,
        b"HTTP/1.1 404 Not Found\r\n\r\n",
        FrameNo(8),
        Timestamp(0),
    );
    let (ex, notes) = d.finish();
    let got: Vec<_> = ex
        .iter()
        .map(|e| (e.target.as_deref(), e.status, e.response_cut))
        .collect();
    assert_eq!(
        got,
        [(Some("/a"), Some(200), None), (Some("/b"), Some(404), None)],
        "{notes:?}"
    );
    // A cut past a chunk's end hides the next size line: the next message is found
    // at the next segment that starts like one, not inside the body.
    let mut d = HttpDecoder::new();
    d.on_data(
        cx,
        Dir::ToServer,
        b"GET /a HTTP/1.1\r\n\r\n",
        FrameNo(1),
        Timestamp(0),
    );
    d.on_data(cx, Dir::ToClient, head, FrameNo(2), Timestamp(0));
    d.on_data(cx, Dir::ToClient, b"5\r\nab", FrameNo(3), Timestamp(0));
    d.on_cut(cx, Dir::ToClient, 3 + 2 + 20, at(3));
    d.on_data(
        cx,
        Dir::ToClient,
        b"data: HTTP/1.1 200\r\n",
        FrameNo(4),
        Timestamp(0),
    );
    d.on_data(
        cx,
        Dir::ToServer,
        b"GET /b HTTP/1.1\r\n\r\n",
        FrameNo(5),
        Timestamp(0),
    );
    d.on_data(
        cx,
        Dir::ToClient,
        b"HTTP/1.1 204 No Content\r\n\r\n",
        FrameNo(6),
        Timestamp(0),
    );
    let ex = d.finish().0;
    let got: Vec<_> = ex.iter().map(|e| (e.target.as_deref(), e.status)).collect();
    assert_eq!(got, [(Some("/a"), Some(200)), (Some("/b"), Some(204))]);
}

#[test]
fn snap_length_shorter_than_every_head() {
    // tcpdump -s 60 on Ethernet leaves 6 bytes of each segment: no request is
    // recognised, nothing is made up, and no response is taken for missing.
    let at = |f| (FrameNo(f), Timestamp(0));
    let mut d = HttpDecoder::new();
    let cx = &mut DecodeCtx::default();
    for f in 0..3 {
        d.on_data(
            cx,
            Dir::ToServer,
            b"CONNEC",
            FrameNo(2 * f + 1),
            Timestamp(0),
        );
        d.on_cut(cx, Dir::ToServer, 60, at(2 * f + 1));
        d.on_data(
            cx,
            Dir::ToClient,
            b"HTTP/1",
            FrameNo(2 * f + 2),
            Timestamp(0),
        );
        d.on_cut(cx, Dir::ToClient, 40, at(2 * f + 2));
    }
    let (ex, notes) = d.finish();
    assert!(
        ex.iter().all(|e| e.method.is_none() && e.status.is_none()),
        "{ex:?}"
    );
    assert!(
        notes.iter().all(|n| n.contains("cut by the snap length")),
        "{notes:?}"
    );
}

#[test]
fn a_key_at_the_cut_of_a_long_header_value_is_masked() {
    // The value is kept to 512 characters: cut first, `sk-` and 12 characters of the
    // key were left, too short to look like a key, and printed.
    let ua = format!("{} sk-CUTcanaryKEYabcdef0123456789xyz", "x".repeat(496));
    let via = format!("1.1 {} sk-VIAcanaryKEYabcdef0123456789xyz", "y".repeat(492));
    let req = format!(
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nUser-Agent: {ua}\r\n\r\n"
    );
    let resp = format!("HTTP/1.1 200 OK\r\nVia: {via}\r\nContent-Length: 0\r\n\r\n");
    let ex = run(req.as_bytes(), resp.as_bytes());
    let shown = format!("{:?} {:?}", ex[0].user_agent, ex[0].via);
    assert!(!shown.contains("CUTcanary"), "{shown}");
    assert!(!shown.contains("VIAcanary"), "{shown}");
    assert!(shown.contains("sk-…"), "{shown}");
    // The same in a request target's path.
    let req = format!(
        "GET /{}/sk-TGTcanaryKEYabcdef0123456789xyz HTTP/1.1\r\nHost: example.com\r\n\r\n",
        "z".repeat(496)
    );
    let ex = run(
        req.as_bytes(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    let target = ex[0].target.as_deref().unwrap();
    assert!(!target.contains("TGTcanary"), "{target}");
    // And in the Host header.
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {}.sk-HSTcanaryKEYabcdef0123456789xyz.example\r\n\r\n",
        "h".repeat(497)
    );
    let ex = run(
        req.as_bytes(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    let host = ex[0].host.as_deref().unwrap();
    assert!(!host.contains("HSTcanary"), "{host}");
}

#[test]
fn a_key_in_a_reason_phrase_cut_by_the_snap_length_is_masked() {
    // A reason phrase is masked like a whole one when the snap length cuts it.
    let key = "sk-ant-api03-REASONcanaryKEY0123456789abcdef";
    let resp = format!("HTTP/1.1 401 Invalid key {key} for this");
    let mut d = HttpDecoder::new();
    let cx = &mut DecodeCtx::default();
    let req: &[u8] = b"GET /x HTTP/1.1\r\nHost: h.example\r\n\r\n";
    d.on_data(cx, Dir::ToServer, req, FrameNo(1), Timestamp(0));
    d.on_data(cx, Dir::ToClient, resp.as_bytes(), FrameNo(2), Timestamp(1));
    d.on_cut(cx, Dir::ToClient, 40, (FrameNo(2), Timestamp(1)));
    let ex = d.finish().0;
    let e = ex.iter().find(|e| e.status == Some(401)).expect("the 401");
    let reason = e.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("Invalid key sk-ant-"), "{reason}");
    assert!(!reason.contains("REASONcanary"), "{reason}");
}

#[test]
fn a_cut_in_a_chunk_of_the_largest_size_is_no_panic() {
    let mut d = HttpDecoder::new();
    let cx = &mut DecodeCtx::default();
    d.on_data(
        cx,
        Dir::ToServer,
        b"GET / HTTP/1.1\r\n\r\n",
        FrameNo(1),
        Timestamp(0),
    );
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n";
    d.on_data(cx, Dir::ToClient, resp, FrameNo(2), Timestamp(0));
    d.on_cut(cx, Dir::ToClient, 100, (FrameNo(2), Timestamp(0)));
    let (ex, _) = d.finish();
    assert_eq!(ex.first().and_then(|e| e.status), Some(200));
}
