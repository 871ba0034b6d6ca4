//! Live capture through libpcap: the same `Packet` view as files, from an interface.
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

/// An open live capture, read asynchronously on a tokio runtime.
pub struct LiveCapture {
    stream: pcap::PacketStream<pcap::Active, OwnedCodec>,
    save: Option<pcap::Savefile>,
    link: LinkType,
    frame: u64,
    pub interface: String,
}

/// A packet copied out of libpcap's ring (the stream hands packets across an await).
pub struct OwnedPacket {
    header: pcap::PacketHeader,
    data: Vec<u8>,
    frame: u64,
}

impl OwnedPacket {
    /// The pipeline's view of this packet.
    pub fn packet(&self, link: LinkType) -> Packet<'_> {
        let h = &self.header;
        Packet {
            frame: FrameNo(self.frame),
            ts: Timestamp::from_parts(h.ts.tv_sec, h.ts.tv_usec.saturating_mul(1000)),
            link,
            orig_len: h.len.max(h.caplen),
            data: &self.data,
        }
    }
}

pub struct OwnedCodec;

impl pcap::PacketCodec for OwnedCodec {
    type Item = OwnedPacket;
    fn decode(&mut self, p: pcap::Packet<'_>) -> OwnedPacket {
        OwnedPacket {
            header: *p.header,
            data: p.data.to_vec(),
            frame: 0,
        }
    }
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
    /// Opens the interface. Must be called inside a tokio runtime (the capture's file
    /// descriptor is registered with it).
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
            .immediate_mode(true)
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
        let stream = cap
            .setnonblock()
            .and_then(|c| c.stream(OwnedCodec))
            .map_err(|e| classify(&name, &e))?;
        Ok(LiveCapture {
            stream,
            save,
            link,
            frame: 0,
            interface: name,
        })
    }

    pub fn link_type(&self) -> LinkType {
        self.link
    }

    /// Waits for the next packet and saves it to the `-w` file. `Ok(None)` when the
    /// capture ended (the interface went away).
    pub async fn next(&mut self) -> Result<Option<OwnedPacket>, LiveError> {
        use futures::StreamExt;
        match self.stream.next().await {
            Some(Ok(mut p)) => {
                if let Some(s) = &mut self.save {
                    s.write(&pcap::Packet::new(&p.header, &p.data));
                }
                self.frame += 1;
                p.frame = self.frame;
                Ok(Some(p))
            }
            Some(Err(e)) => Err(LiveError::Pcap {
                interface: self.interface.clone(),
                message: message(&e),
            }),
            None => Ok(None),
        }
    }

    /// Writes buffered packets of the `-w` file to disk.
    pub fn flush(&mut self) -> Result<(), LiveError> {
        if let Some(s) = &mut self.save {
            s.flush().map_err(|e| LiveError::Pcap {
                interface: self.interface.clone(),
                message: message(&e),
            })?;
        }
        Ok(())
    }

    /// libpcap's counters: (received, dropped by libpcap's buffer, dropped by the
    /// interface or driver).
    pub fn stats(&mut self) -> Option<(u32, u32, u32)> {
        self.stream
            .capture_mut()
            .stats()
            .ok()
            .map(|s| (s.received, s.dropped, s.if_dropped))
    }
}
