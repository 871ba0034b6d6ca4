//! Command line: `run` dispatches a parsed command and writes its output to any `Write`,
//! so tests drive the real CLI path in memory.
//!
//! Exit codes (also in README.md):
//! - 0: analysis done, nothing wrong found;
//! - 1: analysis done, a finding at the `--fail-on` level (default: error) was found;
//! - 2: usage error, a capture could not be read at all, or the output could not be
//!   written (a reader closing the pipe early is not a failure: see [`PipeEnd`]);
//! - 3: analysis done, but an input was damaged (cut short mid-record); what could be
//!   read was analysed.
//!
//! `args` holds the clap types, `analyze` the `analyze` and `explain` commands,
//! `capture` the `capture` and `interfaces` commands, `inputs` how `analyze` opens its
//! files (compressed ones, rotated sets).

mod analyze;
mod args;
mod capture;
mod clock;
mod doctor;
mod inputs;
mod output;

pub use args::{
    AnalyzeArgs, CaptureArgs, Cli, ColorChoice, Command, DiagnoseArgs, FailOn, Format, Level,
    LiveFormatArg,
};
pub use doctor::DoctorArgs;
pub use output::{BestEffort, PipeEnd, stdout_closed};

use std::io::{self, Write};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;
pub const EXIT_DAMAGED: u8 = 3;

/// Runs a parsed command, writing the report to `out` and one-line problems to `err`.
/// Returns the process exit code.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    match cli.command {
        Command::Analyze(args) => analyze::analyze(&args, cli.color, cli.width, out, err),
        Command::Explain { id } => analyze::explain(id.as_deref(), out, err),
        Command::Capture(args) => capture::capture(&args, cli.color, cli.width, out, err),
        Command::Interfaces => capture::interfaces(out, err),
        Command::Doctor(args) => doctor::doctor(&args, cli.color, cli.width, out, err),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "trafficdoc", out);
            Ok(EXIT_OK)
        }
        Command::Man { dir } => man(dir.as_deref(), out, err),
    }
}

/// The man pages, generated from the clap definitions (they say what `--help` says):
/// `trafficdoc(1)` on `out`, or with `dir` it and one page per command written there.
fn man(dir: Option<&std::path::Path>, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    use clap::CommandFactory;
    let cmd = Cli::command().name("trafficdoc");
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd).render(out)?;
        return Ok(EXIT_OK);
    };
    match clap_mangen::generate_to(cmd, dir) {
        Ok(()) => Ok(EXIT_OK),
        Err(e) => {
            writeln!(err, "trafficdoc: man --dir {}: {e}", dir.display())?;
            Ok(EXIT_ERROR)
        }
    }
}

/// The proxy variables read as hints of which endpoint is the proxy, in the order
/// curl prefers them.
pub const PROXY_ENV_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/// Hands the proxy variables to the diagnosis of `analyze` and `capture` (`var` reads
/// one; `main` passes the process environment, tests pass what they need).
pub fn read_proxy_env(cli: &mut Cli, var: impl Fn(&str) -> Option<String>) {
    let d = match &mut cli.command {
        Command::Analyze(a) => &mut a.diagnose,
        Command::Capture(a) => &mut a.diagnose,
        Command::Doctor(a) => {
            a.env = crate::doctor::config::Env::read(var);
            return;
        }
        _ => return,
    };
    d.env_proxy = PROXY_ENV_VARS
        .iter()
        .filter_map(|k| var(k))
        .filter(|v| !v.trim().is_empty())
        .collect();
}

/// The diagnosis configuration, or `None` after saying on `err` which option is
/// unusable (the caller exits with [`EXIT_ERROR`]).
fn diagnosis_config(
    args: &DiagnoseArgs,
    err: &mut dyn Write,
) -> io::Result<Option<crate::analyze::Config>> {
    match args.config() {
        Ok(c) => Ok(Some(c)),
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            Ok(None)
        }
    }
}

/// The decoder options of `args` (the key logs), with a warning per key log that has
/// unreadable lines or no secrets; `None` after writing why they cannot be had.
fn decode_options(
    args: &DiagnoseArgs,
    err: &mut dyn Write,
) -> io::Result<Option<std::sync::Arc<crate::protocols::DecodeOptions>>> {
    match args.decode_options() {
        Ok((opts, read)) => {
            for args::KeyLogRead {
                path,
                malformed,
                sessions,
            } in read
            {
                if malformed > 0 {
                    writeln!(
                        err,
                        "trafficdoc: warning: --keylog {}: {malformed} line(s) not in the key log format, ignored",
                        path.display()
                    )?;
                }
                if sessions == 0 {
                    writeln!(
                        err,
                        "trafficdoc: warning: --keylog {}: no TLS secrets in it",
                        path.display()
                    )?;
                }
            }
            Ok(Some(std::sync::Arc::new(opts)))
        }
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            Ok(None)
        }
    }
}

/// Whether to colour, from `--color`: `auto` colours only for people — stdout is a
/// terminal, `NO_COLOR` is not set (any value turns colour off, see no-color.org) and
/// the terminal is not `dumb`.
pub fn use_color(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none()
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
                && io::stdout().is_terminal()
        }
    }
}

/// Columns to lay the human report out in, decided as ripgrep does: `COLUMNS` when
/// set, else the terminal's own width when stdout is one (at least 40). `None` when
/// stdout is a pipe or a file: prose is then never wrapped and the table has one line
/// per flow, so `grep` sees whole findings. Set by `main`; tests leave it `None`.
pub fn terminal_columns() -> Option<u16> {
    if let Some(c) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
    {
        return Some(c.max(40));
    }
    // comfy-table asks the terminal only when stdout is one.
    comfy_table::Table::new().width().map(|w| w.max(40))
}
