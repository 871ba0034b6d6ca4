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
/// on corrupted copies; returns everything printed.
fn all_outputs(cap: &Path) -> String {
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
    let mut out = String::new();
    for v in &variants {
        let p = v.to_str().unwrap();
        for fmt in ["table", "json"] {
            let r = run(&["analyze", "--format", fmt, p]);
            out.push_str(&r.stdout);
            out.push_str(&r.stderr);
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
    out
}

fn check_capture(cap: &Path, secrets: &[&[u8]]) {
    let bytes = std::fs::read(cap).unwrap();
    for s in secrets {
        assert!(
            in_capture(&bytes, s),
            "{}: canary {:?} is not in the capture: the test would prove nothing",
            cap.display(),
            String::from_utf8_lossy(s)
        );
    }
    let out = all_outputs(cap);
    assert!(out.len() > 1000, "{}: little output", cap.display());
    for s in secrets {
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
    v
}

#[test]
fn generated_streams_decoded_facts_never_hold_secrets() {
    for (i, (req, resp, canaries)) in dialogues().into_iter().enumerate() {
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
                serde_json::to_string(&facts).unwrap(),
                trafficdoc::report::prose::summary(&facts)
            );
            for c in &canaries {
                assert_no_leak(&text, c, &format!("dialogue {i}, pieces of {piece}"));
            }
        }
    }
}

/// A GENERATED pcap: each dialogue on its own TCP connection to the proxy.
fn dialogues_pcap() -> Vec<u8> {
    let mut p = crate::common::synth::Pcap::new();
    for (i, (req, resp, _)) in dialogues().into_iter().enumerate() {
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
    std::fs::write(&p, dialogues_pcap()).unwrap();
    // The capture decodes: every dialogue is an HTTP flow.
    let v = analyze_json(&p);
    let http = flows(&v).iter().filter(|f| f["protocol"] == "http").count();
    assert_eq!(http, dialogues().len(), "{v:#}");
    let canaries: Vec<Vec<u8>> = dialogues().into_iter().flat_map(|d| d.2).collect();
    let refs: Vec<&[u8]> = canaries.iter().map(|c| c.as_slice()).collect();
    check_capture(&p, &refs);
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
