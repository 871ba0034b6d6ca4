//! The `doctor` command: diagnose this machine's proxy, gateway, certificate and key
//! setup without a capture (see [`crate::doctor`]).

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::doctor::config::{Env, Target};
use crate::doctor::{self, Settings, output};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// The LLM gateway (LiteLLM) clients talk to. Default: ANTHROPIC_BASE_URL when it
    /// names another host than the provider, else http://localhost:4000.
    #[arg(long, value_name = "URL")]
    pub gateway: Option<String>,
    /// The provider API reached through the proxy.
    #[arg(long, value_name = "URL", default_value = "https://api.anthropic.com")]
    pub provider: String,
    /// More internal URLs or names that NO_PROXY should send direct; repeatable.
    #[arg(long = "internal-host", value_name = "URL")]
    pub internal: Vec<String>,
    /// Seconds each network step may take (resolve, connect, each answer).
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = super::args::positive_secs_pub)]
    pub timeout: f64,
    /// Also send the guide's API key test (one small request that spends a token).
    #[arg(long)]
    pub check_key: bool,
    /// Only read the configuration; touch no network.
    #[arg(long)]
    pub no_probe: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::Format::Table)]
    pub format: super::Format,
    /// Also write the guide's diagnostic report (date, variables with secrets masked,
    /// each layer's result, versions) to this file, to attach to a ticket.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the certificate chain the provider side presented as PEM into this directory.
    #[arg(long, value_name = "DIR")]
    pub export_certs: Option<PathBuf>,
    /// Record doctor's own probes into this pcap file (libpcap, needs CAP_NET_RAW;
    /// skipped with a note otherwise). The file holds the packets as sent, proxy
    /// credentials and key included, and is made 0600.
    #[arg(long, value_name = "FILE")]
    pub capture: Option<PathBuf>,
    /// The variables doctor reads, set by [`super::read_proxy_env`].
    #[arg(skip)]
    pub env: Env,
}

/// The gateway clients are pointed at: ANTHROPIC_BASE_URL unless it is the
/// provider itself (or unusable), else LiteLLM's default address.
fn default_gateway(env: &Env, provider: &Target) -> Target {
    env.value("ANTHROPIC_BASE_URL")
        .and_then(|u| Target::parse(u).ok())
        .filter(|t| t.host != provider.host)
        .map(|mut t| {
            t.path = "/".into();
            t
        })
        .unwrap_or_else(|| Target {
            scheme: "http".into(),
            host: "localhost".into(),
            port: 4000,
            explicit_port: true,
            path: "/".into(),
        })
}

/// Runs `doctor`; exit codes as `analyze` (0 nothing wrong, 1 an error found, 2 usage).
pub(super) fn doctor(
    args: &DoctorArgs,
    color: bool,
    width: Option<u16>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    let parse = |what: &str, u: &str| Target::parse(u).map_err(|e| format!("{what} {e}"));
    let targets = (|| {
        let provider = parse("--provider", &args.provider)?;
        let gateway = match &args.gateway {
            Some(g) => parse("--gateway", g)?,
            None => default_gateway(&args.env, &provider),
        };
        let internal = args
            .internal
            .iter()
            .map(|u| parse("--internal-host", u))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, String>((gateway, provider, internal))
    })();
    if matches!(args.format, super::Format::Html | super::Format::Ndjson) {
        // Checked before any probe: nothing is sent on the network for a report
        // that cannot be written.
        writeln!(
            err,
            "trafficdoc: doctor --format {}: not available; use --format table or json",
            if args.format == super::Format::Html {
                "html"
            } else {
                "ndjson"
            }
        )?;
        return Ok(EXIT_ERROR);
    }
    let (gateway, provider, internal) = match targets {
        Ok(t) => t,
        Err(e) => {
            writeln!(err, "trafficdoc: {e}")?;
            return Ok(EXIT_ERROR);
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let settings = Settings {
        env: args.env.clone(),
        gateway,
        provider,
        internal,
        timeout: Duration::from_secs_f64(args.timeout),
        check_key: args.check_key,
        probe: !args.no_probe,
        slow_ms: crate::analyze::DEFAULT_SLOW_MS,
        now_unix: now,
        system_store: crate::analyze::trust::Bundle::system().ok(),
    };
    let recorder = args.capture.as_deref().map(|path| {
        let mut ports = vec![settings.gateway.port, settings.provider.port];
        if let Some(p) = settings
            .env
            .value("HTTPS_PROXY")
            .or(settings.env.value("https_proxy"))
            .or(settings.env.value("HTTP_PROXY"))
            .or(settings.env.value("http_proxy"))
            .and_then(|u| crate::doctor::config::parse_proxy(u).ok())
        {
            ports.push(p.port.unwrap_or(80));
        }
        ports.sort_unstable();
        ports.dedup();
        let filter = ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .chain(std::iter::once("udp port 53".to_string()))
            .collect::<Vec<_>>()
            .join(" or ");
        (path, crate::doctor::capture::start(path, &filter))
    });
    let mut o = doctor::run(&settings);
    o.capture = recorder.map(|(path, r)| {
        let p = path.display();
        match r.and_then(|r| r.finish()) {
            Ok(n) => format!(
                "Captured {n} packets of doctor's probes into {p} (mode 0600: it holds the credentials as sent); `trafficdoc analyze {p}` shows them frame by frame."
            ),
            Err(e) => format!(
                "Capture skipped: {e} (recording needs CAP_NET_RAW: run as root, or `sudo setcap cap_net_raw+ep $(command -v trafficdoc)`)."
            ),
        }
    });
    match args.format {
        super::Format::Table => output::write_table(&o, out, width, color)?,
        super::Format::Json | super::Format::Html | super::Format::Ndjson => {
            output::write_json(&o, out)?
        }
    }
    if let Some(dir) = &args.export_certs {
        let to: &mut dyn Write = match args.format {
            super::Format::Table => out,
            super::Format::Json | super::Format::Html | super::Format::Ndjson => err,
        };
        match crate::report::pem::export(&o.summary.chains, dir) {
            Ok(files) if files.is_empty() => writeln!(to, "No certificate chain to export.")?,
            Ok(files) => {
                for f in files {
                    writeln!(to, "Wrote {} ({})", f.path.display(), f.about)?;
                }
            }
            Err(e) => {
                writeln!(err, "trafficdoc: --export-certs {}: {e}", dir.display())?;
                return Ok(EXIT_ERROR);
            }
        }
    }
    if let Some(path) = &args.report {
        let mut buf = Vec::new();
        output::write_diagnostic_report(&o, &crate::protocols::x509::rfc3339(now), &mut buf)?;
        if let Err(e) = std::fs::write(path, buf) {
            writeln!(err, "trafficdoc: --report {}: {e}", path.display())?;
            return Ok(EXIT_ERROR);
        }
    }
    Ok(if o.has_error() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}
