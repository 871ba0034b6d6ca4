//! Authentication headers: `Proxy-Authenticate` / `WWW-Authenticate` challenges and
//! `Proxy-Authorization` / `Authorization` credentials (Basic, Digest, NTLM, Negotiate,
//! Bearer...).
//!
//! Keeps schemes, realms, user names and masked tokens; passwords, Digest responses
//! and NTLM responses are dropped here, before any type holds them.

use crate::protocols::ntlm::{self, NtlmMessage};
use crate::protocols::secrets::mask_key;
use base64::Engine as _;
use std::sync::Arc;

/// Which header a challenge or credential came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthHeader {
    ProxyAuthenticate,
    WwwAuthenticate,
    ProxyAuthorization,
    Authorization,
}

/// One authentication challenge offered by a proxy or server (RFC 9110 11.6.1).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    pub header: AuthHeader,
    /// Scheme as sent (`Basic`, `Digest`, `NTLM`, `Negotiate`, `Kerberos`, ...).
    #[serde(with = "crate::protocols::stored::text")]
    pub scheme: std::sync::Arc<str>,
    pub realm: Option<String>,
    /// Other auth-params (Digest `algorithm`, `qop`, `stale`...), nonces left out.
    pub params: Vec<(String, String)>,
    /// NTLM type 2 message carried in the challenge, if any.
    pub ntlm: Option<Box<NtlmMessage>>,
    /// The Negotiate token names the Kerberos mechanism.
    pub kerberos: bool,
}

/// Credentials a client sent: scheme and identity only, never the secret part.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    pub header: AuthHeader,
    #[serde(with = "crate::protocols::stored::text")]
    pub scheme: std::sync::Arc<str>,
    /// Basic: the user-id (text before the first ':'); Digest: `username`;
    /// NTLM type 3: the user.
    pub user: Option<String>,
    /// Bearer tokens and similar, masked (`sk-ant-api03-…3f9a`).
    pub token_masked: Option<String>,
    pub ntlm: Option<Box<NtlmMessage>>,
    pub kerberos: bool,
    /// Basic credentials that did not decode as base64 / had no ':'.
    pub malformed: bool,
}

/// Splits at commas that are not inside a quoted string.
fn split_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_quote = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            ',' if !in_quote => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The first value of an auth-param: a quoted-string up to its closing quote, or a
/// token up to the first blank.
///
/// A Digest `username` is printed; when the comma after it is lost, the rest of the
/// item runs on (`"bob" response="<hash>"`), and everything up to the last quote
/// would include the response.
fn first_value(v: &str) -> String {
    let v = v.trim();
    let Some(quoted) = v.strip_prefix('"') else {
        return v.split([' ', '\t']).next().unwrap_or_default().to_string();
    };
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `name=value` auth-param (name is a token), as opposed to a token68.
fn as_param(item: &str) -> Option<(&str, &str)> {
    let (name, value) = item.split_once('=')?;
    let name = name.trim();
    let is_token = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*.^_`|~-".contains(c));
    // A token68 ends in '=' padding only: "abc==" splits into ("abc", "=").
    if !is_token || value.trim_start().starts_with('=') || value.trim().is_empty() {
        return None;
    }
    Some((name, value))
}

fn b64(token: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(token.trim())
        .ok()
}

/// NTLM message and Kerberos mention inside an NTLM/Negotiate token.
fn inspect_token(scheme: &str, token: &str) -> (Option<NtlmMessage>, bool, Option<String>) {
    let is_ntlm = scheme.eq_ignore_ascii_case("NTLM");
    let is_nego =
        scheme.eq_ignore_ascii_case("Negotiate") || scheme.eq_ignore_ascii_case("Kerberos");
    if !(is_ntlm || is_nego) || token.is_empty() {
        return (None, false, None);
    }
    let Some(raw) = b64(token) else {
        return (None, false, Some(format!("{scheme} token is not base64")));
    };
    let blob = if is_ntlm {
        Some(raw.as_slice())
    } else {
        ntlm::find_in_spnego(&raw)
    };
    match blob.map(ntlm::parse) {
        Some(Ok(m)) => (Some(m), false, None),
        Some(Err(e)) => (None, false, Some(format!("{scheme} token: {e}"))),
        None => (None, ntlm::spnego_mentions_kerberos(&raw), None),
    }
}

/// Parses one `Proxy-Authenticate` / `WWW-Authenticate` value into its challenges.
pub fn parse_challenges(header: AuthHeader, value: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    for item in split_commas(value) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if let Some((name, v)) = as_param(item) {
            if let Some(c) = out.last_mut() {
                add_param(c, name, v);
            }
            continue;
        }
        let (scheme, rest) = match item.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r.trim()),
            None => (item, ""),
        };
        let mut c = Challenge {
            header,
            scheme: Arc::from(scheme),
            realm: None,
            params: Vec::new(),
            ntlm: None,
            kerberos: false,
        };
        if let Some((name, v)) = as_param(rest) {
            add_param(&mut c, name, v);
        } else if !rest.is_empty() {
            let (m, krb, _note) = inspect_token(scheme, rest);
            c.ntlm = m.map(Box::new);
            c.kerberos = krb;
        }
        if out.len() < 32 {
            out.push(c);
        }
    }
    out
}

fn add_param(c: &mut Challenge, name: &str, value: &str) {
    let value = unquote(value);
    if name.eq_ignore_ascii_case("realm") {
        c.realm = Some(value);
    } else if !["nonce", "opaque", "cnonce", "response"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
        && c.params.len() < 16
    {
        c.params.push((name.to_ascii_lowercase(), value));
    }
}

/// Authentication schemes whose name is safe to print (IANA HTTP Authentication Scheme
/// Registry, plus the common API-key styles). Anything else in the scheme position may
/// be the secret itself: `Authorization: sk-...` with no scheme, or a corrupted
/// `Bearer` whose space is gone.
const KNOWN_SCHEMES: &[&str] = &[
    "Basic",
    "Bearer",
    "Digest",
    "DPoP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "Kerberos",
    "OAuth",
    "PrivateToken",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
    "AWS4-HMAC-SHA256",
    "Token",
    "ApiKey",
    "Concealed",
];

/// Parses one `Proxy-Authorization` / `Authorization` value: scheme and identity only.
pub fn parse_credentials(header: AuthHeader, value: &str) -> Credentials {
    let value = value.trim();
    let (scheme, rest) = match value.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r.trim()),
        None => (value, ""),
    };
    if !KNOWN_SCHEMES.iter().any(|k| k.eq_ignore_ascii_case(scheme)) {
        // Not a scheme we know: the whole value is treated as a token.
        return Credentials {
            header,
            scheme: Arc::from("unknown"),
            user: None,
            token_masked: Some(mask_key(value)),
            ntlm: None,
            kerberos: false,
            malformed: true,
        };
    }
    let mut c = Credentials {
        header,
        scheme: Arc::from(scheme),
        user: None,
        token_masked: None,
        ntlm: None,
        kerberos: false,
        malformed: false,
    };
    if scheme.eq_ignore_ascii_case("Basic") {
        // RFC 7617: user-id is everything before the first ':'; the password is dropped.
        match b64(rest).as_deref().map(String::from_utf8_lossy) {
            Some(decoded) => match decoded.split_once(':') {
                Some((user, _password)) => c.user = Some(user.to_string()),
                None => c.malformed = true,
            },
            None => c.malformed = true,
        }
    } else if scheme.eq_ignore_ascii_case("Digest") {
        for item in split_commas(rest) {
            if let Some((name, v)) = item.split_once('=')
                && name.trim().eq_ignore_ascii_case("username")
            {
                c.user = Some(first_value(v));
            }
        }
    } else if scheme.eq_ignore_ascii_case("NTLM")
        || scheme.eq_ignore_ascii_case("Negotiate")
        || scheme.eq_ignore_ascii_case("Kerberos")
    {
        let (m, krb, note) = inspect_token(scheme, rest);
        c.user = m.as_ref().and_then(|m| m.user.clone());
        c.ntlm = m.map(Box::new);
        c.kerberos = krb;
        c.malformed = note.is_some();
    } else if !rest.is_empty() {
        // Bearer and anything unknown: the token itself is a secret.
        c.token_masked = Some(mask_key(rest));
    }
    c
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::report::json::schema::Credentials as Shown;

    #[test]
    fn comma_list_with_digest_params() {
        let c = parse_challenges(
            AuthHeader::WwwAuthenticate,
            "Digest realm=\"a, b\", qop=\"auth,auth-int\", nonce=\"xyz\", algorithm=MD5, Basic realm=\"r\"",
        );
        assert_eq!(c.len(), 2);
        assert_eq!(&*c[0].scheme, "Digest");
        assert_eq!(c[0].realm.as_deref(), Some("a, b"));
        assert!(
            c[0].params
                .contains(&("qop".into(), "auth,auth-int".into()))
        );
        assert!(!c[0].params.iter().any(|(k, _)| k == "nonce"));
        assert_eq!(c[1].realm.as_deref(), Some("r"));
    }

    #[test]
    fn basic_with_colon_in_password() {
        // "test:1:34" as in zeek basic-auth-with-colon.pcap (two spaces after Basic).
        let c = parse_credentials(AuthHeader::Authorization, "Basic  dGVzdDoxOjM0");
        assert_eq!(c.user.as_deref(), Some("test"));
        assert!(!format!("{c:?}").contains("1:34"));
    }

    #[test]
    fn digest_username_stops_at_its_closing_quote() {
        // Found by the secrets_leak fuzz target: with the comma after the username
        // lost, the username ran on to the last quote of the item, response included.
        for v in [
            r#"Digest realm="corp", username="bob"response="6e1d7a0c41d1ge57""#,
            r#"Digest realm="corp", username="bob" response="6e1d7a0c41d1ge57""#,
            r#"Digest username=bob response="6e1d7a0c41d1ge57""#,
            r#"Digest username="bob", response="6e1d7a0c41d1ge57""#,
        ] {
            let c = parse_credentials(AuthHeader::Authorization, v);
            assert_eq!(c.user.as_deref(), Some("bob"), "{v}");
        }
        let c = parse_credentials(AuthHeader::Authorization, r#"Digest username="a \"b\"\\c""#);
        assert_eq!(c.user.as_deref(), Some(r#"a "b"\c"#));
    }

    #[test]
    fn unknown_scheme_is_masked_not_printed() {
        // Found by tests/secrets.rs: a corrupted byte in place of the space after
        // `Bearer` made the whole token the "scheme", printed as is.
        for v in [
            "Bearer\u{fffd}sk-lab-master-0000",
            "sk-lab-master-0000",
            "Bearer.sk-lab-master-0000 x",
        ] {
            let c = parse_credentials(AuthHeader::Authorization, v);
            assert_eq!(&*c.scheme, "unknown", "{v}");
            assert!(c.malformed);
            let shown = format!("{c:?} {}", serde_json::to_string(&Shown::from(&c)).unwrap());
            assert!(!shown.contains("sk-lab-master-0000"), "{shown}");
        }
        let c = parse_credentials(AuthHeader::Authorization, "bearer sk-lab-master-0000");
        assert_eq!(&*c.scheme, "bearer");
        assert!(!format!("{c:?}").contains("master-0000"));
    }
}
