//! Masking of credentials that decoders come across.
//!
//! Secrets never leave the process: decoders keep a scheme and a user name, never a
//! password, token or response. API keys and bearer tokens that are worth naming are
//! kept only masked (`sk-ant-…3f9a`), and free text we keep (JSON error messages) is
//! passed through [`redact_text`] so a key quoted inside it is masked too.

/// Masks an API key or bearer token: up to the first 7 characters, `…`, the last 4.
///
/// Short values (under 16 characters) are masked entirely, since prefix and suffix
/// together would reveal too much of them.
pub fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.trim().chars().collect();
    if chars.len() < 16 {
        return "…".to_string();
    }
    let prefix: String = chars.iter().take(7).collect();
    let suffix: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{prefix}…{suffix}")
}

/// Known prefixes of API keys and tokens (OpenAI/Anthropic `sk-`, GitHub, Slack,
/// Google, AWS access key ids, Stripe, JWTs).
const KEY_PREFIXES: &[&str] = &[
    "sk-",
    "sk_",
    "pk-",
    "pk_",
    "rk_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "AIza",
    "AKIA",
    "ASIA",
    "eyJ",
    "glpat-",
    "hf_",
];

/// True for a word that looks like a key or token.
pub(crate) fn looks_like_key(word: &str) -> bool {
    if word.len() < 16 {
        return false;
    }
    if KEY_PREFIXES.iter().any(|p| word.starts_with(p)) {
        return true;
    }
    // Long random-looking strings: letters and digits mixed, 32+ characters.
    word.len() >= 32
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().any(|c| c.is_ascii_alphabetic())
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '=')
}

/// Masks every word of `text` that looks like an API key or token.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if looks_like_key(word) {
            out.push_str(&mask_key(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_key_char(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_key_masked() {
        assert_eq!(
            mask_key("sk-ant-api03-AAAABBBBCCCCDDDD3f9a"),
            "sk-ant-…3f9a"
        );
    }

    #[test]
    fn short_key_fully_masked() {
        assert_eq!(mask_key("abc123"), "…");
    }

    #[test]
    fn key_inside_message_masked() {
        let t = redact_text("Incorrect API key provided: sk-proj-ZZZZYYYYXXXX1234abcd. See docs.");
        assert!(!t.contains("ZZZZYYYYXXXX"));
        assert!(t.contains("sk-proj…abcd"));
        assert!(t.starts_with("Incorrect API key provided: "));
    }

    #[test]
    fn plain_text_untouched() {
        let t = "model: claude-3 is not available, retry later";
        assert_eq!(redact_text(t), t);
    }
}
