//! Header texts as kept, by their raw bytes: the same hosts, user agents, servers,
//! reason phrases and CONNECT targets come back on every exchange of a capture, and
//! masking them ([`target_text`], [`header_text`]) is much of the cost of reading a
//! head. One [`MaskedTexts`] per analysis, in its
//! [`DecodeCtx`](crate::protocols::DecodeCtx); bounded: at most [`MAX_CACHED`] texts
//! of at most [`MAX_RAW`] bytes each are remembered per kind, the others are masked
//! each time.

use super::head::{header_text, target_text};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Texts remembered per kind.
const MAX_CACHED: usize = 1024;
/// Longest raw value remembered.
const MAX_RAW: usize = 256;

/// Masked texts computed so far, by raw value (which may hold secrets: its Debug
/// shows counts only).
#[derive(Clone, Default)]
pub struct MaskedTexts {
    targets: FxHashMap<Box<[u8]>, Arc<str>>,
    texts: FxHashMap<Box<[u8]>, Arc<str>>,
}

impl std::fmt::Debug for MaskedTexts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskedTexts")
            .field("targets", &self.targets.len())
            .field("texts", &self.texts.len())
            .finish()
    }
}

impl MaskedTexts {
    /// A request target or `Host` value as kept: [`target_text`].
    pub(crate) fn target(&mut self, raw: &[u8]) -> Arc<str> {
        remembered(&mut self.targets, raw, target_text)
    }

    /// A header text (`User-Agent`, `Server`, ...) or reason phrase as kept:
    /// [`header_text`].
    pub(super) fn text(&mut self, raw: &[u8]) -> Arc<str> {
        remembered(&mut self.texts, raw, header_text)
    }
}

/// `make(raw)`, from `seen` when it was made before.
fn remembered(
    seen: &mut FxHashMap<Box<[u8]>, Arc<str>>,
    raw: &[u8],
    make: fn(&[u8]) -> String,
) -> Arc<str> {
    let fits = raw.len() <= MAX_RAW;
    if fits && let Some(t) = seen.get(raw) {
        return Arc::clone(t);
    }
    let t: Arc<str> = Arc::from(make(raw));
    if fits && seen.len() < MAX_CACHED {
        seen.insert(raw.into(), Arc::clone(&t));
    }
    t
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn remembered_texts_are_those_made() {
        let mut m = MaskedTexts::default();
        let long = [b'a'; MAX_RAW + 1];
        let targets: [&[u8]; 4] = [
            b"api.example.com:443",
            b"http://h/x?api_key=S3CRETvalue123456",
            b"",
            &long,
        ];
        let texts: [&[u8]; 3] = [
            b"OK",
            b"bot sk-ant-api03-S3CRETuaKEY0123456789abcd",
            b" x\r\ny",
        ];
        for _ in 0..2 {
            for t in targets {
                assert_eq!(*m.target(t), *target_text(t));
            }
            for t in texts {
                assert_eq!(*m.text(t), *header_text(t));
                // The same bytes as a target are masked as one.
                assert_eq!(*m.target(t), *target_text(t));
            }
        }
        assert_eq!((m.targets.len(), m.texts.len()), (6, 3));
    }
}
