//! `doctor --capture FILE`: records doctor's own probes with libpcap (on `any`,
//! filtered to the gateway, proxy and provider ports and DNS) while they run, so
//! `trafficdoc analyze FILE` can show them frame by frame. Needs CAP_NET_RAW; without
//! it the caller says the capture was skipped.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// A capture running on its own thread.
pub struct Recorder {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<u64, String>>,
}

/// Opens `any` with `filter` and starts writing to `path` (made 0600 first: the
/// packets hold the proxy credentials and the key as sent).
pub fn start(path: &Path, filter: &str) -> Result<Recorder, String> {
    let mut cap = pcap::Capture::from_device("any")
        .map_err(|e| e.to_string())?
        .snaplen(262_144)
        .promisc(false)
        .immediate_mode(true)
        .timeout(50)
        .open()
        .map_err(|e| e.to_string())?;
    cap.filter(filter, true).map_err(|e| e.to_string())?;
    crate::capture::live::make_private(path, "root").map_err(|e| e.to_string())?;
    let mut save = cap.savefile(path).map_err(|e| e.to_string())?;
    // Non-blocking, so the thread sees the stop flag however quiet the network is.
    let mut cap = cap.setnonblock().map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut n = 0u64;
        loop {
            match cap.next_packet() {
                Ok(p) => {
                    save.write(&p);
                    n += 1;
                }
                Err(pcap::Error::TimeoutExpired) => {
                    if flag.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        save.flush().map_err(|e| e.to_string())?;
        Ok(n)
    });
    Ok(Recorder { stop, handle })
}

impl Recorder {
    /// Stops after the packets still in flight, and returns how many were written.
    pub fn finish(self) -> Result<u64, String> {
        std::thread::sleep(std::time::Duration::from_millis(150));
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .join()
            .map_err(|_| "the capture thread failed".to_string())?
    }
}
