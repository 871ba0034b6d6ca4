//! The buffer serde_json writes the report through.
//!
//! serde_json writes token by token, most tokens short (quotes, `: `, a line break
//! and its indentation, keys, numbers). Through `BufWriter` every one of them is a
//! call to `memcpy`; here pieces up to 16 bytes are stored with a move or two, and
//! only longer pieces are copied by `memcpy`.

use std::io::{self, Write};

/// Bytes gathered before they go to the output.
const CAPACITY: usize = 64 << 10;

/// A write buffer in front of `out`; [`Sink::finish`] writes what is left.
pub(super) struct Sink<'a> {
    buf: Box<[u8]>,
    /// Bytes of `buf` in use.
    len: usize,
    out: &'a mut dyn Write,
}

impl<'a> Sink<'a> {
    pub(super) fn new(out: &'a mut dyn Write) -> Sink<'a> {
        Sink {
            buf: vec![0; CAPACITY].into_boxed_slice(),
            len: 0,
            out,
        }
    }

    fn drain(&mut self) -> io::Result<()> {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        if !pending.is_empty() {
            self.out.write_all(pending)?;
            self.len = 0;
        }
        Ok(())
    }

    /// A piece that does not fit in what is left of the buffer.
    #[cold]
    #[inline(never)]
    fn write_long(&mut self, b: &[u8]) -> io::Result<()> {
        self.drain()?;
        match self.buf.get_mut(..b.len()) {
            Some(to) => {
                to.copy_from_slice(b);
                self.len = b.len();
                Ok(())
            }
            None => self.out.write_all(b),
        }
    }

    /// Writes what is buffered and flushes the output.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Copies `b` (at most 16 bytes) to `to`, as long, with two overlapping moves of
/// 8 or 4 bytes: no call to `memcpy` for an indentation, a key or a number.
#[inline(always)]
fn copy_short(b: &[u8], to: &mut [u8]) {
    fn two<const N: usize>(b: &[u8], to: &mut [u8]) -> bool {
        let n = b.len();
        let (Some(head), Some(tail)) = (b.first_chunk::<N>(), b.last_chunk::<N>()) else {
            return false;
        };
        if let Some(d) = to.first_chunk_mut::<N>() {
            *d = *head;
        }
        if let Some(d) = to.get_mut(n - N..).and_then(|t| t.first_chunk_mut::<N>()) {
            *d = *tail;
        }
        true
    }
    if !two::<8>(b, to) && !two::<4>(b, to) {
        for (d, s) in to.iter_mut().zip(b) {
            *d = *s;
        }
    }
}

impl Write for Sink<'_> {
    #[inline]
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.write_all(b)?;
        Ok(b.len())
    }

    #[inline(always)]
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        let at = self.len;
        let Some(rest) = self.buf.get_mut(at..) else {
            return self.write_long(b);
        };
        match (b, rest) {
            ([x], [to, ..]) => *to = *x,
            ([x, y], [t0, t1, ..]) => {
                *t0 = *x;
                *t1 = *y;
            }
            (b, rest) => match rest.get_mut(..b.len()) {
                Some(to) if b.len() <= 16 => copy_short(b, to),
                Some(to) => to.copy_from_slice(b),
                None => return self.write_long(b),
            },
        }
        self.len = at + b.len();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_byte_in_order_across_buffer_boundaries() {
        let mut out = Vec::new();
        let mut expected = Vec::new();
        let mut sink = Sink::new(&mut out);
        for i in 0..40_000usize {
            let piece: Vec<u8> = (0..(i % 19)).map(|k| (i + k) as u8).collect();
            sink.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
        }
        let big = vec![7u8; CAPACITY + 3];
        sink.write_all(&big).unwrap();
        expected.extend_from_slice(&big);
        sink.write_all(b"end").unwrap();
        expected.extend_from_slice(b"end");
        sink.finish().unwrap();
        assert_eq!(out, expected);
    }
}
