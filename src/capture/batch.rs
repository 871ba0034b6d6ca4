//! Hands a capture file's packets from a reader thread to the thread that analyses
//! them, in batches.
//!
//! The reader thread runs the ordinary [`FileReader`] (file I/O and record framing)
//! and copies each packet into a [`Batch`]: one buffer of concatenated packet bytes and
//! a small header per packet, with whatever the caller chose to work out from the
//! packet on the reader thread too (a `T`: the analysis decodes link and IP headers
//! there). Full batches go over a bounded channel and come back
//! empty over a return channel, so after the first few there is no allocation per
//! batch and memory is a fixed number of batches, whatever the file size. The packets
//! come out in file order with exactly the fields `FileReader` gave them; how reading
//! ended (clean end, damaged record, I/O error) comes last, once.

use super::{CaptureError, FileReader, LinkType, Packet, Truncation};
use crate::model::{FrameNo, Timestamp};
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};

/// Packet bytes per batch, by default. Measured on the 1 GiB benchmark capture (2
/// cores, 1 MiB second-level cache each): 64 KiB batches are slower than one thread
/// (a hand-over, often a thread wake-up, every 70 packets), 256 KiB 5 % slower than
/// 512 KiB to 2 MiB, which are alike, and 4 MiB and more slower again (batches no
/// longer in cache when the other thread reads them). Of the alike, the smallest
/// takes least memory.
pub const DEFAULT_BATCH_BYTES: usize = 512 << 10;

/// Largest `batch_bytes` taken: past it a batch only costs memory.
const MAX_BATCH_BYTES: usize = 64 << 20;

/// Most packets in one batch, so headers stay bounded when packets carry (almost) no
/// bytes. A header with its decoded addresses is ~150 bytes: 2,048 of them are 300 KB
/// a batch (16,384 made a SYN flood cost 8 MiB more on two threads than on one).
const MAX_BATCH_PACKETS: usize = 2 * 1024;

/// Room reserved beyond `batch_bytes` so the packet that fills a batch does not make
/// its buffer grow (libpcap's largest snap length); larger records still fit, the
/// buffer grows then and is trimmed back when it returns.
const SLACK: usize = 256 * 1024;

/// Full batches queued between the threads. With the one being filled and the one
/// being analysed, at most `QUEUED + 2` batches exist.
const QUEUED: usize = 2;

/// One packet of a batch: `Packet` without the borrowed bytes, and `T`.
#[derive(Clone, Copy, Debug)]
struct Head<T> {
    frame: FrameNo,
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    /// Captured bytes, in `Batch::data` right after the previous packet's.
    len: u32,
    /// `FileReader::bytes_read` just after this packet, for progress reports.
    bytes_read: u64,
    extra: T,
}

/// Consecutive packets of a capture, their bytes in one buffer.
#[derive(Debug)]
pub struct Batch<T> {
    data: Vec<u8>,
    heads: Vec<Head<T>>,
    /// TLS key log text from the file's Decryption Secrets Blocks right before the
    /// first of these packets: to be used before them.
    secrets: Vec<u8>,
}

impl<T> Batch<T> {
    fn with_capacity(bytes: usize) -> Batch<T> {
        Batch {
            data: Vec::with_capacity(bytes + SLACK),
            heads: Vec::new(),
            secrets: Vec::new(),
        }
    }

    fn push(&mut self, p: &Packet<'_>, extra: T) {
        self.data.extend_from_slice(p.data);
        self.heads.push(Head {
            frame: p.frame,
            ts: p.ts,
            link: p.link,
            orig_len: p.orig_len,
            // FileReader's records are at most 16 MiB.
            len: u32::try_from(p.data.len()).unwrap_or(u32::MAX),
            bytes_read: 0,
            extra,
        });
    }

    fn is_full(&self, batch_bytes: usize) -> bool {
        self.data.len() >= batch_bytes || self.heads.len() >= MAX_BATCH_PACKETS
    }

    /// Empties the batch for reuse, giving back what one oversized record made it take.
    fn recycle(&mut self, batch_bytes: usize) {
        self.data.clear();
        self.heads.clear();
        self.secrets = Vec::new();
        self.data.shrink_to(batch_bytes + SLACK);
    }

    pub fn len(&self) -> usize {
        self.heads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty() && self.secrets.is_empty()
    }

    /// The TLS key log text that applies from the first of these packets on (empty
    /// when none).
    pub fn secrets(&self) -> &[u8] {
        &self.secrets
    }

    /// The packets in file order, each with what was worked out from it on the reader
    /// thread and the bytes read from the file once it had been read.
    pub fn packets(&self) -> impl Iterator<Item = (Packet<'_>, &T, u64)> {
        let mut rest = &self.data[..];
        self.heads.iter().map(move |h| {
            let (data, after) = rest.split_at_checked(h.len as usize).unwrap_or((rest, &[]));
            rest = after;
            (
                Packet {
                    frame: h.frame,
                    ts: h.ts,
                    link: h.link,
                    orig_len: h.orig_len,
                    data,
                },
                &h.extra,
                h.bytes_read,
            )
        })
    }
}

/// How reading ended, as `FileReader` tells it once it has returned its last packet.
#[derive(Debug)]
pub struct Ending {
    /// Link types the file declared (see `FileReader::link_types`).
    pub link_types: Vec<LinkType>,
    /// See `FileReader::interfaces_not_kept`.
    pub interfaces_not_kept: u64,
    pub truncation: Option<Truncation>,
    pub bytes_read: u64,
}

/// What the reader thread sends.
#[derive(Debug)]
pub enum Msg<T> {
    Packets(Batch<T>),
    /// The last message: the reader's end of file, or the error that stopped it (every
    /// packet before the error was sent first).
    End(Result<Ending, CaptureError>),
}

/// The receiving end: full batches in, empty ones back.
pub struct Batches<T> {
    full: Receiver<Msg<T>>,
    empty: SyncSender<Batch<T>>,
}

impl<T> Batches<T> {
    /// The next message; `None` when the reader thread is gone without saying how
    /// reading ended (it panicked).
    pub fn recv(&self) -> Option<Msg<T>> {
        self.full.recv().ok()
    }

    /// Gives an analysed batch back to the reader thread for reuse.
    pub fn give_back(&self, batch: Batch<T>) {
        // Never blocks: the channel holds as many batches as can exist. A reader that
        // is gone no longer needs it.
        let _ = self.empty.try_send(batch);
    }
}

/// The reader thread's end of the channels.
pub struct BatchSender<T> {
    full: SyncSender<Msg<T>>,
    empty: Receiver<Batch<T>>,
    batch_bytes: usize,
    made: usize,
}

/// The two ends of the channels between a reader thread and the analysing thread.
/// `batch_bytes` is the packet bytes after which a batch is sent (at least one packet
/// per batch, and at most 64 MiB, whatever the value).
pub fn channel<T>(batch_bytes: usize) -> (BatchSender<T>, Batches<T>) {
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel(QUEUED);
    let (empty_tx, empty_rx) = std::sync::mpsc::sync_channel(QUEUED + 2);
    (
        BatchSender {
            full: full_tx,
            empty: empty_rx,
            batch_bytes: batch_bytes.clamp(1, MAX_BATCH_BYTES),
            made: 0,
        },
        Batches {
            full: full_rx,
            empty: empty_tx,
        },
    )
}

impl<T> BatchSender<T> {
    /// An empty batch: a returned one, or a new one while fewer than `QUEUED + 2`
    /// exist. `None` when the receiving end is gone.
    fn empty_batch(&mut self) -> Option<Batch<T>> {
        let mut b = match self.empty.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Empty) if self.made < QUEUED + 2 => {
                self.made += 1;
                return Some(Batch::with_capacity(self.batch_bytes));
            }
            Err(TryRecvError::Empty) => self.empty.recv().ok()?,
            Err(TryRecvError::Disconnected) => return None,
        };
        b.recycle(self.batch_bytes);
        Some(b)
    }

    /// Reads the whole capture and sends its packets, each with `work(packet)`, then
    /// how reading ended. Stops early, quietly, when the receiving end is dropped.
    /// Returns how many batches it made (at most `QUEUED + 2`, the memory it took).
    pub fn run<R: Read>(
        mut self,
        mut reader: FileReader<R>,
        mut work: impl FnMut(&Packet<'_>) -> T,
    ) -> usize {
        loop {
            let Some(mut batch) = self.empty_batch() else {
                return self.made;
            };
            let ended = loop {
                match reader.next_packet_with_secrets() {
                    Ok(Some((secrets, p))) => {
                        if !secrets.is_empty() {
                            // They apply from this packet on: the packets before it
                            // go in a batch of their own.
                            if !batch.heads.is_empty() {
                                if self.full.send(Msg::Packets(batch)).is_err() {
                                    return self.made;
                                }
                                let Some(next) = self.empty_batch() else {
                                    return self.made;
                                };
                                batch = next;
                            }
                            batch.secrets = secrets;
                        }
                        let extra = work(&p);
                        batch.push(&p, extra);
                    }
                    Ok(None) => {
                        break Some(Ok(Ending {
                            link_types: reader.link_types(),
                            interfaces_not_kept: reader.interfaces_not_kept(),
                            truncation: reader.truncation().cloned(),
                            bytes_read: reader.bytes_read(),
                        }));
                    }
                    Err(e) => break Some(Err(e)),
                }
                if let Some(h) = batch.heads.last_mut() {
                    h.bytes_read = reader.bytes_read();
                }
                if batch.is_full(self.batch_bytes) {
                    break None;
                }
            };
            if !batch.is_empty() && self.full.send(Msg::Packets(batch)).is_err() {
                return self.made;
            }
            if let Some(end) = ended {
                let _ = self.full.send(Msg::End(end));
                return self.made;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GENERATED: a pcap of `n` Ethernet-sized records, record `i` filled with `i as u8`.
    fn capture(n: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        for i in 0..n {
            let len = 60 + i % 40;
            for x in [i, 0, len, len] {
                v.extend_from_slice(&x.to_le_bytes());
            }
            v.extend(std::iter::repeat_n(i as u8, len as usize));
        }
        v
    }

    #[test]
    fn every_packet_arrives_in_order_through_a_fixed_set_of_buffers() {
        let bytes = capture(10_000);
        let (tx, rx) = channel::<FrameNo>(1000);
        let reader = FileReader::new("t", &bytes[..]).unwrap();
        std::thread::scope(|s| {
            let t = s.spawn(move || tx.run(reader, |p| p.frame));
            let mut frames = 0u64;
            let mut batches = 0;
            let ending = loop {
                match rx.recv().unwrap() {
                    Msg::Packets(b) => {
                        batches += 1;
                        assert!(!b.is_empty() && b.len() <= 20, "{} packets", b.len());
                        for (p, worked_out, bytes_read) in b.packets() {
                            frames += 1;
                            assert_eq!(p.frame, FrameNo(frames));
                            assert_eq!(*worked_out, p.frame);
                            let i = (frames - 1) as u32;
                            assert_eq!(p.data.len() as u32, 60 + i % 40);
                            assert!(p.data.iter().all(|&x| x == i as u8));
                            assert!(bytes_read > 24 && bytes_read <= bytes.len() as u64);
                        }
                        rx.give_back(b);
                    }
                    Msg::End(e) => break e.unwrap(),
                }
            };
            assert_eq!(frames, 10_000);
            assert_eq!(ending.bytes_read, bytes.len() as u64);
            assert!(ending.truncation.is_none());
            // Hundreds of batches went over through the same few buffers: memory stays
            // flat.
            assert!(batches > 500, "{batches} batches");
            let made = t.join().unwrap();
            assert!((1..=QUEUED + 2).contains(&made), "{made} batches made");
        });
    }

    #[test]
    fn the_reader_stops_when_the_receiving_end_goes() {
        let bytes = capture(10_000);
        let (tx, rx) = channel::<FrameNo>(100);
        let reader = FileReader::new("t", &bytes[..]).unwrap();
        std::thread::scope(|s| {
            let t = s.spawn(move || tx.run(reader, |p| p.frame));
            assert!(matches!(rx.recv(), Some(Msg::Packets(_))));
            drop(rx);
            // Joined by the scope: a reader blocked on a full channel would hang here.
            assert!(t.join().unwrap() <= QUEUED + 2);
        });
    }

    #[test]
    fn a_cut_record_ends_the_stream_after_every_complete_packet() {
        let bytes = capture(100);
        let cut = &bytes[..bytes.len() - 7];
        let (tx, rx) = channel::<FrameNo>(500);
        let reader = FileReader::new("t", cut).unwrap();
        std::thread::scope(|s| {
            s.spawn(move || tx.run(reader, |p| p.frame));
            let mut n = 0;
            loop {
                match rx.recv().unwrap() {
                    Msg::Packets(b) => {
                        n += b.len();
                        rx.give_back(b);
                    }
                    Msg::End(e) => {
                        let t = e.unwrap().truncation.unwrap();
                        assert_eq!(t.frame, FrameNo(100));
                        break;
                    }
                }
            }
            assert_eq!(n, 99);
            assert!(rx.recv().is_none());
        });
    }
}
