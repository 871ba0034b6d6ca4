//! Secrets canaries: captures and GENERATED streams that carry known passwords, NTLM
//! responses, bearer tokens, API keys and cookies. Each test first proves the canary
//! is in the input (raw or in the encoding the protocol uses), then runs every output
//! format and error path (complete, cut short, corrupted) and asserts the canary
//! appears nowhere: raw, base64, hex (lower and upper case), URL-encoded or JSON-escaped.
//! The decoded facts' `Debug` output is checked too.

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trafficdoc::model::{Dir, FrameNo, Timestamp};
use trafficdoc::protocols::DecodeCtx;

/// The same leak forms the `secrets_leak` fuzz target looks for.
use crate::targets::leak_forms;

fn assert_no_leak(text: &str, secret: &[u8], what: &str) {
    for form in leak_forms(secret) {
        if let Some(at) = text.find(&form) {
            let ctx: String = text[at.saturating_sub(300)..]
                .chars()
                .take(300 + form.len() + 100)
                .collect();
            panic!(
                "{what}: secret {:?} leaked as {form:?} in:\n{ctx}",
                String::from_utf8_lossy(secret)
            );
        }
    }
}

/// Is the canary in the capture: raw, URL-encoded, or inside a base64 token?
fn in_capture(bytes: &[u8], secret: &[u8]) -> bool {
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    if has(bytes, secret) {
        return true;
    }
    for form in leak_forms(secret) {
        if has(bytes, form.as_bytes()) {
            return true;
        }
    }
    // Basic credentials: base64 of `user:password` in a header.
    let mut token = Vec::new();
    for &b in bytes.iter().chain(std::iter::once(&b' ')) {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            token.push(b);
            continue;
        }
        if token.len() >= 8
            && let Ok(d) = STANDARD.decode(&token)
            && has(&d, secret)
        {
            return true;
        }
        token.clear();
    }
    false
}

/// Runs every output format on the capture, on copies cut short inside records, and
/// on corrupted copies; returns everything printed: (complete and cut copies, corrupted
/// copies).
fn all_outputs(cap: &Path) -> (String, String) {
    let bytes = std::fs::read(cap).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut variants: Vec<PathBuf> = vec![cap.to_path_buf()];
    // Cut short at eight places (error path: exit 3 and its warning).
    for k in 1..=8 {
        let p = dir.path().join(format!(
            "cut{k}-{}",
            cap.file_name().unwrap().to_str().unwrap()
        ));
        std::fs::write(&p, &bytes[..bytes.len() * k / 9]).unwrap();
        variants.push(p);
    }
    // Corrupted: decoders' notes on malformed input must not quote secrets either.
    let mut x = 0x1234_5678_9abc_def1u64;
    for k in 0..24 {
        let mut b = bytes.clone();
        for _ in 0..(b.len() / 200).max(1) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = 24 + (x as usize) % (b.len() - 24);
            b[i] = (x >> 32) as u8;
        }
        let p = dir.path().join(format!(
            "bad{k}-{}",
            cap.file_name().unwrap().to_str().unwrap()
        ));
        std::fs::write(&p, &b).unwrap();
        variants.push(p);
    }
    let (mut out, mut corrupted) = (String::new(), String::new());
    for (i, v) in variants.iter().enumerate() {
        let p = v.to_str().unwrap();
        let to = if i < 9 { &mut out } else { &mut corrupted };
        let formats: &[&str] = if i < 9 {
            &["table", "json", "html", "ndjson"]
        } else {
            &["table", "json", "html"]
        };
        for &fmt in formats {
            let r = run(&["analyze", "--format", fmt, p]);
            to.push_str(&r.stdout);
            to.push_str(&r.stderr);
        }
    }
    // Several files at once, one of them missing (exit 2 path).
    let missing = dir.path().join("missing.pcap");
    let r = run(&[
        "analyze",
        "--format",
        "json",
        cap.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    out.push_str(&r.stdout);
    out.push_str(&r.stderr);
    (out, corrupted)
}

fn check_capture(cap: &Path, secrets: &[&[u8]]) {
    check_capture_labelled(cap, secrets, &[]);
}

/// [`check_capture`] with a second kind of canary: `labelled` ones are masked because
/// of what surrounds them (a URL's `user:…@`, a query parameter's or `name=value`'s
/// name, the type prefix of a key whose middle is damaged). A corrupted copy may break
/// that label, and then nothing tells them from other text, so they are checked on the
/// complete and cut copies only; `secrets` on every copy.
fn check_capture_labelled(cap: &Path, secrets: &[&[u8]], labelled: &[&[u8]]) {
    let bytes = std::fs::read(cap).unwrap();
    // A pcapng with its TLS key log inside (Decryption Secrets Block, "TLSK"): the
    // canaries are in encrypted records, read once decrypted.
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let decrypts = has(b"KSLT") || has(b"TLSK");
    for s in secrets.iter().chain(labelled) {
        assert!(
            decrypts || in_capture(&bytes, s),
            "{}: canary {:?} is not in the capture: the test would prove nothing",
            cap.display(),
            String::from_utf8_lossy(s)
        );
    }
    let (out, corrupted) = all_outputs(cap);
    assert!(out.len() > 1000, "{}: little output", cap.display());
    assert!(
        !decrypts || out.contains("\"decrypted\": true"),
        "{}: its records were not decrypted: the test would prove nothing",
        cap.display()
    );
    for s in secrets {
        assert_no_leak(&out, s, &cap.display().to_string());
        assert_no_leak(&corrupted, s, &format!("{} (corrupted)", cap.display()));
    }
    for s in labelled {
        assert_no_leak(&out, s, &cap.display().to_string());
    }
}

#[test]
fn fixture_secrets_never_printed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.to_str().unwrap().to_string();
        let Some(cap) = name.strip_suffix(".expected.json") else {
            continue;
        };
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let secrets: Vec<String> = v["facts"]["secrets_present"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect();
        if secrets.is_empty() {
            continue;
        }
        let refs: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
        check_capture(Path::new(cap), &refs);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixtures carry secrets");
}

#[test]
fn corpus_basic_auth_password_with_colon_never_printed() {
    // Basic credentials `test:1:34`: the password itself holds a ':'.
    check_capture(
        &corpus_file("zeek/http/basic-auth-with-colon.pcap"),
        &[b"test:1:34"],
    );
}

#[test]
fn corpus_cookie_values_never_printed() {
    check_capture(
        &corpus_file("ja4/http1-with-cookies.pcapng"),
        &[
            b"yummy_cookie=choco",
            b"tasty_cookie=strawberry",
            b"strawberry",
        ],
    );
}

// ---- GENERATED streams ------------------------------------------------------------

const BASIC_PASSWORDS: [&str; 4] = [
    "Pa55:with:colons",
    "p@ss w/rd%41+\"quote\"\\slash",
    "ünïcødé-Paß-€",
    ":leading-colon-pw",
];
const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ";
const API_KEY: &str = "sk-ant-api03-CANARYcanaryCANARY-0123456789abcdef";
const COOKIE_VALUE: &str = "sess-CANARY-7f3a9c1e";
/// NT response of the NTLM type 3 message (NTLMv2 proof and blob): never printed.
const NT_RESPONSE: &[u8] = b"\x8a\x17NTRESP-CANARY-bytes-\x00\x01\x02\xfe\xff-NTLMv2-blob-CANARY";
const LM_RESPONSE: &[u8] = b"LMRESP-CANARY-0123456789";

/// An NTLM type 3 (AUTHENTICATE) message for `DOMAIN\user` with the canary responses.
fn ntlm_type3() -> Vec<u8> {
    let domain = "CORP"
        .encode_utf16()
        .flat_map(|c| c.to_le_bytes())
        .collect::<Vec<u8>>();
    let user = "alice"
        .encode_utf16()
        .flat_map(|c| c.to_le_bytes())
        .collect::<Vec<u8>>();
    let ws = "WS01"
        .encode_utf16()
        .flat_map(|c| c.to_le_bytes())
        .collect::<Vec<u8>>();
    crate::targets::ntlm_type3(
        [LM_RESPONSE, NT_RESPONSE, &domain, &user, &ws, b""],
        0xa288_8205,
        |_| None,
    )
}

/// One generated dialogue: client bytes, server bytes, the canaries it carries.
type Dialogue = (Vec<u8>, Vec<u8>, Vec<Vec<u8>>);

fn dialogues() -> Vec<Dialogue> {
    let mut v = Vec::new();
    for pw in BASIC_PASSWORDS {
        let creds = STANDARD.encode(format!("bob:{pw}"));
        let req = format!(
            "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\nProxy-Authorization: Basic {creds}\r\n\r\n"
        );
        let resp = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n";
        v.push((
            req.into_bytes(),
            resp.as_bytes().to_vec(),
            vec![pw.as_bytes().to_vec(), format!("bob:{pw}").into_bytes()],
        ));
    }
    let t3 = STANDARD.encode(ntlm_type3());
    let req = format!(
        "GET http://intranet.example/ HTTP/1.1\r\nHost: intranet.example\r\nProxy-Authorization: NTLM {t3}\r\n\r\n"
    );
    let resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    v.push((
        req.into_bytes(),
        resp.as_bytes().to_vec(),
        vec![NT_RESPONSE.to_vec(), LM_RESPONSE.to_vec(), t3.into_bytes()],
    ));
    let req = format!(
        "POST http://api.example.com/v1/messages HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer {BEARER}\r\nx-api-key: {API_KEY}\r\nCookie: session={COOKIE_VALUE}; theme=dark\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let resp = format!(
        "HTTP/1.1 401 Unauthorized\r\nSet-Cookie: session={COOKIE_VALUE}; HttpOnly\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n{{\"error\":{{\"message\":\"invalid x-api-key {API_KEY}\"}}}}"
    );
    let n = resp.len();
    // Fix the declared body length to the real one.
    let body_len = n - resp.find("\r\n\r\n").unwrap() - 4;
    let resp = resp.replace("Content-Length: 80", &format!("Content-Length: {body_len}"));
    v.push((
        req.into_bytes(),
        resp.into_bytes(),
        vec![
            BEARER.as_bytes().to_vec(),
            API_KEY.as_bytes().to_vec(),
            COOKIE_VALUE.as_bytes().to_vec(),
        ],
    ));
    // A short token without a type prefix, and keys quoted in an error message with a
    // damaged byte in their middle: a 0xff inside a prefixed key, a non-ASCII letter
    // between the halves of a long random one. Neither half may print.
    let req = format!(
        "POST http://api.example.com/v1/messages HTTP/1.1\r\nHost: api.example.com\r\nAuthorization: Bearer {SHORT_TOKEN}\r\nContent-Length: 0\r\n\r\n"
    );
    let mut body = b"{\"error\":{\"message\":\"keys ".to_vec();
    for part in [
        DAMAGED_KEY.0,
        b"\xff",
        DAMAGED_KEY.1,
        b" and ",
        RANDOM_HALVES.0,
    ] {
        body.extend_from_slice(part);
    }
    body.extend_from_slice("é".as_bytes());
    body.extend_from_slice(RANDOM_HALVES.1);
    body.extend_from_slice(b" refused\"}}");
    v.push((
        req.into_bytes(),
        json_response("401 Unauthorized", &body),
        vec![
            SHORT_TOKEN.as_bytes().to_vec(),
            // What the old `mask_key` showed of it: its first 7 characters.
            SHORT_TOKEN.as_bytes()[..7].to_vec(),
            DAMAGED_KEY.1.to_vec(),
            RANDOM_HALVES.0.to_vec(),
            RANDOM_HALVES.1.to_vec(),
        ],
    ));
    v
}

/// A 20-character bearer token without a known type prefix.
const SHORT_TOKEN: &str = "Zq8RwT4uVb6XyN2mKp3L";
/// `sk-ant-api03-CORR`, a damaged byte, then the rest of the key.
const DAMAGED_KEY: (&[u8], &[u8]) = (b"sk-ant-api03-CORR", b"TAILcanary0123456789ab");
/// A 41-character random token whose middle byte became a non-ASCII letter.
const RANDOM_HALVES: (&[u8], &[u8]) = (b"RANDa1b2c3d4e5f6g7h8", b"RANDi9j0k1l2m3n4o5p6");

/// An HTTP response with a JSON body and its real length.
fn json_response(status: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Query parameters with secret values: (name as sent, value).
const QUERY_SECRETS: [(&str, &str); 10] = [
    ("key", "QKEY-CANARY-a1"),
    ("api_key", "QAPI-CANARY-b2"),
    ("access_token", "QACC-CANARY-c3"),
    ("Token", "QTOK-CANARY-d4"),
    ("APIKEY", "QAPIKEY-CANARY-e5"),
    ("Password", "QPW-CANARY-f6"),
    ("secret", "QSEC-CANARY-g7"),
    ("sig", "QSIG-CANARY-h8"),
    ("auth", "QAUTH-CANARY-i9"),
    ("X-Amz-Security-Token", "QAMZ-CANARY-j0"),
];
/// Password in a request URL (sent percent-encoded) and in a CONNECT authority.
const URL_PASSWORD: &str = "url-pw:CANARY@7";
const CONNECT_PASSWORD: &str = "CONNECT-pw-CANARY-9";
const FRAGMENT_TOKEN: &str = "QFRAG-CANARY-k1";
/// An API key as a path segment: its `sk-ant-api03-` prefix names it.
const PATH_KEY: (&str, &str, &str) = ("sk-ant-api03-", "PATHcanaryKEY0123456789", "abcdef");
/// Error texts with `name=value`, `name: value` and JSON `"name": "value"` secrets,
/// short ones included: (JSON body, canaries).
const ERROR_TEXTS: [(&str, &[&str]); 5] = [
    (
        r#"{"error":{"message":"login failed: password=hunt3r for bob"}}"#,
        &["hunt3r"],
    ),
    (
        r#"{"message":"bad request {\"api_key\": \"sh0rt1\", \"model\": \"x\"}"}"#,
        &["sh0rt1"],
    ),
    (
        r#"{"detail":"Authorization: Bearer abc123def456 is not valid"}"#,
        &["abc123def456"],
    ),
    (
        r#"{"message":"cookie: sid=ck77aa; pref=ck88bb"}"#,
        &["ck77aa", "ck88bb"],
    ),
    (
        r#"{"error":"X-Api-Key: kk55kk rejected; passwd=pp66pp; secret: ss77ss; token=tt88tt"}"#,
        &["kk55kk", "pp66pp", "ss77ss", "tt88tt"],
    ),
];
/// A prefixed key with a punctuation byte in its middle, quoted in an error.
const PUNCT_KEY: (&str, &str) = ("sk-ant-api03-PUNC", "TAILpunct0123456789cd");
/// A random token that starts at the 187th character of a long error message. Cut at
/// 200 characters before masking, its first 14 characters were no key and printed.
const LATE_TOKEN: &str = "TRUNCa1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7";

/// GENERATED dialogues whose canaries are masked because of what labels them (see
/// [`check_capture_labelled`]): passwords in request targets, secret query
/// parameters, a key in the path, `name=value` secrets in error texts, a key split by
/// punctuation, a key cut off with its message.
fn labelled_dialogues() -> Vec<Dialogue> {
    let mut v = Vec::new();
    let query: Vec<String> = QUERY_SECRETS
        .iter()
        .map(|(n, val)| format!("{n}={val}"))
        .collect();
    let pw: String = URL_PASSWORD
        .bytes()
        .map(|b| match b {
            b':' | b'@' => format!("%{b:02X}"),
            b => (b as char).to_string(),
        })
        .collect();
    let req = format!(
        "GET http://carol:{pw}@intranet.example/list?page=2&{}#access_token={FRAGMENT_TOKEN} HTTP/1.1\r\nHost: intranet.example\r\n\r\n",
        query.join("&")
    );
    let mut canaries: Vec<Vec<u8>> = QUERY_SECRETS
        .iter()
        .map(|(_, val)| val.as_bytes().to_vec())
        .collect();
    canaries.push(URL_PASSWORD.into());
    canaries.push(FRAGMENT_TOKEN.into());
    v.push((
        req.into_bytes(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
        canaries,
    ));
    let req = format!(
        "CONNECT dave:{CONNECT_PASSWORD}@api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n"
    );
    v.push((
        req.into_bytes(),
        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n".to_vec(),
        vec![CONNECT_PASSWORD.into()],
    ));
    let req = format!(
        "GET http://api.example.com/v1/keys/{}{}{}?alt=json HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
        PATH_KEY.0, PATH_KEY.1, PATH_KEY.2
    );
    v.push((
        req.into_bytes(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        vec![PATH_KEY.1.into()],
    ));
    let post = b"POST http://api.example.com/v1/messages HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 0\r\n\r\n";
    for (body, secrets) in ERROR_TEXTS {
        v.push((
            post.to_vec(),
            json_response("401 Unauthorized", body.as_bytes()),
            secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ));
    }
    let body = format!(
        r#"{{"error":{{"message":"keys {}!{} refused"}}}}"#,
        PUNCT_KEY.0, PUNCT_KEY.1
    );
    v.push((
        post.to_vec(),
        json_response("403 Forbidden", body.as_bytes()),
        vec![PUNCT_KEY.1.into()],
    ));
    let body = format!(
        r#"{{"error":{{"message":"{} {LATE_TOKEN}"}}}}"#,
        "x".repeat(185)
    );
    v.push((
        post.to_vec(),
        json_response("401 Unauthorized", body.as_bytes()),
        vec![LATE_TOKEN[..14].into()],
    ));
    // A short token after its name and a space; a key a server masked with stars but
    // a long tail; each in an error text.
    for (body, canary) in [
        (
            format!(r#"{{"message":"Invalid token {SPACED_TOKEN} given"}}"#),
            SPACED_TOKEN,
        ),
        (
            format!(
                r#"{{"message":"Incorrect API key provided: sk-proj-{}{STAR_TAIL}."}}"#,
                "*".repeat(20)
            ),
            STAR_TAIL,
        ),
    ] {
        v.push((
            post.to_vec(),
            json_response("401 Unauthorized", body.as_bytes()),
            vec![canary.into()],
        ));
    }
    // A percent-encoded key in a query value, a token in the User-Agent, and a
    // short key whose type prefix is most of it (the old mask showed its last 4).
    let req = format!(
        "GET http://api.example.com/v1/x?q={PCT_KEY} HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: app/1.0 (token={UA_TOKEN})\r\nx-api-key: {ADMIN_KEY}\r\n\r\n"
    );
    v.push((
        req.into_bytes(),
        b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".to_vec(),
        vec![
            PCT_KEY_BODY.into(),
            UA_TOKEN.into(),
            ADMIN_KEY[15..].into(),
            ADMIN_KEY[ADMIN_KEY.len() - 4..].into(),
        ],
    ));
    v
}

/// A 14-character token after `token` and a space, no `=` or `:`.
const SPACED_TOKEN: &str = "S3CRshortTok9x";
/// The tail a server left of a key it masked with stars: 16 characters.
const STAR_TAIL: &str = "STARtail0123cnry";
/// `sk-ant-api03-` and [`PCT_KEY_BODY`], its dashes percent-encoded.
const PCT_KEY: &str = "sk%2Dant%2Dapi03%2DPCTcanaryKEY0123456789abcd";
const PCT_KEY_BODY: &str = "PCTcanaryKEY0123456789";
const UA_TOKEN: &str = "UAcanary77";
/// 25 characters, 15 of them its type: nothing of the rest may show.
const ADMIN_KEY: &str = "sk-ant-admin01-ADMcanQz9w";

#[test]
fn generated_streams_decoded_facts_never_hold_secrets() {
    for (i, (req, resp, canaries)) in dialogues()
        .into_iter()
        .chain(labelled_dialogues())
        .enumerate()
    {
        for c in &canaries {
            let both = [req.as_slice(), resp.as_slice()].concat();
            assert!(
                in_capture(&both, c),
                "dialogue {i}: canary not in the input"
            );
        }
        // Whole, and in 7-byte pieces (headers split across segments).
        for piece in [usize::MAX, 7] {
            let cx = &mut DecodeCtx::default();
            let mut d = cx.decoders().stream(40000, 3128);
            let mut frame = 0;
            for (dir, bytes) in [(Dir::ToServer, &req), (Dir::ToClient, &resp)] {
                for chunk in bytes.chunks(piece.min(bytes.len()).max(1)) {
                    frame += 1;
                    d.on_data(cx, dir, chunk, FrameNo(frame), Timestamp(frame as i64));
                }
            }
            let facts = d.finish();
            assert_eq!(facts.http.len(), 1, "dialogue {i}: not decoded: {facts:?}");
            let text = format!(
                "{facts:?}\n{:#?}\n{}\n{}",
                facts,
                serde_json::to_string(&trafficdoc::report::json::schema::App::from(&facts))
                    .unwrap(),
                trafficdoc::report::prose::summary(&facts)
            );
            for c in &canaries {
                assert_no_leak(&text, c, &format!("dialogue {i}, pieces of {piece}"));
            }
        }
    }
}

/// A GENERATED pcap: each dialogue on its own TCP connection to the proxy.
fn dialogues_pcap(dialogues: Vec<Dialogue>) -> Vec<u8> {
    let mut p = crate::common::synth::Pcap::new();
    for (i, (req, resp, _)) in dialogues.into_iter().enumerate() {
        p.conversation(
            ([10, 0, 0, 2], 40000 + i as u16),
            ([10, 0, 0, 1], 3128),
            &[(req, resp)],
        );
    }
    p.bytes
}

#[test]
fn generated_capture_secrets_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("generated-secrets.pcap");
    std::fs::write(&p, dialogues_pcap(dialogues())).unwrap();
    // The capture decodes: every dialogue is an HTTP flow.
    let v = analyze_json(&p);
    let http = flows(&v).iter().filter(|f| f["protocol"] == "http").count();
    assert_eq!(http, dialogues().len(), "{v:#}");
    let canaries: Vec<Vec<u8>> = dialogues().into_iter().flat_map(|d| d.2).collect();
    let refs: Vec<&[u8]> = canaries.iter().map(|c| c.as_slice()).collect();
    check_capture(&p, &refs);
}

#[test]
fn generated_capture_labelled_secrets_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("generated-labelled-secrets.pcap");
    std::fs::write(&p, dialogues_pcap(labelled_dialogues())).unwrap();
    let v = analyze_json(&p);
    let http = flows(&v).iter().filter(|f| f["protocol"] == "http").count();
    assert_eq!(http, labelled_dialogues().len(), "{v:#}");
    // What is shown on purpose: the user names, the other parameters, the key type.
    let json = v.to_string();
    for shown in [
        "http://carol:…@intranet.example/list?page=2&key=…&api_key=…",
        "#access_token=…",
        "dave:…@api.example.com:443",
        "/v1/keys/sk-ant-api03-…cdef?alt=json",
        "login failed: password=… for bob",
        "Invalid token … given",
        "/v1/x?q=sk-ant-api03-…abcd",
        "app/1.0 (token=…)",
        "sk-ant-admin01-…\"",
    ] {
        assert!(json.contains(shown), "{shown:?} not in {json}");
    }
    let canaries: Vec<Vec<u8>> = labelled_dialogues().into_iter().flat_map(|d| d.2).collect();
    let refs: Vec<&[u8]> = canaries.iter().map(|c| c.as_slice()).collect();
    check_capture_labelled(&p, &[], &refs);
}

#[test]
fn leak_forms_cover_the_encodings() {
    let f = leak_forms(b"p@ss:w/rd!");
    assert!(f.contains(&"p@ss:w/rd!".to_string()));
    assert!(f.contains(&"p%40ss%3Aw%2Frd%21".to_string()));
    assert!(f.contains(&"p%40ss%3aw%2frd%21".to_string()));
    assert!(f.contains(&"704073733a772f726421".to_string()));
    assert!(f.contains(&"704073733A772F726421".to_string()));
    // A base64 form is found inside the encoding of a longer credential.
    let enc = STANDARD.encode("user:p@ss:w/rd!");
    assert!(f.iter().any(|x| enc.contains(x.as_str())), "{f:?} vs {enc}");
}

/// A DNS query, its NXDOMAIN answer, and a TLS ClientHello whose server name holds a
/// key: names are shown, the keys in them never.
#[test]
fn generated_names_holding_keys_never_printed() {
    let dns_key = "sk-ant-api03-DNScanaryKEY0123456789abcd";
    let sni_key = "sk-ant-api03-SNIcanaryKEY0123456789abcd";
    let mut p = crate::common::synth::Pcap::new();
    let mut q = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in [dns_key, "exfil", "example"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    p.udp(([10, 0, 0, 2], 5353), ([10, 0, 0, 53], 53), &q);
    let mut r = q.clone();
    r[2..4].copy_from_slice(&[0x81, 0x83]);
    p.udp(([10, 0, 0, 53], 53), ([10, 0, 0, 2], 5353), &r);
    let host = format!("{sni_key}.example.com");
    p.connection(
        ([10, 0, 0, 2], 41000),
        ([10, 0, 0, 7], 443),
        &[
            (true, client_hello(&host)),
            (false, b"\x15\x03\x03\x00\x02\x02\x30".to_vec()),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generated-key-names.pcap");
    std::fs::write(&path, &p.bytes).unwrap();
    let json = analyze_json(&path).to_string();
    for shown in [
        "sk-ant-api03-…abcd.exfil.example",
        "sk-ant-api03-…abcd.example.com",
    ] {
        assert!(json.contains(shown), "{shown:?} not in {json}");
    }
    check_capture_labelled(
        &path,
        &[],
        &[&dns_key.as_bytes()[13..33], &sni_key.as_bytes()[13..33]],
    );
}

/// A TLS 1.2 ClientHello record with `host` as its server name.
fn client_hello(host: &str) -> Vec<u8> {
    let h = host.as_bytes();
    let mut ext = vec![0, 0];
    ext.extend_from_slice(&((h.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((h.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(h.len() as u16).to_be_bytes());
    ext.extend_from_slice(h);
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x11; 32]);
    body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}
