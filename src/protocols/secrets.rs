//! Masking of credentials that decoders come across.
//!
//! Secrets never leave the process: decoders keep a scheme and a user name, never a
//! password, token or response. What they keep of the rest is masked here, when it is
//! stored, so every report format and `Debug` inherit it:
//! - API keys and bearer tokens ([`mask_key`]): the public prefix that names the key's
//!   type and, for keys of 24 characters or more, the last 4 (`sk-ant-api03-…3f9a`);
//! - free text such as JSON error messages ([`redact_text`]): every word that looks
//!   like a key.

/// Masks an API key or bearer token: the prefix that names its type (`sk-ant-api03-`,
/// `sk-proj-`, `sk-`, `AKIA`, `ghp_`, `eyJ`…, none when unknown), `…`, and the last 4
/// characters only when the key has at least [`LONG_KEY`] characters.
pub fn mask_key(key: &str) -> String {
    let key = key.trim();
    let mut out = key_type(key).unwrap_or_default().to_string();
    out.push('…');
    let n = key.chars().count();
    if n >= LONG_KEY {
        out.extend(key.chars().skip(n - 4));
    }
    out
}

/// Keys this long show their last 4 characters: enough to tell two keys apart, and
/// still 20 or more characters (most of them after the type prefix) never shown.
pub const LONG_KEY: usize = 24;

/// Public prefixes that name a key's type (Anthropic, OpenAI, OpenRouter, Stripe,
/// GitHub, GitLab, Slack, Hugging Face, Groq, Google, AWS access key ids, JWTs). The
/// longest match is shown by [`mask_key`]; any of them makes a word of 16 characters or
/// more a key.
const KEY_TYPES: &[&str] = &[
    "sk-ant-api03-",
    "sk-ant-oat01-",
    "sk-ant-admin01-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-or-v1-",
    "sk-",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "pk_live_",
    "pk_test_",
    "sk_",
    "pk-",
    "pk_",
    "rk_",
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xapp-",
    "hf_",
    "gsk_",
    "AIza",
    "AKIA",
    "ASIA",
    "eyJ",
];

/// The longest known type prefix `key` starts with.
fn key_type(key: &str) -> Option<&'static str> {
    KEY_TYPES
        .iter()
        .copied()
        .filter(|p| key.starts_with(p))
        .max_by_key(|p| p.len())
}

/// A key by its type: 16 characters or more with a known type prefix.
fn looks_like_prefixed_key(word: &str) -> bool {
    word.len() >= 16 && key_type(word).is_some()
}

/// A key by its look: 32 characters or more mixing letters and digits.
fn looks_like_random_key(word: &str) -> bool {
    word.len() >= 32
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

/// Characters of a key (base64 and base64url, without the `=` padding: `name=key` is
/// two words).
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/')
}

/// Masks the secrets in free text (error messages a server returned): every word (run
/// of letters, digits and `-_+/`) that looks like a key, masked with [`mask_key`] up
/// to the next space or quoting character, so that a damaged byte inside a key cannot
/// free its tail. A key is found across a damaged byte too: a word with a type prefix
/// joined with what follows a non-ASCII or control character, or a single punctuation
/// character before a word of 12 or more letters and digits; a random-looking run
/// joined across non-ASCII or control characters.
pub fn redact_text(text: &str) -> String {
    mask_words(text)
}

/// Characters that end a key: a key never holds them, a damaged one included.
fn ends_key(c: char) -> bool {
    c.is_whitespace() || "\"'`,;()[]{}<>&|…".contains(c)
}

/// Key-shaped words masked, each to the end of its chunk (up to the next character
/// that [`ends_key`]).
fn mask_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if ends_key(c) {
            mask_chunk(text.get(start..i).unwrap_or_default(), &mut out);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    mask_chunk(text.get(start..).unwrap_or_default(), &mut out);
    out
}

/// Longest run of key characters looked at when deciding whether a damaged key
/// starts at a word.
const JOIN_LIMIT: usize = 64;

/// Writes `chunk` (no character in it [`ends_key`]) to `out`, masked from the first
/// word where a key starts to its last word.
fn mask_chunk(chunk: &str, out: &mut String) {
    // Too short to hold a key of 16 characters or more.
    if chunk.len() < 16 {
        out.push_str(chunk);
        return;
    }
    // Words: (start, end) byte ranges of runs of key characters.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut run: Option<usize> = None;
    for (i, c) in chunk.char_indices() {
        match (is_key_char(c), run) {
            (true, None) => run = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                run = None;
            }
            _ => {}
        }
    }
    if let Some(s) = run {
        runs.push((s, chunk.len()));
    }
    let word = |r: &(usize, usize)| chunk.get(r.0..r.1).unwrap_or_default();
    // The words from `i` on, joined while `gap_ok` accepts what lies between two of
    // them and the next word.
    let joined = |i: usize, gap_ok: &dyn Fn(&str, &str) -> bool| {
        let mut s = String::new();
        for (k, r) in runs.iter().enumerate().skip(i) {
            if k > i {
                let prev = runs.get(k - 1).map_or(r.0, |p| p.1);
                let gap = chunk.get(prev..r.0).unwrap_or_default();
                if !gap_ok(gap, word(r)) {
                    break;
                }
            }
            s.push_str(word(r));
            if s.len() >= JOIN_LIMIT {
                break;
            }
        }
        s
    };
    // A damaged byte: non-ASCII or control characters only.
    let odd = |gap: &str, _: &str| gap.chars().all(|c| !c.is_ascii() || c.is_ascii_control());
    // After a type prefix, a punctuation byte too when the next word is key-shaped
    // itself (letters and digits, 12 or more): `sk-ant-ap!i03-AAAA…`, but not
    // `sk-proxy.corp.example`.
    let damaged = |gap: &str, next: &str| {
        odd(gap, next)
            || (gap.chars().count() == 1
                && next.len() >= 12
                && next.chars().any(|c| c.is_ascii_digit())
                && next.chars().any(|c| c.is_ascii_alphabetic()))
    };
    for (i, r) in runs.iter().enumerate() {
        let w = word(r);
        let key = looks_like_prefixed_key(w)
            || looks_like_random_key(w)
            || (key_type(w).is_some() && looks_like_prefixed_key(&joined(i, &damaged)))
            || looks_like_random_key(&joined(i, &odd));
        if key {
            let end = runs.last().map_or(r.1, |l| l.1);
            out.push_str(chunk.get(..r.0).unwrap_or_default());
            out.push_str(&mask_key(chunk.get(r.0..end).unwrap_or_default()));
            out.push_str(chunk.get(end..).unwrap_or_default());
            return;
        }
    }
    out.push_str(chunk);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
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
        ] {
            let once = redact_text(t);
            assert_eq!(redact_text(&once), once);
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
        }
    }
}
