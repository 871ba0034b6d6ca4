//! SSLv2-format ClientHello (RFC 6101 appendix E.2, RFC 5246 appendix E.2): what old
//! Java and OpenSSL clients send to offer TLS to servers that may speak only SSLv2.
//! A 2-byte record header with the top bit set, message type 1, the highest version
//! offered, then 3-byte cipher specs; a spec whose first byte is 0 is a TLS cipher
//! suite. Such a hello has no extensions, hence no SNI, and no JA3 (the JA3 spec and
//! its reference code read TLS records only; tshark gives none either).

use super::TlsDecoder;
use super::record::be16;
use crate::model::FrameNo;
use crate::protocols::DecodeCtx;

/// CLIENT-HELLO message type of SSLv2.
const SSL2_MT_CLIENT_HELLO: u8 = 1;

/// Length of the SSLv2 record whose header starts `b`, if `b` starts like an
/// SSLv2-format ClientHello offering SSL 3.0 or TLS (2-byte header, top bit set).
pub(super) fn client_hello_record_len(b: &[u8]) -> Option<usize> {
    match b {
        [h, l, SSL2_MT_CLIENT_HELLO, 3, minor, ..] if h & 0x80 != 0 && *minor <= 4 => {
            Some((usize::from(h & 0x7f) << 8) | usize::from(*l))
        }
        _ => None,
    }
}

/// True if `b` starts like an SSLv2-format ClientHello offering TLS.
pub(super) fn looks_like_v2_hello(b: &[u8]) -> bool {
    client_hello_record_len(b).is_some()
}

/// True while `b` is too short to tell but could still become one.
pub(super) fn could_be_v2_hello_prefix(b: &[u8]) -> bool {
    match b {
        [h] | [h, _] => h & 0x80 != 0,
        [h, _, t] => h & 0x80 != 0 && *t == SSL2_MT_CLIENT_HELLO,
        [h, _, t, 3] => h & 0x80 != 0 && *t == SSL2_MT_CLIENT_HELLO,
        _ => false,
    }
}

/// Version offered and the TLS cipher suites among the cipher specs, from the record
/// body (message type first).
fn parse(body: &[u8]) -> Option<(u16, Vec<u16>)> {
    let version = be16(body, 1)?;
    let specs_len = usize::from(be16(body, 3)?);
    let specs = body.get(9..9 + specs_len)?;
    let suites = specs
        .chunks_exact(3)
        .filter(|s| s.first() == Some(&0))
        .filter_map(|s| be16(s, 1))
        .collect();
    Some((version, suites))
}

impl TlsDecoder {
    /// An SSLv2-format ClientHello record body (from the message type on).
    pub(super) fn on_v2_client_hello(&mut self, cx: &mut DecodeCtx, body: &[u8], frame: FrameNo) {
        self.seen_client_hello = true;
        self.facts.client_hello_frame = Some(frame);
        self.facts.client_hello_ts = self.record_ts;
        self.history(crate::model::Dir::ToServer, 'C');
        self.last_msg = Some("client_hello");
        let Some((version, suites)) = parse(body) else {
            self.notes.push(format!(
                "tls: malformed SSLv2-format client_hello at frame {frame}"
            ));
            return;
        };
        let f = &mut self.facts;
        f.client_version = Some(tls_parser::TlsVersion(version));
        f.cipher_suites = cx.intern.u16s(&suites);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{run, server_hello};
    use super::*;
    use crate::model::Dir;

    /// An SSLv2-format ClientHello offering TLS 1.2: two TLS suites, one SSLv2 spec.
    fn v2_hello() -> Vec<u8> {
        let specs = [0x00, 0xc0, 0x2f, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x35];
        let mut body = vec![SSL2_MT_CLIENT_HELLO, 3, 3];
        body.extend((specs.len() as u16).to_be_bytes());
        body.extend([0, 0, 0, 16]);
        body.extend(specs);
        body.extend([9; 16]);
        let mut r = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
        r.extend(body);
        r
    }

    #[test]
    fn sslv2_format_hello_gives_version_and_suites() {
        let hello = v2_hello();
        assert!(looks_like_v2_hello(&hello));
        assert!(crate::protocols::tls::looks_like_tls(&hello));
        let mut sh = vec![22, 3, 3];
        let m = server_hello(false, [1; 32]);
        sh.extend((m.len() as u16).to_be_bytes());
        sh.extend(m);
        let (f, notes) = run(&[
            (Dir::ToServer, hello[..4].to_vec()),
            (Dir::ToServer, hello[4..].to_vec()),
            (Dir::ToClient, sh),
        ]);
        assert_eq!(
            f.client_version
                .map(crate::protocols::tls::version_name)
                .as_deref(),
            Some("TLSv1.2")
        );
        assert_eq!(&*f.cipher_suites, &[0xc02f, 0x0035]);
        assert_eq!(f.ja3, None);
        assert_eq!(
            f.version
                .map(crate::protocols::tls::version_name)
                .as_deref(),
            Some("TLSv1.2")
        );
        assert_eq!(f.client_hello_frame, Some(FrameNo(2)));
        assert!(notes.into_report().0.is_empty());
    }

    #[test]
    fn sslv2_hello_cut_anywhere_never_panics() {
        let hello = v2_hello();
        for n in 0..hello.len() {
            let mut cut = hello[..n].to_vec();
            cut.extend([0xff; 3]);
            let _ = parse(cut.get(2..).unwrap_or_default());
            let _ = run(&[(Dir::ToServer, hello[..n].to_vec())]);
        }
        // Lengths that lie: a cipher-spec length past the record.
        let mut bad = hello.clone();
        bad[5] = 0xff;
        let (f, _) = run(&[(Dir::ToServer, bad)]);
        assert_eq!(f.client_version, None);
        // Pure SSLv2 (version 0x0002) is not TLS.
        let mut v2 = hello;
        v2[3] = 0;
        assert!(!looks_like_v2_hello(&v2));
    }
}
