//! Fingerprints of the hellos: JA4 and JA3 of the ClientHello, JA3S of the ServerHello.

use crate::protocols::intern::Interner;
use crate::protocols::x509;
use md5::Md5;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Hellos a [`FingerprintCache`] remembers, per kind.
const MAX_CACHED: usize = 1024;
/// Longest hello (in numbers: versions, ciphers, extensions, ...) whose fingerprints
/// are remembered: real ones have about a hundred.
const MAX_KEY: usize = 512;

/// Fingerprints computed so far in one analysis (part of its
/// [`DecodeCtx`](crate::protocols::DecodeCtx)), by what they are computed from: the
/// clients of a capture send the same few hellos on every connection, and hashing
/// them is most of the cost of reading a hello. Bounded: past [`MAX_CACHED`] hellos,
/// or for a hello longer than [`MAX_KEY`], fingerprints are computed and not kept.
#[derive(Clone, Debug, Default)]
pub struct FingerprintCache {
    client: FxHashMap<Box<[u16]>, ClientPrints>,
    server: FxHashMap<Box<[u16]>, Arc<str>>,
    key: Vec<u16>,
}

/// JA4, raw JA4 and JA3 of one ClientHello, shared copies.
#[derive(Clone, Debug)]
pub(super) struct ClientPrints {
    pub(super) ja4: Arc<str>,
    pub(super) ja4_r: Arc<str>,
    pub(super) ja3: Arc<str>,
}

impl FingerprintCache {
    /// JA4 (hashed and raw) and JA3 of `fp`, as [`HelloFingerprint::ja4`] and
    /// [`HelloFingerprint::ja3`] compute them, shared through `intern`.
    pub(super) fn client(
        &mut self,
        fp: &HelloFingerprint<'_>,
        intern: &mut Interner,
    ) -> ClientPrints {
        // Every part, named: a part added to the fingerprints must join the key.
        let HelloFingerprint {
            legacy_version,
            ciphers,
            exts,
            supported_versions,
            has_sni,
            first_alpn,
            sig_algs,
            groups,
            point_formats,
        } = *fp;
        let key = &mut self.key;
        key.clear();
        key.extend([legacy_version, u16::from(has_sni)]);
        for list in [ciphers, exts, supported_versions, sig_algs, groups] {
            push_list(key, list.len(), list.iter().copied());
        }
        push_list(
            key,
            point_formats.len(),
            point_formats.iter().map(|&b| u16::from(b)),
        );
        match first_alpn {
            // One more than any length: absent differs from empty.
            None => key.push(u16::MAX),
            Some(p) => push_list(key, p.len(), p.iter().map(|&b| u16::from(b))),
        }
        if key.len() <= MAX_KEY
            && let Some(p) = self.client.get(key.as_slice())
        {
            return p.clone();
        }
        let (ja4, ja4_r) = fp.ja4();
        let prints = ClientPrints {
            ja4: intern.text(&ja4),
            ja4_r: intern.text(&ja4_r),
            ja3: intern.text(&fp.ja3()),
        };
        if key.len() <= MAX_KEY && self.client.len() < MAX_CACHED {
            self.client.insert(key.as_slice().into(), prints.clone());
        }
        prints
    }

    /// JA3S of a ServerHello, as [`ja3s`] computes it, shared through `intern`.
    pub(super) fn server(
        &mut self,
        version: u16,
        cipher: u16,
        exts: &[u16],
        intern: &mut Interner,
    ) -> Arc<str> {
        let key = &mut self.key;
        key.clear();
        key.extend([version, cipher]);
        key.extend_from_slice(exts);
        let fits = key.len() <= MAX_KEY;
        if fits && let Some(p) = self.server.get(key.as_slice()) {
            return p.clone();
        }
        let print = intern.text(&ja3s(version, cipher, exts));
        if fits && self.server.len() < MAX_CACHED {
            self.server.insert(key.as_slice().into(), print.clone());
        }
        print
    }
}

/// Appends a list to a cache key: its length, then its items (the length keeps two
/// lists apart; a key longer than [`MAX_KEY`] is not kept, so a length past `u16`
/// is never compared).
fn push_list(key: &mut Vec<u16>, len: usize, items: impl Iterator<Item = u16>) {
    key.push(u16::try_from(len).unwrap_or(u16::MAX));
    if key.len() + len <= MAX_KEY {
        key.extend(items);
    } else {
        // Too long to be kept: make sure the key says so.
        key.resize(MAX_KEY + 1, 0);
    }
}

/// GREASE values (RFC 8701): 0x?a?a with equal bytes.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// `x` as four lower-case hex digits (ASCII).
pub(super) fn hex4(x: u16) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [12u16, 8, 4, 0].map(|shift| DIGITS[usize::from((x >> shift) & 0x0f)])
}

/// `0a0a,1301,...`: each number as four lower-case hex digits, comma-separated (JA4's
/// lists), written into one String.
fn hex4_list(v: &[u16]) -> String {
    let mut out = String::with_capacity(v.len() * 5);
    for (i, &x) in v.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.extend(hex4(x).map(char::from));
    }
    out
}

fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_string();
    }
    let digest = Sha256::digest(s.as_bytes());
    x509::hex(digest.get(..6).unwrap_or_default())
}

fn md5_hex(s: &str) -> String {
    x509::hex(&Md5::digest(s.as_bytes()))
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4 ALPN part: first and last character of the first ALPN value, or, when either
/// is not alphanumeric ASCII, the first and last hex digit of its bytes.
fn ja4_alpn(first: Option<&[u8]>) -> String {
    let Some(p) = first.filter(|p| !p.is_empty()) else {
        return "00".to_string();
    };
    let (Some(&f), Some(&l)) = (p.first(), p.last()) else {
        return "00".to_string();
    };
    if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
        format!("{}{}", f as char, l as char)
    } else {
        let fh = format!("{f:02x}");
        let lh = format!("{l:02x}");
        format!(
            "{}{}",
            fh.chars().next().unwrap_or('0'),
            lh.chars().last().unwrap_or('0')
        )
    }
}

/// The parts of a ClientHello JA4 and JA3 are computed from.
pub(super) struct HelloFingerprint<'a> {
    pub(super) legacy_version: u16,
    pub(super) ciphers: &'a [u16],
    pub(super) exts: &'a [u16],
    pub(super) supported_versions: &'a [u16],
    pub(super) has_sni: bool,
    pub(super) first_alpn: Option<&'a [u8]>,
    pub(super) sig_algs: &'a [u16],
    pub(super) groups: &'a [u16],
    pub(super) point_formats: &'a [u8],
}

impl HelloFingerprint<'_> {
    /// JA4 (TLS over TCP) as (hashed, raw), per FoxIO's BSD-licensed JA4 spec.
    pub(super) fn ja4(&self) -> (String, String) {
        let version = self
            .supported_versions
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .max()
            .unwrap_or(self.legacy_version);
        let ciphers: Vec<u16> = self
            .ciphers
            .iter()
            .copied()
            .filter(|c| !is_grease(*c))
            .collect();
        let exts: Vec<u16> = self
            .exts
            .iter()
            .copied()
            .filter(|e| !is_grease(*e))
            .collect();
        let head = format!(
            "t{}{}{:02}{:02}{}",
            ja4_version(version),
            if self.has_sni { 'd' } else { 'i' },
            ciphers.len().min(99),
            exts.len().min(99),
            ja4_alpn(self.first_alpn)
        );
        // Four lower-case hex digits sort as the numbers do: sort the numbers.
        let mut sorted_ciphers = ciphers;
        sorted_ciphers.sort_unstable();
        let mut sorted_exts: Vec<u16> = exts
            .iter()
            .copied()
            .filter(|&e| e != 0x0000 && e != 0x0010)
            .collect();
        sorted_exts.sort_unstable();
        let ciphers_s = hex4_list(&sorted_ciphers);
        let mut exts_s = hex4_list(&sorted_exts);
        if !self.sig_algs.is_empty() {
            exts_s.push('_');
            exts_s.push_str(&hex4_list(self.sig_algs));
        }
        (
            format!("{head}_{}_{}", hash12(&ciphers_s), hash12(&exts_s)),
            format!("{head}_{ciphers_s}_{exts_s}"),
        )
    }

    /// JA3: md5 of `version,ciphers,extensions,groups,point_formats`, GREASE removed.
    pub(super) fn ja3(&self) -> String {
        // Written into one String (no String per number): a busy capture has thousands
        // of ClientHellos.
        let mut text = self.legacy_version.to_string();
        for list in [self.ciphers, self.exts, self.groups] {
            text.push(',');
            push_joined(
                &mut text,
                list.iter().filter(|x| !is_grease(**x)).map(|&x| x.into()),
            );
        }
        text.push(',');
        push_joined(&mut text, self.point_formats.iter().map(|&x| x.into()));
        md5_hex(&text)
    }
}

/// JA3S: md5 of the ServerHello's `version,cipher,extensions`, extensions as sent.
pub(super) fn ja3s(version: u16, cipher: u16, exts: &[u16]) -> String {
    let mut text = format!("{version},{cipher},");
    push_joined(&mut text, exts.iter().map(|&x| x.into()));
    md5_hex(&text)
}

/// Appends the numbers in decimal, `-` between them (written in place: no String per
/// number).
fn push_joined(out: &mut String, numbers: impl Iterator<Item = u32>) {
    use std::fmt::Write as _;
    for (i, n) in numbers.enumerate() {
        let sep = if i > 0 { "-" } else { "" };
        let _ = write!(out, "{sep}{n}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ja3_matches_the_published_example() {
        // The example in the JA3 README (salesforce/ja3), with a GREASE value added
        // to every list: GREASE is left out.
        let f = HelloFingerprint {
            legacy_version: 769,
            ciphers: &[
                0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4,
            ],
            exts: &[0, 0x1a1a, 10, 11],
            supported_versions: &[],
            has_sni: false,
            first_alpn: None,
            sig_algs: &[],
            groups: &[23, 0x2a2a, 24, 25],
            point_formats: &[0],
        };
        assert_eq!(f.ja3(), "ada70206e40642a3e4461f35503241d5");
        let mut s = String::new();
        push_joined(&mut s, [0, 7, 10, 65535, u32::MAX].into_iter());
        assert_eq!(s, "0-7-10-65535-4294967295");
        assert_eq!(hex4_list(&[0, 0x1301, 0xffff]), "0000,1301,ffff");
    }

    #[test]
    fn ja3s_text_is_version_cipher_and_extensions() {
        // TLS 1.0, TLS_RSA_WITH_AES_128_CBC_SHA, six extensions; and none at all.
        assert_eq!(
            ja3s(769, 47, &[65281, 0, 11, 35, 5, 16]),
            md5_hex("769,47,65281-0-11-35-5-16")
        );
        assert_eq!(ja3s(771, 4865, &[]), md5_hex("771,4865,"));
    }

    #[test]
    fn ja4_reference_example() {
        // The example of FoxIO's JA4 documentation / rust/ja4 unit test.
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let exts = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let sigs = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let fp = HelloFingerprint {
            legacy_version: 0x0303,
            ciphers: &ciphers,
            exts: &exts,
            supported_versions: &[0x0304, 0x0303],
            has_sni: true,
            first_alpn: Some(b"h2"),
            sig_algs: &sigs,
            groups: &[],
            point_formats: &[],
        };
        assert_eq!(fp.ja4().0, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    }

    #[test]
    fn ja4_alpn_non_alphanumeric() {
        assert_eq!(ja4_alpn(Some(&[0xab, 0xcd])), "ad");
        assert_eq!(ja4_alpn(Some(b"http/1.1")), "h1");
        assert_eq!(ja4_alpn(None), "00");
    }

    #[test]
    fn cached_fingerprints_are_those_computed() {
        let hello = |ciphers: &'static [u16], exts: &'static [u16], alpn| HelloFingerprint {
            legacy_version: 0x0303,
            ciphers,
            exts,
            supported_versions: &[0x0304],
            has_sni: true,
            first_alpn: alpn,
            sig_algs: &[0x0403],
            groups: &[0x001d],
            point_formats: &[0],
        };
        let long: &'static [u16] = Box::leak(vec![0x002f; 600].into_boxed_slice());
        // The same numbers split between two lists otherwise, and ALPN absent or empty
        // or different, are other hellos.
        let hellos = [
            hello(&[1, 2], &[3], Some(b"h2")),
            hello(&[1], &[2, 3], Some(b"h2")),
            hello(&[1], &[2, 3], None),
            hello(&[1], &[2, 3], Some(b"")),
            hello(&[1], &[2, 3], Some(b"http/1.1")),
            hello(long, &[3], Some(b"h2")),
        ];
        let (mut cache, mut intern) = (FingerprintCache::default(), Interner::default());
        for _ in 0..2 {
            for h in &hellos {
                let p = cache.client(h, &mut intern);
                let (ja4, ja4_r) = h.ja4();
                assert_eq!((&*p.ja4, &*p.ja4_r, &*p.ja3), (&*ja4, &*ja4_r, &*h.ja3()));
            }
            for (v, c, exts) in [
                (771, 47, &[0, 11][..]),
                (771, 47, &[0][..]),
                (771, 4865, &[]),
            ] {
                let p = cache.server(v, c, exts, &mut intern);
                assert_eq!(*p, *ja3s(v, c, exts));
            }
        }
        // The hello too long to be kept was not.
        assert_eq!((cache.client.len(), cache.server.len()), (5, 3));
    }

    #[test]
    fn grease_values() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa));
        assert!(!is_grease(0x0a1a) && !is_grease(0xeeee));
    }
}
