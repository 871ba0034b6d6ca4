//! Chunks of encoded flows moved out of memory, into a temporary file that has no name:
//! it is unlinked as soon as it is open, so nothing is left behind however the run
//! ends, and only this process can read it (created 0600).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub(super) struct SpillFile {
    file: File,
}

impl SpillFile {
    /// A new unnamed file in the temporary directory (`TMPDIR`); `None` if it cannot be
    /// made, and the store then keeps everything in memory.
    pub(super) fn create() -> Option<SpillFile> {
        use std::os::unix::fs::OpenOptionsExt;
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir();
        for _ in 0..8 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let name = format!(
                ".trafficdoc-flows-{}-{}-{nanos}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::Relaxed)
            );
            let path = dir.join(name);
            let Ok(file) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            else {
                continue;
            };
            if std::fs::remove_file(&path).is_err() {
                // A file we cannot unlink would outlive the run: do not use it.
                return None;
            }
            return Some(SpillFile { file });
        }
        None
    }

    /// Writes `bytes` at `at`; false on any I/O error.
    pub(super) fn write(&self, at: u64, bytes: &[u8]) -> bool {
        self.file.write_all_at(bytes, at).is_ok()
    }

    /// Reads `len` bytes at `at`.
    pub(super) fn read(&self, at: u64, len: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0; len];
        self.file.read_exact_at(&mut buf, at).ok()?;
        Some(buf)
    }
}
