//! Standard output and error as the commands see them: a reader that closes the pipe
//! early (`trafficdoc analyze x | head -1`) ends the output, never the run, so the exit
//! code still says what was found; any other write failure of the output (a full disk)
//! is an error. Standard error is best effort: a warning that cannot be written never
//! costs the report or its exit code.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the reader of standard output has gone away.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// True once standard output's reader has closed the pipe: what is written from then
/// on is dropped. A live capture stops at that moment, as tcpdump does.
pub fn stdout_closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// A writer that turns a closed pipe into the end of the output: the bytes of every
/// later write are dropped, and [`stdout_closed`] says so. Other errors pass through.
pub struct PipeEnd<W: Write> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeEnd<W> {
    /// Wraps `inner` (standard output).
    pub fn new(inner: W) -> Self {
        PipeEnd {
            inner,
            closed: false,
        }
    }

    fn close(&mut self) {
        self.closed = true;
        CLOSED.store(true, Ordering::Relaxed);
    }
}

impl<W: Write> Write for PipeEnd<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.close();
                Ok(buf.len())
            }
            r => r,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.close();
                Ok(())
            }
            r => r,
        }
    }
}

/// Standard error: what cannot be written there is dropped, as there is nowhere
/// left to say so; the report on standard output and the exit code stay.
pub struct BestEffort<W: Write>(pub W);

impl<W: Write> Write for BestEffort<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.0.write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails with `kind`.
    struct Failing {
        room: usize,
        kind: io::ErrorKind,
        got: Vec<u8>,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn closed_pipe_ends_the_output_not_the_writer() {
        let mut w = PipeEnd::new(Failing {
            room: 5,
            kind: io::ErrorKind::BrokenPipe,
            got: Vec::new(),
        });
        w.write_all(b"hello world").unwrap();
        writeln!(w, "more").unwrap();
        w.flush().unwrap();
        assert_eq!(w.inner.got, b"hello");
        assert!(w.closed && stdout_closed());
    }

    #[test]
    fn best_effort_never_fails() {
        let mut w = BestEffort(Failing {
            room: 3,
            kind: io::ErrorKind::StorageFull,
            got: Vec::new(),
        });
        writeln!(w, "warning: something").unwrap();
        w.flush().unwrap();
        assert_eq!(w.0.got, b"war");
    }

    #[test]
    fn other_failures_stay_errors() {
        let mut w = PipeEnd::new(Failing {
            room: 0,
            kind: io::ErrorKind::StorageFull,
            got: Vec::new(),
        });
        let e = w.write_all(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert!(!w.closed);
    }
}
