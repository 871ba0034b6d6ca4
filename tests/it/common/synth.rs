//! GENERATED captures for rule tests: Ethernet/IPv4/TCP frames written one by one
//! (IPv6 too, with [`Pcap::tcp_ip`]), for the cases no recorded fixture covers.

use std::net::IpAddr;

/// TCP flags.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A pcap (Ethernet, IPv4, TCP) built packet by packet.
pub struct Pcap {
    pub bytes: Vec<u8>,
    /// Microseconds of the next frame (1 ms apart by default).
    pub usec: u32,
}

impl Pcap {
    pub fn new() -> Pcap {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        Pcap { bytes, usec: 0 }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn tcp(
        &mut self,
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) {
        self.tcp_ip(
            (IpAddr::from(src.0), src.1),
            (IpAddr::from(dst.0), dst.1),
            seq,
            ack,
            flags,
            data,
        );
    }

    /// One TCP segment over IPv4 or IPv6 (both ends of the same family).
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_ip(
        &mut self,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        seq: u32,
        ack: u32,
        flags: u8,
        data: &[u8],
    ) {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        match (src.0, dst.0) {
            (IpAddr::V6(s6), IpAddr::V6(d6)) => {
                f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
                f.extend_from_slice(&((20 + data.len()) as u16).to_be_bytes());
                f.extend_from_slice(&[6, 64]);
                f.extend_from_slice(&s6.octets());
                f.extend_from_slice(&d6.octets());
            }
            (IpAddr::V4(s4), IpAddr::V4(d4)) => {
                let total = (20 + 20 + data.len()) as u16;
                f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
                f.extend_from_slice(&total.to_be_bytes());
                f.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
                f.extend_from_slice(&s4.octets());
                f.extend_from_slice(&d4.octets());
            }
            _ => panic!("mixed address families"),
        }
        f.extend_from_slice(&src.1.to_be_bytes());
        f.extend_from_slice(&dst.1.to_be_bytes());
        f.extend_from_slice(&seq.to_be_bytes());
        f.extend_from_slice(&ack.to_be_bytes());
        f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(data);
        self.record(&f);
    }

    /// One UDP datagram over IPv4 (checksum 0: none).
    pub fn udp(&mut self, src: ([u8; 4], u16), dst: ([u8; 4], u16), data: &[u8]) {
        let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00, 0x45, 0];
        f.extend_from_slice(&((20 + 8 + data.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&src.0);
        f.extend_from_slice(&dst.0);
        f.extend_from_slice(&src.1.to_be_bytes());
        f.extend_from_slice(&dst.1.to_be_bytes());
        f.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(data);
        self.record(&f);
    }

    /// Appends `frame` as the next record, 1 ms after the one before.
    fn record(&mut self, frame: &[u8]) {
        self.usec += 1000;
        let len = frame.len() as u32;
        for v in [1_700_000_000, self.usec, len, len] {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.bytes.extend_from_slice(frame);
    }

    /// A SYN answered by RST: a refused connection.
    pub fn refused(&mut self, client: (IpAddr, u16), server: (IpAddr, u16)) {
        self.tcp_ip(client, server, 1000, 0, SYN, b"");
        self.tcp_ip(server, client, 0, 1001, RST | ACK, b"");
    }

    /// A handshake only: a connection that was accepted.
    pub fn accepted(&mut self, client: (IpAddr, u16), server: (IpAddr, u16)) {
        self.tcp_ip(client, server, 1000, 0, SYN, b"");
        self.tcp_ip(server, client, 5000, 1001, SYN | ACK, b"");
        self.tcp_ip(client, server, 1001, 5001, ACK, b"");
    }

    /// A whole connection: handshake, then `data` in order (true: client → server),
    /// each payload as one segment (an empty one too), then FINs.
    pub fn connection<D: AsRef<[u8]>>(
        &mut self,
        client: ([u8; 4], u16),
        server: ([u8; 4], u16),
        data: &[(bool, D)],
    ) {
        let (mut c, mut s) = (1000u32, 5000u32);
        self.tcp(client, server, c, 0, SYN, b"");
        self.tcp(server, client, s, c + 1, SYN | ACK, b"");
        c += 1;
        s += 1;
        self.tcp(client, server, c, s, ACK, b"");
        for (to_server, d) in data {
            let d = d.as_ref();
            if *to_server {
                self.tcp(client, server, c, s, PSH | ACK, d);
                c += d.len() as u32;
            } else {
                self.tcp(server, client, s, c, PSH | ACK, d);
                s += d.len() as u32;
            }
        }
        self.tcp(client, server, c, s, FIN | ACK, b"");
        self.tcp(server, client, s, c + 1, FIN | ACK, b"");
        self.tcp(client, server, c + 1, s + 1, ACK, b"");
    }

    /// [`connection`](Self::connection) with request/response pairs in turn.
    pub fn conversation<D: AsRef<[u8]>>(
        &mut self,
        client: ([u8; 4], u16),
        server: ([u8; 4], u16),
        turns: &[(D, D)],
    ) {
        let data: Vec<(bool, &[u8])> = turns
            .iter()
            .flat_map(|(q, r)| [(true, q.as_ref()), (false, r.as_ref())])
            .collect();
        self.connection(client, server, &data);
    }
}
