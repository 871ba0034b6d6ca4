//! Command line: clap types and `run`, which writes the report to any `Write` so tests
//! drive the real CLI path in memory.
//!
//! Exit codes (also in README.md):
//! - 0: analysis done, nothing wrong found;
//! - 1: analysis done, an error-level problem was found;
//! - 2: usage error, or a capture could not be read at all;
//! - 3: analysis done, but an input was damaged (cut short mid-record); what could be
//!   read was analysed.

use crate::decode::tcp::Limits;
use crate::flow::table::TableConfig;
use crate::pipeline::{self, CaptureAnalysis};
use crate::report::{self, Report};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::PathBuf;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
pub const EXIT_DAMAGED: u8 = 3;

/// MITM-aware traffic analyzer: finds why traffic fails behind a corporate proxy.
#[derive(Parser, Debug)]
#[command(name = "trafficdoc", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour the human report; set by `main` from [`use_color`] (tests leave it off).
    #[arg(skip)]
    pub color: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse capture files (pcap or pcapng, from tcpdump, Wireshark or dumpcap).
    Analyze(AnalyzeArgs),
    /// Print a finding kind's full remedy from the guide (without ID: list the kinds).
    Explain {
        /// A finding id, e.g. `proxy_auth_rejected`.
        id: Option<String>,
    },
    /// Capture live from an interface (libpcap), report as it happens and at the end.
    ///
    /// Examples: `trafficdoc capture -i any port 8080`, `trafficdoc capture -i lo -w out.pcap tcp port 3128`.
    Capture(CaptureArgs),
    /// List the interfaces that can be captured on.
    Interfaces,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveFormatArg {
    /// Events as readable lines, then the table report.
    Table,
    /// Events as JSON lines, the report as the last line.
    Ndjson,
    /// Only the JSON report, at the end.
    Json,
}

/// What the diagnosis needs to know about this network, shared by `analyze` and
/// `capture`.
#[derive(clap::Args, Debug, Clone)]
pub struct DiagnoseArgs {
    /// Port of the local LLM gateway (LiteLLM).
    #[arg(long, value_name = "PORT", default_value_t = 4000)]
    pub gateway_port: u16,
    /// More internal name suffixes that should bypass the proxy, comma-separated
    /// (`.acme.net,.intra`); always matched: .internal .local .corp .lan .home.arpa
    /// .localhost.
    #[arg(long, value_name = "SUFFIXES", value_delimiter = ',')]
    pub internal_suffix: Vec<String>,
    /// Time to first byte (or CONNECT → 200) in milliseconds above which a response
    /// is reported as slow.
    #[arg(long, value_name = "MS", default_value_t = crate::analyze::DEFAULT_SLOW_MS)]
    pub slow_ms: u64,
    /// Seconds a request may wait on a still-open connection before it is reported
    /// as unanswered (a request whose connection ended unanswered is reported at once).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub stall_secs: f64,
    /// Write each certificate chain servers presented, and each issuing CA certificate
    /// sent on the wire, as PEM files into this directory.
    #[arg(long, value_name = "DIR")]
    pub export_certs: Option<PathBuf>,
    /// A CA bundle (PEM): tell, per chain seen, whether it would let clients trust it.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Also tell whether this machine's system CA store
    /// (/etc/ssl/certs/ca-certificates.crt or the like) trusts each chain.
    #[arg(long)]
    pub system_store: bool,
}

impl DiagnoseArgs {
    /// The rules' configuration; `Err` when a CA bundle cannot be read.
    pub fn config(&self) -> Result<crate::analyze::Config, crate::analyze::trust::BundleError> {
        use crate::analyze::trust::Bundle;
        Ok(crate::analyze::Config {
            system_store: if self.system_store {
                Some(Bundle::system()?)
            } else {
                None
            },
            ca_file: self
                .ca_file
                .as_deref()
                .map(Bundle::from_pem_file)
                .transpose()?,
            ..self.clone().into_config_without_stores()
        })
    }

    /// The configuration without reading any CA file (no `--ca-file`,
    /// `--system-store`).
    pub fn into_config_without_stores(self) -> crate::analyze::Config {
        crate::analyze::Config {
            gateway_port: self.gateway_port,
            internal_suffixes: self
                .internal_suffix
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            slow_ms: self.slow_ms,
            system_store: None,
            ca_file: None,
            now: None,
            stall_secs: self.stall_secs,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct CaptureArgs {
    /// Interface to capture on (`any` for all on Linux); default: libpcap's first.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,
    /// Also write the packets to this pcap file (readable by `analyze` and Wireshark).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after this many packets.
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Bytes captured per packet (like tcpdump's -s; 0 means the maximum).
    #[arg(short = 's', long, value_name = "SNAPLEN", default_value_t = 262144)]
    pub snaplen: i32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LiveFormatArg::Table)]
    pub format: LiveFormatArg,
    /// When started as root, become this user once the capture is open (like tcpdump's
    /// -Z); `-Z root` keeps root.
    #[arg(short = 'Z', value_name = "USER", default_value = "nobody")]
    pub user: String,
    #[command(flatten)]
    pub diagnose: DiagnoseArgs,
    /// Capture filter, written as for tcpdump (e.g. `port 8080`, `host proxy and tcp`).
    #[arg(
        value_name = "FILTER",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub filter: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A readable report for people.
    Table,
    /// The versioned JSON report (see README: "JSON output").
    Json,
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files to read; `-` reads a capture from standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Bytes held per connection direction while waiting for a missing segment.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub stream_buffer: usize,
    /// Bytes held across all connections while waiting for missing segments.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub total_buffer: usize,
    /// Seconds without packets after which a TCP connection is considered over.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub idle_timeout: u64,
    #[command(flatten)]
    pub diagnose: DiagnoseArgs,
    /// Flows open at once; past it the least recently active are finished early.
    #[arg(long, value_name = "N", default_value_t = TableConfig::default().max_flows)]
    pub max_flows: usize,
    /// Finished flows listed one by one; later ones are only counted in the summary.
    #[arg(long, value_name = "N", default_value_t = TableConfig::default().max_records)]
    pub max_records: usize,
    /// Decoded facts (HTTP exchanges, DNS transactions) kept across all flows of a file.
    #[arg(long, value_name = "N", default_value_t = TableConfig::default().max_facts)]
    pub max_facts: usize,
    /// Flows listed in the table: those the diagnosis names first, then the earliest;
    /// 0 lists all (the JSON report always has every flow).
    #[arg(long = "flows", value_name = "N", default_value_t = report::table::DEFAULT_LISTED_FLOWS)]
    pub list_flows: usize,
    /// After the report, print to stderr what the run took: bytes and packets read,
    /// seconds, rates and peak memory.
    #[arg(long)]
    pub stats: bool,
    /// Threads per file: 1 reads and analyses on one thread; 2 reads the file on a
    /// second thread meanwhile (more is the same as 2). Default: 2 for files of 256 MiB
    /// and more (and standard input) when the machine has more than one core, else 1.
    /// The report is the same either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: Option<u32>,
    /// Packet bytes the reader thread hands over at a time (tests and benchmarks).
    #[arg(long, value_name = "BYTES", hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_bytes: Option<u32>,
    /// Bytes of finished flows kept in memory before the oldest go to a temporary file
    /// (tests: 0 sends nearly all of them through the file).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub flow_memory: Option<usize>,
}

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
    fn read_options(&self, size: Option<u64>) -> pipeline::ReadOptions {
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
fn progress_bar(name: &str, size: u64) -> Option<indicatif::ProgressBar> {
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

/// Runs a parsed command, writing the report to `out` and one-line problems to `err`.
/// Returns the process exit code.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    match cli.command {
        Command::Analyze(args) => analyze(&args, cli.color, out, err),
        Command::Explain { id } => explain(id.as_deref(), out, err),
        Command::Capture(args) => capture(&args, cli.color, out, err),
        Command::Interfaces => interfaces(out, err),
    }
}

fn explain(id: Option<&str>, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    use crate::remedies;
    let Some(id) = id else {
        for k in remedies::KINDS {
            let s = k.section.map(|n| format!("§{n}")).unwrap_or_default();
            writeln!(out, "{:<28} {s:<3} {}", k.id, k.about)?;
        }
        return Ok(EXIT_OK);
    };
    let Some(k) = remedies::kind(id) else {
        writeln!(
            err,
            "trafficdoc: unknown finding id {id:?}; `trafficdoc explain` lists them"
        )?;
        return Ok(EXIT_ERROR);
    };
    writeln!(out, "{}: {}", k.id, k.about)?;
    if let Some(n) = k.section
        && let Some((_, title)) = remedies::SECTION_TITLES.iter().find(|(s, _)| *s == n)
    {
        writeln!(out, "Guide section {n}: {title}")?;
    }
    for line in remedies::remedy(k.id, &[]) {
        writeln!(out, "{}", report::table::wrap(&line, 80, "  ", "    "))?;
    }
    Ok(EXIT_OK)
}

fn interfaces(out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
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

fn capture(
    args: &CaptureArgs,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let acfg = match args.diagnose.config() {
        Ok(c) => c,
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            return Ok(EXIT_ERROR);
        }
    };
    let filter = (!args.filter.is_empty()).then(|| args.filter.join(" "));
    let duration = match args.duration {
        Some(d) if !(d > 0.0 && d.is_finite()) => {
            writeln!(
                err,
                "trafficdoc: --duration must be a positive number of seconds"
            )?;
            return Ok(EXIT_ERROR);
        }
        Some(d) => Some(std::time::Duration::from_secs_f64(d)),
        None => None,
    };
    let format = match args.format {
        LiveFormatArg::Table => crate::live::LiveFormat::Human,
        LiveFormatArg::Ndjson => crate::live::LiveFormat::Ndjson,
        LiveFormatArg::Json => crate::live::LiveFormat::Json,
    };
    let run = crate::live::LiveRun {
        opts: crate::capture::live::LiveOptions {
            interface: args.interface.clone(),
            filter,
            snaplen: if args.snaplen <= 0 {
                262144
            } else {
                args.snaplen
            },
            write: args.write.clone(),
            user: args.user.clone(),
        },
        count: args.count,
        duration,
        format,
        table: TableConfig::default(),
        analysis: acfg.clone(),
    };
    let analysis = match crate::live::run(&run, out, err) {
        Ok(a) => a,
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            return Ok(EXIT_ERROR);
        }
    };
    let captures = [analysis];
    let (findings, summary) = crate::analyze::diagnose(&captures, &acfg);
    let report = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    match args.format {
        LiveFormatArg::Table => {
            writeln!(out)?;
            report::table::write_styled(
                &report,
                out,
                terminal_columns(),
                color,
                report::table::DEFAULT_LISTED_FLOWS,
            )?;
        }
        LiveFormatArg::Json => {
            serde_json::to_writer_pretty(&mut *out, &report::json::build(&report))?;
            writeln!(out)?;
        }
        LiveFormatArg::Ndjson => {
            let mut v = serde_json::to_value(report::json::build(&report))?;
            if let Some(o) = v.as_object_mut() {
                o.insert("type".into(), serde_json::Value::from("report"));
            }
            writeln!(out, "{v}")?;
        }
    }
    if let Some(dir) = &args.diagnose.export_certs {
        let to: &mut dyn Write = if args.format == LiveFormatArg::Table {
            out
        } else {
            err
        };
        if !export_certs(&summary.chains, dir, to)? {
            return Ok(EXIT_ERROR);
        }
    }
    out.flush()?;
    // Same codes as analyze, so a CI job can gate on a live run too.
    Ok(if crate::analyze::has_error(&findings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// Writes the chains as PEM files into `dir` and says which files were written on
/// `to`. False when the directory or a file could not be written (said on `to`).
fn export_certs(
    chains: &[crate::analyze::chains::Chain],
    dir: &std::path::Path,
    to: &mut dyn Write,
) -> io::Result<bool> {
    match report::pem::export(chains, dir) {
        Ok(files) if files.is_empty() => {
            writeln!(
                to,
                "No certificate chain to export (TLS 1.3 encrypts certificates; only TLS 1.2 and older show them)."
            )?;
            Ok(true)
        }
        Ok(files) => {
            writeln!(to, "Certificates written to {}:", dir.display())?;
            for f in files {
                writeln!(to, "  {}  {}", f.path.display(), f.about)?;
            }
            Ok(true)
        }
        Err(e) => {
            writeln!(to, "trafficdoc: --export-certs {}: {e}", dir.display())?;
            Ok(false)
        }
    }
}

/// Colour only for people: stdout is a terminal, `NO_COLOR` is not set (any value
/// turns colour off, see no-color.org) and the terminal is not `dumb`.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && io::stdout().is_terminal()
}

/// Width from `COLUMNS` when set (the table wraps to it), else the terminal's.
pub fn terminal_columns() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|c| *c >= 40)
}

fn analyze(
    args: &AnalyzeArgs,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let acfg = match args.diagnose.config() {
        Ok(c) => c,
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            return Ok(EXIT_ERROR);
        }
    };
    let cfg = args.table_config();
    let started = std::time::Instant::now();
    let mut captures: Vec<CaptureAnalysis> = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let name = path.display().to_string();
        let result = if name == "-" {
            // Not `stdin().lock()`: the reader thread needs a handle it can take along.
            pipeline::analyze_reader_with(
                "-",
                io::stdin(),
                cfg,
                args.read_options(None),
                &mut |_| {},
            )
        } else {
            match std::fs::File::open(path) {
                Ok(f) => {
                    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
                    let bar = progress_bar(&name, size);
                    let opts = args.read_options(Some(size));
                    let r = pipeline::analyze_reader_with(&name, f, cfg, opts, &mut |done| {
                        if let Some(b) = &bar {
                            b.set_position(done);
                        }
                    });
                    if let Some(b) = bar {
                        b.finish_and_clear();
                    }
                    r
                }
                Err(e) => Err(crate::capture::CaptureError::Io {
                    path: name.clone(),
                    source: e,
                }),
            }
        };
        match result {
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
            writeln!(
                err,
                "trafficdoc: warning: {}: capture is cut short in frame {} ({}, {} of {} bytes); analysed the {} complete packets before it",
                c.input.path, t.frame, t.reason, t.have, t.need, c.input.packets
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
    let report = Report {
        captures: &captures,
        findings: &findings,
        summary: &summary,
    };
    if !captures.is_empty() || args.format == Format::Json {
        match args.format {
            Format::Json => {
                let j = report::json::build(&report);
                // serde_json writes token by token: a concrete buffer in front of the
                // `dyn Write` turns those into plain copies (measured: ~5 % of a run).
                let mut buf = io::BufWriter::with_capacity(64 << 10, &mut *out);
                serde_json::to_writer_pretty(&mut buf, &j)?;
                buf.flush()?;
                drop(buf);
                writeln!(out)?;
            }
            Format::Table => report::table::write_styled(
                &report,
                out,
                terminal_columns(),
                color,
                args.list_flows,
            )?,
        }
    }
    if let Some(dir) = &args.diagnose.export_certs {
        let to: &mut dyn Write = if args.format == Format::Table {
            out
        } else {
            err
        };
        if !export_certs(&summary.chains, dir, to)? {
            failed = true;
        }
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
    } else if crate::analyze::has_error(&findings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
