//! The pretty-printing of the JSON document: the bytes of serde_json's
//! `PrettyFormatter` (two-space indent), written in fewer pieces.
//!
//! `PrettyFormatter` writes a line break, then the indentation one level at a time,
//! each a separate write; a report has over a hundred thousand lines. Here the line
//! break and the indentation go out in one write from a static slice, with a key's
//! opening quote, and the key's closing quote in one write with the `: ` after it.

use serde_json::ser::Formatter;
use std::io::{self, Write};

/// For each level up to [`MAX_LEVEL`]: `,`, a line break, the indentation of that
/// level and the opening quote of a key (a line break alone is the same without
/// the quote).
static KEY_BREAK: [[u8; 3 + 2 * MAX_LEVEL]; MAX_LEVEL + 1] = {
    let mut t = [[b' '; 3 + 2 * MAX_LEVEL]; MAX_LEVEL + 1];
    let mut level = 0;
    while level <= MAX_LEVEL {
        t[level][0] = b',';
        t[level][1] = b'\n';
        t[level][2 + 2 * level] = b'"';
        level += 1;
    }
    t
};

/// Nesting written from [`KEY_BREAK`]; deeper levels are indented in a loop.
const MAX_LEVEL: usize = 24;

/// A line break (after a `,` unless `first`) and the indentation of `level`, then a
/// key's opening quote if `quote`; `None` past [`MAX_LEVEL`].
#[inline]
fn break_piece(level: usize, first: bool, quote: bool) -> Option<&'static [u8]> {
    KEY_BREAK
        .get(level)?
        .get(usize::from(first)..2 + 2 * level + usize::from(quote))
}

/// Where the key being written is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Not in a key.
    None,
    /// Its opening quote was written with the line break.
    Opened,
    /// Between its quotes.
    Inside,
    /// Its closing quote and the `: ` after it were written.
    Closed,
}

/// A `serde_json` formatter writing what `PrettyFormatter::new()` writes.
pub(super) struct Pretty {
    level: usize,
    has_value: bool,
    key: Key,
}

impl Pretty {
    pub(super) fn new() -> Pretty {
        Pretty {
            level: 0,
            has_value: false,
            key: Key::None,
        }
    }

    /// A line break (after a `,` unless `first`) and the current indentation.
    #[inline]
    fn line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        match break_piece(self.level, first, false) {
            Some(piece) => w.write_all(piece),
            None => self.deep_line(w, first),
        }
    }

    #[cold]
    fn deep_line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        for _ in 0..self.level {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Pretty {
    #[inline]
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    #[inline]
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"]")
    }

    #[inline]
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.line(w, first)
    }

    #[inline]
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    #[inline]
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    #[inline]
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(b"}")
    }

    #[inline]
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        // serde_json writes every key as a string: its opening quote comes next.
        self.key = Key::Opened;
        match break_piece(self.level, first, true) {
            Some(piece) => w.write_all(piece),
            None => {
                self.deep_line(w, first)?;
                w.write_all(b"\"")
            }
        }
    }

    #[inline]
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.key == Key::Closed {
            self.key = Key::None;
            Ok(())
        } else {
            w.write_all(b": ")
        }
    }

    #[inline]
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    #[inline]
    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.key == Key::Opened {
            self.key = Key::Inside;
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }

    #[inline]
    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.key == Key::Inside {
            self.key = Key::Closed;
            w.write_all(b"\": ")
        } else {
            w.write_all(b"\"")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn both<T: Serialize>(v: &T) -> (String, String) {
        let ours = {
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::new());
            v.serialize(&mut ser).unwrap();
            String::from_utf8(out).unwrap()
        };
        (ours, serde_json::to_string_pretty(v).unwrap())
    }

    #[test]
    fn writes_what_serde_json_pretty_writes() {
        let mut deep = json!("bottom");
        for i in 0..(MAX_LEVEL + 3) {
            deep = if i % 2 == 0 {
                json!([deep, 1, {}])
            } else {
                json!({ "k\"ey\n": deep, "e": [] })
            };
        }
        let doc = json!({
            "a": 1,
            "empty_object": {},
            "empty_array": [],
            "nested": {"x": [1, [2, [3, {"y": null}]]], "s": "q\"u\\o\tte"},
            "deep": deep,
            "last": [true, false, 1.5, -2],
        });
        let (ours, theirs) = both(&doc);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn writes_keys_that_are_not_strings_as_serde_json_does() {
        let mut m: BTreeMap<u64, Vec<BTreeMap<bool, &str>>> = BTreeMap::new();
        m.insert(7, vec![BTreeMap::from([(true, "t"), (false, "f")])]);
        m.insert(9, vec![]);
        let (ours, theirs) = both(&m);
        assert_eq!(ours, theirs);
    }
}
