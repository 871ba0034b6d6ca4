//! Decode notes of one flow, bounded.
//!
//! Malformed input can make a note every few bytes (a certificate message of empty
//! certificates: one per 3 bytes), so each decoder collects its notes here rather than
//! in a plain list: at most [`MAX_NOTES`] distinct texts are kept, in the order first
//! seen; a note identical to a kept one is counted on it, any other note past the cap
//! only counted. The report shows a repeated note once with `(N times)` and the
//! count of the others as the flow's `notes_omitted`.

/// Distinct notes kept per flow (its decoders and tunnels together).
pub const MAX_NOTES: usize = 32;

/// A flow's decode notes: the first [`MAX_NOTES`] distinct texts with their repeat
/// counts, and how many others were not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    kept: Vec<(String, u64)>,
    omitted: u64,
}

impl Notes {
    /// Adds one note.
    pub fn push(&mut self, note: String) {
        self.add(note, 1);
    }

    fn add(&mut self, note: String, times: u64) {
        // Repeats mostly come in a row: look at the newest first.
        if let Some((_, n)) = self.kept.iter_mut().rev().find(|(t, _)| *t == note) {
            *n = n.saturating_add(times);
        } else if self.kept.len() < MAX_NOTES {
            self.kept.push((note, times));
        } else {
            self.omitted = self.omitted.saturating_add(times);
        }
    }

    /// True when no note was made.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.omitted == 0
    }

    /// The kept texts, in the order first seen (each once).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.kept.iter().map(|(t, _)| t.as_str())
    }

    /// Notes past the cap that were counted, not kept.
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// Adds every note of `other` after these, each text passed through `text` (a
    /// tunnel's notes get a `tunnel: ` prefix).
    pub fn merge(&mut self, other: Notes, text: impl Fn(String) -> String) {
        for (t, n) in other.kept {
            self.add(text(t), n);
        }
        self.omitted = self.omitted.saturating_add(other.omitted);
    }

    /// The notes as the report lists them (a repeated one once, with `(N times)`),
    /// and the count of those not kept.
    pub fn into_report(self) -> (Vec<String>, u64) {
        let texts = self
            .kept
            .into_iter()
            .map(|(t, n)| if n > 1 { format!("{t} ({n} times)") } else { t })
            .collect();
        (texts, self.omitted)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_once_and_the_rest_past_the_cap() {
        let mut n = Notes::default();
        assert!(n.is_empty());
        for _ in 0..1000 {
            n.push("same".into());
        }
        for i in 0..MAX_NOTES + 10 {
            n.push(format!("note {i}"));
        }
        // A repeat of a kept note still counts on it once the cap is reached.
        n.push("note 0".into());
        assert_eq!(n.iter().count(), MAX_NOTES);
        assert_eq!(n.omitted(), 11);
        let (texts, omitted) = n.into_report();
        assert_eq!(texts[0], "same (1000 times)");
        assert_eq!(texts[1], "note 0 (2 times)");
        assert_eq!(texts[2], "note 1");
        assert_eq!(omitted, 11);
    }

    #[test]
    fn merge_keeps_order_counts_and_the_cap() {
        let mut a = Notes::default();
        a.push("a".into());
        let mut b = Notes::default();
        for i in 0..MAX_NOTES + 5 {
            b.push(format!("b{i}"));
        }
        b.push("b0".into());
        a.merge(b, |t| format!("tunnel: {t}"));
        assert_eq!(a.iter().next(), Some("a"));
        assert_eq!(a.iter().nth(1), Some("tunnel: b0"));
        assert_eq!(a.iter().count(), MAX_NOTES);
        // 5 past the inner cap, and the one pushed out by "a".
        assert_eq!(a.omitted(), 6);
        assert_eq!(a.clone().into_report().0[1], "tunnel: b0 (2 times)");
    }
}
