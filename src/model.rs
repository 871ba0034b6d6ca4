//! Small shared vocabulary of the pipeline: frame numbers, timestamps, directions.
//!
//! Every layer (capture → decode → reassembly → protocols → report) speaks in these
//! types so that a frame number printed in a report is the one Wireshark shows.

use std::fmt;

/// A frame number exactly as Wireshark numbers them: 1-based, in file order,
/// counting every record in the capture (including ones we could not decode).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct FrameNo(pub u64);

impl fmt::Display for FrameNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A capture timestamp in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// Written as its 8 bytes (little-endian) for the flow store: nanoseconds since the
/// epoch take 9 bytes as a varint, read one at a time.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0.to_le_bytes())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        struct Bytes;

        impl serde::de::Visitor<'_> for Bytes {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("8 bytes")
            }

            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Timestamp, E> {
                let b = <[u8; 8]>::try_from(v).map_err(|_| E::invalid_length(v.len(), &self))?;
                Ok(Timestamp(i64::from_le_bytes(b)))
            }
        }

        d.deserialize_bytes(Bytes)
    }
}

impl Timestamp {
    pub fn from_parts(secs: i64, nanos: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }
    /// Seconds since the epoch as a float (what JSON consumers expect).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Signed distance `self - earlier` in seconds.
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        (self.0.saturating_sub(earlier.0)) as f64 / 1e9
    }
}

/// Which way bytes travel on a connection. The client is the side that sent the
/// first SYN (or, for connections picked up mid-stream, the side we guessed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Dir {
    /// Client → server ("originator" in Zeek's words).
    ToServer,
    /// Server → client ("responder").
    ToClient,
}

impl Dir {
    pub fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
    pub fn flip(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }
    /// The side that sends in this direction.
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ToServer => "client",
            Dir::ToClient => "server",
        }
    }
}

/// A socket address in the flow store's encoding (`flow::store`), in full (serde's
/// own writes an IPv6 address without its flow label and scope id), as one byte
/// string read in one take: IPv4 address and port (6 bytes), or IPv6 address, port,
/// flow label and scope id (26 bytes), numbers big-endian.
pub mod stored_addr {
    use serde::de::{Error, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

    /// Bytes of an IPv4 and of an IPv6 address.
    const V4: usize = 6;
    const V6: usize = 26;

    /// `a` as written: the first `n` bytes.
    fn bytes(a: &SocketAddr) -> ([u8; V6], usize) {
        let mut out = [0; V6];
        let mut fill = |parts: &[&[u8]]| {
            for (o, b) in out.iter_mut().zip(parts.iter().copied().flatten()) {
                *o = *b;
            }
        };
        let n = match a {
            SocketAddr::V4(a) => {
                fill(&[&a.ip().octets(), &a.port().to_be_bytes()]);
                V4
            }
            SocketAddr::V6(a) => {
                fill(&[
                    &a.ip().octets(),
                    &a.port().to_be_bytes(),
                    &a.flowinfo().to_be_bytes(),
                    &a.scope_id().to_be_bytes(),
                ]);
                V6
            }
        };
        (out, n)
    }

    struct Bytes;

    impl Visitor<'_> for Bytes {
        type Value = SocketAddr;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("6 or 26 bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<SocketAddr, E> {
            if let Ok(&[a, b, c, d, p0, p1]) = <&[u8; V4]>::try_from(v) {
                let ip = Ipv4Addr::new(a, b, c, d);
                return Ok(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be_bytes([p0, p1]),
                )));
            }
            let Ok(v) = <&[u8; V6]>::try_from(v) else {
                return Err(E::invalid_length(v.len(), &self));
            };
            let (ip, rest) = v.split_at(16);
            let ip = <[u8; 16]>::try_from(ip).map_err(|_| E::invalid_length(V6, &self))?;
            let &[p0, p1, f0, f1, f2, f3, s0, s1, s2, s3] = rest else {
                return Err(E::invalid_length(V6, &self));
            };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                u16::from_be_bytes([p0, p1]),
                u32::from_be_bytes([f0, f1, f2, f3]),
                u32::from_be_bytes([s0, s1, s2, s3]),
            )))
        }
    }

    pub fn serialize<S: Serializer>(a: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
        let (b, n) = bytes(a);
        s.serialize_bytes(b.get(..n).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
        d.deserialize_bytes(Bytes)
    }

    /// An address, for an `Option` of it.
    #[derive(Serialize, Deserialize)]
    struct Addr(#[serde(with = "super::stored_addr")] SocketAddr);

    /// An optional address.
    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
            a.map(Addr).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<SocketAddr>, D::Error> {
            Ok(Option::<Addr>::deserialize(d)?.map(|Addr(a)| a))
        }
    }
}

pub mod url;

/// Addresses written as their `Display` does, without `fmt`'s machinery for IPv4
/// (every flow of a report prints four): `10.0.0.1`, `10.0.0.1:80`; IPv6 through
/// `Display` itself.
pub mod addr_text {
    use std::fmt::Write as _;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    /// ASCII text gathered on the stack and appended to a `String` in one piece: a
    /// character at a time, each `String::push` checks the capacity and encodes UTF-8.
    struct Ascii<const N: usize> {
        buf: [u8; N],
        len: usize,
    }

    impl<const N: usize> Ascii<N> {
        fn new() -> Self {
            Ascii {
                buf: [0; N],
                len: 0,
            }
        }

        fn byte(&mut self, b: u8) {
            if let Some(to) = self.buf.get_mut(self.len) {
                *to = b;
                self.len += 1;
            }
        }

        /// `n` in decimal.
        fn dec(&mut self, mut n: u64) {
            let end = self.len + n.checked_ilog10().unwrap_or(0) as usize + 1;
            if let Some(digits) = self.buf.get_mut(self.len..end) {
                for d in digits.iter_mut().rev() {
                    *d = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                self.len = end;
            }
        }

        /// The four octets of `ip`, dotted.
        fn ipv4(&mut self, ip: Ipv4Addr) {
            for (i, o) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    self.byte(b'.');
                }
                if o >= 100 {
                    self.byte(b'0' + o / 100);
                }
                if o >= 10 {
                    self.byte(b'0' + o / 10 % 10);
                }
                self.byte(b'0' + o % 10);
            }
        }

        fn append_to(&self, out: &mut String) {
            let text = self.buf.get(..self.len).unwrap_or_default();
            out.push_str(std::str::from_utf8(text).unwrap_or_default());
        }
    }

    /// Appends `n` in decimal.
    pub fn push_u64(out: &mut String, n: u64) {
        let mut t = Ascii::<20>::new();
        t.dec(n);
        t.append_to(out);
    }

    /// Appends `ip` as `Display` writes it.
    pub fn push_ip(out: &mut String, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => {
                let mut t = Ascii::<15>::new();
                t.ipv4(v4);
                t.append_to(out);
            }
            IpAddr::V6(v6) => {
                let _ = write!(out, "{v6}");
            }
        }
    }

    /// Appends `a` as `Display` writes it.
    pub fn push_socket(out: &mut String, a: SocketAddr) {
        match a {
            SocketAddr::V4(v4) => {
                let mut t = Ascii::<21>::new();
                t.ipv4(*v4.ip());
                t.byte(b':');
                t.dec(u64::from(v4.port()));
                t.append_to(out);
            }
            SocketAddr::V6(v6) => {
                let _ = write!(out, "{v6}");
            }
        }
    }

    /// `a` as `Display` writes it.
    pub fn socket(a: SocketAddr) -> String {
        let mut out = String::with_capacity(21);
        push_socket(&mut out, a);
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn matches_display() {
            for a in [
                "0.0.0.0:0",
                "10.20.11.127:32997",
                "255.255.255.255:65535",
                "1.2.3.4:8080",
                "[::1]:443",
                "[fe80::1%2]:53",
                "[2001:db8::ff00:42:8329]:3128",
            ] {
                let a: SocketAddr = a.parse().unwrap();
                assert_eq!(socket(a), a.to_string());
                let mut ip = String::new();
                push_ip(&mut ip, a.ip());
                assert_eq!(ip, a.ip().to_string());
            }
            for o in 0..=255u8 {
                let a = SocketAddr::from(([o, 0, 255 - o, o / 3], u16::from(o) * 257));
                assert_eq!(socket(a), a.to_string());
            }
            for n in [0, 7, 10, 99, 100, 65535, u64::MAX] {
                let mut s = String::new();
                push_u64(&mut s, n);
                assert_eq!(s, n.to_string());
            }
        }
    }
}
