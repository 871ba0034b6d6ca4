//! `trafficdoc analyze` (capture files → report) and `trafficdoc explain` (a finding
//! kind's remedy from the guide).

use super::{AnalyzeArgs, EXIT_DAMAGED, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Format};
use crate::decode::tcp::Limits;
use crate::flow::table::TableConfig;
use crate::pipeline::{self, CaptureAnalysis};
use crate::report::{self, Report};
use std::io::{self, Write};

impl AnalyzeArgs {
    fn table_config(&self) -> TableConfig {
        TableConfig {
            limits: Limits {
                max_buffered_bytes: self.stream_buffer,
                ..Limits::default()
            },
            max_total_buffered: self.total_buffer,
            tcp_idle_ns: i64::try_from(self.idle_timeout.saturating_mul(1_000_000_000))
                .unwrap_or(i64::MAX),
            max_flows: self.max_flows,
            max_records: self.max_records,
            max_facts: self.max_facts,
            flow_memory: self.flow_memory,
            ..TableConfig::default()
        }
    }

    /// How to read one input of `size` bytes (`None`: standard input, size unknown).
    pub(super) fn read_options(&self, size: Option<u64>) -> pipeline::ReadOptions {
        let auto = pipeline::ReadOptions::default();
        let small = size.is_some_and(|s| s < TWO_THREADS_FROM);
        pipeline::ReadOptions {
            threads: match self.threads {
                Some(n) => n as usize,
                None if small => 1,
                None => auto.threads,
            },
            batch_bytes: self.batch_bytes.map_or(auto.batch_bytes, |n| n as usize),
        }
    }
}

/// Files smaller than this are read on one thread unless `--threads` says otherwise:
/// starting the reader thread costs more than it saves (measured: 100 MiB 0.037 s on
/// one thread, 0.039 s on two; 1 GiB 0.339 s and 0.272 s).
const TWO_THREADS_FROM: u64 = 256 << 20;

/// `--stats`: one line on what the run took, e.g. `trafficdoc: stats: 1073937354 bytes
/// (1146603 packets) in 0.332 s: 3236 MB/s, 3.45 Mpkt/s; peak memory 39296 KiB`.
fn run_stats(captures: &[CaptureAnalysis], seconds: f64) -> String {
    let bytes: u64 = captures.iter().map(|c| c.input.file_bytes).sum();
    let packets: u64 = captures.iter().map(|c| c.input.packets).sum();
    let per_s = |n: u64| n as f64 / seconds.max(1e-9);
    let peak = peak_rss_kib().map_or_else(
        || "peak memory unknown".to_string(),
        |k| format!("peak memory {k} KiB"),
    );
    format!(
        "trafficdoc: stats: {bytes} bytes ({packets} packets) in {seconds:.3} s: {:.0} MB/s, {:.2} Mpkt/s; {peak}",
        per_s(bytes) / 1e6,
        per_s(packets) / 1e6
    )
}

/// The process's peak resident memory (Linux `VmHWM`), if the system tells.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A progress bar on stderr for long reads, only when stderr is a terminal (never in
/// pipes, CI logs or tests) and the file is big enough to take a moment.
pub(super) fn progress_bar(name: &str, size: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    const WORTH_SHOWING: u64 = 64 << 20;
    if size < WORTH_SHOWING || !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(name.to_string());
    Some(bar)
}

pub(super) fn explain(
    id: Option<&str>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    use crate::analyze::FindingKind;
    use crate::remedies;
    let Some(id) = id else {
        for &k in FindingKind::ALL {
            let e = remedies::entry(k);
            let s = e.section.map(|n| format!("§{n}")).unwrap_or_default();
            writeln!(out, "{:<28} {s:<3} {}", k.id(), e.about)?;
        }
        return Ok(EXIT_OK);
    };
    // Ids are snake_case; accept them as people type them (`Proxy-Auth-Rejected`).
    let wanted = id.trim().to_ascii_lowercase().replace('-', "_");
    let Some(k) = FindingKind::from_id(&wanted) else {
        let near = similar_kinds(&wanted);
        if near.is_empty() {
            writeln!(
                err,
                "trafficdoc: unknown finding id {id:?}; `trafficdoc explain` lists them"
            )?;
        } else {
            writeln!(
                err,
                "trafficdoc: unknown finding id {id:?}; did you mean {}? (`trafficdoc explain` lists them)",
                near.join(" or ")
            )?;
        }
        return Ok(EXIT_ERROR);
    };
    let e = remedies::entry(k);
    writeln!(out, "{}: {}", k.id(), e.about)?;
    if let Some(n) = e.section
        && let Some((_, title)) = remedies::SECTION_TITLES.iter().find(|(s, _)| *s == n)
    {
        writeln!(out, "Guide section {n}: {title}")?;
    }
    for line in remedies::remedy(k, &[]) {
        writeln!(out, "{}", report::table::wrap(&line, 80, "  ", "    "))?;
        for c in report::table::commands(&line) {
            writeln!(out, "{}{c}", report::table::COMMAND_INDENT)?;
        }
    }
    Ok(EXIT_OK)
}

/// Finding ids close to `wanted`: those containing it (`auth` → the proxy_auth_* kinds),
/// else the ones a few edits away (`proxy_auth_rejeted`), at most three.
fn similar_kinds(wanted: &str) -> Vec<&'static str> {
    use crate::analyze::FindingKind;
    if wanted.is_empty() {
        return Vec::new();
    }
    let ids = FindingKind::ALL.iter().map(|k| k.id());
    let mut near: Vec<&str> = ids.clone().filter(|id| id.contains(wanted)).collect();
    if near.is_empty() {
        let mut scored: Vec<(usize, &str)> = ids
            .map(|id| (strsim::levenshtein(wanted, id), id))
            .filter(|&(d, id)| d <= 3.max(id.len() / 5))
            .collect();
        scored.sort();
        near = scored.into_iter().map(|(_, id)| id).collect();
    }
    near.truncate(3);
    near
}

pub(super) fn analyze(
    args: &AnalyzeArgs,
    color: bool,
    width: Option<u16>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let Some(acfg) = super::diagnosis_config(&args.diagnose, err)? else {
        return Ok(EXIT_ERROR);
    };
    let Some(decode) = super::decode_options(&args.diagnose, err)? else {
        return Ok(EXIT_ERROR);
    };
    let cfg = args.table_config();
    let started = std::time::Instant::now();
    let mut captures: Vec<CaptureAnalysis> = Vec::new();
    let mut failed = false;
    for r in super::inputs::read_all(args, cfg, &decode) {
        match r {
            Ok(c) => captures.push(c),
            Err(e) => {
                writeln!(err, "trafficdoc: {e}")?;
                failed = true;
            }
        }
    }
    let damaged = captures.iter().any(|c| c.input.truncated.is_some());
    for c in &captures {
        if let Some(t) = &c.input.truncated {
            let bytes = if t.need > 0 {
                format!(", {} of {} bytes", t.have, t.need)
            } else {
                String::new()
            };
            writeln!(
                err,
                "trafficdoc: warning: {}: capture is cut short in frame {} ({}{bytes}); analysed the {} complete packets before it",
                c.input.path, t.frame, t.reason, c.input.packets
            )?;
        }
    }
    for c in captures.iter().filter(|c| c.input.packets == 0) {
        if c.input.truncated.is_none() {
            writeln!(
                err,
                "trafficdoc: warning: {}: capture holds no packets (only its header)",
                c.input.path
            )?;
        }
    }
    let (findings, summary) = crate::analyze::diagnose(&captures, &acfg);
    let fail = findings
        .iter()
        .any(|f| args.fail_on.level().admits(f.severity));
    // `--severity` leaves out what is below it; the default keeps every finding.
    let shown: Vec<_>;
    let reported = if args.severity == super::Level::Info {
        &findings[..]
    } else {
        shown = findings
            .iter()
            .filter(|f| args.severity.admits(f.severity))
            .cloned()
            .collect();
        &shown[..]
    };
    let report = Report {
        captures: &captures,
        findings: reported,
        summary: &summary,
    };
    let style = report::TableStyle {
        width,
        color,
        max_flows: args.list_flows,
    };
    let format = match args.format {
        Format::Table if args.summary => report::Format::Summary(style),
        Format::Table => report::Format::Table(style),
        Format::Json => report::Format::Json,
        Format::Ndjson => report::Format::Ndjson,
        Format::Html => report::Format::Html,
    };
    if format == report::Format::Ndjson {
        report::json::write_events(&report, out)?;
    }
    report::write(format, &report, out)?;
    if let Some(dir) = &args.diagnose.export_certs
        && !report::export_certs(format, &report, dir, out, err)?
    {
        failed = true;
    }
    out.flush()?;
    for c in &captures {
        let lost = c.flows.unreadable();
        if lost > 0 {
            writeln!(
                err,
                "trafficdoc: error: {}: {lost} read(s) of finished flows failed on the \
                 temporary file in {} (disk error?): the report is missing them",
                c.input.path,
                std::env::temp_dir().display()
            )?;
            failed = true;
        }
    }
    if args.stats {
        writeln!(
            err,
            "{}",
            run_stats(&captures, started.elapsed().as_secs_f64())
        )?;
    }
    Ok(if failed {
        EXIT_ERROR
    } else if damaged {
        EXIT_DAMAGED
    } else if fail {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
