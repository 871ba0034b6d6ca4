//! Masking of credentials that decoders come across.
//!
//! Secrets never leave the process: decoders keep a scheme and a user name, never a
//! password, token or response. What they keep of the rest is masked here, when it is
//! stored, so every report format and `Debug` inherit it:
//! - API keys and bearer tokens ([`mask_key`]): the public prefix that names the key's
//!   type and, for keys of 24 characters or more of which 16 or more stay hidden,
//!   the last 4 (`sk-ant-api03-…3f9a`);
//! - request targets ([`mask_target`]): the password of `user:password@`, the values of
//!   query parameters with secret names ([`is_secret_name`]), prefixed keys in the path;
//! - free text such as JSON error messages ([`redact_text`]): the value after every
//!   secret name, whatever its length, and every word that looks like a key.

use crate::model::url::percent_decode;
use std::borrow::Cow;

mod names;
pub use names::{mask_header_text, mask_name};

/// Masks an API key or bearer token: the prefix that names its type (`sk-ant-api03-`,
/// `sk-proj-`, `sk-`, `AKIA`, `ghp_`, `eyJ`…, none when unknown), `…`, and the last 4
/// characters only when the key has [`LONG_KEY`] characters or more and
/// [`HIDDEN_MIN`] or more of them still stay hidden between the two.
pub fn mask_key(key: &str) -> String {
    let key = key.trim();
    let prefix = key_type(key).unwrap_or_default();
    let mut out = prefix.to_string();
    out.push('…');
    let n = key.chars().count();
    if n >= LONG_KEY && n >= prefix.chars().count() + 4 + HIDDEN_MIN {
        out.extend(key.chars().skip(n - 4));
    }
    out
}

/// Keys shorter than this never show their last 4 characters.
pub const LONG_KEY: usize = 24;

/// The fewest characters of a key never shown when its last 4 are: the last 4 tell
/// two keys apart, the 16 or more hidden after the type prefix keep either from being
/// guessed (`sk-ant-api03-` needs 20 more).
pub const HIDDEN_MIN: usize = 16;

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

/// True for a word that looks like a key or token: 16 characters or more with a known
/// type prefix, or 32 or more mixing letters and digits.
fn looks_like_key(word: &str) -> bool {
    looks_like_prefixed_key(word) || looks_like_random_key(word)
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

/// Names whose value is a secret, compared case-insensitively with `-` read as `_`.
const SECRET_NAMES: &[&str] = &[
    "key",
    "apikey",
    "token",
    "auth",
    "authorization",
    "proxy_authorization",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "sig",
    "signature",
    "cookie",
    "set_cookie",
    "session",
    "sessionid",
    "session_id",
    "sid",
    "jwt",
    "credential",
    "credentials",
];

/// Name endings whose value is a secret: `api_key`, `x_api_key`, `access_token`,
/// `client_secret`, `new_password`, `x_amz_signature`, `x_amz_credential`...
const SECRET_SUFFIXES: &[&str] = &[
    "_key",
    "apikey",
    "_token",
    "_secret",
    "password",
    "passwd",
    "_signature",
    "_credential",
    "_session",
    "_session_id",
    "_sessionid",
];

/// True when the value of a parameter, header or field called `name` is a secret:
/// [`SECRET_NAMES`] (`key`, `token`, `password`, `secret`, `sig`, `auth`, `cookie`…)
/// or a name ending in one of [`SECRET_SUFFIXES`] (`api_key`, `access_token`…),
/// case-insensitively, `-` read as `_`. Some are not secrets everywhere
/// (`sort_key`): masking them costs little.
pub fn is_secret_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 64 {
        return false;
    }
    // The name folded into a buffer on the stack: this runs for every word of every
    // header text, so it must not allocate.
    let mut buf = [0u8; 64];
    for (d, &c) in buf.iter_mut().zip(name.as_bytes()) {
        *d = match c {
            b'-' => b'_',
            c => c.to_ascii_lowercase(),
        };
    }
    let n = buf.get(..name.len()).unwrap_or_default();
    SECRET_NAMES.iter().any(|s| s.as_bytes() == n)
        || SECRET_SUFFIXES.iter().any(|s| n.ends_with(s.as_bytes()))
}

/// Header names whose value runs to the end of the line (it holds spaces and `;`).
fn value_to_end_of_line(name: &str) -> bool {
    [
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
    ]
    .iter()
    .any(|n| name.replace('-', "_").eq_ignore_ascii_case(n))
}

/// Authentication schemes kept in front of a masked credential (`Bearer …`).
const AUTH_SCHEMES: &[&str] = &[
    "Basic",
    "Bearer",
    "Digest",
    "NTLM",
    "Negotiate",
    "Kerberos",
    "Token",
    "ApiKey",
    "DPoP",
    "AWS4-HMAC-SHA256",
];

/// Masks the secrets in free text (error messages a server returned):
/// - the value after a secret name ([`is_secret_name`]) in `name=value`,
///   `name: value` and JSON `"name": "value"` forms, whatever its length. A quoted
///   value ends at its closing quote, an `Authorization` or `Cookie` value at the end
///   of the line (an auth scheme in front stays: `Bearer …`), any other at a space or
///   one of `&,;"'()[]{}<>`;
/// - every word (run of letters, digits and `-_+/`) that looks like a key, masked with
///   [`mask_key`] up to the next space or quoting character, so that a damaged byte
///   inside a key cannot free its tail. A key is found across a damaged byte too: a
///   word with a type prefix joined with what follows a non-ASCII or control
///   character, or a single punctuation character before a word of 12 or more letters
///   and digits; a random-looking run joined across non-ASCII or control characters.
pub fn redact_text(text: &str) -> String {
    mask_words(&mask_named_values(text), Words::Text)
}

/// Masks the secrets of an HTTP request target (absolute URI, authority of CONNECT,
/// or origin path): the password of `user:password@` becomes `…` (the user name stays,
/// unless it looks like a key itself: `https://ghp_…@github.com/`), the value of
/// every query or fragment parameter with a secret name ([`is_secret_name`]) becomes
/// `…`, and words with a key type prefix in the path and other values are masked with
/// [`mask_key`], as are host labels that hold a key ([`mask_name`]). Random-looking
/// path segments (hashes, ids) stay.
pub fn mask_target(target: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(target.len() + 8);
    let mut rest = target;
    if let Some(a) = authority_start(target) {
        let (before, after) = target.split_at_checked(a).unwrap_or(("", target));
        out.push_str(before);
        let region = after.find(['/', ' ']).unwrap_or(after.len());
        rest = after;
        if let Some(at) = after.get(..region).and_then(|r| r.rfind('@')) {
            out.push_str(&mask_userinfo(after.get(..at).unwrap_or_default()));
            rest = after.get(at..).unwrap_or_default();
        }
        let host = rest.find(['/', ' ', '?', '#']).unwrap_or(rest.len());
        out.push_str(&mask_name(rest.get(..host).unwrap_or_default()));
        rest = rest.get(host..).unwrap_or_default();
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    out.push_str(&mask_words(path, Words::Path));
    for (mark, params) in [('?', query), ('#', fragment)] {
        if let Some(p) = params {
            out.push(mark);
            out.push_str(&mask_params(p));
        }
    }
    if out == target {
        Cow::Borrowed(target)
    } else {
        Cow::Owned(out)
    }
}

/// Where the authority starts: after `scheme://` in an absolute URI, at 0 in the
/// authority form of CONNECT; `None` for an origin path (`/...`) or `*`.
fn authority_start(target: &str) -> Option<usize> {
    if let Some(p) = target.find("://") {
        let scheme = target.get(..p).unwrap_or_default();
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Some(p + 3);
        }
    }
    (!target.starts_with('/') && target != "*").then_some(0)
}

/// `user:password` → `user:…`; a user name that looks like a key is masked too.
fn mask_userinfo(userinfo: &str) -> String {
    let user = |u: &str| {
        if looks_like_key(u) {
            mask_key(u)
        } else {
            u.to_string()
        }
    };
    match userinfo.split_once(':') {
        Some((u, pw)) if !pw.is_empty() => format!("{}:…", user(u)),
        _ => user(userinfo),
    }
}

/// A query string or fragment: `name=value` pairs split at `&` or `;`.
fn mask_params(params: &str) -> String {
    let mut out = String::with_capacity(params.len());
    let mut rest = params;
    loop {
        let end = rest.find(['&', ';']).unwrap_or(rest.len());
        let (param, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
        match param.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_name(&percent_decode(name)) => {
                out.push_str(name);
                out.push_str("=…");
            }
            Some((name, value)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(&mask_words(value, Words::Path));
            }
            None => out.push_str(&mask_words(param, Words::Path)),
        }
        let mut tail = tail.chars();
        match tail.next() {
            Some(sep) => out.push(sep),
            None => return out,
        }
        rest = tail.as_str();
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Bytes that end an unquoted value.
fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace() || b"&,;\"'()[]{}<>".contains(&b)
}

/// First pass of [`redact_text`]: the values after secret names.
fn mask_named_values(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let starts_name = b.get(i).is_some_and(|&c| is_name_byte(c))
            && (i == 0 || b.get(i - 1).is_some_and(|&c| !is_name_byte(c)));
        if !starts_name {
            i += 1;
            continue;
        }
        let start = i;
        while b.get(i).is_some_and(|&c| is_name_byte(c)) {
            i += 1;
        }
        let name = text.get(start..i).unwrap_or_default();
        if !is_secret_name(name) {
            continue;
        }
        let Some(v) = value_start(b, i) else {
            // `Invalid token 9f3Kq2x7Lm`: a credential-shaped word after the name.
            if let Some(to) = spaced_credential(text, i)
                && let (Some(kept), Some(word)) = (text.get(copied..i + 1), text.get(i + 1..to))
            {
                out.push_str(kept);
                out.push_str(&mask_key(word));
                copied = to;
                i = to;
            }
            continue;
        };
        let (from, to) = value_extent(text, v, value_to_end_of_line(name));
        if from < to
            && let (Some(kept), Some(_)) = (text.get(copied..from), text.get(from..to))
        {
            out.push_str(kept);
            out.push('…');
            copied = to;
        }
        i = i.max(to);
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

/// After a name ending at `i`: an optional closing quote (`"name": `), blanks, `=` or
/// `:`, blanks; where the value starts.
fn value_start(b: &[u8], mut i: usize) -> Option<usize> {
    if matches!(b.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    if !matches!(b.get(i), Some(b'=' | b':')) {
        return None;
    }
    i += 1;
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    Some(i)
}

/// After a name ending at `i`: one space, then a word of 8 or more key characters
/// that mixes letters and digits or starts with a key type (`token 9f3Kq2x7Lm`,
/// `key sk-ant-api03-…`, not `token passed`); where the value ends: like a key in
/// [`mask_words`], at the next character that [`ends_key`] (a damaged byte does not
/// end it), sentence punctuation at its end left out.
fn spaced_credential(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let from = i + 1;
    let rest = text.get(from..)?;
    let word_end = rest.find(|c: char| !is_key_char(c)).unwrap_or(rest.len());
    let word = rest.get(..word_end)?;
    let credential = word.len() >= 8
        && (key_type(word).is_some()
            || (word.bytes().any(|c| c.is_ascii_digit())
                && word.bytes().any(|c| c.is_ascii_alphabetic())));
    if !credential {
        return None;
    }
    let chunk_end = rest
        .find(|c: char| ends_key(c, Words::Text))
        .unwrap_or(rest.len());
    // Masked already (`key sk-ant-api03-…6789`): masking twice changes nothing.
    if rest.get(chunk_end..).is_some_and(|r| r.starts_with('…')) {
        return None;
    }
    let value = rest
        .get(..chunk_end)?
        .trim_end_matches(['.', ':', '!', '?']);
    Some(from + value.len().max(word_end))
}

/// The byte range to mask of a value starting at `v`.
fn value_extent(text: &str, v: usize, to_end_of_line: bool) -> (usize, usize) {
    let b = text.as_bytes();
    if let Some(&q) = b.get(v).filter(|&&q| q == b'"' || q == b'\'') {
        let mut k = v + 1;
        while let Some(&c) = b.get(k) {
            if c == b'\\' {
                k += 2;
                continue;
            }
            if c == q {
                break;
            }
            k += 1;
        }
        return (v + 1, k.min(b.len()));
    }
    let mut from = v;
    let word_end = (v..b.len())
        .find(|&k| b.get(k).is_some_and(|&c| ends_value(c)))
        .unwrap_or(b.len());
    let word = text.get(v..word_end).unwrap_or_default();
    if b.get(word_end) == Some(&b' ') && AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(word)) {
        from = word_end;
        while b.get(from) == Some(&b' ') {
            from += 1;
        }
    }
    let to = if to_end_of_line {
        (from..b.len())
            .find(|&k| matches!(b.get(k), Some(b'\r' | b'\n')))
            .unwrap_or(b.len())
    } else {
        (from..b.len())
            .find(|&k| b.get(k).is_some_and(|&c| ends_value(c)))
            .unwrap_or(b.len())
    };
    (from, to)
}

/// Where [`mask_words`] runs: free text (random-looking keys too) or a URL path or
/// parameter (`/` separates, only prefixed keys: hashes and ids in paths stay).
#[derive(Clone, Copy, PartialEq)]
enum Words {
    Text,
    Path,
}

/// Characters that end a key: a key never holds them, a damaged one included.
fn ends_key(c: char, words: Words) -> bool {
    // A match rather than a search of a string: this runs for every character of
    // every target and header text.
    match c {
        '"' | '\'' | '`' | ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '&'
        | '|' | '…' => true,
        '/' => words == Words::Path,
        c => c.is_whitespace(),
    }
}

/// Second pass of [`redact_text`] (and the path and parameters of [`mask_target`]):
/// key-shaped words masked, each to the end of its chunk (up to the next character
/// that [`ends_key`]).
fn mask_words(text: &str, words: Words) -> String {
    // No chunk of a text this short can hold a key (see [`mask_chunk`]).
    if text.len() < 16 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if ends_key(c, words) {
            mask_chunk(text.get(start..i).unwrap_or_default(), words, &mut out);
            out.push(c);
            start = i + c.len_utf8();
        }
    }
    mask_chunk(text.get(start..).unwrap_or_default(), words, &mut out);
    out
}

/// Longest run of key characters looked at when deciding whether a damaged key
/// starts at a word.
const JOIN_LIMIT: usize = 64;

/// Writes `chunk` (no character in it [`ends_key`]) to `out`, masked from the first
/// word where a key starts to its last word.
fn mask_chunk(chunk: &str, words: Words, out: &mut String) {
    // Too short to hold a key of 16 characters or more (most path segments).
    if chunk.len() < 16 {
        out.push_str(chunk);
        return;
    }
    // A percent-encoded key (`sk%2Dant%2Dapi03%2D…`) is masked as decoded.
    if chunk.contains('%') {
        let decoded = percent_decode(chunk);
        if decoded != chunk {
            let mut masked = String::new();
            mask_chunk(&decoded, words, &mut masked);
            if masked != decoded {
                out.push_str(&masked);
                return;
            }
        }
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
    let random = words == Words::Text;
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
            // A key a server masked itself, but not enough: `sk-proj-****…tail`.
            || (!gap.is_empty() && gap.chars().all(|c| c == '*'))
            || (gap.chars().count() == 1
                && next.len() >= 12
                && next.chars().any(|c| c.is_ascii_digit())
                && next.chars().any(|c| c.is_ascii_alphabetic()))
    };
    for (i, r) in runs.iter().enumerate() {
        let w = word(r);
        let key = looks_like_prefixed_key(w)
            || (random && looks_like_random_key(w))
            || (key_type(w).is_some() && looks_like_prefixed_key(&joined(i, &damaged)))
            || (random && looks_like_random_key(&joined(i, &odd)));
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
mod tests;
