//! Masking of keys in names (DNS names, TLS server names, hosts of request targets)
//! and in the free-text header values that reports show (`User-Agent`, `Via`,
//! `Server`, the reason phrase).

use super::{Words, key_type, mask_key, mask_named_values, mask_words};
use std::borrow::Cow;

/// A label that holds a key: a key type prefix (`sk-ant-api03-`, `AKIA`, `ghp_`…)
/// followed by 16 or more characters mixing letters and digits. Host names that
/// merely start like a type (`sk-proxy.corp`, `pk-cache-01`) are not keys.
fn is_key_label(label: &str) -> bool {
    // The shortest type prefix has 3 characters: shorter labels (nearly all) cannot
    // hold a key, and are told apart without trying every prefix.
    if label.len() < 3 + 16 {
        return false;
    }
    let Some(prefix) = key_type(label) else {
        return false;
    };
    let rest = label.get(prefix.len()..).unwrap_or_default();
    rest.len() >= 16
        && rest.bytes().any(|c| c.is_ascii_digit())
        && rest.bytes().any(|c| c.is_ascii_alphabetic())
}

/// Masks every label of a DNS or host name that holds a key ([`mask_key`]):
/// `sk-ant-api03-…abcd.exfil.example`. Other names are returned as they are.
pub fn mask_name(name: &str) -> Cow<'_, str> {
    if !name.split('.').any(is_key_label) {
        return Cow::Borrowed(name);
    }
    let labels: Vec<Cow<'_, str>> = name
        .split('.')
        .map(|l| {
            if is_key_label(l) {
                Cow::Owned(mask_key(l))
            } else {
                Cow::Borrowed(l)
            }
        })
        .collect();
    Cow::Owned(labels.join("."))
}

/// Masks a header value shown as text (`User-Agent`, `Via`, `Server`, a reason
/// phrase): the value after a secret name (`token=…`) and words with a key type
/// prefix. Random-looking words (request ids, hashes) stay.
pub fn mask_header_text(text: &str) -> String {
    mask_words(&mask_named_values(text), Words::Path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn key_labels_masked_names_kept() {
        assert_eq!(
            mask_name("sk-ant-api03-S3CRETdnsKEY0123456789abcd.exfil.example"),
            "sk-ant-api03-…abcd.exfil.example"
        );
        assert_eq!(
            mask_name("x.AKIAIOSFODNN7EXAMPLE.s3.example"),
            "x.AKIA….s3.example"
        );
        for n in [
            "api.anthropic.com",
            "sk-proxy.corp.example",
            "pk-cache-01.example.net",
            "sk-proxy-server-frontend.example",
            "ghp_.example",
            "",
            ".",
        ] {
            assert!(matches!(mask_name(n), Cow::Borrowed(_)), "{n}");
        }
    }

    #[test]
    fn header_texts_masked() {
        assert_eq!(
            mask_header_text("myapp/1.0 (token=S3CRETuaT)"),
            "myapp/1.0 (token=…)"
        );
        assert_eq!(
            mask_header_text("bot sk-ant-api03-S3CRETuaKEY0123456789abcd"),
            "bot sk-ant-api03-…abcd"
        );
        for t in [
            "curl/8.5.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "1.1 a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6.cloudfront.net (CloudFront)",
            "squid/5.7",
            "ERR_CACHE_ACCESS_DENIED 0",
        ] {
            assert_eq!(mask_header_text(t), t);
        }
    }
}
