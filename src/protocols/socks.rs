//! SOCKS4/4a/5 proxy handshakes (RFC 1928, RFC 1929), up to the tunnel.
//!
//! Fed by `protocols::StreamDecoder` when a connection starts like a SOCKS greeting.
//! States the requested target, the auth method, the user name (RFC 1929; the
//! password is never kept) and the proxy's reply; once the proxy grants the
//! request the remaining bytes are handed back to the dispatcher (normally TLS).

use super::http::TunnelChunk;
use super::stream_buf::StreamBuf;
use crate::model::{Dir, FrameNo, Timestamp};

const MAX_SOCKS_BYTES: usize = 1024;

/// Facts of a SOCKS handshake.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SocksFacts {
    pub version: u8,
    /// `host:port` the client asked for.
    pub target: Option<String>,
    /// SOCKS5 method chosen by the proxy (0 none, 2 user/password, 0xff refused).
    pub auth_method: Option<u8>,
    pub user: Option<String>,
    /// Proxy's reply code (SOCKS5 REP, SOCKS4 CD: 90 granted).
    pub reply: Option<u8>,
    pub granted: bool,
    pub request_frame: Option<FrameNo>,
    pub reply_frame: Option<FrameNo>,
}

/// True if `b` starts like a SOCKS4 CONNECT/BIND or a SOCKS5 greeting.
pub fn looks_like_socks(b: &[u8]) -> bool {
    match b {
        [5, n, rest @ ..] => *n >= 1 && *n <= 16 && rest.len() == usize::from(*n),
        // VN CD DSTPORT(2) DSTIP(4), then a NUL-terminated user id.
        [4, 1 | 2, _, _, _, _, _, _, rest @ ..] => !rest.is_empty(),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Greeting,
    Method,
    AuthRequest,
    AuthReply,
    Request,
    Reply,
    Done,
}

#[derive(Clone, Debug)]
pub struct SocksDecoder {
    bufs: [StreamBuf; 2],
    step: Step,
    facts: SocksFacts,
    notes: super::Notes,
    tunnel: bool,
    tunnel_out: Vec<TunnelChunk>,
}

impl Default for SocksDecoder {
    fn default() -> Self {
        SocksDecoder {
            bufs: [
                StreamBuf::new(MAX_SOCKS_BYTES),
                StreamBuf::new(MAX_SOCKS_BYTES),
            ],
            step: Step::Greeting,
            facts: SocksFacts::default(),
            notes: super::Notes::default(),
            tunnel: false,
            tunnel_out: Vec::new(),
        }
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// SOCKS5 address (ATYP at `at`): (text, bytes used including ATYP and port).
fn address(b: &[u8], at: usize) -> Option<(String, usize)> {
    let (host, len) = match *b.get(at)? {
        1 => {
            let a: [u8; 4] = b.get(at + 1..at + 5)?.try_into().ok()?;
            (std::net::Ipv4Addr::from(a).to_string(), 4)
        }
        3 => {
            let n = usize::from(*b.get(at + 1)?);
            (
                String::from_utf8_lossy(b.get(at + 2..at + 2 + n)?).into_owned(),
                n + 1,
            )
        }
        4 => {
            let a: [u8; 16] = b.get(at + 1..at + 17)?.try_into().ok()?;
            (format!("[{}]", std::net::Ipv6Addr::from(a)), 16)
        }
        _ => return None,
    };
    let port = be16(b, at + 1 + len)?;
    Some((format!("{host}:{port}"), 1 + len + 2))
}

impl SocksDecoder {
    /// Bytes held for `dir` while a handshake message is incomplete.
    pub fn held(&self, dir: Dir) -> usize {
        self.bufs.get(dir.index()).map_or(0, StreamBuf::held)
    }

    pub fn tunnel_open(&self) -> bool {
        self.tunnel
    }

    pub fn take_tunnel_bytes(&mut self) -> Vec<TunnelChunk> {
        std::mem::take(&mut self.tunnel_out)
    }

    pub fn wants_data(&self) -> bool {
        self.step != Step::Done
    }

    pub fn finish(self) -> (SocksFacts, super::Notes) {
        (self.facts, self.notes)
    }

    pub fn on_data(&mut self, dir: Dir, data: &[u8], frame: FrameNo, ts: Timestamp) {
        if self.tunnel {
            self.tunnel_out.push((dir, data.to_vec(), frame, ts));
            return;
        }
        if self.step == Step::Done {
            return;
        }
        let Some(buf) = self.bufs.get_mut(dir.index()) else {
            return;
        };
        if buf.push(data, frame, ts) < data.len() {
            self.notes
                .push("socks: handshake longer than expected; stopped".into());
            self.step = Step::Done;
            return;
        }
        while self.advance() {}
    }

    /// One handshake step if its bytes are complete; false when waiting or done.
    fn advance(&mut self) -> bool {
        let (d, step) = match self.step {
            Step::Greeting | Step::AuthRequest | Step::Request => (0, self.step),
            Step::Method | Step::AuthReply | Step::Reply => (1, self.step),
            Step::Done => return false,
        };
        let Some(buf) = self.bufs.get(d) else {
            return false;
        };
        let b = buf.bytes();
        let frame = buf.at(0).0;
        let used = match step {
            Step::Greeting => match b.first() {
                Some(5) => {
                    self.facts.version = 5;
                    b.get(1)
                        .map(|&n| 2 + usize::from(n))
                        .filter(|&n| n <= b.len())
                }
                Some(4) => {
                    // VN CD DSTPORT DSTIP USERID NUL [domain NUL for 4a]
                    self.facts.version = 4;
                    let nul = b.iter().skip(8).position(|&x| x == 0).map(|p| p + 8);
                    nul.and_then(|n| {
                        let port = be16(b, 2)?;
                        let ip = b.get(4..8)?;
                        let user = String::from_utf8_lossy(b.get(8..n)?).into_owned();
                        if !user.is_empty() {
                            self.facts.user = Some(user);
                        }
                        let (host, end) =
                            if ip.get(..3) == Some(&[0, 0, 0]) && ip.get(3) != Some(&0) {
                                let nul2 = b.iter().skip(n + 1).position(|&x| x == 0)? + n + 1;
                                (
                                    String::from_utf8_lossy(b.get(n + 1..nul2)?).into_owned(),
                                    nul2 + 1,
                                )
                            } else {
                                (
                                    format!(
                                        "{}.{}.{}.{}",
                                        ip.first()?,
                                        ip.get(1)?,
                                        ip.get(2)?,
                                        ip.get(3)?
                                    ),
                                    n + 1,
                                )
                            };
                        self.facts.target = Some(format!("{host}:{port}"));
                        self.facts.request_frame = Some(frame);
                        Some(end)
                    })
                }
                _ => None,
            },
            Step::Method => (b.len() >= 2).then(|| {
                self.facts.auth_method = b.get(1).copied();
                2
            }),
            Step::AuthRequest => {
                // RFC 1929: VER ULEN UNAME PLEN PASSWD; the password is skipped unread.
                let ulen = b.get(1).map(|&n| usize::from(n));
                ulen.and_then(|u| {
                    let plen = usize::from(*b.get(2 + u)?);
                    let end = 3 + u + plen;
                    (end <= b.len()).then(|| {
                        self.facts.user = b
                            .get(2..2 + u)
                            .map(|x| String::from_utf8_lossy(x).into_owned());
                        end
                    })
                })
            }
            Step::AuthReply => (b.len() >= 2).then_some(2),
            Step::Request => address(b, 3).map(|(t, n)| {
                self.facts.target = Some(t);
                self.facts.request_frame = Some(frame);
                3 + n
            }),
            Step::Reply => {
                if self.facts.version == 4 {
                    (b.len() >= 8).then(|| {
                        self.facts.reply = b.get(1).copied();
                        8
                    })
                } else {
                    address(b, 3).map(|(_, n)| {
                        self.facts.reply = b.get(1).copied();
                        3 + n
                    })
                }
            }
            Step::Done => None,
        };
        let Some(used) = used else {
            return false;
        };
        if let Some(buf) = self.bufs.get_mut(d) {
            buf.consume(used);
        }
        self.step = match step {
            Step::Greeting if self.facts.version == 4 => Step::Reply,
            Step::Greeting => Step::Method,
            Step::Method => match self.facts.auth_method {
                Some(2) => Step::AuthRequest,
                Some(0xff) => Step::Done,
                _ => Step::Request,
            },
            Step::AuthRequest => Step::AuthReply,
            Step::AuthReply => Step::Request,
            Step::Request => Step::Reply,
            Step::Reply => {
                self.facts.reply_frame = Some(frame);
                let ok = if self.facts.version == 4 { 90 } else { 0 };
                self.facts.granted = self.facts.reply == Some(ok);
                if self.facts.granted {
                    self.tunnel = true;
                    for (i, dir) in [(0, Dir::ToServer), (1, Dir::ToClient)] {
                        if let Some(buf) = self.bufs.get_mut(i) {
                            for (bytes, f, ts) in buf.drain_chunks() {
                                self.tunnel_out.push((dir, bytes, f, ts));
                            }
                        }
                    }
                }
                Step::Done
            }
            Step::Done => Step::Done,
        };
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn socks5_user_password_then_tunnel() {
        let mut d = SocksDecoder::default();
        let f = |n| (FrameNo(n), Timestamp(0));
        let (a, t) = f(1);
        assert!(looks_like_socks(&[5, 2, 0, 2]));
        d.on_data(Dir::ToServer, &[5, 2, 0, 2], a, t);
        d.on_data(Dir::ToClient, &[5, 2], FrameNo(2), t);
        d.on_data(
            Dir::ToServer,
            b"\x01\x05alice\x0bCANARY-PASS",
            FrameNo(3),
            t,
        );
        d.on_data(Dir::ToClient, &[1, 0], FrameNo(4), t);
        let mut req = vec![5, 1, 0, 3, 11];
        req.extend(b"example.com");
        req.extend(443u16.to_be_bytes());
        d.on_data(Dir::ToServer, &req, FrameNo(5), t);
        d.on_data(
            Dir::ToClient,
            &[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90, 0x16, 3],
            FrameNo(6),
            t,
        );
        assert!(d.tunnel_open());
        assert_eq!(d.take_tunnel_bytes()[0].1, vec![0x16, 3]);
        let (facts, _) = d.finish();
        assert_eq!(facts.target.as_deref(), Some("example.com:443"));
        assert_eq!(facts.user.as_deref(), Some("alice"));
        assert!(facts.granted);
        assert!(!format!("{facts:?}").contains("CANARY"));
    }

    #[test]
    fn socks4a_refused_and_truncated() {
        let mut d = SocksDecoder::default();
        let mut req = vec![4, 1, 1, 187, 0, 0, 0, 1];
        req.extend(b"bob\0host.example\0");
        d.on_data(Dir::ToServer, &req, FrameNo(1), Timestamp(0));
        d.on_data(
            Dir::ToClient,
            &[0, 91, 0, 0, 0, 0, 0, 0],
            FrameNo(2),
            Timestamp(0),
        );
        let (f, _) = d.finish();
        assert_eq!(f.target.as_deref(), Some("host.example:443"));
        assert_eq!((f.reply, f.granted), (Some(91), false));
        for n in 0..req.len() {
            let mut d = SocksDecoder::default();
            d.on_data(Dir::ToServer, &req[..n], FrameNo(1), Timestamp(0));
            let _ = d.finish();
        }
    }
}
