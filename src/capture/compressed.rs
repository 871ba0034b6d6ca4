//! Compressed captures (`.gz`, `.zst`, `.xz`), recognised by their magic bytes, not
//! their name, and decompressed as a stream: memory is the decoder's window, never
//! the whole file. Standard input is handled the same way.
//!
//! A stream that is damaged or cut short ends the capture there: [`Damage`] keeps the
//! decoder's reason so the report can say the capture was cut short (exit code 3)
//! instead of failing the whole file.

use std::io::{self, Read};
use std::sync::{Arc, Mutex};

/// The compressions recognised, by magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    /// The compression `head` (the first bytes of a file) starts with, if any.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Compression::Xz)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Xz => "xz",
        }
    }
}

/// Bytes of the longest magic looked at.
const SNIFF: usize = 6;
/// Memory the xz decoder may use (xz -9 needs 65 MiB); a stream asking for more is
/// refused rather than allowed to grow memory without bound.
const XZ_MEMLIMIT: u64 = 256 << 20;

/// Why a compressed stream stopped early, shared with the reader that hit it.
#[derive(Clone, Debug, Default)]
pub struct Damage(Arc<Mutex<Option<String>>>);

impl Damage {
    /// The decoder's complaint, if the stream was damaged or cut short.
    pub fn reason(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }

    fn set(&self, why: String) {
        if let Ok(mut g) = self.0.lock()
            && g.is_none()
        {
            *g = Some(why);
        }
    }
}

/// A source opened for reading: decompressed when its first bytes say so.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub compression: Option<Compression>,
    pub damage: Damage,
}

/// Looks at the first bytes of `src` and, if they are a gzip, zstd or xz magic,
/// returns a reader of the decompressed stream; otherwise `src` itself (with the bytes
/// looked at put back).
pub fn open<R: Read + Send + 'static>(mut src: R) -> io::Result<Opened> {
    let mut head = Vec::with_capacity(SNIFF);
    while head.len() < SNIFF {
        let mut b = [0u8; SNIFF];
        let want = SNIFF - head.len();
        match src.read(&mut b[..want]) {
            Ok(0) => break,
            Ok(k) => head.extend_from_slice(b.get(..k).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let compression = Compression::sniff(&head);
    let raw = io::Cursor::new(head).chain(src);
    let damage = Damage::default();
    let reader: Box<dyn Read + Send> = match compression {
        None => Box::new(raw),
        Some(c) => {
            let inner: Box<dyn Read + Send> = match c {
                // Multi-member: `cat a.gz b.gz` and bgzip files are one stream.
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
                Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
                Compression::Xz => {
                    let stream = liblzma::stream::Stream::new_stream_decoder(
                        XZ_MEMLIMIT,
                        liblzma::stream::CONCATENATED,
                    )
                    .map_err(io::Error::other)?;
                    Box::new(liblzma::read::XzDecoder::new_stream(raw, stream))
                }
            };
            Box::new(Guarded {
                inner,
                compression: c,
                damage: damage.clone(),
            })
        }
    };
    Ok(Opened {
        reader,
        compression,
        damage,
    })
}

/// Turns a decoder error into the end of the stream, keeping the reason in `damage`.
struct Guarded {
    inner: Box<dyn Read + Send>,
    compression: Compression,
    damage: Damage,
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let why = match e.kind() {
                        io::ErrorKind::UnexpectedEof => "cut short".to_string(),
                        _ => e.to_string(),
                    };
                    self.damage
                        .set(format!("{} stream {why}", self.compression.as_str()));
                    return Ok(0);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all(o: Opened) -> Vec<u8> {
        let mut v = Vec::new();
        let mut r = o.reader;
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn plain_bytes_pass_through_whole_even_when_short() {
        for data in [&b""[..], b"ab", b"\xd4\xc3\xb2\xa1 and more bytes"] {
            let o = open(io::Cursor::new(data.to_vec())).unwrap();
            assert_eq!(o.compression, None);
            assert_eq!(all(o), data);
        }
    }

    #[test]
    fn gzip_is_recognised_and_a_cut_stream_is_damage_not_an_error() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        let o = open(io::Cursor::new(gz.clone())).unwrap();
        assert_eq!(o.compression, Some(Compression::Gzip));
        let damage = o.damage.clone();
        assert_eq!(all(o), data);
        assert_eq!(damage.reason(), None);

        let o = open(io::Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
        let damage = o.damage.clone();
        let got = all(o);
        assert!(got.len() < data.len() && data.starts_with(&got));
        assert_eq!(damage.reason().as_deref(), Some("gzip stream cut short"));
    }
}
