//! Live capture through libpcap: the same `Packet` view as files, from an interface.
//!
//! A thread of its own takes the packets off libpcap's ring as they come, writes them
//! to the `-w` file and only copies them into a bounded queue; the analysis runs on
//! the caller's thread (the other core), so a slow moment there does not let the
//! kernel's buffer fill. What is lost is counted: libpcap's and the interface's drops,
//! and packets the queue had no room for (written to the file, not analysed).
//!
//! Opens the interface with a BPF filter written exactly as tcpdump takes it, can save
//! every packet to a pcap file as it goes (`-w`), and turns libpcap's errors into lines a
//! person can act on: missing permission names the capability and the `setcap` command,
//! an unknown interface lists the real ones, a bad filter quotes libpcap's message.

use super::{LinkType, Packet};
use crate::model::{FrameNo, Timestamp};
use std::path::{Path, PathBuf};

/// What to capture.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface name; `None` picks libpcap's default, as tcpdump does.
    pub interface: Option<String>,
    /// BPF filter expression (tcpdump syntax).
    pub filter: Option<String>,
    pub snaplen: i32,
    /// Also write every captured packet to this pcap file.
    pub write: Option<PathBuf>,
    /// When started as root, the user to become once the capture is open (tcpdump's
    /// `-Z`); `root` keeps root.
    pub user: String,
    /// Size of libpcap's (the kernel's) capture buffer, in bytes (tcpdump's `-B`).
    pub buffer_bytes: usize,
    /// Stop after this many packets.
    pub count: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "no permission to capture on {interface} (needs CAP_NET_RAW): run as root (sudo), or allow it once with: sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
    )]
    Permission { interface: String, exe: String },
    #[error("no interface named {interface:?}; available: {available}")]
    NoSuchInterface {
        interface: String,
        available: String,
    },
    #[error("bad capture filter {filter:?}: {message}")]
    BadFilter { filter: String, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("no interface to capture on (libpcap found none); name one with -i")]
    NoDefault,
    #[error(
        "cannot drop privileges to user {user:?}: {message} (name an existing user with -Z, or -Z root to keep root)"
    )]
    Privileges { user: String, message: String },
    #[error("capture on {interface} failed: {message}")]
    Pcap { interface: String, message: String },
}

/// One capturable interface, as `trafficdoc interfaces` lists it.
#[derive(Clone, Debug)]
pub struct InterfaceInfo {
    pub name: String,
    pub description: Option<String>,
    pub addresses: Vec<String>,
    pub up: bool,
    pub loopback: bool,
}

fn message(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(m) => m.clone(),
        other => other.to_string(),
    }
}

fn interface_names() -> String {
    match pcap::Device::list() {
        Ok(list) if !list.is_empty() => list
            .into_iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(", "),
        _ => "none found".to_string(),
    }
}

/// Interfaces libpcap can capture on.
pub fn interfaces() -> Result<Vec<InterfaceInfo>, LiveError> {
    let list = pcap::Device::list().map_err(|e| LiveError::Pcap {
        interface: "(listing)".into(),
        message: message(&e),
    })?;
    Ok(list
        .into_iter()
        .map(|d| InterfaceInfo {
            up: d.flags.is_up(),
            loopback: d.flags.is_loopback(),
            addresses: d.addresses.iter().map(|a| a.addr.to_string()).collect(),
            description: d.desc,
            name: d.name,
        })
        .collect())
}

/// Gives up root once the capture handle and the `-w` file are open, as tcpdump does
/// with `-Z`: a bug in a decoder then runs without privileges. Returns the user now in
/// effect when it changed anything.
pub fn drop_privileges(user: &str) -> Result<Option<String>, LiveError> {
    use nix::unistd::{Uid, User, setgid, setgroups, setuid};
    if !Uid::effective().is_root() || user == "root" {
        return Ok(None);
    }
    let fail = |message: String| LiveError::Privileges {
        user: user.to_string(),
        message,
    };
    let u = User::from_name(user)
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("no such user".into()))?;
    setgroups(&[u.gid]).map_err(|e| fail(e.to_string()))?;
    setgid(u.gid).map_err(|e| fail(e.to_string()))?;
    setuid(u.uid).map_err(|e| fail(e.to_string()))?;
    Ok(Some(u.name))
}

/// Makes the `-w` file 0600 and, when started as root, the `-Z` user's, before libpcap
/// opens it: it holds everything captured, cleartext proxy passwords included (dumpcap
/// makes its files 0600; tcpdump creates them as the `-Z` user). libpcap's `fopen` then
/// truncates the file and keeps its mode and owner. `-` (standard output) and a path
/// that is not a regular file of its own (a device such as `/dev/null`, a FIFO, a
/// symbolic or hard link) are left as they are. A file that cannot be opened is left to
/// libpcap, which reports why.
pub(crate) fn make_private(path: &Path, user: &str) -> std::io::Result<()> {
    use nix::unistd::{Uid, User};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    if path == Path::new("-") {
        return Ok(());
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false) // libpcap truncates it
        .mode(0o600)
        .open(path)
    else {
        return Ok(());
    };
    let (opened, named) = (file.metadata()?, std::fs::symlink_metadata(path)?);
    let own = named.is_file()
        && (named.dev(), named.ino()) == (opened.dev(), opened.ino())
        && opened.nlink() == 1;
    if !own {
        return Ok(());
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    if Uid::effective().is_root()
        && user != "root"
        && let Ok(Some(u)) = User::from_name(user)
    {
        std::os::unix::fs::fchown(&file, Some(u.uid.as_raw()), Some(u.gid.as_raw()))?;
    }
    Ok(())
}

/// Packets handed from the capture thread at a time, at most (bytes of packet data).
const BATCH_BYTES: usize = 256 * 1024;
/// ...and packets.
const BATCH_PACKETS: usize = 1024;
/// A batch is handed over at least this often while packets come in (so live events
/// are not held back), and whenever libpcap's read times out.
const BATCH_MS: u64 = 20;
/// Batches waiting for the analysis, at most: with full batches 32 MiB. Past it the
/// capture thread drops a batch (counted) rather than stop taking packets off the
/// ring, so a slow moment of the analysis costs the analysis packets, never the `-w`
/// file.
const QUEUE_BATCHES: usize = 128;
/// How long the capture thread waits for packets before it looks at the stop flag.
const READ_TIMEOUT_MS: i32 = 50;

/// An open live capture: a thread takes packets off libpcap's ring, writes them to
/// the `-w` file and hands them over in batches through a bounded queue; the
/// analysis reads the queue on a tokio runtime.
pub struct LiveCapture {
    rx: tokio::sync::mpsc::Receiver<Batch>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Counters>>,
    link: LinkType,
    pub interface: String,
}

/// Packets copied out of libpcap's ring, in capture order.
pub struct Batch {
    data: Vec<u8>,
    /// Per packet: header, frame number, start and length in `data`.
    packets: Vec<(pcap::PacketHeader, u64, usize, usize)>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES),
            packets: Vec::with_capacity(64),
        }
    }

    /// The pipeline's view of each packet.
    pub fn packets(&self, link: LinkType) -> impl Iterator<Item = Packet<'_>> + '_ {
        self.packets.iter().map(move |(h, frame, at, len)| Packet {
            frame: FrameNo(*frame),
            ts: Timestamp::from_parts(h.ts.tv_sec, h.ts.tv_usec.saturating_mul(1000)),
            link,
            orig_len: h.len.max(h.caplen),
            data: self.data.get(*at..at + len).unwrap_or_default(),
        })
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }
}

/// What the capture thread counted, read when it ends.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// libpcap's counters: (received by the filter, dropped because its buffer was
    /// full, dropped by the interface or driver); `None` if it could not tell.
    pub pcap: Option<(u32, u32, u32)>,
    /// Packets taken off the ring (and written to the `-w` file).
    pub captured: u64,
    /// Of those, packets dropped because the analysis queue was full: in the `-w` file,
    /// not analysed.
    pub queue_dropped: u64,
    /// Why the capture ended early, if it failed.
    pub error: Option<String>,
    /// The `-w` file could not be completed.
    pub write_error: Option<String>,
}

/// The capture thread's loop: until `stop`, `count` packets, or an error.
fn capture_loop(
    mut cap: pcap::Capture<pcap::Active>,
    mut save: Option<pcap::Savefile>,
    tx: tokio::sync::mpsc::Sender<Batch>,
    stop: &std::sync::atomic::AtomicBool,
    count: Option<u64>,
) -> Counters {
    use std::sync::atomic::Ordering;
    let mut c = Counters::default();
    let mut batch = Batch::new();
    let mut since = std::time::Instant::now();
    let hand_over = |batch: &mut Batch, c: &mut Counters| {
        if batch.is_empty() {
            return;
        }
        let full = std::mem::replace(batch, Batch::new());
        let n = full.len() as u64;
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = tx.try_send(full) {
            c.queue_dropped += n;
        }
    };
    while !stop.load(Ordering::Relaxed) && count.is_none_or(|n| c.captured < n) {
        match cap.next_packet() {
            Ok(p) => {
                if let Some(s) = &mut save {
                    s.write(&p);
                }
                c.captured += 1;
                let at = batch.data.len();
                batch.data.extend_from_slice(p.data);
                batch
                    .packets
                    .push((*p.header, c.captured, at, p.data.len()));
                if batch.data.len() >= BATCH_BYTES
                    || batch.packets.len() >= BATCH_PACKETS
                    || since.elapsed().as_millis() >= u128::from(BATCH_MS)
                {
                    hand_over(&mut batch, &mut c);
                    since = std::time::Instant::now();
                }
            }
            // Non-blocking: the ring is empty. Hand over what was taken, then wait for
            // more (or for the stop flag, at least every READ_TIMEOUT_MS).
            Err(pcap::Error::TimeoutExpired) => {
                hand_over(&mut batch, &mut c);
                since = std::time::Instant::now();
                use nix::poll::{PollFd, PollFlags, poll};
                use std::os::fd::AsFd;
                let mut fds = [PollFd::new(cap.as_fd(), PollFlags::POLLIN)];
                let _ = poll(&mut fds, u16::try_from(READ_TIMEOUT_MS).unwrap_or(50));
            }
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => {
                c.error = Some(message(&e));
                break;
            }
        }
    }
    // The last batch waits for room: the capture is over, nothing more to take off.
    if !batch.is_empty() {
        let _ = tx.blocking_send(batch);
    }
    if let Some(s) = &mut save
        && let Err(e) = s.flush()
    {
        c.write_error = Some(message(&e));
    }
    c.pcap = cap
        .stats()
        .ok()
        .map(|s| (s.received, s.dropped, s.if_dropped));
    c
}

fn classify(interface: &str, e: &pcap::Error) -> LiveError {
    let m = message(e);
    let lower = m.to_lowercase();
    if lower.contains("permission") || lower.contains("not permitted") {
        LiveError::Permission {
            interface: interface.to_string(),
            exe: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "trafficdoc".into()),
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface {
            interface: interface.to_string(),
            available: interface_names(),
        }
    } else {
        LiveError::Pcap {
            interface: interface.to_string(),
            message: m,
        }
    }
}

impl LiveCapture {
    /// Opens the interface and starts the capture thread. Must be called inside a
    /// tokio runtime.
    pub fn open(opts: &LiveOptions) -> Result<Self, LiveError> {
        let name = match &opts.interface {
            Some(n) => n.clone(),
            None => pcap::Device::lookup()
                .ok()
                .flatten()
                .map(|d| d.name)
                .ok_or(LiveError::NoDefault)?,
        };
        let mut cap = pcap::Capture::from_device(name.as_str())
            .map_err(|e| classify(&name, &e))?
            .snaplen(opts.snaplen)
            .promisc(false)
            // Not immediate mode: libpcap then uses TPACKET_V2, whose ring has a slot of
            // the snap length (256 KiB) per packet, so 8 MiB holds 32 packets. With
            // TPACKET_V3 packets are packed into blocks the kernel hands over when full
            // or after the timeout, so live events wait at most that long.
            .immediate_mode(false)
            .timeout(READ_TIMEOUT_MS)
            .buffer_size(i32::try_from(opts.buffer_bytes).unwrap_or(i32::MAX))
            .open()
            .map_err(|e| classify(&name, &e))?;
        if let Some(f) = &opts.filter {
            cap.filter(f, true).map_err(|e| LiveError::BadFilter {
                filter: f.clone(),
                message: message(&e),
            })?;
        }
        let save = match &opts.write {
            Some(p) => {
                let fail = |message: String| LiveError::Write {
                    path: p.display().to_string(),
                    message,
                };
                make_private(p, &opts.user).map_err(|e| fail(e.to_string()))?;
                Some(cap.savefile(p).map_err(|e| fail(message(&e)))?)
            }
            None => None,
        };
        let link = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(u16::MAX));
        let cap = cap.setnonblock().map_err(|e| classify(&name, &e))?;
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE_BATCHES);
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let count = opts.count;
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture_loop(cap, save, tx, &flag, count))
            .map_err(|e| LiveError::Pcap {
                interface: name.clone(),
                message: e.to_string(),
            })?;
        Ok(LiveCapture {
            rx,
            stop,
            thread: Some(thread),
            link,
            interface: name,
        })
    }

    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// Waits for the next batch of packets. `None` once the capture thread ended (it
    /// was stopped, took `count` packets, or failed) and every batch was read.
    pub async fn next(&mut self) -> Option<Batch> {
        self.rx.recv().await
    }

    /// Asks the capture thread to stop (within libpcap's read timeout); the batches
    /// it already took stay readable with [`next`](Self::next).
    pub fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits for the capture thread to end (call [`stop`](Self::stop) and read the
    /// remaining batches first) and returns its counters.
    pub fn finish(&mut self) -> Counters {
        self.stop();
        self.rx.close();
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}
