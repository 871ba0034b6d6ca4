//! The `trafficdoc` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;
use std::io::{self, Write};
use std::process::ExitCode;
use trafficdoc::cli::{self, Cli};

fn main() -> ExitCode {
    let parsed = match Cli::try_parse() {
        Ok(mut c) => {
            c.color = cli::use_color(c.color_choice);
            c.width = cli::terminal_columns();
            cli::read_proxy_env(&mut c, |k| std::env::var(k).ok());
            c
        }
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors.
            return if e.use_stderr() {
                ExitCode::from(cli::EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    match cli::run(parsed, &mut out, &mut err) {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`trafficdoc analyze x | head`) is not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "trafficdoc: {e}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
