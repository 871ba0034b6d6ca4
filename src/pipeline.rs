//! Drives packets through the layers: link → IP → TCP/UDP flows → decoders.
//!
//! `PacketProcessor` takes one packet at a time, so the offline reader and live
//! capture share it. It allocates nothing per packet on the common path: views borrow
//! the reader's buffer and flows are looked up by value keys.
//!
//! A file is read either on the calling thread (`analyze_reader`, the reference) or by
//! a reader thread that hands packets over in batches (`analyze_reader_with`, threads
//! ≥ 2) while the calling thread runs the same `PacketProcessor` over them, in the same
//! order: the analysis is the same whatever the number of threads.

use crate::capture::batch::Ending;
use crate::capture::{CaptureError, CaptureFormat, FileReader, LinkType, Packet, Truncation};
use crate::decode::ip::{self, Transport};
use crate::decode::link::{self, NetProto};
use crate::flow::store::FlowStore;
use crate::flow::table::{Finished, FlowTable, TableConfig, TableLimits};
use crate::model::{FrameNo, Timestamp};
use crate::protocols::DecodeOptions;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

/// Counts of what the decoder saw, for the input summary.
#[derive(Clone, Debug, Default)]
pub struct DecodeCounts {
    pub tcp_packets: u64,
    pub udp_packets: u64,
    pub icmp_unreachable: u64,
    /// Frames that are not IP (ARP, LLDP...).
    pub non_ip: u64,
    pub ip_fragments: u64,
    /// Frames too short or malformed to decode down to the transport header, and
    /// frames on a pcapng interface the reader did not keep (`interfaces_not_kept`).
    pub undecodable: u64,
    /// IP packets of other protocols (ICMP echo, IGMP, ESP...).
    pub other_ip: u64,
    /// Frames whose captured length is below the length on the wire.
    pub snaplen_cut: u64,
    /// Frames on an interface whose link type we cannot decode.
    pub unsupported_link: u64,
}

/// What link and IP decoding made of a frame, in plain values that borrow nothing
/// (the payload as a range of the frame), so that a reader thread can work it out
/// and hand it over with the frame.
#[derive(Clone, Copy, Debug)]
pub enum Decoded {
    /// On an interface whose link type we cannot decode.
    UnsupportedLink,
    /// Too short or malformed to decode down to the transport header.
    Undecodable,
    /// Not IP (ARP, LLDP...).
    NonIp,
    /// `seg.payload` is empty: the payload is `at..at + len` of the frame.
    Tcp {
        src: SocketAddr,
        dst: SocketAddr,
        seg: ip::TcpSegment<'static>,
        at: u32,
        len: u32,
    },
    Udp {
        src: SocketAddr,
        dst: SocketAddr,
        at: u32,
        len: u32,
    },
    Unreachable(ip::Unreachable),
    Fragment,
    /// IP, another protocol.
    OtherIp,
}

/// Where `part`, a slice of `frame`, lies in it. The decoders only ever slice the
/// frame; anything else would come out as an empty range.
fn range_in(frame: &[u8], part: &[u8]) -> (u32, u32) {
    let at = (part.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
    match (u32::try_from(at), u32::try_from(part.len())) {
        (Ok(at), Ok(len)) if at as usize + len as usize <= frame.len() => (at, len),
        _ => (0, 0),
    }
}

/// The bytes at `at..at + len` of `frame` (see `range_in`).
fn part_of(frame: &[u8], at: u32, len: u32) -> &[u8] {
    let at = at as usize;
    frame.get(at..at + len as usize).unwrap_or_default()
}

/// Link and IP decoding of one frame, down to its transport header.
pub fn decode(p: &Packet<'_>) -> Decoded {
    if p.link == LinkType::INTERFACE_NOT_KEPT {
        return Decoded::Undecodable;
    }
    let (proto, l3) = match link::strip(p.link, p.data) {
        Ok(x) => x,
        Err(link::LinkError::Unsupported(_)) => return Decoded::UnsupportedLink,
        Err(link::LinkError::Truncated { .. }) => return Decoded::Undecodable,
    };
    match proto {
        NetProto::Ipv4 | NetProto::Ipv6 | NetProto::AnyIp => {}
        NetProto::Other(_) => return Decoded::NonIp,
    }
    let Ok(pkt) = ip::parse(l3) else {
        return Decoded::Undecodable;
    };
    match pkt.transport {
        Transport::Tcp(seg) => {
            let (at, len) = range_in(p.data, seg.payload);
            Decoded::Tcp {
                src: SocketAddr::new(pkt.src, seg.src_port),
                dst: SocketAddr::new(pkt.dst, seg.dst_port),
                seg: ip::TcpSegment {
                    payload: &[],
                    ..seg
                },
                at,
                len,
            }
        }
        Transport::Udp {
            src_port,
            dst_port,
            payload,
        } => {
            let (at, len) = range_in(p.data, payload);
            Decoded::Udp {
                src: SocketAddr::new(pkt.src, src_port),
                dst: SocketAddr::new(pkt.dst, dst_port),
                at,
                len,
            }
        }
        Transport::Unreachable(u) => Decoded::Unreachable(u),
        Transport::Fragment => Decoded::Fragment,
        Transport::Other(_) => Decoded::OtherIp,
    }
}

/// Per-capture analysis state.
pub struct PacketProcessor {
    table: FlowTable,
    pub counts: DecodeCounts,
    pub packets: u64,
    pub bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// First frame with a decode problem, for the warning line.
    pub first_undecodable: Option<FrameNo>,
}

impl PacketProcessor {
    pub fn new(cfg: TableConfig) -> Self {
        Self::with_options(cfg, Arc::default())
    }

    /// A processor whose decoders have `options` (key logs...).
    pub fn with_options(cfg: TableConfig, options: Arc<DecodeOptions>) -> Self {
        PacketProcessor {
            table: FlowTable::with_options(cfg, options),
            counts: DecodeCounts::default(),
            packets: 0,
            bytes: 0,
            first_ts: None,
            last_ts: None,
            first_undecodable: None,
        }
    }

    /// Adds TLS secrets (key log text, from a pcapng Decryption Secrets Block) for the
    /// connections whose handshake comes after.
    pub fn add_secrets(&mut self, text: &[u8]) {
        self.table.add_secrets(text);
    }

    pub fn open_flows(&self) -> usize {
        self.table.open_flows()
    }

    fn undecodable(&mut self, frame: FrameNo) {
        self.counts.undecodable += 1;
        self.first_undecodable.get_or_insert(frame);
    }

    pub fn packet(&mut self, p: &Packet<'_>) {
        let d = decode(p);
        self.decoded(p, &d);
    }

    /// `packet`, its link and IP headers already decoded (by `decode(p)`).
    pub fn decoded(&mut self, p: &Packet<'_>, d: &Decoded) {
        self.packets += 1;
        self.bytes += u64::from(p.orig_len);
        if p.ts.0 != 0 {
            if self.first_ts.is_none_or(|t| p.ts < t) {
                self.first_ts = Some(p.ts);
            }
            if self.last_ts.is_none_or(|t| p.ts > t) {
                self.last_ts = Some(p.ts);
            }
        }
        if (p.data.len() as u64) < u64::from(p.orig_len) {
            self.counts.snaplen_cut += 1;
        }
        match *d {
            Decoded::UnsupportedLink => self.counts.unsupported_link += 1,
            Decoded::Undecodable => self.undecodable(p.frame),
            Decoded::NonIp => self.counts.non_ip += 1,
            Decoded::Tcp {
                src,
                dst,
                seg,
                at,
                len,
            } => {
                self.counts.tcp_packets += 1;
                let seg = ip::TcpSegment {
                    payload: part_of(p.data, at, len),
                    ..seg
                };
                self.table.tcp(src, dst, &seg, p.frame, p.ts, p.orig_len);
            }
            Decoded::Udp { src, dst, at, len } => {
                self.counts.udp_packets += 1;
                let payload = part_of(p.data, at, len);
                // The snap length cut the frame inside this payload.
                let cut = (p.data.len() as u64) < u64::from(p.orig_len)
                    && u64::from(at) + u64::from(len) >= p.data.len() as u64;
                self.table
                    .udp(src, dst, payload, p.frame, p.ts, p.orig_len, cut);
            }
            Decoded::Unreachable(u) => {
                self.counts.icmp_unreachable += 1;
                self.table.unreachable(u, p.frame);
            }
            Decoded::Fragment => self.counts.ip_fragments += 1,
            Decoded::OtherIp => self.counts.other_ip += 1,
        }
    }

    pub fn finish(self) -> (Finished, DecodeCounts, TableLimits) {
        let (flows, limits) = self.table.finish();
        (flows, self.counts, limits)
    }

    /// The analysis as it stands, leaving the processor running (live capture).
    pub fn snapshot(
        &self,
        path: String,
        format: CaptureFormat,
        link_types: &[LinkType],
    ) -> CaptureAnalysis {
        let (link_names, link_types_omitted) = link_names(link_types);
        let finished = self.table.snapshot();
        CaptureAnalysis {
            input: InputFile {
                path,
                format,
                link_types: link_names,
                link_types_omitted,
                all_link_types: link_types.to_vec(),
                interfaces_not_kept: 0,
                packets: self.packets,
                bytes: self.bytes,
                file_bytes: 0,
                first_ts: self.first_ts,
                last_ts: self.last_ts,
                truncated: None,
                decode: self.counts.clone(),
                capture_stats: None,
                limits: self.table.limits(),
                parts: Vec::new(),
            },
            flows: finished.listed,
            unlisted: finished.unlisted,
            facts: finished.facts,
        }
    }

    /// Finishes every flow and describes the input they came from.
    pub fn into_analysis(
        self,
        path: String,
        format: CaptureFormat,
        link_types: &[LinkType],
        file_bytes: u64,
        truncated: Option<Truncation>,
    ) -> CaptureAnalysis {
        let (packets, bytes) = (self.packets, self.bytes);
        let (first_ts, last_ts) = (self.first_ts, self.last_ts);
        let (flows, decode, limits) = self.finish();
        let (link_names, link_types_omitted) = link_names(link_types);
        CaptureAnalysis {
            input: InputFile {
                path,
                format,
                link_types: link_names,
                link_types_omitted,
                all_link_types: link_types.to_vec(),
                interfaces_not_kept: 0,
                packets,
                bytes,
                file_bytes,
                first_ts,
                last_ts,
                truncated,
                decode,
                capture_stats: None,
                limits,
                parts: Vec::new(),
            },
            flows: flows.listed,
            unlisted: flows.unlisted,
            facts: flows.facts,
        }
    }
}

/// Link type names listed per file and over all files; the rest are counted.
pub const MAX_LINK_TYPES_LISTED: usize = 16;

/// The names of the first [`MAX_LINK_TYPES_LISTED`] link types, and how many more.
fn link_names(link_types: &[LinkType]) -> (Vec<String>, u64) {
    let listed = link_types.len().min(MAX_LINK_TYPES_LISTED);
    let names = link_types
        .iter()
        .take(listed)
        .map(|l| l.to_string())
        .collect();
    (names, (link_types.len() - listed) as u64)
}

/// What was read from one capture file.
#[derive(Debug)]
pub struct InputFile {
    pub path: String,
    pub format: CaptureFormat,
    /// The distinct link types the file declared, in registry order: the first
    /// [`MAX_LINK_TYPES_LISTED`].
    pub link_types: Vec<String>,
    /// Link types past the first [`MAX_LINK_TYPES_LISTED`]: counted, not named.
    pub link_types_omitted: u64,
    /// Every distinct link type, for the report's list over all files.
    pub all_link_types: Vec<LinkType>,
    /// pcapng interfaces past the first `capture::file::MAX_INTERFACES` of their
    /// section: not kept, their packets counted as `decode.undecodable`.
    pub interfaces_not_kept: u64,
    pub packets: u64,
    /// Sum of the frames' lengths on the wire.
    pub bytes: u64,
    pub file_bytes: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    /// Set when the file ends inside a record (e.g. tcpdump was killed).
    pub truncated: Option<Truncation>,
    pub decode: DecodeCounts,
    /// Memory caps hit while reading this file (flows evicted, summarized, partial).
    pub limits: TableLimits,
    /// libpcap's counters, for a live capture.
    pub capture_stats: Option<CaptureStats>,
    /// The files of a rotated set read as this one capture, in time order (`path` is
    /// the first); empty for a single file. Frames are numbered across the set.
    pub parts: Vec<Part>,
}

impl InputFile {
    /// `frame` as a person finds it in Wireshark: in a rotated set, the file's name
    /// and the frame's number in that file; else the number alone.
    pub fn locate(&self, frame: u64) -> (Option<&str>, u64) {
        match self
            .parts
            .iter()
            .find(|p| frame > p.first_frame && frame <= p.first_frame + p.frames)
        {
            Some(p) => (Some(base_name(&p.path)), frame - p.first_frame),
            None => (None, frame),
        }
    }
}

/// The file name of `path`, without its directories.
pub fn base_name(path: &str) -> &str {
    std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
}

impl InputFile {
    /// A cap changed what was analysed: a memory cap of the flow table, or
    /// interfaces the reader did not keep.
    pub fn partial(&self) -> bool {
        self.limits.any() || self.interfaces_not_kept > 0
    }
}

/// libpcap / kernel counters of a live capture.
#[derive(Clone, Copy, Debug)]
pub struct CaptureStats {
    /// Packets the filter accepted.
    pub received: u32,
    /// Dropped because libpcap's buffer was full (we did not keep up).
    pub dropped: u32,
    /// Dropped by the interface or its driver.
    pub if_dropped: u32,
    /// Taken off libpcap's ring (and written to the `-w` file) but not analysed: the
    /// analysis queue was full.
    pub queue_dropped: u64,
}

/// The analysis of one capture: input facts and flows.
#[derive(Debug)]
pub struct CaptureAnalysis {
    pub input: InputFile,
    /// The flows the report lists (`--max-records`).
    pub flows: FlowStore,
    /// Finished flows past `--max-records`: only added up in the report, but
    /// diagnosed like the listed ones (their ids follow every listed flow's).
    pub unlisted: FlowStore,
    /// Decoded facts of these flows not kept with them (past `--max-facts` or a
    /// decoder's per-flow bound): not listed, but diagnosed.
    pub facts: crate::protocols::overflow::FactLog,
}

/// How an offline capture is read.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// 1: read and analyse on the calling thread. 2 or more: a reader thread does the
    /// file I/O and record framing while the calling thread analyses (two stages, so
    /// more than 2 uses no more threads than 2). The result is the same either way.
    pub threads: usize,
    /// Packet bytes handed from the reader thread at a time.
    pub batch_bytes: usize,
}

impl Default for ReadOptions {
    /// Two threads when the machine has a second core to run them on.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        ReadOptions {
            threads: if cores > 1 { 2 } else { 1 },
            batch_bytes: crate::capture::batch::DEFAULT_BATCH_BYTES,
        }
    }
}

/// Reads a whole capture and analyses it on the calling thread. `progress` is called
/// now and then with the bytes read so far.
pub fn analyze_reader<R: Read>(
    path: &str,
    src: R,
    cfg: TableConfig,
    progress: &mut dyn FnMut(u64),
) -> Result<CaptureAnalysis, CaptureError> {
    let mut proc = PacketProcessor::new(cfg);
    let (format, ending) = feed_here(path, src, &mut proc, 0, progress)?;
    conclude(path, proc, format, ending)
}

/// Reads a whole capture and analyses it as `opts` says: the same analysis, the same
/// errors and the same `progress` calls (on the calling thread) whatever the number
/// of threads.
pub fn analyze_reader_with<R: Read + Send>(
    path: &str,
    src: R,
    cfg: TableConfig,
    opts: ReadOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<CaptureAnalysis, CaptureError> {
    let mut proc = PacketProcessor::new(cfg);
    let (format, ending) = feed(path, src, &mut proc, 0, opts, progress)?;
    conclude(path, proc, format, ending)
}

/// Feeds every packet of capture `src` to `proc`, frames numbered from
/// `frame_offset + 1` (the frames of the files before it in a rotated set), as `opts`
/// says: on the calling thread, or read on a second thread meanwhile.
pub fn feed<R: Read + Send>(
    path: &str,
    src: R,
    proc: &mut PacketProcessor,
    frame_offset: u64,
    opts: ReadOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<(CaptureFormat, Ending), CaptureError> {
    if opts.threads <= 1 {
        return feed_here(path, src, proc, frame_offset, progress);
    }
    use crate::capture::batch::{self, Msg};
    // The header is read here, so a file that is no capture fails before any thread.
    let reader = FileReader::new(path, src)?;
    let format = reader.format();
    let (tx, batches) = batch::channel(opts.batch_bytes);
    let ending = std::thread::scope(|s| {
        // Link and IP headers are decoded on the reader thread as well: it has time to
        // spare, the analysing thread has not.
        let worker = s.spawn(move || tx.run(reader, decode));
        let ending = loop {
            match batches.recv() {
                Some(Msg::Packets(b)) => {
                    if !b.secrets().is_empty() {
                        proc.add_secrets(b.secrets());
                    }
                    for (mut p, d, bytes_read) in b.packets() {
                        p.frame = FrameNo(p.frame.0 + frame_offset);
                        proc.decoded(&p, d);
                        if proc.packets.is_multiple_of(65536) {
                            progress(bytes_read);
                        }
                    }
                    batches.give_back(b);
                }
                Some(Msg::End(end)) => break Some(end),
                None => break None,
            }
        };
        drop(batches);
        match (worker.join(), ending) {
            (Ok(_), Some(end)) => end,
            // The reader thread died without saying how reading ended.
            _ => Err(CaptureError::Io {
                path: path.to_string(),
                source: std::io::Error::other("the capture reader thread stopped unexpectedly"),
            }),
        }
    })?;
    progress(ending.bytes_read);
    Ok((format, ending))
}

/// [`feed`] on the calling thread.
fn feed_here<R: Read>(
    path: &str,
    src: R,
    proc: &mut PacketProcessor,
    frame_offset: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(CaptureFormat, Ending), CaptureError> {
    let mut reader = FileReader::new(path, src)?;
    while let Some((secrets, mut p)) = reader.next_packet_with_secrets()? {
        if !secrets.is_empty() {
            proc.add_secrets(&secrets);
        }
        p.frame = FrameNo(p.frame.0 + frame_offset);
        proc.packet(&p);
        if proc.packets.is_multiple_of(65536) {
            progress(reader.bytes_read());
        }
    }
    progress(reader.bytes_read());
    Ok((
        reader.format(),
        Ending {
            link_types: reader.link_types(),
            interfaces_not_kept: reader.interfaces_not_kept(),
            truncation: reader.truncation().cloned(),
            bytes_read: reader.bytes_read(),
        },
    ))
}

/// One file of a rotated set, as the report names it: its frames are the set's
/// frames `first_frame + 1 ..= first_frame + frames` (Wireshark's 1.. in the file).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Part {
    pub path: String,
    /// Frames of the files before this one in the set.
    pub first_frame: u64,
    pub frames: u64,
}

/// The analysis of a rotated set once every file went through `proc`: `parts` says
/// where each file's frames are, `endings` how each file ended (in set order). The
/// first damaged file's truncation is the set's, its frame counted in the set.
pub fn conclude_set(
    path: &str,
    proc: PacketProcessor,
    format: CaptureFormat,
    parts: Vec<Part>,
    endings: Vec<Ending>,
) -> Result<CaptureAnalysis, CaptureError> {
    // A set: a file may declare every one of the 65,536 link type values.
    let mut link_types = std::collections::BTreeSet::new();
    let mut ending = Ending {
        link_types: Vec::new(),
        interfaces_not_kept: 0,
        truncation: None,
        bytes_read: 0,
    };
    for (i, e) in endings.into_iter().enumerate() {
        link_types.extend(e.link_types);
        ending.interfaces_not_kept += e.interfaces_not_kept;
        ending.bytes_read += e.bytes_read;
        if ending.truncation.is_none()
            && let Some(mut t) = e.truncation
        {
            if let Some(part) = parts.get(i) {
                t.frame = FrameNo(t.frame.0 + part.first_frame);
                t.reason = format!("{}: {}", base_name(&part.path), t.reason);
            }
            ending.truncation = Some(t);
        }
    }
    ending.link_types = link_types.into_iter().collect();
    let mut c = conclude(path, proc, format, ending)?;
    c.input.parts = parts;
    Ok(c)
}

/// The analysis once every packet has been through `proc`; an error when the file
/// held packets and none was on a link type we decode.
fn conclude(
    path: &str,
    proc: PacketProcessor,
    format: CaptureFormat,
    ending: Ending,
) -> Result<CaptureAnalysis, CaptureError> {
    let Ending {
        link_types,
        interfaces_not_kept,
        truncation,
        bytes_read,
    } = ending;
    if proc.packets > 0
        && proc.counts.unsupported_link == proc.packets
        && let Some(&link) = link_types.iter().find(|l| !l.is_supported())
    {
        return Err(CaptureError::UnsupportedLink {
            path: path.to_string(),
            link,
        });
    }
    let mut analysis = proc.into_analysis(
        path.to_string(),
        format,
        &link_types,
        bytes_read,
        truncation,
    );
    analysis.input.interfaces_not_kept = interfaces_not_kept;
    Ok(analysis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_ranges_point_into_the_frame_or_are_empty() {
        let frame = [0u8, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(range_in(&frame, &frame[3..6]), (3, 3));
        assert_eq!(part_of(&frame, 3, 3), &[3, 4, 5]);
        assert_eq!(range_in(&frame, &frame[8..]), (8, 0));
        assert_eq!(part_of(&frame, 8, 0), &[] as &[u8]);
        // Not a slice of the frame: empty, never out of bounds.
        let other = [9u8; 4];
        assert_eq!(range_in(&frame, &other), (0, 0));
        assert_eq!(part_of(&frame, u32::MAX, u32::MAX), &[] as &[u8]);
    }

    #[test]
    fn a_tcp_payload_survives_the_hand_over() {
        // GENERATED: Ethernet, IPv4, TCP 1234 → 8080 with 3 payload bytes and 2 bytes
        // of Ethernet padding after them.
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 43, 0, 0, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&[0x04, 0xd2, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18]);
        f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        f.extend_from_slice(b"GET\0\0");
        let p = Packet {
            frame: FrameNo(1),
            ts: Timestamp(1),
            link: LinkType::ETHERNET,
            orig_len: f.len() as u32,
            data: &f,
        };
        let Decoded::Tcp {
            src, seg, at, len, ..
        } = decode(&p)
        else {
            panic!("not TCP: {:?}", decode(&p));
        };
        assert_eq!(src.port(), 1234);
        assert!(seg.payload.is_empty());
        assert_eq!(part_of(p.data, at, len), b"GET");
    }
}
