//! How `analyze` reads its inputs: each file or standard input, decompressed when its
//! first bytes say so, and the files of a rotated set as one capture.
//!
//! A rotated set is what `tcpdump -C/-G/-W -w` or `dumpcap -b` leave behind: files
//! whose names differ only in digits (`cap.pcap`, `cap.pcap1`; `cap0`, `cap1`;
//! `cap_00001_20240102030405.pcapng`), on the same link type, whose packets follow
//! each other in time without overlapping. They are read in time order into one
//! analysis, so a connection crossing a file boundary stays one connection; frames
//! are numbered across the set (`pipeline::Part`). Files that overlap in time are
//! separate captures.

use super::AnalyzeArgs;
use crate::capture::compressed::{self, Damage};
use crate::capture::{CaptureError, FileReader, LinkType, Truncation};
use crate::flow::table::TableConfig;
use crate::model::{FrameNo, Timestamp};
use crate::pipeline::{self, CaptureAnalysis, PacketProcessor, Part};
use crate::protocols::DecodeOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An input opened for reading, decompressing if need be.
struct Input {
    name: String,
    opened: compressed::Opened,
    /// Bytes on disk; `None` for standard input.
    size: Option<u64>,
}

fn open_input(path: &Path) -> Result<Input, CaptureError> {
    let name = path.display().to_string();
    let io_err = |e| CaptureError::Io {
        path: name.clone(),
        source: e,
    };
    let (src, size): (Box<dyn io::Read + Send>, Option<u64>) = if name == "-" {
        // Not `stdin().lock()`: the reader thread needs a handle it can take along.
        (Box::new(io::stdin()), None)
    } else {
        let f = std::fs::File::open(path).map_err(io_err)?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(f), Some(size))
    };
    let opened = compressed::open(src).map_err(io_err)?;
    Ok(Input { name, opened, size })
}

/// Every input analysed, in the order given (a rotated set where its first file was
/// named); an error for each input that could not be read at all.
pub(super) fn read_all(
    args: &AnalyzeArgs,
    cfg: TableConfig,
    decode: &Arc<DecodeOptions>,
) -> Vec<Result<CaptureAnalysis, CaptureError>> {
    let mut out = Vec::new();
    for group in plan(&args.files) {
        match group.as_slice() {
            [one] => out.push(read_one(args, one, cfg, decode)),
            set => out.extend(read_set(args, set, cfg, decode)),
        }
    }
    out
}

/// Feeds one opened input to `proc` and says how it ended, a damaged compressed stream
/// turned into a truncation of the file.
fn feed(
    args: &AnalyzeArgs,
    input: Input,
    proc: &mut PacketProcessor,
    frame_offset: u64,
) -> Result<(crate::capture::CaptureFormat, crate::capture::batch::Ending), CaptureError> {
    let Input { name, opened, size } = input;
    // The bar follows decompressed bytes: only for a file read as it is.
    let bar = match (size, opened.compression) {
        (Some(s), None) => super::analyze::progress_bar(&name, s),
        _ => None,
    };
    // A compressed file costs more to read than its size says: two threads.
    let opts = args.read_options(size.filter(|_| opened.compression.is_none()));
    let before = proc.packets;
    let r = pipeline::feed(
        &name,
        opened.reader,
        proc,
        frame_offset,
        opts,
        &mut |done| {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    damaged(r, &opened.damage, &name, proc.packets - before)
}

/// A compressed stream that stopped early (`damage`) as the truncation of the file,
/// or as its error when not even its header could be read.
fn damaged<T>(
    r: Result<(T, crate::capture::batch::Ending), CaptureError>,
    damage: &Damage,
    name: &str,
    frames: u64,
) -> Result<(T, crate::capture::batch::Ending), CaptureError> {
    let Some(why) = damage.reason() else {
        return r;
    };
    match r {
        Ok((f, mut ending)) => {
            match &mut ending.truncation {
                Some(t) => t.reason = format!("{why}: {}", t.reason),
                None => {
                    ending.truncation = Some(Truncation {
                        frame: FrameNo(frames + 1),
                        offset: ending.bytes_read,
                        have: 0,
                        need: 0,
                        reason: why,
                    })
                }
            }
            Ok((f, ending))
        }
        Err(_) => Err(CaptureError::Io {
            path: name.to_string(),
            source: io::Error::other(why),
        }),
    }
}

/// Opens and analyses one input (`-`: standard input).
fn read_one(
    args: &AnalyzeArgs,
    path: &Path,
    cfg: TableConfig,
    decode: &Arc<DecodeOptions>,
) -> Result<CaptureAnalysis, CaptureError> {
    let input = open_input(path)?;
    let name = input.name.clone();
    let mut proc = PacketProcessor::with_options(cfg, Arc::clone(decode));
    let (format, ending) = feed(args, input, &mut proc, 0)?;
    pipeline::conclude_set(&name, proc, format, Vec::new(), vec![ending])
}

/// The files of one set (in time order) read into as few captures as they allow: a
/// file that starts before the previous one ended starts a new capture.
fn read_set(
    args: &AnalyzeArgs,
    set: &[PathBuf],
    cfg: TableConfig,
    decode: &Arc<DecodeOptions>,
) -> Vec<Result<CaptureAnalysis, CaptureError>> {
    let mut out = Vec::new();
    let mut current: Option<Building> = None;
    for path in set {
        let input = match open_input(path) {
            Ok(i) => i,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        let starts = peek(path).map(|(_, ts)| ts);
        // Overlapping the set so far: not the same recording.
        if let Some(b) = &current
            && starts.is_some_and(|t| b.proc.last_ts.is_some_and(|end| t < end))
            && let Some(b) = current.take()
        {
            out.push(b.finish());
        }
        let b = current.get_or_insert_with(|| Building {
            proc: PacketProcessor::with_options(cfg, Arc::clone(decode)),
            format: None,
            parts: Vec::new(),
            endings: Vec::new(),
        });
        let name = input.name.clone();
        let first_frame = b.proc.packets;
        match feed(args, input, &mut b.proc, first_frame) {
            Ok((format, ending)) => {
                b.format.get_or_insert(format);
                b.parts.push(Part {
                    path: name,
                    first_frame,
                    frames: b.proc.packets - first_frame,
                });
                b.endings.push(ending);
            }
            Err(e) => out.push(Err(e)),
        }
    }
    if let Some(b) = current {
        out.push(b.finish());
    }
    out
}

/// A rotated set being read.
struct Building {
    proc: PacketProcessor,
    format: Option<crate::capture::CaptureFormat>,
    parts: Vec<Part>,
    endings: Vec<crate::capture::batch::Ending>,
}

impl Building {
    fn finish(mut self) -> Result<CaptureAnalysis, CaptureError> {
        let name = self.parts.first().map_or(String::new(), |p| p.path.clone());
        // One file left: a capture like any other.
        if self.parts.len() == 1 {
            self.parts.clear();
        }
        pipeline::conclude_set(
            &name,
            self.proc,
            self.format.unwrap_or(crate::capture::CaptureFormat::Pcap),
            self.parts,
            self.endings,
        )
    }
}

/// The first packet's link type and time, if the file has one (it is opened for
/// this and closed again: a set may have hundreds of files).
fn peek(path: &Path) -> Option<(LinkType, Timestamp)> {
    let input = open_input(path).ok()?;
    let mut r = FileReader::new(input.name, input.opened.reader).ok()?;
    let p = r.next_packet().ok()??;
    (p.ts.0 != 0).then_some((p.link, p.ts))
}

/// What the names of one rotated set share: the directory and the file name with its
/// digits taken out (`cap.pcap3` → `cap.pcap`).
fn rotation_key(path: &Path) -> Option<(PathBuf, String)> {
    // `tcpdump -C` names its first file without a number: it joins the others.
    let name = path.file_name()?.to_str()?;
    let key: String = name.chars().filter(|c| !c.is_ascii_digit()).collect();
    Some((
        path.parent().map(Path::to_path_buf).unwrap_or_default(),
        key,
    ))
}

/// The inputs in groups read as one capture each: alone, or a candidate rotated set
/// (names differing only in digits, same link type), sorted by first packet time. A
/// group comes where its first-named file was.
fn plan(files: &[PathBuf]) -> Vec<Vec<PathBuf>> {
    type Key = (PathBuf, String, LinkType);
    type Members = Vec<(Timestamp, PathBuf)>;
    let mut groups: Vec<(Option<Key>, Members)> = Vec::new();
    for path in files {
        let key = if path.as_os_str() == "-" {
            None
        } else {
            rotation_key(path).zip(peek(path))
        };
        match key {
            Some(((dir, name), (link, ts))) => {
                let k = (dir, name, link);
                match groups.iter_mut().find(|(g, _)| g.as_ref() == Some(&k)) {
                    Some((_, members)) => members.push((ts, path.clone())),
                    None => groups.push((Some(k), vec![(ts, path.clone())])),
                }
            }
            None => groups.push((None, vec![(Timestamp(0), path.clone())])),
        }
    }
    groups
        .into_iter()
        .map(|(_, mut members)| {
            // Stable: files starting at the same time keep the order given.
            members.sort_by_key(|(ts, _)| *ts);
            members.into_iter().map(|(_, p)| p).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_names_share_a_key_and_other_names_do_not() {
        let key = |p: &str| rotation_key(Path::new(p)).map(|(_, k)| k);
        // tcpdump -C (first file unnumbered), -W, -G strftime; dumpcap -b.
        assert_eq!(key("d/cap.pcap"), key("d/cap.pcap1"));
        assert_eq!(key("cap.pcap0"), key("cap.pcap12"));
        assert_eq!(key("w-101500.pcap"), key("w-101505.pcap"));
        assert_eq!(
            key("ring_00001_20240102030405.pcapng"),
            key("ring_00002_20240102030410.pcapng")
        );
        assert_ne!(key("s2-wrong-password.pcap"), key("s2-no-credentials.pcap"));
        assert_ne!(
            rotation_key(Path::new("a/cap1.pcap")),
            rotation_key(Path::new("b/cap2.pcap"))
        );
    }
}
