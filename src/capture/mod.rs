//! Capture sources: where packets come from.
//!
//! First layer of the pipeline. `file` streams classic pcap and pcapng with a fixed
//! buffer (memory does not grow with the file), on the calling thread or, through `batch`,
//! on a reader thread of its own; live capture through libpcap plugs in
//! behind the same `Packet` view. `compressed` recognises gzip, zstd and xz by their
//! magic bytes and decompresses them as a stream in front of `file`. Link-layer decoding starts in `decode::link`.

pub mod batch;
pub mod compressed;
pub mod file;
pub mod linktype;
pub mod live;

pub use file::{CaptureFormat, FileReader, Truncation};
pub use linktype::LinkType;

use crate::model::{FrameNo, Timestamp};

/// One captured frame, borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub frame: FrameNo,
    pub ts: Timestamp,
    pub link: LinkType,
    /// Length on the wire; larger than `data.len()` when the snap length cut it.
    pub orig_len: u32,
    pub data: &'a [u8],
}

/// Why a capture could not be read at all (as opposed to damage part-way, which is
/// reported as a `Truncation` while every complete packet is still analysed).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a pcap or pcapng capture (starts with {magic})")]
    NotACapture { path: String, magic: String },
    #[error("{path}: empty file (0 bytes): not a capture")]
    Empty { path: String },
    #[error("{path}: capture header is cut short ({got} of {need} bytes)")]
    ShortHeader {
        path: String,
        got: usize,
        need: usize,
    },
    #[error("{path}: unsupported pcap version {major}.{minor}")]
    Version {
        path: String,
        major: u16,
        minor: u16,
    },
    #[error(
        "{path}: link type {link} is not supported (supported: Ethernet, Linux cooked v1/v2, NULL/loopback, raw IPv4/IPv6)"
    )]
    UnsupportedLink { path: String, link: LinkType },
}
