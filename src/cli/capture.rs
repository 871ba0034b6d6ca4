//! `trafficdoc capture`: the offline pipeline fed from an interface, reporting as it
//! goes; and `trafficdoc interfaces`, the interfaces it can capture on.
//!
//! One tokio task selects over the packet stream (libpcap's descriptor registered with
//! tokio), Ctrl-C / SIGTERM, the `--duration` deadline and a one-second tick. On every
//! tick it takes a snapshot of the analysis and prints what
//! changed (a new HTTP status, a reset, a TLS alert...) the moment it is known; at the
//! end it prints the same report `analyze` gives for the saved file. Ctrl-C never loses
//! the `-w` file or the report: both are finished before exit.

use super::{CaptureArgs, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, LiveFormatArg};
use crate::capture::CaptureFormat;
use crate::capture::live::{LiveCapture, LiveError, LiveOptions};
use crate::flow::table::TableConfig;
use crate::pipeline::{CaptureAnalysis, CaptureStats, PacketProcessor};
use crate::report::{self, Report, json, prose};
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::time::Duration;

pub(super) fn interfaces(out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    match crate::capture::live::interfaces() {
        Ok(list) => {
            for (n, i) in list.iter().enumerate() {
                let mut flags = Vec::new();
                if i.up {
                    flags.push("up");
                }
                if i.loopback {
                    flags.push("loopback");
                }
                writeln!(
                    out,
                    "{}. {}{}{}{}",
                    n + 1,
                    i.name,
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", flags.join(", "))
                    },
                    i.description
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default(),
                    if i.addresses.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", i.addresses.join(" "))
                    }
                )?;
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            Ok(EXIT_ERROR)
        }
    }
}

pub(super) fn capture(
    args: &CaptureArgs,
    color: bool,
    width: Option<u16>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let Some(acfg) = super::diagnosis_config(&args.diagnose, err)? else {
        return Ok(EXIT_ERROR);
    };
    super::clock::init();
    let Some(decode) = super::decode_options(&args.diagnose, err)? else {
        return Ok(EXIT_ERROR);
    };
    let filter = (!args.filter.is_empty()).then(|| args.filter.join(" "));
    // Not NaN, infinite, negative or too big for a Duration (`1e308` once panicked).
    let duration = match args.duration.map(|d| (d, Duration::try_from_secs_f64(d))) {
        Some((d, Ok(t))) if d > 0.0 => Some(t),
        Some(_) => {
            writeln!(
                err,
                "trafficdoc: --duration must be a positive number of seconds (below 2^64)"
            )?;
            return Ok(EXIT_ERROR);
        }
        None => None,
    };
    // Opened now, while we may still be root: the capture gives up its privileges
    // (-Z) before the page is written at the end.
    let mut html = match &args.html {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some((path, io::BufWriter::new(f))),
            Err(e) => {
                writeln!(err, "trafficdoc: --html {}: {e}", path.display())?;
                return Ok(EXIT_ERROR);
            }
        },
        None => None,
    };
    let run = LiveRun {
        opts: LiveOptions {
            interface: args.interface.clone(),
            filter,
            snaplen: if args.snaplen <= 0 {
                262144
            } else {
                args.snaplen
            },
            write: args.write.clone(),
            user: args.user.clone(),
            buffer_bytes: args.buffer_size as usize * 1024,
            count: args.count,
        },
        duration,
        format: args.format,
        table: TableConfig::default(),
        decode,
        analysis: acfg.clone(),
    };
    let (analysis, stopped_at, write_failed) = match run_live(&run, out, err) {
        Ok(a) => a,
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            return Ok(EXIT_ERROR);
        }
    };
    // Judged at the moment the capture stopped, like the live findings: a CONNECT
    // still unanswered then is the stall that was printed.
    let acfg = crate::analyze::Config {
        now: Some(stopped_at),
        ..acfg
    };
    let captures = [analysis];
    let (findings, summary) = crate::analyze::diagnose(&captures, &acfg);
    let report = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    let format = match args.format {
        LiveFormatArg::Table => {
            // A blank line between the events and the report.
            writeln!(out)?;
            report::Format::Table(report::TableStyle {
                width,
                color,
                max_flows: report::table::DEFAULT_LISTED_FLOWS,
            })
        }
        LiveFormatArg::Json => report::Format::Json,
        LiveFormatArg::Ndjson => report::Format::Ndjson,
    };
    report::write(format, &report, out)?;
    if let Some((path, file)) = &mut html
        && let Err(e) =
            report::write(report::Format::Html, &report, file).and_then(|()| file.flush())
    {
        writeln!(err, "trafficdoc: --html {}: {e}", path.display())?;
        return Ok(EXIT_ERROR);
    }
    if let Some(dir) = &args.diagnose.export_certs
        && !report::export_certs(format, &report, dir, out, err)?
    {
        return Ok(EXIT_ERROR);
    }
    out.flush()?;
    // The evidence the -w file was asked to keep is lost: said on stderr while it ran,
    // and a failure like any output that could not be written.
    if write_failed {
        return Ok(EXIT_ERROR);
    }
    // Same codes as analyze, so a CI job can gate on a live run too.
    Ok(if crate::analyze::has_error(&findings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// A live capture once stopped: its analysis, the moment it stopped, and whether the
/// `-w` file could not be written in full.
type Stopped = (CaptureAnalysis, crate::model::Timestamp, bool);

/// One live capture: where and how long to capture, and what to print meanwhile.
struct LiveRun {
    opts: LiveOptions,
    /// Rules' settings; `now` is set to the wall clock at every tick.
    analysis: crate::analyze::Config,
    duration: Option<Duration>,
    format: LiveFormatArg,
    table: TableConfig,
    /// The decoders' options (key logs).
    decode: std::sync::Arc<crate::protocols::DecodeOptions>,
}

/// Completes on SIGTERM (never, where there is no such signal).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}

type FlowKey = (SocketAddr, SocketAddr, u64);

/// Prints flows whose one-line summary changed since the last snapshot, and findings
/// the moment the rules first reach them.
struct EventPrinter {
    seen: HashMap<FlowKey, String>,
    findings_seen: std::collections::HashSet<(crate::analyze::FindingKind, String)>,
    events: u64,
    findings: u64,
}

fn wall_clock() -> crate::model::Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    crate::model::Timestamp::from_parts(d.as_secs() as i64, i64::from(d.subsec_nanos()))
}

impl EventPrinter {
    /// Runs the rules over the snapshot, judging waits against `now`, and prints the
    /// findings not printed before.
    fn print_findings(
        &mut self,
        snap: &CaptureAnalysis,
        cfg: &crate::analyze::Config,
        format: LiveFormatArg,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let findings = crate::analyze::analyze(std::slice::from_ref(snap), cfg);
        for f in findings {
            if !self.findings_seen.insert((f.kind, f.title.clone())) {
                continue;
            }
            self.findings += 1;
            match format {
                LiveFormatArg::Table => {
                    let section = f
                        .guide_section
                        .map(|s| format!(" [guide §{s}]"))
                        .unwrap_or_default();
                    let frames: Vec<String> = f
                        .evidence
                        .iter()
                        .flat_map(|e| e.frames.iter().map(u64::to_string))
                        .take(4)
                        .collect();
                    let at = if frames.is_empty() {
                        String::new()
                    } else {
                        let s = if frames.len() == 1 { "" } else { "s" };
                        format!(" (frame{s} {})", frames.join(", "))
                    };
                    let now = snap
                        .input
                        .last_ts
                        .map(super::clock::hms)
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "{now} {}{section} {}{at}",
                        f.severity.as_str(),
                        f.title
                    )?;
                }
                LiveFormatArg::Ndjson => json::write_finding_event(&f, out)?,
                LiveFormatArg::Json => {}
            }
        }
        out.flush()
    }

    fn print(
        &mut self,
        snap: &CaptureAnalysis,
        format: LiveFormatArg,
        out: &mut dyn Write,
    ) -> io::Result<u64> {
        let mut printed = 0;
        for (i, f) in snap.flows.indexed() {
            let f = &f;
            let mut line = prose::notes(f);
            if line.is_empty() && f.state.as_str() == "S1" {
                continue;
            }
            line = format!("{} {}", f.state.as_str(), line);
            let key = (f.client, f.server, f.first_frame.0);
            if self.seen.get(&key) == Some(&line) {
                continue;
            }
            // Not worth a line: a connection still opening with nothing decoded yet.
            if f.state.as_str() == "S0" && f.client_syns < 2 {
                continue;
            }
            self.seen.insert(key, line.clone());
            self.events += 1;
            printed += 1;
            match format {
                LiveFormatArg::Table => writeln!(
                    out,
                    "{} frame {:>6}  {} → {}  {}",
                    super::clock::hms(f.last_ts),
                    f.last_frame,
                    f.client,
                    f.server,
                    line
                )?,
                LiveFormatArg::Ndjson => json::write_flow_event(i + 1, &snap.input.path, f, out)?,
                LiveFormatArg::Json => {}
            }
        }
        out.flush()?;
        Ok(printed)
    }
}

/// Runs a live capture until Ctrl-C, SIGTERM, `-c` or `--duration`; returns the final
/// analysis.
fn run_live(run: &LiveRun, out: &mut dyn Write, err: &mut dyn Write) -> Result<Stopped, LiveError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LiveError::Pcap {
            interface: run.opts.interface.clone().unwrap_or_default(),
            message: e.to_string(),
        })?;
    rt.block_on(run_async(run, out, err))
}

async fn run_async(
    run: &LiveRun,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<Stopped, LiveError> {
    let mut cap = LiveCapture::open(&run.opts)?;
    let dropped = crate::capture::live::drop_privileges(&run.opts.user)?;
    let name = format!("live:{}", cap.interface);
    let link = cap.link_type();
    let status = io::stderr().is_terminal();
    let _ = writeln!(
        err,
        "trafficdoc: capturing on {} ({}){}{}{}; Ctrl-C to stop",
        cap.interface,
        link,
        run.opts
            .filter
            .as_deref()
            .map(|f| format!(", filter \"{f}\""))
            .unwrap_or_default(),
        run.opts
            .write
            .as_ref()
            .map(|p| format!(", saving to {}", p.display()))
            .unwrap_or_default(),
        dropped
            .map(|u| format!(", running as {u}"))
            .unwrap_or_default(),
    );
    let mut proc = PacketProcessor::with_options(run.table, std::sync::Arc::clone(&run.decode));
    let mut printer = EventPrinter {
        seen: HashMap::new(),
        findings_seen: Default::default(),
        events: 0,
        findings: 0,
    };
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let term = terminated();
    tokio::pin!(term);
    let far = Duration::from_secs(100 * 365 * 24 * 3600);
    let deadline = tokio::time::sleep(run.duration.unwrap_or(far));
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_snapshot = std::time::Instant::now();
    let mut stopping = false;
    loop {
        tokio::select! {
            next = cap.next() => match next {
                Some(batch) => {
                    for p in batch.packets(link) {
                        proc.packet(&p);
                    }
                }
                // The capture thread ended and every batch it took was analysed.
                None => break,
            },
            _ = &mut ctrl_c, if !stopping => { stopping = true; cap.stop(); }
            _ = &mut term, if !stopping => { stopping = true; cap.stop(); }
            _ = &mut deadline, if !stopping => { stopping = true; cap.stop(); }
            _ = tick.tick(), if !stopping => {
                // The reader of the live lines has gone (`| head -1`): stop, as
                // tcpdump does; the -w file is completed.
                if super::stdout_closed() {
                    stopping = true;
                    cap.stop();
                    continue;
                }
                if status {
                    let _ = write!(err, "\r\x1b[2K");
                }
                // A snapshot copies the open flows and reruns the rules over every kept
                // one: on a long, busy capture that grows, so it never takes more than
                // a tenth of the time (the packets come first).
                if std::time::Instant::now() >= next_snapshot {
                    let started = std::time::Instant::now();
                    let snap = proc.snapshot(name.clone(), CaptureFormat::Live, &[link]);
                    let _ = printer.print(&snap, run.format, out);
                    let cfg = crate::analyze::Config {
                        now: Some(wall_clock()),
                        ..run.analysis.clone()
                    };
                    let _ = printer.print_findings(&snap, &cfg, run.format, out);
                    next_snapshot = std::time::Instant::now() + started.elapsed() * 10;
                }
                if status {
                    let _ = write!(
                        err,
                        "{} packets, {} connections, {} events, {} findings",
                        proc.packets,
                        proc.open_flows(),
                        printer.events,
                        printer.findings
                    );
                    let _ = err.flush();
                }
            }
        }
    }
    // Waits that were still open when the capture stopped are judged at that moment,
    // as they were while it ran: a stall printed live stays in the report.
    let stopped_at = wall_clock();
    if status {
        let _ = write!(err, "\r\x1b[2K");
    }
    let counters = cap.finish();
    let mut analysis = proc.into_analysis(name, CaptureFormat::Live, &[link], 0, None);
    analysis.input.capture_stats =
        counters
            .pcap
            .map(|(received, dropped, if_dropped)| CaptureStats {
                received,
                dropped,
                if_dropped,
                queue_dropped: counters.queue_dropped,
            });
    let flushed: Result<(), String> = counters.write_error.map_or(Ok(()), Err);
    let write_failed = flushed.is_err();
    let failure = counters.error;
    if let Err(e) = flushed {
        let write = run.opts.write.as_ref().map(|p| p.display().to_string());
        let _ = writeln!(
            err,
            "trafficdoc: cannot write {}: {e}",
            write.unwrap_or_default()
        );
    }
    if let Some(e) = failure {
        let _ = writeln!(
            err,
            "trafficdoc: capture on {} failed: {e}; reporting what was captured",
            cap.interface
        );
    }
    // The last moments before the stop, then the report.
    let cfg = crate::analyze::Config {
        now: Some(stopped_at),
        ..run.analysis.clone()
    };
    let _ = printer.print(&analysis, run.format, out);
    let _ = printer.print_findings(&analysis, &cfg, run.format, out);
    Ok((analysis, stopped_at, write_failed))
}
