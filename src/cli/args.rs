//! Command-line types (clap): the global options, each command's arguments and the
//! diagnosis options `analyze` and `capture` share. Every flag's doc line is its
//! `--help` text.

use crate::analyze::endpoint::Endpoint;
use crate::flow::table::TableConfig;
use crate::report;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, shown at the end of `--help` (README: "Exit codes").
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  analysis done, nothing wrong found (nothing at the --fail-on level, default error)
  1  analysis done, a finding at the --fail-on level or above was found
  2  usage error, a capture could not be read at all, or the output could not be written
     (one line on stderr says why)
  3  analysis done on damaged input: a capture was cut short; everything readable was analysed
     (3 wins over 1; 2 wins over both)";

/// MITM-aware traffic analyzer: finds why traffic fails behind a corporate proxy.
#[derive(Parser, Debug)]
#[command(name = "trafficdoc", version, about, long_about = None, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// When to colour the human report: `auto` colours on a terminal unless `NO_COLOR`
    /// is set or `TERM=dumb`.
    #[arg(long = "color", value_name = "WHEN", value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color_choice: ColorChoice,
    /// Colour the human report; set by `main` from [`super::use_color`] (tests leave it off).
    #[arg(skip)]
    pub color: bool,
    /// Columns of the terminal the human report goes to; set by `main` from
    /// [`super::terminal_columns`]. `None` (a pipe, and tests): nothing is wrapped.
    #[arg(skip)]
    pub width: Option<u16>,
}

/// `--color` (as in ripgrep, ls and git).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyse capture files (pcap or pcapng, from tcpdump, Wireshark or dumpcap).
    #[command(after_help = EXIT_CODES_HELP)]
    Analyze(AnalyzeArgs),
    /// Print a finding kind's full remedy from the guide (without ID: list the kinds).
    Explain {
        /// A finding id, e.g. `proxy_auth_rejected`.
        id: Option<String>,
    },
    /// Capture live from an interface (libpcap), report as it happens and at the end.
    ///
    /// Examples: `trafficdoc capture -i any port 8080`, `trafficdoc capture -i lo -w out.pcap tcp port 3128`.
    #[command(after_help = EXIT_CODES_HELP)]
    Capture(CaptureArgs),
    /// List the interfaces that can be captured on.
    Interfaces,
    /// Diagnose this machine without a capture: variables, NO_PROXY per client, and
    /// the gateway, proxy and provider probed for real.
    #[command(after_help = EXIT_CODES_HELP)]
    Doctor(super::doctor::DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(hide = true)]
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff): `trafficdoc man > trafficdoc.1`; with `--dir`, write
    /// trafficdoc.1 and a page per command (trafficdoc-analyze.1 ...) there.
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
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
    #[arg(long, value_name = "PORT", default_value_t = 4000, value_parser = clap::value_parser!(u16).range(1..))]
    pub gateway_port: u16,
    /// The LLM gateway's address (`127.0.0.1:4000`, `[::1]:4000`, `gw.corp:4000`), when
    /// it is not on `--gateway-port`; repeatable. A name matches through the capture's
    /// DNS answers (`localhost` is both loopback addresses).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_endpoint)]
    pub gateway: Vec<Endpoint>,
    /// The proxy's address (`127.0.0.1:3128`, `proxy.corp:8080`); repeatable. Without
    /// it the proxy is guessed, and the proxy variables (`HTTPS_PROXY` ...) of the
    /// environment give hints. A name matches through the capture's DNS answers
    /// (`localhost` is both loopback addresses).
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_endpoint)]
    pub proxy: Vec<Endpoint>,
    /// Proxy URLs from the environment (`HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY`,
    /// `http_proxy`), set by [`crate::cli::read_proxy_env`].
    #[arg(skip)]
    pub env_proxy: Vec<String>,
    /// More internal name suffixes that should bypass the proxy, comma-separated
    /// (`.acme.net,.intra`); always matched: .internal .local .corp .lan .home.arpa
    /// .localhost.
    #[arg(long, value_name = "SUFFIXES", value_delimiter = ',')]
    pub internal_suffix: Vec<String>,
    /// Time to first byte (or CONNECT → 200) in milliseconds above which a response
    /// is reported as slow.
    #[arg(long, value_name = "MS", default_value_t = crate::analyze::DEFAULT_SLOW_MS, value_parser = clap::value_parser!(u64).range(1..))]
    pub slow_ms: u64,
    /// Seconds a request may wait on a still-open connection before it is reported
    /// as unanswered (a request whose connection ended unanswered is reported at once).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = positive_secs)]
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
    /// A TLS key log (the NSS format `SSLKEYLOGFILE` makes curl, Python, Node and
    /// browsers write): decrypt the TLS connections it has secrets for (TLS 1.2 and
    /// 1.3, AES-GCM and ChaCha20-Poly1305) and decode what they carry; repeatable.
    #[arg(long, value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
}

impl DiagnoseArgs {
    /// The decoder options: the key logs read (`--keylog`), each with the number of
    /// lines that could not be read. An unreadable file is an error naming the option.
    pub fn decode_options(
        &self,
    ) -> Result<(crate::protocols::DecodeOptions, Vec<KeyLogRead>), OptionError> {
        use crate::protocols::keylog::KeyLog;
        let mut opts = crate::protocols::DecodeOptions::default();
        if self.keylog.is_empty() {
            return Ok((opts, Vec::new()));
        }
        let mut all = KeyLog::default();
        let mut read = Vec::new();
        for path in &self.keylog {
            let text = std::fs::read(path)
                .map_err(|e| OptionError::new("--keylog", format!("{}: {e}", path.display())))?;
            let one = KeyLog::parse(&text);
            read.push(KeyLogRead {
                path: path.clone(),
                malformed: one.malformed(),
                sessions: one.sessions(),
            });
            all.add(&text);
        }
        opts.keylog = Some(std::sync::Arc::new(all));
        Ok((opts, read))
    }

    /// The rules' configuration, after checking every option that names a file or a
    /// directory, so a bad one fails at once (exit code 2) instead of after the report.
    /// The error names the option (`--ca-file X: ...`).
    pub fn config(&self) -> Result<crate::analyze::Config, OptionError> {
        use crate::analyze::trust::Bundle;
        if let Some(dir) = &self.export_certs {
            check_export_dir(dir)?;
        }
        Ok(crate::analyze::Config {
            system_store: if self.system_store {
                Some(Bundle::system().map_err(|e| OptionError::new("--system-store", e))?)
            } else {
                None
            },
            ca_file: match self.ca_file.as_deref() {
                Some(p) => {
                    Some(Bundle::from_pem_file(p).map_err(|e| OptionError::new("--ca-file", e))?)
                }
                None => None,
            },
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
            proxy_hints: dedup(
                self.proxy.iter().cloned().chain(
                    self.env_proxy
                        .iter()
                        .filter_map(|u| Endpoint::from_proxy_url(u)),
                ),
            ),
            gateway_hints: dedup(self.gateway.iter().cloned()),
        }
    }
}

/// What one `--keylog` file held.
#[derive(Debug)]
pub struct KeyLogRead {
    pub path: PathBuf,
    /// Lines not in the key log format.
    pub malformed: u64,
    /// Sessions with secrets.
    pub sessions: usize,
}

fn parse_endpoint(s: &str) -> Result<Endpoint, String> {
    Endpoint::parse(s)
}

/// The endpoints in order, each once.
fn dedup(all: impl Iterator<Item = Endpoint>) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for e in all {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
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
    /// The kernel's capture buffer, in KiB (like tcpdump's -B; tcpdump and libpcap
    /// default to 2 MiB on Linux).
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(1..=2_097_151))]
    pub buffer_size: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LiveFormatArg::Table)]
    pub format: LiveFormatArg,
    /// At the end, also write the report as one self-contained HTML page to FILE
    /// (created when the capture starts).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
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
    /// One self-contained HTML page: diagnosis, ladder diagrams, timeline (README: "HTML report").
    Html,
    /// JSON lines: one per finding, one per flow, then the report (README: "JSON output").
    Ndjson,
}

/// `--severity`: the lowest severity reported.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
}

/// `--fail-on`: the lowest severity that makes `analyze` exit with code 1.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
}

impl Level {
    /// Whether a finding of severity `s` is at or above this level.
    pub fn admits(self, s: crate::analyze::Severity) -> bool {
        use crate::analyze::Severity;
        let floor = match self {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        };
        s <= floor
    }
}

impl FailOn {
    /// As a [`Level`].
    pub fn level(self) -> Level {
        match self {
            FailOn::Error => Level::Error,
            FailOn::Warning => Level::Warning,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    /// Capture files to read; `-` reads a capture from standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Only the diagnosis: the layers, the first failing step and one short entry per
    /// finding; no flow table (`--format table` only).
    #[arg(long)]
    pub summary: bool,
    /// Report findings at or above this severity (every format); the exit code
    /// still weighs every finding.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = Level::Info)]
    pub severity: Level,
    /// Exit with code 1 when a finding at or above this severity was found (CI).
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Bytes held per connection direction while waiting for a missing segment.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub stream_buffer: usize,
    /// Bytes held across all connections while waiting for missing segments.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    pub total_buffer: usize,
    /// Seconds without packets after which a TCP connection is considered over.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    #[command(flatten)]
    pub diagnose: DiagnoseArgs,
    /// Flows open at once; past it the least recently active are finished early.
    #[arg(long, value_name = "N", default_value_t = TableConfig::default().max_flows, value_parser = at_least_one)]
    pub max_flows: usize,
    /// Finished flows listed one by one; later ones are only counted in the summary.
    #[arg(long, value_name = "N", default_value_t = TableConfig::default().max_records)]
    pub max_records: usize,
    /// Decoded facts (HTTP exchanges, DNS transactions) kept and listed across all
    /// flows of a file; later ones are only counted, but still diagnosed.
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

/// A number of seconds that is more than zero and that a `Duration` holds (finite,
/// below 2^64: `1e308` once panicked converting it).
fn positive_secs(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && std::time::Duration::try_from_secs_f64(v).is_ok() => Ok(v),
        Ok(_) => Err("must be a number of seconds above 0 and below 2^64".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// [`positive_secs`] for the other commands' arguments.
pub(super) fn positive_secs_pub(s: &str) -> Result<f64, String> {
    positive_secs(s)
}

/// A count of at least 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(v) => Ok(v),
        Err(e) => Err(e.to_string()),
    }
}

/// A diagnosis option that cannot be used, named as the user typed it.
#[derive(Debug, thiserror::Error)]
#[error("{option} {reason}")]
pub struct OptionError {
    option: &'static str,
    reason: String,
}

impl OptionError {
    fn new(option: &'static str, reason: impl std::fmt::Display) -> Self {
        OptionError {
            option,
            reason: reason.to_string(),
        }
    }
}

/// `--export-certs DIR` must be a directory we may write in; it is made if missing.
fn check_export_dir(dir: &std::path::Path) -> Result<(), OptionError> {
    let fail =
        |why: String| OptionError::new("--export-certs", format!("{}: {why}", dir.display()));
    if dir.exists() && !dir.is_dir() {
        return Err(fail("not a directory".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    tempfile::tempfile_in(dir)
        .map(drop)
        .map_err(|e| fail(format!("cannot write in it: {e}")))
}
