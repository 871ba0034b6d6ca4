//! Streaming reader for classic pcap (µs and ns, both byte orders) and pcapng
//! (several sections, interfaces and link types in one file).
//!
//! Pure Rust rather than libpcap's `pcap_open_offline`: it reads from any `Read`
//! (stdin included) with one fixed buffer, reports exactly where a damaged file stops,
//! and keeps going on a file cut mid-record. Memory is the buffer plus one record,
//! whatever the file size.
//!
//! Formats: <https://www.tcpdump.org/manpages/pcap-savefile.5.html> and
//! draft-ietf-opsawg-pcapng.

use super::{CaptureError, LinkType, Packet};
use crate::model::{FrameNo, Timestamp};
use std::io::Read;

/// Largest record we accept. libpcap's own limit for a packet is 256 KiB; pcapng blocks
/// carry options too. Anything larger is corruption, not a packet.
const MAX_RECORD: usize = 16 * 1024 * 1024;
const BUF_SIZE: usize = 256 * 1024;
/// Interfaces kept per pcapng section. A capture on many interfaces has tens; a file
/// declaring millions is damaged or hostile, and keeping them all would grow memory
/// with the file. Past this many an interface is counted
/// ([`FileReader::interfaces_not_kept`]) and its packets are undecodable.
pub const MAX_INTERFACES: usize = 4096;

/// The file magics as they appear on disk: pcap µs and ns in both byte orders, and the
/// pcapng section header block type.
const MAGICS: [[u8; 4]; 5] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x0a, 0x0d, 0x0d, 0x0a],
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
    /// Packets read from a network interface (`trafficdoc capture`).
    Live,
}

/// Where and how a damaged capture stops. Every packet before it was analysed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// The frame number the incomplete record would have had.
    pub frame: FrameNo,
    /// Byte offset of the incomplete record in the file.
    pub offset: u64,
    /// Bytes present and bytes the record needed.
    pub have: u64,
    pub need: u64,
    pub reason: String,
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second (10^6 by default in pcapng).
    units_per_sec: u64,
    offset_secs: i64,
}

#[derive(Debug)]
enum Layout {
    Pcap {
        big_endian: bool,
        nanos: bool,
        link: LinkType,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
        /// Interfaces this section declared past [`MAX_INTERFACES`].
        not_kept: usize,
    },
}

/// The distinct link types a file declared: one bit per value, so a file declaring
/// millions of interfaces costs no more than 8 KiB.
struct LinkSet(Box<[u64; 1024]>);

impl LinkSet {
    fn new() -> LinkSet {
        LinkSet(Box::new([0; 1024]))
    }

    fn insert(&mut self, l: LinkType) {
        if let Some(w) = self.0.get_mut(usize::from(l.0 >> 6)) {
            *w |= 1 << (l.0 & 63);
        }
    }

    /// In ascending order.
    fn to_vec(&self) -> Vec<LinkType> {
        let mut out = Vec::new();
        for (i, &w) in self.0.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let bit = w.trailing_zeros();
                w &= w - 1;
                out.push(LinkType((i as u16) << 6 | bit as u16));
            }
        }
        out
    }
}

/// Reads packets one at a time from a capture file or stream.
pub struct FileReader<R: Read> {
    path: String,
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`.
    offset: u64,
    layout: Layout,
    format: CaptureFormat,
    frame: u64,
    truncation: Option<Truncation>,
    /// Link types declared by the file (pcap header or pcapng interfaces).
    link_types: LinkSet,
    /// Interfaces past [`MAX_INTERFACES`] in their section, over all sections.
    interfaces_not_kept: u64,
    /// TLS key log text of pcapng Decryption Secrets Blocks read since the last
    /// packet [`next_packet_with_secrets`](Self::next_packet_with_secrets) returned.
    secrets: Vec<u8>,
    /// Key log bytes read from the file so far (bounded by [`MAX_SECRETS`]).
    secrets_read: usize,
}

/// A packet record read, its captured bytes in the reader's buffer.
struct Record {
    start: usize,
    caplen: usize,
    orig_len: u32,
    ts: Timestamp,
    link: LinkType,
}

/// Key log bytes kept from a file's Decryption Secrets Blocks, all together.
const MAX_SECRETS: usize = 64 << 20;
/// Decryption Secrets Block type (pcapng §4.7) and its TLS key log secrets type.
const DSB: u32 = 0x0000_000a;
const DSB_TLS_KEY_LOG: u32 = 0x544c_534b;

fn u16_at(b: &[u8], at: usize, be: bool) -> u16 {
    let x = [
        b.get(at).copied().unwrap_or(0),
        b.get(at + 1).copied().unwrap_or(0),
    ];
    if be {
        u16::from_be_bytes(x)
    } else {
        u16::from_le_bytes(x)
    }
}

fn u32_at(b: &[u8], at: usize, be: bool) -> u32 {
    let mut x = [0u8; 4];
    for (i, v) in x.iter_mut().enumerate() {
        *v = b.get(at + i).copied().unwrap_or(0);
    }
    if be {
        u32::from_be_bytes(x)
    } else {
        u32::from_le_bytes(x)
    }
}

fn hex_prefix(b: &[u8]) -> String {
    if b.is_empty() {
        return "nothing".into();
    }
    let hex: Vec<String> = b.iter().take(4).map(|x| format!("{x:02x}")).collect();
    hex.join(" ")
}

impl<R: Read> FileReader<R> {
    /// Reads the file header and prepares to stream packets. `path` names the source in
    /// error messages (`-` for stdin).
    pub fn new(path: impl Into<String>, src: R) -> Result<Self, CaptureError> {
        let mut r = FileReader {
            path: path.into(),
            src,
            buf: vec![0; BUF_SIZE],
            start: 0,
            end: 0,
            eof: false,
            offset: 0,
            layout: Layout::Pcap {
                big_endian: false,
                nanos: false,
                link: LinkType::ETHERNET,
            },
            format: CaptureFormat::Pcap,
            frame: 0,
            truncation: None,
            link_types: LinkSet::new(),
            interfaces_not_kept: 0,
            secrets: Vec::new(),
            secrets_read: 0,
        };
        r.fill(24)?;
        let avail = r.end - r.start;
        let head = &r.buf[r.start..r.end.min(r.start + 24)];
        if avail == 0 {
            return Err(CaptureError::Empty { path: r.path });
        }
        // Fewer bytes than a magic number: a capture cut inside its header if what is
        // there starts one of the magics, otherwise not a capture at all.
        if avail < 4 {
            let starts_a_magic = MAGICS.iter().any(|m| m.starts_with(head));
            if starts_a_magic {
                return Err(CaptureError::ShortHeader {
                    path: r.path,
                    got: avail,
                    need: 24,
                });
            }
        }
        let magic_le = u32_at(head, 0, false);
        let pcap = match magic_le {
            0xa1b2_c3d4 => Some((false, false)),
            0xa1b2_3c4d => Some((false, true)),
            0xd4c3_b2a1 => Some((true, false)),
            0x4d3c_b2a1 => Some((true, true)),
            _ => None,
        };
        if let Some((big_endian, nanos)) = pcap {
            if avail < 24 {
                return Err(CaptureError::ShortHeader {
                    path: r.path,
                    got: avail,
                    need: 24,
                });
            }
            let major = u16_at(head, 4, big_endian);
            let minor = u16_at(head, 6, big_endian);
            if major != 2 {
                return Err(CaptureError::Version {
                    path: r.path,
                    major,
                    minor,
                });
            }
            // The link type is the low 16 bits; the upper bits carry FCS information.
            let link = LinkType((u32_at(head, 20, big_endian) & 0xffff) as u16);
            if !link.is_supported() {
                return Err(CaptureError::UnsupportedLink { path: r.path, link });
            }
            r.layout = Layout::Pcap {
                big_endian,
                nanos,
                link,
            };
            r.link_types.insert(link);
            r.consume(24);
            return Ok(r);
        }
        if magic_le == 0x0a0d_0d0a {
            r.format = CaptureFormat::Pcapng;
            r.layout = Layout::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
                not_kept: 0,
            };
            // The first section header block is the file header: a file cut inside it
            // cannot be read at all. Its length is in the section's byte order.
            const MIN_SHB: usize = 28;
            if avail < 12 {
                return Err(CaptureError::ShortHeader {
                    path: r.path,
                    got: avail,
                    need: MIN_SHB,
                });
            }
            let len = match u32_at(head, 8, false) {
                0x1a2b_3c4d => u32_at(head, 4, false),
                0x4d3c_2b1a => u32_at(head, 4, true),
                // A bad byte-order magic is reported by the block loop as corruption.
                _ => 0,
            } as usize;
            if (MIN_SHB..=MAX_RECORD).contains(&len) {
                r.fill(len)?;
                let avail = r.end - r.start;
                if avail < len {
                    return Err(CaptureError::ShortHeader {
                        path: r.path,
                        got: avail,
                        need: len,
                    });
                }
            }
            // The section header block is read by the normal block loop.
            return Ok(r);
        }
        Err(CaptureError::NotACapture {
            magic: hex_prefix(head),
            path: r.path,
        })
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// The distinct link types declared so far (all of them once the file has been
    /// read), in ascending order.
    pub fn link_types(&self) -> Vec<LinkType> {
        self.link_types.to_vec()
    }

    /// pcapng interfaces not kept: those past [`MAX_INTERFACES`] in their section.
    pub fn interfaces_not_kept(&self) -> u64 {
        self.interfaces_not_kept
    }

    /// Set once reading stopped on an incomplete or corrupt record.
    pub fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }

    /// Bytes consumed so far (for progress reporting).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Frames returned so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Ensures at least `n` bytes are buffered unless the source ends first.
    fn fill(&mut self, n: usize) -> Result<(), CaptureError> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n.max(BUF_SIZE), 0);
        }
        while self.end < n && !self.eof {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CaptureError::Io {
                        path: self.path.clone(),
                        source: e,
                    });
                }
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Makes `n` bytes available at `start`. False at a clean end of file (nothing
    /// left), and also when fewer than `n` bytes remain: then the file is damaged
    /// there, which is recorded with `reason`.
    fn available(&mut self, n: usize, reason: &str) -> Result<bool, CaptureError> {
        self.fill(n)?;
        let avail = self.end - self.start;
        if avail >= n {
            return Ok(true);
        }
        if avail > 0 {
            self.stop(avail, n, reason);
        }
        Ok(false)
    }

    fn stop(&mut self, have: usize, need: usize, reason: &str) {
        self.truncation = Some(Truncation {
            frame: FrameNo(self.frame + 1),
            offset: self.offset,
            have: have as u64,
            need: need as u64,
            reason: reason.to_string(),
        });
        // Nothing after a damaged record can be trusted to be aligned.
        self.start = self.end;
        self.eof = true;
    }

    /// The next packet, `Ok(None)` at the end (check `truncation()` for damage).
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let next = self.next_record()?;
        Ok(next.map(|r| self.view(r)))
    }

    /// The next packet with the TLS key log text of the Decryption Secrets Blocks the
    /// file holds between the previous packet and this one (empty when none): they
    /// apply from this packet on. `Ok(None)` at the end.
    pub fn next_packet_with_secrets(
        &mut self,
    ) -> Result<Option<(Vec<u8>, Packet<'_>)>, CaptureError> {
        let Some(r) = self.next_record()? else {
            return Ok(None);
        };
        let secrets = std::mem::take(&mut self.secrets);
        Ok(Some((secrets, self.view(r))))
    }

    /// Reads up to the next packet record and numbers its frame.
    fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        match self.layout {
            Layout::Pcap {
                big_endian,
                nanos,
                link,
            } => self.next_pcap(big_endian, nanos, link),
            Layout::PcapNg { .. } => self.next_pcapng(),
        }
    }

    /// The packet of a record just read.
    fn view(&self, r: Record) -> Packet<'_> {
        Packet {
            frame: FrameNo(self.frame),
            ts: r.ts,
            link: r.link,
            orig_len: r.orig_len.max(r.caplen as u32),
            data: self
                .buf
                .get(r.start..r.start + r.caplen)
                .unwrap_or_default(),
        }
    }

    fn next_pcap(
        &mut self,
        be: bool,
        nanos: bool,
        link: LinkType,
    ) -> Result<Option<Record>, CaptureError> {
        if !self.available(16, "record header cut short")? {
            return Ok(None);
        }
        let h = &self.buf[self.start..self.start + 16];
        let secs = u32_at(h, 0, be);
        let frac = u32_at(h, 4, be);
        let caplen = u32_at(h, 8, be) as usize;
        let orig_len = u32_at(h, 12, be);
        if caplen > MAX_RECORD {
            let avail = self.end - self.start;
            self.stop(
                avail,
                16 + caplen,
                "record length is impossible (corrupt file)",
            );
            return Ok(None);
        }
        if !self.available(16 + caplen, "packet data cut short")? {
            return Ok(None);
        }
        let nanos = if nanos {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        let s = self.start + 16;
        self.consume(16 + caplen);
        Ok(Some(self.record_at(
            s,
            caplen,
            orig_len,
            Timestamp::from_parts(i64::from(secs), nanos),
            link,
        )))
    }

    fn next_pcapng(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            if !self.available(12, "block header cut short")? {
                return Ok(None);
            }
            let avail = self.end - self.start;
            let head = &self.buf[self.start..self.start + 12];
            let mut be = match &self.layout {
                Layout::PcapNg { big_endian, .. } => *big_endian,
                Layout::Pcap { .. } => false,
            };
            let block_type = u32_at(head, 0, be);
            if block_type == 0x0a0d_0d0a {
                // Section header: its byte-order magic decides how the section reads.
                be = match u32_at(head, 8, false) {
                    0x1a2b_3c4d => false,
                    0x4d3c_2b1a => true,
                    _ => {
                        self.stop(avail, 12, "section header has a bad byte-order magic");
                        return Ok(None);
                    }
                };
            }
            let len = u32_at(head, 4, be) as usize;
            if len < 12 || !len.is_multiple_of(4) || len > MAX_RECORD {
                self.stop(
                    avail,
                    len.max(12),
                    "block length is impossible (corrupt file)",
                );
                return Ok(None);
            }
            if !self.available(len, "block cut short")? {
                return Ok(None);
            }
            let s = self.start;
            self.consume(len);
            let body = s + 8..s + len - 4;
            match block_type {
                0x0a0d_0d0a => {
                    self.layout = Layout::PcapNg {
                        big_endian: be,
                        interfaces: Vec::new(),
                        not_kept: 0,
                    };
                }
                // Interface description block.
                1 => {
                    let b = &self.buf[body];
                    let link = LinkType(u16_at(b, 0, be));
                    let mut iface = Interface {
                        link,
                        units_per_sec: 1_000_000,
                        offset_secs: 0,
                    };
                    parse_idb_options(b.get(8..).unwrap_or(&[]), be, &mut iface);
                    self.link_types.insert(link);
                    if let Layout::PcapNg {
                        interfaces,
                        not_kept,
                        ..
                    } = &mut self.layout
                    {
                        if interfaces.len() < MAX_INTERFACES {
                            interfaces.push(iface);
                        } else {
                            *not_kept += 1;
                            self.interfaces_not_kept += 1;
                        }
                    }
                }
                // Enhanced packet block, and the obsolete packet block of the pcapng
                // drafts before it: the same fields, the interface id 32 or 16 bits.
                6 | 2 => {
                    let b = &self.buf[body.clone()];
                    if b.len() < 20 {
                        continue;
                    }
                    let if_id = if block_type == 6 {
                        u32_at(b, 0, be) as usize
                    } else {
                        usize::from(u16_at(b, 0, be))
                    };
                    let ts = (u64::from(u32_at(b, 4, be)) << 32) | u64::from(u32_at(b, 8, be));
                    let caplen = (u32_at(b, 12, be) as usize).min(b.len() - 20);
                    let orig_len = u32_at(b, 16, be);
                    let iface = self.interface(if_id);
                    return Ok(Some(self.record_at(
                        body.start + 20,
                        caplen,
                        orig_len,
                        iface_ts(&iface, ts),
                        iface.link,
                    )));
                }
                // Simple packet block: no timestamp, interface 0.
                3 => {
                    let b = &self.buf[body.clone()];
                    if b.len() < 4 {
                        continue;
                    }
                    let orig_len = u32_at(b, 0, be);
                    let caplen = (orig_len as usize).min(b.len() - 4);
                    let link = self.interface(0).link;
                    return Ok(Some(self.record_at(
                        body.start + 4,
                        caplen,
                        orig_len,
                        Timestamp(0),
                        link,
                    )));
                }
                // Decryption Secrets Block: a TLS key log, as `editcap --inject-secrets`
                // writes it.
                DSB => {
                    let b = &self.buf[body];
                    let len = u32_at(b, 4, be) as usize;
                    if u32_at(b, 0, be) == DSB_TLS_KEY_LOG
                        && let Some(text) = b.get(8..8 + len)
                        && self.secrets_read + text.len() <= MAX_SECRETS
                    {
                        self.secrets_read += text.len();
                        self.secrets.extend_from_slice(text);
                        self.secrets.push(b'\n');
                    }
                }
                // Name resolution, statistics, custom blocks...: nothing we need.
                _ => {}
            }
        }
    }

    /// Numbers the next frame, its captured bytes at `start` in the buffer.
    fn record_at(
        &mut self,
        start: usize,
        caplen: usize,
        orig_len: u32,
        ts: Timestamp,
        link: LinkType,
    ) -> Record {
        self.frame += 1;
        Record {
            start,
            caplen,
            orig_len,
            ts,
            link,
        }
    }

    fn interface(&self, id: usize) -> Interface {
        let unknown = |link| Interface {
            link,
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        match &self.layout {
            Layout::PcapNg {
                interfaces,
                not_kept,
                ..
            } => match interfaces.get(id) {
                Some(i) => *i,
                // Declared past MAX_INTERFACES: the frame is kept (numbering must match
                // Wireshark) and counted as undecodable.
                None if id < interfaces.len() + not_kept => unknown(LinkType::INTERFACE_NOT_KEPT),
                // An undeclared interface: a link type nothing decodes.
                None => unknown(LinkType(u16::MAX)),
            },
            Layout::Pcap { .. } => unknown(LinkType(u16::MAX)),
        }
    }
}

fn iface_ts(iface: &Interface, raw: u64) -> Timestamp {
    let ups = iface.units_per_sec.max(1);
    let secs = (raw / ups) as i64;
    let rem = raw % ups;
    let nanos = (u128::from(rem) * 1_000_000_000 / u128::from(ups)) as i64;
    Timestamp::from_parts(secs.saturating_add(iface.offset_secs), nanos)
}

fn parse_idb_options(mut opts: &[u8], be: bool, iface: &mut Interface) {
    while opts.len() >= 4 {
        let code = u16_at(opts, 0, be);
        let len = usize::from(u16_at(opts, 2, be));
        let padded = (len + 3) & !3;
        let Some(val) = opts.get(4..4 + len) else {
            return;
        };
        match code {
            0 => return,
            // if_tsresol: high bit clear = 10^-n, set = 2^-n.
            9 if len >= 1 => {
                let v = val[0];
                let n = u32::from(v & 0x7f);
                let units = if v & 0x80 == 0 {
                    10u64.checked_pow(n)
                } else {
                    1u64.checked_shl(n)
                };
                if let Some(u) = units.filter(|u| *u > 0) {
                    iface.units_per_sec = u;
                }
            }
            // if_tsoffset: seconds added to every timestamp.
            14 if len >= 8 => {
                let mut x = [0u8; 8];
                x.copy_from_slice(&val[..8]);
                iface.offset_secs = if be {
                    i64::from_be_bytes(x)
                } else {
                    i64::from_le_bytes(x)
                };
            }
            _ => {}
        }
        opts = opts.get(4 + padded..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcap_header(magic: u32, link: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&magic.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&link.to_le_bytes());
        v
    }

    fn record(secs: u32, frac: u32, data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&secs.to_le_bytes());
        v.extend_from_slice(&frac.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_microsecond_and_nanosecond_pcap() {
        for (magic, frac, want_ns) in [(0xa1b2c3d4u32, 7u32, 7000i64), (0xa1b23c4d, 7, 7)] {
            let mut f = pcap_header(magic, 1);
            f.extend(record(10, frac, &[1, 2, 3]));
            let mut r = FileReader::new("t", &f[..]).unwrap();
            let p = r.next_packet().unwrap().unwrap();
            assert_eq!(p.frame, FrameNo(1));
            assert_eq!(p.ts, Timestamp(10_000_000_000 + want_ns));
            assert_eq!(p.data, &[1, 2, 3]);
            assert!(r.next_packet().unwrap().is_none());
            assert!(r.truncation().is_none());
        }
    }

    #[test]
    fn cut_record_is_reported_not_fatal() {
        let mut f = pcap_header(0xa1b2c3d4, 1);
        f.extend(record(1, 0, &[9; 40]));
        f.extend(record(2, 0, &[9; 40]));
        f.truncate(f.len() - 10);
        let mut r = FileReader::new("t", &f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_some());
        assert!(r.next_packet().unwrap().is_none());
        let t = r.truncation().unwrap();
        assert_eq!(t.frame, FrameNo(2));
        assert_eq!((t.have, t.need), (46, 56));
    }

    #[test]
    fn impossible_length_stops_without_allocating() {
        let mut f = pcap_header(0xa1b2c3d4, 1);
        let mut rec = record(1, 0, &[]);
        rec[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        f.extend(rec);
        let mut r = FileReader::new("t", &f[..]).unwrap();
        assert!(r.next_packet().unwrap().is_none());
        assert!(r.truncation().unwrap().reason.contains("impossible"));
    }

    #[test]
    fn rejects_non_captures_and_unknown_links() {
        assert!(matches!(
            FileReader::new("t", &b"hello world, not a capture"[..]),
            Err(CaptureError::NotACapture { .. })
        ));
        assert!(matches!(
            FileReader::new("t", &b""[..]),
            Err(CaptureError::Empty { .. })
        ));
        assert!(matches!(
            FileReader::new("t", &pcap_header(0xa1b2c3d4, 147)[..]),
            Err(CaptureError::UnsupportedLink { .. })
        ));
        assert!(matches!(
            FileReader::new("t", &pcap_header(0xa1b2c3d4, 1)[..10]),
            Err(CaptureError::ShortHeader { .. })
        ));
    }

    #[test]
    fn header_cut_before_the_magic_ends_is_a_short_header() {
        let h = pcap_header(0xa1b2c3d4, 1);
        for n in 1..4 {
            assert!(
                matches!(
                    FileReader::new("t", &h[..n]),
                    Err(CaptureError::ShortHeader { got, .. }) if got == n
                ),
                "{n} bytes"
            );
        }
        assert!(matches!(
            FileReader::new("t", &b"GE"[..]),
            Err(CaptureError::NotACapture { .. })
        ));
    }

    #[test]
    fn pcapng_cut_inside_its_section_header_is_a_short_header() {
        // Generated: a 28-byte section header block, little endian, no options.
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        shb.extend_from_slice(&28u32.to_le_bytes());
        for n in 4..28 {
            assert!(
                matches!(
                    FileReader::new("t", &shb[..n]),
                    Err(CaptureError::ShortHeader { got, .. }) if got == n
                ),
                "{n} bytes"
            );
        }
        let mut r = FileReader::new("t", &shb[..]).unwrap();
        assert!(r.next_packet().unwrap().is_none());
        assert!(r.truncation().is_none());
    }

    #[test]
    fn tsresol_options() {
        let mut i = Interface {
            link: LinkType::ETHERNET,
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        parse_idb_options(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0], false, &mut i);
        assert_eq!(i.units_per_sec, 1_000_000_000);
        assert_eq!(iface_ts(&i, 1_500_000_000), Timestamp(1_500_000_000));
    }
}
