//! Unit tests of the masking of keys, targets and free text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn anthropic_key_shows_its_type_and_last_4() {
    assert_eq!(
        mask_key("sk-ant-api03-AAAABBBBCCCCDDDD3f9a"),
        "sk-ant-api03-…3f9a"
    );
    assert_eq!(
        mask_key("sk-ant-oat01-AAAABBBBCCCCDDDD3f9a"),
        "sk-ant-oat01-…3f9a"
    );
    assert_eq!(mask_key("sk-proj-ZZZZYYYYXXXX1234abcd"), "sk-proj-…abcd");
}

#[test]
fn short_key_shows_its_type_only() {
    // 20 characters: the old mask showed 11 of them.
    assert_eq!(mask_key("sk-ant-api03-Sh0rtK3"), "sk-ant-api03-…");
    assert_eq!(mask_key("AKIAIOSFODNN7EXAMPLE"), "AKIA…");
    assert_eq!(mask_key("Zq8RwT4uVb6XyN2mKp3L"), "…");
    assert_eq!(mask_key("abc123"), "…");
    assert_eq!(mask_key(""), "…");
}

#[test]
fn last_4_only_when_16_stay_hidden_after_the_type() {
    // 15 characters of type, 9 after it: the last 4 would leave 5 hidden.
    assert_eq!(mask_key("sk-ant-admin01-ABCDE1234"), "sk-ant-admin01-…");
    assert_eq!(
        mask_key("sk-ant-admin01-ABCDEFGHIJKLMNOP1234"),
        "sk-ant-admin01-…1234"
    );
    // 19 after `sk-ant-api03-`: 15 would stay hidden.
    assert_eq!(
        mask_key("sk-ant-api03-ABCDEFGHIJKLMNO1234"),
        "sk-ant-api03-…"
    );
    assert_eq!(mask_key("Zq8RwT4uVb6XyN2mKp3L"), "…");
    assert_eq!(mask_key("Zq8RwT4uVb6XyN2mKp3L1234"), "…1234");
    assert_eq!(mask_key("ghp_0123456789abcdefABCDEF0123"), "ghp_…0123");
}

#[test]
fn long_key_without_known_type_shows_last_4_only() {
    assert_eq!(mask_key("0123456789abcdef0123456789abcdef"), "…cdef");
    assert_eq!(
        mask_key("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"),
        "eyJ….sig"
    );
}

#[test]
fn key_inside_message_masked() {
    let t = redact_text("Incorrect API key provided: sk-proj-ZZZZYYYYXXXX1234abcd. See docs.");
    assert!(!t.contains("ZZZZYYYYXXXX"));
    assert_eq!(t, "Incorrect API key provided: sk-proj-…abcd. See docs.");
    // After `=` too, and short: the type prefix is all that shows.
    assert_eq!(
        redact_text("given x=sk-ant-api03-Sh0rtK3yZZ"),
        "given x=sk-ant-api03-…"
    );
}

#[test]
fn plain_text_untouched() {
    for t in [
        "model: claude-3 is not available, retry later",
        "litellm.InternalServerError: AnthropicException - Cannot connect to host api.anthropic.com:443 ssl:True",
        "Authentication Error, Invalid proxy server token passed. key not issued by this gateway",
        "No deployments available for selected model. Passed model=claude-sonnet-4. pre-call-checks=False",
        "see https://docs.anthropic.com/en/api/errors, or retry=30",
        "Cannot connect to host sk-proxy.corp.example:443 (pk-test.example.com/abcdefgh)",
        "Number of request tokens has exceeded your per-minute rate limit",
    ] {
        assert_eq!(redact_text(t), t);
    }
}

#[test]
fn values_after_secret_names_masked_whatever_their_length() {
    for (text, want) in [
        (
            "login failed: password=hunter2 for bob",
            "login failed: password=… for bob",
        ),
        (
            r#"{"api_key": "short", "model": "x"}"#,
            r#"{"api_key": "…", "model": "x"}"#,
        ),
        (r#"{'token': 'ab'}"#, r#"{'token': '…'}"#),
        (
            "passwd=p; pwd: q, secret=s&key=k",
            "passwd=…; pwd: …, secret=…&key=…",
        ),
        ("X-Api-Key: kk55kk rejected", "X-Api-Key: … rejected"),
        (
            "Authorization: Bearer abc123 is not valid",
            "Authorization: Bearer …",
        ),
        (
            "authorization: sk-zz\nnext line",
            "authorization: …\nnext line",
        ),
        ("Cookie: sid=a1; pref=b2\r\nHost: x", "Cookie: …\r\nHost: x"),
        ("token: Bearer abc, more", "token: Bearer …, more"),
        (
            r#""client_secret":"s\"q\"x" next"#,
            r#""client_secret":"…" next"#,
        ),
        ("ACCESS_TOKEN=x1", "ACCESS_TOKEN=…"),
        ("password=", "password="),
        (r#""password": """#, r#""password": """#),
        (
            r#""credentials": {"password": "pw"}"#,
            r#""credentials": {"password": "…"}"#,
        ),
        ("password=\"unterminated", "password=\"…"),
    ] {
        assert_eq!(redact_text(text), want, "{text}");
    }
}

#[test]
fn credential_after_a_secret_name_and_a_space_masked() {
    for (text, want) in [
        (
            "Invalid token S3CRETshortTok9 given",
            "Invalid token … given",
        ),
        ("bad api_key ab12cd34.", "bad api_key …."),
        ("session 5f3a9c1e7b expired", "session … expired"),
    ] {
        assert_eq!(redact_text(text), want, "{text}");
    }
    // Words that are no credentials stay.
    for t in [
        "token passed, key not issued",
        "password for bob",
        "key 12345678",
        "max_tokens 4096",
    ] {
        assert_eq!(redact_text(t), t);
    }
}

#[test]
fn key_a_server_masked_with_stars_keeps_no_long_tail() {
    let t = redact_text(
        "Incorrect API key provided: sk-proj-********************S3CRrealtail. See docs",
    );
    assert!(!t.contains("S3CRrealt"), "{t}");
    // What such a server really shows, its last 4, may stay.
    let t = "Incorrect API key provided: sk-proj-****************abcd. See docs";
    assert_eq!(redact_text(t), t);
}

#[test]
fn percent_encoded_keys_masked() {
    assert_eq!(
        mask_target("/x?q=sk%2Dant%2Dapi03%2DS3CRETpctKEY0123456789abcd&z=1"),
        "/x?q=sk-ant-api03-…abcd&z=1"
    );
    assert_eq!(
        mask_target("/v1/keys/sk%2dant%2dapi03%2dS3CRETpctKEY0123456789abcd/usage"),
        "/v1/keys/sk-ant-api03-…abcd/usage"
    );
    assert_eq!(
        redact_text("key sk%2Dant%2Dapi03%2DS3CRETpctKEY0123456789abcd refused"),
        "key sk-ant-api03-…abcd refused"
    );
    // Escapes that hide no key stay as they were.
    let t = "/a%20b/c?q=hello%20world%2C%20again&page=2";
    assert_eq!(mask_target(t), t);
}

#[test]
fn names_inside_words_are_not_names() {
    for t in ["mykey=1 is fine", "tokens: 5", "passage: a", "keyboard=us"] {
        // `mykey` is no secret name; `tokens`, `passage`, `keyboard` neither.
        assert_eq!(redact_text(t), t);
    }
}

#[test]
fn damaged_byte_inside_a_key_does_not_free_its_tail() {
    for (text, tail) in [
        (
            "key sk-ant-api03-CORR\u{fffd}TAILcanary0123456789ab refused",
            "TAILcanary",
        ),
        (
            "key sk-ant-api03-PUNC!TAILpunct0123456789cd refused",
            "TAILpunct",
        ),
        (
            "key sk-ant-ap\u{fffd}i03-AAAABBBBCCCCDDDD3f9a refused",
            "AAAABBBB",
        ),
        ("key sk-ant-ap!i03-AAAABBBBCCCCDDDD3f9a refused", "AAAABBBB"),
        ("key sk-ant-api03-AAAA.BBBB.CCCC.DDDD refused", "BBBB"),
        (
            "tok RANDa1b2c3d4e5f6g7h8éRANDi9j0k1l2m3n4o5p6 refused",
            "RANDi9j0",
        ),
        (
            "tok RANDa1b2c3d4e5f6g7h8\u{7}RANDi9j0k1l2m3n4o5p6 refused",
            "RANDa1b2",
        ),
    ] {
        let t = redact_text(text);
        assert!(!t.contains(tail), "{text} → {t}");
        assert!(t.ends_with(" refused"), "{text} → {t}");
    }
    // The key keeps its type; the sentence around it stays.
    assert_eq!(
        redact_text("key sk-ant-api03-PUNC!TAILpunct0123456789cd."),
        "key sk-ant-api03-…89cd."
    );
}

#[test]
fn masking_twice_changes_nothing() {
    for t in [
        "password=hunter2 and sk-ant-api03-AAAABBBBCCCCDDDD3f9a",
        r#"{"api_key": "short"} Authorization: Bearer x"#,
        "Invalid API key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789 given",
        "Invalid token S3CRshortTok9x given, key sk-S3CRs",
    ] {
        let once = redact_text(t);
        assert_eq!(redact_text(&once), once);
    }
}

#[test]
fn target_userinfo_password_masked_user_kept() {
    for (target, want) in [
        ("http://user:pass@host/", "http://user:…@host/"),
        (
            "http://bob:p%40ss%3Aw@proxy.corp:8080/x?y=1",
            "http://bob:…@proxy.corp:8080/x?y=1",
        ),
        ("HTTP://bob:pw@bro.org/", "HTTP://bob:…@bro.org/"),
        ("user:pass@host:443", "user:…@host:443"),
        ("http://a:b@c@host/", "http://a:…@host/"),
        ("http://alice@host/", "http://alice@host/"),
        ("http://alice:@host/", "http://alice:@host/"),
        (
            "https://ghp_0123456789abcdefABCDEF0123@github.com/",
            "https://ghp_…0123@github.com/",
        ),
        ("http://host?api_key=abc", "http://host?api_key=…"),
        ("http://host/a@b", "http://host/a@b"),
    ] {
        assert_eq!(mask_target(target), want, "{target}");
    }
}

#[test]
fn target_secret_parameters_masked() {
    for (target, want) in [
        (
            "/v1/x?key=K1&API_KEY=k2&apikey=k3&access_token=t1&token=t2&page=2",
            "/v1/x?key=…&API_KEY=…&apikey=…&access_token=…&token=…&page=2",
        ),
        (
            "/s?Password=p;secret=s&sig=g&auth=a&X-Amz-Signature=z&q=cats",
            "/s?Password=…;secret=…&sig=…&auth=…&X-Amz-Signature=…&q=cats",
        ),
        ("/cb#access_token=t&state=ok", "/cb#access_token=…&state=ok"),
        ("/x?api%5Fkey=k", "/x?api%5Fkey=…"),
        ("/x?token=&a", "/x?token=&a"),
        (
            "/x?q=sk-ant-api03-AAAABBBBCCCCDDDD3f9a",
            "/x?q=sk-ant-api03-…3f9a",
        ),
        ("/x?&&key=1", "/x?&&key=…"),
    ] {
        assert_eq!(mask_target(target), want, "{target}");
    }
}

#[test]
fn target_keys_in_the_path_masked_ids_kept() {
    assert_eq!(
        mask_target("/v1/keys/sk-ant-api03-AAAABBBBCCCCDDDD3f9a/usage"),
        "/v1/keys/sk-ant-api03-…3f9a/usage"
    );
    for t in [
        "/wikipedia/commons/thumb/7/75/Wikimedia_Community_Logo.svg/35px-Wikimedia_Community_Logo.svg.png",
        "/objects/0123456789abcdef0123456789abcdef01234567",
        "api.anthropic.com:443",
        "mailin03.sul.t-online.de:25 /",
        "*",
        "/",
        "",
    ] {
        assert!(matches!(mask_target(t), Cow::Borrowed(_)), "{t}");
    }
}

#[test]
fn secret_names() {
    for n in [
        "key",
        "KEY",
        "api_key",
        "Api-Key",
        "x-api-key",
        "apikey",
        "X-APIKEY",
        "token",
        "access_token",
        "refresh_token",
        "password",
        "Password",
        "new_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "sig",
        "signature",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "auth",
        "authorization",
        "Proxy-Authorization",
        "cookie",
        "Set-Cookie",
        "session_id",
        "sessionid",
        "jwt",
    ] {
        assert!(is_secret_name(n), "{n}");
    }
    for n in [
        "page",
        "model",
        "q",
        "keyboard",
        "tokens",
        "max_tokens",
        "author",
        "",
        "monkey",
    ] {
        assert!(!is_secret_name(n), "{n}");
    }
}

#[test]
fn never_panics_on_odd_text() {
    for t in [
        "=",
        ":",
        "\"",
        "password",
        "password=\"",
        "password:\\",
        "a=\u{fffd}",
        "…=…",
        "key=\"\\",
        "sk-",
        "http://",
        "://@",
        "@",
        "?",
        "#",
        "%",
        "%4",
        "?a=%zz",
        "http://[::1]:80/?key=1",
        "ü:ö@ä/?ß=1#key=é",
    ] {
        let _ = redact_text(t);
        let _ = mask_target(t);
    }
}
