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
    // A closed pipe (`trafficdoc analyze x | head`) ends the output, not the run: the
    // exit code still says what was found.
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(cli::PipeEnd::new(stdout.lock()));
    // Warnings that cannot be written (standard error full or closed) never cost the
    // report or its exit code.
    let mut err = cli::BestEffort(io::stderr());
    // The last bytes are flushed here, so that a failure to write them (a full disk)
    // is an error too, not a silent loss.
    match cli::run(parsed, &mut out, &mut err).and_then(|code| out.flush().map(|()| code)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(err, "trafficdoc: {e}");
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}
